/*
 * runner.h - one running gateway: its provider instance, driven by a thread of its own.
 *
 * The thread opens the device link (start), reopens it reconnectDelay after it fails or is
 * lost, sends the outgoing queue one message at a time (waiting for the device's ack and
 * resending when the provider has acks), holds messages for sleeping nodes until they wake,
 * and publishes and stores the gateway's state when it changes. Received messages go through a
 * core/stream.h producer (stream = the gateway id) as numbered frames on <p>/msg/in/<id>, at
 * most bus.batch_max messages or bus.batch_delay old, kept until the processor acknowledges
 * them on <p>/ack/<id>.
 */
#ifndef SB_GW_RUNNER_H
#define SB_GW_RUNNER_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/bus.h"
#include "core/config.h"
#include "core/err.h"
#include "core/msg.h"
#include "services/gateway/gwdoc.h"
#include "storage/store.h"

/* What every runner of a service shares; borrowed for the runner's lifetime. */
typedef struct gw_env {
    sb_bus *bus;
    sb_store *store;
    const sb_config *cfg;
} gw_env;

typedef struct gw_runner gw_runner;

/*
 * Creates the provider instance and starts the thread. Takes ownership of doc (freed on
 * failure too). Fails when the provider is unknown or its options are bad (em names the key).
 */
sb_err gw_runner_start(const gw_env *env, gw_doc *doc, gw_runner **out, sb_errmsg *em);

/* The document the runner runs (borrowed). */
const gw_doc *gw_runner_doc(const gw_runner *r);

/* Queues a message for the devices (takes ownership). Never blocks on the device. */
void gw_runner_post(gw_runner *r, sb_msg *m);

/* Adds the runner's counters to obj. */
void gw_runner_stats(gw_runner *r, cJSON *obj);

/*
 * Stops the thread and the provider, publishes what is batched and the state "down" (stored
 * unless deleted), and frees. Queued outgoing messages are dropped. Accepts NULL.
 */
void gw_runner_stop(gw_runner *r, bool deleted);

/* Publishes (and stores, unless deleted) the state event of gateway id. */
void gw_state_publish(const gw_env *env, const char *id, const char *status, const char *message,
                      int64_t since_ms, bool deleted);

#endif
