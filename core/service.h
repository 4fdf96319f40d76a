/*
 * service.h - what every service shares: the stop flag, the service table, the per-service
 * runtime (bus connection, retained status with stats, logging prefix) and the one-line main().
 *
 * A service is a library with one entry, sb_<name>_run(cfg, stop), that returns when stop is
 * raised. `switchboard run` starts each on its own thread with its own bus connection;
 * services/<name>/main.c calls sb_service_main() with the same entry.
 */
#ifndef SB_SERVICE_H
#define SB_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

typedef struct sb_stop_flag {
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} sb_stop_flag;

void sb_stop_init(sb_stop_flag *f);
void sb_stop_destroy(sb_stop_flag *f);
/* Raises the flag and wakes every waiter. Async-signal-unsafe: signal handlers use a pipe. */
void sb_stop_raise(sb_stop_flag *f);
bool sb_stop_raised(sb_stop_flag *f);
/* Waits up to ms for the flag; true when raised. */
bool sb_stop_wait(sb_stop_flag *f, int64_t ms);

typedef int (*sb_service_run_fn)(const sb_config *cfg, sb_stop_flag *stop);

typedef struct sb_service_def {
    const char *name;        /* "processor" */
    const char *description; /* one line */
    sb_service_run_fn run;
} sb_service_def;

/* The services linked into this binary (NULL-terminated), and lookup by name. */
extern const sb_service_def *const sb_service_defs[];
const sb_service_def *sb_service_find(const char *name);

/* Per-service runtime: a bus connection named after the service, its status and counters. */
typedef struct sb_service sb_service;

/* A callback that adds the service's counters to the stats object of its status. */
typedef void (*sb_service_stats_fn)(void *ctx, cJSON *stats);

/*
 * Connects the service's bus client (client id "<prefix>-<name>-<instance>"), publishes the
 * retained online status and, every status_interval_ms, the stats (bus counters + stats_fn's).
 * Keeps retrying the broker in the background when it is not up yet.
 */
sb_err sb_service_open(const sb_config *cfg, const char *name, sb_service_stats_fn stats_fn,
                       void *stats_ctx, sb_service **out, sb_errmsg *em);
sb_bus *sb_service_bus(sb_service *svc);
const sb_config *sb_service_config(sb_service *svc);
/*
 * Subscribes (QoS 1) to "<prefix>/<filter>" on the service's bus, e.g. "event/schedule/#".
 * em names the filter when the topic does not fit.
 */
sb_err sb_service_subscribe(sb_service *svc, const char *filter, sb_bus_handler fn, void *ctx,
                            sb_errmsg *em);

/* Initialises cv with CLOCK_MONOTONIC for its timed waits (deadlines: sb_time_mono_deadline). */
void sb_cond_init_mono(pthread_cond_t *cv);

/* Publishes the status now (otherwise it is published on the interval). */
void sb_service_publish_status(sb_service *svc);
/* Offline status, drain the bus for up to drain_ms, disconnect, free. Accepts NULL. */
void sb_service_close(sb_service *svc, int64_t drain_ms);

/* The instance id: cfg->instance, or the host name. */
const char *sb_service_instance(const sb_config *cfg, char *buf, size_t len);

/*
 * The whole main() of a service binary: `switchboard-<name> [-c FILE] [--log-level L]`, loads the
 * config, sets up logging and signals (SIGINT/SIGTERM raise the stop flag), runs the service,
 * returns the exit code.
 */
int sb_service_main(int argc, char **argv, const sb_service_def *def);

/* Turns SIGINT/SIGTERM into sb_stop_raise(f) (a watcher thread reads a self-pipe). */
sb_err sb_signals_install(sb_stop_flag *f, sb_errmsg *em);

#endif
