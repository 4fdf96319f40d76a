/*
 * task.h - the task service (switchboard-task): loads task documents, evaluates them when an
 * event matches or their interval is due, and publishes handler calls. docs/automation.md
 * "Tasks". Internal to services/task; sb_task_run is the service entry.
 *
 * Threads: paho's delivery thread only queues what arrives (task_enqueue); one worker thread
 * owns the task list and does everything else (store reads, evaluation, publishing, timers).
 */
#ifndef SB_TASK_H
#define SB_TASK_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/event.h"
#include "core/histo.h"
#include "core/log.h"
#include "core/service.h"
#include "services/task/rule.h"
#include "storage/store.h"

int sb_task_run(const sb_config *cfg, sb_stop_flag *stop);

typedef enum task_eval_type { TASK_EVAL_RULE = 0, TASK_EVAL_JS, TASK_EVAL_WEBHOOK } task_eval_type;

/* evaluationConfig.webhook */
typedef struct task_webhook {
    char *url;
    cJSON *headers;     /* object name -> value, borrowed from the task's document */
    bool insecure;      /* skip TLS verification */
    int64_t timeout_ms; /* 0 = task.webhook_timeout */
} task_webhook;

/* eventFilter: every part given must hold. */
typedef struct task_filter {
    const cJSON *entity_types; /* array of strings, NULL = any */
    const cJSON *event_types;  /* array of strings, NULL = any */
    const cJSON *quick_ids;    /* array of strings, NULL = any */
    const cJSON *labels;       /* object: the entity carries each label, NULL = any */
    sb_query *filters;         /* store filters on the entity, NULL = none */
} task_filter;

/* The task's state as persisted in its document ("state"). */
typedef struct task_state {
    int64_t last_eval_ms, last_success_ms, executed;
    char status[16]; /* ok | error */
    char message[512];
    cJSON *history; /* array of {time, triggered, message}, newest last, bounded */
    bool latched;   /* ignoreDuplicate: triggered and the condition has not been false since */
    int64_t re_enable_at_ms; /* wall clock; 0 = none */
    bool dirty;              /* changed since last stored */
    bool enabled_dirty;      /* autoDisable/reEnable changed "enabled": store it too */
} task_state;

typedef struct task {
    char *id;
    cJSON *raw;  /* the document without "state" as stored: tells a real change from an echo */
    cJSON *conf; /* the same, normalised; owned. The parsed members borrow from it. */
    bool enabled;
    char error[512]; /* not empty: the spec is bad and the task never runs */
    task_eval_type eval;
    task_rule rule;
    const char *js;
    task_webhook hook;
    task_damp damp;
    task_damp_state ds;
    bool ignore_dup, auto_disable, re_enable;
    int64_t re_enable_ms;
    bool on_event;
    task_filter filter;
    int64_t interval_ms, next_run_mono; /* 0 = no interval */
    const cJSON *variables, *handlers, *params;
    task_state st;
    struct task *next;
} task;

/* Counters for the status (atomic: the status thread reads them). */
typedef struct task_stats {
    atomic_uint_fast64_t events, events_dropped, evaluations, triggers, handler_calls;
    atomic_uint_fast64_t errors, js_limits, reloads, tasks, queue_depth;
    sb_histo evaluation_ms; /* one task's variables, evaluation and handler calls */
} task_stats;

typedef struct task_qitem {
    struct task_qitem *next;
    bool reload; /* ctl reload, not an event */
    size_t len;
    char data[]; /* len bytes + NUL */
} task_qitem;

/* index.c: tasks by the quick ids of their eventFilter, plus those without (scanned). */
typedef struct task_index {
    struct {
        const char *key; /* borrowed from the task's filter */
        task *t;
    } * slots;
    size_t cap; /* power of two; 0 = not built */
    task **scan;
    size_t n_scan;
    bool dirty; /* the task list changed: rebuild before use */
} task_index;

sb_err task_index_build(task_index *ix, task *list);
void task_index_clear(task_index *ix);
/* Calls fn for every task the event with quick_id may concern (each at most once per key). */
void task_index_each(const task_index *ix, const char *quick_id, void (*fn)(void *, task *),
                     void *ctx);

typedef struct task_svc {
    const sb_config *cfg;
    sb_service *svc;
    sb_bus *bus;
    sb_store *store;
    sb_logger log;
    task_stats st;
    task *tasks; /* worker thread only */
    task_index index;
    cJSON *pending; /* task documents with new state, stored together by task_state_commit */

    /* state.c: the state writer thread, so a store write (an fsync) never holds up evaluation */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    cJSON *wqueue; /* arrays of documents, oldest first */
    bool wstop;
    pthread_t writer;
    bool writer_running;
    int64_t next_flush_mono;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    task_qitem *qhead, *qtail;
    size_t qlen;
    bool qstop;
    pthread_t worker;
    bool worker_running;
} task_svc;

/* spec.c: parses doc (borrowed) into a zeroed t. A bad spec is SB_OK with t->error set, so the
 * task is still known (and its state can say why it does not run); other errors are NOMEM. */
sb_err task_spec_parse(const cJSON *doc, task *t);
void task_free(task *t);
/* The document's modifiedOn (set by the API on every write) in ms, 0 when absent or bad. */
int64_t task_modified_ms(const cJSON *doc);
/* Whether the event passes t's eventFilter. */
bool task_filter_match(const task *t, const sb_event *ev);

/* vars.c: the variables object of one evaluation (the trigger event is "event"). Problems
 * (missing entities, template warnings) are appended to warnings as strings. NULL = no memory. */
cJSON *task_vars_resolve(task_svc *s, const task *t, const sb_event *ev, cJSON *warnings);

/* eval.c: one evaluation of t (ev = the trigger event or NULL) and what follows from it. */
void task_run(task_svc *s, task *t, const sb_event *ev);
/* eval.c: the dampening timer of an active_duration task. */
void task_damp_timer(task_svc *s, task *t);
/* The {triggered, ...} result of javascript and webhook evaluations: *extra gets the other keys
 * (caller frees). A bare boolean is accepted too. */
sb_err task_result_parse(const cJSON *res, bool *triggered, cJSON **extra, sb_errmsg *em);

/* state.c */
void task_state_load(task *t, const cJSON *state);
/* Records one evaluation outcome in the state and history. */
void task_state_record(task_svc *s, task *t, bool triggered, const char *status,
                       const char *message);
/* Puts the state into the task's document (and enabled, when auto-disable changed it),
 * publishes the "updated" task event and queues the document for task_state_commit. */
void task_state_save(task_svc *s, task *t);
/* Hands the queued documents to the writer thread, which stores each handed set in one
 * transaction (one write, not one per task). */
void task_state_commit(task_svc *s);
sb_err task_writer_start(task_svc *s, sb_errmsg *em);
/* Stores what was handed over, then stops the writer. */
void task_writer_stop(task_svc *s);

/* js.c: evaluates script in a fresh sandboxed heap with the limits of task.js_timeout/js_memory.
 * SB_ERR_TIMEOUT / SB_ERR_TOO_LARGE when a limit stopped it. */
sb_err task_js_eval(const sb_config *cfg, const char *script, const cJSON *vars, bool *triggered,
                    cJSON **extra, sb_errmsg *em);

/* webhook.c: POSTs vars to the hook and reads {triggered, ...}. */
sb_err task_webhook_eval(const sb_config *cfg, const task_webhook *hook, const cJSON *vars,
                         bool *triggered, cJSON **extra, sb_errmsg *em);

/* service.c: task list operations on the worker thread. */
void task_reload_all(task_svc *s);

#endif
