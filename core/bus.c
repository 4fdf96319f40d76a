/*
 * bus.c - the bus client's lifecycle and paho's connection callbacks (see bus_internal.h for
 * how the files divide the work and why the client keeps its own outgoing queue).
 */
#include "core/bus_internal.h"

#include "core/time.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

void sb_bus__set_error(sb_bus *bus, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bus->last_error, sizeof(bus->last_error), fmt, ap);
    va_end(ap);
}

void sb_bus__timed_wait(sb_bus *bus, int64_t ms)
{
    struct timespec ts;
    sb_time_mono_deadline(ms, &ts);
    pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
}

sb_err sb_bus__create_client(sb_bus *bus, sb_errmsg *em)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = bus->version_wanted;
    /* Our own queue holds what waits for a connection; paho only sees live traffic. */
    int64_t maxbuf = bus->cfg->max_pending > 0 ? bus->cfg->max_pending : 100000;
    co.maxBufferedMessages = (int)(maxbuf > 2000000000 ? 2000000000 : maxbuf);
    int rc = MQTTAsync_createWithOptions(&bus->client, bus->url, bus->client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        bus->client = NULL;
        return sb_fail(em, SB_ERR_INVALID, "bus: cannot create a client for %s: %s", bus->url,
                       MQTTAsync_strerror(rc));
    }
    MQTTAsync_setCallbacks(bus->client, bus, sb_bus__on_connection_lost, sb_bus__on_message, NULL);
    return SB_OK;
}

static void fill_names(sb_bus *bus, const sb_bus_opts *o)
{
    const sb_config_bus *c = o->cfg;
    snprintf(bus->url, sizeof(bus->url), "%s",
             str_or(o->url, str_or(c->url, "tcp://127.0.0.1:1883")));
    snprintf(bus->service, sizeof(bus->service), "%s", str_or(o->service, "client"));
    snprintf(bus->instance, sizeof(bus->instance), "%s", str_or(o->instance, "default"));
    snprintf(bus->version, sizeof(bus->version), "%s", str_or(o->version, SB_VERSION));
    snprintf(bus->prefix, sizeof(bus->prefix), "%s", str_or(c->topic_prefix, "switchboard"));
    if (o->client_id && *o->client_id)
        snprintf(bus->client_id, sizeof(bus->client_id), "%s", o->client_id);
    else
        snprintf(bus->client_id, sizeof(bus->client_id), "%s-%s-%s", bus->prefix, bus->service,
                 bus->instance);
    snprintf(bus->status_topic, sizeof(bus->status_topic), "%s/status/%s/%s", bus->prefix,
             bus->service, bus->instance);
    snprintf(bus->reply_topic, sizeof(bus->reply_topic), "%s/reply/%s", bus->prefix,
             bus->client_id);
    sb_time_format(sb_time_now_ms(), bus->started_at, sizeof(bus->started_at));
}

static void ignore_sigpipe(void)
{
    /* paho writes to sockets with writev: a broker that went away would kill the process. */
    signal(SIGPIPE, SIG_IGN);
}

sb_err sb_bus_create(const sb_bus_opts *opts, sb_bus **out, sb_errmsg *em)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ignore_sigpipe);
    *out = NULL;
    if (!opts || !opts->cfg)
        return sb_fail(em, SB_ERR_INVALID, "bus: no configuration");
    sb_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
    bus->cfg = opts->cfg;
    bus->clean_start = opts->clean_start;
    bus->no_status = opts->no_status;
    fill_names(bus, opts);
    bus->version_wanted =
        opts->cfg->mqtt_version == SB_MQTT_V311 ? MQTTVERSION_3_1_1 : MQTTVERSION_5;
    bus->may_fallback = opts->cfg->mqtt_version == SB_MQTT_AUTO;
    bus->gen = 1;
    pthread_mutex_init(&bus->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&bus->cv, &ca);
    pthread_condattr_destroy(&ca);
    sb_err rc = sb_bus__create_client(bus, em);
    if (rc != SB_OK) {
        pthread_mutex_destroy(&bus->mu);
        pthread_cond_destroy(&bus->cv);
        free(bus);
        return rc;
    }
    *out = bus;
    return SB_OK;
}

