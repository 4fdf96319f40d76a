/*
 * zigbee2mqtt_map_test.c - the Zigbee2MQTT mapping (gateways/zigbee2mqtt/z2m_map.h): a bridge's
 * devices and groups with their exposes, friendly names with '/' (longest match), state with
 * nested objects, availability in both forms, attribute sub-topics, bad payloads, and writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/zigbee2mqtt/z2m_map.h"
#include "msg_check.h"

static const sb_z2m_opts dflt = {.gateway_id = "gw1"};
static const sb_z2m_opts attrs = {.gateway_id = "gw1", .attribute_topics = true};

/* Shaped like Zigbee2MQTT 1.x/2.x bridge/devices (trimmed to what the mapping reads). */
static const char devices[] =
    "[{\"ieee_address\":\"0x00124b0001\",\"type\":\"Coordinator\",\"friendly_name\":"
    "\"Coordinator\",\"definition\":null},"
    "{\"ieee_address\":\"0x00124b0002\",\"type\":\"Router\",\"friendly_name\":\"kitchen\","
    "\"power_source\":\"Mains (single phase)\",\"manufacturer\":\"LUMI\",\"definition\":{"
    "\"model\":\"SP-EUC01\",\"vendor\":\"Aqara\",\"description\":\"Smart plug EU\",\"exposes\":["
    "{\"type\":\"switch\",\"features\":[{\"type\":\"binary\",\"name\":\"state\",\"property\":"
    "\"state\",\"access\":7,\"value_on\":\"ON\",\"value_off\":\"OFF\",\"value_toggle\":"
    "\"TOGGLE\"}]},{\"type\":\"numeric\",\"name\":\"power\",\"property\":\"power\",\"access\":5,"
    "\"unit\":\"W\"},{\"type\":\"numeric\",\"name\":\"energy\",\"property\":\"energy\","
    "\"access\":1,\"unit\":\"kWh\"},{\"type\":\"enum\",\"name\":\"power_outage_memory\","
    "\"property\":\"power_outage_memory\",\"access\":3,\"values\":[\"on\",\"off\",\"restore\"]},"
    "{\"type\":\"numeric\",\"name\":\"linkquality\",\"property\":\"linkquality\",\"access\":1,"
    "\"unit\":\"lqi\",\"value_min\":0,\"value_max\":255}]}},"
    "{\"ieee_address\":\"0x00158d0003\",\"type\":\"EndDevice\",\"friendly_name\":"
    "\"kitchen/climate\",\"definition\":{\"model\":\"WSDCGQ11LM\",\"vendor\":\"Aqara\","
    "\"exposes\":[{\"type\":\"numeric\",\"name\":\"temperature\",\"property\":\"temperature\","
    "\"access\":1,\"unit\":\"°C\"},{\"type\":\"numeric\",\"name\":\"humidity\",\"property\":"
    "\"humidity\",\"access\":1,\"unit\":\"%\"},{\"type\":\"binary\",\"name\":\"occupancy\","
    "\"property\":\"occupancy\",\"access\":1,\"value_on\":true,\"value_off\":false}]}},"
    "{\"ieee_address\":\"0x0017880104\",\"type\":\"Router\",\"friendly_name\":"
    "\"living room/bulb\",\"definition\":{\"model\":\"9290022166\",\"vendor\":\"Philips\","
    "\"exposes\":[{\"type\":\"light\",\"features\":[{\"type\":\"binary\",\"name\":\"state\","
    "\"property\":\"state\",\"access\":7,\"value_on\":\"ON\",\"value_off\":\"OFF\","
    "\"value_toggle\":\"TOGGLE\"},{\"type\":\"numeric\",\"name\":\"brightness\",\"property\":"
    "\"brightness\",\"access\":7,\"value_min\":0,\"value_max\":254},{\"type\":\"numeric\","
    "\"name\":\"color_temp\",\"property\":\"color_temp\",\"access\":7,\"unit\":\"mired\","
    "\"value_min\":153,\"value_max\":500},{\"type\":\"composite\",\"name\":\"color_xy\","
    "\"property\":\"color\",\"access\":7,\"features\":[{\"type\":\"numeric\",\"name\":\"x\","
    "\"property\":\"x\",\"access\":7},{\"type\":\"numeric\",\"name\":\"y\",\"property\":\"y\","
    "\"access\":7}]}]}]}}]";

