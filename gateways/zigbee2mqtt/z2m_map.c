/*
 * z2m_map.c - one Zigbee2MQTT publish to messages: the dispatch by topic (known friendly names,
 * longest first), availability, the bridge's own topics, and how messages and notes are
 * collected (core/mapped.h, with the exposes' labels) (z2m_map.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "gateways/zigbee2mqtt/z2m_internal.h"

sb_msg *z2m_msg(z2m_ctx *c, sb_msg_type type, const char *node_id, const char *src)
{
    return sb_mapped_msg(&c->r->out, c->o->gateway_id, node_id, src, type);
}

void z2m_add(z2m_ctx *c, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
             const char *unit, const cJSON *labels)
{
    if (!m)
        return;
    if (strlen(key) > SB_MSG_ID_MAX) {
        z2m_note(c, "%s: '%.40s': empty or too long", m->source_id, key);
        return;
    }
    char k[SB_MSG_ID_MAX + 1];
    sb_z2m_sanitize(key, k, sizeof(k));
    size_t n = m->n_payloads;
    sb_mapped_add(&c->r->out, m, k, value, mt, unit);
    if (labels && m->n_payloads > n &&
        !(m->payloads[m->n_payloads - 1].labels = cJSON_Duplicate(labels, true)))
        z2m_nomem(c);
}

/* "online"/"offline", plain or {"state":"online"}; the node field "online" and its state. */
static void availability(z2m_ctx *c, const char *node_id, const char *p, size_t len)
{
    char text[32] = "";
    cJSON *root = NULL;
    if (len && p[0] == '{') {
        if (sb_json_parse(p, len, &root, NULL) == SB_OK)
            snprintf(text, sizeof(text), "%s", sb_json_str(root, "state", ""));
        cJSON_Delete(root);
    } else {
        snprintf(text, sizeof(text), "%.*s", (int)(len < 31 ? len : 31), p);
    }
    bool on = strcasecmp(text, "online") == 0, off = strcasecmp(text, "offline") == 0;
    if (!on && !off) {
        z2m_note(c, "'%.40s' is neither online nor offline", text);
        return;
    }
    z2m_add(c, z2m_msg(c, SB_MSG_SET, node_id, ""), SB_Z2M_FIELD_ONLINE, on ? "true" : "false",
            SB_METRIC_BINARY, NULL, NULL);
    z2m_add(c, z2m_msg(c, SB_MSG_ACTION, node_id, ""), "node_state", on ? "up" : "down",
            SB_METRIC_NONE, NULL, NULL);
    if (!z2m_set_avail(c->reg, node_id, on))
        z2m_nomem(c);
}

/* Parses a JSON payload; a note and NULL when it is not JSON. */
static cJSON *parse(z2m_ctx *c, const char *p, size_t len)
{
    cJSON *root = NULL;
    sb_errmsg em = {{0}};
    if (sb_json_parse(p, len, &root, &em) != SB_OK) {
        z2m_note(c, "payload is not JSON (%s): '%.*s'", em.text, (int)(len < 60 ? len : 60), p);
        return NULL;
    }
    return root;
}

static void bridge_info(z2m_ctx *c, const cJSON *root)
{
    sb_msg *m = z2m_msg(c, SB_MSG_PRESENTATION, SB_Z2M_NODE_BRIDGE, "");
    z2m_add(c, m, "name", "Zigbee2MQTT bridge", SB_METRIC_NONE, NULL, NULL);
    const char *v = sb_json_str(root, "version", "");
    if (*v)
        z2m_add(c, m, "version", v, SB_METRIC_NONE, NULL, NULL);
    const cJSON *coord = cJSON_GetObjectItemCaseSensitive(root, "coordinator");
    v = sb_json_str(coord, "type", "");
    if (*v)
        z2m_add(c, m, "coordinator", v, SB_METRIC_NONE, NULL, NULL);
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(root, "permit_join");
    if (cJSON_IsBool(pj))
        z2m_add(c, z2m_msg(c, SB_MSG_SET, SB_Z2M_NODE_BRIDGE, ""), "permit_join",
                cJSON_IsTrue(pj) ? "true" : "false", SB_METRIC_BINARY, NULL, NULL);
}

