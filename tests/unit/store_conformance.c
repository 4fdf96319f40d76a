/*
 * store_conformance.c - the backend-independent store tests (see store_conformance.h for how a
 * backend plugs in): CRUD, paging edges, 10k-document finds, concurrent writers, reopen and read
 * back, batch atomicity, deletes with counts and bad filters. The operator tests live in
 * store_conformance_ops.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/store_conformance.h"

static const sb_store_backend *B;

/* ---- helpers shared with store_conformance_ops.c ---- */

int sb_conformance_setup(void **state)
{
    *state = NULL;
    if (B->skip_reason)
        return 0;
    sb_errmsg em = {{0}};
    sb_store *s = B->open(B->ctx, true, &em);
    if (!s) {
        print_error("%s: open failed: %s\n", B->name, em.text);
        return -1;
    }
    *state = s;
    return 0;
}

int sb_conformance_teardown(void **state)
{
    sb_store_close(*state);
    *state = NULL;
    return 0;
}

sb_store *sb_conformance_store(void **state)
{
    if (B->skip_reason) {
        print_message("[  SKIP    ] %s: %s\n", B->name, B->skip_reason);
        skip();
    }
    assert_non_null(*state);
    return *state;
}

/* Closes *sp and opens the same data again. */
static sb_store *reopen(void **state)
{
    sb_store_close(*state);
    *state = NULL;
    sb_errmsg em = {{0}};
    sb_store *s = B->open(B->ctx, false, &em);
    if (!s)
        print_error("%s: reopen failed: %s\n", B->name, em.text);
    assert_non_null(s);
    *state = s;
    return s;
}

static cJSON *parse(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    if (!doc)
        print_error("bad JSON in test: %s\n", json);
    assert_non_null(doc);
    return doc;
}

void sb_conformance_put(sb_store *s, const char *kind, const char *json)
{
    cJSON *doc = parse(json);
    sb_errmsg em = {{0}};
    sb_err err = sb_store_put(s, kind, doc, &em);
    if (err)
        print_error("put %s: %s\n", json, sb_errmsg_str(&em, err));
    cJSON_Delete(doc);
    assert_int_equal(err, SB_OK);
}

/* The ids of find's data joined with ',' into buf; returns count. */
static long find_ids(sb_store *s, const char *kind, const sb_query *q, char *buf, size_t len)
{
    cJSON *res = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_store_find(s, kind, q, &res, &em);
    if (err)
        print_error("find: %s\n", sb_errmsg_str(&em, err));
    assert_int_equal(err, SB_OK);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(res, "data");
    assert_true(cJSON_IsArray(data));
    size_t n = 0;
    buf[0] = '\0';
    for (const cJSON *d = data->child; d; d = d->next)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
                              sb_json_str(d, "id", "?"));
    assert_int_equal(sb_json_num(res, "limit", -1), q ? q->limit : 0);
    assert_int_equal(sb_json_num(res, "offset", -1), q ? q->offset : 0);
    long count = (long)sb_json_num(res, "count", -1);
    cJSON_Delete(res);
    return count;
}

void sb_conformance_expect(sb_store *s, const char *kind, const char *filters, const char *sort,
                           long limit, long offset, const char *ids, const char *file, int line)
{
    sb_query q;
    sb_errmsg em = {{0}};
    sb_err err = sb_query_parse(filters, sort, &q, &em);
    if (err) {
        print_error("%s:%d: query %s: %s\n", file, line, filters ? filters : "-", em.text);
        _fail(file, line);
    }
    q.limit = limit;
    q.offset = offset;
    char got[4096];
    long count = find_ids(s, kind, &q, got, sizeof(got));
    size_t counted = 0;
    assert_int_equal(sb_store_count(s, kind, &q, &counted, NULL), SB_OK);
    sb_query_free(&q);
    if (strcmp(got, ids) != 0 || (limit == 0 && offset == 0 && (size_t)count != counted)) {
        print_error("%s:%d: %s: filters %s sort %s limit %ld offset %ld: expected [%s], got "
                    "[%s] (count %ld, sb_store_count %zu)\n",
                    file, line, B->name, filters ? filters : "-", sort ? sort : "-", limit, offset,
                    ids, got, count, counted);
        _fail(file, line);
    }
}

