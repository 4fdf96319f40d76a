/*
 * api_schedule_preview_test - POST /api/schedule/preview over real HTTP: the next runs of cron,
 * repeat, simple and sunrise specs, the zone and location from the body or from the settings
 * entity "system", the end of a schedule, and refusals that name the problem; GET and POST
 * /api/settings with their checks.
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

static const char *tok(void)
{
    return apit_env()->admin_token;
}

/* POSTs body and checks the status; the answer (caller frees with apic_free). */
static api_res preview(const char *token, const char *body, long want)
{
    api_res r = apic_post("/api/schedule/preview", token, body);
    if (r.status != want)
        fail_msg("preview %s: %ld %s", body, r.status, r.raw);
    return r;
}

static const char *run_at(const api_res *r, int i)
{
    return cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "runs"), i));
}

static int run_count(const api_res *r)
{
    return cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "runs"));
}

static void test_cron_and_repeat(void **state)
{
    (void)state;
    api_res r = preview(tok(),
                        "{\"spec\":{\"type\":\"cron\",\"expression\":\"0 30 6 * * *\"},"
                        "\"timezone\":\"UTC\",\"after\":\"2026-01-01T00:00:00Z\"}",
                        200);
    assert_int_equal(run_count(&r), 5);
    assert_string_equal(run_at(&r, 0), "2026-01-01T06:30:00.000Z");
    assert_string_equal(run_at(&r, 4), "2026-01-05T06:30:00.000Z");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "ended")));
    apic_free(&r);
    /* A repeat with a count ends: fewer runs than asked, and it says so. */
    r = preview(
        tok(),
        "{\"spec\":{\"type\":\"repeat\",\"interval\":\"10m\",\"count\":3,"
        "\"start\":\"2026-01-01T08:00:00Z\"},\"after\":\"2026-01-01T00:00:00Z\",\"count\":10}",
        200);
    assert_int_equal(run_count(&r), 3);
    assert_string_equal(run_at(&r, 2), "2026-01-01T08:20:00.000Z");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ended")));
    apic_free(&r);
    /* MyController's form: the type (and validity) beside the spec; wall time in the zone. */
    r = preview(tok(),
                "{\"type\":\"simple\",\"spec\":{\"frequency\":\"daily\",\"time\":\"06:30\"},"
                "\"validity\":{\"from\":\"2026-01-03\"},\"timezone\":\"Europe/Berlin\","
                "\"after\":\"2026-01-01T00:00:00Z\",\"count\":2}",
                200);
    assert_int_equal(run_count(&r), 2);
    assert_string_equal(run_at(&r, 0), "2026-01-03T05:30:00.000Z");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "timezone")),
                        "Europe/Berlin");
    apic_free(&r);
}

static void test_sunrise_from_settings(void **state)
{
    (void)state;
    const char *spec = "{\"spec\":{\"type\":\"sunrise\"},\"after\":\"2026-01-01T00:00:00Z\"}";
    api_res r = preview(tok(), spec, 400);
    assert_non_null(strstr(apic_detail(&r), "location"));
    apic_free(&r);
    r = apic_post("/api/settings", tok(),
                  "{\"spec\":{\"geoLocation\":{\"latitude\":52.52,"
                  "\"longitude\":13.405},\"timezone\":\"Europe/Berlin\"}}");
    assert_true(r.status == 200 || r.status == 201);
    apic_free(&r);
    r = preview(tok(), spec, 200);
    assert_int_equal(run_count(&r), 5);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "timezone")),
                        "Europe/Berlin");
    for (int i = 0; i < 5; i++) {
        /* Berlin's sunrise in early January is about 08:16 CET, 07:16 UTC. */
        const char *t = run_at(&r, i);
        char day[16];
        snprintf(day, sizeof(day), "2026-01-%02d", i + 1);
        assert_non_null(t);
        assert_memory_equal(t, day, 10);
        assert_memory_equal(t + 10, "T07:", 4);
    }
    apic_free(&r);
    /* The body's location wins over the settings: Sydney's sunrise is about 18:45 UTC. */
    r = preview(tok(),
                "{\"spec\":{\"type\":\"sunrise\"},\"after\":\"2026-01-01T00:00:00Z\","
                "\"timezone\":\"UTC\",\"location\":{\"latitude\":-33.87,\"longitude\":151.21}}",
                200);
    assert_memory_equal(run_at(&r, 0), "2026-01-01T18:", 14);
    apic_free(&r);
}

