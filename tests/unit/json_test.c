/*
 * json_test.c - the cJSON helpers: strict parse (offsets, trailing data), key paths through
 * objects and arrays, getters with defaults, setters and scalar text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"

static cJSON *parse_ok(const char *text)
{
    cJSON *o = NULL;
    sb_errmsg em = {{0}};
    if (sb_json_parse(text, strlen(text), &o, &em) != SB_OK)
        fail_msg("'%s' did not parse: %s", text, em.text);
    return o;
}

static void test_parse(void **state)
{
    cJSON *o = parse_ok("  {\"a\":1}\n\t ");
    assert_true(cJSON_IsObject(o));
    cJSON_Delete(o);
    sb_errmsg em = {{0}};
    assert_int_equal(sb_json_parse("{\"a\":1} x", 9, &o, &em), SB_ERR_PARSE);
    assert_null(o);
    assert_non_null(strstr(em.text, "trailing data after JSON at byte 8"));
    assert_int_equal(sb_json_parse("{\"a\":1}{}", 9, &o, &em), SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "byte 7"));
    assert_int_equal(sb_json_parse("{\"a\":}", 6, &o, &em), SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "malformed JSON at byte 5"));
    assert_int_equal(sb_json_parse("", 0, &o, &em), SB_ERR_PARSE);
    assert_int_equal(sb_json_parse(NULL, 0, &o, &em), SB_ERR_PARSE);
    /* len bounds the input: what follows is not read */
    o = NULL;
    assert_int_equal(sb_json_parse("[1,2]garbage", 5, &o, NULL), SB_OK);
    assert_int_equal(cJSON_GetArraySize(o), 2);
    cJSON_Delete(o);
    /* a trailing NUL (C strings sent with their terminator) is tolerated */
    assert_int_equal(sb_json_parse("{}", 3, &o, NULL), SB_OK);
    cJSON_Delete(o);
}

static void test_path(void **state)
{
    cJSON *o = parse_ok("{\"state\":{\"status\":\"up\"},\"labels\":{\"room\":\"hall\"},"
                        "\"list\":[10,{\"x\":[\"a\",\"b\"]}],\"a.b\":1}");
    assert_string_equal(sb_json_path(o, "state.status")->valuestring, "up");
    assert_string_equal(sb_json_path(o, "labels.room")->valuestring, "hall");
    assert_int_equal(sb_json_path(o, "list.0")->valueint, 10);
    assert_string_equal(sb_json_path(o, "list.1.x.1")->valuestring, "b");
    assert_ptr_equal(sb_json_path(o, "list"), cJSON_GetObjectItem(o, "list"));
    assert_null(sb_json_path(o, "list.2"));
    assert_null(sb_json_path(o, "list.-1"));
    assert_null(sb_json_path(o, "list.x"));
    assert_null(sb_json_path(o, "list.1x"));
    assert_null(sb_json_path(o, "list."));
    assert_null(sb_json_path(o, "list..0"));
    assert_null(sb_json_path(o, "state.status.deeper"));
    assert_null(sb_json_path(o, "missing"));
    assert_null(sb_json_path(o, "State.status")); /* case-sensitive */
    assert_null(sb_json_path(o, "a.b"));          /* '.' always separates */
    assert_null(sb_json_path(NULL, "a"));
    assert_null(sb_json_path(o, NULL));
    cJSON_Delete(o);
}

