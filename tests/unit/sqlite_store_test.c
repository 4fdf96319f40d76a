/*
 * sqlite_store_test.c - what is particular to the sqlite store: the default path, the SQL
 * pre-filter agreeing with the shared engine on random data, threads, two processes writing one
 * file, and atomic batches. The store contract itself is checked by the conformance suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/json.h"
#include "storage/store.h"

static char tmpdir[512];

static sb_strlist index_paths; /* storage.sqlite.index of the stores the tests open */

static sb_store *open_path(const char *path, const char *data_dir)
{
    sb_config cfg = {0};
    cfg.storage.sqlite.index = index_paths;
    cfg.data_dir = (char *)data_dir;
    cfg.storage.type = SB_STORE_SQLITE;
    cfg.storage.sqlite.path = (char *)path;
    cfg.storage.sqlite.sync = SB_SYNC_BATCH;
    cfg.storage.sqlite.busy_timeout_ms = 10000;
    sb_store *s = NULL;
    sb_errmsg em = {0};
    sb_err err = sb_store_open(&cfg, &s, &em);
    if (err)
        fprintf(stderr, "open: %s\n", sb_errmsg_str(&em, err));
    assert_int_equal(err, SB_OK);
    return s;
}

static void put_json(sb_store *s, const char *kind, const char *json)
{
    cJSON *d = cJSON_Parse(json);
    assert_non_null(d);
    assert_int_equal(sb_store_put(s, kind, d, NULL), SB_OK);
    cJSON_Delete(d);
}

static void test_default_path(void **state)
{
    char dir[600], file[700];
    snprintf(dir, sizeof(dir), "%s/data-%d/nested", tmpdir, (int)getpid());
    snprintf(file, sizeof(file), "%s/switchboard.db", dir);
    sb_store *s = open_path("", dir);
    put_json(s, "gateway", "{\"id\":\"gw1\"}");
    sb_store_close(s);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
}

/* Random values of every kind the rules distinguish. */
static cJSON *rand_value(unsigned *seed)
{
    static const char *strs[] = {"hall",
                                 "Hall",
                                 "kitchen",
                                 "12",
                                 "12.0",
                                 "7",
                                 "-3e1",
                                 "abc12",
                                 "2026-11-25T20:00:00Z",
                                 "2026-11-25T20:00:00.000Z",
                                 "2026-11-25T21:00:00+01:00",
                                 "true",
                                 "t007",
                                 "1",
                                 ""};
    switch (rand_r(seed) % 7) {
    case 0:
        return cJSON_CreateNumber((double)(rand_r(seed) % 30) - 10);
    case 1:
        return cJSON_CreateNumber((rand_r(seed) % 100) / 8.0);
    case 2:
    case 3:
        return cJSON_CreateString(strs[rand_r(seed) % SB_ARRAY_LEN(strs)]);
    case 4:
        return cJSON_CreateBool(rand_r(seed) % 2);
    case 5:
        return cJSON_CreateNull();
    default: {
        cJSON *a = cJSON_CreateArray();
        for (int i = rand_r(seed) % 3; i >= 0; i--)
            cJSON_AddItemToArray(a, cJSON_CreateString(strs[rand_r(seed) % SB_ARRAY_LEN(strs)]));
        return a;
    }
    }
}

static int cmp_engine(const void *a, const void *b, void *q)
{
    return sb_query_compare(q, *(cJSON *const *)a, *(cJSON *const *)b);
}

/* The store's answer to q (its page, its count) against the engine run over every document:
 * sb_query_match, then sb_query_compare when q sorts. */