static void bridge(z2m_ctx *c, const char *what, const char *p, size_t len)
{
    if (strcmp(what, "state") == 0) {
        availability(c, SB_Z2M_NODE_BRIDGE, p, len);
        return;
    }
    bool devices = strcmp(what, "devices") == 0, groups = strcmp(what, "groups") == 0;
    if (!devices && !groups && strcmp(what, "info") != 0) {
        c->r->ignored = true; /* logging, event, request/response, definitions ... */
        return;
    }
    cJSON *root = parse(c, p, len);
    if (!root)
        return;
    if (devices)
        z2m_devices(c, root);
    else if (groups)
        z2m_groups(c, root);
    else if (cJSON_IsObject(root))
        bridge_info(c, root);
    cJSON_Delete(root);
}

static void state_json(z2m_ctx *c, const z2m_entity *e, const char *p, size_t len)
{
    cJSON *root = parse(c, p, len);
    if (!root)
        return;
    if (cJSON_IsObject(root))
        z2m_state(c, e, root);
    else
        z2m_note(c, "payload is not a JSON object");
    cJSON_Delete(root);
}

/* Attribute sub-topic: "color-x" is the nested color.x, our field "color_x". */
static void attribute(z2m_ctx *c, const z2m_entity *e, const char *attr, const char *p, size_t len)
{
    if (!c->o->attribute_topics) {
        c->r->ignored = true;
        return;
    }
    char key[SB_MSG_ID_MAX + 1];
    snprintf(key, sizeof(key), "%s", attr);
    for (char *q = key; *q; q++)
        if (*q == '-')
            *q = '_';
    char *text = malloc(len + 1);
    if (!text) {
        z2m_nomem(c);
        return;
    }
    memcpy(text, p, len);
    text[len] = '\0';
    if (strlen(text) != len)
        z2m_note(c, "a NUL byte in the value");
    else
        z2m_attribute(c, e, key, text);
    free(text);
}

static bool is_command(const char *level)
{
    return strcmp(level, "set") == 0 || strcmp(level, "get") == 0;
}

/* A friendly name as Zigbee2MQTT allows them: levels that are not empty. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    return n && n < SB_Z2M_NAME_MAX && name[0] != '/' && name[n - 1] != '/' && !strstr(name, "//");
}

/* Remembers name and returns its entity; NULL (with a note) for an unusable name. */
static const z2m_entity *learn(z2m_ctx *c, const char *name)
{
    if (!name_ok(name)) {
        z2m_note(c, "'%.60s' is not a usable friendly name", name);
        return NULL;
    }
    if (!z2m_by_name(c->reg, name) && z2m_seen_count(c->reg) >= Z2M_SEEN_MAX) {
        z2m_note(c, "more than %d unknown names, skipped", Z2M_SEEN_MAX);
        return NULL;
    }
    if (!z2m_remember(c->reg, name)) {
        z2m_nomem(c);
        return NULL;
    }
    return z2m_by_name(c->reg, name);
}

/* A topic whose name is not (yet) known: "<name>/availability", "<name>/set[/...]", a JSON
 * state "<name>", or an attribute "<name>/<attribute>". */
static void unknown(z2m_ctx *c, const char *rest, const char *p, size_t len)
{
    char name[SB_Z2M_NAME_MAX];
    snprintf(name, sizeof(name), "%s", rest);
    char *last = strrchr(name, '/');
    bool command = last && is_command(last + 1);
    if (last) { /* "<name>/set/<attribute>" */
        *last = '\0';
        char *prev = strrchr(name, '/');
        command = command || (prev && is_command(prev + 1));
        *last = '/';
    }
    if (strlen(rest) >= sizeof(name) || !*rest) {
        z2m_note(c, "no usable friendly name");
    } else if (command) {
        c->r->ignored = true; /* commands to devices, ours or another client's */
    } else if (last && strcmp(last + 1, "availability") == 0) {
        *last = '\0';
        const z2m_entity *e = learn(c, name);
        if (e)
            availability(c, e->node_id, p, len);
    } else if (len && p[0] == '{') {
        const z2m_entity *e = learn(c, name);
        if (e)
            state_json(c, e, p, len);
    } else if (last && c->o->attribute_topics) {
        *last = '\0';
        const z2m_entity *e = learn(c, name);
        if (e)
            attribute(c, e, last + 1, p, len);
    } else {
        z2m_note(c, "unknown device and not a JSON object, skipped");
    }
}

