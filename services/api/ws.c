/*
 * ws.c - the lws-thread side of /api/ws: accepting a socket (path, authentication from the
 * cookie or bearer header, else a first {"type":"auth"} message within WS_AUTH_SECS), the
 * client's messages (auth, subscribe, unsubscribe, ping) and writing its queue one frame per
 * writable callback. Protocol-level pings come from lws's validity policy (http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "ws.h"

static api *api_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static cJSON *typed(const char *type)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    return o;
}

static void reply_error(api *a, ws_client *c, const char *text)
{
    cJSON *o = typed("error");
    cJSON_AddStringToObject(o, "error", text);
    ws_hub_reply(a->hub, c, o);
}

/* Closes at once with a reason the client can read (1008 policy violation). */
static int refuse(struct lws *wsi, const char *why)
{
    lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
    return -1;
}

static void authed(api *a, ws_client *c, const api_req *rq)
{
    c->authed = true;
    snprintf(c->username, sizeof(c->username), "%s", rq->username);
    pthread_mutex_lock(&a->hub->mu);
    c->admin = rq->role == API_ROLE_ADMIN;
    pthread_mutex_unlock(&a->hub->mu);
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    cJSON *o = typed("authenticated");
    cJSON_AddStringToObject(o, "username", rq->username);
    ws_hub_reply(a->hub, c, o);
}

static int on_established(struct lws *wsi, ws_client **slot)
{
    api *a = api_of(wsi);
    char uri[256] = "";
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        (strcmp(uri, "/api/ws") != 0 && strcmp(uri, "/api/ws/") != 0))
        return refuse(wsi, "unknown path: use /api/ws");
    ws_client *c = calloc(1, sizeof(*c));
    if (c)
        c->q = calloc(WS_QUEUE_MAX * 2, sizeof(*c->q));
    if (!c || !c->q) {
        free(c);
        return refuse(wsi, "out of memory");
    }
    c->wsi = wsi;
    *slot = c;
    pthread_mutex_lock(&a->hub->mu);
    c->next = a->hub->clients;
    a->hub->clients = c;
    a->hub->n_clients++;
    pthread_mutex_unlock(&a->hub->mu);
    api_req rq;
    memset(&rq, 0, sizeof(rq));
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) < (int)sizeof(rq.authorization))
        lws_hdr_copy(wsi, rq.authorization, sizeof(rq.authorization), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE) < (int)sizeof(rq.cookie))
        lws_hdr_copy(wsi, rq.cookie, sizeof(rq.cookie), WSI_TOKEN_HTTP_COOKIE);
    if (!rq.authorization[0] && !strstr(rq.cookie, API_COOKIE "=")) {
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WS_AUTH_SECS);
        return 0; /* a {"type":"auth"} message must come first */
    }
    sb_errmsg em = {{0}};
    sb_err rc = api_authenticate(a, &rq, &em);
    if (rc != SB_OK) {
        char why[120];
        snprintf(why, sizeof(why), "unauthorized: %s", sb_errmsg_str(&em, rc));
        return refuse(wsi, why);
    }
    authed(a, c, &rq);
    return 0;
}

static int on_auth_message(api *a, ws_client *c, const cJSON *msg)
{
    if (strcmp(sb_json_str(msg, "type", ""), "auth") != 0)
        return refuse(c->wsi, "unauthorized: send {\"type\":\"auth\",\"token\":...} first");
    api_req rq;
    memset(&rq, 0, sizeof(rq));
    snprintf(rq.authorization, sizeof(rq.authorization), "Bearer %s",
             sb_json_str(msg, "token", ""));
    sb_errmsg em = {{0}};
    sb_err rc = api_authenticate(a, &rq, &em);
    if (rc != SB_OK) {
        char why[120];
        snprintf(why, sizeof(why), "unauthorized: %s", sb_errmsg_str(&em, rc));
        return refuse(c->wsi, why);
    }
    authed(a, c, &rq);
    return 0;
}

static void on_subscribe(api *a, ws_client *c, const cJSON *msg, bool add)
{
    char id[64] = "";
    sb_errmsg em = {{0}};
    sb_err rc = SB_OK;
    size_t removed = 0;
    pthread_mutex_lock(&a->hub->mu);
    if (add)
        rc = ws_sub_add(c, msg, id, sizeof(id), &em);
    else
        removed = ws_sub_remove(c, msg);
    size_t n = c->n_subs;
    pthread_mutex_unlock(&a->hub->mu);
    if (rc != SB_OK) {
        reply_error(a, c, sb_errmsg_str(&em, rc));
        return;
    }
    cJSON *o = typed(add ? "subscribed" : "unsubscribed");
    if (add)
        cJSON_AddStringToObject(o, "id", id);
    else
        cJSON_AddNumberToObject(o, "removed", (double)removed);
    cJSON_AddNumberToObject(o, "subscriptions", (double)n);
    ws_hub_reply(a->hub, c, o);
}

