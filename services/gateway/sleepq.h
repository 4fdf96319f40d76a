/*
 * sleepq.h - the sleeping-node queue: messages for a node that sleeps are held until the node
 * says it is awake, then sent oldest first.
 *
 * Bounds: at most max_per_node messages per node (adding one more drops the node's oldest);
 * a message older than validity_ms is dropped instead of sent; a new message for the same node,
 * source, type and first payload key replaces the held one (the newest value wins and takes the
 * newest place). Pure (the caller passes a monotonic time); not thread-safe, the owner locks.
 */
#ifndef SB_GW_SLEEPQ_H
#define SB_GW_SLEEPQ_H

#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

typedef struct gw_sleepq gw_sleepq;

/* NULL on allocation failure. validity_ms 0 = messages never expire. */
gw_sleepq *gw_sleepq_new(size_t max_per_node, int64_t validity_ms);

/*
 * Holds m (takes ownership; freed on failure). *dropped (may be NULL) counts the messages this
 * add pushed out: a replaced one or the node's oldest when it was full.
 */
sb_err gw_sleepq_add(gw_sleepq *q, sb_msg *m, int64_t now_ms, size_t *dropped);

/*
 * Takes the node's messages that are still valid, oldest first, into *out (a malloc'd array the
 * caller frees, with each message, via sb_msg_free). Returns how many; expired ones are freed
 * and counted in *expired (may be NULL).
 */
size_t gw_sleepq_take(gw_sleepq *q, const char *node_id, int64_t now_ms, sb_msg ***out,
                      size_t *expired);

/* Messages held for node_id, or for every node when node_id is NULL. */
size_t gw_sleepq_count(const gw_sleepq *q, const char *node_id);

/* Drops every expired message; returns how many. */
size_t gw_sleepq_purge(gw_sleepq *q, int64_t now_ms);

void gw_sleepq_free(gw_sleepq *q); /* accepts NULL */

#endif
