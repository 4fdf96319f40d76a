/* histo.c - latency histograms (histo.h). */
#include "core/histo.h"

#include <stdio.h>

const double sb_histo_bounds[SB_HISTO_BUCKETS - 1] = {1,   2,   5,    10,   20,   50,   100,
                                                      200, 500, 1000, 2000, 5000, 10000};

void sb_histo_observe(sb_histo *h, double ms)
{
    if (!(ms > 0)) /* also NaN */
        ms = 0;
    size_t i = 0;
    while (i < SB_HISTO_BUCKETS - 1 && ms > sb_histo_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    double us = ms * 1000.0;
    atomic_fetch_add_explicit(&h->sum_us, us < 1.8e19 ? (uint_fast64_t)us : 0,
                              memory_order_relaxed);
}

cJSON *sb_histo_json(const sb_histo *h)
{
    cJSON *o = cJSON_CreateObject(), *b = o ? cJSON_AddObjectToObject(o, "buckets") : NULL;
    if (!b) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddBoolToObject(o, "histogram", 1);
    cJSON_AddStringToObject(o, "unit", "ms");
    uint64_t cum = 0;
    for (size_t i = 0; i < SB_HISTO_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        char le[16];
        if (i < SB_HISTO_BUCKETS - 1)
            snprintf(le, sizeof(le), "%g", sb_histo_bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        cJSON_AddNumberToObject(b, le, (double)cum);
    }
    /* count is the +Inf bucket, so the two always agree in one snapshot */
    cJSON_AddNumberToObject(o, "count", (double)cum);
    cJSON_AddNumberToObject(
        o, "sum", (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1000.0);
    return o;
}
