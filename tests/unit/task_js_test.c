/*
 * task_js_test - javascript evaluation of tasks (services/task/js.c): results, helpers, the
 * sandbox, and the time and memory limits (a script that loops forever is stopped; one that
 * allocates without end is refused), after which the engine keeps working.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "services/task/task.h"

static sb_config *cfg;

static int setup(void **state)
{
    (void)state;
    if (sb_config_load(NULL, &cfg, NULL) != SB_OK)
        return 1;
    cfg->task.js_timeout_ms = 300;
    cfg->task.js_memory = 4 * 1024 * 1024;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_config_free(cfg);
    return 0;
}

static sb_err run(const char *script, bool *trig, cJSON **extra, sb_errmsg *em)
{
    cJSON *vars = cJSON_Parse("{\"temp\":26.5,\"room\":\"hall\",\"event\":{\"type\":\"updated\","
                              "\"entity\":{\"current\":{\"value\":\"on\"}}}}");
    sb_err rc = task_js_eval(cfg, script, vars, trig, extra, em);
    cJSON_Delete(vars);
    return rc;
}

static bool truth(const char *script)
{
    bool t = false;
    cJSON *extra = NULL;
    sb_errmsg em = {{0}};
    if (run(script, &t, &extra, &em) != SB_OK)
        fail_msg("%s: %s", script, em.text);
    cJSON_Delete(extra);
    return t;
}

static void test_results_and_helpers(void **state)
{
    (void)state;
    assert_true(truth("variables.temp > 25"));
    assert_false(truth("variables.temp > 30"));
    assert_true(truth("event.entity.current.value === 'on'"));
    assert_true(truth("isoTime(0) === '1970-01-01T00:00:00.000Z'"));
    assert_true(truth("duration('1m30s') === 90000 && isNaN(duration('soon'))"));
    assert_true(truth("parseTime('2026-01-01T00:00:00Z') === 1767225600000"));
    assert_true(truth("Math.abs(now() - Date.now()) < 5000"));
    assert_true(truth("typeof Duktape === 'undefined' && typeof require === 'undefined'"));
    assert_true(truth("var x = variables.room.toUpperCase(); x === 'HALL'"));
    /* A fresh heap each run: globals do not survive. */
    assert_true(truth("globalThis.kept = 1; true"));
    assert_true(truth("typeof kept === 'undefined'"));

    bool t = false;
    cJSON *extra = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(run("({triggered: variables.temp > 25, level: 3, text: 'hot ' + "
                         "variables.room})",
                         &t, &extra, &em),
                     SB_OK);
    assert_true(t);
    assert_true(sb_json_num(extra, "level", 0) == 3);
    assert_string_equal(sb_json_str(extra, "text", ""), "hot hall");
    assert_null(cJSON_GetObjectItem(extra, "triggered"));
    cJSON_Delete(extra);
}

static void expect(const char *script, sb_err want, const char *text)
{
    bool t = true;
    cJSON *extra = NULL;
    sb_errmsg em = {{0}};
    int64_t t0 = sb_time_mono_ms();
    sb_err rc = run(script, &t, &extra, &em);
    if (rc != want || !strstr(em.text, text))
        fail_msg("%s: got %d '%s', expected %d '%s'", script, rc, em.text, want, text);
    assert_false(t);
    assert_null(extra);
    if (sb_time_mono_ms() - t0 >= 3000)
        fail_msg("%s: took %lld ms", script, (long long)(sb_time_mono_ms() - t0));
}

static void test_errors(void **state)
{
    (void)state;
    expect("variables.temp >", SB_ERR_INVALID, "SyntaxError");
    expect("undefinedFunction()", SB_ERR_INVALID, "ReferenceError");
    expect("var a = 1;", SB_ERR_INVALID, "gave no value");
    expect("'yes'", SB_ERR_INVALID, "true/false or an object");
    expect("({level: 1})", SB_ERR_INVALID, "triggered");
}

static void test_limits(void **state)
{
    (void)state;
    int64_t t0 = sb_time_mono_ms();
    expect("while (true) {}", SB_ERR_TIMEOUT, "stopped after 300 ms");
    assert_true(sb_time_mono_ms() - t0 >= 290);
    /* Catching the timeout does not help: the check keeps failing until the run ends. */
    expect("for (;;) { try { while (true) {} } catch (e) {} }", SB_ERR_TIMEOUT, "stopped");
    expect("var s = 'x'; for (;;) s = s + s;", SB_ERR_TOO_LARGE, "task.js_memory");
    expect("var a = [], s = new Array(1025).join('y'); for (;;) a.push(s + a.length);",
           SB_ERR_TOO_LARGE, "task.js_memory");
    /* And the engine still works. */
    assert_true(truth("1 + 1 === 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_and_helpers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
