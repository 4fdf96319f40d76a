/*
 * api_test - the API service over real HTTP on loopback: the service runs on a thread of this
 * process (port 0, told through sb_api_hooks) against a real mosquitto and a sqlite store in a
 * temp dir; requests go through libcurl; events are checked with a bus client of the test.
 * Auth failures are in api_auth_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static int count_of(const api_res *r)
{
    return (int)cJSON_GetObjectItemCaseSensitive(r->json, "count")->valuedouble;
}

static const char *name_at(const api_res *r, int i)
{
    cJSON *d = cJSON_GetObjectItemCaseSensitive(r->json, "data");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d, i), "name"));
}

static void test_status_and_version(void **state)
{
    api_res r = apic_get("/api/status", NULL);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "ok")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "version")), SB_VERSION);
    apic_free(&r);
    r = apic_get("/api/version", admin_token());
    assert_int_equal(r.status, 200);
    assert_non_null(cJSON_GetObjectItem(r.json, "version"));
    apic_free(&r);
}

static void test_crud(void **state)
{
    const char *t = admin_token();
    api_res r = apic_post("/api/gateway", t,
                          "{\"id\":\"gwc\",\"name\":\"one\",\"enabled\":true,"
                          "\"provider\":{\"type\":\"mysensors\"},\"labels\":{\"room\":\"hall\"}}");
    assert_int_equal(r.status, 201);
    assert_non_null(cJSON_GetObjectItem(r.json, "modifiedOn"));
    apic_free(&r);
    r = apic_post("/api/gateway", t, "{\"id\":\"gwc\",\"name\":\"two\",\"enabled\":true}");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    r = apic_get("/api/gateway/gwc", t);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "name")), "two");
    apic_free(&r);
    r = apic_post("/api/gateway/disable", t, "[\"gwc\"]");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    r = apic_get("/api/gateway/gwc", t);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "enabled")));
    apic_free(&r);
    r = apic_post("/api/gateway/enable", t, "[\"gwc\",\"missing\"]");
    assert_int_equal(r.status, 404);
    apic_free(&r);
    r = apic_post("/api/node/enable", t, "[\"x\"]");
    assert_int_equal(r.status, 404);
    apic_free(&r);
    /* A task without an id gets a uuid. */
    r = apic_post("/api/task", t, "{\"name\":\"no id\"}");
    assert_int_equal(r.status, 201);
    assert_int_equal(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "id"))), 36);
    apic_free(&r);
    r = apic_req("DELETE", "/api/gateway", t, "[\"gwc\"]", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetObjectItem(r.json, "deleted")->valueint, 1);
    apic_free(&r);
    r = apic_get("/api/gateway/gwc", t);
    assert_int_equal(r.status, 404);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error")), "not found");
    apic_free(&r);
}

static void seed_schedules(const char *t)
{
    static const char *const rooms[] = {"hall", "kitchen", "hall", "attic",
                                        "hall", "kitchen", "hall"};
    for (int i = 0; i < 7; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"id\":\"s%d\",\"name\":\"sched-%d\",\"enabled\":%s,\"others\":{\"prio\":%d},"
                 "\"labels\":{\"room\":\"%s\"}}",
                 i, i, i % 2 ? "false" : "true", 10 - i, rooms[i]);
        api_res r = apic_post("/api/schedule", t, body);
        assert_int_equal(r.status, 201);
        apic_free(&r);
    }
}

