/*
 * z2m_state.c - a device's published state to fields of the source "device": nested objects
 * flattened ("color": {"x": 0.3} -> color_x), types and units from the device's exposes when the
 * bridge listed them, from the JSON value (and a table of well-known names) otherwise
 * (docs/gateways/zigbee2mqtt.md "State").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "gateways/zigbee2mqtt/z2m_internal.h"

/* Units of well-known properties, for devices whose exposes are not known. */
static const char *known_unit(const char *key)
{
    static const struct {
        const char *key, *unit;
    } units[] = {
        {"temperature", "°C"}, {"local_temperature", "°C"},
        {"humidity", "%"},     {"pressure", "hPa"},
        {"battery", "%"},      {"linkquality", "lqi"},
        {"power", "W"},        {"energy", "kWh"},
        {"current", "A"},      {"illuminance_lux", "lx"},
        {"co2", "ppm"},        {"soil_moisture", "%"},
        {"brightness", NULL},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(units[i].key, key) == 0)
            return units[i].unit;
    return NULL;
}

static bool is_state_key(const char *key)
{
    return strcmp(key, "state") == 0 || strncmp(key, "state_", 6) == 0;
}

/* Field labels from an expose: readonly, and the range of numbers. */
static cJSON *labels_of(const z2m_prop *p)
{
    cJSON *l = cJSON_CreateObject();
    if (!l)
        return NULL;
    cJSON_AddStringToObject(l, "readonly", p->access & SB_Z2M_ACCESS_SET ? "false" : "true");
    char num[32];
    if (p->has_min) {
        snprintf(num, sizeof(num), "%.15g", p->min);
        cJSON_AddStringToObject(l, "min", num);
    }
    if (p->has_max) {
        snprintf(num, sizeof(num), "%.15g", p->max);
        cJSON_AddStringToObject(l, "max", num);
    }
    return l;
}

/* A binary expose's value: true/false when v is its value_on/value_off; false when neither. */
static bool binary_of(const z2m_prop *p, const cJSON *v, bool *on)
{
    if (p->on && cJSON_Compare(p->on, v, true))
        return *on = true, true;
    if (p->off && cJSON_Compare(p->off, v, true))
        return *on = false, true;
    if (cJSON_IsBool(v))
        return *on = cJSON_IsTrue(v), true;
    return false;
}

/* One scalar value of key (already flattened). */
static void scalar(z2m_ctx *c, sb_msg *m, const z2m_entity *e, const char *key, const cJSON *v)
{
    const z2m_prop *p = z2m_prop_find(e, key);
    cJSON *labels = p ? labels_of(p) : NULL;
    if (p && !labels)
        z2m_nomem(c);
    const char *unit = p ? p->unit : known_unit(key);
    char text[64];
    bool on;
    if (p && p->kind == Z_BINARY) {
        if (binary_of(p, v, &on))
            z2m_add(c, m, key, on ? "true" : "false", SB_METRIC_BINARY, NULL, labels);
        else
            z2m_note(c, "%s: value is neither value_on nor value_off, skipped", key);
    } else if (cJSON_IsBool(v)) {
        z2m_add(c, m, key, cJSON_IsTrue(v) ? "true" : "false", SB_METRIC_BINARY, NULL, labels);
    } else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(text, sizeof(text), "%.15g", v->valuedouble);
        bool as_text = p && (p->kind == Z_ENUM || p->kind == Z_TEXT);
        z2m_add(c, m, key, text, as_text ? SB_METRIC_STRING : SB_METRIC_GAUGE_FLOAT, unit, labels);
    } else if (cJSON_IsString(v) && p && p->kind == Z_NUMERIC) {
        z2m_add(c, m, key, v->valuestring, SB_METRIC_GAUGE_FLOAT, unit, labels); /* checked later */
    } else if (cJSON_IsString(v) && !p && is_state_key(key) &&
               (strcmp(v->valuestring, "ON") == 0 || strcmp(v->valuestring, "OFF") == 0)) {
        z2m_add(c, m, key, v->valuestring[1] == 'N' ? "true" : "false", SB_METRIC_BINARY, NULL,
                NULL);
    } else if (cJSON_IsString(v)) {
        z2m_add(c, m, key, v->valuestring, SB_METRIC_STRING, unit, labels);
    } else {
        z2m_note(c, "%s: no value (null), skipped", key);
    }
    cJSON_Delete(labels);
}

static void value(z2m_ctx *c, sb_msg *m, const z2m_entity *e, const char *key, const cJSON *v,
                  int depth)
{
    if (cJSON_IsObject(v)) {
        if (depth >= Z2M_DEPTH_MAX) {
            z2m_note(c, "%s: nested too deep, skipped", key);
            return;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            char sub[SB_MSG_ID_MAX + 2];
            int n = snprintf(sub, sizeof(sub), "%s_%s", key, it->string);
            if (n < 0 || (size_t)n > SB_MSG_ID_MAX)
                z2m_note(c, "%.40s_%.40s: key too long, skipped", key, it->string);
            else
                value(c, m, e, sub, it, depth + 1);
        }
    } else if (cJSON_IsArray(v)) {
        char *text = cJSON_PrintUnformatted(v); /* lists (schedules, scenes) as JSON text */
        if (!text) {
            z2m_nomem(c);
            return;
        }
        z2m_add(c, m, key, text, SB_METRIC_STRING, NULL, NULL);
        free(text);
    } else {
        scalar(c, m, e, key, v);
    }
}

void z2m_state(z2m_ctx *c, const z2m_entity *e, const cJSON *root)
{
    sb_msg *m = z2m_msg(c, SB_MSG_SET, e->node_id, SB_Z2M_SRC_DEVICE);
    if (!m)
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!*it->string) {
            z2m_note(c, "an empty key, skipped");
            continue;
        }
        value(c, m, e, it->string, it, 1);
    }
}

/* Attribute text: JSON numbers and true/false are themselves, anything else is a string. */
void z2m_attribute(z2m_ctx *c, const z2m_entity *e, const char *attr, const char *text)
{
    const z2m_prop *p = z2m_prop_find(e, attr);
    cJSON *v = NULL;
    bool as_string = p && (p->kind == Z_ENUM || p->kind == Z_TEXT);
    if (!as_string && *text && (strchr("-0123456789tf", text[0])))
        v = cJSON_ParseWithOpts(text, NULL, true);
    if (v && !cJSON_IsNumber(v) && !cJSON_IsBool(v)) {
        cJSON_Delete(v);
        v = NULL;
    }
    if (!v && !(v = cJSON_CreateString(text))) {
        z2m_nomem(c);
        return;
    }
    sb_msg *m = z2m_msg(c, SB_MSG_SET, e->node_id, SB_Z2M_SRC_DEVICE);
    if (m)
        scalar(c, m, e, attr, v);
    cJSON_Delete(v);
}
