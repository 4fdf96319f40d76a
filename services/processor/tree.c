/*
 * tree.c - the device tree in memory: node, source and field documents in one hash keyed by
 * kind and id. Nodes and sources are all there (a few per device). Fields are a cache: a field
 * record as cJSON costs ~3 kB, so 100k fields held 300 MB; now at most field_max of them are
 * kept, the least recently used is dropped after a commit (it is in the store then), and a
 * field not in memory is read back from the store (a single get) when a value arrives for it.
 * The processor is the only writer of field records, so the store holds what memory would.
 * Owned by the worker thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "processor.h"

struct tree {
    tree_entry **buckets;
    size_t n_buckets, n;
    sb_store *store; /* borrowed: where fields not in memory are read from */
    size_t field_max, n_fields;
    tree_entry *lru_head, *lru_tail; /* fields, most recently used first */
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

sb_err tree_create(sb_store *s, size_t field_max, tree **out)
{
    tree *t = calloc(1, sizeof(*t));
    if (t) {
        t->store = s;
        t->field_max = field_max ? field_max : 1;
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
            free(e->id);
            cJSON_Delete(e->doc);
            free(e);
        }
        t->buckets[i] = NULL;
    }
    t->n = t->n_fields = 0;
    t->lru_head = t->lru_tail = NULL;
}

void tree_destroy(tree *t)
{
    if (!t)
        return;
    tree_clear(t);
    free(t->buckets);
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

tree_entry *tree_get(tree *t, tree_kind kind, const char *id, sb_err *rc)
{
    if (rc)
        *rc = SB_OK;
    tree_entry *e = lookup(t, kind, id);
    if (e && kind == T_FIELD && t->lru_head != e) {
        lru_unlink(t, e);
        lru_front(t, e);
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

static void entry_free(tree *t, tree_entry *e)
{
    if (e->kind == T_FIELD) {
        lru_unlink(t, e);
        t->n_fields--;
    }
    unlink_entry(t, e);
    free(e->id);
    cJSON_Delete(e->doc);
    free(e);
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
    while (t->n_fields > t->field_max && t->lru_tail && !t->lru_tail->dirty)
        entry_free(t, t->lru_tail);
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
    tree_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->id = strdup(id))) {
        free(e);
        cJSON_Delete(doc);
        return NULL;
    }
    if (t->n >= t->n_buckets)
        grow(t);
    e->kind = kind;
    e->doc = doc;
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
    for (size_t i = 0; i < t->n_buckets; i++)
        for (tree_entry *e = t->buckets[i]; e; e = e->next)
            if (e->kind == kind)
                fn(ctx, e);
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
            if (e->kind == T_FIELD) {
                lru_unlink(t, e);
                t->n_fields--;
            }
            free(e->id);
            cJSON_Delete(e->doc);
            free(e);
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
    return rc;
}
