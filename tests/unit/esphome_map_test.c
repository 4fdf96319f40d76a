/*
 * esphome_map_test.c - the ESPHome mapping (gateways/esphome/esph_map.h): topics, states of
 * every component, the status topic, discovery configs in full and abbreviated form, and
 * writes as ESPHome's command topics and payloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/esphome/esph_map.h"

static const sb_esph_opts opts = {.gateway_id = "gw1"};

/* Maps topic+payload against reg (may be NULL); fails the test when the topic does not parse
 * or a message is invalid. */
static void map(sb_esph_registry *reg, const char *topic, const char *payload, sb_esph_result *r)
{
    sb_esph_topic t;
    sb_errmsg em = {{0}};
    if (sb_esph_topic_parse(NULL, topic, &t, &em) != SB_OK)
        fail_msg("%s: %s", topic, em.text);
    assert_int_equal(sb_esph_map(&opts, reg, &t, payload, strlen(payload), r), SB_OK);
    for (size_t i = 0; i < r->out.n; i++)
        if (sb_msg_validate(r->out.msgs[i], &em) != SB_OK)
            fail_msg("%s: message %zu invalid: %s", topic, i, em.text);
}

static const sb_msg *find_msg(const sb_esph_result *r, sb_msg_type type, const char *src)
{
    for (size_t i = 0; i < r->out.n; i++)
        if (r->out.msgs[i]->type == type && strcmp(r->out.msgs[i]->source_id, src) == 0)
            return r->out.msgs[i];
    fail_msg("no %s message for source '%s'", sb_msg_type_name(type), src);
    return NULL;
}

static const sb_payload *find_payload(const sb_msg *m, const char *key)
{
    for (size_t i = 0; i < m->n_payloads; i++)
        if (strcmp(m->payloads[i].key, key) == 0)
            return &m->payloads[i];
    return NULL;
}

/* Checks that src has field key = value with metric type and unit (NULL = none). */
static void field(const sb_esph_result *r, const char *node, const char *src, const char *key,
                  const char *value, sb_metric_type mt, const char *unit)
{
    const sb_msg *m = find_msg(r, SB_MSG_SET, src);
    assert_string_equal(m->node_id, node);
    const sb_payload *p = find_payload(m, key);
    if (!p)
        fail_msg("source %s has no field %s", src, key);
    assert_string_equal(p->value, value);
    assert_int_equal(p->metric_type, mt);
    assert_string_equal(p->unit ? p->unit : "", unit ? unit : "");
}

static void test_topics(void **state)
{
    (void)state;
    sb_esph_topic t;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_esph_topic_parse(NULL, "living/sensor/temperature/state", &t, &em), SB_OK);
    assert_int_equal(t.kind, SB_ESPH_STATE);
    assert_string_equal(t.prefix, "living");
    assert_string_equal(t.node_id, "living");
    assert_string_equal(t.component, "sensor");
    assert_string_equal(t.object_id, "temperature");
    assert_string_equal(t.sub, "");
    assert_string_equal(t.source_id, "sensor-temperature");

    /* a prefix with '/' and '.', and a climate sub-state */
    assert_int_equal(
        sb_esph_topic_parse(NULL, "home/floor.1/climate/hall/target_temperature/state", &t, &em),
        SB_OK);
    assert_string_equal(t.prefix, "home/floor.1");
    assert_string_equal(t.node_id, "home_floor_1");
    assert_string_equal(t.component, "climate");
    assert_string_equal(t.object_id, "hall");
    assert_string_equal(t.sub, "target_temperature");
    assert_string_equal(t.source_id, "climate-hall");

    /* a sub-state wins over a prefix ending in a component name */
    assert_int_equal(sb_esph_topic_parse(NULL, "dev/cover/sensor/position/state", &t, &em), SB_OK);
    assert_string_equal(t.prefix, "dev");
    assert_string_equal(t.component, "cover");
    assert_string_equal(t.sub, "position");
    /* ... but a plain state under a two-level prefix still reads */
    assert_int_equal(sb_esph_topic_parse(NULL, "a/b/switch/relay/state", &t, &em), SB_OK);
    assert_string_equal(t.prefix, "a/b");
    assert_string_equal(t.component, "switch");

    assert_int_equal(sb_esph_topic_parse(NULL, "home/living/status", &t, &em), SB_OK);
    assert_int_equal(t.kind, SB_ESPH_STATUS);
    assert_string_equal(t.node_id, "home_living");

    assert_int_equal(
        sb_esph_topic_parse(NULL, "homeassistant/sensor/living/temperature/config", &t, &em),
        SB_OK);
    assert_int_equal(t.kind, SB_ESPH_DISCOVERY);
    assert_string_equal(t.component, "sensor");
    assert_string_equal(t.prefix, "living");
    assert_string_equal(t.object_id, "temperature");
    assert_int_equal(sb_esph_topic_parse("ha/disc", "ha/disc/light/lamp/config", &t, &em), SB_OK);
    assert_int_equal(t.kind, SB_ESPH_DISCOVERY);
    assert_string_equal(t.object_id, "lamp");

    static const char *const bad[] = {
        "living/gadget/x/state",
        "living/sensor/x/command",
        "status",
        "a//sensor/b/state",
        "x/state",
        "homeassistant/sensor/a/b/c/config",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        em.text[0] = '\0';
        assert_int_not_equal(sb_esph_topic_parse(NULL, bad[i], &t, &em), SB_OK);
        assert_true(em.text[0]);
    }
}

