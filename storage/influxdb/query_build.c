#include "storage/influxdb/query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"

static const char *const tag_names[] = {"gateway", "node", "source", "field"};

/* A time bound as InfluxQL: "now() - 3600000ms", "1764100800123ms" or "now()". */
static sb_err bound_influxql(const char *t, sb_lp_buf *out, sb_errmsg *em)
{
    int64_t ms;
    if (!t || !*t || !strcmp(t, "now"))
        return sb_lp_buf_append(out, "now()", 5);
    if (t[0] == '-' && sb_duration_parse(t + 1, &ms) == SB_OK)
        return sb_lp_buf_printf(out, "now() - %lldms", (long long)ms);
    if (sb_time_parse(t, &ms) == SB_OK)
        return sb_lp_buf_printf(out, "%lldms", (long long)ms);
    return sb_fail(em, SB_ERR_INVALID, "time '%.64s': expected RFC 3339, -<duration> or now", t);
}

/* A time bound as Flux: "-3600000ms", "2026-11-25T20:00:00.123Z" or "now()". */
static sb_err bound_flux(const char *t, sb_lp_buf *out, sb_errmsg *em)
{
    int64_t ms;
    if (!t || !*t || !strcmp(t, "now"))
        return sb_lp_buf_append(out, "now()", 5);
    if (t[0] == '-' && sb_duration_parse(t + 1, &ms) == SB_OK)
        return sb_lp_buf_printf(out, "-%lldms", (long long)ms);
    if (sb_time_parse(t, &ms) == SB_OK) {
        char buf[SB_TIME_RFC3339_LEN];
        sb_time_format(ms, buf, sizeof(buf));
        return sb_lp_buf_append(out, buf, strlen(buf));
    }
    return sb_fail(em, SB_ERR_INVALID, "time '%.64s': expected RFC 3339, -<duration> or now", t);
}

static sb_err window_ms(const char *window, int64_t *ms, sb_errmsg *em)
{
    if (sb_duration_parse(window, ms) != SB_OK || *ms <= 0)
        return sb_fail(em, SB_ERR_INVALID, "window '%.64s': expected a duration like 5m", window);
    return SB_OK;
}

/* "percentile_95" -> 95 (0 < N <= 100, decimals allowed). */
static bool percentile(const char *fn, double *n)
{
    if (strncmp(fn, "percentile_", 11) != 0 || !fn[11])
        return false;
    char *end;
    *n = strtod(fn + 11, &end);
    return !*end && *n > 0 && *n <= 100 && isdigit((unsigned char)fn[11]);
}

static bool plain_function(const char *fn)
{
    static const char *const ok[] = {"mean", "min", "max", "sum", "count", "last", "first"};
    for (size_t i = 0; i < SB_ARRAY_LEN(ok); i++)
        if (!strcmp(fn, ok[i]))
            return true;
    return false;
}

/* A single-quoted InfluxQL string literal of the id as stored (sb_lp_id). */
static sb_err put_ql_string(sb_lp_buf *out, const char *id)
{
    char mapped[SB_QUICKID_PART_MAX];
    sb_lp_id(id, mapped, sizeof(mapped));
    sb_err rc = sb_lp_buf_append(out, "'", 1);
    for (const char *s = mapped; *s && rc == SB_OK; s++) {
        if (*s == '\'' || *s == '\\')
            rc = sb_lp_buf_append(out, "\\", 1);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(out, s, 1);
    }
    return rc != SB_OK ? rc : sb_lp_buf_append(out, "'", 1);
}

static sb_err check_field(const sb_quickid *f, sb_errmsg *em)
{
    if (f->kind != SB_KIND_FIELD || f->n_ids != 4)
        return sb_fail(em, SB_ERR_INVALID, "metrics are queried by field quick id");
    return SB_OK;
}

bool sb_influxql_on_strings(const char *fn)
{
    return !fn || !strcmp(fn, "count") || !strcmp(fn, "last") || !strcmp(fn, "first");
}

static sb_err ql_select(const char *fn, bool strings, sb_lp_buf *out, sb_errmsg *em)
{
    double n;
    const char *from = strings ? "\"string\"" : "\"gauge\",\"gauge_float\",\"counter\",\"binary\"";
    if (!fn)
        return sb_lp_buf_printf(out, "SELECT \"value\" FROM %s WHERE ", from);
    if (percentile(fn, &n))
        return sb_lp_buf_printf(out, "SELECT PERCENTILE(\"value\", %g) FROM %s WHERE ", n, from);
    if (!plain_function(fn))
        return sb_fail(em, SB_ERR_INVALID,
                       "function '%.64s': expected mean, min, max, sum, count, last, first or "
                       "percentile_NN",
                       fn);
    return sb_lp_buf_printf(out, "SELECT %s(\"value\") FROM %s WHERE ", fn, from);
}

