/*
 * http.c - the HTTP/1.1 server on libwebsockets 4.1: one lws context serviced by the calling
 * thread; a watcher thread turns the stop flag into lws_cancel_service() (lws_service ignores
 * its timeout, see FIELD-NOTES). Each connection owns one session that collects a request
 * (method, path, query parameters, the headers the API reads, the body up to its route's limit:
 * api.body_limit, or the firmware/restore limits), hands it to api_dispatch(), gzips a large
 * answer the client accepts that way (gzip.c) and writes it in pieces as the socket allows.
 * Keep-alive comes from lws: a response has a Content-Length and the transaction is completed.
 *
 * Threads (the contract for handlers is in api.h). This thread does all I/O and alone touches
 * a wsi, a session and the websocket clients. A collected request becomes a job for the
 * api.workers pool (pool.c): the request moves into the job, the session keeps a pointer to it
 * (busy). The worker dispatches and gzips, queues the finished job and wakes lws
 * (lws_cancel_service); LWS_CALLBACK_EVENT_WAIT_CANCELLED takes the finished jobs, moves each
 * answer back into its session and asks for a writable callback, which sends the headers and
 * then the body as before. A connection that closes while its job runs orphans the job (owner
 * NULL): nothing touches the session again, and the job is freed when it comes back. While a
 * worker has the request the connection reads nothing (rx flow off) and has no lws timeout. Cheap
 * answers stay on this thread: OPTIONS, the dashboard's static files, 411/413 refusals,
 * GET /api/status (api_route_quick), and everything when api.workers is 0. One request per
 * connection is in flight: lws parses a pipelined next request only after
 * lws_http_transaction_completed(), which comes after the answer is written.
 */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "web.h"
#include "ws.h"

#define CHUNK 16384

typedef struct session {
    api_req rq;
    api_resp rs;
    size_t body_cap;
    int64_t limit; /* the body limit of the request's route */
    size_t sent;
    bool too_large;
    bool active;
    char origin[256];
    char accept_enc[256];
    struct lws *wsi;
    api_job *job;      /* the request being handled by a worker; NULL = none */
    bool answer_ready; /* a worker's answer is in rs: send it when writable */
    bool paused;       /* rx flow stopped while a worker has the request */
    ws_client *ws;     /* after an upgrade to /api/ws */
} session;

static void session_reset(session *s)
{
    if (s->job)
        s->job->owner = NULL; /* orphaned: freed when the worker is done with it */
    api_params_free(&s->rq.params);
    free(s->rq.body);
    free(s->rs.body);
    ws_client *ws = s->ws;
    memset(s, 0, sizeof(*s));
    s->ws = ws;
}

static api_method method_of(int lws_method)
{
    switch (lws_method) {
    case LWSHUMETH_GET:
        return API_GET;
    case LWSHUMETH_POST:
        return API_POST;
    case LWSHUMETH_PUT:
        return API_PUT;
    case LWSHUMETH_PATCH:
        return API_PATCH;
    case LWSHUMETH_DELETE:
        return API_DELETE;
    case LWSHUMETH_OPTIONS:
        return API_OPTIONS;
    case LWSHUMETH_HEAD:
        return API_HEAD;
    default:
        return API_OTHER;
    }
}

static void copy_hdr(struct lws *wsi, enum lws_token_indexes t, char *dst, size_t len)
{
    dst[0] = '\0';
    if (lws_hdr_total_length(wsi, t) < (int)len && lws_hdr_copy(wsi, dst, (int)len, t) < 0)
        dst[0] = '\0';
}

/* Every "k=v" fragment of the query string (lws has URL-decoded them). */
static sb_err read_params(struct lws *wsi, api_params *p)
{
    char frag[8192];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char *eq = strchr(frag, '=');
        if (eq)
            *eq = '\0';
        if (!frag[0])
            continue;
        sb_err rc = api_params_add(p, frag, eq ? eq + 1 : "");
        if (rc != SB_OK)
            return rc;
    }
    return SB_OK;
}