static void compare_with_engine(sb_store *s, const sb_query *q)
{
    cJSON *all = NULL, *got = NULL;
    assert_int_equal(sb_store_find(s, "thing", NULL, &all, NULL), SB_OK);
    assert_int_equal(sb_store_find(s, "thing", q, &got, NULL), SB_OK);
    const cJSON *d, *g = cJSON_GetObjectItem(got, "data")->child;
    size_t n = 0;
    const cJSON *match[400];
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(all, "data"))
    {
        assert_true(n < SB_ARRAY_LEN(match));
        if (sb_query_match(q, d))
            match[n++] = d;
    }
    qsort_r(match, n, sizeof(*match), cmp_engine, (void *)q);
    for (size_t i = 0; i < n; i++) {
        int64_t at = (int64_t)i;
        if (at < q->offset || (q->limit > 0 && at >= q->offset + q->limit))
            continue;
        assert_non_null(g);
        assert_string_equal(sb_json_str(match[i], "id", ""), sb_json_str(g, "id", ""));
        g = g->next;
    }
    assert_null(g);
    assert_int_equal((int64_t)sb_json_num(got, "count", -1), (int64_t)n);
    size_t cnt = 0;
    assert_int_equal(sb_store_count(s, "thing", q, &cnt, NULL), SB_OK);
    assert_int_equal(cnt, n);
    cJSON_Delete(all);
    cJSON_Delete(got);
}

static cJSON *rand_thing(unsigned *seed, int i)
{
    cJSON *d = cJSON_CreateObject();
    char id[16];
    snprintf(id, sizeof(id), "t%03d", i);
    sb_json_set_str(d, "id", id);
    if (rand_r(seed) % 5)
        sb_json_set(d, "v", rand_value(seed));
    static const char *names[] = {"hall lamp", "Hall lamp", "kitchen", "kitchen ", "b", "ba", ""};
    int r = rand_r(seed) % 10; /* mostly plain strings (the sort the index serves), ties too */
    if (r < 7)
        sb_json_set_str(d, "name", names[rand_r(seed) % SB_ARRAY_LEN(names)]);
    else if (r < 9)
        sb_json_set(d, "name", rand_value(seed));
    cJSON *labels = cJSON_AddObjectToObject(d, "labels");
    if (rand_r(seed) % 3)
        sb_json_set(labels, "room", rand_value(seed));
    if (rand_r(seed) % 4 == 0)
        sb_json_set(labels, "floor", rand_value(seed));
    return d;
}

/* Random documents, then random updates and deletes (single and batched), then random queries
 * of one or two filters with random paging: the SQL pre-filter, the index (storage.sqlite.index
 * "v", "name", "id" and "labels.*" when indexed is set) and the exact index path must give what
 * the engine gives: arrays, numbers beside numeric strings ("12", "12.0", "-3e1"), times in
 * several spellings, missing keys. */
