/*
 * worker.c - the processor's queue and worker thread. The bus handler copies each frame into a
 * bounded queue (waiting when it is full, which holds back paho and so the broker); one worker
 * applies frames in arrival order, so messages of a node keep their order. A frame's changes
 * and its stream position go to the store in one sb_store_batch; only then are the events
 * published and the frame acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "processor.h"

/* How long a commit waits for the frame's metric points to become durable (sb_metrics_sync). */
#define SYNC_TIMEOUT_MS 5000

void proc_enqueue(proc *p, const char *topic, const void *data, size_t len, bool reload)
{
    qitem *q = malloc(sizeof(*q) + len + 1);
    if (!q || !(q->topic = strdup(topic))) {
        free(q);
        sb_error(&p->log, "out of memory: frame on %s dropped (the producer resends)", topic);
        return;
    }
    q->next = NULL;
    q->reload = reload;
    q->len = len;
    memcpy(q->data, data, len);
    q->data[len] = '\0';
    pthread_mutex_lock(&p->qmu);
    while (p->qlen >= (size_t)p->cfg->processor.queue_max && !p->qstop)
        pthread_cond_wait(&p->qspace, &p->qmu);
    if (p->qtail)
        p->qtail->next = q;
    else
        p->qhead = q;
    p->qtail = q;
    p->qlen++;
    atomic_store(&p->st.queue_depth, p->qlen);
    pthread_cond_signal(&p->qcv);
    pthread_mutex_unlock(&p->qmu);
}

