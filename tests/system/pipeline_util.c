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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "services/gateway/gateway.h"
#include "services/processor/processor.h"

sbt_pipeline sbt_pl;

/* ---- the environment: broker, influxd, store, gateway and processor threads ---- */

static sb_broker *broker;
static sb_config *cfg;
static sb_store *store;
static sb_metrics *metrics;
static sb_bus *bus;
static sb_stop_flag stop;
static pthread_t gw_thread, proc_thread;
static const char *tmp;

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *gw_status; /* the gateway service's latest retained status */

static void set_str(char **dst, const char *value)
{
    free(*dst);
    *dst = strdup(value);
}

static sb_err metrics_write(void *ctx, const sb_metric_point *p)
{
    return sb_metrics_write(ctx, p);
}

static void *gw_main(void *arg)
{
    (void)arg;
    sb_gateway_run(cfg, &stop);
    return NULL;
}

static void *proc_main(void *arg)
{
    (void)arg;
    sb_processor_hooks hooks = {.metrics_write = metrics_write, .metrics_ctx = metrics};
    sb_processor_run_with(cfg, &stop, &hooks);
    return NULL;
}

static void on_status(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(bm->payload, bm->len, &j, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&status_mu);
    cJSON_Delete(gw_status);
    gw_status = j;
    pthread_mutex_unlock(&status_mu);
}

static void make_config(void)
{
    char path[1024];
    assert_int_equal(sb_config_defaults(&cfg, NULL), SB_OK);
    set_str(&cfg->data_dir, tmp);
    set_str(&cfg->instance, "e2e");
    set_str(&cfg->bus.url, broker->url);
    set_str(&cfg->bus.topic_prefix, "sbtest");
    cfg->bus.managed = false;
    cfg->bus.reconnect_min_ms = 50;
    cfg->bus.reconnect_max_ms = 500;
    cfg->bus.status_interval_ms = 500; /* tests read counters from the gateway status */
    cfg->storage.type = SB_STORE_SQLITE;
    snprintf(path, sizeof(path), "%s/sb.db", tmp);
    set_str(&cfg->storage.sqlite.path, path);
    snprintf(path, sizeof(path), "%s/logs", tmp);
    set_str(&cfg->gateway.log_dir, path);
    cfg->metrics.managed = false;
    set_str(&cfg->metrics.database, "e2e");
    cfg->metrics.flush_interval_ms = 50;
    cfg->metrics.timeout_ms = 2000;
}

int sbt_pipeline_setup(void **state)
{
    (void)state;
    broker = sbt_broker_start("max_queued_messages 0\nmax_inflight_messages 0\n");
    sb_influxd *influx = sbt_influxd_start();
    tmp = sbt_tmpdir("pipeline");
    make_config();
    sb_errmsg em = {{0}};
    if (sb_metrics_open_url(cfg, influx->url, &metrics, &em) != SB_OK)
        fail_msg("metrics: %s", em.text);
    assert_int_equal(sb_store_open(cfg, &store, NULL), SB_OK);
    static sb_config_bus bc; /* the bus borrows it for its lifetime */
    sbt_bus_config(&bc);
    bus = sbt_bus(&bc, "e2etest", "t1", true);
    sbt_pl = (sbt_pipeline){
        .broker = broker, .cfg = cfg, .store = store, .bus = bus, .metrics = metrics, .tmp = tmp};
    sb_bus_subscribe(bus, "sbtest/status/gateway/e2e", 1, on_status, NULL, NULL);
    sb_stop_init(&stop);
    pthread_create(&proc_thread, NULL, proc_main, NULL);
    pthread_create(&gw_thread, NULL, gw_main, NULL);
    return 0;
}

int sbt_pipeline_teardown(void **state)
{
    (void)state;
    sb_stop_raise(&stop);
    pthread_join(gw_thread, NULL);
    pthread_join(proc_thread, NULL);
    sb_bus_destroy(bus, 500);
    sb_metrics_close(metrics, 1000);
    sb_store_close(store);
    sb_config_free(cfg);
    cJSON_Delete(gw_status);
    sbt_broker_stop();
    sbt_influxd_stop();
    return 0;
}

