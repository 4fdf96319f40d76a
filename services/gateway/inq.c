/* inq.c - the overflow queue of received messages (inq.h). */
#include "services/gateway/inq.h"

#include <stdlib.h>
#include <string.h>

struct gw_inq_item {
    gw_inq_item *next;
    size_t len;
    char text[];
};

void gw_inq_init(gw_inq *q, size_t max)
{
    q->head = q->tail = NULL;
    q->n = 0;
    q->max = max;
}

bool gw_inq_push(gw_inq *q, const char *text, size_t len)
{
    if (q->n >= q->max)
        return false;
    gw_inq_item *it = malloc(sizeof(*it) + len);
    if (!it)
        return false;
    it->next = NULL;
    it->len = len;
    memcpy(it->text, text, len);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
    return true;
}

size_t gw_inq_drain(gw_inq *q, bool (*take)(void *ctx, const char *text, size_t len), void *ctx)
{
    size_t taken = 0;
    while (q->head && take(ctx, q->head->text, q->head->len)) {
        gw_inq_item *it = q->head;
        if (!(q->head = it->next))
            q->tail = NULL;
        free(it);
        q->n--;
        taken++;
    }
    return taken;
}

size_t gw_inq_free(gw_inq *q)
{
    size_t n = q->n;
    while (q->head) {
        gw_inq_item *it = q->head;
        q->head = it->next;
        free(it);
    }
    q->tail = NULL;
    q->n = 0;
    return n;
}
