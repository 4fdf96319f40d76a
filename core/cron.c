/*
 * cron.c - cron parsing (six fields, names, macros) and the next fire time with the DST rules
 * stated in cron.h. The search runs on zone-free civil seconds; core/tz.c maps the wall-clock
 * answer back to instants.
 */
#include "core/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/time.h"
#include "core/tz.h"

typedef struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i, or NULL */
    bool day;                 /* accepts '?' */
} field_def;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const field_def fields[6] = {
    {"seconds", 0, 59, NULL, false},      {"minutes", 0, 59, NULL, false},
    {"hours", 0, 23, NULL, false},        {"day-of-month", 1, 31, NULL, true},
    {"month", 1, 12, month_names, false}, {"day-of-week", 0, 7, day_names, true},
};

static const struct {
    const char *name;
    const char *expr;
} macros[] = {
    {"@yearly", "0 0 0 1 1 *"}, {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
    {"@weekly", "0 0 0 * * 0"}, {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
    {"@hourly", "0 0 * * * *"},
};

static sb_err bad(sb_errmsg *em, const field_def *f, const char *tok, size_t len, const char *why)
{
    return sb_fail(em, SB_ERR_PARSE, "cron field '%s': bad token '%.*s': %s", f->name, (int)len,
                   tok, why);
}

/* One number or name at *p; advances *p. -1 when there is none. */
static int value(const field_def *f, const char **p, const char *end)
{
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        long v = 0;
        while (s < end && isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        if (s < end && isdigit((unsigned char)*s))
            return -2; /* absurdly long number */
        *p = s;
        return (int)v;
    }
    for (int i = 0; f->names && f->names[i]; i++) {
        if (end - s >= 3 && strncasecmp(s, f->names[i], 3) == 0 &&
            (end - s == 3 || !isalpha((unsigned char)s[3]))) {
            *p = s + 3;
            return f->lo + i;
        }
    }
    return -1;
}

/* One list item [start, end) into *bits. */
static sb_err item(const field_def *f, const char *tok, const char *end, uint64_t *bits,
                   sb_errmsg *em)
{
    size_t len = (size_t)(end - tok);
    const char *p = tok;
    int lo = f->lo, hi = f->hi, step = 1;
    bool star = false;
    if (p < end && (*p == '*' || *p == '?')) {
        if (*p == '?' && !f->day)
            return bad(em, f, tok, len, "'?' is only allowed in day-of-month and day-of-week");
        star = true;
        p++;
    } else {
        lo = value(f, &p, end);
        if (lo < 0)
            return bad(em, f, tok, len, "expected a number, a name, '*' or '?'");
        hi = lo;
        if (p < end && *p == '-') {
            p++;
            hi = value(f, &p, end);
            if (hi < 0)
                return bad(em, f, tok, len, "expected a number or name after '-'");
        }
    }
    if (p < end && *p == '/') {
        p++;
        step = value(f, &p, end);
        if (step <= 0)
            return bad(em, f, tok, len, "the step after '/' must be a positive number");
        if (!star && hi == lo)
            hi = f->hi; /* "N/S": from N to the end */
    }
    if (p != end)
        return bad(em, f, tok, len, "unexpected characters");
    if (lo < f->lo || hi > f->hi) {
        char why[64];
        snprintf(why, sizeof(why), "value out of range %d-%d", f->lo, f->hi);
        return bad(em, f, tok, len, why);
    }
    if (lo > hi)
        return bad(em, f, tok, len, "range start is after its end");
    for (int v = lo; v <= hi; v += step)
        *bits |= 1ULL << v;
    return SB_OK;
}

static sb_err field(const field_def *f, const char *tok, size_t len, uint64_t *bits, bool *any,
                    sb_errmsg *em)
{
    *bits = 0;
    *any = len == 1 && (tok[0] == '*' || tok[0] == '?');
    const char *end = tok + len;
    while (tok <= end) {
        const char *comma = memchr(tok, ',', (size_t)(end - tok));
        const char *stop = comma ? comma : end;
        if (stop == tok)
            return bad(em, f, tok, 0, "empty list item");
        sb_err err = item(f, tok, stop, bits, em);
        if (err)
            return err;
        tok = stop + 1;
    }
    return SB_OK;
}

/* Feb 30 and friends: a day-of-month set that no selected month has. */
static bool days_possible(const sb_cron *c)
{
    static const int mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!c->wday_any && !c->mday_any)
        return true;
    for (int m = 1; m <= 12; m++)
        if ((c->mon >> m & 1) && (c->mday & ((2ULL << mdays[m]) - 2)))
            return true;
    return false;
}

static sb_err parse_macro(const char *expr, sb_cron *out, sb_errmsg *em)
{
    if (strncmp(expr, "@every", 6) == 0 && (expr[6] == ' ' || expr[6] == '\t')) {
        const char *d = expr + 6;
        while (*d == ' ' || *d == '\t')
            d++;
        int64_t ms = 0;
        if (sb_duration_parse(d, &ms) != SB_OK || ms < 1000)
            return sb_fail(em, SB_ERR_PARSE,
                           "cron @every: bad duration '%s' (want e.g. 90s, 5m, 1h30m; >= 1s)", d);
        memset(out, 0, sizeof(*out));
        out->every_ms = ms;
        return SB_OK;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(macros); i++)
        if (strcmp(expr, macros[i].name) == 0)
            return sb_cron_parse(macros[i].expr, out, em);
    return sb_fail(em, SB_ERR_PARSE, "cron: unknown macro '%s'", expr);
}

sb_err sb_cron_parse(const char *expr, sb_cron *out, sb_errmsg *em)
{
    if (!expr || !out)
        return sb_fail(em, SB_ERR_INVALID, "cron: no expression");
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@')
        return parse_macro(expr, out, em);
    const char *tok[7];
    size_t len[7];
    int n = 0;
    for (const char *p = expr; *p;) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *s = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (n < 7) {
            tok[n] = s;
            len[n] = (size_t)(p - s);
        }
        n++;
    }
    if (n != 6)
        return sb_fail(em, SB_ERR_PARSE,
                       "cron: expected 6 fields (seconds minutes hours day-of-month month "
                       "day-of-week), got %d",
                       n);
    uint64_t bits[6];
    bool any[6];
    for (int i = 0; i < 6; i++) {
        sb_err err = field(&fields[i], tok[i], len[i], &bits[i], &any[i], em);
        if (err)
            return err;
    }
    sb_cron c = {.sec = bits[0],
                 .min = bits[1],
                 .hour = (uint32_t)bits[2],
                 .mday = (uint32_t)bits[3],
                 .mon = (uint16_t)bits[4],
                 .wday = (uint8_t)((bits[5] | bits[5] >> 7) & 0x7f),
                 .mday_any = any[3],
                 .wday_any = any[5]};
    if (!days_possible(&c))
        return sb_fail(em, SB_ERR_PARSE,
                       "cron field 'day-of-month': bad token '%.*s': no selected month has it",
                       (int)len[3], tok[3]);
    *out = c;
    return SB_OK;
}

