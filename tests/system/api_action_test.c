/*
 * api_action_test - POST /api/action and GET /api/quickid over real HTTP with a real
 * mosquitto: set messages to fields (toggle), node actions, enable/disable/reload of config
 * entities, key paths, refusals (readonly 403, bad payloads, unknown entities, nothing done).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tok(void)
{
    return apit_env()->admin_token;
}

static void post_ok(const char *path, const char *body, long want)
{
    api_res r = apic_post(path, tok(), body);
    if (r.status != want)
        fail_msg("POST %s %s: %ld %s", path, body, r.status, r.raw);
    apic_free(&r);
}

static cJSON *payload0(cJSON *msg)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(msg, "payloads"), 0);
}

static bool field_has_value(void *ctx)
{
    api_res r = apic_get("/api/field/gwa.5.1.V_STATUS", tok());
    bool ok = r.status == 200 && cJSON_GetObjectItem(r.json, "current");
    apic_free(&r);
    (void)ctx;
    return ok;
}

static void seed(void)
{
    /* The field and its value come from a device message: values are the processor's. */
    const char *msg =
        "{\"gatewayId\":\"gwa\",\"nodeId\":\"5\",\"sourceId\":\"1\",\"type\":\"set\","
        "\"payloads\":[{\"key\":\"V_STATUS\",\"value\":\"1\",\"metricType\":\"binary\"}]}";
    assert_int_equal(sb_bus_publish(apit_bus(), "sbtest/msg/in/gwa", msg, strlen(msg), 1, false),
                     SB_OK);
    assert_true(sbt_wait(field_has_value, NULL, 5000));
    post_ok("/api/node", "{\"gatewayId\":\"gwa\",\"nodeId\":\"5\",\"name\":\"five\"}", 200);
    post_ok("/api/gateway", "{\"id\":\"gwa\",\"enabled\":true}", 201);
    post_ok("/api/task", "{\"id\":\"t1\",\"enabled\":true}", 201);
}

static void test_field_and_node(void **state)
{
    seed();
    apit_events_clear();
    post_ok("/api/action", "[{\"resource\":\"field:gwa.5.1.V_STATUS\",\"payload\":\"toggle\"}]",
            200);
    cJSON *m = apit_event_wait("sbtest/msg/out/gwa", "set");
    assert_non_null(m);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "nodeId")), "5");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "sourceId")), "1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(payload0(m), "key")), "V_STATUS");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(payload0(m), "value")), "0");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(payload0(m), "metricType")),
                        "binary");
    cJSON_Delete(m);
    apit_events_clear();
    post_ok("/api/action",
            "[{\"resource\":\"sf:gwa.5.1.V_STATUS\",\"payload\":\"42\"},"
            "{\"resource\":\"node:gwa.5\",\"payload\":\"reboot\"}]",
            200);
    m = apit_event_wait("sbtest/msg/out/gwa", "action");
    assert_non_null(m);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "sourceId")), "");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(payload0(m), "key")), "reboot");
    cJSON_Delete(m);
    m = apit_event_wait("sbtest/msg/out/gwa", "set");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(payload0(m), "value")), "42");
    cJSON_Delete(m);
}

static void test_enable_reload_keypath(void **state)
{
    apit_events_clear();
    post_ok("/api/action",
            "[{\"resource\":\"task:t1\",\"payload\":\"disable\"},"
            "{\"resource\":\"gateway:gwa\",\"payload\":\"reload\"},"
            "{\"resource\":\"task:t1\",\"keyPath\":\"labels.room\",\"payload\":\"hall\"}]",
            200);
    cJSON *ev = apit_event_wait("sbtest/event/task/t1", "updated");
    assert_non_null(ev);
    cJSON_Delete(ev);
    cJSON *ctl = apit_event_wait("sbtest/ctl/gateway/reload", "");
    assert_non_null(ctl);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ctl, "id")), "gwa");
    cJSON_Delete(ctl);
    api_res r = apic_get("/api/task/t1", tok());
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "enabled")));
    apic_free(&r);
    r = apic_get("/api/quickid?id=task:t1.labels.room", tok());
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "value")), "hall");
    apic_free(&r);
    r = apic_get("/api/quickid?id=sf:gwa.5.1.V_STATUS", tok());
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "quickId")),
                        "sf:gwa.5.1.V_STATUS");
    assert_non_null(cJSON_GetObjectItem(r.json, "entity"));
    apic_free(&r);
}

static void expect_status(const char *path, const char *token, const char *body, long status,
                          const char *needle)
{
    api_res r = body ? apic_post(path, token, body) : apic_get(path, token);
    if (r.status != status || !strstr(r.raw, needle))
        fail_msg("%s %s: %ld %s, wanted %ld with '%s'", path, body ? body : "", r.status, r.raw,
                 status, needle);
    apic_free(&r);
}

static void test_refusals(void **state)
{
    expect_status("/api/action", tok(), "[{\"resource\":\"node:gwa.5\",\"payload\":\"dance\"}]",
                  400, "reboot");
    expect_status("/api/action", tok(), "[{\"resource\":\"node:gwa.404\",\"payload\":\"reboot\"}]",
                  404, "does not exist");
    expect_status("/api/action", tok(), "[{\"resource\":\"field:gwa\",\"payload\":\"1\"}]", 400,
                  "4 ids");
    expect_status("/api/action", tok(), "{}", 400, "array");
    /* One bad action: nothing of the request is done. */
    expect_status("/api/action", tok(),
                  "[{\"resource\":\"task:t1\",\"payload\":\"enable\"},"
                  "{\"resource\":\"task:t1\",\"payload\":\"jump\"}]",
                  400, "action 1");
    api_res r = apic_get("/api/task/t1", tok());
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "enabled")));
    apic_free(&r);
    expect_status("/api/quickid?id=node:gwa.77", tok(), NULL, 404, "not found");
    expect_status("/api/quickid?id=bogus", tok(), NULL, 400, "bad quick id");
    /* readonly: may look, may not act. */
    post_ok("/api/user", "{\"username\":\"viewer\",\"password\":\"viewer-pass\"}", 201);
    long st;
    const char *t = apit_login("viewer", "viewer-pass", &st);
    assert_non_null(t);
    char ro[2048];
    snprintf(ro, sizeof(ro), "%s", t);
    expect_status("/api/action", ro, "[{\"resource\":\"node:gwa.5\",\"payload\":\"reboot\"}]", 403,
                  "forbidden");
    expect_status("/api/quickid?id=node:gwa.5", ro, NULL, 200, "gwa.5");
}

int main(void)
{
    apit_start();
    apit_record("sbtest/msg/out/#");
    apit_record("sbtest/ctl/#");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_and_node),
        cmocka_unit_test(test_enable_reload_keypath),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
