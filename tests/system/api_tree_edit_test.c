/*
 * api_tree_edit_test - edits of node, source and field records through the API while a device
 * keeps reporting: the API hands them to the processor (<p>/ctl/processor/edit|delete), which
 * applies them to its in-memory tree, so the next device message does not write the old record
 * back. Real mosquitto, real switchboard-api and switchboard-processor on threads of the test,
 * one sqlite store; the "device" publishes plain messages on <p>/msg/in/gwe every 5 ms.
 * test_no_processor also stops the processor in the middle of a backlog: built with ASan
 * (./setup.sh sanitize, then build-asan/tests/system/api_tree_edit_test) it caught the worker
 * publishing on the freed bus when the bus was closed before the worker was joined.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "harness.h"

#include "core/json.h"
#include "core/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_t device;
static atomic_bool device_stop;
static atomic_int device_sent;

/* Node n1 (source s1, field temp in °F) and node n2 report; n1 also presents its names. */
static void *device_main(void *arg)
{
    (void)arg;
    char msg[1024];
    for (int i = 0; !atomic_load(&device_stop); i++) {
        snprintf(
            msg, sizeof(msg),
            "[{\"gatewayId\":\"gwe\",\"nodeId\":\"n1\",\"sourceId\":\"s1\",\"type\":\"set\","
            "\"payloads\":[{\"key\":\"temp\",\"value\":\"%d\",\"metricType\":\"gauge\","
            "\"unit\":\"F\"}]},"
            "{\"gatewayId\":\"gwe\",\"nodeId\":\"n1\",\"sourceId\":\"\",\"type\":"
            "\"presentation\",\"payloads\":[{\"key\":\"name\",\"value\":\"device name\"}]},"
            "{\"gatewayId\":\"gwe\",\"nodeId\":\"n1\",\"sourceId\":\"s1\",\"type\":"
            "\"presentation\",\"payloads\":[{\"key\":\"S_TEMP\",\"value\":\"device source\"}]},"
            "{\"gatewayId\":\"gwe\",\"nodeId\":\"n2\",\"sourceId\":\"s1\",\"type\":\"set\","
            "\"payloads\":[{\"key\":\"hum\",\"value\":\"%d\",\"metricType\":\"gauge\"}]}]",
            i, i);
        if (sb_bus_publish(apit_bus(), "sbtest/msg/in/gwe", msg, strlen(msg), 1, false) == SB_OK)
            atomic_fetch_add(&device_sent, 1);
        sb_time_sleep_ms(5);
    }
    return NULL;
}

static const char *tok(void)
{
    return apit_env()->admin_token;
}

static cJSON *get_doc(const char *path)
{
    api_res r = apic_get(path, tok());
    cJSON *doc = r.status == 200 ? cJSON_Duplicate(r.json, true) : NULL;
    apic_free(&r);
    return doc;
}

static const char *str(const cJSON *doc, const char *path)
{
    return cJSON_GetStringValue(sb_json_path(doc, path));
}

static bool exists(void *ctx)
{
    cJSON *d = get_doc(ctx);
    cJSON_Delete(d);
    return d != NULL;
}

/* Waits until the device has sent n more frames and the processor has applied them: the
 * field's value passes the count sent when called. */
static void let_device_report(int n)
{
    int until = atomic_load(&device_sent) + n;
    int64_t deadline = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *f = get_doc("/api/field/gwe.n1.s1.temp");
        double v = cJSON_GetNumberValue(sb_json_path(f, "current.value"));
        cJSON_Delete(f);
        if (v >= until - 1)
            return;
        if (sb_time_mono_ms() > deadline)
            fail_msg("the device's values stopped at %g (want %d)", v, until - 1);
        sb_time_sleep_ms(20);
    }
}

static cJSON *post(const char *path, const char *body, long want)
{
    api_res r = apic_post(path, tok(), body);
    if (r.status != want)
        fail_msg("POST %s %s: %ld %s", path, body, r.status, r.raw);
    cJSON *doc = cJSON_Duplicate(r.json, true);
    apic_free(&r);
    return doc;
}