static const char groups[] =
    "[{\"id\":1,\"friendly_name\":\"downstairs\",\"members\":[{\"ieee_address\":"
    "\"0x0017880104\",\"endpoint\":11},{\"ieee_address\":\"0x00ffff\",\"endpoint\":1}],"
    "\"scenes\":[]}]";

static sb_z2m_registry *reg;

static void map(const sb_z2m_opts *o, const char *topic, const char *payload, sb_z2m_result *r)
{
    assert_int_equal(sb_z2m_map(o, reg, topic, payload, strlen(payload), r), SB_OK);
    sb_errmsg em = {{0}};
    for (size_t i = 0; i < r->out.n; i++)
        if (sb_msg_validate(r->out.msgs[i], &em) != SB_OK)
            fail_msg("%s: message %zu invalid: %s", topic, i, em.text);
}

static const sb_msg *find_msg(const sb_z2m_result *r, sb_msg_type type, const char *node,
                              const char *src)
{
    for (size_t i = 0; i < r->out.n; i++)
        if (r->out.msgs[i]->type == type && strcmp(r->out.msgs[i]->node_id, node) == 0 &&
            strcmp(r->out.msgs[i]->source_id, src) == 0)
            return r->out.msgs[i];
    fail_msg("no %s message for %s/'%s'", sb_msg_type_name(type), node, src);
    return NULL;
}

static const sb_payload *find_pl(const sb_msg *m, const char *key)
{
    for (size_t i = 0; i < m->n_payloads; i++)
        if (strcmp(m->payloads[i].key, key) == 0)
            return &m->payloads[i];
    return NULL;
}

static void field(const sb_z2m_result *r, const char *node, const char *key, const char *value,
                  sb_metric_type mt, const char *unit)
{
    char what[200];
    snprintf(what, sizeof(what), "%s.%s", node, key);
    sbt_payload_check(find_pl(find_msg(r, SB_MSG_SET, node, "device"), key), what, value, mt, unit);
}

static int setup(void **state)
{
    (void)state;
    reg = sb_z2m_registry_new();
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/bridge/devices", devices, &r);
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/bridge/groups", groups, &r);
    sb_z2m_result_free(&r);
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sb_z2m_registry_free(reg);
    reg = NULL;
    return 0;
}

static void test_devices(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/bridge/devices", devices, &r);
    assert_true(r.registry_changed);
    assert_int_equal(r.out.n, 3); /* the coordinator is not a node */
    const sb_msg *m = find_msg(&r, SB_MSG_PRESENTATION, "living_room_bulb", "");
    assert_string_equal(find_pl(m, "name")->value, "living room/bulb");
    assert_string_equal(find_pl(m, "model")->value, "9290022166");
    assert_string_equal(find_pl(m, "vendor")->value, "Philips");
    assert_string_equal(find_pl(m, "ieee_address")->value, "0x0017880104");
    m = find_msg(&r, SB_MSG_PRESENTATION, "kitchen", "");
    assert_string_equal(find_pl(m, "power_source")->value, "Mains (single phase)");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/bridge/groups", groups, &r);
    m = find_msg(&r, SB_MSG_PRESENTATION, "downstairs", "");
    assert_string_equal(find_pl(m, "type")->value, "group");
    assert_string_equal(find_pl(m, "members")->value, "living room/bulb,0x00ffff");
    sb_z2m_result_free(&r);
    assert_int_equal(sb_z2m_registry_count(reg), 4);
    char name[64];
    assert_true(sb_z2m_friendly_name(reg, "kitchen_climate", name, sizeof(name)));
    assert_string_equal(name, "kitchen/climate");
}

/* "kitchen/climate" is not device "kitchen" with an attribute "climate". */
static void test_longest_name(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/kitchen/climate",
        "{\"temperature\":21.5,\"humidity\":48,\"occupancy\":false,\"battery\":97,"
        "\"linkquality\":120}",
        &r);
    assert_int_equal(r.out.n, 1);
    field(&r, "kitchen_climate", "temperature", "21.5", SB_METRIC_GAUGE_FLOAT, "°C");
    field(&r, "kitchen_climate", "humidity", "48", SB_METRIC_GAUGE_FLOAT, "%");
    field(&r, "kitchen_climate", "occupancy", "false", SB_METRIC_BINARY, NULL);
    field(&r, "kitchen_climate", "battery", "97", SB_METRIC_GAUGE_FLOAT, "%"); /* not exposed */
    const sb_payload *p = find_pl(r.out.msgs[0], "temperature");
    assert_string_equal(cJSON_GetObjectItem(p->labels, "readonly")->valuestring, "true");
    assert_null(find_pl(r.out.msgs[0], "battery")->labels);
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/kitchen", "{\"state\":\"ON\",\"power\":12.5,\"linkquality\":99}", &r);
    field(&r, "kitchen", "state", "true", SB_METRIC_BINARY, NULL);
    field(&r, "kitchen", "power", "12.5", SB_METRIC_GAUGE_FLOAT, "W");
    p = find_pl(r.out.msgs[0], "linkquality");
    assert_string_equal(cJSON_GetObjectItem(p->labels, "max")->valuestring, "255");
    sb_z2m_result_free(&r);
}

