/*
 * template_test.c - the template engine: variables and key paths, every function, time zones,
 * sunrise/sunset, warnings for missing data, parse errors with offsets, output and nesting bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/template.h"
#include "core/time.h"

static const char *vars_json =
    "{\"sensor\":{\"value\":\"21.456\",\"num\":21.456,\"unit\":\"C\",\"on\":true,\"off\":false,"
    "\"zero\":0,\"empty\":\"\",\"nil\":null,\"ts\":\"2026-07-01T10:00:00Z\"},"
    "\"list\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"n\":[1,2,3],\"name\":\"Hall\","
    "\"count\":3,\"big\":1e21,\"ms\":1782900000000,\"obj\":{\"k\":\"v\"},\"q\":\"say \\\"hi\\\"\"}";

/* 2026-07-01T10:00:00Z */
#define NOW_MS 1782900000000LL

static char *render_full(const char *tmpl, const sb_tmpl_opts *opts, cJSON **warnings)
{
    cJSON *vars = cJSON_Parse(vars_json);
    assert_non_null(vars);
    char *out = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_tmpl_render(tmpl, vars, opts, &out, warnings, &em);
    cJSON_Delete(vars);
    if (err != SB_OK)
        fail_msg("'%s' failed: %s", tmpl, em.text);
    return out;
}

static void expect(const char *tmpl, const char *want)
{
    sb_tmpl_opts opts = {.now_ms = NOW_MS, .tz = "Europe/Berlin"};
    cJSON *warnings = NULL;
    char *out = render_full(tmpl, &opts, &warnings);
    if (strcmp(out, want) != 0)
        fail_msg("'%s': want \"%s\", got \"%s\"", tmpl, want, out);
    if (cJSON_GetArraySize(warnings) != 0) {
        char *w = cJSON_PrintUnformatted(warnings);
        fail_msg("'%s': unexpected warnings %s", tmpl, w);
    }
    free(out);
    cJSON_Delete(warnings);
}

/* Renders with warnings: checks the text and that the first warning contains want_warning. */
static void expect_warning(const char *tmpl, const char *want, const char *want_warning)
{
    sb_tmpl_opts opts = {.now_ms = NOW_MS, .tz = "Europe/Berlin"};
    cJSON *warnings = NULL;
    char *out = render_full(tmpl, &opts, &warnings);
    assert_string_equal(out, want);
    cJSON *first = cJSON_GetArrayItem(warnings, 0);
    if (!first || !strstr(first->valuestring, want_warning))
        fail_msg("'%s': want a warning containing \"%s\", got %s", tmpl, want_warning,
                 first ? first->valuestring : "none");
    free(out);
    cJSON_Delete(warnings);
}

static void expect_error(const char *tmpl, sb_err want_err, const char *want)
{
    char *out = NULL;
    cJSON *warnings = NULL;
    sb_errmsg em = {{0}};
    sb_tmpl_opts opts = {.now_ms = NOW_MS, .max_output = 64};
    sb_err err = sb_tmpl_render(tmpl, NULL, &opts, &out, &warnings, &em);
    if (err != want_err || !strstr(em.text, want))
        fail_msg("'%s': want %s containing \"%s\", got %s: \"%s\"", tmpl, sb_strerror(want_err),
                 want, sb_strerror(err), em.text);
    assert_null(out);
    assert_null(warnings);
}

static void test_variables(void **state)
{
    expect("plain text", "plain text");
    expect("", "");
    expect("{{sensor.value}} {{ sensor.unit }}", "21.456 C");
    expect("{{ list.1.name }}/{{ n.0 }}{{ n.2 }}", "b/13");
    expect("{{ count }} {{ sensor.num }} {{ big }}", "3 21.456 1e+21");
    expect("{{ sensor.on }} {{ sensor.off }} [{{ sensor.nil }}]", "true false []");
    expect("{{ obj }} {{ n }}", "{\"k\":\"v\"} [1,2,3]");
    expect("{{ q }}", "say \"hi\"");
    expect("a {{ \"{{\" }} b }} c", "a {{ b }} c");
    expect("{{ 42 }} {{ -1.5 }} {{ true }} [{{ null }}]", "42 -1.5 true []");
    expect("{{ \"tab\\there\" }}", "tab\there");
}