static void expect_get(sb_store *s, const char *kind, const char *id, sb_err want)
{
    cJSON *doc = NULL;
    sb_err err = sb_store_get(s, kind, id, &doc, NULL);
    if (err != want)
        print_error("get %s/%s: expected %s, got %s\n", kind, id, sb_strerror(want),
                    sb_strerror(err));
    assert_int_equal(err, want);
    if (want == SB_OK)
        assert_string_equal(sb_json_str(doc, "id", ""), id);
    cJSON_Delete(doc);
}

/* ---- CRUD ---- */

static void test_crud(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_conformance_put(s, "gateway", "{\"id\":\"gw1\",\"name\":\"one\",\"labels\":{\"a\":\"b\"}}");
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(s, "gateway", "gw1", &doc, NULL), SB_OK);
    assert_string_equal(sb_json_str(doc, "name", ""), "one");
    cJSON_Delete(doc);
    /* put replaces the whole document */
    sb_conformance_put(s, "gateway", "{\"id\":\"gw1\",\"name\":\"uno\"}");
    assert_int_equal(sb_store_get(s, "gateway", "gw1", &doc, NULL), SB_OK);
    assert_string_equal(sb_json_str(doc, "name", ""), "uno");
    assert_null(cJSON_GetObjectItem(doc, "labels"));
    /* the caller's copy is its own */
    sb_json_set_str(doc, "name", "changed");
    cJSON_Delete(doc);
    assert_int_equal(sb_store_get(s, "gateway", "gw1", &doc, NULL), SB_OK);
    assert_string_equal(sb_json_str(doc, "name", ""), "uno");
    cJSON_Delete(doc);
    /* kinds are separate namespaces */
    expect_get(s, "node", "gw1", SB_ERR_NOTFOUND);
    expect_get(s, "gateway", "nope", SB_ERR_NOTFOUND);
    sb_conformance_put(s, "node", "{\"id\":\"gw1\",\"x\":1}");
    expect_get(s, "gateway", "gw1", SB_OK);
    const char *ids[] = {"gw1"};
    size_t deleted = 9;
    assert_int_equal(sb_store_delete(s, "gateway", ids, 1, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 1);
    expect_get(s, "gateway", "gw1", SB_ERR_NOTFOUND);
    expect_get(s, "node", "gw1", SB_OK);
    cJSON *kinds = NULL;
    assert_int_equal(sb_store_kinds(s, &kinds, NULL), SB_OK);
    bool has_node = false;
    for (const cJSON *k = kinds ? kinds->child : NULL; k; k = k->next)
        has_node |= cJSON_IsString(k) && strcmp(k->valuestring, "node") == 0;
    cJSON_Delete(kinds);
    assert_true(has_node);
}

static void test_bad_arguments(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_errmsg em = {{0}};
    cJSON *noid = parse("{\"name\":\"x\"}"), *numid = parse("{\"id\":5}"), *out = NULL;
    assert_int_equal(sb_store_put(s, "gateway", noid, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "\"id\""));
    assert_int_equal(sb_store_put(s, "gateway", numid, &em), SB_ERR_INVALID);
    assert_int_equal(sb_store_put(s, "bad/kind", numid, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "bad/kind"));
    assert_int_equal(sb_store_get(s, "gateway", "", &out, &em), SB_ERR_INVALID);
    assert_int_equal(sb_store_get(s, "", "x", &out, &em), SB_ERR_INVALID);
    sb_query q = {.limit = -1};
    assert_int_equal(sb_store_find(s, "gateway", &q, &out, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "limit"));
    cJSON_Delete(noid);
    cJSON_Delete(numid);
}

static void expect_parse_error(const char *filters, const char *sort, const char *needle)
{
    sb_query q;
    sb_errmsg em = {{0}};
    sb_err err = sb_query_parse(filters, sort, &q, &em);
    if (err == SB_OK || !strstr(em.text, needle)) {
        print_error("filters %s sort %s: expected an error with \"%s\", got \"%s\"\n",
                    filters ? filters : "-", sort ? sort : "-", needle, em.text);
        sb_query_free(&q);
        fail();
    }
}

