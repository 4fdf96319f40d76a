/*
 * stream.h - application-level acknowledgement on internal bus hops (DESIGN.md section 2,
 * docs/bus.md "Frames and acknowledgement").
 *
 * paho acknowledges a QoS 1 publish before the application has handled it, so a killed
 * consumer loses what paho had taken. A stream fixes that end to end:
 *
 *   producer --frame {"stream","epoch","seq","items":[...]}--> consumer (QoS 1)
 *   producer <--------- "<p>/ack/<stream>" {"epoch","seq"} ---- consumer (QoS 1)
 *
 * - A producer (one per stream, e.g. per gateway id) collects items into frames of at most
 *   batch_max items or batch_delay ms (an item added while no frame waits for its ack is sent
 *   at once: batching only under load), numbers them seq = 1, 2, 3 ... within its epoch (its
 *   start time in ms unless given), publishes them and keeps each frame in memory until an ack
 *   covers it. An ack {"seq": N} means every frame <= N of that epoch is durable. Unacknowledged
 *   frames are published again, in order, after a reconnect, when the oldest has waited
 *   resend_ms, or at once when the consumer reports a gap. The window is bounded
 *   (max_frames): sb_stream_add() returns SB_ERR_FULL instead of growing.
 * - A consumer applies a frame only when it is the next one (seq == last + 1 in the same epoch,
 *   or seq 1 of a newer epoch), stores the stream position in the same transaction as the
 *   frame's effects, then acks. Older frames are duplicates (dropped, acked again so the
 *   producer lets go); a frame after a hole is not applied and answered with
 *   {"epoch","seq":last,"gap":true} so the producer resends from the hole: effects are applied
 *   exactly once and in order.
 * - Plain frames without the envelope (one message object or an array, as devices publish
 *   over MQTT) are accepted too; they are applied without dedup or ack.
 *
 * The seq travels in the JSON envelope (not MQTT v5 user properties) so that the protocol also
 * works on MQTT 3.1.1 brokers and in bridged setups that drop properties.
 *
 * Epochs are wall-clock milliseconds: a producer restarted after a clock step backwards must be
 * given an explicit, larger epoch, or the consumer takes its frames for stale ones.
 */
#ifndef SB_STREAM_H
#define SB_STREAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"

#define SB_STREAM_NAME_MAX 128

/* ---- frames (both sides) ------------------------------------------------------------------ */

typedef struct sb_stream_frame {
    bool sequenced;                  /* false: a plain frame (no envelope) */
    char stream[SB_STREAM_NAME_MAX]; /* "" for a plain frame */
    int64_t epoch;                   /* > 0 when sequenced */
    int64_t seq;                     /* >= 1 when sequenced */
    cJSON *items;                    /* owned array of the items (never NULL after decode) */
} sb_stream_frame;

/*
 * Decodes a frame: the envelope {"stream","epoch","seq","items":[...]}, a plain array, or a
 * plain object (becomes a one-item array). Items are not interpreted. SB_ERR_TOO_LARGE over
 * SB_MSG_FRAME_MAX bytes, SB_ERR_PARSE for bad JSON, SB_ERR_INVALID naming the bad envelope
 * key. data need not be NUL-terminated. Free with sb_stream_frame_free().
 */
sb_err sb_stream_decode(const char *data, size_t len, sb_stream_frame *out, sb_errmsg *em);
void sb_stream_frame_free(sb_stream_frame *f);

/* Encodes an envelope around items (borrowed). Caller frees with free(). NULL on no memory. */
char *sb_stream_encode(const char *stream, int64_t epoch, int64_t seq, const cJSON *items,
                       size_t *len);

/* Whether name can be a stream name: a valid MQTT topic level of 1..127 bytes without + # /. */
bool sb_stream_name_valid(const char *name);

/* ---- consumer side ---------------------------------------------------------------------- */

/* Where a consumer stands in a stream: the last applied frame. {0, 0} = nothing yet. */
typedef struct sb_stream_pos {
    int64_t epoch;
    int64_t seq;
} sb_stream_pos;

typedef enum sb_stream_verdict {
    SB_STREAM_APPLY = 0, /* the next frame: apply, store the new position, ack */
    SB_STREAM_DUPLICATE, /* already applied: drop, ack the position again */
    SB_STREAM_GAP,       /* a frame is missing before it: drop, ack with gap so it is resent */
    SB_STREAM_STALE,     /* from an older producer epoch: drop silently */
} sb_stream_verdict;