/* ---- paho's connection callbacks (paho's thread; state only, no paho calls) ---------------- */

static void connected(void *ctx, int version)
{
    sb_bus *bus = ctx;
    char *st = NULL;
    sb_bus__set_nodelay(bus->url);
    if (!bus->no_status)
        sb_bus__status_json(bus, "online", NULL, &st);
    pthread_mutex_lock(&bus->mu);
    bus->connecting = false;
    bus->live = true;
    bus->last_error[0] = '\0';
    bus->backoff_ms = 0;
    bus->cursor = bus->out_head; /* hand everything not yet acknowledged again */
    bus->handed = 0;
    sb_bus__mark_unsubscribed(bus);
    atomic_store(&bus->mqtt_version, version);
    atomic_store(&bus->connected, true);
    atomic_fetch_add(&bus->connects, 1);
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    if (st) /* queued after the resends; the io thread subscribes before it sends */
        sb_bus__enqueue(bus, bus->status_topic, st, strlen(st), 1, true, NULL);
    free(st);
}

static void on_connect5(void *ctx, MQTTAsync_successData5 *r)
{
    connected(ctx, r ? r->alt.connect.MQTTVersion : MQTTVERSION_5);
}

static void on_connect3(void *ctx, MQTTAsync_successData *r)
{
    connected(ctx, r ? r->alt.connect.MQTTVersion : MQTTVERSION_3_1_1);
}

static void schedule_retry(sb_bus *bus)
{
    int64_t min = bus->cfg->reconnect_min_ms > 0 ? bus->cfg->reconnect_min_ms : 250;
    int64_t max = bus->cfg->reconnect_max_ms > 0 ? bus->cfg->reconnect_max_ms : 30000;
    bus->backoff_ms = bus->backoff_ms < min ? min : bus->backoff_ms * 2;
    if (bus->backoff_ms > max)
        bus->backoff_ms = max;
    bus->next_attempt_ms = sb_time_mono_ms() + bus->backoff_ms;
    bus->want_connect = !bus->auth_failed && !bus->stopping;
}

static void connect_failed(sb_bus *bus, int code, int reason, const char *message)
{
    pthread_mutex_lock(&bus->mu);
    bus->connecting = false;
    /* 0x86/0x87 (v5) and CONNACK 4/5 (3.1.1): credentials refused; retrying cannot help. */
    if (reason == 0x86 || reason == 0x87 || code == 4 || code == 5) {
        bus->auth_failed = true;
        sb_bus__set_error(bus, "broker %s refused the credentials of client '%s'", bus->url,
                          bus->client_id);
    } else if (bus->may_fallback && bus->version_wanted == MQTTVERSION_5 &&
               (reason == 0x84 || code == MQTTASYNC_WRONG_MQTT_VERSION || code == 1)) {
        sb_bus__set_error(bus, "broker %s does not speak MQTT 5; using 3.1.1", bus->url);
        bus->version_wanted = MQTTVERSION_3_1_1;
        bus->may_fallback = false;
        bus->need_recreate = true; /* a client's MQTT version is fixed when it is created */
    } else {
        sb_bus__set_error(bus, "cannot connect to %s: %s", bus->url,
                          message ? message : MQTTAsync_strerror(code));
    }
    schedule_retry(bus);
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    connect_failed(ctx, r ? r->code : -1, r ? (int)r->reasonCode : 0, r ? r->message : NULL);
}

static void on_connect_fail3(void *ctx, MQTTAsync_failureData *r)
{
    connect_failed(ctx, r ? r->code : -1, 0, r ? r->message : NULL);
}

void sb_bus__on_connection_lost(void *ctx, char *cause)
{
    sb_bus *bus = ctx;
    pthread_mutex_lock(&bus->mu);
    atomic_store(&bus->connected, false);
    bus->live = false;
    bus->gen++; /* callbacks still coming from the old client are ignored */
    bus->need_recreate = true;
    sb_bus__set_error(bus, "connection to %s lost%s%s", bus->url, cause ? ": " : "",
                      cause ? cause : "");
    bus->backoff_ms = 0;
    schedule_retry(bus);
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    if (cause)
        MQTTAsync_free(cause);
}

