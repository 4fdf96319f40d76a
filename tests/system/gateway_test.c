/*
 * gateway_test - the gateway service against a real mosquitto and a sqlite store in a temp
 * directory, with the test-only "testdev" provider (gateway_testdev.c) whose device link is
 * MQTT: device frames appear on msg/in as core/stream.h frames (the test acks them as the
 * processor does), msg/out reaches the device, acks are awaited and
 * resent on a lossy link, sleeping nodes get their newest held values on wake, state events
 * up/down/error, reconnect, reload on an event and on ctl/gateway/reload, log rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway_testdev.h"
#include "harness.h"

#include "core/json.h"
#include "core/secret.h"
#include "core/stream.h"
#include "core/time.h"
#include "services/gateway/gateway.h"
#include "storage/store.h"

static sb_config_bus buscfg;
static sb_config *cfg;
static sb_store *store;
static sb_bus *bus;
static sb_stop_flag stop;
static pthread_t svc_thread;
static const char *tmp;

/* Everything seen: {"t": topic, "m": message or event}. */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *seen;
static int drop_acks; /* the device ignores this many messages before acking again */

static void remember(const char *topic, cJSON *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "t", topic);
    cJSON_AddItemToObject(o, "m", m);
    pthread_mutex_lock(&seen_mu);
    cJSON_AddItemToArray(seen, o);
    pthread_mutex_unlock(&seen_mu);
}

static void on_frame(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    sb_msg_batch b = {0};
    if (sb_msg_decode_batch(bm->payload, bm->len, &b, NULL) != SB_OK)
        return;
    for (size_t i = 0; i < b.n; i++)
        remember(bm->topic, sb_msg_to_json(b.msgs[i]));
    sb_msg_batch_free(&b);
}

static int stream_frames;  /* sequenced frames seen on msg/in */
static int ack_frames = 1; /* 0: act as a processor that stopped acknowledging */

/* msg/in carries stream frames (core/stream.h): take the items, then ack as a processor does. */
static void on_msg_in(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    sb_stream_frame f = {0};
    if (sb_stream_decode(bm->payload, bm->len, &f, NULL) != SB_OK)
        return;
    const cJSON *item;
    cJSON_ArrayForEach(item, f.items)
    {
        sb_msg *m = NULL;
        if (sb_msg_from_json(item, &m, NULL) == SB_OK) {
            remember(bm->topic, sb_msg_to_json(m));
            sb_msg_free(m);
        }
    }
    if (f.sequenced && __atomic_load_n(&ack_frames, __ATOMIC_SEQ_CST)) {
        __atomic_fetch_add(&stream_frames, 1, __ATOMIC_SEQ_CST);
        sb_stream_pos pos = {.epoch = f.epoch, .seq = f.seq};
        sb_stream_ack(bus, f.stream, &pos, false);
    }
    sb_stream_frame_free(&f);
}

/* The devices: remember what they got and acknowledge it (unless told to lose some). */
static void on_device_rx(void *ctx, const sb_bus_msg *bm)
{
    on_frame(ctx, bm);
    sb_msg_batch b = {0};
    if (sb_msg_decode_batch(bm->payload, bm->len, &b, NULL) != SB_OK)
        return;
    char topic[256];
    snprintf(topic, sizeof(topic), "%.*s/tx", (int)(strrchr(bm->topic, '/') - bm->topic),
             bm->topic);
    for (size_t i = 0; i < b.n; i++) {
        if (__atomic_fetch_sub(&drop_acks, 1, __ATOMIC_SEQ_CST) > 0)
            continue;
        b.msgs[i]->is_ack = true;
        size_t len;
        char *text = sb_msg_encode(b.msgs[i], &len);
        sb_bus_publish(bus, topic, text, len, 1, false);
        free(text);
    }
    __atomic_store_n(&drop_acks, drop_acks < 0 ? 0 : drop_acks, __ATOMIC_SEQ_CST);
    sb_msg_batch_free(&b);
}

static void on_event(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *ev = NULL;
    if (sb_json_parse(bm->payload, bm->len, &ev, NULL) == SB_OK)
        remember(bm->topic, ev);
}

