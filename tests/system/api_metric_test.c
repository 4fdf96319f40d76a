/*
 * api_metric_test - GET and POST /api/metric over real HTTP against a real influxd (started by
 * the harness): points written with sb_metrics_write are read back through the API.
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

#include "core/time.h"
#include "storage/metrics.h"

static sb_influxd *influx;

/* Ten points per field, one a minute up to now: temp 20..29, hum 50..59. */
static void write_points(void)
{
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_defaults(&cfg, NULL), SB_OK);
    free(cfg->metrics.url);
    cfg->metrics.url = strdup(influx->url);
    free(cfg->metrics.database);
    cfg->metrics.database = strdup("apitest");
    sb_metrics *m = NULL;
    sb_errmsg em = {{0}};
    if (sb_metrics_open(cfg, &m, &em) != SB_OK)
        fail_msg("open: %s", em.text);
    int64_t now = sb_time_now_ms();
    for (int i = 0; i < 10; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", 20 + i);
        sb_metric_point p = {
            "gw1", "1", "1", "temp", SB_METRIC_GAUGE_FLOAT, v, now - (10 - i) * 60000};
        assert_int_equal(sb_metrics_write(m, &p), SB_OK);
        snprintf(v, sizeof(v), "%d", 50 + i);
        sb_metric_point q = {"gw1", "1", "1", "hum", SB_METRIC_GAUGE, v, now - (10 - i) * 60000};
        assert_int_equal(sb_metrics_write(m, &q), SB_OK);
    }
    assert_int_equal(sb_metrics_flush(m, 5000), SB_OK);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static double first_value(const cJSON *res, const char *qid, const char *fn, int *rows)
{
    const cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(res, qid), fn);
    *rows = cJSON_GetArraySize(arr);
    return cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "value")->valuedouble;
}

static void test_get(void **state)
{
    write_points();
    api_res r = apic_get("/api/metric?quickId=field:gw1.1.1.temp&start=-1h&stop="
                         "&functions=mean&functions=max",
                         apit_env()->admin_token);
    if (r.status != 200)
        fail_msg("%ld %s", r.status, r.raw);
    int rows;
    assert_true(first_value(r.json, "field:gw1.1.1.temp", "mean", &rows) == 24.5);
    assert_int_equal(rows, 1);
    assert_true(first_value(r.json, "field:gw1.1.1.temp", "max", &rows) == 29);
    apic_free(&r);
    /* Windows of 5 minutes: two or three rows whose counts add up to 10. */
    r = apic_get("/api/metric?quickId=field:gw1.1.1.temp&start=-1h&window=5m&functions=count",
                 apit_env()->admin_token);
    assert_int_equal(r.status, 200);
    const cJSON *arr =
        cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "field:gw1.1.1.temp"), "count");
    double total = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) total += cJSON_GetObjectItem(e, "value")->valuedouble;
    assert_true(cJSON_GetArraySize(arr) >= 2);
    assert_true(total == 10);
    apic_free(&r);
}

static void test_post_and_errors(void **state)
{
    api_res r = apic_post("/api/metric", apit_env()->admin_token,
                          "{\"quickIds\":[\"field:gw1.1.1.temp\",\"field:gw1.1.1.hum\"],"
                          "\"start\":\"-1h\",\"functions\":[\"min\"]}");
    if (r.status != 200)
        fail_msg("%ld %s", r.status, r.raw);
    int rows;
    assert_true(first_value(r.json, "field:gw1.1.1.temp", "min", &rows) == 20);
    assert_true(first_value(r.json, "field:gw1.1.1.hum", "min", &rows) == 50);
    apic_free(&r);
    r = apic_get("/api/metric?quickId=node:gw1.1&start=-1h", apit_env()->admin_token);
    assert_int_equal(r.status, 400);
    apic_free(&r);
    r = apic_get("/api/metric?start=-1h", apit_env()->admin_token);
    assert_int_equal(r.status, 400);
    apic_free(&r);
    r = apic_post("/api/metric", apit_env()->admin_token, "{\"quickIds\":\"x\"}");
    assert_int_equal(r.status, 400);
    apic_free(&r);
    r = apic_get("/api/metric?quickId=field:gw1.1.1.temp", NULL);
    assert_int_equal(r.status, 401);
    apic_free(&r);
}

static bool metrics_ok(void)
{
    api_res r = apic_get("/api/system", apit_env()->admin_token);
    assert_int_equal(r.status, 200);
    const cJSON *m = cJSON_GetObjectItem(r.json, "metrics");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "configured")));
    bool ok = cJSON_IsTrue(cJSON_GetObjectItem(m, "ok"));
    assert_true(ok || cJSON_GetObjectItem(m, "error"));
    apic_free(&r);
    return ok;
}

/* GET /api/system reports the metric store healthy while influxd answers, then not. Last: it
 * stops influxd. */
static void test_system_health(void **state)
{
    assert_true(metrics_ok());
    sbt_influxd_stop();
    assert_false(metrics_ok());
}

int main(void)
{
    influx = sbt_influxd_start();
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "metrics:\n  url: %s\n  database: apitest\n", influx->url);
    apit_extra_yaml(yaml);
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_and_errors),
        cmocka_unit_test(test_system_health),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    sbt_influxd_stop();
    return rc;
}
