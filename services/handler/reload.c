/*
 * reload.c - which handlers run: the store's enabled handler documents that match
 * handler.filter.labels. Runs on the service's main thread only, so the list changes in one
 * place; the mutex keeps the bus thread's lookups (handler calls) safe meanwhile. A handler
 * that is restarted keeps the calls it had not delivered yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ctl.h"
#include "core/json.h"
#include "core/secret.h"
#include "core/log.h"
#include "services/handler/service_priv.h"
#include "storage/site.h"

bool hd_park(hd_service *s, const char *id, hd_job *job)
{
    if (!s->restarting || strcmp(s->restarting, id) != 0)
        return false;
    job->next = NULL;
    hd_job **tail = &s->parked;
    while (*tail)
        tail = &(*tail)->next;
    *tail = job;
    return true;
}

/* Removes the runner of id from the list (NULL when none runs); from now on until unpark(),
 * calls for id are parked. */
static hd_runner *take_runner(hd_service *s, const char *id)
{
    hd_runner *r = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_runners; i++) {
        if (strcmp(hd_runner_id(s->runners[i]), id) == 0) {
            r = s->runners[i];
            s->runners[i] = s->runners[--s->n_runners];
            break;
        }
    }
    free(s->restarting);
    s->restarting = strdup(id);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* Ends parking; the parked calls (caller hands them on or frees them). */
static hd_job *unpark(hd_service *s)
{
    pthread_mutex_lock(&s->mu);
    hd_job *j = s->parked;
    s->parked = NULL;
    SB_FREE(s->restarting);
    pthread_mutex_unlock(&s->mu);
    return j;
}

/* The runner of id, or NULL (under s->mu). */
static hd_runner *find_runner(hd_service *s, const char *id)
{
    for (size_t i = 0; i < s->n_runners; i++)
        if (strcmp(hd_runner_id(s->runners[i]), id) == 0)
            return s->runners[i];
    return NULL;
}

static bool add_runner(hd_service *s, hd_runner *r)
{
    pthread_mutex_lock(&s->mu);
    bool ok = sb_ptrs_push(&s->runners, &s->n_runners, &s->cap_runners, r);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Whether the document should run here. */
static bool wanted(const hd_service *s, const cJSON *doc)
{
    return sb_json_bool(doc, "enabled", false) &&
           sb_json_labels_match(cJSON_GetObjectItemCaseSensitive(doc, "labels"),
                                s->env.cfg->handler.filter.labels);
}

static void drop_jobs(const char *id, hd_job *jobs, const char *why)
{
    size_t n = 0;
    for (hd_job *j = jobs; j; j = j->next)
        n++;
    if (n)
        sb_warn(NULL, "handler '%s': %zu undelivered calls dropped: %s", id, n, why);
    hd_job_free(jobs);
}

/* Starts doc with the calls an earlier runner left; a bad document becomes the state. */
static void start_doc(hd_service *s, const cJSON *doc, const char *id, hd_job *jobs, cJSON *results,
                      const char *what)
{
    hd_runner *r = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = hd_runner_start(&s->env, doc, jobs, &r, &em);
    if (rc == SB_OK && !add_runner(s, r)) {
        drop_jobs(id, hd_runner_stop(r), "out of memory");
        rc = sb_fail(&em, SB_ERR_NOMEM, "out of memory");
    }
    if (rc != SB_OK) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s%s", HD_NOT_STARTED, sb_errmsg_str(&em, rc));
        /* Once: publishing the state is an event, which brings us back here. */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
        if (strcmp(sb_json_str(st, "status", ""), "error") != 0 ||
            strcmp(sb_json_str(st, "message", ""), msg) != 0) {
            sb_error(NULL, "handler '%s' %s", id, msg);
            hd_state_publish(&s->env, id, "error", msg);
        }
        sb_ctl_note(results, id, "error");
        return;
    }
    sb_info(NULL, "handler '%s' %s", id, what);
    sb_ctl_note(results, id, what);
}

/* Whether the running handler id already runs doc as it is (e.g. our own state event). */
static bool unchanged(hd_service *s, const char *id, const cJSON *doc)
{
    char *fp = hd_doc_fingerprint(doc);
    pthread_mutex_lock(&s->mu);
    hd_runner *r = find_runner(s, id);
    bool same = fp && r && strcmp(fp, hd_runner_fingerprint(r)) == 0;
    pthread_mutex_unlock(&s->mu);
    free(fp);
    return same;
}

