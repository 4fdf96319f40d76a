/*
 * processor_test - the message processor against a real mosquitto and a sqlite store in a temp
 * dir. The processor runs in this process on a thread (to capture its metric points), except in
 * the kill -9 test, which runs switchboard-processor as a child and kills it mid-stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include "core/json.h"
#include "core/proc.h"
#include "core/stream.h"
#include "core/time.h"
#include "services/processor/processor.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_broker *broker;
static char yaml_path[700];
static sb_config *cfg;
static sb_store *store; /* the test's own connection to the processor's store */

/* ---- what the processor emits ---------------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    int points;
    double last_point;
    int out_order_points;
    cJSON *events; /* every event object received */
    cJSON *out;    /* messages on msg/out */
} seen;
static seen S;

static sb_err on_point(void *ctx, const sb_metric_point *pt)
{
    (void)ctx;
    pthread_mutex_lock(&S.mu);
    S.points++;
    if (strcmp(pt->field_id, "V_ORDER") == 0) {
        double v = strtod(pt->value, NULL);
        if (v != S.last_point + 1)
            S.out_order_points++;
        S.last_point = v;
    }
    pthread_mutex_unlock(&S.mu);
    return SB_OK;
}

static void on_event(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&S.mu);
    if (cJSON_IsArray(j)) {
        cJSON *e;
        while ((e = cJSON_DetachItemFromArray(j, 0)))
            cJSON_AddItemToArray(S.events, e);
        cJSON_Delete(j);
    } else {
        cJSON_AddItemToArray(S.events, j);
    }
    pthread_mutex_unlock(&S.mu);
}

static void on_out(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) == SB_OK) {
        pthread_mutex_lock(&S.mu);
        cJSON_AddItemToArray(S.out, j);
        pthread_mutex_unlock(&S.mu);
    }
}

/* ---- the processor on a thread --------------------------------------------------------- */

static sb_stop_flag stop;
static pthread_t thr;
static sb_bus *bus; /* the test's client: producer, event and msg/out subscriber */
static sb_stream_producer *prod;

static void *run_processor(void *arg)
{
    (void)arg;
    sb_processor_hooks h = {.metrics_write = on_point};
    sb_processor_run_with(cfg, &stop, &h);
    return NULL;
}

static void write_config(const char *dir, const char *name, int64_t down_ms)
{
    snprintf(yaml_path, sizeof(yaml_path), "%s/%s.yaml", dir, name);
    FILE *f = fopen(yaml_path, "w");
    assert_non_null(f);
    fprintf(f,
            "data_dir: %s\ninstance: %s\nlog:\n  level: warn\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
            "  reconnect_max: 500ms\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/%s.db\n"
            "metrics:\n  type: none\n  managed: false\n"
            "processor:\n  node_down_after: %lldms\n  field_cache: 16\n",
            dir, name, broker->url, dir, name, (long long)down_ms);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    broker = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("proc");
    write_config(dir, "p1", 700);
    sb_errmsg em = {{0}};
    if (sb_config_load(yaml_path, &cfg, &em) != SB_OK) {
        fprintf(stderr, "%s\n", em.text);
        return 1;
    }
    pthread_mutex_init(&S.mu, NULL);
    S.events = cJSON_CreateArray();
    S.out = cJSON_CreateArray();
    sb_stop_init(&stop);
    pthread_create(&thr, NULL, run_processor, NULL);
    if (sb_store_open(cfg, &store, &em) != SB_OK)
        return 1;
    static sb_config_bus bc; /* the bus keeps a pointer to it */
    sbt_bus_config(&bc);
    bus = sbt_bus(&bc, "test", "p1", true);
    sb_bus_subscribe(bus, "sbtest/event/#", 1, on_event, NULL, NULL);
    sb_bus_subscribe(bus, "sbtest/msg/out/#", 1, on_out, NULL, NULL);
    sb_stream_producer_opts o = {.bus = bus,
                                 .stream = "gw1",
                                 .topic = "sbtest/msg/in/gw1",
                                 .batch_max = 500,
                                 .batch_delay_ms = 5,
                                 .resend_ms = 1000};
    return sb_stream_producer_create(&o, &prod, NULL) == SB_OK ? 0 : 1;
}

