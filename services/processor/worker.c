/*
 * worker.c - the processor's queue and worker thread. The bus handler copies each frame into a
 * bounded queue (waiting when it is full, which holds back paho and so the broker); one worker
 * applies frames in arrival order, so messages of a node keep their order.
 *
 * Group commit: the worker takes every frame waiting in the queue (up to GROUP_MAX_FRAMES
 * frames or GROUP_MAX_ITEMS messages), applies them one after the other, and then commits
 * them together: the events are published, then one metrics sync, the broker's PUBACKs for the
 * events, one sb_store_batch with the changed records and the new position of each stream;
 * only then is each stream acknowledged up to its last frame of the group. While a commit waits for
 * InfluxDB and the disk, the next frames collect in the queue and make the next group: the
 * per-commit cost is shared by more frames exactly when frames arrive faster than commits complete.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "partition.h"
#include "processor.h"

/* How long a commit waits for the frame's metric points to become durable (sb_metrics_sync). */
#define SYNC_TIMEOUT_MS 5000
/* Bounds of one group commit: its transaction and its event arrays stay moderate. */
#define GROUP_MAX_FRAMES 64
#define GROUP_MAX_ITEMS  2000

void proc_qitem_free(qitem *q)
{
    if (!q)
        return;
    free(q->topic);
    free(q->reply);
    free(q->corr);
    free(q);
}

/* A copy of m as a queue item; NULL when out of memory. */
static qitem *item_of(qitem_type type, const sb_bus_msg *m)
{
    qitem *q = calloc(1, sizeof(*q) + m->len + 1);
    if (!q)
        return NULL;
    q->type = type;
    q->len = m->len;
    memcpy(q->data, m->payload, m->len);
    bool ok = (q->topic = strdup(m->topic)) != NULL;
    if (ok && m->response_topic)
        ok = (q->reply = strdup(m->response_topic)) != NULL;
    if (ok && m->correlation && m->correlation_len) {
        ok = (q->corr = malloc(m->correlation_len)) != NULL;
        if (ok)
            memcpy(q->corr, m->correlation, q->corr_len = m->correlation_len);
    }
    if (!ok) {
        proc_qitem_free(q);
        return NULL;
    }
    return q;
}

void proc_enqueue(proc *p, qitem_type type, const sb_bus_msg *m)
{
    qitem *q = item_of(type, m);
    if (!q) {
        sb_error(&p->log, "out of memory: message on %s dropped (the producer resends)", m->topic);
        return;
    }
    pthread_mutex_lock(&p->qmu);
    while (p->qlen >= (size_t)p->cfg->processor.queue_max && !p->qstop && !p->awaiting_acks)
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

stream_slot *proc_stream_slot(proc *p, const char *name)
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
        if (sb_stream_pos_parse(d, name, sizeof(name), &pos) == SB_OK &&
            (s = proc_stream_slot(p, name)))
            s->pos = s->pending = pos;
    }
    cJSON_Delete(res);
    return SB_OK;
}

/* Publishes the frame's events: one per topic, or an array per entity type. */
sb_err proc_publish_events(proc *p, frame_ctx *fc, uint64_t *last)
{
    sb_err rc = SB_OK;
    if (last)
        *last = 0;
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
        uint64_t id = 0;
        if (sb_bus_publish_id(p->bus, topic, body, len, 1, false, &id) == SB_OK) {
            atomic_fetch_add(&p->st.events, (uint64_t)b->n);
            if (last)
                *last = id;
        } else {
            sb_warn(&p->log, "%zu %s events not published (bus full)", b->n, tree_kind_name(k));
            rc = SB_ERR_FULL;
        }
    }
    return rc;
}

/*
 * Waits for the broker's PUBACKs of the events up to id. paho reads them on the thread that
 * runs the bus handlers, so meanwhile the handler must not wait for room in the input queue
 * (that would hold the PUBACKs back until the timeout): the queue may grow past
 * processor.queue_max by what the broker sends meanwhile (bus.receive_max can bound it; the
 * wait is short: the PUBACKs come back while the metric sync runs).
 */