static void known(z2m_ctx *c, const z2m_entity *e, const char *rest, const char *p, size_t len)
{
    const char *tail = rest + strlen(e->name);
    if (!*tail) {
        state_json(c, e, p, len);
        return;
    }
    tail++; /* '/' */
    const char *slash = strchr(tail, '/');
    char level[64];
    snprintf(level, sizeof(level), "%.*s", (int)(slash ? slash - tail : (long)strlen(tail)), tail);
    if (is_command(level))
        c->r->ignored = true;
    else if (strcmp(tail, "availability") == 0)
        availability(c, e->node_id, p, len);
    else if (!slash && *tail && !(len && p[0] == '{'))
        attribute(c, e, tail, p, len);
    else /* a longer name not known yet ("kitchen/pantry" next to "kitchen"): attribute
            values are never JSON objects, and attributes have one level */
        unknown(c, rest, p, len);
}

sb_err sb_z2m_map(const sb_z2m_opts *o, sb_z2m_registry *reg, const char *topic,
                  const void *payload, size_t len, sb_z2m_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *base = o->base_topic && *o->base_topic ? o->base_topic : "zigbee2mqtt";
    size_t bl = strlen(base);
    const char *rest = topic + bl + 1;
    z2m_ctx c = {.o = o, .reg = reg, .r = out};
    const char *p = payload;
    if (strncmp(topic, base, bl) != 0 || topic[bl] != '/' || !*rest)
        z2m_note(&c, "not under the base topic '%s'", base);
    else if (strncmp(rest, "bridge/", 7) == 0 && !strchr(rest + 7, '/'))
        bridge(&c, rest + 7, p, len);
    else if (strncmp(rest, "bridge/", 7) == 0)
        out->ignored = true; /* bridge/request/..., bridge/response/... */
    else if (z2m_resolve(reg, rest))
        known(&c, z2m_resolve(reg, rest), rest, p, len);
    else
        unknown(&c, rest, p, len);
    sb_err rc = sb_mapped_finish(&out->out);
    if (rc == SB_OK && out->registry_changed && (rc = sb_z2m_keep_offline(o, reg, false, out)))
        sb_z2m_result_free(out);
    return rc;
}

sb_err sb_z2m_keep_offline(const sb_z2m_opts *o, const sb_z2m_registry *reg, bool sets_too,
                           sb_z2m_result *r)
{
    sb_mapped *out = &r->out;
    size_t n = out->n;
    for (size_t i = 0; i < n; i++) {
        const sb_msg *m = out->msgs[i];
        bool kind = m->type == SB_MSG_PRESENTATION || (sets_too && m->type == SB_MSG_SET);
        if (!kind || sb_z2m_availability(reg, m->node_id) != 0)
            continue;
        bool said = false; /* one node_state per node, after all its messages */
        for (size_t k = 0; k < out->n && !said; k++)
            said = out->msgs[k]->type == SB_MSG_ACTION &&
                   strcmp(out->msgs[k]->node_id, m->node_id) == 0;
        if (!said)
            sb_mapped_add(out, sb_mapped_msg(out, o->gateway_id, m->node_id, "", SB_MSG_ACTION),
                          "node_state", "down", SB_METRIC_NONE, NULL);
    }
    return out->nomem ? SB_ERR_NOMEM : SB_OK;
}

void sb_z2m_result_free(sb_z2m_result *r)
{
    if (!r)
        return;
    sb_mapped_free(&r->out);
    memset(r, 0, sizeof(*r));
}
