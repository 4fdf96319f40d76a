/*
 * tasmota.c - simulated Tasmota devices (tasmota.h), publishing as the firmware does with the
 * default FullTopic %prefix%/%topic%/: a retained tele/<t>/LWT Online at start, tele/<t>/STATE
 * and tele/<t>/SENSOR every TelePeriod, stat/<t>/RESULT and stat/<t>/POWER<n> when a cmnd
 * changes something, stat/<t>/STATUS0 for "Status 0". Device kinds, by index mod 3:
 *   sensor<k>  BME280 + DS18B20
 *   plug<k>    two relays with ENERGY
 *   light<k>   a dimmable colour light (POWER, Dimmer, Color, CT)
 * At the end every device's LWT becomes Offline (what the broker's will would publish).
 */
#include "tools/devsim/tasmota.h"

#include <ctype.h>
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
    char topic[32];
    bool power[2];
    int dimmer, ct;
    char color[16];
    unsigned round;
} dev;

typedef struct tsim {
    devsim_mqtt m;
    dev *devs;
    size_t n;
} tsim;

static void pub(tsim *s, const dev *d, const char *prefix, const char *name, const char *payload,
                bool retain)
{
    char topic[128];
    snprintf(topic, sizeof(topic), "%s/%s/%s", prefix, d->topic, name);
    sb_bus_publish(s->m.bus, topic, payload, strlen(payload), 1, retain);
}

static const char *onoff(bool b)
{
    return b ? "ON" : "OFF";
}

static void now_text(char *buf, size_t len)
{
    char t[40];
    sb_time_format(sb_time_now_ms(), t, sizeof(t));
    snprintf(buf, len, "%.19s", t); /* Tasmota's local time, no zone */
}

/* The STATE-shaped part of a device (also RESULT and StatusSTS). */
static void state_json(const dev *d, char *buf, size_t len)
{
    char t[32];
    now_text(t, sizeof(t));
    int n = snprintf(buf, len,
                     "{\"Time\":\"%s\",\"Uptime\":\"0T00:%02u:00\",\"UptimeSec\":%u,\"Heap\":27,"
                     "\"SleepMode\":\"Dynamic\",\"LoadAvg\":19,",
                     t, d->round % 60, d->round * 60);
    if (d->k == PLUG)
        n += snprintf(buf + n, len - (size_t)n, "\"POWER1\":\"%s\",\"POWER2\":\"%s\",",
                      onoff(d->power[0]), onoff(d->power[1]));
    if (d->k == LIGHT)
        n += snprintf(buf + n, len - (size_t)n,
                      "\"POWER\":\"%s\",\"Dimmer\":%d,\"Color\":\"%s\",\"CT\":%d,\"Scheme\":0,",
                      onoff(d->power[0]), d->dimmer, d->color, d->ct);
    snprintf(buf + n, len - (size_t)n,
             "\"Wifi\":{\"AP\":1,\"SSId\":\"sim\",\"RSSI\":%u,\"Signal\":%d,\"LinkCount\":1}}",
             70 + d->round % 10, -65 + (int)(d->round % 10));
}

static void sensor_json(const dev *d, char *buf, size_t len)
{
    char t[32];
    now_text(t, sizeof(t));
    double tenth = 0.1 * (d->round % 10);
    if (d->k == SENSOR)
        snprintf(buf, len,
                 "{\"Time\":\"%s\",\"BME280\":{\"Temperature\":%.1f,\"Humidity\":%.1f,"
                 "\"DewPoint\":9.5,\"Pressure\":%.1f},\"DS18B20\":{\"Id\":\"0316A279C0FF\","
                 "\"Temperature\":%.1f},\"PressureUnit\":\"hPa\",\"TempUnit\":\"C\"}",
                 t, 21 + tenth, 45 + tenth, 1013 + tenth, 19 + tenth);
    else /* PLUG */
        snprintf(buf, len,
                 "{\"Time\":\"%s\",\"ENERGY\":{\"TotalStartTime\":\"2024-01-01T00:00:00\","
                 "\"Total\":%.3f,\"Yesterday\":0.512,\"Today\":%.3f,\"Power\":%d,"
                 "\"ApparentPower\":%d,\"ReactivePower\":0,\"Factor\":0.95,\"Voltage\":230,"
                 "\"Current\":%.3f}}",
                 t, 12.5 + 0.001 * d->round, 0.1 + 0.001 * d->round,
                 (d->power[0] ? 40 : 0) + (d->power[1] ? 60 : 0),
                 (d->power[0] ? 42 : 0) + (d->power[1] ? 63 : 0),
                 ((d->power[0] ? 40 : 0) + (d->power[1] ? 60 : 0)) / 230.0);
}

