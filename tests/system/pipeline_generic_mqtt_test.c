/*
 * pipeline_generic_mqtt_test - devices that publish their own JSON, end to end:
 *
 *   JSON publishes (this test, playing the devices) --MQTT--> gateway service (thread,
 *   generic_mqtt provider with configured mappings) --<p>/msg/in stream--> processor (thread)
 *   --> sqlite store + real influxd
 *
 * Real mosquitto and influxd from the harness. Values found by the mappings' JSON paths (and a
 * plain non-JSON payload) become fields with the configured metric type and unit and InfluxDB
 * points; a set on <p>/msg/out is rendered through the write templates and reaches the
 * simulated relay, whose new state comes back; malformed payloads are skipped while the good
 * values of the same message arrive; a mapping list with a bad key puts the gateway in state
 * error naming the mapping and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"
#include "storage/store.h"

static const char mappings[] =
    "[{\"name\":\"env\",\"topic\":\"home/{node}/{source}\","
    "\"fields\":[{\"path\":\"temperature\",\"metricType\":\"gauge_float\",\"unit\":\"°C\"},"
    "{\"path\":\"humidity\",\"metricType\":\"gauge_float\",\"unit\":\"%\"},"
    "{\"path\":\"battery.level\",\"field\":\"battery\",\"metricType\":\"gauge\",\"unit\":\"%\"}]},"
    "{\"name\":\"relay\",\"topic\":\"relays/{node}/state\",\"source\":\"relay\","
    "\"fields\":[{\"path\":\"on\",\"field\":\"power\",\"metricType\":\"binary\"},"
    "{\"path\":\"watts\",\"metricType\":\"gauge_float\",\"unit\":\"W\"}],"
    "\"write\":{\"topic\":\"relays/{{node}}/set\",\"payload\":\"{\\\"on\\\":{{value}}}\"}},"
    "{\"name\":\"plain\",\"topic\":\"plain/{node}/temperature\",\"source\":\"t\","
    "\"fields\":[{\"path\":\"\",\"field\":\"value\",\"metricType\":\"gauge_float\","
    "\"unit\":\"°F\"}]}]";

static void publish(const char *topic, const char *payload)
{
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, payload, strlen(payload), 1, false), SB_OK);
}

/* The simulated relay: obeys relays/<node>/set {"on":true|false} and publishes its state. */
static int relay_sets;

static void on_relay_set(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(bm->payload, bm->len, &j, NULL) != SB_OK)
        return;
    bool on = cJSON_IsTrue(cJSON_GetObjectItem(j, "on"));
    cJSON_Delete(j);
    char node[64], topic[128];
    if (sscanf(bm->topic, "relays/%63[^/]/set", node) != 1)
        return;
    snprintf(topic, sizeof(topic), "relays/%s/state", node);
    publish(topic, on ? "{\"on\":true,\"watts\":60.5}" : "{\"on\":false,\"watts\":0}");
    __atomic_add_fetch(&relay_sets, 1, __ATOMIC_SEQ_CST);
}

static void put_gateway_with(const char *id, const char *maps)
{
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"%s\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"generic_mqtt\",\"url\":\"%s\",\"mappings\":%s}}",
             id, sbt_pl.broker->url, maps);
    put_gateway(doc);
}

static void wait_string(const char *id, const char *want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *d = NULL;
        bool ok = sb_store_get(sbt_pl.store, "gateway", id, &d, NULL) == SB_OK &&
                  strstr(sb_json_str(sb_json_path(d, "state"), "message", ""), want);
        cJSON_Delete(d);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("gateway %s: state message does not say '%s'", id, want);
        sb_time_sleep_ms(20);
    }
}

static void test_generic_mqtt(void **state)
{
    (void)state;
    assert_int_equal(sb_bus_subscribe(sbt_pl.bus, "relays/+/set", 1, on_relay_set, NULL, NULL),
                     SB_OK);
    put_gateway_with("gwg", mappings);
    int64_t end = sb_time_mono_ms() + 10000;
    while (sbt_pipeline_status_num("stats.gateways.gwg.provider.publishesIn") < 0) {
        if (sb_time_mono_ms() > end)
            fail_msg("the generic_mqtt gateway did not start");
        sb_time_sleep_ms(20);
    }
    sb_time_sleep_ms(300); /* its subscriptions are made */

    publish("home/hall/bme",
            "{\"temperature\":21.5,\"humidity\":40.25,\"battery\":{\"level\":87}}");
    publish("relays/plug1/state", "{\"on\":false,\"watts\":0}");
    publish("plain/garden/temperature", "68.5");
    check_number_field("gwg.hall.bme.temperature", "gauge_float", "°C", 21.5, 21.5);
    check_number_field("gwg.hall.bme.humidity", "gauge_float", "%", 40.25, 40.25);
    check_number_field("gwg.hall.bme.battery", "gauge", "%", 87, 87);
    check_number_field("gwg.garden.t.value", "gauge_float", "°F", 68.5, 68.5);
    wait_field_bool("gwg.plug1.relay.power", false);
    check_influx("gwg", "hall.bme.temperature");
    check_influx("gwg", "garden.t.value");

    /* a set is rendered through the relay mapping's write templates */
    send_set("gwg", "plug1", "relay", "power", "true");
    wait_field_bool("gwg.plug1.relay.power", true);
    wait_number("gwg.plug1.relay.watts", 60.5);
    assert_true(__atomic_load_n(&relay_sets, __ATOMIC_SEQ_CST) >= 1);

    /* malformed payloads: the good values of the same message still arrive */
    double skipped = sbt_pipeline_status_num("stats.gateways.gwg.provider.skipped");
    publish("home/hall/bme", "{broken");
    publish("home/hall/bme", "{\"temperature\":\"hot\",\"humidity\":41,\"battery\":null}");
    wait_number("gwg.hall.bme.humidity", 41);
    cJSON *d = wait_doc("field", "gwg.hall.bme.temperature", true, 1000);
    assert_true(sb_json_path(d, "current.value")->valuedouble == 21.5);
    cJSON_Delete(d);
    end = sb_time_mono_ms() + 5000;
    while (sbt_pipeline_status_num("stats.gateways.gwg.provider.skipped") < skipped + 4) {
        if (sb_time_mono_ms() > end)
            fail_msg("the provider did not count the bad values as skipped");
        sb_time_sleep_ms(50);
    }

    /* a bad mapping list: the gateway's state names the mapping and the key */
    put_gateway_with("gwbad", "[{\"name\":\"broken\",\"topic\":\"x/{node}\","
                              "\"fields\":[{\"path\":\"t\",\"metricType\":\"gauge_flot\"}]}]");
    wait_string("gwbad", "provider.mappings[0] (broken): fields[0].metricType");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic_mqtt),
    };
    return cmocka_run_group_tests(tests, sbt_pipeline_setup, sbt_pipeline_teardown);
}