static void test_paging_sort_filter(void **state)
{
    const char *t = admin_token();
    seed_schedules(t);
    char path[4096];
    snprintf(path, sizeof(path), "/api/schedule?limit=3&offset=2&sortBy=%s",
             apic_escape("[{\"f\":\"name\",\"o\":\"desc\"}]"));
    api_res r = apic_get(path, t);
    assert_int_equal(r.status, 200);
    assert_int_equal(count_of(&r), 7);
    assert_int_equal(cJSON_GetObjectItem(r.json, "limit")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(r.json, "offset")->valueint, 2);
    assert_string_equal(name_at(&r, 0), "sched-4");
    assert_string_equal(name_at(&r, 2), "sched-2");
    apic_free(&r);
    /* Numbers compare as numbers; several sort keys. */
    int n = snprintf(path, sizeof(path), "/api/schedule?filter=%s",
                     apic_escape("[{\"k\":\"others.prio\",\"o\":\"gte\",\"v\":8}]"));
    snprintf(
        path + n, sizeof(path) - (size_t)n, "&sortBy=%s",
        apic_escape("[{\"f\":\"labels.room\",\"o\":\"asc\"},{\"f\":\"name\",\"o\":\"desc\"}]"));
    r = apic_get(path, t);
    assert_int_equal(count_of(&r), 3);
    assert_string_equal(name_at(&r, 0), "sched-2");
    assert_string_equal(name_at(&r, 1), "sched-0");
    assert_string_equal(name_at(&r, 2), "sched-1");
    apic_free(&r);
    /* Plain key=value parameters are eq filters; "true" matches the boolean. */
    r = apic_get("/api/schedule?labels.room=hall&enabled=true", t);
    assert_int_equal(count_of(&r), 4);
    apic_free(&r);
    r = apic_get("/api/schedule?labels.room=kitchen&enabled=false", t);
    assert_int_equal(count_of(&r), 2);
    apic_free(&r);
    r = apic_get("/api/schedule", t);
    assert_int_equal(cJSON_GetObjectItem(r.json, "limit")->valueint, 50);
    assert_string_equal(name_at(&r, 0), "sched-0"); /* id order without sort keys */
    apic_free(&r);
}

static void expect_400(const char *method, const char *path, const char *body, const char *ctype,
                       int status, const char *needle)
{
    api_res r = apic_req(method, path, admin_token(), body, ctype, NULL);
    if (r.status != status || !strstr(apic_detail(&r), needle))
        fail_msg("%s %s: %ld %s, wanted %d naming '%s'", method, path, r.status, r.raw, status,
                 needle);
    assert_non_null(cJSON_GetObjectItem(r.json, "error"));
    apic_free(&r);
}

static void test_bad_requests(void **state)
{
    expect_400("POST", "/api/gateway", "{\"id\":", NULL, 400, "malformed JSON");
    expect_400("POST", "/api/gateway", "[1,2]", NULL, 400, "JSON object");
    expect_400("POST", "/api/gateway",
               "{\"id\":\"g\",\"enabled\":\"yes\",\"labels\":{\"a\":1},\"provider\":3}", NULL, 400,
               "enabled: expected a boolean");
    expect_400("POST", "/api/gateway", "{\"id\":\"g\",\"labels\":{\"a\":1}}", NULL, 400,
               "labels: expected an object of strings");
    expect_400("POST", "/api/gateway", "{\"id\":7}", NULL, 400, "id: expected a string");
    expect_400("POST", "/api/gateway", "{\"id\":\"a.b\"}", NULL, 400, "not a valid id");
    expect_400("POST", "/api/field", "{\"id\":\"f\",\"unit\":5}", NULL, 400, "unit");
    expect_400("POST", "/api/gateway", "{\"id\":\"g\"}", "text/plain", 415, "application/json");
    expect_400("GET", "/api/gateway?limit=0", NULL, NULL, 400, "limit");
    expect_400("GET", "/api/gateway?limit=1001", NULL, NULL, 400, "limit");
    expect_400("GET", "/api/gateway?offset=-1", NULL, NULL, 400, "offset");
    expect_400("GET", "/api/gateway?filter=%5B%7B%22k%22", NULL, NULL, 400, "filter");
    expect_400("GET", "/api/gateway?filter=%5B%7B%22k%22%3A%22a%22%2C%22o%22%3A%22like%22%7D%5D",
               NULL, NULL, 400, "like");
    expect_400("GET", "/api/gateway?a..b=1", NULL, NULL, 400, "a..b");
    expect_400("DELETE", "/api/gateway", "{\"id\":\"x\"}", NULL, 400, "array of id strings");
    expect_400("DELETE", "/api/gateway", "[]", NULL, 400, "array of id strings");
}

