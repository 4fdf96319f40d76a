/*
 * rest.c - memory of its own for the device tree's records (rest.h). mmap rather than malloc:
 * the point is that these blocks, which live on after a burst, are not placed among the
 * burst's frames and events in the heap, where each of them would keep a heap page resident.
 */
#include "rest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_CHUNK    (64u * 1024u)
#define ID_INLINE     48 /* "gw1.12.1.V_TEMP" and most ids fit */
#define AREA_MIN      (64u * 1024u)
#define AREA_ALIGN    16u
#define PAGE_ROUND(n) (((n) + 4095u) & ~(size_t)4095u)

typedef struct slot {
    tree_entry e;
    char id[ID_INLINE];
} slot;

typedef struct rest_hdr {
    tree_entry *owner; /* NULL once dropped */
    size_t size;       /* of the whole record, header included, a multiple of AREA_ALIGN */
} rest_hdr;

static void *map(size_t n)
{
    void *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

size_t pool_entry_size(const char *id)
{
    size_t len = strlen(id) + 1;
    return sizeof(slot) + (len > ID_INLINE ? len + 16 : 0);
}

tree_entry *pool_get(entry_pool *p, const char *id)
{
    slot *s = (slot *)p->free;
    if (s) {
        p->free = s->e.next;
    } else {
        if (!p->n_chunks || p->carved == POOL_CHUNK / sizeof(slot)) {
            char **c = realloc(p->chunks, (p->n_chunks + 1) * sizeof(*c));
            if (!c)
                return NULL;
            p->chunks = c;
            if (!(c[p->n_chunks] = map(POOL_CHUNK)))
                return NULL;
            p->n_chunks++;
            p->carved = 0;
        }
        s = (slot *)p->chunks[p->n_chunks - 1] + p->carved++;
    }
    memset(s, 0, sizeof(*s));
    size_t len = strlen(id) + 1;
    s->e.id = len <= ID_INLINE ? memcpy(s->id, id, len) : strdup(id);
    if (!s->e.id) {
        pool_put(p, &s->e);
        return NULL;
    }
    return &s->e;
}

void pool_put(entry_pool *p, tree_entry *e)
{
    slot *s = (slot *)e; /* e is the first member */
    if (e->id && e->id != s->id)
        free(e->id);
    e->id = NULL;
    e->next = p->free;
    p->free = e;
}

void pool_free(entry_pool *p)
{
    for (size_t i = 0; i < p->n_chunks; i++)
        munmap(p->chunks[i], POOL_CHUNK);
    free(p->chunks);
    memset(p, 0, sizeof(*p));
}

static rest_hdr *hdr_of(const tree_entry *owner)
{
    return (rest_hdr *)(void *)(owner->packed - sizeof(rest_hdr));
}

size_t rest_size(const tree_entry *owner)
{
    return hdr_of(owner)->size;
}

/* Points every live text's owner at where it is now. */
static void fix_owners(rest_area *a)
{
    for (size_t off = 0; off < a->used;) {
        rest_hdr *h = (rest_hdr *)(void *)(a->base + off);
        if (h->owner)
            h->owner->packed = (char *)(h + 1);
        off += h->size;
    }
}

void rest_compact(rest_area *a)
{
    size_t to = 0;
    for (size_t off = 0; off < a->used;) {
        rest_hdr *h = (rest_hdr *)(void *)(a->base + off);
        size_t size = h->size;
        if (h->owner) {
            if (to != off)
                memmove(a->base + to, h, size);
            to += size;
        }
        off += size;
    }
    a->used = to;
    a->dead = 0;
    fix_owners(a);
    size_t keep = PAGE_ROUND(a->used);
    if (a->base && keep < a->cap)
        madvise(a->base + keep, a->cap - keep, MADV_DONTNEED);
}

/* Room for need more bytes: compacts when half is dead, else grows (texts may move). */
static bool reserve(rest_area *a, size_t need)
{
    if (a->used + need <= a->cap)
        return true;
    if (a->dead * 2 >= a->used) {
        rest_compact(a);
        if (a->used + need <= a->cap)
            return true;
    }
    size_t cap = a->cap ? a->cap : AREA_MIN;
    while (cap < a->used + need)
        cap *= 2;
    char *b = a->base ? mremap(a->base, a->cap, cap, MREMAP_MAYMOVE) : map(cap);
    if (!b || b == MAP_FAILED)
        return false;
    bool moved = a->base && b != a->base;
    a->base = b;
    a->cap = cap;
    if (moved)
        fix_owners(a);
    return true;
}

bool rest_put(rest_area *a, tree_entry *owner, const char *text, size_t len)
{
    size_t size = (sizeof(rest_hdr) + len + 1 + AREA_ALIGN - 1) & ~(size_t)(AREA_ALIGN - 1);
    if (!reserve(a, size))
        return false;
    rest_hdr *h = (rest_hdr *)(void *)(a->base + a->used);
    h->owner = owner;
    h->size = size;
    memcpy(h + 1, text, len);
    ((char *)(h + 1))[len] = '\0';
    a->used += size;
    owner->packed = (char *)(h + 1);
    owner->packed_len = len;
    return true;
}

void rest_drop(rest_area *a, tree_entry *owner)
{
    rest_hdr *h = hdr_of(owner);
    h->owner = NULL;
    a->dead += h->size;
    owner->packed = NULL;
    owner->packed_len = 0;
    if (a->dead > AREA_MIN && a->dead * 2 >= a->used)
        rest_compact(a);
}

void rest_free(rest_area *a)
{
    if (a->base)
        munmap(a->base, a->cap);
    memset(a, 0, sizeof(*a));
}
