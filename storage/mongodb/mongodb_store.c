/*
 * mongodb_store.c - the MongoDB config store (sb_store_plugin_mongodb) over libmongoc: a client
 * pool (storage.mongodb.pool_max), one collection per kind, _id = id.
 *
 * Queries: the filter goes to the server (mongodb_query.c). When it is exact and no sort keys
 * are given, the server counts (count_documents), orders by _id, skips and limits. Otherwise the
 * server returns the wider set in _id order and the shared engine filters, sorts (several keys,
 * id tie-break, numbers beside numeric strings, times as times - orders MongoDB's BSON sort
 * cannot give) and pages.
 *
 * Indexes: the first write of a kind in a process creates (createIndexes, idempotent on the
 * server) single-key indexes on the keys device-tree lists filter by, and a wildcard index on
 * labels (docs/storage.md "MongoDB"). Best effort: a server that refuses one (the wildcard needs
 * 4.2) still stores the documents, and lists are as correct as without it, only slower.
 *
 * batch(): one transaction when the server supports them (replica set or sharded cluster);
 * on a standalone server the operations run in order without one, and are NOT atomic: a failure
 * part-way leaves the earlier operations applied.
 */
#include "storage/mongodb/mongodb_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"

typedef struct mg_store {
    sb_store base;
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char *db;
    char *prefix;
    bool txn; /* the server supports transactions */
    pthread_mutex_t idx_mu;
    char **idx_kinds; /* kinds whose indexes this process has created (or tried to) */
    size_t n_idx_kinds, idx_kinds_cap;
} mg_store;

static pthread_once_t mg_once = PTHREAD_ONCE_INIT;

/* Library code does not log: libmongoc's own log lines are dropped; errors come back in
 * bson_error_t and become the sb_errmsg. */
static void no_log(mongoc_log_level_t level, const char *domain, const char *msg, void *ud) {}

static void mg_init(void)
{
    mongoc_init();
    mongoc_log_set_handler(no_log, NULL);
}

static sb_err mg_fail(sb_errmsg *em, const bson_error_t *e, const char *what)
{
    sb_err code = e->domain == MONGOC_ERROR_SERVER_SELECTION ? SB_ERR_TIMEOUT : SB_ERR_REMOTE;
    return sb_fail(em, code, "mongodb %s: %s", what, e->message);
}

static mongoc_collection_t *coll(mg_store *s, mongoc_client_t *c, const char *kind)
{
    char name[256];
    snprintf(name, sizeof(name), "%s%s", s->prefix, kind);
    return mongoc_client_get_collection(c, s->db, name);
}

/* A stored document: _id = id, then the document's own members (any "_id" of its own dropped). */
static bool to_bson(const cJSON *doc, const char *id, bson_t *out, bson_error_t *e)
{
    char *text = cJSON_PrintUnformatted(doc);
    if (!text)
        return false;
    bson_t *raw = bson_new_from_json((const uint8_t *)text, -1, e);
    free(text);
    if (!raw)
        return false;
    bson_init(out);
    BSON_APPEND_UTF8(out, "_id", id);
    bson_iter_t it;
    if (bson_iter_init(&it, raw))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "_id") != 0)
                bson_append_iter(out, NULL, 0, &it);
    bson_destroy(raw);
    return true;
}

static cJSON *from_bson(const bson_t *b)
{
    size_t len = 0;
    char *text = bson_as_relaxed_extended_json(b, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    bson_free(text);
    if (doc)
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "_id");
    return doc;
}

/* The keys device-tree lists filter by (the document's id member, which filters read rather than
 * _id; the parents' ids; the names and types shown) and labels, whose keys are the user's: a
 * wildcard index covers every one of them. */
static const char *const index_keys[] = {"id",   "gatewayId", "nodeId",     "sourceId",
                                         "name", "type",      "metricType", "labels.$**"};

/* Whether kind still needs its indexes (and claims it: one attempt per kind and process). */
static bool claim_kind(mg_store *s, const char *kind)
{
    bool todo = true;
    pthread_mutex_lock(&s->idx_mu);
    for (size_t i = 0; todo && i < s->n_idx_kinds; i++)
        todo = strcmp(s->idx_kinds[i], kind) != 0;
    char *copy = todo ? strdup(kind) : NULL;
    if (todo && (!copy || !sb_ptrs_push(&s->idx_kinds, &s->n_idx_kinds, &s->idx_kinds_cap, copy))) {
        free(copy);
        todo = false; /* out of memory: go without */
    }
    pthread_mutex_unlock(&s->idx_mu);
    return todo;
}

