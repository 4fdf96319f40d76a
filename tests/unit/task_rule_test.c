/* task_rule_test - a task's rule (conditions) and dampening (services/task/rule.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "services/task/rule.h"

static bool eval_text(const char *rule, const char *vars)
{
    cJSON *r = cJSON_Parse(rule), *v = cJSON_Parse(vars);
    task_rule tr;
    sb_errmsg em = {{0}};
    if (task_rule_parse(r, &tr, &em) != SB_OK)
        fail_msg("%s: %s", rule, em.text);
    bool ok = task_rule_eval(&tr, v);
    task_rule_free(&tr);
    cJSON_Delete(r);
    cJSON_Delete(v);
    return ok;
}

static void test_operators(void **state)
{
    (void)state;
    const char *gt = "{\"conditions\":[{\"variable\":\"t\",\"operator\":\"gt\",\"value\":25}]}";
    assert_true(eval_text(gt, "{\"t\":25.5}"));
    assert_true(eval_text(gt, "{\"t\":\"100\"}")); /* numeric text compares as a number */
    assert_false(eval_text(gt, "{\"t\":\"9\"}"));
    assert_false(eval_text(gt, "{\"t\":25}"));
    assert_false(eval_text(gt, "{}"));
    assert_false(eval_text(gt, "{\"t\":\"warm\"}"));
    const char *sym = "{\"conditions\":[{\"variable\":\"a.b\",\"operator\":\"<=\",\"value\":3}]}";
    assert_true(eval_text(sym, "{\"a\":{\"b\":3}}"));
    assert_false(eval_text(sym, "{\"a\":{\"b\":4}}"));
    const char *in = "{\"conditions\":[{\"variable\":\"s\",\"operator\":\"in\","
                     "\"value\":[\"on\",\"open\"]}]}";
    assert_true(eval_text(in, "{\"s\":\"open\"}"));
    assert_false(eval_text(in, "{\"s\":\"off\"}"));
    const char *ex = "{\"conditions\":[{\"variable\":\"s\",\"operator\":\"exists\","
                     "\"value\":false}]}";
    assert_true(eval_text(ex, "{}"));
    assert_false(eval_text(ex, "{\"s\":null}"));
    const char *re = "{\"conditions\":[{\"variable\":\"s\",\"operator\":\"regex\","
                     "\"value\":\"^mo(tion)?$\"}]}";
    assert_true(eval_text(re, "{\"s\":\"MOTION\"}"));
    assert_false(eval_text(re, "{\"s\":\"mot\"}"));
    const char *ne = "{\"conditions\":[{\"variable\":\"s\",\"operator\":\"ne\",\"value\":1}]}";
    assert_true(eval_text(ne, "{}"));
    assert_true(eval_text(ne, "{\"s\":2}"));
    assert_false(eval_text(ne, "{\"s\":\"1\"}"));
}

static void test_all_any(void **state)
{
    (void)state;
    const char *conds = "\"conditions\":[{\"variable\":\"a\",\"operator\":\"eq\",\"value\":1},"
                        "{\"variable\":\"b\",\"operator\":\"eq\",\"value\":true}]";
    char all[300], any[300];
    snprintf(all, sizeof(all), "{%s}", conds);
    snprintf(any, sizeof(any), "{\"matchAll\":false,%s}", conds);
    assert_true(eval_text(all, "{\"a\":1,\"b\":true}"));
    assert_false(eval_text(all, "{\"a\":1,\"b\":false}"));
    assert_true(eval_text(any, "{\"a\":1,\"b\":false}"));
    assert_true(eval_text(any, "{\"a\":0,\"b\":true}"));
    assert_false(eval_text(any, "{\"a\":0,\"b\":false}"));
}

static void expect_error(const char *rule, const char *text)
{
    cJSON *r = cJSON_Parse(rule);
    task_rule tr;
    sb_errmsg em = {{0}};
    assert_int_not_equal(task_rule_parse(r, &tr, &em), SB_OK);
    if (!strstr(em.text, text))
        fail_msg("'%s' gave '%s', expected '%s'", rule, em.text, text);
    cJSON_Delete(r);
}