static void test_functions(void **state)
{
    expect("{{ sensor.value | fixed 1 }} {{ sensor.num | fixed 0 }} {{ count | fixed 2 }}",
           "21.5 21 3.00");
    expect("{{ name | upper }} {{ name | lower }} {{ sensor.on | upper }}", "HALL hall TRUE");
    expect("{{ missing | default \"none\" }} {{ sensor.empty | default \"e\" }}", "none e");
    expect("{{ sensor.nil | default 7 }} {{ name | default \"x\" }}", "7 Hall");
    expect("{{ sensor.on | ternary \"yes\" \"no\" }} {{ sensor.off | ternary \"yes\" \"no\" }}",
           "yes no");
    expect("{{ sensor.zero | ternary 1 2 }}{{ missing | ternary 1 2 }}{{ list | ternary 1 2 }}",
           "221");
    expect("{{ name | toJson }} {{ count | toJson }} {{ obj | toJson }} {{ missing.x | default "
           "null | toJson }}",
           "\"Hall\" 3 {\"k\":\"v\"} null");
    expect("{{ q | toJson }}", "\"say \\\"hi\\\"\"");
    expect("{{ missing | default (name | upper) }}", "HALL");
    expect("{{ name | default \"x\" | upper | lower }}", "hall");
}

static void test_time(void **state)
{
    expect("{{ now }}", "2026-07-01T10:00:00.000Z");
    expect("{{ now | format \"%Y-%m-%d %H:%M\" }}", "2026-07-01 12:00");
    expect("{{ now | format \"%H:%M %Z\" \"UTC\" }}", "10:00 UTC");
    expect("{{ now | format \"%H:%M\" \"America/New_York\" }}", "06:00");
    expect("{{ sensor.ts | format \"%d.%m. %H:%M\" }}", "01.07. 12:00");
    expect("{{ ms | format \"%H:%M:%S\" \"UTC\" }}", "10:00:00");
    expect("{{ now | format \"\" }}", "");
    expect_warning("{{ name | format \"%H\" }}", "", "offset 10: format: not a time");
    expect_warning("{{ now | format \"%H\" \"Mars/Base\" }}", "", "unknown time zone 'Mars/Base'");
}

static void test_sun(void **state)
{
    sb_tmpl_opts opts = {.now_ms = NOW_MS,
                         .tz = "Europe/Berlin",
                         .has_location = true,
                         .latitude = 52.52,
                         .longitude = 13.405};
    /* Berlin, 1 July 2026: sunrise 04:46-04:48 CEST, sunset 21:32-21:34 CEST */
    char *out = render_full("{{ sunrise | format \"%H:%M\" }}-{{ sunset | format \"%H:%M\" }}",
                            &opts, NULL);
    assert_int_equal(strlen(out), 11);
    assert_true(strncmp(out, "04:4", 4) == 0 && out[4] >= '6' && out[4] <= '8');
    assert_true(strncmp(out + 6, "21:3", 4) == 0 && out[10] >= '2' && out[10] <= '4');
    free(out);
    expect_warning("[{{ sunrise }}]", "[]", "offset 4: sunrise: no location configured");
    cJSON *w = NULL;
    opts.latitude = 78.22; /* Longyearbyen in July: midnight sun */
    out = render_full("[{{ sunset | default \"none\" }}]", &opts, &w);
    assert_string_equal(out, "[none]");
    assert_non_null(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "polar day"));
    free(out);
    cJSON_Delete(w);
}

