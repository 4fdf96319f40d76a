/*
 * z2m.c - a simulated Zigbee2MQTT bridge (z2m.h), publishing as Zigbee2MQTT does with the
 * default output "json": retained bridge/state, bridge/info, bridge/devices (with exposes) and
 * bridge/groups, a retained <name>/availability per device, and every device's state as one JSON
 * object at each period and after every /set or /get. The devices:
 *   kitchen            a plug with power readings (state, power, energy, voltage, current)
 *   kitchen/climate    a temperature/humidity/pressure sensor on battery
 *   living room/bulb   a dimmable colour bulb (state, brightness, color_temp, color {x,y})
 *   downstairs         a group holding the bulb
 * "kitchen/climate" next to "kitchen" makes a controller resolve names by the longest match.
 */
#include "tools/devsim/z2m.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bus.h"
#include "core/time.h"
#include "tools/devsim/io.h"

typedef enum { PLUG, CLIMATE, BULB, GROUP } kind;

typedef struct zdev {
    kind k;
    const char *name, *ieee;
    bool on;
    int brightness, color_temp;
    double x, y;
    unsigned round;
} zdev;

typedef struct zsim {
    devsim_mqtt m;
    const char *base;
    bool attributes; /* output attribute_and_json */
    bool no_json;    /* output attribute */
    zdev devs[4];
} zsim;

/* An expose: type, property (also its name), access bits, unit (may be NULL). */
static cJSON *expose(const char *type, const char *property, int access, const char *unit)
{
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "type", type);
    cJSON_AddStringToObject(x, "name", property);
    cJSON_AddStringToObject(x, "property", property);
    cJSON_AddNumberToObject(x, "access", access);
    if (unit)
        cJSON_AddStringToObject(x, "unit", unit);
    return x;
}

static cJSON *ranged(cJSON *x, double min, double max)
{
    cJSON_AddNumberToObject(x, "value_min", min);
    cJSON_AddNumberToObject(x, "value_max", max);
    return x;
}

/* A light or switch: the features are its state and what is listed. */
static cJSON *specific(const char *type, cJSON *features)
{
    cJSON *state = expose("binary", "state", 7, NULL);
    cJSON_AddStringToObject(state, "value_on", "ON");
    cJSON_AddStringToObject(state, "value_off", "OFF");
    cJSON_AddStringToObject(state, "value_toggle", "TOGGLE");
    cJSON_InsertItemInArray(features, 0, state);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "type", type);
    cJSON_AddItemToObject(x, "features", features);
    return x;
}

static cJSON *device(const zdev *d, const char *type, const char *power, const char *model_id,
                     const char *model, const char *vendor, cJSON *exposes)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ieee_address", d->ieee);
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "friendly_name", d->name);
    cJSON_AddStringToObject(o, "power_source", power);
    cJSON_AddStringToObject(o, "model_id", model_id);
    cJSON_AddBoolToObject(o, "supported", true);
    cJSON_AddBoolToObject(o, "interview_completed", true);
    cJSON *def = cJSON_AddObjectToObject(o, "definition");
    cJSON_AddStringToObject(def, "model", model);
    cJSON_AddStringToObject(def, "vendor", vendor);
    cJSON_AddItemToArray(exposes, ranged(expose("numeric", "linkquality", 1, "lqi"), 0, 255));
    cJSON_AddItemToObject(def, "exposes", exposes);
    return o;
}

