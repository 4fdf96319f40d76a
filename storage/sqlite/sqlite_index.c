/*
 * sqlite_index.c - the sqlite store's equality index over chosen key paths
 * (storage.sqlite.index; docs/storage.md "Indexes").
 *
 * sb_keys holds one row (kind, key, value, id) per scalar a document has at an indexed path
 * (each scalar element of an array value), the value being sb_query_index_key's bucket key, so
 * every document an eq/in filter can match is found under the filter values' keys. sb_ikeys
 * keeps each document's entries as JSON ([["key","value"],...]): a put compares the new entries
 * with them and touches sb_keys only when they changed, which for device-tree records (values
 * change, ids and labels do not) is almost never, so the processor's commits pay one lookup per
 * record. Both tables change in the transaction of the document, so they are always exact.
 *
 * Besides that bucket key, numbers get "N:<value>" and numeric strings "x:<text>": a numeric
 * string in a filter ("42") equals stored numbers by value but stored strings only by text
 * ("42", not "42.0"), so its matches are exactly the ids under "N:42" and "x:42". With them
 * every scalar filter value has buckets that hold exactly its matches (numbers: "n:", times:
 * "t:", other strings: "s:", booleans, null), and when every filter is such an eq/in and the
 * order is by id, count and page come from the index alone and only the page's documents are
 * read (page_exact in sqlite_store.c).
 */
#include "storage/sqlite/sqlite_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "storage/query_index.h"
#include "storage/query_priv.h"

#define KEY_MAX SQ_KEY_MAX /* longer values are not indexed, nor filtered by the index */

/* The version of the entries' format: part of the stored spec, so a change rebuilds. */
#define ENTRIES_FORMAT "2"

/* An indexed path without '*' is a sort key; see sq_index_sortable. */

/* ---- which paths ------------------------------------------------------------------------ */

/* A spec path: "a.b" (the value there) or "a.*" (every member of the object at "a"). */
static bool path_ok(const char *p)
{
    size_t n = strlen(p);
    if (!n || n > 200 || p[0] == '.' || p[n - 1] == '.' || strstr(p, ".."))
        return false;
    for (const char *c = p; *c; c++)
        if (*c == '*' && !(c == p + n - 1 && c > p && c[-1] == '.'))
            return false;
    return true;
}

void sq_index_free_spec(sq_store *s)
{
    for (size_t i = 0; i < s->n_index; i++)
        free(s->index[i]);
    free(s->index);
    s->index = NULL;
    s->n_index = 0;
}

static sb_err load_spec(sq_store *s, const sb_strlist *paths, sb_errmsg *em)
{
    for (size_t i = 0; paths && i < paths->n; i++) {
        const char *p = paths->items[i];
        if (!path_ok(p))
            return sb_fail(em, SB_ERR_INVALID,
                           "storage.sqlite.index: '%s' is not a key path (a.b or a.*)", p);
        char *copy = strdup(p);
        if (!copy || !sb_ptrs_push(&s->index, &s->n_index, &s->index_cap, copy)) {
            free(copy);
            return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
        }
    }
    return SB_OK;
}

/* The object member path leads to (objects only, like the query engine's walk), or NULL. */
static const cJSON *walk(const cJSON *doc, const char *path, size_t len)
{
    const cJSON *cur = doc;
    const char *p = path, *end = path + len;
    while (cur && p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        const cJSON *e = cJSON_IsObject(cur) ? cur->child : NULL;
        while (e && (!e->string || strlen(e->string) != n || memcmp(e->string, p, n) != 0))
            e = e->next;
        cur = e;
        p += n + 1;
    }
    return cur;
}

/* ---- a document's entries ---------------------------------------------------------------- */

