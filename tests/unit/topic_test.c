/* topic_test - MQTT topic filter matching used by the bus client's dispatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/bus.h"

static void test_exact(void **state)
{
    (void)state;
    assert_true(sb_topic_matches("a/b/c", "a/b/c"));
    assert_false(sb_topic_matches("a/b/c", "a/b"));
    assert_false(sb_topic_matches("a/b", "a/b/c"));
    assert_false(sb_topic_matches("a/b/c", "a/b/cd"));
    assert_false(sb_topic_matches("a/bc", "a/b"));
    assert_true(sb_topic_matches("a//b", "a//b"));
}

static void test_plus(void **state)
{
    (void)state;
    assert_true(sb_topic_matches("p/msg/in/+", "p/msg/in/gw1"));
    assert_false(sb_topic_matches("p/msg/in/+", "p/msg/in/gw1/x"));
    assert_false(sb_topic_matches("p/msg/in/+", "p/msg/in"));
    assert_true(sb_topic_matches("p/msg/in/+", "p/msg/in/"));
    assert_true(sb_topic_matches("+/+", "a/b"));
    assert_true(sb_topic_matches("p/+/x", "p//x"));
    assert_true(sb_topic_matches("+", "a"));
    assert_false(sb_topic_matches("+", "a/b"));
}

static void test_hash(void **state)
{
    (void)state;
    assert_true(sb_topic_matches("p/#", "p/a/b/c"));
    assert_true(sb_topic_matches("p/#", "p"));
    assert_true(sb_topic_matches("p/#", "p/"));
    assert_true(sb_topic_matches("#", "anything/at/all"));
    assert_false(sb_topic_matches("p/#", "q/a"));
    assert_true(sb_topic_matches("p/+/#", "p/a/b"));
    assert_true(sb_topic_matches("p/+/#", "p/a"));
}

static void test_dollar_and_share(void **state)
{
    (void)state;
    assert_false(sb_topic_matches("#", "$SYS/broker/uptime"));
    assert_false(sb_topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
    assert_true(sb_topic_matches("$SYS/#", "$SYS/broker/uptime"));
    assert_true(sb_topic_matches("$share/processors/p/msg/in/+", "p/msg/in/gw1"));
    assert_false(sb_topic_matches("$share/processors/p/msg/in/+", "p/msg/out/gw1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_plus),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_dollar_and_share),
    };
    return cmocka_run_group_tests_name("topic", tests, NULL, NULL);
}