static void test_warnings(void **state)
{
    expect_warning("a{{ sensor.vlue }}b", "ab", "offset 3: unknown variable 'sensor.vlue'");
    expect_warning("{{ nope | upper }}", "", "unknown variable 'nope'");
    expect_warning("{{ n.7 }}", "", "unknown variable 'n.7'");
    expect_warning("{{ name | fixed 2 }}", "", "fixed: needs a number");
    expect_warning("{{ count | fixed 11 }}", "", "fixed: needs a number and 0-10 decimals");
    sb_tmpl_opts opts = {.now_ms = NOW_MS};
    cJSON *w = NULL;
    char *out = render_full("{{a}}{{b}}{{c}}{{d}}{{e}}{{f}}{{g}}{{h}}{{i}}{{j}}{{k}}{{l}}{{m}}"
                            "{{a}}{{b}}{{c}}{{d}}{{e}}{{f}}{{g}}{{h}}{{i}}{{j}}{{k}}{{l}}{{m}}"
                            "{{a}}{{b}}{{c}}{{d}}{{e}}{{f}}{{g}}{{h}}{{i}}{{j}}{{k}}{{l}}{{m}}",
                            &opts, &w);
    assert_int_equal(cJSON_GetArraySize(w), SB_TMPL_MAX_WARNINGS);
    free(out);
    cJSON_Delete(w);
    /* warnings are optional */
    out = render_full("{{ nope }}", &opts, NULL);
    assert_string_equal(out, "");
    free(out);
}

static void test_errors(void **state)
{
    expect_error("abc {{ name ", SB_ERR_PARSE, "template offset 12: '{{' without '}}'");
    expect_error("{{", SB_ERR_PARSE, "offset 2: '{{' without '}}'");
    expect_error("{{ name | shout }}", SB_ERR_PARSE, "offset 10: unknown function 'shout'");
    expect_error("{{ name | }}", SB_ERR_PARSE, "offset 10: expected a function name after '|'");
    expect_error("{{ name | fixed }}", SB_ERR_PARSE, "'fixed' needs more arguments");
    expect_error("{{ name | ternary 1 }}", SB_ERR_PARSE, "'ternary' needs more arguments");
    expect_error("{{ \"open }}", SB_ERR_PARSE, "offset 3: string without its closing quote");
    expect_error("{{ \"\\x\" }}", SB_ERR_PARSE, "unknown escape");
    expect_error("{{ @ }}", SB_ERR_PARSE, "offset 3: unexpected character '@'");
    expect_error("{{ a b }}", SB_ERR_PARSE, "offset 5: expected '}}' or '|', found 'b'");
    expect_error("{{ (a }}", SB_ERR_PARSE, "expected ')'");
    expect_error("{{ ((((((((((((((((((a)))))))))))))))))) }}", SB_ERR_PARSE,
                 "parentheses nested deeper than 16");
    expect_error("0123456789012345678901234567890123456789012345678901234567890123456789",
                 SB_ERR_TOO_LARGE, "template output exceeds 64 bytes");
    expect_error("{{ \"0123456789012345678901234567890123456789\" }}{{ \"01234567890123456789012"
                 "34567890123456789\" }}",
                 SB_ERR_TOO_LARGE, "exceeds 64 bytes");
    char *out = NULL;
    assert_int_equal(sb_tmpl_render(NULL, NULL, NULL, &out, NULL, NULL), SB_ERR_INVALID);
}

/* Renders without options take the site's zone and location (tasks and handlers). */
static void test_site_defaults(void **state)
{
    (void)state;
    char *out = NULL;
    sb_tmpl_set_site("Europe/Berlin", true, 52.52, 13.405);
    assert_int_equal(sb_tmpl_render("{{ sunrise | format \"%Z\" }}", NULL, NULL, &out, NULL, NULL),
                     SB_OK);
    assert_true(strcmp(out, "CET") == 0 || strcmp(out, "CEST") == 0);
    free(out);
    sb_tmpl_set_site(NULL, false, 0, 0);
    cJSON *w = NULL;
    assert_int_equal(sb_tmpl_render("[{{ sunrise }}]", NULL, NULL, &out, &w, NULL), SB_OK);
    assert_string_equal(out, "[]");
    assert_non_null(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "no location"));
    free(out);
    cJSON_Delete(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables),     cmocka_unit_test(test_functions),
        cmocka_unit_test(test_time),          cmocka_unit_test(test_sun),
        cmocka_unit_test(test_site_defaults), cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