/* createIndexes for kind's collection, one command per index so a server refusing one (an old
 * server and the wildcard) keeps the others. Outside any transaction (creating an index in one
 * is not allowed on a new collection). */
static void ensure_indexes(mg_store *s, mongoc_client_t *c, const char *kind)
{
    if (!claim_kind(s, kind))
        return;
    mongoc_collection_t *col = coll(s, c, kind);
    for (size_t i = 0; i < sizeof(index_keys) / sizeof(index_keys[0]); i++) {
        bson_t cmd = BSON_INITIALIZER, list, spec, key;
        char name[64];
        snprintf(name, sizeof(name), "sb_%.*s", (int)strcspn(index_keys[i], "."), index_keys[i]);
        BSON_APPEND_UTF8(&cmd, "createIndexes", mongoc_collection_get_name(col));
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
        BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &spec);
        BSON_APPEND_DOCUMENT_BEGIN(&spec, "key", &key);
        BSON_APPEND_INT32(&key, index_keys[i], 1);
        bson_append_document_end(&spec, &key);
        BSON_APPEND_UTF8(&spec, "name", name);
        bson_append_document_end(&list, &spec);
        bson_append_array_end(&cmd, &list);
        bson_error_t e;
        (void)mongoc_collection_write_command_with_opts(col, &cmd, NULL, NULL, &e);
        bson_destroy(&cmd);
    }
    mongoc_collection_destroy(col);
}

static bool upsert(mg_store *s, mongoc_client_t *c, const char *kind, const cJSON *doc,
                   const bson_t *opts, bson_error_t *e)
{
    const char *id = sb_json_str(doc, "id", "");
    bson_t b, sel = BSON_INITIALIZER, o = BSON_INITIALIZER;
    if (!to_bson(doc, id, &b, e))
        return false;
    BSON_APPEND_UTF8(&sel, "_id", id);
    if (opts)
        bson_concat(&o, opts);
    BSON_APPEND_BOOL(&o, "upsert", true);
    mongoc_collection_t *col = coll(s, c, kind);
    bool ok = mongoc_collection_replace_one(col, &sel, &b, &o, NULL, e);
    mongoc_collection_destroy(col);
    bson_destroy(&b);
    bson_destroy(&sel);
    bson_destroy(&o);
    return ok;
}

static sb_err mg_put(sb_store *base, const char *kind, const cJSON *doc, sb_errmsg *em)
{
    mg_store *s = (mg_store *)base;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    ensure_indexes(s, c, kind);
    bson_error_t e;
    bool ok = upsert(s, c, kind, doc, NULL, &e);
    mongoc_client_pool_push(s->pool, c);
    return ok ? SB_OK : mg_fail(em, &e, "put");
}

/* Runs filter on kind in _id order with skip/limit, calling fn for each document. */
typedef sb_err (*row_fn)(void *ctx, cJSON *doc, sb_errmsg *em);

static sb_err scan(mg_store *s, const char *kind, const bson_t *filter, int64_t skip, int64_t limit,
                   row_fn fn, void *ctx, sb_errmsg *em)
{
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *col = coll(s, c, kind);
    bson_t opts = BSON_INITIALIZER, sort;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    if (skip > 0)
        BSON_APPEND_INT64(&opts, "skip", skip);
    if (limit > 0)
        BSON_APPEND_INT64(&opts, "limit", limit);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, &opts, NULL);
    const bson_t *b;
    sb_err err = SB_OK;
    while (!err && mongoc_cursor_next(cur, &b)) {
        cJSON *doc = from_bson(b);
        err = doc ? fn(ctx, doc, em) : sb_fail(em, SB_ERR_PARSE, "mongodb: unreadable document");
    }
    bson_error_t e;
    if (!err && mongoc_cursor_error(cur, &e))
        err = mg_fail(em, &e, "find");
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    mongoc_collection_destroy(col);
    mongoc_client_pool_push(s->pool, c);
    return err;
}

static sb_err keep_one(void *ctx, cJSON *doc, sb_errmsg *em)
{
    cJSON **out = ctx;
    cJSON_Delete(*out);
    *out = doc;
    return SB_OK;
}