static void tele(tsim *s, dev *d)
{
    char buf[1024];
    state_json(d, buf, sizeof(buf));
    pub(s, d, "tele", "STATE", buf, false);
    if (d->k != LIGHT) {
        sensor_json(d, buf, sizeof(buf));
        pub(s, d, "tele", "SENSOR", buf, false);
    }
    d->round++;
}

static void status0(tsim *s, const dev *d)
{
    char sts[1024], sns[1024], buf[3072];
    state_json(d, sts, sizeof(sts));
    if (d->k == LIGHT)
        snprintf(sns, sizeof(sns), "{\"Time\":\"x\"}");
    else
        sensor_json(d, sns, sizeof(sns));
    static const char *const module[] = {"18", "45", "18"};
    snprintf(buf, sizeof(buf),
             "{\"Status\":{\"Module\":%s,\"DeviceName\":\"devsim %s\",\"FriendlyName\":"
             "[\"%s\"],\"Topic\":\"%s\",\"Power\":0},\"StatusFWR\":{\"Version\":"
             "\"13.3.0(tasmota)\",\"Hardware\":\"ESP8266EX\"},\"StatusNET\":{\"Hostname\":"
             "\"%s-1234\",\"IPAddress\":\"192.0.2.%d\",\"Mac\":\"AA:BB:CC:00:00:%02X\"},"
             "\"StatusSNS\":%s,\"StatusSTS\":%s}",
             module[d->k], d->topic, d->topic, d->topic, d->topic, (int)(d - s->devs) + 10,
             (unsigned)(d - s->devs), sns, sts);
    pub(s, d, "stat", "STATUS0", buf, false);
}

/* "ON", "off", "1", "toggle", "" (query) applied to *b; false when not understood. */
static bool power_word(const char *v, bool *b)
{
    if (!*v)
        return true;
    if (!strcasecmp(v, "on") || !strcmp(v, "1") || !strcasecmp(v, "true"))
        return *b = true, true;
    if (!strcasecmp(v, "off") || !strcmp(v, "0") || !strcasecmp(v, "false"))
        return *b = false, true;
    if (!strcasecmp(v, "toggle") || !strcmp(v, "2"))
        return *b = !*b, true;
    return false;
}

