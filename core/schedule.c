/*
 * schedule.c - next run of a schedule spec (contract in schedule.h): one function per type,
 * the validity window applied around them.
 */
#include "core/schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cron.h"
#include "core/json.h"
#include "core/sun.h"
#include "core/time.h"
#include "core/tz.h"

#define DAY 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* "HH:MM" or "HH:MM:SS" into seconds of the day. */
static bool parse_tod(const char *s, int *secs)
{
    int h, m, sec = 0, n = 0;
    if (!s || (sscanf(s, "%2d:%2d%n:%2d%n", &h, &m, &n, &sec, &n) < 2) || s[n] != '\0')
        return false;
    if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return false;
    *secs = h * 3600 + m * 60 + sec;
    return true;
}

/* "YYYY-MM-DD" into civil seconds of its midnight. */
static bool parse_date(const char *s, int64_t *civil)
{
    int y, m, d, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return false;
    *civil = sb_tz_civil(y, m, d, 0, 0, 0);
    struct tm tm;
    sb_tz_civil_fields(*civil, &tm);
    return tm.tm_mday == d; /* refuses 2026-02-30 */
}

/* "-30m", "15m", "1h30m" or a number of ms. */
static bool parse_offset(const cJSON *item, int64_t *ms)
{
    *ms = 0;
    if (!item)
        return true;
    if (cJSON_IsNumber(item)) { /* within +-1e15 ms (31,000 years): no overflow later */
        if (!(item->valuedouble >= -1e15 && item->valuedouble <= 1e15))
            return false;
        *ms = (int64_t)item->valuedouble;
        return true;
    }
    if (!cJSON_IsString(item))
        return false;
    const char *s = item->valuestring;
    bool neg = *s == '-';
    if (sb_duration_parse(s + (neg || *s == '+'), ms) != SB_OK)
        return false;
    if (neg)
        *ms = -*ms;
    return true;
}

/* Under the zone lock: the instant of a wall time, with cron's DST rules (gap: the end of the
 * gap; repeated: the first). */
static int64_t wall_instant(int64_t wall)
{
    int64_t at[2];
    if (sb_tz_instants(wall, at) > 0)
        return at[0];
    long before = sb_tz_offset(wall - DAY), after = sb_tz_offset(wall + DAY);
    return sb_tz_transition(wall - after, wall - before);
}

static sb_err wall_to_ms(const char *tz, int64_t wall, int64_t *ms, sb_errmsg *em)
{
    sb_err err = sb_tz_enter(tz, em);
    if (err)
        return err;
    *ms = wall_instant(wall) * 1000;
    sb_tz_leave();
    return SB_OK;
}

static sb_err next_repeat(const cJSON *spec, int64_t after, const sb_sched_ctx *ctx, int64_t *when,
                          sb_errmsg *em)
{
    int64_t iv, start = 0;
    const cJSON *interval = cJSON_GetObjectItemCaseSensitive(spec, "interval");
    if (!parse_offset(interval, &iv) || !interval || iv < 1000)
        return sb_fail(em, SB_ERR_INVALID, "schedule 'interval': want a duration of 1s or more");
    const char *start_text = sb_json_str(spec, "start", NULL);
    if (start_text && sb_time_parse(start_text, &start) != SB_OK)
        return sb_fail(em, SB_ERR_INVALID, "schedule 'start': bad time '%s'", start_text);
    double count = sb_json_num(spec, "count", 0);
    if (count < 0)
        return sb_fail(em, SB_ERR_INVALID, "schedule 'count': must not be negative");
    int64_t k = 0;
    if (start_text) {
        k = after < start ? 0 : floor_div(after - start, iv) + 1;
        *when = start + k * iv;
    } else {
        k = ctx->runs_done;
        *when = after + iv;
    }
    if (count > 0 && (double)k >= count)
        return sb_fail(em, SB_ERR_NOTFOUND, "schedule: all %.0f runs done", count);
    return SB_OK;
}

