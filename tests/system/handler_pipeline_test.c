/*
 * handler_pipeline_test - the resource handler switches a real (simulated) relay: devsim speaks
 * MySensors over TCP to the gateway service, the processor keeps the device tree, and a handler
 * call makes the handler service send a set that reaches the relay; the relay's new state
 * comes back as the field's value (real mosquitto, influxd and sqlite; pipeline_util.c).
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

#include "harness.h"
#include "pipeline_util.h"

#include "core/event.h"
#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"
#include "services/handler/handler.h"

static pthread_t svc_thread;
static sb_stop_flag stop;
static sb_proc devsim;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool relay_ready;

static void *svc_main(void *arg)
{
    (void)arg;
    sb_handler_run(sbt_pl.cfg, &stop);
    return NULL;
}

/* The handler service's status: ready once it runs the handler "relay". */
static void on_status(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *st = NULL;
    if (sb_json_parse(bm->payload, bm->len, &st, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&mu);
    relay_ready = relay_ready || sb_json_path(st, "stats.handlers.relay") != NULL;
    pthread_mutex_unlock(&mu);
    cJSON_Delete(st);
}

static bool ready(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    bool r = relay_ready;
    pthread_mutex_unlock(&mu);
    return r;
}

/* devsim over TCP on a free port; returns "host:port" from its first line. */
static void devsim_start(char *where, size_t len)
{
    char log[700];
    snprintf(log, sizeof(log), "%s/devsim-handler.log", sbt_pl.tmp);
    const char *argv[] = {sbt_build_path("../../tools/devsim/devsim"),
                          "--transport",
                          "tcp",
                          "--nodes",
                          "1",
                          "--rate",
                          "20",
                          "--port",
                          "0",
                          NULL};
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&devsim, argv, log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    int64_t end = sb_time_mono_ms() + 5000;
    for (;;) {
        FILE *f = fopen(log, "r");
        char line[512] = "";
        while (f && fgets(line, sizeof(line), f) && strncmp(line, "devsim: tcp ", 12) != 0)
            line[0] = '\0';
        if (f)
            fclose(f);
        if (line[0]) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(where, len, "%.255s", line + 12);
            return;
        }
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not say where it listens (%s)", log);
        sb_time_sleep_ms(10);
    }
}

static int setup(void **state)
{
    int rc = sbt_pipeline_setup(state);
    sb_stop_init(&stop);
    return rc;
}

static int teardown(void **state)
{
    sb_stop_raise(&stop);
    pthread_join(svc_thread, NULL);
    sb_stop_destroy(&stop);
    sb_proc_stop(&devsim, SIGTERM, 2000);
    return sbt_pipeline_teardown(state);
}

static void call(const char *to)
{
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "to", to);
    assert_int_equal(sb_handler_call_publish(sbt_pl.bus, "relay", "test", NULL, vars), SB_OK);
    cJSON_Delete(vars);
}

static void test_resource_handler_switches_relay(void **state)
{
    (void)state;
    char where[256], doc[1024];
    devsim_start(where, sizeof(where));
    const char *colon = strrchr(where, ':');
    assert_non_null(colon);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwh\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"ack\":{\"retryCount\":2,\"timeout\":\"500ms\"},\"provider\":{\"type\":"
             "\"mysensors\",\"transport\":\"ethernet\",\"host\":\"%.*s\",\"tcpPort\":%s}}",
             (int)(colon - where), where, colon + 1);
    put_gateway(doc);
    wait_field_bool("gwh.1.3.V_STATUS", false);

    cJSON *h = NULL;
    const char *hdoc =
        "{\"id\":\"relay\",\"type\":\"resource\",\"enabled\":true,"
        "\"spec\":{\"resource\":\"field:gwh.1.3.V_STATUS\",\"payload\":\"{{ to }}\"}}";
    assert_int_equal(sb_json_parse(hdoc, strlen(hdoc), &h, NULL), SB_OK);
    assert_int_equal(sb_store_put(sbt_pl.store, "handler", h, NULL), SB_OK);
    cJSON_Delete(h);
    sb_bus_subscribe(sbt_pl.bus, "sbtest/status/handler/+", 1, on_status, NULL, NULL);
    pthread_create(&svc_thread, NULL, svc_main, NULL);
    assert_true(sbt_wait(ready, NULL, 10000));

    call("1");
    wait_field_bool("gwh.1.3.V_STATUS", true);
    call("toggle"); /* the stored value is on now: off */
    wait_field_bool("gwh.1.3.V_STATUS", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_handler_switches_relay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
