/*
 * api_test_env.h - what the API system tests share: a real mosquitto, switchboard-api running on
 * a thread of the test with a sqlite store in a temp dir and a free port, switchboard-processor
 * on another thread with the same store, the admin's token,
 * and a bus client that records every event the service publishes.
 */
#ifndef SB_TEST_API_ENV_H
#define SB_TEST_API_ENV_H

#include <cjson/cJSON.h>

#define APIT_BODY_LIMIT 4096
#define APIT_SECRET     "api-test-signing-key-0123456789"

typedef struct apit {
    int port;
    char data_dir[700];
    char admin_token[2048];
    char admin_id[128];
} apit;

/* Starts everything (exits on failure), logs in as admin. The processor service runs too, on
 * its own thread with the same store: node, source and field edits go through it. */
void apit_start(void);
/* Stops / starts the processor again (edits of the device tree then get 503 / work). */
void apit_processor_stop(void);
void apit_processor_start(void);
/* Stops the service thread and the broker. */
void apit_stop(void);
const apit *apit_env(void);

/* Logs in; the token (static buffer) or NULL with *status set. */
const char *apit_login(const char *user, const char *password, long *status);

void apit_events_clear(void);
/* Waits up to 5 s for an event on topic with "type" == type; a copy (caller frees) or NULL. */
cJSON *apit_event_wait(const char *topic, const char *type);

/* The test's own bus client (connected to the same broker), to publish events and messages. */
#include "core/bus.h"
sb_bus *apit_bus(void);
/* Top-level YAML sections appended to the service's config; call before apit_start(). */
void apit_extra_yaml(const char *yaml);
/* Records messages on filter too (apit_event_wait then finds them by topic and "type"). */
void apit_record(const char *filter);

#endif