static bool day_matches(const sb_cron *c, const struct tm *tm)
{
    bool md = c->mday >> tm->tm_mday & 1, wd = c->wday >> tm->tm_wday & 1;
    if (c->mday_any || c->wday_any)
        return md && wd;
    return md || wd;
}

/* The first civil second >= wall matching c; false when none within 10 years. */
static bool next_wall(const sb_cron *c, int64_t wall, int64_t *out)
{
    struct tm tm;
    sb_tz_civil_fields(wall, &tm);
    int last_year = tm.tm_year + 10;
    while (tm.tm_year <= last_year) {
        int y = tm.tm_year + 1900, mo = tm.tm_mon + 1, d = tm.tm_mday;
        int64_t t;
        if (!(c->mon >> mo & 1))
            t = sb_tz_civil(y, mo + 1, 1, 0, 0, 0);
        else if (!day_matches(c, &tm))
            t = sb_tz_civil(y, mo, d + 1, 0, 0, 0);
        else if (!(c->hour >> tm.tm_hour & 1))
            t = sb_tz_civil(y, mo, d, tm.tm_hour + 1, 0, 0);
        else if (!(c->min >> tm.tm_min & 1))
            t = sb_tz_civil(y, mo, d, tm.tm_hour, tm.tm_min + 1, 0);
        else if (!(c->sec >> tm.tm_sec & 1))
            t = sb_tz_civil(y, mo, d, tm.tm_hour, tm.tm_min, tm.tm_sec + 1);
        else {
            *out = sb_tz_civil(y, mo, d, tm.tm_hour, tm.tm_min, tm.tm_sec);
            return true;
        }
        sb_tz_civil_fields(t, &tm);
    }
    return false;
}

