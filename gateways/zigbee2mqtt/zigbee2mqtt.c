/*
 * zigbee2mqtt.c - the Zigbee2MQTT gateway provider: an MQTT client of the broker the bridge
 * publishes to. It subscribes to everything under the base topic, maps each publish with
 * z2m_map.h (keeping what bridge/devices and bridge/groups say in a registry) and sends writes
 * and reads as <base>/<friendly name>/set and /get (docs/gateways/zigbee2mqtt.md).
 *
 * The bridge retains bridge/devices, bridge/groups, bridge/info, bridge/state and availability,
 * so a (re)subscription brings the registry and every device's availability at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/options.h"
#include "gateways/provider.h"
#include "gateways/zigbee2mqtt/z2m_map.h"

typedef struct z2m_opts {
    char *url, *username, *password, *base_topic;
    int64_t qos, connect_timeout_ms;
    bool attribute_topics;
} z2m_opts;

static const sb_option z2m_table[] = {
    SB_OPT_ROW_STR(z2m_opts, url, "url", "tcp://127.0.0.1:1883",
                   "the broker Zigbee2MQTT publishes to (may be the bus's own)"),
    SB_OPT_ROW_STR(z2m_opts, username, "username", "", "user name on that broker"),
    SB_OPT_ROW_SECRET(z2m_opts, password, "password", "password on that broker"),
    SB_OPT_ROW_STR(z2m_opts, base_topic, "baseTopic", "zigbee2mqtt",
                   "Zigbee2MQTT's mqtt.base_topic (one or more levels, no wildcards)"),
    SB_OPT_ROW_INT(z2m_opts, qos, "qos", "0", 0, 1, "QoS of the subscription and commands"),
    SB_OPT_ROW_DURATION(z2m_opts, connect_timeout_ms, "connectTimeout", "5s", 100, 600000,
                        "how long the first connect may take"),
    SB_OPT_ROW_BOOL(z2m_opts, attribute_topics, "attributeTopics", "false",
                    "map the per-attribute sub-topics <name>/<attribute> (Zigbee2MQTT's "
                    "advanced.output attribute or attribute_and_json)"),
    SB_OPT_END,
};

typedef struct z2m_prov {
    const sb_gateway_host *host;
    const z2m_opts *o;
    sb_z2m_opts map;
    char filter[SB_Z2M_NAME_MAX + 4];
    sb_bus *bus;
    sb_config_bus buscfg;
    pthread_mutex_t mu; /* reg: mapped on the delivery thread, read by send */
    sb_z2m_registry *reg;
    atomic_uint_fast64_t in, out, malformed, skipped, write_errors, devices;
} z2m_prov;

static void on_publish(void *ctx, const sb_bus_msg *bm)
{
    z2m_prov *p = ctx;
    atomic_fetch_add(&p->in, 1);
    sb_z2m_result r;
    pthread_mutex_lock(&p->mu);
    sb_err rc = sb_z2m_map(&p->map, p->reg, bm->topic, bm->payload, bm->len, &r);
    if (rc == SB_OK && bm->retained && /* a retained state of an offline device: still down */
        (rc = sb_z2m_keep_offline(&p->map, p->reg, true, &r)) != SB_OK)
        sb_z2m_result_free(&r);
    atomic_store(&p->devices, sb_z2m_registry_count(p->reg));
    pthread_mutex_unlock(&p->mu);
    if (rc != SB_OK) {
        sb_error(p->host->log, "%s: out of memory", bm->topic);
        return;
    }
    if (r.ignored && !r.n) {
        sb_z2m_result_free(&r);
        return; /* our own /set, the bridge's logs: not device data */
    }
    sb_gateway_raw_publish(p->host, true, bm->topic, bm->payload, bm->len);
    atomic_fetch_add(&p->skipped, r.skipped);
    if (r.skipped && !r.n)
        atomic_fetch_add(&p->malformed, 1);
    for (size_t i = 0; i < r.n_notes; i++) { /* a publish dropped as a whole is a warning */
        if (r.n)
            sb_info(p->host->log, "%s", r.notes[i]);
        else
            sb_warn(p->host->log, "%s", r.notes[i]);
    }
    if (r.registry_changed)
        sb_info(p->host->log, "%s: %zu devices and groups known", bm->topic,
                (size_t)atomic_load(&p->devices));
    for (size_t i = 0; i < r.n; i++) {
        p->host->receive(p->host->ctx, r.msgs[i]);
        r.msgs[i] = NULL;
    }
    sb_z2m_result_free(&r);
}

