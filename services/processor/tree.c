/*
 * tree.c - the device tree in memory: node, source and field records in one hash keyed by
 * kind and id. Nodes and sources are all there (a few per device); fields are a cache.
 *
 * A record is a cJSON document only while it is being used: from tree_get (or tree_add) to
 * the next tree_trim, which the worker calls after each commit. At rest it is its JSON text
 * (~0.4 kB for a field, against ~3 kB in ~40 small heap blocks as cJSON), and both the text and
 * the entry live in memory of their own (rest.h), not in the heap: records that live on after
 * a burst were allocated among the burst's frames and events, and their blocks kept most pages
 * of the heap resident, where malloc_trim cannot give a page back that holds one live block.
 * Awake records (documents) are on a list, so a trim touches only those.
 *
 * The field cache is bounded by count (field_max) and by the bytes of its fields at rest
 * (byte_max); after a trim the least recently used fields beyond either bound are dropped
 * (they are in the store then), and a field not in memory is read back from the store (a
 * single get) when a value arrives for it. The processor is the only writer of field records,
 * so the store holds what memory would. Owned by the worker thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "processor.h"
#include "rest.h"

struct tree {
    tree_entry **buckets;
    size_t n_buckets, n;
    sb_store *store; /* borrowed: where fields not in memory are read from */
    size_t field_max, n_fields;
    size_t byte_max, bytes;          /* bytes: what the fields at rest cost (rest_cost) */
    tree_entry *lru_head, *lru_tail; /* fields, most recently used first */
    tree_entry *awake;               /* the records that are documents now */
    entry_pool pool;                 /* the entries */
    rest_area area;                  /* the texts of the records at rest */
    char *scratch;                   /* where a record is printed before it goes to rest */
    size_t scratch_cap;
};

static const char *const kind_names[T__COUNT] = {"node", "source", "field"};

const char *tree_kind_name(tree_kind kind)
{
    return kind_names[kind];
}

static size_t hash(tree_kind kind, const char *id)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    return (size_t)h;
}

sb_err tree_create(sb_store *s, size_t field_max, size_t byte_max, tree **out)
{
    tree *t = calloc(1, sizeof(*t));
    if (t) {
        t->store = s;
        t->field_max = field_max ? field_max : 1;
        t->byte_max = byte_max;
        t->n_buckets = 1024;
        t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
    }
    if (!t || !t->buckets) {
        free(t);
        return SB_ERR_NOMEM;
    }
    *out = t;
    return SB_OK;
}

void tree_clear(tree *t)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (tree_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            cJSON_Delete(e->doc);
            pool_put(&t->pool, e);
        }
        t->buckets[i] = NULL;
    }
    rest_free(&t->area);
    t->n = t->n_fields = t->bytes = 0;
    t->lru_head = t->lru_tail = t->awake = NULL;
}

void tree_destroy(tree *t)
{
    if (!t)
        return;
    tree_clear(t);
    pool_free(&t->pool);
    free(t->buckets);
    free(t->scratch);
    free(t);
}

