/* msgq.h - a growable FIFO of owned messages (ring buffer). Not thread-safe; the owner locks. */
#ifndef SB_GW_MSGQ_H
#define SB_GW_MSGQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msg.h"

typedef struct gw_msgq {
    sb_msg **items;
    size_t head, n, cap;
} gw_msgq;

/* Take ownership of m on success; false (m untouched) when memory runs out. */
bool gw_msgq_push_back(gw_msgq *q, sb_msg *m);
bool gw_msgq_push_front(gw_msgq *q, sb_msg *m);
/* The oldest message (caller owns it), or NULL when empty. */
sb_msg *gw_msgq_pop(gw_msgq *q);
/* Frees every held message and the buffer. */
void gw_msgq_free(gw_msgq *q);

#endif