static void test_getters_setters(void **state)
{
    cJSON *o = parse_ok("{\"s\":\"x\",\"n\":2.5,\"b\":true,\"z\":null}");
    assert_string_equal(sb_json_str(o, "s", "d"), "x");
    assert_string_equal(sb_json_str(o, "n", "d"), "d");
    assert_string_equal(sb_json_str(o, "missing", "d"), "d");
    assert_null(sb_json_str(o, "z", NULL));
    assert_true(sb_json_num(o, "n", 0) == 2.5);
    assert_true(sb_json_num(o, "s", -1) == -1);
    assert_true(sb_json_bool(o, "b", false));
    assert_false(sb_json_bool(o, "n", false));
    assert_string_equal(sb_json_str(NULL, "s", "d"), "d");

    assert_true(sb_json_set_str(o, "s", "y"));
    assert_true(sb_json_set_num(o, "n", 3));
    assert_true(sb_json_set_bool(o, "new", true));
    assert_true(sb_json_set_str(o, "nul", NULL));
    assert_string_equal(sb_json_str(o, "s", ""), "y");
    assert_true(sb_json_num(o, "n", 0) == 3);
    assert_true(sb_json_bool(o, "new", false));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "nul")));
    assert_int_equal(cJSON_GetArraySize(o), 6); /* replaced, not duplicated */
    assert_false(sb_json_set(NULL, "k", cJSON_CreateTrue()));
    assert_false(sb_json_set(o, "k", NULL));
    char *text = sb_json_print(o);
    assert_string_equal(text,
                        "{\"s\":\"y\",\"n\":3,\"b\":true,\"z\":null,\"new\":true,\"nul\":null}");
    free(text);
    cJSON_Delete(o);
}

static void test_scalar_text(void **state)
{
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"\"abc\"", "abc"},
        {"true", "true"},
        {"false", "false"},
        {"null", ""},
        {"0", "0"},
        {"-0", "0"},
        {"42", "42"},
        {"-7", "-7"},
        {"21.5", "21.5"},
        {"0.1", "0.1"},
        {"0.3", "0.3"},
        {"1e15", "1e+15"},
        {"999999999999999", "999999999999999"},
        {"1e300", "1e+300"},
        {"5e-324", "5e-324"},
        {"2.5e-320", "2.5e-320"},
        {"3.14159265358979", "3.14159265358979"},
        {"0.1234567890123456", "0.1234567890123456"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *it = parse_ok(cases[i].json);
        char buf[64];
        assert_true(sb_json_scalar_text(it, buf, sizeof(buf)));
        if (strcmp(buf, cases[i].text) != 0)
            fail_msg("%s: want '%s', got '%s'", cases[i].json, cases[i].text, buf);
        if (cJSON_IsNumber(it) && strtod(buf, NULL) != it->valuedouble)
            fail_msg("%s: '%s' does not read back", cases[i].json, buf);
        cJSON_Delete(it);
    }
    cJSON *arr = parse_ok("[1]");
    char buf[8];
    assert_false(sb_json_scalar_text(arr, buf, sizeof(buf)));
    cJSON_Delete(arr);
}

static void test_print_except_and_labels(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    const char *text = "{\"id\":\"a\",\"state\":{\"s\":1},\"modifiedOn\":\"x\",\"labels\":"
                       "{\"room\":\"hall\",\"floor\":\"1\"}}";
    assert_int_equal(sb_json_parse(text, strlen(text), &doc, NULL), SB_OK);
    static const char *const skip[] = {"state", "modifiedOn", "absent", NULL};
    char *fp = sb_json_print_except(doc, skip);
    assert_string_equal(fp, "{\"id\":\"a\",\"labels\":{\"room\":\"hall\",\"floor\":\"1\"}}");
    free(fp);
    assert_non_null(cJSON_GetObjectItem(doc, "state")); /* the original is untouched */
    const cJSON *labels = cJSON_GetObjectItem(doc, "labels");
    cJSON *want = cJSON_CreateObject();
    assert_true(sb_json_labels_match(labels, want)); /* empty: anything */
    assert_true(sb_json_labels_match(labels, NULL));
    cJSON_AddStringToObject(want, "room", "hall");
    assert_true(sb_json_labels_match(labels, want));
    cJSON_AddStringToObject(want, "floor", "2");
    assert_false(sb_json_labels_match(labels, want));
    assert_false(sb_json_labels_match(NULL, want));
    cJSON_Delete(want);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_getters_setters),
        cmocka_unit_test(test_scalar_text),
        cmocka_unit_test(test_print_except_and_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
