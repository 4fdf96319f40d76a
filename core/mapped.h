/*
 * mapped.h - what a device-protocol mapping made of one input (an MQTT publish, a line): the
 * messages for the processor and the notes on what was skipped and why. The gateway providers'
 * pure mapping libraries (ESPHome, generic MQTT, Zigbee2MQTT) collect into it; the provider
 * hands the messages to the host and logs the notes (gateways/provider.h sb_gateway_deliver).
 */
#ifndef SB_MAPPED_H
#define SB_MAPPED_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msg.h"

#define SB_MAPPED_NOTES_MAX 16 /* notes kept; skipped counts them all */

typedef struct sb_mapped {
    sb_msg **msgs; /* owned; hand each on and set the slot to NULL, or free */
    size_t n;
    char *notes[SB_MAPPED_NOTES_MAX]; /* owned */
    size_t n_notes;
    size_t skipped; /* values or keys skipped (notes may hold fewer) */
    bool nomem;     /* an allocation failed on the way */
} sb_mapped;

/* Counts one skipped thing and keeps its note (printf-like) while there is room. */
void sb_mapped_note(sb_mapped *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message of node/source and type, created (for gateway_id) the first time; NULL (and
 * nomem) on allocation failure. */
sb_msg *sb_mapped_msg(sb_mapped *r, const char *gateway_id, const char *node, const char *source,
                      sb_msg_type type);

/*
 * Adds a payload to m (may be NULL: nothing happens), noting instead an empty or too long key,
 * value or unit, or a key m already has (the first is kept). unit "" or NULL = none.
 */
void sb_mapped_add(sb_mapped *r, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                   const char *unit);

/* Drops the messages that got no payload; on an earlier allocation failure frees everything
 * and returns SB_ERR_NOMEM. */
sb_err sb_mapped_finish(sb_mapped *r);

/* Frees the messages and notes and zeroes r (accepts NULL). */
void sb_mapped_free(sb_mapped *r);

#endif
