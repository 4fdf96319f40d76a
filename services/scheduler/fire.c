/*
 * fire.c - a schedule's run: the run is recorded in the store first, SCH_ARM_LEAD_MS before its
 * due time (so a crash can never run the same due time again, and the commit does not delay
 * the run), then at the due time every handler is called with the schedule's parameters
 * rendered through the template engine; the state is stored and published as an event after
 * the handler calls of every schedule due at that time (scheduler.c).
 *
 * State: {"status":"ok|completed|error","message","since","lastRun","nextRun","runCount"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "core/quickid.h"
#include "core/template.h"
#include "core/time.h"
#include "services/scheduler/scheduler.h"

void sch_set_status(sch_entry *e, const char *status, const char *message, int64_t now)
{
    if (strcmp(e->status, status) != 0 || !e->since)
        e->since = now;
    snprintf(e->status, sizeof(e->status), "%s", status);
    snprintf(e->message, sizeof(e->message), "%s", message ? message : "");
}

static bool set_time(cJSON *o, const char *key, int64_t ms)
{
    char text[SB_TIME_RFC3339_LEN];
    if (!ms)
        return sb_json_set(o, key, cJSON_CreateNull());
    sb_time_format(ms, text, sizeof(text));
    return sb_json_set_str(o, key, text);
}

static cJSON *state_of(const sch_entry *e)
{
    cJSON *st = cJSON_CreateObject();
    if (st && sb_json_set_str(st, "status", e->status) &&
        sb_json_set_str(st, "message", e->message) && set_time(st, "since", e->since) &&
        set_time(st, "lastRun", e->last_run) && set_time(st, "nextRun", e->next_run) &&
        sb_json_set_num(st, "runCount", (double)e->run_count))
        return st;
    cJSON_Delete(st);
    return NULL;
}

void sch_state_save(sch_service *s, sch_entry *e, bool publish)
{
    cJSON *st = state_of(e), *doc = NULL;
    sb_errmsg em = {{0}};
    if (!st || !sb_json_set(e->doc, "state", cJSON_Duplicate(st, true))) {
        cJSON_Delete(st);
        return;
    }
    /* The stored document, not ours: the API may have changed it since we loaded it. */
    sb_err rc = sb_store_get(s->store, "schedule", e->id, &doc, &em);
    if (rc == SB_OK && sb_json_set(doc, "state", st)) {
        st = NULL;
        rc = sb_store_put(s->store, "schedule", doc, &em);
    }
    cJSON_Delete(st);
    if (rc == SB_OK && publish)
        rc = sb_event_publish(s->bus, "updated", "schedule", e->id, NULL, doc);
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND) {
        atomic_fetch_add(&s->errors, 1);
        sb_warn(NULL, "schedule '%s': state not saved: %s", e->id, sb_errmsg_str(&em, rc));
    }
    cJSON_Delete(doc);
}

/* The kinds a variable may name: device data, never configs that can hold secrets. */
static bool readable_kind(sb_entity_kind k)
{
    return k == SB_KIND_NODE || k == SB_KIND_SOURCE || k == SB_KIND_FIELD ||
           k == SB_KIND_DATA_REPOSITORY;
}

/*
 * A variable whose value is the quick id of an existing node, source, field or data repository
 * ("field:gw1.12.1.V_TEMP.current.value") becomes that entity, or the value at its key path
 * (null when the path is missing). Anything else stays as written.
 */
static void resolve_quick_ids(sch_service *s, cJSON *vars)
{
    for (cJSON *v = vars ? vars->child : NULL, *next; v; v = next) {
        next = v->next;
        sb_quickid q;
        if (!cJSON_IsString(v) || !strchr(v->valuestring, ':') ||
            sb_quickid_parse(v->valuestring, &q, NULL) != SB_OK || !readable_kind(q.kind))
            continue;
        char id[4 * SB_QUICKID_PART_MAX] = "";
        for (int i = 0; i < q.n_ids; i++)
            snprintf(id + strlen(id), sizeof(id) - strlen(id), "%s%s", i ? "." : "", q.ids[i]);
        cJSON *doc = NULL;
        if (sb_store_get(s->store, sb_entity_kind_name(q.kind), id, &doc, NULL) != SB_OK)
            continue;
        const cJSON *val = q.key_path[0] ? sb_json_path(doc, q.key_path) : doc;
        char *key = strdup(v->string); /* the replaced item takes its key with it */
        if (key)
            sb_json_set(vars, key, val ? cJSON_Duplicate(val, true) : cJSON_CreateNull());
        free(key);
        cJSON_Delete(doc);
    }
}

