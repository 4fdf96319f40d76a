/*
 * processor.h - the message processor (docs/processor.md): consumes "<p>/msg/in/+" frames,
 * keeps the device tree (node, source, field records) in memory and in the store, writes every
 * value to the metric store, publishes created/updated events and answers requests.
 *
 * Internal to services/processor, except sb_processor_run_with() and sb_proc_convert(),
 * which tests use.
 */
#ifndef SB_PROCESSOR_H
#define SB_PROCESSOR_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/msg.h"
#include "core/service.h"
#include "core/stream.h"
#include "storage/metrics.h"
#include "storage/store.h"

/*
 * Where values go as time series: sb_processor_run wires sb_metrics_write here; tests may give
 * their own. A NULL write drops points (counted). Borrowed strings, as sb_metrics_write.
 */
typedef struct sb_processor_hooks {
    sb_err (*metrics_write)(void *ctx, const sb_metric_point *p);
    /* Optional: makes the points written so far durable (sb_metrics_sync); called before a
     * frame is committed, so an acknowledged frame's points survive a crash of the processor. */
    sb_err (*metrics_sync)(void *ctx, int64_t timeout_ms);
    void *metrics_ctx;
} sb_processor_hooks;

/* sb_processor_run with hooks (NULL = defaults). Returns the exit code. */
int sb_processor_run_with(const sb_config *cfg, sb_stop_flag *stop,
                          const sb_processor_hooks *hooks);
int sb_processor_run(const sb_config *cfg, sb_stop_flag *stop);

/*
 * Converts a value's wire text to what a field of type t stores: none/string keep the text,
 * binary true/false (on/off, 1/0, yes/no, true/false, any case), gauge and gauge_float a
 * finite decimal number, counter an integer >= 0, geo "lat;lon[;alt]" an object {latitude,
 * longitude, altitude}. Strict: no surrounding spaces, hex, inf or nan. *out is a new JSON
 * value (caller frees); metric_text (len >= 128) gets the canonical text for the metric store.
 * SB_ERR_INVALID with a message naming the expected form when text does not fit.
 */
sb_err sb_proc_convert(sb_metric_type t, const char *text, cJSON **out, char *metric_text,
                       size_t len, sb_errmsg *em);

/* ---- internal ----------------------------------------------------------------------------- */

typedef enum { T_NODE = 0, T_SOURCE, T_FIELD, T__COUNT } tree_kind;

/* One record of the device tree, owned by the tree. */
typedef struct tree_entry {
    tree_kind kind;
    char *id;     /* "gw1.12", "gw1.12.1", "gw1.12.1.V_TEMP" */
    cJSON *doc;   /* NULL at rest: then packed holds the record (tree_get parses it) */
    char *packed; /* at rest: the record as JSON text */
    size_t packed_len;
    bool dirty;           /* changed since the last commit */
    bool created;         /* created since the last commit (event "created") */
    bool event_pending;   /* node/source: one coalesced event at commit */
    int64_t traffic_mono; /* nodes: monotonic ms of the last message */
    struct tree_entry *next;
    struct tree_entry *lru_prev, *lru_next;   /* fields: the cache order, most recent first */
    struct tree_entry *wake_prev, *wake_next; /* while doc is set: the tree's awake list */
} tree_entry;

typedef struct tree tree;

/*
 * Nodes and sources are all in memory. Fields are a cache of at most field_max records and
 * byte_max bytes of records at rest (the most recently used): a field not in it is read from
 * the store s (borrowed) when needed. Between tree_get (or tree_add) and the next tree_trim a
 * record is a document (entry->doc); at rest it is text, parsed again by the next tree_get.
 */
sb_err tree_create(sb_store *s, size_t field_max, size_t byte_max, tree **out);
void tree_destroy(tree *t);
void tree_clear(tree *t);
/* Loads every node and source document from the store; empties the field cache. */
sb_err tree_load(tree *t, sb_store *s, sb_errmsg *em);
/*
 * The entry of kind and id: from memory, or for a field from the store (then cached). NULL
 * when it does not exist, and also on a store error, which *rc (may be NULL) reports: then the
 * caller must not create the record, it may exist.
 */
tree_entry *tree_get(tree *t, tree_kind kind, const char *id, sb_err *rc);
/* Removes every record of gateway gw (ids "gw.*") from memory; call when none is dirty. */
void tree_drop_gateway(tree *t, const char *gw);
/* Replaces gateway gw's nodes and sources with what the store holds; its fields are dropped
 * (read again when needed). */
sb_err tree_load_gateway(tree *t, sb_store *s, const char *gw, sb_errmsg *em);
/* Puts the records used since the last trim to rest (their documents become text: a doc taken
 * before, or a field's entry, is not to be used after) and drops the least recently used
 * fields over field_max or byte_max; call when no entry is dirty. */
void tree_trim(tree *t);
/* The fields in the cache and the bytes of those at rest. */
void tree_usage(const tree *t, size_t *fields, size_t *bytes);
/* Removes the entry of kind and id from memory (not from the store); false when absent. Only
 * when no entry is dirty. */
bool tree_remove(tree *t, tree_kind kind, const char *id);
/* Adds a new entry owning doc. NULL on no memory (doc freed). */
tree_entry *tree_add(tree *t, tree_kind kind, const char *id, cJSON *doc);
/* Calls fn for every entry of kind, as a document (one at rest goes back to rest after fn
 * unless fn made it dirty); one that cannot be parsed for lack of memory is skipped. */
void tree_each(tree *t, tree_kind kind, void (*fn)(void *ctx, tree_entry *e), void *ctx);
const char *tree_kind_name(tree_kind kind);