static sb_err mg_get(sb_store *base, const char *kind, const char *id, cJSON **out, sb_errmsg *em)
{
    bson_t f = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&f, "_id", id);
    *out = NULL;
    sb_err err = scan((mg_store *)base, kind, &f, 0, 1, keep_one, out, em);
    bson_destroy(&f);
    if (!err && !*out)
        err = sb_fail(em, SB_ERR_NOTFOUND, "%s '%s' not found", kind, id);
    return err;
}

static sb_err delete_ids(mg_store *s, const char *kind, const char *const *ids, size_t n,
                         size_t *deleted, sb_errmsg *em)
{
    bson_t f = BSON_INITIALIZER, in, arr, reply;
    BSON_APPEND_DOCUMENT_BEGIN(&f, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (size_t i = 0; i < n; i++) {
        char k[24];
        snprintf(k, sizeof(k), "%zu", i);
        BSON_APPEND_UTF8(&arr, k, ids[i]);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&f, &in);
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *col = coll(s, c, kind);
    bson_error_t e;
    bool ok = mongoc_collection_delete_many(col, &f, NULL, &reply, &e);
    bson_iter_t it;
    if (ok && deleted && bson_iter_init_find(&it, &reply, "deletedCount"))
        *deleted += (size_t)bson_iter_as_int64(&it);
    bson_destroy(&reply);
    bson_destroy(&f);
    mongoc_collection_destroy(col);
    mongoc_client_pool_push(s->pool, c);
    return ok ? SB_OK : mg_fail(em, &e, "delete");
}

static sb_err mg_remove(sb_store *base, const char *kind, const char *const *ids, size_t n,
                        size_t *deleted, sb_errmsg *em)
{
    if (deleted)
        *deleted = 0;
    return delete_ids((mg_store *)base, kind, ids, n, deleted, em);
}

/* Documents that match q exactly (the engine re-checks when the filter is wider). */
typedef struct collect {
    const sb_query *q;
    bool exact;
    cJSON **docs;
    size_t n, cap;
} collect;

static sb_err add_doc(void *ctx, cJSON *doc, sb_errmsg *em)
{
    collect *c = ctx;
    if (!c->exact && !sb_query_match(c->q, doc)) {
        cJSON_Delete(doc);
        return SB_OK;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        cJSON **nd = realloc(c->docs, nc * sizeof(*nd));
        if (!nd) {
            cJSON_Delete(doc);
            return sb_fail(em, SB_ERR_NOMEM, "mongodb: out of memory");
        }
        c->docs = nd;
        c->cap = nc;
    }
    c->docs[c->n++] = doc;
    return SB_OK;
}

static void collect_free(collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        cJSON_Delete(c->docs[i]);
    free(c->docs);
}

static sb_err matches(mg_store *s, const char *kind, const sb_query *q, collect *c, sb_errmsg *em)
{
    bson_t f = BSON_INITIALIZER;
    *c = (collect){.q = q};
    if (!mg_query_filter(q, &f, &c->exact)) {
        bson_destroy(&f);
        return sb_fail(em, SB_ERR_NOMEM, "mongodb: out of memory");
    }
    sb_err err = scan(s, kind, &f, 0, 0, add_doc, c, em);
    bson_destroy(&f);
    return err;
}

static sb_err mg_remove_where(sb_store *base, const char *kind, const sb_query *q, size_t *deleted,
                              sb_errmsg *em)
{
    collect c;
    *deleted = 0;
    sb_err err = matches((mg_store *)base, kind, q, &c, em);
    const char **ids = err ? NULL : calloc(c.n + 1, sizeof(*ids));
    for (size_t i = 0; ids && i < c.n; i++)
        ids[i] = sb_json_str(c.docs[i], "id", "");
    if (!err && c.n)
        err = ids ? delete_ids((mg_store *)base, kind, ids, c.n, deleted, em) : SB_ERR_NOMEM;
    free(ids);
    collect_free(&c);
    return err;
}

static int cmp_docs(const void *a, const void *b, void *q)
{
    return sb_query_compare(q, *(cJSON *const *)a, *(cJSON *const *)b);
}

static sb_err count_server(mg_store *s, const char *kind, const sb_query *q, int64_t *n,
                           sb_errmsg *em)
{
    bson_t f = BSON_INITIALIZER;
    bool exact;
    mg_query_filter(q, &f, &exact);
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *col = coll(s, c, kind);
    bson_error_t e;
    *n = mongoc_collection_count_documents(col, &f, NULL, NULL, NULL, &e);
    mongoc_collection_destroy(col);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&f);
    return *n < 0 ? mg_fail(em, &e, "count") : SB_OK;
}

