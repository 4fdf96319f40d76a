/*
 * esphome.c - simulated ESPHome devices (esphome.h), publishing as the firmware's MQTT component
 * does with topic_prefix = the device name and the default discovery prefix: retained Home
 * Assistant discovery configs (abbreviated keys) for every entity, a retained "online" on
 * <name>/status, retained states on <name>/<component>/<object_id>/state, and the sensors again
 * every period. Device kinds, by index mod 3:
 *   esp-sensor<k>  temperature (°C), humidity, outdoor temperature (°F), co2 (always "nan": no
 *                  reading), wifi_ssid (a text sensor), motion (a binary sensor)
 *   esp-plug<k>    a relay (switch) with power, energy and voltage sensors
 *   esp-light<k>   a dimmable colour light (JSON schema: state, brightness, color, effect)
 * Switch and light commands are obeyed and the new state published. At the end every device's
 * status becomes "offline" (what the broker's last will would publish).
 */
#include "tools/devsim/esphome.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bus.h"
#include "core/time.h"
#include "tools/devsim/io.h"

typedef enum { SENSOR, PLUG, LIGHT } kind;

typedef struct dev {
    kind k;
    char name[32];
    bool on; /* relay or light */
    int brightness, rgb[3];
    char effect[32];
    unsigned round;
} dev;

typedef struct esim {
    devsim_mqtt m;
    dev *devs;
    size_t n;
} esim;

static void pub(esim *s, const char *topic, const char *payload)
{
    sb_bus_publish(s->m.bus, topic, payload, strlen(payload), 1, true); /* ESPHome retains */
}

static void state(esim *s, const dev *d, const char *component, const char *object,
                  const char *payload)
{
    char topic[160];
    snprintf(topic, sizeof(topic), "%s/%s/%s/state", d->name, component, object);
    pub(s, topic, payload);
}

/* A discovery config in ESPHome's abbreviated form; extra is appended inside the object. */
static void discovery(esim *s, const dev *d, const char *component, const char *object,
                      const char *name, bool command, const char *extra)
{
    char topic[160], cfg[1024], cmd[160] = "";
    if (command)
        snprintf(cmd, sizeof(cmd), "\"cmd_t\":\"%s/%s/%s/command\",", d->name, component, object);
    snprintf(topic, sizeof(topic), "homeassistant/%s/%s/%s/config", component, d->name, object);
    snprintf(cfg, sizeof(cfg),
             "{%s\"name\":\"%s\",\"stat_t\":\"%s/%s/%s/state\",%s\"avty_t\":\"%s/status\","
             "\"uniq_id\":\"ESP%s%s\",\"dev\":{\"ids\":\"devsim-%s\",\"name\":\"devsim %s\","
             "\"sw\":\"2024.10.2 (devsim)\",\"mdl\":\"esp32dev\",\"mf\":\"Espressif\"}}",
             extra, name, d->name, component, object, cmd, d->name, component, object, d->name,
             d->name);
    pub(s, topic, cfg);
}