/* How many seen items on topic have path == value (value NULL: any). */
static int count(const char *topic, const char *path, const char *value)
{
    int n = 0;
    pthread_mutex_lock(&seen_mu);
    const cJSON *o;
    cJSON_ArrayForEach(o, seen)
    {
        if (strcmp(cJSON_GetObjectItem(o, "t")->valuestring, topic) != 0)
            continue;
        const cJSON *v = path ? sb_json_path(cJSON_GetObjectItem(o, "m"), path) : NULL;
        if (!path || (!value && v) ||
            (value && cJSON_IsString(v) && !strcmp(v->valuestring, value)))
            n++;
    }
    pthread_mutex_unlock(&seen_mu);
    return n;
}

static bool wait_count(const char *topic, const char *path, const char *value, int n,
                       int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (count(topic, path, value) < n) {
        if (sb_time_mono_ms() > end)
            return false;
        sb_time_sleep_ms(5);
    }
    return true;
}

static void put_gateway(const char *json)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &doc, NULL), SB_OK);
    sb_errmsg em = {{0}};
    assert_int_equal(sb_store_put(store, "gateway", doc, &em), SB_OK);
    char topic[256], ev[512];
    snprintf(topic, sizeof(topic), "sbtest/event/gateway/%s", sb_json_str(doc, "id", ""));
    snprintf(ev, sizeof(ev),
             "{\"type\":\"updated\",\"entityType\":\"gateway\",\"entityId\":\"%s\"}",
             sb_json_str(doc, "id", ""));
    sb_bus_publish(bus, topic, ev, strlen(ev), 1, false);
    cJSON_Delete(doc);
}

static void publish(const char *topic, const char *text)
{
    assert_int_equal(sb_bus_publish(bus, topic, text, strlen(text), 1, false), SB_OK);
}

static void *svc_main(void *arg)
{
    (void)arg;
    sb_gateway_run(cfg, &stop);
    return NULL;
}

static void set_str(char **dst, const char *value)
{
    free(*dst);
    *dst = strdup(value);
}

static int setup(void **state)
{
    (void)state;
    sbt_broker_start(NULL);
    sbt_bus_config(&buscfg);
    testdev_bus_cfg = &buscfg;
    tmp = sbt_tmpdir("gateway");
    seen = cJSON_CreateArray();
    assert_int_equal(sb_config_defaults(&cfg, NULL), SB_OK);
    char path[1024];
    set_str(&cfg->data_dir, tmp);
    set_str(&cfg->secret, "gateway-test-secret");
    set_str(&cfg->bus.url, buscfg.url);
    set_str(&cfg->bus.topic_prefix, "sbtest");
    cfg->bus.managed = false;
    cfg->bus.reconnect_min_ms = 50;
    cfg->bus.reconnect_max_ms = 500;
    cfg->storage.type = SB_STORE_SQLITE;
    snprintf(path, sizeof(path), "%s/sb.db", tmp);
    set_str(&cfg->storage.sqlite.path, path);
    snprintf(path, sizeof(path), "%s/logs", tmp);
    set_str(&cfg->gateway.log_dir, path);
    assert_int_equal(sb_store_open(cfg, &store, NULL), SB_OK);
    bus = sbt_bus(&buscfg, "gwtest", "t1", true);
    sb_bus_subscribe(bus, "sbtest/msg/in/+", 1, on_msg_in, NULL, NULL);
    sb_bus_subscribe(bus, "sbtest/event/gateway/+", 1, on_event, NULL, NULL);
    sb_bus_subscribe(bus, "dev/+/rx", 1, on_device_rx, NULL, NULL);
    sb_time_sleep_ms(200); /* subscriptions settle */
    put_gateway("{\"id\":\"gw1\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
                "\"ack\":{\"retryCount\":3,\"timeout\":\"150ms\"},"
                "\"messageLogger\":{\"type\":\"file\",\"maxSize\":600,\"maxFiles\":2},"
                "\"provider\":{\"type\":\"testdev\",\"topic\":\"dev/gw1\"}}");
    put_gateway("{\"id\":\"gw2\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
                "\"provider\":{\"type\":\"testdev\",\"topic\":\"dev/gw2\",\"failStarts\":1}}");
    put_gateway("{\"id\":\"off\",\"enabled\":false,\"provider\":{\"type\":\"testdev\","
                "\"topic\":\"dev/off\"}}");
    sb_stop_init(&stop);
    pthread_create(&svc_thread, NULL, svc_main, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_stop_raise(&stop);
    pthread_join(svc_thread, NULL);
    sb_bus_destroy(bus, 500);
    sb_store_close(store);
    sb_config_free(cfg);
    cJSON_Delete(seen);
    sbt_broker_stop();
    return 0;
}

static void test_state_events(void **state)
{
    (void)state;
    assert_true(wait_count("sbtest/event/gateway/gw1", "entity.state.status", "up", 1, 15000));
    /* gw2's first start fails: error, then up after reconnectDelay */
    assert_true(wait_count("sbtest/event/gateway/gw2", "entity.state.status", "error", 1, 15000));
    assert_true(wait_count("sbtest/event/gateway/gw2", "entity.state.status", "up", 1, 15000));
    assert_int_equal(count("sbtest/event/gateway/off", "entity.state", NULL), 0);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(store, "gateway", "gw1", &doc, NULL), SB_OK);
    assert_string_equal(sb_json_str(sb_json_path(doc, "state"), "status", ""), "up");
    assert_non_null(sb_json_path(doc, "state.since"));
    assert_non_null(sb_json_path(doc, "provider.topic")); /* the rest is kept */
    cJSON_Delete(doc);
}

