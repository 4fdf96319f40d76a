/*
 * mys_msg.h - MySensors lines <-> Switchboard messages (core/msg.h), and the answers a
 * controller gives (time, config, node id). Pure functions; the mapping tables are in
 * docs/gateways/mysensors.md.
 */
#ifndef SB_MYS_MSG_H
#define SB_MYS_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/msg.h"
#include "gateways/mysensors/mys_proto.h"

typedef struct sb_mys_opts {
    const char *gateway_id; /* borrowed; the message's gatewayId */
    bool imperial;          /* the controller's unit setting: °F instead of °C */
} sb_mys_opts;

/*
 * Converts a received line into a message (isReceived true, a fresh id and the current time).
 * - SB_OK with *out set: caller frees with sb_msg_free().
 * - SB_OK with *out NULL: the line is valid but carries nothing for the pipeline (radio-level
 *   traffic, log text, our own answers echoed); *dropped (may be NULL) gets a static reason.
 * - SB_ERR_UNSUPPORTED: a type this protocol version does not define (em names it).
 * - SB_ERR_INVALID: a payload that does not fit its type (battery not 0..100 ...).
 */
sb_err sb_mys_to_msg(const sb_mys_line *line, const sb_mys_opts *opts, sb_msg **out,
                     const char **dropped, sb_errmsg *em);

/*
 * Converts payload i of an outgoing message into a line:
 * - set with a V_ key -> "n;c;1;ack;type;value" (binary values on/true/1 -> 1, off/false/0 -> 0);
 * - request with a V_ key -> "n;c;2;ack;type;";
 * - any type with an I_ or ST_ key -> command 3/4 with the value as payload; actions also
 *   accept "reboot", "discover", "heartbeat", "refresh_node_info" and "signal_report".
 * nodeId "" is the gateway (0), sourceId "" the node (255); ack is msg->is_ack.
 */
sb_err sb_mys_from_msg(const sb_msg *msg, size_t i, sb_mys_line *out, sb_errmsg *em);

/* ---- controller answers (mys_controller.c) ---- */

/* I_TIME answer: seconds since the epoch in the controller's local time (now + utc_offset). */
sb_err sb_mys_answer_time(unsigned node, int64_t now_ms, int32_t utc_offset_s, sb_mys_line *out);

/* I_CONFIG answer: "M" (metric) or "I" (imperial). */
sb_err sb_mys_answer_config(unsigned node, bool imperial, sb_mys_line *out);

/*
 * The lowest free node id in 1..254 that is not in used (n entries; ids outside 1..254 are
 * ignored). SB_ERR_FULL when all 254 are taken.
 */
sb_err sb_mys_next_free_id(const uint8_t *used, size_t n, uint8_t *id);

/* I_ID_RESPONSE to a node that has no id yet: "255;255;3;0;4;<id>". */
sb_err sb_mys_answer_id(uint8_t id, sb_mys_line *out);

#endif
