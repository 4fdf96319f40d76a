/*
 * io.h - devsim's gateway transports: a pty pair (serial gateway), a TCP server (ethernet
 * gateway, one controller at a time) and MQTT (MQTT gateway, through core/bus.h).
 */
#ifndef SB_DEVSIM_IO_H
#define SB_DEVSIM_IO_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/bus.h"
#include "core/err.h"
#include "tools/devsim/sim.h"

typedef enum devsim_transport { DEVSIM_PTY, DEVSIM_TCP, DEVSIM_MQTT } devsim_transport;

typedef struct devsim_io_opts {
    devsim_transport kind;
    const char *link;   /* pty: also make this symlink to the slave (may be NULL) */
    const char *bind;   /* tcp: address, default 127.0.0.1 */
    int port;           /* tcp: port, 0 = any free one */
    const char *url;    /* mqtt: broker url */
    const char *prefix; /* mqtt: topic prefix, "mygateway1" publishes mygateway1-out/... */
} devsim_io_opts;

typedef struct devsim_io devsim_io;

/*
 * Opens the transport and prints where the controller reaches it on stdout ("devsim: pty
 * /dev/pts/3", "devsim: tcp 127.0.0.1:5003", "devsim: mqtt tcp://... mygateway1"). Free with
 * devsim_io_close().
 */
sb_err devsim_io_open(const devsim_io_opts *opts, devsim_io **out, sb_errmsg *em);

/* The devsim_emit callback: writes one line; false when it was dropped (no controller, full). */
bool devsim_io_send(void *io, const sb_mys_line *line);

/*
 * Writes n malformed frames (not a line, an oversized line, a bad command), for testing that a
 * controller drops and counts them. MQTT: on a topic that is not node/child/cmd/ack/type, and
 * with a good topic and an oversized payload.
 */
void devsim_io_garbage(devsim_io *io, long n);

/*
 * Waits up to timeout_ms for input and hands every complete received line to sim. Returns true
 * when the simulation should (re)start now: the transport just opened, or a controller
 * connected to the TCP server.
 */
bool devsim_io_poll(devsim_io *io, devsim *sim, int timeout_ms);

/* Frames dropped because nobody was listening or the peer was too slow. */
uint64_t devsim_io_dropped(const devsim_io *io);

void devsim_io_close(devsim_io *io);

/*
 * The MQTT client of simulated MQTT devices (Tasmota, ESPHome ...): MQTT 3.1.1, client id
 * "devsim-<kind>", clean session, no status. cfg is filled here and must outlive the client;
 * the caller subscribes, then starts it.
 */
sb_err devsim_mqtt_create(const char *url, const char *kind, sb_config_bus *cfg, sb_bus **out,
                          sb_errmsg *em);

/*
 * What every simulated MQTT device family (tasmota.c, esphome.c, z2m.c) has: its client, the
 * lock its devices are under (paho's delivery thread and the publishing loop share them) and
 * the file every received command is appended to.
 */
typedef struct devsim_mqtt {
    sb_bus *bus;
    sb_config_bus cfg;
    pthread_mutex_t mu;
    FILE *record; /* NULL when not asked for */
} devsim_mqtt;

/*
 * Initialises m (zeroed before), opens record for appending (NULL = none), and connects
 * devsim_mqtt_create's client with fn(ctx, ...) subscribed at QoS 1 to the n filters. On failure
 * prints "devsim: <kind>: <why>" to stderr and returns false. Call devsim_mqtt_close either way.
 */
bool devsim_mqtt_open(devsim_mqtt *m, const char *url, const char *kind, const char *record,
                      const char *const *filters, size_t n, sb_bus_handler fn, void *ctx);

/* Appends "<topic> <text>" to the record file, if any; call with m->mu held. */
void devsim_mqtt_record(devsim_mqtt *m, const char *topic, const char *text);

/* Disconnects and frees the client, closes the record file and destroys the lock. */
void devsim_mqtt_close(devsim_mqtt *m);

/* Calls tick(ctx) at once and then every period_ms until *stop or duration_ms (0 = no limit)
 * has passed: the publishing loop of the simulated MQTT devices. */
void devsim_mqtt_loop(int64_t period_ms, int64_t duration_ms, volatile sig_atomic_t *stop,
                      void (*tick)(void *ctx), void *ctx);

#endif
