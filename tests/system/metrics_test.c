/*
 * metrics_test.c - the InfluxDB metric store against a real influxd on free loopback ports:
 * write and read back, odd ids, an outage while writing, the buffer bound, the disk spool
 * across a reopen, points the server refuses, and the none store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/influxd.h"
#include "core/time.h"
#include "harness.h"
#include "storage/metrics.h"

static sb_influxd *influx;
static int64_t base_ms; /* timestamps start here, 100 ms apart */

static void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = strdup(v);
}

/* A config for database db; the caller frees it with sb_config_free(). */
static sb_config *config(const char *db)
{
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_defaults(&cfg, NULL), SB_OK);
    set_str(&cfg->metrics.url, influx->url);
    set_str(&cfg->metrics.database, db);
    cfg->metrics.flush_interval_ms = 50;
    cfg->metrics.timeout_ms = 2000;
    return cfg;
}

static sb_metrics *open_store(sb_config *cfg)
{
    sb_metrics *m = NULL;
    sb_errmsg em = {0};
    sb_err rc = sb_metrics_open(cfg, &m, &em);
    if (rc != SB_OK)
        fail_msg("sb_metrics_open: %s", em.text);
    return m;
}

static void put(sb_metrics *m, const char *gw, const char *node, const char *src, const char *field,
                sb_metric_type t, const char *v, int64_t ts)
{
    sb_metric_point p = {gw, node, src, field, t, v, ts};
    assert_int_equal(sb_metrics_write(m, &p), SB_OK);
}

/* The rows of one field and function in a query answer. */
static cJSON *query(sb_metrics *m, const char *field, const char *window, const char *fn)
{
    const char *fields[] = {field};
    const char *fns[] = {fn};
    cJSON *out = NULL;
    sb_errmsg em = {0};
    sb_err rc =
        sb_metrics_query(m, fields, 1, "-2h", NULL, window, fn ? fns : NULL, fn ? 1 : 0, &out, &em);
    if (rc != SB_OK)
        fail_msg("query %s %s: %s", field, fn ? fn : "raw", em.text);
    cJSON *rows = cJSON_DetachItemFromObject(cJSON_GetObjectItem(out, field), fn ? fn : "raw");
    cJSON_Delete(out);
    assert_non_null(rows);
    return rows;
}

static double scalar(sb_metrics *m, const char *field, const char *fn)
{
    cJSON *rows = query(m, field, NULL, fn);
    if (cJSON_GetArraySize(rows) != 1)
        fail_msg("%s %s: expected one row, got %s", field, fn, cJSON_PrintUnformatted(rows));
    double v = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "value")->valuedouble;
    cJSON_Delete(rows);
    return v;
}

static void flush_all(sb_metrics *m, int64_t timeout_ms)
{
    sb_err rc = sb_metrics_flush(m, timeout_ms);
    if (rc != SB_OK) {
        sb_metrics_stats st;
        sb_metrics_get_stats(m, &st);
        fail_msg("flush: %s (buffered %llu, last error %s)", sb_strerror(rc),
                 (unsigned long long)st.buffered, st.last_error);
    }
}

