/*
 * generic_mqtt_map_test.c - the generic MQTT mapping (gateways/generic_mqtt/gm_map.h): checking
 * mapping lists (errors name the mapping and key), topics with captured levels, JSON paths and
 * plain payloads to fields, and writes through the templates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "gateways/generic_mqtt/gm_map.h"

static sb_gm_config *load(const char *json)
{
    cJSON *j = NULL;
    sb_errmsg em = {{0}};
    if (sb_json_parse(json, strlen(json), &j, &em) != SB_OK)
        fail_msg("test config: %s", em.text);
    sb_gm_config *c = NULL;
    if (sb_gm_config_parse(j, &c, &em) != SB_OK)
        fail_msg("config refused: %s", em.text);
    cJSON_Delete(j);
    return c;
}

/* The config is refused with a message containing want. */
static void refused(const char *json, const char *want)
{
    cJSON *j = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &j, NULL), SB_OK);
    sb_gm_config *c = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_gm_config_parse(j, &c, &em), SB_ERR_INVALID);
    assert_null(c);
    if (!strstr(em.text, want))
        fail_msg("'%s' does not say '%s'", em.text, want);
    cJSON_Delete(j);
}

static void test_config_errors(void **state)
{
    (void)state;
    refused("[]", "provider.mappings: a list");
    refused("{}", "provider.mappings: a list");
    refused("[{\"name\":\"a\"}]", "provider.mappings[0] (a): topic: required");
    refused(
        "[{\"topic\":\"s/{node}\",\"fields\":[{\"path\":\"t\",\"metricType\":\"gauge_flot\"}]}]",
        "provider.mappings[0]: fields[0].metricType: 'gauge_flot' is not a metric type");
    refused("[{\"topic\":\"s/{node}\",\"fields\":[{\"path\":\"t\"}]},"
            "{\"name\":\"two\",\"topic\":\"x/{node}\",\"fields\":[{\"path\":\"t\",\"colour\":1}]}]",
            "provider.mappings[1] (two): fields[0].colour: unknown key");
    refused("[{\"topic\":\"s/{node}\",\"fields\":[{\"path\":\"t\"}],\"qos\":1}]",
            "mappings[0]: qos: unknown key");
    refused("[{\"topic\":\"s/{id}\",\"fields\":[{\"path\":\"t\"}]}]",
            "node: required when the topic has no {node} level");
    refused("[{\"topic\":\"s/{id}\",\"node\":\"{dev}\",\"fields\":[{\"path\":\"t\"}]}]",
            "node '{dev}': {dev} is not a {name} level of the topic");
    refused("[{\"topic\":\"s/#/x\",\"node\":\"n\",\"fields\":[{\"path\":\"t\"}]}]",
            "# only as the last level");
    refused("[{\"topic\":\"s/a+b\",\"node\":\"n\",\"fields\":[{\"path\":\"t\"}]}]",
            "level 2 must be a word, {name}, + or a final #");
    refused("[{\"topic\":\"s/{node}\"}]", "fields: at least one (or allFields: true)");
    refused("[{\"topic\":\"s/{node}\",\"fields\":[{\"path\":\"a.t\"},{\"path\":\"b.t\"}]}]",
            "fields[1]: field 't' given twice");
    refused("[{\"topic\":\"s/{node}\",\"allFields\":true,\"write\":{\"topic\":\"s/{{node\"}}]",
            "write.topic: ");
    refused("[{\"topic\":\"s/{node}\",\"allFields\":true,\"write\":{\"payload\":\"x\"}}]",
            "write.topic: required");
    refused("[{\"topic\":\"s/{node}\",\"fields\":[{\"path\":\"t\",\"field\":\"a.b\"}]}]",
            "fields[0].field 'a.b'");
}