/* The rule above for a sequenced frame against the stored position. */
sb_stream_verdict sb_stream_check(const sb_stream_pos *last, const sb_stream_frame *f);

/* The position after applying f (call only for SB_STREAM_APPLY). */
sb_stream_pos sb_stream_next(const sb_stream_frame *f);

/* The store document of a position, {"id":stream,"epoch","seq"} (kind "_stream"); caller frees. */
cJSON *sb_stream_pos_doc(const char *stream, const sb_stream_pos *pos);
/* Reads a position document; SB_ERR_INVALID when it is not one. */
sb_err sb_stream_pos_parse(const cJSON *doc, char *stream, size_t len, sb_stream_pos *out);

/* Publishes the ack for pos on "<p>/ack/<stream>" (QoS 1); gap marks a hole after pos. */
sb_err sb_stream_ack(sb_bus *bus, const char *stream, const sb_stream_pos *pos, bool gap);

/* ---- producer side ---------------------------------------------------------------------- */

typedef struct sb_stream_producer sb_stream_producer;

typedef struct sb_stream_producer_opts {
    sb_bus *bus;            /* borrowed; must outlive the producer */
    const char *stream;     /* copied; see sb_stream_name_valid() */
    const char *topic;      /* full topic frames go to, e.g. "<p>/msg/in/gw1"; copied */
    size_t batch_max;       /* items per frame; 0 = 500 (use cfg->bus.batch_max) */
    int64_t batch_delay_ms; /* longest wait to fill a frame; 0 sends each add at once */
    size_t max_frames;      /* unacknowledged frames kept; 0 = 1000 */
    int64_t resend_ms;      /* resend when the oldest frame waited this long; 0 = 5000 */
    int64_t epoch;          /* 0 = the wall clock in ms at create */
} sb_stream_producer_opts;

typedef struct sb_stream_producer_stats {
    uint64_t items;      /* items accepted by sb_stream_add */
    uint64_t frames;     /* frames sealed (numbered) */
    uint64_t published;  /* frame publishes, first sends and resends */
    uint64_t resent;     /* frame publishes that were resends */
    uint64_t acks;       /* acks received for this stream and epoch */
    uint64_t full;       /* sb_stream_add calls refused with SB_ERR_FULL */
    uint64_t unacked;    /* frames waiting for an ack now */
    uint64_t open_items; /* items in the frame being filled */
    int64_t epoch;
    int64_t last_acked; /* highest seq acknowledged */
} sb_stream_producer_stats;

/*
 * Creates the producer, subscribes to "<p>/ack/<stream>" and starts its timer thread (batch
 * delay, resend). Destroy with sb_stream_producer_destroy().
 */
sb_err sb_stream_producer_create(const sb_stream_producer_opts *opts, sb_stream_producer **out,
                                 sb_errmsg *em);

/*
 * Adds one item; takes ownership of item in every case (deleted on failure). The item joins
 * the open frame, which is sealed and published when it holds batch_max items (or after
 * batch_delay ms). SB_ERR_FULL when max_frames are unacknowledged and the open frame is full:
 * the caller slows down (backpressure); nothing was queued.
 */
sb_err sb_stream_add(sb_stream_producer *p, cJSON *item);

/*
 * The same with the item already as JSON text (one value, e.g. from sb_msg_encode), copied:
 * the caller keeps item in every case, so on SB_ERR_FULL it can simply try again later.
 */
sb_err sb_stream_add_text(sb_stream_producer *p, const char *item, size_t len);

/* Seals and publishes the open frame now (no-op when it is empty). */
sb_err sb_stream_flush(sb_stream_producer *p);

/* Waits until every item added so far is acknowledged; SB_ERR_TIMEOUT after timeout_ms. */
sb_err sb_stream_wait_acked(sb_stream_producer *p, int64_t timeout_ms);

void sb_stream_producer_get_stats(sb_stream_producer *p, sb_stream_producer_stats *out);

/*
 * Stops the timer, unsubscribes and frees; unacknowledged frames are lost with it (call
 * sb_stream_wait_acked first to drain). Accepts NULL.
 */
void sb_stream_producer_destroy(sb_stream_producer *p);

#endif
