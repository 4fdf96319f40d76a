/*
 * harness.h - what system tests share: a private temp directory, a real mosquitto on a free
 * loopback port (torn down at exit, even when a test fails or crashes: the broker is a child
 * that dies with us), polling helpers, and a bus configuration pointing at the broker.
 */
#ifndef SB_TEST_HARNESS_H
#define SB_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/broker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/influxd.h"

/* A fresh directory under $SB_TEST_TMPDIR (or /tmp), removed at exit unless SB_KEEP_TMP=1. */
const char *sbt_tmpdir(const char *name);

/*
 * A switchboard-processor child's files under dir: conf gets <dir>/p.yaml, written for the broker
 * at url (sqlite store <dir>/p.db, no metrics, instance name), log gets <dir>/processor.log and
 * exe the binary under $SB_BUILD_DIR. Each buffer holds at least 600 bytes (exe 1024).
 */
void sbt_processor_files(const char *dir, const char *url, const char *instance, char *conf,
                         char *log, char *exe);

/* Starts mosquitto for this test binary (extra_conf appended to its config). */
sb_broker *sbt_broker_start(const char *extra_conf);
void sbt_broker_stop(void);

/* Starts influxd for this test binary on free ports (stopped at exit). */
sb_influxd *sbt_influxd_start(void);
void sbt_influxd_stop(void);

/* A bus config with test-friendly timing (fast reconnect) for the running broker. */
void sbt_bus_config(sb_config_bus *cfg);

/* Creates and starts a bus client; fails the test when it does not connect in 5 s. */
sb_bus *sbt_bus(const sb_config_bus *cfg, const char *service, const char *instance,
                bool clean_start);

/* Polls cond(ctx) every 5 ms until true or timeout_ms; returns the last value. */
bool sbt_wait(bool (*cond)(void *ctx), void *ctx, int64_t timeout_ms);

/* Path of a binary built next to the tests ($SB_BUILD_DIR/tests/system/<name>). */
const char *sbt_build_path(const char *name);

#endif
