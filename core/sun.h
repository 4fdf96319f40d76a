/*
 * sun.h - sunrise, sunset and twilight for a place and a local date, computed offline with
 * libnova (no network: the location comes from the configuration).
 */
#ifndef SB_SUN_H
#define SB_SUN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* Which horizon "rise" and "set" refer to. */
typedef enum sb_sun_horizon {
    SB_SUN_OFFICIAL,     /* upper limb at the horizon with refraction: -0.833 degrees */
    SB_SUN_CIVIL,        /* civil twilight: -6 degrees */
    SB_SUN_NAUTICAL,     /* nautical twilight: -12 degrees */
    SB_SUN_ASTRONOMICAL, /* astronomical twilight: -18 degrees */
} sb_sun_horizon;

typedef enum sb_sun_state {
    SB_SUN_NORMAL,      /* at least one of rise and set happens on the date */
    SB_SUN_POLAR_DAY,   /* above the horizon all day (midnight sun) */
    SB_SUN_POLAR_NIGHT, /* below the horizon all day */
} sb_sun_state;

typedef struct sb_sun_day {
    sb_sun_state state;
    bool has_rise, has_set; /* near the polar seasons a date can have only one of them */
    int64_t rise_ms, set_ms;
} sb_sun_day;

/*
 * The events of the local calendar date year-mon-mday in zone tz (core/tz.h names; NULL = the
 * process's local zone) at latitude lat (north positive) and longitude lon (east positive).
 * SB_ERR_INVALID for coordinates out of range or an unknown zone.
 */
sb_err sb_sun_day_get(double lat, double lon, int year, int mon, int mday, const char *tz,
                      sb_sun_horizon horizon, sb_sun_day *out, sb_errmsg *em);

/*
 * Parses a location "latitude,longitude" in decimal degrees ("52.52,13.405", blanks allowed
 * around the numbers). SB_ERR_INVALID naming the problem for anything else or coordinates out
 * of range (latitude -90..90, longitude -180..180).
 */
sb_err sb_sun_location_parse(const char *text, double *lat, double *lon, sb_errmsg *em);

/* The name of a horizon ("official", "civil", "nautical", "astronomical"). */
const char *sb_sun_horizon_name(sb_sun_horizon horizon);

#endif