/* The CORS headers when the request's Origin is one of api.cors_origins. */
static void cors(api *a, session *s)
{
    const sb_strlist *l = &a->cfg->api.cors_origins;
    if (!s->origin[0] || !(sb_strlist_contains(l, s->origin) || sb_strlist_contains(l, "*")))
        return;
    api_add_header(&s->rs, "Access-Control-Allow-Origin", s->origin);
    api_add_header(&s->rs, "Access-Control-Allow-Credentials", "true");
    api_add_header(&s->rs, "Access-Control-Expose-Headers",
                   "Retry-After, Content-Disposition, Content-Encoding");
    api_add_header(&s->rs, "Vary", "Origin");
}

static int send_headers(struct lws *wsi, api *a, session *s)
{
    unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof(buf) - 1;
    cors(a, s);
    if (s->rs.close)
        api_add_header(&s->rs, "Connection", "close");
    if (lws_add_http_common_headers(wsi, (unsigned)s->rs.status,
                                    s->rs.content_type ? s->rs.content_type : "application/json",
                                    (lws_filepos_t)s->rs.len, &p, end))
        return -1;
    /* Extra header lines: "Name: value\r\n" each; lws wants the name with its colon. */
    for (char *line = s->rs.headers; *line;) {
        char *colon = strchr(line, ':'), *eol = strstr(line, "\r\n");
        if (!colon || !eol)
            break;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(colon - line + 1), line);
        const char *val = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)(eol - val), &p, end))
            return -1;
        line = eol + 2;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Sends rs; compress: gzip it first as the client accepts (a worker's answer already is). */
static int send_answer(struct lws *wsi, api *a, session *s, bool compress)
{
    s->active = true;
    if (compress && s->rq.method != API_HEAD)
        api_gzip_response(a, s->accept_enc, &s->rs);
    return send_headers(wsi, a, s);
}

static int respond(struct lws *wsi, api *a, session *s)
{
    return send_answer(wsi, a, s, true);
}

/* Runs the collected request: on a worker when there is a pool and the route may wait, else
 * here and now. */
static int dispatch(struct lws *wsi, api *a, session *s)
{
    if (!a->pool || api_route_quick(&s->rq)) {
        api_dispatch(a, &s->rq, &s->rs);
        return respond(wsi, a, s);
    }
    api_job *j = calloc(1, sizeof(*j));
    if (!j) {
        api_error(&s->rs, 503, "busy", "out of memory for the request");
        return respond(wsi, a, s);
    }
    j->owner = s;
    j->rq = s->rq;
    j->rs = s->rs;
    memcpy(j->accept_encoding, s->accept_enc, sizeof(j->accept_encoding));
    memset(&s->rq.params, 0, sizeof(s->rq.params));
    s->rq.body = NULL;
    s->rs.body = NULL;
    s->job = j;
    if (api_pool_submit(a->pool, j)) {
        /* Bytes of a pipelined next request make lws call BODY_COMPLETION again and again:
         * read nothing more until the answer is back (take_answers). */
        s->paused = true;
        lws_rx_flow_control(wsi, 0);
        /* lws would end the connection after its idle timeout (5 s) while the worker runs. */
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        return 0;
    }
    s->job = NULL;
    s->rq.params = j->rq.params;
    s->rq.body = j->rq.body;
    s->rs = j->rs;
    free(j);
    s->rs.close = true;
    api_error(&s->rs, 503, "stopping", "the API is shutting down");
    return respond(wsi, a, s);
}

/* Woken by a worker: every finished job's answer goes to its connection, if it still exists. */
static void take_answers(api *a)
{
    if (!a->pool)
        return;
    api_job *j = api_pool_take_done(a->pool);
    while (j) {
        api_job *next = j->next;
        session *s = j->owner;
        if (s) {
            s->job = NULL;
            api_params_free(&s->rq.params);
            free(s->rq.body);
            free(s->rs.body);
            s->rq = j->rq;
            s->rs = j->rs;
            memset(&j->rq, 0, sizeof(j->rq));
            memset(&j->rs, 0, sizeof(j->rs));
            s->answer_ready = true;
            if (s->paused) {
                s->paused = false;
                lws_rx_flow_control(s->wsi, 1);
            }
            lws_callback_on_writable(s->wsi);
        }
        api_job_free(j);
        j = next;
    }
}

/* Headers are in: read what the API needs; answer now unless a body is to come. */
static int on_request(struct lws *wsi, api *a, session *s)
{
    session_reset(s);
    s->wsi = wsi;
    char *uri = NULL;
    int uri_len = 0;
    s->rq.method = method_of(lws_http_get_uri_and_method(wsi, &uri, &uri_len));
    snprintf(s->rq.path, sizeof(s->rq.path), "%.*s", uri_len, uri ? uri : "");
    copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, s->rq.content_type, sizeof(s->rq.content_type));
    copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, s->rq.authorization, sizeof(s->rq.authorization));
    copy_hdr(wsi, WSI_TOKEN_HTTP_COOKIE, s->rq.cookie, sizeof(s->rq.cookie));
    copy_hdr(wsi, WSI_TOKEN_ORIGIN, s->origin, sizeof(s->origin));
    copy_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, s->accept_enc, sizeof(s->accept_enc));
    if (!lws_get_peer_simple(wsi, s->rq.client, sizeof(s->rq.client)))
        snprintf(s->rq.client, sizeof(s->rq.client), "%s", "?");
    if (read_params(wsi, &s->rq.params) != SB_OK) {
        api_error(&s->rs, 500, "out of memory", NULL);
        return respond(wsi, a, s);
    }
    char cl[32];
    copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl));
    long long len = cl[0] ? strtoll(cl, NULL, 10) : 0;
    s->limit = api_body_limit(a, s->rq.method, s->rq.path);
    if (len > s->limit) {
        /* Refused unread: the connection closes after the answer, the body with it. */
        s->too_large = true;
        s->rs.close = true;
        api_errorf(&s->rs, 413, "payload too large", "%lld bytes; the limit is %lld", len,
                   (long long)s->limit);
        return respond(wsi, a, s);
    }
    if (s->rq.method == API_OPTIONS) {
        api_add_header(&s->rs, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        api_add_header(&s->rs, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        api_add_header(&s->rs, "Access-Control-Max-Age", "600");
        api_reply(&s->rs, 200, cJSON_CreateObject());
        return respond(wsi, a, s);
    }
    if (api_web_wants(a, &s->rq)) {
        char enc[256], etag[128];
        copy_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, enc, sizeof(enc));
        copy_hdr(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, etag, sizeof(etag));
        api_web_serve(a, &s->rq, enc, etag, &s->rs);
        return respond(wsi, a, s);
    }
    if (len > 0)
        return 0; /* LWS_CALLBACK_HTTP_BODY follows */
    char te[64];
    copy_hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof(te));
    if (te[0]) {
        /* lws 4.1 hands a chunked request body over undecoded and never completes it. */
        s->rs.close = true;
        api_errorf(&s->rs, 411, "length required",
                   "Transfer-Encoding '%s': send the body with a Content-Length", te);
        return respond(wsi, a, s);
    }
    /* lws 4.1 keeps waiting for the body of a POST, PUT, PATCH or DELETE that has no
     * Content-Length: the next request on the connection would stall until its timeout.
     * The body is empty (RFC 9112 6.3); answer and close instead. */
    if (!cl[0] && s->rq.method != API_GET && s->rq.method != API_HEAD)
        s->rs.close = true;
    return dispatch(wsi, a, s);
}