/* Appends the parked calls to the runner of id, or drops them when it does not run. */
static void hand_on(hd_service *s, const char *id, hd_job *parked)
{
    pthread_mutex_lock(&s->mu);
    hd_runner *r = find_runner(s, id);
    for (hd_job *j = parked, *next; r && j; j = next) {
        next = j->next;
        hd_runner_post(r, j); /* a full queue drops and counts it */
        parked = next;
    }
    pthread_mutex_unlock(&s->mu);
    drop_jobs(id, parked, "the handler does not run any more");
}

void hd_reload_one(hd_service *s, const char *id, bool force, cJSON *results)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(s->env.store, "handler", id, &doc, &em);
    /* Secrets the API sealed (core/secret.h): the handler gets them in clear, and the
     * fingerprint compares clear documents on both sides. */
    if (rc == SB_OK && (rc = sb_secret_open_with(s->env.cfg, doc, &em)) != SB_OK) {
        char msg[sizeof(em.text) + 32];
        snprintf(msg, sizeof(msg), "its secrets: %s", sb_errmsg_str(&em, rc));
        /* Published once: the state event this causes brings us back here. */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
        if (strcmp(sb_json_str(st, "status", ""), "error") != 0 ||
            strcmp(sb_json_str(st, "message", ""), msg) != 0) {
            sb_error(NULL, "handler '%s': %s", id, msg);
            hd_state_publish(&s->env, id, "error", msg);
        }
        cJSON_Delete(doc);
        sb_ctl_note(results, id, "error");
        return;
    }
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND) {
        sb_error(NULL, "handler '%s': reading it: %s", id, sb_errmsg_str(&em, rc));
        sb_ctl_note(results, id, "error");
        return;
    }
    if (doc && wanted(s, doc) && !force && unchanged(s, id, doc)) {
        sb_ctl_note(results, id, "unchanged");
        cJSON_Delete(doc);
        return;
    }
    hd_runner *old = take_runner(s, id);
    hd_job *left = NULL;
    if (old) {
        sb_info(NULL, "handler '%s' stopping", id);
        left = hd_runner_stop(old);
    }
    if (doc && wanted(s, doc)) {
        start_doc(s, doc, id, left, results, old ? "restarted" : "started");
    } else {
        drop_jobs(id, left, doc ? "the handler is disabled" : "the handler was deleted");
        sb_ctl_note(results, id, old ? "stopped" : "not running");
    }
    hand_on(s, id, unpark(s));
    cJSON_Delete(doc);
}

/* A running handler that results does not name yet, copied into id; false when none. */
static bool unvisited_runner(hd_service *s, const cJSON *results, char *id, size_t len)
{
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_runners && !found; i++) {
        const char *rid = hd_runner_id(s->runners[i]);
        if (!cJSON_GetObjectItemCaseSensitive(results, rid)) {
            snprintf(id, len, "%s", rid);
            found = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

/* The zone and location of the handlers' templates (sunrise, sunset, format). */
static void load_site(hd_service *s)
{
    sb_site site;
    sb_errmsg em = {{0}};
    sb_err rc = sb_site_load(s->env.cfg, s->env.store, &site, &em);
    if (rc == SB_OK)
        sb_site_apply_to_templates(&site);
    else
        sb_warn(NULL, "site: %s; templates keep the previous zone and location",
                sb_errmsg_str(&em, rc));
}

void hd_reload_all(hd_service *s, bool force, cJSON *results)
{
    load_site(s);
    cJSON *found = NULL, *own = results ? NULL : cJSON_CreateObject();
    if (!results && !(results = own))
        return;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_find(s->env.store, "handler", NULL, &found, &em);
    if (rc != SB_OK) {
        sb_error(NULL, "reading the handlers: %s", sb_errmsg_str(&em, rc));
        cJSON_Delete(own);
        return;
    }
    cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(found, "data"))
    {
        const char *id = sb_json_str(item, "id", NULL);
        if (id)
            hd_reload_one(s, id, force, results);
    }
    cJSON_Delete(found);
    char id[512]; /* running handlers whose documents are gone */
    while (unvisited_runner(s, results, id, sizeof(id)))
        hd_reload_one(s, id, true, results);
    cJSON_Delete(own);
}

void hd_stop_all(hd_service *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        hd_runner *r = s->n_runners ? s->runners[--s->n_runners] : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!r)
            break;
        char id[512];
        snprintf(id, sizeof(id), "%s", hd_runner_id(r));
        drop_jobs(id, hd_runner_stop(r), "the service is stopping");
    }
    drop_jobs("?", unpark(s), "the service is stopping");
    SB_FREE(s->runners);
    s->cap_runners = 0;
}
