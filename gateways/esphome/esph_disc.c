/*
 * esph_disc.c - Home Assistant discovery configs (<discovery>/<component>/[<node>/]<id>/config):
 * which node and source an entity is, its name, unit, device class, binary payloads, number
 * limits and select options, and its device's name, model and version. Both key forms are read
 * (unit_of_measurement / unit_of_meas, state_topic / stat_t ...), and a "~" at the start or end
 * of a topic stands for the config's base topic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "gateways/esphome/esph_internal.h"

/* A key in its full or abbreviated form. */
static const cJSON *get(const cJSON *o, const char *full, const char *abbr)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, full);
    return v ? v : abbr ? cJSON_GetObjectItemCaseSensitive(o, abbr) : NULL;
}

static const char *get_str(const cJSON *o, const char *full, const char *abbr)
{
    const cJSON *v = get(o, full, abbr);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copies a string key into dst; a value of another type, or too long, is noted. */
static void take(esph_ctx *c, const cJSON *o, const char *full, const char *abbr, char *dst,
                 size_t len)
{
    const cJSON *v = get(o, full, abbr);
    if (!v)
        return;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
        esph_note(c, "discovery %s: %s is not a text of at most %zu bytes", c->t->object_id, full,
                  len - 1);
    else
        memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
}

/* A topic with "~" expanded: "~/state" and "home/~" take the base topic. */
static bool expand(const char *topic, const char *base, char *out, size_t len)
{
    size_t n = strlen(topic);
    int w;
    if (base && n && topic[0] == '~')
        w = snprintf(out, len, "%s%s", base, topic + 1);
    else if (base && n && topic[n - 1] == '~')
        w = snprintf(out, len, "%.*s%s", (int)(n - 1), topic, base);
    else
        w = snprintf(out, len, "%s", topic);
    return w >= 0 && (size_t)w < len;
}

/* Reads a state or command topic of the entity into t (a command topic as its state topic). */
static bool entity_topic(const char *topic, const char *base, const char *component,
                         sb_esph_topic *t)
{
    char buf[SB_ESPH_TOPIC_MAX + 8];
    if (!expand(topic, base, buf, sizeof(buf)))
        return false;
    size_t n = strlen(buf);
    if (n > 8 && strcmp(buf + n - 8, "/command") == 0)
        memcpy(buf + n - 8, "/state", 7);
    sb_esph_topic x;
    if (sb_esph_topic_parse(NULL, buf, &x, NULL) != SB_OK || x.kind != SB_ESPH_STATE ||
        strcmp(x.component, component) != 0)
        return false;
    *t = x;
    t->sub[0] = '\0';
    return true;
}

/* The availability topic (avty_t, or the first of an avty list) and its payloads. */
static const cJSON *availability(const cJSON *cfg, const char **topic)
{
    *topic = get_str(cfg, "availability_topic", "avty_t");
    if (*topic)
        return cfg;
    const cJSON *list = get(cfg, "availability", "avty");
    const cJSON *first = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, 0) : NULL;
    *topic = get_str(first, "topic", "t");
    return *topic ? first : NULL;
}

/*
 * Which node and source the config describes: from its state topic, else any other topic of it
 * that follows <prefix>/<component>/<id>/..., else the availability topic <prefix>/status with
 * the object id of the config's topic.
 */
static bool locate(esph_ctx *c, const cJSON *cfg, const char *base, sb_esph_topic *t)
{
    const char *comp = c->t->component;
    const char *st = get_str(cfg, "state_topic", "stat_t");
    if (st && entity_topic(st, base, comp, t))
        return true;
    const cJSON *it;
    cJSON_ArrayForEach(it, cfg)
    {
        size_t n = strlen(it->string);
        bool topic_key = (n > 2 && strcmp(it->string + n - 2, "_t") == 0) ||
                         (n > 6 && strcmp(it->string + n - 6, "_topic") == 0);
        if (topic_key && cJSON_IsString(it) && entity_topic(it->valuestring, base, comp, t))
            return true;
    }
    const char *av = NULL;
    availability(cfg, &av);
    char buf[SB_ESPH_TOPIC_MAX + 8];
    sb_esph_topic x;
    if (!av || !expand(av, base, buf, sizeof(buf)) ||
        sb_esph_topic_parse(NULL, buf, &x, NULL) != SB_OK || x.kind != SB_ESPH_STATUS)
        return false;
    char src[SB_MSG_ID_MAX * 2 + 2];
    snprintf(src, sizeof(src), "%s-%s", comp, c->t->object_id);
    if (strlen(src) > SB_MSG_ID_MAX)
        return false;
    *t = x;
    t->kind = SB_ESPH_STATE;
    snprintf(t->component, sizeof(t->component), "%s", comp);
    snprintf(t->object_id, sizeof(t->object_id), "%s", c->t->object_id);
    sb_esph_sanitize(src, t->source_id, sizeof(t->source_id));
    return true;
}

