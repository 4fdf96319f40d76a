/*
 * bus.c - the bus client's connection: create, connect with backoff, reconnect, v5 -> 3.1.1
 * fallback, status will, destroy. Publishing and receiving live in bus_io.c.
 *
 * Reconnection is driven by one connector thread rather than paho's automaticReconnect: paho
 * only retries after a first successful connect and counts its intervals in whole seconds; the
 * connector handles the first connect and every reconnect the same way, with ms backoff.
 */
#include "core/bus_internal.h"

#include "core/time.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_connection_lost(void *ctx, char *cause);
static void *connector_main(void *arg);

static const char *str_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

static sb_err create_client(sb_bus *bus, sb_errmsg *em)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = bus->version_wanted;
    co.sendWhileDisconnected = 1;
    co.allowDisconnectedSendAtAnyTime = 1;
    int64_t maxbuf = bus->cfg->max_pending > 0 ? bus->cfg->max_pending : 100000;
    co.maxBufferedMessages = (int)(maxbuf > 2000000000 ? 2000000000 : maxbuf);
    int rc = MQTTAsync_createWithOptions(&bus->client, bus->url, bus->client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS)
        return sb_fail(em, SB_ERR_INVALID, "bus: cannot create client for %s: %s", bus->url,
                       MQTTAsync_strerror(rc));
    MQTTAsync_setCallbacks(bus->client, bus, on_connection_lost, sb_bus__on_message, NULL);
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
    bus->backoff_ms = opts->cfg->reconnect_min_ms > 0 ? opts->cfg->reconnect_min_ms : 250;
    pthread_mutex_init(&bus->mu, NULL);
    pthread_cond_init(&bus->cv, NULL);
    sb_err rc = create_client(bus, em);
    if (rc != SB_OK) {
        pthread_mutex_destroy(&bus->mu);
        pthread_cond_destroy(&bus->cv);
        free(bus);
        return rc;
    }
    *out = bus;
    return SB_OK;
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void set_error(sb_bus *bus, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(sb_bus *bus, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bus->last_error, sizeof(bus->last_error), fmt, ap);
    va_end(ap);
}

static void on_connect_ok(void *ctx, int version, int session_present)
{
    sb_bus *bus = ctx;
    pthread_mutex_lock(&bus->mu);
    bus->connecting = false;
    bus->last_error[0] = '\0';
    bus->backoff_ms = bus->cfg->reconnect_min_ms > 0 ? bus->cfg->reconnect_min_ms : 250;
    atomic_store(&bus->mqtt_version, version);
    atomic_store(&bus->connected, true);
    atomic_fetch_add(&bus->connects, 1);
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    (void)session_present;
    /* The broker may have lost the session (restarted without persistence): subscribe again. */
    sb_bus__subscribe_all(bus);
    if (!bus->no_status) {
        char *st = NULL;
        sb_bus__status_json(bus, "online", NULL, &st);
        if (st) {
            sb_bus__publish_props(bus, bus->status_topic, st, strlen(st), 1, true, NULL);
            free(st);
        }
    }
}

static void on_connect5(void *ctx, MQTTAsync_successData5 *r)
{
    on_connect_ok(ctx, r ? r->alt.connect.MQTTVersion : 5, r ? r->alt.connect.sessionPresent : 0);
}

static void on_connect3(void *ctx, MQTTAsync_successData *r)
{
    on_connect_ok(ctx, r ? r->alt.connect.MQTTVersion : 4, r ? r->alt.connect.sessionPresent : 0);
}