static sb_err wait_events_acked(proc *p, uint64_t id)
{
    pthread_mutex_lock(&p->qmu);
    p->awaiting_acks = true;
    pthread_cond_broadcast(&p->qspace);
    pthread_mutex_unlock(&p->qmu);
    sb_err rc = sb_bus_wait_acked(p->bus, id, SYNC_TIMEOUT_MS);
    pthread_mutex_lock(&p->qmu);
    p->awaiting_acks = false;
    pthread_mutex_unlock(&p->qmu);
    return rc;
}

static void ack(proc *p, const char *stream, const sb_stream_pos *pos, bool gap)
{
    if (sb_stream_ack(p->bus, stream, pos, gap) == SB_OK)
        atomic_fetch_add(&p->st.acks, 1);
}

/* Whether fc changed a record of gateway gw (a node-down sweep). */
static bool touches_gateway(const frame_ctx *fc, const char *gw)
{
    for (size_t i = 0; i < fc->n_touched; i++)
        if (strcmp(sb_json_str(fc->touched[i]->doc, "gatewayId", ""), gw) == 0)
            return true;
    return false;
}

/*
 * Persists what fc touched and the pending position of every stream in the group in one batch,
 * after the metric points are durable: once a position is stored its frames are never applied
 * again, so points still only in RAM would die with a crash of the process. Then publishes the
 * events and acknowledges each stream. On failure the tree is reloaded from the store so memory
 * does not run ahead of it, and the positions fall back to the durable ones (nothing acked: the
 * producers resend). The batch also checks each stream's stored position (the fence of
 * docs/scaling.md); when another instance moved one, it is refused with SB_ERR_CONFLICT and
 * part_after_conflict() re-reads positions and tree and asks for resends.
 */
