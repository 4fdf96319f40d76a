/*
 * runner.c - one running handler: its parsed document, the plugin instance, a worker thread
 * and a bounded queue of calls. The worker delivers one call at a time, in arrival order,
 * retrying a failed one with exponential backoff before it takes the next; meanwhile the bus
 * thread keeps queueing. Other handlers have their own workers, so nothing here delays them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/histo.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "services/handler/service_priv.h"

struct hd_runner {
    const hd_env *env;
    char *id, *type, *fingerprint;
    cJSON *spec; /* unrendered */
    const sb_handler_plugin *plugin;
    sb_handler_common common;
    void *inst;
    sb_logger log;
    sb_handler_host host;
    pthread_t thread;
    bool started;
    atomic_bool cancel; /* raised by hd_runner_stop: a delivery in progress gives up */
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    bool quit;
    hd_job *head, *tail;
    size_t n;
    size_t max;
    uint64_t received, delivered, failed, retries, dropped;
    sb_histo delivery_ms; /* call received -> delivered (queue, retries and the delivery) */
    /* The state last published (worker thread only after start). */
    char status[16];
    char message[512];
};

void hd_job_free(hd_job *j)
{
    while (j) {
        hd_job *next = j->next;
        sb_handler_call_free(&j->call);
        free(j);
        j = next;
    }
}

const char *hd_runner_id(const hd_runner *r)
{
    return r->id;
}

const char *hd_runner_fingerprint(const hd_runner *r)
{
    return r->fingerprint;
}

char *hd_doc_fingerprint(const cJSON *doc)
{
    static const char *const skip[] = {"state", "modifiedOn", NULL};
    return sb_json_print_except(doc, skip);
}

/* Publishes the state when it differs from the last one. */
static void set_state(hd_runner *r, const char *status, const char *message)
{
    if (strcmp(r->status, status) == 0 && strcmp(r->message, message) == 0)
        return;
    snprintf(r->status, sizeof(r->status), "%s", status);
    snprintf(r->message, sizeof(r->message), "%s", message);
    hd_state_publish(r->env, r->id, r->status, r->message);
}

/* Renders the spec with the call, parses it and runs the plugin once. */
static sb_err attempt(hd_runner *r, const sb_handler_call *call, sb_errmsg *em)
{
    cJSON *vars = sb_handler_call_vars(call, r->id);
    cJSON *warnings = cJSON_CreateArray(), *spec = NULL;
    void *opts = NULL;
    sb_err rc = vars && warnings ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (rc == SB_OK)
        rc = sb_handler_spec_render(r->spec, vars, &spec, warnings, em);
    if (rc == SB_OK && cJSON_GetArraySize(warnings) > 0) {
        char *text = sb_json_print(warnings);
        sb_warn(&r->log, "call from %s: %s", call->source, text ? text : "template warnings");
        free(text);
    }
    if (rc == SB_OK && (rc = sb_handler_spec_parse(r->plugin, spec, 0, NULL, &opts, em)) != SB_OK)
        rc = sb_fail_wrap(em, SB_ERR_INVALID, "the rendered spec");
    if (rc == SB_OK)
        rc = r->plugin->run(r->inst, &r->host, opts, call, em);
    sb_handler_options_free(r->plugin, opts);
    cJSON_Delete(spec);
    cJSON_Delete(warnings);
    cJSON_Delete(vars);
    return rc;
}

/* Waits up to ms unless the runner is told to quit; true when it is. */
static bool wait_or_quit(hd_runner *r, int64_t ms)
{
    struct timespec ts;
    sb_time_mono_deadline(ms, &ts);
    pthread_mutex_lock(&r->mu);
    while (!r->quit && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0) {
    }
    bool quit = r->quit;
    pthread_mutex_unlock(&r->mu);
    return quit;
}

static void count(hd_runner *r, uint64_t *counter)
{
    pthread_mutex_lock(&r->mu);
    (*counter)++;
    pthread_mutex_unlock(&r->mu);
}

