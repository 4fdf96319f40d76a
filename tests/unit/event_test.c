/*
 * event_test.c - event and handler-call payloads: single and batched events, every required
 * key named when missing, handler calls with and without parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/event.h"

static void parses_single_event(void **state)
{
    (void)state;
    const char *p =
        "{\"type\":\"updated\",\"entityType\":\"field\",\"entityId\":\"gw1.1.2.V_TEMP\","
        "\"quickId\":\"field:gw1.1.2.V_TEMP\",\"entity\":{\"name\":\"t\"}}";
    sb_event *ev;
    size_t n;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_event_parse(p, strlen(p), &ev, &n, &em), SB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].type, "updated");
    assert_string_equal(ev[0].entity_type, "field");
    assert_string_equal(ev[0].quick_id, "field:gw1.1.2.V_TEMP");
    assert_string_equal(cJSON_GetObjectItem(ev[0].entity, "name")->valuestring, "t");
    sb_event_free_all(ev, n);
}

static void parses_batch_and_defaults_quick_id(void **state)
{
    (void)state;
    const char *p = "[{\"type\":\"created\",\"entityType\":\"task\",\"entityId\":\"t1\"},"
                    "{\"type\":\"deleted\",\"entityType\":\"node\",\"entityId\":\"gw.1\","
                    "\"entity\":null}]";
    sb_event *ev;
    size_t n;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_event_parse(p, strlen(p), &ev, &n, &em), SB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].quick_id, "task:t1");
    assert_null(ev[0].entity);
    assert_string_equal(ev[1].type, "deleted");
    sb_event_free_all(ev, n);
}

static void rejects_bad_events(void **state)
{
    (void)state;
    struct {
        const char *payload, *want;
    } cases[] = {
        {"[{\"type\":\"created\",\"entityType\":\"task\",\"entityId\":\"t1\"},{\"type\":\"x\"}]",
         "event 1: 'entityType'"},
        {"{\"type\":\"created\",\"entityType\":\"task\",\"entityId\":\"\"}", "'entityId'"},
        {"{\"type\":\"created\",\"entityType\":\"task\",\"entityId\":\"a\",\"entity\":3}",
         "'entity' must be an object"},
        {"[1]", "event 0: not an object"},
        {"{\"type\":", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sb_event *ev = (sb_event *)1;
        size_t n = 9;
        sb_errmsg em = {{0}};
        assert_int_not_equal(
            sb_event_parse(cases[i].payload, strlen(cases[i].payload), &ev, &n, &em), SB_OK);
        assert_null(ev);
        assert_int_equal(n, 0);
        if (!strstr(em.text, cases[i].want))
            fail_msg("case %zu: '%s' does not name '%s'", i, em.text, cases[i].want);
    }
}

static void handler_calls(void **state)
{
    (void)state;
    const char *ok = "{\"id\":\"h1\",\"source\":\"task:t1\",\"parameters\":{\"a\":\"b\"}}";
    sb_handler_call c;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_handler_call_parse(ok, strlen(ok), &c, &em), SB_OK);
    assert_string_equal(c.id, "h1");
    assert_string_equal(c.source, "task:t1");
    assert_string_equal(cJSON_GetObjectItem(c.parameters, "a")->valuestring, "b");
    assert_true(cJSON_IsObject(c.variables));
    sb_handler_call_free(&c);

    const char *bad[][2] = {
        {"{\"source\":\"x\"}", "'id'"},
        {"{\"id\":\"h\"}", "'source'"},
        {"{\"id\":\"h\",\"source\":\"s\",\"variables\":[]}", "'variables' must be an object"},
        {"[]", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sb_errmsg e2 = {{0}};
        assert_int_not_equal(sb_handler_call_parse(bad[i][0], strlen(bad[i][0]), &c, &e2), SB_OK);
        assert_null(c.id);
        if (!strstr(e2.text, bad[i][1]))
            fail_msg("'%s' does not name '%s'", e2.text, bad[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_single_event),
        cmocka_unit_test(parses_batch_and_defaults_quick_id),
        cmocka_unit_test(rejects_bad_events),
        cmocka_unit_test(handler_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