static void test_bad_rules(void **state)
{
    (void)state;
    expect_error("[]", "expected an object");
    expect_error("{}", "'conditions' must be a non-empty array");
    expect_error("{\"conditions\":[]}", "non-empty array");
    expect_error("{\"matchAll\":1,\"conditions\":[]}", "'matchAll' must be true or false");
    expect_error("{\"conditions\":[1]}", "condition 0: expected an object");
    expect_error("{\"conditions\":[{\"operator\":\"eq\",\"value\":1}]}",
                 "condition 0: 'variable' must be");
    expect_error("{\"conditions\":[{\"variable\":\"x\",\"operator\":\"like\",\"value\":1}]}",
                 "condition 0: unknown operator 'like'");
    expect_error("{\"conditions\":[{\"variable\":\"x\",\"operator\":\"eq\",\"value\":1},"
                 "{\"variable\":\"x\",\"operator\":\"gt\"}]}",
                 "condition 1: 'gt' needs a 'value'");
    expect_error("{\"conditions\":[{\"variable\":\"x\",\"operator\":\"in\",\"value\":1}]}",
                 "condition 0");
    expect_error("{\"conditions\":[{\"variable\":\"x\",\"operator\":\"exists\",\"value\":1}]}",
                 "exists takes true or false");
}

static task_damp damp(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    task_damp d;
    sb_errmsg em = {{0}};
    if (task_damp_parse(j, &d, &em) != SB_OK)
        fail_msg("%s: %s", json, em.text);
    cJSON_Delete(j);
    return d;
}

/* Feeds results ("TFT..") one per second; returns which steps triggered ("..1"). */
static void steps(const task_damp *d, const char *in, const char *want)
{
    task_damp_state st = {0};
    char got[64] = "";
    for (size_t i = 0; in[i]; i++)
        got[i] = task_damp_step(d, &st, in[i] == 'T', 1000 * (int64_t)(i + 1)) ? '1' : '.';
    assert_string_equal(got, want);
}

static void test_dampening(void **state)
{
    (void)state;
    task_damp none = damp("{\"type\":\"none\"}");
    steps(&none, "TFTT", "1.11");
    task_damp c3 = damp("{\"type\":\"consecutive\",\"occurrences\":3}");
    steps(&c3, "TTFTTTTTT", ".....1..1");
    task_damp e23 = damp("{\"type\":\"evaluation\",\"evaluation\":3,\"occurrences\":2}");
    steps(&e23, "TFFTFTT", ".....1.");
    steps(&e23, "TFTTT", "..1.1");
    task_damp a = damp("{\"type\":\"active_duration\",\"activeDuration\":\"2500ms\"}");
    steps(&a, "TTTTTFTTT", "...1.....");
    /* Between evaluations the timer decides. */
    task_damp_state st = {0};
    assert_false(task_damp_step(&a, &st, true, 10000));
    assert_int_equal(task_damp_due(&a, &st), 12500);
    assert_false(task_damp_check(&a, &st, 12000));
    assert_true(task_damp_check(&a, &st, 12500));
    assert_false(task_damp_check(&a, &st, 13000));
    assert_int_equal(task_damp_due(&a, &st), 0);
    assert_false(task_damp_step(&a, &st, true, 14000)); /* once per active period */
    assert_false(task_damp_step(&a, &st, false, 15000));
    assert_int_equal(task_damp_due(&a, &st), 0);
}

static void test_bad_dampening(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"type\":\"sometimes\"}", "unknown type 'sometimes'"},
        {"{\"type\":\"consecutive\"}", "'occurrences' must be an integer"},
        {"{\"type\":\"consecutive\",\"occurrences\":1.5}", "'occurrences' must be an integer"},
        {"{\"type\":\"evaluation\",\"evaluation\":65,\"occurrences\":1}", "'evaluation'"},
        {"{\"type\":\"evaluation\",\"evaluation\":4,\"occurrences\":5}", "integer 1-4"},
        {"{\"type\":\"active_duration\",\"activeDuration\":\"soon\"}", "'activeDuration'"},
        {"{\"type\":3}", "'type' must be a string"},
        {"[1]", "expected an object"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        cJSON *j = cJSON_Parse(bad[i][0]);
        task_damp d;
        sb_errmsg em = {{0}};
        assert_int_not_equal(task_damp_parse(j, &d, &em), SB_OK);
        if (!strstr(em.text, bad[i][1]))
            fail_msg("'%s' gave '%s'", bad[i][0], em.text);
        cJSON_Delete(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),     cmocka_unit_test(test_all_any),
        cmocka_unit_test(test_bad_rules),     cmocka_unit_test(test_dampening),
        cmocka_unit_test(test_bad_dampening),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
