/*
 * mem_map.c - a string-keyed hash table (open addressing, linear probing, tombstones) used for
 * ids, kinds and index buckets. Keys are borrowed: each lives in the value it maps to.
 */
#include "storage/memory/memory.h"

#include <stdlib.h>
#include <string.h>

static char tomb_key;
#define TOMB (&tomb_key)

/* FNV-1a: short keys, no adversary worth a keyed hash here (ids come from the api service). */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static mem_slot *lookup(const mem_map *m, const char *key, uint32_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        mem_slot *sl = &m->slots[i];
        if (!sl->key)
            return NULL;
        if (sl->key != TOMB && sl->hash == h && strcmp(sl->key, key) == 0)
            return sl;
    }
}

static bool grow(mem_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if ((m->len + 1) * 2 < m->cap) /* mostly tombstones: rehash at the same size */
        cap = m->cap;
    mem_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        mem_slot *sl = &m->slots[i];
        if (!sl->key || sl->key == TOMB)
            continue;
        size_t j = sl->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *sl;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->tombs = 0;
    return true;
}

void *mem_map_get(const mem_map *m, const char *key)
{
    mem_slot *sl = lookup(m, key, hash_str(key));
    return sl ? sl->val : NULL;
}

bool mem_map_put(mem_map *m, const char *key, void *val)
{
    uint32_t h = hash_str(key);
    mem_slot *sl = lookup(m, key, h);
    if (sl) {
        sl->key = key;
        sl->val = val;
        return true;
    }
    if ((m->len + m->tombs + 1) * 4 > m->cap * 3 && !grow(m))
        return false;
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMB)
        i = (i + 1) & mask;
    if (m->slots[i].key == TOMB)
        m->tombs--;
    m->slots[i] = (mem_slot){.key = key, .val = val, .hash = h};
    m->len++;
    return true;
}

void *mem_map_remove(mem_map *m, const char *key)
{
    mem_slot *sl = lookup(m, key, hash_str(key));
    if (!sl)
        return NULL;
    void *val = sl->val;
    sl->key = TOMB;
    sl->val = NULL;
    m->len--;
    m->tombs++;
    return val;
}

void *mem_map_next(const mem_map *m, size_t *it)
{
    for (; *it < m->cap; (*it)++) {
        const mem_slot *sl = &m->slots[*it];
        if (sl->key && sl->key != TOMB) {
            (*it)++;
            return sl->val;
        }
    }
    return NULL;
}

void mem_map_free(mem_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}
