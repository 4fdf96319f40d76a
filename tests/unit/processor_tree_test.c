/*
 * processor_tree_test - the processor's device tree in memory (services/processor/tree.c):
 * records at rest as text, documents while used, and the field cache's count and byte bounds.
 * No store: a field that is not in memory is simply absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "services/processor/processor.h"
#include "services/processor/rest.h"

/* A field record of about 300 bytes of text. */
static cJSON *field_doc(int i)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"id\":\"gw.1.1.V_%d\",\"gatewayId\":\"gw\",\"nodeId\":\"1\",\"sourceId\":\"1\","
             "\"fieldId\":\"V_%d\",\"metricType\":\"gauge_float\",\"labels\":{\"room\":\"hall\"},"
             "\"current\":{\"value\":%d.5,\"timestamp\":\"2026-11-26T10:00:00.000Z\"},"
             "\"previous\":{\"value\":\"text \\\"quoted\\\" é\",\"timestamp\":null}}",
             i, i, i);
    return cJSON_Parse(json);
}

static tree_entry *add_field(tree *t, int i)
{
    char id[32];
    snprintf(id, sizeof(id), "gw.1.1.V_%d", i);
    return tree_add(t, T_FIELD, id, field_doc(i));
}

static tree_entry *get_field(tree *t, int i)
{
    char id[32];
    snprintf(id, sizeof(id), "gw.1.1.V_%d", i);
    sb_err rc = SB_ERR_IO;
    tree_entry *e = tree_get(t, T_FIELD, id, &rc);
    assert_int_equal(rc, SB_OK);
    return e;
}

static void test_rest_and_back(void **state)
{
    (void)state;
    tree *t = NULL;
    assert_int_equal(tree_create(NULL, 100, 1 << 20, &t), SB_OK);
    for (int i = 0; i < 10; i++)
        assert_non_null(add_field(t, i));
    tree_trim(t);
    size_t n = 0, bytes = 0;
    tree_usage(t, &n, &bytes);
    assert_int_equal(n, 10);
    assert_true(bytes > 10 * 250 && bytes < 10 * 600); /* text, not ~3 kB of cJSON each */
    for (int i = 0; i < 10; i++) {
        tree_entry *e = get_field(t, i);
        assert_non_null(e);
        assert_non_null(e->doc);
        assert_null(e->packed);
        cJSON *want = field_doc(i);
        assert_true(cJSON_Compare(e->doc, want, true));
        cJSON_Delete(want);
    }
    tree_usage(t, &n, &bytes);
    assert_int_equal(bytes, 0); /* all awake */
    tree_destroy(t);
}

static void test_byte_bound_keeps_most_recent(void **state)
{
    (void)state;
    tree *t = NULL;
    assert_int_equal(tree_create(NULL, 100000, 4096, &t), SB_OK);
    for (int i = 0; i < 100; i++) {
        assert_non_null(add_field(t, i));
        tree_trim(t);
    }
    size_t n = 0, bytes = 0;
    tree_usage(t, &n, &bytes);
    assert_true(bytes <= 4096);
    assert_true(n >= 5 && n < 20);
    for (int i = 100 - (int)n; i < 100; i++) /* the newest are there */
        assert_non_null(get_field(t, i));
    assert_null(get_field(t, 0));
    assert_null(get_field(t, 99 - (int)n));
    tree_destroy(t);
}

static void test_count_bound_and_lru(void **state)
{
    (void)state;
    tree *t = NULL;
    assert_int_equal(tree_create(NULL, 3, 1 << 20, &t), SB_OK);
    for (int i = 0; i < 3; i++)
        add_field(t, i);
    tree_trim(t);
    assert_non_null(get_field(t, 0)); /* 0 is now the most recent */
    add_field(t, 3);
    tree_trim(t);
    assert_null(get_field(t, 1));
    assert_non_null(get_field(t, 0));
    assert_non_null(get_field(t, 2));
    assert_non_null(get_field(t, 3));
    tree_destroy(t);
}

static void test_dirty_stays_a_document(void **state)
{
    (void)state;
    tree *t = NULL;
    assert_int_equal(tree_create(NULL, 1, 4096, &t), SB_OK);
    tree_entry *a = add_field(t, 1), *b = add_field(t, 2);
    a->dirty = b->dirty = true;
    tree_trim(t); /* over both bounds, but nothing dirty may go */
    assert_non_null(a->doc);
    assert_non_null(b->doc);
    assert_ptr_equal(get_field(t, 1), a);
    a->dirty = b->dirty = false;
    tree_trim(t);
    size_t n = 0, bytes = 0;
    tree_usage(t, &n, &bytes);
    assert_int_equal(n, 1);
    assert_non_null(get_field(t, 1)); /* the most recently used */
    tree_destroy(t);
}

