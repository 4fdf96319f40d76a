/*
 * mysensors.h - the MySensors gateway provider (sb_gateway_plugin_mysensors), private to
 * gateways/mysensors/. The codec (mys_proto.h, mys_msg.h, mys_ota.h) stays pure; this part owns
 * the transports, the controller answers that need state (node ids, firmware) and the counters.
 *
 *   mysensors.c  descriptor, option table, create/start/send/stop/destroy, stats
 *   mys_fdlink.c serial (termios raw) and ethernet (TCP client): one fd, one reader thread
 *   mys_mqlink.c MQTT gateway: <prefix>-out/# in, <prefix>-in/... out, through core/bus.h
 *   mys_rx.c     one received line: parse, answer (time, config, id, OTA) or hand to the host
 *   mys_ids.c    node ids: used ids persisted in the store, next free id
 *   mys_fw.c     firmware documents (base64 or file) prepared for OTA, cached
 *
 * Ownership: the provider borrows host and options until destroy; everything else it owns.
 */
#ifndef SB_MYS_PROVIDER_H
#define SB_MYS_PROVIDER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "gateways/mysensors/mys_msg.h"
#include "gateways/mysensors/mys_ota.h"
#include "gateways/provider.h"

typedef enum { MYS_SERIAL = 0, MYS_ETHERNET, MYS_MQTT } mys_transport;
typedef enum { MYS_METRIC = 0, MYS_IMPERIAL } mys_units;

/* The "provider" object of a gateway document (filled by the option table in mysensors.c). */
typedef struct mys_opts {
    int transport; /* mys_transport */
    char *port;    /* serial device path */
    int64_t baud_rate;
    char *host; /* ethernet */
    int64_t tcp_port;
    int64_t connect_timeout_ms;
    char *url; /* mqtt broker */
    char *username;
    char *password;
    char *topic_prefix; /* mqtt: <prefix>-out/# and <prefix>-in/ */
    int64_t qos;
    int units; /* mys_units: the I_CONFIG answer and the units of received values */
    bool request_ack;
    bool assign_ids;
    bool local_time;      /* I_TIME answers the host's local time ... */
    int64_t utc_offset_s; /* ... or UTC + this offset */
} mys_opts;

/* Counters for the gateway's status (atomic: read by the status thread). */
typedef struct mys_stats {
    atomic_uint_fast64_t lines_in, lines_out, malformed, unsupported, ignored, answered,
        ids_assigned, fw_blocks, write_errors;
} mys_stats;

/* A prepared firmware, cached by document id and modifiedOn. */
typedef struct mys_fw_cache {
    char id[128];
    char stamp[64];
    bool loaded;
    sb_mys_firmware fw;
} mys_fw_cache;

typedef struct mys_prov {
    const sb_gateway_host *host;
    const mys_opts *o;
    sb_mys_opts codec; /* gateway id and units for sb_mys_to_msg */
    mys_stats st;

    /* fd transports */
    int fd;
    int wake[2]; /* stop writes here to end the reader's poll */
    pthread_t reader;
    bool reader_running;
    pthread_mutex_t wmu; /* one writer at a time */

    /* mqtt transport */
    sb_bus *bus;
    sb_config_bus buscfg;

    /* node ids, guarded by idmu */
    pthread_mutex_t idmu;
    bool known[256]; /* ids seen on this gateway or assigned by it (persisted) */
    bool ids_loaded;

    pthread_mutex_t fwmu;
    mys_fw_cache fw;
} mys_prov;

/* ---- transports: open/close return with the reader running / joined ---- */
sb_err mys_fdlink_open(mys_prov *p, sb_errmsg *em);
void mys_fdlink_close(mys_prov *p);
sb_err mys_mqlink_open(mys_prov *p, sb_errmsg *em);
void mys_mqlink_close(mys_prov *p);

/* Writes one line to the device over whichever transport is open; SB_ERR_CLOSED when none. */
sb_err mys_write(mys_prov *p, const sb_mys_line *line, sb_errmsg *em);

/* mys_rx.c: handles one received line of len bytes (no line end needed). Any thread. */
void mys_rx_line(mys_prov *p, const char *text, size_t len);
/* Counts and logs a line that could not be read (oversized, bad topic ...). */
void mys_rx_malformed(mys_prov *p, const char *text, size_t len, const char *why);

/* mys_ids.c: notes a node id seen on the link (persisted the first time). */
void mys_ids_seen(mys_prov *p, unsigned id);
/* The next free id for a node that asks; SB_ERR_FULL when 1..254 are taken. */
sb_err mys_ids_assign(mys_prov *p, uint8_t *id, sb_errmsg *em);

/*
 * mys_fw.c: the firmware assigned to node (node document labels.firmware or
 * others.firmwareId), prepared. SB_ERR_NOTFOUND when the node has none. Call with fwmu held;
 * *fw is borrowed from the cache until fwmu is released.
 */
sb_err mys_fw_for_node(mys_prov *p, unsigned node, const sb_mys_firmware **fw, sb_errmsg *em);
void mys_fw_cache_free(mys_fw_cache *c);
/* Standard base64 (with or without padding, no line breaks); caller frees *out. */
sb_err mys_base64_decode(const char *text, uint8_t **out, size_t *n, sb_errmsg *em);

#endif
