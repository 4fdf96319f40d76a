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

#include "core/json.h"
#include "core/time.h"
#include "services/gateway/service_priv.h"

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
    size_t held = 0;
    for (size_t i = 0; i < batch.n; i++) {
        if (r)
            gw_runner_post(r, batch.msgs[i]);
        else if (gw_hold(s, id, batch.msgs[i]))
            held++;
        else
            continue;
        batch.msgs[i] = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (!r && batch.n > held)
        sb_debug(NULL, "%s: gateway '%s' does not run here; %zu messages ignored", bm->topic, id,
                 batch.n);
    sb_msg_batch_free(&batch);
}

/* <p>/event/gateway/<id>: the API changed or deleted a gateway (or our own state event). */
static void on_event(void *ctx, const sb_bus_msg *bm)
{
    gw_service *s = ctx;
    sb_ctl_push(&s->ctl, sb_ctl_for(topic_tail(bm->topic), false));
}

/* <p>/ctl/gateway/reload {"id":"gw1"} | {"ids":[...]} | {} (all), with a reply. */
static void on_ctl_reload(void *ctx, const sb_bus_msg *bm)
{
    gw_service *s = ctx;
    sb_ctl_push(&s->ctl, sb_ctl_from_msg(bm));
}

static void reload_all(void *ctx, bool force, cJSON *results)
{
    gw_reload_all(ctx, force, results);
}

static void reload_one(void *ctx, const char *id, bool force, cJSON *results)
{
    gw_reload_one(ctx, id, force, results);
}

static void run_ctl(gw_service *s, sb_ctl_req *c)
{
    sb_ctl_run(s->env.bus, c, reload_all, reload_one, s);
}

static void add_stats(void *ctx, cJSON *stats)
{
    gw_service *s = ctx;
    cJSON *gws = cJSON_AddObjectToObject(stats, "gateways");
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; gws && i < s->n_runners; i++)
        gw_runner_stats(s->runners[i], gws);
    cJSON_AddNumberToObject(stats, "heldDropped", (double)s->held_dropped);
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
    while (!sb_stop_raised(stop)) { /* the stop flag has its own condition: look every 100 ms */
        sb_ctl_req *c = sb_ctl_next(&s->ctl, 100);
        if (c)
            run_ctl(s, c);
        sb_ctl_free(c);
    }
}

int sb_gateway_run(const sb_config *cfg, sb_stop_flag *stop)
{
    gw_service s = {.env = {.cfg = cfg}};
    pthread_mutex_init(&s.mu, NULL);
    sb_ctl_queue_init(&s.ctl);
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
    sb_service_close(svc, 2000); /* no bus handler runs after this */
    sb_ctl_queue_destroy(&s.ctl);
    sb_store_close(s.env.store);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_gateway = {
    .name = "gateway",
    .description = "runs the gateway providers that connect devices to the bus",
    .run = sb_gateway_run,
};
