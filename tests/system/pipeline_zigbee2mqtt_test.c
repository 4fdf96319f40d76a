/*
 * pipeline_zigbee2mqtt_test - Zigbee2MQTT devices end to end:
 *
 *   devsim --transport zigbee2mqtt (child process) --MQTT--> gateway service (thread,
 *   zigbee2mqtt provider) --<p>/msg/in stream--> processor (thread) --> sqlite store + influxd
 *
 * Real mosquitto and influxd from the harness. The simulated bridge's devices ("kitchen" plug,
 * "kitchen/climate" sensor, "living room/bulb") become nodes named from bridge/devices, their
 * state fields with the unit and type of their exposes (and InfluxDB points); a set on
 * <p>/msg/out reaches the device as <name>/set in its own form and the new state comes back; a
 * request becomes <name>/get; a group's set reaches its member bulb; malformed publishes are
 * logged and dropped while the good ones still arrive; with attribute output, a second gateway
 * with attributeTopics maps the <name>/<attribute> topics the first ignores; availability
 * offline at devsim's end turns the nodes down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"
#include "storage/store.h"

static void check_values(void)
{
    check_number_field("gwz.kitchen_climate.device.temperature", "gauge_float", "°C", 21.0, 21.95);
    check_number_field("gwz.kitchen_climate.device.humidity", "gauge_float", "%", 45.0, 45.95);
    check_number_field("gwz.kitchen_climate.device.pressure", "gauge_float", "hPa", 1013, 1013.95);
    check_number_field("gwz.kitchen_climate.device.voltage", "gauge_float", "mV", 2985, 2985);
    check_number_field("gwz.kitchen.device.voltage", "gauge_float", "V", 230, 230);
    check_number_field("gwz.kitchen.device.power", "gauge_float", "W", 0, 0);
    check_number_field("gwz.kitchen.device.linkquality", "gauge_float", "lqi", 100, 150);
    check_number_field("gwz.living_room_bulb.device.brightness", "gauge_float", "", 128, 128);
    check_number_field("gwz.living_room_bulb.device.color_temp", "gauge_float", "mired", 370, 370);
    check_number_field("gwz.living_room_bulb.device.color_x", "gauge_float", "", 0.4573, 0.4573);
    wait_field_bool("gwz.kitchen.device.state", false);
    wait_field_bool("gwz.living_room_bulb.device.state", true);
    wait_field_bool("gwz.kitchen._node.online", true);
    cJSON *d = wait_doc("field", "gwz.living_room_bulb.device.update_state", true, 5000);
    assert_string_equal(sb_json_str(d, "metricType", ""), "string");
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(d, "current"), "value", ""), "idle");
    cJSON_Delete(d);
    /* the exposes' access: a sensor reading is read-only, the brightness is not */
    d = wait_doc("field", "gwz.kitchen_climate.device.temperature", true, 5000);
    assert_string_equal(sb_json_str(sb_json_path(d, "labels"), "readonly", ""), "true");
    cJSON_Delete(d);
    d = wait_doc("field", "gwz.living_room_bulb.device.brightness", true, 5000);
    assert_string_equal(sb_json_str(sb_json_path(d, "labels"), "readonly", ""), "false");
    assert_string_equal(sb_json_str(sb_json_path(d, "labels"), "max", ""), "254");
    cJSON_Delete(d);
}

/* Waits until node id's others.key (or name when key is NULL) is want. */
static void wait_node_info(const char *id, const char *key, const char *want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *n = wait_doc("node", id, false, 5000);
        const char *v = key ? sb_json_str(cJSON_GetObjectItem(n, "others"), key, "")
                            : sb_json_str(n, "name", "");
        bool ok = strcmp(v, want) == 0;
        cJSON_Delete(n);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("node %s: %s is not '%s'", id, key ? key : "name", want);
        sb_time_sleep_ms(50);
    }
}

