/*
 * ws.h - the websocket /api/ws (docs/websocket.md): live events from the bus to subscribed
 * clients, on the same lws context and thread as the HTTP server.
 *
 * Two threads meet here. The bus delivery thread (ws_hub_on_event) parses events, matches them
 * against each client's subscriptions and appends a shared, reference-counted frame to the
 * client's bounded queue, then wakes lws with lws_cancel_service(). The lws thread owns every
 * wsi: it adds and removes clients, handles their messages and writes their queues when the
 * socket allows. The hub mutex guards the client list, queues and subscriptions. A client whose
 * queue overflows loses the queue and gets {"type":"resync"}; it is disconnected after
 * WS_OVERFLOW_MAX overflows without catching up, or when a resync notice stays unread for
 * WS_STUCK_MS while events keep overflowing. No client can make the bus thread wait for it.
 */
#ifndef SB_API_WS_H
#define SB_API_WS_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api.h"

#define WS_QUEUE_MAX    4096  /* events queued per client before an overflow */
#define WS_WRITE_BURST  64    /* frames written per writable callback at most */
#define WS_OVERFLOW_MAX 3     /* overflows before a disconnect (without catching up) */
#define WS_STUCK_MS     3000  /* a resync notice unread this long: disconnect */
#define WS_MSG_MAX      65536 /* largest message a client may send */
#define WS_SUBS_MAX     64    /* subscriptions per client */
#define WS_LIST_MAX     1000  /* entries in one subscription list */
#define WS_AUTH_SECS    10    /* an unauthenticated socket is closed after this */

/* A text frame shared by every client that gets it; buf has LWS_PRE bytes of headroom. */
typedef struct ws_frame {
    atomic_int refs;
    size_t len;
    unsigned char buf[];
} ws_frame;

ws_frame *ws_frame_new(const char *text, size_t len);
void ws_frame_unref(ws_frame *f);

typedef struct ws_strs {
    char **v;
    size_t n;
} ws_strs;

/* One subscription: every non-empty list must match (any entry of it). */
typedef struct ws_sub {
    char id[64];
    ws_strs quick_ids; /* exact quick ids, canonical kind names */
    ws_strs prefixes;  /* "node:gw1.12" (canonical kind) or a plain entity-id prefix */
    ws_strs kinds;     /* entity kinds */
    ws_strs events;    /* created, updated, deleted */
} ws_sub;

typedef struct ws_client {
    struct lws *wsi;
    struct ws_client *next;
    /* under the hub mutex */
    ws_sub *subs;
    size_t n_subs;
    ws_frame **q; /* ring of WS_QUEUE_MAX * 2 (replies may exceed the event bound) */
    size_t head, n;
    bool resync;          /* the queue was dropped: send {"type":"resync"} first */
    int overflows;        /* overflows since the client last emptied its queue */
    int64_t resync_since; /* when the pending resync notice was queued (monotonic ms) */
    bool kick;            /* too slow: close it */
    bool admin;           /* may see user events */
    uint64_t sent, dropped;
    /* lws thread only */
    bool authed;
    char username[SB_QUICKID_PART_MAX];
    char *rx; /* a message being received in fragments */
    size_t rx_len;
} ws_client;

typedef struct ws_hub {
    pthread_mutex_t mu;
    ws_client *clients;
    size_t n_clients;
    struct lws_context *ctx; /* set while lws runs; read by the bus thread to wake it */
    atomic_uint_fast64_t events, overflows, kicked;
} ws_hub;

ws_hub *ws_hub_new(void);
void ws_hub_free(ws_hub *h);
/* The bus handler for <p>/event/# (single events and arrays). */
void ws_hub_on_event(void *ctx, const sb_bus_msg *msg);
/* Queues a frame for one client (taken: the queue keeps a reference). Under the mutex. */
void ws_hub_push_locked(ws_hub *h, ws_client *c, ws_frame *f, bool bounded);
/* Queues text for one client from the lws thread (replies) and asks for a writable callback. */
void ws_hub_reply(ws_hub *h, ws_client *c, cJSON *msg);

/* Subscriptions (ws_sub.c): parse a subscribe/unsubscribe message into the client's set. */
sb_err ws_sub_add(ws_client *c, const cJSON *msg, char *id, size_t id_len, sb_errmsg *em);
size_t ws_sub_remove(ws_client *c, const cJSON *msg);
void ws_sub_clear(ws_client *c);
/* Whether an event {entityType kind, quickId, type} matches one of c's subscriptions. */
typedef struct ws_event_info {
    const char *type;
    const char *entity_type;
    int kind; /* sb_entity_kind or -1 */
    const char *quick_id;
    const char *qid_ids; /* the part after ':' */
    const char *entity_id;
} ws_event_info;
bool ws_client_wants(const ws_client *c, const ws_event_info *e);

/* lws callbacks for websocket reasons (ws.c); returns what the lws callback returns. */
int api_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len,
                    ws_client **slot);
/* LWS_CALLBACK_EVENT_WAIT_CANCELLED: asks writable callbacks for clients with queued frames. */
void api_ws_wake(api *a);

#endif
