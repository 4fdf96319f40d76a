/*
 * handler_spec_test - handler specs (handlers/common.c): the common delivery keys, each
 * plugin's own keys with their defaults, errors naming the key, template rendering of every
 * string in the spec, and the template variables of a call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "handlers/http.h"
#include "handlers/plugin.h"

static cJSON *json(const char *text)
{
    cJSON *o = NULL;
    assert_int_equal(sb_json_parse(text, strlen(text), &o, NULL), SB_OK);
    return o;
}

static const sb_handler_plugin *plugin(const char *name)
{
    const sb_handler_plugin *p = NULL;
    assert_int_equal(sb_handler_plugin_find(name, &p, NULL), SB_OK);
    return p;
}

static void expect_error(const char *type, const char *spec, const char *text)
{
    cJSON *s = json(spec);
    void *opts = NULL;
    sb_errmsg em = {{0}};
    assert_int_not_equal(sb_handler_spec_parse(plugin(type), s, 0, NULL, &opts, &em), SB_OK);
    assert_null(opts);
    if (!strstr(em.text, text))
        fail_msg("'%s' does not contain '%s'", em.text, text);
    cJSON_Delete(s);
}

static void test_registry(void **state)
{
    (void)state;
    const sb_handler_plugin *p = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_handler_plugin_find("nosuch", &p, &em), SB_ERR_NOTFOUND);
    assert_non_null(strstr(em.text, "webhook"));
    assert_non_null(strstr(em.text, "log"));
    assert_non_null(strstr(em.text, "mqtt"));
}

/* The webhook's table, as its struct is private: read members through the option rows. */
static const void *member(const sb_handler_plugin *p, const void *opts, const char *key)
{
    const sb_option *row = sb_options_find(p->info.options, key);
    assert_non_null(row);
    return (const char *)opts + row->offset;
}

static void test_defaults_and_common(void **state)
{
    (void)state;
    const sb_handler_plugin *p = plugin("webhook");
    cJSON *s = json("{\"url\":\"http://h/x\",\"retries\":5,\"retryDelay\":\"250ms\","
                    "\"expectedStatus\":[200,\"299\"]}");
    sb_handler_common c;
    void *opts = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_handler_spec_parse(p, s, 0, &c, &opts, &em), SB_OK);
    assert_int_equal(c.retries, 5);
    assert_int_equal(c.retry_delay_ms, 250);
    assert_int_equal(c.retry_max_delay_ms, 60000);
    assert_string_equal(*(char *const *)member(p, opts, "method"), "POST");
    assert_int_equal(*(const int64_t *)member(p, opts, "timeout"), 10000);
    const sb_strlist *l = member(p, opts, "expectedStatus");
    assert_int_equal(l->n, 2);
    assert_string_equal(l->items[0], "200");
    assert_string_equal(l->items[1], "299");
    sb_handler_options_free(p, opts);
    cJSON_Delete(s);
    /* nothing given: the common defaults */
    assert_int_equal(sb_handler_spec_parse(plugin("log"), NULL, 0, &c, &opts, NULL), SB_OK);
    assert_int_equal(c.retries, 3);
    assert_int_equal(c.retry_delay_ms, 1000);
    sb_handler_options_free(plugin("log"), opts);
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    expect_error("webhook", "{}", "url");
    expect_error("webhook", "{\"url\":\"http://x\",\"bogus\":1}", "spec.bogus");
    expect_error("webhook", "{\"url\":\"http://x\",\"timeout\":\"soon\"}", "spec.timeout");
    expect_error("webhook", "{\"url\":\"http://x\",\"expectedStatus\":[42]}",
                 "spec.expectedStatus");
    expect_error("webhook", "{\"url\":\"http://x\",\"retries\":-1}", "spec.retries");
    expect_error("mqtt", "{\"payload\":\"x\"}", "topic");
    expect_error("mqtt", "{\"topic\":\"t\",\"qos\":3}", "spec.qos");
    expect_error("log", "{\"level\":\"loud\"}", "spec.level");
    expect_error("log", "{\"message\":5}", "spec.message");
}

