/*
 * pipeline_util.h - helpers of the end-to-end pipeline tests (pipeline_*_test.c). Each test sets
 * sbt_pl to its store, bus client and metric store in its group setup; the helpers fail the
 * running cmocka test on a timeout. Topics use the harness prefix "sbtest".
 */
#ifndef SB_PIPELINE_UTIL_H
#define SB_PIPELINE_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "storage/metrics.h"
#include "storage/store.h"

typedef struct sbt_pipeline {
    sb_store *store;
    sb_bus *bus;
    sb_metrics *metrics;
} sbt_pipeline;

extern sbt_pipeline sbt_pl;

/* Stores a gateway document and publishes its "updated" event so the gateway service loads it. */
void put_gateway(const char *json);

/* Waits for a document with a "current" value (fields) or any (others); caller frees. */
cJSON *wait_doc(const char *kind, const char *id, bool with_value, int64_t timeout_ms);

/* Checks a field's metric type, unit and that its value is a number in lo..hi; returns it. */
double check_number_field(const char *id, const char *metric, const char *unit, double lo,
                          double hi);

/* Waits until the field's newest InfluxDB point equals the store's current value. */
void check_influx(const char *gw, const char *field_id);

/* Whether the binary field's current value is want; waits up to 10 s for it. */
bool field_bool(const char *id, bool want);
void wait_field_bool(const char *id, bool want);

#endif
