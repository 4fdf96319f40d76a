/*
 * cron.h - cron expressions and their next fire time in a time zone.
 *
 * Six fields: seconds minutes hours day-of-month month day-of-week.
 *   values    0-59 0-59 0-23 1-31 1-12 (JAN-DEC) 0-7 (SUN-SAT; 7 is Sunday too)
 *   items     '*' (every value), '?' (day fields only: no restriction), N, N-M, N-M/S, N/S (N to
 *             the end in steps of S), '*' followed by /S (all values in steps of S); lists of
 *             items with ','; names are case-insensitive.
 * Macros: @yearly @annually @monthly @weekly @daily @midnight @hourly, and "@every <duration>"
 * (core/time.h durations: "90s", "1h30m") which fires every <duration> after the previous run.
 * When both day-of-month and day-of-week are restricted a day matches either (classic cron);
 * when one is * or ? the other alone decides.
 *
 * Daylight saving time (see docs/automation.md):
 * - a wall-clock time skipped by a spring-forward fires once at the first valid instant after
 *   the gap (02:30 on the Berlin spring-forward day fires at 03:00 CEST);
 * - a wall-clock time repeated by a fall-back fires once, at its first occurrence;
 * - expressions whose hour field is every hour (*) follow elapsed time instead: they fire in
 *   both passes of a repeated hour and have nothing to fire inside a gap.
 */
#ifndef SB_CRON_H
#define SB_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* A parsed expression: a plain value, no resources, copy freely. */
typedef struct sb_cron {
    uint64_t sec;     /* bit n: second n */
    uint64_t min;     /* bit n: minute n */
    uint32_t hour;    /* bit n: hour n */
    uint32_t mday;    /* bit n: day n (1-31) */
    uint16_t mon;     /* bit n: month n (1-12) */
    uint8_t wday;     /* bit n: weekday n (0 = Sunday) */
    bool mday_any;    /* day-of-month was * or ? */
    bool wday_any;    /* day-of-week was * or ? */
    int64_t every_ms; /* > 0 for "@every <duration>"; the fields are unused then */
} sb_cron;

/*
 * Parses expr into out. SB_ERR_PARSE with a message naming the field and the bad token, e.g.
 * "cron field 'hours': bad token '25': value out of range 0-23".
 */
sb_err sb_cron_parse(const char *expr, sb_cron *out, sb_errmsg *em);

/*
 * The first fire time strictly after after_ms (whole seconds; @every: after_ms + duration) in
 * time zone tz (core/tz.h names; NULL = process local). SB_ERR_INVALID for an unknown zone,
 * SB_ERR_NOTFOUND when the expression never fires again (e.g. 30 February).
 */
sb_err sb_cron_next(const sb_cron *cron, int64_t after_ms, const char *tz, int64_t *next_ms,
                    sb_errmsg *em);

#endif