static void prefilter_run(bool indexed)
{
    static char *paths[] = {"v", "name", "id", "labels.*"};
    index_paths = (sb_strlist){indexed ? paths : NULL, indexed ? SB_ARRAY_LEN(paths) : 0};
    char path[700];
    snprintf(path, sizeof(path), "%s/prefilter-%d-%d.db", tmpdir, (int)getpid(), indexed);
    sb_store *s = open_path(path, NULL);
    unsigned seed = 42;
    for (int i = 0; i < 300; i++) {
        cJSON *d = rand_thing(&seed, i);
        assert_int_equal(sb_store_put(s, "thing", d, NULL), SB_OK);
        cJSON_Delete(d);
    }
    for (int i = 0; i < 150; i++) {   /* the index follows changes */
        int at = rand_r(&seed) % 320; /* some beyond the first 300: new documents */
        char id[16];
        snprintf(id, sizeof(id), "t%03d", at);
        if (rand_r(&seed) % 4 == 0) {
            const char *ids[] = {id};
            assert_int_equal(sb_store_delete(s, "thing", ids, 1, NULL, NULL), SB_OK);
            continue;
        }
        cJSON *d = rand_thing(&seed, at);
        sb_store_op op = {SB_STORE_PUT, "thing", d, NULL};
        assert_int_equal(rand_r(&seed) % 2 ? sb_store_put(s, "thing", d, NULL)
                                           : sb_store_batch(s, &op, 1, NULL),
                         SB_OK);
        cJSON_Delete(d);
    }
    static const char *ops[] = {"eq", "ne", "in", "nin", "gt", "lt", "gte", "lte", "regex"};
    static const char *keys[] = {"v",   "labels.room", "labels.floor", "labels",
                                 "v.0", "missing",     "name",         "id"};
    for (int i = 0; i < 1500; i++) {
        const char *op = ops[rand_r(&seed) % SB_ARRAY_LEN(ops)];
        cJSON *v = rand_value(&seed);
        if ((!strcmp(op, "in") || !strcmp(op, "nin")) && !cJSON_IsArray(v)) {
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, v);
            cJSON_AddItemToArray(a, rand_value(&seed));
            v = a;
        } else if (!strcmp(op, "regex")) {
            cJSON_Delete(v);
            v = cJSON_CreateString(rand_r(&seed) % 2 ? "^HAL" : "[0-9]+$");
        } else if (cJSON_IsArray(v)) {
            cJSON_Delete(v);
            v = cJSON_CreateNumber(rand_r(&seed) % 12);
        }
        sb_query q = {0};
        /* eq/in twice as often: the operators the index serves */
        int o = strcmp(op, "regex") ? rand_r(&seed) % 10 : SB_OP_REGEX;
        sb_filter_op fop = (sb_filter_op)(o == 8 ? SB_OP_EQ : o == 9 ? SB_OP_IN : o);
        if (fop == SB_OP_IN && !cJSON_IsArray(v)) {
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, v);
            v = a;
        }
        bool ok = sb_query_add(&q, keys[rand_r(&seed) % SB_ARRAY_LEN(keys)], fop, v, NULL) == SB_OK;
        if (ok && rand_r(&seed) % 3 == 0) { /* a second filter: ids intersected */
            static const char *second[] = {"hall", "kitchen", "12", "1"};
            int pick = rand_r(&seed) % 5;
            cJSON *w = pick < 4 ? cJSON_CreateString(second[pick]) : cJSON_CreateNumber(12);
            ok = sb_query_add(&q, rand_r(&seed) % 2 ? "labels.room" : "v", SB_OP_EQ, w, NULL) ==
                 SB_OK;
            cJSON_Delete(w);
        }
        if (ok && q.n_filters == 2 && rand_r(&seed) % 2) { /* not indexed: the scan intersects */
            cJSON *w = cJSON_CreateString("b");
            ok = sb_query_add(&q, "name", SB_OP_NE, w, NULL) == SB_OK;
            cJSON_Delete(w);
        }
        if (rand_r(&seed) % 2) {
            q.limit = 1 + rand_r(&seed) % 20;
            q.offset = rand_r(&seed) % 30;
        }
        if (ok && rand_r(&seed) % 3 == 0) { /* sorted by name (the index orders plain strings) */
            q.sort = calloc(1, sizeof(*q.sort));
            q.sort[0] = (sb_sort){.key = strdup("name"), .desc = rand_r(&seed) % 2};
            q.n_sort = 1;
            q.limit = 1 + rand_r(&seed) % 20;
        }
        if (ok)
            compare_with_engine(s, &q);
        cJSON_Delete(v);
        sb_query_free(&q);
    }
    for (int want = 0; want < 2; want++) {
        sb_query q = {0};
        cJSON *b = cJSON_CreateBool(want);
        assert_int_equal(sb_query_add(&q, "v", SB_OP_EXISTS, b, NULL), SB_OK);
        compare_with_engine(s, &q);
        cJSON_Delete(b);
        sb_query_free(&q);
    }
    /* every name a plain string now (updates through the markers): the index orders whole
     * lists, with and without a filter */
    static const char *plain[] = {"hall lamp", "Hall lamp", "kitchen", "b", "ba", ""};
    for (int i = 0; i < 320; i++) {
        char id[16];
        cJSON *d = NULL;
        snprintf(id, sizeof(id), "t%03d", i);
        if (sb_store_get(s, "thing", id, &d, NULL) != SB_OK)
            continue;
        sb_json_set_str(d, "name", plain[rand_r(&seed) % SB_ARRAY_LEN(plain)]);
        sb_store_op op = {SB_STORE_PUT, "thing", d, NULL};
        assert_int_equal(
            i % 2 ? sb_store_put(s, "thing", d, NULL) : sb_store_batch(s, &op, 1, NULL), SB_OK);
        cJSON_Delete(d);
    }
    for (int i = 0; i < 60; i++) {
        sb_query q = {.limit = 1 + rand_r(&seed) % 40, .offset = rand_r(&seed) % 300};
        if (i % 3 == 0)
            q.offset = rand_r(&seed) % 5;
        if (i % 2) { /* a fifth to a third of the documents, over several buckets */
            static const char *rooms[] = {"hall", "Hall", "kitchen", "12", "7", "true", ""};
            cJSON *w = cJSON_CreateArray();
            for (size_t k = rand_r(&seed) % 2; k < SB_ARRAY_LEN(rooms); k++)
                cJSON_AddItemToArray(w, cJSON_CreateString(rooms[k]));
            assert_int_equal(sb_query_add(&q, "labels.room", SB_OP_IN, w, NULL), SB_OK);
            cJSON_Delete(w);
            q.offset = rand_r(&seed) % 40;
        }
        q.sort = calloc(1, sizeof(*q.sort));
        q.sort[0] = (sb_sort){.key = strdup(i % 5 == 4 ? "id" : "name"), .desc = rand_r(&seed) % 2};
        q.n_sort = 1;
        compare_with_engine(s, &q);
        sb_query_free(&q);
    }
    sb_store_close(s);
    index_paths = (sb_strlist){0};
}

