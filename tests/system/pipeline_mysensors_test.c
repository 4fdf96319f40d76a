/*
 * pipeline_mysensors_test - the device pipeline end to end, once per MySensors transport:
 *
 *   devsim (child process) --serial pty | TCP | MQTT--> gateway service (thread, mysensors
 *   provider) --<p>/msg/in stream--> processor (thread) --> sqlite store + real influxd
 *
 * Real mosquitto and influxd from the harness; a generated config with a sqlite store in a temp
 * dir. For each transport: devsim's values become field documents with the right value, metric
 * type and unit and InfluxDB points; a node without an id gets one from the provider; I_TIME and
 * I_CONFIG are answered; a set on <p>/msg/out/<gw> reaches the simulated relay (with the echo the
 * gateway service waits for) and the relay's new state comes back as the field's value; the
 * malformed frames devsim sends (--garbage) are dropped and counted in the gateway's status.
 * Over MQTT the test also plays a node asking for firmware: config and a block are served from
 * a firmware document assigned to the node.
 *
 * The processor runs with a metrics hook onto storage/metrics.h (sb_processor_run_with), the
 * same wiring the lead puts into the service; the InfluxDB assertions test that path.
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
#include "gateways/mysensors/mys_ota.h"
#include "services/gateway/gateway.h"
#include "services/processor/processor.h"
#include "storage/metrics.h"
#include "storage/store.h"

static sb_broker *broker;
static sb_store *store;
static sb_metrics *metrics;
static sb_bus *bus;
static const char *tmp;

/* The shared environment (pipeline_util.c), under the short names the tests use. */
static int setup(void **state)
{
    int rc = sbt_pipeline_setup(state);
    broker = sbt_pl.broker, store = sbt_pl.store, metrics = sbt_pl.metrics;
    bus = sbt_pl.bus, tmp = sbt_pl.tmp;
    return rc;
}

/* ---- devsim ----------------------------------------------------------------------------- */

typedef struct sim {
    sb_proc proc;
    char log[700], record[700];
    char where[256]; /* what follows "devsim: <transport> " on its first line */
} sim;

static bool read_where(sim *s, const char *kind)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return false;
    char line[512], want[32];
    snprintf(want, sizeof(want), "devsim: %s ", kind);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, want, strlen(want)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(s->where, sizeof(s->where), "%s", line + strlen(want));
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* Starts devsim with two nodes (the second without an id), 3 malformed frames at start-up. */
static void sim_start(sim *s, const char *gw, const char *kind, const char *const *extra)
{
    snprintf(s->log, sizeof(s->log), "%s/devsim-%s.log", tmp, gw);
    snprintf(s->record, sizeof(s->record), "%s/devsim-%s.rx", tmp, gw);
    const char *argv[24] = {sbt_build_path("../../tools/devsim/devsim"),
                            "--transport",
                            kind,
                            "--nodes",
                            "2",
                            "--no-id",
                            "1",
                            "--rate",
                            "40",
                            "--garbage",
                            "3",
                            "--record",
                            s->record};
    size_t n = 13;
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&s->proc, argv, s->log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    int64_t end = sb_time_mono_ms() + 5000;
    while (!read_where(s, kind)) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not say where it listens (%s)", s->log);
        sb_time_sleep_ms(10);
    }
}

