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
    sb_gateway_mqtt_opts mqtt;
    char *base_topic;
    bool attribute_topics;
} z2m_opts;

static const sb_option z2m_table[] = {
    SB_GATEWAY_MQTT_ROWS(z2m_opts, mqtt),
    SB_OPT_ROW_STR(z2m_opts, base_topic, "baseTopic", "zigbee2mqtt",
                   "Zigbee2MQTT's mqtt.base_topic (one or more levels, no wildcards)"),
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
    sb_gateway_mqtt_counters c;
    atomic_uint_fast64_t devices;
} z2m_prov;

static void on_publish(void *ctx, const sb_bus_msg *bm)
{
    z2m_prov *p = ctx;
    atomic_fetch_add(&p->c.in, 1);
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
    if (r.ignored && !r.out.n) {
        sb_z2m_result_free(&r);
        return; /* our own /set, the bridge's logs: not device data */
    }
    sb_gateway_raw_publish(p->host, true, bm->topic, bm->payload, bm->len);
    atomic_fetch_add(&p->c.skipped, r.out.skipped);
    if (r.registry_changed)
        sb_info(p->host->log, "%s: %zu devices and groups known", bm->topic,
                (size_t)atomic_load(&p->devices));
    if (r.out.skipped && !r.out.n) { /* a publish dropped as a whole is a warning */
        atomic_fetch_add(&p->c.malformed, 1);
        for (size_t i = 0; i < r.out.n_notes; i++)
            sb_warn(p->host->log, "%s: %s", bm->topic, r.out.notes[i]);
    } else {
        sb_gateway_deliver(p->host, bm->topic, r.out.msgs, r.out.n, r.out.notes, r.out.n_notes);
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
    sb_gateway_mqtt_close(&p->bus);
}

static sb_err z2m_start(void *inst, sb_errmsg *em)
{
    z2m_prov *p = inst;
    const char *f[1] = {p->filter};
    sb_err rc = sb_gateway_mqtt_open(p->host, "zigbee2mqtt", &p->o->mqtt, &p->buscfg, f, 1,
                                     on_publish, p, &p->bus, em);
    if (rc != SB_OK)
        return rc;
    sb_info(p->host->log, "link open: mqtt %s, %s", p->o->mqtt.url, p->filter);
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
    rc = sb_gateway_mqtt_send(p->host, p->bus, cmd.topic, cmd.payload, (int)p->o->mqtt.qos, false);
    atomic_fetch_add(rc == SB_OK ? &p->c.out : &p->c.write_errors, 1);
    if (rc != SB_OK)
        sb_fail(em, rc, "mqtt: cannot publish to %s", cmd.topic);
    free(cmd.payload);
    return rc;
}

static void z2m_stats(void *inst, cJSON *obj)
{
    z2m_prov *p = inst;
    sb_gateway_mqtt_stats(&p->c, obj);
    cJSON_AddNumberToObject(obj, "devices", (double)atomic_load(&p->devices));
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
