/*
 * handler_resource_test - the resource handler through the handler service, with the API
 * service in the same process (it carries out entity actions on <p>/ctl/api/action), a real
 * mosquitto and a sqlite store: set a field by quick id and by labels (messages on
 * <p>/msg/out/<gw>), toggle, a node action, disabling a task through the API, a delayed action
 * that survives a restart of the handler service, and bad resources shown in the state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test_util.h"

#include "core/msg.h"

extern const sb_service_def sb_service_api; /* services/api */

static pthread_t api_thread;
static sb_stop_flag api_stop;

static void *api_main(void *arg)
{
    (void)arg;
    sb_service_api.run(hte.cfg, &api_stop);
    return NULL;
}

static void put(const char *kind, const char *json)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &doc, NULL), SB_OK);
    assert_int_equal(sb_store_put(hte.store, kind, doc, NULL), SB_OK);
    cJSON_Delete(doc);
}

static void put_field(const char *node, const char *field, const char *value, const char *labels)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gw1.%s.1.%s\",\"gatewayId\":\"gw1\",\"nodeId\":\"%s\",\"sourceId\":\"1\","
             "\"fieldId\":\"%s\",\"metricType\":\"binary\",\"current\":{\"value\":%s},"
             "\"labels\":%s}",
             node, field, node, field, value, labels);
    put("field", doc);
}

static int setup(void **state)
{
    (void)state;
    hte_setup("handler_resource");
    hte.cfg->api.port = 0;
    put_field("12", "V_STATUS", "0", "{\"room\":\"hall\"}");
    put_field("13", "V_STATUS", "1", "{\"room\":\"hall\"}");
    put_field("14", "V_STATUS", "0", "{\"room\":\"attic\"}");
    put("task", "{\"id\":\"t1\",\"enabled\":true,\"labels\":{}}");
    hte_put(
        "{\"id\":\"sw\",\"type\":\"resource\",\"enabled\":true,"
        "\"spec\":{\"resource\":\"field:gw1.{{ node }}.1.V_STATUS\",\"payload\":\"{{ to }}\"}}");
    hte_put("{\"id\":\"hall\",\"type\":\"resource\",\"enabled\":true,"
            "\"spec\":{\"labels\":{\"room\":\"hall\"},\"payload\":\"1\"}}");
    hte_put("{\"id\":\"boot\",\"type\":\"resource\",\"enabled\":true,"
            "\"spec\":{\"resource\":\"node:gw1.12\",\"payload\":\"reboot\"}}");
    hte_put("{\"id\":\"tasks\",\"type\":\"resource\",\"enabled\":true,"
            "\"spec\":{\"resource\":\"task:{{ task }}\",\"payload\":\"disable\",\"retries\":8,"
            "\"retryDelay\":\"500ms\",\"retryMaxDelay\":\"1s\",\"apiTimeout\":\"2s\"}}");
    hte_put("{\"id\":\"later\",\"type\":\"resource\",\"enabled\":true,"
            "\"spec\":{\"resource\":\"field:gw1.14.1.V_STATUS\",\"payload\":\"1\","
            "\"delay\":\"{{ after }}\"}}");
    sb_stop_init(&api_stop);
    pthread_create(&api_thread, NULL, api_main, NULL);
    hte_service_start("handlers.later.type");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hte_service_stop();
    sb_stop_raise(&api_stop);
    pthread_join(api_thread, NULL);
    hte_teardown();
    return 0;
}

/* The index-th message on sbtest/msg/out/gw1 as a message (caller frees). */
static sb_msg *out_msg(int index)
{
    cJSON *j = hte_seen("sbtest/msg/out/gw1", index);
    sb_msg *m = NULL;
    assert_non_null(j);
    assert_int_equal(sb_msg_from_json(j, &m, NULL), SB_OK);
    cJSON_Delete(j);
    return m;
}

static int n_out(void)
{
    return hte_count("sbtest/msg/out/gw1", NULL, NULL);
}

static void test_set_field_by_quick_id(void **state)
{
    (void)state;
    int before = n_out();
    hte_call("sw", "{\"to\":\"1\"}", "{\"node\":\"12\"}");
    assert_true(hte_wait_count("sbtest/msg/out/gw1", NULL, NULL, before + 1, 5000));
    sb_msg *m = out_msg(before);
    assert_int_equal(m->type, SB_MSG_SET);
    assert_string_equal(m->node_id, "12");
    assert_string_equal(m->source_id, "1");
    assert_int_equal(m->n_payloads, 1);
    assert_string_equal(m->payloads[0].key, "V_STATUS");
    assert_string_equal(m->payloads[0].value, "1");
    sb_msg_free(m);
    /* toggle flips the stored value (node 13 is on) */
    hte_call("sw", "{\"to\":\"toggle\"}", "{\"node\":\"13\"}");
    assert_true(hte_wait_count("sbtest/msg/out/gw1", NULL, NULL, before + 2, 5000));
    m = out_msg(before + 1);
    assert_string_equal(m->node_id, "13");
    assert_string_equal(m->payloads[0].value, "0");
    sb_msg_free(m);
    assert_true(hte_wait_count("sbtest/event/handler/sw", "entity.state.status", "ok", 1, 5000));
}