static void test_edits_survive_device_traffic(void **state)
{
    (void)state;
    assert_true(sbt_wait(exists, "/api/field/gwe.n1.s1.temp", 10000));
    /* Dotted ids are the API's own ids of device-tree records. */
    cJSON *n = post("/api/node",
                    "{\"id\":\"gwe.n1\",\"name\":\"Hall\",\"labels\":{\"room\":\"hall\","
                    "\"ignore_name\":\"true\"},\"lastSeen\":\"2000-01-01T00:00:00.000Z\"}",
                    200);
    assert_string_equal(str(n, "name"), "Hall");
    assert_string_not_equal(str(n, "lastSeen"), "2000-01-01T00:00:00.000Z"); /* not editable */
    cJSON_Delete(n);
    /* Labels without ignore_name: the source keeps its label, the device its name. */
    cJSON_Delete(post("/api/source",
                      "{\"gatewayId\":\"gwe\",\"nodeId\":\"n1\",\"sourceId\":\"s1\",\"name\":"
                      "\"Thermometer\",\"labels\":{\"floor\":\"1\"}}",
                      200));
    cJSON *f = post("/api/field",
                    "{\"id\":\"gwe.n1.s1.temp\",\"name\":\"Temperature\",\"unit\":\"C\","
                    "\"labels\":{\"ignore_unit\":\"true\"},\"current\":{\"value\":-999}}",
                    200);
    assert_string_equal(str(f, "unit"), "C");
    assert_true(cJSON_GetNumberValue(sb_json_path(f, "current.value")) >= 0);
    cJSON_Delete(f);
    let_device_report(40);

    cJSON *node = get_doc("/api/node/gwe.n1");
    assert_string_equal(str(node, "name"), "Hall");
    assert_string_equal(str(node, "labels.room"), "hall");
    assert_string_equal(str(node, "state.status"), "up");
    cJSON_Delete(node);
    cJSON *src = get_doc("/api/source/gwe.n1.s1");
    assert_string_equal(str(src, "labels.floor"), "1");
    assert_string_equal(str(src, "name"), "device source"); /* no ignore_name: the device's */
    cJSON_Delete(src);
    cJSON *field = get_doc("/api/field/gwe.n1.s1.temp");
    assert_string_equal(str(field, "name"), "Temperature");
    assert_string_equal(str(field, "unit"), "C"); /* ignore_unit: the device's F is not taken */
    assert_string_equal(str(field, "labels.ignore_unit"), "true");
    cJSON_Delete(field);

    /* The event of the edit comes from the processor, with the edited record. */
    apit_events_clear();
    cJSON_Delete(
        post("/api/field", "{\"id\":\"gwe.n1.s1.temp\",\"metricType\":\"gauge_float\"}", 200));
    cJSON *ev = apit_event_wait("sbtest/event/field/gwe.n1.s1.temp", "updated");
    assert_non_null(ev);
    cJSON_Delete(ev);
}

static void expect(const char *method, const char *path, const char *body, long status,
                   const char *detail_part)
{
    api_res r = apic_req(method, path, tok(), body, NULL, NULL);
    if (r.status != status || !strstr(r.raw ? r.raw : "", detail_part))
        fail_msg("%s %s %s: %ld %s (want %ld, '%s')", method, path, body, r.status, r.raw, status,
                 detail_part);
    apic_free(&r);
}

static void test_refusals(void **state)
{
    (void)state;
    expect("POST", "/api/node", "{\"id\":\"gwe\"}", 400, "not a valid node id");
    expect("POST", "/api/node", "{\"id\":\"gwe.n1.s1\"}", 400, "<gatewayId>.<nodeId>");
    expect("POST", "/api/field", "{\"id\":\"gwe.n1.s1.temp\",\"metricType\":\"kelvin\"}", 400,
           "metricType");
}

