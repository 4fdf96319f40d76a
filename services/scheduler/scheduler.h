/*
 * scheduler.h - the scheduler service (docs/automation.md, "Schedules"): runs the enabled
 * schedule entities. At each due time it publishes a handler call <p>/handler/<id> for every
 * handler of the schedule and stores and publishes the schedule's state
 * {status, message, since, lastRun, nextRun, runCount}; it is the single writer of that state.
 *
 * Internal to services/scheduler, except sb_scheduler_run and sb_service_scheduler.
 */
#ifndef SB_SCHEDULER_H
#define SB_SCHEDULER_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/schedule.h"
#include "core/service.h"
#include "storage/store.h"

int sb_scheduler_run(const sb_config *cfg, sb_stop_flag *stop);
extern const sb_service_def sb_service_scheduler;

/* ---- internal ----------------------------------------------------------------------------- */

/* One loaded schedule. Main thread only. */
typedef struct sch_entry {
    char *id;
    cJSON *doc;           /* the stored document (owned) */
    char *fingerprint;    /* the document without state and modifiedOn: a change reloads it */
    cJSON *spec;          /* the core/schedule.h spec built from type, spec and validity */
    bool catch_up;        /* after a restart, one run for the runs missed while down */
    int64_t last_run;     /* ms of the last run's due time; 0 = never */
    int64_t run_count;    /* runs so far */
    int64_t next_run;     /* ms; 0 = no further run (completed or error) */
    int64_t missed_since; /* > 0: next_run is a catch-up run for runs due since then */
    bool armed;           /* the run at next_run is recorded in the store already */
    bool unsaved;         /* ran: its state is to be stored and published */
    char status[16];      /* ok | completed | error */
    char message[256];
    int64_t since; /* when status last changed */
} sch_entry;

/* What the bus thread asks the main thread to do. */
typedef enum { SCH_RELOAD_ALL, SCH_RELOAD_ONE, SCH_SETTINGS } sch_req_kind;

typedef struct sch_req {
    struct sch_req *next;
    sch_req_kind kind;
    char *id;    /* SCH_RELOAD_ONE */
    char *reply; /* response topic of a ctl request, or NULL */
    void *corr;
    size_t corr_len;
} sch_req;

typedef struct sch_service {
    const sb_config *cfg;
    sb_bus *bus;
    sb_store *store;
    pthread_mutex_t mu; /* guards the request queue */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC */
    sch_req *head, *tail;
    sch_entry **entries; /* main thread only */
    size_t n, cap;
    sb_sched_ctx ctx; /* zone and location (ctx.tz points into tz) */
    char tz[128];
    atomic_uint_fast64_t fired, handler_calls, errors;
} sch_service;

/* entries.c: the zone and location from the config and the settings entity. */
sb_err sch_site_load(sch_service *s, sb_errmsg *em);

/* entries.c: loads or reloads every schedule (restart = first load: catch-up allowed). */
void sch_reload_all(sch_service *s, bool restart, cJSON *results);
/* entries.c: loads, reloads or drops one schedule as its stored document says. */
void sch_reload_one(sch_service *s, const char *id, cJSON *results);
/* entries.c: recomputes every next run (after a zone or location change). */
void sch_replan_all(sch_service *s);
void sch_entries_free(sch_service *s);

/*
 * entries.c: computes e->next_run from e->last_run and now. With allow_catch_up (first load
 * after a start) and e->catch_up, a run missed while the service was down becomes one run now.
 */
void sch_plan(sch_service *s, sch_entry *e, int64_t now, bool allow_catch_up);

/*
 * How long before a due time its run is recorded in the store (sch_arm), so that the store's
 * commit does not delay the handler calls: the run is stored, then made.
 */
#define SCH_ARM_LEAD_MS 250

/* fire.c: records the run at e->next_run (lastRun, runCount) in the store, without an event. */
void sch_arm(sch_service *s, sch_entry *e);
/* fire.c: runs e (due now): handler calls published, next run planned; e->unsaved set. */
void sch_fire(sch_service *s, sch_entry *e, int64_t now);
/* fire.c: stores e's state into its document and (publish) publishes the schedule's event. */
void sch_state_save(sch_service *s, sch_entry *e, bool publish);
/* fire.c: sets status/message (since moves when the status changes). */
void sch_set_status(sch_entry *e, const char *status, const char *message, int64_t now);

#endif