static int teardown(void **state)
{
    (void)state;
    sb_stream_producer_destroy(prod);
    sb_stop_raise(&stop);
    pthread_join(thr, NULL);
    sb_bus_destroy(bus, 500);
    sb_store_close(store);
    sb_config_free(cfg);
    cJSON_Delete(S.events);
    cJSON_Delete(S.out);
    sbt_broker_stop();
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

static void send(const char *node, const char *src, const char *type, const char *key,
                 const char *value, sb_metric_type mt, const char *unit)
{
    sb_msg_type t;
    assert_int_equal(sb_msg_type_parse(type, &t), SB_OK);
    sb_msg *m = sb_msg_new("gw1", node, src, t);
    sb_msg_add_payload(m, key, value, mt, unit);
    assert_int_equal(sb_stream_add(prod, sb_msg_to_json(m)), SB_OK);
    sb_msg_free(m);
}

static void sync_all(void)
{
    assert_int_equal(sb_stream_wait_acked(prod, 10000), SB_OK);
}

static cJSON *get(const char *kind, const char *id)
{
    cJSON *d = NULL;
    sb_errmsg em = {{0}};
    if (sb_store_get(store, kind, id, &d, &em) != SB_OK)
        fail_msg("%s %s: %s", kind, id, em.text);
    return d;
}

static bool has_event(const char *type, const char *qid)
{
    pthread_mutex_lock(&S.mu);
    bool found = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, S.events)
    {
        if (strcmp(sb_json_str(e, "type", ""), type) == 0 &&
            strcmp(sb_json_str(e, "quickId", ""), qid) == 0 && cJSON_GetObjectItem(e, "entity"))
            found = true;
    }
    pthread_mutex_unlock(&S.mu);
    return found;
}

static bool event_created_temp(void *ctx)
{
    (void)ctx;
    return has_event("created", "field:gw1.12.1.V_TEMP") && has_event("created", "node:gw1.12");
}

static int count_events(const char *type, const char *qid)
{
    pthread_mutex_lock(&S.mu);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, S.events)
    {
        n += strcmp(sb_json_str(e, "type", ""), type) == 0 &&
             strcmp(sb_json_str(e, "quickId", ""), qid) == 0;
    }
    pthread_mutex_unlock(&S.mu);
    return n;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_frame_builds_tree(void **state)
{
    (void)state;
    send("12", "1", "set", "V_TEMP", "21.5", SB_METRIC_GAUGE_FLOAT, "°C");
    send("12", "2", "set", "V_STATUS", "on", SB_METRIC_BINARY, NULL);
    send("12", "", "set", "battery", "87", SB_METRIC_GAUGE, "%");
    send("12", "1", "presentation", "S_TEMP", "Kitchen", SB_METRIC_NONE, NULL);
    sync_all();
    cJSON *f = get("field", "gw1.12.1.V_TEMP");
    assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == 21.5);
    assert_string_equal(sb_json_str(f, "metricType", ""), "gauge_float");
    assert_string_equal(sb_json_str(f, "unit", ""), "°C");
    assert_string_equal(sb_json_str(f, "gatewayId", ""), "gw1");
    assert_string_equal(sb_json_str(f, "sourceId", ""), "1");
    assert_non_null(cJSON_GetObjectItem(f, "noChangeSince"));
    assert_non_null(cJSON_GetObjectItem(f, "lastSeen"));
    cJSON_Delete(f);
    f = get("field", "gw1.12.2.V_STATUS");
    assert_true(cJSON_IsTrue(sb_json_path(f, "current.value")));
    cJSON_Delete(f);
    f = get("field", "gw1.12._node.battery");
    assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == 87);
    cJSON_Delete(f);
    cJSON *n = get("node", "gw1.12");
    assert_string_equal(sb_json_str(sb_json_path(n, "state"), "status", ""), "up");
    cJSON_Delete(n);
    cJSON *s = get("source", "gw1.12.1");
    assert_string_equal(sb_json_str(s, "name", ""), "Kitchen");
    assert_string_equal(sb_json_str(sb_json_path(s, "others"), "type", ""), "S_TEMP");
    cJSON_Delete(s);
    assert_true(sbt_wait(event_created_temp, NULL, 5000));
    pthread_mutex_lock(&S.mu);
    assert_true(S.points >= 3);
    pthread_mutex_unlock(&S.mu);
}

/* With field_cache 16, 40 fields do not stay in memory: the second value of each is applied to
 * the record read back from the store (its previous value is the first), never to a new one. */