static sb_err result(collect *c, int64_t count, int64_t limit, int64_t offset, bool paged,
                     cJSON **out, sb_errmsg *em)
{
    cJSON *res = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(res, "data");
    for (size_t i = 0; i < c->n; i++) {
        bool keep = paged || ((int64_t)i >= offset && (limit <= 0 || (int64_t)i < offset + limit));
        if (keep && data)
            cJSON_AddItemToArray(data, c->docs[i]);
        else
            cJSON_Delete(c->docs[i]);
    }
    c->n = 0;
    if (!data || !cJSON_AddNumberToObject(res, "count", (double)count) ||
        !cJSON_AddNumberToObject(res, "limit", (double)limit) ||
        !cJSON_AddNumberToObject(res, "offset", (double)offset)) {
        cJSON_Delete(res);
        return sb_fail(em, SB_ERR_NOMEM, "mongodb: out of memory");
    }
    *out = res;
    return SB_OK;
}

static sb_err mg_find(sb_store *base, const char *kind, const sb_query *q, cJSON **out,
                      sb_errmsg *em)
{
    mg_store *s = (mg_store *)base;
    int64_t limit = q ? q->limit : 0, offset = q ? q->offset : 0, count = 0;
    bson_t f = BSON_INITIALIZER;
    collect c = {.q = q};
    mg_query_filter(q, &f, &c.exact);
    bool server = c.exact && (!q || q->n_sort == 0);
    sb_err err = server ? count_server(s, kind, q, &count, em) : SB_OK;
    if (!err)
        err = scan(s, kind, &f, server ? offset : 0, server ? limit : 0, add_doc, &c, em);
    bson_destroy(&f);
    if (!err && !server) {
        if (q && q->n_sort > 0 && c.n > 1)
            qsort_r(c.docs, c.n, sizeof(*c.docs), cmp_docs, (void *)q);
        count = (int64_t)c.n;
    }
    if (!err)
        err = result(&c, count, limit, offset, server, out, em);
    collect_free(&c);
    return err;
}

static sb_err mg_count(sb_store *base, const char *kind, const sb_query *q, size_t *n,
                       sb_errmsg *em)
{
    bson_t f = BSON_INITIALIZER;
    bool exact;
    mg_query_filter(q, &f, &exact);
    bson_destroy(&f);
    int64_t cnt = 0;
    if (exact) {
        sb_err err = count_server((mg_store *)base, kind, q, &cnt, em);
        *n = (size_t)cnt;
        return err;
    }
    collect c;
    sb_err err = matches((mg_store *)base, kind, q, &c, em);
    *n = c.n;
    collect_free(&c);
    return err;
}

typedef struct batch_ctx {
    mg_store *s;
    mongoc_client_t *c;
    const sb_store_op *ops;
    size_t n;
    const sb_store_op *conflict; /* the CHECK that failed */
} batch_ctx;

/* A batch's SB_STORE_CHECK: reads kind/id (in the session's transaction when opts has one). */
static bool check_op(batch_ctx *b, const sb_store_op *op, const bson_t *opts, bson_error_t *e)
{
    bson_t f = BSON_INITIALIZER, o = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&f, "_id", op->id);
    bson_concat(&o, opts);
    BSON_APPEND_INT64(&o, "limit", 1);
    mongoc_collection_t *col = coll(b->s, b->c, op->kind);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, &f, &o, NULL);
    const bson_t *doc;
    cJSON *stored = mongoc_cursor_next(cur, &doc) ? from_bson(doc) : NULL;
    bool ok = !mongoc_cursor_error(cur, e);
    if (ok && !sb_store_doc_matches(op->doc, stored)) {
        b->conflict = op;
        bson_set_error(e, 0, 0, "%s '%s' is not as expected", op->kind, op->id);
        ok = false;
    }
    cJSON_Delete(stored);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    bson_destroy(&f);
    bson_destroy(&o);
    return ok;
}