static const char sensors[] =
    "[{\"name\":\"sensors\",\"topic\":\"sensors/{node}/{source}\","
    "\"fields\":[{\"path\":\"temperature\",\"metricType\":\"gauge_float\",\"unit\":\"°C\"},"
    "{\"path\":\"env.humidity\",\"unit\":\"%\"},{\"path\":\"readings.1\",\"field\":\"second\"}],"
    "\"allFields\":true,"
    "\"write\":{\"topic\":\"sensors/{{node}}/{{source}}/set\","
    "\"payload\":\"{\\\"{{field}}\\\":{{value}}}\"}},"
    " {\"name\":\"plain\",\"topic\":\"plain/{room}/{kind}\",\"node\":\"room-{room}\","
    "\"source\":\"{kind}\",\"fields\":[{\"path\":\"\",\"field\":\"value\","
    "\"metricType\":\"gauge_float\"}],"
    "\"write\":{\"topic\":\"plain/{{room}}/{{kind}}/set\",\"retain\":true}},"
    " {\"name\":\"any\",\"topic\":\"sensors/#\",\"node\":\"all\",\"fields\":[{\"path\":\"ok\"}]}]";

static void map(const sb_gm_config *c, sb_gm_routes *routes, const char *topic, const char *payload,
                sb_gm_result *r)
{
    assert_int_equal(sb_gm_map(c, routes, "gw1", topic, payload, strlen(payload), r), SB_OK);
    sb_errmsg em = {{0}};
    for (size_t i = 0; i < r->out.n; i++)
        if (sb_msg_validate(r->out.msgs[i], &em) != SB_OK)
            fail_msg("%s: message %zu invalid: %s", topic, i, em.text);
}

static const sb_msg *msg_of(const sb_gm_result *r, const char *node)
{
    for (size_t i = 0; i < r->out.n; i++)
        if (strcmp(r->out.msgs[i]->node_id, node) == 0)
            return r->out.msgs[i];
    fail_msg("no message for node %s", node);
    return NULL;
}

static void field(const sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                  const char *unit)
{
    for (size_t i = 0; i < m->n_payloads; i++) {
        const sb_payload *p = &m->payloads[i];
        if (strcmp(p->key, key) != 0)
            continue;
        assert_string_equal(p->value, value);
        assert_int_equal(p->metric_type, mt);
        assert_string_equal(p->unit ? p->unit : "", unit ? unit : "");
        return;
    }
    fail_msg("no field %s", key);
}

