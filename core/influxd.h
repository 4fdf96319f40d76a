/*
 * influxd.h - the managed InfluxDB 1.x: an influxd child process in a data directory, listening
 * on loopback with a generated config (meta/data/wal under the directory, HTTP on one port, the
 * RPC/backup service on a second free port, reporting disabled, the in-memory index), stopped
 * with the parent. The mirror of broker.h for the metric store.
 */
#ifndef SB_INFLUXD_H
#define SB_INFLUXD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/proc.h"

typedef struct sb_influxd {
    sb_proc proc;
    int port;       /* HTTP */
    int rpc_port;   /* the RPC/backup bind-address, also loopback */
    char url[64];   /* http://127.0.0.1:<port> */
    char dir[512];  /* config, meta, data, wal and log live here */
    char conf[600]; /* the generated influxd.conf */
    char bin[256];  /* the influxd binary */
} sb_influxd;

/*
 * Writes <dir>/influxd.conf and starts `influxd run -config` on port (0 = a free one), waiting
 * until GET /ping answers 204 (up to 20 s). The struct is filled even on failure so
 * sb_influxd_stop() can always be called.
 */
sb_err sb_influxd_start(sb_influxd *d, const char *influxd_bin, const char *dir, int port,
                        sb_errmsg *em);

/* Starts a stopped influxd again with the same config, ports and data (tests stop it). */
sb_err sb_influxd_restart(sb_influxd *d, sb_errmsg *em);

/* Whether /ping answers 204 now (one request, up to timeout_ms). */
bool sb_influxd_ping(const char *url, int64_t timeout_ms);

/* SIGTERM, SIGKILL after grace_ms. Returns false when it had to be killed. Accepts NULL. */
bool sb_influxd_stop_within(sb_influxd *d, int64_t grace_ms);

/* sb_influxd_stop_within(d, 5000). */
void sb_influxd_stop(sb_influxd *d);

#endif
