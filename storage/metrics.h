/*
 * metrics.h - the metric store: every field value as a time-series point (InfluxDB 1.x/2.x over
 * HTTP, storage/influxdb/), or nothing (type "none").
 *
 * Points are written in batches (flushed by size or interval) by a background thread. While the
 * server is down points are buffered, bounded (in RAM and optionally on disk); when the bound is
 * hit the oldest are dropped and counted in the stats, never silently. One measurement per
 * metric type, tags gateway/node/source/field ids, field "value" (geo: latitude, longitude,
 * altitude), millisecond timestamps. Thread-safe.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/msg.h"

typedef struct sb_metrics sb_metrics;

/* One point: a field's value at a time. Strings are borrowed for the call. */
typedef struct sb_metric_point {
    const char *gateway_id;
    const char *node_id;
    const char *source_id;
    const char *field_id;
    sb_metric_type type; /* selects the measurement; NONE is not written */
    const char *value;   /* the value as text, already valid for the type */
    int64_t timestamp_ms;
} sb_metric_point;

typedef struct sb_metrics_stats {
    uint64_t written;  /* points the server accepted */
    uint64_t buffered; /* points waiting now (RAM + disk) */
    uint64_t dropped;  /* points dropped because the buffer bound was hit */
    uint64_t rejected; /* points the server refused as malformed (HTTP 400), not retried */
    uint64_t failures; /* write requests that failed and will be retried */
    bool healthy;      /* the last request succeeded */
    char last_error[256];
} sb_metrics_stats;

/*
 * Opens the store named by cfg->metrics.type ("none" gives a store that accepts and drops;
 * its stats count every point as dropped). The InfluxDB store talks to cfg->metrics.url;
 * SB_ERR_INVALID when that is empty (use sb_metrics_open_url with the managed influxd's URL).
 * Caller closes with sb_metrics_close(). The config is read during the call only.
 */
sb_err sb_metrics_open(const sb_config *cfg, sb_metrics **out, sb_errmsg *em);

/* The same against url instead of cfg->metrics.url (the managed influxd, sb_influxd.url). */
sb_err sb_metrics_open_url(const sb_config *cfg, const char *url, sb_metrics **out, sb_errmsg *em);

/* Queues a point (copied); never blocks on the network. */
sb_err sb_metrics_write(sb_metrics *m, const sb_metric_point *p);

/* Writes everything buffered now; waits up to timeout_ms. */
sb_err sb_metrics_flush(sb_metrics *m, int64_t timeout_ms);

/*
 * Waits up to timeout_ms until every point written so far is durable: accepted by the server, or
 * (while it is down, with buffer_dir) appended to the fsynced disk spool. A caller that must not
 * lose points across a crash (the processor, before it commits and acknowledges a frame) calls
 * this; SB_ERR_TIMEOUT when the points are still only in RAM (server down and no spool).
 */
sb_err sb_metrics_sync(sb_metrics *m, int64_t timeout_ms);

/*
 * Query: fields (quick ids "field:gw.node.source.field"), start/stop (RFC 3339 or relative
 * like "-1h"; stop may be NULL = now), window ("5m", NULL = raw points), functions
 * ("mean", "min", "max", "sum", "count", "last", "percentile_95"...). *out is
 * {"<quickId>": {"<function>": [{"time": "...", "value": N}, ...]}}; caller frees.
 */
sb_err sb_metrics_query(sb_metrics *m, const char *const *fields, size_t n_fields,
                        const char *start, const char *stop, const char *window,
                        const char *const *functions, size_t n_functions, cJSON **out,
                        sb_errmsg *em);

void sb_metrics_get_stats(sb_metrics *m, sb_metrics_stats *out);

/* Flushes for up to drain_ms, stops the writer, frees. Accepts NULL. */
void sb_metrics_close(sb_metrics *m, int64_t drain_ms);

#endif
