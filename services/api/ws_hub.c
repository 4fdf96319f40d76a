/*
 * ws_hub.c - the bus side of the websocket: events from <p>/event/# (one object, or an array on
 * <p>/event/<kind>) are matched against every client's subscriptions and queued as shared
 * frames, with the bounded-queue policy of ws.h. Runs on the bus delivery thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "ws.h"

#define RING (WS_QUEUE_MAX * 2)

ws_frame *ws_frame_new(const char *text, size_t len)
{
    ws_frame *f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    return f;
}

void ws_frame_unref(ws_frame *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        free(f);
}

ws_hub *ws_hub_new(void)
{
    ws_hub *h = calloc(1, sizeof(*h));
    if (h)
        pthread_mutex_init(&h->mu, NULL);
    return h;
}

void ws_hub_free(ws_hub *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static void drop_queue(ws_client *c)
{
    while (c->n) {
        ws_frame_unref(c->q[c->head]);
        c->head = (c->head + 1) % RING;
        c->n--;
    }
}

void ws_hub_push_locked(ws_hub *h, ws_client *c, ws_frame *f, bool bounded)
{
    if (c->kick || !c->q) {
        ws_frame_unref(f);
        return;
    }
    if ((bounded && c->n >= WS_QUEUE_MAX) || c->n >= RING) {
        /* Too slow: drop what it has not read; it re-reads state after the resync notice. */
        c->dropped += c->n + 1;
        drop_queue(c);
        ws_frame_unref(f);
        atomic_fetch_add(&h->overflows, 1);
        int64_t now = sb_time_mono_ms();
        /* An overflow counts once per notice the client actually got; a notice it has not
         * read for WS_STUCK_MS means it is not reading at all. */
        bool stuck = c->resync && now - c->resync_since > WS_STUCK_MS;
        if (!c->resync) {
            c->resync = true;
            c->resync_since = now;
            c->overflows++;
        }
        if (stuck || c->overflows >= WS_OVERFLOW_MAX) {
            c->kick = true;
            atomic_fetch_add(&h->kicked, 1);
        }
        return;
    }
    c->q[(c->head + c->n) % RING] = f;
    c->n++;
}

void ws_hub_reply(ws_hub *h, ws_client *c, cJSON *msg)
{
    char *text = sb_json_print(msg);
    cJSON_Delete(msg);
    ws_frame *f = text ? ws_frame_new(text, strlen(text)) : NULL;
    free(text);
    if (!f)
        return;
    pthread_mutex_lock(&h->mu);
    ws_hub_push_locked(h, c, f, false);
    pthread_mutex_unlock(&h->mu);
    lws_callback_on_writable(c->wsi);
}

static bool event_info(const cJSON *ev, ws_event_info *e)
{
    e->type = sb_json_str(ev, "type", NULL);
    e->entity_type = sb_json_str(ev, "entityType", NULL);
    e->quick_id = sb_json_str(ev, "quickId", "");
    e->entity_id = sb_json_str(ev, "entityId", "");
    if (!e->type || !e->entity_type)
        return false;
    sb_entity_kind k;
    e->kind = sb_entity_kind_parse(e->entity_type, &k) == SB_OK ? (int)k : -1;
    const char *colon = strchr(e->quick_id, ':');
    e->qid_ids = colon ? colon + 1 : e->quick_id;
    return true;
}

/* Queues one event for every client that wants it; true when some client got it. */
static bool deliver(ws_hub *h, const cJSON *ev)
{
    ws_event_info e;
    if (!cJSON_IsObject(ev) || !event_info(ev, &e))
        return false;
    ws_frame *f = NULL;
    bool any = false;
    for (ws_client *c = h->clients; c; c = c->next) {
        if (c->kick || !ws_client_wants(c, &e) || (e.kind == SB_KIND_USER && !c->admin))
            continue;
        if (!f) {
            /* Other services publish what they stored: secrets sealed, hashes included. */
            cJSON *red = cJSON_Duplicate(ev, true);
            if (red && e.kind >= 0)
                api_entity_redact((sb_entity_kind)e.kind,
                                  cJSON_GetObjectItemCaseSensitive(red, "entity"));
            char *text = red ? sb_json_print(red) : NULL;
            cJSON_Delete(red);
            f = text ? ws_frame_new(text, strlen(text)) : NULL;
            free(text);
            if (!f)
                return any;
        }
        atomic_fetch_add(&f->refs, 1);
        ws_hub_push_locked(h, c, f, true);
        any = true;
    }
    ws_frame_unref(f);
    return any;
}

void ws_hub_on_event(void *ctx, const sb_bus_msg *msg)
{
    ws_hub *h = ctx;
    atomic_fetch_add(&h->events, 1);
    pthread_mutex_lock(&h->mu);
    bool idle = h->n_clients == 0;
    pthread_mutex_unlock(&h->mu);
    cJSON *doc = NULL;
    if (idle || sb_json_parse(msg->payload, msg->len, &doc, NULL) != SB_OK)
        return;
    bool any = false;
    pthread_mutex_lock(&h->mu);
    if (cJSON_IsArray(doc)) {
        const cJSON *ev;
        cJSON_ArrayForEach(ev, doc) any |= deliver(h, ev);
    } else {
        any = deliver(h, doc);
    }
    /* Under the mutex: http.c clears ctx under it before destroying the context. */
    if (any && h->ctx)
        lws_cancel_service(h->ctx);
    pthread_mutex_unlock(&h->mu);
    cJSON_Delete(doc);
}