static sb_err next_cron(const char *expr, int64_t after, const sb_sched_ctx *ctx, int64_t *when,
                        sb_errmsg *em)
{
    sb_cron c;
    sb_err err = sb_cron_parse(expr, &c, em);
    if (err)
        return sb_fail_wrap(em, SB_ERR_INVALID, "schedule 'expression'");
    return sb_cron_next(&c, after, ctx->tz, when, em);
}

static sb_err weekly_cron(const cJSON *days, int tod, char *expr, size_t len, sb_errmsg *em)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char list[64] = "";
    const cJSON *d;
    cJSON_ArrayForEach(d, days)
    {
        int v = -1;
        for (int i = 0; i < 7 && cJSON_IsString(d); i++)
            if (strncasecmp(d->valuestring, names[i], 3) == 0)
                v = i;
        if (cJSON_IsNumber(d) && d->valuedouble >= 0 && d->valuedouble <= 7)
            v = (int)d->valuedouble % 7;
        if (v < 0)
            return sb_fail(em, SB_ERR_INVALID, "schedule 'weekdays': bad day (want mon..sun)");
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", list[0] ? "," : "", v);
    }
    if (!list[0])
        return sb_fail(em, SB_ERR_INVALID, "schedule 'weekdays': want a non-empty list");
    snprintf(expr, len, "%d %d %d * * %s", tod % 60, tod / 60 % 60, tod / 3600, list);
    return SB_OK;
}

static sb_err next_monthly(int day, int tod, int64_t after, const sb_sched_ctx *ctx, int64_t *when,
                           sb_errmsg *em)
{
    int64_t wall;
    sb_err err = sb_tz_wall(ctx->tz, floor_div(after, 1000), &wall, em);
    if (err)
        return err;
    struct tm tm;
    sb_tz_civil_fields(wall, &tm);
    for (int k = 0; k < 3; k++) {
        int y = tm.tm_year + 1900, m = tm.tm_mon + 1 + k;
        struct tm last;
        sb_tz_civil_fields(sb_tz_civil(y, m + 1, 0, 0, 0, 0), &last); /* day 0 = last of m */
        int d = day < last.tm_mday ? day : last.tm_mday;
        if ((err = wall_to_ms(ctx->tz, sb_tz_civil(y, m, d, 0, 0, tod), when, em)))
            return err;
        if (*when > after)
            return SB_OK;
    }
    return sb_fail(em, SB_ERR_INTERNAL, "schedule: no monthly run found");
}

static sb_err next_simple(const cJSON *spec, int64_t after, const sb_sched_ctx *ctx, int64_t *when,
                          sb_errmsg *em)
{
    const char *freq = sb_json_str(spec, "frequency", "");
    const char *time_text = sb_json_str(spec, "time", NULL);
    int tod;
    char expr[128];
    if (!parse_tod(time_text, &tod))
        return sb_fail(em, SB_ERR_INVALID, "schedule 'time': want HH:MM or HH:MM:SS, got '%s'",
                       time_text ? time_text : "nothing");
    if (strcmp(freq, "daily") == 0) {
        snprintf(expr, sizeof(expr), "%d %d %d * * *", tod % 60, tod / 60 % 60, tod / 3600);
        return next_cron(expr, after, ctx, when, em);
    }
    if (strcmp(freq, "weekly") == 0) {
        sb_err err = weekly_cron(cJSON_GetObjectItemCaseSensitive(spec, "weekdays"), tod, expr,
                                 sizeof(expr), em);
        return err ? err : next_cron(expr, after, ctx, when, em);
    }
    if (strcmp(freq, "monthly") == 0) {
        double day = sb_json_num(spec, "day", 0);
        if (day < 1 || day > 31 || day != (int)day)
            return sb_fail(em, SB_ERR_INVALID, "schedule 'day': want a day of the month 1-31");
        return next_monthly((int)day, tod, after, ctx, when, em);
    }
    if (strcmp(freq, "on_date") == 0) {
        const char *date = sb_json_str(spec, "date", NULL);
        int64_t civil;
        if (!parse_date(date, &civil))
            return sb_fail(em, SB_ERR_INVALID, "schedule 'date': want YYYY-MM-DD, got '%s'",
                           date ? date : "nothing");
        sb_err err = wall_to_ms(ctx->tz, civil + tod, when, em);
        if (!err && *when <= after)
            return sb_fail(em, SB_ERR_NOTFOUND, "schedule: the date %s has passed", date);
        return err;
    }
    return sb_fail(em, SB_ERR_INVALID,
                   "schedule 'frequency': want daily, weekly, monthly or on_date, got '%s'", freq);
}

