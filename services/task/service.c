/*
 * service.c - the task service: subscribes to "<p>/event/#" and "<p>/ctl/task/reload", queues
 * what arrives (paho's delivery thread never waits) and runs one worker thread that owns the
 * task list: loading, matching events, interval and dampening timers, re-enabling and the
 * periodic state flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/secret.h"
#include "core/json.h"
#include "core/time.h"
#include "services/task/task.h"
#include "storage/site.h"

/* ---- the queue (bus thread -> worker) ---------------------------------------------------- */

static void enqueue(task_svc *s, const void *data, size_t len, bool reload)
{
    task_qitem *it = malloc(sizeof(*it) + len + 1);
    if (!it) {
        atomic_fetch_add(&s->st.events_dropped, 1);
        return;
    }
    it->next = NULL;
    it->reload = reload;
    it->len = len;
    memcpy(it->data, data, len);
    it->data[len] = 0;
    pthread_mutex_lock(&s->qmu);
    if (!reload && s->qlen >= (size_t)s->cfg->task.queue_max) {
        pthread_mutex_unlock(&s->qmu);
        free(it);
        if (atomic_fetch_add(&s->st.events_dropped, 1) % 1000 == 0)
            sb_warn(&s->log, "event queue full (task.queue_max %lld): events dropped",
                    (long long)s->cfg->task.queue_max);
        return;
    }
    if (s->qtail)
        s->qtail->next = it;
    else
        s->qhead = it;
    s->qtail = it;
    s->qlen++;
    atomic_store(&s->st.queue_depth, s->qlen);
    pthread_cond_signal(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
}

static void on_event(void *ctx, const sb_bus_msg *m)
{
    task_svc *s = ctx;
    atomic_fetch_add(&s->st.events, 1);
    enqueue(s, m->payload, m->len, false);
}

static void on_reload(void *ctx, const sb_bus_msg *m)
{
    (void)m;
    enqueue(ctx, "", 0, true);
}

/* ---- the task list (worker thread) ------------------------------------------------------- */

static task *find(task_svc *s, const char *id)
{
    for (task *t = s->tasks; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

/* A task built from a stored document, its state loaded; NULL on no memory. */
static task *build_from(task_svc *s, const cJSON *doc, const cJSON *state_doc)
{
    task *t = calloc(1, sizeof(*t));
    if (!t || task_spec_parse(doc, t) != SB_OK) {
        task_free(t);
        return NULL;
    }
    /* Secrets the API sealed (webhook headers such as Authorization) in clear for the run;
     * t->raw stays as stored, so what is written back stays sealed. The parsed members point
     * into t->conf, whose strings are replaced in place. */
    sb_errmsg em = {{0}};
    sb_err rc = sb_secret_open_with(s->cfg, t->conf, &em);
    if (rc != SB_OK && !t->error[0])
        snprintf(t->error, sizeof(t->error), "its secrets: %s", sb_errmsg_str(&em, rc));
    task_state_load(t, cJSON_GetObjectItemCaseSensitive(state_doc, "state"));
    if (t->enabled && t->st.re_enable_at_ms) {
        /* Enabled again by hand: the pending re-enable is moot, and must not come back from
         * the stored state when the task is disabled by hand later. */
        t->st.re_enable_at_ms = 0;
        task_state_save(s, t);
    }
    if (t->interval_ms)
        t->next_run_mono = sb_time_mono_ms() + t->interval_ms;
    if (t->error[0]) {
        sb_warn(&s->log, "task '%s' not run: %s", t->id, t->error);
        if (strcmp(t->st.message, t->error) != 0 || strcmp(t->st.status, "error") != 0)
            task_state_record(s, t, false, "error", t->error);
    }
    return t;
}

static task *build(task_svc *s, const cJSON *doc)
{
    return build_from(s, doc, doc);
}

/* Puts t in the list in place of the task with its id (freed), or at the front. */
static void replace(task_svc *s, task *t)
{
    for (task **pp = &s->tasks; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, t->id) == 0) {
            task *old = *pp;
            t->next = old->next;
            *pp = t;
            task_free(old);
            s->index.dirty = true;
            return;
        }
    }
    t->next = s->tasks;
    s->tasks = t;
    s->index.dirty = true;
}

static void detach(task_svc *s, const task *t)
{
    for (task **pp = &s->tasks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            return;
        }
}

static void remove_task(task_svc *s, const char *id)
{
    for (task **pp = &s->tasks; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            task *old = *pp;
            *pp = old->next;
            task_free(old);
            s->index.dirty = true;
            return;
        }
    }
}

