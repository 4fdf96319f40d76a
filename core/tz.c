/*
 * tz.c - zone conversions under one mutex (see tz.h for the contract).
 */
#include "core/tz.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static char saved_tz[256];
static bool had_tz;
static bool switched;

bool sb_tz_valid(const char *name)
{
    if (!name || !*name || strcmp(name, "UTC") == 0)
        return true;
    size_t n = strlen(name);
    if (n > 200 || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+')
            return false;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

sb_err sb_tz_enter(const char *name, sb_errmsg *em)
{
    if (!sb_tz_valid(name))
        return sb_fail(em, SB_ERR_INVALID, "unknown time zone '%s'", name);
    pthread_mutex_lock(&tz_lock);
    switched = name && *name;
    if (switched) {
        const char *old = getenv("TZ");
        had_tz = old != NULL;
        if (old)
            snprintf(saved_tz, sizeof(saved_tz), "%s", old);
        setenv("TZ", strcmp(name, "UTC") == 0 ? "UTC0" : name, 1);
    }
    tzset();
    return SB_OK;
}

void sb_tz_leave(void)
{
    if (switched) {
        if (had_tz)
            setenv("TZ", saved_tz, 1);
        else
            unsetenv("TZ");
        tzset();
    }
    switched = false;
    pthread_mutex_unlock(&tz_lock);
}

void sb_tz_local(int64_t t, struct tm *out)
{
    time_t tt = (time_t)t;
    localtime_r(&tt, out);
}

long sb_tz_offset(int64_t t)
{
    struct tm tm;
    sb_tz_local(t, &tm);
    return tm.tm_gmtoff;
}

int sb_tz_instants(int64_t wall, int64_t at[2])
{
    /* Zones change offset at most once within a day of any instant (true of the tz database
     * outside a handful of historical oddities), so the offsets a day either side cover it. */
    long offs[2] = {sb_tz_offset(wall - 86400), sb_tz_offset(wall + 86400)};
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && offs[1] == offs[0])
            break;
        int64_t t = wall - offs[i];
        if (sb_tz_offset(t) == offs[i])
            at[n++] = t;
    }
    if (n == 2 && at[0] > at[1]) {
        int64_t x = at[0];
        at[0] = at[1];
        at[1] = x;
    }
    return n;
}

int64_t sb_tz_transition(int64_t lo, int64_t hi)
{
    long off = sb_tz_offset(lo);
    if (sb_tz_offset(hi) == off)
        return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sb_tz_offset(mid) == off)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* Proleptic Gregorian day count (1970-01-01 = 0), valid for any year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t sb_tz_civil(int year, int mon, int mday, int hour, int min, int sec)
{
    int64_t y = year + (mon - 1) / 12;
    int m = (mon - 1) % 12;
    if (m < 0) {
        m += 12;
        y--;
    }
    int64_t days = days_from_civil(y, m + 1, 1) + (mday - 1);
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

void sb_tz_civil_fields(int64_t civil, struct tm *out)
{
    time_t t = (time_t)civil;
    gmtime_r(&t, out);
}

sb_err sb_tz_wall(const char *name, int64_t t, int64_t *wall, sb_errmsg *em)
{
    sb_err err = sb_tz_enter(name, em);
    if (err)
        return err;
    *wall = t + sb_tz_offset(t);
    sb_tz_leave();
    return SB_OK;
}
