/*
 * handler.c - the handler service: bus subscriptions, the main loop and the stats (handler.h).
 *
 * Bus handlers run on the bus delivery thread and never block: a handler call is parsed and
 * posted to its handler's queue; events and ctl requests are queued for the main thread, which
 * does every start, stop and reload.
 */
#include "services/handler/handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"
#include "services/handler/service_priv.h"

static const char *topic_tail(const char *topic)
{
    const char *slash = strrchr(topic, '/');
    return slash ? slash + 1 : topic;
}

/* <p>/handler/<id>: a call for one handler. */
static void on_call(void *ctx, const sb_bus_msg *bm)
{
    hd_service *s = ctx;
    const char *id = topic_tail(bm->topic);
    hd_job *j = calloc(1, sizeof(*j));
    if (j)
        j->received_us = sb_time_mono_us();
    sb_errmsg em = {{0}};
    sb_err rc = j ? sb_handler_call_parse(bm->payload, bm->len, &j->call, &em) : SB_ERR_NOMEM;
    if (rc == SB_OK && strcmp(j->call.id, id) != 0)
        rc = sb_fail(&em, SB_ERR_INVALID, "id '%.64s' differs from the topic's", j->call.id);
    if (rc != SB_OK) {
        atomic_fetch_add(&s->malformed, 1);
        sb_warn(NULL, "%s: malformed handler call dropped: %s", bm->topic, sb_errmsg_str(&em, rc));
        if (j)
            sb_handler_call_free(&j->call);
        free(j);
        return;
    }
    pthread_mutex_lock(&s->mu);
    hd_runner *r = NULL;
    for (size_t i = 0; i < s->n_runners && !r; i++)
        if (strcmp(hd_runner_id(s->runners[i]), id) == 0)
            r = s->runners[i];
    rc = r ? hd_runner_post(r, j) : hd_park(s, id, j) ? SB_OK : SB_ERR_NOTFOUND;
    pthread_mutex_unlock(&s->mu);
    if (rc == SB_ERR_FULL)
        sb_warn(NULL, "handler '%s': queue full, call dropped", id);
    if (rc == SB_ERR_NOTFOUND) {
        atomic_fetch_add(&s->unknown, 1);
        sb_debug(NULL, "%s: handler '%s' does not run here; call ignored", bm->topic, id);
        hd_job_free(j);
    }
}

/* <p>/event/handler/<id> or a batch on <p>/event/handler: reload the handlers named. */
static void on_event(void *ctx, const sb_bus_msg *bm)
{
    hd_service *s = ctx;
    sb_event *ev = NULL;
    size_t n = 0;
    sb_ctl_req *r = sb_ctl_for(NULL, false);
    if (!r || !(r->ids = cJSON_CreateArray())) {
        sb_ctl_free(r);
        return;
    }
    if (sb_event_parse(bm->payload, bm->len, &ev, &n, NULL) == SB_OK) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(ev[i].entity_type, "handler") == 0)
                cJSON_AddItemToArray(r->ids, cJSON_CreateString(ev[i].entity_id));
        sb_event_free_all(ev, n);
    } else if (strcmp(topic_tail(bm->topic), "handler") != 0) {
        cJSON_AddItemToArray(r->ids, cJSON_CreateString(topic_tail(bm->topic)));
    }
    if (cJSON_GetArraySize(r->ids) > 0)
        sb_ctl_push(&s->ctl, r);
    else
        sb_ctl_free(r);
}

/* <p>/ctl/handler/reload {"id":"h1"} | {"ids":[...]} | {} (all), with a reply. */
static void on_ctl_reload(void *ctx, const sb_bus_msg *bm)
{
    hd_service *s = ctx;
    sb_ctl_push(&s->ctl, sb_ctl_from_msg(bm));
}

static void reload_all(void *ctx, bool force, cJSON *results)
{
    hd_reload_all(ctx, force, results);
}

static void reload_one(void *ctx, const char *id, bool force, cJSON *results)
{
    hd_reload_one(ctx, id, force, results);
}

static void run_ctl(hd_service *s, sb_ctl_req *r)
{
    sb_ctl_run(s->env.bus, r, reload_all, reload_one, s);
}

static void add_stats(void *ctx, cJSON *stats)
{
    hd_service *s = ctx;
    cJSON_AddNumberToObject(stats, "malformedCalls", (double)atomic_load(&s->malformed));
    cJSON_AddNumberToObject(stats, "unknownCalls", (double)atomic_load(&s->unknown));
    cJSON *hs = cJSON_AddObjectToObject(stats, "handlers");
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; hs && i < s->n_runners; i++)
        hd_runner_stats(s->runners[i], hs);
    pthread_mutex_unlock(&s->mu);
}

static sb_err subscribe(hd_service *s, const char *what, sb_bus_handler fn, sb_errmsg *em)
{
    char topic[512];
    sb_err rc = sb_bus_topic(s->env.bus, topic, sizeof(topic), "%s", what);
    return rc ? rc : sb_bus_subscribe(s->env.bus, topic, 1, fn, s, em);
}

int sb_handler_run(const sb_config *cfg, sb_stop_flag *stop)
{
    hd_service s = {.env = {.cfg = cfg}};
    pthread_mutex_init(&s.mu, NULL);
    sb_ctl_queue_init(&s.ctl);
    sb_service *svc = NULL;
    sb_errmsg em = {{0}};
    int code = 1;
    sb_err rc = sb_store_open(cfg, &s.env.store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(NULL, "store: %s", em.text);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "handler", add_stats, &s, &svc, &em);
    if (rc == SB_OK) {
        s.env.bus = sb_service_bus(svc);
        rc = subscribe(&s, "event/handler/#", on_event, &em);
    }
    if (rc == SB_OK)
        rc = subscribe(&s, "ctl/handler/reload", on_ctl_reload, &em);
    if (rc == SB_OK) { /* calls last, once their handlers run: none is dropped as unknown */
        hd_reload_all(&s, false, NULL);
        rc = subscribe(&s, "handler/+", on_call, &em);
    }
    if (rc != SB_OK) {
        sb_error(NULL, "%s", sb_errmsg_str(&em, rc));
        goto done;
    }
    while (!sb_stop_raised(stop)) { /* the stop flag has its own condition: look every 100 ms */
        sb_ctl_req *r = sb_ctl_next(&s.ctl, 100);
        if (r)
            run_ctl(&s, r);
        sb_ctl_free(r);
    }
    code = 0;
done:
    hd_stop_all(&s);
    sb_service_close(svc, 2000); /* no bus handler runs after this */
    sb_ctl_queue_destroy(&s.ctl);
    sb_store_close(s.env.store);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_handler = {
    .name = "handler",
    .description = "carries out handler calls: webhooks, email, telegram, mqtt, resources...",
    .run = sb_handler_run,
};
