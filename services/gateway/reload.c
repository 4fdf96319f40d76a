/*
 * reload.c - which gateways run: the store's enabled gateway documents that match
 * gateway.filter.labels. Runs on the service's main thread only, so the list changes in one
 * place; the mutex keeps the bus thread's lookups (msg/out) safe meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/buf.h"
#include "core/ctl.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "services/gateway/service_priv.h"

static gw_runner *take_runner(gw_service *s, const char *id)
{
    gw_runner *r = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_runners; i++) {
        if (strcmp(gw_runner_doc(s->runners[i])->id, id) == 0) {
            r = s->runners[i];
            s->runners[i] = s->runners[--s->n_runners];
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static bool add_runner(gw_service *s, gw_runner *r)
{
    pthread_mutex_lock(&s->mu);
    bool ok = sb_ptrs_push(&s->runners, &s->n_runners, &s->cap_runners, r);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Whether the document should run here. */
static bool wanted(const gw_service *s, const cJSON *doc)
{
    return sb_json_bool(doc, "enabled", false) &&
           sb_json_labels_match(cJSON_GetObjectItemCaseSensitive(doc, "labels"),
                                s->env.cfg->gateway.filter.labels);
}

/* Starts doc; on a bad document the error becomes the gateway's state. */
static void start_doc(gw_service *s, const cJSON *doc, const char *id, cJSON *results,
                      const char *what)
{
    gw_doc *d = NULL;
    gw_runner *r = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = gw_doc_parse(doc, &d, &em);
    if (rc == SB_OK)
        rc = gw_runner_start(&s->env, d, &r, &em);
    if (rc == SB_OK && !add_runner(s, r)) {
        gw_runner_stop(r, false);
        rc = sb_fail(&em, SB_ERR_NOMEM, "out of memory");
    }
    if (rc != SB_OK) {
        sb_error(NULL, "gateway '%s' not started: %s", id, sb_errmsg_str(&em, rc));
        gw_state_publish(&s->env, id, "error", sb_errmsg_str(&em, rc), sb_time_now_ms(), false);
        sb_ctl_note(results, id, "error");
        return;
    }
    sb_info(NULL, "gateway '%s' %s", id, what);
    sb_ctl_note(results, id, what);
}

bool gw_hold(gw_service *s, const char *id, sb_msg *msg)
{
    if (!s->reloading[0] || strcmp(s->reloading, id) != 0)
        return false;
    size_t max = (size_t)s->env.cfg->gateway.out_queue_max;
    if (s->n_held >= max) {
        s->held_dropped++;
        return false;
    }
    return sb_ptrs_push(&s->held, &s->n_held, &s->cap_held, msg);
}

/* Marks id as being reloaded: messages for it are held until reload_end. */
static void reload_begin(gw_service *s, const char *id)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->reloading, sizeof(s->reloading), "%s", id);
    pthread_mutex_unlock(&s->mu);
}

/* The held messages go to id's new runner, or are dropped (logged) when it does not run. */
static void reload_end(gw_service *s, const char *id)
{
    pthread_mutex_lock(&s->mu);
    gw_runner *r = NULL;
    for (size_t i = 0; i < s->n_runners && !r; i++)
        if (strcmp(gw_runner_doc(s->runners[i])->id, id) == 0)
            r = s->runners[i];
    size_t n = s->n_held;
    for (size_t i = 0; i < n; i++) {
        if (r)
            gw_runner_post(r, s->held[i]);
        else
            sb_msg_free(s->held[i]);
    }
    s->n_held = 0;
    s->reloading[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    if (n && !r)
        sb_info(NULL, "gateway '%s' does not run any more: %zu messages for it dropped", id, n);
}

static void reload_one(gw_service *s, const char *id, bool force, cJSON *results);

void gw_reload_one(gw_service *s, const char *id, bool force, cJSON *results)
{
    reload_begin(s, id);
    reload_one(s, id, force, results);
    reload_end(s, id);
}

static void reload_one(gw_service *s, const char *id, bool force, cJSON *results)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(s->env.store, "gateway", id, &doc, &em);
    /* Secrets the API sealed: the provider gets them in clear, and the fingerprint compares
     * clear documents on both sides. */
    if (rc == SB_OK && (rc = sb_secret_open_with(s->env.cfg, doc, &em)) != SB_OK) {
        char msg[sizeof(em.text) + 32];
        snprintf(msg, sizeof(msg), "its secrets: %s", sb_errmsg_str(&em, rc));
        /* Published once: the state event this causes brings us back here. */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
        if (strcmp(sb_json_str(st, "status", ""), "error") != 0 ||
            strcmp(sb_json_str(st, "message", ""), msg) != 0) {
            sb_error(NULL, "gateway '%s': %s", id, msg);
            gw_state_publish(&s->env, id, "error", msg, sb_time_now_ms(), false);
        }
        cJSON_Delete(doc);
        sb_ctl_note(results, id, "error");
        return;
    }
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND) {
        sb_error(NULL, "gateway '%s': reading it: %s", id, sb_errmsg_str(&em, rc));
        sb_ctl_note(results, id, "error");
        return;
    }
    gw_runner *old = take_runner(s, id);
    if (doc && wanted(s, doc) && old && !force) {
        char *fp = gw_doc_fingerprint(doc);
        bool same = fp && strcmp(fp, gw_runner_doc(old)->fingerprint) == 0;
        free(fp);
        if (same) { /* e.g. our own state event */
            add_runner(s, old) || (gw_runner_stop(old, false), 0);
            sb_ctl_note(results, id, "unchanged");
            cJSON_Delete(doc);
            return;
        }
    }
    if (old) {
        sb_info(NULL, "gateway '%s' stopping", id);
        gw_runner_stop(old, doc == NULL);
    }
    if (doc && wanted(s, doc))
        start_doc(s, doc, id, results, old ? "restarted" : "started");
    else
        sb_ctl_note(results, id, old ? "stopped" : "not running");
    cJSON_Delete(doc);
}

/* A running gateway that results does not name yet, copied into id; false when none. */
static bool unvisited_runner(gw_service *s, const cJSON *results, char *id, size_t len)
{
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_runners && !found; i++) {
        const char *rid = gw_runner_doc(s->runners[i])->id;
        if (!cJSON_GetObjectItemCaseSensitive(results, rid)) {
            snprintf(id, len, "%s", rid);
            found = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void gw_reload_all(gw_service *s, bool force, cJSON *results)
{
    cJSON *found = NULL, *own = results ? NULL : cJSON_CreateObject();
    if (!results && !(results = own))
        return;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_find(s->env.store, "gateway", NULL, &found, &em);
    if (rc != SB_OK) {
        sb_error(NULL, "reading the gateways: %s", sb_errmsg_str(&em, rc));
        cJSON_Delete(own);
        return;
    }
    cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(found, "data"))
    {
        const char *id = sb_json_str(item, "id", NULL);
        if (id)
            gw_reload_one(s, id, force, results);
    }
    cJSON_Delete(found);
    char id[SB_MSG_ID_MAX + 1]; /* running gateways whose documents are gone */
    while (unvisited_runner(s, results, id, sizeof(id)))
        gw_reload_one(s, id, true, results);
    cJSON_Delete(own);
}

void gw_stop_all(gw_service *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        gw_runner *r = s->n_runners ? s->runners[--s->n_runners] : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!r)
            break;
        gw_runner_stop(r, false);
    }
    SB_FREE(s->runners);
    for (size_t i = 0; i < s->n_held; i++)
        sb_msg_free(s->held[i]);
    SB_FREE(s->held);
    s->n_held = s->cap_held = 0;
    s->cap_runners = 0;
}
