/* handler_test_util.c - the handler tests' shared environment (handler_test_util.h). */
#include "handler_test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

hte_env hte;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *seen;       /* [{"t": topic, "m": message}] */
static cJSON *last_stats; /* the last status's stats */
static int n_status;

static void on_any(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *m = NULL;
    if (sb_json_parse(bm->payload, bm->len, &m, NULL) != SB_OK) {
        char *text = strndup(bm->payload, bm->len);
        m = cJSON_CreateString(text ? text : "");
        free(text);
    }
    pthread_mutex_lock(&mu);
    if (strncmp(bm->topic, "sbtest/status/handler/", 22) == 0) {
        cJSON_Delete(last_stats);
        last_stats = cJSON_DetachItemFromObject(m, "stats");
        n_status++;
        cJSON_Delete(m);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "t", bm->topic);
        cJSON_AddItemToObject(o, "m", m);
        cJSON_AddItemToArray(seen, o);
    }
    pthread_mutex_unlock(&mu);
}

static void set_str(char **dst, const char *value)
{
    free(*dst);
    *dst = strdup(value);
}

void hte_setup(const char *name)
{
    sbt_broker_start(NULL);
    sbt_bus_config(&hte.buscfg);
    hte.tmp = sbt_tmpdir(name);
    seen = cJSON_CreateArray();
    if (sb_config_defaults(&hte.cfg, NULL) != SB_OK)
        abort();
    char path[1024];
    set_str(&hte.cfg->data_dir, hte.tmp);
    set_str(&hte.cfg->bus.url, hte.buscfg.url);
    set_str(&hte.cfg->bus.topic_prefix, "sbtest");
    hte.cfg->bus.managed = false;
    hte.cfg->bus.reconnect_min_ms = 50;
    hte.cfg->bus.reconnect_max_ms = 500;
    hte.cfg->bus.status_interval_ms = 100;
    hte.cfg->storage.type = SB_STORE_SQLITE;
    snprintf(path, sizeof(path), "%s/sb.db", hte.tmp);
    set_str(&hte.cfg->storage.sqlite.path, path);
    if (sb_store_open(hte.cfg, &hte.store, NULL) != SB_OK)
        abort();
    hte.bus = sbt_bus(&hte.buscfg, "hdtest", name, true);
    const char *filters[] = {"sbtest/event/#", "sbtest/status/handler/+", "sbtest/msg/out/+",
                             "out/#", "moved/#"};
    for (size_t i = 0; i < SB_ARRAY_LEN(filters); i++)
        sb_bus_subscribe(hte.bus, filters[i], 1, on_any, NULL, NULL);
    sb_time_sleep_ms(200); /* subscriptions settle */
}

static pthread_t svc_thread;

static void *svc_main(void *arg)
{
    (void)arg;
    sb_handler_run(hte.cfg, &hte.stop);
    return NULL;
}

void hte_service_start(const char *ready_path)
{
    sb_stop_init(&hte.stop);
    if (pthread_create(&svc_thread, NULL, svc_main, NULL) != 0)
        abort();
    if (!hte_wait_status(ready_path, 10000)) {
        fprintf(stderr, "hte_service_start: no %s in the status\n", ready_path);
        abort();
    }
}

void hte_service_stop(void)
{
    sb_stop_raise(&hte.stop);
    pthread_join(svc_thread, NULL);
    sb_stop_destroy(&hte.stop);
}

void hte_state(const char *id, char *status, size_t slen, char *message, size_t mlen)
{
    cJSON *doc = hte_get(id);
    const cJSON *st = sb_json_path(doc, "state");
    snprintf(status, slen, "%s", sb_json_str(st, "status", ""));
    snprintf(message, mlen, "%s", sb_json_str(st, "message", ""));
    cJSON_Delete(doc);
}

bool hte_state_says(const char *id, const char *text)
{
    char status[32], message[1024];
    hte_state(id, status, sizeof(status), message, sizeof(message));
    return strstr(message, text) != NULL;
}

void hte_teardown(void)
{
    sb_bus_destroy(hte.bus, 500);
    sb_store_close(hte.store);
    sb_config_free(hte.cfg);
    cJSON_Delete(seen);
    cJSON_Delete(last_stats);
    sbt_broker_stop();
}