void sb_bus__connect_callbacks(MQTTAsync_connectOptions *o, bool v5)
{
    if (v5) {
        o->onSuccess5 = on_connect5;
        o->onFailure5 = on_connect_fail5;
    } else {
        o->onSuccess = on_connect3;
        o->onFailure = on_connect_fail3;
    }
}

/* ---- start, stop, queries ------------------------------------------------------------------ */

sb_err sb_bus_start(sb_bus *bus, int64_t timeout_ms, sb_errmsg *em)
{
    pthread_mutex_lock(&bus->mu);
    if (!bus->started) {
        bus->started = true;
        bus->want_connect = true;
        bus->next_attempt_ms = 0;
        if (pthread_create(&bus->io, NULL, sb_bus__io_main, bus) != 0) {
            pthread_mutex_unlock(&bus->mu);
            return sb_fail(em, SB_ERR_NOMEM, "bus: cannot start the io thread");
        }
        bus->io_running = true;
    }
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    sb_err rc = SB_OK;
    while (!bus->live && !bus->auth_failed) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0) {
            rc = sb_fail(em, SB_ERR_TIMEOUT, "bus: not connected after %lld ms (%s); retrying",
                         (long long)timeout_ms, bus->last_error[0] ? bus->last_error : "no answer");
            break;
        }
        sb_bus__timed_wait(bus, left < 50 ? left : 50);
    }
    if (bus->auth_failed)
        rc = sb_fail(em, SB_ERR_AUTH, "bus: %s", bus->last_error);
    pthread_mutex_unlock(&bus->mu);
    return rc;
}

void sb_bus_destroy(sb_bus *bus, int64_t drain_ms)
{
    if (!bus)
        return;
    if (!bus->no_status && atomic_load(&bus->connected)) {
        char *st = NULL;
        sb_bus__status_json(bus, "offline", NULL, &st);
        if (st)
            sb_bus__enqueue(bus, bus->status_topic, st, strlen(st), 1, true, NULL);
        free(st);
    }
    if (atomic_load(&bus->connected))
        sb_bus_flush(bus, drain_ms);
    pthread_mutex_lock(&bus->mu);
    bus->stopping = true;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    if (bus->io_running)
        pthread_join(bus->io, NULL); /* it disconnects on its way out */
    if (bus->client)
        MQTTAsync_destroy(&bus->client);
    sb_bus__free_outgoing(bus);
    sb_bus__free_subs(bus);
    pthread_mutex_destroy(&bus->mu);
    pthread_cond_destroy(&bus->cv);
    free(bus);
}

void sb_bus_get_stats(sb_bus *bus, sb_bus_stats *out)
{
    out->published = atomic_load(&bus->published);
    out->acknowledged = atomic_load(&bus->acknowledged);
    out->publish_failed = atomic_load(&bus->publish_failed);
    out->rejected_full = atomic_load(&bus->rejected_full);
    out->received = atomic_load(&bus->received);
    out->unhandled = atomic_load(&bus->unhandled);
    out->connects = atomic_load(&bus->connects);
    int64_t p = atomic_load(&bus->pending);
    out->pending = p > 0 ? (uint64_t)p : 0;
    out->connected = atomic_load(&bus->connected);
    out->mqtt_version = atomic_load(&bus->mqtt_version);
}

bool sb_bus_connected(sb_bus *bus)
{
    return atomic_load(&bus->connected);
}

const char *sb_bus_prefix(const sb_bus *bus)
{
    return bus->prefix;
}

sb_err sb_bus_topic(const sb_bus *bus, char *buf, size_t len, const char *fmt, ...)
{
    int n = snprintf(buf, len, "%s/", bus->prefix);
    if (n < 0 || (size_t)n >= len)
        return SB_ERR_TOO_LARGE;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= len - (size_t)n)
        return SB_ERR_TOO_LARGE;
    return SB_OK;
}