/* Under the zone lock: true with *out the instant for wall time w found from *s on, or false
 * after moving *s forward to search again. */
static bool resolve(const sb_cron *c, int64_t w, int64_t *s, int64_t *out)
{
    bool every_hour = c->hour == 0xffffff;
    int64_t at[2];
    int n = sb_tz_instants(w, at);
    if (n == 0) { /* spring-forward gap */
        long before = sb_tz_offset(w - 86400), after = sb_tz_offset(w + 86400);
        int64_t t = sb_tz_transition(w - after, w - before);
        if (every_hour) {
            *s = t > *s ? t : *s + 1;
            return false;
        }
        *out = t;
        return true;
    }
    int i = at[0] >= *s ? 0 : 1;
    if (i == 1 && n == 2 && !every_hour) { /* second pass of a repeated hour: fired already */
        int64_t t = sb_tz_transition(at[0], at[1]);
        int64_t end = t + (sb_tz_offset(at[0]) - sb_tz_offset(at[1]));
        *s = end > *s ? end : *s + 1;
        return false;
    }
    if (i >= n) {
        *s += 1;
        return false;
    }
    *out = at[i];
    return true;
}

/* Under the zone lock, for every-hour expressions: a fall-back between s and the candidate c
 * repeats wall times the search above passed over; the first match in that second pass wins. */
static int64_t second_pass(const sb_cron *c, int64_t s, int64_t cand)
{
    if (c->hour != 0xffffff || cand - s > 2 * 86400)
        return cand;
    int64_t t = sb_tz_transition(s, cand);
    long off = sb_tz_offset(t);
    if (t >= cand || off >= sb_tz_offset(s))
        return cand;
    int64_t w;
    if (!next_wall(c, t + off, &w))
        return cand;
    int64_t again = w - off;
    return again < cand && sb_tz_offset(again) == off ? again : cand;
}

sb_err sb_cron_next(const sb_cron *cron, int64_t after_ms, const char *tz, int64_t *next_ms,
                    sb_errmsg *em)
{
    if (cron->every_ms > 0) {
        *next_ms = after_ms + cron->every_ms;
        return SB_OK;
    }
    sb_err err = sb_tz_enter(tz, em);
    if (err)
        return err;
    int64_t s = (after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000) + 1;
    int64_t at = 0;
    bool found = false;
    for (int guard = 0; guard < 1000 && !found; guard++) {
        int64_t w;
        if (!next_wall(cron, s + sb_tz_offset(s), &w))
            break;
        found = resolve(cron, w, &s, &at);
    }
    if (found)
        at = second_pass(cron, s, at);
    sb_tz_leave();
    if (!found)
        return sb_fail(em, SB_ERR_NOTFOUND, "cron: the expression does not fire again");
    *next_ms = at * 1000;
    return SB_OK;
}
