/*
 * esph_topic.c - the components ESPHome publishes and reading their topics (esph_map.h).
 */
#include <stdio.h>
#include <string.h>

#include "gateways/esphome/esph_internal.h"

#define DEFAULT_DISCOVERY "homeassistant"

static const esph_sub sensor_subs[] = {{"", V_AUTO, U_DISC}, {NULL, V_TEXT, U_NONE}};
static const esph_sub text_subs[] = {{"", V_TEXT, U_NONE}, {NULL, V_TEXT, U_NONE}};
static const esph_sub binary_subs[] = {{"", V_BINARY, U_NONE}, {NULL, V_TEXT, U_NONE}};
static const esph_sub number_subs[] = {{"", V_FLOAT, U_DISC}, {NULL, V_TEXT, U_NONE}};
static const esph_sub light_subs[] = {{"", V_LIGHT, U_NONE}, {NULL, V_TEXT, U_NONE}};
static const esph_sub fan_subs[] = {
    {"", V_BINARY, U_NONE},    {"oscillation", V_OSC, U_NONE}, {"speed_level", V_INT, U_NONE},
    {"speed", V_TEXT, U_NONE}, {"direction", V_TEXT, U_NONE},  {"preset_mode", V_TEXT, U_NONE},
    {NULL, V_TEXT, U_NONE},
};
static const esph_sub cover_subs[] = {
    {"", V_TEXT, U_NONE},
    {"position", V_INT, U_PERCENT},
    {"tilt", V_INT, U_PERCENT},
    {NULL, V_TEXT, U_NONE},
};
static const esph_sub climate_subs[] = {
    {"mode", V_TEXT, U_NONE},
    {"action", V_TEXT, U_NONE},
    {"fan_mode", V_TEXT, U_NONE},
    {"swing_mode", V_TEXT, U_NONE},
    {"preset", V_TEXT, U_NONE},
    {"away", V_BINARY, U_NONE},
    {"current_temperature", V_FLOAT, U_TEMP},
    {"target_temperature", V_FLOAT, U_TEMP},
    {"target_temperature_low", V_FLOAT, U_TEMP},
    {"target_temperature_high", V_FLOAT, U_TEMP},
    {"current_humidity", V_FLOAT, U_PERCENT},
    {"target_humidity", V_FLOAT, U_PERCENT},
    {NULL, V_TEXT, U_NONE},
};

typedef struct comp {
    const char *name;
    const esph_sub *subs;
} comp;

/* text_sensor: ESPHome publishes text sensors under "sensor"; older setups and other firmware
 * use "text_sensor". */
static const comp comps[] = {
    {"sensor", sensor_subs},
    {"text_sensor", text_subs},
    {"binary_sensor", binary_subs},
    {"switch", binary_subs},
    {"light", light_subs},
    {"fan", fan_subs},
    {"cover", cover_subs},
    {"climate", climate_subs},
    {"number", number_subs},
    {"select", text_subs},
    {"text", text_subs},
    {"lock", text_subs},
    {NULL, NULL},
};

static const comp *comp_find(const char *name, size_t len)
{
    for (const comp *c = comps; c->name; c++)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

bool sb_esph_component_known(const char *name)
{
    return comp_find(name, strlen(name)) != NULL;
}

static const esph_sub *sub_find(const comp *c, const char *sub, size_t len)
{
    for (const esph_sub *s = c->subs; s->sub; s++)
        if (strlen(s->sub) == len && memcmp(s->sub, sub, len) == 0)
            return s;
    return NULL;
}

const esph_sub *esph_sub_find(const char *component, const char *sub)
{
    const comp *c = comp_find(component, strlen(component));
    return c ? sub_find(c, sub, strlen(sub)) : NULL;
}

void sb_esph_sanitize(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[i] = ch <= ' ' || ch == 0x7f || strchr("./:+#", ch) ? '_' : (char)ch;
    }
    if (len)
        out[i] = '\0';
}

/* Copies n bytes of s into a buffer of size len; false when it does not fit. */
static bool copy(char *dst, size_t len, const char *s, size_t n)
{
    if (n >= len)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

#define LEVELS_MAX 32

typedef struct levels {
    const char *lv[LEVELS_MAX];
    size_t ll[LEVELS_MAX];
    size_t n;
} levels;

static sb_err split(const char *topic, levels *l, sb_errmsg *em)
{
    l->n = 0;
    for (const char *s = topic;;) {
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n == 0 || l->n == LEVELS_MAX)
            return sb_fail(em, SB_ERR_INVALID, "%s: empty level or too many levels", topic);
        l->lv[l->n] = s, l->ll[l->n++] = n;
        if (!end)
            return SB_OK;
        s = end + 1;
    }
}

static bool level_is(const levels *l, size_t i, const char *word)
{
    return l->ll[i] == strlen(word) && memcmp(l->lv[i], word, l->ll[i]) == 0;
}

/* The prefix: levels 0 .. end-1 as they are in topic. */
static bool set_prefix(const char *topic, const levels *l, size_t end, sb_esph_topic *out)
{
    size_t n = (size_t)(l->lv[end - 1] + l->ll[end - 1] - topic);
    if (n > SB_MSG_ID_MAX || !copy(out->prefix, sizeof(out->prefix), topic, n))
        return false;
    sb_esph_sanitize(out->prefix, out->node_id, sizeof(out->node_id));
    return true;
}

