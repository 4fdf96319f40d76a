/*
 * pipeline_tasmota_test - Tasmota devices end to end:
 *
 *   devsim --transport tasmota (child process) --MQTT--> gateway service (thread, tasmota
 *   provider) --<p>/msg/in stream--> processor (thread) --> sqlite store + real influxd
 *
 * Real mosquitto and influxd from the harness. devsim's sensor, 2-relay plug and light become
 * fields with the right value, metric type and unit (and InfluxDB points); the Online LWT makes
 * the provider ask "Status 0", whose answer names the node and fills its others; a set on
 * <p>/msg/out switches a simulated relay and the dimmer, and the new state comes back from
 * stat/RESULT; the Offline LWT at devsim's end turns the node's "online" field false.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"
#include "services/gateway/gateway.h"
#include "services/processor/processor.h"
#include "storage/metrics.h"
#include "storage/store.h"

static void check_values(void)
{
    check_number_field("gwt.sensor1.BME280.Temperature", "gauge_float", "°C", 21.0, 21.95);
    check_number_field("gwt.sensor1.BME280.Humidity", "gauge_float", "%", 45.0, 45.95);
    check_number_field("gwt.sensor1.BME280.Pressure", "gauge_float", "hPa", 1013.0, 1013.95);
    check_number_field("gwt.sensor1.DS18B20.Temperature", "gauge_float", "°C", 19.0, 19.95);
    check_number_field("gwt.plug1.ENERGY.Total", "gauge_float", "kWh", 12.5, 13);
    check_number_field("gwt.plug1.ENERGY.Voltage", "gauge_float", "V", 230, 230);
    check_number_field("gwt.plug1._node.rssi", "gauge", "%", 70, 79);
    check_number_field("gwt.plug1._node.signal", "gauge", "dBm", -65, -56);
    check_number_field("gwt.light1.light.Dimmer", "gauge", "%", 50, 50);
    check_number_field("gwt.light1.light.CT", "gauge", "mired", 250, 250);
    cJSON *d = wait_doc("field", "gwt.light1.light.Color", true, 5000);
    assert_string_equal(sb_json_str(d, "metricType", ""), "string");
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(d, "current"), "value", ""), "FF8000");
    cJSON_Delete(d);
    wait_field_bool("gwt.plug1.POWER1.power", false);
    wait_field_bool("gwt.plug1._node.online", true);
}

/* Status 0 was asked for when the LWT said Online; its answer names the node. */
static void check_node_info(const sbt_devsim *s)
{
    sbt_devsim_wait_record(s, "cmnd/plug1/STATUS 0");
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *n = wait_doc("node", "gwt.plug1", false, 5000);
        bool ok =
            strcmp(sb_json_str(n, "name", ""), "devsim plug1") == 0 &&
            strcmp(sb_json_str(cJSON_GetObjectItem(n, "others"), "version", ""),
                   "13.3.0(tasmota)") == 0 &&
            strcmp(sb_json_str(cJSON_GetObjectItem(n, "others"), "ip", ""), "192.0.2.11") == 0;
        cJSON_Delete(n);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("node gwt.plug1 did not get its name, version and ip");
        sb_time_sleep_ms(50);
    }
}

static void test_tasmota(void **state)
{
    (void)state;
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwt\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"tasmota\",\"url\":\"%s\"}}",
             sbt_pl.broker->url);
    put_gateway(doc);
    sb_time_sleep_ms(500); /* the provider subscribes before devsim's first tele */
    sbt_devsim s = {0};
    sbt_devsim_start(&s, "tasmota", "3", "300ms");
    check_values();
    check_node_info(&s);

    /* writes: a relay and the dimmer; the new state comes back from stat/RESULT */
    send_set("gwt", "plug1", "POWER2", "power", "on");
    sbt_devsim_wait_record(&s, "cmnd/plug1/POWER2 ON");
    wait_field_bool("gwt.plug1.POWER2.power", true);
    wait_field_bool("gwt.plug1.POWER1.power", false);
    /* a node action (POST /api/action node:gwt.plug1 reboot) is Tasmota's Restart */
    send_out("gwt", "action", "plug1", "", "reboot", "");
    sbt_devsim_wait_record(&s, "cmnd/plug1/Restart 1");
    send_set("gwt", "light1", "light", "Dimmer", "80");
    sbt_devsim_wait_record(&s, "cmnd/light1/Dimmer 80");
    wait_number("gwt.light1.light.Dimmer", 80);

    check_influx("gwt", "sensor1.BME280.Temperature");
    check_influx("gwt", "plug1.ENERGY.Power");

    /* devsim ends: every device's LWT turns Offline */
    sb_proc_stop(&s.proc, SIGTERM, 3000);
    wait_field_bool("gwt.plug1._node.online", false);
    wait_field_bool("gwt.sensor1._node.online", false);
    wait_node_state("gwt.plug1", "down");
    wait_node_state("gwt.sensor1", "down");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasmota),
    };
    return cmocka_run_group_tests(tests, sbt_pipeline_setup, sbt_pipeline_teardown);
}
