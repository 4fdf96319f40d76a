/*
 * tz.h - conversions between instants and wall-clock time in a named IANA time zone.
 *
 * The C library only converts in "the" local zone, chosen by the TZ environment variable. These
 * helpers switch TZ under one process-wide mutex, convert with localtime_r plus zone-free civil
 * arithmetic, and restore the previous TZ before unlocking. Switchboard code converts zones only
 * through this module; code elsewhere in the process that calls localtime() while a conversion
 * runs could observe the temporary zone, so services use gmtime_r or these helpers.
 *
 * Zone names: NULL or "" is the process's own local zone (TZ untouched), "UTC", or an IANA name
 * that exists under $TZDIR or /usr/share/zoneinfo ("Europe/Berlin"). Anything else is refused:
 * glibc would silently treat an unknown name as UTC.
 */
#ifndef SB_TZ_H
#define SB_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

/* True when name is acceptable as described above. */
bool sb_tz_valid(const char *name);

/*
 * Locks the process-wide zone mutex and makes name the C library's local zone until
 * sb_tz_leave(). Between the two, sb_tz_local() and sb_tz_offset() convert in that zone.
 * SB_ERR_INVALID (mutex not held) when the name is not a valid zone.
 */
sb_err sb_tz_enter(const char *name, sb_errmsg *em);
void sb_tz_leave(void);

/* Only between enter and leave: the wall-clock fields of t (seconds since the epoch). */
void sb_tz_local(int64_t t, struct tm *out);
/* Only between enter and leave: the zone's UTC offset in seconds at instant t. */
long sb_tz_offset(int64_t t);

/*
 * Only between enter and leave: the instants whose wall-clock time is the civil time `wall`
 * (seconds since the epoch as if the wall time were UTC, see sb_tz_civil). Returns how many
 * (0 in a spring-forward gap, 2 in a repeated hour), earliest first in at[].
 */
int sb_tz_instants(int64_t wall, int64_t at[2]);

/* Only between enter and leave: the first instant in (lo, hi] whose UTC offset differs from
 * the offset at lo; hi when there is none. */
int64_t sb_tz_transition(int64_t lo, int64_t hi);

/* Civil (zone-free) seconds of broken-down fields, normalising out-of-range ones like timegm. */
int64_t sb_tz_civil(int year, int mon, int mday, int hour, int min, int sec);

/* The broken-down fields of civil seconds (the inverse of sb_tz_civil). */
void sb_tz_civil_fields(int64_t civil, struct tm *out);

/* Convenience: the wall-clock civil seconds of instant t in zone name (locks internally). */
sb_err sb_tz_wall(const char *name, int64_t t, int64_t *wall, sb_errmsg *em);

#endif