sb_err proc_commit(proc *p, frame_ctx *fc)
{
    for (size_t i = 0; i < fc->n_touched; i++) {
        tree_entry *e = fc->touched[i];
        if (e->event_pending)
            proc_event(p, fc, e, e->created ? "created" : "updated");
    }
    bool frames = false; /* else a sweep (or plain frames): fence the gateways it touches */
    for (size_t i = 0; i < p->n_streams; i++)
        frames = frames || p->streams[i].in_group;
    size_t n = fc->n_touched + 2 * p->n_streams;
    sb_store_op *ops = calloc(n ? n : 1, sizeof(*ops));
    cJSON **pos_docs = calloc(p->n_streams ? 2 * p->n_streams : 1, sizeof(*pos_docs));
    sb_errmsg em = {{0}};
    sb_err rc = ops && pos_docs ? SB_OK : SB_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; rc == SB_OK && i < fc->n_touched; i++)
        ops[k++] = (sb_store_op){SB_STORE_PUT, tree_kind_name(fc->touched[i]->kind),
                                 fc->touched[i]->doc, NULL};
    for (size_t i = 0; rc == SB_OK && i < p->n_streams; i++) {
        stream_slot *s = &p->streams[i];
        cJSON *doc = s->in_group ? sb_stream_pos_doc(s->name, &s->pending) : NULL;
        if (s->in_group && !doc)
            rc = SB_ERR_NOMEM;
        else if (doc)
            ops[k++] = (sb_store_op){SB_STORE_PUT, "_stream", pos_docs[i] = doc, NULL};
        /* Fencing: only while the stored position is still the one this instance last
         * committed (or none), so of two instances that both believe they own the stream
         * (hand-over, docs/scaling.md) only one commits each frame. */
        bool fence = s->in_group || (!frames && touches_gateway(fc, s->name));
        bool none = s->pos.epoch == 0 && s->pos.seq == 0;
        cJSON *want = fence && !none ? sb_stream_pos_doc(s->name, &s->pos) : NULL;
        if (fence && !none && !want)
            rc = SB_ERR_NOMEM;
        else if (fence)
            ops[k++] = (sb_store_op){SB_STORE_CHECK, "_stream", pos_docs[p->n_streams + i] = want,
                                     s->name};
    }
    /* Events before the commit (at-least-once, docs/processor.md): a SIGKILL after the commit
     * cannot lose them, since the broker has them by then; one before it leaves the frames
     * unacknowledged, so they come again and their events are published again (the same
     * values and timestamps). The broker's PUBACKs come back while the metrics sync waits. */
    uint64_t last_event = 0;
    if (rc == SB_OK && (rc = proc_publish_events(p, fc, &last_event)) != SB_OK)
        sb_fail(&em, rc, "events not queued (bus.max_pending reached)");
    if (rc == SB_OK && fc->points && p->hooks.metrics_sync &&
        (rc = p->hooks.metrics_sync(p->hooks.metrics_ctx, SYNC_TIMEOUT_MS)) != SB_OK)
        sb_fail(&em, rc, "metric points not durable (InfluxDB down and no metrics.buffer_dir?)");
    if (rc == SB_OK && last_event && (rc = wait_events_acked(p, last_event)) != SB_OK)
        sb_fail(&em, rc, "the broker did not acknowledge the events within %d ms", SYNC_TIMEOUT_MS);
    if (rc == SB_OK && p->kill_before_commit &&
        atomic_load(&p->st.commits) + 1 == p->kill_before_commit)
        raise(SIGKILL); /* the test's crash between the events' PUBACKs and the commit */
    if (rc == SB_OK && k > 0)
        rc = sb_store_batch(p->store, ops, k, &em);
    for (size_t i = 0; pos_docs && i < 2 * p->n_streams; i++)
        cJSON_Delete(pos_docs[i]);
    free(pos_docs);
    free(ops);
    for (size_t i = 0; i < fc->n_touched; i++) {
        tree_entry *e = fc->touched[i];
        e->dirty = e->created = e->event_pending = false;
    }
    if (rc != SB_OK) {
        atomic_fetch_add(&p->st.commit_failures, 1);
        if (rc == SB_ERR_CONFLICT) /* the hand-over fence: expected now and then */
            sb_warn(&p->log, "commit refused, frames not acknowledged: %s", em.text);
        else
            sb_error(&p->log, "commit failed, frames not acknowledged: %s", sb_errmsg_str(&em, rc));
        char(*group)[SB_STREAM_NAME_MAX] = calloc(p->n_streams + 1, sizeof(*group));
        size_t n_group = 0;
        for (size_t i = 0; i < p->n_streams; i++) {
            if (p->streams[i].in_group && group)
                memcpy(group[n_group++], p->streams[i].name, SB_STREAM_NAME_MAX);
            p->streams[i].pending = p->streams[i].pos;
            p->streams[i].in_group = false;
        }
        if (rc == SB_ERR_CONFLICT) {
            part_after_conflict(p, group, n_group);
        } else if (tree_load(p->tree, p->store, &em) != SB_OK) {
            sb_error(&p->log, "reloading the device tree: %s", em.text);
        } else {
            part_after_load(p);
        }
        free(group);
        return rc;
    }
    if (atomic_fetch_add(&p->st.commits, 1) + 1 == p->kill_after_commit)
        raise(SIGKILL); /* the test's crash between the commit and the stream acks */
    tree_trim(p->tree); /* nothing is dirty now: every cached record is in the store */
    for (size_t i = 0; i < p->n_streams; i++) {
        stream_slot *s = &p->streams[i];
        if (!s->in_group)
            continue;
        s->pos = s->pending;
        s->in_group = false;
        ack(p, s->name, &s->pos, false);
    }
    return SB_OK;
}

/* Whether a sequenced frame is applied (true) or answered without applying. The frame is
 * checked against the pending position (frames of the group before it count as applied); the
 * answers name the durable position, the only one a producer may let go of. */
static bool admit(proc *p, const sb_stream_frame *f, stream_slot *s)
{
    switch (sb_stream_check(&s->pending, f)) {
    case SB_STREAM_APPLY:
        return true;
    case SB_STREAM_DUPLICATE:
        atomic_fetch_add(&p->st.duplicates, 1);
        if (!s->in_group) /* else the group's commit acks a position past it */
            ack(p, f->stream, &s->pos, false);
        return false;
    case SB_STREAM_GAP:
        atomic_fetch_add(&p->st.gaps, 1);
        ack(p, f->stream, &s->pos, true);
        return false;
    case SB_STREAM_STALE:
    default:
        /* Acked too: a producer replaying its journal waits for older frames to be covered
         * before it publishes its new epoch; this position covers them. */
        atomic_fetch_add(&p->st.stale, 1);
        if (!s->in_group)
            ack(p, f->stream, &s->pos, false);
        return false;
    }
}

