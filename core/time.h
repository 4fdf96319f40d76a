/*
 * time.h - wall-clock time as milliseconds since the epoch, and RFC 3339 text with milliseconds.
 */
#ifndef SB_TIME_H
#define SB_TIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* "2026-11-25T20:00:00.123Z" plus NUL. */
#define SB_TIME_RFC3339_LEN 25

/* Wall clock, ms since 1970-01-01T00:00:00Z. */
int64_t sb_time_now_ms(void);

/* Monotonic clock in ms, for timeouts and intervals. */
int64_t sb_time_mono_ms(void);
/* Monotonic microseconds, for measuring short durations. */
int64_t sb_time_mono_us(void);

/* Writes UTC RFC 3339 with milliseconds ("...T20:00:00.123Z") into buf (>= SB_TIME_RFC3339_LEN). */
void sb_time_format(int64_t ms, char *buf, size_t len);

/*
 * Parses RFC 3339 / ISO 8601 date-times: "2026-11-25T20:00:00Z", fractional seconds of any
 * length (truncated to ms), "+01:00"/"-0530" offsets, ' ' instead of 'T'. SB_ERR_PARSE otherwise.
 */
sb_err sb_time_parse(const char *text, int64_t *ms);

/*
 * Parses a duration: "250ms", "10s", "5m", "2h", "1d", combinations ("1h30m"), or a bare number
 * of milliseconds. SB_ERR_PARSE on anything else.
 */
sb_err sb_duration_parse(const char *text, int64_t *ms);

struct timespec;

/*
 * The CLOCK_MONOTONIC instant ms milliseconds from now, for pthread_cond_timedwait on a
 * condition variable created with pthread_condattr_setclock(CLOCK_MONOTONIC).
 */
void sb_time_mono_deadline(int64_t ms, struct timespec *ts);

/* Initialises a condition variable that waits on CLOCK_MONOTONIC (for the deadline above). */
void sb_time_cond_init(pthread_cond_t *cv);

/* Sleeps for ms milliseconds (restarting on EINTR). */
void sb_time_sleep_ms(int64_t ms);

#endif
