/*
 * esphome.c - the ESPHome gateway provider: an MQTT client of the broker the devices use. It
 * subscribes to the Home Assistant discovery configs (for names, units and limits), then to the
 * status and state topics under every configured topic prefix, maps each publish with
 * esph_map.h and sends writes as the entity's command topic (docs/gateways/esphome.md).
 *
 * ESPHome retains its discovery configs, states and status, so a (re)subscription brings the
 * whole picture; the discovery filters are subscribed first so their retained configs arrive
 * before the states they describe.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/options.h"
#include "gateways/esphome/esph_map.h"
#include "gateways/provider.h"

typedef struct esph_opts {
    sb_gateway_mqtt_opts mqtt;
    char *discovery_prefix;
    sb_strlist prefixes;
    bool discovery;
} esph_opts;

static const sb_option esph_table[] = {
    SB_GATEWAY_MQTT_ROWS(esph_opts, mqtt),
    SB_OPT_ROW_LIST(esph_opts, prefixes, "topicPrefixes", "+",
                    "the devices' topic_prefix values; '+' = any one-level prefix"),
    SB_OPT_ROW_BOOL(esph_opts, discovery, "discovery", "true",
                    "read Home Assistant discovery configs for names, units and limits"),
    SB_OPT_ROW_STR(esph_opts, discovery_prefix, "discoveryPrefix", "homeassistant",
                   "the devices' discovery_prefix"),
    SB_OPT_END,
};

#define FILTERS_MAX 64

typedef struct esph_prov {
    const sb_gateway_host *host;
    const esph_opts *o;
    sb_esph_opts map;
    sb_bus *bus;
    sb_config_bus buscfg;
    char filters[FILTERS_MAX][SB_ESPH_TOPIC_MAX];
    size_t n_filters;
    pthread_mutex_t mu; /* reg */
    sb_esph_registry *reg;
    sb_gateway_mqtt_counters c;
} esph_prov;

static sb_err add_filter(esph_prov *p, const char *base, const char *tail, sb_errmsg *em)
{
    if (p->n_filters == FILTERS_MAX)
        return sb_fail(em, SB_ERR_INVALID, "provider.topicPrefixes: more than %d prefixes",
                       (FILTERS_MAX - 2) / 3);
    int n = snprintf(p->filters[p->n_filters], SB_ESPH_TOPIC_MAX, "%s/%s", base, tail);
    if (n < 0 || n >= SB_ESPH_TOPIC_MAX)
        return sb_fail(em, SB_ERR_INVALID, "provider: topic filter '%s/%s' too long", base, tail);
    p->n_filters++;
    return SB_OK;
}

static sb_err make_filters(esph_prov *p, sb_errmsg *em)
{
    const esph_opts *o = p->o;
    sb_err rc = SB_OK;
    if (o->discovery) {
        if (!*o->discovery_prefix || strpbrk(o->discovery_prefix, "+#"))
            return sb_fail(em, SB_ERR_INVALID, "provider.discoveryPrefix: empty or a wildcard");
        rc = add_filter(p, o->discovery_prefix, "+/+/config", em);
        if (rc == SB_OK)
            rc = add_filter(p, o->discovery_prefix, "+/+/+/config", em);
    }
    if (rc == SB_OK && o->prefixes.n == 0)
        return sb_fail(em, SB_ERR_INVALID, "provider.topicPrefixes: empty");
    for (size_t i = 0; rc == SB_OK && i < o->prefixes.n; i++) {
        const char *pre = o->prefixes.items[i];
        size_t n = strlen(pre);
        if (!n || strchr(pre, '#') || pre[0] == '/' || pre[n - 1] == '/')
            return sb_fail(em, SB_ERR_INVALID,
                           "provider.topicPrefixes: '%s' is empty, has '#' or a leading or "
                           "trailing '/'",
                           pre);
        rc = add_filter(p, pre, "status", em);
        if (rc == SB_OK)
            rc = add_filter(p, pre, "+/+/state", em);
        if (rc == SB_OK)
            rc = add_filter(p, pre, "+/+/+/state", em);
    }
    return rc;
}

static sb_err publish(esph_prov *p, const char *topic, const char *value)
{
    sb_err rc = sb_gateway_mqtt_send(p->host, p->bus, topic, value, (int)p->o->mqtt.qos, false);
    atomic_fetch_add(rc == SB_OK ? &p->c.out : &p->c.write_errors, 1);
    return rc;
}