static void test_bad_filters(void **state)
{
    (void)sb_conformance_store(state);
    expect_parse_error("[{\"k\":\"a\",\"o\":\"like\",\"v\":1}]", NULL,
                       "filter 1: unknown operator 'like'");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"eq\",\"v\":1},{\"k\":\"b\",\"o\":\"in\",\"v\":3}]",
                       NULL, "filter 2: 'in' needs an array");
    expect_parse_error("[{\"o\":\"eq\",\"v\":1}]", NULL, "filter 1: 'k'");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"eq\"}]", NULL, "filter 1: 'eq' needs a value");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"regex\",\"v\":\"(\"}]", NULL,
                       "filter 1: bad regex '('");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"regex\",\"v\":\"^a-+++++++\"}]", NULL,
                       "filter 1: regex: a repetition of a repetition at byte 4");
    expect_parse_error(
        "[{\"k\":\"a\",\"o\":\"regex\",\"v\":\"a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*\"}]", NULL,
        "filter 1: regex: more than 16 repetitions");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"exists\",\"v\":3}]", NULL,
                       "filter 1: 'exists' needs true or false");
    expect_parse_error("[{\"k\":\"a\",\"o\":\"gt\",\"v\":1}, 7]", NULL, "filter 2: expected");
    expect_parse_error("{\"k\":\"a\"}", NULL, "filters: expected a JSON array");
    expect_parse_error("[{\"k\":\"a\"", NULL, "filters: malformed JSON");
    expect_parse_error(NULL, "[{\"f\":\"a\",\"o\":\"up\"}]", "sort 1: 'o' must be asc or desc");
    expect_parse_error(NULL, "[{\"f\":\"a\"},{\"o\":\"asc\"}]", "sort 2: 'f'");
    expect_parse_error(NULL, "nope", "sort: malformed JSON");
}

/* ---- paging ---- */

static void test_paging_edges(void **state)
{
    sb_store *s = sb_conformance_store(state);
    char json[64];
    for (int i = 9; i >= 0; i--) {
        snprintf(json, sizeof(json), "{\"id\":\"p%02d\",\"i\":%d}", i, i);
        sb_conformance_put(s, "pg", json);
    }
    EXPECT_PAGE(s, "pg", NULL, NULL, 3, 0, "p00,p01,p02");
    EXPECT_PAGE(s, "pg", NULL, NULL, 3, 9, "p09");
    EXPECT_PAGE(s, "pg", NULL, NULL, 3, 10, "");
    EXPECT_PAGE(s, "pg", NULL, NULL, 3, 1000, "");
    EXPECT_PAGE(s, "pg", NULL, NULL, 1, 0, "p00");
    EXPECT_PAGE(s, "pg", NULL, "[{\"f\":\"i\",\"o\":\"desc\"}]", 1, 0, "p09");
    EXPECT_PAGE(s, "pg", NULL, NULL, 0, 0, "p00,p01,p02,p03,p04,p05,p06,p07,p08,p09");
    EXPECT_PAGE(s, "pg", NULL, NULL, 0, 8, "p08,p09");
    EXPECT_IDS(s, "empty", NULL, NULL, "");
    /* count is the number of matches before paging */
    sb_query q = {.limit = 2, .offset = 8};
    char buf[256];
    assert_int_equal(find_ids(s, "pg", &q, buf, sizeof(buf)), 10);
    assert_int_equal(find_ids(s, "pg", NULL, buf, sizeof(buf)), 10);
}

/* ---- volume ---- */

