/*
 * esph_out.c - messages to ESPHome commands (esph_map.h sb_esph_command).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateways/esphome/esph_internal.h"

/* How a written value becomes a command payload. */
typedef enum {
    W_ONOFF,
    W_OSC,
    W_INT100,
    W_NUMBER,
    W_WORD,
    W_TEXT,
    W_OPTION,
    W_COVER,
    W_LOCK,
    W_LIGHT
} wkind;

typedef struct writable {
    const char *component;
    const char *field; /* the field id; its sub-topic unless it is "state" */
    wkind w;
} writable;

static const writable writables[] = {
    {"switch", "state", W_ONOFF},
    {"fan", "state", W_ONOFF},
    {"fan", "oscillation", W_OSC},
    {"fan", "speed_level", W_INT100},
    {"fan", "direction", W_WORD},
    {"fan", "preset_mode", W_TEXT},
    {"cover", "state", W_COVER},
    {"cover", "position", W_INT100},
    {"cover", "tilt", W_INT100},
    {"climate", "mode", W_WORD},
    {"climate", "fan_mode", W_WORD},
    {"climate", "swing_mode", W_WORD},
    {"climate", "preset", W_TEXT},
    {"climate", "away", W_ONOFF},
    {"climate", "target_temperature", W_NUMBER},
    {"climate", "target_temperature_low", W_NUMBER},
    {"climate", "target_temperature_high", W_NUMBER},
    {"climate", "target_humidity", W_NUMBER},
    {"number", "state", W_NUMBER},
    {"select", "state", W_OPTION},
    {"text", "state", W_TEXT},
    {"lock", "state", W_LOCK},
    {"light", "state", W_LIGHT},
    {"light", "brightness", W_LIGHT},
    {"light", "color", W_LIGHT},
    {"light", "color_temp", W_LIGHT},
    {"light", "white", W_LIGHT},
    {"light", "cold_white", W_LIGHT},
    {"light", "effect", W_LIGHT},
    {NULL, NULL, W_TEXT},
};

static const writable *writable_find(const char *component, size_t clen, const char *field)
{
    for (const writable *w = writables; w->component; w++)
        if (strlen(w->component) == clen && strncmp(w->component, component, clen) == 0 &&
            strcmp(w->field, field) == 0)
            return w;
    return NULL;
}

/* The first of the words (upper case in the command) that v names, case-insensitively. */
static sb_err word_of(const char *v, const char *const *words, const char **out, sb_errmsg *em,
                      const char *what)
{
    for (int i = 0; words[i]; i++) {
        if (strcasecmp(v, words[i]) == 0) {
            *out = words[i];
            return SB_OK;
        }
    }
    return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not %s", v, what);
}

static sb_err onoff_value(const char *v, char *out, size_t len, bool osc, sb_errmsg *em)
{
    static const char *const on[] = {"on", "true", "1", "yes", "oscillate_on", NULL};
    static const char *const off[] = {"off", "false", "0", "no", "oscillate_off", NULL};
    int b = -1;
    for (int i = 0; on[i] && b < 0; i++)
        b = strcasecmp(v, on[i]) == 0 ? 1 : strcasecmp(v, off[i]) == 0 ? 0 : -1;
    if (b < 0 && !osc && strcasecmp(v, "toggle") == 0)
        return snprintf(out, len, "TOGGLE"), SB_OK;
    if (b < 0)
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not on/off%s", v, osc ? "" : "/toggle");
    snprintf(out, len, "%s", osc ? (b ? "oscillate_on" : "oscillate_off") : (b ? "ON" : "OFF"));
    return SB_OK;
}

static sb_err number_value(const char *v, const esph_entity *e, bool int100, char *out, size_t len,
                           sb_errmsg *em)
{
    if (!esph_is_decimal(v))
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not a number", v);
    double d = strtod(v, NULL);
    double lo = int100 ? 0 : e && e->has_min ? e->min : -INFINITY;
    double hi = int100 ? 100 : e && e->has_max ? e->max : INFINITY;
    if (d < lo || d > hi || (int100 && d != floor(d)))
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not %s %g..%g", v,
                       int100 ? "an integer" : "a number", lo, hi);
    snprintf(out, len, "%s", v);
    return SB_OK;
}

