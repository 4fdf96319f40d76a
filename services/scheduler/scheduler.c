/*
 * scheduler.c - the scheduler service: bus subscriptions and the timer loop (scheduler.h).
 *
 * Bus handlers only queue requests; the main thread does every store read, reload and run.
 * The loop sleeps on a CLOCK_MONOTONIC condition variable until the earliest due time (wall
 * clock) or a request, at most a second at a time, so a wall-clock step is noticed within a
 * second and a due time is met within a few milliseconds.
 */
#include "services/scheduler/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"

#define MAX_SLEEP_MS 1000

static void req_free(sch_req *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->reply);
    free(r->corr);
    free(r);
}

static void req_push(sch_service *s, sch_req *r)
{
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static sch_req *req_pop(sch_service *s)
{
    sch_req *r = s->head;
    if (r) {
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
    }
    return r;
}

static sch_req *req_new(sch_req_kind kind, const char *id)
{
    sch_req *r = calloc(1, sizeof(*r));
    if (r && id && !(r->id = strdup(id))) {
        free(r);
        return NULL;
    }
    if (r)
        r->kind = kind;
    return r;
}

/* <p>/event/schedule/<id> or a batch on <p>/event/schedule: reload the schedules named. */
static void on_schedule_event(void *ctx, const sb_bus_msg *bm)
{
    sb_event *ev = NULL;
    size_t n = 0;
    sb_errmsg em = {{0}};
    sb_err rc = sb_event_parse(bm->payload, bm->len, &ev, &n, &em);
    if (rc != SB_OK) {
        sb_warn(NULL, "%s: malformed event dropped: %s", bm->topic, sb_errmsg_str(&em, rc));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sch_req *r = strcmp(ev[i].entity_type, "schedule") == 0
                         ? req_new(SCH_RELOAD_ONE, ev[i].entity_id)
                         : NULL;
        if (r)
            req_push(ctx, r);
    }
    sb_event_free_all(ev, n);
}

/* <p>/event/settings/#: the location or zone may have changed. */
static void on_settings_event(void *ctx, const sb_bus_msg *bm)
{
    (void)bm;
    sch_req *r = req_new(SCH_SETTINGS, NULL);
    if (r)
        req_push(ctx, r);
}

/* <p>/ctl/scheduler/reload {"id"} | {"ids":[...]} | {} (everything), replying when asked. */
static void on_ctl_reload(void *ctx, const sb_bus_msg *bm)
{
    cJSON *body = NULL;
    if (bm->len && sb_json_parse(bm->payload, bm->len, &body, NULL) != SB_OK)
        sb_warn(NULL, "%s: body is not JSON: reloading every schedule", bm->topic);
    const char *id = sb_json_str(body, "id", NULL);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    sch_req *last = NULL;
    if (id) {
        last = req_new(SCH_RELOAD_ONE, id);
    } else if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, ids)
        {
            if (!cJSON_IsString(it))
                continue;
            if (last)
                req_push(ctx, last);
            last = req_new(SCH_RELOAD_ONE, it->valuestring);
        }
    } else {
        last = req_new(SCH_RELOAD_ALL, NULL);
    }
    cJSON_Delete(body);
    if (!last)
        return;
    if (bm->response_topic) { /* the reply goes out after the last of the reloads */
        last->reply = strdup(bm->response_topic);
        if (bm->correlation && (last->corr = malloc(bm->correlation_len))) {
            memcpy(last->corr, bm->correlation, bm->correlation_len);
            last->corr_len = bm->correlation_len;
        }
    }
    req_push(ctx, last);
}

static void run_req(sch_service *s, sch_req *r, cJSON *results)
{
    sb_errmsg em = {{0}};
    switch (r->kind) {
    case SCH_RELOAD_ALL:
        sch_reload_all(s, false, results);
        break;
    case SCH_RELOAD_ONE:
        sch_reload_one(s, r->id, results);
        break;
    case SCH_SETTINGS:
        if (sch_site_load(s, &em) != SB_OK)
            sb_error(NULL, "settings: %s (keeping the previous zone and location)", em.text);
        else
            sch_replan_all(s);
        break;
    }
    if (!r->reply)
        return;
    cJSON *reply = cJSON_CreateObject();
    if (reply && sb_json_set(reply, "results", cJSON_Duplicate(results, true))) {
        char *text = sb_json_print(reply);
        sb_bus_msg req = {
            .response_topic = r->reply, .correlation = r->corr, .correlation_len = r->corr_len};
        if (text)
            sb_bus_reply(s->bus, &req, text, strlen(text));
        free(text);
    }
    cJSON_Delete(reply);
}

