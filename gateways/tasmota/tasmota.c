/*
 * tasmota.c - the Tasmota gateway provider: an MQTT client of the broker the devices use. It
 * subscribes to the stat and tele topics of every device (per fullTopic), maps each publish with
 * tas_map.h and sends writes as cmnd topics (docs/gateways/tasmota.md).
 *
 * Like the MySensors MQTT transport, the client reconnects by itself and restores its
 * subscriptions; only a failed first connect is reported (the service retries after
 * reconnectDelay). Tasmota's retained LWT tells each device's availability at subscription.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/options.h"
#include "gateways/provider.h"
#include "gateways/tasmota/tas_map.h"

typedef struct tas_opts {
    sb_gateway_mqtt_opts mqtt;
    char *full_topic, *cmnd, *stat, *tele;
    bool query_status;
} tas_opts;

static const sb_option tas_table[] = {
    SB_GATEWAY_MQTT_ROWS(tas_opts, mqtt),
    SB_OPT_ROW_STR(tas_opts, full_topic, "fullTopic", "%prefix%/%topic%/",
                   "the devices' FullTopic: levels of literals, %prefix%, %topic%, %hostname%, "
                   "%id%"),
    SB_OPT_ROW_STR(tas_opts, cmnd, "prefixCmnd", "cmnd", "the devices' Prefix1 (commands)"),
    SB_OPT_ROW_STR(tas_opts, stat, "prefixStat", "stat", "the devices' Prefix2 (answers)"),
    SB_OPT_ROW_STR(tas_opts, tele, "prefixTele", "tele", "the devices' Prefix3 (telemetry)"),
    SB_OPT_ROW_BOOL(tas_opts, query_status, "queryStatus", "true",
                    "send 'Status 0' to a device that comes Online, for its node info"),
    SB_OPT_END,
};

typedef struct tas_dev {
    char node_id[SB_TAS_TOPIC_MAX];
    char cmnd_base[SB_TAS_TOPIC_MAX];
} tas_dev;

typedef struct tas_prov {
    const sb_gateway_host *host;
    const tas_opts *o;
    sb_tas_opts map;
    sb_bus *bus;
    sb_config_bus buscfg;
    char filters[2][SB_TAS_TOPIC_MAX];
    size_t n_filters;
    pthread_mutex_t mu; /* devs */
    tas_dev *devs;
    size_t n_devs;
    sb_gateway_mqtt_counters c;
    atomic_uint_fast64_t devices;
} tas_prov;

/* Remembers where a device takes commands (its levels as it publishes them). */
static void remember(tas_prov *p, const sb_tas_topic *t)
{
    pthread_mutex_lock(&p->mu);
    size_t i = 0;
    while (i < p->n_devs && strcmp(p->devs[i].node_id, t->node_id) != 0)
        i++;
    if (i == p->n_devs) {
        tas_dev *grown = realloc(p->devs, (p->n_devs + 1) * sizeof(*grown));
        if (grown) {
            p->devs = grown;
            p->n_devs++;
            atomic_fetch_add(&p->devices, 1);
        } else {
            i = SIZE_MAX;
        }
    }
    if (i != SIZE_MAX) {
        snprintf(p->devs[i].node_id, sizeof(p->devs[i].node_id), "%s", t->node_id);
        snprintf(p->devs[i].cmnd_base, sizeof(p->devs[i].cmnd_base), "%s", t->cmnd_base);
    }
    pthread_mutex_unlock(&p->mu);
}