/* bridge/devices as Zigbee2MQTT publishes it (trimmed); caller frees. */
static char *bridge_devices(const zsim *s)
{
    cJSON *list = cJSON_CreateArray();
    cJSON *coord = cJSON_CreateObject();
    cJSON_AddStringToObject(coord, "ieee_address", "0x00124b0018e2a1b0");
    cJSON_AddStringToObject(coord, "type", "Coordinator");
    cJSON_AddStringToObject(coord, "friendly_name", "Coordinator");
    cJSON_AddNullToObject(coord, "definition");
    cJSON_AddItemToArray(list, coord);

    cJSON *x = cJSON_CreateArray();
    cJSON_AddItemToArray(x, specific("switch", cJSON_CreateArray()));
    cJSON_AddItemToArray(x, expose("numeric", "power", 5, "W"));
    cJSON_AddItemToArray(x, expose("numeric", "energy", 5, "kWh"));
    cJSON_AddItemToArray(x, expose("numeric", "voltage", 5, "V"));
    cJSON_AddItemToArray(x, expose("numeric", "current", 5, "A"));
    cJSON_AddItemToArray(list, device(&s->devs[0], "Router", "Mains (single phase)",
                                      "lumi.plug.maeu01", "SP-EUC01", "Aqara", x));

    x = cJSON_CreateArray();
    cJSON_AddItemToArray(x, expose("numeric", "temperature", 1, "°C"));
    cJSON_AddItemToArray(x, expose("numeric", "humidity", 1, "%"));
    cJSON_AddItemToArray(x, expose("numeric", "pressure", 1, "hPa"));
    cJSON_AddItemToArray(x, expose("numeric", "battery", 1, "%"));
    cJSON_AddItemToArray(x, expose("numeric", "voltage", 1, "mV"));
    cJSON_AddItemToArray(list, device(&s->devs[1], "EndDevice", "Battery", "lumi.weather",
                                      "WSDCGQ11LM", "Aqara", x));

    cJSON *f = cJSON_CreateArray();
    cJSON_AddItemToArray(f, ranged(expose("numeric", "brightness", 7, NULL), 0, 254));
    cJSON_AddItemToArray(f, ranged(expose("numeric", "color_temp", 7, "mired"), 153, 500));
    cJSON *color = expose("composite", "color", 7, NULL);
    cJSON *xy = cJSON_AddArrayToObject(color, "features");
    cJSON_AddItemToArray(xy, expose("numeric", "x", 7, NULL));
    cJSON_AddItemToArray(xy, expose("numeric", "y", 7, NULL));
    cJSON_AddItemToArray(f, color);
    x = cJSON_CreateArray();
    cJSON_AddItemToArray(x, specific("light", f));
    cJSON_AddItemToArray(list, device(&s->devs[2], "Router", "Mains (single phase)", "LCA001",
                                      "9290022166", "Philips", x));
    char *text = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    return text;
}

static const char bridge_groups[] =
    "[{\"id\":1,\"friendly_name\":\"downstairs\",\"description\":null,\"scenes\":[],\"members\":"
    "[{\"ieee_address\":\"0x0017880104e45517\",\"endpoint\":11}]}]";

static void pub(zsim *s, const char *name, const char *sub, const char *payload, bool retain)
{
    char topic[256];
    snprintf(topic, sizeof(topic), "%s/%s%s%s", s->base, name, sub ? "/" : "", sub ? sub : "");
    sb_bus_publish(s->m.bus, topic, payload, strlen(payload), 1, retain);
}

static const char *onoff(bool b)
{
    return b ? "ON" : "OFF";
}

/* Zigbee2MQTT's attribute output: <name>/<key> with the value as text, a nested object as
 * <name>/<key>-<sub>. */
static void attributes(zsim *s, const char *name, const char *prefix, const char *json)
{
    cJSON *o = cJSON_Parse(json), *it;
    cJSON_ArrayForEach(it, o)
    {
        char sub[128], *text = NULL;
        snprintf(sub, sizeof(sub), "%s%s", prefix, it->string);
        if (cJSON_IsObject(it)) {
            char *inner = cJSON_PrintUnformatted(it);
            char deeper[140];
            snprintf(deeper, sizeof(deeper), "%s-", sub);
            if (inner)
                attributes(s, name, deeper, inner);
            free(inner);
            continue;
        }
        text = cJSON_IsString(it) ? strdup(it->valuestring) : cJSON_PrintUnformatted(it);
        if (text)
            pub(s, name, sub, text, false);
        free(text);
    }
    cJSON_Delete(o);
}