static void lru_unlink(tree *t, tree_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        t->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        t->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_front(tree *t, tree_entry *e)
{
    e->lru_next = t->lru_head;
    e->lru_prev = NULL;
    if (t->lru_head)
        t->lru_head->lru_prev = e;
    t->lru_head = e;
    if (!t->lru_tail)
        t->lru_tail = e;
}

static tree_entry *lookup(tree *t, tree_kind kind, const char *id)
{
    for (tree_entry *e = t->buckets[hash(kind, id) % t->n_buckets]; e; e = e->next)
        if (e->kind == kind && strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static void wake_link(tree *t, tree_entry *e)
{
    e->wake_prev = NULL;
    e->wake_next = t->awake;
    if (t->awake)
        t->awake->wake_prev = e;
    t->awake = e;
}

static void wake_unlink(tree *t, tree_entry *e)
{
    if (e->wake_prev)
        e->wake_prev->wake_next = e->wake_next;
    else if (t->awake == e)
        t->awake = e->wake_next;
    if (e->wake_next)
        e->wake_next->wake_prev = e->wake_prev;
    e->wake_prev = e->wake_next = NULL;
}

/* What a record at rest takes: its entry and its text. */
static size_t rest_cost(const tree_entry *e)
{
    return pool_entry_size(e->id) + rest_size(e);
}

/* A record's text, parsed back into its document (the text is dropped). False on no memory. */
static bool unpack(tree *t, tree_entry *e)
{
    cJSON *doc = cJSON_ParseWithLength(e->packed, e->packed_len);
    if (!doc)
        return false;
    if (e->kind == T_FIELD)
        t->bytes -= rest_cost(e);
    rest_drop(&t->area, e);
    wake_link(t, e);
    e->doc = doc;
    return true;
}

/* A record at rest: its document printed into one block of text, the document freed. Left as
 * it is when memory is short (it is still correct, only bigger). */
static void pack(tree *t, tree_entry *e)
{
    if (t->scratch_cap == 0 && !(t->scratch = malloc(t->scratch_cap = 1024)))
        t->scratch_cap = 0;
    while (t->scratch_cap &&
           !cJSON_PrintPreallocated(e->doc, t->scratch, (int)t->scratch_cap, false)) {
        char *bigger = t->scratch_cap < (1u << 30) ? realloc(t->scratch, t->scratch_cap * 2) : NULL;
        if (!bigger)
            return;
        t->scratch = bigger;
        t->scratch_cap *= 2;
    }
    if (!rest_put(&t->area, e, t->scratch, strlen(t->scratch)))
        return;
    cJSON_Delete(e->doc);
    e->doc = NULL;
    wake_unlink(t, e);
    if (e->kind == T_FIELD)
        t->bytes += rest_cost(e);
}

tree_entry *tree_get(tree *t, tree_kind kind, const char *id, sb_err *rc)
{
    if (rc)
        *rc = SB_OK;
    tree_entry *e = lookup(t, kind, id);
    if (e && kind == T_FIELD && t->lru_head != e) {
        lru_unlink(t, e);
        lru_front(t, e);
    }
    if (e && !e->doc && !unpack(t, e)) {
        if (rc)
            *rc = SB_ERR_NOMEM;
        return NULL;
    }
    if (e || kind != T_FIELD || !t->store)
        return e;
    cJSON *doc = NULL;
    sb_err err = sb_store_get(t->store, kind_names[kind], id, &doc, NULL);
    if (err == SB_OK)
        return tree_add(t, kind, id, doc);
    if (rc && err != SB_ERR_NOTFOUND)
        *rc = err;
    return NULL;
}

static void unlink_entry(tree *t, tree_entry *e)
{
    tree_entry **pp = &t->buckets[hash(e->kind, e->id) % t->n_buckets];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    t->n--;
}

/* Frees e, already out of its bucket, and takes it out of the field cache's accounts. */
static void entry_release(tree *t, tree_entry *e)
{
    if (e->kind == T_FIELD) {
        lru_unlink(t, e);
        t->n_fields--;
        if (e->packed)
            t->bytes -= rest_cost(e);
    }
    if (e->packed)
        rest_drop(&t->area, e);
    if (e->doc)
        wake_unlink(t, e);
    cJSON_Delete(e->doc);
    pool_put(&t->pool, e);
}

static void entry_free(tree *t, tree_entry *e)
{
    unlink_entry(t, e);
    entry_release(t, e);
}

bool tree_remove(tree *t, tree_kind kind, const char *id)
{
    tree_entry *e = lookup(t, kind, id);
    if (e)
        entry_free(t, e);
    return e != NULL;
}

void tree_trim(tree *t)
{
    for (tree_entry *e = t->awake, *next; e; e = next) {
        next = e->wake_next;
        if (!e->dirty)
            pack(t, e);
    }
    while ((t->n_fields > t->field_max || t->bytes > t->byte_max) && t->lru_tail &&
           !t->lru_tail->dirty)
        entry_free(t, t->lru_tail);
}

void tree_usage(const tree *t, size_t *fields, size_t *bytes)
{
    *fields = t->n_fields;
    *bytes = t->bytes;
}

/* Doubles the buckets when the load passes 1. */
static void grow(tree *t)
{
    size_t nb = t->n_buckets * 2;
    tree_entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* a longer chain, still correct */
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (tree_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t k = hash(e->kind, e->id) % nb;
            e->next = b[k];
            b[k] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

tree_entry *tree_add(tree *t, tree_kind kind, const char *id, cJSON *doc)
{
    tree_entry *e = pool_get(&t->pool, id);
    if (!e) {
        cJSON_Delete(doc);
        return NULL;
    }
    if (t->n >= t->n_buckets)
        grow(t);
    e->kind = kind;
    e->doc = doc;
    wake_link(t, e);
    size_t k = hash(kind, id) % t->n_buckets;
    e->next = t->buckets[k];
    t->buckets[k] = e;
    t->n++;
    if (kind == T_FIELD) {
        lru_front(t, e);
        t->n_fields++;
    }
    return e;
}

void tree_each(tree *t, tree_kind kind, void (*fn)(void *ctx, tree_entry *e), void *ctx)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (tree_entry *e = t->buckets[i]; e; e = e->next) {
            if (e->kind != kind)
                continue;
            bool was_resting = !e->doc;
            if (was_resting && !unpack(t, e))
                continue; /* no memory: skipped, as if it were not there */
            fn(ctx, e);
            if (was_resting && !e->dirty)
                pack(t, e); /* only looked at: back to rest */
        }
    }
}

sb_err tree_load(tree *t, sb_store *s, sb_errmsg *em)
{
    tree_clear(t);
    for (int k = 0; k < T_FIELD; k++) { /* fields are read when needed */
        cJSON *res = NULL;
        sb_err rc = sb_store_find(s, kind_names[k], NULL, &res, em);
        if (rc != SB_OK)
            return rc;
        cJSON *data = cJSON_GetObjectItemCaseSensitive(res, "data");
        cJSON *doc;
        while (data && (doc = cJSON_DetachItemFromArray(data, 0)) != NULL) {
            const char *id = sb_json_str(doc, "id", NULL);
            if (!id || !tree_add(t, (tree_kind)k, id, doc)) {
                if (!id)
                    cJSON_Delete(doc);
                else
                    rc = SB_ERR_NOMEM;
            }
        }
        cJSON_Delete(res);
        if (rc != SB_OK)
            return sb_fail(em, rc, "out of memory loading the device tree");
    }
    tree_trim(t); /* to rest */
    return SB_OK;
}

void tree_drop_gateway(tree *t, const char *gw)
{
    size_t len = strlen(gw);
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (tree_entry **pp = &t->buckets[i], *e; (e = *pp) != NULL;) {
            if (strncmp(e->id, gw, len) != 0 || e->id[len] != '.') {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            t->n--;
            entry_release(t, e);
        }
    }
}

sb_err tree_load_gateway(tree *t, sb_store *s, const char *gw, sb_errmsg *em)
{
    tree_drop_gateway(t, gw);
    sb_query q = {0};
    cJSON *v = cJSON_CreateString(gw);
    sb_err rc = v ? sb_query_add(&q, "gatewayId", SB_OP_EQ, v, em) : SB_ERR_NOMEM;
    cJSON_Delete(v);
    for (int k = 0; rc == SB_OK && k < T_FIELD; k++) { /* fields are read when needed */
        cJSON *res = NULL;
        if ((rc = sb_store_find(s, kind_names[k], &q, &res, em)) != SB_OK)
            break;
        cJSON *data = cJSON_GetObjectItemCaseSensitive(res, "data"), *doc;
        while (rc == SB_OK && data && (doc = cJSON_DetachItemFromArray(data, 0)) != NULL) {
            const char *id = sb_json_str(doc, "id", NULL);
            if (!id)
                cJSON_Delete(doc);
            else if (!tree_add(t, (tree_kind)k, id, doc))
                rc = sb_fail(em, SB_ERR_NOMEM, "out of memory loading gateway %s", gw);
        }
        cJSON_Delete(res);
    }
    sb_query_free(&q);
    tree_trim(t); /* to rest; nothing is dirty when a gateway is loaded */
    return rc;
}
