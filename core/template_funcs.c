/*
 * template_funcs.c - template values and functions (format, fixed, default, ternary, toJson,
 * upper, lower) and the built-in operands now, sunrise and sunset.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/sun.h"
#include "core/template_internal.h"
#include "core/time.h"
#include "core/tz.h"

void tv_free(tv *v)
{
    if (v->own)
        free(v->s);
    memset(v, 0, sizeof(*v));
}

tv tv_str_copy(const char *s, size_t len)
{
    tv v = {.kind = TV_STR, .own = true};
    v.s = malloc(len + 1);
    if (!v.s)
        return (tv){.kind = TV_MISSING};
    memcpy(v.s, s, len);
    v.s[len] = '\0';
    return v;
}

tv tv_str_take(char *s)
{
    if (!s)
        return (tv){.kind = TV_MISSING};
    return (tv){.kind = TV_STR, .own = true, .s = s};
}

static char *num_text(double n)
{
    char buf[40];
    if (!isfinite(n))
        return strdup(isnan(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity");
    for (int prec = 1; prec <= 17; prec++) { /* the shortest text that reads back exactly */
        snprintf(buf, sizeof(buf), "%.*g", prec, n);
        if (strtod(buf, NULL) == n)
            break;
    }
    return strdup(buf);
}

char *tv_text(const tv *v, bool *owned)
{
    *owned = true;
    switch (v->kind) {
    case TV_MISSING:
    case TV_NULL:
        return NULL;
    case TV_BOOL:
        *owned = false;
        return (char *)(v->b ? "true" : "false");
    case TV_NUM:
        return num_text(v->n);
    case TV_STR:
        *owned = false;
        return v->s;
    case TV_TIME: {
        char *buf = malloc(SB_TIME_RFC3339_LEN);
        if (buf)
            sb_time_format(v->t, buf, SB_TIME_RFC3339_LEN);
        return buf;
    }
    case TV_JSON:
        if (cJSON_IsString(v->j)) {
            *owned = false;
            return v->j->valuestring;
        }
        if (cJSON_IsNull(v->j))
            return NULL;
        if (cJSON_IsNumber(v->j))
            return num_text(v->j->valuedouble);
        return sb_json_print(v->j);
    }
    return NULL;
}

bool tv_truthy(const tv *v)
{
    switch (v->kind) {
    case TV_BOOL:
        return v->b;
    case TV_NUM:
        return v->n != 0;
    case TV_STR:
        return v->s[0] != '\0';
    case TV_TIME:
        return true;
    case TV_JSON:
        if (cJSON_IsBool(v->j))
            return cJSON_IsTrue(v->j);
        if (cJSON_IsNumber(v->j))
            return v->j->valuedouble != 0;
        if (cJSON_IsString(v->j))
            return v->j->valuestring[0] != '\0';
        if (cJSON_IsArray(v->j) || cJSON_IsObject(v->j))
            return v->j->child != NULL;
        return false;
    default:
        return false;
    }
}

void tmpl_warn(tctx *c, size_t offset, const char *fmt, ...)
{
    if (!c->warnings || cJSON_GetArraySize(c->warnings) >= SB_TMPL_MAX_WARNINGS)
        return;
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "offset %zu: ", offset);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(c->warnings, cJSON_CreateString(msg));
}

/* A number from a number, numeric text or boolean. */
static bool as_number(const tv *v, double *n)
{
    bool owned;
    if (v->kind == TV_NUM || (v->kind == TV_JSON && cJSON_IsNumber(v->j))) {
        *n = v->kind == TV_NUM ? v->n : v->j->valuedouble;
        return true;
    }
    if (v->kind != TV_STR && !(v->kind == TV_JSON && cJSON_IsString(v->j)))
        return false;
    char *s = tv_text(v, &owned), *end;
    while (isspace((unsigned char)*s))
        s++;
    *n = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    return end != s && *end == '\0';
}

static bool as_time(const tv *v, int64_t *ms)
{
    double n;
    if (v->kind == TV_TIME) {
        *ms = v->t;
        return true;
    }
    if ((v->kind == TV_NUM || (v->kind == TV_JSON && cJSON_IsNumber(v->j))) && as_number(v, &n) &&
        fabs(n) < 1e15) {
        *ms = (int64_t)n;
        return true;
    }
    bool owned;
    if (v->kind != TV_STR && !(v->kind == TV_JSON && cJSON_IsString(v->j)))
        return false;
    return sb_time_parse(tv_text(v, &owned), ms) == SB_OK;
}

static const char *arg_str(const tv *a)
{
    if (a->kind == TV_STR)
        return a->s;
    if (a->kind == TV_JSON && cJSON_IsString(a->j))
        return a->j->valuestring;
    return NULL;
}

