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

static void ctl_free(hd_ctl *c)
{
    if (!c)
        return;
    cJSON_Delete(c->ids);
    free(c->reply);
    free(c->corr);
    free(c);
}

static void ctl_push(hd_service *s, hd_ctl *c)
{
    pthread_mutex_lock(&s->mu);
    if (s->ctl_tail)
        s->ctl_tail->next = c;
    else
        s->ctl_head = c;
    s->ctl_tail = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The next request, waiting up to 100 ms for one (the stop flag has its own condition). */
static hd_ctl *ctl_next(hd_service *s)
{
    pthread_mutex_lock(&s->mu);
    if (!s->ctl_head) {
        struct timespec ts;
        sb_time_mono_deadline(100, &ts);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    hd_ctl *c = s->ctl_head;
    if (c) {
        s->ctl_head = c->next;
        if (!s->ctl_head)
            s->ctl_tail = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return c;
}

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

static hd_ctl *ctl_new(bool force)
{
    hd_ctl *c = calloc(1, sizeof(*c));
    if (c && !(c->ids = cJSON_CreateArray())) {
        free(c);
        return NULL;
    }
    if (c)
        c->force = force;
    return c;
}

/* <p>/event/handler/<id> or a batch on <p>/event/handler: reload the handlers named. */
static void on_event(void *ctx, const sb_bus_msg *bm)
{
    sb_event *ev = NULL;
    size_t n = 0;
    hd_ctl *c = ctl_new(false);
    if (!c)
        return;
    if (sb_event_parse(bm->payload, bm->len, &ev, &n, NULL) == SB_OK) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(ev[i].entity_type, "handler") == 0)
                cJSON_AddItemToArray(c->ids, cJSON_CreateString(ev[i].entity_id));
        sb_event_free_all(ev, n);
    } else if (strcmp(topic_tail(bm->topic), "handler") != 0) {
        cJSON_AddItemToArray(c->ids, cJSON_CreateString(topic_tail(bm->topic)));
    }
    if (cJSON_GetArraySize(c->ids) > 0)
        ctl_push(ctx, c);
    else
        ctl_free(c);
}

/* <p>/ctl/handler/reload {"id":"h1"} | {"ids":[...]} | {} (all), with a reply. */
static void on_ctl_reload(void *ctx, const sb_bus_msg *bm)
{
    cJSON *req = NULL;
    if (bm->len)
        sb_json_parse(bm->payload, bm->len, &req, NULL);
    hd_ctl *c = ctl_new(true);
    const char *id = sb_json_str(req, "id", NULL);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids");
    if (c && id) {
        cJSON_AddItemToArray(c->ids, cJSON_CreateString(id));
    } else if (c) {
        cJSON_Delete(c->ids);
        c->ids = cJSON_IsArray(ids) ? cJSON_Duplicate(ids, 1) : NULL;
    }
    if (c && bm->response_topic) {
        c->reply = strdup(bm->response_topic);
        if (bm->correlation && (c->corr = malloc(bm->correlation_len))) {
            memcpy(c->corr, bm->correlation, bm->correlation_len);
            c->corr_len = bm->correlation_len;
        }
    }
    cJSON_Delete(req);
    if (c)
        ctl_push(ctx, c);
}

static void run_ctl(hd_service *s, hd_ctl *c)
{
    cJSON *results = cJSON_CreateObject();
    if (!c->ids) {
        hd_reload_all(s, c->force, results);
    } else {
        const cJSON *id;
        cJSON_ArrayForEach(id, c->ids)
        {
            if (cJSON_IsString(id))
                hd_reload_one(s, id->valuestring, c->force, results);
        }
    }
    if (c->reply) {
        cJSON *reply = cJSON_CreateObject();
        if (reply && cJSON_AddItemToObject(reply, "results", results))
            results = NULL;
        char *text = sb_json_print(reply);
        sb_bus_msg req = {
            .response_topic = c->reply, .correlation = c->corr, .correlation_len = c->corr_len};
        if (text)
            sb_bus_reply(s->env.bus, &req, text, strlen(text));
        free(text);
        cJSON_Delete(reply);
    }
    cJSON_Delete(results);
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
    sb_time_cond_init(&s.cv);
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
    while (!sb_stop_raised(stop)) {
        hd_ctl *c = ctl_next(&s);
        if (c)
            run_ctl(&s, c);
        ctl_free(c);
    }
    code = 0;
done:
    hd_stop_all(&s);
    for (hd_ctl *c; (c = ctl_next(&s));)
        ctl_free(c);
    sb_service_close(svc, 2000);
    sb_store_close(s.env.store);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_handler = {
    .name = "handler",
    .description = "carries out handler calls: webhooks, email, telegram, mqtt, resources...",
    .run = sb_handler_run,
};
