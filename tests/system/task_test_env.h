/*
 * task_test_env.h - what the task service tests share: a real mosquitto, a sqlite store in a
 * temp dir, the task service on a thread, and a test bus client that records every handler call
 * (<p>/handler/+). Topics use the harness prefix "sbtest". Helpers fail the running cmocka test
 * on a timeout.
 */
#ifndef SB_TASK_TEST_ENV_H
#define SB_TASK_TEST_ENV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/config.h"
#include "storage/store.h"

extern sb_store *tte_store;
extern sb_bus *tte_bus;
extern sb_config *tte_cfg;

/* cmocka group setup/teardown. extra_yaml is appended to the generated config (may be NULL). */
int tte_setup_with(const char *extra_yaml);
int tte_setup(void **state);
int tte_teardown(void **state);

/* Stores a task document (JSON text; modifiedOn set to now unless given) and publishes its
 * "created" event. */
void tte_put_task(const char *json);

/* Publishes an "updated" event for field gw1.12.1.<field_id> whose current.value is the JSON
 * text value (labels may be NULL). */
void tte_field_event(const char *field_id, const char *value, const char *labels);

/* Returns once every event published before was evaluated: the service evaluates events in
 * order, and a probe task answers the probe event sent last. */
void tte_sync(void);

/* Handler calls recorded for handler id so far. */
int tte_calls(const char *handler);
/* Waits until at least n calls of handler were recorded; returns the count. */
int tte_wait_calls(const char *handler, int n, int64_t timeout_ms);
/* A copy of the i-th call of handler (parsed payload); caller frees. Fails the test if none. */
cJSON *tte_call(const char *handler, int i);

/* Waits until the stored task's state.message contains text; returns a copy of the state. */
cJSON *tte_wait_state(const char *task_id, const char *text, int64_t timeout_ms);

#endif