sb_err sb_influxql_build(const sb_quickid *field, const char *start, const char *stop,
                         const char *window, const char *function, bool strings, sb_lp_buf *out,
                         sb_errmsg *em)
{
    int64_t w = 0;
    sb_err rc = check_field(field, em);
    if (rc == SB_OK && window && *window)
        rc = window_ms(window, &w, em);
    if (rc == SB_OK)
        rc = ql_select(function, strings, out, em);
    for (int i = 0; i < 4 && rc == SB_OK; i++) {
        rc = sb_lp_buf_printf(out, "\"%s\" = ", tag_names[i]);
        if (rc == SB_OK)
            rc = put_ql_string(out, field->ids[i]);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(out, " AND ", 5);
    }
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, "time >= ", 8);
    if (rc == SB_OK)
        rc = bound_influxql(start && *start ? start : "-1h", out, em);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, " AND time <= ", 13);
    if (rc == SB_OK)
        rc = bound_influxql(stop, out, em);
    if (rc == SB_OK && w > 0 && function)
        rc = sb_lp_buf_printf(out, " GROUP BY time(%lldms) fill(none)", (long long)w);
    return rc;
}

static sb_err put_flux_string(sb_lp_buf *out, const char *s, bool map_id)
{
    char mapped[SB_QUICKID_PART_MAX];
    if (map_id) {
        sb_lp_id(s, mapped, sizeof(mapped));
        s = mapped;
    }
    sb_err rc = sb_lp_buf_append(out, "\"", 1);
    for (; *s && rc == SB_OK; s++) {
        if (*s == '"' || *s == '\\' || *s == '$')
            rc = sb_lp_buf_append(out, "\\", 1);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(out, s, 1);
    }
    return rc != SB_OK ? rc : sb_lp_buf_append(out, "\"", 1);
}

/* The Flux aggregate for fn: "mean", or a quantile function for percentile_NN. */
static sb_err flux_fn(const char *fn, bool windowed, sb_lp_buf *out, sb_errmsg *em)
{
    double n;
    if (percentile(fn, &n))
        return windowed ? sb_lp_buf_printf(out,
                                           "(column, tables=<-) => tables |> quantile(q: %g, "
                                           "column: column)",
                                           n / 100)
                        : sb_lp_buf_printf(out, "quantile(q: %g)", n / 100);
    if (!plain_function(fn))
        return sb_fail(em, SB_ERR_INVALID,
                       "function '%.64s': expected mean, min, max, sum, count, last, first or "
                       "percentile_NN",
                       fn);
    return sb_lp_buf_printf(out, windowed ? "%s" : "%s()", fn);
}

sb_err sb_flux_build(const char *bucket, const sb_quickid *field, const char *start,
                     const char *stop, const char *window, const char *function, sb_lp_buf *out,
                     sb_errmsg *em)
{
    int64_t w = 0;
    sb_err rc = check_field(field, em);
    if (rc == SB_OK && window && *window)
        rc = window_ms(window, &w, em);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, "from(bucket: ", 13);
    if (rc == SB_OK)
        rc = put_flux_string(out, bucket, false);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, ")\n  |> range(start: ", 20);
    if (rc == SB_OK)
        rc = bound_flux(start && *start ? start : "-1h", out, em);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, ", stop: ", 8);
    if (rc == SB_OK)
        rc = bound_flux(stop, out, em);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, ")\n  |> filter(fn: (r) => r._field == \"value\"", 44);
    for (int i = 0; i < 4 && rc == SB_OK; i++) {
        rc = sb_lp_buf_printf(out, " and r.%s == ", tag_names[i]);
        if (rc == SB_OK)
            rc = put_flux_string(out, field->ids[i], true);
    }
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, ")\n", 2);
    if (rc == SB_OK && function && w > 0) {
        rc = sb_lp_buf_printf(out, "  |> aggregateWindow(every: %lldms, fn: ", (long long)w);
        if (rc == SB_OK)
            rc = flux_fn(function, true, out, em);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(out, ", createEmpty: false)\n", 22);
    } else if (rc == SB_OK && function) {
        rc = sb_lp_buf_append(out, "  |> ", 5);
        if (rc == SB_OK)
            rc = flux_fn(function, false, out, em);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(out, "\n", 1);
    }
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, "  |> group()\n  |> sort(columns: [\"_time\"])\n", 43);
    return rc;
}
