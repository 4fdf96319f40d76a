/*
 * broker.h - the managed mosquitto: a child process on a loopback port with a generated
 * config (persistence on, unlimited queued and in-flight QoS 1 messages: mosquitto's defaults
 * silently drop QoS 1 to slow subscribers), stopped with the parent.
 */
#ifndef SB_BROKER_H
#define SB_BROKER_H

#include "core/config.h"
#include "core/err.h"
#include "core/proc.h"

typedef struct sb_broker {
    sb_proc proc;
    int port;
    char url[64];   /* tcp://127.0.0.1:<port> */
    char dir[512];  /* config, persistence and log live here */
    char conf[600]; /* the generated mosquitto.conf */
    char bin[256];  /* the mosquitto binary */
} sb_broker;

/*
 * Writes <dir>/mosquitto.conf and starts `mosquitto -c` on port (0 = a free one), waiting until
 * it accepts connections. extra_conf (may be NULL) is appended to the generated config.
 */
sb_err sb_broker_start(sb_broker *b, const char *mosquitto_bin, const char *dir, int port,
                       const char *extra_conf, sb_errmsg *em);

/* Restarts a stopped broker with the same config and port (tests kill and restart it). */
sb_err sb_broker_restart(sb_broker *b, sb_errmsg *em);

/*
 * SIGTERM (mosquitto saves its persistence file), SIGKILL after grace_ms. Returns false when it
 * had to be killed (its persistence file may then be older than its last state).
 */
bool sb_broker_stop_within(sb_broker *b, int64_t grace_ms);

/* sb_broker_stop_within(b, 3000). */
void sb_broker_stop(sb_broker *b);

#endif
