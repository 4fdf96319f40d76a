/*
 * fuzz_schedule.c - schedule specs (JSON the API accepts from users, core/schedule.h) on
 * arbitrary text: a spec either gives runs strictly later than the start and than each other,
 * or is refused (bad spec) or over (no further run) with a message; never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_schedule: check failed: %s (line %d)\n", #cond, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    cJSON *spec = NULL;
    if (sb_json_parse((const char *)data, size, &spec, NULL) != SB_OK)
        return 0;
    /* Berlin (DST) with a location, and Sydney. Polar places are left to schedule_test: a
     * polar night makes one sunset search scan ~100 days (0.5 s), too slow for fuzzing. */
    static const sb_sched_ctx ctxs[] = {
        {.tz = "Europe/Berlin", .has_location = true, .latitude = 52.52, .longitude = 13.405},
        {.tz = "Australia/Sydney", .has_location = true, .latitude = -33.87, .longitude = 151.21},
        {.tz = "America/New_York", .has_location = false, .runs_done = 3},
    };
    const int64_t start = 1792889999000; /* just before the Berlin fall-back, 2026-10-25 */
    for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
        int64_t runs[5];
        int got = 0;
        sb_errmsg em = {{0}};
        sb_err err = sb_sched_preview(spec, start, &ctxs[i], 5, runs, &got, &em);
        if (err != SB_OK) {
            CHECK((err == SB_ERR_INVALID || err == SB_ERR_NOTFOUND) && em.text[0]);
            continue;
        }
        for (int k = 0; k < got; k++)
            CHECK(runs[k] > (k ? runs[k - 1] : start));
    }
    cJSON_Delete(spec);
    return 0;
}