static void announce(esim *s, const dev *d)
{
    if (d->k == SENSOR) {
        discovery(s, d, "sensor", "temperature", "Temperature", false,
                  "\"dev_cla\":\"temperature\",\"unit_of_meas\":\"°C\",\"stat_cla\":"
                  "\"measurement\",");
        discovery(s, d, "sensor", "humidity", "Humidity", false,
                  "\"dev_cla\":\"humidity\",\"unit_of_meas\":\"%\",\"stat_cla\":\"measurement\",");
        discovery(s, d, "sensor", "outdoor_temperature", "Outdoor temperature", false,
                  "\"dev_cla\":\"temperature\",\"unit_of_meas\":\"°F\",");
        discovery(s, d, "sensor", "co2", "CO2", false,
                  "\"dev_cla\":\"carbon_dioxide\",\"unit_of_meas\":\"ppm\",");
        discovery(s, d, "sensor", "wifi_ssid", "WiFi SSID", false, "\"ent_cat\":\"diagnostic\",");
        discovery(s, d, "binary_sensor", "motion", "Motion", false, "\"dev_cla\":\"motion\",");
    } else if (d->k == PLUG) {
        discovery(s, d, "switch", "relay", "Relay", true, "");
        discovery(s, d, "sensor", "power", "Power", false,
                  "\"dev_cla\":\"power\",\"unit_of_meas\":\"W\",");
        discovery(s, d, "sensor", "energy", "Energy", false,
                  "\"dev_cla\":\"energy\",\"unit_of_meas\":\"kWh\",\"stat_cla\":"
                  "\"total_increasing\",");
        discovery(s, d, "sensor", "voltage", "Voltage", false,
                  "\"dev_cla\":\"voltage\",\"unit_of_meas\":\"V\",");
    } else {
        discovery(s, d, "light", "lamp", "Lamp", true,
                  "\"schema\":\"json\",\"clrm\":true,\"supported_color_modes\":[\"rgb\"],"
                  "\"brightness\":true,\"effect\":true,\"fx_list\":[\"Rainbow\",\"None\"],");
    }
}

static void light_state(esim *s, const dev *d)
{
    char buf[256];
    snprintf(buf, sizeof(buf),
             "{\"color_mode\":\"rgb\",\"state\":\"%s\",\"brightness\":%d,\"color\":{\"r\":%d,"
             "\"g\":%d,\"b\":%d},\"effect\":\"%s\"}",
             d->on ? "ON" : "OFF", d->brightness, d->rgb[0], d->rgb[1], d->rgb[2], d->effect);
    state(s, d, "light", "lamp", buf);
}

static void plug_state(esim *s, const dev *d)
{
    state(s, d, "switch", "relay", d->on ? "ON" : "OFF");
    state(s, d, "sensor", "power", d->on ? "60.0" : "0.0");
}

/* The periodic states (and, at start, every state). */
static void publish_states(esim *s, dev *d)
{
    char v[32];
    double tenth = 0.1 * (d->round % 10);
    if (d->k == SENSOR) {
        snprintf(v, sizeof(v), "%.1f", 21 + tenth);
        state(s, d, "sensor", "temperature", v);
        snprintf(v, sizeof(v), "%.1f", 45 + tenth);
        state(s, d, "sensor", "humidity", v);
        snprintf(v, sizeof(v), "%.1f", 50 + tenth);
        state(s, d, "sensor", "outdoor_temperature", v);
        state(s, d, "sensor", "co2", "nan");
        state(s, d, "sensor", "wifi_ssid", "devsim-net");
        state(s, d, "binary_sensor", "motion", d->round % 2 ? "ON" : "OFF");
    } else if (d->k == PLUG) {
        plug_state(s, d);
        snprintf(v, sizeof(v), "%.3f", 1.234 + 0.001 * d->round);
        state(s, d, "sensor", "energy", v);
        state(s, d, "sensor", "voltage", "230.1");
    } else if (d->round == 0) {
        light_state(s, d);
    }
    d->round++;
}

static int clamp(double v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* The light JSON schema command, as ESPHome applies it. */
static void light_command(esim *s, dev *d, const char *payload, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(payload, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return;
    }
    const cJSON *v = cJSON_GetObjectItem(o, "state");
    if (cJSON_IsString(v))
        d->on = strcasecmp(v->valuestring, "ON") == 0 ||
                (strcasecmp(v->valuestring, "TOGGLE") == 0 && !d->on);
    if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "brightness"))) {
        d->brightness = clamp(v->valuedouble, 0, 255);
        d->on = d->on && d->brightness > 0;
    }
    const cJSON *col = cJSON_GetObjectItem(o, "color");
    static const char *const ch[3] = {"r", "g", "b"};
    for (int i = 0; i < 3; i++)
        if (cJSON_IsNumber(v = cJSON_GetObjectItem(col, ch[i])))
            d->rgb[i] = clamp(v->valuedouble, 0, 255);
    if (cJSON_IsString(v = cJSON_GetObjectItem(o, "effect")))
        snprintf(d->effect, sizeof(d->effect), "%.31s", v->valuestring);
    cJSON_Delete(o);
    light_state(s, d);
}