static void check_node_info(void)
{
    wait_node_info("gwz.living_room_bulb", NULL, "living room/bulb");
    wait_node_info("gwz.living_room_bulb", "model", "9290022166");
    wait_node_info("gwz.living_room_bulb", "vendor", "Philips");
    wait_node_info("gwz.kitchen_climate", "power_source", "Battery");
    wait_node_info("gwz.downstairs", "type", "group");
    wait_node_info("gwz.downstairs", "members", "living room/bulb");
    wait_node_info("gwz._bridge", "version", "1.42.0");
    wait_node_state("gwz.kitchen", "up");
}

/* Publishes straight to the devices' broker, as a faulty device would. */
static void publish_raw(const char *topic, const char *payload)
{
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, payload, strlen(payload), 1, false), SB_OK);
}

static double gateway_stat(const char *gw, const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "stats.gateways.%s.provider.%s", gw, name);
    return sbt_pipeline_status_num(path);
}

static double provider_stat(const char *name)
{
    return gateway_stat("gwz", name);
}

/* Waits until the gateway service reports gateway gw's provider (it runs). */
static void wait_running(const char *gw)
{
    int64_t end = sb_time_mono_ms() + 10000;
    while (gateway_stat(gw, "publishesIn") < 0) {
        if (sb_time_mono_ms() > end)
            fail_msg("gateway %s did not start", gw);
        sb_time_sleep_ms(20);
    }
}

/* A payload that is not JSON is dropped and counted; from one with bad values the good ones
 * are used. */
static void check_malformed(void)
{
    publish_raw("zigbee2mqtt/garage/door", "{\"contact\":tru");
    publish_raw("zigbee2mqtt/garage/door",
                "{\"contact\":true,\"battery\":null,\"\":1,\"linkquality\":77}");
    check_number_field("gwz.garage_door.device.linkquality", "gauge_float", "lqi", 77, 77);
    wait_field_bool("gwz.garage_door.device.contact", true);
    cJSON *d = NULL;
    assert_int_equal(
        sb_store_get(sbt_pl.store, "field", "gwz.garage_door.device.battery", &d, NULL),
        SB_ERR_NOTFOUND);
    int64_t end = sb_time_mono_ms() + 5000;
    while (provider_stat("malformed") < 1 || provider_stat("skipped") < 3) {
        if (sb_time_mono_ms() > end)
            fail_msg("malformed %g, skipped %g: expected at least 1 and 3",
                     provider_stat("malformed"), provider_stat("skipped"));
        sb_time_sleep_ms(50);
    }
}

/* With attribute output on, gwz (attributeTopics off) ignores <name>/<attribute>; gwa maps
 * it, nested ones ("update-state") included. */
static void check_attributes(void)
{
    publish_raw("zigbee2mqtt/kitchen/climate/co2", "415");
    check_number_field("gwa.kitchen_climate.device.co2", "gauge_float", "ppm", 415, 415);
    cJSON *d = wait_doc("field", "gwa.living_room_bulb.device.update_state", true, 5000);
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(d, "current"), "value", ""), "idle");
    cJSON_Delete(d);
    check_number_field("gwa.kitchen_climate.device.temperature", "gauge_float", "°C", 21, 21.95);
    d = NULL;
    assert_int_equal(
        sb_store_get(sbt_pl.store, "field", "gwz.kitchen_climate.device.co2", &d, NULL),
        SB_ERR_NOTFOUND);
}