/* The variables of a run: the schedule's own (quick ids resolved), "schedule" (its document)
 * and "run". */
static cJSON *variables_of(sch_service *s, const sch_entry *e, int64_t due, int64_t missed_since,
                           int64_t now)
{
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(e->doc, "variables");
    cJSON *vars = cJSON_IsObject(own) ? cJSON_Duplicate(own, true) : cJSON_CreateObject();
    cJSON *sched = cJSON_Duplicate(e->doc, true), *run = cJSON_CreateObject();
    resolve_quick_ids(s, vars);
    cJSON_DeleteItemFromObjectCaseSensitive(sched, "state");
    bool ok = vars && run && set_time(run, "due", due) && set_time(run, "firedAt", now) &&
              sb_json_set_num(run, "count", (double)e->run_count) &&
              sb_json_set_bool(run, "catchUp", missed_since > 0) &&
              (!missed_since || set_time(run, "missedSince", missed_since));
    /* sb_json_set takes its item in every case */
    ok = sb_json_set(vars, "schedule", sched) && ok;
    ok = sb_json_set(vars, "run", run) && ok;
    if (!ok) {
        cJSON_Delete(vars);
        return NULL;
    }
    return vars;
}

/*
 * handlerParameters with every string value rendered as a template (other values as they are).
 * Template problems go into problems (at most len bytes); a malformed template is sent as is.
 */
static cJSON *parameters_of(sch_service *s, const sch_entry *e, const cJSON *vars, int64_t now,
                            char *problems, size_t len)
{
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(e->doc, "handlerParameters");
    cJSON *out = cJSON_CreateObject();
    sb_tmpl_opts opts = {.now_ms = now,
                         .tz = s->ctx.tz,
                         .has_location = s->ctx.has_location,
                         .latitude = s->ctx.latitude,
                         .longitude = s->ctx.longitude};
    const cJSON *p;
    if (!cJSON_IsObject(params))
        params = NULL;
    cJSON_ArrayForEach(p, params)
    {
        cJSON *value = NULL, *warnings = NULL;
        char *text = NULL;
        sb_errmsg em = {{0}};
        if (cJSON_IsString(p) &&
            sb_tmpl_render(p->valuestring, vars, &opts, &text, &warnings, &em) == SB_OK) {
            value = cJSON_CreateString(text);
            const cJSON *w = cJSON_GetArrayItem(warnings, 0);
            if (w && !problems[0])
                snprintf(problems, len, "handlerParameters.%.64s: %.160s", p->string,
                         w->valuestring);
        } else {
            value = cJSON_Duplicate(p, true);
            if (cJSON_IsString(p) && !problems[0])
                snprintf(problems, len, "handlerParameters.%.64s: %.160s", p->string, em.text);
        }
        free(text);
        cJSON_Delete(warnings);
        if (out && value)
            cJSON_AddItemToObject(out, p->string, value);
        else
            cJSON_Delete(value);
    }
    return out;
}

/* Publishes a handler call per handler; returns how many failed. */
static int call_handlers(sch_service *s, const sch_entry *e, const cJSON *params, const cJSON *vars,
                         char *problems, size_t len)
{
    char source[300];
    int failed = 0;
    snprintf(source, sizeof(source), "schedule:%s", e->id);
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e->doc, "handlers"))
    {
        if (!cJSON_IsString(h) || !h->valuestring[0])
            continue;
        sb_err rc = sb_handler_call_publish(s->bus, h->valuestring, source, params, vars);
        if (rc == SB_OK) {
            atomic_fetch_add(&s->handler_calls, 1);
            continue;
        }
        failed++;
        if (!problems[0])
            snprintf(problems, len, "handler '%s' not called: %s", h->valuestring, sb_strerror(rc));
    }
    return failed;
}

