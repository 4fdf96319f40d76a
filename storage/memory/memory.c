/*
 * memory.c - the memory store plugin: every document in RAM, durable through an append-only
 * journal (one record per put, delete or batch, written before the change is applied) and a
 * snapshot written every storage.memory.snapshot_every records, after which the journal is
 * truncated. sync: always fsyncs the journal before a write returns; sync: batch fsyncs from a
 * background thread every sync_interval_ms. One process per directory (lock file).
 *
 * Journal payloads are JSON arrays of ops: {"k":kind,"d":document} (put) and
 * {"k":kind,"x":id} (delete). Replaying a journal over the snapshot it was truncated after is
 * harmless (puts and deletes are idempotent), so a crash between the two steps loses nothing.
 */
#include "storage/memory/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/time.h"

typedef struct mem_store {
    sb_store base;
    pthread_rwlock_t lock; /* kinds and their documents */
    mem_map kinds;         /* name -> mem_kind */
    char *dir;
    int lock_fd, journal_fd;
    int sync; /* sb_sync_mode */
    int64_t sync_interval_ms, snapshot_every, records;
    pthread_mutex_t mu; /* the batch syncer's state */
    pthread_cond_t cv;
    pthread_t syncer;
    bool syncer_on, stop, dirty;
} mem_store;

enum { SNAPSHOT_CHUNK = 512, DEFAULT_SNAPSHOT_EVERY = 10000, DEFAULT_SYNC_INTERVAL_MS = 200 };

static mem_kind *kind_get(mem_store *m, const char *name, bool create)
{
    mem_kind *k = mem_map_get(&m->kinds, name);
    if (k || !create)
        return k;
    if (!(k = mem_kind_new(name)))
        return NULL;
    if (!mem_map_put(&m->kinds, k->name, k)) {
        mem_kind_free(k);
        return NULL;
    }
    return k;
}

/* ---- journal payloads ---- */

static cJSON *op_put(cJSON *ops, const char *kind, const cJSON *doc)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddItemToArray(ops, op);
    cJSON_AddStringToObject(op, "k", kind);
    /* a reference: printed like the document, never freed with the op */
    cJSON_AddItemToObject(op, "d", cJSON_CreateObjectReference(doc->child));
    return op;
}

static cJSON *op_del(cJSON *ops, const char *kind, const char *id)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddItemToArray(ops, op);
    cJSON_AddStringToObject(op, "k", kind);
    cJSON_AddStringToObject(op, "x", id);
    return op;
}

/* Applies one replayed record. */
static sb_err apply_record(void *ctx, const char *payload, size_t len, sb_errmsg *em)
{
    mem_store *m = ctx;
    cJSON *ops = cJSON_ParseWithLength(payload, len);
    if (!cJSON_IsArray(ops)) {
        cJSON_Delete(ops);
        return sb_fail(em, SB_ERR_PARSE, "not a JSON array of ops");
    }
    sb_err err = SB_OK;
    for (cJSON *op = ops->child; op && !err; op = op->next) {
        const char *kind = sb_json_str(op, "k", NULL), *id = sb_json_str(op, "x", NULL);
        cJSON *doc = cJSON_DetachItemFromObjectCaseSensitive(op, "d");
        mem_kind *k = kind ? kind_get(m, kind, doc != NULL) : NULL;
        if (!kind || (!doc && !id))
            err = sb_fail(em, SB_ERR_PARSE, "op without \"k\" and \"d\" or \"x\"");
        else if (doc && !k)
            err = sb_fail(em, SB_ERR_NOMEM, "out of memory");
        else if (doc) {
            mem_doc *d = NULL;
            if ((err = mem_doc_new(doc, &d)) == SB_OK)
                err = mem_kind_put(k, d);
            else
                sb_fail(em, err, "op with a bad document");
        } else if (k)
            mem_kind_remove(k, id);
        cJSON_Delete(doc);
    }
    cJSON_Delete(ops);
    return err;
}

/* ---- snapshots ---- */

static sb_err write_chunk(int fd, cJSON *ops, sb_errmsg *em)
{
    char *text = cJSON_PrintUnformatted(ops);
    if (!text)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err err = mem_log_append(fd, text, strlen(text), em);
    free(text);
    return err;
}

