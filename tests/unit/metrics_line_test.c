/*
 * metrics_line_test.c - line protocol encoding (escaping, types, geo) and the InfluxQL and
 * Flux text built for sb_metrics_query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/influxdb/line.h"
#include "storage/influxdb/query.h"

static char *enc(const char *gw, const char *node, const char *src, const char *field,
                 sb_metric_type t, const char *v, sb_err want)
{
    static sb_lp_buf b;
    sb_lp_buf_free(&b);
    sb_metric_point p = {gw, node, src, field, t, v, 1764100800123};
    assert_int_equal(sb_lp_encode(&p, &b, NULL), want);
    return b.data ? b.data : "";
}

static void test_types(void **state)
{
    assert_string_equal(enc("gw1", "12", "1", "V_TEMP", SB_METRIC_GAUGE_FLOAT, "21.5", SB_OK),
                        "gauge_float,field=V_TEMP,gateway=gw1,node=12,source=1 value=21.5 "
                        "1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_GAUGE, " 7 ", SB_OK),
                        "gauge,field=f,gateway=g,node=n,source=s value=7 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_GAUGE, "0.1", SB_OK),
                        "gauge,field=f,gateway=g,node=n,source=s value=0.1 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_COUNTER, "42", SB_OK),
                        "counter,field=f,gateway=g,node=n,source=s value=42i 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_COUNTER, "5.0", SB_OK),
                        "counter,field=f,gateway=g,node=n,source=s value=5i 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_BINARY, "ON", SB_OK),
                        "binary,field=f,gateway=g,node=n,source=s value=1i 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_BINARY, "false", SB_OK),
                        "binary,field=f,gateway=g,node=n,source=s value=0i 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_STRING, "a \"b\"\\c\nd", SB_OK),
                        "string,field=f,gateway=g,node=n,source=s value=\"a \\\"b\\\"\\\\c d\" "
                        "1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_GEO, "52.5;13.25;34", SB_OK),
                        "geo,field=f,gateway=g,node=n,source=s latitude=52.5,longitude=13.25,"
                        "altitude=34 1764100800123\n");
    assert_string_equal(enc("g", "n", "s", "f", SB_METRIC_GEO, "1,2", SB_OK),
                        "geo,field=f,gateway=g,node=n,source=s latitude=1,longitude=2 "
                        "1764100800123\n");
}

static void test_invalid(void **state)
{
    enc("g", "n", "s", "f", SB_METRIC_GAUGE, "abc", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_GAUGE, "nan", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_GAUGE, "0x10", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_GAUGE, "", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_COUNTER, "1.5", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_BINARY, "maybe", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_GEO, "1", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_GEO, "1;2;3;4", SB_ERR_INVALID);
    enc("g", "n", "s", "f", SB_METRIC_NONE, "1", SB_ERR_INVALID);
}

static void test_escaping(void **state)
{
    assert_string_equal(enc("g,w=1", "n 1", "", "a\\,b", SB_METRIC_GAUGE, "1", SB_OK),
                        "gauge,field=a/\\,b,gateway=g\\,w\\=1,node=n\\ 1 value=1 "
                        "1764100800123\n");
    assert_string_equal(enc("g\n", "", NULL, "f\t", SB_METRIC_GAUGE, "1", SB_OK),
                        "gauge,field=f_,gateway=g_ value=1 1764100800123\n");
    size_t complete;
    assert_int_equal(sb_lp_count_lines("a 1\nb 2\nc", 9, &complete), 2);
    assert_int_equal(complete, 8);
}

static sb_quickid qid(const char *text)
{
    sb_quickid q;
    assert_int_equal(sb_quickid_parse(text, &q, NULL), SB_OK);
    return q;
}

static void test_influxql(void **state)
{
    sb_quickid q = qid("field:gw1.12.1.V_TEMP");
    sb_lp_buf b = {0};
    assert_int_equal(sb_influxql_build(&q, "-1h", NULL, "5m", "mean", false, &b, NULL), SB_OK);
    assert_string_equal(b.data, "SELECT mean(\"value\") FROM "
                                "\"gauge\",\"gauge_float\",\"counter\",\"binary\" WHERE "
                                "\"gateway\" = 'gw1' AND \"node\" = '12' AND \"source\" = '1' "
                                "AND \"field\" = 'V_TEMP' AND time >= now() - 3600000ms AND "
                                "time <= now() GROUP BY time(300000ms) fill(none)");
    sb_lp_buf_free(&b);
    q = qid("field:g'w.n,1.s=1.f");
    assert_int_equal(sb_influxql_build(&q, "2026-11-25T20:00:00Z", "2026-11-25T21:00:00.5Z", NULL,
                                       "percentile_95", false, &b, NULL),
                     SB_OK);
    assert_string_equal(b.data, "SELECT PERCENTILE(\"value\", 95) FROM "
                                "\"gauge\",\"gauge_float\",\"counter\",\"binary\" WHERE "
                                "\"gateway\" = 'g\\'w' AND \"node\" = 'n,1' AND \"source\" = "
                                "'s=1' AND \"field\" = 'f' AND time >= 1795636800000ms AND "
                                "time <= 1795640400500ms");
    sb_lp_buf_free(&b);
    assert_int_equal(sb_influxql_build(&q, "-1h", NULL, NULL, NULL, true, &b, NULL), SB_OK);
    assert_non_null(strstr(b.data, "SELECT \"value\" FROM \"string\" WHERE"));
    sb_lp_buf_free(&b);
    assert_int_equal(sb_influxql_build(&q, "-1h", NULL, NULL, "median; DROP", false, &b, NULL),
                     SB_ERR_INVALID);
    assert_int_equal(sb_influxql_build(&q, "yesterday", NULL, NULL, "mean", false, &b, NULL),
                     SB_ERR_INVALID);
    assert_int_equal(sb_influxql_build(&q, "-1h", NULL, "often", "mean", false, &b, NULL),
                     SB_ERR_INVALID);
    assert_true(sb_influxql_on_strings("last") && !sb_influxql_on_strings("mean"));
    sb_lp_buf_free(&b);
}

static void test_flux(void **state)
{
    sb_quickid q = qid("field:gw1.12.1.V_\"T$");
    sb_lp_buf b = {0};
    assert_int_equal(sb_flux_build("sw", &q, "-1h", NULL, "5m", "percentile_95", &b, NULL), SB_OK);
    assert_string_equal(
        b.data, "from(bucket: \"sw\")\n"
                "  |> range(start: -3600000ms, stop: now())\n"
                "  |> filter(fn: (r) => r._field == \"value\" and r.gateway == \"gw1\" and "
                "r.node == \"12\" and r.source == \"1\" and r.field == \"V_\\\"T\\$\")\n"
                "  |> aggregateWindow(every: 300000ms, fn: (column, tables=<-) => tables |> "
                "quantile(q: 0.95, column: column), createEmpty: false)\n"
                "  |> group()\n  |> sort(columns: [\"_time\"])\n");
    sb_lp_buf_free(&b);
    assert_int_equal(
        sb_flux_build("sw", &q, "2026-11-25T20:00:00Z", "now", NULL, "count", &b, NULL), SB_OK);
    assert_non_null(strstr(b.data, "range(start: 2026-11-25T20:00:00.000Z, stop: now())"));
    assert_non_null(strstr(b.data, "  |> count()\n"));
    sb_lp_buf_free(&b);
}

static void test_answers(void **state)
{
    cJSON *res = cJSON_Parse("{\"statement_id\":0,\"series\":[{\"name\":\"gauge\",\"columns\":"
                             "[\"time\",\"mean\"],\"values\":[[2000,1.5],[1000,2]]}]}");
    cJSON *rows = NULL;
    assert_int_equal(sb_influxql_rows(res, &rows, NULL), SB_OK);
    char *s = cJSON_PrintUnformatted(rows);
    assert_string_equal(s, "[{\"time\":\"1970-01-01T00:00:01.000Z\",\"value\":2},"
                           "{\"time\":\"1970-01-01T00:00:02.000Z\",\"value\":1.5}]");
    free(s);
    cJSON_Delete(rows);
    cJSON_Delete(res);
    res = cJSON_Parse("{\"statement_id\":0,\"error\":\"boom\"}");
    assert_int_equal(sb_influxql_rows(res, &rows, NULL), SB_ERR_REMOTE);
    cJSON_Delete(res);
    const char *csv = ",result,table,_start,_stop,_time,_value,field\r\n"
                      ",_result,0,x,y,2026-11-25T20:00:00Z,21.5,V_TEMP\r\n"
                      ",_result,0,x,y,2026-11-25T20:05:00Z,22,V_TEMP\r\n\r\n";
    assert_int_equal(sb_flux_rows(csv, &rows, NULL), SB_OK);
    s = cJSON_PrintUnformatted(rows);
    assert_string_equal(s, "[{\"time\":\"2026-11-25T20:00:00.000Z\",\"value\":21.5},"
                           "{\"time\":\"2026-11-25T20:05:00.000Z\",\"value\":22}]");
    free(s);
    cJSON_Delete(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),    cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_escaping), cmocka_unit_test(test_influxql),
        cmocka_unit_test(test_flux),     cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