/* 10k points of five types, read back: counts, mean/min/max/last, windows. */
static void test_write_read(void **state)
{
    sb_config *cfg = config("t_rw");
    sb_metrics *m = open_store(cfg);
    char v[64];
    for (int i = 0; i < 10000; i++) {
        int64_t ts = base_ms + (int64_t)i * 100;
        int k = i % 5;
        if (k < 2) { /* 4000 gauge_float: 0..99 repeating */
            snprintf(v, sizeof(v), "%d.5", (i / 5) % 100);
            put(m, "gw1", "1", "1", "temp", SB_METRIC_GAUGE_FLOAT, v, ts + k);
        } else if (k == 2) {
            snprintf(v, sizeof(v), "%d", i);
            put(m, "gw1", "1", "2", "count", SB_METRIC_COUNTER, v, ts);
        } else if (k == 3) {
            put(m, "gw1", "1", "3", "door", SB_METRIC_BINARY, (i / 5) % 2 ? "true" : "0", ts);
        } else {
            snprintf(v, sizeof(v), "state \"%d\"", i);
            if (i % 10 == 9)
                put(m, "gw1", "2", "1", "text", SB_METRIC_STRING, v, ts);
            else
                put(m, "gw1", "2", "2", "pos", SB_METRIC_GEO, "52.5;13.4;34", ts);
        }
    }
    flush_all(m, 15000);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.written, 10000);
    assert_int_equal(st.dropped + st.rejected + st.buffered, 0);

    assert_int_equal((int)scalar(m, "field:gw1.1.1.temp", "count"), 4000);
    assert_true(scalar(m, "field:gw1.1.1.temp", "mean") == 50.0); /* mean of 0.5..99.5 */
    assert_true(scalar(m, "field:gw1.1.1.temp", "min") == 0.5);
    assert_true(scalar(m, "field:gw1.1.1.temp", "max") == 99.5);
    assert_int_equal((int)scalar(m, "field:gw1.1.2.count", "last"), 9997);
    assert_int_equal((int)scalar(m, "field:gw1.1.2.count", "count"), 2000);
    assert_true(scalar(m, "field:gw1.1.3.door", "mean") == 0.5);
    assert_int_equal((int)scalar(m, "field:gw1.2.1.text", "count"), 1000);
    double p = scalar(m, "field:gw1.1.1.temp", "percentile_90");
    assert_true(p >= 89 && p <= 90.5);

    /* 1000 s of points in 100 s windows: every window counts its share, the total holds. */
    cJSON *rows = query(m, "field:gw1.1.1.temp", "100s", "count"), *r;
    int total = 0, windows = 0;
    cJSON_ArrayForEach(r, rows)
    {
        int c = (int)cJSON_GetObjectItem(r, "value")->valuedouble;
        assert_true(c > 0 && c <= 400);
        total += c;
        windows++;
    }
    assert_int_equal(total, 4000);
    assert_true(windows >= 10 && windows <= 11);
    cJSON_Delete(rows);
    rows = query(m, "field:gw1.2.1.text", NULL, NULL); /* raw strings come back as strings */
    assert_int_equal(cJSON_GetArraySize(rows), 1000);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "value")->valuestring,
                        "state \"9\"");
    cJSON_Delete(rows);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

/* Commas, spaces, equals signs, quotes and backslashes in ids. */
static void test_odd_ids(void **state)
{
    sb_config *cfg = config("t_odd");
    sb_metrics *m = open_store(cfg);
    for (int i = 0; i < 3; i++)
        put(m, "g,w=1", "n=1", "s,\"x\"", "V'T\\", SB_METRIC_GAUGE, "1", base_ms + i);
    put(m, "gw one", "node 1", "", "f", SB_METRIC_GAUGE, "2", base_ms);
    put(m, "gw", "", "", "battery", SB_METRIC_GAUGE, "3", base_ms);
    flush_all(m, 10000);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.written, 5);
    assert_int_equal(st.rejected, 0);
    assert_int_equal((int)scalar(m, "field:g,w=1.n=1.s,\"x\".V'T\\", "count"), 3);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static bool restart(void)
{
    sb_errmsg em = {0};
    if (sb_influxd_restart(influx, &em) != SB_OK)
        fail_msg("restart influxd: %s", em.text);
    return true;
}

/* influxd stops for 2 s while 3000 points are written over ~3 s: every one arrives. */
static void test_outage(void **state)
{
    sb_config *cfg = config("t_outage");
    cfg->metrics.batch_size = 200;
    sb_metrics *m = open_store(cfg);
    int64_t down_at = 0;
    for (int i = 0; i < 3000; i++) {
        put(m, "gw", "1", "1", "v", SB_METRIC_GAUGE, "1", base_ms + i);
        if (i == 1000) {
            sb_influxd_stop(influx);
            down_at = sb_time_mono_ms();
        }
        if (i == 2500) {
            while (sb_time_mono_ms() - down_at < 2000)
                sb_time_sleep_ms(10);
            restart();
        }
        if (i % 10 == 0)
            sb_time_sleep_ms(1);
    }
    flush_all(m, 20000);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_true(st.failures > 0);
    assert_true(st.healthy);
    assert_int_equal(st.written, 3000);
    assert_int_equal(st.dropped, 0);
    assert_int_equal((int)scalar(m, "field:gw.1.1.v", "count"), 3000);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static bool has_failed(void *ctx)
{
    sb_metrics_stats st;
    sb_metrics_get_stats(ctx, &st);
    return st.failures > 0;
}

/* buffer_max 100 with the server down: the 150 oldest of 250 go, counted exactly. */
static void test_buffer_bound(void **state)
{
    sb_config *cfg = config("t_bound");
    cfg->metrics.buffer_max = 100;
    cfg->metrics.batch_size = 30;
    sb_metrics *m = open_store(cfg);
    put(m, "gw", "1", "1", "v", SB_METRIC_GAUGE, "0", base_ms - 1000); /* creates the db */
    flush_all(m, 10000);
    sb_influxd_stop(influx);
    char v[16];
    for (int i = 0; i < 250; i++) {
        snprintf(v, sizeof(v), "%d", i);
        put(m, "gw", "1", "1", "v", SB_METRIC_GAUGE, v, base_ms + i);
        if (i == 10)
            assert_true(sbt_wait(has_failed, m, 5000));
    }
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.dropped, 150);
    assert_int_equal(st.buffered, 100);
    restart();
    flush_all(m, 15000);
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.dropped, 150);
    assert_int_equal(st.written, 101);
    assert_int_equal((int)scalar(m, "field:gw.1.1.v", "count"), 101);
    /* the newest survived: values 150..249 (and the first point written before the outage) */
    assert_int_equal((int)scalar(m, "field:gw.1.1.v", "sum"), (150 + 249) * 100 / 2);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static bool spooled(void *ctx)
{
    sb_metrics_stats st;
    sb_metrics_get_stats(ctx, &st);
    return st.failures > 0 && st.buffered == 1000;
}

