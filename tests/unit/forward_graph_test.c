/*
 * forward_graph_test - the forward-payload service's pure parts: which text names a field
 * (fwd_field_id) and which mapping would close a loop (fwd_closes_loop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services/forward/forward.h"

static void test_field_id(void **state)
{
    (void)state;
    char id[FWD_ID_MAX];
    sb_errmsg em = {{0}};
    assert_int_equal(fwd_field_id("field:gw1.12.1.V_STATUS", id, sizeof(id), &em), SB_OK);
    assert_string_equal(id, "gw1.12.1.V_STATUS");
    assert_int_equal(fwd_field_id("sf:gw1.12.1.V_STATUS", id, sizeof(id), &em), SB_OK);
    assert_string_equal(id, "gw1.12.1.V_STATUS");
    assert_int_equal(fwd_field_id("gw1.12.1.V_STATUS", id, sizeof(id), &em), SB_OK);
    assert_string_equal(id, "gw1.12.1.V_STATUS");
    static const char *const bad[] = {"",
                                      "node:gw1.12",
                                      "gw1.12.1",
                                      "field:gw1.12.1.V.current",
                                      "gw1.12.1.V_STATUS.current.value",
                                      "task:t1",
                                      "a b.c.d.e"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em.text[0] = '\0';
        if (fwd_field_id(bad[i], id, sizeof(id), &em) == SB_OK)
            fail_msg("'%s' accepted as %s", bad[i], id);
        assert_true(em.text[0] != '\0');
    }
    assert_int_equal(fwd_field_id(NULL, id, sizeof(id), &em), SB_ERR_INVALID);
}

static fwd_map edge(const char *src, const char *dst)
{
    fwd_map m;
    memset(&m, 0, sizeof(m));
    snprintf(m.src, sizeof(m.src), "%s", src);
    snprintf(m.dst, sizeof(m.dst), "%s", dst);
    return m;
}

static void test_loops(void **state)
{
    (void)state;
    char path[256];
    /* a -> b, b -> c, d -> b (a diamond-free chain with a side branch) */
    fwd_map maps[] = {edge("a", "b"), edge("b", "c"), edge("d", "b")};
    assert_false(fwd_closes_loop(maps, 3, "c", "e", path, sizeof(path)));
    assert_false(fwd_closes_loop(maps, 3, "a", "c", path, sizeof(path))); /* parallel path */
    assert_false(fwd_closes_loop(maps, 3, "e", "a", path, sizeof(path)));
    assert_true(fwd_closes_loop(maps, 3, "b", "a", path, sizeof(path)));
    assert_string_equal(path, "b -> a -> b");
    assert_true(fwd_closes_loop(maps, 3, "c", "a", path, sizeof(path)));
    assert_string_equal(path, "c -> a -> b -> c");
    assert_true(fwd_closes_loop(maps, 3, "c", "d", path, sizeof(path)));
    assert_string_equal(path, "c -> d -> b -> c");
    assert_true(fwd_closes_loop(maps, 3, "x", "x", path, sizeof(path))); /* onto itself */
    assert_string_equal(path, "x -> x");
    assert_false(fwd_closes_loop(NULL, 0, "x", "y", path, sizeof(path)));
    /* a long chain: n0 -> n1 -> ... -> n99; n99 -> n0 closes it */
    static fwd_map chain[99];
    for (int i = 0; i < 99; i++) {
        char a[8], b[8];
        snprintf(a, sizeof(a), "n%d", i);
        snprintf(b, sizeof(b), "n%d", i + 1);
        chain[i] = edge(a, b);
    }
    assert_true(fwd_closes_loop(chain, 99, "n99", "n0", NULL, 0));
    assert_false(fwd_closes_loop(chain, 99, "n0", "n99", NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_id),
        cmocka_unit_test(test_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