static void test_unrendered_typed_templates(void **state)
{
    (void)state;
    const sb_handler_plugin *p = plugin("mqtt");
    cJSON *s = json("{\"topic\":\"t/{{ a }}\",\"qos\":\"{{ q }}\",\"retries\":\"{{ r }}\"}");
    void *opts = NULL;
    sb_handler_common c;
    /* at load: checked once rendered, defaults meanwhile */
    assert_int_equal(sb_handler_spec_parse(p, s, SB_HANDLER_SPEC_TEMPLATES, &c, &opts, NULL),
                     SB_OK);
    assert_int_equal(*(const int64_t *)member(p, opts, "qos"), 1);
    assert_string_equal(*(char *const *)member(p, opts, "topic"), "t/{{ a }}");
    assert_int_equal(c.retries, 3);
    sb_handler_options_free(p, opts);
    /* for a call (rendered): a template left over is an error */
    sb_errmsg em = {{0}};
    assert_int_equal(sb_handler_spec_parse(p, s, 0, &c, &opts, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "spec."));
    cJSON_Delete(s);
}

static void test_render_every_string(void **state)
{
    (void)state;
    cJSON *spec = json("{\"url\":\"http://h/{{ room }}\",\"qos\":1,"
                       "\"headers\":{\"A\":\"{{ user.name | upper }}\"},"
                       "\"to\":[\"{{ user.mail }}\",\"fixed@x\"],\"plain\":\"no {\"}");
    cJSON *vars = json("{\"room\":\"hall\",\"user\":{\"name\":\"ann\",\"mail\":\"a@x\"}}");
    cJSON *warnings = cJSON_CreateArray(), *out = NULL;
    assert_int_equal(sb_handler_spec_render(spec, vars, &out, warnings, NULL), SB_OK);
    char *text = sb_json_print(out);
    assert_string_equal(text, "{\"url\":\"http://h/hall\",\"qos\":1,\"headers\":{\"A\":\"ANN\"},"
                              "\"to\":[\"a@x\",\"fixed@x\"],\"plain\":\"no {\"}");
    free(text);
    assert_int_equal(cJSON_GetArraySize(warnings), 0);
    cJSON_Delete(out);
    /* an unknown variable renders nothing and is reported with its key */
    cJSON *s2 = json("{\"body\":\"x{{ nope }}y\"}");
    assert_int_equal(sb_handler_spec_render(s2, vars, &out, warnings, NULL), SB_OK);
    assert_string_equal(sb_json_str(out, "body", ""), "xy");
    assert_int_equal(cJSON_GetArraySize(warnings), 1);
    assert_non_null(strstr(cJSON_GetArrayItem(warnings, 0)->valuestring, "spec.body"));
    cJSON_Delete(out);
    /* a malformed template fails naming the key path */
    cJSON *s3 = json("{\"headers\":{\"B\":\"{{ x \"}}");
    sb_errmsg em = {{0}};
    assert_int_equal(sb_handler_spec_render(s3, vars, &out, NULL, &em), SB_ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(em.text, "spec.headers.B"));
    cJSON_Delete(s2);
    cJSON_Delete(s3);
    cJSON_Delete(warnings);
    cJSON_Delete(spec);
    cJSON_Delete(vars);
}

static void test_call_vars(void **state)
{
    (void)state;
    sb_handler_call call = {.id = "h1",
                            .source = "task:t1",
                            .parameters = json("{\"msg\":\"T={{ t }}\",\"room\":\"p\"}"),
                            .variables = json("{\"t\":21,\"room\":\"v\"}")};
    cJSON *vars = sb_handler_call_vars(&call, "h1");
    assert_non_null(vars);
    assert_string_equal(sb_json_str(vars, "msg", ""), "T=21"); /* rendered with the variables */
    assert_string_equal(sb_json_str(vars, "room", ""), "p");   /* parameters win */
    assert_string_equal(sb_json_str(sb_json_path(vars, "parameters"), "msg", ""), "T=21");
    assert_string_equal(sb_json_str(vars, "source", ""), "task:t1");
    assert_string_equal(sb_json_str(vars, "handler", ""), "h1");
    assert_int_equal((int)sb_json_num(vars, "t", 0), 21);
    cJSON_Delete(vars);
    cJSON_Delete(call.parameters);
    cJSON_Delete(call.variables);
}

static void test_http_origin(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(
        sb_http_origin("https://hooks.example.org/services/T0/B0/secret?x=1", buf, sizeof(buf)),
        "https://hooks.example.org");
    assert_string_equal(sb_http_origin("http://user:pw@h:8080/p", buf, sizeof(buf)),
                        "http://h:8080");
    assert_string_equal(sb_http_origin("http://h", buf, sizeof(buf)), "http://h");
    assert_string_equal(sb_http_origin("h/x", buf, sizeof(buf)), "h");
    assert_string_equal(sb_http_origin("http://h?q=@x", buf, sizeof(buf)), "http://h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_defaults_and_common),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_unrendered_typed_templates),
        cmocka_unit_test(test_render_every_string),
        cmocka_unit_test(test_call_vars),
        cmocka_unit_test(test_http_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