/* Whether the session's request is with a worker or its answer is being sent. */
static bool busy(const session *s)
{
    return s->active || s->job || s->answer_ready;
}

static int on_body(api *a, session *s, const void *in, size_t len)
{
    if (s->too_large || busy(s))
        return 0;
    (void)a;
    if (s->rq.body_len + len > (size_t)s->limit) {
        s->too_large = true;
        return 0;
    }
    if (s->rq.body_len + len + 1 > s->body_cap) {
        size_t cap = (s->rq.body_len + len + 1) * 2;
        char *b = realloc(s->rq.body, cap);
        if (!b)
            return -1;
        s->rq.body = b;
        s->body_cap = cap;
    }
    memcpy(s->rq.body + s->rq.body_len, in, len);
    s->rq.body_len += len;
    s->rq.body[s->rq.body_len] = '\0';
    return 0;
}

static int on_body_done(struct lws *wsi, api *a, session *s)
{
    if (busy(s))
        return 0;
    if (!s->too_large)
        return dispatch(wsi, a, s);
    s->rs.close = true;
    api_errorf(&s->rs, 413, "payload too large", "the limit is %lld bytes", (long long)s->limit);
    return respond(wsi, a, s);
}

static int on_writable(struct lws *wsi, api *a, session *s)
{
    if (s->answer_ready) {
        s->answer_ready = false;
        return send_answer(wsi, a, s, false);
    }
    if (!s->active)
        return 0;
    unsigned char buf[LWS_PRE + CHUNK];
    size_t n = s->rs.len - s->sent;
    if (n > CHUNK)
        n = CHUNK;
    bool last = s->sent + n >= s->rs.len;
    memcpy(buf + LWS_PRE, s->rs.body + s->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    s->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    s->active = false;
    if (s->rs.close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    session *s = user;
    api *a = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return s ? api_ws_callback(wsi, reason, in, len, &s->ws) : -1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        take_answers(a);
        api_ws_wake(a);
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, a, s);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(a, s, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_done(wsi, a, s);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, a, s);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s)
            session_reset(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* The first protocol also takes websocket upgrades that name no subprotocol (/api/ws). */
static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(session), WS_MSG_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}, /* 4.1 has no LWS_PROTOCOL_LIST_TERM */
};

