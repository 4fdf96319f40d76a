/*
 * pipeline_esphome_test - ESPHome devices end to end:
 *
 *   devsim --transport esphome (child process) --MQTT--> gateway service (thread, esphome
 *   provider) --<p>/msg/in stream--> processor (thread) --> sqlite store + real influxd
 *
 * Real mosquitto and influxd from the harness. devsim's sensor node, plug and light publish
 * discovery configs, states and their status like ESPHome: their states become fields with the
 * right value, metric type and the unit discovery gave (°C, °F, W, kWh ...) and InfluxDB points;
 * discovery names the nodes and sources; a sensor without a reading ("nan") makes no field; a
 * set on <p>/msg/out switches the relay and dims and colours the light, and the device's new
 * state comes back; malformed states are dropped while the good parts still arrive; the status
 * "offline" at devsim's end turns the nodes down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"
#include "storage/store.h"

static void check_string(const char *id, const char *want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *d = wait_doc("field", id, true, 10000);
        assert_string_equal(sb_json_str(d, "metricType", ""), "string");
        bool ok = strcmp(sb_json_str(cJSON_GetObjectItem(d, "current"), "value", ""), want) == 0;
        cJSON_Delete(d);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("field %s did not become '%s'", id, want);
        sb_time_sleep_ms(20);
    }
}

static void check_values(void)
{
    check_number_field("gwe.esp-sensor1.sensor-temperature.state", "gauge_float", "°C", 21.0,
                       21.95);
    check_number_field("gwe.esp-sensor1.sensor-humidity.state", "gauge_float", "%", 45.0, 45.95);
    check_number_field("gwe.esp-sensor1.sensor-outdoor_temperature.state", "gauge_float", "°F",
                       50.0, 50.95);
    check_string("gwe.esp-sensor1.sensor-wifi_ssid.state", "devsim-net");
    cJSON *d = wait_doc("field", "gwe.esp-sensor1.binary_sensor-motion.state", true, 5000);
    assert_string_equal(sb_json_str(d, "metricType", ""), "binary");
    cJSON_Delete(d);
    check_number_field("gwe.esp-plug1.sensor-energy.state", "gauge_float", "kWh", 1.234, 2);
    check_number_field("gwe.esp-plug1.sensor-voltage.state", "gauge_float", "V", 230.1, 230.1);
    check_number_field("gwe.esp-plug1.sensor-power.state", "gauge_float", "W", 0, 0);
    wait_field_bool("gwe.esp-plug1.switch-relay.state", false);
    wait_field_bool("gwe.esp-light1.light-lamp.state", true);
    check_number_field("gwe.esp-light1.light-lamp.brightness", "gauge", "", 128, 128);
    check_string("gwe.esp-light1.light-lamp.color", "FF8000");
    wait_field_bool("gwe.esp-plug1._node.online", true);
    wait_node_state("gwe.esp-plug1", "up");
}

/* Discovery names the node (device name, version, model) and the source (entity name). */
static void check_names(void)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *n = wait_doc("node", "gwe.esp-plug1", false, 5000);
        cJSON *s = wait_doc("source", "gwe.esp-plug1.switch-relay", false, 5000);
        const cJSON *others = cJSON_GetObjectItem(n, "others");
        bool ok = strcmp(sb_json_str(n, "name", ""), "devsim esp-plug1") == 0 &&
                  strcmp(sb_json_str(others, "version", ""), "2024.10.2 (devsim)") == 0 &&
                  strcmp(sb_json_str(others, "model", ""), "esp32dev") == 0 &&
                  strcmp(sb_json_str(s, "name", ""), "Relay") == 0 &&
                  strcmp(sb_json_str(cJSON_GetObjectItem(s, "others"), "type", ""), "switch") == 0;
        cJSON_Delete(n);
        cJSON_Delete(s);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("node gwe.esp-plug1 / source switch-relay did not get their names");
        sb_time_sleep_ms(50);
    }
}

static void publish_device(const char *topic, const char *payload)
{
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, payload, strlen(payload), 1, false), SB_OK);
}

/* Malformed states are logged and dropped; the good parts of the same message still arrive. */
static void check_malformed(void)
{
    double skipped = sbt_pipeline_status_num("stats.gateways.gwe.provider.skipped");
    publish_device("esp-light1/light/lamp/state", "{\"state\":");
    publish_device("esp-sensor1/sensor/humidity/state", "wet");
    publish_device("esp-light1/light/lamp/state",
                   "{\"state\":\"ON\",\"brightness\":\"high\",\"effect\":\"Rainbow\"}");
    check_string("gwe.esp-light1.light-lamp.effect", "Rainbow");
    wait_number("gwe.esp-light1.light-lamp.brightness", 200); /* not "high" */
    cJSON *d = wait_doc("field", "gwe.esp-sensor1.sensor-humidity.state", true, 1000);
    assert_true(cJSON_IsNumber(sb_json_path(d, "current.value")));
    cJSON_Delete(d);
    int64_t end = sb_time_mono_ms() + 5000;
    while (sbt_pipeline_status_num("stats.gateways.gwe.provider.skipped") < skipped + 3) {
        if (sb_time_mono_ms() > end)
            fail_msg("the provider did not count the malformed states as skipped");
        sb_time_sleep_ms(50);
    }
    /* "nan" (co2 has no reading) never became a field */
    cJSON *co2 = NULL;
    assert_int_not_equal(
        sb_store_get(sbt_pl.store, "field", "gwe.esp-sensor1.sensor-co2.state", &co2, NULL), SB_OK);
}

static void test_esphome(void **state)
{
    (void)state;
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwe\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"esphome\",\"url\":\"%s\"}}",
             sbt_pl.broker->url);
    put_gateway(doc);
    sb_time_sleep_ms(500); /* the provider subscribes before devsim's discovery configs */
    sbt_devsim s = {0};
    sbt_devsim_start(&s, "esphome", "3", "300ms");
    check_values();
    check_names();

    /* writes: the relay and the light; the new state comes back from the device */
    send_set("gwe", "esp-plug1", "switch-relay", "state", "on");
    sbt_devsim_wait_record(&s, "esp-plug1/switch/relay/command ON");
    wait_field_bool("gwe.esp-plug1.switch-relay.state", true);
    wait_number("gwe.esp-plug1.sensor-power.state", 60);
    send_set("gwe", "esp-light1", "light-lamp", "brightness", "200");
    sbt_devsim_wait_record(&s,
                           "esp-light1/light/lamp/command {\"state\":\"ON\",\"brightness\":200}");
    wait_number("gwe.esp-light1.light-lamp.brightness", 200);
    send_set("gwe", "esp-light1", "light-lamp", "color", "00FF80");
    check_string("gwe.esp-light1.light-lamp.color", "00FF80");

    check_influx("gwe", "esp-sensor1.sensor-temperature.state");
    check_influx("gwe", "esp-plug1.sensor-power.state");

    check_malformed();

    /* devsim ends: every device's status turns offline */
    sb_proc_stop(&s.proc, SIGTERM, 3000);
    wait_field_bool("gwe.esp-plug1._node.online", false);
    wait_node_state("gwe.esp-plug1", "down");
    wait_node_state("gwe.esp-sensor1", "down");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esphome),
    };
    return cmocka_run_group_tests(tests, sbt_pipeline_setup, sbt_pipeline_teardown);
}