static bool record_has(const sim *s, const char *prefix)
{
    FILE *f = fopen(s->record, "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return found;
}

/* ---- the scenario, once per transport ---------------------------------------------------------
 */

static void run_scenario(const char *gw, const sim *s)
{
    char id[256];
    /* values, metric types and units (devsim: 20 + id % 5 + tenths; humidity 40..69) */
#define FID(fmt) (snprintf(id, sizeof(id), "%s." fmt, gw), id)
    check_number_field(FID("1.1.V_TEMP"), "gauge_float", "°C", 21.0, 21.95);
    check_number_field(FID("1.2.V_HUM"), "gauge_float", "%", 40, 69);
    /* devsim starts node 1 at 100 % and takes 1 % every 30 rounds: a slow run sees 99 */
    check_number_field(FID("1._node.battery"), "gauge", "%", 95, 100);
    cJSON *node = wait_doc("node", FID("1"), false, 5000);
    assert_string_equal(sb_json_str(node, "name", ""), "devsim node 1");
    cJSON_Delete(node);

    /* the node without an id asked and got 2, the lowest free one, and reports under it */
    check_number_field(FID("2.1.V_TEMP"), "gauge_float", "°C", 22.0, 22.95);
    cJSON *ids = wait_doc("_gateway_mysensors", FID("ids"), false, 1000);
    char *text = sb_json_print(cJSON_GetObjectItem(ids, "used"));
    assert_string_equal(text, "[1,2]");
    free(text);
    cJSON_Delete(ids);

    /* the controller answered time and config itself */
    assert_true(record_has(s, "1;255;3;0;1;"));
    assert_true(record_has(s, "1;255;3;0;6;M"));
    assert_true(record_has(s, "255;255;3;0;4;2"));

    /* a set on msg/out reaches the relay (echo requested) and its state comes back */
    wait_field_bool(FID("1.3.V_STATUS"), false);
    char topic[256], msg[512];
    snprintf(topic, sizeof(topic), "sbtest/msg/out/%s", gw);
    snprintf(msg, sizeof(msg),
             "{\"gatewayId\":\"%s\",\"nodeId\":\"1\",\"sourceId\":\"3\",\"type\":\"set\","
             "\"payloads\":[{\"key\":\"V_STATUS\",\"value\":\"on\"}]}",
             gw);
    assert_int_equal(sb_bus_publish(bus, topic, msg, strlen(msg), 1, false), SB_OK);
    wait_field_bool(FID("1.3.V_STATUS"), true);
    assert_true(record_has(s, "1;3;1;1;2;1"));

    /* the same values are InfluxDB points */
    check_influx(gw, "1.1.V_TEMP");
    check_influx(gw, "1._node.battery");
#undef FID
}

static void sim_stop(sim *s)
{
    sb_proc_stop(&s->proc, SIGTERM, 2000);
}

static const char *gateway_doc(char *buf, size_t len, const char *gw, const char *provider)
{
    snprintf(buf, len,
             "{\"id\":\"%s\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"ack\":{\"retryCount\":2,\"timeout\":\"500ms\"},"
             "\"provider\":{\"type\":\"mysensors\",%s}}",
             gw, provider);
    return buf;
}

static void test_serial(void **state)
{
    (void)state;
    sim s = {0};
    /* The gateway opens a link devsim removes when it exits: a gateway still retrying after
     * the test must not open /dev/pts/N, which the kernel soon hands to someone else. */
    char link[512];
    snprintf(link, sizeof(link), "%s/gws-tty", tmp);
    const char *extra[] = {"--link", link, NULL};
    sim_start(&s, "gws", "pty", extra);
    char prov[1024], doc[2048];
    snprintf(prov, sizeof(prov), "\"transport\":\"serial\",\"port\":\"%s\",\"baudRate\":115200",
             link);
    put_gateway(gateway_doc(doc, sizeof(doc), "gws", prov));
    run_scenario("gws", &s);
    sim_stop(&s);
}

static void test_ethernet(void **state)
{
    (void)state;
    sim s = {0};
    const char *extra[] = {"--port", "0", NULL};
    sim_start(&s, "gwe", "tcp", extra);
    const char *colon = strrchr(s.where, ':');
    assert_non_null(colon);
    char prov[512], doc[1024];
    snprintf(prov, sizeof(prov), "\"transport\":\"ethernet\",\"host\":\"%.*s\",\"tcpPort\":%s",
             (int)(colon - s.where), s.where, colon + 1);
    put_gateway(gateway_doc(doc, sizeof(doc), "gwe", prov));
    run_scenario("gwe", &s);
    sim_stop(&s);
}

static void test_mqtt(void **state)
{
    (void)state;
    sim s = {0};
    const char *extra[] = {"--url", broker->url, "--prefix", "e2esim", NULL};
    char prov[512], doc[1024];
    snprintf(prov, sizeof(prov), "\"transport\":\"mqtt\",\"url\":\"%s\",\"topicPrefix\":\"e2esim\"",
             broker->url);
    /* the gateway subscribes first: MQTT keeps nothing for a subscriber that is not there yet */
    put_gateway(gateway_doc(doc, sizeof(doc), "gwm", prov));
    sb_time_sleep_ms(500);
    sim_start(&s, "gwm", "mqtt", extra);
    run_scenario("gwm", &s);
    sim_stop(&s);
}

/* A device's QoS 1 publishes while its gateway is disabled wait in the device broker (the
 * provider's persistent session) and arrive when the gateway is enabled again. */
static void test_mqtt_held_while_down(void **state)
{
    (void)state;
    char prov[512], doc[1024], off[1024];
    snprintf(prov, sizeof(prov),
             "\"transport\":\"mqtt\",\"url\":\"%s\",\"topicPrefix\":\"heldsim\",\"qos\":1",
             broker->url);
    gateway_doc(doc, sizeof(doc), "gwq", prov);
    put_gateway(doc);
    sb_time_sleep_ms(700); /* subscribed: the session now holds the subscription */
    snprintf(off, sizeof(off), "%s", doc);
    char *en = strstr(off, "\"enabled\":true");
    assert_non_null(en);
    memcpy(en, "\"enabled\":0   ", 14);
    put_gateway(off);
    sb_time_sleep_ms(700); /* the provider has disconnected */
    const char *topic = "heldsim-out/5/1/1/0/0";
    assert_int_equal(sb_bus_publish(bus, topic, "23.5", 4, 1, false), SB_OK);
    assert_int_equal(sb_bus_flush(bus, 5000), SB_OK);
    sb_time_sleep_ms(300);
    cJSON *early = NULL;
    assert_int_not_equal(sb_store_get(store, "field", "gwq.5.1.V_TEMP", &early, NULL), SB_OK);
    put_gateway(doc);
    cJSON *f = wait_doc("field", "gwq.5.1.V_TEMP", true, 10000);
    char text[32] = "";
    sb_json_scalar_text(sb_json_path(f, "current.value"), text, sizeof(text));
    assert_string_equal(text, "23.5");
    cJSON_Delete(f);
}

/* What the provider sent to MySensors node 7 over MQTT: "<topic>|<payload>" lines. */
static pthread_mutex_t ota_mu = PTHREAD_MUTEX_INITIALIZER;
static char ota_rx[4][128];
static int ota_n;

static void on_ota(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    pthread_mutex_lock(&ota_mu);
    if (ota_n < 4)
        snprintf(ota_rx[ota_n++], sizeof(ota_rx[0]), "%s|%.*s", bm->topic, (int)bm->len,
                 (const char *)bm->payload);
    pthread_mutex_unlock(&ota_mu);
}

/* Waits for the n-th answer; returns its payload (after '|'). */
static const char *ota_answer(int n)
{
    int64_t end = sb_time_mono_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&ota_mu);
        int have = ota_n;
        pthread_mutex_unlock(&ota_mu);
        if (have >= n)
            return strchr(ota_rx[n - 1], '|') + 1;
        if (sb_time_mono_ms() > end)
            fail_msg("no OTA answer %d", n);
        sb_time_sleep_ms(10);
    }
}

