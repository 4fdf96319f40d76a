/*
 * sqlite_store.c - the sqlite config store (sb_store_plugin_sqlite): documents as JSON text in
 * one table keyed by (kind, id), in a WAL-mode file that several processes on one host may share.
 * See sqlite_store.h for the layout and the locking, sqlite_where.c for how queries run.
 */
#include "storage/sqlite/sqlite_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define LOCKED(s) pthread_mutex_lock(&(s)->mu)
#define UNLOCK(s) pthread_mutex_unlock(&(s)->mu)

static sb_err check_doc(const char *kind, const cJSON *doc, const char **id, sb_errmsg *em)
{
    if (!kind || !*kind)
        return sb_fail(em, SB_ERR_INVALID, "sqlite: empty kind");
    const cJSON *it = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "id") : NULL;
    if (!cJSON_IsString(it) || !*it->valuestring)
        return sb_fail(em, SB_ERR_INVALID, "sqlite: %s document without a string \"id\"", kind);
    *id = it->valuestring;
    return SB_OK;
}

/* One put on the open connection, inside a transaction, with its index entries
 * (sqlite_index.c). Documents are printed into a stack buffer when they fit:
 * cJSON_PrintUnformatted grows its buffer by realloc and then copies it to the exact size,
 * three or four allocations per put. */
