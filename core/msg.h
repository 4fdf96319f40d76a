/*
 * msg.h - the message: the one structure that flows through the device pipeline
 * (DESIGN.md section 2). Mirrors MyController's Message:
 *
 *   {"id":"<uuid>","gatewayId":"gw1","nodeId":"12","sourceId":"1","type":"set",
 *    "payloads":[{"key":"V_TEMP","value":"21.5","metricType":"gauge_float","unit":"°C",
 *                 "labels":{}}],
 *    "labels":{},"isAck":false,"isReceived":true,"isSleepNode":false,
 *    "timestamp":"2026-11-25T20:00:00.123Z"}
 *
 * An empty sourceId addresses the node; an empty nodeId the gateway. A bus frame holds one
 * message object or a JSON array of them (batch frames on internal hops).
 */
#ifndef SB_MSG_H
#define SB_MSG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Limits that make a frame malformed when exceeded. */
#define SB_MSG_ID_MAX       128        /* gatewayId/nodeId/sourceId/key length */
#define SB_MSG_VALUE_MAX    65536      /* one payload value */
#define SB_MSG_PAYLOADS_MAX 1024       /* payloads in one message */
#define SB_MSG_FRAME_MAX    (4u << 20) /* bytes in one bus frame */
#define SB_MSG_BATCH_MAX    10000      /* messages in one batch frame */
#define SB_MSG_LABELS_MAX   256        /* labels in one map (message or payload) */

/* The timestamps RFC 3339 text can carry: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
#define SB_MSG_TIME_MIN (-62167219200000LL)
#define SB_MSG_TIME_MAX 253402300799999LL

typedef enum sb_msg_type {
    SB_MSG_SET = 0,
    SB_MSG_REQUEST,
    SB_MSG_PRESENTATION,
    SB_MSG_ACTION,
} sb_msg_type;

typedef enum sb_metric_type {
    SB_METRIC_NONE = 0,
    SB_METRIC_STRING,
    SB_METRIC_BINARY,
    SB_METRIC_GAUGE,
    SB_METRIC_GAUGE_FLOAT,
    SB_METRIC_COUNTER,
    SB_METRIC_GEO,
} sb_metric_type;

typedef struct sb_payload {
    char *key;   /* "V_TEMP", "battery", ... (owned) */
    char *value; /* always text on the wire (owned, never NULL) */
    sb_metric_type metric_type;
    char *unit;    /* owned, may be NULL */
    cJSON *labels; /* owned object, may be NULL */
} sb_payload;

typedef struct sb_msg {
    char id[40];
    char *gateway_id; /* owned, never NULL after decode */
    char *node_id;    /* owned, "" for the gateway itself */
    char *source_id;  /* owned, "" for the node itself */
    sb_msg_type type;
    sb_payload *payloads;
    size_t n_payloads;
    cJSON *labels; /* owned object, may be NULL */
    bool is_ack;
    bool is_received;
    bool is_sleep_node;
    int64_t timestamp_ms;
} sb_msg;

/* A new empty message with a fresh id and the current time. Caller frees with sb_msg_free(). */
sb_msg *sb_msg_new(const char *gateway_id, const char *node_id, const char *source_id,
                   sb_msg_type type);

/* Appends a payload (strings copied; unit may be NULL). Returns the payload or NULL. */
sb_payload *sb_msg_add_payload(sb_msg *msg, const char *key, const char *value,
                               sb_metric_type metric_type, const char *unit);

void sb_msg_free(sb_msg *msg);

/* Frees msgs[0..n) and the array itself (accepts NULL). */
void sb_msg_array_free(sb_msg **msgs, size_t n);

/* Frees the messages of msgs[0..n) that have no payload and closes the gaps; returns how many
 * are left (mappings drop the messages whose every value was skipped). */
size_t sb_msg_drop_empty(sb_msg **msgs, size_t n);

/* Deep copy; NULL on allocation failure. */
sb_msg *sb_msg_dup(const sb_msg *msg);

/*
 * Whether two messages carry the same data: NULL and "" strings are equal, a NULL label map
 * equals an empty one, and label maps compare as sets of key/value pairs.
 */
bool sb_msg_equal(const sb_msg *a, const sb_msg *b);

/*
 * Checks the invariants: id 1..39 bytes, gatewayId non-empty, ids/keys/units within
 * SB_MSG_ID_MAX, values within SB_MSG_VALUE_MAX, at most SB_MSG_PAYLOADS_MAX payloads and at
 * least one for set, no sourceId without a nodeId, known enum values, label maps of distinct
 * string values (at most SB_MSG_LABELS_MAX), timestamp within SB_MSG_TIME_MIN..MAX. em names
 * the JSON key ("payloads[2].key"). Every decoded message passes.
 */
sb_err sb_msg_validate(const sb_msg *msg, sb_errmsg *em);

/*
 * Message <-> JSON. to_json returns a new object (NULL on allocation failure). from_json
 * borrows obj (copies what it keeps) and applies the same rules as sb_msg_decode().
 */
cJSON *sb_msg_to_json(const sb_msg *msg);
sb_err sb_msg_from_json(const cJSON *obj, sb_msg **out, sb_errmsg *em);

/*
 * Encodes one message as compact JSON text with every key (docs/message.md); *len (may be
 * NULL) gets its length. Caller frees with free(). The message should pass sb_msg_validate().
 */
char *sb_msg_encode(const sb_msg *msg, size_t *len);

/*
 * Decodes one message frame (a single object), strictly: SB_ERR_TOO_LARGE over a limit,
 * SB_ERR_PARSE (with the byte offset) for bad JSON, SB_ERR_INVALID naming the key otherwise.
 * Absent optional keys take their defaults (a new id, the current time ...). data need not be
 * NUL-terminated. Caller frees *out with sb_msg_free().
 */
sb_err sb_msg_decode(const char *data, size_t len, sb_msg **out, sb_errmsg *em);

/* A decoded frame: one message or a batch. */
typedef struct sb_msg_batch {
    sb_msg **msgs;
    size_t n;
    size_t rejected; /* array items that were malformed and skipped */
} sb_msg_batch;

/*
 * Decodes a frame holding one message object or an array of them. Malformed items of an array
 * are skipped and counted in rejected (em holds the first such problem); a frame that is not
 * JSON, too large or an empty array fails as a whole. Caller frees with sb_msg_batch_free().
 */
sb_err sb_msg_decode_batch(const char *data, size_t len, sb_msg_batch *out, sb_errmsg *em);
void sb_msg_batch_free(sb_msg_batch *batch);

/* Encodes several messages as one JSON array frame; caller frees with free(). */
char *sb_msg_encode_batch(sb_msg *const *msgs, size_t n, size_t *len);

const char *sb_msg_type_name(sb_msg_type type);
sb_err sb_msg_type_parse(const char *name, sb_msg_type *out);
const char *sb_metric_type_name(sb_metric_type type);
sb_err sb_metric_type_parse(const char *name, sb_metric_type *out);

#endif
