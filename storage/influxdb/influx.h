/*
 * influx.h - the InfluxDB metric store behind storage/metrics.h (private to storage/).
 *
 * sb_influx owns a RAM queue of encoded lines, an optional disk spool (spool.h) and a writer
 * thread that sends batches: disk segments first (they hold the oldest points), then RAM.
 * While the server is down the writer backs off (50 ms doubling to 2 s) and, with a
 * buffer_dir, moves RAM points to disk. The bound buffer_max covers RAM + disk; going over it
 * drops the oldest points (a whole disk segment at a time when the oldest are on disk).
 */
#ifndef SB_INFLUXDB_INFLUX_H
#define SB_INFLUXDB_INFLUX_H

#include <cjson/cJSON.h>

#include "core/config.h"
#include "storage/metrics.h"

#include "storage/influxdb/http.h"

typedef struct sb_influx sb_influx;

/* Where and how to reach the server; owned by the sb_influx (strings live as long as it). */
typedef struct sb_influx_conn {
    char *url;      /* base URL without a trailing '/' */
    char *database; /* 1.x database */
    char *org;      /* 2.x */
    char *bucket;   /* 2.x; defaults to database */
    int version;
    int64_t timeout_ms;
    sb_influx_auth auth;
} sb_influx_conn;

const sb_influx_conn *sb_influx_conn_of(const sb_influx *x);

/* Starts the writer; url is the server's base URL ("http://127.0.0.1:8086"). */
sb_err sb_influx_open(const sb_config_metrics *cfg, const char *url, sb_influx **out,
                      sb_errmsg *em);
sb_err sb_influx_write(sb_influx *x, const sb_metric_point *p);
sb_err sb_influx_flush(sb_influx *x, int64_t timeout_ms);

/* Waits up to timeout_ms until every point queued so far is durable (see sb_metrics_sync). */
sb_err sb_influx_sync(sb_influx *x, int64_t timeout_ms);
void sb_influx_stats(sb_influx *x, sb_metrics_stats *out);
void sb_influx_close(sb_influx *x, int64_t drain_ms);

/* The query half (query.c): builds InfluxQL (1.x) or Flux (2.x), sends it, shapes the answer. */
sb_err sb_influx_query(sb_influx *x, const char *const *fields, size_t n_fields, const char *start,
                       const char *stop, const char *window, const char *const *functions,
                       size_t n_functions, cJSON **out, sb_errmsg *em);

#endif