/* One command for d; the answer goes to stat/<t>/RESULT (and POWER<n>). */
static void command(tsim *s, dev *d, const char *cmd, const char *v)
{
    char res[256];
    if (!strncasecmp(cmd, "POWER", 5) && d->k != SENSOR) {
        int idx = cmd[5] ? atoi(cmd + 5) : 1;
        int max = d->k == PLUG ? 2 : 1;
        if (idx < 1 || idx > max || !power_word(v, &d->power[idx - 1]))
            goto unknown;
        char name[16];
        if (d->k == PLUG)
            snprintf(name, sizeof(name), "POWER%d", idx);
        else
            snprintf(name, sizeof(name), "POWER");
        snprintf(res, sizeof(res), "{\"%s\":\"%s\"}", name, onoff(d->power[idx - 1]));
        pub(s, d, "stat", "RESULT", res, false);
        pub(s, d, "stat", name, onoff(d->power[idx - 1]), false);
        return;
    }
    if (d->k == LIGHT && !strcasecmp(cmd, "Dimmer") && *v) {
        d->dimmer = atoi(v) < 0 ? 0 : atoi(v) > 100 ? 100 : atoi(v);
        d->power[0] = d->dimmer > 0;
    } else if (d->k == LIGHT && !strcasecmp(cmd, "Color") && *v) {
        snprintf(d->color, sizeof(d->color), "%.*s", (int)sizeof(d->color) - 1, v);
        d->power[0] = true;
    } else if (d->k == LIGHT && !strcasecmp(cmd, "CT") && *v) {
        d->ct = atoi(v) < 153 ? 153 : atoi(v) > 500 ? 500 : atoi(v);
    } else if (!strcasecmp(cmd, "STATUS") && !strcmp(v, "0")) {
        status0(s, d);
        return;
    } else {
        goto unknown;
    }
    snprintf(res, sizeof(res), "{\"POWER\":\"%s\",\"Dimmer\":%d,\"Color\":\"%s\",\"CT\":%d}",
             onoff(d->power[0]), d->dimmer, d->color, d->ct);
    pub(s, d, "stat", "RESULT", res, false);
    return;
unknown:
    pub(s, d, "stat", "RESULT", "{\"Command\":\"Unknown\"}", false);
}

static void on_cmnd(void *ctx, const sb_bus_msg *bm)
{
    tsim *s = ctx;
    const char *t = bm->topic + strlen("cmnd/");
    const char *slash = strchr(t, '/');
    if (!slash || bm->len > 200)
        return;
    char v[256];
    snprintf(v, sizeof(v), "%.*s", (int)bm->len, (const char *)bm->payload);
    pthread_mutex_lock(&s->m.mu);
    devsim_mqtt_record(&s->m, bm->topic, v);
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->devs[i].topic) == (size_t)(slash - t) &&
            !strncmp(s->devs[i].topic, t, (size_t)(slash - t)))
            command(s, &s->devs[i], slash + 1, v);
    pthread_mutex_unlock(&s->m.mu);
}

static bool devs_init(tsim *s, long n)
{
    s->devs = calloc((size_t)n, sizeof(*s->devs));
    if (!s->devs)
        return false;
    s->n = (size_t)n;
    static const char *const names[] = {"sensor", "plug", "light"};
    for (long i = 0; i < n; i++) {
        dev *d = &s->devs[i];
        d->k = (kind)(i % 3);
        snprintf(d->topic, sizeof(d->topic), "%s%ld", names[d->k], i / 3 + 1);
        d->dimmer = 50, d->ct = 250;
        snprintf(d->color, sizeof(d->color), "FF8000");
    }
    return true;
}

/* One period: every device publishes. */
static void tick(void *ctx)
{
    tsim *s = ctx;
    pthread_mutex_lock(&s->m.mu);
    for (size_t i = 0; i < s->n; i++)
        tele(s, &s->devs[i]);
    pthread_mutex_unlock(&s->m.mu);
}

int devsim_tasmota_run(const devsim_tas_opts *o, volatile sig_atomic_t *stop)
{
    tsim s = {0};
    if (!devs_init(&s, o->devices))
        return 1;
    const char *const filters[] = {"cmnd/+/+"};
    int rc = 1;
    if (devsim_mqtt_open(&s.m, o->url, "tasmota", o->record, filters, 1, on_cmnd, &s)) {
        for (size_t i = 0; i < s.n; i++)
            pub(&s, &s.devs[i], "tele", "LWT", "Online", true);
        printf("devsim: tasmota %s %zu\n", o->url, s.n);
        fflush(stdout);
        devsim_mqtt_loop(o->tele_ms, o->duration_ms, stop, tick, &s);
        for (size_t i = 0; i < s.n; i++)
            pub(&s, &s.devs[i], "tele", "LWT", "Offline", true);
        sb_bus_flush(s.m.bus, 2000);
        rc = 0;
    }
    devsim_mqtt_close(&s.m);
    free(s.devs);
    return rc;
}