static void fn_format(tctx *c, size_t off, tv *in, tv *args)
{
    int64_t ms;
    const char *fmt = arg_str(&args[0]);
    const char *zone = args[1].kind == TV_MISSING ? c->opts.tz : arg_str(&args[1]);
    if (in->kind == TV_MISSING)
        return;
    bool ok = as_time(in, &ms);
    tv_free(in);
    if (!ok || !fmt || (!zone && args[1].kind != TV_MISSING)) {
        tmpl_warn(c, off, "format: %s", ok ? "format and zone must be strings" : "not a time");
        return;
    }
    char buf[512];
    struct tm tm;
    sb_errmsg em = {{0}};
    if (sb_tz_enter(zone, &em) != SB_OK) {
        tmpl_warn(c, off, "format: %s", em.text);
        return;
    }
    sb_tz_local(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(buf, sizeof(buf), fmt, &tm);
#pragma GCC diagnostic pop
    sb_tz_leave();
    if (n == 0 && fmt[0])
        tmpl_warn(c, off, "format: result longer than %zu bytes", sizeof(buf) - 1);
    else
        *in = tv_str_copy(buf, n);
}

static void fn_fixed(tctx *c, size_t off, tv *in, tv *args)
{
    double n, d;
    if (in->kind == TV_MISSING)
        return;
    if (!as_number(in, &n) || !as_number(&args[0], &d) || d < 0 || d > 10) {
        tmpl_warn(c, off, "fixed: needs a number and 0-10 decimals");
        tv_free(in);
        return;
    }
    char buf[400];
    snprintf(buf, sizeof(buf), "%.*f", (int)d, n);
    tv_free(in);
    *in = tv_str_copy(buf, strlen(buf));
}

static void fn_default(tctx *c, size_t off, tv *in, tv *args)
{
    bool owned;
    char *text = tv_text(in, &owned);
    bool empty = !text || !text[0];
    if (owned)
        free(text);
    if (!empty)
        return;
    tv_free(in);
    *in = args[0];
    memset(&args[0], 0, sizeof(args[0])); /* moved */
}

static void fn_ternary(tctx *c, size_t off, tv *in, tv *args)
{
    int pick = tv_truthy(in) ? 0 : 1;
    tv_free(in);
    *in = args[pick];
    memset(&args[pick], 0, sizeof(args[pick]));
}

static void fn_tojson(tctx *c, size_t off, tv *in, tv *args)
{
    cJSON *item = NULL;
    char *text = NULL;
    bool owned;
    switch (in->kind) {
    case TV_MISSING:
    case TV_NULL:
        item = cJSON_CreateNull();
        break;
    case TV_BOOL:
        item = cJSON_CreateBool(in->b);
        break;
    case TV_NUM:
        item = cJSON_CreateNumber(in->n);
        break;
    case TV_STR:
    case TV_TIME:
        text = tv_text(in, &owned);
        item = cJSON_CreateString(text ? text : "");
        if (owned)
            free(text);
        break;
    case TV_JSON:
        text = sb_json_print(in->j);
        break;
    }
    if (item) {
        text = sb_json_print(item);
        cJSON_Delete(item);
    }
    tv_free(in);
    *in = tv_str_take(text);
}

static void change_case(tv *in, int (*conv)(int))
{
    bool owned;
    char *text = tv_text(in, &owned);
    if (!text)
        return;
    tv out = tv_str_copy(text, strlen(text));
    if (owned)
        free(text);
    for (char *p = out.s; p && *p; p++)
        *p = (char)conv((unsigned char)*p);
    tv_free(in);
    *in = out;
}

static void fn_upper(tctx *c, size_t off, tv *in, tv *args)
{
    change_case(in, toupper);
}

static void fn_lower(tctx *c, size_t off, tv *in, tv *args)
{
    change_case(in, tolower);
}

static const tfunc_def funcs[] = {
    {"format", 1, 2, fn_format},   {"fixed", 1, 1, fn_fixed},   {"default", 1, 1, fn_default},
    {"ternary", 2, 2, fn_ternary}, {"toJson", 0, 0, fn_tojson}, {"upper", 0, 0, fn_upper},
    {"lower", 0, 0, fn_lower},
};

const tfunc_def *tmpl_func_find(const char *name, size_t len)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(funcs); i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return &funcs[i];
    return NULL;
}

static tv sun_event(tctx *c, size_t off, bool rise)
{
    const char *what = rise ? "sunrise" : "sunset";
    if (!c->opts.has_location) {
        tmpl_warn(c, off, "%s: no location configured", what);
        return (tv){.kind = TV_NULL};
    }
    int64_t wall;
    sb_errmsg em = {{0}};
    sb_sun_day day;
    struct tm tm;
    if (sb_tz_wall(c->opts.tz, c->opts.now_ms / 1000, &wall, &em) != SB_OK)
        goto fail;
    sb_tz_civil_fields(wall, &tm);
    if (sb_sun_day_get(c->opts.latitude, c->opts.longitude, tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, c->opts.tz, SB_SUN_OFFICIAL, &day, &em) != SB_OK)
        goto fail;
    if (rise ? !day.has_rise : !day.has_set) {
        tmpl_warn(c, off, "%s: none today (%s)", what,
                  day.state == SB_SUN_POLAR_DAY     ? "polar day"
                  : day.state == SB_SUN_POLAR_NIGHT ? "polar night"
                                                    : "the sun crosses the horizon once");
        return (tv){.kind = TV_NULL};
    }
    return (tv){.kind = TV_TIME, .t = rise ? day.rise_ms : day.set_ms};
fail:
    tmpl_warn(c, off, "%s: %s", what, em.text);
    return (tv){.kind = TV_NULL};
}

tv tmpl_builtin(tctx *c, size_t offset, const char *name)
{
    if (strcmp(name, "now") == 0)
        return (tv){.kind = TV_TIME, .t = c->opts.now_ms};
    return sun_event(c, offset, strcmp(name, "sunrise") == 0);
}
