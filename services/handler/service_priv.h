/* service_priv.h - the handler service's shared state (handler.c, reload.c, runner.c, state.c). */
#ifndef SB_HD_SERVICE_PRIV_H
#define SB_HD_SERVICE_PRIV_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/ctl.h"
#include "core/service.h"
#include "handlers/plugin.h"
#include "storage/store.h"

typedef struct hd_env {
    const sb_config *cfg;
    sb_bus *bus;
    sb_store *store;
} hd_env;

/* One queued call. */
typedef struct hd_job {
    struct hd_job *next;
    sb_handler_call call;
    int64_t received_us; /* monotonic, when the call arrived (for the delivery latency) */
} hd_job;

void hd_job_free(hd_job *j);

/* A running handler: its document, plugin instance, worker thread and queue. */
typedef struct hd_runner hd_runner;

/*
 * Parses doc (a handler document), creates the plugin instance and starts the worker. jobs
 * (may be NULL; taken) are queued first: the calls a replaced runner had not delivered yet.
 * On failure em says why (a bad spec names its key).
 */
sb_err hd_runner_start(const hd_env *env, const cJSON *doc, hd_job *jobs, hd_runner **out,
                       sb_errmsg *em);

/* Stops the worker (a delivery in progress finishes; a retry wait is cut short) and frees the
 * runner. The calls not delivered yet are returned (caller frees or hands them on). */
hd_job *hd_runner_stop(hd_runner *r);

const char *hd_runner_id(const hd_runner *r);
/* The document's fingerprint: everything but state and modifiedOn. */
const char *hd_runner_fingerprint(const hd_runner *r);

/* Queues a call (takes it, freed on failure). SB_ERR_FULL when the queue is full (counted). */
sb_err hd_runner_post(hd_runner *r, hd_job *job);

/* Adds {"<id>": {"type", "queued", "delivered", "failed", "retries", "dropped"}} to obj. */
void hd_runner_stats(hd_runner *r, cJSON *obj);

/* Whole-document text without state and modifiedOn (malloc'd), for change detection. */
char *hd_doc_fingerprint(const cJSON *doc);

/* The state message of a handler whose document could not be started begins with this. */
#define HD_NOT_STARTED "not started: "

/* Stores state {status, message, since} into the handler document (if it still exists) and
 * publishes the document as an "updated" event. */
void hd_state_publish(const hd_env *env, const char *id, const char *status, const char *message);

typedef struct hd_service {
    hd_env env;
    pthread_mutex_t mu; /* guards runners and the parked calls */
    sb_ctl_queue ctl;   /* reloads for the main thread */
    hd_runner **runners;
    size_t n_runners, cap_runners;
    /* While a handler is being restarted its calls wait here, then go to the new runner. */
    char *restarting; /* the id, or NULL */
    hd_job *parked;
    atomic_ullong malformed; /* handler calls that did not parse */
    atomic_ullong unknown;   /* calls for handlers that do not run here */
} hd_service;

/* Under s->mu: parks job when its handler is being restarted (true), else leaves it. */
bool hd_park(hd_service *s, const char *id, hd_job *job);

/* hd_reload_one for every stored handler and every running one; results may be NULL. */
void hd_reload_all(hd_service *s, bool force, cJSON *results);

/* Makes handler id run as its stored document says; results (may be NULL) gets id -> what.
 * Calls that arrive meanwhile are parked and handed to the restarted handler. */
void hd_reload_one(hd_service *s, const char *id, bool force, cJSON *results);

/* Stops and frees every runner, dropping (and logging) the calls they still held. */
void hd_stop_all(hd_service *s);

#endif