static size_t count_tasks(const task_svc *s)
{
    size_t n = 0;
    for (const task *t = s->tasks; t; t = t->next)
        n++;
    return n;
}

/* Whether doc (with "state") is the configuration t already runs. */
static bool same_conf(const task *t, const cJSON *doc)
{
    cJSON *raw = cJSON_Duplicate(doc, true);
    if (!raw)
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(raw, "state");
    bool same = cJSON_Compare(t->raw, raw, true);
    cJSON_Delete(raw);
    return same;
}

void task_reload_all(task_svc *s)
{
    cJSON *found = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_find(s->store, "task", NULL, &found, &em);
    if (rc != SB_OK) {
        sb_error(&s->log, "loading tasks: %s", sb_errmsg_str(&em, rc));
        return;
    }
    task *list = NULL, *tail = NULL;
    const cJSON *doc;
    cJSON_ArrayForEach(doc, cJSON_GetObjectItemCaseSensitive(found, "data"))
    {
        const char *id = sb_json_str(doc, "id", "");
        task *t = find(s, id);
        if (t && same_conf(t, doc)) {
            /* Unchanged: keep it, with its dampening memory and timers. */
            detach(s, t);
        } else if (!(t = build(s, doc))) {
            continue;
        }
        t->next = NULL;
        if (tail)
            tail->next = t;
        else
            list = t;
        tail = t;
    }
    cJSON_Delete(found);
    while (s->tasks) {
        task *old = s->tasks;
        s->tasks = old->next;
        task_free(old);
    }
    s->tasks = list;
    s->index.dirty = true;
    atomic_fetch_add(&s->st.reloads, 1);
    atomic_store(&s->st.tasks, count_tasks(s));
    sb_info(&s->log, "%zu tasks loaded", count_tasks(s));
}

/* An event about a task: a change from the API (or elsewhere), or the echo of our own state. */
static void task_changed(task_svc *s, const sb_event *ev)
{
    if (strcmp(ev->type, "deleted") == 0) {
        remove_task(s, ev->entity_id);
        atomic_store(&s->st.tasks, count_tasks(s));
        return;
    }
    cJSON *doc = NULL;
    task *cur = find(s, ev->entity_id);
    if (ev->entity && cur && same_conf(cur, ev->entity))
        return;
    /* An event older than the configuration running (the echo of an earlier state write) says
     * nothing new. */
    if (ev->entity && cur && task_modified_ms(ev->entity) < task_modified_ms(cur->raw))
        return;
    /* The store is the truth, as an event may be older than the document; except when the
     * event's modifiedOn is newer: then a state write of ours that read the document just before
     * that change overwrote it, and the event carries the change to restore. Our own writes may
     * still be on their way to the store: a running configuration newer than both stays. */
    if (sb_store_get(s->store, "task", ev->entity_id, &doc, NULL) != SB_OK) {
        remove_task(s, ev->entity_id);
    } else {
        const cJSON *base = doc;
        if (ev->entity && task_modified_ms(ev->entity) > task_modified_ms(doc))
            base = ev->entity;
        if (cur && task_modified_ms(cur->raw) > task_modified_ms(base)) {
            cJSON_Delete(doc);
            return;
        }
        if (!cur || !same_conf(cur, base)) {
            task *t = build_from(s, base, doc);
            if (t) {
                replace(s, t);
                if (base != doc)
                    task_state_save(s, t); /* writes the restored configuration back */
            }
        }
    }
    cJSON_Delete(doc);
    atomic_store(&s->st.tasks, count_tasks(s));
}

static bool wants(const task *t, const sb_event *ev)
{
    if (!t->on_event || !t->enabled || t->error[0])
        return false;
    /* Task events trigger only tasks that ask for them, and never the task itself: a task's
     * own state event must not run it again. */
    if (strcmp(ev->entity_type, "task") == 0) {
        const cJSON *e;
        bool named = false;
        cJSON_ArrayForEach(e, t->filter.entity_types) named |= strcmp(e->valuestring, "task") == 0;
        if (!named || strcmp(ev->entity_id, t->id) == 0)
            return false;
    }
    return task_filter_match(t, ev);
}

typedef struct match_ctx {
    task_svc *s;
    const sb_event *ev;
} match_ctx;