static int on_message(api *a, ws_client *c, const char *text, size_t len)
{
    cJSON *msg = NULL;
    if (sb_json_parse(text, len, &msg, NULL) != SB_OK || !cJSON_IsObject(msg)) {
        cJSON_Delete(msg);
        if (!c->authed)
            return refuse(c->wsi, "unauthorized: send {\"type\":\"auth\",\"token\":...} first");
        reply_error(a, c, "a message must be a JSON object with a \"type\"");
        return 0;
    }
    int rc = 0;
    const char *type = sb_json_str(msg, "type", "");
    if (!c->authed)
        rc = on_auth_message(a, c, msg);
    else if (strcmp(type, "subscribe") == 0 || strcmp(type, "unsubscribe") == 0)
        on_subscribe(a, c, msg, type[0] == 's');
    else if (strcmp(type, "ping") == 0)
        ws_hub_reply(a->hub, c, typed("pong"));
    else if (strcmp(type, "auth") == 0)
        ws_hub_reply(a->hub, c, typed("authenticated"));
    else
        reply_error(a, c, "unknown type: expected subscribe, unsubscribe, ping or auth");
    cJSON_Delete(msg);
    return rc;
}

static int on_receive(struct lws *wsi, ws_client *c, const void *in, size_t len)
{
    if (!c)
        return -1;
    if (c->rx_len + len > WS_MSG_MAX)
        return refuse(wsi, "message too large");
    char *b = realloc(c->rx, c->rx_len + len + 1);
    if (!b)
        return -1;
    c->rx = b;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    c->rx[c->rx_len] = '\0';
    int rc = on_message(api_of(wsi), c, c->rx, c->rx_len);
    c->rx_len = 0;
    return rc;
}

/* The next frame to write (the resync notice first) or NULL; *kick when the client must go. */
static ws_frame *next_frame(ws_hub *h, ws_client *c, bool *kick)
{
    static const char resync[] = "{\"type\":\"resync\"}";
    ws_frame *f = NULL;
    pthread_mutex_lock(&h->mu);
    *kick = c->kick;
    if (!*kick && c->resync) {
        c->resync = false;
        f = ws_frame_new(resync, sizeof(resync) - 1);
    } else if (!*kick && c->n) {
        f = c->q[c->head];
        c->head = (c->head + 1) % (WS_QUEUE_MAX * 2);
        c->n--;
    }
    if (!c->n && !c->resync)
        c->overflows = 0; /* caught up */
    pthread_mutex_unlock(&h->mu);
    return f;
}

/* Writes queued frames while the socket takes them (up to WS_WRITE_BURST per callback). */
static int on_writable(struct lws *wsi, ws_client *c)
{
    api *a = api_of(wsi);
    for (int i = 0; i < WS_WRITE_BURST; i++) {
        bool kick;
        ws_frame *f = next_frame(a->hub, c, &kick);
        if (kick)
            return refuse(wsi, "too slow: the event queue overflowed repeatedly");
        if (!f)
            return 0;
        int len = (int)f->len;
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
        c->sent++;
        ws_frame_unref(f);
        if (n < len)
            return -1;
        if (lws_send_pipe_choked(wsi))
            break;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static void on_closed(struct lws *wsi, ws_client **slot)
{
    ws_client *c = *slot;
    if (!c)
        return;
    api *a = api_of(wsi);
    pthread_mutex_lock(&a->hub->mu);
    for (ws_client **p = &a->hub->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            a->hub->n_clients--;
            break;
        }
    ws_sub_clear(c);
    while (c->n) {
        ws_frame_unref(c->q[c->head]);
        c->head = (c->head + 1) % (WS_QUEUE_MAX * 2);
        c->n--;
    }
    pthread_mutex_unlock(&a->hub->mu);
    free(c->q);
    free(c->rx);
    free(c);
    *slot = NULL;
}

int api_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len,
                    ws_client **slot)
{
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(wsi, slot);
    case LWS_CALLBACK_RECEIVE:
        return on_receive(wsi, *slot, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return *slot ? on_writable(wsi, *slot) : 0;
    case LWS_CALLBACK_CLOSED:
        on_closed(wsi, slot);
        return 0;
    default:
        return 0;
    }
}

void api_ws_wake(api *a)
{
    pthread_mutex_lock(&a->hub->mu);
    for (ws_client *c = a->hub->clients; c; c = c->next) {
        if (c->kick) {
            /* It may never become writable again (a full socket): end it from here. */
            static const char why[] = "too slow: the event queue overflowed repeatedly";
            lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why,
                             sizeof(why) - 1);
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        } else if (c->n || c->resync)
            lws_callback_on_writable(c->wsi);
    }
    pthread_mutex_unlock(&a->hub->mu);
}
