/*
 * sqlite_where.c - turns an sb_query into an SQL pre-filter over the JSON text, and the REGEXP
 * and sb_contains functions it uses.
 *
 * The rules of store.h (numeric strings against numbers, RFC 3339 times, arrays matching by any
 * element, case-insensitive POSIX regex, missing keys) are matched exactly by sb_query_match,
 * the shared engine; the SQL clause only has to let through every document the engine would
 * accept, and to drop as many others as it safely can inside SQLite (no JSON parse in C):
 *   - eq/in with plain strings (not numbers, times or true/false): the document's text contains
 *     one of them as printed (sb_contains, a memmem that drops most rows), then a text element
 * equal to one of them (json_each walks a scalar as one row and an array by element);
 *   - eq/gt/gte/lt/lte with a number: a number element in range (a small tolerance absorbs the
 *     last-bit differences between SQLite's and cJSON's number parsers); text passes, since it
 *     may be a numeric string;
 *   - regex: a text element the pattern matches, or a value that is not text;
 *   - exists: json_type; ne/nin and anything else: no narrowing, or "present" where a missing
 *     key cannot match.
 * Key paths with a segment that is all digits (an array index for sb_json_path) or that holds
 * characters outside [A-Za-z0-9_-] are not narrowed at all.
 */
#include "storage/sqlite/sqlite_store.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/time.h"

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *np = realloc(*p, n * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = n;
    return 0;
}

int sq_where_emit(sq_where *w, const char *text)
{
    size_t n = strlen(text);
    if (grow((void **)&w->sql, &w->cap, w->len + n + 1, 1))
        return -1;
    memcpy(w->sql + w->len, text, n + 1);
    w->len += n;
    return 0;
}

int sq_where_text(sq_where *w, const char *text)
{
    if (grow((void **)&w->binds, &w->cap_binds, w->n_binds + 1, sizeof(sq_bind)))
        return -1;
    char *copy = strdup(text);
    if (!copy)
        return -1;
    w->binds[w->n_binds++] = (sq_bind){.is_num = 0, .text = copy};
    return 0;
}

static int bind_num(sq_where *w, double v)
{
    if (grow((void **)&w->binds, &w->cap_binds, w->n_binds + 1, sizeof(sq_bind)))
        return -1;
    w->binds[w->n_binds++] = (sq_bind){.is_num = 1, .num = v};
    return 0;
}

/* "$.\"a\".\"b\"" for "a.b", or NULL when the path is not one we narrow on. */
static char *json_path(const char *key)
{
    size_t n = strlen(key);
    char *out = malloc(n * 3 + 4);
    if (!out || !*key)
        goto fail;
    char *o = out;
    *o++ = '$';
    const char *p = key;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || strspn(p, "0123456789") >= len)
            goto fail;
        for (size_t i = 0; i < len; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-'))
                goto fail;
        }
        o += sprintf(o, ".\"%.*s\"", (int)len, p);
        p += len + (dot ? 1 : 0);
        if (dot && !*p)
            goto fail;
    }
    return out;
fail:
    free(out);
    return NULL;
}

int sq_plain_string(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return 0;
    const char *s = v->valuestring;
    char *end;
    (void)strtod(s, &end);
    if (end != s || *s == ' ' || *s == '\t' || *s == '\n')
        return 0;
    int64_t ms;
    if (sb_time_parse(s, &ms) == SB_OK)
        return 0;
    return strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0 && strcasecmp(s, "null");
}

static double tolerance(double v)
{
    return 1e-9 * (fabs(v) > 1 ? fabs(v) : 1);
}

static int add_present(sq_where *w, const char *path)
{
    return sq_where_emit(w, " AND json_type(d.doc, ?) IS NOT NULL") || sq_where_text(w, path);
}

static int add_exists(sq_where *w, const char *path, const cJSON *v)
{
    if (cJSON_IsTrue(v))
        return add_present(w, path);
    if (!cJSON_IsFalse(v))
        return 0;
    return sq_where_emit(w, " AND (json_type(d.doc, ?) IS NULL OR json_type(d.doc, ?) = 'null')") ||
           sq_where_text(w, path) || sq_where_text(w, path);
}

