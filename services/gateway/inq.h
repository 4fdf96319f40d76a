/*
 * inq.h - the overflow queue of received messages: encoded messages (JSON text) waiting for
 * room in the msg/in stream's window. A bounded FIFO; not thread-safe, the owner locks.
 */
#ifndef SB_GW_INQ_H
#define SB_GW_INQ_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_inq_item gw_inq_item;

typedef struct gw_inq {
    gw_inq_item *head, *tail;
    size_t n, max;
} gw_inq;

/* An empty queue holding at most max items (0: holds nothing). */
void gw_inq_init(gw_inq *q, size_t max);
/* Appends a copy of text; false when the queue is full or memory runs out (nothing queued). */
bool gw_inq_push(gw_inq *q, const char *text, size_t len);
/*
 * Offers the items oldest first to take() until it returns false; the items it took are
 * removed. Returns how many were taken.
 */
size_t gw_inq_drain(gw_inq *q, bool (*take)(void *ctx, const char *text, size_t len), void *ctx);
/* Frees every item; returns how many there were. */
size_t gw_inq_free(gw_inq *q);

#endif
