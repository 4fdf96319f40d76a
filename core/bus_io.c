/*
 * bus_io.c - the bus client's traffic: subscriptions and dispatch, publishing with a bounded
 * pending count, request/reply over MQTT v5 properties, and the retained status.
 */
#include "core/bus_internal.h"

#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local const sb_bus *dispatching; /* set while a handler of this bus runs */

/* ---- topic filters ------------------------------------------------------------------------- */

static const char *strip_share(const char *filter)
{
    if (strncmp(filter, "$share/", 7) != 0)
        return filter;
    const char *slash = strchr(filter + 7, '/');
    return slash ? slash + 1 : filter;
}

bool sb_topic_matches(const char *filter, const char *topic)
{
    filter = strip_share(filter);
    /* Topics starting with '$' are not matched by wildcards at the first level (MQTT 4.7.2). */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    while (*filter) {
        if (filter[0] == '#')
            return true;
        if (filter[0] == '+') {
            while (*topic && *topic != '/')
                topic++;
            filter++;
        } else {
            while (*filter && *filter != '/') {
                if (*filter++ != *topic++)
                    return false;
            }
            if (*topic && *topic != '/')
                return false;
        }
        if (*filter == '/') {
            if (*topic != '/') {
                /* "a/#" also matches "a" itself. */
                return *topic == '\0' && filter[1] == '#' && filter[2] == '\0';
            }
            filter++, topic++;
            continue;
        }
        return *topic == '\0' && *filter == '\0';
    }
    return *topic == '\0';
}

/* ---- subscriptions ------------------------------------------------------------------------- */

/*
 * Every filter is its own SUBSCRIBE with a v5 subscription identifier: mosquitto sends one copy
 * of a message per matching subscription (allow_duplicate_messages), each tagged with the id of
 * its subscription, so dispatching by id gives each handler each message exactly once even
 * when filters overlap. On 3.1.1 (no ids) handlers are matched by filter instead.
 */
static void mqtt_subscribe(sb_bus *bus, const char *filter, int qos, int id)
{
    if (!atomic_load(&bus->connected))
        return; /* sb_bus__subscribe_all runs on connect */
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (atomic_load(&bus->mqtt_version) == MQTTVERSION_5) {
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER};
        p.value.integer4 = (unsigned int)id;
        MQTTProperties_add(&ro.properties, &p);
    }
    MQTTAsync_subscribe(bus->client, filter, qos, &ro);
    MQTTProperties_free(&ro.properties);
}

sb_err sb_bus_subscribe(sb_bus *bus, const char *filter, int qos, sb_bus_handler fn, void *ctx,
                        sb_errmsg *em)
{
    if (!filter || !*filter || !fn || qos < 0 || qos > 2)
        return sb_fail(em, SB_ERR_INVALID, "bus: bad subscription '%s'", filter ? filter : "");
    pthread_mutex_lock(&bus->mu);
    if (bus->n_subs == bus->cap_subs) {
        size_t cap = bus->cap_subs ? bus->cap_subs * 2 : 8;
        bus_sub *s = realloc(bus->subs, cap * sizeof(*s));
        if (!s) {
            pthread_mutex_unlock(&bus->mu);
            return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
        }
        bus->subs = s, bus->cap_subs = cap;
    }
    bus_sub *s = &bus->subs[bus->n_subs];
    s->filter = strdup(filter);
    if (!s->filter) {
        pthread_mutex_unlock(&bus->mu);
        return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
    }
    s->match = strip_share(s->filter);
    s->qos = qos, s->fn = fn, s->ctx = ctx;
    s->id = 0;
    for (size_t i = 0; i < bus->n_subs && !s->id; i++)
        if (strcmp(bus->subs[i].filter, filter) == 0)
            s->id = bus->subs[i].id;
    bool fresh = s->id == 0;
    if (fresh)
        s->id = ++bus->next_sub_id;
    int id = s->id;
    bus->n_subs++;
    pthread_mutex_unlock(&bus->mu);
    if (fresh)
        mqtt_subscribe(bus, filter, qos, id);
    return SB_OK;
}

sb_err sb_bus_unsubscribe(sb_bus *bus, const char *filter)
{
    bool found = false;
    pthread_mutex_lock(&bus->mu);
    for (size_t i = 0; i < bus->n_subs;) {
        if (strcmp(bus->subs[i].filter, filter) == 0) {
            free(bus->subs[i].filter);
            bus->subs[i] = bus->subs[--bus->n_subs];
            found = true;
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&bus->mu);
    if (found && atomic_load(&bus->connected)) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTAsync_unsubscribe(bus->client, filter, &ro);
    }
    return found ? SB_OK : SB_ERR_NOTFOUND;
}