static void test_map(void **state)
{
    (void)state;
    sb_gm_config *c = load(sensors);
    assert_string_equal(sb_gm_filter(c, 0), "sensors/+/+");
    assert_string_equal(sb_gm_filter(c, 1), "plain/+/+");
    assert_string_equal(sb_gm_filter(c, 2), "sensors/#");
    assert_null(sb_gm_filter(c, 3));
    sb_gm_routes *routes = sb_gm_routes_new();
    sb_gm_result r;
    map(c, routes, "sensors/hall.1/bme",
        "{\"temperature\":21.5,\"env\":{\"humidity\":40},\"readings\":[1,2.5],\"ok\":true,"
        "\"name\":\"x\",\"nested\":{\"a\":1}}",
        &r);
    assert_int_equal(r.matched, 2);
    const sb_msg *m = msg_of(&r, "hall_1");
    assert_string_equal(m->source_id, "bme");
    field(m, "temperature", "21.5", SB_METRIC_GAUGE_FLOAT, "°C");
    field(m, "humidity", "40", SB_METRIC_GAUGE_FLOAT, "%");
    field(m, "second", "2.5", SB_METRIC_GAUGE_FLOAT, NULL);
    field(m, "ok", "true", SB_METRIC_BINARY, NULL);               /* allFields */
    field(m, "name", "x", SB_METRIC_STRING, NULL);                /* allFields */
    field(m, "temperature", "21.5", SB_METRIC_GAUGE_FLOAT, "°C"); /* not twice */
    assert_int_equal(m->n_payloads, 5);
    field(msg_of(&r, "all"), "ok", "true", SB_METRIC_BINARY, NULL);
    assert_int_equal(r.out.skipped, 0);
    sb_gm_result_free(&r);

    /* bad values are skipped, the rest is used */
    map(c, routes, "sensors/hall/bme", "{\"temperature\":\"nan\",\"env\":{\"humidity\":null}}", &r);
    assert_int_equal(r.out.n, 0);
    assert_true(r.out.skipped >= 3); /* nan, null, no readings.1, no ok */
    sb_gm_result_free(&r);
    map(c, routes, "sensors/hall/bme", "{\"temperature\":", &r); /* not JSON: a plain value */
    assert_int_equal(r.out.n, 0);
    assert_true(r.out.n_notes > 0);
    assert_non_null(strstr(r.out.notes[0], "no 'temperature'"));
    sb_gm_result_free(&r);

    /* a plain (non-JSON) payload is one value; ids from captures inside texts */
    map(c, routes, "plain/kitchen/temp", "19.25", &r);
    field(msg_of(&r, "room-kitchen"), "value", "19.25", SB_METRIC_GAUGE_FLOAT, NULL);
    assert_string_equal(msg_of(&r, "room-kitchen")->source_id, "temp");
    sb_gm_result_free(&r);
    map(c, routes, "plain/kitchen/temp", "warm", &r);
    field(msg_of(&r, "room-kitchen"), "value", "warm", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_gm_result_free(&r);
    map(c, routes, "plain/kitchen/temp", "nan", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_gm_result_free(&r);
    map(c, routes, "other/topic", "1", &r);
    assert_int_equal(r.matched, 0);
    sb_gm_result_free(&r);
    assert_int_equal(sb_gm_routes_count(routes), 2);
    sb_gm_routes_free(routes);
    sb_gm_config_free(c);
}

static sb_err command(const sb_gm_config *c, const sb_gm_routes *routes, sb_msg_type type,
                      const char *node, const char *src, const char *key, const char *value,
                      char **topic, char **payload, bool *retain, sb_errmsg *em)
{
    sb_msg *m = sb_msg_new("gw1", node, src, type);
    sb_msg_add_payload(m, key, value, SB_METRIC_NONE, NULL);
    sb_err rc = sb_gm_command(c, routes, m, 0, topic, payload, retain, em);
    sb_msg_free(m);
    return rc;
}

static void test_writes(void **state)
{
    (void)state;
    sb_gm_config *c = load(sensors);
    sb_gm_routes *routes = sb_gm_routes_new();
    sb_gm_result r;
    map(c, routes, "plain/kitchen/temp", "19", &r);
    sb_gm_result_free(&r);
    char *topic = NULL, *payload = NULL;
    bool retain = false;
    sb_errmsg em = {{0}};

    /* through the route: the captured levels fill the topic */
    assert_int_equal(command(c, routes, SB_MSG_SET, "room-kitchen", "temp", "value", "21", &topic,
                             &payload, &retain, &em),
                     SB_OK);
    assert_string_equal(topic, "plain/kitchen/temp/set");
    assert_string_equal(payload, "21");
    assert_true(retain);
    free(topic);
    free(payload);

    /* a node never seen: the mapping that names the field, with node/source/field/value */
    assert_int_equal(command(c, routes, SB_MSG_SET, "hall", "bme", "temperature", "22.5", &topic,
                             &payload, &retain, &em),
                     SB_OK);
    assert_string_equal(topic, "sensors/hall/bme/set");
    assert_string_equal(payload, "{\"temperature\":22.5}");
    assert_false(retain);
    free(topic);
    free(payload);

    /* ... but a mapping whose topic needs captures it does not have is refused */
    assert_int_equal(command(c, routes, SB_MSG_SET, "room-hall", "temp", "value", "1", &topic,
                             &payload, &retain, &em),
                     SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "field room-hall.temp.value: mapping plain: write.topic"));
    assert_null(topic);
    assert_int_equal(
        command(c, routes, SB_MSG_SET, "x", "y", "nothing", "1", &topic, &payload, &retain, &em),
        SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "no mapping writes it"));
    assert_int_equal(command(c, routes, SB_MSG_REQUEST, "room-kitchen", "temp", "value", "", &topic,
                             &payload, &retain, &em),
                     SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "only set"));
    sb_gm_routes_free(routes);
    sb_gm_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
