#include "storage/influxdb/line.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

sb_err sb_lp_buf_append(sb_lp_buf *b, const char *s, size_t n)
{
    if (sb_buf_reserve(&b->data, &b->cap, b->len + n + 1) != SB_OK)
        return SB_ERR_NOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SB_OK;
}

sb_err sb_lp_buf_printf(sb_lp_buf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return SB_ERR_INTERNAL;
    if ((size_t)n < sizeof(small))
        return sb_lp_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return SB_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_err rc = sb_lp_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

void sb_lp_buf_free(sb_lp_buf *b)
{
    if (b) {
        SB_FREE(b->data);
        b->len = b->cap = 0;
    }
}

void sb_lp_id(const char *id, char *out, size_t n)
{
    size_t j = 0;
    for (const char *s = id ? id : ""; *s && j + 1 < n; s++) {
        unsigned char c = (unsigned char)*s;
        out[j++] = c < 0x20 || c == 0x7f ? '_' : c == '\\' ? '/' : (char)c;
    }
    if (n)
        out[j] = '\0';
}

/* Measurement names escape ',' and ' '; tag keys and values also '='. */
static sb_err put_escaped(sb_lp_buf *b, const char *s, const char *special)
{
    sb_err rc = SB_OK;
    for (; *s && rc == SB_OK; s++) {
        unsigned char c = (unsigned char)*s;
        char ch = c < 0x20 || c == 0x7f ? '_' : c == '\\' ? '/' : (char)c;
        if (strchr(special, ch))
            rc = sb_lp_buf_append(b, "\\", 1);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(b, &ch, 1);
    }
    return rc;
}

static sb_err put_tag(sb_lp_buf *b, const char *key, const char *value)
{
    if (!value || !*value)
        return SB_OK; /* InfluxDB has no empty tag values: the tag is absent */
    sb_err rc = sb_lp_buf_printf(b, ",%s=", key);
    return rc != SB_OK ? rc : put_escaped(b, value, ", =");
}

static bool parse_double(const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    /* strtod also reads "0x1p3" and "infinity"; only decimal numbers are values here. */
    for (const char *c = s; c < end; c++)
        if (isalpha((unsigned char)*c) && *c != 'e' && *c != 'E')
            return false;
    *out = v;
    return true;
}

/* The shortest %g text that reads back as v, so 21.5 stays "21.5". */
static sb_err put_double(sb_lp_buf *b, double v)
{
    char t[40];
    snprintf(t, sizeof(t), "%.15g", v);
    if (strtod(t, NULL) != v)
        snprintf(t, sizeof(t), "%.17g", v);
    return sb_lp_buf_append(b, t, strlen(t));
}

static bool parse_int(const char *s, long long *out)
{
    double d;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end != s && !*end && errno == 0) {
        *out = v;
        return true;
    }
    if (!parse_double(s, &d) || d != floor(d) || fabs(d) >= 9.2e18)
        return false;
    *out = (long long)d;
    return true;
}

static bool parse_bool(const char *s, int *out)
{
    static const char *const on[] = {"1", "true", "on", "yes"};
    static const char *const off[] = {"0", "false", "off", "no"};
    for (size_t i = 0; i < SB_ARRAY_LEN(on); i++) {
        if (!strcasecmp(s, on[i]) || !strcasecmp(s, off[i])) {
            *out = !strcasecmp(s, on[i]);
            return true;
        }
    }
    double d;
    if (!parse_double(s, &d))
        return false;
    *out = d != 0;
    return true;
}

static sb_err put_string(sb_lp_buf *b, const char *s)
{
    sb_err rc = sb_lp_buf_append(b, "\"", 1);
    for (; *s && rc == SB_OK; s++) {
        /* 1.x line protocol cannot carry a newline in a field value. */
        char ch = *s == '\n' || *s == '\r' ? ' ' : *s;
        if (ch == '"' || ch == '\\')
            rc = sb_lp_buf_append(b, "\\", 1);
        if (rc == SB_OK)
            rc = sb_lp_buf_append(b, &ch, 1);
    }
    return rc != SB_OK ? rc : sb_lp_buf_append(b, "\"", 1);
}

