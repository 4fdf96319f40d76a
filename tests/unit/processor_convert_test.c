/* processor_convert_test - value conversion by metric type (services/processor/convert.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/json.h"
#include "services/processor/processor.h"

static cJSON *ok(sb_metric_type t, const char *text, const char *metric_text)
{
    cJSON *v = NULL;
    char mt[160];
    sb_errmsg em = {{0}};
    if (sb_proc_convert(t, text, &v, mt, sizeof(mt), &em) != SB_OK)
        fail_msg("%s '%s' rejected: %s", sb_metric_type_name(t), text, em.text);
    if (metric_text)
        assert_string_equal(mt, metric_text);
    return v;
}

static void bad(sb_metric_type t, const char *text)
{
    cJSON *v = NULL;
    char mt[160];
    sb_errmsg em = {{0}};
    if (sb_proc_convert(t, text, &v, mt, sizeof(mt), &em) == SB_OK)
        fail_msg("%s '%s' accepted", sb_metric_type_name(t), text);
    assert_null(v);
    assert_true(em.text[0] != '\0');
}

static void test_binary(void **state)
{
    (void)state;
    static const char *const t[] = {"on", "ON", "true", "1", "yes"};
    static const char *const f[] = {"off", "False", "0", "no"};
    for (size_t i = 0; i < SB_ARRAY_LEN(t); i++) {
        cJSON *v = ok(SB_METRIC_BINARY, t[i], "true");
        assert_true(cJSON_IsTrue(v));
        cJSON_Delete(v);
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(f); i++) {
        cJSON *v = ok(SB_METRIC_BINARY, f[i], "false");
        assert_true(cJSON_IsFalse(v));
        cJSON_Delete(v);
    }
    bad(SB_METRIC_BINARY, "2");
    bad(SB_METRIC_BINARY, "");
    bad(SB_METRIC_BINARY, " on");
}

static void test_numbers(void **state)
{
    (void)state;
    cJSON *v = ok(SB_METRIC_GAUGE_FLOAT, "21.5", "21.5");
    assert_true(v->valuedouble == 21.5);
    cJSON_Delete(v);
    cJSON_Delete(ok(SB_METRIC_GAUGE, "-3e2", "-300"));
    cJSON_Delete(ok(SB_METRIC_GAUGE_FLOAT, "0.1", "0.1"));
    cJSON_Delete(ok(SB_METRIC_COUNTER, "42", "42"));
    static const char *const nan_like[] = {"",    " 1",  "1 ",  "0x10",  "inf",
                                           "nan", "1,5", "abc", "1e999", "--1"};
    for (size_t i = 0; i < SB_ARRAY_LEN(nan_like); i++)
        bad(SB_METRIC_GAUGE, nan_like[i]);
    bad(SB_METRIC_COUNTER, "1.5");
    bad(SB_METRIC_COUNTER, "-1");
    bad(SB_METRIC_COUNTER, "1e3");
}

static void test_geo_and_strings(void **state)
{
    (void)state;
    cJSON *v = ok(SB_METRIC_GEO, "52.5;13.4", NULL);
    assert_true(sb_json_num(v, "latitude", 0) == 52.5);
    assert_true(sb_json_num(v, "longitude", 0) == 13.4);
    assert_true(sb_json_num(v, "altitude", 1) == 0);
    cJSON_Delete(v);
    bad(SB_METRIC_GEO, "91;0");
    bad(SB_METRIC_GEO, "1");
    bad(SB_METRIC_GEO, "1;2;3;4");
    v = ok(SB_METRIC_STRING, " any text ", " any text ");
    assert_string_equal(v->valuestring, " any text ");
    cJSON_Delete(v);
    cJSON_Delete(ok(SB_METRIC_NONE, "", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_geo_and_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