static sb_err next_sun(bool rise, const cJSON *spec, int64_t after, const sb_sched_ctx *ctx,
                       int64_t *when, sb_errmsg *em)
{
    int64_t offset, wall;
    if (!ctx->has_location)
        return sb_fail(em, SB_ERR_INVALID, "schedule '%s': no location configured",
                       rise ? "sunrise" : "sunset");
    if (!parse_offset(cJSON_GetObjectItemCaseSensitive(spec, "offset"), &offset))
        return sb_fail(em, SB_ERR_INVALID, "schedule 'offset': want a duration like -30m or 1h");
    sb_err err = sb_tz_wall(ctx->tz, floor_div(after - offset, 1000) - DAY, &wall, em);
    if (err)
        return err;
    struct tm tm;
    sb_tz_civil_fields(wall, &tm);
    for (int k = 0; k < 400; k++) { /* past a polar night at most */
        sb_sun_day d;
        err = sb_sun_day_get(ctx->latitude, ctx->longitude, tm.tm_year + 1900, tm.tm_mon + 1,
                             tm.tm_mday + k, ctx->tz, SB_SUN_OFFICIAL, &d, em);
        if (err)
            return err;
        bool has = rise ? d.has_rise : d.has_set;
        int64_t t = (rise ? d.rise_ms : d.set_ms) + offset;
        if (has && t > after) {
            *when = t;
            return SB_OK;
        }
    }
    return sb_fail(em, SB_ERR_NOTFOUND, "schedule: no %s within a year at this location",
                   rise ? "sunrise" : "sunset");
}

static sb_err next_base(const cJSON *spec, int64_t after, const sb_sched_ctx *ctx, int64_t *when,
                        sb_errmsg *em)
{
    const char *type = sb_json_str(spec, "type", "");
    if (strcmp(type, "repeat") == 0)
        return next_repeat(spec, after, ctx, when, em);
    if (strcmp(type, "cron") == 0) {
        const char *expr = sb_json_str(spec, "expression", NULL);
        if (!expr)
            return sb_fail(em, SB_ERR_INVALID, "schedule 'expression': missing");
        return next_cron(expr, after, ctx, when, em);
    }
    if (strcmp(type, "simple") == 0)
        return next_simple(spec, after, ctx, when, em);
    if (strcmp(type, "sunrise") == 0 || strcmp(type, "sunset") == 0)
        return next_sun(type[3] == 'r', spec, after, ctx, when, em);
    return sb_fail(em, SB_ERR_INVALID,
                   "schedule 'type': want repeat, cron, simple, sunrise or sunset, got '%s'", type);
}

/* The validity window, in civil seconds: dates [from, to + 1 day), daily range [tfrom, tto). */
typedef struct window {
    bool has_from, has_to, has_time;
    int64_t from, to;
    int tfrom, tto;
} window;

