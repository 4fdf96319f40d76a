/*
 * options_test.c - the option-table engine on a table that uses every type: defaults, JSON,
 * environment, YAML documents, printing (the YAML it prints loads back), lookup and lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/options.h"
#include "core/options_internal.h"
#include "core/options_yaml.h"

typedef struct inner {
    char *name;
    int64_t depth;
} inner;

typedef struct demo {
    char *str;
    char *nulls;
    char *secret;
    int64_t count;
    double ratio;
    bool flag;
    int64_t wait_ms;
    int color;
    sb_strlist tags;
    cJSON *labels;
    inner sub;
} demo;

static const char *const colors[] = {"red", "green", "blue", NULL};

static const sb_option inner_table[] = {
    SB_OPT_ROW_STR(inner, name, "name", "inner", "Inner name."),
    SB_OPT_ROW_INT(inner, depth, "depth", "3", 0, 10, "Depth."),
    SB_OPT_END,
};

static const sb_option demo_table[] = {
    SB_OPT_ROW_STR(demo, str, "str", "hello", "A string."),
    SB_OPT_ROW_STR(demo, nulls, "nulls", NULL, "A string without default."),
    SB_OPT_ROW_SECRET(demo, secret, "secret", "A secret."),
    SB_OPT_ROW_INT(demo, count, "count", "7", -5, 100, "A count."),
    SB_OPT_ROW_DOUBLE(demo, ratio, "ratio", "0.5", 0, 1, "A ratio."),
    SB_OPT_ROW_BOOL(demo, flag, "flag", "false", "A flag."),
    SB_OPT_ROW_DURATION(demo, wait_ms, "wait", "1m30s", 0, 3600000, "A wait."),
    SB_OPT_ROW_ENUM(demo, color, "color", "green", colors, "A color."),
    SB_OPT_ROW_LIST(demo, tags, "tags", "a, b,c", "Tags."),
    SB_OPT_ROW_MAP(demo, labels, "labels", "Labels."),
    SB_OPT_ROW_SECTION(demo, sub, "sub", inner_table, "A section."),
    SB_OPT_END,
};

static const sb_option required_table[] = {
    {.type = SB_OPT_STRING,
     .key = "host",
     .def = "",
     .offset = offsetof(inner, name),
     .desc = "Host.",
     .flags = SB_OPT_REQUIRED},
    SB_OPT_END,
};

static void fill(demo *d)
{
    memset(d, 0, sizeof(*d));
    assert_int_equal(sb_options_defaults(demo_table, d, NULL), SB_OK);
}

static sb_err from_json(demo *d, const char *text, sb_errmsg *em)
{
    cJSON *obj = NULL;
    assert_int_equal(sb_json_parse(text, strlen(text), &obj, NULL), SB_OK);
    sb_err err = sb_options_from_json(demo_table, d, obj, "plugin", em);
    cJSON_Delete(obj);
    return err;
}

static void test_defaults(void **state)
{
    demo d;
    fill(&d);
    assert_string_equal(d.str, "hello");
    assert_null(d.nulls);
    assert_string_equal(d.secret, "");
    assert_int_equal(d.count, 7);
    assert_true(d.ratio == 0.5);
    assert_false(d.flag);
    assert_int_equal(d.wait_ms, 90000);
    assert_int_equal(d.color, 1);
    assert_int_equal(d.tags.n, 3);
    assert_string_equal(d.tags.items[0], "a");
    assert_string_equal(d.tags.items[2], "c");
    assert_true(cJSON_IsObject(d.labels));
    assert_null(d.labels->child);
    assert_string_equal(d.sub.name, "inner");
    assert_int_equal(d.sub.depth, 3);
    sb_options_free(demo_table, &d);
    assert_null(d.str);
    assert_null(d.tags.items);
    sb_options_free(demo_table, NULL);
}

static void test_json_every_type(void **state)
{
    demo d;
    fill(&d);
    sb_errmsg em = {{0}};
    sb_err err = from_json(&d,
                           "{\"str\":\"x y\",\"nulls\":null,\"count\":-5,\"ratio\":1,\"flag\":true,"
                           "\"wait\":\"250ms\",\"color\":\"blue\",\"tags\":[\"t1\"],"
                           "\"labels\":{\"room\":\"hall\",\"n\":3},\"sub\":{\"depth\":10}}",
                           &em);
    assert_int_equal(err, SB_OK);
    assert_string_equal(d.str, "x y");
    assert_string_equal(d.nulls, "");
    assert_int_equal(d.count, -5);
    assert_true(d.ratio == 1.0);
    assert_true(d.flag);
    assert_int_equal(d.wait_ms, 250);
    assert_int_equal(d.color, 2);
    assert_int_equal(d.tags.n, 1);
    assert_string_equal(d.tags.items[0], "t1");
    assert_string_equal(sb_json_str(d.labels, "room", ""), "hall");
    assert_string_equal(sb_json_str(d.labels, "n", ""), "3");
    assert_string_equal(d.sub.name, "inner");
    assert_int_equal(d.sub.depth, 10);
    assert_int_equal(from_json(&d, "{\"wait\":1500}", NULL), SB_OK);
    assert_int_equal(d.wait_ms, 1500);
    sb_options_free(demo_table, &d);
}

static void expect_json_error(const char *json, const char *message)
{
    demo d;
    fill(&d);
    sb_errmsg em = {{0}};
    assert_int_not_equal(from_json(&d, json, &em), SB_OK);
    if (!strstr(em.text, message))
        fail_msg("for %s\n  got      \"%s\"\n  expected \"%s\"", json, em.text, message);
    sb_options_free(demo_table, &d);
}

static void test_json_errors(void **state)
{
    expect_json_error("{\"cuont\":1}", "unknown key 'plugin.cuont'");
    expect_json_error("{\"sub\":{\"nme\":1}}", "unknown key 'plugin.sub.nme'");
    expect_json_error("{\"str\":5}", "key 'plugin.str': expected a string, got '5'");
    expect_json_error("{\"count\":\"5\"}", "key 'plugin.count': expected an integer, got '5'");
    expect_json_error("{\"count\":1.5}", "key 'plugin.count': expected an integer, got '1.5'");
    expect_json_error("{\"count\":101}", "key 'plugin.count': 101 is out of range (-5..100)");
    expect_json_error("{\"count\":1e300}", "key 'plugin.count'");
    expect_json_error("{\"ratio\":2}", "key 'plugin.ratio': 2 is out of range (0..1)");
    expect_json_error("{\"flag\":1}", "key 'plugin.flag': expected true or false, got '1'");
    expect_json_error("{\"wait\":\"abc\"}",
                      "key 'plugin.wait': expected a duration like 30s, got 'abc'");
    expect_json_error("{\"wait\":\"2h\"}", "key 'plugin.wait': 2h is out of range (0s..1h)");
    expect_json_error("{\"color\":\"pink\"}",
                      "key 'plugin.color': expected one of red|green|blue, got 'pink'");
    expect_json_error("{\"tags\":[1]}", "key 'plugin.tags': expected a list of strings");
    expect_json_error("{\"tags\":\"a\"}", "key 'plugin.tags': expected a list of strings, got");
    expect_json_error("{\"labels\":{\"a\":[]}}", "key 'plugin.labels.a': expected a string");
    expect_json_error("{\"sub\":[]}", "key 'plugin.sub': expected a mapping, got a list");
    expect_json_error("{\"str\":\"a\",\"str\":\"b\"}", "duplicate key 'plugin.str'");

    demo d;
    fill(&d);
    sb_errmsg em = {{0}};
    cJSON *arr = cJSON_CreateArray();
    assert_int_equal(sb_options_from_json(demo_table, &d, arr, NULL, &em), SB_ERR_INVALID);
    assert_string_equal(em.text, "expected a JSON object");
    cJSON_Delete(arr);
    /* a failed value leaves the previous one in place */
    assert_string_equal(d.str, "hello");
    sb_options_free(demo_table, &d);
}