static void limits(esph_ctx *c, const cJSON *cfg, esph_entity *e)
{
    const cJSON *v = get(cfg, "min", NULL);
    if ((e->has_min = cJSON_IsNumber(v)))
        e->min = v->valuedouble;
    if ((e->has_max = cJSON_IsNumber(v = get(cfg, "max", NULL))))
        e->max = v->valuedouble;
    const cJSON *ops = get(cfg, "options", "ops");
    const cJSON *o, *list = cJSON_IsArray(ops) ? ops : NULL;
    size_t at = 0;
    cJSON_ArrayForEach(o, list)
    {
        size_t n = cJSON_IsString(o) ? strlen(o->valuestring) : 0;
        if (!n || strchr(o->valuestring, '\n') || at + n + 2 > sizeof(e->options)) {
            esph_note(c, "discovery %s: options: unusable or too many, not checked",
                      c->t->object_id);
            e->options[0] = '\0';
            return;
        }
        memcpy(e->options + at, o->valuestring, n);
        at += n;
        e->options[at++] = '\n';
        e->options[at] = '\0';
    }
    const char *tu = get_str(cfg, "temperature_unit", "temp_unit");
    if (tu && (strcmp(tu, "C") == 0 || strcmp(tu, "F") == 0))
        snprintf(e->temp_unit, sizeof(e->temp_unit), "°%s", tu);
    else if (tu)
        esph_note(c, "discovery %s: temperature_unit '%.8s' is not C or F", c->t->object_id, tu);
}

/* Stores e: it replaces the entity of the same config topic or the same node and source. */
static void store(esph_ctx *c, const esph_entity *e)
{
    sb_esph_registry *reg = c->reg;
    size_t i = 0;
    while (
        i < reg->n && strcmp(reg->ents[i].disc_topic, e->disc_topic) != 0 &&
        (strcmp(reg->ents[i].node_id, e->node_id) || strcmp(reg->ents[i].source_id, e->source_id)))
        i++;
    if (i == reg->n) {
        if (reg->n == SB_ESPH_ENTITIES) {
            esph_note(c, "discovery: more than %d entities, %s not kept", SB_ESPH_ENTITIES,
                      e->source_id);
            return;
        }
        if (sb_array_reserve(&reg->ents, &reg->cap, reg->n + 1, sizeof(*reg->ents), 16) != SB_OK) {
            esph_nomem(c);
            return;
        }
        reg->n++;
    }
    reg->ents[i] = *e;
}

static void forget(sb_esph_registry *reg, const char *disc_topic)
{
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->ents[i].disc_topic, disc_topic) == 0) {
            reg->ents[i] = reg->ents[--reg->n];
            return;
        }
    }
}

/* The device object: the node's name, model, manufacturer and version. */
static void device(esph_ctx *c, const cJSON *cfg, const char *node)
{
    const cJSON *dev = get(cfg, "device", "dev");
    if (!cJSON_IsObject(dev))
        return;
    static const char *const keys[][3] = {
        {"name", NULL, "name"},
        {"model", "mdl", "model"},
        {"manufacturer", "mf", "manufacturer"},
        {"sw_version", "sw", "version"},
        {"suggested_area", "sa", "area"},
    };
    sb_msg *m = esph_msg(c, SB_MSG_PRESENTATION, node, "");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = get_str(dev, keys[i][0], keys[i][1]);
        if (v && *v)
            esph_add(c, m, keys[i][2], v, SB_METRIC_NONE, NULL);
    }
}