static void run_if_wanted(void *ctx, task *t)
{
    match_ctx *m = ctx;
    if (wants(t, m->ev))
        task_run(m->s, t, m->ev);
}

/* The zone and location of the tasks' templates (sunrise, sunset, format). */
static void load_site(task_svc *s)
{
    sb_site site;
    sb_errmsg em = {{0}};
    sb_err rc = sb_site_load(s->cfg, s->store, &site, &em);
    if (rc == SB_OK)
        sb_site_apply_to_templates(&site);
    else
        sb_warn(&s->log, "site: %s; templates keep the previous zone and location",
                sb_errmsg_str(&em, rc));
}

static void handle_events(task_svc *s, const task_qitem *it)
{
    sb_event *evs = NULL;
    size_t n = 0;
    sb_errmsg em = {{0}};
    if (sb_event_parse(it->data, it->len, &evs, &n, &em) != SB_OK) {
        sb_debug(&s->log, "event not understood: %s", em.text);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i].entity_type, "task") == 0)
            task_changed(s, &evs[i]);
        if (strcmp(evs[i].entity_type, "settings") == 0)
            load_site(s);
        if (s->index.dirty && task_index_build(&s->index, s->tasks) != SB_OK) {
            /* No memory for the index: look at every task. */
            for (task *t = s->tasks; t; t = t->next)
                if (wants(t, &evs[i]))
                    task_run(s, t, &evs[i]);
            continue;
        }
        match_ctx m = {s, &evs[i]};
        task_index_each(&s->index, evs[i].quick_id, run_if_wanted, &m);
    }
    sb_event_free_all(evs, n);
}

/* ---- timers ------------------------------------------------------------------------------ */

static void re_enable(task_svc *s, task *t)
{
    t->enabled = true;
    t->st.enabled_dirty = true;
    t->st.re_enable_at_ms = 0;
    sb_json_set_bool(t->conf, "enabled", true);
    sb_json_set_bool(t->raw, "enabled", true);
    if (t->interval_ms)
        t->next_run_mono = sb_time_mono_ms() + t->interval_ms;
    task_state_record(s, t, false, "ok", "re-enabled");
}

/* Runs what is due; returns the monotonic time of the next due timer. */
static int64_t run_timers(task_svc *s)
{
    int64_t mono = sb_time_mono_ms(), wall = sb_time_now_ms();
    int64_t next = mono + 1000;
    for (task *t = s->tasks; t; t = t->next) {
        if (!t->enabled && t->re_enable && t->st.re_enable_at_ms && !t->error[0]) {
            if (wall >= t->st.re_enable_at_ms)
                re_enable(s, t);
            else if (t->st.re_enable_at_ms - wall + mono < next)
                next = t->st.re_enable_at_ms - wall + mono;
        }
        if (t->interval_ms && t->enabled && !t->error[0]) {
            if (mono >= t->next_run_mono) {
                task_run(s, t, NULL);
                t->next_run_mono += t->interval_ms;
                if (t->next_run_mono <= mono)
                    t->next_run_mono = mono + t->interval_ms; /* fell behind: no burst */
            }
            if (t->next_run_mono < next)
                next = t->next_run_mono;
        }
        int64_t due = task_damp_due(&t->damp, &t->ds);
        if (due && t->enabled) {
            if (wall >= due)
                task_damp_timer(s, t);
            else if (due - wall + mono < next)
                next = due - wall + mono;
        }
    }
    if (mono >= s->next_flush_mono) {
        for (task *t = s->tasks; t; t = t->next)
            if (t->st.dirty)
                task_state_save(s, t);
        s->next_flush_mono = mono + s->cfg->task.state_flush_ms;
    }
    task_state_commit(s);
    return next < s->next_flush_mono ? next : s->next_flush_mono;
}

static void *worker(void *arg)
{
    task_svc *s = arg;
    task_reload_all(s);
    s->next_flush_mono = sb_time_mono_ms() + s->cfg->task.state_flush_ms;
    for (;;) {
        int64_t due = run_timers(s);
        pthread_mutex_lock(&s->qmu);
        while (!s->qhead && !s->qstop && sb_time_mono_ms() < due) {
            struct timespec ts;
            sb_time_mono_deadline(due - sb_time_mono_ms(), &ts);
            pthread_cond_timedwait(&s->qcv, &s->qmu, &ts);
        }
        task_qitem *it = s->qstop ? NULL : s->qhead;
        if (it) {
            s->qhead = it->next;
            if (!s->qhead)
                s->qtail = NULL;
            s->qlen--;
            atomic_store(&s->st.queue_depth, s->qlen);
        }
        bool stop = s->qstop;
        pthread_mutex_unlock(&s->qmu);
        if (stop)
            break;
        if (it && it->reload)
            task_reload_all(s);
        else if (it)
            handle_events(s, it);
        free(it);
        task_state_commit(s);
    }
    for (task *t = s->tasks; t; t = t->next)
        if (t->st.dirty)
            task_state_save(s, t);
    task_state_commit(s);
    return NULL;
}