static void test_not_found_and_method(void **state)
{
    expect_400("GET", "/api/gateway/nope", NULL, NULL, 404, "nope");
    expect_400("GET", "/api/nothing", NULL, NULL, 404, "/api/nothing");
    expect_400("GET", "/api/settings/system", NULL, NULL, 404, "/api/settings/system");
    expect_400("GET", "/elsewhere", NULL, NULL, 404, "/elsewhere");
    api_res r = apic_req("PUT", "/api/gateway", admin_token(), "{}", NULL, NULL);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: GET, POST, DELETE"));
    apic_free(&r);
    r = apic_req("DELETE", "/api/status", NULL, NULL, NULL, NULL);
    assert_int_equal(r.status, 405);
    apic_free(&r);
}

static void test_oversize_body(void **state)
{
    size_t n = (size_t)APIT_BODY_LIMIT + 100;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    api_res r = apic_post("/api/gateway", admin_token(), big);
    assert_int_equal(r.status, 413);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error")),
                        "payload too large");
    apic_free(&r);
    free(big);
    /* The server still answers (on a new connection). */
    r = apic_get("/api/status", NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);
}

static void post_ok(const char *path, const char *body)
{
    api_res r = apic_post(path, admin_token(), body);
    if (r.status != 201 && r.status != 200)
        fail_msg("POST %s %s: %ld %s", path, body, r.status, r.raw);
    apic_free(&r);
}

static int count(const char *path)
{
    api_res r = apic_get(path, admin_token());
    int n = count_of(&r);
    apic_free(&r);
    return n;
}

static void test_cascade_delete(void **state)
{
    post_ok("/api/gateway", "{\"id\":\"ga\"}");
    post_ok("/api/gateway", "{\"id\":\"gb\"}");
    for (int g = 0; g < 2; g++)
        for (int nd = 1; nd <= 2; nd++) {
            char b[256];
            const char *gw = g ? "gb" : "ga";
            snprintf(b, sizeof(b), "{\"gatewayId\":\"%s\",\"nodeId\":\"%d\"}", gw, nd);
            post_ok("/api/node", b);
            snprintf(b, sizeof(b), "{\"gatewayId\":\"%s\",\"nodeId\":\"%d\",\"sourceId\":\"1\"}",
                     gw, nd);
            post_ok("/api/source", b);
            snprintf(b, sizeof(b),
                     "{\"gatewayId\":\"%s\",\"nodeId\":\"%d\",\"sourceId\":\"1\",\"fieldId\":"
                     "\"V_TEMP\"}",
                     gw, nd);
            post_ok("/api/field", b);
        }
    assert_int_equal(count("/api/field?gatewayId=ga"), 2);
    api_res r = apic_req("DELETE", "/api/node", admin_token(), "[\"ga.1\"]", NULL, NULL);
    assert_int_equal(cJSON_GetObjectItem(r.json, "deleted")->valueint, 3);
    apic_free(&r);
    assert_int_equal(count("/api/field?gatewayId=ga"), 1);
    assert_int_equal(count("/api/source?gatewayId=ga"), 1);
    r = apic_req("DELETE", "/api/gateway", admin_token(), "[\"ga\"]", NULL, NULL);
    assert_int_equal(cJSON_GetObjectItem(r.json, "deleted")->valueint, 4);
    apic_free(&r);
    assert_int_equal(count("/api/node?gatewayId=ga"), 0);
    assert_int_equal(count("/api/field?gatewayId=ga"), 0);
    assert_int_equal(count("/api/field?gatewayId=gb"), 2);
    assert_int_equal(count("/api/node?gatewayId=gb"), 2);
}

