/*
 * memory.h - internals of the memory store (storage/memory/): every document in RAM, indexed by
 * id per kind, made durable by an append-only journal plus periodic snapshots.
 *
 *   mem_map.c      string-keyed hash table (ids, kinds, index buckets)
 *   mem_pack.c     a stored document and its copy of the JSON in one block
 *   mem_keys.c     object keys shared by all stored documents and the copies handed out
 *   mem_kind.c     one kind: documents, id map, automatic equality indexes, find
 *   mem_journal.c  CRC32 record framing, journal append/replay, snapshots, the lock file
 *   memory.c       the plugin: locking, the write path, the batch sync thread
 */
#ifndef SB_STORE_MEMORY_H
#define SB_STORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* ---- mem_map.c ---- */
typedef struct mem_slot {
    const char *key; /* borrowed from the value; NULL = empty */
    void *val;
    uint32_t hash;
} mem_slot;

typedef struct mem_map {
    mem_slot *slots;
    size_t cap, len, tombs;
} mem_map;

void *mem_map_get(const mem_map *m, const char *key);
/* Inserts or replaces; key must live as long as the entry. False on allocation failure. */
bool mem_map_put(mem_map *m, const char *key, void *val);
/* Removes key and returns its value (NULL when absent). */
void *mem_map_remove(mem_map *m, const char *key);
/* Iteration: size_t it = 0; while ((v = mem_map_next(m, &it))) ... */
void *mem_map_next(const mem_map *m, size_t *it);
void mem_map_free(mem_map *m);

/* ---- mem_keys.c ---- */
/* The process-wide copy of an object key (never freed), or NULL when the key is long or the
 * table is full (then the key is stored with the document). Thread-safe. */
const char *mem_key_intern(const char *key);

/* ---- mem_kind.c ---- */
/* A stored document: this header, its id, then its cJSON nodes and strings, in one malloc. */
typedef struct mem_doc {
    cJSON *doc;  /* read-only, inside this block (mem_pack.c); never cJSON_Delete'd */
    size_t pos;  /* index in mem_kind.docs */
    size_t size; /* bytes from doc to the end of the block, for prefetching */
    char id[];   /* inline: one cache miss less per lookup */
} mem_doc;

/* mem_pack.c: a stored copy of doc (without its siblings or key). SB_ERR_INVALID when doc is not
 * an object with a non-empty string "id"; SB_ERR_NOMEM. free() it unless a kind took it. */
sb_err mem_doc_new(const cJSON *doc, mem_doc **out);

enum { MEM_MAX_INDEXES = 8, MEM_INDEX_MIN_DOCS = 256, MEM_KEY_LEN = 128 };

/* The documents whose value at an index's path has the key sb_query_index_key(). */
typedef struct mem_bucket {
    char key[MEM_KEY_LEN];
    mem_doc **docs;
    size_t n, cap;
} mem_bucket;

typedef struct mem_index {
    char *path;      /* the key path, owned */
    mem_map buckets; /* key -> mem_bucket */
} mem_index;

typedef struct mem_kind {
    char *name;
    mem_map ids;    /* id -> mem_doc */
    mem_doc **docs; /* dense, for scans */
    size_t n, cap;
    mem_index *idx[MEM_MAX_INDEXES];
    size_t n_idx;
} mem_kind;

mem_kind *mem_kind_new(const char *name);
void mem_kind_free(mem_kind *k);
/* Upserts d (from mem_doc_new) by its id; takes ownership (freed on failure). */
sb_err mem_kind_put(mem_kind *k, mem_doc *d);
/* Removes id; returns whether it existed. */
bool mem_kind_remove(mem_kind *k, const char *id);
/* Whether find(q) would build an index first (the caller then holds the write lock). */
bool mem_kind_wants_index(const mem_kind *k, const sb_query *q);
sb_err mem_kind_build_indexes(mem_kind *k, const sb_query *q);
/* The index on path, or NULL. */
const mem_index *mem_kind_index(const mem_kind *k, const char *path);
/*
 * The documents matching q's filters, in sort order, skipping offset and stopping at limit
 * (borrowed pointers; caller frees *out with free()). *count = matches before paging.
 */
sb_err mem_kind_select(const mem_kind *k, const sb_query *q, bool page, mem_doc ***out, size_t *n,
                       size_t *count);

/* ---- mem_journal.c ---- */
uint32_t mem_crc32(const void *buf, size_t n);
/* Appends one framed record (length, CRC32, payload) with a single write(). */
sb_err mem_log_append(int fd, const char *payload, size_t len, sb_errmsg *em);
/* Called for each valid record on replay. */
typedef sb_err (*mem_apply_fn)(void *ctx, const char *payload, size_t len, sb_errmsg *em);
/*
 * Replays the records of path (a missing file is empty). strict: any bad record fails
 * (snapshots). Otherwise a torn or corrupt tail is cut off at the last good record and
 * *skipped gets its size; a bad record followed by valid ones fails (SB_ERR_IO), since
 * dropping acknowledged writes silently is worse than refusing to start.
 */
sb_err mem_log_replay(const char *path, bool strict, mem_apply_fn apply, void *ctx, size_t *skipped,
                      sb_errmsg *em);
/* Takes the lock file <dir>/lock: SB_ERR_BUSY naming the holder's pid. *fd stays open. */
sb_err mem_lock(const char *dir, int *fd, sb_errmsg *em);
/* Snapshots: records go to <dir>/snapshot.tmp (opened by begin), which commit fsyncs, renames
 * over <dir>/snapshot and makes durable with an fsync of the directory. abort removes it. */
sb_err mem_snapshot_begin(const char *dir, int *fd, sb_errmsg *em);
sb_err mem_snapshot_commit(const char *dir, int fd, sb_errmsg *em);
void mem_snapshot_abort(const char *dir, int fd);
sb_err mem_mkdirs(const char *path, sb_errmsg *em);
/* fsync of a directory, so a file created or renamed in it survives power loss. */
void mem_fsync_dir(const char *dir);

#endif