/* Runs every operation in order; with a session they join its transaction. */
static bool run_ops(batch_ctx *b, mongoc_client_session_t *cs, bson_error_t *e)
{
    bson_t opts = BSON_INITIALIZER;
    if (cs && !mongoc_client_session_append(cs, &opts, e))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < b->n; i++) /* the checks see the store before the batch */
        if (b->ops[i].type == SB_STORE_CHECK)
            ok = check_op(b, &b->ops[i], &opts, e);
    for (size_t i = 0; ok && i < b->n; i++) {
        const sb_store_op *op = &b->ops[i];
        if (op->type == SB_STORE_CHECK) {
            continue;
        } else if (op->type == SB_STORE_PUT) {
            ok = upsert(b->s, b->c, op->kind, op->doc, &opts, e);
        } else {
            bson_t sel = BSON_INITIALIZER;
            BSON_APPEND_UTF8(&sel, "_id", op->id);
            mongoc_collection_t *col = coll(b->s, b->c, op->kind);
            ok = mongoc_collection_delete_one(col, &sel, &opts, NULL, e);
            mongoc_collection_destroy(col);
            bson_destroy(&sel);
        }
    }
    bson_destroy(&opts);
    return ok;
}

static bool txn_cb(mongoc_client_session_t *cs, void *ctx, bson_t **reply, bson_error_t *e)
{
    *reply = NULL;
    return run_ops(ctx, cs, e);
}

static sb_err mg_batch(sb_store *base, const sb_store_op *ops, size_t n, sb_errmsg *em)
{
    mg_store *s = (mg_store *)base;
    for (size_t i = 0; i < n; i++)
        if (!ops[i].kind || (ops[i].type == SB_STORE_PUT ? !ops[i].doc : !ops[i].id))
            return sb_fail(em, SB_ERR_INVALID, "mongodb batch: operation %zu is incomplete", i);
    batch_ctx b = {.s = s, .c = mongoc_client_pool_pop(s->pool), .ops = ops, .n = n};
    for (size_t i = 0; i < n; i++)
        if (ops[i].type == SB_STORE_PUT)
            ensure_indexes(s, b.c, ops[i].kind);
    bson_error_t e;
    bool ok;
    if (s->txn) {
        mongoc_client_session_t *cs = mongoc_client_start_session(b.c, NULL, &e);
        ok = cs && mongoc_client_session_with_transaction(cs, txn_cb, NULL, &b, NULL, &e);
        mongoc_client_session_destroy(cs);
    } else {
        ok = run_ops(&b, NULL, &e);
    }
    mongoc_client_pool_push(s->pool, b.c);
    if (!ok && b.conflict)
        return sb_fail(em, SB_ERR_CONFLICT, "mongodb batch: %s '%s' is not as expected%s",
                       b.conflict->kind, b.conflict->id,
                       s->txn ? "" : " (no transactions: the check is not atomic)");
    return ok ? SB_OK : mg_fail(em, &e, "batch");
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collections of this store's prefix that hold at least one document. */
static sb_err mg_kinds(sb_store *base, cJSON **out, sb_errmsg *em)
{
    mg_store *s = (mg_store *)base;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_database_t *db = mongoc_client_get_database(c, s->db);
    bson_error_t e;
    char **names = mongoc_database_get_collection_names_with_opts(db, NULL, &e);
    cJSON *arr = names ? cJSON_CreateArray() : NULL;
    size_t count = 0;
    while (names && names[count])
        count++;
    if (count > 1)
        qsort(names, count, sizeof(*names), cmp_name);
    size_t plen = strlen(s->prefix);
    for (size_t i = 0; arr && names[i]; i++) {
        if (strncmp(names[i], s->prefix, plen) != 0 || !names[i][plen])
            continue;
        mongoc_collection_t *col = mongoc_database_get_collection(db, names[i]);
        bson_t opts = BSON_INITIALIZER, f = BSON_INITIALIZER;
        BSON_APPEND_INT64(&opts, "limit", 1);
        if (mongoc_collection_count_documents(col, &f, &opts, NULL, NULL, NULL) > 0)
            cJSON_AddItemToArray(arr, cJSON_CreateString(names[i] + plen));
        bson_destroy(&opts);
        mongoc_collection_destroy(col);
    }
    bson_strfreev(names);
    mongoc_database_destroy(db);
    mongoc_client_pool_push(s->pool, c);
    if (!arr)
        return mg_fail(em, &e, "list collections");
    *out = arr;
    return SB_OK;
}

/* The URI for messages, with any user:password@ replaced by ***@. */
static void redact(const char *uri, char *buf, size_t len)
{
    const char *scheme = strstr(uri, "://"), *host = scheme ? scheme + 3 : uri;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        snprintf(buf, len, "%.*s***%s", (int)(host - uri), uri, at);
    else
        snprintf(buf, len, "%s", uri);
}

/* Reaches the server within serverSelectionTimeoutMS, and learns whether it has transactions
 * (a replica set member, or mongos). */
static sb_err handshake(mg_store *s, const char *shown, int64_t timeout, sb_errmsg *em)
{
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    bson_t cmd = BSON_INITIALIZER, reply;
    BSON_APPEND_INT32(&cmd, "hello", 1);
    bson_error_t e;
    bool ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &e);
    bson_iter_t it;
    if (ok) {
        bool rs = bson_iter_init_find(&it, &reply, "setName");
        bool mongos = bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
                      strcmp(bson_iter_utf8(&it, NULL), "isdbgrid") == 0;
        s->txn = rs || mongos;
    }
    bson_destroy(&reply);
    bson_destroy(&cmd);
    mongoc_client_pool_push(s->pool, c);
    if (!ok)
        return sb_fail(em, SB_ERR_TIMEOUT,
                       "mongodb: cannot reach %s within %lld ms (storage.mongodb.uri): %s", shown,
                       (long long)timeout, e.message);
    return SB_OK;
}