/* GET and POST /api/settings: the document the previews (and the scheduler) read, checked. */
static void test_settings(void **state)
{
    (void)state;
    api_res r = apic_get("/api/settings", tok());
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "id")), "system");
    apic_free(&r);
    r = apic_post("/api/settings", tok(),
                  "{\"spec\":{\"timezone\":\"Mars/Base\",\"units\":\"cubits\","
                  "\"geoLocation\":{\"latitude\":91,\"longitude\":\"east\"}}}");
    assert_int_equal(r.status, 400);
    const char *want[] = {"spec.timezone", "spec.units", "spec.geoLocation.latitude",
                          "spec.geoLocation.longitude"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(apic_detail(&r), want[i]))
            fail_msg("the 400 does not name %s: %s", want[i], r.raw);
    apic_free(&r);
    r = apic_post("/api/settings", tok(), "{\"id\":\"other\",\"spec\":{}}");
    assert_int_equal(r.status, 400);
    apic_free(&r);
    r = apic_post("/api/settings", tok(),
                  "{\"spec\":{\"timezone\":\"Europe/Berlin\",\"units\":\"imperial\","
                  "\"geoLocation\":{\"latitude\":52.52,\"longitude\":13.405}}}");
    assert_true(r.status == 200 || r.status == 201);
    apic_free(&r);
    r = apic_get("/api/settings", tok());
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "spec"), "units")),
        "imperial");
    apic_free(&r);
}

static void test_refusals(void **state)
{
    (void)state;
    struct {
        const char *body, *detail;
    } bad[] = {
        {"{\"spec\":{\"type\":\"cron\",\"expression\":\"0 0 25 * * *\"}}", "hours"},
        {"{\"spec\":{\"type\":\"weekly\"}}", "type"},
        {"{\"spec\":{\"type\":\"repeat\",\"interval\":\"10m\"},\"count\":0}", "count"},
        {"{\"spec\":{\"type\":\"repeat\",\"interval\":\"10m\"},\"count\":\"5\"}", "count"},
        {"{\"spec\":{\"type\":\"repeat\",\"interval\":\"10m\"},\"timezone\":\"Mars/Base\"}",
         "timezone"},
        {"{\"spec\":{\"type\":\"repeat\",\"interval\":\"10m\"},\"after\":\"yesterday\"}", "after"},
        {"{\"type\":\"cron\"}", "spec"},
        {"[1]", "spec"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        api_res r = preview(tok(), bad[i].body, 400);
        if (!strstr(apic_detail(&r), bad[i].detail))
            fail_msg("%s: detail '%s' does not name %s", bad[i].body, apic_detail(&r),
                     bad[i].detail);
        apic_free(&r);
    }
    /* Any role may preview; no token may not. */
    api_res r =
        apic_post("/api/user", tok(), "{\"username\":\"viewer\",\"password\":\"viewer-pass\"}");
    assert_int_equal(r.status, 201);
    apic_free(&r);
    long st;
    const char *t = apit_login("viewer", "viewer-pass", &st);
    assert_non_null(t);
    char ro[2048];
    snprintf(ro, sizeof(ro), "%s", t);
    const char *ok = "{\"spec\":{\"type\":\"repeat\",\"interval\":\"1h\"}}";
    r = preview(ro, ok, 200);
    assert_int_equal(run_count(&r), 5);
    apic_free(&r);
    r = apic_post("/api/settings", ro, "{\"spec\":{}}");
    assert_int_equal(r.status, 403);
    apic_free(&r);
    r = preview(NULL, ok, 401);
    apic_free(&r);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cron_and_repeat),
        cmocka_unit_test(test_sunrise_from_settings),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
