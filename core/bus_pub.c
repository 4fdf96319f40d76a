/*
 * bus_pub.c - the outgoing queue: every publish is kept until the broker acknowledges it (or,
 * for QoS 0, until paho wrote it), and handed to each new connection again until then.
 * Also request/reply and the retained status.
 */
#include "core/bus_internal.h"

#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_err enqueue(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                      bool retain, const MQTTProperties *props, uint64_t *id)
{
    if (!topic || !*topic || qos < 0 || qos > 2 || len > 256u * 1024 * 1024)
        return SB_ERR_INVALID;
    int64_t max = bus->cfg->max_pending > 0 ? bus->cfg->max_pending : 100000;
    if (atomic_fetch_add(&bus->pending, 1) >= max) {
        atomic_fetch_sub(&bus->pending, 1);
        atomic_fetch_add(&bus->rejected_full, 1);
        return SB_ERR_FULL;
    }
    size_t tlen = strlen(topic) + 1;
    bus_out *rec = malloc(sizeof(*rec) + tlen + len);
    if (!rec) {
        atomic_fetch_sub(&bus->pending, 1);
        return SB_ERR_NOMEM;
    }
    memset(rec, 0, sizeof(*rec));
    rec->bus = bus;
    rec->topic = (char *)(rec + 1);
    memcpy(rec->topic, topic, tlen);
    rec->payload = rec->topic + tlen;
    if (len)
        memcpy(rec->payload, payload, len);
    rec->len = (int)len, rec->qos = qos, rec->retain = retain;
    if (props && props->count) {
        rec->props = MQTTProperties_copy(props);
        rec->has_props = true;
    }
    pthread_mutex_lock(&bus->mu);
    rec->id = ++bus->next_out_id;
    if (id)
        *id = rec->id;
    rec->prev = bus->out_tail;
    if (bus->out_tail)
        bus->out_tail->next = rec;
    else
        bus->out_head = rec;
    bus->out_tail = rec;
    if (!bus->cursor)
        bus->cursor = rec;
    if (bus->io_waiting) /* otherwise it is busy handing and will find rec */
        pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
    atomic_fetch_add(&bus->published, 1);
    return SB_OK;
}

sb_err sb_bus__enqueue(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                       bool retain, const MQTTProperties *props)
{
    return enqueue(bus, topic, payload, len, qos, retain, props, NULL);
}

static void unlink_free(sb_bus *bus, bus_out *rec)
{
    if (rec->prev)
        rec->prev->next = rec->next;
    else
        bus->out_head = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    else
        bus->out_tail = rec->prev;
    if (bus->cursor == rec)
        bus->cursor = rec->next;
    if (rec->has_props)
        MQTTProperties_free(&rec->props);
    free(rec);
}

/* The broker acknowledged rec (or refused it for good when ok is false). */
static void settle(bus_out *rec, unsigned gen_check, bool ok)
{
    sb_bus *bus = rec->bus;
    pthread_mutex_lock(&bus->mu);
    (void)gen_check;
    if (rec->gen == bus->gen && bus->live) {
        bool oldest = rec == bus->out_head;
        unlink_free(bus, rec);
        bus->handed--;
        if (bus->cursor && bus->io_waiting) /* room in the window for what waits */
            pthread_cond_broadcast(&bus->cv);
        atomic_fetch_add(ok ? &bus->acknowledged : &bus->publish_failed, 1);
        /* sb_bus_flush waits for the queue to empty, sb_bus_wait_acked for the oldest record
         * to move past an id: waking every waiter on every PUBACK would cost a context switch
         * per message, so only those moments wake them. */
        if (atomic_fetch_sub(&bus->pending, 1) == 1 || (oldest && bus->ack_waiters > 0))
            pthread_cond_broadcast(&bus->cv);
    }
    pthread_mutex_unlock(&bus->mu);
}

/* paho could not deliver rec on this connection: hand it again (it stays queued). */
static void retry_later(bus_out *rec)
{
    sb_bus *bus = rec->bus;
    pthread_mutex_lock(&bus->mu);
    if (rec->gen == bus->gen) {
        rec->gen = 0;
        bus->handed--;
        if (!bus->cursor || rec->id < bus->cursor->id)
            bus->cursor = rec;
        pthread_cond_broadcast(&bus->cv);
    }
    pthread_mutex_unlock(&bus->mu);
}

static void on_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    /* A v5 PUBACK with a reason code >= 0x80 is the broker refusing the message for good
     * (not authorised, quota, payload format): retrying cannot help. */
    settle(ctx, 0, r == NULL || r->reasonCode < 0x80);
}