static stream_slot *slot_of(proc *p, const char *name)
{
    for (size_t i = 0; i < p->n_streams; i++)
        if (strcmp(p->streams[i].name, name) == 0)
            return &p->streams[i];
    stream_slot *s = realloc(p->streams, (p->n_streams + 1) * sizeof(*s));
    if (!s)
        return NULL;
    p->streams = s;
    s = &p->streams[p->n_streams++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

/* Loads the stream positions ("_stream" documents). */
static sb_err load_streams(proc *p, sb_errmsg *em)
{
    cJSON *res = NULL;
    sb_err rc = sb_store_find(p->store, "_stream", NULL, &res, em);
    if (rc != SB_OK)
        return rc;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(res, "data"))
    {
        char name[SB_STREAM_NAME_MAX];
        sb_stream_pos pos;
        stream_slot *s;
        if (sb_stream_pos_parse(d, name, sizeof(name), &pos) == SB_OK && (s = slot_of(p, name)))
            s->pos = pos;
    }
    cJSON_Delete(res);
    return SB_OK;
}

/* Publishes the frame's events: one per topic, or an array per entity type. */
static void publish_events(proc *p, frame_ctx *fc)
{
    for (int k = 0; k < T__COUNT; k++) {
        event_buf *b = &fc->events[k];
        if (b->n == 0)
            continue;
        char topic[600];
        const char *body = b->text;
        size_t len = b->len;
        if (b->n == 1) { /* the object without the array's "[" */
            sb_bus_topic(p->bus, topic, sizeof(topic), "event/%s/%s", tree_kind_name(k),
                         b->first_id);
            body++, len--;
        } else {
            sb_bus_topic(p->bus, topic, sizeof(topic), "event/%s", tree_kind_name(k));
            b->text[len++] = ']'; /* room is left: the buffer always has a spare byte */
        }
        if (sb_bus_publish(p->bus, topic, body, len, 1, false) == SB_OK)
            atomic_fetch_add(&p->st.events, (uint64_t)b->n);
        else
            sb_warn(&p->log, "%zu %s events not published (bus full)", b->n, tree_kind_name(k));
    }
}

/*
 * Persists what fc touched and the stream position (stream may be NULL) in one batch, after the
 * frame's metric points are durable: once the position is stored the frame is never applied
 * again, so points still only in RAM would die with a crash of the process. On failure the tree
 * is reloaded from the store so memory does not run ahead of it.
 */
static sb_err commit(proc *p, frame_ctx *fc, const char *stream, const sb_stream_pos *pos)
{
    for (size_t i = 0; i < fc->n_touched; i++) {
        tree_entry *e = fc->touched[i];
        if (e->event_pending)
            proc_event(p, fc, e, e->created ? "created" : "updated");
    }
    size_t n = fc->n_touched + 1;
    sb_store_op *ops = calloc(n, sizeof(*ops));
    cJSON *posdoc = stream ? sb_stream_pos_doc(stream, pos) : NULL;
    sb_errmsg em = {{0}};
    sb_err rc = !ops || (stream && !posdoc) ? SB_ERR_NOMEM : SB_OK;
    size_t k = 0;
    for (size_t i = 0; rc == SB_OK && i < fc->n_touched; i++)
        ops[k++] = (sb_store_op){SB_STORE_PUT, tree_kind_name(fc->touched[i]->kind),
                                 fc->touched[i]->doc, NULL};
    if (posdoc)
        ops[k++] = (sb_store_op){SB_STORE_PUT, "_stream", posdoc, NULL};
    if (rc == SB_OK && p->hooks.metrics_sync &&
        (rc = p->hooks.metrics_sync(p->hooks.metrics_ctx, SYNC_TIMEOUT_MS)) != SB_OK)
        sb_fail(&em, rc, "metric points not durable (InfluxDB down and no metrics.buffer_dir?)");
    if (rc == SB_OK && k > 0)
        rc = sb_store_batch(p->store, ops, k, &em);
    free(ops);
    cJSON_Delete(posdoc);
    for (size_t i = 0; i < fc->n_touched; i++) {
        tree_entry *e = fc->touched[i];
        e->dirty = e->created = e->event_pending = false;
    }
    if (rc != SB_OK) {
        atomic_fetch_add(&p->st.commit_failures, 1);
        sb_error(&p->log, "commit failed, frame not acknowledged: %s", sb_errmsg_str(&em, rc));
        if (tree_load(p->tree, p->store, &em) != SB_OK)
            sb_error(&p->log, "reloading the device tree: %s", em.text);
        return rc;
    }
    atomic_fetch_add(&p->st.commits, 1);
    publish_events(p, fc);
    return SB_OK;
}

static void ack(proc *p, const char *stream, const sb_stream_pos *pos, bool gap)
{
    if (sb_stream_ack(p->bus, stream, pos, gap) == SB_OK)
        atomic_fetch_add(&p->st.acks, 1);
}

/* Whether a sequenced frame is applied (true) or answered without applying. */
static bool admit(proc *p, const sb_stream_frame *f, stream_slot *s)
{
    switch (sb_stream_check(&s->pos, f)) {
    case SB_STREAM_APPLY:
        return true;
    case SB_STREAM_DUPLICATE:
        atomic_fetch_add(&p->st.duplicates, 1);
        ack(p, f->stream, &s->pos, false);
        return false;
    case SB_STREAM_GAP:
        atomic_fetch_add(&p->st.gaps, 1);
        ack(p, f->stream, &s->pos, true);
        return false;
    case SB_STREAM_STALE:
    default:
        atomic_fetch_add(&p->st.stale, 1);
        return false;
    }
}

static void handle_frame(proc *p, const qitem *q)
{
    sb_stream_frame f;
    sb_errmsg em = {{0}};
    if (sb_stream_decode(q->data, q->len, &f, &em) != SB_OK) {
        atomic_fetch_add(&p->st.bad_frames, 1);
        sb_warn(&p->log, "frame on %s dropped: %s", q->topic, em.text);
        return;
    }
    stream_slot *slot = f.sequenced ? slot_of(p, f.stream) : NULL;
    if (f.sequenced && (!slot || !admit(p, &f, slot))) {
        sb_stream_frame_free(&f);
        return;
    }
    atomic_fetch_add(f.sequenced ? &p->st.frames : &p->st.frames_plain, 1);
    frame_ctx fc = {0};
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, f.items)
    {
        sb_msg *m = NULL;
        if (sb_msg_from_json(item, &m, &em) != SB_OK) {
            atomic_fetch_add(&p->st.bad_messages, 1);
            sb_warn(&p->log, "message %d of the frame on %s dropped: %s", i, q->topic, em.text);
        } else {
            proc_apply(p, &fc, m);
        }
        sb_msg_free(m);
        i++;
    }
    sb_stream_pos next = f.sequenced ? sb_stream_next(&f) : (sb_stream_pos){0, 0};
    if (commit(p, &fc, f.sequenced ? f.stream : NULL, &next) == SB_OK && f.sequenced) {
        slot->pos = next;
        ack(p, f.stream, &next, false);
    }
    frame_ctx_free(&fc);
    sb_stream_frame_free(&f);
}