static void test_set_fields_by_labels(void **state)
{
    (void)state;
    int before = n_out();
    hte_call("hall", "{}", "{}");
    assert_true(hte_wait_count("sbtest/msg/out/gw1", NULL, NULL, before + 2, 5000));
    sb_msg *a = out_msg(before), *b = out_msg(before + 1);
    assert_true((!strcmp(a->node_id, "12") && !strcmp(b->node_id, "13")) ||
                (!strcmp(a->node_id, "13") && !strcmp(b->node_id, "12")));
    sb_msg_free(a);
    sb_msg_free(b);
    assert_true(hte_wait_count("sbtest/event/handler/hall", "entity.state.message", "set 2 fields",
                               1, 5000));
    sb_time_sleep_ms(100);
    assert_int_equal(n_out(), before + 2); /* node 14 is in the attic */
}

static void test_node_action(void **state)
{
    (void)state;
    int before = n_out();
    hte_call("boot", "{}", "{}");
    assert_true(hte_wait_count("sbtest/msg/out/gw1", NULL, NULL, before + 1, 5000));
    sb_msg *m = out_msg(before);
    assert_int_equal(m->type, SB_MSG_ACTION);
    assert_string_equal(m->node_id, "12");
    assert_string_equal(m->payloads[0].key, "reboot");
    sb_msg_free(m);
}

static void test_disable_task_through_api(void **state)
{
    (void)state;
    /* retried until the API answers (it may still be starting) */
    hte_call("tasks", "{}", "{\"task\":\"t1\"}");
    assert_true(hte_wait_count("sbtest/event/task/t1", "type", "updated", 1, 20000));
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(hte.store, "task", "t1", &doc, NULL), SB_OK);
    assert_false(sb_json_bool(doc, "enabled", true));
    cJSON_Delete(doc);
    assert_true(hte_wait_count("sbtest/event/handler/tasks", "entity.state.status", "ok", 1, 5000));
    /* an unknown task: the API's refusal in the state, not retried */
    hte_call("tasks", "{}", "{\"task\":\"nosuch\"}");
    assert_true(
        hte_wait_count("sbtest/event/handler/tasks", "entity.state.status", "error", 1, 10000));
    assert_true(hte_state_says("tasks", "nosuch"));
}

static void test_bad_resource_in_state(void **state)
{
    (void)state;
    hte_call("sw", "{\"to\":\"1\"}", "{\"node\":\"99\"}");
    assert_true(hte_wait_count("sbtest/event/handler/sw", "entity.state.status", "error", 1, 5000));
    assert_true(hte_state_says("sw", "does not exist"));
}

static int pending(void)
{
    size_t n = 0;
    sb_store_count(hte.store, "_handler_resource", NULL, &n, NULL);
    return (int)n;
}

static void test_delay_survives_restart(void **state)
{
    (void)state;
    int before = n_out();
    hte_call("later", "{}", "{\"after\":\"1500ms\"}");
    int64_t end = sb_time_mono_ms() + 5000;
    while (pending() == 0 && sb_time_mono_ms() < end)
        sb_time_sleep_ms(10);
    assert_int_equal(pending(), 1); /* stored before anything ran */
    hte_service_stop();
    assert_int_equal(n_out(), before);
    hte_service_start("handlers.later.type");
    assert_true(hte_wait_count("sbtest/msg/out/gw1", NULL, NULL, before + 1, 5000));
    sb_msg *m = out_msg(before);
    assert_string_equal(m->node_id, "14");
    assert_string_equal(m->payloads[0].value, "1");
    sb_msg_free(m);
    end = sb_time_mono_ms() + 5000;
    while (pending() > 0 && sb_time_mono_ms() < end)
        sb_time_sleep_ms(10);
    assert_int_equal(pending(), 0);
    sb_time_sleep_ms(200);
    assert_int_equal(n_out(), before + 1); /* once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_field_by_quick_id),
        cmocka_unit_test(test_set_fields_by_labels),
        cmocka_unit_test(test_node_action),
        cmocka_unit_test(test_disable_task_through_api),
        cmocka_unit_test(test_bad_resource_in_state),
        cmocka_unit_test(test_delay_survives_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