/* eq/in: values is the single value (eq) or the array (in). */
static int add_in(sq_where *w, const char *path, const cJSON *v, int is_in)
{
    const cJSON *it;
    int n = 0, plain = 1;
    if (is_in && cJSON_IsArray(v)) {
        cJSON_ArrayForEach(it, v)
        {
            plain = plain && sq_plain_string(it);
            n++;
        }
    } else if (!is_in) {
        plain = sq_plain_string(v);
        n = 1;
    }
    if (!plain || n == 0)
        return add_present(w, path);
    /* The cheap check first: a matching document's text holds one of the strings as the store
     * printed it (sq_put: cJSON's printer, one encoding per string), so most rows are dropped
     * without json_each parsing them. */
    for (int i = 0; i < n; i++) {
        it = is_in ? cJSON_GetArrayItem(v, i) : v;
        cJSON *ref = cJSON_CreateStringReference(it->valuestring);
        char *enc = ref ? cJSON_PrintUnformatted(ref) : NULL;
        cJSON_Delete(ref);
        int bad =
            !enc ||
            sq_where_emit(w, i ? " OR sb_contains(d.doc, ?)" : " AND (sb_contains(d.doc, ?)") ||
            sq_where_text(w, enc);
        free(enc);
        if (bad)
            return -1;
    }
    if (sq_where_emit(w, ")") ||
        sq_where_emit(
            w,
            " AND EXISTS(SELECT 1 FROM json_each(d.doc, ?) WHERE type = 'text' AND value IN (") ||
        sq_where_text(w, path))
        return -1;
    for (int i = 0; i < n; i++) {
        it = is_in ? cJSON_GetArrayItem(v, i) : v;
        if (sq_where_emit(w, i ? ", ?" : "?") || sq_where_text(w, it->valuestring))
            return -1;
    }
    return sq_where_emit(w, "))");
}

static int add_range(sq_where *w, const char *path, sb_filter_op op, const cJSON *v)
{
    if (!cJSON_IsNumber(v))
        return add_present(w, path);
    double x = v->valuedouble, eps = tolerance(x);
    const char *cond;
    switch (op) {
    case SB_OP_EQ:
        cond = "abs(value - ?) <= ?";
        break;
    case SB_OP_GT:
    case SB_OP_GTE:
        cond = "value >= ?";
        x -= eps;
        break;
    default: /* LT, LTE */
        cond = "value <= ?";
        x += eps;
        break;
    }
    char sql[160];
    snprintf(sql, sizeof(sql),
             " AND EXISTS(SELECT 1 FROM json_each(d.doc, ?) WHERE type NOT IN ('integer', "
             "'real') OR %s)",
             cond);
    if (sq_where_emit(w, sql) || sq_where_text(w, path) || bind_num(w, x))
        return -1;
    return op == SB_OP_EQ ? bind_num(w, eps) : 0;
}

static int add_regex(sq_where *w, const char *path, const cJSON *v)
{
    if (!cJSON_IsString(v))
        return add_present(w, path);
    return sq_where_emit(w, " AND (json_type(d.doc, ?) NOT IN ('text', 'array') OR EXISTS(SELECT 1 "
                            "FROM json_each(d.doc, ?) WHERE type <> 'text' OR value REGEXP ?))") ||
           sq_where_text(w, path) || sq_where_text(w, path) || sq_where_text(w, v->valuestring);
}

/* Whether f can narrow through the index (sqlite_index.c). */
static bool uses_index(const sq_store *s, const sb_filter *f)
{
    enum { MAX = 64 };
    static __thread char buckets[MAX][SQ_KEY_MAX + 8];
    size_t n;
    return sq_index_use(s, f, buckets, MAX, &n) != SQ_USE_NONE;
}

/* " AND d.id IN (<ids of filter 1> INTERSECT <ids of filter 2> ...)" over the filters that use
 * the index: SQLite then reads only the documents in the intersection (with one IN per filter
 * it would read every document of the first filter's ids). */
static int add_index(const sq_store *s, const char *kind, sq_where *w, const sb_query *q)
{
    int n = 0;
    for (size_t i = 0; q && i < q->n_filters; i++) {
        if (!uses_index(s, &q->filters[i]))
            continue;
        /* each filter's ids may be a UNION: in a sub-select, or the compound operators would
         * chain from one filter into the next */
        if (sq_where_emit(w, n++ ? " INTERSECT " : " AND d.id IN (") ||
            sq_where_emit(w, "SELECT id FROM (") || sq_index_ids_sql(s, kind, &q->filters[i], w) ||
            sq_where_emit(w, ")"))
            return -1;
    }
    return n ? sq_where_emit(w, ")") : 0;
}

