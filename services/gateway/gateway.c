/*
 * gateway.c - the gateway service: bus subscriptions and the main loop (gateway.h).
 *
 * Bus handlers run on the bus delivery thread and never block on a device: msg/out frames are
 * posted to the runner's queue, events and ctl requests are queued for the main thread, which
 * does every start, stop and reload.
 */
#include "services/gateway/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/time.h"
#include "services/gateway/service_priv.h"

static void ctl_free(gw_ctl *c)
{
    if (!c)
        return;
    cJSON_Delete(c->ids);
    free(c->reply);
    free(c->corr);
    free(c);
}

static void ctl_push(gw_service *s, gw_ctl *c)
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

static gw_ctl *ctl_pop(gw_service *s)
{
    gw_ctl *c = s->ctl_head;
    if (c) {
        s->ctl_head = c->next;
        if (!s->ctl_head)
            s->ctl_tail = NULL;
    }
    return c;
}

/* The last topic level, e.g. the gateway id of <p>/msg/out/<id>. */
static const char *topic_tail(const char *topic)
{
    const char *slash = strrchr(topic, '/');
    return slash ? slash + 1 : topic;
}

static void on_msg_out(void *ctx, const sb_bus_msg *bm)
{
    gw_service *s = ctx;
    const char *id = topic_tail(bm->topic);
    sb_msg_batch batch = {0};
    sb_errmsg em = {{0}};
    sb_err rc = sb_msg_decode_batch(bm->payload, bm->len, &batch, &em);
    if (rc != SB_OK || batch.rejected)
        sb_warn(NULL, "%s: malformed message%s dropped: %s", bm->topic, rc == SB_OK ? "s" : "",
                sb_errmsg_str(&em, rc ? rc : SB_ERR_INVALID));
    pthread_mutex_lock(&s->mu);
    gw_runner *r = NULL;
    for (size_t i = 0; i < s->n_runners && !r; i++)
        if (strcmp(gw_runner_doc(s->runners[i])->id, id) == 0)
            r = s->runners[i];
    for (size_t i = 0; r && i < batch.n; i++) {
        gw_runner_post(r, batch.msgs[i]);
        batch.msgs[i] = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (!r && batch.n)
        sb_debug(NULL, "%s: gateway '%s' does not run here; %zu messages ignored", bm->topic, id,
                 batch.n);
    sb_msg_batch_free(&batch);
}

static gw_ctl *ctl_for(const char *id, bool force)
{
    gw_ctl *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->force = force;
    if (id && (!(c->ids = cJSON_CreateArray()) ||
               !cJSON_AddItemToArray(c->ids, cJSON_CreateString(id)))) {
        ctl_free(c);
        return NULL;
    }
    return c;
}

/* <p>/event/gateway/<id>: the API changed or deleted a gateway (or our own state event). */
static void on_event(void *ctx, const sb_bus_msg *bm)
{
    gw_ctl *c = ctl_for(topic_tail(bm->topic), false);
    if (c)
        ctl_push(ctx, c);
}

/* <p>/ctl/gateway/reload {"id":"gw1"} | {"ids":[...]} | {} (all), with a reply. */
static void on_ctl_reload(void *ctx, const sb_bus_msg *bm)
{
    cJSON *req = NULL;
    if (bm->len)
        sb_json_parse(bm->payload, bm->len, &req, NULL);
    const char *id = sb_json_str(req, "id", NULL);
    gw_ctl *c = ctl_for(id, true);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids");
    if (c && !id && cJSON_IsArray(ids))
        c->ids = cJSON_Duplicate(ids, 1);
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

static void run_ctl(gw_service *s, gw_ctl *c)
{
    cJSON *results = cJSON_CreateObject();
    if (!c->ids) {
        gw_reload_all(s, c->force, results);
    } else {
        const cJSON *id;
        cJSON_ArrayForEach(id, c->ids)
        {
            if (cJSON_IsString(id))
                gw_reload_one(s, id->valuestring, c->force, results);
        }
    }
    if (c->reply) {
        cJSON *reply = cJSON_CreateObject();
        cJSON_AddItemToObject(reply, "results", results);
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
    gw_service *s = ctx;
    cJSON *gws = cJSON_AddObjectToObject(stats, "gateways");
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; gws && i < s->n_runners; i++)
        gw_runner_stats(s->runners[i], gws);
    pthread_mutex_unlock(&s->mu);
}

static sb_err subscribe_all(gw_service *s, sb_errmsg *em)
{
    char topic[512];
    sb_bus *bus = s->env.bus;
    sb_err rc = sb_bus_topic(bus, topic, sizeof(topic), "msg/out/+");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(bus, topic, 1, on_msg_out, s, em);
    if (rc == SB_OK)
        rc = sb_bus_topic(bus, topic, sizeof(topic), "event/gateway/+");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(bus, topic, 1, on_event, s, em);
    if (rc == SB_OK)
        rc = sb_bus_topic(bus, topic, sizeof(topic), "ctl/gateway/reload");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(bus, topic, 1, on_ctl_reload, s, em);
    return rc;
}

static void main_loop(gw_service *s, sb_stop_flag *stop)
{
    while (!sb_stop_raised(stop)) {
        pthread_mutex_lock(&s->mu);
        gw_ctl *c = ctl_pop(s);
        if (!c) { /* the stop flag has its own condition variable: look again every 100 ms */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        pthread_mutex_unlock(&s->mu);
        if (c)
            run_ctl(s, c);
        ctl_free(c);
    }
}

int sb_gateway_run(const sb_config *cfg, sb_stop_flag *stop)
{
    gw_service s = {.env = {.cfg = cfg}};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    sb_service *svc = NULL;
    sb_errmsg em = {{0}};
    int code = 1;
    sb_err rc = sb_store_open(cfg, &s.env.store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(NULL, "store: %s", em.text);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "gateway", add_stats, &s, &svc, &em);
    if (rc == SB_OK) {
        s.env.bus = sb_service_bus(svc);
        rc = subscribe_all(&s, &em);
    }
    if (rc != SB_OK) {
        sb_error(NULL, "%s", sb_errmsg_str(&em, rc));
        goto done;
    }
    gw_reload_all(&s, false, NULL);
    main_loop(&s, stop);
    code = 0;
done:
    gw_stop_all(&s);
    sb_service_close(svc, 2000); /* no bus callback runs after this: nothing more is queued */
    for (gw_ctl *c; (c = ctl_pop(&s));)
        ctl_free(c);
    sb_store_close(s.env.store);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_gateway = {
    .name = "gateway",
    .description = "runs the gateway providers that connect devices to the bus",
    .run = sb_gateway_run,
};