double sbt_pipeline_status_num(const char *path)
{
    pthread_mutex_lock(&status_mu);
    const cJSON *v = gw_status ? sb_json_path(gw_status, path) : NULL;
    double n = cJSON_IsNumber(v) ? v->valuedouble : -1;
    pthread_mutex_unlock(&status_mu);
    return n;
}

/* ---- store and InfluxDB helpers ---- */

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

void wait_node_state(const char *id, const char *status)
{
    int64_t end = sb_time_mono_ms() + 10000;
    char now[32] = "";
    for (;;) {
        cJSON *d = NULL;
        if (sb_store_get(sbt_pl.store, "node", id, &d, NULL) == SB_OK)
            snprintf(now, sizeof(now), "%s", sb_json_str(sb_json_path(d, "state"), "status", ""));
        cJSON_Delete(d);
        if (strcmp(now, status) == 0)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("node %s did not become %s (it is '%s')", id, status, now);
        sb_time_sleep_ms(20);
    }
}

void wait_number(const char *id, double want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *d = NULL;
        bool ok = sb_store_get(sbt_pl.store, "field", id, &d, NULL) == SB_OK &&
                  sb_json_num(cJSON_GetObjectItem(d, "current"), "value", -1e9) == want;
        cJSON_Delete(d);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("field %s did not become %g", id, want);
        sb_time_sleep_ms(20);
    }
}

void send_out(const char *gw, const char *type, const char *node, const char *src, const char *key,
              const char *value)
{
    char msg[512], topic[256];
    snprintf(msg, sizeof(msg),
             "{\"gatewayId\":\"%s\",\"nodeId\":\"%s\",\"sourceId\":\"%s\",\"type\":\"%s\","
             "\"payloads\":[{\"key\":\"%s\",\"value\":\"%s\"}]}",
             gw, node, src, type, key, value);
    snprintf(topic, sizeof(topic), "sbtest/msg/out/%s", gw);
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, msg, strlen(msg), 1, false), SB_OK);
}

void send_set(const char *gw, const char *node, const char *src, const char *key, const char *value)
{
    send_out(gw, "set", node, src, key, value);
}

/* ---- devsim ---- */

void sbt_devsim_start(sbt_devsim *s, const char *transport, const char *nodes, const char *period)
{
    sbt_devsim_start_with(s, transport, nodes, period, NULL);
}

void sbt_devsim_start_with(sbt_devsim *s, const char *transport, const char *nodes,
                           const char *period, const char *const *extra)
{
    snprintf(s->log, sizeof(s->log), "%s/devsim-%s.log", sbt_pl.tmp, transport);
    snprintf(s->record, sizeof(s->record), "%s/devsim-%s.rx", sbt_pl.tmp, transport);
    const char *argv[32] = {sbt_build_path("../../tools/devsim/devsim"),
                            "--transport",
                            transport,
                            "--tele-period",
                            period,
                            "--url",
                            sbt_pl.broker->url,
                            "--record",
                            s->record};
    size_t n = 9;
    if (nodes) {
        argv[n++] = "--nodes";
        argv[n++] = nodes;
    }
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&s->proc, argv, s->log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    char ready[64];
    snprintf(ready, sizeof(ready), "devsim: %s ", transport);
    int64_t end = sb_time_mono_ms() + 5000;
    while (!sbt_file_count(s->log, ready)) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not start (%s)", s->log);
        sb_time_sleep_ms(10);
    }
}

void sbt_devsim_wait_record(const sbt_devsim *s, const char *line)
{
    int64_t end = sb_time_mono_ms() + 5000;
    while (!sbt_file_count(s->record, line)) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not receive '%s'", line);
        sb_time_sleep_ms(20);
    }
}

int sbt_file_count(const char *path, const char *prefix)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return n;
}