static void test_delete(void **state)
{
    (void)state;
    assert_true(sbt_wait(exists, "/api/field/gwe.n2.s1.hum", 10000));
    cJSON_Delete(post("/api/node", "{\"id\":\"gwe.n2\",\"labels\":{\"old\":\"yes\"}}", 200));
    /* Node n2 with its sources (s1 and _node? only s1 here) and fields. */
    api_res r = apic_req("DELETE", "/api/node", tok(), "[\"gwe.n2\"]", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_GetObjectItem(r.json, "deleted")->valueint >= 3);
    apic_free(&r);
    /* The device keeps reporting: a new record, without what the old one had. */
    assert_true(sbt_wait(exists, "/api/node/gwe.n2", 10000));
    cJSON *node = get_doc("/api/node/gwe.n2");
    assert_null(sb_json_path(node, "labels.old"));
    cJSON_Delete(node);
    /* A field alone. */
    cJSON_Delete(post("/api/field", "{\"id\":\"gwe.n2.s1.hum\",\"name\":\"Humidity\"}", 200));
    r = apic_req("DELETE", "/api/field", tok(), "[\"gwe.n2.s1.hum\"]", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetObjectItem(r.json, "deleted")->valueint, 1);
    apic_free(&r);
    assert_true(sbt_wait(exists, "/api/field/gwe.n2.s1.hum", 10000));
    cJSON *f = get_doc("/api/field/gwe.n2.s1.hum");
    assert_string_equal(str(f, "name"), "hum");
    cJSON_Delete(f);
}

static void test_no_processor(void **state)
{
    (void)state;
    /* Stopped while it still applies a backlog: its worker publishes events and acks up to
     * the end, so it must be joined before the bus is freed (checked by the ASan build). */
    static char burst[600];
    for (int i = 0; i < 3000; i++) {
        snprintf(burst, sizeof(burst),
                 "{\"gatewayId\":\"gwe\",\"nodeId\":\"n3\",\"sourceId\":\"s%d\",\"type\":\"set\","
                 "\"payloads\":[{\"key\":\"v\",\"value\":\"%d\"}]}",
                 i % 50, i);
        sb_bus_publish(apit_bus(), "sbtest/msg/in/gwe", burst, strlen(burst), 1, false);
    }
    sb_bus_flush(apit_bus(), 5000);
    apit_processor_stop();
    int64_t t0 = sb_time_mono_ms();
    expect("POST", "/api/node", "{\"id\":\"gwe.n1\",\"name\":\"x\"}", 503,
           "no processor answered on sbtest/ctl/processor/edit");
    expect("DELETE", "/api/field", "[\"gwe.n1.s1.temp\"]", 503, "switchboard-processor");
    assert_true(sb_time_mono_ms() - t0 < 5000); /* api.processor_timeout: 1s in this test */
    /* The refused requests expire in the broker after the timeout (MQTT v5 message expiry):
     * the processor must not apply them when it comes back. Waiting is the condition here. */
    sb_time_sleep_ms(1100);
    apit_processor_start();
    let_device_report(5);
    cJSON *node = get_doc("/api/node/gwe.n1");
    assert_string_equal(str(node, "name"), "Hall");
    cJSON_Delete(node);
    cJSON *field = get_doc("/api/field/gwe.n1.s1.temp");
    assert_string_equal(str(field, "name"), "Temperature");
    cJSON_Delete(field);
    cJSON_Delete(post("/api/node", "{\"id\":\"gwe.n1\",\"name\":\"Back\"}", 200));
}

int main(void)
{
    apit_extra_yaml("processor:\n  node_down_after: 0s\n");
    apit_start();
    pthread_create(&device, NULL, device_main, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edits_survive_device_traffic),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_no_processor),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    atomic_store(&device_stop, true);
    pthread_join(device, NULL);
    apit_stop();
    return rc;
}
