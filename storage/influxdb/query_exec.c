/*
 * query_exec.c - sb_influx_query: one HTTP request per query (1.x: every statement in one
 * /query call; 2.x: one /api/v2/query per field and function) and the answer shaped as
 * metrics.h says.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "storage/influxdb/influx.h"
#include "storage/influxdb/query.h"

static cJSON *row(int64_t ms, cJSON *value)
{
    char t[SB_TIME_RFC3339_LEN];
    sb_time_format(ms, t, sizeof(t));
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddStringToObject(r, "time", t)) {
        cJSON_Delete(r);
        cJSON_Delete(value);
        return NULL;
    }
    cJSON_AddItemToObject(r, "value", value ? value : cJSON_CreateNull());
    return r;
}

static int cmp_time(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    return strcmp(sb_json_str(x, "time", ""), sb_json_str(y, "time", ""));
}

/* Sorts an array of rows by time (series of several measurements come one after another). */
static void sort_rows(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 2)
        return;
    cJSON **v = malloc((size_t)n * sizeof(*v));
    if (!v)
        return;
    for (int i = n - 1; i >= 0; i--)
        v[i] = cJSON_DetachItemFromArray(arr, i);
    qsort(v, (size_t)n, sizeof(*v), cmp_time);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, v[i]);
    free(v);
}

sb_err sb_influxql_rows(const cJSON *result, cJSON **out, sb_errmsg *em)
{
    const char *err = sb_json_str(result, "error", NULL);
    if (err)
        return sb_fail(em, SB_ERR_REMOTE, "InfluxDB query failed: %s", err);
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(result, "series"), *s;
    cJSON_ArrayForEach(s, series)
    {
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(s, "values"), *v;
        cJSON_ArrayForEach(v, values)
        {
            const cJSON *t = cJSON_GetArrayItem(v, 0), *x = cJSON_GetArrayItem(v, 1);
            if (!cJSON_IsNumber(t))
                continue;
            cJSON *r = row((int64_t)t->valuedouble, x ? cJSON_Duplicate(x, 1) : NULL);
            if (r)
                cJSON_AddItemToArray(arr, r);
        }
    }
    sort_rows(arr);
    *out = arr;
    return SB_OK;
}

/* One CSV cell [s, e) of a line, unquoted (Flux quotes cells with commas). */
static void cell(const char *s, const char *e, char *out, size_t n)
{
    size_t j = 0;
    if (s < e && *s == '"') {
        s++;
        if (e > s && e[-1] == '"')
            e--;
    }
    for (; s < e && j + 1 < n; s++)
        out[j++] = *s;
    out[j] = '\0';
}

/* Splits a CSV line into up to max cells (quoted commas respected). */
static int split(const char *line, const char *end, char cells[][128], int max)
{
    int n = 0;
    bool q = false;
    const char *start = line;
    for (const char *p = line; p <= end && n < max; p++) {
        if (p < end && *p == '"')
            q = !q;
        if (p == end || (*p == ',' && !q)) {
            cell(start, p, cells[n++], 128);
            start = p + 1;
        }
    }
    return n;
}

static cJSON *flux_value(const char *text)
{
    char *e;
    double d = strtod(text, &e);
    if (*text && !*e)
        return cJSON_CreateNumber(d);
    if (!strcmp(text, "true") || !strcmp(text, "false"))
        return cJSON_CreateBool(text[0] == 't');
    return cJSON_CreateString(text);
}