static void count_up(void *ctx, tree_entry *e)
{
    int *n = ctx;
    assert_non_null(e->doc);
    if (strcmp(sb_json_str(e->doc, "id", ""), "gw.2") == 0)
        e->dirty = true; /* changed by the walk: stays a document */
    (*n)++;
}

static void test_each_and_remove(void **state)
{
    (void)state;
    tree *t = NULL;
    assert_int_equal(tree_create(NULL, 10, 1 << 20, &t), SB_OK);
    char id[16];
    for (int i = 1; i <= 3; i++) {
        snprintf(id, sizeof(id), "gw.%d", i);
        cJSON *d = cJSON_CreateObject();
        sb_json_set_str(d, "id", id);
        assert_non_null(tree_add(t, T_NODE, id, d));
    }
    add_field(t, 1);
    tree_trim(t);
    int n = 0;
    tree_each(t, T_NODE, count_up, &n);
    assert_int_equal(n, 3);
    tree_entry *n1 = tree_get(t, T_NODE, "gw.1", NULL), *n2 = tree_get(t, T_NODE, "gw.2", NULL);
    assert_non_null(n1);
    assert_non_null(n2);
    assert_true(n2->dirty);
    n2->dirty = false;
    /* awake records removed before the trim leave nothing behind (ASan checks) */
    assert_true(tree_remove(t, T_NODE, "gw.1"));
    assert_non_null(get_field(t, 1));
    assert_true(tree_remove(t, T_FIELD, "gw.1.1.V_1"));
    tree_trim(t);
    tree_drop_gateway(t, "gw");
    assert_null(tree_get(t, T_NODE, "gw.2", NULL));
    size_t nf = 0, bytes = 0;
    tree_usage(t, &nf, &bytes);
    assert_int_equal(nf, 0);
    assert_int_equal(bytes, 0);
    tree_destroy(t);
}

/* The area grows (its texts may move) and compacts; each owner's text stays right. */
static void test_rest_area_moves_texts(void **state)
{
    (void)state;
    enum { N = 3000 };
    static tree_entry owners[N];
    rest_area a = {0};
    char text[600];
    memset(owners, 0, sizeof(owners));
    for (int i = 0; i < N; i++) {
        int len = snprintf(text, sizeof(text), "{\"n\":%d,\"pad\":\"%*s\"}", i, i % 400, "");
        assert_true(rest_put(&a, &owners[i], text, (size_t)len));
        if (i % 3 == 0) /* drop some as they come: compaction runs in between */
            rest_drop(&a, &owners[i]);
    }
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) {
            assert_null(owners[i].packed);
            continue;
        }
        int len = snprintf(text, sizeof(text), "{\"n\":%d,\"pad\":\"%*s\"}", i, i % 400, "");
        assert_int_equal(owners[i].packed_len, (size_t)len);
        assert_string_equal(owners[i].packed, text);
    }
    for (int i = 0; i < N; i++)
        if (owners[i].packed && i % 2)
            rest_drop(&a, &owners[i]);
    rest_compact(&a);
    assert_int_equal(a.dead, 0);
    for (int i = 0; i < N; i++) {
        if (!owners[i].packed)
            continue;
        snprintf(text, sizeof(text), "{\"n\":%d,", i);
        assert_memory_equal(owners[i].packed, text, strlen(text));
    }
    rest_free(&a);
}

/* Entries come from fixed slots; long ids still work. */
static void test_entry_pool(void **state)
{
    (void)state;
    entry_pool p = {0};
    char longid[200];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    tree_entry *e[1000];
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "gw.%d", i);
        e[i] = pool_get(&p, i % 100 == 0 ? longid : id);
        assert_non_null(e[i]);
        assert_string_equal(e[i]->id, i % 100 == 0 ? longid : id);
    }
    for (int i = 0; i < 1000; i += 2)
        pool_put(&p, e[i]);
    tree_entry *again = pool_get(&p, "gw.again");
    assert_ptr_equal(again, e[998]); /* a slot given back is used again */
    assert_string_equal(e[1]->id, "gw.1");
    pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest_and_back),
        cmocka_unit_test(test_byte_bound_keeps_most_recent),
        cmocka_unit_test(test_count_bound_and_lru),
        cmocka_unit_test(test_dirty_stays_a_document),
        cmocka_unit_test(test_each_and_remove),
        cmocka_unit_test(test_rest_area_moves_texts),
        cmocka_unit_test(test_entry_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
