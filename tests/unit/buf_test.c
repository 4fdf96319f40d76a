/*
 * buf_test.c - geometric growth (core/buf.h): byte buffers, arrays of any element size and
 * pointer arrays keep their contents, double their capacity and refuse sizes that overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_buf_reserve(void **state)
{
    (void)state;
    char *d = NULL;
    size_t cap = 0;
    assert_int_equal(sb_buf_reserve(&d, &cap, 10), SB_OK);
    assert_int_equal(cap, 256);
    memcpy(d, "switchboard", 12);
    assert_int_equal(sb_buf_reserve(&d, &cap, 1000), SB_OK);
    assert_int_equal(cap, 1024);
    assert_string_equal(d, "switchboard");
    char *same = d;
    assert_int_equal(sb_buf_reserve(&d, &cap, 1024), SB_OK); /* fits: no move */
    assert_ptr_equal(d, same);
    free(d);
}

typedef struct pair {
    int a;
    double b;
} pair;

static void test_array_reserve(void **state)
{
    (void)state;
    pair *v = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(sb_array_reserve(&v, &cap, n + 1, sizeof(*v), 16), SB_OK);
        v[n++] = (pair){i, i * 0.5};
    }
    assert_int_equal(cap, 1024); /* 16 doubled six times */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(v[i].a, i);
        assert_true(v[i].b == i * 0.5);
    }
    size_t before = cap;
    assert_int_equal(sb_array_reserve(&v, &cap, SIZE_MAX / 4, sizeof(*v), 16), SB_ERR_NOMEM);
    assert_int_equal(cap, before); /* unchanged on failure */
    assert_int_equal(v[999].a, 999);
    free(v);

    int *w = NULL;
    size_t wcap = 0;
    assert_int_equal(sb_array_reserve(&w, &wcap, 3, sizeof(*w), 0), SB_OK); /* first 0: 1 */
    assert_int_equal(wcap, 4);
    free(w);
}

static void test_ptrs_push(void **state)
{
    (void)state;
    const char **p = NULL;
    size_t n = 0, cap = 0;
    static const char *words[] = {"gateway", "node", "source", "field"};
    for (int i = 0; i < 20; i++)
        assert_true(sb_ptrs_push(&p, &n, &cap, (void *)words[i % 4]));
    assert_int_equal(n, 20);
    assert_int_equal(cap, 32);
    assert_string_equal(p[0], "gateway");
    assert_string_equal(p[19], "field");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_reserve),
        cmocka_unit_test(test_array_reserve),
        cmocka_unit_test(test_ptrs_push),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