void sb_bus__subscribe_all(sb_bus *bus)
{
    pthread_mutex_lock(&bus->mu);
    size_t n = bus->n_subs;
    bus_sub *copy = calloc(n + 1, sizeof(*copy));
    size_t k = 0;
    for (size_t i = 0; copy && i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = copy[j].id == bus->subs[i].id;
        if (seen)
            continue;
        copy[k] = bus->subs[i];
        copy[k].filter = strdup(bus->subs[i].filter);
        if (copy[k].filter)
            k++;
    }
    pthread_mutex_unlock(&bus->mu);
    for (size_t i = 0; i < k; i++) {
        mqtt_subscribe(bus, copy[i].filter, copy[i].qos, copy[i].id);
        free(copy[i].filter);
    }
    free(copy);
}

void sb_bus__free_subs(sb_bus *bus)
{
    for (size_t i = 0; i < bus->n_subs; i++)
        free(bus->subs[i].filter);
    free(bus->subs);
    bus->subs = NULL;
    bus->n_subs = bus->cap_subs = 0;
    for (bus_request *r = bus->requests; r;) {
        bus_request *next = r->next;
        free(r->reply);
        free(r);
        r = next;
    }
    bus->requests = NULL;
}

/* ---- receiving ----------------------------------------------------------------------------- */

static bool take_reply(sb_bus *bus, const sb_bus_msg *m)
{
    if (!m->correlation || m->correlation_len == 0 || m->correlation_len >= 33 ||
        strcmp(m->topic, bus->reply_topic) != 0)
        return false;
    bool taken = false;
    pthread_mutex_lock(&bus->mu);
    for (bus_request *r = bus->requests; r; r = r->next) {
        if (!r->done && strlen(r->corr) == m->correlation_len &&
            memcmp(r->corr, m->correlation, m->correlation_len) == 0) {
            r->reply = malloc(m->len + 1);
            if (r->reply) {
                memcpy(r->reply, m->payload, m->len);
                r->reply[m->len] = '\0';
                r->reply_len = m->len;
            }
            r->done = true;
            taken = true;
            pthread_cond_broadcast(&bus->cv);
            break;
        }
    }
    pthread_mutex_unlock(&bus->mu);
    return taken;
}

static void fill_props(sb_bus_msg *m, MQTTAsync_message *pm, char *rt, size_t rt_len)
{
    MQTTProperty *p = MQTTProperties_getProperty(&pm->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
    if (p && p->value.data.len > 0 && (size_t)p->value.data.len < rt_len) {
        memcpy(rt, p->value.data.data, (size_t)p->value.data.len);
        rt[p->value.data.len] = '\0';
        m->response_topic = rt;
    }
    p = MQTTProperties_getProperty(&pm->properties, MQTTPROPERTY_CODE_CORRELATION_DATA);
    if (p && p->value.data.len > 0) {
        m->correlation = p->value.data.data;
        m->correlation_len = (size_t)p->value.data.len;
    }
}

/* The v5 subscription identifiers a message carries (at most max); 0 on 3.1.1. */
static size_t sub_ids(MQTTAsync_message *pm, int *ids, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < pm->properties.count && n < max; i++) {
        MQTTProperty *p = &pm->properties.array[i];
        if (p->identifier == MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER)
            ids[n++] = (int)p->value.integer4;
    }
    return n;
}

static bool sub_selected(const bus_sub *s, const sb_bus_msg *m, const int *ids, size_t n_ids)
{
    if (n_ids == 0)
        return sb_topic_matches(s->match, m->topic);
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] == s->id)
            return true;
    return false;
}

/* Calls the handlers the message is for, outside the lock (handlers may subscribe). */
static void dispatch(sb_bus *bus, const sb_bus_msg *m, const int *ids, size_t n_ids)
{
    struct {
        sb_bus_handler fn;
        void *ctx;
    } hit[16];
    size_t n = 0;
    pthread_mutex_lock(&bus->mu);
    for (size_t i = 0; i < bus->n_subs && n < SB_ARRAY_LEN(hit); i++) {
        if (sub_selected(&bus->subs[i], m, ids, n_ids)) {
            hit[n].fn = bus->subs[i].fn;
            hit[n].ctx = bus->subs[i].ctx;
            n++;
        }
    }
    pthread_mutex_unlock(&bus->mu);
    if (n == 0)
        atomic_fetch_add(&bus->unhandled, 1);
    dispatching = bus;
    for (size_t i = 0; i < n; i++)
        hit[i].fn(hit[i].ctx, m);
    dispatching = NULL;
}