static void on_publish(void *ctx, const sb_bus_msg *bm)
{
    esph_prov *p = ctx;
    atomic_fetch_add(&p->c.in, 1);
    sb_gateway_raw_publish(p->host, true, bm->topic, bm->payload, bm->len);
    sb_esph_topic t;
    sb_errmsg em = {{0}};
    if (sb_esph_topic_parse(p->map.discovery_prefix, bm->topic, &t, &em) != SB_OK) {
        atomic_fetch_add(&p->c.malformed, 1);
        sb_debug(p->host->log, "topic skipped: %s", em.text);
        return;
    }
    sb_esph_result r;
    pthread_mutex_lock(&p->mu);
    sb_err rc = sb_esph_map(&p->map, p->reg, &t, bm->payload, bm->len, &r);
    pthread_mutex_unlock(&p->mu);
    if (rc != SB_OK) {
        sb_error(p->host->log, "%s: out of memory", bm->topic);
        return;
    }
    atomic_fetch_add(&p->c.skipped, r.out.skipped);
    sb_gateway_deliver(p->host, bm->topic, r.out.msgs, r.out.n, r.out.notes, r.out.n_notes);
    sb_esph_result_free(&r);
}

static void esph_destroy(void *inst)
{
    esph_prov *p = inst;
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    sb_esph_registry_free(p->reg);
    free(p);
}

static sb_err esph_create(const sb_gateway_host *host, const void *options, void **out,
                          sb_errmsg *em)
{
    esph_prov *p = calloc(1, sizeof(*p));
    if (!p || !(p->reg = sb_esph_registry_new())) {
        free(p);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    p->host = host;
    p->o = options;
    p->map =
        (sb_esph_opts){.gateway_id = host->gateway_id, .discovery_prefix = p->o->discovery_prefix};
    sb_err rc = make_filters(p, em);
    if (rc != SB_OK) {
        esph_destroy(p);
        return rc;
    }
    *out = p;
    return SB_OK;
}

static void esph_stop(void *inst)
{
    esph_prov *p = inst;
    sb_gateway_mqtt_close(&p->bus);
}

static sb_err esph_start(void *inst, sb_errmsg *em)
{
    esph_prov *p = inst;
    const char *f[FILTERS_MAX];
    for (size_t i = 0; i < p->n_filters; i++)
        f[i] = p->filters[i];
    sb_err rc = sb_gateway_mqtt_open(p->host, "esphome", &p->o->mqtt, &p->buscfg, f, p->n_filters,
                                     on_publish, p, &p->bus, em);
    if (rc != SB_OK)
        return rc;
    sb_info(p->host->log, "link open: mqtt %s, %zu topic filters", p->o->mqtt.url, p->n_filters);
    return SB_OK;
}

static sb_err esph_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    esph_prov *p = inst;
    if (!p->bus)
        return sb_fail(em, SB_ERR_CLOSED, "mqtt: the link is not open");
    sb_err rc = SB_OK;
    for (size_t i = 0; rc == SB_OK && i < m->n_payloads; i++) {
        char topic[SB_ESPH_TOPIC_MAX + 64], value[512];
        pthread_mutex_lock(&p->mu);
        rc = sb_esph_command(p->reg, m, i, topic, sizeof(topic), value, sizeof(value), em);
        pthread_mutex_unlock(&p->mu);
        if (rc == SB_OK && (rc = publish(p, topic, value)) != SB_OK)
            sb_fail(em, rc, "mqtt: cannot publish to %s", topic);
    }
    return rc;
}

static void esph_stats(void *inst, cJSON *obj)
{
    esph_prov *p = inst;
    sb_gateway_mqtt_stats(&p->c, obj);
    pthread_mutex_lock(&p->mu);
    size_t entities = sb_esph_registry_count(p->reg);
    pthread_mutex_unlock(&p->mu);
    cJSON_AddNumberToObject(obj, "entities", (double)entities);
}

const sb_gateway_plugin sb_gateway_plugin_esphome = {
    .info = {.name = "esphome",
             .version = "1",
             .description = "ESPHome devices over MQTT (states, commands, status, HA discovery)",
             .options = esph_table},
    .options_size = sizeof(esph_opts),
    .caps = 0,
    .create = esph_create,
    .start = esph_start,
    .send = esph_send,
    .stop = esph_stop,
    .destroy = esph_destroy,
    .stats = esph_stats,
};
