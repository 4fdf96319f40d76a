/*
 * z2m_registry.c - what the bridge says about its devices and groups: bridge/devices (names,
 * models, exposes) and bridge/groups, kept in sb_z2m_registry, and the lookups the mapping and
 * the command builder use (z2m_map.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "gateways/zigbee2mqtt/z2m_internal.h"

void sb_z2m_sanitize(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; in[o] && o + 1 < len; o++) {
        unsigned char ch = (unsigned char)in[o];
        out[o] = ch <= ' ' || ch == 0x7f || strchr("./:+#", ch) ? '_' : (char)ch;
    }
    if (len)
        out[o] = '\0';
}

sb_z2m_registry *sb_z2m_registry_new(void)
{
    return calloc(1, sizeof(sb_z2m_registry));
}

static void prop_free(z2m_prop *p)
{
    free(p->key);
    free(p->parent);
    free(p->sub);
    free(p->unit);
    cJSON_Delete(p->on);
    cJSON_Delete(p->off);
    cJSON_Delete(p->toggle);
    cJSON_Delete(p->values);
}

static void ent_free(z2m_entity *e)
{
    for (size_t i = 0; i < e->n_props; i++)
        prop_free(&e->props[i]);
    free(e->props);
    free(e->name);
    free(e->node_id);
    free(e->ieee);
}

void sb_z2m_registry_free(sb_z2m_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        ent_free(&reg->ents[i]);
    free(reg->ents);
    free(reg->avail);
    free(reg);
}

bool z2m_set_avail(sb_z2m_registry *reg, const char *node_id, bool online)
{
    for (size_t i = 0; i < reg->n_avail; i++) {
        if (strcmp(reg->avail[i].node_id, node_id) == 0) {
            reg->avail[i].online = online;
            return true;
        }
    }
    z2m_avail *grown = realloc(reg->avail, (reg->n_avail + 1) * sizeof(*grown));
    if (!grown)
        return false;
    reg->avail = grown;
    z2m_avail *a = &reg->avail[reg->n_avail++];
    snprintf(a->node_id, sizeof(a->node_id), "%s", node_id);
    a->online = online;
    return true;
}

int sb_z2m_availability(const sb_z2m_registry *reg, const char *node_id)
{
    for (size_t i = 0; reg && i < reg->n_avail; i++)
        if (strcmp(reg->avail[i].node_id, node_id) == 0)
            return reg->avail[i].online ? 1 : 0;
    return -1;
}

size_t sb_z2m_registry_count(const sb_z2m_registry *reg)
{
    return reg ? reg->n : 0;
}

const z2m_entity *z2m_by_name(const sb_z2m_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->ents[i].name, name) == 0)
            return &reg->ents[i];
    return NULL;
}

const z2m_entity *z2m_resolve(const sb_z2m_registry *reg, const char *rest)
{
    const z2m_entity *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < reg->n; i++) {
        size_t n = strlen(reg->ents[i].name);
        if (n > best_len && strncmp(rest, reg->ents[i].name, n) == 0 &&
            (rest[n] == '\0' || rest[n] == '/')) {
            best = &reg->ents[i];
            best_len = n;
        }
    }
    return best;
}

const z2m_prop *z2m_prop_find(const z2m_entity *e, const char *key)
{
    for (size_t i = 0; e && i < e->n_props; i++)
        if (strcmp(e->props[i].key, key) == 0)
            return &e->props[i];
    return NULL;
}

bool sb_z2m_friendly_name(const sb_z2m_registry *reg, const char *node_id, char *buf, size_t len)
{
    for (size_t i = 0; reg && i < reg->n; i++) {
        if (strcmp(reg->ents[i].node_id, node_id) == 0) {
            snprintf(buf, len, "%s", reg->ents[i].name);
            return true;
        }
    }
    return false;
}

/* A new entity at the end of reg (name copied); NULL when out of memory. */
static z2m_entity *ent_add(sb_z2m_registry *reg, const char *name, z2m_ent_kind kind)
{
    z2m_entity *grown = realloc(reg->ents, (reg->n + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    reg->ents = grown;
    z2m_entity *e = &reg->ents[reg->n];
    memset(e, 0, sizeof(*e));
    char id[SB_MSG_ID_MAX + 1];
    sb_z2m_sanitize(name, id, sizeof(id));
    e->name = strdup(name);
    e->node_id = strdup(id);
    e->kind = kind;
    if (!e->name || !e->node_id) {
        ent_free(e);
        return NULL;
    }
    reg->n++;
    return e;
}

size_t z2m_seen_count(const sb_z2m_registry *reg)
{
    size_t n = 0;
    for (size_t i = 0; i < reg->n; i++)
        n += reg->ents[i].kind == E_SEEN;
    return n;
}

bool z2m_remember(sb_z2m_registry *reg, const char *name)
{
    return z2m_by_name(reg, name) || ent_add(reg, name, E_SEEN);
}

/* Drops the entities of kind (and names only seen: the new list says what exists). */
static void drop_kind(sb_z2m_registry *reg, z2m_ent_kind kind)
{
    size_t k = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->ents[i].kind == kind || reg->ents[i].kind == E_SEEN)
            ent_free(&reg->ents[i]);
        else
            reg->ents[k++] = reg->ents[i];
    }
    reg->n = k;
}

