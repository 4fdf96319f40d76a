/*
 * sun.c - the events of one local date: the sun's altitude from libnova's solar position,
 * sampled across the local day and each horizon crossing bisected to the second.
 *
 * Why not ln_get_solar_rst(): libnova 0.16 returns the solar position for the J2000 equinox
 * while its sidereal time is of date, so its rise/set times are about two minutes early in the
 * 2020s (and drift with the years). Precessing the position to the date (ln_get_equ_prec) fixes
 * that; sampling the local day also gives the events of a local date directly, polar days and
 * nights included, whatever the zone.
 */
#include "core/sun.h"

#include <libnova/precession.h>
#include <libnova/solar.h>
#include <libnova/transform.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/tz.h"

static const double horizons[] = {
    [SB_SUN_OFFICIAL] = LN_SOLAR_STANDART_HORIZON,
    [SB_SUN_CIVIL] = LN_SOLAR_CIVIL_HORIZON,
    [SB_SUN_NAUTICAL] = LN_SOLAR_NAUTIC_HORIZON,
    [SB_SUN_ASTRONOMICAL] = LN_SOLAR_ASTRONOMICAL_HORIZON,
};

const char *sb_sun_horizon_name(sb_sun_horizon horizon)
{
    static const char *const names[] = {"official", "civil", "nautical", "astronomical"};
    return (unsigned)horizon < 4 ? names[horizon] : "unknown";
}

/* One decimal number at *p, blanks around it skipped; false when there is none. */
static bool parse_coord(const char **p, double *out)
{
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || errno || !isfinite(*out))
        return false;
    while (isspace((unsigned char)*end))
        end++;
    *p = end;
    return true;
}

sb_err sb_sun_location_parse(const char *text, double *lat, double *lon, sb_errmsg *em)
{
    const char *p = text ? text : "";
    if (!parse_coord(&p, lat) || *p++ != ',' || !parse_coord(&p, lon) || *p)
        return sb_fail(em, SB_ERR_INVALID,
                       "location '%.64s': want \"latitude,longitude\" in degrees, e.g. "
                       "\"52.52,13.405\"",
                       text ? text : "");
    if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180)
        return sb_fail(em, SB_ERR_INVALID,
                       "location '%.64s': latitude must be -90..90 and longitude -180..180", text);
    return SB_OK;
}

#define JD_UNIX_EPOCH 2440587.5

static double jd_of(int64_t secs)
{
    return JD_UNIX_EPOCH + (double)secs / 86400.0;
}

/* The instant a local day starts (civil midnight, or the end of a gap covering it). */
static int64_t local_midnight(int64_t civil)
{
    int64_t at[2];
    int n = sb_tz_instants(civil, at);
    if (n > 0)
        return at[0];
    long before = sb_tz_offset(civil - 86400), after = sb_tz_offset(civil + 86400);
    return sb_tz_transition(civil - after, civil - before);
}

static double altitude(double lat, double lon, int64_t t)
{
    struct ln_equ_posn j2000, equ;
    struct ln_hrz_posn hrz;
    struct ln_lnlat_posn obs = {.lng = lon, .lat = lat};
    double jd = jd_of(t);
    ln_get_solar_equ_coords(jd, &j2000);
    ln_get_equ_prec(&j2000, jd, &equ);
    ln_get_hrz_from_equ(&equ, &obs, jd, &hrz);
    return hrz.alt;
}

#define STEP 600 /* seconds between samples: the sun cannot cross twice within 10 minutes */

/* The crossing of the horizon h between lo and hi (altitude - h changes sign), to the second. */
static int64_t bisect(double lat, double lon, double h, int64_t lo, int64_t hi)
{
    bool lo_up = altitude(lat, lon, lo) > h;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((altitude(lat, lon, mid) > h) == lo_up)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static void scan(double lat, double lon, double h, int64_t start, int64_t end, sb_sun_day *d)
{
    bool up = altitude(lat, lon, start) > h, first_up = up;
    for (int64_t t = start; t < end; t += STEP) {
        int64_t next = t + STEP < end ? t + STEP : end;
        bool next_up = altitude(lat, lon, next) > h;
        if (next_up != up) {
            int64_t at = bisect(lat, lon, h, t, next);
            if (next_up && !d->has_rise) {
                d->has_rise = true;
                d->rise_ms = at * 1000;
            } else if (!next_up && !d->has_set) {
                d->has_set = true;
                d->set_ms = at * 1000;
            }
        }
        up = next_up;
    }
    if (!d->has_rise && !d->has_set)
        d->state = first_up ? SB_SUN_POLAR_DAY : SB_SUN_POLAR_NIGHT;
}

sb_err sb_sun_day_get(double lat, double lon, int year, int mon, int mday, const char *tz,
                      sb_sun_horizon horizon, sb_sun_day *out, sb_errmsg *em)
{
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
        return sb_fail(em, SB_ERR_INVALID, "sun: location %g,%g is out of range", lat, lon);
    if ((unsigned)horizon >= 4)
        return sb_fail(em, SB_ERR_INVALID, "sun: unknown horizon %d", (int)horizon);
    sb_err err = sb_tz_enter(tz, em);
    if (err)
        return err;
    int64_t civil = sb_tz_civil(year, mon, mday, 0, 0, 0);
    int64_t start = local_midnight(civil), end = local_midnight(civil + 86400);
    sb_tz_leave();

    sb_sun_day d = {.state = SB_SUN_NORMAL};
    scan(lat, lon, horizons[horizon], start, end, &d);
    *out = d;
    return SB_OK;
}
