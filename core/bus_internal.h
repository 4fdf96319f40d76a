/*
 * bus_internal.h - state shared by the bus client's files:
 *   bus.c      lifecycle (create, start, destroy), paho callbacks, stats;
 *   bus_io.c   the io thread: connects, recreates the paho client after a lost connection,
 *              subscribes, and hands queued publishes to paho in order;
 *   bus_pub.c  the outgoing queue (publish, acknowledgement, flush), request/reply, status;
 *   bus_sub.c  subscriptions, topic matching and dispatch of received messages;
 *   bus_nodelay.c  TCP_NODELAY on the broker connection (paho leaves Nagle on).
 *
 * Why our own outgoing queue: paho 1.3.11 does not resend the messages in flight when a
 * connection drops (its in-flight window stays full and publishing stalls after the reconnect),
 * and a partial write left over from a dead socket can corrupt the next connection ("malformed
 * packet"). So every publish is kept here until the broker acknowledges it; after a lost
 * connection the paho client is destroyed and a fresh one is created, and everything not yet
 * acknowledged is handed to it again, in the original order (at-least-once).
 *
 * Only the io thread calls paho's client API (connect, subscribe, send, destroy); paho's
 * callbacks only touch this state under `mu`, never calling paho with `mu` held. So a service
 * may publish while holding a lock its own bus handlers also take: paho holds its (process-wide)
 * mutex while it runs callbacks, and a publishing thread that called into paho under such a lock
 * would deadlock against a handler waiting for that lock. (An earlier shortcut that handed
 * publishes to paho from the publishing thread did exactly that to the gateway service.)
 */
#ifndef SB_BUS_INTERNAL_H
#define SB_BUS_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/bus.h"

typedef struct bus_sub {
    char *filter;      /* as given, maybe "$share/g/..." */
    const char *match; /* the part to match topics against */
    int qos;
    int id;    /* MQTT v5 subscription identifier; handlers of one filter share it */
    bool sent; /* SUBSCRIBE issued on the current connection */
    sb_bus_handler fn;
    void *ctx;
} bus_sub;

/* A publish kept until the broker acknowledges it. topic and payload live after the struct. */
typedef struct bus_out {
    struct bus_out *prev, *next;
    struct sb_bus *bus;
    uint64_t id;  /* publish order */
    unsigned gen; /* client generation it was handed to; 0 = not handed */
    char *topic;
    void *payload;
    int len;
    int qos;
    bool retain;
    bool has_props;
    MQTTProperties props;
} bus_out;

/*
 * At most this many publishes are handed to paho and not yet acknowledged: paho's command
 * queue is a list it walks, and a plain paho publisher flooding it with 100k messages runs at
 * half the speed of one that keeps about 1,000 outstanding (bench/bus).
 */
#define SB_BUS_HAND_WINDOW 1000

typedef struct bus_request {
    struct bus_request *next;
    char corr[33];
    char *reply;
    size_t reply_len;
    bool done;
} bus_request;

typedef struct bus_unsub {
    struct bus_unsub *next;
    char filter[];
} bus_unsub;

struct sb_bus {
    MQTTAsync client; /* owned by the io thread */
    const sb_config_bus *cfg;
    char url[512];
    char client_id[336];
    char service[64];
    char instance[128];
    char version[32];
    char prefix[128];
    char status_topic[512];
    char reply_topic[512];
    char started_at[32];
    bool clean_start;
    bool no_status;
    int version_wanted; /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
    bool may_fallback;  /* auto: try 3.1.1 when the broker refuses 5 */

    pthread_mutex_t mu; /* guards everything below that is not atomic */
    pthread_cond_t cv;  /* state changes: the io thread, start, flush, requests wait on it */

    /* subscriptions */
    bus_sub *subs;
    size_t n_subs, cap_subs;
    int next_sub_id;
    bus_unsub *unsubs; /* UNSUBSCRIBEs for the io thread to send */
    bool subs_dirty;   /* something for sb_bus__sync_subscriptions to send */

    /* outgoing queue, in publish order */
    bus_out *out_head, *out_tail;
    bus_out *cursor; /* next record to hand to paho on this connection */
    uint64_t next_out_id;
    int ack_waiters; /* threads in sb_bus_wait_acked: settling the oldest record wakes them */
    bool nudge;      /* sb_bus_wait_acked waits long: the io thread wakes paho's send thread */
    unsigned gen;    /* bumped on every lost connection: stale paho callbacks are ignored */

    /* connection state */
    bool live;          /* connected: records may be handed to paho */
    bool connecting;    /* a connect is under way */
    bool need_recreate; /* the paho client saw a lost connection: make a fresh one */
    bool want_connect;  /* the io thread should connect */
    bool auth_failed;   /* credentials refused: stop retrying */
    bool started, stopping, io_done;
    bool io_waiting;         /* the io thread sleeps on cv: a publish must wake it */
    int handed;              /* handed to paho on this connection and not yet settled */
    int64_t next_attempt_ms; /* monotonic time of the next connect attempt */
    int64_t backoff_ms;
    char last_error[256];
    pthread_t io;
    bool io_running;

    bus_request *requests;

    atomic_bool connected;
    atomic_int mqtt_version;
    atomic_uint_fast64_t published, acknowledged, publish_failed, rejected_full, received,
        unhandled, connects;
    atomic_int_fast64_t pending;
};

/* bus.c */
sb_err sb_bus__create_client(sb_bus *bus, sb_errmsg *em);
void sb_bus__on_connection_lost(void *ctx, char *cause);
void sb_bus__set_error(sb_bus *bus, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_bus__timed_wait(sb_bus *bus, int64_t ms); /* cond wait on bus->cv, mu held */
void sb_bus__connect_callbacks(MQTTAsync_connectOptions *o, bool v5);

/* bus_nodelay.c */
int sb_bus__url_port(const char *url);     /* the broker's TCP port, by scheme when not given */
void sb_bus__set_nodelay(const char *url); /* TCP_NODELAY on the sockets to url's port */

/* bus_io.c */
void *sb_bus__io_main(void *arg);

/* bus_pub.c */
sb_err sb_bus__enqueue(sb_bus *bus, const char *topic, const void *payload, size_t len, int qos,
                       bool retain, const MQTTProperties *props);
void sb_bus__hand(sb_bus *bus, bus_out *rec, unsigned gen); /* io thread, mu not held */
void sb_bus__free_outgoing(sb_bus *bus);
void sb_bus__status_json(sb_bus *bus, const char *status, const char *stats, char **out);

/* bus_sub.c */
int sb_bus__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m);
void sb_bus__sync_subscriptions(sb_bus *bus); /* io thread, mu not held */
void sb_bus__mark_unsubscribed(sb_bus *bus);  /* mu held: a new connection needs them all */
void sb_bus__free_subs(sb_bus *bus);
bool sb_bus__subscribed(sb_bus *bus, const char *filter); /* SUBSCRIBE issued */
bool sb_bus__dispatching(const sb_bus *bus);              /* called from a handler of bus */

#endif
