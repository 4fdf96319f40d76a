/*
 * z2m_out.c - messages to Zigbee2MQTT /set and /get publishes (z2m_map.h
 * sb_z2m_command_build): values in the device's own form, checked against its exposes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "gateways/zigbee2mqtt/z2m_internal.h"

static bool word_in(const char *v, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strcasecmp(v, words[i]) == 0)
            return true;
    return false;
}

static const char *const on_words[] = {"on", "true", "1", "yes", NULL};
static const char *const off_words[] = {"off", "false", "0", "no", NULL};

/* on/off/toggle as the expose's value_on/off/toggle (Zigbee2MQTT's "ON"/"OFF"/"TOGGLE" when the
 * exposes are not known). */
static cJSON *binary_value(const z2m_prop *p, const char *v, sb_errmsg *em)
{
    const cJSON *want = NULL;
    const char *def = NULL;
    if (word_in(v, on_words))
        want = p ? p->on : NULL, def = "ON";
    else if (word_in(v, off_words))
        want = p ? p->off : NULL, def = "OFF";
    else if (strcasecmp(v, "toggle") == 0)
        want = p ? p->toggle : NULL, def = p && !p->toggle ? NULL : "TOGGLE";
    if (!def) {
        sb_fail(em, SB_ERR_INVALID, "'%.20s' is not on/off%s", v, p && !p->toggle ? "" : "/toggle");
        return NULL;
    }
    return want ? cJSON_Duplicate(want, true) : cJSON_CreateString(def);
}

static bool number_text(const char *v, double *d)
{
    char *end = NULL;
    *d = strtod(v, &end);
    return *v && !*end && isfinite(*d) && !strchr(" \t\n", v[0]);
}

static cJSON *numeric_value(const z2m_prop *p, const char *v, sb_errmsg *em)
{
    double d;
    if (!number_text(v, &d)) {
        sb_fail(em, SB_ERR_INVALID, "'%.20s' is not a number", v);
        return NULL;
    }
    if ((p->has_min && d < p->min) || (p->has_max && d > p->max)) {
        sb_fail(em, SB_ERR_INVALID, "%g is outside %g..%g", d, p->has_min ? p->min : -INFINITY,
                p->has_max ? p->max : INFINITY);
        return NULL;
    }
    return cJSON_CreateNumber(d);
}

static cJSON *enum_value(const z2m_prop *p, const char *v, sb_errmsg *em)
{
    const cJSON *it;
    char text[128];
    cJSON_ArrayForEach(it, p->values)
    {
        if (sb_json_scalar_text(it, text, sizeof(text)) && strcmp(text, v) == 0)
            return cJSON_Duplicate(it, true);
    }
    sb_fail(em, SB_ERR_INVALID, "'%.20s' is not one of the device's values", v);
    return NULL;
}

/* A colour: a JSON object ({"x":..,"y":..}, {"hue":..}), "#rrggbb", or "r,g,b". */
static cJSON *color_value(const char *v, sb_errmsg *em)
{
    size_t n = strlen(v);
    if (n && v[0] == '{') {
        cJSON *o = cJSON_ParseWithOpts(v, NULL, true);
        if (cJSON_IsObject(o))
            return o;
        cJSON_Delete(o);
    } else if (n == 7 && v[0] == '#' && strspn(v + 1, "0123456789abcdefABCDEF") == 6) {
        cJSON *o = cJSON_CreateObject();
        if (o && !cJSON_AddStringToObject(o, "hex", v))
            cJSON_Delete(o), o = NULL;
        return o;
    } else {
        int r, g, b, end = 0;
        if (sscanf(v, "%d,%d,%d%n", &r, &g, &b, &end) == 3 && (size_t)end == n && r >= 0 &&
            r <= 255 && g >= 0 && g <= 255 && b >= 0 && b <= 255) {
            cJSON *o = cJSON_CreateObject();
            if (o && (!cJSON_AddNumberToObject(o, "r", r) || !cJSON_AddNumberToObject(o, "g", g) ||
                      !cJSON_AddNumberToObject(o, "b", b)))
                cJSON_Delete(o), o = NULL;
            return o;
        }
    }
    sb_fail(em, SB_ERR_INVALID, "'%.30s' is not a colour (#rrggbb, r,g,b or a JSON object)", v);
    return NULL;
}

/* A value for a property the exposes do not describe: number, bool or string. */
static cJSON *plain_value(const char *v)
{
    double d;
    if (number_text(v, &d))
        return cJSON_CreateNumber(d);
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return cJSON_CreateBool(v[0] == 't');
    return cJSON_CreateString(v);
}