static sb_err text_value(const char *v, bool word, char *out, size_t len, sb_errmsg *em)
{
    size_t n = strlen(v);
    if (n == 0 || n >= len || (word && strpbrk(v, " \t\r\n")))
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not %s of at most %zu bytes", v,
                       word ? "a word" : "a text", len - 1);
    memcpy(out, v, n + 1);
    return SB_OK;
}

static sb_err option_value(const char *v, const esph_entity *e, char *out, size_t len,
                           sb_errmsg *em)
{
    if (e && *e->options) {
        size_t n = strlen(v);
        const char *p = e->options;
        while (*p && !(strncmp(p, v, n) == 0 && p[n] == '\n'))
            p = strchr(p, '\n') + 1;
        if (!*p)
            return sb_fail(em, SB_ERR_INVALID, "'%.40s' is not one of the select's options", v);
    }
    return text_value(v, false, out, len, em);
}

static sb_err value_of(const writable *w, const char *field, const char *v, const esph_entity *e,
                       char *out, size_t len, sb_errmsg *em)
{
    static const char *const cover[] = {"OPEN", "CLOSE", "STOP", "TOGGLE", NULL};
    static const char *const lock[] = {"LOCK", "UNLOCK", "OPEN", NULL};
    const char *word = NULL;
    sb_err rc;
    switch (w->w) {
    case W_ONOFF:
    case W_OSC:
        return onoff_value(v, out, len, w->w == W_OSC, em);
    case W_INT100:
    case W_NUMBER:
        return number_value(v, e, w->w == W_INT100, out, len, em);
    case W_WORD:
    case W_TEXT:
        return text_value(v, w->w == W_WORD, out, len, em);
    case W_OPTION:
        return option_value(v, e, out, len, em);
    case W_COVER:
    case W_LOCK:
        rc = word_of(v, w->w == W_COVER ? cover : lock, &word, em,
                     w->w == W_COVER ? "open/close/stop/toggle" : "lock/unlock/open");
        if (rc == SB_OK)
            snprintf(out, len, "%s", word);
        return rc;
    case W_LIGHT:
    default:
        return esph_light_command(field, v, out, len, em);
    }
}

sb_err sb_esph_command(const sb_esph_registry *reg, const sb_msg *m, size_t i, char *topic,
                       size_t topic_len, char *payload, size_t payload_len, sb_errmsg *em)
{
    if (i >= m->n_payloads)
        return sb_fail(em, SB_ERR_INVALID, "payload %zu: no such payload", i);
    const sb_payload *p = &m->payloads[i];
    const char *node = m->node_id ? m->node_id : "";
    const char *src = m->source_id ? m->source_id : "";
    const char *dash = strchr(src, '-');
    const writable *w = dash ? writable_find(src, (size_t)(dash - src), p->key) : NULL;
    if (!w || !*node || !dash[1])
        return sb_fail(em, SB_ERR_INVALID, "field %s.%s.%s is not writable", node, src, p->key);
    if (m->type != SB_MSG_SET)
        return sb_fail(em, SB_ERR_INVALID,
                       "field %s.%s.%s: only set is sent (ESPHome has no read command; its "
                       "states are retained)",
                       node, src, p->key);
    const esph_entity *e = esph_entity_find(reg, node, src);
    sb_err rc = value_of(w, p->key, p->value, e, payload, payload_len, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "field %s.%s.%s", node, src, p->key);
    const char *prefix = sb_esph_registry_prefix(reg, node);
    bool main_state = strcmp(p->key, SB_ESPH_FIELD_STATE) == 0 || w->w == W_LIGHT;
    int n = snprintf(topic, topic_len, "%s/%s/%s%s%s/command", prefix ? prefix : node, w->component,
                     dash + 1, main_state ? "" : "/", main_state ? "" : p->key);
    if (n < 0 || (size_t)n >= topic_len)
        return sb_fail(em, SB_ERR_TOO_LARGE, "field %s.%s.%s: command topic too long", node, src,
                       p->key);
    return SB_OK;
}