/*
 * A schedule with no further run (an on-date that ran, a repeat count reached, a validity
 * window over) disables itself: the API owns `enabled`, so it is asked on <p>/ctl/api/action
 * like any client would (no reply awaited: the timer thread must not wait). The API publishes
 * the schedule's updated event, which this service then loads as disabled.
 */
static void ask_disable(sch_service *s, const sch_entry *e)
{
    char topic[256];
    cJSON *body = cJSON_CreateArray(), *a = cJSON_CreateObject();
    char qid[300];
    snprintf(qid, sizeof(qid), "schedule:%s", e->id);
    if (a && body && sb_json_set_str(a, "resource", qid) &&
        sb_json_set_str(a, "payload", "disable")) {
        cJSON_AddItemToArray(body, a);
        a = NULL;
        char *text = sb_json_print(body);
        if (text && sb_bus_topic(s->bus, topic, sizeof(topic), "ctl/api/action") == SB_OK &&
            sb_bus_publish(s->bus, topic, text, strlen(text), 1, false) == SB_OK)
            sb_info(NULL, "schedule '%s' completed: asked the API to disable it", e->id);
        free(text);
    }
    cJSON_Delete(a);
    cJSON_Delete(body);
}

/* The next run after a run at due (ran at now): runs that passed meanwhile are skipped. */
static void plan_after_run(sch_service *s, sch_entry *e, int64_t now)
{
    sb_sched_ctx ctx = s->ctx;
    ctx.runs_done = e->run_count;
    sb_errmsg em = {{0}};
    int64_t when = 0;
    sb_err rc = sb_sched_next(e->spec, e->last_run, &ctx, &when, &em);
    if (rc == SB_OK && when <= now)
        rc = sb_sched_next(e->spec, now, &ctx, &when, &em);
    if (rc == SB_OK) {
        e->next_run = when;
        sch_set_status(e, "ok", "", now);
    } else {
        e->next_run = 0;
        sch_set_status(e, rc == SB_ERR_NOTFOUND ? "completed" : "error", sb_errmsg_str(&em, rc),
                       now);
        if (rc == SB_ERR_NOTFOUND)
            ask_disable(s, e);
    }
}

void sch_arm(sch_service *s, sch_entry *e)
{
    e->armed = true;
    e->last_run = e->next_run;
    e->run_count++;
    sch_state_save(s, e, false);
}

void sch_fire(sch_service *s, sch_entry *e, int64_t now)
{
    if (!e->armed)
        sch_arm(s, e);
    int64_t due = e->next_run, missed = e->missed_since;
    e->armed = false;
    e->missed_since = 0;
    plan_after_run(s, e, now);
    char problems[256] = "";
    cJSON *vars = variables_of(s, e, due, missed, now);
    cJSON *params = vars ? parameters_of(s, e, vars, now, problems, sizeof(problems)) : NULL;
    if (!vars || !params) {
        snprintf(problems, sizeof(problems), "out of memory: handlers not called");
        atomic_fetch_add(&s->errors, 1);
    } else if (call_handlers(s, e, params, vars, problems, sizeof(problems)) > 0) {
        atomic_fetch_add(&s->errors, 1);
    }
    if (!problems[0] && !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e->doc, "handlers")))
        snprintf(problems, sizeof(problems), "no handlers to call");
    if (problems[0] && strcmp(e->status, "completed") != 0)
        sch_set_status(e, strncmp(problems, "handler '", 9) == 0 ? "error" : "ok", problems, now);
    e->unsaved = true;
    atomic_fetch_add(&s->fired, 1);
    char at[SB_TIME_RFC3339_LEN];
    sb_time_format(due, at, sizeof(at));
    sb_debug(NULL, "schedule '%s' ran for %s (%lld ms late)%s%s", e->id, at, (long long)(now - due),
             e->message[0] ? ": " : "", e->message);
    cJSON_Delete(vars);
    cJSON_Delete(params);
}