/* Writes every document to a new snapshot, then empties the journal. Write lock held. */
static sb_err compact(mem_store *m, sb_errmsg *em)
{
    int fd;
    sb_err err = mem_snapshot_begin(m->dir, &fd, em);
    if (err)
        return err;
    cJSON *ops = cJSON_CreateArray();
    size_t it = 0, n = 0;
    mem_kind *k;
    while (!err && (k = mem_map_next(&m->kinds, &it))) {
        for (size_t i = 0; i < k->n && !err; i++) {
            op_put(ops, k->name, k->docs[i]->doc);
            if (++n % SNAPSHOT_CHUNK == 0) {
                err = write_chunk(fd, ops, em);
                cJSON_Delete(ops);
                ops = cJSON_CreateArray();
            }
        }
    }
    if (!err && ops && ops->child)
        err = write_chunk(fd, ops, em);
    cJSON_Delete(ops);
    if (err) {
        mem_snapshot_abort(m->dir, fd);
        return err;
    }
    if ((err = mem_snapshot_commit(m->dir, fd, em)))
        return err;
    if (ftruncate(m->journal_fd, 0) != 0 || fdatasync(m->journal_fd) != 0)
        return sb_fail(em, SB_ERR_IO, "%s/journal: truncate: %s", m->dir, strerror(errno));
    m->records = 0;
    return SB_OK;
}

/* ---- the write path ---- */

/* Appends a record while the write lock is held, compacting when it is time. */
static sb_err journal(mem_store *m, cJSON *ops, sb_errmsg *em)
{
    char *text = cJSON_PrintUnformatted(ops);
    if (!text)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err err = mem_log_append(m->journal_fd, text, strlen(text), em);
    free(text);
    if (err)
        return sb_fail_wrap(em, err, "memory store %s", m->dir);
    m->records++;
    return SB_OK;
}

/* Before the write lock is released: a snapshot once enough records have accumulated. */
static void maybe_compact(mem_store *m)
{
    sb_errmsg ignored; /* the write itself is durable; a failed snapshot is retried later */
    if (m->records >= m->snapshot_every && compact(m, &ignored) != SB_OK)
        m->records = 0;
}

/* After the lock is released: make the write durable as configured. */
static sb_err finish(mem_store *m, sb_err err, sb_errmsg *em)
{
    if (err)
        return err;
    if (m->sync == SB_SYNC_ALWAYS) {
        if (fdatasync(m->journal_fd) != 0)
            return sb_fail(em, SB_ERR_IO, "memory store %s: fsync: %s", m->dir, strerror(errno));
        return SB_OK;
    }
    pthread_mutex_lock(&m->mu);
    m->dirty = true;
    pthread_mutex_unlock(&m->mu);
    return SB_OK;
}

static sb_err mem_put(sb_store *s, const char *kind, const cJSON *doc, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    cJSON *ops = cJSON_CreateArray();
    mem_doc *copy = NULL;
    sb_err err = mem_doc_new(doc, &copy);
    if (err || !ops || !op_put(ops, kind, doc)) {
        cJSON_Delete(ops);
        free(copy);
        return sb_fail(em, err ? err : SB_ERR_NOMEM, "%s/%s: %s", kind, sb_json_str(doc, "id", "?"),
                       err == SB_ERR_INVALID ? "not a document" : "out of memory");
    }
    pthread_rwlock_wrlock(&m->lock);
    mem_kind *k = kind_get(m, kind, true);
    if (!k)
        err = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (!err)
        err = journal(m, ops, em);
    if (!err)
        err = mem_kind_put(k, copy), copy = NULL;
    maybe_compact(m);
    pthread_rwlock_unlock(&m->lock);
    free(copy);
    cJSON_Delete(ops);
    return finish(m, err, em);
}