static sb_err cmnd_base(tas_prov *p, const char *node, char *buf, size_t len, sb_errmsg *em)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n_devs; i++) {
        if (strcmp(p->devs[i].node_id, node) == 0) {
            snprintf(buf, len, "%s", p->devs[i].cmnd_base);
            pthread_mutex_unlock(&p->mu);
            return SB_OK;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return sb_tas_cmnd_base(&p->map, node, buf, len, em);
}

static sb_err publish(tas_prov *p, const char *base, const char *cmd, const char *value)
{
    char topic[SB_TAS_TOPIC_MAX + 64];
    snprintf(topic, sizeof(topic), "%s%s", base, cmd);
    sb_err rc = sb_gateway_mqtt_send(p->host, p->bus, topic, value, (int)p->o->mqtt.qos, false);
    atomic_fetch_add(rc == SB_OK ? &p->c.out : &p->c.write_errors, 1);
    return rc;
}

static void on_publish(void *ctx, const sb_bus_msg *bm)
{
    tas_prov *p = ctx;
    atomic_fetch_add(&p->c.in, 1);
    sb_gateway_raw_publish(p->host, true, bm->topic, bm->payload, bm->len);
    sb_tas_topic t;
    sb_errmsg em = {{0}};
    if (sb_tas_topic_parse(&p->map, bm->topic, &t, &em) != SB_OK) {
        atomic_fetch_add(&p->c.malformed, 1);
        sb_debug(p->host->log, "topic skipped: %s", em.text);
        return;
    }
    if (t.prefix == SB_TAS_CMND)
        return; /* a fullTopic with %topic% first also brings the commands */
    remember(p, &t);
    sb_tas_result r;
    if (sb_tas_map(&p->map, &t, bm->payload, bm->len, &r) != SB_OK) {
        sb_error(p->host->log, "%s: out of memory", bm->topic);
        return;
    }
    atomic_fetch_add(&p->c.skipped, r.m.skipped);
    sb_gateway_deliver(p->host, t.device, r.m.msgs, r.m.n, r.m.notes, r.m.n_notes);
    if (r.online_known && r.online && p->o->query_status)
        publish(p, t.cmnd_base, "STATUS", "0");
    sb_tas_result_free(&r);
}

static sb_err tas_create(const sb_gateway_host *host, const void *options, void **out,
                         sb_errmsg *em)
{
    const tas_opts *o = options;
    sb_tas_opts map = {.gateway_id = host->gateway_id,
                       .full_topic = o->full_topic,
                       .prefix = {o->cmnd, o->stat, o->tele}};
    char f[2][SB_TAS_TOPIC_MAX];
    size_t nf = 0;
    sb_err rc = sb_tas_filters(&map, f, &nf, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "provider.fullTopic");
    tas_prov *p = calloc(1, sizeof(*p));
    if (!p)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    p->host = host;
    p->o = o;
    p->map = map;
    memcpy(p->filters, f, sizeof(f));
    p->n_filters = nf;
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return SB_OK;
}

static void tas_stop(void *inst)
{
    tas_prov *p = inst;
    sb_gateway_mqtt_close(&p->bus);
}

static sb_err tas_start(void *inst, sb_errmsg *em)
{
    tas_prov *p = inst;
    const char *f[2] = {p->filters[0], p->filters[1]};
    sb_err rc = sb_gateway_mqtt_open(p->host, "tasmota", &p->o->mqtt, &p->buscfg, f, p->n_filters,
                                     on_publish, p, &p->bus, em);
    if (rc != SB_OK)
        return rc;
    sb_info(p->host->log, "link open: mqtt %s, %s%s%s", p->o->mqtt.url, p->filters[0],
            p->n_filters > 1 ? " and " : "", p->n_filters > 1 ? p->filters[1] : "");
    return SB_OK;
}

static void tas_destroy(void *inst)
{
    tas_prov *p = inst;
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->devs);
    free(p);
}

static sb_err tas_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    tas_prov *p = inst;
    if (!p->bus)
        return sb_fail(em, SB_ERR_CLOSED, "mqtt: the link is not open");
    char base[SB_TAS_TOPIC_MAX];
    sb_err rc = cmnd_base(p, m->node_id, base, sizeof(base), em);
    for (size_t i = 0; rc == SB_OK && i < m->n_payloads; i++) {
        char cmd[64], value[128];
        rc = sb_tas_command(m, i, cmd, sizeof(cmd), value, sizeof(value), em);
        if (rc == SB_OK && (rc = publish(p, base, cmd, value)) != SB_OK)
            sb_fail(em, rc, "mqtt: cannot publish to %s%s", base, cmd);
    }
    return rc;
}

static void tas_stats(void *inst, cJSON *obj)
{
    tas_prov *p = inst;
    sb_gateway_mqtt_stats(&p->c, obj);
    cJSON_AddNumberToObject(obj, "devices", (double)atomic_load(&p->devices));
}

const sb_gateway_plugin sb_gateway_plugin_tasmota = {
    .info = {.name = "tasmota",
             .version = "1",
             .description = "Tasmota devices over MQTT (tele/stat/cmnd topics, any FullTopic)",
             .options = tas_table},
    .options_size = sizeof(tas_opts),
    .caps = 0,
    .create = tas_create,
    .start = tas_start,
    .send = tas_send,
    .stop = tas_stop,
    .destroy = tas_destroy,
    .stats = tas_stats,
};