static void test_prefilter_agrees_with_engine(void **state)
{
    (void)state;
    prefilter_run(false);
}

static void test_index_agrees_with_engine(void **state)
{
    (void)state;
    prefilter_run(true);
}

/* Documents written while nothing was indexed are indexed when a store opens with an index, and
 * a change of the indexed paths rebuilds it. */
static void test_index_rebuilt_at_open(void **state)
{
    (void)state;
    static char *room[] = {"labels.*"}, *v[] = {"v"};
    char path[700];
    snprintf(path, sizeof(path), "%s/rebuild-%d.db", tmpdir, (int)getpid());
    unsigned seed = 7;
    sb_strlist specs[] = {{NULL, 0}, {room, 1}, {NULL, 0}, {v, 1}, {room, 1}};
    for (size_t round = 0; round < SB_ARRAY_LEN(specs); round++) {
        index_paths = specs[round];
        sb_store *s = open_path(path, NULL);
        for (int i = 0; i < 40; i++) { /* written under this round's index */
            cJSON *d = rand_thing(&seed, rand_r(&seed) % 60);
            assert_int_equal(sb_store_put(s, "thing", d, NULL), SB_OK);
            cJSON_Delete(d);
        }
        for (int i = 0; i < 3; i++) { /* read under the next round's (rebuilt) index */
            index_paths = specs[(round + 1) % SB_ARRAY_LEN(specs)];
            sb_store_close(s);
            s = open_path(path, NULL);
            static const char *words[] = {"hall", "kitchen", "12"};
            sb_query q = {0};
            cJSON *w = cJSON_CreateString(words[i]);
            assert_int_equal(sb_query_add(&q, i == 2 ? "v" : "labels.room", SB_OP_EQ, w, NULL),
                             SB_OK);
            compare_with_engine(s, &q);
            cJSON_Delete(w);
            sb_query_free(&q);
        }
        sb_store_close(s);
    }
    index_paths = (sb_strlist){0};
}

typedef struct thr_arg {
    sb_store *s;
    int base;
} thr_arg;

static void *thr_put(void *p)
{
    thr_arg *a = p;
    for (int i = 0; i < 500; i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"id\":\"t%d-%d\",\"n\":%d}", a->base, i, i);
        put_json(a->s, "node", json);
    }
    return NULL;
}

static void test_threads(void **state)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/threads-%d.db", tmpdir, (int)getpid());
    sb_store *s = open_path(path, NULL);
    pthread_t t[4];
    thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr_arg){s, i};
        pthread_create(&t[i], NULL, thr_put, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "node", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 2000);
    sb_store_close(s);
}