static sb_err z2m_create(const sb_gateway_host *host, const void *options, void **out,
                         sb_errmsg *em)
{
    const z2m_opts *o = options;
    size_t bl = strlen(o->base_topic);
    if (!bl || bl >= SB_Z2M_NAME_MAX || strpbrk(o->base_topic, "+#") || o->base_topic[0] == '/' ||
        o->base_topic[bl - 1] == '/')
        return sb_fail(em, SB_ERR_INVALID,
                       "provider.baseTopic '%.60s': expected topic levels without wildcards or "
                       "a leading or trailing '/'",
                       o->base_topic);
    z2m_prov *p = calloc(1, sizeof(*p));
    if (!p || !(p->reg = sb_z2m_registry_new())) {
        free(p);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    p->host = host;
    p->o = o;
    p->map = (sb_z2m_opts){.gateway_id = host->gateway_id,
                           .base_topic = o->base_topic,
                           .attribute_topics = o->attribute_topics};
    snprintf(p->filter, sizeof(p->filter), "%s/#", o->base_topic);
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return SB_OK;
}

static void z2m_stop(void *inst)
{
    z2m_prov *p = inst;
    if (!p->bus)
        return;
    sb_bus_unsubscribe(p->bus, p->filter);
    sb_bus *bus = p->bus;
    p->bus = NULL;
    sb_bus_destroy(bus, 500);
}

static sb_err z2m_start(void *inst, sb_errmsg *em)
{
    z2m_prov *p = inst;
    sb_gateway_mqtt m = {.provider = "zigbee2mqtt",
                         .gateway_id = p->host->gateway_id,
                         .url = p->o->url,
                         .username = p->o->username,
                         .password = p->o->password,
                         .connect_timeout_ms = p->o->connect_timeout_ms};
    sb_err rc = sb_gateway_mqtt_create(&m, &p->buscfg, &p->bus, em);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(p->bus, p->filter, (int)p->o->qos, on_publish, p, em);
    if (rc == SB_OK)
        rc = sb_bus_start(p->bus, p->o->connect_timeout_ms, em);
    if (rc != SB_OK) {
        sb_fail_wrap(em, rc, "mqtt %s", p->o->url);
        z2m_stop(p);
        return rc;
    }
    sb_info(p->host->log, "link open: mqtt %s, %s", p->o->url, p->filter);
    return SB_OK;
}

static void z2m_destroy(void *inst)
{
    z2m_prov *p = inst;
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    sb_z2m_registry_free(p->reg);
    free(p);
}

static sb_err z2m_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    z2m_prov *p = inst;
    if (!p->bus)
        return sb_fail(em, SB_ERR_CLOSED, "mqtt: the link is not open");
    sb_z2m_command cmd;
    pthread_mutex_lock(&p->mu);
    sb_err rc = sb_z2m_command_build(&p->map, p->reg, m, &cmd, em);
    pthread_mutex_unlock(&p->mu);
    if (rc != SB_OK)
        return rc;
    size_t len = strlen(cmd.payload);
    sb_bus *bus = p->bus;
    rc = bus ? sb_bus_publish(bus, cmd.topic, cmd.payload, len, (int)p->o->qos, false)
             : SB_ERR_CLOSED;
    if (rc != SB_OK) {
        atomic_fetch_add(&p->write_errors, 1);
        sb_fail(em, rc, "mqtt: cannot publish to %s", cmd.topic);
    } else {
        sb_gateway_raw_publish(p->host, false, cmd.topic, cmd.payload, len);
        atomic_fetch_add(&p->out, 1);
    }
    free(cmd.payload);
    return rc;
}

#define STAT(name, field) cJSON_AddNumberToObject(obj, name, (double)atomic_load(&p->field))

static void z2m_stats(void *inst, cJSON *obj)
{
    z2m_prov *p = inst;
    STAT("publishesIn", in);
    STAT("commandsOut", out);
    STAT("malformed", malformed);
    STAT("skipped", skipped);
    STAT("writeErrors", write_errors);
    STAT("devices", devices);
}

const sb_gateway_plugin sb_gateway_plugin_zigbee2mqtt = {
    .info = {.name = "zigbee2mqtt",
             .version = "1",
             .description = "Zigbee devices and groups behind a Zigbee2MQTT bridge",
             .options = z2m_table},
    .options_size = sizeof(z2m_opts),
    .caps = 0,
    .create = z2m_create,
    .start = z2m_start,
    .send = z2m_send,
    .stop = z2m_stop,
    .destroy = z2m_destroy,
    .stats = z2m_stats,
};