/* Puts n documents {"id":"d%05d","i":i,"m":i%7} in batches of 500. */
static void put_many(sb_store *s, const char *kind, int n)
{
    enum { CHUNK = 500 };
    sb_store_op ops[CHUNK];
    cJSON *docs[CHUNK];
    for (int base = 0; base < n; base += CHUNK) {
        int k = n - base < CHUNK ? n - base : CHUNK;
        for (int j = 0; j < k; j++) {
            char id[16];
            snprintf(id, sizeof(id), "d%05d", base + j);
            docs[j] = cJSON_CreateObject();
            sb_json_set_str(docs[j], "id", id);
            sb_json_set_num(docs[j], "i", base + j);
            sb_json_set_num(docs[j], "m", (base + j) % 7);
            ops[j] = (sb_store_op){.type = SB_STORE_PUT, .kind = kind, .doc = docs[j]};
        }
        sb_errmsg em = {{0}};
        sb_err err = sb_store_batch(s, ops, (size_t)k, &em);
        if (err)
            print_error("batch: %s\n", sb_errmsg_str(&em, err));
        for (int j = 0; j < k; j++)
            cJSON_Delete(docs[j]);
        assert_int_equal(err, SB_OK);
    }
}

static void test_10k(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_many(s, "big", 10000);
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "big", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 10000);
    EXPECT_PAGE(s, "big", "[{\"k\":\"m\",\"o\":\"eq\",\"v\":3}]", "[{\"f\":\"i\",\"o\":\"desc\"}]",
                3, 0, "d09999,d09992,d09985");
    EXPECT_PAGE(s, "big", "[{\"k\":\"i\",\"o\":\"gte\",\"v\":9998}]", NULL, 50, 0, "d09998,d09999");
    EXPECT_PAGE(s, "big", NULL, "[{\"f\":\"m\"},{\"f\":\"i\",\"o\":\"desc\"}]", 2, 0,
                "d09996,d09989");
    sb_query q;
    assert_int_equal(sb_query_parse("[{\"k\":\"m\",\"o\":\"eq\",\"v\":3}]", NULL, &q, NULL), SB_OK);
    assert_int_equal(sb_store_count(s, "big", &q, &n, NULL), SB_OK);
    assert_int_equal(n, 1429);
    sb_query_free(&q);
    assert_int_equal(sb_query_parse("[{\"k\":\"m\",\"o\":\"eq\",\"v\":0}]", NULL, &q, NULL), SB_OK);
    size_t deleted = 0;
    assert_int_equal(sb_store_delete_where(s, "big", &q, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 1429);
    sb_query_free(&q);
    assert_int_equal(sb_store_count(s, "big", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 10000 - 1429);
    expect_get(s, "big", "d00007", SB_ERR_NOTFOUND);
    expect_get(s, "big", "d00008", SB_OK);
}

/* ---- concurrency ---- */

enum { WRITERS = 4, PER_WRITER = 200 };

typedef struct writer {
    sb_store *s;
    int n;
    int failures;
    char why[256];
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < PER_WRITER; i++) {
        char json[96];
        snprintf(json, sizeof(json), "{\"id\":\"w%d-%03d\",\"w\":%d,\"i\":%d}", w->n, i, w->n, i);
        cJSON *doc = cJSON_Parse(json);
        sb_errmsg em = {{0}};
        sb_err err = sb_store_put(w->s, "conc", doc, &em);
        cJSON_Delete(doc);
        if (err) {
            w->failures++;
            snprintf(w->why, sizeof(w->why), "%s", sb_errmsg_str(&em, err));
        }
        if (i % 20 == 0) { /* readers interleave with writers */
            cJSON *res = NULL;
            if (sb_store_find(w->s, "conc", NULL, &res, NULL) != SB_OK)
                w->failures++;
            cJSON_Delete(res);
        }
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    sb_store *s = sb_conformance_store(state);
    pthread_t th[WRITERS];
    writer w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer){.s = s, .n = i};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures)
            print_error("writer %d: %d failures, last: %s\n", i, w[i].failures, w[i].why);
        assert_int_equal(w[i].failures, 0);
    }
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "conc", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, WRITERS * PER_WRITER);
    s = reopen(state); /* and every write is durable */
    for (int i = 0; i < WRITERS; i++) {
        for (int j = 0; j < PER_WRITER; j++) {
            char id[32];
            snprintf(id, sizeof(id), "w%d-%03d", i, j);
            expect_get(s, "conc", id, SB_OK);
        }
    }
}

