/*
 * bus.h - the MQTT bus client every service uses (paho.mqtt.c MQTTAsync underneath).
 *
 * - MQTT v5 when the broker offers it, 3.1.1 otherwise (bus.mqtt_version: auto).
 * - Persistent session: a fixed client id per service instance and clean start off, with a
 *   session expiry, so QoS 1 messages published while a service was away reach it on return.
 * - Reconnects with exponential backoff (bus.reconnect_min .. bus.reconnect_max) and restores
 *   every subscription after each connect.
 * - Publishes never block: a publish is queued in paho (also while disconnected) and counted as
 *   pending until the broker acknowledges it; at bus.max_pending pending, sb_bus_publish
 *   returns SB_ERR_FULL at once.
 * - Retained status "<p>/status/<service>/<instance>" with a last will that turns it offline.
 * - Request/reply with the MQTT v5 response topic and correlation data, with a timeout.
 *
 * Handlers run on the client's delivery thread, one message at a time, in arrival order. They
 * must not block for long and must not call sb_bus_request() (it returns SB_ERR_CONFLICT there).
 * Every function is thread-safe.
 */
#ifndef SB_BUS_H
#define SB_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

typedef struct sb_bus sb_bus;

typedef struct sb_bus_opts {
    const sb_config_bus *cfg; /* borrowed for the bus's lifetime */
    const char *url;          /* overrides cfg->url when not NULL (the managed broker's url) */
    const char *service;      /* "processor", "gateway" ... */
    const char *instance;     /* the instance id (host name by default) */
    const char *client_id;    /* NULL = "<prefix>-<service>-<instance>" */
    const char *version;      /* reported in the status; NULL = SB_VERSION */
    bool clean_start;         /* false (the default) keeps the session across restarts */
    bool no_status;           /* true: no retained status and no last will */
} sb_bus_opts;

/* A received message; every pointer is borrowed for the duration of the handler call. */
typedef struct sb_bus_msg {
    const char *topic;
    const void *payload;
    size_t len;
    int qos;
    bool retained;
    bool duplicate;
    const char *response_topic; /* MQTT v5 request: where to reply, else NULL */
    const void *correlation;    /* MQTT v5 correlation data, else NULL */
    size_t correlation_len;
} sb_bus_msg;

typedef void (*sb_bus_handler)(void *ctx, const sb_bus_msg *msg);

typedef struct sb_bus_stats {
    uint64_t published;      /* publishes accepted */
    uint64_t acknowledged;   /* publishes the broker acknowledged (or sent, for QoS 0) */
    uint64_t publish_failed; /* publishes paho reported as failed */
    uint64_t rejected_full;  /* publishes refused with SB_ERR_FULL */
    uint64_t received;       /* messages delivered to the client */
    uint64_t unhandled;      /* received messages no subscription matched */
    uint64_t connects;       /* successful connects (1 + reconnects) */
    uint64_t pending;        /* publishes awaiting the broker now */
    bool connected;
    int mqtt_version; /* 5 or 4 (3.1.1) once connected */
} sb_bus_stats;

/* Creates the client; nothing is sent until sb_bus_start(). Free with sb_bus_destroy(). */
sb_err sb_bus_create(const sb_bus_opts *opts, sb_bus **out, sb_errmsg *em);

/*
 * Routes messages whose topic matches filter ('+', '#', and "$share/<group>/<filter>") to fn.
 * Full topic filters, the prefix is not added. May be called before or after start; the
 * subscription is made at once when connected and again after every reconnect.
 */
sb_err sb_bus_subscribe(sb_bus *bus, const char *filter, int qos, sb_bus_handler fn, void *ctx,
                        sb_errmsg *em);
sb_err sb_bus_unsubscribe(sb_bus *bus, const char *filter);

/*
 * Connects and waits up to timeout_ms for the first connection. On SB_ERR_TIMEOUT or a refused
 * connection the client keeps retrying in the background (and em says why it failed so far);
 * credentials refused by the broker give SB_ERR_AUTH and stop retrying.
 */
sb_err sb_bus_start(sb_bus *bus, int64_t timeout_ms, sb_errmsg *em);

/* Queues a publish. SB_ERR_FULL when bus.max_pending publishes are pending; never blocks. */
sb_err sb_bus_publish(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                      bool retain);

/* Waits until no publish is pending or timeout_ms passes (SB_ERR_TIMEOUT). */
sb_err sb_bus_flush(sb_bus *bus, int64_t timeout_ms);

/*
 * sb_bus_publish that also gives the publish's id (*id; ids grow in publish order), so that
 * the caller can wait for it with sb_bus_wait_acked.
 */
sb_err sb_bus_publish_id(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                         bool retain, uint64_t *id);

/*
 * Waits until every publish with an id up to id has been acknowledged by the broker (QoS 1:
 * its PUBACK came; QoS 0: paho wrote it) or refused by it for good, or timeout_ms passes
 * (SB_ERR_TIMEOUT). Publishes queued later do not hold it up. Not in a bus handler.
 */
sb_err sb_bus_wait_acked(sb_bus *bus, uint64_t id, int64_t timeout_ms);

/*
 * Publishes a request (QoS 1) with a response topic and correlation data and waits for the
 * reply. *reply (NUL-terminated, caller frees) and *reply_len on success. MQTT v5 only
 * (SB_ERR_UNSUPPORTED on 3.1.1). SB_ERR_TIMEOUT when no reply came in time. The request carries
 * a message expiry of timeout_ms (rounded up to whole seconds): the broker drops it if it could
 * not deliver it by then, so a service that comes back later does not act on it.
 */
sb_err sb_bus_request(sb_bus *bus, const char *topic, const void *payload, size_t len,
                      int64_t timeout_ms, char **reply, size_t *reply_len, sb_errmsg *em);

/* Replies to a request received in a handler (no-op returning SB_ERR_INVALID if none). */
sb_err sb_bus_reply(sb_bus *bus, const sb_bus_msg *request, const void *payload, size_t len);

/* Publishes the retained status: {"status":"online","version","startedAt","stats":<stats>}. */
sb_err sb_bus_set_status(sb_bus *bus, const char *stats_json);

void sb_bus_get_stats(sb_bus *bus, sb_bus_stats *out);
bool sb_bus_connected(sb_bus *bus);

/* The topic prefix ("switchboard"). */
const char *sb_bus_prefix(const sb_bus *bus);

/* Writes "<prefix>/<formatted>" into buf; SB_ERR_TOO_LARGE when it does not fit. */
sb_err sb_bus_topic(const sb_bus *bus, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Publishes the offline status, waits up to drain_ms for pending publishes, disconnects and
 * frees. Accepts NULL.
 */
void sb_bus_destroy(sb_bus *bus, int64_t drain_ms);

/*
 * Whether the calling thread is running a bus handler (of any bus client). paho delivers every
 * client's messages on one thread per process, so code that may wait (for room in a queue, for
 * a reply) must not do so there: it would hold up every other client's deliveries too.
 */
bool sb_bus_in_handler(void);

/* MQTT topic filter matching ('+' one level, '#' the rest; "$share/g/" prefix ignored). */
bool sb_topic_matches(const char *filter, const char *topic);

#endif
