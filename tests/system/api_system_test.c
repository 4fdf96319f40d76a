/*
 * api_system_test - GET /api/system and GET /metrics over real HTTP. Service statuses are
 * published retained on the real broker the way sb_service publishes them (<p>/status/<service>/
 * <instance>); the API's own status arrives the same way. Checked: uptime, the services with
 * their stats and online count, store and metrics health, a cleared retained status dropping
 * out, and the Prometheus text (one TYPE line per family, every sample line well formed,
 * counters with service/instance labels and per-gateway labels), both refusing requests without
 * a token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include "core/time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static void publish_status(const char *service, const char *instance, const char *payload)
{
    char topic[256];
    snprintf(topic, sizeof(topic), "sbtest/status/%s/%s", service, instance);
    assert_int_equal(sb_bus_publish(apit_bus(), topic, payload, strlen(payload), 1, true), SB_OK);
}

static const cJSON *find_service(const cJSON *sys, const char *service, const char *instance)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(sys, "services"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "service")), service) == 0 &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "instance")), instance) == 0)
            return e;
    }
    return NULL;
}

/* Polls GET /api/system until service/instance is present (want) or absent (!want). */
static api_res system_until(const char *service, const char *instance, bool want)
{
    int64_t deadline = sb_time_mono_ms() + 5000;
    for (;;) {
        api_res r = apic_get("/api/system", admin_token());
        assert_int_equal(r.status, 200);
        if ((find_service(r.json, service, instance) != NULL) == want ||
            sb_time_mono_ms() > deadline)
            return r;
        apic_free(&r);
        sb_time_sleep_ms(20);
    }
}

static void test_system(void **state)
{
    publish_status("processor", "p1",
                   "{\"status\":\"online\",\"service\":\"processor\",\"instance\":\"p1\","
                   "\"version\":\"0.1.0\",\"startedAt\":\"2026-11-26T10:00:00.000Z\","
                   "\"stats\":{\"bus\":{\"published\":3},\"processor\":{\"framesIn\":5,"
                   "\"badFrames\":0}}}");
    publish_status("gateway", "g1",
                   "{\"status\":\"online\",\"service\":\"gateway\",\"instance\":\"g1\","
                   "\"startedAt\":\"2026-11-26T10:00:00.000Z\",\"stats\":{\"gateways\":"
                   "{\"gw1\":{\"received\":7,\"connected\":true},\"gw\\\"2\":{\"received\":1}}}}");
    publish_status("task", "t1", "{\"status\":\"offline\",\"stats\":{}}");
    api_res r = system_until("task", "t1", true);
    const cJSON *p = find_service(r.json, "processor", "p1");
    assert_non_null(p);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "stats"), "processor"),
                            "framesIn")
            ->valueint,
        5);
    /* The task status named no service or instance: the topic supplies them. */
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(find_service(r.json, "task", "t1"), "status")),
        "offline");
    /* The API's own retained status is there too. */
    const cJSON *e, *own = NULL;
    int online = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r.json, "services"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "service")), "api") == 0)
            own = e;
        online += strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "status")), "online") == 0;
    }
    assert_non_null(own);
    assert_true(online >= 3); /* api, processor, gateway (and the test's own bus client) */
    assert_int_equal(cJSON_GetObjectItem(r.json, "servicesOnline")->valueint, online);
    assert_true(cJSON_GetObjectItem(r.json, "uptimeMs")->valuedouble >= 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "version")), SB_VERSION);
    const cJSON *store = cJSON_GetObjectItem(r.json, "store");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(store, "ok")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(store, "type")), "sqlite");
    const cJSON *metrics = cJSON_GetObjectItem(r.json, "metrics");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(metrics, "ok")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(metrics, "configured")));
    apic_free(&r);

    r = apic_get("/api/system", NULL);
    assert_int_equal(r.status, 401);
    apic_free(&r);
}

/* Every line is "# TYPE <name> untyped" (once per name) or "<name>{<labels>} <number>". */
static void check_exposition(const char *text)
{
    char seen[256][160];
    size_t n_seen = 0;
    char last[160] = "";
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        char buf[1024];
        snprintf(buf, sizeof(buf), "%.*s", (int)(eol - line), line);
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            char name[160];
            assert_int_equal(sscanf(buf + 7, "%159s", name), 1);
            for (size_t i = 0; i < n_seen; i++)
                if (strcmp(seen[i], name) == 0)
                    fail_msg("TYPE %s twice (samples of one family must be together)", name);
            snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
            snprintf(last, sizeof(last), "%s", name);
        } else {
            size_t nl = strspn(buf, "abcdefghijklmnopqrstuvwxyz0123456789_:");
            if (nl == 0 || buf[nl] != '{' || strncmp(buf, last, nl) != 0 || last[nl] != '\0')
                fail_msg("bad sample line (or outside its TYPE): %s", buf);
            const char *close = strrchr(buf, '}');
            assert_non_null(close);
            char *end = NULL;
            strtod(close + 2, &end);
            if (close[1] != ' ' || *end != '\0')
                fail_msg("bad value: %s", buf);
        }
        line = eol + 1;
    }
    assert_true(n_seen > 3);
}

static void test_prometheus(void **state)
{
    api_res r = apic_get("/metrics", NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(cJSON_GetObjectItem(r.json, "error"));
    apic_free(&r);
    r = apic_get("/metrics", admin_token());
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "text/plain; version=0.0.4"));
    check_exposition(r.raw);
    static const char *const want[] = {
        "switchboard_up{service=\"processor\",instance=\"p1\"} 1\n",
        "switchboard_up{service=\"task\",instance=\"t1\"} 0\n",
        "switchboard_processor_frames_in{service=\"processor\",instance=\"p1\"} 5\n",
        "switchboard_bus_published{service=\"processor\",instance=\"p1\"} 3\n",
        "switchboard_gateway_received{service=\"gateway\",instance=\"g1\",gateway=\"gw1\"} 7\n",
        "switchboard_gateway_received{service=\"gateway\",instance=\"g1\",gateway=\"gw\\\"2\"} 1\n",
        "switchboard_gateway_connected{service=\"gateway\",instance=\"g1\",gateway=\"gw1\"} 1\n",
        "switchboard_start_time_seconds{service=\"processor\",instance=\"p1\"} 1795687200\n",
        "switchboard_up{service=\"api\",instance=",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(r.raw, want[i]))
            fail_msg("/metrics lacks %s\n%s", want[i], r.raw);
    apic_free(&r);
}

static void test_cleared(void **state)
{
    publish_status("task", "t1", "");
    api_res r = system_until("task", "t1", false);
    assert_null(find_service(r.json, "task", "t1"));
    apic_free(&r);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_cleared),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
