/*
 * generic_mqtt.c - the generic MQTT gateway provider: an MQTT client of a broker where devices
 * publish JSON (or plain values) on topics the user describes with mappings (gm_map.h,
 * docs/gateways/generic_mqtt.md). It subscribes to every mapping's topic filter (minus those
 * another filter covers, so the broker sends each publish once), maps each publish and renders
 * the mapping's write templates for sets.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/options.h"
#include "gateways/generic_mqtt/gm_map.h"
#include "gateways/provider.h"

typedef struct gm_opts {
    sb_gateway_mqtt_opts mqtt;
    cJSON *mappings; /* the raw "mappings" list (plugin raw_key) */
} gm_opts;

static const sb_option gm_table[] = {
    SB_GATEWAY_MQTT_ROWS(gm_opts, mqtt),
    SB_OPT_END,
};

typedef struct gm_prov {
    const sb_gateway_host *host;
    const gm_opts *o;
    sb_gm_config *cfg;
    const char **filters; /* borrowed from cfg */
    size_t n_filters;
    sb_bus *bus;
    sb_config_bus buscfg;
    pthread_mutex_t mu; /* routes */
    sb_gm_routes *routes;
    atomic_uint_fast64_t in, out, unmatched, skipped, write_errors;
} gm_prov;

/* Whether filter b receives every topic filter a receives. */
static bool covers(const char *b, const char *a)
{
    size_t la = strlen(a), lb = strlen(b);
    bool a_rest = la && a[la - 1] == '#', b_rest = lb && b[lb - 1] == '#';
    return (!a_rest || b_rest) && sb_topic_matches(b, a);
}

/* The filters to subscribe: each mapping's, unless an earlier one (or a later one that is not
 * the same) covers it. */
static sb_err make_filters(gm_prov *p, sb_errmsg *em)
{
    size_t n = 0;
    while (sb_gm_filter(p->cfg, n))
        n++;
    if (!(p->filters = calloc(n, sizeof(*p->filters))))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *f = sb_gm_filter(p->cfg, i);
        bool covered = false;
        for (size_t k = 0; k < n && !covered; k++) {
            const char *g = sb_gm_filter(p->cfg, k);
            covered = k != i && covers(g, f) && (strcmp(g, f) != 0 || k < i);
        }
        if (!covered)
            p->filters[p->n_filters++] = f;
    }
    return SB_OK;
}

static void on_publish(void *ctx, const sb_bus_msg *bm)
{
    gm_prov *p = ctx;
    atomic_fetch_add(&p->in, 1);
    sb_gateway_raw_publish(p->host, true, bm->topic, bm->payload, bm->len);
    sb_gm_result r;
    pthread_mutex_lock(&p->mu);
    sb_err rc =
        sb_gm_map(p->cfg, p->routes, p->host->gateway_id, bm->topic, bm->payload, bm->len, &r);
    pthread_mutex_unlock(&p->mu);
    if (rc != SB_OK) {
        sb_error(p->host->log, "%s: out of memory", bm->topic);
        return;
    }
    if (!r.matched)
        atomic_fetch_add(&p->unmatched, 1);
    atomic_fetch_add(&p->skipped, r.out.skipped);
    sb_gateway_deliver(p->host, bm->topic, r.out.msgs, r.out.n, r.out.notes, r.out.n_notes);
    sb_gm_result_free(&r);
}

static void gm_destroy(void *inst)
{
    gm_prov *p = inst;
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    sb_gm_routes_free(p->routes);
    free(p->filters);
    sb_gm_config_free(p->cfg);
    free(p);
}

static sb_err gm_create(const sb_gateway_host *host, const void *options, void **out, sb_errmsg *em)
{
    gm_prov *p = calloc(1, sizeof(*p));
    if (!p || !(p->routes = sb_gm_routes_new())) {
        free(p);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    p->host = host;
    p->o = options;
    sb_err rc = sb_gm_config_parse(p->o->mappings, &p->cfg, em);
    if (rc == SB_OK)
        rc = make_filters(p, em);
    if (rc != SB_OK) {
        gm_destroy(p);
        return rc;
    }
    *out = p;
    return SB_OK;
}

static void gm_stop(void *inst)
{
    gm_prov *p = inst;
    sb_gateway_mqtt_close(&p->bus);
}

static sb_err gm_start(void *inst, sb_errmsg *em)
{
    gm_prov *p = inst;
    sb_err rc = sb_gateway_mqtt_open(p->host, "generic_mqtt", &p->o->mqtt, &p->buscfg, p->filters,
                                     p->n_filters, on_publish, p, &p->bus, em);
    if (rc != SB_OK)
        return rc;
    sb_info(p->host->log, "link open: mqtt %s, %zu topic filters", p->o->mqtt.url, p->n_filters);
    return SB_OK;
}

static sb_err gm_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    gm_prov *p = inst;
    if (!p->bus)
        return sb_fail(em, SB_ERR_CLOSED, "mqtt: the link is not open");
    sb_err rc = SB_OK;
    for (size_t i = 0; rc == SB_OK && i < m->n_payloads; i++) {
        char *topic = NULL, *payload = NULL;
        bool retain = false;
        pthread_mutex_lock(&p->mu);
        rc = sb_gm_command(p->cfg, p->routes, m, i, &topic, &payload, &retain, em);
        pthread_mutex_unlock(&p->mu);
        if (rc == SB_OK) {
            rc = sb_gateway_mqtt_send(p->host, p->bus, topic, payload, (int)p->o->mqtt.qos, retain);
            if (rc != SB_OK)
                sb_fail(em, rc, "mqtt: cannot publish to %s", topic);
            atomic_fetch_add(rc == SB_OK ? &p->out : &p->write_errors, 1);
        }
        free(topic);
        free(payload);
    }
    return rc;
}

#define STAT(name, field) cJSON_AddNumberToObject(obj, name, (double)atomic_load(&p->field))

static void gm_stats(void *inst, cJSON *obj)
{
    gm_prov *p = inst;
    STAT("publishesIn", in);
    STAT("writesOut", out);
    STAT("unmatched", unmatched);
    STAT("skipped", skipped);
    STAT("writeErrors", write_errors);
}

const sb_gateway_plugin sb_gateway_plugin_generic_mqtt = {
    .info = {.name = "generic_mqtt",
             .version = "1",
             .description = "any device publishing JSON over MQTT, through configured mappings",
             .options = gm_table},
    .options_size = sizeof(gm_opts),
    .caps = 0,
    .create = gm_create,
    .start = gm_start,
    .send = gm_send,
    .stop = gm_stop,
    .destroy = gm_destroy,
    .raw_key = "mappings",
    .raw_offset = offsetof(gm_opts, mappings),
    .stats = gm_stats,
};