/* Delivers j with retries. Returns j when the runner must stop before it is done (kept for
 * the next runner), NULL when it was delivered or given up (and freed). */
static hd_job *deliver(hd_runner *r, hd_job *j)
{
    int64_t delay = r->common.retry_delay_ms;
    for (int64_t tries = 0;; tries++) {
        sb_errmsg em = {{0}};
        sb_err rc = attempt(r, &j->call, &em);
        if (rc == SB_ERR_CLOSED && atomic_load(&r->cancel))
            return j; /* cut short by a stop: kept, the next run of the handler delivers it */
        if (rc == SB_OK) {
            count(r, &r->delivered);
            sb_histo_observe(&r->delivery_ms,
                             (double)(sb_time_mono_us() - j->received_us) / 1000.0);
            sb_debug(&r->log, "call from %s delivered%s%s", j->call.source, em.text[0] ? ": " : "",
                     em.text);
            set_state(r, "ok", em.text[0] ? em.text : "delivered");
            hd_job_free(j);
            return NULL;
        }
        const char *why = sb_errmsg_str(&em, rc);
        bool permanent = rc == SB_ERR_INVALID || rc == SB_ERR_PARSE || rc == SB_ERR_NOTFOUND;
        if (permanent || tries >= r->common.retries) {
            count(r, &r->failed);
            sb_warn(&r->log, "call from %s failed%s: %s", j->call.source,
                    permanent ? "" : " after every retry", why);
            set_state(r, "error", why);
            hd_job_free(j);
            return NULL;
        }
        count(r, &r->retries);
        sb_info(&r->log, "call from %s failed (attempt %lld of %lld), retrying in %lld ms: %s",
                j->call.source, (long long)tries + 1, (long long)r->common.retries + 1,
                (long long)delay, why);
        if (wait_or_quit(r, delay))
            return j;
        delay = delay * 2 > r->common.retry_max_delay_ms ? r->common.retry_max_delay_ms : delay * 2;
    }
}

