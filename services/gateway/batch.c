/* batch.c - batch frames for <p>/msg/in/<gatewayId> (batch.h). */
#include "services/gateway/batch.h"

#include <stdlib.h>

void gw_batch_init(gw_batch *b, size_t max, int64_t delay_ms)
{
    b->msgs = NULL;
    b->n = b->cap = 0;
    b->max = max ? max : 1;
    b->delay_ms = delay_ms < 0 ? 0 : delay_ms;
    b->first_ms = 0;
}

sb_err gw_batch_add(gw_batch *b, sb_msg *m, int64_t now_ms, bool *full)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        sb_msg **grown = realloc(b->msgs, cap * sizeof(*grown));
        if (!grown) {
            sb_msg_free(m);
            return SB_ERR_NOMEM;
        }
        b->msgs = grown;
        b->cap = cap;
    }
    if (b->n == 0)
        b->first_ms = now_ms;
    b->msgs[b->n++] = m;
    *full = b->n >= b->max || b->delay_ms == 0;
    return SB_OK;
}

int64_t gw_batch_due_in(const gw_batch *b, int64_t now_ms)
{
    if (b->n == 0)
        return -1;
    if (b->n >= b->max)
        return 0;
    int64_t left = b->first_ms + b->delay_ms - now_ms;
    return left > 0 ? left : 0;
}

char *gw_batch_take(gw_batch *b, size_t *len, size_t *count)
{
    size_t n = b->n;
    char *frame = NULL;
    if (n == 1)
        frame = sb_msg_encode(b->msgs[0], len);
    else if (n > 1)
        frame = sb_msg_encode_batch(b->msgs, n, len);
    for (size_t i = 0; i < n; i++)
        sb_msg_free(b->msgs[i]);
    b->n = 0;
    if (count)
        *count = frame ? n : 0;
    return frame;
}

void gw_batch_free(gw_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        sb_msg_free(b->msgs[i]);
    SB_FREE(b->msgs);
    b->n = b->cap = 0;
}