/* Down server, points spooled to disk, the store closed and reopened (a new process would do
 * the same), then the server returns: all are there, in order. */
static void test_disk_spool(void **state)
{
    sb_config *cfg = config("t_spool");
    cfg->metrics.batch_size = 128;
    set_str(&cfg->metrics.buffer_dir, sbt_tmpdir("spool"));
    sb_influxd_stop(influx);
    sb_metrics *m = open_store(cfg);
    for (int i = 0; i < 1000; i++)
        put(m, "gw", "1", "1", "v", SB_METRIC_COUNTER, "1", base_ms + i);
    assert_true(sbt_wait(spooled, m, 5000));
    sb_metrics_close(m, 0);

    m = open_store(cfg);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.buffered, 1000);
    for (int i = 1000; i < 1500; i++)
        put(m, "gw", "1", "1", "v", SB_METRIC_COUNTER, "1", base_ms + i);
    restart();
    flush_all(m, 20000);
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.written, 1500);
    assert_int_equal(st.dropped, 0);
    assert_int_equal((int)scalar(m, "field:gw.1.1.v", "count"), 1500);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static void raw_write(const char *db, const char *body)
{
    char url[300];
    snprintf(url, sizeof(url), "%s/query?q=CREATE%%20DATABASE%%20%s", influx->url, db);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    snprintf(url, sizeof(url), "%s/write?db=%s&precision=ms", influx->url, db);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
}

/* A field type conflict makes the server answer 400: counted as rejected, not retried. */
static void test_rejected(void **state)
{
    char line[200];
    snprintf(line, sizeof(line), "gauge,field=v,gateway=gw value=\"text\" %lld\n",
             (long long)base_ms);
    raw_write("t_rej", line);
    sb_config *cfg = config("t_rej");
    sb_metrics *m = open_store(cfg);
    for (int i = 0; i < 10; i++)
        put(m, "gw", "1", "1", "v", SB_METRIC_GAUGE, "1", base_ms + i);
    flush_all(m, 10000);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.rejected, 10);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.buffered, 0);
    assert_true(st.healthy);
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
}

static void test_none(void **state)
{
    sb_config *cfg = config("unused");
    cfg->metrics.type = SB_METRICS_NONE;
    sb_metrics *m = open_store(cfg);
    for (int i = 0; i < 5; i++)
        put(m, "gw", "1", "1", "v", SB_METRIC_GAUGE, "1", base_ms + i);
    assert_int_equal(sb_metrics_flush(m, 10), SB_OK);
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.dropped, 5);
    const char *f[] = {"field:gw.1.1.v"};
    cJSON *out = NULL;
    assert_int_equal(sb_metrics_query(m, f, 1, "-1h", NULL, NULL, NULL, 0, &out, NULL),
                     SB_ERR_UNSUPPORTED);
    sb_metrics_close(m, 0);
    sb_config_free(cfg);
}

int main(void)
{
    influx = sbt_influxd_start();
    base_ms = (sb_time_now_ms() - 30 * 60 * 1000) / 1000 * 1000;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read), cmocka_unit_test(test_odd_ids),
        cmocka_unit_test(test_outage),     cmocka_unit_test(test_buffer_bound),
        cmocka_unit_test(test_disk_spool), cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