static void test_nested(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/living room/bulb",
        "{\"state\":\"OFF\",\"brightness\":200,\"color_temp\":370,\"color_mode\":\"xy\","
        "\"color\":{\"x\":0.3131,\"y\":0.3232},\"update\":{\"state\":\"idle\","
        "\"installed_version\":16777216},\"scenes\":[1,2]}",
        &r);
    field(&r, "living_room_bulb", "state", "false", SB_METRIC_BINARY, NULL);
    field(&r, "living_room_bulb", "brightness", "200", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "living_room_bulb", "color_temp", "370", SB_METRIC_GAUGE_FLOAT, "mired");
    field(&r, "living_room_bulb", "color_mode", "xy", SB_METRIC_STRING, NULL);
    field(&r, "living_room_bulb", "color_x", "0.3131", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "living_room_bulb", "color_y", "0.3232", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "living_room_bulb", "update_state", "idle", SB_METRIC_STRING, NULL);
    field(&r, "living_room_bulb", "update_installed_version", "16777216", SB_METRIC_GAUGE_FLOAT,
          NULL);
    field(&r, "living_room_bulb", "scenes", "[1,2]", SB_METRIC_STRING, NULL);
    assert_int_equal(r.out.skipped, 0);
    sb_z2m_result_free(&r);
}

static void test_availability(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/kitchen/climate/availability", "{\"state\":\"offline\"}", &r);
    assert_int_equal(r.out.n, 2);
    assert_string_equal(find_pl(find_msg(&r, SB_MSG_SET, "kitchen_climate", ""), "online")->value,
                        "false");
    assert_string_equal(
        find_pl(find_msg(&r, SB_MSG_ACTION, "kitchen_climate", ""), "node_state")->value, "down");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/kitchen/availability", "online", &r); /* the legacy plain form */
    assert_string_equal(find_pl(find_msg(&r, SB_MSG_ACTION, "kitchen", ""), "node_state")->value,
                        "up");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/kitchen/availability", "{\"state\":\"maybe\"}", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.n_notes, 1);
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/bridge/state", "{\"state\":\"online\"}", &r);
    assert_string_equal(find_pl(find_msg(&r, SB_MSG_ACTION, "_bridge", ""), "node_state")->value,
                        "up");
    sb_z2m_result_free(&r);
}

/* bridge/devices (and a retained state) must not make an offline device look up. */
static void test_keep_offline(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/kitchen/climate/availability", "online", &r);
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/living room/bulb/availability", "offline", &r);
    sb_z2m_result_free(&r);
    assert_int_equal(sb_z2m_availability(reg, "living_room_bulb"), 0);
    assert_int_equal(sb_z2m_availability(reg, "nowhere"), -1);
    map(&dflt, "zigbee2mqtt/bridge/devices", devices, &r);
    assert_int_equal(r.out.n, 4); /* three presentations and one node_state */
    const sb_msg *a = r.out.msgs[3];
    assert_int_equal(a->type, SB_MSG_ACTION);
    assert_string_equal(a->node_id, "living_room_bulb");
    assert_string_equal(a->payloads[0].value, "down");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/living room/bulb", "{\"state\":\"ON\"}", &r);
    assert_int_equal(r.out.n, 1); /* live state: the bridge says online when it is */
    assert_int_equal(sb_z2m_keep_offline(&dflt, reg, true, &r), SB_OK); /* as if retained */
    assert_int_equal(r.out.n, 2);
    assert_string_equal(r.out.msgs[1]->payloads[0].value, "down");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/living room/bulb/availability", "{\"state\":\"online\"}", &r);
    assert_int_equal(sb_z2m_keep_offline(&dflt, reg, true, &r), SB_OK);
    assert_int_equal(r.out.n, 2); /* its own set and action only */
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/bridge/devices", devices, &r);
    assert_int_equal(r.out.n, 3);
    sb_z2m_result_free(&r);
}