static void on_command(void *ctx, const sb_bus_msg *bm)
{
    esim *s = ctx;
    char v[256];
    snprintf(v, sizeof(v), "%.*s", (int)(bm->len < 255 ? bm->len : 255), (const char *)bm->payload);
    pthread_mutex_lock(&s->m.mu);
    devsim_mqtt_record(&s->m, bm->topic, v);
    for (size_t i = 0; i < s->n; i++) {
        dev *d = &s->devs[i];
        char topic[160];
        snprintf(topic, sizeof(topic), "%s/switch/relay/command", d->name);
        if (d->k == PLUG && strcmp(bm->topic, topic) == 0) {
            if (strcasecmp(v, "ON") == 0 || strcasecmp(v, "OFF") == 0)
                d->on = strcasecmp(v, "ON") == 0;
            else if (strcasecmp(v, "TOGGLE") == 0)
                d->on = !d->on;
            plug_state(s, d);
        }
        snprintf(topic, sizeof(topic), "%s/light/lamp/command", d->name);
        if (d->k == LIGHT && strcmp(bm->topic, topic) == 0)
            light_command(s, d, bm->payload, bm->len);
    }
    pthread_mutex_unlock(&s->m.mu);
}

static bool devs_init(esim *s, long n)
{
    s->devs = calloc((size_t)n, sizeof(*s->devs));
    if (!s->devs)
        return false;
    s->n = (size_t)n;
    static const char *const names[] = {"esp-sensor", "esp-plug", "esp-light"};
    for (long i = 0; i < n; i++) {
        dev *d = &s->devs[i];
        d->k = (kind)(i % 3);
        snprintf(d->name, sizeof(d->name), "%s%ld", names[d->k], i / 3 + 1);
        d->on = d->k == LIGHT;
        d->brightness = 128;
        d->rgb[0] = 255, d->rgb[1] = 128, d->rgb[2] = 0;
        snprintf(d->effect, sizeof(d->effect), "None");
    }
    return true;
}

static void status_all(esim *s, const char *word)
{
    for (size_t i = 0; i < s->n; i++) {
        char topic[64];
        snprintf(topic, sizeof(topic), "%s/status", s->devs[i].name);
        pub(s, topic, word);
    }
}

/* One period: every device publishes. */
static void tick(void *ctx)
{
    esim *s = ctx;
    pthread_mutex_lock(&s->m.mu);
    for (size_t i = 0; i < s->n; i++)
        publish_states(s, &s->devs[i]);
    pthread_mutex_unlock(&s->m.mu);
}

int devsim_esphome_run(const devsim_esph_opts *o, volatile sig_atomic_t *stop)
{
    esim s = {0};
    if (!devs_init(&s, o->devices))
        return 1;
    const char *const filters[] = {"+/switch/+/command", "+/light/+/command"};
    int rc = 1;
    if (devsim_mqtt_open(&s.m, o->url, "esphome", o->record, filters, 2, on_command, &s)) {
        pthread_mutex_lock(&s.m.mu);
        for (size_t i = 0; i < s.n; i++)
            announce(&s, &s.devs[i]);
        status_all(&s, "online");
        pthread_mutex_unlock(&s.m.mu);
        printf("devsim: esphome %s %zu\n", o->url, s.n);
        fflush(stdout);
        devsim_mqtt_loop(o->period_ms, o->duration_ms, stop, tick, &s);
        status_all(&s, "offline");
        sb_bus_flush(s.m.bus, 2000);
        rc = 0;
    }
    devsim_mqtt_close(&s.m);
    free(s.devs);
    return rc;
}