static sb_err parse_window(const cJSON *v, window *w, sb_errmsg *em)
{
    memset(w, 0, sizeof(*w));
    if (!v)
        return SB_OK;
    const char *from = sb_json_str(v, "from", NULL), *to = sb_json_str(v, "to", NULL);
    if ((w->has_from = from != NULL) && !parse_date(from, &w->from))
        return sb_fail(em, SB_ERR_INVALID, "schedule 'validity.from': want YYYY-MM-DD");
    if ((w->has_to = to != NULL) && !parse_date(to, &w->to))
        return sb_fail(em, SB_ERR_INVALID, "schedule 'validity.to': want YYYY-MM-DD");
    w->to += DAY;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "time");
    if ((w->has_time = t != NULL) && (!parse_tod(sb_json_str(t, "from", NULL), &w->tfrom) ||
                                      !parse_tod(sb_json_str(t, "to", NULL), &w->tto)))
        return sb_fail(em, SB_ERR_INVALID, "schedule 'validity.time': want from and to as HH:MM");
    return SB_OK;
}

static bool in_range(const window *w, int tod)
{
    if (w->tfrom <= w->tto)
        return tod >= w->tfrom && tod < w->tto;
    return tod >= w->tfrom || tod < w->tto;
}

/* Checks t (ms) against the window: SB_OK and *retry = false when inside; else *retry with
 * *after moved to just before the window opens, or SB_ERR_NOTFOUND when it never does. */
static sb_err check_window(const window *w, const char *tz, int64_t t, int64_t *after, bool *retry,
                           sb_errmsg *em)
{
    int64_t wall;
    sb_err err = sb_tz_wall(tz, floor_div(t, 1000), &wall, em);
    if (err)
        return err;
    int64_t day = floor_div(wall, DAY) * DAY;
    int tod = (int)(wall - day), open_at;
    *retry = true;
    if (w->has_to && wall >= w->to)
        return sb_fail(em, SB_ERR_NOTFOUND, "schedule: the validity period has ended");
    if (w->has_from && wall < w->from) {
        open_at = w->has_time ? w->tfrom : 0;
        day = w->from;
    } else if (w->has_time && !in_range(w, tod)) {
        open_at = w->tfrom;
        day += tod >= w->tfrom ? DAY : 0;
    } else {
        *retry = false;
        return SB_OK;
    }
    if ((err = wall_to_ms(tz, day + open_at, &t, em)))
        return err;
    *after = t - 1;
    return SB_OK;
}

sb_err sb_sched_next(const cJSON *spec, int64_t after_ms, const sb_sched_ctx *ctx, int64_t *when_ms,
                     sb_errmsg *em)
{
    static const sb_sched_ctx none = {0};
    window w;
    if (!cJSON_IsObject(spec))
        return sb_fail(em, SB_ERR_INVALID, "schedule: the spec must be a JSON object");
    ctx = ctx ? ctx : &none;
    sb_err err = parse_window(cJSON_GetObjectItemCaseSensitive(spec, "validity"), &w, em);
    for (int guard = 0; !err && guard < 1000; guard++) {
        int64_t t;
        bool retry;
        if ((err = next_base(spec, after_ms, ctx, &t, em)))
            return err;
        if ((err = check_window(&w, ctx->tz, t, &after_ms, &retry, em)))
            return err;
        if (!retry) {
            *when_ms = t;
            return SB_OK;
        }
    }
    return err ? err : sb_fail(em, SB_ERR_NOTFOUND, "schedule: no run inside the validity window");
}

sb_err sb_sched_preview(const cJSON *spec, int64_t after_ms, const sb_sched_ctx *ctx, int n,
                        int64_t *out, int *got, sb_errmsg *em)
{
    sb_sched_ctx c = ctx ? *ctx : (sb_sched_ctx){0};
    *got = 0;
    if (n < 0 || n > SB_SCHED_PREVIEW_MAX)
        return sb_fail(em, SB_ERR_INVALID, "schedule preview: n must be 0-%d",
                       SB_SCHED_PREVIEW_MAX);
    for (int i = 0; i < n; i++) {
        sb_err err = sb_sched_next(spec, after_ms, &c, &out[i], em);
        if (err == SB_ERR_NOTFOUND)
            break;
        if (err)
            return err;
        after_ms = out[i];
        c.runs_done++;
        (*got)++;
    }
    return SB_OK;
}
