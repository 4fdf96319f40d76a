/*
 * runner.c - one gateway's thread: link lifecycle, outgoing queue, acks, sleeping nodes,
 * batching of received messages (runner.h). One mutex guards the runner; the thread drops it
 * around every call into the provider, the store and the bus.
 */
#include "services/gateway/runner.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/stream.h"
#include "core/time.h"
#include "gateways/provider.h"
#include "services/gateway/inq.h"
#include "services/gateway/msglog.h"
#include "services/gateway/msgq.h"
#include "services/gateway/sleepq.h"

struct gw_runner {
    gw_env env;
    gw_doc *doc;
    const sb_gateway_plugin *plugin;
    void *opts, *inst;
    sb_gateway_host host;
    sb_logger log;
    gw_msglog *mlog;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit, started, restart, state_dirty;
    int64_t restart_at;
    sb_gateway_status status;
    char status_msg[256];
    int64_t since_ms;
    gw_msgq out, failed;
    sb_msg *inflight;
    int64_t attempts, ack_deadline;
    gw_sleepq *sleep;
    sb_stream_producer *in; /* <p>/msg/in/<id> frames; has its own lock and timer thread */
    char in_topic[512];
    /* Received messages waiting for room in the window (readers on a bus handler cannot wait);
     * inmu is taken before the producer's lock, never with mu held. */
    pthread_mutex_t inmu;
    gw_inq inq;
    atomic_size_t inq_n; /* inq.n, for the runner thread's look without inmu */
    uint64_t n_in, n_out, n_dropped, n_retries, n_ack_lost, n_overflowed;
};

/* How long a stopping gateway waits for the processor to acknowledge what it received. */
#define GW_STOP_ACK_WAIT_MS 2000

/* ---- host functions (any provider thread) ---------------------------------------------- */

static void set_status(gw_runner *r, sb_gateway_status st, const char *message)
{
    if (!message)
        message = "";
    if (st == r->status && strcmp(message, r->status_msg) == 0)
        return;
    r->status = st;
    snprintf(r->status_msg, sizeof(r->status_msg), "%s", message);
    r->since_ms = sb_time_now_ms();
    r->state_dirty = true;
}