static sb_err entity_ids(const char *topic, const levels *l, size_t ci, sb_esph_topic *out,
                         sb_errmsg *em)
{
    if (!copy(out->component, sizeof(out->component), l->lv[ci], l->ll[ci]) ||
        !copy(out->object_id, sizeof(out->object_id), l->lv[ci + 1], l->ll[ci + 1]))
        return sb_fail(em, SB_ERR_INVALID, "%s: component or object id too long", topic);
    char src[SB_MSG_ID_MAX * 2 + 2];
    snprintf(src, sizeof(src), "%s-%s", out->component, out->object_id);
    if (strlen(src) > SB_MSG_ID_MAX)
        return sb_fail(em, SB_ERR_INVALID, "%s: object id too long", topic);
    sb_esph_sanitize(src, out->source_id, sizeof(out->source_id));
    return SB_OK;
}

static sb_err parse_discovery(const char *topic, const levels *l, size_t skip, sb_esph_topic *out,
                              sb_errmsg *em)
{
    /* <dp>/<component>/[<node>/]<object_id>/config */
    size_t rest = l->n - skip;
    if ((rest != 3 && rest != 4) || !level_is(l, l->n - 1, "config"))
        return sb_fail(em, SB_ERR_INVALID, "%s: not a discovery config topic", topic);
    out->kind = SB_ESPH_DISCOVERY;
    if (rest == 4 && !copy(out->prefix, sizeof(out->prefix), l->lv[skip + 1], l->ll[skip + 1]))
        return sb_fail(em, SB_ERR_INVALID, "%s: node level too long", topic);
    if (!copy(out->component, sizeof(out->component), l->lv[skip], l->ll[skip]) ||
        !copy(out->object_id, sizeof(out->object_id), l->lv[l->n - 2], l->ll[l->n - 2]))
        return sb_fail(em, SB_ERR_INVALID, "%s: component or object id too long", topic);
    return SB_OK;
}

/* Levels of the discovery prefix matched at the start of topic, or 0. */
static size_t discovery_levels(const char *dp, const levels *l)
{
    levels d;
    if (split(dp, &d, NULL) != SB_OK || d.n >= l->n)
        return 0;
    for (size_t i = 0; i < d.n; i++)
        if (d.ll[i] != l->ll[i] || memcmp(d.lv[i], l->lv[i], d.ll[i]) != 0)
            return 0;
    return d.n;
}

static sb_err parse_state(const char *topic, const levels *l, sb_esph_topic *out, sb_errmsg *em)
{
    size_t n = l->n;
    const comp *c;
    size_t ci = SIZE_MAX;
    /* A sub-state (<component>/<id>/<sub>/state) wins over a plain state whose prefix would
     * end in a component's name. */
    if (n >= 5 && (c = comp_find(l->lv[n - 4], l->ll[n - 4])) &&
        sub_find(c, l->lv[n - 2], l->ll[n - 2]) && l->ll[n - 2] > 0)
        ci = n - 4;
    else if (n >= 4 && (c = comp_find(l->lv[n - 3], l->ll[n - 3])))
        ci = n - 3;
    if (ci == SIZE_MAX)
        return sb_fail(em, SB_ERR_INVALID, "%s: no known component", topic);
    out->kind = SB_ESPH_STATE;
    if (ci == n - 4 && !copy(out->sub, sizeof(out->sub), l->lv[n - 2], l->ll[n - 2]))
        return sb_fail(em, SB_ERR_INVALID, "%s: sub-state too long", topic);
    if (!set_prefix(topic, l, ci, out))
        return sb_fail(em, SB_ERR_INVALID, "%s: prefix longer than %d bytes", topic, SB_MSG_ID_MAX);
    return entity_ids(topic, l, ci, out, em);
}

sb_err sb_esph_topic_parse(const char *discovery_prefix, const char *topic, sb_esph_topic *out,
                           sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (strlen(topic) >= SB_ESPH_TOPIC_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE, "topic longer than %d bytes", SB_ESPH_TOPIC_MAX - 1);
    levels l;
    sb_err rc = split(topic, &l, em);
    if (rc != SB_OK)
        return rc;
    const char *dp = discovery_prefix && *discovery_prefix ? discovery_prefix : DEFAULT_DISCOVERY;
    size_t skip = discovery_levels(dp, &l);
    if (skip)
        return parse_discovery(topic, &l, skip, out, em);
    if (l.n >= 2 && level_is(&l, l.n - 1, "status")) {
        out->kind = SB_ESPH_STATUS;
        if (!set_prefix(topic, &l, l.n - 1, out))
            return sb_fail(em, SB_ERR_INVALID, "%s: prefix longer than %d bytes", topic,
                           SB_MSG_ID_MAX);
        return SB_OK;
    }
    if (l.n >= 4 && level_is(&l, l.n - 1, "state"))
        return parse_state(topic, &l, out, em);
    return sb_fail(em, SB_ERR_INVALID, "%s: not a state, status or discovery topic", topic);
}