/* ---- durability across reopen, batches, deletes ---- */

static void test_reopen(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_conformance_put(s, "node", "{\"id\":\"n1\",\"v\":1}");
    sb_conformance_put(s, "node", "{\"id\":\"n2\",\"v\":2}");
    sb_conformance_put(s, "node", "{\"id\":\"n1\",\"v\":11}");
    sb_conformance_put(s, "field", "{\"id\":\"f1\",\"labels\":{\"room\":\"hall\"}}");
    const char *gone[] = {"n2"};
    assert_int_equal(sb_store_delete(s, "node", gone, 1, NULL, NULL), SB_OK);
    s = reopen(state);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(s, "node", "n1", &doc, NULL), SB_OK);
    assert_int_equal(sb_json_num(doc, "v", 0), 11);
    cJSON_Delete(doc);
    expect_get(s, "node", "n2", SB_ERR_NOTFOUND);
    EXPECT_IDS(s, "field", "[{\"k\":\"labels.room\",\"o\":\"eq\",\"v\":\"hall\"}]", NULL, "f1");
    sb_conformance_put(s, "node", "{\"id\":\"n3\"}"); /* writes after a reopen survive too */
    s = reopen(state);
    EXPECT_IDS(s, "node", NULL, NULL, "n1,n3");
}

static void test_batch(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_conformance_put(s, "k", "{\"id\":\"x\"}");
    cJSON *a = parse("{\"id\":\"a\",\"v\":1}"), *b = parse("{\"id\":\"b\",\"v\":2}");
    cJSON *bad = parse("{\"v\":3}");
    sb_store_op ops[] = {
        {.type = SB_STORE_PUT, .kind = "k", .doc = a},
        {.type = SB_STORE_PUT, .kind = "other", .doc = b},
        {.type = SB_STORE_DELETE, .kind = "k", .id = "x"},
        {.type = SB_STORE_PUT, .kind = "k", .doc = bad},
    };
    sb_errmsg em = {{0}};
    /* one bad op: nothing is applied, and the message names the op */
    assert_int_equal(sb_store_batch(s, ops, 4, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "batch op 4"));
    EXPECT_IDS(s, "k", NULL, NULL, "x");
    EXPECT_IDS(s, "other", NULL, NULL, "");
    assert_int_equal(sb_store_batch(s, ops, 3, &em), SB_OK);
    EXPECT_IDS(s, "k", NULL, NULL, "a");
    EXPECT_IDS(s, "other", NULL, NULL, "b");
    /* later ops see earlier ones: put then delete the same id leaves nothing */
    sb_store_op again[] = {
        {.type = SB_STORE_PUT, .kind = "k", .doc = b},
        {.type = SB_STORE_DELETE, .kind = "k", .id = "b"},
        {.type = SB_STORE_DELETE, .kind = "k", .id = "never-existed"},
    };
    assert_int_equal(sb_store_batch(s, again, 3, &em), SB_OK);
    s = reopen(state);
    EXPECT_IDS(s, "k", NULL, NULL, "a");
    EXPECT_IDS(s, "other", NULL, NULL, "b");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(bad);
}