/* Applies one frame into fc (the group being collected); returns the messages applied. */
static size_t apply_frame(proc *p, frame_ctx *fc, const qitem *q)
{
    sb_stream_frame f;
    sb_errmsg em = {{0}};
    if (!part_owns_topic(p, q->topic)) { /* another instance applies and acks it */
        atomic_fetch_add(&p->st.foreign, 1);
        return 0;
    }
    if (sb_stream_decode(q->data, q->len, &f, &em) != SB_OK) {
        atomic_fetch_add(&p->st.bad_frames, 1);
        sb_warn(&p->log, "frame on %s dropped: %s", q->topic, em.text);
        return 0;
    }
    stream_slot *slot = f.sequenced ? proc_stream_slot(p, f.stream) : NULL;
    if (f.sequenced && (!slot || !admit(p, &f, slot))) {
        sb_stream_frame_free(&f);
        return 0;
    }
    atomic_fetch_add(f.sequenced ? &p->st.frames : &p->st.frames_plain, 1);
    const cJSON *item;
    size_t i = 0;
    cJSON_ArrayForEach(item, f.items)
    {
        sb_msg *m = NULL;
        if (sb_msg_from_json(item, &m, &em) != SB_OK) {
            atomic_fetch_add(&p->st.bad_messages, 1);
            sb_warn(&p->log, "message %zu of the frame on %s dropped: %s", i, q->topic, em.text);
        } else {
            proc_apply(p, fc, m);
        }
        sb_msg_free(m);
        i++;
    }
    if (f.sequenced) {
        slot->pending = sb_stream_next(&f);
        slot->in_group = true;
    }
    sb_stream_frame_free(&f);
    return i;
}

static void reload(proc *p)
{
    sb_errmsg em = {{0}};
    if (tree_load(p->tree, p->store, &em) != SB_OK) {
        sb_error(&p->log, "reload: %s", em.text);
    } else {
        part_after_load(p);
        sb_info(&p->log, "device tree reloaded from the store");
    }
}

/* Takes the next queued item, or NULL; with p->qmu held. */
static qitem *pop(proc *p)
{
    qitem *q = p->qhead;
    if (q && !(p->qhead = q->next))
        p->qtail = NULL;
    if (q)
        p->qlen--;
    atomic_store(&p->st.queue_depth, p->qlen);
    pthread_cond_signal(&p->qspace);
    return q;
}

/* Runs a control request that ended a group, after the group's commit. */
static void run_ctl(proc *p, qitem *q)
{
    if (q->type == Q_RELOAD)
        reload(p);
    else if (q->type == Q_EDIT)
        proc_edit(p, q);
    else if (q->type == Q_DELETE)
        proc_delete(p, q);
    proc_qitem_free(q);
}

/*
 * Applies the frames waiting in the queue as one group and commits them; mu held on entry and
 * on return (released while working). A control request (reload, edit, delete) ends the group
 * and runs after its commit, when nothing is dirty: it sees every frame queued before it and
 * none queued after it.
 */
static void run_group(proc *p, qitem *first)
{
    frame_ctx fc = {0};
    qitem *q = first, *ctl = NULL;
    size_t frames = 0, items = 0;
    pthread_mutex_unlock(&p->qmu);
    part_sync(p); /* ownership changes only between groups */
    pthread_mutex_lock(&p->qmu);
    while (q) {
        pthread_mutex_unlock(&p->qmu);
        if (q->type != Q_FRAME) {
            ctl = q;
        } else {
            items += apply_frame(p, &fc, q);
            frames++;
            proc_qitem_free(q);
        }
        pthread_mutex_lock(&p->qmu);
        q = !ctl && frames < GROUP_MAX_FRAMES && items < GROUP_MAX_ITEMS && !p->qstop ? pop(p)
                                                                                      : NULL;
    }
    pthread_mutex_unlock(&p->qmu);
    bool any = fc.n_touched > 0;
    for (size_t i = 0; !any && i < p->n_streams; i++)
        any = p->streams[i].in_group;
    if (any)
        proc_commit(p, &fc);
    frame_ctx_free(&fc);
    if (ctl)
        run_ctl(p, ctl);
    pthread_mutex_lock(&p->qmu);
}