static void mg_close(sb_store *base)
{
    mg_store *s = (mg_store *)base;
    if (!s)
        return;
    mongoc_client_pool_destroy(s->pool);
    mongoc_uri_destroy(s->uri);
    for (size_t i = 0; i < s->n_idx_kinds; i++)
        free(s->idx_kinds[i]);
    free(s->idx_kinds);
    pthread_mutex_destroy(&s->idx_mu);
    free(s->db);
    free(s->prefix);
    free(s);
}

static sb_err mg_open(const sb_config *cfg, sb_store **out, sb_errmsg *em)
{
    pthread_once(&mg_once, mg_init);
    const sb_config_store_mongodb *m = &cfg->storage.mongodb;
    if (!m->uri || !*m->uri)
        return sb_fail(em, SB_ERR_INVALID, "storage.mongodb.uri is empty");
    char shown[512];
    redact(m->uri, shown, sizeof(shown));
    bson_error_t e;
    mg_store *s = calloc(1, sizeof(*s));
    if (!s)
        return sb_fail(em, SB_ERR_NOMEM, "mongodb: out of memory");
    pthread_mutex_init(&s->idx_mu, NULL);
    sb_err err = SB_OK;
    if (!(s->uri = mongoc_uri_new_with_error(m->uri, &e))) {
        err = sb_fail(em, SB_ERR_INVALID, "storage.mongodb.uri '%s': %s", shown, e.message);
        goto fail;
    }
    int64_t timeout = m->connect_timeout_ms > 0 ? m->connect_timeout_ms : 10000;
    mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, (int32_t)timeout);
    mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_CONNECTTIMEOUTMS, (int32_t)timeout);
    if (m->pool_max > 0)
        mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_MAXPOOLSIZE, (int32_t)m->pool_max);
    const char *db = m->database && *m->database ? m->database : mongoc_uri_get_database(s->uri);
    s->db = strdup(db && *db ? db : "switchboard");
    s->prefix = strdup(m->collection_prefix ? m->collection_prefix : "");
    s->pool = mongoc_client_pool_new(s->uri);
    if (!s->db || !s->prefix || !s->pool) {
        err = sb_fail(em, SB_ERR_NOMEM, "mongodb: cannot create the client pool for %s", shown);
        goto fail;
    }
    mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(s->pool, "switchboard");
    if ((err = handshake(s, shown, timeout, em)) != SB_OK)
        goto fail;
    s->base.plugin = &sb_store_plugin_mongodb;
    *out = &s->base;
    return SB_OK;
fail:
    mg_close(&s->base);
    return err;
}

const sb_store_plugin sb_store_plugin_mongodb = {
    .info = {.name = "mongodb",
             .version = "1",
             .description = "MongoDB through libmongoc; shared by many hosts, replica sets"},
    .open = mg_open,
    .put = mg_put,
    .get = mg_get,
    .remove = mg_remove,
    .remove_where = mg_remove_where,
    .find = mg_find,
    .count = mg_count,
    .batch = mg_batch,
    .kinds = mg_kinds,
    .close = mg_close,
};
