/* uuid_test.c - version 4 UUIDs: format, version and variant bits, uniqueness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/uuid.h"

static void assert_format(const char *u)
{
    assert_int_equal(strlen(u), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else if (!strchr("0123456789abcdef", u[i]) || !u[i])
            fail_msg("'%s': byte %d is not lower-case hex", u, i);
    }
    assert_int_equal(u[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
}

static int cmp(const void *a, const void *b)
{
    return memcmp(a, b, SB_UUID_LEN);
}

static void test_uuid(void **state)
{
    enum { N = 10000 };
    char(*ids)[SB_UUID_LEN] = malloc(N * sizeof(*ids));
    for (int i = 0; i < N; i++) {
        sb_uuid(ids[i]);
        assert_format(ids[i]);
    }
    qsort(ids, N, sizeof(*ids), cmp);
    for (int i = 1; i < N; i++)
        if (memcmp(ids[i - 1], ids[i], SB_UUID_LEN) == 0)
            fail_msg("duplicate uuid %s", ids[i]);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_uuid)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