static sb_err mem_get(sb_store *s, const char *kind, const char *id, cJSON **out, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    pthread_rwlock_rdlock(&m->lock);
    mem_kind *k = kind_get(m, kind, false);
    mem_doc *d = k ? mem_map_get(&k->ids, id) : NULL;
    /* ask for every line of the document at once: the misses overlap instead of following the
     * copy one node at a time */
    for (size_t off = 0; d && off < d->size; off += 64)
        __builtin_prefetch((const char *)d->doc + off);
    *out = d ? cJSON_Duplicate(d->doc, true) : NULL;
    pthread_rwlock_unlock(&m->lock);
    if (!d)
        return sb_fail(em, SB_ERR_NOTFOUND, "%s '%s' not found", kind, id);
    return *out ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

/* Deletes ids of kind k with one journal record; *deleted counts those that existed.
 * Write lock held. */
static sb_err delete_docs(mem_store *m, mem_kind *k, const char *const *ids, size_t n,
                          size_t *deleted, sb_errmsg *em)
{
    cJSON *ops = cJSON_CreateArray();
    bool any = false;
    for (size_t i = 0; ops && i < n; i++)
        if (mem_map_get(&k->ids, ids[i]) && op_del(ops, k->name, ids[i]))
            any = true;
    sb_err err = !ops ? sb_fail(em, SB_ERR_NOMEM, "out of memory") : SB_OK;
    if (!err && any)
        err = journal(m, ops, em);
    size_t found = 0;
    for (size_t i = 0; !err && any && i < n; i++)
        found += mem_kind_remove(k, ids[i]);
    cJSON_Delete(ops);
    if (deleted)
        *deleted = found;
    maybe_compact(m);
    return err;
}

static sb_err mem_remove(sb_store *s, const char *kind, const char *const *ids, size_t n,
                         size_t *deleted, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    sb_err err = SB_OK;
    pthread_rwlock_wrlock(&m->lock);
    mem_kind *k = kind_get(m, kind, false);
    if (k)
        err = delete_docs(m, k, ids, n, deleted, em);
    pthread_rwlock_unlock(&m->lock);
    return finish(m, err, em);
}

static sb_err mem_remove_where(sb_store *s, const char *kind, const sb_query *q, size_t *deleted,
                               sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    mem_doc **hits = NULL;
    const char **ids = NULL;
    size_t n = 0, count = 0;
    pthread_rwlock_wrlock(&m->lock);
    mem_kind *k = kind_get(m, kind, false);
    sb_err err = k ? mem_kind_select(k, q, false, &hits, &n, &count) : SB_OK;
    if (!err && n && !(ids = malloc(n * sizeof(*ids))))
        err = SB_ERR_NOMEM;
    for (size_t i = 0; !err && i < n; i++)
        ids[i] = hits[i]->id;
    if (!err && n)
        err = delete_docs(m, k, ids, n, deleted, em);
    pthread_rwlock_unlock(&m->lock);
    free(hits);
    free(ids);
    if (err == SB_ERR_NOMEM)
        sb_fail(em, err, "out of memory");
    return finish(m, err, em);
}

static sb_err mem_batch(sb_store *s, const sb_store_op *ops, size_t n, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    cJSON *rec = cJSON_CreateArray();
    mem_doc **copies = calloc(n, sizeof(mem_doc *));
    sb_err err = rec && copies ? SB_OK : SB_ERR_NOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        bool put = ops[i].type == SB_STORE_PUT;
        if (ops[i].type == SB_STORE_CHECK)
            continue;
        if (put && (err = mem_doc_new(ops[i].doc, &copies[i])) != SB_OK)
            break;
        if (!(put ? op_put(rec, ops[i].kind, ops[i].doc) : op_del(rec, ops[i].kind, ops[i].id)))
            err = SB_ERR_NOMEM;
    }
    pthread_rwlock_wrlock(&m->lock);
    /* every kind exists before the record is written, so applying cannot fail half-way */
    for (size_t i = 0; !err && i < n; i++)
        if (ops[i].type == SB_STORE_PUT && !kind_get(m, ops[i].kind, true))
            err = SB_ERR_NOMEM;
    if (err)
        sb_fail(em, err, "batch: %s", err == SB_ERR_INVALID ? "not a document" : "out of memory");
    for (size_t i = 0; !err && i < n; i++) {
        if (ops[i].type != SB_STORE_CHECK)
            continue;
        mem_kind *k = kind_get(m, ops[i].kind, false);
        mem_doc *d = k ? mem_map_get(&k->ids, ops[i].id) : NULL;
        if (!sb_store_doc_matches(ops[i].doc, d ? d->doc : NULL))
            err =
                sb_fail(em, SB_ERR_CONFLICT, "%s '%s' is not as expected", ops[i].kind, ops[i].id);
    }
    if (!err)
        err = journal(m, rec, em);
    for (size_t i = 0; !err && i < n; i++) {
        if (ops[i].type == SB_STORE_CHECK) {
            continue;
        } else if (ops[i].type == SB_STORE_PUT) {
            err = mem_kind_put(kind_get(m, ops[i].kind, false), copies[i]);
            copies[i] = NULL;
        } else {
            mem_kind *k = kind_get(m, ops[i].kind, false);
            if (k)
                mem_kind_remove(k, ops[i].id);
        }
    }
    maybe_compact(m);
    pthread_rwlock_unlock(&m->lock);
    for (size_t i = 0; copies && i < n; i++)
        free(copies[i]);
    free(copies);
    cJSON_Delete(rec);
    return finish(m, err, em);
}

