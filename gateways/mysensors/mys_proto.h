/*
 * mys_proto.h - the MySensors serial API v2 line: "node;child;command;ack;type;payload\n".
 *
 * Pure functions over caller-owned structs: no allocation, no I/O, no logging. The gateway
 * provider owns the transport (serial, TCP, MQTT) and calls these (docs/gateways/mysensors.md).
 *
 * Limits (a line over any of them is refused with SB_ERR_TOO_LARGE or SB_ERR_INVALID):
 *   - one line is at most SB_MYS_LINE_MAX bytes including its "\n" (or "\r\n");
 *   - node, child and type are decimal 0..255 (1-3 digits, no sign, no spaces), command 0..4,
 *     ack 0 or 1;
 *   - a payload is at most SB_MYS_PAYLOAD_MAX bytes (the nRF24 radio payload), written as text;
 *     stream (command 4) payloads are binary, written as upper/lower-case hex (2 chars a byte,
 *     even length, so at most 2 * SB_MYS_PAYLOAD_MAX chars);
 *   - text the gateway itself writes (I_LOG_MESSAGE, I_GATEWAY_READY, I_DEBUG, I_VERSION from
 *     node 0) never crossed a radio and may be up to SB_MYS_TEXT_MAX chars;
 *   - payload text is printable: no control bytes and no DEL. Bytes >= 0x80 are accepted (UTF-8
 *     sketch names) and passed through. ';' is allowed: the payload is everything after the
 *     fifth ';' (V_POSITION is "lat;lon;alt").
 */
#ifndef SB_MYS_PROTO_H
#define SB_MYS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/msg.h"

#define SB_MYS_LINE_MAX    256 /* bytes of one line including the line end */
#define SB_MYS_PAYLOAD_MAX 25  /* radio payload bytes (32-byte frame - 7-byte header) */
#define SB_MYS_TEXT_MAX    200 /* gateway-local text payloads (log lines, ready banner) */

#define SB_MYS_GATEWAY_NODE 0   /* the gateway's own node id */
#define SB_MYS_BROADCAST    255 /* node id of "everyone" and of a node that has no id yet */
#define SB_MYS_NODE_CHILD   255 /* child id addressing the node itself */

typedef enum sb_mys_cmd {
    SB_MYS_PRESENTATION = 0,
    SB_MYS_SET = 1,
    SB_MYS_REQ = 2,
    SB_MYS_INTERNAL = 3,
    SB_MYS_STREAM = 4,
} sb_mys_cmd;

/* Internal (command 3) types. */
enum {
    SB_MYS_I_BATTERY_LEVEL = 0,
    SB_MYS_I_TIME = 1,
    SB_MYS_I_VERSION = 2,
    SB_MYS_I_ID_REQUEST = 3,
    SB_MYS_I_ID_RESPONSE = 4,
    SB_MYS_I_INCLUSION_MODE = 5,
    SB_MYS_I_CONFIG = 6,
    SB_MYS_I_FIND_PARENT_REQUEST = 7,
    SB_MYS_I_FIND_PARENT_RESPONSE = 8,
    SB_MYS_I_LOG_MESSAGE = 9,
    SB_MYS_I_CHILDREN = 10,
    SB_MYS_I_SKETCH_NAME = 11,
    SB_MYS_I_SKETCH_VERSION = 12,
    SB_MYS_I_REBOOT = 13,
    SB_MYS_I_GATEWAY_READY = 14,
    SB_MYS_I_SIGNING_PRESENTATION = 15,
    SB_MYS_I_NONCE_REQUEST = 16,
    SB_MYS_I_NONCE_RESPONSE = 17,
    SB_MYS_I_HEARTBEAT_REQUEST = 18,
    SB_MYS_I_PRESENTATION = 19,
    SB_MYS_I_DISCOVER_REQUEST = 20,
    SB_MYS_I_DISCOVER_RESPONSE = 21,
    SB_MYS_I_HEARTBEAT_RESPONSE = 22,
    SB_MYS_I_LOCKED = 23,
    SB_MYS_I_PING = 24,
    SB_MYS_I_PONG = 25,
    SB_MYS_I_REGISTRATION_REQUEST = 26,
    SB_MYS_I_REGISTRATION_RESPONSE = 27,
    SB_MYS_I_DEBUG = 28,
    SB_MYS_I_SIGNAL_REPORT_REQUEST = 29,
    SB_MYS_I_SIGNAL_REPORT_REVERSE = 30,
    SB_MYS_I_SIGNAL_REPORT_RESPONSE = 31,
    SB_MYS_I_PRE_SLEEP_NOTIFICATION = 32,
    SB_MYS_I_POST_SLEEP_NOTIFICATION = 33,
};