sb_err sb_flux_rows(const char *csv, cJSON **out, sb_errmsg *em)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    int ti = -1, vi = -1;
    char cells[32][128];
    for (const char *p = csv; p && *p;) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        if (end > p && end[-1] == '\r')
            end--;
        int n = end > p && *p != '#' ? split(p, end, cells, 32) : 0;
        if (n == 0) {
            ti = vi = -1; /* a blank line ends a table; the next starts with its header */
        } else if (ti < 0) {
            for (int i = 0; i < n; i++) {
                ti = !strcmp(cells[i], "_time") ? i : ti;
                vi = !strcmp(cells[i], "_value") ? i : vi;
            }
            if (ti < 0 || vi < 0)
                ti = vi = -1;
        } else if (ti < n && vi < n) {
            int64_t ms;
            if (sb_time_parse(cells[ti], &ms) == SB_OK) {
                cJSON *r = row(ms, flux_value(cells[vi]));
                if (r)
                    cJSON_AddItemToArray(arr, r);
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    sort_rows(arr);
    *out = arr;
    return SB_OK;
}

/* The JSON key of function j ("raw" when no functions were asked for). */
static const char *fn_key(const char *const *functions, size_t n_functions, size_t j)
{
    return n_functions ? functions[j] : "raw";
}

static sb_err request(const sb_influx_conn *c, const char *path, const char *ctype,
                      const char *body, sb_lp_buf *resp, sb_errmsg *em)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return sb_fail(em, SB_ERR_NOMEM, "curl_easy_init failed");
    sb_lp_buf u = {0};
    sb_lp_buf_printf(&u, "%s%s", c->url, path);
    long status = 0;
    sb_err rc = sb_influx_http(curl, u.data, ctype, body, body ? strlen(body) : 0, &c->auth,
                               c->timeout_ms, &status, resp, em);
    curl_easy_cleanup(curl);
    sb_lp_buf_free(&u);
    if (rc == SB_OK && (status < 200 || status >= 300))
        rc = sb_fail(em, SB_ERR_REMOTE, "InfluxDB query answered HTTP %ld: %.200s", status,
                     resp->data ? resp->data : "");
    return rc;
}

/* Which field and function an InfluxQL statement answers. */
typedef struct stmt {
    size_t field, fn;
} stmt;

/* Builds every statement: per field and function, plus one over strings where they apply. */
static sb_err build_v1(const sb_quickid *q, size_t nf, const char *start, const char *stop,
                       const char *window, const char *const *fns, size_t nfn, sb_lp_buf *ql,
                       stmt *map, size_t *n, sb_errmsg *em)
{
    size_t per = nfn ? nfn : 1;
    sb_err rc = SB_OK;
    *n = 0;
    for (size_t i = 0; i < nf * per && rc == SB_OK; i++) {
        const char *fn = nfn ? fns[i % per] : NULL;
        for (int strings = 0; strings < 2 && rc == SB_OK; strings++) {
            if (strings && !sb_influxql_on_strings(fn))
                break;
            if (*n > 0)
                rc = sb_lp_buf_append(ql, "; ", 2);
            if (rc == SB_OK)
                rc = sb_influxql_build(&q[i / per], start, stop, window, fn, strings, ql, em);
            map[(*n)++] = (stmt){i / per, i % per};
        }
    }
    return rc;
}

/* Adds the rows of one statement result to its field's function array. */
static sb_err merge_rows(cJSON *out, const cJSON *r, const stmt *s, const char *const *fns,
                         size_t nfn, sb_errmsg *em)
{
    cJSON *rows = NULL, *row;
    sb_err rc = sb_influxql_rows(r, &rows, em);
    if (rc != SB_OK)
        return rc;
    cJSON *f = cJSON_GetArrayItem(out, (int)s->field);
    cJSON *dst = cJSON_GetObjectItemCaseSensitive(f, fn_key(fns, nfn, s->fn));
    while (dst && (row = cJSON_DetachItemFromArray(rows, 0)) != NULL)
        cJSON_AddItemToArray(dst, row);
    cJSON_Delete(rows);
    return SB_OK;
}

static sb_err query_v1(const sb_influx_conn *c, const sb_quickid *q, size_t nf, const char *start,
                       const char *stop, const char *window, const char *const *fns, size_t nfn,
                       cJSON *out, sb_errmsg *em)
{
    size_t n = 0;
    stmt *map = calloc(nf * (nfn ? nfn : 1) * 2, sizeof(*map));
    sb_lp_buf ql = {0}, form = {0}, resp = {0};
    sb_err rc = map ? build_v1(q, nf, start, stop, window, fns, nfn, &ql, map, &n, em)
                    : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    cJSON *doc = NULL;
    if (rc == SB_OK) {
        sb_lp_buf_append(&form, "epoch=ms&db=", 12);
        sb_influx_urlenc(&form, c->database);
        sb_lp_buf_append(&form, "&q=", 3);
        rc = sb_influx_urlenc(&form, ql.data);
    }
    if (rc == SB_OK)
        rc = request(c, "/query", "application/x-www-form-urlencoded", form.data, &resp, em);
    if (rc == SB_OK)
        rc = sb_json_parse(resp.data ? resp.data : "", resp.len, &doc, em);
    const cJSON *results = doc ? cJSON_GetObjectItemCaseSensitive(doc, "results") : NULL, *r;
    if (rc == SB_OK && !cJSON_IsArray(results))
        rc = sb_fail(em, SB_ERR_REMOTE, "InfluxDB query failed: %s",
                     sb_json_str(doc, "error", "no results"));
    cJSON_ArrayForEach(r, results)
    {
        int id = (int)sb_json_num(r, "statement_id", -1);
        if (rc == SB_OK && id >= 0 && (size_t)id < n)
            rc = merge_rows(out, r, &map[id], fns, nfn, em);
    }
    cJSON *f, *a;
    cJSON_ArrayForEach(f, out) cJSON_ArrayForEach(a, f) sort_rows(a);
    cJSON_Delete(doc);
    free(map);
    sb_lp_buf_free(&ql);
    sb_lp_buf_free(&form);
    sb_lp_buf_free(&resp);
    return rc;
}