static void on_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    if (r && r->reasonCode >= 0x80)
        settle(ctx, 0, false);
    else
        retry_later(ctx);
}

static void on_ok3(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    settle(ctx, 0, true);
}

static void on_fail3(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    retry_later(ctx);
}

void sb_bus__hand(sb_bus *bus, bus_out *rec, unsigned gen)
{
    (void)gen;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = rec->payload;
    m.payloadlen = rec->len;
    m.qos = rec->qos;
    m.retained = rec->retain;
    if (rec->has_props)
        m.properties = rec->props;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = rec;
    if (atomic_load(&bus->mqtt_version) == MQTTVERSION_5) {
        ro.onSuccess5 = on_ok5;
        ro.onFailure5 = on_fail5;
    } else {
        ro.onSuccess = on_ok3;
        ro.onFailure = on_fail3;
    }
    /* paho copies topic and payload; after this call a callback may free rec at any time. */
    if (MQTTAsync_sendMessage(bus->client, rec->topic, &m, &ro) != MQTTASYNC_SUCCESS)
        retry_later(rec);
}

void sb_bus__free_outgoing(sb_bus *bus)
{
    while (bus->out_head)
        unlink_free(bus, bus->out_head);
    for (bus_request *r = bus->requests; r;) {
        bus_request *next = r->next;
        free(r->reply);
        free(r);
        r = next;
    }
    bus->requests = NULL;
}

sb_err sb_bus_publish(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                      bool retain)
{
    return sb_bus__enqueue(bus, topic, payload, len, qos, retain, NULL);
}

sb_err sb_bus_publish_id(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                         bool retain, uint64_t *id)
{
    return enqueue(bus, topic, payload, len, qos, retain, NULL, id);
}

sb_err sb_bus_wait_acked(sb_bus *bus, uint64_t id, int64_t timeout_ms)
{
    if (sb_bus_in_handler())
        return SB_ERR_CONFLICT;
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&bus->mu);
    bus->ack_waiters++;
    /* the queue is in publish order: everything up to id is settled when the oldest record
     * left is newer (or none is left) */
    int64_t nudge_at = sb_time_mono_ms() + 5;
    while (bus->out_head && bus->out_head->id <= id) {
        int64_t now = sb_time_mono_ms(), left = deadline - now;
        if (left <= 0)
            break;
        if (now >= nudge_at && bus->live) { /* long for a loopback PUBACK: see bus_io.c */
            bus->nudge = true;
            nudge_at = now + 20;
            if (bus->io_waiting)
                pthread_cond_broadcast(&bus->cv);
        }
        sb_bus__timed_wait(bus, left < 5 ? left : 5);
    }
    bus->ack_waiters--;
    bool done = !bus->out_head || bus->out_head->id > id;
    pthread_mutex_unlock(&bus->mu);
    return done ? SB_OK : SB_ERR_TIMEOUT;
}

sb_err sb_bus_flush(sb_bus *bus, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&bus->mu);
    while (atomic_load(&bus->pending) > 0) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0)
            break;
        sb_bus__timed_wait(bus, left < 20 ? left : 20);
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
    for (int i = 0; rc == SB_OK && i < 40 && atomic_load(&bus->connected) &&
                    !sb_bus__subscribed(bus, bus->reply_topic);
         i++)
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
        sb_bus__timed_wait(bus, left < 50 ? left : 50);
    }
    return SB_OK;
}

sb_err sb_bus_request(sb_bus *bus, const char *topic, const void *payload, size_t len,
                      int64_t timeout_ms, char **reply, size_t *reply_len, sb_errmsg *em)
{
    *reply = NULL;
    if (sb_bus__dispatching(bus))
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
    /* Nobody waits for the reply after the timeout: the broker drops a request it has not
     * delivered by then, so a service that comes back does not act on it (a user was told
     * it failed). Whole seconds, at least one. */
    MQTTProperty x = {.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL};
    x.value.integer4 = (unsigned int)(timeout_ms > 0 ? (timeout_ms + 999) / 1000 : 1);
    MQTTProperties_add(&props, &x);
    rc = sb_bus__enqueue(bus, topic, payload, len, 1, false, &props);
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
    sb_err rc = sb_bus__enqueue(bus, request->response_topic, payload, len, 1, false, &props);
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
    sb_err rc = sb_bus__enqueue(bus, bus->status_topic, st, strlen(st), 1, true, NULL);
    free(st);
    return rc;
}