static void publish_state(zsim *s, zdev *d)
{
    char buf[768];
    double tenth = 0.1 * (d->round % 10);
    int lqi = 100 + (int)(d->round % 50);
    int watts = d->on ? 40 + (int)(d->round % 5) : 0;
    switch (d->k) {
    case PLUG:
        snprintf(buf, sizeof(buf),
                 "{\"state\":\"%s\",\"power\":%d,\"energy\":%.2f,\"voltage\":230,\"current\":%.3f,"
                 "\"linkquality\":%d}",
                 onoff(d->on), watts, 1.5 + 0.01 * d->round, watts / 230.0, lqi);
        break;
    case CLIMATE:
        snprintf(buf, sizeof(buf),
                 "{\"temperature\":%.1f,\"humidity\":%.1f,\"pressure\":%.1f,\"battery\":97,"
                 "\"voltage\":2985,\"linkquality\":%d}",
                 21 + tenth, 45 + tenth, 1013 + tenth, lqi);
        break;
    case BULB:
        snprintf(buf, sizeof(buf),
                 "{\"state\":\"%s\",\"brightness\":%d,\"color_temp\":%d,\"color_mode\":\"xy\","
                 "\"color\":{\"x\":%.4f,\"y\":%.4f},\"linkquality\":%d,\"update\":{\"state\":"
                 "\"idle\",\"installed_version\":16777216,\"latest_version\":16777216}}",
                 onoff(d->on), d->brightness, d->color_temp, d->x, d->y, lqi);
        break;
    case GROUP:
        snprintf(buf, sizeof(buf), "{\"state\":\"%s\",\"brightness\":%d}", onoff(d->on),
                 d->brightness);
        break;
    }
    if (!s->no_json)
        pub(s, d->name, NULL, buf, false);
    if (s->attributes)
        attributes(s, d->name, "", buf);
}

/* "#rrggbb" to CIE xy, as a Hue bulb would report it. */
static void hex_to_xy(const char *hex, double *x, double *y)
{
    unsigned v = (unsigned)strtoul(hex + 1, NULL, 16);
    double c[3] = {((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0};
    for (int i = 0; i < 3; i++)
        c[i] = c[i] > 0.04045 ? pow((c[i] + 0.055) / 1.055, 2.4) : c[i] / 12.92;
    double X = 0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2];
    double Y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    double Z = 0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2];
    if (X + Y + Z > 0)
        *x = X / (X + Y + Z), *y = Y / (X + Y + Z);
}

static int clamp(double v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* One /set object applied to d (a plug, the bulb or the group); false when nothing applied. */
static bool apply_set(zdev *d, const cJSON *o)
{
    bool any = false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "state");
    if (cJSON_IsString(v)) {
        if (!strcasecmp(v->valuestring, "ON"))
            d->on = true, any = true;
        else if (!strcasecmp(v->valuestring, "OFF"))
            d->on = false, any = true;
        else if (!strcasecmp(v->valuestring, "TOGGLE"))
            d->on = !d->on, any = true;
    }
    if (d->k == PLUG)
        return any;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "brightness"))) {
        d->brightness = clamp(v->valuedouble, 0, 254);
        d->on = d->brightness > 0, any = true;
    }
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "color_temp")))
        d->color_temp = clamp(v->valuedouble, 153, 500), any = true;
    const cJSON *color = cJSON_GetObjectItemCaseSensitive(o, "color");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(color, "x");
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(color, "y");
    const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(color, "hex"));
    if (cJSON_IsNumber(x))
        d->x = x->valuedouble, any = true;
    if (cJSON_IsNumber(y))
        d->y = y->valuedouble, any = true;
    if (hex && hex[0] == '#' && strlen(hex) == 7)
        hex_to_xy(hex, &d->x, &d->y), any = true;
    return any;
}

static zdev *find(zsim *s, const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(s->devs) / sizeof(s->devs[0]); i++)
        if (strlen(s->devs[i].name) == len && !strncmp(s->devs[i].name, name, len))
            return &s->devs[i];
    return NULL;
}