/* The exact-value bucket of a number ("N:") or numeric string ("x:"); false for other values. */
static bool exact_bucket(const cJSON *v, char *buf, size_t len)
{
    double num;
    if (cJSON_IsNumber(v))
        snprintf(buf, len, "N:%.17g", v->valuedouble == 0 ? 0.0 : v->valuedouble);
    else if (cJSON_IsString(v) && sb_str_number(v->valuestring, &num))
        snprintf(buf, len, "x:%s", v->valuestring);
    else
        return false;
    return true;
}

static bool add_bucket(cJSON *list, const char *key, const char *bucket)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list) /* an array holding a value twice: one entry */
    {
        if (strcmp(cJSON_GetArrayItem(e, 0)->valuestring, key) == 0 &&
            strcmp(cJSON_GetArrayItem(e, 1)->valuestring, bucket) == 0)
            return true;
    }
    cJSON *pair = cJSON_CreateArray();
    return pair && cJSON_AddItemToArray(list, pair) &&
           cJSON_AddItemToArray(pair, cJSON_CreateString(key)) &&
           cJSON_AddItemToArray(pair, cJSON_CreateString(bucket));
}

static bool add_entry(cJSON *list, const char *key, const cJSON *v)
{
    char bucket[KEY_MAX + 8];
    if (!sb_query_index_key(v, bucket, sizeof(bucket)) || strlen(bucket) > KEY_MAX)
        /* not indexed: filters on such values do not use the index either, nor a sort */
        return cJSON_IsArray(v) || cJSON_IsObject(v) || add_bucket(list, key, SQ_MARK_OTHER);
    if (!add_bucket(list, key, bucket))
        return false;
    if (exact_bucket(v, bucket, sizeof(bucket)) && strlen(bucket) <= KEY_MAX)
        return add_bucket(list, key, bucket);
    return true;
}

static bool add_value(cJSON *list, const char *key, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return add_entry(list, key, v);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) if (!add_entry(list, key, e)) return false;
    return true;
}

