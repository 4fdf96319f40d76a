/*
 * rest.h - where the device tree's records live (services/processor/tree.c, docs/processor.md
 * "Records at rest are text"): entries in a pool of fixed-size slots, and the text of the
 * records at rest in a compacting area. Both are memory of their own (mmap), apart from the
 * heap, so the blocks that live on after a burst do not pin the heap's pages.
 * Owned by the worker thread, like the tree.
 */
#ifndef SB_PROCESSOR_REST_H
#define SB_PROCESSOR_REST_H

#include <stddef.h>

#include "processor.h"

/* Fixed-size slots for tree entries, with the id inline when it is short. */
typedef struct entry_pool {
    char **chunks; /* mmap'd, each POOL_CHUNK bytes */
    size_t n_chunks;
    size_t carved;    /* slots handed out of the last chunk */
    tree_entry *free; /* slots given back, linked through next */
} entry_pool;

/* A zeroed entry whose id is a copy of id. NULL on no memory. */
tree_entry *pool_get(entry_pool *p, const char *id);
/* Gives e (and its id) back; not its doc or packed text. */
void pool_put(entry_pool *p, tree_entry *e);
/* The bytes an entry with this id takes. */
size_t pool_entry_size(const char *id);
/* Unmaps every chunk (the entries in them are gone). */
void pool_free(entry_pool *p);

/*
 * The texts of records at rest, one after the other in one mapping. A text records its owner,
 * so that the area can move it (when it grows or compacts) and update owner->packed.
 */
typedef struct rest_area {
    char *base;
    size_t cap, used, dead; /* dead: bytes of texts dropped, reclaimed by rest_compact */
} rest_area;

/* Copies text (len bytes, plus a NUL) into the area for owner and sets owner->packed and
 * owner->packed_len. Other texts may move. False on no memory (owner unchanged). */
bool rest_put(rest_area *a, tree_entry *owner, const char *text, size_t len);
/* Drops owner's text (owner->packed is cleared); compacts when half of the area is dead. */
void rest_drop(rest_area *a, tree_entry *owner);
/* The bytes owner's text takes in the area. */
size_t rest_size(const tree_entry *owner);
/* Moves the live texts together and gives the pages after them back to the system. */
void rest_compact(rest_area *a);
/* Unmaps the area (every text in it is gone). */
void rest_free(rest_area *a);

#endif