static void *worker(void *arg)
{
    hd_runner *r = arg;
    char prefix[192];
    snprintf(prefix, sizeof(prefix), "[handler] [handler:%s/%s]", r->id, r->type);
    sb_log_thread_prefix(prefix);
    pthread_mutex_lock(&r->mu);
    while (!r->quit) {
        hd_job *j = r->head;
        if (!j) {
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        r->head = j->next;
        if (!r->head)
            r->tail = NULL;
        r->n--;
        j->next = NULL;
        pthread_mutex_unlock(&r->mu);
        hd_job *left = deliver(r, j);
        pthread_mutex_lock(&r->mu);
        if (left) { /* back to the front, for whoever runs this handler next */
            left->next = r->head;
            r->head = left;
            if (!r->tail)
                r->tail = left;
            r->n++;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void runner_free(hd_runner *r)
{
    if (!r)
        return;
    if (r->plugin && r->plugin->destroy)
        r->plugin->destroy(r->inst);
    hd_job_free(r->head);
    cJSON_Delete(r->spec);
    free(r->id);
    free(r->type);
    free(r->fingerprint);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The document's id, type, spec and plugin; the spec checked once, unrendered. */
static sb_err parse_doc(hd_runner *r, const cJSON *doc, sb_errmsg *em)
{
    const char *id = sb_json_str(doc, "id", NULL), *type = sb_json_str(doc, "type", NULL);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
    if (!id || !*id)
        return sb_fail(em, SB_ERR_INVALID, "id: a non-empty string is required");
    if (!type || !*type)
        return sb_fail(em, SB_ERR_INVALID, "type: a non-empty string is required");
    if (spec && !cJSON_IsObject(spec) && !cJSON_IsNull(spec))
        return sb_fail(em, SB_ERR_INVALID, "spec: expected an object");
    r->id = strdup(id);
    r->type = strdup(type);
    r->fingerprint = hd_doc_fingerprint(doc);
    r->spec = cJSON_IsObject(spec) ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject();
    if (!r->id || !r->type || !r->fingerprint || !r->spec)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = sb_handler_plugin_find(type, &r->plugin, em);
    void *opts = NULL;
    if (rc == SB_OK)
        rc = sb_handler_spec_parse(r->plugin, r->spec, SB_HANDLER_SPEC_TEMPLATES, &r->common, &opts,
                                   em);
    r->host = (sb_handler_host){.handler_id = r->id,
                                .cancel = &r->cancel,
                                .log = &r->log,
                                .bus = r->env->bus,
                                .store = r->env->store,
                                .cfg = r->env->cfg};
    sb_logger_init(&r->log, "handler:%s/%s", r->id, r->type);
    if (rc == SB_OK && r->plugin->create)
        rc = r->plugin->create(&r->host, opts, &r->inst, em);
    sb_handler_options_free(r->plugin, opts);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
    snprintf(r->status, sizeof(r->status), "%s", sb_json_str(st, "status", ""));
    snprintf(r->message, sizeof(r->message), "%s", sb_json_str(st, "message", ""));
    return rc;
}

sb_err hd_runner_start(const hd_env *env, const cJSON *doc, hd_job *jobs, hd_runner **out,
                       sb_errmsg *em)
{
    *out = NULL;
    hd_runner *r = calloc(1, sizeof(*r));
    if (!r) {
        hd_job_free(jobs);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    r->env = env;
    r->max = (size_t)env->cfg->handler.queue_max;
    pthread_mutex_init(&r->mu, NULL);
    sb_time_cond_init(&r->cv);
    r->head = jobs;
    for (hd_job *j = jobs; j; j = j->next) {
        r->tail = j;
        r->n++;
    }
    sb_err rc = parse_doc(r, doc, em);
    /* A start failure that is now fixed: say so. Delivery errors stay until the next call. */
    if (rc == SB_OK && strcmp(r->status, "error") == 0 &&
        strncmp(r->message, HD_NOT_STARTED, strlen(HD_NOT_STARTED)) == 0)
        set_state(r, "ok", "started");
    if (rc == SB_OK && pthread_create(&r->thread, NULL, worker, r) != 0)
        rc = sb_fail(em, SB_ERR_IO, "cannot start the worker thread");
    if (rc != SB_OK) {
        runner_free(r);
        return rc;
    }
    r->started = true;
    *out = r;
    return SB_OK;
}

hd_job *hd_runner_stop(hd_runner *r)
{
    if (!r)
        return NULL;
    atomic_store(&r->cancel, true);
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->started)
        pthread_join(r->thread, NULL);
    hd_job *left = r->head;
    r->head = r->tail = NULL;
    runner_free(r);
    return left;
}

sb_err hd_runner_post(hd_runner *r, hd_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&r->mu);
    bool full = r->quit || r->n >= r->max;
    if (full) {
        r->dropped++;
    } else {
        if (r->tail)
            r->tail->next = job;
        else
            r->head = job;
        r->tail = job;
        r->n++;
        r->received++;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    if (full)
        hd_job_free(job);
    return full ? SB_ERR_FULL : SB_OK;
}

void hd_runner_stats(hd_runner *r, cJSON *obj)
{
    cJSON *o = cJSON_AddObjectToObject(obj, r->id);
    if (!o)
        return;
    pthread_mutex_lock(&r->mu);
    cJSON_AddStringToObject(o, "type", r->type);
    cJSON_AddNumberToObject(o, "queued", (double)r->n);
    cJSON_AddNumberToObject(o, "received", (double)r->received);
    cJSON_AddNumberToObject(o, "delivered", (double)r->delivered);
    cJSON_AddNumberToObject(o, "failed", (double)r->failed);
    cJSON_AddNumberToObject(o, "retries", (double)r->retries);
    cJSON_AddNumberToObject(o, "dropped", (double)r->dropped);
    pthread_mutex_unlock(&r->mu);
    cJSON *h = sb_histo_json(&r->delivery_ms);
    if (h)
        cJSON_AddItemToObject(o, "deliveryLatency", h);
}