/* ---- the service ------------------------------------------------------------------------- */

#define STAT(name, field) cJSON_AddNumberToObject(o, name, (double)atomic_load(&s->st.field))

static void stats_fn(void *ctx, cJSON *stats)
{
    task_svc *s = ctx;
    cJSON *o = cJSON_AddObjectToObject(stats, "task");
    if (!o)
        return;
    STAT("tasks", tasks);
    STAT("eventsIn", events);
    STAT("eventsDropped", events_dropped);
    STAT("evaluations", evaluations);
    STAT("triggers", triggers);
    STAT("handlerCalls", handler_calls);
    STAT("errors", errors);
    STAT("scriptLimits", js_limits);
    STAT("reloads", reloads);
    STAT("queueDepth", queue_depth);
}

static sb_err subscribe(task_svc *s, sb_errmsg *em)
{
    char topic[512];
    sb_err rc = sb_bus_topic(s->bus, topic, sizeof(topic), "event/#");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(s->bus, topic, 1, on_event, s, em);
    if (rc == SB_OK)
        rc = sb_bus_topic(s->bus, topic, sizeof(topic), "ctl/task/reload");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(s->bus, topic, 1, on_reload, s, em);
    return rc;
}

static sb_err worker_start(task_svc *s, sb_errmsg *em)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->qcv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->qmu, NULL);
    if (pthread_create(&s->worker, NULL, worker, s) != 0)
        return sb_fail(em, SB_ERR_IO, "cannot start the worker thread");
    s->worker_running = true;
    return SB_OK;
}

static void svc_free(task_svc *s)
{
    /* The worker first: its last state flush still publishes. Handlers that queue meanwhile
     * only add items, which are freed below. Then the bus, then the writer. */
    if (s->worker_running) {
        pthread_mutex_lock(&s->qmu);
        s->qstop = true;
        pthread_cond_signal(&s->qcv);
        pthread_mutex_unlock(&s->qmu);
        pthread_join(s->worker, NULL);
    }
    sb_service_close(s->svc, 2000);
    if (s->worker_running) {
        pthread_cond_destroy(&s->qcv);
        pthread_mutex_destroy(&s->qmu);
    }
    task_writer_stop(s); /* after the worker's last commit */
    while (s->qhead) {
        task_qitem *it = s->qhead;
        s->qhead = it->next;
        free(it);
    }
    while (s->tasks) {
        task *t = s->tasks;
        s->tasks = t->next;
        task_free(t);
    }
    task_index_clear(&s->index);
    cJSON_Delete(s->pending);
    sb_store_close(s->store);
    free(s);
}

int sb_task_run(const sb_config *cfg, sb_stop_flag *stop)
{
    task_svc *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->cfg = cfg;
    s->index.dirty = true;
    sb_logger_init(&s->log, "%s", "tasks");
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_open(cfg, &s->store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(&s->log, "%s", em.text);
    if (rc == SB_OK) {
        load_site(s);
        rc = sb_service_open(cfg, "task", stats_fn, s, &s->svc, &em);
    }
    if (rc == SB_OK)
        rc = task_writer_start(s, &em);
    if (rc == SB_OK) {
        s->bus = sb_service_bus(s->svc);
        rc = worker_start(s, &em);
    }
    if (rc == SB_OK)
        rc = subscribe(s, &em);
    if (rc != SB_OK) {
        sb_error(&s->log, "cannot start: %s", sb_errmsg_str(&em, rc));
        svc_free(s);
        return 1;
    }
    sb_info(&s->log, "evaluating tasks on %s/event/#", sb_bus_prefix(s->bus));
    while (!sb_stop_wait(stop, 1000))
        ;
    sb_info(&s->log, "stopping");
    svc_free(s);
    return 0;
}

const sb_service_def sb_service_task = {
    .name = "task",
    .description = "tasks: rules, scripts and webhooks on events and intervals -> handler calls",
    .run = sb_task_run,
};