void hte_put(const char *json)
{
    cJSON *doc = NULL;
    if (sb_json_parse(json, strlen(json), &doc, NULL) != SB_OK ||
        sb_store_put(hte.store, "handler", doc, NULL) != SB_OK) {
        fprintf(stderr, "hte_put: bad document %s\n", json);
        abort();
    }
    sb_event_publish(hte.bus, "updated", "handler", sb_json_str(doc, "id", ""), NULL, doc);
    cJSON_Delete(doc);
}

cJSON *hte_get(const char *id)
{
    cJSON *doc = NULL;
    sb_store_get(hte.store, "handler", id, &doc, NULL);
    return doc;
}

void hte_call(const char *id, const char *params, const char *vars)
{
    cJSON *p = NULL, *v = NULL;
    sb_json_parse(params, strlen(params), &p, NULL);
    sb_json_parse(vars, strlen(vars), &v, NULL);
    if (sb_handler_call_publish(hte.bus, id, "test", p, v) != SB_OK)
        abort();
    cJSON_Delete(p);
    cJSON_Delete(v);
}

void hte_publish(const char *topic, const char *text)
{
    if (sb_bus_publish(hte.bus, topic, text, strlen(text), 1, false) != SB_OK)
        abort();
}

static bool matches(const cJSON *o, const char *topic, const char *path, const char *value)
{
    if (strcmp(cJSON_GetObjectItem(o, "t")->valuestring, topic) != 0)
        return false;
    if (!path)
        return true;
    const cJSON *v = sb_json_path(cJSON_GetObjectItem(o, "m"), path);
    return value ? cJSON_IsString(v) && strcmp(v->valuestring, value) == 0 : v != NULL;
}

int hte_count(const char *topic, const char *path, const char *value)
{
    int n = 0;
    pthread_mutex_lock(&mu);
    const cJSON *o;
    cJSON_ArrayForEach(o, seen) n += matches(o, topic, path, value);
    pthread_mutex_unlock(&mu);
    return n;
}

bool hte_wait_count(const char *topic, const char *path, const char *value, int n,
                    int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (hte_count(topic, path, value) < n) {
        if (sb_time_mono_ms() > end)
            return false;
        sb_time_sleep_ms(5);
    }
    return true;
}

cJSON *hte_seen(const char *topic, int index)
{
    cJSON *out = NULL;
    int k = 0;
    pthread_mutex_lock(&mu);
    const cJSON *o;
    cJSON_ArrayForEach(o, seen)
    {
        if (!out && matches(o, topic, NULL, NULL) && k++ == index)
            out = cJSON_Duplicate(cJSON_GetObjectItem(o, "m"), 1);
    }
    pthread_mutex_unlock(&mu);
    return out;
}

double hte_status_num_now(const char *path)
{
    pthread_mutex_lock(&mu);
    const cJSON *v = sb_json_path(last_stats, path);
    double n = cJSON_IsNumber(v) ? v->valuedouble : (v ? 0 : -1);
    pthread_mutex_unlock(&mu);
    return n;
}

static int status_count(void)
{
    pthread_mutex_lock(&mu);
    int n = n_status;
    pthread_mutex_unlock(&mu);
    return n;
}

double hte_status_num(const char *path)
{
    int n = status_count();
    int64_t end = sb_time_mono_ms() + 2000;
    while (status_count() < n + 2 && sb_time_mono_ms() < end)
        sb_time_sleep_ms(5);
    return hte_status_num_now(path);
}

bool hte_wait_status_at_least(const char *path, double n, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (hte_status_num_now(path) < n) {
        if (sb_time_mono_ms() > end)
            return false;
        sb_time_sleep_ms(5);
    }
    return true;
}

bool hte_wait_status(const char *path, int64_t timeout_ms)
{
    return hte_wait_status_at_least(path, 0, timeout_ms);
}

bool hte_wait_status_absent(const char *path, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (hte_status_num_now(path) != -1) {
        if (sb_time_mono_ms() > end)
            return false;
        sb_time_sleep_ms(5);
    }
    return true;
}
