/*
 * ctl_ws.c - `switchboard ctl events`: the websocket feed (/api/ws, docs/websocket.md) printed
 * as it comes, with libwebsockets as the client.
 */
#include "services/switchboard/ctl.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

typedef struct tail {
    const ctl *c;
    char *subscribe; /* the subscribe message */
    bool sent;
    long count, seen;
    char *msg; /* the message being assembled from fragments */
    size_t len;
    int rc;
    atomic_bool done;
} tail;

static atomic_bool interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static void print_event(tail *t, const char *text, size_t len)
{
    cJSON *doc = NULL;
    if (sb_json_parse(text, len, &doc, NULL) != SB_OK)
        return;
    const char *type = sb_json_str(doc, "type", "");
    if (strcmp(type, "authenticated") == 0 || strcmp(type, "subscribed") == 0) {
        fprintf(stderr, "switchboard ctl: %s\n",
                strcmp(type, "subscribed") == 0 ? "subscribed; waiting for events (Ctrl-C stops)"
                                                : "authenticated");
    } else if (strcmp(type, "error") == 0) {
        fprintf(stderr, "switchboard ctl: events: %s\n", sb_json_str(doc, "error", "?"));
        t->rc = 1;
        atomic_store(&t->done, true);
    } else if (strcmp(type, "resync") == 0) {
        fprintf(stderr, "switchboard ctl: events were dropped (too slow); re-read the state\n");
    } else {
        if (t->c->json) {
            printf("%.*s\n", (int)len, text);
        } else {
            char now[40], val[256] = "";
            sb_time_format(sb_time_now_ms(), now, sizeof(now));
            const cJSON *ent = cJSON_GetObjectItemCaseSensitive(doc, "entity");
            const cJSON *v = sb_json_path(ent, "current.value");
            if (v && sb_json_scalar_text(v, val + 6, sizeof(val) - 6))
                memcpy(val, "value=", 6);
            else if ((v = sb_json_path(ent, "state.status")) && cJSON_IsString(v))
                snprintf(val, sizeof(val), "state=%s", v->valuestring);
            printf("%s %-8s %s %s\n", now, type, sb_json_str(doc, "quickId", "?"), val);
        }
        fflush(stdout);
        if (t->count && ++t->seen >= t->count)
            atomic_store(&t->done, true);
    }
    cJSON_Delete(doc);
}

static int on_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    (void)user;
    tail *t = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        char auth[4200];
        int n = snprintf(auth, sizeof(auth), "Bearer %s", t->c->token);
        if (*t->c->token &&
            lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
                                        (const unsigned char *)auth, n, p, end))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (t->sent)
            break;
        size_t n = strlen(t->subscribe);
        unsigned char *b = malloc(LWS_PRE + n);
        if (!b)
            return -1;
        memcpy(b + LWS_PRE, t->subscribe, n);
        int w = lws_write(wsi, b + LWS_PRE, n, LWS_WRITE_TEXT);
        free(b);
        t->sent = true;
        return w < (int)n ? -1 : 0;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        char *m = realloc(t->msg, t->len + len + 1);
        if (!m)
            return -1;
        memcpy(m + t->len, in, len);
        t->msg = m;
        t->len += len;
        if (lws_is_final_fragment(wsi)) {
            print_event(t, t->msg, t->len);
            t->len = 0;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "switchboard ctl: events: %s\n", in ? (const char *)in : "no connection");
        t->rc = 1;
        atomic_store(&t->done, true);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len > 2)
            fprintf(stderr, "switchboard ctl: events: closed by the server: %.*s\n", (int)len - 2,
                    (const char *)in + 2);
        t->rc = 1;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        atomic_store(&t->done, true);
        break;
    default:
        break;
    }
    return 0;
}

/* lws_service() ignores its timeout: wake it so Ctrl-C and --count are noticed. */
static void *waker(void *arg)
{
    struct lws_context *ctx = arg;
    while (!atomic_load(&interrupted)) {
        sb_time_sleep_ms(200);
        lws_cancel_service(ctx);
    }
    lws_cancel_service(ctx);
    return NULL;
}

int ctl_tail(const ctl *c, const cJSON *subscription, long count)
{
    char host[256] = "";
    int port = 80;
    bool tls = strncmp(c->url, "https://", 8) == 0;
    const char *hp = strstr(c->url, "://");
    hp = hp ? hp + 3 : c->url;
    if (sscanf(hp, "%255[^:/]:%d", host, &port) < 1) {
        fprintf(stderr, "switchboard ctl: bad url %s\n", c->url);
        return 1;
    }
    if (!strchr(hp, ':'))
        port = tls ? 443 : 80;
    tail t = {.c = c, .count = count};
    cJSON *sub = cJSON_Duplicate(subscription, true);
    sb_json_set_str(sub, "type", "subscribe");
    t.subscribe = sb_json_print(sub);
    cJSON_Delete(sub);

    lws_set_log_level(0, NULL);
    static const struct lws_protocols protocols[] = {{"sb-ctl", on_ws, 0, 65536, 0, NULL, 0},
                                                     {NULL, NULL, 0, 0, 0, NULL, 0}};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = &t;
    info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        free(t.subscribe);
        fprintf(stderr, "switchboard ctl: cannot create a websocket context\n");
        return 1;
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = "/api/ws";
    ci.host = host;
    ci.origin = host;
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "sb-ctl";
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_t th;
    bool have_waker = pthread_create(&th, NULL, waker, ctx) == 0;
    if (!lws_client_connect_via_info(&ci)) {
        fprintf(stderr, "switchboard ctl: cannot connect to %s\n", c->url);
        t.rc = 1;
        atomic_store(&t.done, true);
    }
    while (!atomic_load(&t.done) && !atomic_load(&interrupted))
        lws_service(ctx, 200);
    atomic_store(&interrupted, true);
    if (have_waker)
        pthread_join(th, NULL);
    lws_context_destroy(ctx);
    free(t.msg);
    free(t.subscribe);
    return t.rc;
}