static void put_doc(const char *kind, const char *json)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &doc, NULL), SB_OK);
    assert_int_equal(sb_store_put(store, kind, doc, NULL), SB_OK);
    cJSON_Delete(doc);
}

/* OTA over the MQTT gateway from a firmware document assigned to node 7 by its label. */
static void test_mqtt_ota(void **state)
{
    (void)state;
    uint8_t image[40];
    for (int i = 0; i < 40; i++)
        image[i] = (uint8_t)i;
    put_doc("firmware", "{\"id\":\"fw1\",\"type\":10,\"version\":2,"
                        "\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJw==\"}");
    put_doc("node", "{\"id\":\"gwm.7\",\"gatewayId\":\"gwm\",\"nodeId\":\"7\","
                    "\"labels\":{\"firmware\":\"fw1\"}}");
    sb_bus_subscribe(bus, "e2esim-in/7/255/4/+/+", 0, on_ota, NULL, NULL);
    sb_time_sleep_ms(200);
    sb_mys_firmware want = {0};
    assert_int_equal(sb_mys_fw_prepare(10, 2, image, sizeof(image), &want, NULL), SB_OK);
    assert_int_equal(want.blocks, 3);

    sb_mys_line l;
    sb_mys_fw_config running = {.type = 10, .version = 1, .blocks = 1, .crc = 0};
    assert_int_equal(sb_mys_fw_config_request_line(7, &running, &l), SB_OK);
    sb_bus_publish(bus, "e2esim-out/7/255/4/0/0", l.payload, l.payload_len, 1, false);
    const char *hex = ota_answer(1);
    assert_non_null(strstr(ota_rx[0], "e2esim-in/7/255/4/0/1|"));
    sb_mys_fw_config got;
    assert_int_equal(sb_mys_fw_config_decode(hex, strlen(hex), &got, NULL), SB_OK);
    assert_int_equal(got.type, 10);
    assert_int_equal(got.version, 2);
    assert_int_equal(got.blocks, 3);
    assert_int_equal(got.crc, want.crc);

    sb_mys_fw_request req = {.type = 10, .version = 2, .block = 2};
    assert_int_equal(sb_mys_fw_request_line(7, &req, &l), SB_OK);
    sb_bus_publish(bus, "e2esim-out/7/255/4/0/2", l.payload, l.payload_len, 1, false);
    hex = ota_answer(2);
    assert_non_null(strstr(ota_rx[1], "e2esim-in/7/255/4/0/3|"));
    sb_mys_fw_request hdr;
    uint8_t block[SB_MYS_FW_BLOCK_SIZE];
    assert_int_equal(sb_mys_fw_response_decode(hex, strlen(hex), &hdr, block, NULL), SB_OK);
    assert_int_equal(hdr.block, 2);
    assert_memory_equal(block, want.data + 32, SB_MYS_FW_BLOCK_SIZE); /* 32..39, then 0xFF */
    sb_mys_fw_free(&want);
}

/* The malformed frames devsim sent at start-up: dropped, counted in the gateway's status. */
static double malformed(const char *gw)
{
    char path[256];
    snprintf(path, sizeof(path), "stats.gateways.%s.provider.malformed", gw);
    return sbt_pipeline_status_num(path);
}

static void test_malformed_counted(void **state)
{
    (void)state;
    /* the status is republished every 500 ms here (bus.status_interval) */
    int64_t end = sb_time_mono_ms() + 5000;
    while (malformed("gws") < 3 || malformed("gwe") < 3 || malformed("gwm") < 3) {
        if (sb_time_mono_ms() > end)
            fail_msg("malformed counts: serial %g, ethernet %g, mqtt %g (want >= 3 each)",
                     malformed("gws"), malformed("gwe"), malformed("gwm"));
        sb_time_sleep_ms(50);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial),   cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_mqtt),     cmocka_unit_test(test_mqtt_held_while_down),
        cmocka_unit_test(test_mqtt_ota), cmocka_unit_test(test_malformed_counted),
    };
    return cmocka_run_group_tests(tests, setup, sbt_pipeline_teardown);
}