static void reload(proc *p)
{
    sb_errmsg em = {{0}};
    if (tree_load(p->tree, p->store, &em) != SB_OK)
        sb_error(&p->log, "reload: %s", em.text);
    else
        sb_info(&p->log, "device tree reloaded from the store");
}

static void *worker_main(void *arg)
{
    proc *p = arg;
    int64_t down = p->cfg->processor.node_down_after_ms;
    int64_t every = down > 0 ? (down / 4 < 1000 ? (down / 4 > 20 ? down / 4 : 20) : 1000) : 1000;
    int64_t next_sweep = sb_time_mono_ms() + every;
    pthread_mutex_lock(&p->qmu);
    while (!p->qstop) {
        if (!p->qhead) {
            struct timespec ts;
            sb_time_mono_deadline(20, &ts);
            pthread_cond_timedwait(&p->qcv, &p->qmu, &ts);
        }
        qitem *q = p->qhead;
        if (q && !(p->qhead = q->next))
            p->qtail = NULL;
        if (q)
            p->qlen--;
        atomic_store(&p->st.queue_depth, p->qlen);
        pthread_cond_signal(&p->qspace);
        pthread_mutex_unlock(&p->qmu);
        if (q) {
            if (q->reload)
                reload(p);
            else
                handle_frame(p, q);
            free(q->topic);
            free(q);
        }
        int64_t now = sb_time_mono_ms();
        if (now >= next_sweep) {
            next_sweep = now + every;
            frame_ctx fc = {0};
            proc_sweep(p, &fc, now);
            if (fc.n_touched)
                commit(p, &fc, NULL, NULL);
            frame_ctx_free(&fc);
        }
        pthread_mutex_lock(&p->qmu);
    }
    pthread_mutex_unlock(&p->qmu);
    return NULL;
}

sb_err proc_worker_start(proc *p, sb_errmsg *em)
{
    sb_err rc = load_streams(p, em);
    if (rc != SB_OK)
        return rc;
    pthread_mutex_init(&p->qmu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&p->qcv, &a);
    pthread_condattr_destroy(&a);
    pthread_cond_init(&p->qspace, NULL);
    if (pthread_create(&p->worker, NULL, worker_main, p) != 0)
        return sb_fail(em, SB_ERR_NOMEM, "cannot start the worker thread");
    p->worker_running = true;
    return SB_OK;
}

void proc_worker_stop(proc *p)
{
    if (!p->worker_running)
        return;
    pthread_mutex_lock(&p->qmu);
    p->qstop = true;
    pthread_cond_broadcast(&p->qcv);
    pthread_cond_broadcast(&p->qspace);
    pthread_mutex_unlock(&p->qmu);
    pthread_join(p->worker, NULL);
    for (qitem *q = p->qhead, *next; q; q = next) {
        next = q->next;
        free(q->topic);
        free(q);
    }
    p->qhead = p->qtail = NULL;
    p->worker_running = false;
    pthread_mutex_destroy(&p->qmu);
    pthread_cond_destroy(&p->qcv);
    pthread_cond_destroy(&p->qspace);
}
