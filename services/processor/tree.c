/*
 * tree.c - the device tree in memory: every node, source and field document in one hash keyed
 * by kind and id, so a message never waits for a store read. Owned by the worker thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "processor.h"

struct tree {
    tree_entry **buckets;
    size_t n_buckets, n;
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

sb_err tree_create(tree **out)
{
    tree *t = calloc(1, sizeof(*t));
    if (t) {
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
    t->n = 0;
}

void tree_destroy(tree *t)
{
    if (!t)
        return;
    tree_clear(t);
    free(t->buckets);
    free(t);
}

tree_entry *tree_get(tree *t, tree_kind kind, const char *id)
{
    for (tree_entry *e = t->buckets[hash(kind, id) % t->n_buckets]; e; e = e->next)
        if (e->kind == kind && strcmp(e->id, id) == 0)
            return e;
    return NULL;
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
    for (int k = 0; k < T__COUNT; k++) {
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