static void *worker_main(void *arg)
{
    proc *p = arg;
    int64_t down = p->cfg->processor.node_down_after_ms;
    int64_t every = down > 0 ? (down / 4 < 1000 ? (down / 4 > 20 ? down / 4 : 20) : 1000) : 1000;
    int64_t next_sweep = sb_time_mono_ms() + every;
    int trims = 0; /* sweep ticks left that give freed memory back */
    part_settle(p);
    pthread_mutex_lock(&p->qmu);
    while (!p->qstop) {
        if (!p->qhead) {
            struct timespec ts;
            sb_time_mono_deadline(20, &ts);
            pthread_cond_timedwait(&p->qcv, &p->qmu, &ts);
            pthread_mutex_unlock(&p->qmu);
            part_sync(p); /* a gateway taken over while idle asks for its resend now */
            pthread_mutex_lock(&p->qmu);
        }
        qitem *q = pop(p);
        if (q) {
            run_group(p, q);
            trims = 2;
        }
        int64_t now = sb_time_mono_ms();
        if (now >= next_sweep) {
            bool idle = !p->qhead;
            pthread_mutex_unlock(&p->qmu);
            next_sweep = now + every;
            frame_ctx fc = {0};
            proc_sweep(p, &fc, now);
            if (fc.n_touched)
                proc_commit(p, &fc);
            frame_ctx_free(&fc);
            /* After work, at the next two ticks while idle: give the memory freed by the
             * frames, the groups and the acknowledged events (the bus frees those a little
             * later) back to the system; glibc keeps freed heap otherwise (100k values in a
             * burst left the RSS 30 MB above what the processor holds). */
            if (trims > 0 && idle) {
                trims--;
                malloc_trim(0);
            }
            pthread_mutex_lock(&p->qmu);
        }
    }
    pthread_mutex_unlock(&p->qmu);
    return NULL;
}

/* The commit number a test's fault point (environment variable var) names; 0 when unset. */
static uint64_t fault_point(proc *p, const char *var, const char *when)
{
    const char *at = getenv(var);
    uint64_t n = at ? strtoull(at, NULL, 10) : 0;
    if (n)
        sb_warn(&p->log, "%s: killing itself %s commit %llu", var, when, (unsigned long long)n);
    return n;
}

sb_err proc_worker_start(proc *p, sb_errmsg *em)
{
    sb_err rc = load_streams(p, em);
    if (rc != SB_OK)
        return rc;
    p->kill_after_commit = fault_point(p, "SWITCHBOARD_TEST_KILL_AFTER_COMMIT", "after");
    p->kill_before_commit = fault_point(p, "SWITCHBOARD_TEST_KILL_BEFORE_COMMIT", "before");
    pthread_mutex_init(&p->qmu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&p->qcv, &a);
    pthread_condattr_destroy(&a);
    pthread_cond_init(&p->qspace, NULL);
    p->q_ready = true;
    if (pthread_create(&p->worker, NULL, worker_main, p) != 0)
        return sb_fail(em, SB_ERR_NOMEM, "cannot start the worker thread");
    p->worker_running = true;
    return SB_OK;
}

void proc_worker_stop(proc *p)
{
    if (!p->q_ready)
        return;
    /* qstop also releases a bus handler waiting for room: it queues its item and returns. */
    pthread_mutex_lock(&p->qmu);
    p->qstop = true;
    pthread_cond_broadcast(&p->qcv);
    pthread_cond_broadcast(&p->qspace);
    pthread_mutex_unlock(&p->qmu);
    if (p->worker_running)
        pthread_join(p->worker, NULL);
    p->worker_running = false;
}

void proc_queue_free(proc *p)
{
    if (!p->q_ready)
        return;
    for (qitem *q = p->qhead, *next; q; q = next) {
        next = q->next;
        proc_qitem_free(q);
    }
    p->qhead = p->qtail = NULL;
    p->qlen = 0;
    pthread_mutex_destroy(&p->qmu);
    pthread_cond_destroy(&p->qcv);
    pthread_cond_destroy(&p->qspace);
    p->q_ready = false;
}
