/* msgq.c - ring-buffer FIFO of messages (msgq.h). */
#include "services/gateway/msgq.h"

#include <stdlib.h>

static bool grow(gw_msgq *q)
{
    if (q->n < q->cap)
        return true;
    size_t cap = q->cap ? q->cap * 2 : 16;
    sb_msg **items = malloc(cap * sizeof(*items));
    if (!items)
        return false;
    for (size_t i = 0; i < q->n; i++)
        items[i] = q->items[(q->head + i) % q->cap];
    free(q->items);
    q->items = items;
    q->head = 0;
    q->cap = cap;
    return true;
}

bool gw_msgq_push_back(gw_msgq *q, sb_msg *m)
{
    if (!grow(q))
        return false;
    q->items[(q->head + q->n++) % q->cap] = m;
    return true;
}

bool gw_msgq_push_front(gw_msgq *q, sb_msg *m)
{
    if (!grow(q))
        return false;
    q->head = (q->head + q->cap - 1) % q->cap;
    q->items[q->head] = m;
    q->n++;
    return true;
}

sb_msg *gw_msgq_pop(gw_msgq *q)
{
    if (q->n == 0)
        return NULL;
    sb_msg *m = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return m;
}

void gw_msgq_free(gw_msgq *q)
{
    sb_msg *m;
    while ((m = gw_msgq_pop(q)))
        sb_msg_free(m);
    SB_FREE(q->items);
    q->head = q->n = q->cap = 0;
}
