/*
 * handler_test_util.h - the environment the handler service's system tests share: a real
 * mosquitto, a sqlite store in a temp directory, a config for the service (fast status), and a
 * test bus client that records what it sees on the topics handlers publish to.
 */
#ifndef SB_HANDLER_TEST_UTIL_H
#define SB_HANDLER_TEST_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#include "core/json.h"
#include "core/service.h"
#include "core/time.h"
#include "services/handler/handler.h"
#include "storage/store.h"

typedef struct hte_env {
    sb_config_bus buscfg;
    sb_config *cfg; /* for the service */
    sb_store *store;
    sb_bus *bus; /* the test's own client */
    sb_stop_flag stop;
    const char *tmp;
} hte_env;

extern hte_env hte;

/* Broker, config, store, test client subscribed to sbtest/event/#, sbtest/status/handler/+,
 * sbtest/msg/out/+ and every topic outside sbtest/. */
void hte_setup(const char *name);
void hte_teardown(void);

/* Runs the handler service on a thread with hte.cfg (and a fresh hte.stop) and waits until its
 * status has ready_path (e.g. "handlers.<id>.type": that handler runs). */
void hte_service_start(const char *ready_path);
/* Raises hte.stop and joins the service thread. */
void hte_service_stop(void);

/* The stored handler's state: status and message copied (empty when none). */
void hte_state(const char *id, char *status, size_t slen, char *message, size_t mlen);
/* Whether handler id's stored state message contains text. */
bool hte_state_says(const char *id, const char *text);

/* Stores a handler document (JSON text) and publishes its "updated" event. */
void hte_put(const char *json);
/* The stored handler document (caller frees). */
cJSON *hte_get(const char *id);
/* Publishes a handler call with the given parameters and variables (JSON text). */
void hte_call(const char *id, const char *params, const char *vars);
void hte_publish(const char *topic, const char *text);

/* Messages seen on topic whose path == value (path NULL: all; value NULL: path exists). */
int hte_count(const char *topic, const char *path, const char *value);
bool hte_wait_count(const char *topic, const char *path, const char *value, int n,
                    int64_t timeout_ms);
/* A copy of the index-th message seen on topic (JSON, or a string when it was not JSON). */
cJSON *hte_seen(const char *topic, int index);

/* The service's status stats: wait for path to exist / be absent / reach n. */
bool hte_wait_status(const char *path, int64_t timeout_ms);
bool hte_wait_status_absent(const char *path, int64_t timeout_ms);
bool hte_wait_status_at_least(const char *path, double n, int64_t timeout_ms);
/* The number at path in the next status published (-1 when absent). */
double hte_status_num(const char *path);
/* The number at path in the last status seen (-1 when absent). */
double hte_status_num_now(const char *path);

#endif