/* [["key","bucket"],...] for doc, in spec order; NULL when out of memory. */
static cJSON *entries_of(const sq_store *s, const cJSON *doc)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < s->n_index; i++) {
        const char *p = s->index[i];
        size_t n = strlen(p);
        bool members = n > 2 && p[n - 1] == '*';
        const cJSON *v = walk(doc, p, members ? n - 2 : n);
        bool ok = true;
        if (!members) { /* markers: the value is not one sortable string (sq_index_sorted) */
            ok = v ? add_value(list, p, v) : add_bucket(list, p, SQ_MARK_MISSING);
            if (ok && (cJSON_IsArray(v) || cJSON_IsObject(v)))
                ok = add_bucket(list, p, SQ_MARK_OTHER);
        } else if (cJSON_IsObject(v)) {
            for (const cJSON *m = v->child; ok && m; m = m->next) {
                /* the first member of a name is the one a filter sees; a name with a dot
                 * would be read as a deeper path */
                if (!m->string || !*m->string || strchr(m->string, '.') ||
                    walk(v, m->string, strlen(m->string)) != m)
                    continue;
                char key[512];
                if (snprintf(key, sizeof(key), "%.*s.%s", (int)(n - 2), p, m->string) <
                    (int)sizeof(key))
                    ok = add_value(list, key, m);
            }
        }
        if (!ok) {
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

/* ---- keeping sb_keys and sb_ikeys -------------------------------------------------------- */

static sb_err step_done(sq_store *s, sqlite3_stmt *st, sb_errmsg *em, const char *what)
{
    int rc = sq_db_step(s, st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SB_OK : sq_db_fail(s, rc, em, what);
}

/* The stored entries text of kind/id (caller frees), NULL when none. */
static char *stored_entries(sq_store *s, const char *kind, const char *id, sb_err *err,
                            sb_errmsg *em)
{
    sqlite3_stmt *st = s->fixed[SQ_IKEYS_GET];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sq_db_step(s, st);
    char *out = NULL;
    *err = SB_OK;
    if (rc == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        *err = sq_db_fail(s, rc, em, "index read");
    if (rc == SQLITE_ROW && !out)
        *err = sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

/* Adds (insert) or removes every entry of the list text to/from sb_keys. */
static sb_err apply_entries(sq_store *s, const char *kind, const char *id, const char *text,
                            bool insert, sb_errmsg *em)
{
    cJSON *list = NULL;
    if (sb_json_parse(text, strlen(text), &list, NULL) != SB_OK)
        return sb_fail(em, SB_ERR_PARSE, "sqlite: index entries of %s/%s unreadable", kind, id);
    sqlite3_stmt *st = s->fixed[insert ? SQ_KEYS_ADD : SQ_KEYS_DEL];
    sb_err err = SB_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (err)
            break;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        const char *key = cJSON_GetStringValue(cJSON_GetArrayItem(e, 0));
        const char *bucket = cJSON_GetStringValue(cJSON_GetArrayItem(e, 1));
        if (!key || !bucket) {
            err = sb_fail(em, SB_ERR_PARSE, "sqlite: index entries of %s/%s unreadable", kind, id);
            break;
        }
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
        err = step_done(s, st, em, "index write");
    }
    cJSON_Delete(list);
    return err;
}

/* Replaces the entries of kind/id (old text, may be NULL) by new_text ("[]" = none). */
static sb_err replace(sq_store *s, const char *kind, const char *id, const char *old_text,
                      const char *new_text, sb_errmsg *em)
{
    sb_err err = old_text ? apply_entries(s, kind, id, old_text, false, em) : SB_OK;
    if (!err)
        err = apply_entries(s, kind, id, new_text, true, em);
    sqlite3_stmt *st = s->fixed[strcmp(new_text, "[]") == 0 ? SQ_IKEYS_DEL : SQ_IKEYS_PUT];
    if (!err) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (st == s->fixed[SQ_IKEYS_PUT])
            sqlite3_bind_text(st, 3, new_text, -1, SQLITE_STATIC);
        err = step_done(s, st, em, "index write");
    }
    return err;
}

sb_err sq_index_put(sq_store *s, const char *kind, const char *id, const cJSON *doc, bool in_txn,
                    bool *need_txn, sb_errmsg *em)
{
    *need_txn = false;
    if (s->n_index == 0)
        return SB_OK;
    cJSON *list = entries_of(s, doc);
    char *text = list ? cJSON_PrintUnformatted(list) : NULL;
    cJSON_Delete(list);
    if (!text)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    sb_err err;
    char *old = stored_entries(s, kind, id, &err, em);
    bool same = !err && (old ? strcmp(old, text) == 0 : strcmp(text, "[]") == 0);
    if (!err && !same) {
        if (in_txn)
            err = replace(s, kind, id, old, text, em);
        else
            *need_txn = true; /* the caller retries inside a transaction */
    }
    free(old);
    free(text);
    return err;
}

sb_err sq_index_delete(sq_store *s, const char *kind, const char *id, sb_errmsg *em)
{
    if (s->n_index == 0)
        return SB_OK;
    sb_err err;
    char *old = stored_entries(s, kind, id, &err, em);
    if (!err && old)
        err = replace(s, kind, id, old, "[]", em);
    free(old);
    return err;
}

/* ---- opening: schema, and a rebuild when the indexed paths changed ------------------------ */

static char *spec_text(const sq_store *s)
{
    cJSON *a = cJSON_CreateArray();
    if (a)
        cJSON_AddItemToArray(a, cJSON_CreateString("format " ENTRIES_FORMAT));
    for (size_t i = 0; a && i < s->n_index; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->index[i]));
    char *t = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return t;
}

/* Rebuilds both tables from every document (inside the caller's transaction). */
static sb_err rebuild(sq_store *s, const char *spec, sb_errmsg *em)
{
    sqlite3_stmt *all = NULL;
    sb_err err = sqlite3_exec(s->db, "DELETE FROM sb_keys; DELETE FROM sb_ikeys", NULL, NULL,
                              NULL) == SQLITE_OK
                     ? sq_db_prepare(s, "SELECT kind, id, doc FROM sb_docs", &all, em)
                     : sq_db_fail(s, sqlite3_errcode(s->db), em, "index rebuild");
    size_t n = 0;
    int rc = err ? SQLITE_DONE : sqlite3_step(all);
    for (; !err && rc == SQLITE_ROW; rc = sqlite3_step(all)) {
        const char *kind = (const char *)sqlite3_column_text(all, 0);
        const char *id = (const char *)sqlite3_column_text(all, 1);
        cJSON *doc = NULL;
        if (sb_json_parse((const char *)sqlite3_column_text(all, 2),
                          (size_t)sqlite3_column_bytes(all, 2), &doc, NULL) != SB_OK)
            continue; /* an unreadable document: its reads fail on their own */
        cJSON *list = entries_of(s, doc);
        char *text = list ? cJSON_PrintUnformatted(list) : NULL;
        err = text ? (strcmp(text, "[]") ? replace(s, kind, id, NULL, text, em) : SB_OK)
                   : sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
        n++;
        free(text);
        cJSON_Delete(list);
        cJSON_Delete(doc);
    }
    if (!err && rc != SQLITE_DONE)
        err = sq_db_fail(s, rc, em, "index rebuild");
    if (all)
        sqlite3_reset(all);
    sqlite3_stmt *meta = NULL;
    if (!err && !(err = sq_db_prepare(s,
                                      "INSERT INTO sb_meta(name, value) VALUES('index', ?1) "
                                      "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                                      &meta, em))) {
        sqlite3_bind_text(meta, 1, spec, -1, SQLITE_STATIC);
        err = step_done(s, meta, em, "index rebuild");
    }
    s->index_rebuilt = err ? 0 : n;
    return err;
}

sb_err sq_index_open(sq_store *s, const sb_strlist *paths, sb_errmsg *em)
{
    sb_err err = load_spec(s, paths, em);
    if (err)
        return err;
    char *spec = spec_text(s);
    if (!spec)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    sqlite3_stmt *st = NULL;
    err = sq_db_exec_fixed(s, SQ_BEGIN, em); /* one process rebuilds; the others then agree */
    if (!err)
        err = sq_db_prepare(s, "SELECT value FROM sb_meta WHERE name = 'index'", &st, em);
    bool same = false;
    if (!err) {
        int rc = sq_db_step(s, st);
        same = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), spec) == 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            err = sq_db_fail(s, rc, em, "index spec");
    }
    if (!err && !same)
        err = rebuild(s, spec, em);
    if (!err)
        err = sq_db_exec_fixed(s, SQ_COMMIT, em);
    else if (!sqlite3_get_autocommit(s->db))
        (void)sq_db_exec_fixed(s, SQ_ROLLBACK, NULL);
    free(spec);
    return err;
}

/* ---- queries ------------------------------------------------------------------------------ */

/* Whether key is indexed: a spec path itself, or a member of an "a.*" path. */
static bool indexed(const sq_store *s, const char *key)
{
    for (size_t i = 0; i < s->n_index; i++) {
        const char *p = s->index[i];
        size_t n = strlen(p);
        if (strcmp(p, key) == 0 && p[n - 1] != '*')
            return true;
        if (p[n - 1] == '*' && strncmp(p, key, n - 1) == 0 && key[n - 1] &&
            !strchr(key + n - 1, '.'))
            return true;
    }
    return false;
}

sq_use sq_index_use(const sq_store *s, const sb_filter *f, char buckets[][KEY_MAX + 8], size_t max,
                    size_t *n)
{
    *n = 0;
    if ((f->op != SB_OP_EQ && f->op != SB_OP_IN) || !indexed(s, f->key))
        return SQ_USE_NONE;
    const cJSON *v = f->value, *one = f->op == SB_OP_EQ ? v : NULL;
    if (f->op == SB_OP_IN && !cJSON_IsArray(v))
        return SQ_USE_NONE;
    for (const cJSON *e = one ? one : v->child; e; e = one ? NULL : e->next) {
        if (*n + 2 > max || cJSON_IsArray(e) || cJSON_IsObject(e) ||
            !sb_query_index_key(e, buckets[*n], KEY_MAX + 8) || strlen(buckets[*n]) > KEY_MAX)
            return SQ_USE_NONE;
        double num;
        if (cJSON_IsString(e) && sb_str_number(e->valuestring, &num)) {
            /* equal to numbers by value, to strings by text: "N:" and "x:", not "n:" */
            snprintf(buckets[*n], KEY_MAX + 8, "N:%.17g", num == 0 ? 0.0 : num);
            exact_bucket(e, buckets[*n + 1], KEY_MAX + 8);
            if (strlen(buckets[*n]) > KEY_MAX || strlen(buckets[*n + 1]) > KEY_MAX)
                return SQ_USE_NONE;
            (*n)++;
        }
        (*n)++;
    }
    return *n == 0 ? SQ_USE_NONE : SQ_USE_EXACT;
}

/* "EXISTS (SELECT 1 FROM sb_keys WHERE kind = ? AND key = ? AND value IN (...)" and tail with
 * exists set, else the ids: "SELECT id FROM sb_keys WHERE kind = ? AND key = ? AND value = ?",
 * one per bucket joined by UNION (each in id order from the primary key: with an ORDER BY 1
 * after it SQLite merges them as it steps, without reading every id into a temporary B-tree as
 * DISTINCT would; one bucket holds an id once). */
static int emit_lookup(const sq_store *s, const char *kind, const sb_filter *f, sq_where *w,
                       bool exists, const char *tail)
{
    enum { MAX = 64 };
    static __thread char buckets[MAX][KEY_MAX + 8];
    size_t n = 0;
    if (sq_index_use(s, f, buckets, MAX, &n) == SQ_USE_NONE)
        return 0;
    static const char where[] = " FROM sb_keys WHERE kind = ? AND key = ? AND value";
    for (size_t i = 0; i < n; i++) {
        if (exists ? (!i && (sq_where_emit(w, "EXISTS (SELECT 1") || sq_where_emit(w, where) ||
                             sq_where_text(w, kind) || sq_where_text(w, f->key) ||
                             sq_where_emit(w, " IN (?"))) ||
                         (i && sq_where_emit(w, ", ?"))
                   : (i && sq_where_emit(w, " UNION ")) || sq_where_emit(w, "SELECT id") ||
                         sq_where_emit(w, where) || sq_where_text(w, kind) ||
                         sq_where_text(w, f->key) || sq_where_emit(w, " = ?"))
            return -1;
        if (sq_where_text(w, buckets[i]))
            return -1;
    }
    return sq_where_emit(w, exists ? ")" : "") || sq_where_emit(w, tail);
}

int sq_index_ids_sql(const sq_store *s, const char *kind, const sb_filter *f, sq_where *w)
{
    return emit_lookup(s, kind, f, w, false, "");
}

int sq_index_has_sql(const sq_store *s, const char *kind, const sb_filter *f, const char *id,
                     sq_where *w)
{
    char tail[64];
    snprintf(tail, sizeof(tail), " AND id = %s)", id);
    return emit_lookup(s, kind, f, w, true, tail);
}

bool sq_index_sortable(const sq_store *s, const sb_query *q)
{
    if (!q || q->n_sort != 1 || q->limit <= 0 || strchr(q->sort[0].key, '.'))
        return false; /* a dotted key: sb_json_path reads array elements, the index does not */
    for (size_t i = 0; i < s->n_index; i++)
        if (strcmp(s->index[i], q->sort[0].key) == 0)
            return true;
    return false;
}