/* ESPHome's own abbreviated discovery config for a temperature sensor in °F. */
static const char disc_temp[] =
    "{\"dev_cla\":\"temperature\",\"unit_of_meas\":\"°F\",\"stat_cla\":\"measurement\","
    "\"name\":\"Temperature\",\"stat_t\":\"living/sensor/temperature/state\","
    "\"avty_t\":\"living/status\",\"uniq_id\":\"ESPsensortemperature\","
    "\"dev\":{\"ids\":\"aabbccddeeff\",\"name\":\"Living room\",\"sw\":\"2024.10.2 (Oct 25 "
    "2024)\",\"mdl\":\"esp32dev\",\"mf\":\"Espressif\"}}";

static void test_sensor(void **state)
{
    (void)state;
    sb_esph_registry *reg = sb_esph_registry_new();
    sb_esph_result r;
    /* before discovery: a number without unit */
    map(reg, "living/sensor/temperature/state", "70.3", &r);
    field(&r, "living", "sensor-temperature", "state", "70.3", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_esph_result_free(&r);

    map(reg, "homeassistant/sensor/living/temperature/config", disc_temp, &r);
    assert_int_equal(r.out.n_notes, 0);
    const sb_msg *node = find_msg(&r, SB_MSG_PRESENTATION, "");
    assert_string_equal(node->node_id, "living");
    assert_string_equal(find_payload(node, "name")->value, "Living room");
    assert_string_equal(find_payload(node, "version")->value, "2024.10.2 (Oct 25 2024)");
    assert_string_equal(find_payload(node, "model")->value, "esp32dev");
    const sb_msg *src = find_msg(&r, SB_MSG_PRESENTATION, "sensor-temperature");
    assert_string_equal(find_payload(src, "sensor")->value, "Temperature");
    sb_esph_result_free(&r);
    assert_int_equal(sb_esph_registry_count(reg), 1);

    map(reg, "living/sensor/temperature/state", "70.5", &r);
    field(&r, "living", "sensor-temperature", "state", "70.5", SB_METRIC_GAUGE_FLOAT, "°F");
    sb_esph_result_free(&r);

    /* no reading: nan is skipped with a note */
    map(reg, "living/sensor/temperature/state", "nan", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    assert_non_null(strstr(r.out.notes[0], "no reading"));
    sb_esph_result_free(&r);
    /* a sensor with a unit that sends words */
    map(reg, "living/sensor/temperature/state", "warm", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);

    /* text sensors publish under "sensor" too; without a unit their text is a string */
    map(reg, "living/sensor/wifi_ssid/state", "home net", &r);
    field(&r, "living", "sensor-wifi_ssid", "state", "home net", SB_METRIC_STRING, NULL);
    sb_esph_result_free(&r);
    map(reg, "living/text_sensor/version/state", "2024.10.2", &r);
    field(&r, "living", "text_sensor-version", "state", "2024.10.2", SB_METRIC_STRING, NULL);
    sb_esph_result_free(&r);

    /* an empty config forgets the entity: the unit is gone */
    map(reg, "homeassistant/sensor/living/temperature/config", "", &r);
    sb_esph_result_free(&r);
    assert_int_equal(sb_esph_registry_count(reg), 0);
    map(reg, "living/sensor/temperature/state", "70", &r);
    field(&r, "living", "sensor-temperature", "state", "70", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_esph_result_free(&r);
    sb_esph_registry_free(reg);
}

static void test_full_keys_and_base_topic(void **state)
{
    (void)state;
    sb_esph_registry *reg = sb_esph_registry_new();
    sb_esph_result r;
    const char *cfg =
        "{\"~\":\"garage/door\",\"name\":\"Door\",\"state_topic\":\"~/binary_sensor/door/state\","
        "\"device_class\":\"door\",\"payload_on\":\"open\",\"payload_off\":\"shut\","
        "\"availability\":[{\"topic\":\"~/status\",\"payload_available\":\"alive\","
        "\"payload_not_available\":\"dead\"}],\"device\":{\"name\":\"Garage\","
        "\"sw_version\":\"1.0\",\"manufacturer\":\"Acme\"}}";
    map(reg, "homeassistant/binary_sensor/garage/door/config", cfg, &r);
    assert_int_equal(r.out.n_notes, 0);
    assert_string_equal(find_msg(&r, SB_MSG_PRESENTATION, "")->node_id, "garage_door");
    assert_string_equal(find_payload(find_msg(&r, SB_MSG_PRESENTATION, ""), "manufacturer")->value,
                        "Acme");
    sb_esph_result_free(&r);
    assert_string_equal(sb_esph_registry_prefix(reg, "garage_door"), "garage/door");

    map(reg, "garage/door/binary_sensor/door/state", "open", &r);
    field(&r, "garage_door", "binary_sensor-door", "state", "true", SB_METRIC_BINARY, NULL);
    sb_esph_result_free(&r);
    map(reg, "garage/door/binary_sensor/door/state", "OFF", &r);
    field(&r, "garage_door", "binary_sensor-door", "state", "false", SB_METRIC_BINARY, NULL);
    sb_esph_result_free(&r);
    map(reg, "garage/door/binary_sensor/door/state", "ajar", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);

    /* the availability words of the discovery config */
    map(reg, "garage/door/status", "dead", &r);
    field(&r, "garage_door", "", "online", "false", SB_METRIC_BINARY, NULL);
    assert_true(r.online_known && !r.online);
    sb_esph_result_free(&r);
    map(reg, "garage/door/status", "offline", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);

    /* a config that says nothing about where its entity publishes */
    map(reg, "homeassistant/sensor/x/y/config", "{\"name\":\"Y\",\"stat_t\":\"elsewhere\"}", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);
    map(reg, "homeassistant/sensor/x/y/config", "{not json", &r);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);
    sb_esph_registry_free(reg);
}

static void test_status(void **state)
{
    (void)state;
    sb_esph_result r;
    map(NULL, "living/status", "online", &r);
    assert_true(r.online_known && r.online);
    field(&r, "living", "", "online", "true", SB_METRIC_BINARY, NULL);
    const sb_msg *a = find_msg(&r, SB_MSG_ACTION, "");
    assert_string_equal(find_payload(a, "node_state")->value, "up");
    sb_esph_result_free(&r);
    map(NULL, "living/status", "offline", &r);
    assert_string_equal(find_payload(find_msg(&r, SB_MSG_ACTION, ""), "node_state")->value, "down");
    sb_esph_result_free(&r);
    map(NULL, "living/status", "maybe", &r);
    assert_int_equal(r.out.n, 0);
    assert_false(r.online_known);
    sb_esph_result_free(&r);
}

static void test_light(void **state)
{
    (void)state;
    sb_esph_result r;
    map(NULL, "living/light/lamp/state",
        "{\"state\":\"ON\",\"brightness\":128,\"color_mode\":\"rgb\",\"color\":{\"r\":255,"
        "\"g\":128,\"b\":0},\"color_temp\":300,\"effect\":\"None\",\"transition\":1}",
        &r);
    assert_int_equal(r.out.n_notes, 0);
    field(&r, "living", "light-lamp", "state", "true", SB_METRIC_BINARY, NULL);
    field(&r, "living", "light-lamp", "brightness", "128", SB_METRIC_GAUGE, NULL);
    field(&r, "living", "light-lamp", "color", "FF8000", SB_METRIC_STRING, NULL);
    field(&r, "living", "light-lamp", "color_temp", "300", SB_METRIC_GAUGE, "mired");
    field(&r, "living", "light-lamp", "color_mode", "rgb", SB_METRIC_STRING, NULL);
    field(&r, "living", "light-lamp", "effect", "None", SB_METRIC_STRING, NULL);
    sb_esph_result_free(&r);

    /* bad parts are skipped, the rest is used */
    map(NULL, "living/light/lamp/state",
        "{\"state\":\"MAYBE\",\"brightness\":\"x\",\"color\":{\"r\":300,\"g\":1,\"b\":2,"
        "\"w\":10},\"white_value\":99,\"sparkle\":1}",
        &r);
    field(&r, "living", "light-lamp", "white", "10", SB_METRIC_GAUGE, NULL);
    assert_int_equal(r.out.msgs[0]->n_payloads, 1);
    assert_int_equal(r.out.skipped, 4);
    sb_esph_result_free(&r);

    map(NULL, "living/light/lamp/state", "{\"state\":", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_esph_result_free(&r);
}

static void test_fan_cover_climate(void **state)
{
    (void)state;
    sb_esph_registry *reg = sb_esph_registry_new();
    sb_esph_result r;
    map(reg, "hall/fan/ceiling/state", "ON", &r);
    field(&r, "hall", "fan-ceiling", "state", "true", SB_METRIC_BINARY, NULL);
    sb_esph_result_free(&r);
    map(reg, "hall/fan/ceiling/oscillation/state", "oscillate_off", &r);
    field(&r, "hall", "fan-ceiling", "oscillation", "false", SB_METRIC_BINARY, NULL);
    sb_esph_result_free(&r);
    map(reg, "hall/fan/ceiling/speed_level/state", "3", &r);
    field(&r, "hall", "fan-ceiling", "speed_level", "3", SB_METRIC_GAUGE, NULL);
    sb_esph_result_free(&r);
    map(reg, "hall/cover/blind/state", "opening", &r);
    field(&r, "hall", "cover-blind", "state", "opening", SB_METRIC_STRING, NULL);
    sb_esph_result_free(&r);
    map(reg, "hall/cover/blind/position/state", "40", &r);
    field(&r, "hall", "cover-blind", "position", "40", SB_METRIC_GAUGE, "%");
    sb_esph_result_free(&r);

    map(reg, "hall/climate/heat/current_temperature/state", "20.5", &r);
    field(&r, "hall", "climate-heat", "current_temperature", "20.5", SB_METRIC_GAUGE_FLOAT, "°C");
    sb_esph_result_free(&r);
    map(reg, "homeassistant/climate/hall/heat/config",
        "{\"name\":\"Heat\",\"mode_stat_t\":\"hall/climate/heat/mode/state\",\"temp_unit\":\"F\","
        "\"min_temp\":40,\"max_temp\":90,\"modes\":[\"off\",\"heat\"]}",
        &r);
    assert_int_equal(r.out.n_notes, 0);
    sb_esph_result_free(&r);
    map(reg, "hall/climate/heat/target_temperature/state", "68.0", &r);
    field(&r, "hall", "climate-heat", "target_temperature", "68.0", SB_METRIC_GAUGE_FLOAT, "°F");
    sb_esph_result_free(&r);
    map(reg, "hall/climate/heat/mode/state", "heat", &r);
    field(&r, "hall", "climate-heat", "mode", "heat", SB_METRIC_STRING, NULL);
    sb_esph_result_free(&r);
    map(reg, "hall/climate/heat/current_humidity/state", "45", &r);
    field(&r, "hall", "climate-heat", "current_humidity", "45", SB_METRIC_GAUGE_FLOAT, "%");
    sb_esph_result_free(&r);
    map(reg, "hall/climate/heat/preset/state", "", &r);
    assert_int_equal(r.out.n, 0);
    sb_esph_result_free(&r);
    sb_esph_registry_free(reg);
}

/* The command for a one-payload message; returns the result code and fills topic/payload. */
static sb_err command(const sb_esph_registry *reg, const char *node, const char *src,
                      const char *key, const char *value, char *topic, char *payload, sb_errmsg *em)
{
    sb_msg *m = sb_msg_new("gw1", node, src, SB_MSG_SET);
    sb_msg_add_payload(m, key, value, SB_METRIC_NONE, NULL);
    sb_err rc = sb_esph_command(reg, m, 0, topic, 300, payload, 200, em);
    sb_msg_free(m);
    return rc;
}

static void expect(const sb_esph_registry *reg, const char *node, const char *src, const char *key,
                   const char *value, const char *want_topic, const char *want_payload)
{
    char topic[300], payload[200];
    sb_errmsg em = {{0}};
    if (command(reg, node, src, key, value, topic, payload, &em) != SB_OK)
        fail_msg("%s.%s=%s: %s", src, key, value, em.text);
    assert_string_equal(topic, want_topic);
    assert_string_equal(payload, want_payload);
}

static void refused(const sb_esph_registry *reg, const char *src, const char *key,
                    const char *value, const char *why)
{
    char topic[300], payload[200];
    sb_errmsg em = {{0}};
    assert_int_equal(command(reg, "dev", src, key, value, topic, payload, &em), SB_ERR_INVALID);
    if (!strstr(em.text, why))
        fail_msg("%s.%s=%s: '%s' does not say '%s'", src, key, value, em.text, why);
}

static void test_commands(void **state)
{
    (void)state;
    expect(NULL, "dev", "switch-relay", "state", "on", "dev/switch/relay/command", "ON");
    expect(NULL, "dev", "switch-relay", "state", "toggle", "dev/switch/relay/command", "TOGGLE");
    expect(NULL, "dev", "light-lamp", "brightness", "200", "dev/light/lamp/command",
           "{\"state\":\"ON\",\"brightness\":200}");
    expect(NULL, "dev", "light-lamp", "color", "#00FF80", "dev/light/lamp/command",
           "{\"state\":\"ON\",\"color\":{\"r\":0,\"g\":255,\"b\":128}}");
    expect(NULL, "dev", "light-lamp", "color", "1,2,3", "dev/light/lamp/command",
           "{\"state\":\"ON\",\"color\":{\"r\":1,\"g\":2,\"b\":3}}");
    expect(NULL, "dev", "light-lamp", "state", "false", "dev/light/lamp/command",
           "{\"state\":\"OFF\"}");
    expect(NULL, "dev", "light-lamp", "effect", "Rainbow \"x\"", "dev/light/lamp/command",
           "{\"effect\":\"Rainbow \\\"x\\\"\"}");
    expect(NULL, "dev", "fan-ceiling", "oscillation", "on", "dev/fan/ceiling/oscillation/command",
           "oscillate_on");
    expect(NULL, "dev", "fan-ceiling", "speed_level", "3", "dev/fan/ceiling/speed_level/command",
           "3");
    expect(NULL, "dev", "cover-blind", "state", "close", "dev/cover/blind/command", "CLOSE");
    expect(NULL, "dev", "cover-blind", "position", "30", "dev/cover/blind/position/command", "30");
    expect(NULL, "dev", "climate-heat", "target_temperature", "21.5",
           "dev/climate/heat/target_temperature/command", "21.5");
    expect(NULL, "dev", "climate-heat", "mode", "heat", "dev/climate/heat/mode/command", "heat");
    expect(NULL, "dev", "lock-front", "state", "unlock", "dev/lock/front/command", "UNLOCK");

    refused(NULL, "switch-relay", "state", "maybe", "not on/off/toggle");
    refused(NULL, "sensor-temperature", "state", "1", "not writable");
    refused(NULL, "switch-relay", "power", "1", "not writable");
    refused(NULL, "light-lamp", "brightness", "300", "0..255");
    refused(NULL, "light-lamp", "color", "red", "not a colour");
    refused(NULL, "cover-blind", "position", "101", "0..100");
    refused(NULL, "climate-heat", "mode", "heat cool", "not a word");
    refused(NULL, "climate-heat", "target_temperature", "warm", "not a number");
    refused(NULL, "nodash", "state", "on", "not writable");

    /* discovery gives the prefix (with '/'), number limits and select options */
    sb_esph_registry *reg = sb_esph_registry_new();
    sb_esph_result r;
    map(reg, "homeassistant/number/hall/level/config",
        "{\"name\":\"Level\",\"stat_t\":\"home/hall/number/level/state\",\"cmd_t\":"
        "\"home/hall/number/level/command\",\"min\":0,\"max\":10,\"step\":0.5}",
        &r);
    sb_esph_result_free(&r);
    map(reg, "homeassistant/select/hall/mode/config",
        "{\"name\":\"Mode\",\"cmd_t\":\"home/hall/select/mode/command\",\"ops\":[\"eco\","
        "\"comfort\"]}",
        &r);
    sb_esph_result_free(&r);
    expect(reg, "home_hall", "number-level", "state", "7.5", "home/hall/number/level/command",
           "7.5");
    char topic[300], payload[200];
    sb_errmsg em = {{0}};
    assert_int_equal(command(reg, "home_hall", "number-level", "state", "11", topic, payload, &em),
                     SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "0..10"));
    expect(reg, "home_hall", "select-mode", "state", "eco", "home/hall/select/mode/command", "eco");
    assert_int_equal(
        command(reg, "home_hall", "select-mode", "state", "turbo", topic, payload, &em),
        SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "options"));

    /* a request cannot be sent: ESPHome has no read command */
    sb_msg *m = sb_msg_new("gw1", "dev", "switch-relay", SB_MSG_REQUEST);
    sb_msg_add_payload(m, "state", "", SB_METRIC_NONE, NULL);
    assert_int_equal(sb_esph_command(reg, m, 0, topic, 300, payload, 200, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "only set"));
    sb_msg_free(m);
    sb_esph_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_sensor),
        cmocka_unit_test(test_full_keys_and_base_topic),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_light),
        cmocka_unit_test(test_fan_cover_climate),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