typedef struct waker {
    struct lws_context *ctx;
    sb_stop_flag *stop;
    pthread_t thread;
} waker;

static void *wake_on_stop(void *arg)
{
    waker *w = arg;
    while (!sb_stop_wait(w->stop, 1000))
        ;
    lws_cancel_service(w->ctx);
    return NULL;
}

static void wake_lws(void *ctx)
{
    lws_cancel_service(ctx);
}

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        sb_error(NULL, "lws: %.*s", (int)n, line);
    else
        sb_warn(NULL, "lws: %.*s", (int)n, line);
}

int api_http_run(api *a, sb_stop_flag *stop, const sb_api_hooks *hooks)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = (int)a->cfg->api.port;
    info.iface = a->cfg->api.address;
    info.protocols = protocols;
    info.user = a;
    info.max_http_header_data = 16384;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * (strchr(info.iface, ':') == NULL);
    /* Websockets: a PING after 30 s without traffic, hang up after 60 s without a PONG. */
    static const lws_retry_bo_t keepalive = {.secs_since_valid_ping = 30,
                                             .secs_since_valid_hangup = 60};
    info.retry_and_idle_policy = &keepalive;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        sb_error(&a->log, "cannot listen on %s:%d", info.iface, info.port);
        return 1;
    }
    int port = lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default"));
    sb_info(&a->log, "listening on http://%s:%d (websocket /api/ws)", info.iface, port);
    pthread_mutex_lock(&a->hub->mu);
    a->hub->ctx = ctx;
    pthread_mutex_unlock(&a->hub->mu);
    if (hooks && hooks->listening)
        hooks->listening(hooks->ctx, port);
    waker w = {.ctx = ctx, .stop = stop};
    if (pthread_create(&w.thread, NULL, wake_on_stop, &w) != 0) {
        lws_context_destroy(ctx);
        return 1;
    }
    size_t n = (size_t)a->cfg->api.workers;
    if (n && !(a->pool = api_pool_start(a, n, wake_lws, ctx)))
        sb_warn(&a->log, "no request workers started: every request runs on the service thread");
    else if (n)
        sb_info(&a->log, "%zu request workers", api_pool_threads(a->pool));
    while (!sb_stop_raised(stop))
        if (lws_service(ctx, 0) < 0)
            break;
    sb_stop_raise(stop); /* the watcher ends too when lws failed */
    pthread_join(w.thread, NULL);
    /* Workers finish their running jobs (each bounded by its handler's timeouts) and wake
     * nothing after this; closing the connections then orphans every job still held. */
    api_pool *pool = a->pool;
    api_pool_stop(pool);
    a->pool = NULL;
    pthread_mutex_lock(&a->hub->mu);
    a->hub->ctx = NULL; /* the bus thread must not wake a destroyed context */
    pthread_mutex_unlock(&a->hub->mu);
    lws_context_destroy(ctx);
    api_pool_free(pool);
    return 0;
}