static void test_bad_payloads(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/kitchen/climate", "{\"temperature\":21.5,", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.n_notes, 1);
    assert_non_null(strstr(r.out.notes[0], "not JSON"));
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/kitchen/climate", "[1,2]", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_z2m_result_free(&r);
    /* the good parts of a message are used */
    map(&dflt, "zigbee2mqtt/kitchen/climate",
        "{\"temperature\":null,\"humidity\":51,\"occupancy\":\"maybe\",\"\":1}", &r);
    assert_int_equal(r.out.n, 1);
    assert_int_equal(r.out.msgs[0]->n_payloads, 1);
    field(&r, "kitchen_climate", "humidity", "51", SB_METRIC_GAUGE_FLOAT, "%");
    assert_int_equal(r.out.skipped, 3);
    sb_z2m_result_free(&r);
    map(&dflt, "other/kitchen", "{}", &r);
    assert_int_equal(r.out.n, 0);
    assert_int_equal(r.out.skipped, 1);
    sb_z2m_result_free(&r);
}

static void test_unknown_and_ignored(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&dflt, "zigbee2mqtt/garage/door", "{\"contact\":true}", &r);
    field(&r, "garage_door", "contact", "true", SB_METRIC_BINARY, NULL);
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/garage/door/availability", "offline", &r);
    find_msg(&r, SB_MSG_ACTION, "garage_door", "");
    sb_z2m_result_free(&r);
    char name[64];
    assert_true(sb_z2m_friendly_name(reg, "garage_door", name, sizeof(name)));
    /* longer than a known name ("kitchen"): a new device, not an attribute of kitchen */
    map(&attrs, "zigbee2mqtt/kitchen/pantry", "{\"temperature\":12}", &r);
    field(&r, "kitchen_pantry", "temperature", "12", SB_METRIC_GAUGE_FLOAT, "°C");
    sb_z2m_result_free(&r);
    map(&dflt, "zigbee2mqtt/kitchen/pantry2/availability", "online", &r);
    find_msg(&r, SB_MSG_ACTION, "kitchen_pantry2", "");
    sb_z2m_result_free(&r);
    assert_true(sb_z2m_friendly_name(reg, "kitchen_pantry2", name, sizeof(name)));
    assert_string_equal(name, "kitchen/pantry2");
    const char *ignored[][2] = {{"zigbee2mqtt/kitchen/set", "{\"state\":\"ON\"}"},
                                {"zigbee2mqtt/new/thing/set/state", "ON"},
                                {"zigbee2mqtt/bridge/logging", "{\"level\":\"info\"}"},
                                {"zigbee2mqtt/bridge/response/device/rename", "{}"},
                                {"zigbee2mqtt/kitchen/power", "12"}};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        map(&dflt, ignored[i][0], ignored[i][1], &r);
        assert_true(r.ignored);
        assert_int_equal(r.out.n, 0);
        assert_int_equal(r.out.skipped, 0);
        sb_z2m_result_free(&r);
    }
}

