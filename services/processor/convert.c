/*
 * convert.c - a value's wire text to the stored value of its field's metric type, strictly.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "processor.h"

/* A decimal number with nothing around it: no spaces, hex, inf or nan. */
static bool strict_number(const char *text, double *out)
{
    if (!*text || isspace((unsigned char)*text))
        return false;
    for (const char *c = text; *c; c++) {
        if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
            return false;
    }
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (*end || end == text || errno == ERANGE || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static sb_err to_binary(const char *text, cJSON **out, char *mt, size_t len, sb_errmsg *em)
{
    static const char *const yes[] = {"true", "on", "1", "yes"};
    static const char *const no[] = {"false", "off", "0", "no"};
    for (size_t i = 0; i < SB_ARRAY_LEN(yes); i++) {
        bool v = strcasecmp(text, yes[i]) == 0;
        if (v || strcasecmp(text, no[i]) == 0) {
            *out = cJSON_CreateBool(v);
            snprintf(mt, len, "%s", v ? "true" : "false");
            return *out ? SB_OK : SB_ERR_NOMEM;
        }
    }
    return sb_fail(em, SB_ERR_INVALID, "expected true/false, on/off, 1/0 or yes/no");
}

static sb_err to_number(sb_metric_type t, const char *text, cJSON **out, char *mt, size_t len,
                        sb_errmsg *em)
{
    double d;
    if (!strict_number(text, &d))
        return sb_fail(em, SB_ERR_INVALID, "expected a decimal number");
    if (t == SB_METRIC_COUNTER) {
        if (d < 0 || d > 9007199254740992.0 || d != floor(d) || strpbrk(text, ".eE"))
            return sb_fail(em, SB_ERR_INVALID, "expected an integer >= 0 for a counter");
        snprintf(mt, len, "%.0f", d);
    } else if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(mt, len, "%.0f", d); /* integral: no exponent */
    } else {
        snprintf(mt, len, "%.17g", d);
        /* shortest text that reads back to the same double */
        for (int prec = 1; prec <= 17; prec++) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%.*g", prec, d);
            if (strtod(buf, NULL) == d) {
                snprintf(mt, len, "%s", buf);
                break;
            }
        }
    }
    *out = cJSON_CreateNumber(d);
    return *out ? SB_OK : SB_ERR_NOMEM;
}

static sb_err to_geo(const char *text, cJSON **out, char *mt, size_t len, sb_errmsg *em)
{
    double v[3] = {0, 0, 0};
    int n = 0;
    char buf[128];
    if (strlen(text) >= sizeof(buf))
        return sb_fail(em, SB_ERR_INVALID, "expected latitude;longitude[;altitude]");
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        if (n == 3 || !strict_number(tok, &v[n]))
            return sb_fail(em, SB_ERR_INVALID, "expected latitude;longitude[;altitude]");
        n++;
    }
    if (n < 2 || fabs(v[0]) > 90 || fabs(v[1]) > 180)
        return sb_fail(em, SB_ERR_INVALID,
                       "expected latitude (-90..90);longitude (-180..180)[;altitude]");
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "latitude", v[0]) ||
        !cJSON_AddNumberToObject(o, "longitude", v[1]) ||
        !cJSON_AddNumberToObject(o, "altitude", v[2])) {
        cJSON_Delete(o);
        return SB_ERR_NOMEM;
    }
    snprintf(mt, len, "%.9g;%.9g;%.9g", v[0], v[1], v[2]);
    *out = o;
    return SB_OK;
}

sb_err sb_proc_convert(sb_metric_type t, const char *text, cJSON **out, char *metric_text,
                       size_t len, sb_errmsg *em)
{
    *out = NULL;
    if (!text)
        return sb_fail(em, SB_ERR_INVALID, "no value");
    switch (t) {
    case SB_METRIC_BINARY:
        return to_binary(text, out, metric_text, len, em);
    case SB_METRIC_GAUGE:
    case SB_METRIC_GAUGE_FLOAT:
    case SB_METRIC_COUNTER:
        return to_number(t, text, out, metric_text, len, em);
    case SB_METRIC_GEO:
        return to_geo(text, out, metric_text, len, em);
    case SB_METRIC_NONE:
    case SB_METRIC_STRING:
    default:
        /* metric_text is for short values; a string's metric text is the value itself */
        snprintf(metric_text, len, "%s", text);
        *out = cJSON_CreateString(text);
        return *out ? SB_OK : SB_ERR_NOMEM;
    }
}