static void test_device_to_msg_in(void **state)
{
    (void)state;
    publish("dev/gw1/tx",
            "{\"gatewayId\":\"x\",\"nodeId\":\"12\",\"sourceId\":\"1\","
            "\"type\":\"set\",\"payloads\":[{\"key\":\"V_TEMP\",\"value\":\"21.5\"}]}");
    char frame[8192] = "[";
    for (int i = 0; i < 20; i++)
        snprintf(frame + strlen(frame), sizeof(frame) - strlen(frame),
                 "%s{\"gatewayId\":\"gw1\",\"nodeId\":\"13\",\"type\":\"set\","
                 "\"payloads\":[{\"key\":\"V_%d\",\"value\":\"%d\"}]}",
                 i ? "," : "", i, i);
    strcat(frame, "]");
    publish("dev/gw1/tx", frame);
    assert_true(wait_count("sbtest/msg/in/gw1", "nodeId", "12", 1, 15000));
    assert_true(wait_count("sbtest/msg/in/gw1", "nodeId", "13", 20, 15000));
    assert_int_equal(count("sbtest/msg/in/gw1", "gatewayId", "x"), 0); /* the gateway's id */
    assert_int_equal(count("sbtest/msg/in/gw1", "isReceived", NULL),
                     count("sbtest/msg/in/gw1", NULL, NULL));
    /* stream frames, batched: 21 messages in fewer frames than messages */
    int frames = __atomic_load_n(&stream_frames, __ATOMIC_SEQ_CST);
    assert_true(frames >= 1 && frames < 21);
}

static void test_msg_out_to_device(void **state)
{
    (void)state;
    publish("sbtest/msg/out/gw1", "{\"gatewayId\":\"gw1\",\"nodeId\":\"5\",\"sourceId\":\"1\","
                                  "\"type\":\"set\",\"payloads\":[{\"key\":\"V_STATUS\","
                                  "\"value\":\"1\"}]}");
    assert_true(wait_count("dev/gw1/rx", "nodeId", "5", 1, 15000));
    /* acks are consumed by the gateway, not passed on */
    sb_time_sleep_ms(100);
    assert_int_equal(count("sbtest/msg/in/gw1", "nodeId", "5"), 0);
}

static void test_ack_retry_on_lossy_link(void **state)
{
    (void)state;
    __atomic_store_n(&drop_acks, 2, __ATOMIC_SEQ_CST);
    publish("sbtest/msg/out/gw1", "{\"gatewayId\":\"gw1\",\"nodeId\":\"6\",\"sourceId\":\"1\","
                                  "\"type\":\"set\",\"payloads\":[{\"key\":\"V_STATUS\","
                                  "\"value\":\"1\"}]}");
    publish("sbtest/msg/out/gw1", "{\"gatewayId\":\"gw1\",\"nodeId\":\"7\",\"sourceId\":\"1\","
                                  "\"type\":\"set\",\"payloads\":[{\"key\":\"V_STATUS\","
                                  "\"value\":\"1\"}]}");
    assert_true(wait_count("dev/gw1/rx", "nodeId", "6", 3, 15000)); /* two lost, third acked */
    assert_true(wait_count("dev/gw1/rx", "nodeId", "7", 1, 15000)); /* sent after the ack */
    sb_time_sleep_ms(400);
    assert_int_equal(count("dev/gw1/rx", "nodeId", "6"), 3);
    assert_int_equal(count("dev/gw1/rx", "nodeId", "7"), 1);
}