static void test_json_required(void **state)
{
    inner in = {0};
    sb_errmsg em = {{0}};
    assert_int_equal(sb_options_defaults(required_table, &in, NULL), SB_OK);
    assert_int_equal(sb_options_from_json(required_table, &in, NULL, "gw", &em), SB_ERR_INVALID);
    assert_string_equal(em.text, "key 'gw.host' is required and must not be empty");
    cJSON *obj = cJSON_Parse("{\"host\":\"h\"}");
    assert_int_equal(sb_options_from_json(required_table, &in, obj, "gw", &em), SB_OK);
    assert_string_equal(in.name, "h");
    cJSON_Delete(obj);
    sb_options_free(required_table, &in);
}

static void test_env(void **state)
{
    demo d;
    fill(&d);
    sb_errmsg em = {{0}};
    setenv("SBT_STR", "from env", 1);
    setenv("SBT_COUNT", " 42 ", 1);
    setenv("SBT_FLAG", "yes", 1);
    setenv("SBT_WAIT", "2s", 1);
    setenv("SBT_COLOR", "RED", 1);
    setenv("SBT_TAGS", "x, y ,,z", 1);
    setenv("SBT_LABELS", "room=hall, floor = 1", 1);
    setenv("SBT_SUB_NAME", "nested", 1);
    assert_int_equal(sb_options_from_env(demo_table, &d, "SBT", &em), SB_OK);
    assert_string_equal(d.str, "from env");
    assert_int_equal(d.count, 42);
    assert_true(d.flag);
    assert_int_equal(d.wait_ms, 2000);
    assert_int_equal(d.color, 0);
    assert_int_equal(d.tags.n, 3);
    assert_string_equal(d.tags.items[1], "y");
    assert_string_equal(d.tags.items[2], "z");
    assert_string_equal(sb_json_str(d.labels, "floor", ""), "1");
    assert_string_equal(d.sub.name, "nested");

    setenv("SBT_SUB_DEPTH", "11", 1);
    assert_int_equal(sb_options_from_env(demo_table, &d, "SBT", &em), SB_ERR_INVALID);
    assert_string_equal(em.text, "environment variable SBT_SUB_DEPTH: 11 is out of range (0..10)");
    setenv("SBT_SUB_DEPTH", "x", 1);
    assert_int_equal(sb_options_from_env(demo_table, &d, "SBT", &em), SB_ERR_INVALID);
    assert_string_equal(em.text,
                        "environment variable SBT_SUB_DEPTH: expected an integer, got 'x'");
    setenv("SBT_SUB_DEPTH", "", 1);
    assert_int_equal(sb_options_from_env(demo_table, &d, "SBT", &em), SB_ERR_INVALID);
    setenv("SBT_SUB_DEPTH", "4", 1);
    setenv("SBT_LABELS", "novalue", 1);
    assert_int_equal(sb_options_from_env(demo_table, &d, "SBT", &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "SBT_LABELS: expected key=value pairs"));
    const char *vars[] = {"SBT_STR",  "SBT_COUNT",  "SBT_FLAG",     "SBT_WAIT",     "SBT_COLOR",
                          "SBT_TAGS", "SBT_LABELS", "SBT_SUB_NAME", "SBT_SUB_DEPTH"};
    for (size_t i = 0; i < SB_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
    sb_options_free(demo_table, &d);
}

static void test_scalar_edges(void **state)
{
    demo d;
    fill(&d);
    sb_errmsg why = {{0}};
    const sb_option *count = sb_options_find(demo_table, "count");
    const sb_option *ratio = sb_options_find(demo_table, "ratio");
    const sb_option *wait = sb_options_find(demo_table, "wait");
    assert_int_equal(sb_opt_set_text(count, &d, "99999999999999999999999", &why), SB_ERR_INVALID);
    assert_non_null(strstr(why.text, "out of range"));
    assert_int_equal(sb_opt_set_text(count, &d, "0x10", &why), SB_ERR_INVALID);
    assert_int_equal(sb_opt_set_text(ratio, &d, "nan", &why), SB_ERR_INVALID);
    assert_int_equal(sb_opt_set_text(ratio, &d, "inf", &why), SB_ERR_INVALID);
    assert_int_equal(sb_opt_set_text(ratio, &d, "1e999", &why), SB_ERR_INVALID);
    assert_int_equal(sb_opt_set_text(ratio, &d, ".25", &why), SB_OK);
    assert_true(d.ratio == 0.25);
    /* long duration texts are refused before they reach the parser's arithmetic */
    char many[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(many, "9000000d");
    assert_int_equal(sb_opt_set_text(wait, &d, many, &why), SB_ERR_INVALID);
    assert_int_equal(sb_opt_set_text(wait, &d, "-5s", &why), SB_ERR_INVALID);
    assert_int_equal(d.count, 7);
    assert_int_equal(d.wait_ms, 90000);
    sb_options_free(demo_table, &d);
}

static void test_format_duration(void **state)
{
    char buf[64];
    const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "0s"},        {1, "1ms"},         {250, "250ms"},    {1000, "1s"},
        {90000, "1m30s"}, {5400000, "1h30m"}, {604800000, "7d"}, {90061001, "1d1h1m1s1ms"}};
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        sb_opt_format_duration(cases[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
    }
    sb_opt_format_double(0.1, buf, sizeof(buf));
    assert_string_equal(buf, "0.1");
    sb_opt_format_double(1e8, buf, sizeof(buf));
    assert_string_equal(buf, "100000000");
}

static void test_find_and_strlist(void **state)
{
    assert_ptr_equal(sb_options_find(demo_table, "sub.depth"), &inner_table[1]);
    assert_ptr_equal(sb_options_find(demo_table, "sub"), &demo_table[10]);
    assert_null(sb_options_find(demo_table, "sub.nope"));
    assert_null(sb_options_find(demo_table, "str.x"));
    assert_null(sb_options_find(demo_table, "su"));
    assert_null(sb_options_find(demo_table, ""));
    assert_null(sb_options_find(NULL, "str"));

    sb_strlist l = {0};
    assert_false(sb_strlist_contains(&l, "a"));
    assert_int_equal(sb_opt_strlist_push(&l, "abc", 2), SB_OK);
    assert_true(sb_strlist_contains(&l, "ab"));
    assert_false(sb_strlist_contains(&l, "abc"));
    assert_false(sb_strlist_contains(NULL, "ab"));
    sb_strlist_free(&l);
    assert_int_equal(l.n, 0);
    sb_strlist_free(NULL);
}

/* Loads YAML text onto d through the document walk. */
static sb_err from_yaml(demo *d, const char *text, sb_errmsg *em)
{
    yaml_parser_t p;
    yaml_document_t doc;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&p, &doc))
        fail_msg("YAML did not parse: %s at line %zu\n%s", p.problem, p.problem_mark.line + 1,
                 text);
    sb_err err = sb_options_from_yaml(demo_table, d, &doc, yaml_document_get_root_node(&doc), NULL,
                                      "t.yaml", em);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return err;
}

