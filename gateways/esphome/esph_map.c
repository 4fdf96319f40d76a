/*
 * esph_map.c - one ESPHome publish to messages: states, the status topic and the dispatch, plus
 * the helpers that collect messages and notes (esph_map.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateways/esphome/esph_internal.h"

bool esph_is_decimal(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '-' || p[1] == '+');
        size_t exp = strspn(p, "0123456789");
        if (!exp)
            return false;
        p += exp;
    }
    return *p == '\0' && isfinite(strtod(s, NULL));
}

/* ---- registry ------------------------------------------------------------------------------ */

sb_esph_registry *sb_esph_registry_new(void)
{
    return calloc(1, sizeof(sb_esph_registry));
}

void sb_esph_registry_free(sb_esph_registry *reg)
{
    if (!reg)
        return;
    free(reg->ents);
    free(reg->nodes);
    free(reg);
}

size_t sb_esph_registry_count(const sb_esph_registry *reg)
{
    return reg ? reg->n : 0;
}

const esph_entity *esph_entity_find(const sb_esph_registry *reg, const char *node_id,
                                    const char *source_id)
{
    for (size_t i = 0; reg && i < reg->n; i++)
        if (strcmp(reg->ents[i].node_id, node_id) == 0 &&
            strcmp(reg->ents[i].source_id, source_id) == 0)
            return &reg->ents[i];
    return NULL;
}

const esph_node *esph_node_find(const sb_esph_registry *reg, const char *node_id)
{
    for (size_t i = 0; reg && i < reg->n_nodes; i++)
        if (strcmp(reg->nodes[i].node_id, node_id) == 0)
            return &reg->nodes[i];
    return NULL;
}

