/*
 * batch.h - collects the messages a gateway received into batch frames for <p>/msg/in/<id>:
 * a frame is sent when it holds bus.batch_max messages or its first message is
 * bus.batch_delay old. Pure (no bus, no clock): the caller passes the time and publishes.
 * Not thread-safe; the owner locks.
 */
#ifndef SB_GW_BATCH_H
#define SB_GW_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

typedef struct gw_batch {
    sb_msg **msgs; /* owned */
    size_t n, cap;
    size_t max;       /* >= 1 */
    int64_t delay_ms; /* >= 0 */
    int64_t first_ms; /* when msgs[0] was added */
} gw_batch;

void gw_batch_init(gw_batch *b, size_t max, int64_t delay_ms);

/* Takes ownership of m (freed on failure). *full says the batch must be taken now. */
sb_err gw_batch_add(gw_batch *b, sb_msg *m, int64_t now_ms, bool *full);

/* Milliseconds until the batch is due (0 = now), or -1 when it is empty. */
int64_t gw_batch_due_in(const gw_batch *b, int64_t now_ms);

/*
 * Encodes the held messages and empties the batch: one message as an object, several as a JSON
 * array. NULL when empty (or out of memory: the messages are dropped). *count (may be NULL)
 * gets how many messages the frame holds. Caller frees with free().
 */
char *gw_batch_take(gw_batch *b, size_t *len, size_t *count);

/* Frees held messages; the batch can be used again after gw_batch_init. */
void gw_batch_free(gw_batch *b);

#endif
