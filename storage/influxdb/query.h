/*
 * query.h - building InfluxQL (1.x) and Flux (2.x) for sb_metrics_query (pure functions, unit
 * tested) and reading their answers.
 *
 * One statement per field and function. start/stop: RFC 3339, a relative "-1h" (ago), "now",
 * or NULL stop = now. window: a duration ("5m"; NULL = no time grouping). function: mean, min,
 * max, sum, count, last, first, percentile_NN, or NULL for the raw values.
 */
#ifndef SB_INFLUXDB_QUERY_H
#define SB_INFLUXDB_QUERY_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/quickid.h"
#include "storage/influxdb/line.h"

/*
 * Appends one InfluxQL SELECT for the field (a SB_KIND_FIELD quick id) to out: over the numeric
 * measurements (gauge, gauge_float, counter, binary), or with strings over "string" alone
 * (InfluxQL skips a string series in a SELECT that also reads numeric ones).
 */
sb_err sb_influxql_build(const sb_quickid *field, const char *start, const char *stop,
                         const char *window, const char *function, bool strings, sb_lp_buf *out,
                         sb_errmsg *em);

/* Whether function (NULL = raw) also applies to string values: raw, count, first, last. */
bool sb_influxql_on_strings(const char *function);

/* Appends one Flux query for the field over bucket to out. */
sb_err sb_flux_build(const char *bucket, const sb_quickid *field, const char *start,
                     const char *stop, const char *window, const char *function, sb_lp_buf *out,
                     sb_errmsg *em);

/*
 * Turns one 1.x statement result ({"statement_id":..,"series":[...]}) into a JSON array of
 * {"time":"<RFC 3339>","value":N} sorted by time (series of several measurements merged).
 * The query must have used epoch=ms. Takes nothing; caller frees *out.
 */
sb_err sb_influxql_rows(const cJSON *result, cJSON **out, sb_errmsg *em);

/* The same from a 2.x annotated-CSV answer (its _time and _value columns). */
sb_err sb_flux_rows(const char *csv, cJSON **out, sb_errmsg *em);

#endif