/* Read lock held on return; builds missing equality indexes under the write lock first. */
static mem_kind *lock_for_query(mem_store *m, const char *kind, const sb_query *q)
{
    pthread_rwlock_rdlock(&m->lock);
    mem_kind *k = kind_get(m, kind, false);
    if (k && mem_kind_wants_index(k, q)) {
        pthread_rwlock_unlock(&m->lock);
        pthread_rwlock_wrlock(&m->lock);
        if ((k = kind_get(m, kind, false)) && mem_kind_wants_index(k, q))
            mem_kind_build_indexes(k, q); /* without an index the query scans: not an error */
        pthread_rwlock_unlock(&m->lock);
        pthread_rwlock_rdlock(&m->lock);
        k = kind_get(m, kind, false);
    }
    return k;
}

static sb_err mem_find(sb_store *s, const char *kind, const sb_query *q, cJSON **out, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    mem_doc **hits = NULL;
    size_t n = 0, count = 0;
    mem_kind *k = lock_for_query(m, kind, q);
    sb_err err = mem_kind_select(k, q, true, &hits, &n, &count);
    cJSON *res = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(res, "data");
    for (size_t i = 0; !err && data && i < n; i++) {
        cJSON *copy = cJSON_Duplicate(hits[i]->doc, true);
        if (!copy || !cJSON_AddItemToArray(data, copy))
            err = SB_ERR_NOMEM;
    }
    pthread_rwlock_unlock(&m->lock);
    free(hits);
    if (!err && (!data || !cJSON_AddNumberToObject(res, "count", (double)count) ||
                 !cJSON_AddNumberToObject(res, "limit", q ? (double)q->limit : 0) ||
                 !cJSON_AddNumberToObject(res, "offset", q ? (double)q->offset : 0)))
        err = SB_ERR_NOMEM;
    if (err) {
        cJSON_Delete(res);
        return sb_fail(em, err, "%s: find: out of memory", kind);
    }
    *out = res;
    return SB_OK;
}

static sb_err mem_count(sb_store *s, const char *kind, const sb_query *q, size_t *n, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    mem_doc **hits = NULL;
    size_t got = 0;
    sb_err err = SB_OK;
    mem_kind *k = lock_for_query(m, kind, q);
    if (k && (!q || q->n_filters == 0))
        *n = k->n;
    else if (k)
        err = mem_kind_select(k, q, false, &hits, &got, n);
    pthread_rwlock_unlock(&m->lock);
    free(hits);
    return err ? sb_fail(em, err, "%s: count: out of memory", kind) : SB_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->valuestring, (*(const cJSON *const *)b)->valuestring);
}

static sb_err mem_kinds(sb_store *s, cJSON **out, sb_errmsg *em)
{
    mem_store *m = (mem_store *)s;
    cJSON *arr = cJSON_CreateArray();
    pthread_rwlock_rdlock(&m->lock);
    size_t it = 0;
    mem_kind *k;
    while (arr && (k = mem_map_next(&m->kinds, &it)))
        if (k->n)
            cJSON_AddItemToArray(arr, cJSON_CreateString(k->name));
    pthread_rwlock_unlock(&m->lock);
    if (!arr)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    /* sorted, so backups and tests see a stable order */
    int n = cJSON_GetArraySize(arr);
    cJSON **items = malloc((size_t)(n ? n : 1) * sizeof(*items));
    for (int i = 0; items && i < n; i++)
        items[i] = cJSON_DetachItemFromArray(arr, 0);
    if (items) {
        qsort(items, (size_t)n, sizeof(*items), cmp_name);
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, items[i]);
        free(items);
    }
    *out = arr;
    return SB_OK;
}

/* ---- open / close ---- */