static void availability_words(esph_ctx *c, const cJSON *cfg, const char *base, const char *node)
{
    const char *topic = NULL;
    const cJSON *av = availability(cfg, &topic);
    char buf[SB_ESPH_TOPIC_MAX + 8];
    sb_esph_topic x;
    if (!av || !expand(topic, base, buf, sizeof(buf)) ||
        sb_esph_topic_parse(NULL, buf, &x, NULL) != SB_OK || x.kind != SB_ESPH_STATUS ||
        strcmp(x.node_id, node) != 0)
        return;
    esph_node *nd = esph_node_get(c->reg, node);
    if (!nd)
        return;
    const char *on = get_str(av, "payload_available", "pl_avail");
    const char *off = get_str(av, "payload_not_available", "pl_not_avail");
    snprintf(nd->pl_avail, sizeof(nd->pl_avail), "%s", on ? on : "");
    snprintf(nd->pl_not_avail, sizeof(nd->pl_not_avail), "%s", off ? off : "");
}

static void read_config(esph_ctx *c, const cJSON *cfg, const char *disc_topic)
{
    const char *base = get_str(cfg, "~", NULL);
    sb_esph_topic t;
    if (!locate(c, cfg, base, &t)) {
        esph_note(c, "discovery %s/%s: no topic of the form <prefix>/%s/<id>/...", c->t->component,
                  c->t->object_id, c->t->component);
        return;
    }
    esph_entity e;
    memset(&e, 0, sizeof(e));
    snprintf(e.disc_topic, sizeof(e.disc_topic), "%s", disc_topic);
    snprintf(e.node_id, sizeof(e.node_id), "%s", t.node_id);
    snprintf(e.source_id, sizeof(e.source_id), "%s", t.source_id);
    snprintf(e.component, sizeof(e.component), "%s", t.component);
    take(c, cfg, "unit_of_measurement", "unit_of_meas", e.unit, sizeof(e.unit));
    take(c, cfg, "device_class", "dev_cla", e.device_class, sizeof(e.device_class));
    take(c, cfg, "payload_on", "pl_on", e.pl_on, sizeof(e.pl_on));
    take(c, cfg, "payload_off", "pl_off", e.pl_off, sizeof(e.pl_off));
    limits(c, cfg, &e);
    store(c, &e);
    esph_node *nd = esph_node_get(c->reg, t.node_id);
    if (nd)
        snprintf(nd->prefix, sizeof(nd->prefix), "%s", t.prefix);
    availability_words(c, cfg, base, t.node_id);
    device(c, cfg, t.node_id);
    /* the source: others.type = the component, its name = the entity's name (docs/processor.md
     * "presentation"); ESPHome sends "" for an entity named after its device */
    const char *name = get_str(cfg, "name", NULL);
    esph_add(c, esph_msg(c, SB_MSG_PRESENTATION, t.node_id, t.source_id), t.component,
             name ? name : "", SB_METRIC_NONE, NULL);
}

void esph_discovery(esph_ctx *c, const char *payload, size_t len)
{
    if (!c->reg)
        return;
    char disc_topic[SB_ESPH_TOPIC_MAX];
    int n = snprintf(disc_topic, sizeof(disc_topic), "%s/%s/%s", c->t->component, c->t->prefix,
                     c->t->object_id);
    if (n < 0 || (size_t)n >= sizeof(disc_topic)) {
        esph_note(c, "discovery %s: topic too long", c->t->object_id);
        return;
    }
    if (len == 0) { /* a cleared (deleted) config */
        forget(c->reg, disc_topic);
        return;
    }
    if (!sb_esph_component_known(c->t->component))
        return; /* button, update, event ...: nothing to map, not worth a note each time */
    cJSON *cfg = cJSON_ParseWithLength(payload, len);
    if (!cJSON_IsObject(cfg))
        esph_note(c, "discovery %s/%s: not a JSON object", c->t->component, c->t->object_id);
    else
        read_config(c, cfg, disc_topic);
    cJSON_Delete(cfg);
}
