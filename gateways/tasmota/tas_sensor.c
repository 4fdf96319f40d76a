/*
 * tas_sensor.c - SENSOR (and StatusSNS): every sensor object becomes a source, its readings
 * fields with metric type and unit (docs/gateways/tasmota.md "SENSOR").
 */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "gateways/tasmota/tas_internal.h"

#define MAX_DEPTH 4

typedef enum { U_FIXED, U_TEMP, U_PRESSURE } unit_kind;

typedef struct known {
    const char *key;
    sb_metric_type mt;
    unit_kind kind;
    const char *unit;
} known;

/* Readings whose unit Tasmota documents; others are gauge_float without a unit. */
static const known readings[] = {
    {"Temperature", SB_METRIC_GAUGE_FLOAT, U_TEMP, NULL},
    {"DewPoint", SB_METRIC_GAUGE_FLOAT, U_TEMP, NULL},
    {"Humidity", SB_METRIC_GAUGE_FLOAT, U_FIXED, "%"},
    {"Pressure", SB_METRIC_GAUGE_FLOAT, U_PRESSURE, NULL},
    {"SeaPressure", SB_METRIC_GAUGE_FLOAT, U_PRESSURE, NULL},
    {"Illuminance", SB_METRIC_GAUGE_FLOAT, U_FIXED, "lx"},
    {"CarbonDioxide", SB_METRIC_GAUGE_FLOAT, U_FIXED, "ppm"},
    {"eCO2", SB_METRIC_GAUGE_FLOAT, U_FIXED, "ppm"},
    {"TVOC", SB_METRIC_GAUGE_FLOAT, U_FIXED, "ppb"},
    {"Gas", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kΩ"},
    {"Distance", SB_METRIC_GAUGE_FLOAT, U_FIXED, "cm"},
    {"Moisture", SB_METRIC_GAUGE_FLOAT, U_FIXED, "%"},
    {"Weight", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kg"},
    {"Total", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kWh"},
    {"Today", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kWh"},
    {"Yesterday", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kWh"},
    {"ExportActive", SB_METRIC_GAUGE_FLOAT, U_FIXED, "kWh"},
    {"Period", SB_METRIC_GAUGE_FLOAT, U_FIXED, "Wh"},
    {"Power", SB_METRIC_GAUGE_FLOAT, U_FIXED, "W"},
    {"ApparentPower", SB_METRIC_GAUGE_FLOAT, U_FIXED, "VA"},
    {"ReactivePower", SB_METRIC_GAUGE_FLOAT, U_FIXED, "var"},
    {"Factor", SB_METRIC_GAUGE_FLOAT, U_FIXED, NULL},
    {"Voltage", SB_METRIC_GAUGE_FLOAT, U_FIXED, "V"},
    {"Current", SB_METRIC_GAUGE_FLOAT, U_FIXED, "A"},
    {"Frequency", SB_METRIC_GAUGE_FLOAT, U_FIXED, "Hz"},
    {"Id", SB_METRIC_STRING, U_FIXED, NULL},
    {"TotalStartTime", SB_METRIC_STRING, U_FIXED, NULL},
    {NULL, SB_METRIC_NONE, U_FIXED, NULL},
};

typedef struct units {
    char temp[8];      /* "°C" or "°F" */
    char pressure[16]; /* "hPa", "mmHg" ... */
} units;

static const known *lookup(const char *key)
{
    for (const known *k = readings; k->key; k++)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* kind names the reading in the table: the key, or the array's name for its items. */
static void reading(tas_ctx *c, const units *u, sb_msg *m, const char *src, const char *key,
                    const char *kind, const cJSON *v)
{
    const known *k = lookup(kind);
    const char *unit = !k                      ? NULL
                       : k->kind == U_TEMP     ? u->temp
                       : k->kind == U_PRESSURE ? u->pressure
                                               : k->unit;
    tas_add_json(c, m, src, key, v, k ? k->mt : SB_METRIC_NONE, unit);
}

static void sensor_obj(tas_ctx *c, const units *u, const char *src, const cJSON *obj, int depth);

/* Arrays of readings (multi-phase ENERGY "Power":[..]) become Power1, Power2 ... */
static void reading_array(tas_ctx *c, const units *u, sb_msg *m, const char *src, const cJSON *it)
{
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, it)
    {
        char key[SB_MSG_ID_MAX];
        snprintf(key, sizeof(key), "%.100s%d", it->string, ++i);
        if (cJSON_IsObject(v) || cJSON_IsArray(v))
            tas_note(c, "%s: %s.%s: nested array, skipped", c->t->name, src, key);
        else
            reading(c, u, m, src, key, it->string, v);
    }
}

static void sensor_obj(tas_ctx *c, const units *u, const char *src, const cJSON *obj, int depth)
{
    sb_msg *m = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (cJSON_IsObject(it)) {
            char sub[SB_MSG_ID_MAX];
            snprintf(sub, sizeof(sub), "%.60s-%.60s", src, it->string);
            if (depth >= MAX_DEPTH)
                tas_note(c, "%s: %s: nested too deep, skipped", c->t->name, sub);
            else
                sensor_obj(c, u, sub, it, depth + 1);
            continue;
        }
        if (!m && !(m = tas_msg(c, SB_MSG_SET, src)))
            return;
        if (cJSON_IsArray(it))
            reading_array(c, u, m, src, it);
        else
            reading(c, u, m, src, it->string, it->string, it);
    }
}

static void read_units(tas_ctx *c, const cJSON *root, units *u)
{
    const char *t = sb_json_str(root, "TempUnit", "C");
    if (strcmp(t, "C") && strcmp(t, "F")) {
        tas_note(c, "%s: TempUnit '%.10s' is not C or F; C assumed", c->t->name, t);
        t = "C";
    }
    snprintf(u->temp, sizeof(u->temp), "°%s", t);
    const char *p = sb_json_str(root, "PressureUnit", "hPa");
    if (!*p || strlen(p) >= sizeof(u->pressure) || strpbrk(p, " .:/")) {
        tas_note(c, "%s: PressureUnit '%.16s' unusable; hPa assumed", c->t->name, p);
        p = "hPa";
    }
    snprintf(u->pressure, sizeof(u->pressure), "%s", p);
}

/* Top-level keys that describe the message rather than a sensor. */
static bool meta_key(const char *k)
{
    static const char *const keys[] = {"Time",      "TempUnit", "PressureUnit",
                                       "SpeedUnit", "Epoch",    NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

void tas_sensor(tas_ctx *c, const cJSON *root)
{
    units u;
    read_units(c, root, &u);
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (meta_key(it->string))
            continue;
        if (cJSON_IsObject(it))
            sensor_obj(c, &u, it->string, it, 1);
        else
            tas_note(c, "%s: '%.40s' is not a sensor object, skipped", c->t->name, it->string);
    }
}