int sb_bus__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
{
    sb_bus *bus = ctx;
    atomic_fetch_add(&bus->received, 1);
    char rt[512];
    sb_bus_msg m = {
        .topic = topic,
        .payload = pm->payload,
        .len = pm->payloadlen > 0 ? (size_t)pm->payloadlen : 0,
        .qos = pm->qos,
        .retained = pm->retained,
        .duplicate = pm->dup,
    };
    (void)topic_len; /* paho NUL-terminates topics; embedded NULs are not valid MQTT topics */
    fill_props(&m, pm, rt, sizeof(rt));
    int ids[8];
    size_t n_ids = sub_ids(pm, ids, SB_ARRAY_LEN(ids));
    if (!take_reply(bus, &m))
        dispatch(bus, &m, ids, n_ids);
    MQTTAsync_freeMessage(&pm);
    MQTTAsync_free(topic);
    return 1;
}

/* ---- publishing ---------------------------------------------------------------------------- */

static void pub_done(sb_bus *bus, bool ok)
{
    atomic_fetch_add(ok ? &bus->acknowledged : &bus->publish_failed, 1);
    if (atomic_fetch_sub(&bus->pending, 1) == 1) {
        pthread_mutex_lock(&bus->mu);
        pthread_cond_broadcast(&bus->cv);
        pthread_mutex_unlock(&bus->mu);
    }
}

static void on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    pub_done(ctx, r == NULL || r->reasonCode < 0x80);
}
static void on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)r;
    pub_done(ctx, false);
}
static void on_pub_ok3(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    pub_done(ctx, true);
}
static void on_pub_fail3(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    pub_done(ctx, false);
}

sb_err sb_bus__publish_props(sb_bus *bus, const char *topic, const void *payload, size_t len,
                             int qos, bool retain, MQTTProperties *props)
{
    if (!topic || !*topic || qos < 0 || qos > 2 || len > 256u * 1024 * 1024)
        return SB_ERR_INVALID;
    int64_t max = bus->cfg->max_pending > 0 ? bus->cfg->max_pending : 100000;
    if (atomic_fetch_add(&bus->pending, 1) >= max) {
        atomic_fetch_sub(&bus->pending, 1);
        atomic_fetch_add(&bus->rejected_full, 1);
        return SB_ERR_FULL;
    }
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = qos;
    m.retained = retain;
    if (props)
        m.properties = *props;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = bus;
    if (atomic_load(&bus->mqtt_version) == MQTTVERSION_5 ||
        (atomic_load(&bus->mqtt_version) == 0 && bus->version_wanted == MQTTVERSION_5)) {
        ro.onSuccess5 = on_pub_ok5;
        ro.onFailure5 = on_pub_fail5;
    } else {
        ro.onSuccess = on_pub_ok3;
        ro.onFailure = on_pub_fail3;
    }
    int rc = MQTTAsync_sendMessage(bus->client, topic, &m, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        atomic_fetch_sub(&bus->pending, 1);
        if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES || rc == MQTTASYNC_MAX_BUFFERED) {
            atomic_fetch_add(&bus->rejected_full, 1);
            return SB_ERR_FULL;
        }
        atomic_fetch_add(&bus->publish_failed, 1);
        return rc == MQTTASYNC_DISCONNECTED ? SB_ERR_CLOSED : SB_ERR_IO;
    }
    atomic_fetch_add(&bus->published, 1);
    return SB_OK;
}

sb_err sb_bus_publish(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                      bool retain)
{
    return sb_bus__publish_props(bus, topic, payload, len, qos, retain, NULL);
}

sb_err sb_bus_flush(sb_bus *bus, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&bus->mu);
    while (atomic_load(&bus->pending) > 0) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t step = left < 20 ? left : 20;
        ts.tv_nsec += step * 1000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
    }
    bool done = atomic_load(&bus->pending) <= 0;
    pthread_mutex_unlock(&bus->mu);
    return done ? SB_OK : SB_ERR_TIMEOUT;
}

/* ---- request / reply ----------------------------------------------------------------------- */

static sb_err ensure_reply_sub(sb_bus *bus, sb_errmsg *em);

static void ignore_reply(void *ctx, const sb_bus_msg *m)
{
    (void)ctx, (void)m; /* late replies whose requester gave up */
}

static sb_err ensure_reply_sub(sb_bus *bus, sb_errmsg *em)
{
    pthread_mutex_lock(&bus->mu);
    bool have = false;
    for (size_t i = 0; i < bus->n_subs && !have; i++)
        have = strcmp(bus->subs[i].filter, bus->reply_topic) == 0;
    pthread_mutex_unlock(&bus->mu);
    if (have)
        return SB_OK;
    sb_err rc = sb_bus_subscribe(bus, bus->reply_topic, 1, ignore_reply, NULL, em);
    /* Give the broker a moment to register it before the request goes out. */
    for (int i = 0; rc == SB_OK && i < 20 && atomic_load(&bus->connected); i++)
        sb_time_sleep_ms(5);
    return rc;
}