static cJSON *convert(const z2m_prop *p, const char *key, const char *v, sb_errmsg *em)
{
    if (!p && strcmp(key, "color") == 0)
        return color_value(v, em);
    if (!p)
        return strncmp(key, "state", 5) == 0 && (key[5] == '\0' || key[5] == '_')
                   ? binary_value(NULL, v, em)
                   : plain_value(v);
    switch (p->kind) {
    case Z_BINARY:
        return binary_value(p, v, em);
    case Z_NUMERIC:
        return numeric_value(p, v, em);
    case Z_ENUM:
        return p->values ? enum_value(p, v, em) : cJSON_CreateString(v);
    case Z_COMPOSITE:
        return color_value(v, em);
    case Z_LIST: {
        cJSON *a = cJSON_ParseWithOpts(v, NULL, true);
        if (cJSON_IsArray(a))
            return a;
        cJSON_Delete(a);
        sb_fail(em, SB_ERR_INVALID, "'%.20s' is not a JSON array", v);
        return NULL;
    }
    default:
        return cJSON_CreateString(v);
    }
}

/* Where key goes: the top-level object, or its composite parent ("color_x" -> color.x). */
static cJSON *target(cJSON *root, const z2m_prop *p, const char *key, const char **name,
                     char *parent, size_t plen)
{
    static const char *const color_subs[] = {"x", "y", "hue", "saturation", "hex", "h", "s", NULL};
    *name = key;
    parent[0] = '\0';
    if (p && p->parent) {
        snprintf(parent, plen, "%s", p->parent);
        *name = p->sub;
    } else if (!p && strncmp(key, "color_", 6) == 0) {
        for (int i = 0; color_subs[i]; i++)
            if (strcmp(key + 6, color_subs[i]) == 0)
                snprintf(parent, plen, "color"), *name = key + 6;
    }
    if (!parent[0])
        return root;
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, parent);
    if (!obj)
        obj = cJSON_AddObjectToObject(root, parent);
    return cJSON_IsObject(obj) ? obj : NULL;
}

static sb_err add_set(cJSON *root, const z2m_entity *e, const sb_payload *pl, sb_errmsg *em)
{
    const z2m_prop *p = z2m_prop_find(e, pl->key);
    if (p && !(p->access & SB_Z2M_ACCESS_SET))
        return sb_fail(em, SB_ERR_INVALID, "read-only");
    const char *name;
    char parent[SB_MSG_ID_MAX + 1];
    cJSON *obj = target(root, p, pl->key, &name, parent, sizeof(parent));
    if (!obj)
        return sb_fail(em, SB_ERR_INVALID, "conflicts with another value of the message");
    if (cJSON_GetObjectItemCaseSensitive(obj, name))
        return sb_fail(em, SB_ERR_INVALID, "given twice");
    cJSON *v = convert(p, pl->key, pl->value, em);
    if (!v)
        return em->text[0] ? SB_ERR_INVALID : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (!cJSON_AddItemToObject(obj, name, v)) {
        cJSON_Delete(v);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    return SB_OK;
}

static sb_err add_get(cJSON *root, const z2m_entity *e, const sb_payload *pl, sb_errmsg *em)
{
    const z2m_prop *p = z2m_prop_find(e, pl->key);
    if (p && !(p->access & SB_Z2M_ACCESS_GET))
        return sb_fail(em, SB_ERR_INVALID, "cannot be read (no get access)");
    const char *name = p && p->parent ? p->parent : pl->key;
    if (!cJSON_GetObjectItemCaseSensitive(root, name) && !cJSON_AddStringToObject(root, name, ""))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    return SB_OK;
}

sb_err sb_z2m_command_build(const sb_z2m_opts *o, const sb_z2m_registry *reg, const sb_msg *m,
                            sb_z2m_command *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    const char *src = m->source_id ? m->source_id : "";
    const z2m_entity *e = NULL;
    for (size_t i = 0; reg && i < reg->n && !e; i++)
        if (strcmp(reg->ents[i].node_id, m->node_id) == 0)
            e = &reg->ents[i];
    if (!e)
        return sb_fail(em, SB_ERR_INVALID, "node %s: not a known device or group", m->node_id);
    if (strcmp(src, SB_Z2M_SRC_DEVICE) != 0)
        return sb_fail(em, SB_ERR_INVALID, "node %s: source '%s' is not writable (only '%s')",
                       m->node_id, src, SB_Z2M_SRC_DEVICE);
    if ((m->type != SB_MSG_SET && m->type != SB_MSG_REQUEST) || !m->n_payloads)
        return sb_fail(em, SB_ERR_INVALID, "node %s: only set and request with values are sent",
                       m->node_id);
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = SB_OK;
    for (size_t i = 0; rc == SB_OK && i < m->n_payloads; i++) {
        rc = m->type == SB_MSG_SET ? add_set(root, e, &m->payloads[i], em)
                                   : add_get(root, e, &m->payloads[i], em);
        if (rc != SB_OK)
            sb_fail_wrap(em, rc, "field %s.%s.%s", m->node_id, src, m->payloads[i].key);
    }
    const char *base = o->base_topic && *o->base_topic ? o->base_topic : "zigbee2mqtt";
    if (rc == SB_OK) {
        snprintf(out->topic, sizeof(out->topic), "%s/%s/%s", base, e->name,
                 m->type == SB_MSG_SET ? "set" : "get");
        if (!(out->payload = cJSON_PrintUnformatted(root)))
            rc = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    cJSON_Delete(root);
    return rc;
}