/* "lat;lon[;alt]" (',' also separates): latitude, longitude and altitude fields. */
static sb_err put_geo(sb_lp_buf *b, const char *v, sb_errmsg *em)
{
    static const char *const names[] = {"latitude", "longitude", "altitude"};
    char copy[256];
    if (snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
        return sb_fail(em, SB_ERR_INVALID, "geo value too long");
    char *save = NULL;
    int n = 0;
    sb_err rc = SB_OK;
    for (char *t = strtok_r(copy, ";,", &save); t && rc == SB_OK; t = strtok_r(NULL, ";,", &save)) {
        double d;
        if (n == 3 || !parse_double(t, &d))
            return sb_fail(em, SB_ERR_INVALID, "geo value '%s': expected lat;lon[;alt]", v);
        rc = sb_lp_buf_printf(b, "%s%s=", n ? "," : "", names[n]);
        if (rc == SB_OK)
            rc = put_double(b, d);
        n++;
    }
    if (rc == SB_OK && n < 2)
        return sb_fail(em, SB_ERR_INVALID, "geo value '%s': expected lat;lon[;alt]", v);
    return rc;
}

static sb_err put_fields(sb_lp_buf *b, sb_metric_type type, const char *v, sb_errmsg *em)
{
    double d;
    long long i;
    int bit;
    switch (type) {
    case SB_METRIC_GAUGE:
    case SB_METRIC_GAUGE_FLOAT:
        if (!parse_double(v, &d))
            return sb_fail(em, SB_ERR_INVALID, "%s value '%.64s' is not a number",
                           sb_metric_type_name(type), v);
        return sb_lp_buf_append(b, "value=", 6) ?: put_double(b, d);
    case SB_METRIC_COUNTER:
        if (!parse_int(v, &i))
            return sb_fail(em, SB_ERR_INVALID, "counter value '%.64s' is not an integer", v);
        return sb_lp_buf_printf(b, "value=%lldi", i);
    case SB_METRIC_BINARY:
        if (!parse_bool(v, &bit))
            return sb_fail(em, SB_ERR_INVALID, "binary value '%.64s' is not 0/1/true/false", v);
        return sb_lp_buf_printf(b, "value=%di", bit);
    case SB_METRIC_STRING:
        return sb_lp_buf_append(b, "value=", 6) ?: put_string(b, v);
    case SB_METRIC_GEO:
        return put_geo(b, v, em);
    default:
        return sb_fail(em, SB_ERR_INVALID, "metric type %d is not written", (int)type);
    }
}

sb_err sb_lp_encode(const sb_metric_point *p, sb_lp_buf *out, sb_errmsg *em)
{
    if (!p || p->type == SB_METRIC_NONE || !p->value)
        return sb_fail(em, SB_ERR_INVALID, "point without a value or with metric type none");
    size_t mark = out->len;
    sb_err rc = put_escaped(out, sb_metric_type_name(p->type), ", ");
    if (rc == SB_OK)
        rc = put_tag(out, "field", p->field_id);
    if (rc == SB_OK)
        rc = put_tag(out, "gateway", p->gateway_id);
    if (rc == SB_OK)
        rc = put_tag(out, "node", p->node_id);
    if (rc == SB_OK)
        rc = put_tag(out, "source", p->source_id);
    if (rc == SB_OK)
        rc = sb_lp_buf_append(out, " ", 1);
    if (rc == SB_OK)
        rc = put_fields(out, p->type, p->value, em);
    if (rc == SB_OK)
        rc = sb_lp_buf_printf(out, " %lld\n", (long long)p->timestamp_ms);
    if (rc != SB_OK) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}

size_t sb_lp_count_lines(const char *buf, size_t len, size_t *complete)
{
    /* Encoded lines never hold a '\n' inside (see put_escaped and put_string). */
    size_t n = 0, end = 0;
    for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p++) {
        n++;
        end = (size_t)(p - buf) + 1;
    }
    if (complete)
        *complete = end;
    return n;
}
