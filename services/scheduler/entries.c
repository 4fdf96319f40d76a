/*
 * entries.c - which schedules run and when next: the enabled schedule documents of the store,
 * the zone and location they are computed in, and the next run of each (core/schedule.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/buf.h"
#include "core/ctl.h"
#include "core/json.h"
#include "core/log.h"
#include "core/sun.h"
#include "core/time.h"
#include "core/tz.h"
#include "services/scheduler/scheduler.h"
#include "storage/site.h"

/* ---- zone and location ------------------------------------------------------------------- */

/* The site's zone and location (storage/site.h), for schedules and their templates. */
sb_err sch_site_load(sch_service *s, sb_errmsg *em)
{
    sb_site site;
    sb_err rc = sb_site_load(s->cfg, s->store, &site, em);
    if (rc != SB_OK)
        return rc;
    snprintf(s->tz, sizeof(s->tz), "%s", site.tz);
    s->ctx = (sb_sched_ctx){.tz = s->tz[0] ? s->tz : NULL,
                            .has_location = site.has_location,
                            .latitude = site.latitude,
                            .longitude = site.longitude};
    sb_site_apply_to_templates(&site);
    sb_info(NULL, "time zone %s, location %s", s->tz[0] ? s->tz : "(system)",
            site.has_location ? "set" : "none");
    return SB_OK;
}

/* ---- building an entry ------------------------------------------------------------------- */

/*
 * The validity window in core/schedule.h's form. Also takes MyController's
 * {"enabled":bool,"date":{"from","to"},"time":{"from","to"}} (disabled = no window).
 */
static cJSON *validity_of(const cJSON *v)
{
    if (!cJSON_IsObject(v) || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "enabled")))
        return NULL;
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(v, "date");
    cJSON *out = cJSON_CreateObject();
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(date ? date : v, "from");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(date ? date : v, "to");
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(v, "time");
    if (from && !cJSON_IsNull(from) && !(cJSON_IsString(from) && !from->valuestring[0]))
        sb_json_set(out, "from", cJSON_Duplicate(from, true));
    if (to && !cJSON_IsNull(to) && !(cJSON_IsString(to) && !to->valuestring[0]))
        sb_json_set(out, "to", cJSON_Duplicate(to, true));
    if (cJSON_IsObject(time) && cJSON_GetArraySize(time) > 0)
        sb_json_set(out, "time", cJSON_Duplicate(time, true));
    return out;
}

/*
 * The spec for core/schedule.h: the document's "spec" object, its "type" when the spec has
 * none, and its top-level "validity" when the spec has none.
 */
static cJSON *spec_of(const cJSON *doc)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
    cJSON *out = cJSON_IsObject(spec) ? cJSON_Duplicate(spec, true) : cJSON_CreateObject();
    const char *type = sb_json_str(doc, "type", NULL);
    if (out && type && !cJSON_GetObjectItemCaseSensitive(out, "type"))
        sb_json_set_str(out, "type", type);
    if (out && !cJSON_GetObjectItemCaseSensitive(out, "validity")) {
        cJSON *v = validity_of(cJSON_GetObjectItemCaseSensitive(doc, "validity"));
        if (v)
            sb_json_set(out, "validity", v);
    } else if (out) {
        cJSON *v = validity_of(cJSON_GetObjectItemCaseSensitive(out, "validity"));
        cJSON_DeleteItemFromObjectCaseSensitive(out, "validity");
        if (v)
            sb_json_set(out, "validity", v);
    }
    return out;
}

/* The document as text without the keys that change on their own (state, modifiedOn). */
static char *fingerprint_of(const cJSON *doc)
{
    cJSON *copy = cJSON_Duplicate(doc, true);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "state");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "modifiedOn");
    char *fp = copy ? sb_json_print(copy) : NULL;
    cJSON_Delete(copy);
    return fp;
}

static int64_t state_time(const cJSON *doc, const char *key)
{
    const char *text = sb_json_str(cJSON_GetObjectItemCaseSensitive(doc, "state"), key, NULL);
    int64_t ms = 0;
    return text && sb_time_parse(text, &ms) == SB_OK ? ms : 0;
}