static void *syncer_main(void *arg)
{
    mem_store *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (m->sync_interval_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(m->sync_interval_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&m->cv, &m->mu, &until);
        if (m->dirty) {
            m->dirty = false;
            pthread_mutex_unlock(&m->mu);
            fdatasync(m->journal_fd);
            pthread_mutex_lock(&m->mu);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static void mem_close(sb_store *s)
{
    mem_store *m = (mem_store *)s;
    if (!m)
        return;
    if (m->syncer_on) {
        pthread_mutex_lock(&m->mu);
        m->stop = true;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->syncer, NULL);
    }
    if (m->journal_fd >= 0) {
        fdatasync(m->journal_fd);
        close(m->journal_fd);
    }
    if (m->lock_fd >= 0)
        close(m->lock_fd); /* releases the flock */
    size_t it = 0;
    mem_kind *k;
    while ((k = mem_map_next(&m->kinds, &it)))
        mem_kind_free(k);
    mem_map_free(&m->kinds);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m->dir);
    free(m);
}

static sb_err resolve_dir(const sb_config *cfg, mem_store *m, sb_errmsg *em)
{
    const sb_config_store_memory *c = &cfg->storage.memory;
    if (c->dir && *c->dir) {
        m->dir = strdup(c->dir);
    } else if (cfg->data_dir && *cfg->data_dir) {
        size_t n = strlen(cfg->data_dir) + sizeof("/memory");
        if ((m->dir = malloc(n)))
            snprintf(m->dir, n, "%s/memory", cfg->data_dir);
    } else {
        return sb_fail(em, SB_ERR_INVALID, "storage.memory.dir and data_dir are both empty");
    }
    m->sync = c->sync;
    m->sync_interval_ms = c->sync_interval_ms > 0 ? c->sync_interval_ms : DEFAULT_SYNC_INTERVAL_MS;
    m->snapshot_every = c->snapshot_every > 0 ? c->snapshot_every : DEFAULT_SNAPSHOT_EVERY;
    return m->dir ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

static sb_err load(mem_store *m, size_t *skipped, sb_errmsg *em)
{
    char path[4096];
    size_t ignored;
    snprintf(path, sizeof(path), "%s/snapshot", m->dir);
    sb_err err = mem_log_replay(path, true, apply_record, m, &ignored, em);
    if (err)
        return err;
    snprintf(path, sizeof(path), "%s/journal", m->dir);
    if ((err = mem_log_replay(path, false, apply_record, m, skipped, em)))
        return err;
    m->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (m->journal_fd < 0)
        return sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    mem_fsync_dir(m->dir); /* a journal created just now must not vanish with a power loss */
    return SB_OK;
}

static sb_err mem_open(const sb_config *cfg, sb_store **out, sb_errmsg *em)
{
    mem_store *m = calloc(1, sizeof(*m));
    if (!m)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    m->lock_fd = m->journal_fd = -1;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* finds must not starve writers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&m->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    size_t skipped = 0;
    sb_err err = resolve_dir(cfg, m, em);
    if (!err)
        err = mem_mkdirs(m->dir, em);
    if (!err)
        err = mem_lock(m->dir, &m->lock_fd, em);
    if (!err && (err = load(m, &skipped, em)))
        sb_fail_wrap(em, err, "memory store %s", m->dir);
    if (!err && m->sync == SB_SYNC_BATCH) {
        if (pthread_create(&m->syncer, NULL, syncer_main, m) != 0)
            err = sb_fail(em, SB_ERR_INTERNAL, "memory store: cannot start the sync thread");
        m->syncer_on = !err;
    }
    if (err) {
        mem_close(&m->base);
        return err;
    }
    if (skipped)
        sb_fail(em, SB_OK,
                "memory store %s: skipped a torn or corrupt journal tail of %zu bytes (an "
                "unfinished write); the data before it is intact",
                m->dir, skipped);
    *out = &m->base;
    return SB_OK;
}

const sb_store_plugin sb_store_plugin_memory = {
    .info = {.name = "memory",
             .version = "1",
             .description = "documents in RAM, journal + snapshots on disk, one process"},
    .open = mem_open,
    .put = mem_put,
    .get = mem_get,
    .remove = mem_remove,
    .remove_where = mem_remove_where,
    .find = mem_find,
    .count = mem_count,
    .batch = mem_batch,
    .kinds = mem_kinds,
    .close = mem_close,
};