static void command(zsim *s, zdev *d, bool set, const char *payload)
{
    cJSON *o = cJSON_Parse(payload);
    if (set && cJSON_IsObject(o) && d->k != CLIMATE && apply_set(d, o)) {
        if (d->k == GROUP) { /* the members follow the group */
            zdev *bulb = &s->devs[2];
            apply_set(bulb, o);
            publish_state(s, bulb);
        }
    }
    cJSON_Delete(o);
    publish_state(s, d);
}

static void on_message(void *ctx, const sb_bus_msg *bm)
{
    zsim *s = ctx;
    size_t bl = strlen(s->base), tl = strlen(bm->topic);
    if (tl < bl + 5 || bm->len > 2000)
        return;
    const char *rest = bm->topic + bl + 1, *end = bm->topic + tl;
    bool set = !strcmp(end - 4, "/set"), get = !strcmp(end - 4, "/get");
    if (!set && !get)
        return;
    char payload[2048];
    snprintf(payload, sizeof(payload), "%.*s", (int)bm->len, (const char *)bm->payload);
    pthread_mutex_lock(&s->m.mu);
    devsim_mqtt_record(&s->m, bm->topic, payload);
    zdev *d = find(s, rest, (size_t)(end - 4 - rest));
    if (d)
        command(s, d, set, payload);
    pthread_mutex_unlock(&s->m.mu);
}

static void devs_init(zsim *s)
{
    s->devs[0] = (zdev){.k = PLUG, .name = "kitchen", .ieee = "0x00158d0002c4a7e1"};
    s->devs[1] = (zdev){.k = CLIMATE, .name = "kitchen/climate", .ieee = "0x00158d00045b2c3d"};
    s->devs[2] = (zdev){.k = BULB,
                        .name = "living room/bulb",
                        .ieee = "0x0017880104e45517",
                        .on = true,
                        .brightness = 128,
                        .color_temp = 370,
                        .x = 0.4573,
                        .y = 0.41};
    s->devs[3] = (zdev){.k = GROUP, .name = "downstairs", .on = true, .brightness = 128};
}

static void announce(zsim *s, bool online)
{
    const char *state = online ? "{\"state\":\"online\"}" : "{\"state\":\"offline\"}";
    if (online) {
        pub(s, "bridge", "info",
            "{\"version\":\"1.42.0\",\"commit\":\"devsim\",\"coordinator\":{\"type\":"
            "\"zStack3x0\",\"meta\":{\"revision\":20230507}},\"permit_join\":false,"
            "\"log_level\":\"info\"}",
            true);
        char *devices = bridge_devices(s);
        if (devices)
            pub(s, "bridge", "devices", devices, true);
        free(devices);
        pub(s, "bridge", "groups", bridge_groups, true);
    }
    for (size_t i = 0; i < 3; i++)
        pub(s, s->devs[i].name, "availability", state, true);
    pub(s, "bridge", "state", state, true);
}

static void tick(void *ctx)
{
    zsim *s = ctx;
    pthread_mutex_lock(&s->m.mu);
    for (size_t i = 0; i < 3; i++) {
        publish_state(s, &s->devs[i]);
        s->devs[i].round++;
    }
    pthread_mutex_unlock(&s->m.mu);
}

int devsim_z2m_run(const devsim_z2m_opts *o, volatile sig_atomic_t *stop)
{
    zsim s = {.base = o->base_topic ? o->base_topic : "zigbee2mqtt",
              .attributes = o->attributes,
              .no_json = o->attributes && o->no_json};
    char filter[300];
    snprintf(filter, sizeof(filter), "%s/#", s.base);
    const char *const filters[] = {filter};
    devs_init(&s);
    int rc = 1;
    if (devsim_mqtt_open(&s.m, o->url, "zigbee2mqtt", o->record, filters, 1, on_message, &s)) {
        announce(&s, true);
        printf("devsim: zigbee2mqtt %s %s\n", o->url, s.base);
        fflush(stdout);
        devsim_mqtt_loop(o->period_ms, o->duration_ms, stop, tick, &s);
        announce(&s, false);
        sb_bus_flush(s.m.bus, 2000);
        rc = 0;
    }
    devsim_mqtt_close(&s.m);
    return rc;
}