/* SB_STORE_CHECK: the batch applies only while the expected keys hold (compare-and-set). */
static void test_batch_check(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_conformance_put(s, "_pos", "{\"id\":\"gw1\",\"epoch\":5,\"seq\":7}");
    cJSON *want = parse("{\"epoch\":5,\"seq\":7}"), *next = parse("{\"id\":\"gw1\",\"seq\":8}");
    cJSON *rec = parse("{\"id\":\"r1\"}");
    sb_store_op ops[] = {
        {.type = SB_STORE_PUT, .kind = "_pos", .doc = next},
        {.type = SB_STORE_PUT, .kind = "rec", .doc = rec},
        {.type = SB_STORE_CHECK, .kind = "_pos", .doc = want, .id = "gw1"},
        {.type = SB_STORE_CHECK, .kind = "_pos", .doc = NULL, .id = "gw2"},
    };
    sb_errmsg em = {{0}};
    /* the checks see the store before the batch, so the put of gw1 before them is fine */
    assert_int_equal(sb_store_batch(s, ops, 4, &em), SB_OK);
    EXPECT_IDS(s, "rec", NULL, NULL, "r1");
    /* now seq is 8: the same batch conflicts and changes nothing */
    assert_int_equal(sb_store_delete(s, "rec", (const char *[]){"r1"}, 1, NULL, NULL), SB_OK);
    assert_int_equal(sb_store_batch(s, ops, 4, &em), SB_ERR_CONFLICT);
    assert_non_null(strstr(em.text, "gw1"));
    EXPECT_IDS(s, "rec", NULL, NULL, "");
    /* expecting absence of a document that exists conflicts too */
    sb_store_op absent[] = {
        {.type = SB_STORE_PUT, .kind = "rec", .doc = rec},
        {.type = SB_STORE_CHECK, .kind = "_pos", .doc = NULL, .id = "gw1"},
    };
    assert_int_equal(sb_store_batch(s, absent, 2, &em), SB_ERR_CONFLICT);
    EXPECT_IDS(s, "rec", NULL, NULL, "");
    /* a check needs an id, and an object or NULL */
    sb_store_op bad[] = {{.type = SB_STORE_CHECK, .kind = "_pos", .doc = want, .id = NULL}};
    assert_int_equal(sb_store_batch(s, bad, 1, &em), SB_ERR_INVALID);
    s = reopen(state);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(s, "_pos", "gw1", &doc, NULL), SB_OK);
    assert_int_equal(sb_json_num(doc, "seq", 0), 8);
    cJSON_Delete(doc);
    cJSON_Delete(want);
    cJSON_Delete(next);
    cJSON_Delete(rec);
}

static void test_delete_counts(void **state)
{
    sb_store *s = sb_conformance_store(state);
    for (int i = 0; i < 6; i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"id\":\"e%d\",\"even\":%s}", i, i % 2 ? "false" : "true");
        sb_conformance_put(s, "del", json);
    }
    const char *ids[] = {"e1", "missing", "e3", "e1"};
    size_t deleted = 0;
    assert_int_equal(sb_store_delete(s, "del", ids, 4, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 2);
    sb_query q;
    assert_int_equal(sb_query_parse("[{\"k\":\"even\",\"o\":\"eq\",\"v\":true}]", NULL, &q, NULL),
                     SB_OK);
    assert_int_equal(sb_store_delete_where(s, "del", &q, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(sb_store_delete_where(s, "del", &q, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 0);
    sb_query_free(&q);
    assert_int_equal(sb_store_delete_where(s, "nothing-here", &q, &deleted, NULL), SB_OK);
    assert_int_equal(deleted, 0);
    EXPECT_IDS(s, "del", NULL, NULL, "e5");
    s = reopen(state);
    EXPECT_IDS(s, "del", NULL, NULL, "e5");
}

#define T(f) cmocka_unit_test_setup_teardown(f, sb_conformance_setup, sb_conformance_teardown)

static const struct CMUnitTest own_tests[] = {
    T(test_crud),          T(test_bad_arguments),      T(test_bad_filters), T(test_paging_edges),
    T(test_10k),           T(test_concurrent_writers), T(test_reopen),      T(test_batch),
    T(test_delete_counts), T(test_batch_check),
};

int sb_store_conformance_run(const sb_store_backend *b)
{
    B = b;
    const struct CMUnitTest *ops;
    size_t n_ops = sb_conformance_ops_tests(&ops);
    size_t n = SB_ARRAY_LEN(own_tests) + n_ops;
    struct CMUnitTest *all = calloc(n, sizeof(*all));
    if (!all)
        return 1;
    memcpy(all, own_tests, sizeof(own_tests));
    memcpy(all + SB_ARRAY_LEN(own_tests), ops, n_ops * sizeof(*ops));
    char group[64];
    snprintf(group, sizeof(group), "store_conformance_%s", b->name);
    int failed = _cmocka_run_group_tests(group, all, n, NULL, NULL);
    free(all);
    return failed == 0 && b->skip_reason ? SB_CONFORMANCE_SKIPPED : failed;
}
