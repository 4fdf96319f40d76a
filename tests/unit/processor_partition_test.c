/* processor_partition_test - the ownership function of processor scale-out
 * (services/processor/partition.h, docs/scaling.md): rendezvous hashing of a gateway over the
 * live instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services/processor/partition.h"

enum { KEYS = 3000 };

static const char *owner_of(int key, const char *const *m, size_t n)
{
    char k[32];
    snprintf(k, sizeof(k), "gw%d", key);
    return sb_partition_owner(k, m, n);
}

static void test_basics(void **state)
{
    (void)state;
    assert_null(sb_partition_owner("gw1", NULL, 0));
    const char *one[] = {"a"};
    assert_string_equal(sb_partition_owner("gw1", one, 1), "a");
    /* stable across builds and hosts: instances on different machines must agree */
    assert_true(sb_partition_weight("gw1", "a") == 0xa1b06c4efcbcd1dcULL);
    assert_true(sb_partition_weight("gw1", "a") != sb_partition_weight("gw1", "b"));
    /* the key/member boundary counts: ("ab","c") is not ("a","bc") */
    assert_true(sb_partition_weight("ab", "c") != sb_partition_weight("a", "bc"));
}

/* Every process computes the same owner whatever order it lists the members in. */
static void test_order_independent(void **state)
{
    (void)state;
    const char *m1[] = {"p1", "p2", "p3", "p4"}, *m2[] = {"p3", "p1", "p4", "p2"};
    for (int i = 0; i < KEYS; i++)
        assert_string_equal(owner_of(i, m1, 4), owner_of(i, m2, 4));
}

/* Keys spread evenly: each of 3 instances owns a third, within 15 %. */
static void test_balance(void **state)
{
    (void)state;
    const char *m[] = {"proc-a", "proc-b", "proc-c"};
    int count[3] = {0};
    for (int i = 0; i < KEYS; i++) {
        const char *o = owner_of(i, m, 3);
        for (int j = 0; j < 3; j++)
            count[j] += strcmp(o, m[j]) == 0;
    }
    for (int j = 0; j < 3; j++) {
        print_message("%s owns %d of %d\n", m[j], count[j], KEYS);
        assert_in_range(count[j], KEYS / 3 * 85 / 100, KEYS / 3 * 115 / 100);
    }
}

/* When an instance leaves, only its keys move; when one joins, keys move only to it. */
static void test_minimal_movement(void **state)
{
    (void)state;
    const char *all[] = {"p1", "p2", "p3"}, *without[] = {"p1", "p3"};
    int moved = 0;
    for (int i = 0; i < KEYS; i++) {
        const char *before = owner_of(i, all, 3), *after = owner_of(i, without, 2);
        if (strcmp(before, "p2") != 0)
            assert_string_equal(before, after); /* a survivor's key stays where it was */
        else
            moved++, assert_string_not_equal(after, "p2");
    }
    assert_true(moved > KEYS / 5); /* p2 had its share and it went to the others */
    int joined = 0;
    for (int i = 0; i < KEYS; i++) {
        const char *before = owner_of(i, without, 2), *after = owner_of(i, all, 3);
        if (strcmp(before, after) != 0)
            joined++, assert_string_equal(after, "p2");
    }
    assert_int_equal(joined, moved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_minimal_movement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