static void test_events(void **state)
{
    apit_events_clear();
    post_ok("/api/node", "{\"gatewayId\":\"gev\",\"nodeId\":\"7\",\"name\":\"n\"}");
    cJSON *ev = apit_event_wait("sbtest/event/node/gev.7", "created");
    assert_non_null(ev);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "entityType")), "node");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "entityId")), "gev.7");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "quickId")), "node:gev.7");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "entity"), "name")), "n");
    cJSON_Delete(ev);
    post_ok("/api/node", "{\"gatewayId\":\"gev\",\"nodeId\":\"7\",\"name\":\"m\"}");
    ev = apit_event_wait("sbtest/event/node/gev.7", "updated");
    assert_non_null(ev);
    cJSON_Delete(ev);
    api_res r = apic_req("DELETE", "/api/node", admin_token(), "[\"gev.7\"]", NULL, NULL);
    apic_free(&r);
    ev = apit_event_wait("sbtest/event/node/gev.7", "deleted");
    assert_non_null(ev);
    cJSON_Delete(ev);
    /* User events never carry the hash. */
    post_ok("/api/user", "{\"id\":\"uev\",\"username\":\"uev\",\"password\":\"secret-pass\"}");
    ev = apit_event_wait("sbtest/event/user/uev", "created");
    assert_non_null(ev);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "entity"), "passwordHash"));
    cJSON_Delete(ev);
}

/* POST /api/<kind>/reload: ctl/<service>/reload with the ids, or {} for all; unknown ids and
 * kinds without a reloading service are 404 and publish nothing. */
static void test_reload(void **state)
{
    const char *t = admin_token();
    post_ok("/api/gateway", "{\"id\":\"gr1\"}");
    post_ok("/api/handler", "{\"id\":\"h1\",\"type\":\"log\"}");
    apit_events_clear();
    api_res r = apic_post("/api/gateway/reload", t, "[\"gr1\"]");
    assert_int_equal(r.status, 202);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "service")), "gateway");
    apic_free(&r);
    cJSON *ctl = apit_event_wait("sbtest/ctl/gateway/reload", "");
    assert_non_null(ctl);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ctl, "id")), "gr1");
    cJSON_Delete(ctl);
    apit_events_clear();
    r = apic_post("/api/handler/reload", t, "[]");
    assert_int_equal(r.status, 202);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "all")));
    apic_free(&r);
    ctl = apit_event_wait("sbtest/ctl/handler/reload", "");
    assert_non_null(ctl);
    assert_null(cJSON_GetObjectItem(ctl, "id"));
    cJSON_Delete(ctl);
    r = apic_post("/api/gateway/reload", t, "[\"gr1\",\"nosuch\"]");
    assert_int_equal(r.status, 404);
    apic_free(&r);
    r = apic_post("/api/node/reload", t, "[]");
    assert_int_equal(r.status, 404);
    apic_free(&r);
}

/* Device-tree records need their parts: every missing one is named. */
static void test_required_parts(void **state)
{
    api_res r = apic_post("/api/field", admin_token(), "{\"gatewayId\":\"g\",\"nodeId\":\"1\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(apic_detail(&r), "sourceId: required"));
    assert_non_null(strstr(apic_detail(&r), "fieldId: required"));
    apic_free(&r);
    r = apic_post("/api/node", admin_token(), "{\"gatewayId\":\"g.x\",\"nodeId\":\"1\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(apic_detail(&r), "gatewayId: not a valid id"));
    apic_free(&r);
}

int main(void)
{
    apit_start();
    apit_record("sbtest/ctl/#");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_required_parts),
        cmocka_unit_test(test_status_and_version),
        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_paging_sort_filter),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_oversize_body),
        cmocka_unit_test(test_cascade_delete),
        cmocka_unit_test(test_events),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