static void test_print_yaml_round_trip(void **state)
{
    static const char *const tricky[] = {"",
                                         "plain",
                                         "yes",
                                         "No",
                                         "~",
                                         "null",
                                         "123",
                                         "-1",
                                         "1.5",
                                         ".inf",
                                         "a: b",
                                         "a #b",
                                         "#x",
                                         "[x]",
                                         "{x}",
                                         "*x",
                                         "&x",
                                         "!x",
                                         "|",
                                         ">",
                                         "'q'",
                                         "\"dq\"",
                                         "back\\slash",
                                         "tab\there",
                                         "new\nline",
                                         " lead",
                                         "trail ",
                                         "a,b",
                                         "%x",
                                         "@x",
                                         "`x`",
                                         "x:",
                                         "-",
                                         "- x",
                                         "?",
                                         "?x",
                                         "http://h:1/p?q=1",
                                         "héllo",
                                         "C:\\dir",
                                         "a\001b",
                                         "nel\xc2\x85x",
                                         "c1\xc2\x80",
                                         "ls\xe2\x80\xa8",
                                         "bom\xef\xbb\xbf",
                                         "emoji\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < SB_ARRAY_LEN(tricky); i++) {
        demo d, back;
        fill(&d);
        fill(&back);
        free(d.str);
        d.str = strdup(tricky[i]);
        sb_strlist_free(&d.tags);
        sb_opt_strlist_push(&d.tags, tricky[i], strlen(tricky[i]));
        sb_opt_strlist_push(&d.tags, "ok", 2);
        cJSON_AddStringToObject(d.labels, tricky[i], tricky[i]);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        sb_options_print_yaml(demo_table, &d, f, 0, false);
        fclose(f);
        sb_errmsg em = {{0}};
        if (from_yaml(&back, text, &em) != SB_OK)
            fail_msg("%s\n%s", em.text, text);
        assert_string_equal(back.str, tricky[i]);
        assert_int_equal(back.tags.n, 2);
        assert_string_equal(back.tags.items[0], tricky[i]);
        assert_string_equal(sb_json_str(back.labels, tricky[i], "?"), tricky[i]);
        assert_int_equal(back.wait_ms, d.wait_ms);
        assert_true(back.ratio == d.ratio);
        free(text);
        sb_options_free(demo_table, &d);
        sb_options_free(demo_table, &back);
    }
}