esph_node *esph_node_get(sb_esph_registry *reg, const char *node_id)
{
    esph_node *nd = (esph_node *)esph_node_find(reg, node_id);
    if (nd || !reg || reg->n_nodes >= SB_ESPH_ENTITIES)
        return nd;
    if (reg->n_nodes == reg->cap_nodes) {
        size_t cap = reg->cap_nodes ? reg->cap_nodes * 2 : 8;
        esph_node *grown = realloc(reg->nodes, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        reg->nodes = grown;
        reg->cap_nodes = cap;
    }
    nd = &reg->nodes[reg->n_nodes++];
    memset(nd, 0, sizeof(*nd));
    snprintf(nd->node_id, sizeof(nd->node_id), "%s", node_id);
    return nd;
}

const char *sb_esph_registry_prefix(const sb_esph_registry *reg, const char *node_id)
{
    const esph_node *nd = esph_node_find(reg, node_id);
    return nd && *nd->prefix ? nd->prefix : NULL;
}

/* Remembers where a node publishes, so commands go to the same prefix (when the registry is
 * full or out of memory, commands use the node id). */
static void remember(esph_ctx *c)
{
    esph_node *nd = esph_node_get(c->reg, c->t->node_id);
    if (nd)
        snprintf(nd->prefix, sizeof(nd->prefix), "%s", c->t->prefix);
}

/* ---- status and states --------------------------------------------------------------------- */

/* <prefix>/status: "online" / "offline" (or discovery's payload_available / _not_available) as
 * the node's "online" field and its state (a node_state action: docs/processor.md). */
static void map_status(esph_ctx *c, const char *text)
{
    const esph_node *nd = esph_node_find(c->reg, c->t->node_id);
    const char *avail = nd && *nd->pl_avail ? nd->pl_avail : "online";
    const char *not_avail = nd && *nd->pl_not_avail ? nd->pl_not_avail : "offline";
    bool on = strcasecmp(text, avail) == 0, off = strcasecmp(text, not_avail) == 0;
    if (!on && !off) {
        esph_note(c, "status: '%.40s' is neither %s nor %s", text, avail, not_avail);
        return;
    }
    c->r->online_known = true;
    c->r->online = on;
    const char *node = c->t->node_id;
    esph_add(c, esph_msg(c, SB_MSG_SET, node, ""), SB_ESPH_FIELD_ONLINE, on ? "true" : "false",
             SB_METRIC_BINARY, NULL);
    esph_add(c, esph_msg(c, SB_MSG_ACTION, node, ""), "node_state", on ? "up" : "down",
             SB_METRIC_NONE, NULL);
}

static bool no_reading(const char *s)
{
    return !*s || strcasecmp(s, "nan") == 0 || strcasecmp(s, "-nan") == 0 ||
           strcasecmp(s, "inf") == 0 || strcasecmp(s, "-inf") == 0 ||
           strcasecmp(s, "unknown") == 0 || strcasecmp(s, "unavailable") == 0;
}

static const char *unit_of(const esph_sub *s, const esph_entity *e)
{
    switch (s->u) {
    case U_DISC:
        return e ? e->unit : NULL;
    case U_TEMP:
        return e && *e->temp_unit ? e->temp_unit : "°C";
    case U_PERCENT:
        return "%";
    case U_NONE:
    default:
        return NULL;
    }
}

/* The text of a binary state: true/false, or -1 when it is neither. */
static int binary_of(const esph_sub *s, const esph_entity *e, const char *text)
{
    if (s->v == V_OSC)
        return strcasecmp(text, "oscillate_on") == 0 || strcasecmp(text, "ON") == 0     ? 1
               : strcasecmp(text, "oscillate_off") == 0 || strcasecmp(text, "OFF") == 0 ? 0
                                                                                        : -1;
    if ((e && *e->pl_on && strcmp(text, e->pl_on) == 0) || strcasecmp(text, "ON") == 0)
        return 1;
    if ((e && *e->pl_off && strcmp(text, e->pl_off) == 0) || strcasecmp(text, "OFF") == 0)
        return 0;
    return -1;
}

static void state_value(esph_ctx *c, sb_msg *m, const esph_sub *s, const esph_entity *e,
                        const char *text)
{
    const char *field = *c->t->sub ? c->t->sub : SB_ESPH_FIELD_STATE;
    const char *unit = unit_of(s, e);
    const char *src = c->t->source_id;
    if (s->v == V_BINARY || s->v == V_OSC) {
        int b = binary_of(s, e, text);
        if (b < 0)
            esph_note(c, "%s.%s: '%.40s' is not ON or OFF", src, field, text);
        else
            esph_add(c, m, field, b ? "true" : "false", SB_METRIC_BINARY, NULL);
    } else if (s->v == V_TEXT) {
        if (*text)
            esph_add(c, m, field, text, SB_METRIC_STRING, NULL);
        else
            esph_note(c, "%s.%s: empty, skipped", src, field);
    } else if (esph_is_decimal(text)) {
        esph_add(c, m, field, text, s->v == V_INT ? SB_METRIC_GAUGE : SB_METRIC_GAUGE_FLOAT, unit);
    } else if (no_reading(text)) {
        esph_note(c, "%s.%s: no reading ('%.20s'), skipped", src, field, text);
    } else if (s->v == V_AUTO && !(e && *e->unit)) { /* a text sensor */
        esph_add(c, m, field, text, SB_METRIC_STRING, NULL);
    } else {
        esph_note(c, "%s.%s: '%.40s' is not a number", src, field, text);
    }
}

static void map_state(esph_ctx *c, const char *payload, size_t len)
{
    const sb_esph_topic *t = c->t;
    const esph_sub *s = esph_sub_find(t->component, t->sub);
    if (!s) {
        esph_note(c, "%s: sub-state '%s' not mapped", t->source_id, t->sub);
        return;
    }
    remember(c);
    sb_msg *m = esph_msg(c, SB_MSG_SET, t->node_id, t->source_id);
    if (s->v == V_LIGHT) {
        esph_light_state(c, m, payload, len);
        return;
    }
    if (len > SB_MSG_VALUE_MAX || memchr(payload, '\0', len)) {
        esph_note(c, "%s: payload too long or not text", t->source_id);
        return;
    }
    char *text = malloc(len + 1);
    if (!text) {
        esph_nomem(c);
        return;
    }
    memcpy(text, payload, len);
    text[len] = '\0';
    state_value(c, m, s, esph_entity_find(c->reg, t->node_id, t->source_id), text);
    free(text);
}

sb_err sb_esph_map(const sb_esph_opts *o, sb_esph_registry *reg, const sb_esph_topic *t,
                   const void *payload, size_t len, sb_esph_result *out)
{
    memset(out, 0, sizeof(*out));
    esph_ctx c = {.o = o, .t = t, .reg = reg, .r = out};
    if (t->kind == SB_ESPH_DISCOVERY) {
        esph_discovery(&c, payload, len);
    } else if (t->kind == SB_ESPH_STATUS) {
        char text[64];
        snprintf(text, sizeof(text), "%.*s", (int)(len < 63 ? len : 63), (const char *)payload);
        remember(&c);
        map_status(&c, text);
    } else {
        map_state(&c, payload, len);
    }
    return sb_mapped_finish(&out->out);
}

void sb_esph_result_free(sb_esph_result *r)
{
    if (!r)
        return;
    sb_mapped_free(&r->out);
    memset(r, 0, sizeof(*r));
}
