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

#include "core/broker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/proc.h"
#include "storage/metrics.h"
#include "storage/store.h"

typedef struct sbt_pipeline {
    sb_broker *broker;
    sb_config *cfg;
    const char *tmp; /* this test binary's temporary directory */
    sb_store *store;
    sb_bus *bus;
    sb_metrics *metrics;
} sbt_pipeline;

extern sbt_pipeline sbt_pl;

/*
 * cmocka group setup/teardown: a real mosquitto and influxd, a generated config (sqlite store in
 * a temp dir, status every 500 ms), the processor and gateway services on threads, a bus client
 * for the test, and the gateway service's status captured; fills sbt_pl.
 */
int sbt_pipeline_setup(void **state);
int sbt_pipeline_teardown(void **state);

/* A number at path in the gateway service's latest status ("stats.gateways.gw1..."), or -1. */
double sbt_pipeline_status_num(const char *path);

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

/* Waits up to 10 s until node id's state.status is status. */
void wait_node_state(const char *id, const char *status);

/* Waits up to 10 s until the field's current value is the number want. */
void wait_number(const char *id, double want);

/* Publishes a message of type ("set", "request") with node/src/key = value on
 * <p>/msg/out/<gw>. */
void send_out(const char *gw, const char *type, const char *node, const char *src, const char *key,
              const char *value);

/* Publishes a set of node/src/key = value on <p>/msg/out/<gw>. */
void send_set(const char *gw, const char *node, const char *src, const char *key,
              const char *value);

/* ---- devsim playing MQTT devices (--transport tasmota|esphome ...) ---- */

typedef struct sbt_devsim {
    sb_proc proc;
    char log[700], record[700]; /* its output; the commands it received */
} sbt_devsim;

/* Starts devsim --transport transport with nodes devices publishing every period on the test
 * broker, and waits for its "devsim: <transport> " line. Stop it with sb_proc_stop. */
void sbt_devsim_start(sbt_devsim *s, const char *transport, const char *nodes, const char *period);

/* The same with nodes NULL (no --nodes) and the NULL-terminated extra arguments (may be NULL)
 * after the others ("--attrs"). */
void sbt_devsim_start_with(sbt_devsim *s, const char *transport, const char *nodes,
                           const char *period, const char *const *extra);

/* Waits up to 5 s for a line starting with line among the commands devsim received. */
void sbt_devsim_wait_record(const sbt_devsim *s, const char *line);

/* How many lines of path start with prefix (0 when the file does not exist). */
int sbt_file_count(const char *path, const char *prefix);

#endif