static void request_unlink(sb_bus *bus, bus_request *req)
{
    for (bus_request **pp = &bus->requests; *pp; pp = &(*pp)->next) {
        if (*pp == req) {
            *pp = req->next;
            break;
        }
    }
}

static sb_err request_wait(sb_bus *bus, bus_request *req, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    while (!req->done) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0)
            return SB_ERR_TIMEOUT;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t step = left < 50 ? left : 50;
        ts.tv_nsec += step * 1000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
    }
    return SB_OK;
}

sb_err sb_bus_request(sb_bus *bus, const char *topic, const void *payload, size_t len,
                      int64_t timeout_ms, char **reply, size_t *reply_len, sb_errmsg *em)
{
    *reply = NULL;
    if (dispatching == bus)
        return sb_fail(em, SB_ERR_CONFLICT, "bus: sb_bus_request called from a bus handler");
    if (atomic_load(&bus->connected) && atomic_load(&bus->mqtt_version) != MQTTVERSION_5)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "bus: request/reply needs MQTT 5");
    sb_err rc = ensure_reply_sub(bus, em);
    if (rc != SB_OK)
        return rc;
    bus_request *req = calloc(1, sizeof(*req));
    if (!req)
        return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
    char id[SB_UUID_LEN];
    sb_uuid(id);
    size_t k = 0;
    for (size_t i = 0; id[i] && k < 32; i++)
        if (id[i] != '-')
            req->corr[k++] = id[i];
    pthread_mutex_lock(&bus->mu);
    req->next = bus->requests;
    bus->requests = req;
    pthread_mutex_unlock(&bus->mu);

    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_RESPONSE_TOPIC};
    p.value.data.data = bus->reply_topic;
    p.value.data.len = (int)strlen(bus->reply_topic);
    MQTTProperties_add(&props, &p);
    MQTTProperty c = {.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA};
    c.value.data.data = req->corr;
    c.value.data.len = (int)strlen(req->corr);
    MQTTProperties_add(&props, &c);
    rc = sb_bus__publish_props(bus, topic, payload, len, 1, false, &props);
    MQTTProperties_free(&props);

    pthread_mutex_lock(&bus->mu);
    if (rc == SB_OK)
        rc = request_wait(bus, req, timeout_ms);
    request_unlink(bus, req);
    pthread_mutex_unlock(&bus->mu);
    if (rc == SB_OK && req->reply) {
        *reply = req->reply;
        if (reply_len)
            *reply_len = req->reply_len;
    } else {
        free(req->reply);
        if (rc == SB_OK)
            rc = SB_ERR_NOMEM;
        sb_fail(em, rc, "bus: request on %s: %s", topic,
                rc == SB_ERR_TIMEOUT ? "no reply in time" : sb_strerror(rc));
    }
    free(req);
    return rc;
}

sb_err sb_bus_reply(sb_bus *bus, const sb_bus_msg *request, const void *payload, size_t len)
{
    if (!request || !request->response_topic)
        return SB_ERR_INVALID;
    MQTTProperties props = MQTTProperties_initializer;
    if (request->correlation) {
        MQTTProperty c = {.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA};
        c.value.data.data = (char *)request->correlation;
        c.value.data.len = (int)request->correlation_len;
        MQTTProperties_add(&props, &c);
    }
    sb_err rc = sb_bus__publish_props(bus, request->response_topic, payload, len, 1, false, &props);
    MQTTProperties_free(&props);
    return rc;
}

/* ---- status -------------------------------------------------------------------------------- */

void sb_bus__status_json(sb_bus *bus, const char *status, const char *stats, char **out)
{
    *out = NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "service", bus->service);
    cJSON_AddStringToObject(o, "instance", bus->instance);
    cJSON_AddStringToObject(o, "version", bus->version);
    cJSON_AddStringToObject(o, "startedAt", bus->started_at);
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    cJSON_AddStringToObject(o, "updatedAt", now);
    cJSON *st = NULL;
    if (stats)
        sb_json_parse(stats, strlen(stats), &st, NULL);
    cJSON_AddItemToObject(o, "stats", st ? st : cJSON_CreateObject());
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

sb_err sb_bus_set_status(sb_bus *bus, const char *stats_json)
{
    if (bus->no_status)
        return SB_OK;
    char *st = NULL;
    sb_bus__status_json(bus, "online", stats_json, &st);
    if (!st)
        return SB_ERR_NOMEM;
    sb_err rc = sb_bus_publish(bus, bus->status_topic, st, strlen(st), 1, true);
    free(st);
    return rc;
}