static void test_field_cache_reads_back(void **state)
{
    (void)state;
    char key[16];
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < 40; i++) {
            snprintf(key, sizeof(key), "F%d", i);
            send("30", "1", "set", key, round == 1 ? "1" : "2", SB_METRIC_GAUGE, NULL);
        }
        sync_all();
    }
    for (int i = 0; i < 40; i += 13) {
        snprintf(key, sizeof(key), "gw1.30.1.F%d", i);
        cJSON *f = get("field", key);
        assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == 2);
        assert_true(sb_json_num(sb_json_path(f, "previous"), "value", 0) == 1);
        cJSON_Delete(f);
    }
    int64_t deadline = sb_time_mono_ms() + 5000;
    while (count_events("updated", "field:gw1.30.1.F0") < 1 && sb_time_mono_ms() < deadline)
        sb_time_sleep_ms(10);
    assert_int_equal(count_events("created", "field:gw1.30.1.F0"), 1);
    assert_int_equal(count_events("updated", "field:gw1.30.1.F0"), 1);
}

static void test_conversion_and_rejection(void **state)
{
    (void)state;
    sb_msg *m = sb_msg_new("gw1", "13", "1", SB_MSG_SET);
    sb_msg_add_payload(m, "V_BAD", "21,5", SB_METRIC_GAUGE, NULL);
    sb_msg_add_payload(m, "V_CNT", "1.5", SB_METRIC_COUNTER, NULL);
    sb_msg_add_payload(m, "V_OK", "-3e2", SB_METRIC_GAUGE_FLOAT, NULL);
    sb_msg_add_payload(m, "V_GEO", "52.5;13.4;34", SB_METRIC_GEO, NULL);
    assert_int_equal(sb_stream_add(prod, sb_msg_to_json(m)), SB_OK);
    sb_msg_free(m);
    sync_all();
    cJSON *f = get("field", "gw1.13.1.V_OK");
    assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == -300);
    cJSON_Delete(f);
    f = get("field", "gw1.13.1.V_GEO");
    assert_true(sb_json_num(sb_json_path(f, "current.value"), "latitude", 0) == 52.5);
    cJSON_Delete(f);
    /* rejected values leave no current value; the field record itself exists */
    f = get("field", "gw1.13.1.V_BAD");
    assert_null(cJSON_GetObjectItem(f, "current"));
    cJSON_Delete(f);
    f = get("field", "gw1.13.1.V_CNT");
    assert_null(cJSON_GetObjectItem(f, "current"));
    cJSON_Delete(f);
}

static void test_ignore_labels(void **state)
{
    (void)state;
    send("14", "1", "set", "V_TEMP", "20", SB_METRIC_GAUGE_FLOAT, "°C");
    sync_all();
    cJSON *f = get("field", "gw1.14.1.V_TEMP");
    sb_json_set_str(f, "name", "Hall temperature");
    sb_json_set_str(f, "unit", "K");
    cJSON *labels = cJSON_GetObjectItem(f, "labels");
    sb_json_set_str(labels, "ignore_unit", "true");
    assert_int_equal(sb_store_put(store, "field", f, NULL), SB_OK);
    cJSON_Delete(f);
    sb_bus_publish(bus, "sbtest/ctl/processor/reload", "{}", 2, 1, false);
    send("14", "1", "set", "V_TEMP", "21", SB_METRIC_GAUGE_FLOAT, "°F");
    sync_all();
    f = get("field", "gw1.14.1.V_TEMP");
    assert_string_equal(sb_json_str(f, "unit", ""), "K");
    assert_string_equal(sb_json_str(f, "name", ""), "Hall temperature");
    assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == 21);
    assert_true(sb_json_num(sb_json_path(f, "previous"), "value", 0) == 20);
    cJSON_Delete(f);
}

static bool got_reply(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&S.mu);
    bool ok = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, S.out)
    {
        const cJSON *pl = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "payloads"), 0);
        ok = ok || (strcmp(sb_json_str(m, "type", ""), "set") == 0 &&
                    strcmp(sb_json_str(pl, "key", ""), "V_TEMP") == 0 &&
                    strcmp(sb_json_str(pl, "value", ""), "21.5") == 0);
    }
    pthread_mutex_unlock(&S.mu);
    return ok;
}

static void test_request_answered(void **state)
{
    (void)state;
    send("12", "1", "request", "V_TEMP", "", SB_METRIC_NONE, NULL);
    sync_all();
    assert_true(sbt_wait(got_reply, NULL, 5000));
}

static void test_order_within_batch(void **state)
{
    (void)state;
    pthread_mutex_lock(&S.mu);
    S.last_point = -1;
    pthread_mutex_unlock(&S.mu);
    for (int i = 0; i < 300; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        send("15", "1", "set", "V_ORDER", v, SB_METRIC_COUNTER, NULL);
    }
    sync_all();
    cJSON *f = get("field", "gw1.15.1.V_ORDER");
    assert_true(sb_json_num(sb_json_path(f, "current"), "value", 0) == 299);
    assert_true(sb_json_num(sb_json_path(f, "previous"), "value", 0) == 298);
    cJSON_Delete(f);
    pthread_mutex_lock(&S.mu);
    assert_int_equal(S.out_order_points, 0);
    assert_true(S.last_point == 299);
    pthread_mutex_unlock(&S.mu);
}

