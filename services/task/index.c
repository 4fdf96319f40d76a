/*
 * index.c - which tasks an event can concern, without looking at every task: tasks whose
 * eventFilter lists quick ids are found by the event's quick id in a hash table; the others are
 * checked for every event. Rebuilt (lazily) whenever the task list changes.
 */
#include <stdlib.h>
#include <string.h>

#include "services/task/task.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void task_index_clear(task_index *ix)
{
    free(ix->slots);
    free(ix->scan);
    memset(ix, 0, sizeof(*ix));
    ix->dirty = true;
}

static void insert(task_index *ix, const char *key, task *t)
{
    size_t i = hash(key) & (ix->cap - 1);
    while (ix->slots[i].t)
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i].key = key;
    ix->slots[i].t = t;
}

sb_err task_index_build(task_index *ix, task *list)
{
    task_index_clear(ix);
    size_t keys = 0, n = 0;
    for (task *t = list; t; t = t->next, n++)
        keys += t->filter.quick_ids ? (size_t)cJSON_GetArraySize(t->filter.quick_ids) : 0;
    ix->cap = 16;
    while (ix->cap < 2 * keys)
        ix->cap *= 2;
    ix->slots = calloc(ix->cap, sizeof(*ix->slots));
    ix->scan = calloc(n ? n : 1, sizeof(*ix->scan));
    if (!ix->slots || !ix->scan) {
        task_index_clear(ix);
        return SB_ERR_NOMEM;
    }
    for (task *t = list; t; t = t->next) {
        const cJSON *q;
        if (!t->filter.quick_ids)
            ix->scan[ix->n_scan++] = t;
        cJSON_ArrayForEach(q, t->filter.quick_ids) insert(ix, q->valuestring, t);
    }
    ix->dirty = false;
    return SB_OK;
}

void task_index_each(const task_index *ix, const char *quick_id, void (*fn)(void *, task *),
                     void *ctx)
{
    for (size_t k = 0; k < ix->n_scan; k++)
        fn(ctx, ix->scan[k]);
    if (!ix->cap)
        return;
    task *last = NULL; /* a task listing the same quick id twice runs once */
    for (size_t i = hash(quick_id) & (ix->cap - 1); ix->slots[i].t; i = (i + 1) & (ix->cap - 1))
        if (strcmp(ix->slots[i].key, quick_id) == 0 && ix->slots[i].t != last)
            fn(ctx, last = ix->slots[i].t);
}