/* The value the device got for node/key, the last one; NULL when none. */
static char *device_value(const char *topic, const char *node, const char *key, int *n)
{
    char *value = NULL;
    *n = 0;
    pthread_mutex_lock(&seen_mu);
    const cJSON *o;
    cJSON_ArrayForEach(o, seen)
    {
        const cJSON *m = cJSON_GetObjectItem(o, "m");
        const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "payloads"), 0);
        if (strcmp(cJSON_GetObjectItem(o, "t")->valuestring, topic) == 0 &&
            strcmp(sb_json_str(m, "nodeId", ""), node) == 0 &&
            strcmp(sb_json_str(p, "key", ""), key) == 0) {
            (*n)++;
            free(value);
            value = strdup(sb_json_str(p, "value", ""));
        }
    }
    pthread_mutex_unlock(&seen_mu);
    return value;
}

static void test_sleeping_node_queue(void **state)
{
    (void)state;
#define SLEEPY(key, value)                                                                         \
    "{\"gatewayId\":\"gw1\",\"nodeId\":\"9\",\"sourceId\":\"1\",\"type\":\"set\","                 \
    "\"isSleepNode\":true,\"payloads\":[{\"key\":\"" key "\",\"value\":\"" value "\"}]}"
    publish("sbtest/msg/out/gw1", SLEEPY("V_STATUS", "1"));
    publish("sbtest/msg/out/gw1", SLEEPY("V_DIMMER", "50"));
    publish("sbtest/msg/out/gw1", SLEEPY("V_STATUS", "2"));
    sb_time_sleep_ms(300);
    assert_int_equal(count("dev/gw1/rx", "nodeId", "9"), 0); /* held while it sleeps */
    publish("dev/gw1/tx", "{\"gatewayId\":\"gw1\",\"nodeId\":\"9\",\"type\":\"action\","
                          "\"isSleepNode\":true,\"payloads\":[{\"key\":\"heartbeat\","
                          "\"value\":\"\"}]}");
    assert_true(wait_count("dev/gw1/rx", "nodeId", "9", 2, 15000));
    sb_time_sleep_ms(200);
    int n = 0;
    char *v = device_value("dev/gw1/rx", "9", "V_STATUS", &n);
    assert_int_equal(n, 1); /* the newest value replaced the old one */
    assert_string_equal(v, "2");
    free(v);
    v = device_value("dev/gw1/rx", "9", "V_DIMMER", &n);
    assert_int_equal(n, 1);
    free(v);
    assert_true(wait_count("sbtest/msg/in/gw1", "nodeId", "9", 1, 2000)); /* wake-up passed on */
}

static void test_link_lost_reconnects(void **state)
{
    (void)state;
    int ups = count("sbtest/event/gateway/gw1", "entity.state.status", "up");
    publish("dev/gw1/ctl", "down");
    assert_true(
        wait_count("sbtest/event/gateway/gw1", "entity.state.message", "link lost", 1, 15000));
    assert_true(
        wait_count("sbtest/event/gateway/gw1", "entity.state.status", "up", ups + 1, 15000));
}

static void test_reload_on_event(void **state)
{
    (void)state;
    int ups = count("sbtest/event/gateway/gw1", "entity.state.status", "up");
    put_gateway("{\"id\":\"gw1\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
                "\"ack\":{\"retryCount\":3,\"timeout\":\"150ms\"},"
                "\"messageLogger\":{\"type\":\"file\",\"maxSize\":600,\"maxFiles\":2},"
                "\"provider\":{\"type\":\"testdev\",\"topic\":\"dev/gw1b\"}}");
    assert_true(
        wait_count("sbtest/event/gateway/gw1", "entity.state.message", "stopped", 1, 15000));
    assert_true(
        wait_count("sbtest/event/gateway/gw1", "entity.state.status", "up", ups + 1, 15000));
    publish("sbtest/msg/out/gw1", "{\"gatewayId\":\"gw1\",\"nodeId\":\"11\",\"type\":\"set\","
                                  "\"payloads\":[{\"key\":\"V_STATUS\",\"value\":\"1\"}]}");
    assert_true(wait_count("dev/gw1b/rx", "nodeId", "11", 1, 15000));
    /* our own state events do not make it reload again */
    sb_time_sleep_ms(500);
    assert_int_equal(count("sbtest/event/gateway/gw1", "entity.state.status", "up"), ups + 1);
    /* disabled: stopped */
    put_gateway("{\"id\":\"gw2\",\"enabled\":false,\"provider\":{\"type\":\"testdev\","
                "\"topic\":\"dev/gw2\"}}");
    assert_true(
        wait_count("sbtest/event/gateway/gw2", "entity.state.message", "stopped", 1, 15000));
}