/* Whether the file at path has a line containing text. */
static bool file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void test_zigbee2mqtt(void **state)
{
    (void)state;
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwz\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"messageLogger\":{\"type\":\"file\",\"path\":\"%s/gwz.log\"},"
             "\"provider\":{\"type\":\"zigbee2mqtt\",\"url\":\"%s\"}}",
             sbt_pl.tmp, sbt_pl.broker->url);
    put_gateway(doc);
    /* the service subscribes to gateway events while it starts: the second one waits for it */
    wait_running("gwz");
    /* a second gateway on the same bridge reads the attribute topics too (at QoS 1) */
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwa\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"zigbee2mqtt\",\"url\":\"%s\",\"qos\":1,"
             "\"attributeTopics\":true}}",
             sbt_pl.broker->url);
    put_gateway(doc);
    wait_running("gwa");
    sb_time_sleep_ms(500); /* the providers subscribe before devsim's first state */
    sbt_devsim s = {0};
    const char *const attrs[] = {"--attrs", NULL};
    sbt_devsim_start_with(&s, "zigbee2mqtt", NULL, "300ms", attrs);
    check_values();
    check_node_info();

    /* writes in the device's own form; the new state comes back */
    send_set("gwz", "kitchen", "device", "state", "on");
    sbt_devsim_wait_record(&s, "zigbee2mqtt/kitchen/set {\"state\":\"ON\"}");
    wait_field_bool("gwz.kitchen.device.state", true);
    send_set("gwz", "living_room_bulb", "device", "brightness", "200");
    sbt_devsim_wait_record(&s, "zigbee2mqtt/living room/bulb/set {\"brightness\":200}");
    wait_number("gwz.living_room_bulb.device.brightness", 200);
    send_set("gwz", "living_room_bulb", "device", "color", "#0000ff");
    sbt_devsim_wait_record(&s,
                           "zigbee2mqtt/living room/bulb/set {\"color\":{\"hex\":\"#0000ff\"}}");
    wait_number("gwz.living_room_bulb.device.color_x", 0.15);
    send_out("gwz", "request", "living_room_bulb", "device", "brightness", "");
    sbt_devsim_wait_record(&s, "zigbee2mqtt/living room/bulb/get {\"brightness\":\"\"}");
    /* a group's set reaches its members */
    send_set("gwz", "downstairs", "device", "brightness", "50");
    sbt_devsim_wait_record(&s, "zigbee2mqtt/downstairs/set {\"brightness\":50}");
    wait_number("gwz.living_room_bulb.device.brightness", 50);
    wait_number("gwz.downstairs.device.brightness", 50);
    /* a read-only field is refused by the provider, never sent */
    send_set("gwz", "kitchen_climate", "device", "temperature", "30");

    check_malformed();
    check_attributes();
    check_influx("gwz", "kitchen_climate.device.temperature");
    check_influx("gwz", "kitchen.device.power");

    /* devsim ends: every device's availability turns offline, and the bridge's state */
    sb_proc_stop(&s.proc, SIGTERM, 3000);
    wait_field_bool("gwz.kitchen._node.online", false);
    wait_node_state("gwz.kitchen", "down");
    wait_node_state("gwz.kitchen_climate", "down");
    wait_node_state("gwz._bridge", "down");
    /* a later bridge/devices names the offline plug again: it stays down */
    publish_raw("zigbee2mqtt/bridge/devices",
                "[{\"ieee_address\":\"0x00158d0002c4a7e1\",\"type\":\"Router\","
                "\"friendly_name\":\"kitchen\",\"definition\":{\"model\":\"SP-EUC01-B\","
                "\"vendor\":\"Aqara\",\"exposes\":[]}}]");
    wait_node_info("gwz.kitchen", "model", "SP-EUC01-B");
    sb_time_sleep_ms(300);
    wait_node_state("gwz.kitchen", "down");
    assert_int_equal(sbt_file_count(s.record, "zigbee2mqtt/kitchen/climate/set"), 0);
    assert_true(provider_stat("commandsOut") >= 5);
    /* the message logger has the publishes both ways, and not the ignored ones */
    char log[600];
    snprintf(log, sizeof(log), "%s/gwz.log", sbt_pl.tmp);
    assert_true(file_has(log, " out zigbee2mqtt/kitchen/set {\"state\":\"ON\"}"));
    assert_true(file_has(log, " in  zigbee2mqtt/kitchen/climate {\"temperature\":"));
    assert_false(file_has(log, "zigbee2mqtt/kitchen/climate/temperature "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigbee2mqtt),
    };
    return cmocka_run_group_tests(tests, sbt_pipeline_setup, sbt_pipeline_teardown);
}