static void connect_failed(sb_bus *bus, int code, int reason, const char *message)
{
    pthread_mutex_lock(&bus->mu);
    bus->connecting = false;
    /* 0x86/0x87 (v5) and CONNACK 4/5 (3.1.1): credentials refused; retrying cannot help. */
    if (reason == 0x86 || reason == 0x87 || code == 4 || code == 5) {
        bus->auth_failed = true;
        set_error(bus, "broker %s refused the credentials of client '%s'", bus->url,
                  bus->client_id);
    } else if (bus->may_fallback && bus->version_wanted == MQTTVERSION_5 &&
               (reason == 0x84 || code == MQTTASYNC_WRONG_MQTT_VERSION || code == 1)) {
        set_error(bus, "broker %s does not speak MQTT 5; using 3.1.1", bus->url);
        bus->version_wanted = MQTTVERSION_3_1_1; /* the connector recreates the client */
        bus->backoff_ms = 0;
    } else {
        set_error(bus, "cannot connect to %s: %s", bus->url,
                  message ? message : MQTTAsync_strerror(code));
    }
    bus->want_connect = !bus->auth_failed && !bus->stopping;
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

static void on_connection_lost(void *ctx, char *cause)
{
    sb_bus *bus = ctx;
    pthread_mutex_lock(&bus->mu);
    atomic_store(&bus->connected, false);
    set_error(bus, "connection to %s lost%s%s", bus->url, cause ? ": " : "", cause ? cause : "");
    bus->want_connect = !bus->stopping;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    if (cause)
        MQTTAsync_free(cause);
}

static void fill_tls(sb_bus *bus, MQTTAsync_SSLOptions *ssl)
{
    const sb_config_tls *t = &bus->cfg->tls;
    ssl->trustStore = str_or(t->ca_file, NULL);
    ssl->keyStore = str_or(t->cert_file, NULL);
    ssl->privateKey = str_or(t->key_file, NULL);
    ssl->enableServerCertAuth = t->verify;
    ssl->verify = t->verify;
}

/* Builds the options and calls MQTTAsync_connect; called by the connector without the lock. */
static int do_connect(sb_bus *bus)
{
    const sb_config_bus *c = bus->cfg;
    bool v5 = bus->version_wanted == MQTTVERSION_5;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_connectOptions *o = v5 ? &co5 : &co;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer, wprops = MQTTProperties_initializer;
    char *offline = NULL;

    o->keepAliveInterval = (int)(c->keepalive_ms > 0 ? (c->keepalive_ms + 999) / 1000 : 30);
    o->connectTimeout = (int)(c->connect_timeout_ms > 0 ? (c->connect_timeout_ms + 999) / 1000 : 5);
    o->username = str_or(c->username, NULL);
    o->password = str_or(c->password, NULL);
    o->context = bus;
    if (strncmp(bus->url, "ssl://", 6) == 0 || strncmp(bus->url, "mqtts://", 8) == 0) {
        fill_tls(bus, &ssl);
        o->ssl = &ssl;
    }
    if (!bus->no_status) {
        sb_bus__status_json(bus, "offline", NULL, &offline);
        will.topicName = bus->status_topic;
        will.message = NULL;
        will.payload.data = offline;
        will.payload.len = offline ? (int)strlen(offline) : 0;
        will.qos = 1;
        will.retained = 1;
        o->will = &will;
    }
    if (v5) {
        o->cleanstart = bus->clean_start;
        uint64_t exp = c->session_expiry_ms > 0 ? (uint64_t)c->session_expiry_ms / 1000 : 0;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        p.value.integer4 =
            (unsigned int)(bus->clean_start ? 0 : (exp > 0xFFFFFFFEu ? 0xFFFFFFFEu : exp));
        MQTTProperties_add(&props, &p);
        o->connectProperties = &props;
        if (o->will)
            o->willProperties = &wprops;
        o->onSuccess5 = on_connect5;
        o->onFailure5 = on_connect_fail5;
    } else {
        o->cleansession = bus->clean_start;
        o->onSuccess = on_connect3;
        o->onFailure = on_connect_fail3;
    }
    int rc = MQTTAsync_connect(bus->client, o);
    MQTTProperties_free(&props);
    MQTTProperties_free(&wprops);
    free(offline);
    return rc;
}

/* Waits for a reason to connect, sleeps the backoff, connects; until the bus stops. */
static void *connector_main(void *arg)
{
    sb_bus *bus = arg;
    pthread_mutex_lock(&bus->mu);
    while (!bus->stopping) {
        if (!bus->want_connect || bus->connecting) {
            pthread_cond_wait(&bus->cv, &bus->mu);
            continue;
        }
        int64_t wait_until = sb_time_mono_ms() + bus->backoff_ms;
        while (!bus->stopping && sb_time_mono_ms() < wait_until) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t left = wait_until - sb_time_mono_ms();
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
        }
        if (bus->stopping)
            break;
        int64_t max = bus->cfg->reconnect_max_ms > 0 ? bus->cfg->reconnect_max_ms : 30000;
        int64_t min = bus->cfg->reconnect_min_ms > 0 ? bus->cfg->reconnect_min_ms : 250;
        bus->backoff_ms = bus->backoff_ms < min ? min : bus->backoff_ms * 2;
        if (bus->backoff_ms > max)
            bus->backoff_ms = max;
        bus->want_connect = false;
        bus->connecting = true;
        bool recreate = bus->version_wanted == MQTTVERSION_3_1_1 && bus->may_fallback &&
                        atomic_load(&bus->connects) == 0;
        pthread_mutex_unlock(&bus->mu);
        if (recreate) {
            /* The client's MQTT version is fixed at creation: make a 3.1.1 one. */
            bus->may_fallback = false;
            MQTTAsync_destroy(&bus->client);
            create_client(bus, NULL);
        }
        int rc = do_connect(bus);
        pthread_mutex_lock(&bus->mu);
        if (rc != MQTTASYNC_SUCCESS) {
            bus->connecting = false;
            bus->want_connect = true;
            set_error(bus, "cannot connect to %s: %s", bus->url, MQTTAsync_strerror(rc));
        }
    }
    pthread_mutex_unlock(&bus->mu);
    return NULL;
}