static z2m_kind kind_of(const char *type)
{
    static const struct {
        const char *name;
        z2m_kind kind;
    } kinds[] = {{"binary", Z_BINARY}, {"numeric", Z_NUMERIC}, {"enum", Z_ENUM},
                 {"text", Z_TEXT},     {"list", Z_LIST},       {"composite", Z_COMPOSITE}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(type, kinds[i].name) == 0)
            return kinds[i].kind;
    return Z_UNKNOWN;
}

static cJSON *dup_item(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v ? cJSON_Duplicate(v, true) : NULL;
}

/* Appends one property (key = prefix + property); false when out of memory. */
static bool prop_add(z2m_ctx *c, z2m_entity *e, const cJSON *x, const char *parent,
                     const char *property)
{
    char key[SB_MSG_ID_MAX + 1];
    snprintf(key, sizeof(key), "%s%s%s", parent ? parent : "", parent ? "_" : "", property);
    if (z2m_prop_find(e, key))
        return true; /* the same property in two exposes: the first describes it */
    z2m_prop *grown = realloc(e->props, (e->n_props + 1) * sizeof(*grown));
    if (!grown)
        return false;
    e->props = grown;
    z2m_prop *p = &e->props[e->n_props++];
    memset(p, 0, sizeof(*p));
    p->key = strdup(key);
    p->parent = parent ? strdup(parent) : NULL;
    p->sub = parent ? strdup(property) : NULL;
    p->kind = kind_of(sb_json_str(x, "type", ""));
    /* exposes of Zigbee2MQTT before 1.17 have no access: let the bridge decide */
    p->access = (unsigned)sb_json_num(x, "access", 7) & 7u;
    const char *unit = sb_json_str(x, "unit", "");
    p->unit = *unit ? strdup(unit) : NULL;
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(x, "value_min")))
        p->has_min = true, p->min = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(x, "value_max")))
        p->has_max = true, p->max = v->valuedouble;
    p->on = dup_item(x, "value_on");
    p->off = dup_item(x, "value_off");
    p->toggle = dup_item(x, "value_toggle");
    p->values = dup_item(x, "values");
    if (p->values && !cJSON_IsArray(p->values)) {
        cJSON_Delete(p->values);
        p->values = NULL;
    }
    (void)c;
    return p->key && (!parent || (p->parent && p->sub)) && (!*unit || p->unit);
}

/* One expose: generic ones are properties; specific ones (light, switch, cover, lock, climate,
 * fan) list features that are top-level properties; composites nest theirs under their own
 * property ("color": {"x", "y"}). */
static void expose(z2m_ctx *c, z2m_entity *e, const cJSON *x, const char *parent, int depth)
{
    if (!cJSON_IsObject(x) || depth > Z2M_DEPTH_MAX)
        return;
    const char *type = sb_json_str(x, "type", "");
    const char *property = sb_json_str(x, "property", "");
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(x, "features");
    bool composite = strcmp(type, "composite") == 0;
    if (*property && (composite || !cJSON_IsArray(features)) &&
        !prop_add(c, e, x, parent, property)) {
        z2m_nomem(c);
        return;
    }
    if (!cJSON_IsArray(features))
        return;
    char sub[SB_MSG_ID_MAX + 1];
    const char *inner = parent;
    if (composite && *property) {
        int n = snprintf(sub, sizeof(sub), "%s%s%s", parent ? parent : "", parent ? "_" : "",
                         property);
        if (n < 0 || (size_t)n >= sizeof(sub))
            return; /* longer than any field id may be: its features could not be named */
        inner = sub;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, features) expose(c, e, f, inner, depth + 1);
}

