/*
 * api.c - the API service: opens the store and the service's bus connection, prepares the
 * signing key and the first admin, then runs the HTTP server until stop.
 */
#include <stdlib.h>

#include "api.h"
#include "storage/metrics.h"
#include "ws.h"

static void stats_fn(void *ctx, cJSON *stats)
{
    api *a = ctx;
    cJSON *o = cJSON_AddObjectToObject(stats, "api");
    if (!o)
        return;
    cJSON_AddNumberToObject(o, "requests", (double)atomic_load(&a->requests));
    cJSON_AddNumberToObject(o, "errors", (double)atomic_load(&a->errors));
    cJSON *h = sb_histo_json(&a->request_ms);
    if (h)
        cJSON_AddItemToObject(o, "requestLatency", h);
    pthread_mutex_lock(&a->hub->mu);
    cJSON_AddNumberToObject(o, "wsClients", (double)a->hub->n_clients);
    pthread_mutex_unlock(&a->hub->mu);
    cJSON_AddNumberToObject(o, "wsOverflows", (double)atomic_load(&a->hub->overflows));
    cJSON_AddNumberToObject(o, "wsKicked", (double)atomic_load(&a->hub->kicked));
}

/* Events for websocket clients. QoS 0: they are live updates, and the broker must not queue
 * them for the API's persistent session while it is down. */
static sb_err subscribe_events(api *a, sb_errmsg *em)
{
    char topic[256];
    sb_err rc = sb_bus_topic(a->bus, topic, sizeof(topic), "event/#");
    return rc ? rc : sb_bus_subscribe(a->bus, topic, 0, ws_hub_on_event, a->hub, em);
}

static void api_free(api *a)
{
    sb_service_close(a->svc, 2000);
    api_system_close(a); /* after the bus: its handler writes the book */
    api_throttle_close(a);
    sb_store_close(a->store);
    sb_metrics_close(a->metrics, 0);
    ws_hub_free(a->hub);
    pthread_mutex_destroy(&a->backup_mu);
    pthread_mutex_destroy(&a->firmware_mu);
    free(a);
}

int sb_api_run_with(const sb_config *cfg, sb_stop_flag *stop, const sb_api_hooks *hooks)
{
    api *a = calloc(1, sizeof(*a));
    if (!a)
        return 1;
    a->cfg = cfg;
    pthread_mutex_init(&a->backup_mu, NULL);
    pthread_mutex_init(&a->firmware_mu, NULL);
    sb_logger_init(&a->log, "%s", "http");
    sb_errmsg em = {{0}};
    a->hub = ws_hub_new();
    if (!a->hub) {
        pthread_mutex_destroy(&a->backup_mu);
        pthread_mutex_destroy(&a->firmware_mu);
        free(a);
        return 1;
    }
    sb_err rc = sb_store_open(cfg, &a->store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(&a->log, "%s", em.text);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "api", stats_fn, a, &a->svc, &em);
    if (rc == SB_OK) {
        a->bus = sb_service_bus(a->svc);
        rc = api_auth_init(a, &em);
    }
    if (rc == SB_OK)
        rc = subscribe_events(a, &em);
    if (rc == SB_OK)
        rc = api_action_subscribe(a, &em);
    if (rc == SB_OK)
        rc = api_system_open(a, &em);
    if (rc == SB_OK && (rc = api_throttle_open(a)) != SB_OK)
        sb_fail(&em, rc, "out of memory");
    if (rc == SB_OK) {
        api_metric_open(a);
        api_secrets_seal_stored(a);
    }
    if (rc != SB_OK) {
        sb_error(&a->log, "cannot start: %s", sb_errmsg_str(&em, rc));
        api_free(a);
        return 1;
    }
    int code = api_http_run(a, stop, hooks);
    sb_info(&a->log, "stopping");
    api_free(a);
    return code;
}

int sb_api_run(const sb_config *cfg, sb_stop_flag *stop)
{
    return sb_api_run_with(cfg, stop, NULL);
}

const sb_service_def sb_service_api = {
    .name = "api",
    .description = "the HTTP API and websocket: entities, users, login tokens, live events",
    .run = sb_api_run,
};