/* Stream (command 4) types. */
enum {
    SB_MYS_ST_FIRMWARE_CONFIG_REQUEST = 0,
    SB_MYS_ST_FIRMWARE_CONFIG_RESPONSE = 1,
    SB_MYS_ST_FIRMWARE_REQUEST = 2,
    SB_MYS_ST_FIRMWARE_RESPONSE = 3,
    SB_MYS_ST_SOUND = 4,
    SB_MYS_ST_IMAGE = 5,
    SB_MYS_ST_FIRMWARE_CONFIRM = 6,
    SB_MYS_ST_FIRMWARE_RESPONSE_RLE = 7,
};

/* The presentation / value types the devsim and tests name. */
enum {
    SB_MYS_S_BINARY = 3,
    SB_MYS_S_TEMP = 6,
    SB_MYS_S_HUM = 7,
    SB_MYS_S_ARDUINO_NODE = 17,
    SB_MYS_S_ARDUINO_REPEATER_NODE = 18,
    SB_MYS_V_TEMP = 0,
    SB_MYS_V_HUM = 1,
    SB_MYS_V_STATUS = 2,
};

/* One parsed line. payload is NUL-terminated text as it appeared on the line (hex for streams). */
typedef struct sb_mys_line {
    uint8_t node;
    uint8_t child;
    uint8_t cmd; /* sb_mys_cmd */
    uint8_t ack; /* 0 or 1 */
    uint8_t type;
    size_t payload_len;
    char payload[SB_MYS_LINE_MAX];
} sb_mys_line;

/*
 * Parses exactly one line of len bytes (need not be NUL-terminated); one trailing "\n" or "\r\n"
 * is allowed. Strict: every limit above, exactly six fields. em names the field and value.
 */
sb_err sb_mys_parse(const char *data, size_t len, sb_mys_line *out, sb_errmsg *em);

/*
 * Checks a line built by hand against the same rules (ranges, payload size and characters).
 * sb_mys_format() calls it.
 */
sb_err sb_mys_validate(const sb_mys_line *line, sb_errmsg *em);

/*
 * Writes the line with its "\n" and a NUL into buf; *written (may be NULL) gets the length
 * without the NUL. SB_ERR_TOO_LARGE when buf is short, SB_ERR_INVALID for a bad line.
 */
sb_err sb_mys_format(const sb_mys_line *line, char *buf, size_t len, size_t *written);

/* Fills a line; payload may be NULL (empty). SB_ERR_TOO_LARGE when the payload does not fit. */
sb_err sb_mys_line_set(sb_mys_line *line, unsigned node, unsigned child, unsigned cmd, unsigned ack,
                       unsigned type, const char *payload);

/* ---- type tables (mys_tables.c) ---- */

/* What a V_ type carries by default. */
typedef struct sb_mys_vinfo {
    const char *name;          /* "V_TEMP" */
    sb_metric_type metric;     /* the field's default metric type */
    const char *unit;          /* metric unit, NULL when none */
    const char *unit_imperial; /* unit under the imperial setting */
} sb_mys_vinfo;

/* "presentation", "set", "req", "internal", "stream"; NULL when out of range. */
const char *sb_mys_cmd_name(unsigned cmd);

/*
 * The name of a type of a command ("S_TEMP", "V_TEMP", "I_TIME", "ST_FIRMWARE_REQUEST"), NULL
 * when the protocol defines none. Set and req share the V_ table.
 */
const char *sb_mys_type_name(unsigned cmd, unsigned type);

/* The reverse, also accepting the 1.x aliases (V_LIGHT, V_DIMMER, S_LIGHT ...). */
sb_err sb_mys_type_parse(unsigned cmd, const char *name, unsigned *type);

/* V_ type info; NULL when unknown. */
const sb_mys_vinfo *sb_mys_vinfo_get(unsigned type);

/* Switchboard's source type for an S_ type ("temperature", "binary", "node"); NULL when unknown. */
const char *sb_mys_source_type(unsigned s_type);

/* The number of entries of each table (the highest known type + 1). */
unsigned sb_mys_type_count(unsigned cmd);

#endif