static void test_ctl_reload_reply(void **state)
{
    (void)state;
    char *reply = NULL;
    size_t len = 0;
    sb_errmsg em = {{0}};
    const char *req = "{\"ids\":[\"gw1\",\"gw2\",\"nope\"]}";
    assert_int_equal(
        sb_bus_request(bus, "sbtest/ctl/gateway/reload", req, strlen(req), 5000, &reply, &len, &em),
        SB_OK);
    cJSON *r = NULL;
    assert_int_equal(sb_json_parse(reply, len, &r, NULL), SB_OK);
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "gw1", ""), "restarted");
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "gw2", ""), "not running");
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "nope", ""), "not running");
    cJSON_Delete(r);
    free(reply);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_message_logger_rotates(void **state)
{
    (void)state;
    char path[1024], p1[1100], p2[1100];
    snprintf(path, sizeof(path), "%s/logs/gw1.log", tmp);
    snprintf(p1, sizeof(p1), "%s.1", path);
    snprintf(p2, sizeof(p2), "%s.2", path);
    for (int i = 0; i < 6; i++)
        publish("sbtest/msg/out/gw1", "{\"gatewayId\":\"gw1\",\"nodeId\":\"20\",\"type\":\"set\","
                                      "\"payloads\":[{\"key\":\"V_STATUS\",\"value\":\"1\"}]}");
    assert_true(wait_count("dev/gw1b/rx", "nodeId", "20", 6, 15000));
    assert_true(file_size(path) > 0 && file_size(path) <= 600);
    assert_true(file_size(p1) > 0 && file_size(p1) <= 600);
    assert_int_equal(file_size(p2), -1);
}

/* Which values 0..n-1 of node's V_VAR1 were seen on topic (resends counted once); *max_seen
 * gets the highest. */
static int distinct_values(const char *topic, const char *node, bool *seen_v, int n, int *max_seen)
{
    memset(seen_v, 0, (size_t)n * sizeof(*seen_v));
    int k = 0;
    *max_seen = -1;
    pthread_mutex_lock(&seen_mu);
    const cJSON *o;
    cJSON_ArrayForEach(o, seen)
    {
        const cJSON *m = cJSON_GetObjectItem(o, "m");
        if (strcmp(cJSON_GetObjectItem(o, "t")->valuestring, topic) != 0 ||
            strcmp(sb_json_str(m, "nodeId", ""), node) != 0)
            continue;
        int v = atoi(
            sb_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "payloads"), 0), "value", "-1"));
        if (v > *max_seen)
            *max_seen = v;
        if (v >= 0 && v < n && !seen_v[v]) {
            seen_v[v] = true;
            k++;
        }
    }
    pthread_mutex_unlock(&seen_mu);
    return k;
}

/*
 * An MQTT provider cannot be slowed down: while the processor does not acknowledge (the window
 * of 1000 frames is full, one message per frame here) received messages wait in the overflow
 * queue (in_queue_max 50), the newer ones are dropped; once acks come again everything held
 * arrives.
 */