static sb_err query_v2(const sb_influx_conn *c, const sb_quickid *q, size_t nf, const char *start,
                       const char *stop, const char *window, const char *const *fns, size_t nfn,
                       cJSON *out, sb_errmsg *em)
{
    size_t per = nfn ? nfn : 1;
    sb_err rc = SB_OK;
    sb_lp_buf path = {0};
    sb_lp_buf_append(&path, "/api/v2/query?org=", 18);
    sb_influx_urlenc(&path, c->org);
    for (size_t i = 0; i < nf * per && rc == SB_OK; i++) {
        sb_lp_buf flux = {0}, resp = {0};
        cJSON *rows = NULL;
        rc = sb_flux_build(c->bucket, &q[i / per], start, stop, window, nfn ? fns[i % per] : NULL,
                           &flux, em);
        if (rc == SB_OK)
            rc = request(c, path.data, "application/vnd.flux", flux.data, &resp, em);
        if (rc == SB_OK)
            rc = sb_flux_rows(resp.data ? resp.data : "", &rows, em);
        if (rc == SB_OK)
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(out, (int)(i / per)),
                                                   fn_key(fns, nfn, i % per), rows);
        sb_lp_buf_free(&flux);
        sb_lp_buf_free(&resp);
    }
    sb_lp_buf_free(&path);
    return rc;
}

/* {"<quickId>": {"<fn>": []}} for every field and function, filled in by the answers. */
static sb_err skeleton(const char *const *fields, size_t nf, const char *const *fns, size_t nfn,
                       sb_quickid *q, cJSON **out, sb_errmsg *em)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < nf; i++) {
        sb_err rc = sb_quickid_parse(fields[i], &q[i], em);
        if (rc == SB_OK && (q[i].kind != SB_KIND_FIELD || q[i].key_path[0]))
            rc = sb_fail(em, SB_ERR_INVALID, "'%s' is not a field quick id", fields[i]);
        if (rc != SB_OK) {
            cJSON_Delete(o);
            return rc;
        }
        cJSON *f = cJSON_GetObjectItemCaseSensitive(o, fields[i]);
        if (!f)
            f = cJSON_AddObjectToObject(o, fields[i]);
        for (size_t j = 0; f && j < (nfn ? nfn : 1); j++)
            cJSON_AddArrayToObject(f, fn_key(fns, nfn, j));
    }
    *out = o;
    return o ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

sb_err sb_influx_query(sb_influx *x, const char *const *fields, size_t n_fields, const char *start,
                       const char *stop, const char *window, const char *const *functions,
                       size_t n_functions, cJSON **out, sb_errmsg *em)
{
    *out = NULL;
    if (n_fields == 0)
        return sb_fail(em, SB_ERR_INVALID, "a metrics query needs at least one field");
    sb_quickid *q = calloc(n_fields, sizeof(*q));
    if (!q)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    cJSON *res = NULL;
    sb_err rc = skeleton(fields, n_fields, functions, n_functions, q, &res, em);
    const sb_influx_conn *c = sb_influx_conn_of(x);
    if (rc == SB_OK && c->version == 2)
        rc = query_v2(c, q, n_fields, start, stop, window, functions, n_functions, res, em);
    else if (rc == SB_OK)
        rc = query_v1(c, q, n_fields, start, stop, window, functions, n_functions, res, em);
    free(q);
    if (rc != SB_OK) {
        cJSON_Delete(res);
        return rc;
    }
    *out = res;
    return SB_OK;
}