/* Handles queued requests; true when there were any. */
static bool drain_requests(sch_service *s)
{
    bool any = false;
    cJSON *results = cJSON_CreateObject();
    for (;;) {
        pthread_mutex_lock(&s->mu);
        sch_req *r = req_pop(s);
        pthread_mutex_unlock(&s->mu);
        if (!r)
            break;
        any = true;
        run_req(s, r, results);
        if (r->reply) { /* each ctl request gets its own results */
            cJSON_Delete(results);
            results = cJSON_CreateObject();
        }
        req_free(r);
    }
    cJSON_Delete(results);
    return any;
}

/* When e next needs the loop: to record its run ahead, or to make it; 0 = never. */
static int64_t wake_time(const sch_entry *e)
{
    if (!e->next_run)
        return 0;
    return e->armed ? e->next_run : e->next_run - SCH_ARM_LEAD_MS;
}

/*
 * Makes the runs due now, then stores and publishes their states, then records the runs due
 * soon (sch_arm). In that order a slow store commit delays no handler call: the calls of every
 * schedule due at one time go out before any state is written, and arming stops as soon as a
 * run falls due. Returns the earliest wake time (0 = none).
 */
static int64_t run_due(sch_service *s)
{
    int64_t now = sb_time_now_ms(), first_due = 0, earliest = 0;
    for (size_t i = 0; i < s->n; i++) {
        sch_entry *e = s->entries[i];
        if (e->next_run > 0 && e->next_run <= now)
            sch_fire(s, e, now);
    }
    for (size_t i = 0; i < s->n; i++) {
        sch_entry *e = s->entries[i];
        if (e->unsaved) {
            e->unsaved = false;
            sch_state_save(s, e, true);
        }
        if (e->next_run > 0 && (!first_due || e->next_run < first_due))
            first_due = e->next_run;
    }
    for (size_t i = 0; i < s->n; i++) {
        sch_entry *e = s->entries[i];
        if (first_due && sb_time_now_ms() >= first_due)
            return first_due; /* a run is due: make it first */
        if (e->next_run > 0 && !e->armed && e->next_run - SCH_ARM_LEAD_MS <= now)
            sch_arm(s, e);
        int64_t w = wake_time(e);
        if (w && (!earliest || w < earliest))
            earliest = w;
    }
    return earliest;
}

static void main_loop(sch_service *s, sb_stop_flag *stop)
{
    while (!sb_stop_raised(stop)) {
        drain_requests(s);
        int64_t earliest = run_due(s);
        int64_t wait = MAX_SLEEP_MS;
        if (earliest) {
            int64_t d = earliest - sb_time_now_ms();
            wait = d < 0 ? 0 : d < wait ? d : wait;
        }
        if (wait <= 0)
            continue;
        struct timespec ts;
        sb_time_mono_deadline(wait, &ts);
        pthread_mutex_lock(&s->mu);
        if (!s->head)
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        pthread_mutex_unlock(&s->mu);
    }
}

static void add_stats(void *ctx, cJSON *stats)
{
    sch_service *s = ctx;
    cJSON_AddNumberToObject(stats, "runs", (double)atomic_load(&s->fired));
    cJSON_AddNumberToObject(stats, "handlerCalls", (double)atomic_load(&s->handler_calls));
    cJSON_AddNumberToObject(stats, "errors", (double)atomic_load(&s->errors));
}

static sb_err subscribe_all(sch_service *s, sb_service *svc, sb_errmsg *em)
{
    sb_err rc = sb_service_subscribe(svc, "event/schedule/#", on_schedule_event, s, em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(svc, "event/settings/#", on_settings_event, s, em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(svc, "ctl/scheduler/reload", on_ctl_reload, s, em);
    return rc;
}

int sb_scheduler_run(const sb_config *cfg, sb_stop_flag *stop)
{
    sch_service s = {.cfg = cfg};
    sb_cond_init_mono(&s.cv);
    pthread_mutex_init(&s.mu, NULL);
    sb_service *svc = NULL;
    sb_errmsg em = {{0}};
    int code = 1;
    sb_err rc = sb_store_open(cfg, &s.store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(NULL, "store: %s", em.text);
    if (rc == SB_OK)
        rc = sch_site_load(&s, &em);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "scheduler", add_stats, &s, &svc, &em);
    if (rc == SB_OK) {
        s.bus = sb_service_bus(svc);
        rc = subscribe_all(&s, svc, &em);
    }
    if (rc != SB_OK) {
        sb_error(NULL, "%s", sb_errmsg_str(&em, rc));
        goto done;
    }
    sch_reload_all(&s, true, NULL);
    main_loop(&s, stop);
    code = 0;
done:
    sb_service_close(svc, 2000); /* first: no bus handler queues anything after it */
    for (sch_req *r; (r = req_pop(&s));)
        req_free(r);
    sch_entries_free(&s);
    sb_store_close(s.store);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_scheduler = {
    .name = "scheduler",
    .description = "runs schedules (cron, intervals, dates, sunrise/sunset) and calls handlers",
    .run = sb_scheduler_run,
};