/* Counters for the status (atomic: the status thread reads them). */
typedef struct proc_stats {
    atomic_uint_fast64_t frames, frames_plain, duplicates, gaps, stale, bad_frames;
    atomic_uint_fast64_t messages, bad_messages, fields_updated, rejected_values;
    atomic_uint_fast64_t created, events, acks, requests, commits, commit_failures;
    atomic_uint_fast64_t metrics_written, metrics_failed, nodes_down, queue_depth;
    atomic_uint_fast64_t foreign; /* frames of gateways another instance owns (ignored) */
} proc_stats;

/*
 * The events of one entity type, already as JSON text: "[" then the event objects separated
 * by commas (no closing bracket). Printed once when recorded, so the document is not copied.
 */
typedef struct event_buf {
    char *text;
    size_t len, cap;
    size_t n;        /* events in text */
    char *first_id;  /* entityId of the first event (the topic of a single event) */
    size_t doc_hint; /* bytes the last printed document needed */
} event_buf;

/* What one frame (or one sweep) changed, collected until the commit. */
typedef struct frame_ctx {
    event_buf events[T__COUNT]; /* per entity type */
    tree_entry **touched;       /* entries to persist */
    size_t n_touched, cap_touched;
    bool points; /* metric points were written: the commit makes them durable first */
} frame_ctx;

typedef struct proc proc;

/* apply.c: applies one message to the tree, recording changes in fc. */
void proc_apply(proc *p, frame_ctx *fc, const sb_msg *m);
/* apply.c: marks nodes without traffic for node_down_after as down. */
void proc_sweep(proc *p, frame_ctx *fc, int64_t now_mono);
/* apply.c: records an event for e (snapshot of its document now). */
void proc_event(proc *p, frame_ctx *fc, tree_entry *e, const char *type);
void frame_ctx_touch(frame_ctx *fc, tree_entry *e);
void frame_ctx_free(frame_ctx *fc);

/* apply.c: a new record of kind with the shape every device-tree record shares, named name;
 * src may be NULL for a node. NULL when out of memory. */
cJSON *proc_new_doc(tree_kind kind, const char *id, const char *gw, const char *node,
                    const char *src, const char *name);

/* What a queued item asks for. */
typedef enum { Q_FRAME = 0, Q_RELOAD, Q_EDIT, Q_DELETE } qitem_type;

/*
 * worker.c: the queue and the thread that applies frames. Start, then stop (joins the worker:
 * nothing publishes after it), then close the bus, then free the queue: a bus handler may
 * still queue items until the bus is closed.
 */
sb_err proc_worker_start(proc *p, sb_errmsg *em);
void proc_worker_stop(proc *p);
void proc_queue_free(proc *p);
/* Queues a received frame or control request m (copied, with its reply topic and correlation
 * data); waits while the queue is full. */
void proc_enqueue(proc *p, qitem_type type, const sb_bus_msg *m);
/* worker.c: publishes fc's events and waits for the broker to take them, persists what fc
 * touched (and the streams of the group), then acknowledges the frames; on failure reloads the
 * tree from the store (docs/processor.md). */
sb_err proc_commit(proc *p, frame_ctx *fc);
/* worker.c: publishes fc's events, one per topic or an array per entity type; *last (may be
 * NULL) gets the bus id of the last publish (0 when there was none). SB_ERR_FULL when the bus
 * refused one (the others may be out). */
sb_err proc_publish_events(proc *p, frame_ctx *fc, uint64_t *last);

/* A frame or control request waiting for the worker. */
typedef struct qitem {
    struct qitem *next;
    qitem_type type;
    size_t len;
    char *topic;
    char *reply; /* response topic of a request, or NULL */
    void *corr;  /* its correlation data */
    size_t corr_len;
    char data[]; /* len bytes + NUL */
} qitem;

/* worker.c: the slot of stream name (created empty on first use); NULL on no memory. */
struct stream_slot *proc_stream_slot(proc *p, const char *name);

/* edit.c: a user's edit of a node, source or field ({kind, id, changes}) or a delete
 * ({kind, ids}), applied and committed on the worker; the reply says what happened. Called
 * between groups, when no entry is dirty. */
void proc_edit(proc *p, const qitem *q);
void proc_delete(proc *p, const qitem *q);
/* Frees q (accepts NULL). */
void proc_qitem_free(qitem *q);

/* A stream position the processor holds. */
typedef struct stream_slot {
    char name[SB_STREAM_NAME_MAX];
    sb_stream_pos pos;     /* durable: stored with the effects of the frames up to it */
    sb_stream_pos pending; /* after the frames applied but not yet committed (== pos between) */
    bool in_group;         /* frames of this stream are in the commit being collected */
} stream_slot;

struct proc {
    const sb_config *cfg;
    sb_service *svc;
    sb_bus *bus;
    sb_store *store;
    tree *tree;
    sb_processor_hooks hooks;
    proc_stats st;
    sb_logger log;

    stream_slot *streams; /* worker thread only */
    size_t n_streams;
    struct partition *part; /* partition.h: which gateways this instance applies */

    pthread_mutex_t qmu;
    pthread_cond_t qcv, qspace;
    qitem *qhead, *qtail;
    size_t qlen;
    bool qstop;
    bool q_ready; /* qmu and the conditions are initialised */
    pthread_t worker;
    bool worker_running;
    bool awaiting_acks; /* under qmu: the worker waits for the broker's PUBACKs of events */
    /* fault injection for tests (docs/testing.md): SIGKILL itself right after this many
     * commits, from SWITCHBOARD_TEST_KILL_AFTER_COMMIT; 0 = never */
    uint64_t kill_after_commit;
    /* ... and right before the store batch of this commit (its events are acknowledged by the
     * broker then), from SWITCHBOARD_TEST_KILL_BEFORE_COMMIT; 0 = never */
    uint64_t kill_before_commit;
};

#endif