static void entry_free(sch_entry *e)
{
    if (!e)
        return;
    free(e->id);
    cJSON_Delete(e->doc);
    free(e->fingerprint);
    cJSON_Delete(e->spec);
    free(e);
}

/* A new entry for doc (owned on success); the run record comes from its stored state. */
static sch_entry *entry_new(const char *id, cJSON *doc, char *fp)
{
    sch_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->id = strdup(id)) || !(e->spec = spec_of(doc))) {
        entry_free(e);
        return NULL;
    }
    e->doc = doc;
    e->fingerprint = fp;
    e->catch_up = sb_json_bool(doc, "catchUp", false);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
    e->last_run = state_time(doc, "lastRun");
    e->run_count = (int64_t)sb_json_num(st, "runCount", 0);
    snprintf(e->status, sizeof(e->status), "%s", sb_json_str(st, "status", ""));
    snprintf(e->message, sizeof(e->message), "%s", sb_json_str(st, "message", ""));
    e->since = state_time(doc, "since");
    return e;
}

/* ---- next run ---------------------------------------------------------------------------- */

static void set_over(sch_entry *e, sb_err rc, const sb_errmsg *em, int64_t now)
{
    e->next_run = 0;
    e->missed_since = 0;
    sch_set_status(e, rc == SB_ERR_NOTFOUND ? "completed" : "error", sb_errmsg_str(em, rc), now);
}

void sch_plan(sch_service *s, sch_entry *e, int64_t now, bool allow_catch_up)
{
    sb_sched_ctx ctx = s->ctx;
    ctx.runs_done = e->run_count;
    sb_errmsg em = {{0}};
    int64_t when = 0;
    e->missed_since = 0;
    e->armed = false;
    sb_err rc = sb_sched_next(e->spec, e->last_run ? e->last_run : now, &ctx, &when, &em);
    if (rc == SB_OK && when <= now && e->last_run) { /* missed while not running */
        if (allow_catch_up && e->catch_up) {
            e->missed_since = when;
            when = now;
        } else {
            rc = sb_sched_next(e->spec, now, &ctx, &when, &em);
        }
    }
    if (rc != SB_OK) {
        set_over(e, rc, &em, now);
        return;
    }
    e->next_run = when;
    sch_set_status(e, "ok", e->missed_since ? "catching up on missed runs" : "", now);
}

/* ---- the set of entries ------------------------------------------------------------------ */

static sch_entry *take(sch_service *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->entries[i]->id, id) == 0) {
            sch_entry *e = s->entries[i];
            s->entries[i] = s->entries[--s->n];
            return e;
        }
    }
    return NULL;
}

static bool add(sch_service *s, sch_entry *e)
{
    return sb_ptrs_push(&s->entries, &s->n, &s->cap, e);
}

/* Whether the state worth storing differs from what the document holds. */
static bool state_changed(const sch_entry *e)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(e->doc, "state");
    return strcmp(sb_json_str(st, "status", ""), e->status) != 0 ||
           strcmp(sb_json_str(st, "message", ""), e->message) != 0 ||
           state_time(e->doc, "nextRun") != e->next_run;
}

/* Loads doc (owned) as schedule id; old (may be NULL) is the entry it replaces. */
static void load(sch_service *s, const char *id, cJSON *doc, char *fp, sch_entry *old, bool restart,
                 cJSON *results)
{
    sch_entry *e = entry_new(id, doc, fp);
    if (!e || !add(s, e)) {
        sb_error(NULL, "schedule '%s': out of memory", id);
        if (e)
            entry_free(e);
        else {
            cJSON_Delete(doc);
            free(fp);
        }
        sb_ctl_note(results, id, "error");
        return;
    }
    if (old) { /* this run's record is newer than a document written meanwhile */
        e->last_run = old->last_run > e->last_run ? old->last_run : e->last_run;
        e->run_count = old->run_count > e->run_count ? old->run_count : e->run_count;
    }
    int64_t now = sb_time_now_ms();
    sch_plan(s, e, now, restart);
    if (state_changed(e))
        sch_state_save(s, e, true);
    if (e->next_run) {
        char at[SB_TIME_RFC3339_LEN];
        sb_time_format(e->next_run, at, sizeof(at));
        sb_info(NULL, "schedule '%s' %s: next run %s", id, old ? "reloaded" : "loaded", at);
    } else {
        sb_info(NULL, "schedule '%s' %s: %s", id, e->status, e->message);
    }
    sb_ctl_note(results, id, old ? "reloaded" : "loaded");
}

