/* sleepq.c - the sleeping-node queue (sleepq.h). Per node a small array; nodes are few. */
#include "core/buf.h"
#include "services/gateway/sleepq.h"

#include <stdlib.h>
#include <string.h>

typedef struct held {
    sb_msg *msg;
    int64_t added_ms;
} held;

typedef struct node_q {
    char *node_id;
    held *items; /* oldest first */
    size_t n;
} node_q;

struct gw_sleepq {
    node_q *nodes;
    size_t n_nodes, cap_nodes;
    size_t max_per_node;
    int64_t validity_ms;
};

gw_sleepq *gw_sleepq_new(size_t max_per_node, int64_t validity_ms)
{
    gw_sleepq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->max_per_node = max_per_node ? max_per_node : 1;
    q->validity_ms = validity_ms > 0 ? validity_ms : 0;
    return q;
}

static node_q *find_node(const gw_sleepq *q, const char *node_id)
{
    for (size_t i = 0; i < q->n_nodes; i++)
        if (strcmp(q->nodes[i].node_id, node_id) == 0)
            return &q->nodes[i];
    return NULL;
}

static node_q *add_node(gw_sleepq *q, const char *node_id)
{
    if (sb_array_reserve(&q->nodes, &q->cap_nodes, q->n_nodes + 1, sizeof(*q->nodes), 8) != SB_OK)
        return NULL;
    node_q *nq = &q->nodes[q->n_nodes];
    memset(nq, 0, sizeof(*nq));
    nq->node_id = strdup(node_id);
    nq->items = calloc(q->max_per_node, sizeof(held));
    if (!nq->node_id || !nq->items) {
        free(nq->node_id);
        free(nq->items);
        return NULL;
    }
    q->n_nodes++;
    return nq;
}

static const char *first_key(const sb_msg *m)
{
    return m->n_payloads ? m->payloads[0].key : "";
}

/* The same field and type: a newer message for it makes the held one obsolete. */
static bool same_target(const sb_msg *a, const sb_msg *b)
{
    return a->type == b->type &&
           strcmp(a->source_id ? a->source_id : "", b->source_id ? b->source_id : "") == 0 &&
           strcmp(first_key(a), first_key(b)) == 0;
}

static void remove_at(node_q *nq, size_t i)
{
    sb_msg_free(nq->items[i].msg);
    memmove(&nq->items[i], &nq->items[i + 1], (nq->n - i - 1) * sizeof(held));
    nq->n--;
}

sb_err gw_sleepq_add(gw_sleepq *q, sb_msg *m, int64_t now_ms, size_t *dropped)
{
    size_t drop = 0;
    const char *node_id = m->node_id ? m->node_id : "";
    node_q *nq = find_node(q, node_id);
    if (!nq)
        nq = add_node(q, node_id);
    if (!nq) {
        sb_msg_free(m);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < nq->n; i++) {
        if (same_target(nq->items[i].msg, m)) {
            remove_at(nq, i);
            drop++;
            break;
        }
    }
    if (nq->n == q->max_per_node) {
        remove_at(nq, 0);
        drop++;
    }
    nq->items[nq->n++] = (held){.msg = m, .added_ms = now_ms};
    if (dropped)
        *dropped = drop;
    return SB_OK;
}

static bool expired(const gw_sleepq *q, const held *h, int64_t now_ms)
{
    return q->validity_ms > 0 && now_ms - h->added_ms > q->validity_ms;
}

size_t gw_sleepq_take(gw_sleepq *q, const char *node_id, int64_t now_ms, sb_msg ***out,
                      size_t *n_expired)
{
    *out = NULL;
    size_t n = 0, gone = 0;
    node_q *nq = find_node(q, node_id ? node_id : "");
    if (nq && nq->n) {
        *out = malloc(nq->n * sizeof(sb_msg *));
        for (size_t i = 0; i < nq->n; i++) {
            if (*out && !expired(q, &nq->items[i], now_ms)) {
                (*out)[n++] = nq->items[i].msg;
            } else {
                sb_msg_free(nq->items[i].msg);
                gone++;
            }
        }
        nq->n = 0;
    }
    if (n_expired)
        *n_expired = gone;
    if (n == 0)
        SB_FREE(*out);
    return n;
}

size_t gw_sleepq_count(const gw_sleepq *q, const char *node_id)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n_nodes; i++)
        if (!node_id || strcmp(q->nodes[i].node_id, node_id) == 0)
            n += q->nodes[i].n;
    return n;
}

size_t gw_sleepq_purge(gw_sleepq *q, int64_t now_ms)
{
    size_t gone = 0;
    for (size_t i = 0; i < q->n_nodes; i++) {
        node_q *nq = &q->nodes[i];
        for (size_t j = 0; j < nq->n;) {
            if (expired(q, &nq->items[j], now_ms)) {
                remove_at(nq, j);
                gone++;
            } else {
                j++;
            }
        }
    }
    return gone;
}

void gw_sleepq_free(gw_sleepq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n_nodes; i++) {
        for (size_t j = 0; j < q->nodes[i].n; j++)
            sb_msg_free(q->nodes[i].items[j].msg);
        free(q->nodes[i].items);
        free(q->nodes[i].node_id);
    }
    free(q->nodes);
    free(q);
}