static int add_filter(const sq_store *s, sq_where *w, const sb_filter *f)
{
    if (uses_index(s, f)) /* the index ids hold every match: JSON checks would only repeat it */
        return 0;
    char *path = json_path(f->key);
    if (!path)
        return 0;
    int rc = 0;
    switch (f->op) {
    case SB_OP_EXISTS:
        rc = add_exists(w, path, f->value);
        break;
    case SB_OP_EQ:
        rc = cJSON_IsNumber(f->value) ? add_range(w, path, f->op, f->value)
                                      : add_in(w, path, f->value, 0);
        break;
    case SB_OP_IN:
        rc = add_in(w, path, f->value, 1);
        break;
    case SB_OP_GT:
    case SB_OP_GTE:
    case SB_OP_LT:
    case SB_OP_LTE:
        rc = add_range(w, path, f->op, f->value);
        break;
    case SB_OP_REGEX:
        rc = add_regex(w, path, f->value);
        break;
    default: /* ne, nin: a missing key matches them, nothing to narrow */
        break;
    }
    free(path);
    return rc;
}

sb_err sq_where_build(const sq_store *s, const char *kind, const sb_query *q, sq_where *w)
{
    memset(w, 0, sizeof(*w));
    if (sq_where_emit(w, "") || add_index(s, kind, w, q)) {
        sq_where_free(w);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; q && i < q->n_filters; i++) {
        if (add_filter(s, w, &q->filters[i])) {
            sq_where_free(w);
            return SB_ERR_NOMEM;
        }
    }
    return SB_OK;
}

void sq_where_free(sq_where *w)
{
    for (size_t i = 0; i < w->n_binds; i++)
        free(w->binds[i].text);
    free(w->binds);
    free(w->sql);
    memset(w, 0, sizeof(*w));
}

int sq_where_bind(const sq_where *w, sqlite3_stmt *st, int first)
{
    for (size_t i = 0; i < w->n_binds; i++) {
        const sq_bind *b = &w->binds[i];
        int rc = b->is_num ? sqlite3_bind_double(st, first + (int)i, b->num)
                           : sqlite3_bind_text(st, first + (int)i, b->text, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static void regex_free(void *p)
{
    regfree(p);
    free(p);
}

/* value REGEXP pattern calls regexp(pattern, value). The compiled pattern is kept as auxdata
 * on the argument, so it is compiled once per statement run. */
static void regexp_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *pat = (const char *)sqlite3_value_text(argv[0]);
    const char *val = (const char *)sqlite3_value_text(argv[1]);
    if (!pat || !val) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    regex_t *re = sqlite3_get_auxdata(ctx, 0);
    if (re) {
        sqlite3_result_int(ctx, regexec(re, val, 0, NULL, 0) == 0);
        return;
    }
    re = malloc(sizeof(*re));
    if (!re) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
        free(re);
        sqlite3_result_error(ctx, "invalid regular expression", -1);
        return;
    }
    sqlite3_result_int(ctx, regexec(re, val, 0, NULL, 0) == 0);
    /* SQLite may free re at once here, so it is not used after this call. */
    sqlite3_set_auxdata(ctx, 0, re, regex_free);
}

/* sb_contains(haystack, needle): whether the text holds the bytes of needle (memmem, several
 * times faster than SQLite's instr(), which walks characters). NULL arguments: false. */
static void contains_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const void *hay = sqlite3_value_text(argv[0]), *needle = sqlite3_value_text(argv[1]);
    int hn = sqlite3_value_bytes(argv[0]), nn = sqlite3_value_bytes(argv[1]);
    sqlite3_result_int(ctx, hay && needle && memmem(hay, (size_t)hn, needle, (size_t)nn) != NULL);
}

int sq_regexp_register(sqlite3 *db)
{
    int rc = sqlite3_create_function_v2(db, "regexp", 2,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        regexp_fn, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "sb_contains", 2,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        contains_fn, NULL, NULL, NULL);
    return rc;
}
