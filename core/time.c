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

int64_t sb_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sb_time_format(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
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
