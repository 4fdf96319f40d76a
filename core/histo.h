/*
 * histo.h - latency histograms for the services' status stats and the API's /metrics.
 *
 * Fixed buckets in milliseconds (1 2 5 10 20 50 100 200 500 1000 2000 5000 10000 +Inf), atomic
 * counters: observe from any thread without a lock. In a status document a histogram is
 *   {"histogram":true,"unit":"ms","buckets":{"1":n,...,"+Inf":n},"count":n,"sum":ms}
 * with cumulative bucket counts, which /metrics turns into a Prometheus histogram
 * (<name>_bucket{le=...}, _sum, _count). docs/operations.md "Observability".
 */
#ifndef SB_HISTO_H
#define SB_HISTO_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdint.h>

#define SB_HISTO_BUCKETS 14 /* the last is +Inf */

typedef struct sb_histo {
    atomic_uint_fast64_t counts[SB_HISTO_BUCKETS]; /* not cumulative */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
} sb_histo;

/* Records one duration in milliseconds (negative counts as 0). */
void sb_histo_observe(sb_histo *h, double ms);

/* The histogram as a new status object (see above); NULL on no memory. */
cJSON *sb_histo_json(const sb_histo *h);

/* The upper bounds of the finite buckets, in ms (SB_HISTO_BUCKETS - 1 of them). */
extern const double sb_histo_bounds[SB_HISTO_BUCKETS - 1];

#endif
