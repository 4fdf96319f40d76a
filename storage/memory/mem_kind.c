/*
 * mem_kind.c - the documents of one kind: a dense array for scans, an id hash table, and
 * equality indexes built on first use by an eq/in filter (up to MEM_MAX_INDEXES key paths per
 * kind, for kinds of at least MEM_INDEX_MIN_DOCS documents). An index maps
 * sb_query_index_key() of a value to the documents holding it, so a label filter over 100k
 * documents looks at the few that can match instead of all. Not locked: memory.c locks.
 */
#include "core/buf.h"
#include "storage/memory/memory.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "storage/query_index.h"

enum { KEY_LEN = MEM_KEY_LEN };

/* ---- index maintenance ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The distinct index keys of doc's value at path: one per scalar or per array element. */
static size_t doc_keys(const cJSON *doc, const char *path, char (**keys)[KEY_LEN])
{
    const cJSON *v = sb_json_path(doc, path);
    *keys = NULL;
    if (!v)
        return 0;
    size_t cap = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1, n = 0;
    if (cap == 0 || !(*keys = malloc(cap * KEY_LEN)))
        return 0;
    const cJSON *e = cJSON_IsArray(v) ? v->child : v;
    for (; e && n < cap; e = cJSON_IsArray(v) ? e->next : NULL)
        if (sb_query_index_key(e, (*keys)[n], KEY_LEN))
            n++;
    qsort(*keys, n, KEY_LEN, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp((*keys)[u - 1], (*keys)[i]) != 0)
            memmove((*keys)[u++], (*keys)[i], KEY_LEN);
    return u;
}

static bool bucket_add(mem_index *ix, const char *key, mem_doc *d)
{
    mem_bucket *b = mem_map_get(&ix->buckets, key);
    if (!b) {
        if (!(b = calloc(1, sizeof(*b))))
            return false;
        snprintf(b->key, sizeof(b->key), "%s", key);
        if (!mem_map_put(&ix->buckets, b->key, b)) {
            free(b);
            return false;
        }
    }
    return sb_ptrs_push(&b->docs, &b->n, &b->cap, d);
}

static void bucket_del(mem_index *ix, const char *key, const mem_doc *d)
{
    mem_bucket *b = mem_map_get(&ix->buckets, key);
    for (size_t i = 0; b && i < b->n; i++) {
        if (b->docs[i] == d) {
            b->docs[i] = b->docs[--b->n];
            break;
        }
    }
    if (b && b->n == 0) {
        mem_map_remove(&ix->buckets, key);
        free(b->docs);
        free(b);
    }
}

/* Adds (add = true) or removes d under every index of k. */
static bool index_doc(mem_kind *k, mem_doc *d, bool add)
{
    bool ok = true;
    for (size_t i = 0; i < k->n_idx; i++) {
        char(*keys)[KEY_LEN];
        size_t n = doc_keys(d->doc, k->idx[i]->path, &keys);
        for (size_t j = 0; j < n; j++) {
            if (add)
                ok &= bucket_add(k->idx[i], keys[j], d);
            else
                bucket_del(k->idx[i], keys[j], d);
        }
        free(keys);
    }
    return ok;
}

static void index_free(mem_index *ix)
{
    if (!ix)
        return;
    size_t it = 0;
    mem_bucket *b;
    while ((b = mem_map_next(&ix->buckets, &it))) {
        free(b->docs);
        free(b);
    }
    mem_map_free(&ix->buckets);
    free(ix->path);
    free(ix);
}

const mem_index *mem_kind_index(const mem_kind *k, const char *path)
{
    for (size_t i = 0; i < k->n_idx; i++)
        if (strcmp(k->idx[i]->path, path) == 0)
            return k->idx[i];
    return NULL;
}

static bool indexable(const sb_filter *f)
{
    if (f->op == SB_OP_EQ)
        return !cJSON_IsArray(f->value) && !cJSON_IsObject(f->value);
    if (f->op != SB_OP_IN)
        return false;
    for (const cJSON *e = f->value->child; e; e = e->next)
        if (cJSON_IsArray(e) || cJSON_IsObject(e))
            return false;
    return true;
}

bool mem_kind_wants_index(const mem_kind *k, const sb_query *q)
{
    if (!q || k->n < MEM_INDEX_MIN_DOCS || k->n_idx >= MEM_MAX_INDEXES)
        return false;
    for (size_t i = 0; i < q->n_filters; i++)
        if (indexable(&q->filters[i]) && !mem_kind_index(k, q->filters[i].key))
            return true;
    return false;
}

sb_err mem_kind_build_indexes(mem_kind *k, const sb_query *q)
{
    for (size_t i = 0; i < q->n_filters && k->n_idx < MEM_MAX_INDEXES; i++) {
        const sb_filter *f = &q->filters[i];
        if (!indexable(f) || mem_kind_index(k, f->key))
            continue;
        mem_index *ix = calloc(1, sizeof(*ix));
        if (!ix || !(ix->path = strdup(f->key))) {
            free(ix);
            return SB_ERR_NOMEM;
        }
        k->idx[k->n_idx++] = ix;
        bool ok = true;
        for (size_t j = 0; j < k->n && ok; j++) {
            char(*keys)[KEY_LEN];
            size_t n = doc_keys(k->docs[j]->doc, ix->path, &keys);
            for (size_t m = 0; m < n; m++)
                ok &= bucket_add(ix, keys[m], k->docs[j]);
            free(keys);
        }
        if (!ok) {
            index_free(k->idx[--k->n_idx]);
            return SB_ERR_NOMEM;
        }
    }
    return SB_OK;
}

/* ---- documents ---- */

mem_kind *mem_kind_new(const char *name)
{
    mem_kind *k = calloc(1, sizeof(*k));
    if (k && !(k->name = strdup(name)))
        SB_FREE(k);
    return k;
}

void mem_kind_free(mem_kind *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        free(k->docs[i]);
    for (size_t i = 0; i < k->n_idx; i++)
        index_free(k->idx[i]);
    mem_map_free(&k->ids);
    free(k->docs);
    free(k->name);
    free(k);
}

static sb_err insert(mem_kind *k, mem_doc *d)
{
    if (sb_array_reserve(&k->docs, &k->cap, k->n + 1, sizeof(*k->docs), 16) != SB_OK)
        goto fail;
    if (!mem_map_put(&k->ids, d->id, d))
        goto fail;
    d->pos = k->n;
    k->docs[k->n++] = d;
    if (!index_doc(k, d, true)) {
        mem_kind_remove(k, d->id);
        return SB_ERR_NOMEM;
    }
    return SB_OK;
fail:
    free(d);
    return SB_ERR_NOMEM;
}

sb_err mem_kind_put(mem_kind *k, mem_doc *d)
{
    mem_doc *old = mem_map_get(&k->ids, d->id);
    if (!old)
        return insert(k, d);
    /* d takes old's place everywhere; the id is already in the table, so this cannot fail */
    index_doc(k, old, false);
    d->pos = old->pos;
    k->docs[d->pos] = d;
    mem_map_put(&k->ids, d->id, d);
    free(old);
    return index_doc(k, d, true) ? SB_OK : SB_ERR_NOMEM;
}

bool mem_kind_remove(mem_kind *k, const char *id)
{
    mem_doc *d = mem_map_remove(&k->ids, id);
    if (!d)
        return false;
    index_doc(k, d, false);
    mem_doc *last = k->docs[--k->n];
    k->docs[d->pos] = last;
    last->pos = d->pos;
    free(d);
    return true;
}