sb_err sb_bus_start(sb_bus *bus, int64_t timeout_ms, sb_errmsg *em)
{
    pthread_mutex_lock(&bus->mu);
    if (!bus->started) {
        bus->started = true;
        bus->want_connect = true;
        bus->backoff_ms = 0;
        if (pthread_create(&bus->connector, NULL, connector_main, bus) != 0) {
            pthread_mutex_unlock(&bus->mu);
            return sb_fail(em, SB_ERR_NOMEM, "bus: cannot start the connector thread");
        }
        bus->connector_running = true;
        pthread_cond_broadcast(&bus->cv);
    }
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    sb_err rc = SB_OK;
    while (!atomic_load(&bus->connected) && !bus->auth_failed) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0) {
            rc = sb_fail(em, SB_ERR_TIMEOUT, "bus: not connected after %lld ms (%s); retrying",
                         (long long)timeout_ms, bus->last_error[0] ? bus->last_error : "no answer");
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t step = left < 50 ? left : 50;
        ts.tv_nsec += step * 1000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
    }
    if (bus->auth_failed)
        rc = sb_fail(em, SB_ERR_AUTH, "bus: %s", bus->last_error);
    pthread_mutex_unlock(&bus->mu);
    return rc;
}

/* ---- teardown and queries ------------------------------------------------------------------ */

static void on_disconnect_done(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    sb_bus *bus = ctx;
    pthread_mutex_lock(&bus->mu);
    atomic_store(&bus->connected, false);
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
}

static void disconnect(sb_bus *bus)
{
    if (!atomic_load(&bus->connected))
        return;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 500;
    d.onSuccess = on_disconnect_done;
    d.context = bus;
    if (MQTTAsync_disconnect(bus->client, &d) != MQTTASYNC_SUCCESS)
        return;
    int64_t deadline = sb_time_mono_ms() + 1000;
    while (atomic_load(&bus->connected) && sb_time_mono_ms() < deadline)
        sb_time_sleep_ms(5);
}

void sb_bus_destroy(sb_bus *bus, int64_t drain_ms)
{
    if (!bus)
        return;
    if (!bus->no_status && atomic_load(&bus->connected)) {
        char *st = NULL;
        sb_bus__status_json(bus, "offline", NULL, &st);
        if (st)
            sb_bus__publish_props(bus, bus->status_topic, st, strlen(st), 1, true, NULL);
        free(st);
    }
    if (atomic_load(&bus->connected))
        sb_bus_flush(bus, drain_ms);
    pthread_mutex_lock(&bus->mu);
    bus->stopping = true;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    if (bus->connector_running)
        pthread_join(bus->connector, NULL);
    disconnect(bus);
    MQTTAsync_destroy(&bus->client);
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
