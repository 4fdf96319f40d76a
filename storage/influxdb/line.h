/*
 * line.h - InfluxDB line protocol for metric points (pure functions, no I/O; fuzzed).
 *
 * One measurement per metric type (its sb_metric_type_name: gauge, gauge_float, counter,
 * binary, string, geo), tags field/gateway/node/source (sorted, empty ids omitted), field
 * "value" (geo: latitude, longitude, altitude), millisecond timestamps:
 *     gauge_float,field=V_TEMP,gateway=gw1,node=12,source=1 value=21.5 1764100800123
 * Types: gauge and gauge_float are floats, counter an integer (5i), binary the integer 0 or 1
 * (so mean() is the share of time on), string a string (newlines become spaces: 1.x line
 * protocol has none in values), geo three floats from "lat;lon[;alt]".
 */
#ifndef SB_INFLUXDB_LINE_H
#define SB_INFLUXDB_LINE_H

#include <stddef.h>

#include "core/err.h"
#include "storage/metrics.h"

/* A growable byte buffer; zero-initialise, free with sb_lp_buf_free(). */
typedef struct sb_lp_buf {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
} sb_lp_buf;

sb_err sb_lp_buf_append(sb_lp_buf *b, const char *s, size_t n);
sb_err sb_lp_buf_printf(sb_lp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_lp_buf_free(sb_lp_buf *b);

/*
 * Appends the line for p, ending with '\n'. SB_ERR_INVALID (em says why) when the type is NONE
 * or the value is not valid for the type; nothing is appended then.
 */
sb_err sb_lp_encode(const sb_metric_point *p, sb_lp_buf *out, sb_errmsg *em);

/*
 * The tag value stored for an id: control characters become '_' and '\' becomes '/', because
 * 1.x line protocol has no way to carry a newline, or a backslash before ',', ' ', '=' or at
 * the end of a tag. Queries map ids the same way. Writes at most n-1 bytes + NUL.
 */
void sb_lp_id(const char *id, char *out, size_t n);

/* Counts the complete lines (ending with '\n') in buf; *complete gets their length. */
size_t sb_lp_count_lines(const char *buf, size_t len, size_t *complete);

#endif