/* A child process: 2,000 puts of its own ids, and updates of 50 ids both children share. */
static int child_writer(const char *path, int who)
{
    sb_store *s = open_path(path, NULL);
    for (int i = 0; i < 2000; i++) {
        char json[96];
        snprintf(json, sizeof(json), "{\"id\":\"p%d-%d\",\"n\":%d}", who, i, i);
        cJSON *d = cJSON_Parse(json);
        sb_errmsg em = {0};
        sb_err err = sb_store_put(s, "field", d, &em);
        cJSON_Delete(d);
        if (err) {
            fprintf(stderr, "child %d: %s\n", who, sb_errmsg_str(&em, err));
            return 1;
        }
        if (i % 10 == 0) {
            snprintf(json, sizeof(json), "{\"id\":\"shared-%d\",\"by\":%d,\"i\":%d}", (i / 10) % 50,
                     who, i);
            d = cJSON_Parse(json);
            err = sb_store_put(s, "field", d, &em);
            cJSON_Delete(d);
            if (err)
                return 1;
        }
    }
    sb_store_close(s);
    return 0;
}

static void test_two_processes(void **state)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/procs-%d.db", tmpdir, (int)getpid());
    sb_store_close(open_path(path, NULL)); /* create the schema before the race */
    pid_t pids[2];
    for (int who = 0; who < 2; who++) {
        pids[who] = fork();
        assert_true(pids[who] >= 0);
        if (pids[who] == 0)
            _exit(child_writer(path, who));
    }
    for (int who = 0; who < 2; who++) {
        int status = 0;
        assert_int_equal(waitpid(pids[who], &status, 0), pids[who]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    sb_store *s = open_path(path, NULL);
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "field", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 2 * 2000 + 50);
    for (int who = 0; who < 2; who++)
        for (int i = 0; i < 2000; i++) {
            char id[32];
            cJSON *d = NULL;
            snprintf(id, sizeof(id), "p%d-%d", who, i);
            assert_int_equal(sb_store_get(s, "field", id, &d, NULL), SB_OK);
            assert_int_equal((int)sb_json_num(d, "n", -1), i);
            cJSON_Delete(d);
        }
    sb_store_close(s);
}

static void test_batch_atomic(void **state)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/batch-%d.db", tmpdir, (int)getpid());
    sb_store *s = open_path(path, NULL);
    put_json(s, "task", "{\"id\":\"keep\"}");
    cJSON *a = cJSON_Parse("{\"id\":\"a\"}"), *bad = cJSON_Parse("{\"name\":\"no id\"}");
    sb_store_op ops[] = {
        {.type = SB_STORE_PUT, .kind = "task", .doc = a},
        {.type = SB_STORE_DELETE, .kind = "task", .id = "keep"},
        {.type = SB_STORE_PUT, .kind = "task", .doc = bad},
    };
    assert_int_not_equal(sb_store_batch(s, ops, 3, NULL), SB_OK);
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "task", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 1); /* "keep" is still there, "a" never arrived */
    assert_int_equal(sb_store_batch(s, ops, 2, NULL), SB_OK);
    cJSON *d = NULL;
    assert_int_equal(sb_store_get(s, "task", "a", &d, NULL), SB_OK);
    cJSON_Delete(d);
    assert_int_equal(sb_store_get(s, "task", "keep", &d, NULL), SB_ERR_NOTFOUND);
    cJSON_Delete(a);
    cJSON_Delete(bad);
    sb_store_close(s);
}

int main(void)
{
    const char *t = getenv("SB_TEST_TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s", t ? t : "/tmp");
    mkdir(tmpdir, 0750);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_prefilter_agrees_with_engine),
        cmocka_unit_test(test_index_agrees_with_engine),
        cmocka_unit_test(test_index_rebuilt_at_open),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_two_processes),
        cmocka_unit_test(test_batch_atomic),
    };
    return cmocka_run_group_tests_name("sqlite_store", tests, NULL, NULL);
}
