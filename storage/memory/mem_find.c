/*
 * mem_find.c - find for one kind: candidates from the smallest usable equality index (or every
 * document), sb_query_match on each without copying, then only as much ordering as the page
 * needs: a bounded heap keeps the best offset+limit documents (top-k) before the final sort.
 */
#include "storage/memory/memory.h"

#include <stdlib.h>
#include <string.h>

#include "storage/query_index.h"

static const mem_bucket *bucket(const mem_index *ix, const cJSON *v)
{
    char key[MEM_KEY_LEN];
    if (!sb_query_index_key(v, key, sizeof(key)))
        return NULL;
    return mem_map_get(&ix->buckets, key);
}

/* How many candidates filter f would give through its index; SIZE_MAX when it cannot. */
static size_t index_cost(const mem_kind *k, const sb_filter *f)
{
    const mem_index *ix = mem_kind_index(k, f->key);
    if (!ix || (f->op != SB_OP_EQ && f->op != SB_OP_IN))
        return SIZE_MAX;
    if (f->op == SB_OP_EQ) {
        if (cJSON_IsArray(f->value) || cJSON_IsObject(f->value))
            return SIZE_MAX;
        const mem_bucket *b = bucket(ix, f->value);
        return b ? b->n : 0;
    }
    size_t n = 0;
    for (const cJSON *e = f->value->child; e; e = e->next) {
        if (cJSON_IsArray(e) || cJSON_IsObject(e))
            return SIZE_MAX;
        const mem_bucket *b = bucket(ix, e);
        n += b ? b->n : 0;
    }
    return n;
}

static int cmp_ptr(const void *a, const void *b)
{
    const mem_doc *x = *(mem_doc *const *)a, *y = *(mem_doc *const *)b;
    return x < y ? -1 : x > y;
}

/* The candidate documents: *own is the malloc'd list, or NULL when *out is k->docs. */
static sb_err candidates(const mem_kind *k, const sb_query *q, mem_doc ***out, size_t *n,
                         mem_doc ***own)
{
    const sb_filter *best = NULL;
    size_t cost = SIZE_MAX;
    for (size_t i = 0; q && i < q->n_filters; i++) {
        size_t c = index_cost(k, &q->filters[i]);
        if (c < cost)
            cost = c, best = &q->filters[i];
    }
    *own = NULL;
    if (!best) {
        *out = k->docs;
        *n = k->n;
        return SB_OK;
    }
    mem_doc **list = malloc((cost ? cost : 1) * sizeof(*list));
    if (!list)
        return SB_ERR_NOMEM;
    const mem_index *ix = mem_kind_index(k, best->key);
    size_t m = 0;
    const cJSON *one = best->op == SB_OP_EQ ? best->value : best->value->child;
    for (const cJSON *e = one; e; e = best->op == SB_OP_EQ ? NULL : e->next) {
        const mem_bucket *b = bucket(ix, e);
        if (b)
            memcpy(list + m, b->docs, b->n * sizeof(*list)), m += b->n;
    }
    if (best->op == SB_OP_IN && m > 1) { /* an array-valued field may sit in several buckets */
        qsort(list, m, sizeof(*list), cmp_ptr);
        size_t u = 1;
        for (size_t i = 1; i < m; i++)
            if (list[i] != list[u - 1])
                list[u++] = list[i];
        m = u;
    }
    *out = *own = list;
    *n = m;
    return SB_OK;
}

/* A match with its sort values extracted once. */
typedef struct hit {
    mem_doc *d;
    sb_sort_val *vals;
} hit;

static int cmp_hits(const void *a, const void *b, void *q)
{
    const hit *x = a, *y = b;
    return sb_query_compare_values(q, x->vals, x->d->id, y->vals, y->d->id);
}

static void sift_down(hit *h, size_t n, size_t i, const sb_query *q)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < n && cmp_hits(&h[l], &h[top], (void *)q) > 0)
            top = l;
        if (r < n && cmp_hits(&h[r], &h[top], (void *)q) > 0)
            top = r;
        if (top == i)
            return;
        hit t = h[i];
        h[i] = h[top];
        h[top] = t;
        i = top;
    }
}

/* Leaves the k smallest of v[0..n) in v[0..k), sorted: a max-heap of k, then a sort of k. */
static void top_k(hit *v, size_t n, size_t k, const sb_query *q)
{
    if (k < n) {
        for (size_t i = k / 2; i-- > 0;)
            sift_down(v, k, i, q);
        for (size_t i = k; i < n; i++) {
            if (cmp_hits(&v[i], &v[0], (void *)q) < 0) {
                v[0] = v[i];
                sift_down(v, k, 0, q);
            }
        }
    }
    qsort_r(v, k < n ? k : n, sizeof(*v), cmp_hits, (void *)q);
}

/* Orders docs[0..m) by q and keeps the first end of them. */
static sb_err order(mem_doc **docs, size_t m, size_t end, const sb_query *q)
{
    size_t n_sort = q ? q->n_sort : 0;
    hit *h = malloc((m ? m : 1) * sizeof(*h));
    sb_sort_val *vals = malloc((m * n_sort > 0 ? m * n_sort : 1) * sizeof(*vals));
    if (!h || !vals) {
        free(h);
        free(vals);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < m; i++) {
        h[i] = (hit){.d = docs[i], .vals = vals + i * n_sort};
        sb_query_sort_values(q, docs[i]->doc, h[i].vals);
    }
    top_k(h, m, end, q);
    for (size_t i = 0; i < end; i++)
        docs[i] = h[i].d;
    free(h);
    free(vals);
    return SB_OK;
}

sb_err mem_kind_select(const mem_kind *k, const sb_query *q, bool page, mem_doc ***out, size_t *n,
                       size_t *count)
{
    mem_doc **cand, **own, **hits = NULL;
    size_t n_cand = 0, m = 0;
    *out = NULL;
    *n = *count = 0;
    if (k && candidates(k, q, &cand, &n_cand, &own) != SB_OK)
        return SB_ERR_NOMEM;
    if (!k || n_cand == 0)
        return SB_OK;
    hits = own ? own : malloc(n_cand * sizeof(*hits)); /* filtering in place is safe */
    if (!hits)
        return SB_ERR_NOMEM;
    for (size_t i = 0; i < n_cand; i++)
        if (sb_query_match(q, cand[i]->doc))
            hits[m++] = cand[i];
    *count = m;
    size_t off = 0, end = m;
    if (page && q) {
        off = (size_t)q->offset < m ? (size_t)q->offset : m;
        if (q->limit > 0 && (uint64_t)q->offset + (uint64_t)q->limit < m)
            end = (size_t)(q->offset + q->limit);
    }
    if (page && order(hits, m, end, q) != SB_OK) {
        free(hits);
        return SB_ERR_NOMEM;
    }
    memmove(hits, hits + off, (end - off) * sizeof(*hits));
    *out = hits;
    *n = end - off;
    return SB_OK;
}
