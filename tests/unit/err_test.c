/* err_test.c - the error convention: sb_fail, sb_fail_wrap, sb_errmsg_str, sb_strerror. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"

static void test_strerror(void **state)
{
    static const char *const want[SB_ERR__COUNT] = {
        "ok",
        "out of memory",
        "invalid argument",
        "parse error",
        "not found",
        "already exists",
        "i/o error",
        "timed out",
        "queue full",
        "closed",
        "busy",
        "unsupported",
        "not authorised",
        "conflict",
        "too large",
        "remote error",
        "internal error",
    };
    for (int e = 0; e < SB_ERR__COUNT; e++) {
        assert_non_null(want[e]);
        assert_string_equal(sb_strerror((sb_err)e), want[e]);
    }
    assert_string_equal(sb_strerror(SB_ERR__COUNT), "unknown error");
    assert_string_equal(sb_strerror((sb_err)-1), "unknown error");
    assert_string_equal(sb_strerror((sb_err)1000), "unknown error");
}

static void test_fail(void **state)
{
    sb_errmsg em = {{0}};
    assert_int_equal(sb_fail(&em, SB_ERR_INVALID, "key '%s' at line %d", "bus.url", 7),
                     SB_ERR_INVALID);
    assert_string_equal(em.text, "key 'bus.url' at line 7");
    assert_int_equal(sb_fail(NULL, SB_ERR_IO, "ignored %d", 1), SB_ERR_IO);
    /* long messages are cut, never overflow */
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_fail(&em, SB_ERR_PARSE, "%s", big);
    assert_int_equal(strlen(em.text), sizeof(em.text) - 1);
}

static void test_wrap(void **state)
{
    sb_errmsg em = {{0}};
    sb_fail(&em, SB_ERR_PARSE, "line 3: bad value");
    assert_int_equal(sb_fail_wrap(&em, SB_ERR_INVALID, "config '%s'", "a.yaml"), SB_ERR_INVALID);
    assert_string_equal(em.text, "config 'a.yaml': line 3: bad value");
    sb_fail_wrap(&em, SB_ERR_INVALID, "load");
    assert_string_equal(em.text, "load: config 'a.yaml': line 3: bad value");
    /* an empty message: only the prefix */
    sb_errmsg empty = {{0}};
    sb_fail_wrap(&empty, SB_ERR_IO, "open %s", "x");
    assert_string_equal(empty.text, "open x");
    assert_int_equal(sb_fail_wrap(NULL, SB_ERR_IO, "x"), SB_ERR_IO);
    /* a long old message is cut to fit */
    char big[600];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_fail(&em, SB_ERR_PARSE, "%s", big);
    sb_fail_wrap(&em, SB_ERR_PARSE, "prefix");
    assert_int_equal(strlen(em.text), sizeof(em.text) - 1);
    assert_memory_equal(em.text, "prefix: yyy", 11);
    /* a prefix that fills the buffer leaves no room for the old text */
    sb_fail(&em, SB_ERR_PARSE, "old");
    sb_fail_wrap(&em, SB_ERR_PARSE, "%s", big);
    assert_int_equal(strlen(em.text), sizeof(em.text) - 1);
    assert_null(strstr(em.text, "old"));
}

static void test_errmsg_str(void **state)
{
    sb_errmsg em = {{0}};
    assert_string_equal(sb_errmsg_str(&em, SB_ERR_TIMEOUT), "timed out");
    assert_string_equal(sb_errmsg_str(NULL, SB_ERR_FULL), "queue full");
    sb_fail(&em, SB_ERR_TIMEOUT, "waited 5 s");
    assert_string_equal(sb_errmsg_str(&em, SB_ERR_TIMEOUT), "waited 5 s");
    char *p = malloc(4);
    SB_FREE(p);
    assert_null(p);
    int arr[7];
    assert_int_equal(SB_ARRAY_LEN(arr), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_errmsg_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