static void test_print_yaml_comments_and_secrets(void **state)
{
    demo d;
    fill(&d);
    free(d.secret);
    d.secret = strdup("hunter2");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sb_options_print_yaml(demo_table, &d, f, 2, true);
    fclose(f);
    assert_non_null(strstr(text, "  # A count. (-5..100)\n  count: 7\n"));
    assert_non_null(strstr(text, "  # A wait. (0s..1h)\n  wait: 1m30s\n"));
    assert_non_null(strstr(text, "  # A color. (red|green|blue)\n  color: green\n"));
    assert_non_null(strstr(text, "  secret: \"***\"\n"));
    assert_non_null(strstr(text, "  sub:\n    # Inner name.\n    name: inner\n"));
    assert_non_null(strstr(text, "  tags: [a, b, c]\n"));
    assert_non_null(strstr(text, "  labels: {}\n"));
    assert_null(strstr(text, "hunter2"));
    free(text);
    f = open_memstream(&text, &len);
    sb_options_print_yaml(demo_table, &d, f, 0, false);
    fclose(f);
    assert_non_null(strstr(text, "secret: hunter2\n"));
    free(text);
    sb_options_free(demo_table, &d);
}

/* Strings are not limited by any buffer: 10 kB through JSON, YAML output and back. */
static void test_long_strings(void **state)
{
    size_t n = 10000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    demo d, back;
    fill(&d);
    fill(&back);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "str", big);
    assert_int_equal(sb_options_from_json(demo_table, &d, obj, NULL, NULL), SB_OK);
    assert_string_equal(d.str, big);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sb_options_print_yaml(demo_table, &d, f, 0, false);
    fclose(f);
    assert_int_equal(from_yaml(&back, text, NULL), SB_OK);
    assert_string_equal(back.str, big);
    cJSON_Delete(obj);
    free(text);
    free(big);
    sb_options_free(demo_table, &d);
    sb_options_free(demo_table, &back);
}

static void test_markdown(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sb_options_print_markdown(demo_table, f, "x");
    fclose(f);
    assert_non_null(strstr(text, "| Key | Type | Default | Description |\n"));
    assert_non_null(strstr(text, "| `x.count` | integer (-5..100) | `7` | A count. |\n"));
    assert_non_null(strstr(text, "| `x.color` | enum (red\\|green\\|blue) | `green` | A color. |"));
    assert_non_null(strstr(text, "| `x.sub.depth` | integer (0..10) | `3` | Depth. |\n"));
    assert_non_null(strstr(text, "| `x.secret` | string (secret) | `\"\"` | A secret. |\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_json_every_type),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_required),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_scalar_edges),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_find_and_strlist),
        cmocka_unit_test(test_print_yaml_round_trip),
        cmocka_unit_test(test_print_yaml_comments_and_secrets),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