static sb_err put_one(sq_store *s, const char *kind, const cJSON *doc, sb_errmsg *em)
{
    const char *id = NULL;
    sb_err err = check_doc(kind, doc, &id, em);
    if (err)
        return err;
    char buf[4096], *text = buf;
    if (!cJSON_PrintPreallocated((cJSON *)doc, buf, (int)sizeof(buf), false) &&
        !(text = cJSON_PrintUnformatted(doc)))
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory printing %s/%s", kind, id);
    sqlite3_stmt *st = s->fixed[SQ_PUT];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    int rc = sq_db_step(s, st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (text != buf)
        free(text);
    if (rc != SQLITE_DONE)
        return sq_db_fail(s, rc, em, "put");
    bool unused;
    return sq_index_put(s, kind, id, doc, true, &unused, em);
}

static sb_err delete_one(sq_store *s, const char *kind, const char *id, size_t *deleted,
                         sb_errmsg *em)
{
    sqlite3_stmt *st = s->fixed[SQ_DELETE];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sq_db_step(s, st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sq_db_fail(s, rc, em, "delete");
    if (deleted)
        *deleted += (size_t)sqlite3_changes(s->db);
    return sq_index_delete(s, kind, id, em);
}

/* COMMIT when err is SB_OK, ROLLBACK otherwise (keeping the first message). */
static sb_err finish(sq_store *s, sb_err err, sb_errmsg *em)
{
    if (err == SB_OK)
        err = sq_db_exec_fixed(s, SQ_COMMIT, em);
    if (err != SB_OK && !sqlite3_get_autocommit(s->db))
        (void)sq_db_exec_fixed(s, SQ_ROLLBACK, NULL);
    return err;
}

/* A single put is one autocommit statement when nothing is indexed (it takes the write lock at
 * once, as BEGIN IMMEDIATE would); with an index, the document and its entries change in one
 * transaction. */
static sb_err sq_put(sb_store *base, const char *kind, const cJSON *doc, sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    LOCKED(s);
    sb_err err = s->n_index ? sq_db_exec_fixed(s, SQ_BEGIN, em) : SB_OK;
    if (!err)
        err = put_one(s, kind, doc, em);
    if (s->n_index)
        err = finish(s, err, em);
    UNLOCK(s);
    return err;
}

/* Reads one document (the lock held, inside or outside a transaction). */
static sb_err get_one(sq_store *s, const char *kind, const char *id, cJSON **out, sb_errmsg *em)
{
    *out = NULL;
    sqlite3_stmt *st = s->fixed[SQ_GET];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sq_db_step(s, st);
    sb_err err = SB_OK;
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        err = sb_json_parse(text, (size_t)sqlite3_column_bytes(st, 0), out, em);
        if (err)
            sb_fail_wrap(em, err, "sqlite: stored %s/%s", kind, id);
    } else if (rc == SQLITE_DONE) {
        err = sb_fail(em, SB_ERR_NOTFOUND, "%s '%s' not found", kind, id);
    } else {
        err = sq_db_fail(s, rc, em, "get");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

static sb_err sq_get(sb_store *base, const char *kind, const char *id, cJSON **out, sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    LOCKED(s);
    sb_err err = get_one(s, kind, id, out, em);
    UNLOCK(s);
    return err;
}

/* A batch's SB_STORE_CHECK, inside its transaction (BEGIN IMMEDIATE holds the write lock, so
 * no other process writes between the check and the commit). */
static sb_err check_one(sq_store *s, const sb_store_op *op, sb_errmsg *em)
{
    cJSON *doc = NULL;
    sb_err err = get_one(s, op->kind, op->id, &doc, em);
    if (err == SB_OK || err == SB_ERR_NOTFOUND)
        err = sb_store_doc_matches(op->doc, doc)
                  ? SB_OK
                  : sb_fail(em, SB_ERR_CONFLICT, "%s '%s' is not as expected", op->kind, op->id);
    cJSON_Delete(doc);
    return err;
}

static sb_err sq_remove(sb_store *base, const char *kind, const char *const *ids, size_t n,
                        size_t *deleted, sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    if (deleted)
        *deleted = 0;
    LOCKED(s);
    sb_err err = sq_db_exec_fixed(s, SQ_BEGIN, em);
    for (size_t i = 0; !err && i < n; i++)
        err = delete_one(s, kind, ids[i], deleted, em);
    err = finish(s, err, em);
    UNLOCK(s);
    return err;
}

/* The documents of kind that pass the SQL pre-filter and sb_query_match, in id order. With
 * docs NULL only *n counts them; with ids set, their ids are collected (for delete_where). */
typedef struct scan_out {
    cJSON **docs;
    size_t n, cap;
    cJSON *ids; /* array of strings, or NULL */
} scan_out;

static sb_err scan_row(sqlite3_stmt *st, const sb_query *q, scan_out *o, sb_errmsg *em)
{
    cJSON *doc = NULL;
    const char *text = (const char *)sqlite3_column_text(st, 1);
    sb_err err = sb_json_parse(text, (size_t)sqlite3_column_bytes(st, 1), &doc, em);
    if (err)
        return sb_fail_wrap(em, err, "sqlite: stored document '%s'", sqlite3_column_text(st, 0));
    if (q && !sb_query_match(q, doc)) {
        cJSON_Delete(doc);
        return SB_OK;
    }
    if (o->ids) {
        cJSON_AddItemToArray(o->ids, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
    }
    if (o->cap == (size_t)-1) { /* counting only */
        cJSON_Delete(doc);
        o->n++;
        return SB_OK;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 64;
        cJSON **nd = realloc(o->docs, nc * sizeof(*nd));
        if (!nd) {
            cJSON_Delete(doc);
            return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
        }
        o->docs = nd;
        o->cap = nc;
    }
    o->docs[o->n++] = doc;
    return SB_OK;
}

/* Steps st (bound) through scan_row into o, then resets it. */
static sb_err scan_rows(sq_store *s, sqlite3_stmt *st, const sb_query *q, scan_out *o,
                        sb_errmsg *em)
{
    sb_err err = SB_OK;
    int rc = sq_db_step(s, st);
    for (; rc == SQLITE_ROW && !err; rc = sqlite3_step(st))
        err = scan_row(st, q, o, em);
    if (!err && rc != SQLITE_DONE)
        err = sq_db_fail(s, rc, em, "find");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

static sb_err scan(sq_store *s, const char *kind, const sb_query *q, scan_out *o, sb_errmsg *em)
{
    sq_where w;
    if (sq_where_build(s, kind, q, &w) != SB_OK)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    static const char head[] = "SELECT id, doc FROM sb_docs AS d WHERE kind = ?";
    size_t n = sizeof(head) + w.len + 16;
    char *sql = malloc(n);
    sqlite3_stmt *st = NULL;
    sb_err err = sql ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    if (!err) {
        snprintf(sql, n, "%s%s ORDER BY id", head, w.sql);
        err = sq_db_prepare(s, sql, &st, em);
    }
    if (!err) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sq_where_bind(&w, st, 2);
        err = scan_rows(s, st, q, o, em);
    }
    free(sql);
    sq_where_free(&w);
    return err;
}

static sb_err sq_remove_where(sb_store *base, const char *kind, const sb_query *q, size_t *deleted,
                              sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    scan_out o = {.cap = (size_t)-1, .ids = cJSON_CreateArray()};
    size_t n = 0;
    if (!o.ids)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    LOCKED(s);
    sb_err err = sq_db_exec_fixed(s, SQ_BEGIN, em);
    if (!err)
        err = scan(s, kind, q, &o, em);
    const cJSON *id;
    cJSON_ArrayForEach(id, o.ids)
    {
        if (err)
            break;
        err = delete_one(s, kind, id->valuestring, &n, em);
    }
    err = finish(s, err, em);
    UNLOCK(s);
    cJSON_Delete(o.ids);
    if (deleted)
        *deleted = err ? 0 : n;
    return err;
}

static int cmp_docs(const void *a, const void *b, void *q)
{
    return sb_query_compare(q, *(cJSON *const *)a, *(cJSON *const *)b);
}

/*
 * {"count", "limit", "offset", "data"} from the matches; takes ownership of o->docs. With
 * total != NULL, o->docs already is the page (SQL did the paging) and *total the count.
 */
static sb_err page(const sb_query *q, scan_out *o, const size_t *total, cJSON **out, sb_errmsg *em)
{
    if (!total && q && q->n_sort > 0 && o->n > 1)
        qsort_r(o->docs, o->n, sizeof(*o->docs), cmp_docs, (void *)q);
    int64_t limit = q ? q->limit : 0, offset = q && q->offset > 0 ? q->offset : 0;
    cJSON *res = cJSON_CreateObject();
    cJSON *data = cJSON_AddArrayToObject(res, "data");
    for (size_t i = 0; i < o->n; i++) {
        int keep = data &&
                   (total || ((int64_t)i >= offset && (limit <= 0 || (int64_t)i < offset + limit)));
        if (keep)
            cJSON_AddItemToArray(data, o->docs[i]);
        else
            cJSON_Delete(o->docs[i]);
    }
    free(o->docs);
    o->docs = NULL;
    if (!data || !cJSON_AddNumberToObject(res, "count", (double)(total ? *total : o->n)) ||
        !cJSON_AddNumberToObject(res, "limit", (double)limit) ||
        !cJSON_AddNumberToObject(res, "offset", (double)offset)) {
        cJSON_Delete(res);
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    }
    *out = res;
    return SB_OK;
}

static sb_err count_all(sq_store *s, const char *kind, size_t *n, sb_errmsg *em)
{
    sqlite3_stmt *st = s->fixed[SQ_COUNT_ALL];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    int rc = sq_db_step(s, st);
    if (rc == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? SB_OK : sq_db_fail(s, rc, em, "count");
}

/*
 * A find without filters or sort (a plain list page): the count from SQL and only the page's
 * documents read and parsed, in id order like scan(), instead of every document of the kind.
 */
static sb_err page_all(sq_store *s, const char *kind, const sb_query *q, scan_out *o, size_t *total,
                       sb_errmsg *em)
{
    sb_err err = count_all(s, kind, total, em);
    sqlite3_stmt *st = NULL;
    if (!err)
        err = sq_db_prepare(s,
                            "SELECT id, doc FROM sb_docs WHERE kind = ? ORDER BY id "
                            "LIMIT ? OFFSET ?",
                            &st, em);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, q && q->limit > 0 ? q->limit : -1);
    sqlite3_bind_int64(st, 3, q && q->offset > 0 ? q->offset : 0);
    return scan_rows(s, st, NULL, o, em);
}

/* Whether every filter of q is answered exactly by the index (sqlite_index.c). */
static bool all_exact(const sq_store *s, const sb_query *q)
{
    enum { MAX = 64 };
    static __thread char buckets[MAX][SQ_KEY_MAX + 8];
    size_t n;
    for (size_t i = 0; q && i < q->n_filters; i++)
        if (sq_index_use(s, &q->filters[i], buckets, MAX, &n) != SQ_USE_EXACT)
            return false;
    return q && q->n_filters > 0;
}

/* How many entries f's buckets hold (an index range count), SIZE_MAX when unknown. */
static size_t filter_size(sq_store *s, const char *kind, const sb_filter *f)
{
    sq_where w = {0};
    size_t n = SIZE_MAX;
    sqlite3_stmt *st = NULL;
    if (!sq_where_emit(&w, "SELECT count(*) FROM (") && !sq_index_ids_sql(s, kind, f, &w) &&
        !sq_where_emit(&w, ")") && sq_db_prepare(s, w.sql, &st, NULL) == SB_OK) {
        sq_where_bind(&w, st, 1);
        if (sq_db_step(s, st) == SQLITE_ROW)
            n = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sq_where_free(&w);
    return n;
}

/*
 * The matching ids, one per row, when all_exact(): the ids of the filter with the fewest
 * entries, each looked up under the other filters' buckets (a primary-key probe), rather than
 * every filter's ids read and intersected (10,000 gateway ids for 100 matches).
 */
static int exact_ids(sq_store *s, const char *kind, const sb_query *q, sq_where *w)
{
    memset(w, 0, sizeof(*w));
    size_t lead = 0, least = SIZE_MAX;
    for (size_t i = 0; q->n_filters > 1 && i < q->n_filters; i++) {
        size_t n = filter_size(s, kind, &q->filters[i]);
        if (n < least)
            least = n, lead = i;
    }
    int bad = sq_where_emit(w, q->n_filters > 1 ? "SELECT id FROM (" : "") ||
              (q->n_filters && sq_index_ids_sql(s, kind, &q->filters[lead], w));
    if (!bad && q->n_filters > 1)
        bad = sq_where_emit(w, ") AS k0 WHERE ");
    for (size_t i = 0, n = 0; !bad && q->n_filters > 1 && i < q->n_filters; i++)
        if (i != lead)
            bad = (n++ && sq_where_emit(w, " AND ")) ||
                  sq_index_has_sql(s, kind, &q->filters[i], "k0.id", w);
    return bad;
}

/* *n = the number of ids w (exact_ids) selects; sql has room for w plus 40 bytes. */
static sb_err count_ids(sq_store *s, const sq_where *w, char *sql, size_t *n, sb_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    snprintf(sql, w->len + 40, "SELECT count(*) FROM (%s ORDER BY 1)", w->sql);
    sb_err err = sq_db_prepare(s, sql, &st, em);
    if (err)
        return err;
    sq_where_bind(w, st, 1);
    int rc = sq_db_step(s, st);
    *n = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW)
        err = sq_db_fail(s, rc, em, "count");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum { SORT_BY_IDS = 20000 };

/* Whether rows of st (bound) exist; the statement is reset. */
static sb_err any_row(sq_store *s, sqlite3_stmt *st, bool *yes, sb_errmsg *em)
{
    int rc = sq_db_step(s, st);
    *yes = rc == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SB_OK : sq_db_fail(s, rc, em, "find");
}

/* Whether the page is what the engine gives: every document matches and, sorted, is in order
 * after the one before; and it has as many documents as count, limit and offset leave. */
static bool page_checks(const sb_query *q, const scan_out *o, size_t total)
{
    size_t off = q->offset > 0 ? (size_t)q->offset : 0;
    size_t want = total > off ? total - off : 0;
    if (q->limit > 0 && want > (size_t)q->limit)
        want = (size_t)q->limit;
    bool ok = o->n == want;
    for (size_t i = 0; ok && i < o->n; i++)
        ok = sb_query_match(q, o->docs[i]) &&
             (i == 0 || q->n_sort == 0 || sb_query_compare(q, o->docs[i - 1], o->docs[i]) < 0);
    return ok;
}

/*
 * A find whose filters (if any) the index answers exactly, in id order or sorted by one key
 * the index orders (sq_index_sortable): count and page from the index, and only the page's
 * documents read (CROSS JOIN keeps SQLite from scanning the kind's documents to probe the page
 * instead). Sorted, it applies when every match has one plain string at the key (no entry of
 * the key's outside the "s:" buckets among the matches): their order is then the index's
 * (value, id). The filters' ids are an IN list (SQLite reads them once into an ephemeral
 * index): probing each entry of the key with primary-key lookups instead is faster when
 * matches come early in the key's order but 5x slower when they come late (the bench's gw3
 * fields are all named V_WATT_*, the last of five names: 80,000 entries before the first). The page
 * is still checked with the query engine; should that fail, or the sort not apply (*done false),
 * the caller scans instead.
 */
static sb_err page_exact(sq_store *s, const char *kind, const sb_query *q, scan_out *o,
                         size_t *total, bool *done, sb_errmsg *em)
{
    sq_where w;
    *done = false;
    bool sorted = q->n_sort > 0, filtered = q->n_filters > 0;
    if (exact_ids(s, kind, q, &w)) {
        sq_where_free(&w);
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    }
    size_t n = 2 * w.len + 400;
    char *sql = malloc(n);
    sqlite3_stmt *st = NULL;
    sb_err err = !sql       ? sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory")
                 : filtered ? count_ids(s, &w, sql, total, em)
                            : count_all(s, kind, total, em);
    const char *key = sorted ? q->sort[0].key : NULL;
    char in[32] = "";
    if (!err && filtered)
        snprintf(in, sizeof(in), " AND id IN (");
    /* a match without one plain string there: the scan sorts (two ranges, not an OR, which
     * SQLite would answer by reading every entry of the key) */
    static const char *const others[] = {"value < 's:'", "value >= 's;'"};
    bool other = false;
    for (size_t i = 0; !err && !other && sorted && i < 2; i++) {
        snprintf(sql, n, "SELECT 1 FROM sb_keys WHERE kind = ? AND key = ? AND %s%s%s%s LIMIT 1",
                 others[i], in, filtered ? w.sql : "", filtered ? ")" : "");
        if (!(err = sq_db_prepare(s, sql, &st, em))) {
            sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
            sq_where_bind(&w, st, 3);
            err = any_row(s, st, &other, em);
        }
    }
    if (err || other) {
        free(sql);
        sq_where_free(&w);
        return err;
    }
    /* up to SORT_BY_IDS matches: their entries of the key, looked up by id (sb_keys_id) and
     * sorted, a cost that grows with the matches; beyond, the key's entries in order until
     * the page is full, which is fast when matches come early in that order and reads up to
     * every entry of the key when they come last (the benchmark's gw3: only V_WATT_* names) */
    bool by_ids = sorted && filtered && *total <= SORT_BY_IDS;
    if (!err) {
        const char *dir = sorted && q->sort[0].desc ? " DESC" : "";
        if (by_ids)
            snprintf(sql, n,
                     "SELECT d.id, d.doc FROM (SELECT s0.id, s0.value FROM (%s) AS m CROSS JOIN "
                     "sb_keys AS s0 ON s0.kind = ? AND s0.key = ? AND s0.id = m.id WHERE "
                     "s0.value >= 's:' AND s0.value < 's;' ORDER BY s0.value%s, s0.id LIMIT ? "
                     "OFFSET ?) AS k CROSS JOIN sb_docs AS d ON d.kind = ? AND d.id = k.id "
                     "ORDER BY k.value%s, k.id",
                     w.sql, dir, dir);
        else if (sorted)
            snprintf(sql, n,
                     "SELECT d.id, d.doc FROM (SELECT id, value FROM sb_keys WHERE kind = ? AND "
                     "key = ? AND value >= 's:' AND value < 's;'%s%s%s ORDER BY value%s, id "
                     "LIMIT ? OFFSET ?) AS k CROSS JOIN sb_docs AS d ON d.kind = ? AND d.id = "
                     "k.id ORDER BY k.value%s, k.id",
                     in, filtered ? w.sql : "", filtered ? ")" : "", dir, dir);
        else
            snprintf(sql, n,
                     "SELECT d.id, d.doc FROM (%s ORDER BY 1 LIMIT ? OFFSET ?) AS k CROSS JOIN "
                     "sb_docs AS d ON d.kind = ? AND d.id = k.id ORDER BY d.id",
                     w.sql);
        err = sq_db_prepare(s, sql, &st, em);
    }
    if (!err) {
        int at = 1;
        if (sorted && !by_ids) {
            sqlite3_bind_text(st, at++, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, at++, key, -1, SQLITE_STATIC);
        }
        sq_where_bind(&w, st, at);
        at += (int)w.n_binds;
        if (by_ids) {
            sqlite3_bind_text(st, at++, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, at++, key, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, at, q->limit > 0 ? q->limit : -1);
        sqlite3_bind_int64(st, at + 1, q->offset > 0 ? q->offset : 0);
        sqlite3_bind_text(st, at + 2, kind, -1, SQLITE_STATIC);
        scan_out all = {0};
        err = scan_rows(s, st, NULL, &all, em);
        if (!err && page_checks(q, &all, *total)) {
            *o = all;
            *done = true;
        } else {
            for (size_t i = 0; i < all.n; i++)
                cJSON_Delete(all.docs[i]);
            free(all.docs);
        }
    }
    free(sql);
    sq_where_free(&w);
    return err;
}

static sb_err sq_find(sb_store *base, const char *kind, const sb_query *q, cJSON **out,
                      sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    scan_out o = {0};
    size_t total = 0;
    bool plain = !q || (q->n_filters == 0 && q->n_sort == 0), paged = plain;
    *out = NULL;
    LOCKED(s);
    sb_err err = SB_OK;
    if (plain)
        err = page_all(s, kind, q, &o, &total, em);
    else if ((q->n_sort == 0 || sq_index_sortable(s, q)) &&
             (all_exact(s, q) || (q->n_filters == 0 && q->n_sort > 0)))
        err = page_exact(s, kind, q, &o, &total, &paged, em);
    if (!err && !paged)
        err = scan(s, kind, q, &o, em);
    UNLOCK(s);
    if (err) {
        for (size_t i = 0; i < o.n; i++)
            cJSON_Delete(o.docs[i]);
        free(o.docs);
        return err;
    }
    return page(q, &o, paged ? &total : NULL, out, em);
}

static sb_err sq_count(sb_store *base, const char *kind, const sb_query *q, size_t *n,
                       sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    scan_out o = {.cap = (size_t)-1};
    *n = 0;
    LOCKED(s);
    bool all = !q || q->n_filters == 0, exact = !all && all_exact(s, q);
    sb_err err = SB_OK;
    if (all) {
        err = count_all(s, kind, n, em);
    } else if (exact) {
        sq_where w;
        char *sql = NULL;
        err = exact_ids(s, kind, q, &w) || !(sql = malloc(w.len + 40))
                  ? sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory")
                  : count_ids(s, &w, sql, n, em);
        free(sql);
        sq_where_free(&w);
    } else {
        err = scan(s, kind, q, &o, em);
    }
    UNLOCK(s);
    if (!err && !all && !exact)
        *n = o.n;
    return err;
}

static sb_err sq_batch(sb_store *base, const sb_store_op *ops, size_t n, sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    LOCKED(s);
    sb_err err = sq_db_exec_fixed(s, SQ_BEGIN, em);
    for (size_t i = 0; !err && i < n; i++) /* the checks see the store before the batch */
        if (ops[i].type == SB_STORE_CHECK)
            err = check_one(s, &ops[i], em);
    for (size_t i = 0; !err && i < n; i++) {
        if (ops[i].type == SB_STORE_CHECK)
            continue;
        if (ops[i].type == SB_STORE_PUT)
            err = put_one(s, ops[i].kind, ops[i].doc, em);
        else if (ops[i].kind && ops[i].id)
            err = delete_one(s, ops[i].kind, ops[i].id, NULL, em);
        else
            err = sb_fail(em, SB_ERR_INVALID, "sqlite batch: operation %zu has no kind or id", i);
    }
    err = finish(s, err, em);
    UNLOCK(s);
    return err;
}

static sb_err sq_kinds(sb_store *base, cJSON **out, sb_errmsg *em)
{
    sq_store *s = (sq_store *)base;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    LOCKED(s);
    sqlite3_stmt *st = s->fixed[SQ_KINDS];
    int rc = sq_db_step(s, st);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st))
        cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    sb_err err = rc == SQLITE_DONE ? SB_OK : sq_db_fail(s, rc, em, "kinds");
    UNLOCK(s);
    if (err)
        cJSON_Delete(arr);
    else
        *out = arr;
    return err;
}

static sb_err sq_open(const sb_config *cfg, sb_store **out, sb_errmsg *em)
{
    sq_store *s = NULL;
    sb_err err = sq_db_open(cfg, &s, em);
    if (err)
        return err;
    s->base.plugin = &sb_store_plugin_sqlite;
    *out = &s->base;
    return SB_OK;
}

static void sq_close(sb_store *base)
{
    sq_db_close((sq_store *)base);
}

const sb_store_plugin sb_store_plugin_sqlite = {
    .info = {.name = "sqlite",
             .version = "1",
             .description = "embedded SQLite file (WAL); durable, several processes on one host"},
    .open = sq_open,
    .put = sq_put,
    .get = sq_get,
    .remove = sq_remove,
    .remove_where = sq_remove_where,
    .find = sq_find,
    .count = sq_count,
    .batch = sq_batch,
    .kinds = sq_kinds,
    .close = sq_close,
};