static void test_overflow_queue_when_window_full(void **state)
{
    (void)state;
    /* accepted by the producer: 1000 frames in the window and one item in its open frame */
    enum { N = 1100, HELD = 50, WINDOW = 1000, ACCEPTED = WINDOW + 1 };
    cfg->bus.batch_max = 1; /* read by the runner of the gateway created below */
    cfg->gateway.in_queue_max = HELD;
    __atomic_store_n(&ack_frames, 0, __ATOMIC_SEQ_CST);
    put_gateway("{\"id\":\"gw9\",\"enabled\":true,"
                "\"provider\":{\"type\":\"testdev\",\"topic\":\"dev/gw9\"}}");
    assert_true(wait_count("sbtest/event/gateway/gw9", "entity.state.status", "up", 1, 15000));
    size_t cap = (size_t)N * 128 + 16, len = 1;
    char *frame = malloc(cap);
    assert_non_null(frame);
    strcpy(frame, "[");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(frame + len, cap - len,
                                "%s{\"gatewayId\":\"gw9\",\"nodeId\":\"70\",\"type\":\"set\","
                                "\"payloads\":[{\"key\":\"V_VAR1\",\"value\":\"%d\"}]}",
                                i ? "," : "", i);
    strcpy(frame + len, "]");
    publish("dev/gw9/tx", frame);
    free(frame);
    static bool got[N];
    int max_seen = -1;
    assert_true(wait_count("sbtest/msg/in/gw9", "nodeId", "70", WINDOW, 15000));
    sb_time_sleep_ms(200);
    assert_int_equal(distinct_values("sbtest/msg/in/gw9", "70", got, N, &max_seen), WINDOW);
    __atomic_store_n(&ack_frames, 1, __ATOMIC_SEQ_CST); /* the processor is back */
    int64_t end = sb_time_mono_ms() + 20000;            /* the producer resends after 5 s */
    while (distinct_values("sbtest/msg/in/gw9", "70", got, N, &max_seen) < ACCEPTED + HELD &&
           sb_time_mono_ms() < end)
        sb_time_sleep_ms(20);
    assert_int_equal(distinct_values("sbtest/msg/in/gw9", "70", got, N, &max_seen),
                     ACCEPTED + HELD);
    assert_int_equal(max_seen, ACCEPTED + HELD - 1); /* the oldest were held, the newest dropped */
}

/* A provider password the API sealed is opened with the installation's key before the provider
 * gets it; one sealed under another key puts the gateway in error, naming its secrets. */
static void put_sealed(const char *id, const char *key_text)
{
    sb_secret_key key;
    char *sealed = NULL, json[1024];
    assert_int_equal(sb_secret_key_derive(key_text, strlen(key_text), &key, NULL), SB_OK);
    assert_int_equal(sb_secret_seal(&key, "device-pw", &sealed, NULL), SB_OK);
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"enabled\":true,\"provider\":{\"type\":\"testdev\","
             "\"topic\":\"dev/%s\",\"password\":\"%s\"}}",
             id, id, sealed);
    free(sealed);
    put_gateway(json);
}

static void test_sealed_secrets(void **state)
{
    (void)state;
    put_sealed("gws", "gateway-test-secret");
    assert_true(wait_count("sbtest/event/gateway/gws", "entity.state.status", "up", 1, 15000));
    put_sealed("gwx", "another-installation");
    assert_true(wait_count("sbtest/event/gateway/gwx", "entity.state.status", "error", 1, 15000));
    bool named = false;
    pthread_mutex_lock(&seen_mu);
    const cJSON *e;
    cJSON_ArrayForEach(e, seen)
    {
        const char *msg = cJSON_GetStringValue(sb_json_path(e, "m.entity.state.message"));
        named |= strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "t")),
                        "sbtest/event/gateway/gwx") == 0 &&
                 msg && strstr(msg, "secret");
    }
    pthread_mutex_unlock(&seen_mu);
    assert_true(named);
    /* The plain password the device wants, stored before encryption existed, still works. */
    put_gateway("{\"id\":\"gwp\",\"enabled\":true,\"provider\":{\"type\":\"testdev\","
                "\"topic\":\"dev/gwp\",\"password\":\"device-pw\"}}");
    assert_true(wait_count("sbtest/event/gateway/gwp", "entity.state.status", "up", 1, 15000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_events),
        cmocka_unit_test(test_device_to_msg_in),
        cmocka_unit_test(test_msg_out_to_device),
        cmocka_unit_test(test_ack_retry_on_lossy_link),
        cmocka_unit_test(test_sleeping_node_queue),
        cmocka_unit_test(test_link_lost_reconnects),
        cmocka_unit_test(test_reload_on_event),
        cmocka_unit_test(test_ctl_reload_reply),
        cmocka_unit_test(test_message_logger_rotates),
        cmocka_unit_test(test_overflow_queue_when_window_full),
        cmocka_unit_test(test_sealed_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