static void test_duplicate_frame_once(void **state)
{
    (void)state;
    sb_msg *m = sb_msg_new("gw1", "16", "1", SB_MSG_SET);
    sb_msg_add_payload(m, "V_DUP", "5", SB_METRIC_GAUGE, NULL);
    cJSON *items = cJSON_CreateArray();
    cJSON_AddItemToArray(items, sb_msg_to_json(m));
    sb_msg_free(m);
    size_t len;
    char *text = sb_stream_encode("dup", 1000, 1, items, &len);
    cJSON_Delete(items);
    pthread_mutex_lock(&S.mu);
    int before = S.points;
    pthread_mutex_unlock(&S.mu);
    for (int i = 0; i < 3; i++)
        sb_bus_publish(bus, "sbtest/msg/in/gw1", text, len, 1, false);
    free(text);
    sb_bus_flush(bus, 2000);
    send("16", "1", "set", "V_AFTER", "1", SB_METRIC_GAUGE, NULL); /* a barrier: same worker */
    sync_all();
    cJSON *f = get("field", "gw1.16.1.V_DUP");
    assert_null(cJSON_GetObjectItem(f, "previous")); /* applied twice would have one */
    cJSON_Delete(f);
    cJSON *pos = get("_stream", "dup");
    assert_int_equal((int)sb_json_num(pos, "seq", 0), 1);
    cJSON_Delete(pos);
    pthread_mutex_lock(&S.mu);
    assert_int_equal(S.points - before, 2); /* V_DUP once, V_AFTER once */
    pthread_mutex_unlock(&S.mu);
}

static bool node_down(void *ctx)
{
    cJSON *n = NULL;
    if (sb_store_get(store, "node", ctx, &n, NULL) != SB_OK)
        return false;
    bool down = strcmp(sb_json_str(sb_json_path(n, "state"), "status", ""), "down") == 0;
    cJSON_Delete(n);
    return down;
}

/* Events go out after the commit: the store can show "down" before the event arrives. */
static bool node17_down_event(void *ctx)
{
    (void)ctx;
    return has_event("updated", "node:gw1.17");
}

static void test_node_goes_down(void **state)
{
    (void)state;
    send("17", "1", "set", "V_X", "1", SB_METRIC_GAUGE, NULL);
    sync_all();
    assert_false(node_down("gw1.17"));
    assert_true(sbt_wait(node_down, "gw1.17", 5000));
    assert_true(sbt_wait(node17_down_event, NULL, 5000));
}

static const char *node_status(const char *id, char *buf, size_t len)
{
    cJSON *n = get("node", id);
    snprintf(buf, len, "%s|%s", sb_json_str(sb_json_path(n, "state"), "status", ""),
             sb_json_str(sb_json_path(n, "state"), "message", ""));
    cJSON_Delete(n);
    return buf;
}

/* Providers report availability (LWT, status topics) as a node_state action. */
static void test_node_state_action(void **state)
{
    (void)state;
    char buf[128];
    send("18", "1", "set", "V_X", "1", SB_METRIC_GAUGE, NULL);
    send("18", "", "action", "node_state", "down", SB_METRIC_NONE, NULL);
    sync_all();
    assert_string_equal(node_status("gw1.18", buf, sizeof(buf)), "down|reported by the device");
    send("18", "", "action", "node_state", "sideways", SB_METRIC_NONE, NULL);
    sync_all();
    assert_string_equal(node_status("gw1.18", buf, sizeof(buf)), "down|reported by the device");
    send("18", "", "action", "node_state", "up", SB_METRIC_NONE, NULL);
    sync_all();
    assert_string_equal(node_status("gw1.18", buf, sizeof(buf)), "up|");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_builds_tree),
        cmocka_unit_test(test_field_cache_reads_back),
        cmocka_unit_test(test_conversion_and_rejection),
        cmocka_unit_test(test_ignore_labels),
        cmocka_unit_test(test_request_answered),
        cmocka_unit_test(test_order_within_batch),
        cmocka_unit_test(test_duplicate_frame_once),
        cmocka_unit_test(test_node_goes_down),
        cmocka_unit_test(test_node_state_action),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
