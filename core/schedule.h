/*
 * schedule.h - the scheduler's pure next-run computation for schedule specs (JSON).
 *
 * Spec types (full reference with examples in docs/automation.md):
 *   {"type":"repeat","interval":"10m","count":5,"start":"2026-01-01T08:00:00Z"}
 *       every interval from start (count runs in all), or from the previous run without start
 *   {"type":"cron","expression":"0 30 6 * * MON-FRI"}                    core/cron.h
 *   {"type":"simple","frequency":"daily","time":"06:30"}
 *   {"type":"simple","frequency":"weekly","weekdays":["mon","fri"],"time":"06:30:15"}
 *   {"type":"simple","frequency":"monthly","day":31,"time":"06:30"}      31 = last day
 *   {"type":"simple","frequency":"on_date","date":"2026-12-24","time":"18:00"}
 *   {"type":"sunrise","offset":"-30m"}  /  {"type":"sunset","offset":"15m"}
 * Any spec may carry "validity": {"from":"2026-04-01","to":"2026-09-30",
 *   "time":{"from":"06:00","to":"22:00"}}: dates inclusive, the daily range half-open and
 * allowed to wrap midnight ("22:00"-"06:00"). Wall-clock times follow cron's DST rules.
 */
#ifndef SB_SCHEDULE_H
#define SB_SCHEDULE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define SB_SCHED_PREVIEW_MAX 100

/* What a computation needs besides the spec. Borrowed. */
typedef struct sb_sched_ctx {
    const char *tz;    /* zone of wall-clock times (core/tz.h names); NULL = process local */
    bool has_location; /* needed by sunrise/sunset */
    double latitude, longitude;
    int64_t runs_done; /* runs so far, for "repeat" with a count but no start */
} sb_sched_ctx;

/*
 * The first run strictly after after_ms. SB_ERR_NOTFOUND (with a message) when the schedule
 * has no further run (count reached, date passed, validity over); SB_ERR_INVALID naming the
 * key for a bad spec.
 */
sb_err sb_sched_next(const cJSON *spec, int64_t after_ms, const sb_sched_ctx *ctx, int64_t *when_ms,
                     sb_errmsg *em);

/*
 * Up to n (<= SB_SCHED_PREVIEW_MAX) next runs after after_ms into out[], their number in *got
 * (fewer when the schedule ends; that is SB_OK). The dashboard's editor shows 5.
 */
sb_err sb_sched_preview(const cJSON *spec, int64_t after_ms, const sb_sched_ctx *ctx, int n,
                        int64_t *out, int *got, sb_errmsg *em);

#endif
