#include "core/time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t sb_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sb_time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sb_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's days_from_civil
 * inverted): no locale, no time-zone lock, unlike gmtime_r. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* The processor formats several timestamps per value: no snprintf here (it was 9 % of the
 * processor's CPU in bench/pipeline). */
void sb_time_format(int64_t ms, char *buf, size_t len)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    char tmp[SB_TIME_RFC3339_LEN], *p = tmp;
    if (y < 0 || y > 9999) { /* outside RFC 3339; keep the old, printf form */
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, sod / 3600,
                 sod / 60 % 60, sod % 60, frac);
        return;
    }
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, frac, 3);
    *p++ = 'Z';
    *p = '\0';
    size_t n = (size_t)(p - tmp) + 1;
    if (len >= n) {
        memcpy(buf, tmp, n);
    } else if (len) {
        memcpy(buf, tmp, len - 1);
        buf[len - 1] = '\0';
    }
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int parse_offset(const char **pp, int *offset_min)
{
    const char *p = *pp;
    int sign = *p == '-' ? -1 : 1;
    int oh, om = 0;
    p++;
    if (digits(&p, 2, &oh))
        return -1;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &om)) /* "+01:" needs its minutes */
            return -1;
    } else if (*p && digits(&p, 2, &om)) {
        return -1;
    }
    if (oh > 23 || om > 59)
        return -1;
    *offset_min = sign * (oh * 60 + om);
    *pp = p;
    return 0;
}

sb_err sb_time_parse(const char *text, int64_t *ms)
{
    if (!text)
        return SB_ERR_PARSE;
    const char *p = text;
    int y, mo, d, h, mi, s, frac = 0, offset_min = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return SB_ERR_PARSE;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return SB_ERR_PARSE;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
        return SB_ERR_PARSE;
    if (*p == '.' || *p == ',') {
        p++;
        int n = 0;
        if (!isdigit((unsigned char)*p))
            return SB_ERR_PARSE;
        while (isdigit((unsigned char)*p)) {
            if (n < 3)
                frac = frac * 10 + (*p - '0');
            n++;
            p++;
        }
        for (; n < 3; n++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (parse_offset(&p, &offset_min))
            return SB_ERR_PARSE;
    } else {
        return SB_ERR_PARSE;
    }
    if (*p != '\0')
        return SB_ERR_PARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return SB_ERR_PARSE;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t secs = timegm(&tm);
    if (tm.tm_mday != d) /* 31 February and friends */
        return SB_ERR_PARSE;
    *ms = ((int64_t)secs - (int64_t)offset_min * 60) * 1000 + frac;
    return SB_OK;
}

sb_err sb_duration_parse(const char *text, int64_t *ms)
{
    if (!text || !*text)
        return SB_ERR_PARSE;
    const char *p = text;
    int64_t total = 0;
    int parts = 0;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return SB_ERR_PARSE;
        /* Plain decimals only: strtod alone would also take "1e3" and "0x10". */
        const char *q = p;
        while (isdigit((unsigned char)*q))
            q++;
        if (*q == '.') {
            if (!isdigit((unsigned char)q[1]))
                return SB_ERR_PARSE;
            for (q++; isdigit((unsigned char)*q);)
                q++;
        }
        errno = 0;
        char *end;
        double v = strtod(p, &end);
        if (errno || end != q)
            return SB_ERR_PARSE;
        p = end;
        double mult;
        if (*p == '\0' && parts == 0) {
            mult = 1; /* bare number: milliseconds */
        } else if (strncmp(p, "ms", 2) == 0) {
            mult = 1, p += 2;
        } else if (*p == 's') {
            mult = 1000, p++;
        } else if (*p == 'm') {
            mult = 60000, p++;
        } else if (*p == 'h') {
            mult = 3600000, p++;
        } else if (*p == 'd') {
            mult = 86400000, p++;
        } else {
            return SB_ERR_PARSE;
        }
        double add = v * mult;
        if (add > 9.2e15 || (double)total + add > 9.2e15)
            return SB_ERR_PARSE;
        total += (int64_t)add;
        parts++;
    }
    *ms = total;
    return SB_OK;
}

void sb_time_mono_deadline(int64_t ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000)
        ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

void sb_time_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

void sb_time_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}
