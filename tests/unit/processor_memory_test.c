/* processor_memory_test - the processor's malloc arena limit (services/processor/memory.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "services/processor/memory.h"

static void test_default_limits_arenas(void **state)
{
    (void)state;
    assert_int_equal(sb_proc_mem_arenas(NULL, NULL), SB_PROC_MALLOC_ARENAS);
    assert_int_equal(sb_proc_mem_arenas("", ""), SB_PROC_MALLOC_ARENAS);
    /* other tunables leave the arena count to the processor */
    assert_int_equal(sb_proc_mem_arenas(NULL, "glibc.malloc.trim_threshold=131072"),
                     SB_PROC_MALLOC_ARENAS);
}

static void test_environment_wins(void **state)
{
    (void)state;
    assert_int_equal(sb_proc_mem_arenas("4", NULL), 0);
    assert_int_equal(sb_proc_mem_arenas(NULL, "glibc.malloc.arena_max=8"), 0);
    assert_int_equal(
        sb_proc_mem_arenas(NULL, "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limits_arenas),
        cmocka_unit_test(test_environment_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