static void test_attribute_topics(void **state)
{
    (void)state;
    sb_z2m_result r;
    map(&attrs, "zigbee2mqtt/living room/bulb/brightness", "200", &r);
    field(&r, "living_room_bulb", "brightness", "200", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_z2m_result_free(&r);
    map(&attrs, "zigbee2mqtt/living room/bulb/color-x", "0.25", &r);
    field(&r, "living_room_bulb", "color_x", "0.25", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_z2m_result_free(&r);
    map(&attrs, "zigbee2mqtt/living room/bulb/state", "ON", &r);
    field(&r, "living_room_bulb", "state", "true", SB_METRIC_BINARY, NULL);
    sb_z2m_result_free(&r);
    map(&attrs, "zigbee2mqtt/kitchen/climate/occupancy", "true", &r);
    field(&r, "kitchen_climate", "occupancy", "true", SB_METRIC_BINARY, NULL);
    sb_z2m_result_free(&r);
    map(&attrs, "zigbee2mqtt/attic/sensor/temperature", "19.5", &r); /* name not known */
    field(&r, "attic_sensor", "temperature", "19.5", SB_METRIC_GAUGE_FLOAT, "°C");
    sb_z2m_result_free(&r);
}

/* Builds the command for one set/request of node.device with key=value pairs. */
static sb_err command(sb_msg_type type, const char *node, const char *const *kv, size_t n,
                      sb_z2m_command *out, sb_errmsg *em)
{
    sb_msg *m = sb_msg_new("gw1", node, "device", type);
    for (size_t i = 0; i < n; i++)
        sb_msg_add_payload(m, kv[2 * i], kv[2 * i + 1], SB_METRIC_NONE, NULL);
    sb_err rc = sb_z2m_command_build(&dflt, reg, m, out, em);
    sb_msg_free(m);
    return rc;
}

static void expect_cmd(sb_msg_type type, const char *node, const char *const *kv, size_t n,
                       const char *topic, const char *payload)
{
    sb_z2m_command c;
    sb_errmsg em = {{0}};
    if (command(type, node, kv, n, &c, &em) != SB_OK)
        fail_msg("%s: %s", node, em.text);
    assert_string_equal(c.topic, topic);
    assert_string_equal(c.payload, payload);
    free(c.payload);
}

static void expect_refused(sb_msg_type type, const char *node, const char *const *kv,
                           const char *why)
{
    sb_z2m_command c;
    sb_errmsg em = {{0}};
    assert_int_equal(command(type, node, kv, 1, &c, &em), SB_ERR_INVALID);
    if (!strstr(em.text, why))
        fail_msg("'%s' does not say '%s'", em.text, why);
}

static void test_commands(void **state)
{
    (void)state;
    expect_cmd(SB_MSG_SET, "kitchen", (const char *[]){"state", "on"}, 1, "zigbee2mqtt/kitchen/set",
               "{\"state\":\"ON\"}");
    expect_cmd(SB_MSG_SET, "kitchen", (const char *[]){"state", "toggle"}, 1,
               "zigbee2mqtt/kitchen/set", "{\"state\":\"TOGGLE\"}");
    expect_cmd(SB_MSG_SET, "kitchen", (const char *[]){"power_outage_memory", "restore"}, 1,
               "zigbee2mqtt/kitchen/set", "{\"power_outage_memory\":\"restore\"}");
    expect_cmd(
        SB_MSG_SET, "living_room_bulb",
        (const char *[]){"state", "true", "brightness", "128", "color_x", "0.3", "color_y", "0.4"},
        4, "zigbee2mqtt/living room/bulb/set",
        "{\"state\":\"ON\",\"brightness\":128,\"color\":{\"x\":0.3,\"y\":0.4}}");
    expect_cmd(SB_MSG_SET, "living_room_bulb", (const char *[]){"color", "#ff8000"}, 1,
               "zigbee2mqtt/living room/bulb/set", "{\"color\":{\"hex\":\"#ff8000\"}}");
    expect_cmd(SB_MSG_SET, "downstairs", (const char *[]){"brightness", "10"}, 1,
               "zigbee2mqtt/downstairs/set", "{\"brightness\":10}");
    expect_cmd(SB_MSG_REQUEST, "living_room_bulb",
               (const char *[]){"brightness", "", "color_x", ""}, 2,
               "zigbee2mqtt/living room/bulb/get", "{\"brightness\":\"\",\"color\":\"\"}");
    expect_refused(SB_MSG_SET, "living_room_bulb", (const char *[]){"brightness", "300"},
                   "outside 0..254");
    expect_refused(SB_MSG_SET, "living_room_bulb", (const char *[]){"brightness", "a lot"},
                   "not a number");
    expect_refused(SB_MSG_SET, "kitchen_climate", (const char *[]){"temperature", "20"},
                   "read-only");
    expect_refused(SB_MSG_REQUEST, "kitchen", (const char *[]){"energy", ""}, "cannot be read");
    expect_refused(SB_MSG_SET, "kitchen", (const char *[]){"state", "maybe"}, "not on/off");
    expect_refused(SB_MSG_SET, "kitchen", (const char *[]){"power_outage_memory", "x"},
                   "not one of");
    expect_refused(SB_MSG_SET, "nowhere", (const char *[]){"state", "on"}, "not a known device");
    expect_refused(SB_MSG_SET, "living_room_bulb", (const char *[]){"color", "red"},
                   "not a colour");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),          cmocka_unit_test(test_longest_name),
        cmocka_unit_test(test_nested),           cmocka_unit_test(test_availability),
        cmocka_unit_test(test_bad_payloads),     cmocka_unit_test(test_unknown_and_ignored),
        cmocka_unit_test(test_attribute_topics), cmocka_unit_test(test_commands),
        cmocka_unit_test(test_keep_offline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
