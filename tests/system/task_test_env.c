/* task_test_env.c - the task service tests' environment (task_test_env.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "task_test_env.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"
#include "services/task/task.h"
#include "core/service.h"
#include "core/time.h"
#include "harness.h"

sb_store *tte_store;
sb_bus *tte_bus;
sb_config *tte_cfg;

static sb_stop_flag stop;
static pthread_t thr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *calls; /* every handler call: {"handler", "call"} */

static void *run_task(void *arg)
{
    (void)arg;
    sb_task_run(tte_cfg, &stop);
    return NULL;
}

static void on_call(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    const char *h = strrchr(m->topic, '/');
    cJSON *j = NULL, *rec = cJSON_CreateObject();
    if (!h || sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK) {
        cJSON_Delete(rec);
        return;
    }
    sb_json_set_str(rec, "handler", h + 1);
    sb_json_set(rec, "call", j);
    pthread_mutex_lock(&mu);
    cJSON_AddItemToArray(calls, rec);
    pthread_mutex_unlock(&mu);
}

/* Until the service's subscriptions are live, events are lost: a probe task answers once they
 * are. */
static bool wait_ready(void)
{
    tte_put_task("{\"id\":\"probe\",\"enabled\":true,\"triggerOnEvent\":true,"
                 "\"eventFilter\":{\"quickIds\":[\"field:gw1.12.1.V_PROBE\"]},"
                 "\"rule\":{\"conditions\":[{\"variable\":\"event.type\",\"operator\":"
                 "\"exists\",\"value\":true}]},\"handlers\":[\"probe_h\"]}");
    for (int i = 0; i < 100; i++) {
        tte_field_event("V_PROBE", "1", NULL);
        if (tte_wait_calls("probe_h", 1, 100) > 0)
            return true;
    }
    fprintf(stderr, "the task service never answered the probe task\n");
    return false;
}

int tte_setup_with(const char *extra_yaml)
{
    sb_broker *broker = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("task");
    char path[700];
    snprintf(path, sizeof(path), "%s/task.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!broker || !f)
        return 1;
    fprintf(f,
            "data_dir: %s\ninstance: t1\nlog:\n  level: warn\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
            "  reconnect_max: 500ms\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/task.db\n"
            "metrics:\n  type: none\n  managed: false\n"
            "%s",
            dir, broker->url, dir, extra_yaml ? extra_yaml : "");
    fclose(f);
    sb_errmsg em = {{0}};
    if (sb_config_load(path, &tte_cfg, &em) != SB_OK || sb_store_open(tte_cfg, &tte_store, &em)) {
        fprintf(stderr, "%s\n", em.text);
        return 1;
    }
    calls = cJSON_CreateArray();
    static sb_config_bus bc; /* the bus borrows it for its lifetime */
    sbt_bus_config(&bc);
    tte_bus = sbt_bus(&bc, "test", "t1", true);
    sb_bus_subscribe(tte_bus, "sbtest/handler/+", 1, on_call, NULL, NULL);
    sb_stop_init(&stop);
    if (pthread_create(&thr, NULL, run_task, NULL) != 0)
        return 1;
    return wait_ready() ? 0 : 1;
}

int tte_setup(void **state)
{
    (void)state;
    return tte_setup_with("task:\n  state_flush: 200ms\n");
}

int tte_teardown(void **state)
{
    (void)state;
    sb_stop_raise(&stop);
    pthread_join(thr, NULL);
    sb_bus_destroy(tte_bus, 500);
    sb_store_close(tte_store);
    sb_config_free(tte_cfg);
    cJSON_Delete(calls);
    sbt_broker_stop();
    return 0;
}

void tte_put_task(const char *json)
{
    static int64_t last_ms;
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    /* As the API does: modifiedOn on every write (strictly increasing here). */
    int64_t now = sb_time_now_ms();
    last_ms = now > last_ms ? now : last_ms + 1;
    char mod[SB_TIME_RFC3339_LEN];
    sb_time_format(last_ms, mod, sizeof(mod));
    if (!cJSON_GetObjectItem(doc, "modifiedOn"))
        sb_json_set_str(doc, "modifiedOn", mod);
    sb_errmsg em = {{0}};
    if (sb_store_put(tte_store, "task", doc, &em) != SB_OK)
        fail_msg("put task: %s", em.text);
    assert_int_equal(
        sb_event_publish(tte_bus, "created", "task", sb_json_str(doc, "id", ""), NULL, doc), SB_OK);
    cJSON_Delete(doc);
}

void tte_field_event(const char *field_id, const char *value, const char *labels)
{
    char id[200], qid[220], text[800];
    snprintf(id, sizeof(id), "gw1.12.1.%s", field_id);
    snprintf(qid, sizeof(qid), "field:%s", id);
    snprintf(text, sizeof(text),
             "{\"id\":\"%s\",\"gatewayId\":\"gw1\",\"nodeId\":\"12\",\"sourceId\":\"1\","
             "\"fieldId\":\"%s\",\"labels\":%s,\"current\":{\"value\":%s}}",
             id, field_id, labels ? labels : "{}", value);
    cJSON *entity = cJSON_Parse(text);
    assert_non_null(entity);
    assert_int_equal(sb_event_publish(tte_bus, "updated", "field", id, qid, entity), SB_OK);
    cJSON_Delete(entity);
}

void tte_sync(void)
{
    int n = tte_calls("probe_h");
    tte_field_event("V_PROBE", "1", NULL);
    if (tte_wait_calls("probe_h", n + 1, 5000) <= n)
        fail_msg("the task service did not answer the probe");
}

int tte_calls(const char *handler)
{
    int n = 0;
    const cJSON *c;
    pthread_mutex_lock(&mu);
    cJSON_ArrayForEach(c, calls) n += strcmp(sb_json_str(c, "handler", ""), handler) == 0;
    pthread_mutex_unlock(&mu);
    return n;
}

int tte_wait_calls(const char *handler, int n, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    int have;
    while ((have = tte_calls(handler)) < n && sb_time_mono_ms() < end)
        sb_time_sleep_ms(5);
    return have;
}

cJSON *tte_call(const char *handler, int i)
{
    cJSON *out = NULL;
    const cJSON *c;
    pthread_mutex_lock(&mu);
    cJSON_ArrayForEach(c, calls)
    {
        if (strcmp(sb_json_str(c, "handler", ""), handler) == 0 && i-- == 0) {
            out = cJSON_Duplicate(cJSON_GetObjectItem(c, "call"), true);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    if (!out)
        fail_msg("no call %d of handler %s", i, handler);
    return out;
}

cJSON *tte_wait_state(const char *task_id, const char *text, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    char last[600] = "";
    do {
        cJSON *doc = NULL;
        if (sb_store_get(tte_store, "task", task_id, &doc, NULL) == SB_OK) {
            cJSON *st = cJSON_DetachItemFromObject(doc, "state");
            cJSON_Delete(doc);
            const char *msg = sb_json_str(st, "message", "");
            snprintf(last, sizeof(last), "%s", msg);
            if (strstr(msg, text))
                return st;
            cJSON_Delete(st);
        }
        sb_time_sleep_ms(10);
    } while (sb_time_mono_ms() < end);
    fail_msg("task %s: state message never contained '%s' (last: '%s')", task_id, text, last);
    return NULL;
}