/* Copies obj.key (string or number) into presentation m as out. */
static void info(z2m_ctx *c, sb_msg *m, const cJSON *obj, const char *key, const char *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char text[256];
    if (v && (cJSON_IsString(v) || cJSON_IsNumber(v)) && sb_json_scalar_text(v, text, sizeof(text)))
        z2m_add(c, m, out, text, SB_METRIC_NONE, NULL, NULL);
}

static void device(z2m_ctx *c, const cJSON *d)
{
    const char *name = sb_json_str(d, "friendly_name", "");
    if (!*name || strlen(name) >= SB_Z2M_NAME_MAX) {
        z2m_note(c, "a device without a usable friendly_name, skipped");
        return;
    }
    if (strcmp(sb_json_str(d, "type", ""), "Coordinator") == 0)
        return; /* the bridge itself: bridge/info and bridge/state describe it */
    if (z2m_by_name(c->reg, name)) {
        z2m_note(c, "'%.60s' listed twice, the first kept", name);
        return;
    }
    z2m_entity *e = ent_add(c->reg, name, E_DEVICE);
    if (!e) {
        z2m_nomem(c);
        return;
    }
    const char *ieee = sb_json_str(d, "ieee_address", "");
    if (*ieee && !(e->ieee = strdup(ieee)))
        z2m_nomem(c);
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(d, "definition");
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(def, "exposes"))
        expose(c, e, x, NULL, 0);
    sb_msg *m = z2m_msg(c, SB_MSG_PRESENTATION, e->node_id, "");
    z2m_add(c, m, "name", name, SB_METRIC_NONE, NULL, NULL);
    info(c, m, d, "ieee_address", "ieee_address");
    info(c, m, d, "type", "type");
    info(c, m, d, "power_source", "power_source");
    info(c, m, d, "manufacturer", "manufacturer");
    info(c, m, d, "model_id", "model_id");
    info(c, m, d, "software_build_id", "version");
    info(c, m, def, "model", "model");
    info(c, m, def, "vendor", "vendor");
    info(c, m, def, "description", "description");
}

void z2m_devices(z2m_ctx *c, const cJSON *root)
{
    if (!cJSON_IsArray(root)) {
        z2m_note(c, "not a JSON array");
        return;
    }
    drop_kind(c->reg, E_DEVICE);
    c->r->registry_changed = true;
    const cJSON *d;
    cJSON_ArrayForEach(d, root)
    {
        if (cJSON_IsObject(d))
            device(c, d);
        else
            z2m_note(c, "an item is not an object, skipped");
    }
}

/* "kitchen/bulb,0x0017880104e45517/11": members by friendly name when known. */
static void members(z2m_ctx *c, sb_msg *m, const cJSON *g)
{
    char list[1024] = "";
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(g, "members"))
    {
        const char *ieee = sb_json_str(it, "ieee_address", "");
        const char *name = NULL;
        for (size_t i = 0; i < c->reg->n && !name; i++)
            if (c->reg->ents[i].ieee && strcmp(c->reg->ents[i].ieee, ieee) == 0)
                name = c->reg->ents[i].name;
        int w = snprintf(list + n, sizeof(list) - n, "%s%s", n ? "," : "", name ? name : ieee);
        if (w < 0 || (size_t)w >= sizeof(list) - n)
            break;
        n += (size_t)w;
    }
    z2m_add(c, m, "members", list, SB_METRIC_NONE, NULL, NULL);
}

void z2m_groups(z2m_ctx *c, const cJSON *root)
{
    if (!cJSON_IsArray(root)) {
        z2m_note(c, "not a JSON array");
        return;
    }
    drop_kind(c->reg, E_GROUP);
    c->r->registry_changed = true;
    const cJSON *g;
    cJSON_ArrayForEach(g, root)
    {
        const char *name = sb_json_str(g, "friendly_name", "");
        if (!cJSON_IsObject(g) || !*name || strlen(name) >= SB_Z2M_NAME_MAX) {
            z2m_note(c, "a group without a usable friendly_name, skipped");
            continue;
        }
        if (z2m_by_name(c->reg, name)) {
            z2m_note(c, "'%.60s' is also a device's name, skipped", name);
            continue;
        }
        z2m_entity *e = ent_add(c->reg, name, E_GROUP);
        if (!e) {
            z2m_nomem(c);
            return;
        }
        sb_msg *m = z2m_msg(c, SB_MSG_PRESENTATION, e->node_id, "");
        z2m_add(c, m, "name", name, SB_METRIC_NONE, NULL, NULL);
        z2m_add(c, m, "type", "group", SB_METRIC_NONE, NULL, NULL);
        info(c, m, g, "id", "group_id");
        members(c, m, g);
    }
}
