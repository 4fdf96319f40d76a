/*
 * bus_io.c - the bus client's io thread: the only caller of paho's client API. It connects
 * (with backoff), replaces the paho client after a lost connection, (re)subscribes, and hands
 * the queued publishes to paho in publish order.
 */
#include "core/bus_internal.h"

#include "core/time.h"

#include <stdlib.h>
#include <string.h>

static const char *str_or(const char *s, const char *def)
{
    return s && *s ? s : def;
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

static void fill_common(sb_bus *bus, MQTTAsync_connectOptions *o)
{
    const sb_config_bus *c = bus->cfg;
    o->keepAliveInterval = (int)(c->keepalive_ms > 0 ? (c->keepalive_ms + 999) / 1000 : 30);
    o->connectTimeout = (int)(c->connect_timeout_ms > 0 ? (c->connect_timeout_ms + 999) / 1000 : 5);
    o->username = str_or(c->username, NULL);
    o->password = str_or(c->password, NULL);
    o->context = bus;
    o->automaticReconnect = 0; /* the io thread reconnects with a fresh client */
}

/* Builds the options (with the last will) and starts a connect; paho answers by callback. */
static int do_connect(sb_bus *bus)
{
    bool v5 = bus->version_wanted == MQTTVERSION_5;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_connectOptions *o = v5 ? &co5 : &co;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer, wprops = MQTTProperties_initializer;
    char *offline = NULL;
    fill_common(bus, o);
    if (strncmp(bus->url, "ssl://", 6) == 0 || strncmp(bus->url, "mqtts://", 8) == 0) {
        fill_tls(bus, &ssl);
        o->ssl = &ssl;
    }
    if (!bus->no_status) {
        sb_bus__status_json(bus, "offline", NULL, &offline);
        will.topicName = bus->status_topic;
        will.payload.data = offline;
        will.payload.len = offline ? (int)strlen(offline) : 0;
        will.qos = 1;
        will.retained = 1;
        o->will = &will;
    }
    if (v5) {
        o->cleanstart = bus->clean_start;
        uint64_t exp =
            bus->cfg->session_expiry_ms > 0 ? (uint64_t)bus->cfg->session_expiry_ms / 1000 : 0;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        p.value.integer4 =
            (unsigned int)(bus->clean_start ? 0 : (exp > 0xFFFFFFFEu ? 0xFFFFFFFEu : exp));
        MQTTProperties_add(&props, &p);
        if (bus->cfg->receive_max > 0) {
            MQTTProperty r = {.identifier = MQTTPROPERTY_CODE_RECEIVE_MAXIMUM};
            r.value.integer2 =
                (unsigned short)(bus->cfg->receive_max > 65535 ? 65535 : bus->cfg->receive_max);
            MQTTProperties_add(&props, &r);
        }
        o->connectProperties = &props;
        if (o->will)
            o->willProperties = &wprops;
    } else {
        o->cleansession = bus->clean_start;
        o->MQTTVersion = MQTTVERSION_3_1_1; /* the default would fall back to 3.1 silently */
    }
    sb_bus__connect_callbacks(o, v5);
    int rc = MQTTAsync_connect(bus->client, o);
    MQTTProperties_free(&props);
    MQTTProperties_free(&wprops);
    free(offline);
    return rc;
}

/* Replaces the paho client (mu not held). */
static void recreate(sb_bus *bus)
{
    if (bus->client)
        MQTTAsync_destroy(&bus->client);
    sb_errmsg em = {0};
    sb_err rc = sb_bus__create_client(bus, &em);
    if (rc != SB_OK) {
        pthread_mutex_lock(&bus->mu);
        sb_bus__set_error(bus, "%s", em.text);
        pthread_mutex_unlock(&bus->mu);
    }
}

/* Starts a connect attempt if one is due (mu held on entry and exit). */
static void maybe_connect(sb_bus *bus)
{
    if (bus->live || bus->connecting || !bus->want_connect || bus->auth_failed)
        return;
    if (sb_time_mono_ms() < bus->next_attempt_ms)
        return;
    bool fresh = bus->need_recreate;
    bus->need_recreate = false;
    bus->want_connect = false;
    bus->connecting = true;
    pthread_mutex_unlock(&bus->mu);
    if (fresh)
        recreate(bus);
    int rc = bus->client ? do_connect(bus) : MQTTASYNC_FAILURE;
    pthread_mutex_lock(&bus->mu);
    if (rc != MQTTASYNC_SUCCESS) {
        bus->connecting = false;
        bus->want_connect = true;
        bus->need_recreate = true;
        bus->next_attempt_ms = sb_time_mono_ms() +
                               (bus->cfg->reconnect_max_ms > 0 ? bus->cfg->reconnect_max_ms : 1000);
        sb_bus__set_error(bus, "cannot connect to %s: %s", bus->url, MQTTAsync_strerror(rc));
    }
}

/*
 * Hands up to 256 queued publishes to paho, taking the lock once for the run; returns how many
 * (mu held on entry and exit). A record may be settled by a callback as soon as it is handed,
 * so the run is claimed (gen set) before the lock is released.
 */
static int hand_run(sb_bus *bus)
{
    bus_out *run[256];
    int n = 0;
    unsigned gen = bus->gen;
    bus_out *rec = bus->cursor;
    while (rec && n < (int)SB_ARRAY_LEN(run) && bus->handed < SB_BUS_HAND_WINDOW) {
        if (rec->gen != gen) { /* not yet handed on this connection */
            rec->gen = gen;
            run[n++] = rec;
            bus->handed++;
        }
        rec = rec->next;
    }
    bus->cursor = rec;
    if (n == 0)
        return 0;
    pthread_mutex_unlock(&bus->mu);
    for (int i = 0; i < n; i++)
        sb_bus__hand(bus, run[i], gen);
    pthread_mutex_lock(&bus->mu);
    return n;
}

static void disconnect(sb_bus *bus)
{
    if (!bus->live || !bus->client)
        return;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 500;
    pthread_mutex_unlock(&bus->mu);
    int rc = MQTTAsync_disconnect(bus->client, &d);
    for (int i = 0; rc == MQTTASYNC_SUCCESS && i < 100 && MQTTAsync_isConnected(bus->client); i++)
        sb_time_sleep_ms(5);
    pthread_mutex_lock(&bus->mu);
    bus->live = false;
    atomic_store(&bus->connected, false);
}

void *sb_bus__io_main(void *arg)
{
    sb_bus *bus = arg;
    pthread_mutex_lock(&bus->mu);
    while (!bus->stopping) {
        maybe_connect(bus);
        if (bus->live && bus->subs_dirty) {
            bus->subs_dirty = false;
            pthread_mutex_unlock(&bus->mu);
            sb_bus__sync_subscriptions(bus);
            pthread_mutex_lock(&bus->mu);
        }
        if (bus->live && bus->nudge) {
            /* paho's send thread can miss the signal of a command added while it was busy and
             * then sleeps up to 1 s before it writes it (measured: PUBACKs waited for ~1 s in
             * about one 10 s run in two at 1k msg/s). Any new command wakes it: an UNSUBSCRIBE
             * of a filter nobody subscribes to costs one small packet and its UNSUBACK. */
            bus->nudge = false;
            char filter[sizeof(bus->prefix) + 16];
            snprintf(filter, sizeof(filter), "%s/_nudge", bus->prefix);
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            pthread_mutex_unlock(&bus->mu);
            MQTTAsync_unsubscribe(bus->client, filter, &ro);
            pthread_mutex_lock(&bus->mu);
        }
        if (bus->live) {
            /* Hand a bounded run, then look at the connection state again. */
            if (bus->live && !bus->stopping && hand_run(bus))
                continue;
        }
        int64_t wait = 100;
        if (bus->want_connect && !bus->connecting) {
            int64_t left = bus->next_attempt_ms - sb_time_mono_ms();
            wait = left < 1 ? 1 : (left < 100 ? left : 100);
        }
        bus->io_waiting = true;
        sb_bus__timed_wait(bus, wait);
        bus->io_waiting = false;
    }
    disconnect(bus);
    bus->io_done = true;
    pthread_mutex_unlock(&bus->mu);
    return NULL;
}