/* A disabled schedule has no next run: its state says so (doc is taken). */
static void mark_disabled(sch_service *s, const char *id, cJSON *doc)
{
    sch_entry *e = entry_new(id, doc, NULL);
    if (!e) {
        cJSON_Delete(doc);
        return;
    }
    e->next_run = 0;
    sch_set_status(e, "disabled", "", sb_time_now_ms());
    sch_state_save(s, e, true);
    entry_free(e);
}

static void reload(sch_service *s, const char *id, bool restart, cJSON *results)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(s->store, "schedule", id, &doc, &em);
    /* Secrets the API sealed (core/secret.h) in handler parameters go out in clear; the state is
     * always written to the stored document (sch_state_save), which stays sealed. */
    if (rc == SB_OK && (rc = sb_secret_open_with(s->cfg, doc, &em)) != SB_OK) {
        sb_error(NULL, "schedule '%s': its secrets: %s", id, sb_errmsg_str(&em, rc));
        cJSON_Delete(doc);
        sb_ctl_note(results, id, "error");
        return;
    }
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND) {
        sb_error(NULL, "schedule '%s': reading it: %s", id, sb_errmsg_str(&em, rc));
        sb_ctl_note(results, id, "error");
        return;
    }
    sch_entry *old = take(s, id);
    bool wanted = doc && sb_json_bool(doc, "enabled", false);
    char *fp = wanted ? fingerprint_of(doc) : NULL;
    if (old && fp && strcmp(fp, old->fingerprint) == 0) { /* e.g. our own state event */
        add(s, old);
        sb_ctl_note(results, id, "unchanged");
        free(fp);
        cJSON_Delete(doc);
        return;
    }
    if (wanted && fp) {
        load(s, id, doc, fp, old, restart, results);
    } else if (doc && !wanted && state_time(doc, "nextRun")) {
        mark_disabled(s, id, doc);
        if (old)
            sb_info(NULL, "schedule '%s' disabled", id);
        sb_ctl_note(results, id, old ? "stopped" : "not running");
        free(fp);
    } else {
        if (old)
            sb_info(NULL, "schedule '%s' %s", id, doc ? "disabled" : "deleted");
        sb_ctl_note(results, id, old ? "stopped" : "not running");
        free(fp);
        cJSON_Delete(doc);
    }
    entry_free(old);
}

void sch_reload_one(sch_service *s, const char *id, cJSON *results)
{
    reload(s, id, false, results);
}

void sch_reload_all(sch_service *s, bool restart, cJSON *results)
{
    cJSON *found = NULL, *own = results ? NULL : cJSON_CreateObject();
    if (!results && !(results = own))
        return;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_find(s->store, "schedule", NULL, &found, &em);
    if (rc != SB_OK) {
        sb_error(NULL, "reading the schedules: %s", sb_errmsg_str(&em, rc));
        cJSON_Delete(own);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(found, "data"))
    {
        const char *id = sb_json_str(item, "id", NULL);
        if (id)
            reload(s, id, restart, results);
    }
    cJSON_Delete(found);
    for (size_t i = 0; i < s->n;) { /* loaded schedules whose documents are gone */
        if (cJSON_GetObjectItemCaseSensitive(results, s->entries[i]->id)) {
            i++;
            continue;
        }
        sch_entry *e = s->entries[i];
        s->entries[i] = s->entries[--s->n];
        sb_ctl_note(results, e->id, "stopped");
        entry_free(e);
    }
    cJSON_Delete(own);
}

void sch_replan_all(sch_service *s)
{
    int64_t now = sb_time_now_ms();
    for (size_t i = 0; i < s->n; i++) {
        if (s->entries[i]->armed) /* recorded as run: it runs as planned */
            continue;
        sch_plan(s, s->entries[i], now, false);
        if (state_changed(s->entries[i]))
            sch_state_save(s, s->entries[i], true);
    }
}

void sch_entries_free(sch_service *s)
{
    for (size_t i = 0; i < s->n; i++)
        entry_free(s->entries[i]);
    SB_FREE(s->entries);
    s->n = s->cap = 0;
}