static void host_state(void *ctx, sb_gateway_status st, const char *message)
{
    gw_runner *r = ctx;
    pthread_mutex_lock(&r->mu);
    set_status(r, st, message);
    if (st != SB_GATEWAY_UP && r->started)
        r->restart = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void host_raw(void *ctx, bool inbound, const void *data, size_t len)
{
    gw_runner *r = ctx;
    gw_msglog_write(r->mlog, inbound, data, len);
}

static const char *first_key(const sb_msg *m)
{
    return m->n_payloads ? m->payloads[0].key : "";
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* An ack completes the message in flight when it names the same node, source and field. */
static bool ack_matches(const sb_msg *sent, const sb_msg *ack)
{
    return sent && str_eq(sent->node_id, ack->node_id) && str_eq(sent->source_id, ack->source_id) &&
           str_eq(first_key(sent), first_key(ack));
}

/* The node is awake: its held messages go first, oldest first. */
static void wake_node(gw_runner *r, const char *node_id)
{
    sb_msg **held = NULL;
    size_t expired = 0;
    size_t n = gw_sleepq_take(r->sleep, node_id, sb_time_mono_ms(), &held, &expired);
    for (size_t i = n; i-- > 0;) {
        if (!gw_msgq_push_front(&r->out, held[i])) {
            sb_msg_free(held[i]);
            r->n_dropped++;
        }
    }
    free(held);
    r->n_dropped += expired;
    if (n || expired)
        sb_debug(&r->log, "node %s woke: %zu held messages to send, %zu expired", node_id, n,
                 expired);
}

static bool take(void *ctx, const char *text, size_t len)
{
    return sb_stream_add_text(ctx, text, len) == SB_OK;
}

/* Moves what the window has room for from the overflow queue to the stream, oldest first. */
static void drain_overflow(gw_runner *r)
{
    pthread_mutex_lock(&r->inmu);
    gw_inq_drain(&r->inq, take, r->in);
    atomic_store(&r->inq_n, r->inq.n);
    pthread_mutex_unlock(&r->inmu);
}

/* Adds item behind the overflow queue's older messages; with the window full, queues it when
 * can_queue (*queued = true) or returns SB_ERR_FULL. */
static sb_err add_or_queue(gw_runner *r, const char *item, size_t len, bool can_queue, bool *queued)
{
    pthread_mutex_lock(&r->inmu);
    gw_inq_drain(&r->inq, take, r->in);
    sb_err rc = r->inq.n ? SB_ERR_FULL : sb_stream_add_text(r->in, item, len);
    if (rc == SB_ERR_FULL && can_queue && gw_inq_push(&r->inq, item, len)) {
        rc = SB_OK;
        *queued = true;
    }
    atomic_store(&r->inq_n, r->inq.n);
    pthread_mutex_unlock(&r->inmu);
    return rc;
}

/*
 * Hands m (owned) to the msg/in stream. Called without r->mu: the producer publishes under its
 * own lock, and the bus delivers msg/out (which takes r->mu) while holding the client's lock.
 * A full window (the processor is behind or away) holds the provider's reader back for up to
 * 10 s, which slows the device link down, before the message is dropped. A provider reading on
 * a bus handler (MQTT transports) cannot be held back: its messages wait in the overflow queue
 * (gateway.in_queue_max), which the runner thread moves on as acks open the window; only when
 * that is full too are they dropped, counted and logged.
 */
static void add_to_stream(gw_runner *r, sb_msg *m)
{
    size_t len = 0;
    char *item = sb_msg_encode(m, &len);
    sb_msg_free(m);
    sb_err rc = item ? SB_OK : SB_ERR_NOMEM;
    /* On paho's delivery thread waiting would also hold up the acks that open the window
     * again, for every bus client in the process: never wait there. */
    bool in_handler = sb_bus_in_handler(), queued = false;
    int64_t give_up = sb_time_mono_ms() + (in_handler ? 0 : 10000);
    while (item && (rc = add_or_queue(r, item, len, in_handler, &queued)) == SB_ERR_FULL &&
           sb_time_mono_ms() < give_up)
        sb_time_sleep_ms(5);
    free(item);
    pthread_mutex_lock(&r->mu);
    if (rc == SB_OK)
        r->n_in++;
    else
        r->n_dropped++;
    r->n_overflowed += queued;
    uint64_t dropped = r->n_dropped;
    pthread_mutex_unlock(&r->mu);
    if (rc != SB_OK && (!in_handler || dropped % 1000 == 1)) /* a flood logs every 1000th */
        sb_warn(&r->log, "dropped a received message (%llu so far): msg/in stream: %s%s",
                (unsigned long long)dropped, sb_strerror(rc),
                in_handler ? " and the overflow queue (gateway.in_queue_max) is full" : "");
}

static void host_receive(void *ctx, sb_msg *m)
{
    gw_runner *r = ctx;
    char *gid = strdup(r->doc->id);
    if (!gid) {
        sb_msg_free(m);
        return;
    }
    free(m->gateway_id);
    m->gateway_id = gid;
    m->is_received = true;
    pthread_mutex_lock(&r->mu);
    if (m->is_ack && ack_matches(r->inflight, m)) {
        sb_msg_free(r->inflight);
        r->inflight = NULL;
        sb_msg_free(m);
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        return;
    }
    if (m->is_sleep_node) { /* held messages may now be sendable: wake the runner */
        wake_node(r, m->node_id ? m->node_id : "");
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    add_to_stream(r, m);
}

/* ---- the thread (called with r->mu held) ------------------------------------------------ */

static void publish_state(gw_runner *r, bool deleted)
{
    char msg[sizeof(r->status_msg)];
    snprintf(msg, sizeof(msg), "%s", r->status_msg);
    const char *status = sb_gateway_status_name(r->status);
    int64_t since = r->since_ms;
    r->state_dirty = false;
    pthread_mutex_unlock(&r->mu);
    sb_info(&r->log, "state %s%s%s", status, msg[0] ? ": " : "", msg);
    gw_state_publish(&r->env, r->doc->id, status, msg, since, deleted);
    pthread_mutex_lock(&r->mu);
}

/* A message that could not be sent: kept for the next link when queueFailedMessages. */
static void send_failed(gw_runner *r, sb_msg *m, const char *why)
{
    int64_t max = r->env.cfg->gateway.out_queue_max;
    if (r->doc->queue_failed && (int64_t)r->failed.n < max && gw_msgq_push_back(&r->failed, m)) {
        sb_debug(&r->log, "queued a failed message for node '%s': %s", m->node_id, why);
        return;
    }
    r->n_dropped++;
    sb_warn(&r->log, "dropped a message for node '%s': %s", m->node_id, why);
    sb_msg_free(m);
}

static bool wants_ack(const gw_runner *r, const sb_msg *m)
{
    return (r->plugin->caps & SB_GATEWAY_CAP_ACKS) && r->doc->ack.retry_count > 0 && !m->is_ack;
}

/* Sends m (owned) to the provider; keeps it in flight when an ack is due. */
static void send_one(gw_runner *r, sb_msg *m, bool retry)
{
    sb_errmsg em = {{0}};
    pthread_mutex_unlock(&r->mu);
    sb_err rc = r->plugin->send(r->inst, m, &em);
    pthread_mutex_lock(&r->mu);
    if (rc != SB_OK) {
        if (retry)
            r->inflight = NULL;
        if (rc == SB_ERR_CLOSED && r->started) {
            set_status(r, SB_GATEWAY_DOWN, sb_errmsg_str(&em, rc));
            r->restart = true;
        }
        send_failed(r, m, sb_errmsg_str(&em, rc));
        return;
    }
    if (!retry)
        r->n_out++;
    if (!wants_ack(r, m)) {
        sb_msg_free(m);
        return;
    }
    r->inflight = m;
    r->attempts = retry ? r->attempts + 1 : 1;
    r->ack_deadline = sb_time_mono_ms() + r->doc->ack.timeout_ms;
}

static void ack_timeout(gw_runner *r)
{
    sb_msg *m = r->inflight;
    if (r->attempts <= r->doc->ack.retry_count) {
        r->n_retries++;
        sb_debug(&r->log, "no ack from node '%s', resending (try %lld)", m->node_id,
                 (long long)r->attempts + 1);
        send_one(r, m, true);
        return;
    }
    r->inflight = NULL;
    r->n_ack_lost++;
    r->n_dropped++;
    sb_warn(&r->log, "node '%s' did not acknowledge a message after %lld tries; dropped",
            m->node_id, (long long)r->attempts);
    sb_msg_free(m);
}

static void open_link(gw_runner *r)
{
    sb_errmsg em = {{0}};
    pthread_mutex_unlock(&r->mu);
    sb_err rc = r->plugin->start(r->inst, &em);
    pthread_mutex_lock(&r->mu);
    if (rc != SB_OK) {
        set_status(r, SB_GATEWAY_ERROR, sb_errmsg_str(&em, rc));
        r->restart_at = sb_time_mono_ms() + r->doc->reconnect_delay_ms;
        return;
    }
    r->started = true;
    r->restart = false;
    set_status(r, SB_GATEWAY_UP, "");
    sb_msg *m; /* what failed before goes first, in its order */
    gw_msgq kept = r->failed;
    memset(&r->failed, 0, sizeof(r->failed));
    while ((m = gw_msgq_pop(&r->out))) {
        if (!gw_msgq_push_back(&kept, m)) {
            sb_msg_free(m);
            r->n_dropped++;
        }
    }
    gw_msgq_free(&r->out);
    r->out = kept;
}

static void close_link(gw_runner *r)
{
    pthread_mutex_unlock(&r->mu);
    r->plugin->stop(r->inst);
    pthread_mutex_lock(&r->mu);
    r->started = false;
    r->restart = false;
    if (r->inflight) { /* sent again on the next link */
        if (!gw_msgq_push_front(&r->out, r->inflight))
            sb_msg_free(r->inflight);
        r->inflight = NULL;
    }
    r->restart_at = sb_time_mono_ms() + r->doc->reconnect_delay_ms;
}

/* Does one piece of due work; false when there was none. */
static bool step(gw_runner *r)
{
    int64_t now = sb_time_mono_ms();
    if (r->state_dirty)
        publish_state(r, false);
    else if (r->restart && r->started)
        close_link(r);
    else if (!r->started && now >= r->restart_at)
        open_link(r);
    else if (r->inflight && now >= r->ack_deadline)
        ack_timeout(r);
    else if (r->started && !r->inflight && r->out.n)
        send_one(r, gw_msgq_pop(&r->out), false);
    else
        return false;
    return true;
}

static void wait_next(gw_runner *r)
{
    int64_t now = sb_time_mono_ms(), wait = 1000;
    if (!r->started && r->restart_at - now < wait)
        wait = r->restart_at - now;
    if (r->inflight && r->ack_deadline - now < wait)
        wait = r->ack_deadline - now;
    if (atomic_load(&r->inq_n) && wait > 5)
        wait = 5; /* the overflow queue moves on as acks come in */
    if (wait <= 0)
        return;
    struct timespec ts;
    sb_time_mono_deadline(wait, &ts);
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *runner_main(void *arg)
{
    gw_runner *r = arg;
    char prefix[160];
    snprintf(prefix, sizeof(prefix), "[gateway] [gateway:%s/%s]", r->doc->id, r->plugin->info.name);
    sb_log_thread_prefix(prefix);
    pthread_mutex_lock(&r->mu);
    while (!r->quit) {
        if (atomic_load(&r->inq_n)) {
            pthread_mutex_unlock(&r->mu);
            drain_overflow(r);
            pthread_mutex_lock(&r->mu);
        }
        if (!step(r))
            wait_next(r);
    }
    if (r->started)
        close_link(r);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- lifecycle (service threads) ---------------------------------------------------------- */

static sb_err open_logger(gw_runner *r, sb_errmsg *em)
{
    const gw_doc_logger *lc = &r->doc->logger;
    if (lc->type != GW_LOGGER_FILE)
        return SB_OK;
    char path[4096];
    const char *dir = r->env.cfg->gateway.log_dir;
    if (lc->path && *lc->path) {
        snprintf(path, sizeof(path), "%s", lc->path);
    } else if (dir && *dir) {
        snprintf(path, sizeof(path), "%s/%s.log", dir, r->doc->id);
    } else {
        char *base = sb_config_data_path(r->env.cfg, "gateway-logs");
        snprintf(path, sizeof(path), "%s/%s.log", base ? base : "gateway-logs", r->doc->id);
        free(base);
    }
    return gw_msglog_open(path, lc->max_size, (int)lc->max_files, &r->mlog, em);
}

/* The producer of "<p>/msg/in/<id>", stream name = the gateway id, bounded by bus.batch_*. */
static sb_err open_stream(gw_runner *r, sb_errmsg *em)
{
    if (!sb_stream_name_valid(r->doc->id))
        return sb_fail(em, SB_ERR_INVALID,
                       "gateway id '%s' cannot name a stream (1..127 bytes without + # /)",
                       r->doc->id);
    sb_err rc = sb_bus_topic(r->env.bus, r->in_topic, sizeof(r->in_topic), "msg/in/%s", r->doc->id);
    if (rc != SB_OK)
        return sb_fail(em, rc, "gateway id '%s': topic too long", r->doc->id);
    const sb_config_bus *bus = &r->env.cfg->bus;
    sb_stream_producer_opts o = {.bus = r->env.bus,
                                 .stream = r->doc->id,
                                 .topic = r->in_topic,
                                 .batch_max = (size_t)bus->batch_max,
                                 .batch_delay_ms = bus->batch_delay_ms};
    return sb_stream_producer_create(&o, &r->in, em);
}

static sb_err init_runner(gw_runner *r, sb_errmsg *em)
{
    const char *type = sb_json_str(r->doc->provider, "type", "");
    sb_err rc = sb_gateway_plugin_find(type, &r->plugin, em);
    if (rc == SB_OK)
        rc = sb_gateway_options_parse(r->plugin, r->doc->provider, &r->opts, em);
    if (rc != SB_OK)
        return rc;
    sb_logger_init(&r->log, "gateway:%s/%s", r->doc->id, type);
    r->host = (sb_gateway_host){.gateway_id = r->doc->id,
                                .log = &r->log,
                                .store = r->env.store,
                                .ctx = r,
                                .receive = host_receive,
                                .state = host_state,
                                .raw = host_raw};
    r->sleep = gw_sleepq_new((size_t)r->doc->sleep.max_per_node, r->doc->sleep.validity_ms);
    if (!r->sleep)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    rc = open_stream(r, em);
    if (rc == SB_OK)
        rc = open_logger(r, em);
    if (rc == SB_OK)
        rc = r->plugin->create(&r->host, r->opts, &r->inst, em);
    return rc;
}

sb_err gw_runner_start(const gw_env *env, gw_doc *doc, gw_runner **out, sb_errmsg *em)
{
    *out = NULL;
    gw_runner *r = calloc(1, sizeof(*r));
    if (!r) {
        gw_doc_free(doc);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    r->env = *env;
    r->doc = doc;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->inmu, NULL);
    gw_inq_init(&r->inq, (size_t)env->cfg->gateway.in_queue_max);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->status = SB_GATEWAY_DOWN;
    sb_err rc = init_runner(r, em);
    if (rc == SB_OK && pthread_create(&r->thread, NULL, runner_main, r) != 0)
        rc = sb_fail(em, SB_ERR_INTERNAL, "cannot start a thread");
    if (rc != SB_OK) {
        gw_runner_stop(r, true);
        return rc;
    }
    r->thread_started = true;
    *out = r;
    return SB_OK;
}

const gw_doc *gw_runner_doc(const gw_runner *r)
{
    return r->doc;
}

void gw_runner_post(gw_runner *r, sb_msg *m)
{
    pthread_mutex_lock(&r->mu);
    size_t dropped = 0;
    if (m->is_sleep_node) {
        if (gw_sleepq_add(r->sleep, m, sb_time_mono_ms(), &dropped) != SB_OK)
            dropped++;
    } else if ((int64_t)r->out.n >= r->env.cfg->gateway.out_queue_max ||
               !gw_msgq_push_back(&r->out, m)) {
        sb_msg_free(m);
        dropped++;
    }
    r->n_dropped += dropped;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void gw_runner_stats(gw_runner *r, cJSON *obj)
{
    pthread_mutex_lock(&r->mu);
    cJSON *o = cJSON_AddObjectToObject(obj, r->doc->id);
    if (o) {
        cJSON_AddStringToObject(o, "state", sb_gateway_status_name(r->status));
        cJSON_AddNumberToObject(o, "received", (double)r->n_in);
        cJSON_AddNumberToObject(o, "sent", (double)r->n_out);
        sb_stream_producer_stats ps = {0};
        if (r->in)
            sb_stream_producer_get_stats(r->in, &ps);
        cJSON_AddNumberToObject(o, "frames", (double)ps.frames);
        cJSON_AddNumberToObject(o, "framesResent", (double)ps.resent);
        cJSON_AddNumberToObject(o, "framesUnacked", (double)ps.unacked);
        cJSON_AddNumberToObject(o, "retries", (double)r->n_retries);
        cJSON_AddNumberToObject(o, "ackLost", (double)r->n_ack_lost);
        cJSON_AddNumberToObject(o, "dropped", (double)r->n_dropped);
        cJSON_AddNumberToObject(o, "overflowed", (double)r->n_overflowed);
        cJSON_AddNumberToObject(o, "overflowQueued", (double)atomic_load(&r->inq_n));
        cJSON_AddNumberToObject(o, "queued", (double)r->out.n);
        cJSON_AddNumberToObject(o, "sleeping", (double)gw_sleepq_count(r->sleep, NULL));
        cJSON *po = r->plugin->stats ? cJSON_AddObjectToObject(o, "provider") : NULL;
        if (po)
            r->plugin->stats(r->inst, po);
    }
    pthread_mutex_unlock(&r->mu);
}

void gw_runner_stop(gw_runner *r, bool deleted)
{
    if (!r)
        return;
    if (r->thread_started) {
        pthread_mutex_lock(&r->mu);
        r->quit = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_mutex_lock(&r->mu);
        set_status(r, SB_GATEWAY_DOWN, deleted ? "deleted" : "stopped");
        publish_state(r, deleted);
        pthread_mutex_unlock(&r->mu);
    }
    if (r->plugin && r->inst)
        r->plugin->destroy(r->inst);
    if (r->in) { /* what was received is sent; give the processor a moment to take it */
        int64_t deadline = sb_time_mono_ms() + GW_STOP_ACK_WAIT_MS;
        while (atomic_load(&r->inq_n) && sb_time_mono_ms() < deadline) {
            drain_overflow(r);
            sb_time_sleep_ms(5);
        }
        sb_stream_flush(r->in);
        if (sb_stream_wait_acked(r->in, deadline - sb_time_mono_ms()) != SB_OK)
            sb_warn(&r->log, "stopping with received messages not acknowledged by a processor");
        sb_stream_producer_destroy(r->in);
    }
    size_t lost = gw_inq_free(&r->inq);
    if (lost)
        sb_warn(&r->log, "stopping: %zu received messages still in the overflow queue dropped",
                lost);
    pthread_mutex_destroy(&r->inmu);
    sb_gateway_options_free(r->plugin, r->opts);
    gw_msglog_close(r->mlog);
    gw_msgq_free(&r->out);
    gw_msgq_free(&r->failed);
    sb_msg_free(r->inflight);
    gw_sleepq_free(r->sleep);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    gw_doc_free(r->doc);
    free(r);
}
