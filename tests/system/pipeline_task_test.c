/*
 * pipeline_task_test - automation end to end: devsim (child, MySensors over TCP) -> gateway
 * service (thread) -> processor (thread) -> field event -> task service (thread) -> handler
 * call on <p>/handler/<id>, with a real mosquitto, influxd and sqlite store (pipeline_util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "services/task/task.h"
#include "core/proc.h"
#include "core/time.h"
#include "harness.h"
#include "pipeline_util.h"

static sb_stop_flag task_stop;
static pthread_t task_thr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *calls;

static void *task_main(void *arg)
{
    (void)arg;
    sb_task_run(sbt_pl.cfg, &task_stop);
    return NULL;
}

static void on_call(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&mu);
    cJSON_AddItemToArray(calls, j);
    pthread_mutex_unlock(&mu);
}

static int setup(void **state)
{
    if (sbt_pipeline_setup(state) != 0)
        return 1;
    calls = cJSON_CreateArray();
    sb_bus_subscribe(sbt_pl.bus, "sbtest/handler/+", 1, on_call, NULL, NULL);
    /* The task exists before the service starts, so its first load has it. */
    cJSON *doc = cJSON_Parse(
        "{\"id\":\"warm\",\"enabled\":true,\"triggerOnEvent\":true,\"ignoreDuplicate\":true,"
        "\"eventFilter\":{\"entityType\":\"field\",\"quickIds\":[\"field:gwt.1.1.V_TEMP\"]},"
        "\"variables\":{\"temp\":\"field:gwt.1.1.V_TEMP.current.value\","
        "\"hum\":\"field:gwt.1.2.V_HUM.current.value\","
        "\"unit\":\"field:gwt.1.1.V_TEMP.unit\"},"
        "\"rule\":{\"conditions\":[{\"variable\":\"temp\",\"operator\":\"gt\",\"value\":20}]},"
        "\"handlers\":[\"e2e_h\"],"
        "\"handlerParameters\":{\"text\":\"{{ temp | fixed 1 }} {{ unit }}, {{ hum }} %\"}}");
    assert_int_equal(sb_store_put(sbt_pl.store, "task", doc, NULL), SB_OK);
    cJSON_Delete(doc);
    sb_stop_init(&task_stop);
    return pthread_create(&task_thr, NULL, task_main, NULL) == 0 ? 0 : 1;
}

static int teardown(void **state)
{
    sb_stop_raise(&task_stop);
    pthread_join(task_thr, NULL);
    cJSON_Delete(calls);
    return sbt_pipeline_teardown(state);
}

static int n_calls(void)
{
    pthread_mutex_lock(&mu);
    int n = cJSON_GetArraySize(calls);
    pthread_mutex_unlock(&mu);
    return n;
}

/* devsim's temperatures (21.x) cross the task's threshold (20): one handler call
 * (ignoreDuplicate) with the parameters rendered from the event and the stored humidity. */
static void test_devsim_value_calls_handler(void **state)
{
    (void)state;
    char log[700], doc[1024], where[256] = "";
    snprintf(log, sizeof(log), "%s/devsim-task.log", sbt_pl.tmp);
    const char *argv[] = {sbt_build_path("../../tools/devsim/devsim"),
                          "--transport",
                          "tcp",
                          "--port",
                          "0",
                          "--nodes",
                          "1",
                          "--rate",
                          "20",
                          NULL};
    sb_proc sim;
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&sim, argv, log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    for (int64_t end = sb_time_mono_ms() + 5000; !where[0] && sb_time_mono_ms() < end;) {
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "devsim: tcp ", 12) == 0)
                snprintf(where, sizeof(where), "%.*s", (int)strcspn(line + 12, "\n"), line + 12);
        if (f)
            fclose(f);
        sb_time_sleep_ms(10);
    }
    const char *colon = strrchr(where, ':');
    assert_non_null(colon);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwt\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"mysensors\",\"transport\":\"ethernet\",\"host\":\"%.*s\","
             "\"tcpPort\":%s}}",
             (int)(colon - where), where, colon + 1);
    put_gateway(doc);
    int64_t end = sb_time_mono_ms() + 20000;
    while (n_calls() < 1 && sb_time_mono_ms() < end)
        sb_time_sleep_ms(20);
    assert_int_equal(n_calls(), 1);
    pthread_mutex_lock(&mu);
    cJSON *c = cJSON_GetArrayItem(calls, 0);
    assert_string_equal(sb_json_str(c, "id", ""), "e2e_h");
    assert_string_equal(sb_json_str(c, "source", ""), "task:warm");
    const char *text = sb_json_str(sb_json_path(c, "parameters"), "text", "");
    double t = 0, h = -1;
    char unit[16] = "";
    /* "21.3 °C, 55 %" (humidity may not be stored yet on the very first event: then empty) */
    int got = sscanf(text, "%lf %15s %lf", &t, unit, &h);
    pthread_mutex_unlock(&mu);
    assert_true(got >= 2);
    assert_true(t > 20 && t < 23);
    assert_string_equal(unit, "°C,");
    /* The temperature stays above 20: ignoreDuplicate keeps it at one call. */
    sb_time_sleep_ms(1000);
    assert_int_equal(n_calls(), 1);
    sb_proc_stop(&sim, SIGTERM, 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devsim_value_calls_handler),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
