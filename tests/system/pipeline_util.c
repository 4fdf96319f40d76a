/*
 * pipeline_util.c - what the end-to-end pipeline tests share: putting a gateway document (and
 * telling the gateway service), waiting for documents and field values in the store, and
 * checking a field's points in InfluxDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

sbt_pipeline sbt_pl;

void put_gateway(const char *json)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &doc, NULL), SB_OK);
    assert_int_equal(sb_store_put(sbt_pl.store, "gateway", doc, NULL), SB_OK);
    char topic[256], ev[512];
    const char *id = sb_json_str(doc, "id", "");
    snprintf(topic, sizeof(topic), "sbtest/event/gateway/%s", id);
    snprintf(ev, sizeof(ev),
             "{\"type\":\"updated\",\"entityType\":\"gateway\",\"entityId\":\"%s\"}", id);
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, ev, strlen(ev), 1, false), SB_OK);
    cJSON_Delete(doc);
}

/* Waits for a document with a "current" value (fields) or any (others); caller frees. */
cJSON *wait_doc(const char *kind, const char *id, bool with_value, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    for (;;) {
        cJSON *d = NULL;
        if (sb_store_get(sbt_pl.store, kind, id, &d, NULL) == SB_OK &&
            (!with_value || sb_json_path(d, "current.value")))
            return d;
        cJSON_Delete(d);
        if (sb_time_mono_ms() > end)
            fail_msg("%s %s did not appear", kind, id);
        sb_time_sleep_ms(20);
    }
}

/* Checks a field's metric type, unit and that its value is a number in lo..hi. */
double check_number_field(const char *id, const char *metric, const char *unit, double lo,
                          double hi)
{
    cJSON *d = wait_doc("field", id, true, 10000);
    assert_string_equal(sb_json_str(d, "metricType", ""), metric);
    assert_string_equal(sb_json_str(d, "unit", ""), unit);
    const cJSON *v = sb_json_path(d, "current.value");
    assert_true(cJSON_IsNumber(v));
    double value = v->valuedouble;
    if (value < lo || value > hi)
        fail_msg("%s: value %g not in %g..%g", id, value, lo, hi);
    cJSON_Delete(d);
    return value;
}

/* The field's points in InfluxDB: waits until the newest equals the store's current value. */
void check_influx(const char *gw, const char *field_id)
{
    char qid[300], fid[256];
    snprintf(fid, sizeof(fid), "%s.%s", gw, field_id);
    snprintf(qid, sizeof(qid), "field:%s", fid);
    const char *fields[] = {qid};
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *d = wait_doc("field", fid, true, 1000);
        double current = sb_json_path(d, "current.value")->valuedouble;
        cJSON_Delete(d);
        sb_metrics_flush(sbt_pl.metrics, 2000);
        cJSON *out = NULL;
        sb_errmsg em = {{0}};
        if (sb_metrics_query(sbt_pl.metrics, fields, 1, "-1h", NULL, NULL, NULL, 0, &out, &em) !=
            SB_OK)
            fail_msg("influx query %s: %s", qid, em.text);
        const cJSON *rows = sb_json_path(cJSON_GetObjectItem(out, qid), "raw");
        int n = cJSON_GetArraySize(rows);
        const cJSON *last = n ? cJSON_GetArrayItem(rows, n - 1) : NULL;
        bool ok = last && sb_json_num(last, "value", -1e9) == current;
        cJSON_Delete(out);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("influx: %s has %d points, the newest is not the current value %g", qid, n,
                     current);
        sb_time_sleep_ms(100);
    }
}

bool field_bool(const char *id, bool want)
{
    cJSON *d = NULL;
    bool ok = sb_store_get(sbt_pl.store, "field", id, &d, NULL) == SB_OK &&
              cJSON_IsBool(sb_json_path(d, "current.value")) &&
              cJSON_IsTrue(sb_json_path(d, "current.value")) == want;
    cJSON_Delete(d);
    return ok;
}

void wait_field_bool(const char *id, bool want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    while (!field_bool(id, want)) {
        if (sb_time_mono_ms() > end)
            fail_msg("field %s did not become %s", id, want ? "true" : "false");
        sb_time_sleep_ms(20);
    }
}
