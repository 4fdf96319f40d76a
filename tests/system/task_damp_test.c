/*
 * task_damp_test - the task service's dampening variants, ignoreDuplicate and autoDisable with
 * reEnable, end to end: field events on a real mosquitto in, handler calls out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "task_test_env.h"

/* A task "id" on field V_<ID> with rule value eq 1, calling handler "<id>_h"; extra members
 * (dampening, flags) are spliced in. */
static void put(const char *id, const char *extra)
{
    char text[1200];
    snprintf(text, sizeof(text),
             "{\"id\":\"%s\",\"enabled\":true,\"triggerOnEvent\":true,"
             "\"eventFilter\":{\"quickIds\":[\"field:gw1.12.1.V_%s\"]},"
             "\"variables\":{\"v\":\"field:gw1.12.1.V_%s.current.value\"},"
             "\"rule\":{\"conditions\":[{\"variable\":\"v\",\"operator\":\"eq\",\"value\":1}]},"
             "\"handlers\":[\"%s_h\"]%s%s}",
             id, id, id, id, extra[0] ? "," : "", extra);
    tte_put_task(text);
}

/* Sends the results ("1" true, "0" false) one event at a time, each evaluated before the next,
 * and compares the handler calls after each (as digits) with want_calls. */
static void feed(const char *id, const char *results, const char *want_calls)
{
    char field[64], handler[64], got[64] = "";
    snprintf(field, sizeof(field), "V_%s", id);
    snprintf(handler, sizeof(handler), "%s_h", id);
    for (size_t i = 0; results[i]; i++) {
        tte_field_event(field, results[i] == '1' ? "1" : "0", NULL);
        tte_sync();
        /* The handler calls were published before the probe's: they are seen by now, or very
         * soon (another topic, the same connection). */
        (void)tte_wait_calls(handler, want_calls[i] - '0', 1000);
        sb_time_sleep_ms(20);
        got[i] = (char)('0' + tte_calls(handler));
    }
    assert_string_equal(got, want_calls);
}

static void test_none(void **state)
{
    (void)state;
    put("NONE", "\"dampening\":{\"type\":\"none\"}");
    feed("NONE", "10110", "11233");
}

static void test_consecutive(void **state)
{
    (void)state;
    put("CONS", "\"dampening\":{\"type\":\"consecutive\",\"occurrences\":3}");
    feed("CONS", "1101111111", "0000011122");
}

static void test_evaluation(void **state)
{
    (void)state;
    put("EVAL", "\"dampening\":{\"type\":\"evaluation\",\"evaluation\":3,\"occurrences\":2}");
    feed("EVAL", "1001011", "0000011");
    feed("EVAL", "0111", "1223");
}

/* True for 400 ms: the timer triggers without a further event, once per active period. */
static void test_active_duration(void **state)
{
    (void)state;
    put("ACT", "\"dampening\":{\"type\":\"active_duration\",\"activeDuration\":\"400ms\"}");
    int64_t t0 = sb_time_mono_ms();
    tte_field_event("V_ACT", "1", NULL);
    assert_int_equal(tte_wait_calls("ACT_h", 1, 3000), 1);
    int64_t took = sb_time_mono_ms() - t0;
    assert_true(took >= 380);
    assert_true(took < 1500);
    tte_field_event("V_ACT", "1", NULL);
    sb_time_sleep_ms(600);
    assert_int_equal(tte_calls("ACT_h"), 1);
    /* A false result ends the period; one that is too short never triggers. */
    tte_field_event("V_ACT", "0", NULL);
    tte_field_event("V_ACT", "1", NULL);
    sb_time_sleep_ms(150);
    tte_field_event("V_ACT", "0", NULL);
    sb_time_sleep_ms(600);
    assert_int_equal(tte_calls("ACT_h"), 1);
    tte_field_event("V_ACT", "1", NULL);
    assert_int_equal(tte_wait_calls("ACT_h", 2, 3000), 2);
}

/* ignoreDuplicate: only the change to true triggers. */
static void test_ignore_duplicate(void **state)
{
    (void)state;
    put("DUP", "\"ignoreDuplicate\":true");
    feed("DUP", "1110110", "1111222");
    cJSON *st = tte_wait_state("DUP", "condition false", 3000);
    assert_true(sb_json_num(st, "executedCount", 0) == 2);
    cJSON_Delete(st);
}

/* autoDisable: the first trigger disables the task (stored), reEnable brings it back. */
static void test_auto_disable_re_enable(void **state)
{
    (void)state;
    put("AUTO", "\"autoDisable\":true,\"reEnable\":true,\"reEnableDuration\":\"700ms\"");
    tte_field_event("V_AUTO", "1", NULL);
    assert_int_equal(tte_wait_calls("AUTO_h", 1, 3000), 1);
    cJSON *st = tte_wait_state("AUTO", "triggered", 3000);
    assert_non_null(sb_json_str(st, "reEnableAt", NULL));
    cJSON_Delete(st);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(tte_store, "task", "AUTO", &doc, NULL), SB_OK);
    assert_false(sb_json_bool(doc, "enabled", true));
    cJSON_Delete(doc);
    tte_field_event("V_AUTO", "1", NULL);
    sb_time_sleep_ms(200);
    assert_int_equal(tte_calls("AUTO_h"), 1);
    st = tte_wait_state("AUTO", "re-enabled", 3000);
    cJSON_Delete(st);
    assert_int_equal(sb_store_get(tte_store, "task", "AUTO", &doc, NULL), SB_OK);
    assert_true(sb_json_bool(doc, "enabled", false));
    cJSON_Delete(doc);
    tte_field_event("V_AUTO", "1", NULL);
    assert_int_equal(tte_wait_calls("AUTO_h", 2, 3000), 2);
}

/* Like the API: the stored document (with its state) with enabled changed, then the event. */
static void set_enabled(const char *id, bool on)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(tte_store, "task", id, &doc, NULL), SB_OK);
    sb_json_set_bool(doc, "enabled", on);
    cJSON_DeleteItemFromObject(doc, "modifiedOn"); /* tte_put_task sets a newer one */
    char *text = sb_json_print(doc);
    tte_put_task(text);
    free(text);
    cJSON_Delete(doc);
}

/* Enabled by hand while a re-enable is pending, then disabled by hand: it stays disabled. */
static void test_manual_enable_cancels_re_enable(void **state)
{
    (void)state;
    put("MAN", "\"autoDisable\":true,\"reEnable\":true,\"reEnableDuration\":\"600ms\"");
    tte_field_event("V_MAN", "1", NULL);
    assert_int_equal(tte_wait_calls("MAN_h", 1, 3000), 1);
    cJSON_Delete(tte_wait_state("MAN", "triggered", 3000));
    set_enabled("MAN", true);
    tte_sync();
    set_enabled("MAN", false);
    tte_sync();
    sb_time_sleep_ms(900);
    tte_field_event("V_MAN", "1", NULL);
    tte_sync();
    assert_int_equal(tte_calls("MAN_h"), 1);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(tte_store, "task", "MAN", &doc, NULL), SB_OK);
    assert_false(sb_json_bool(doc, "enabled", true));
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_consecutive),
        cmocka_unit_test(test_evaluation),
        cmocka_unit_test(test_active_duration),
        cmocka_unit_test(test_ignore_duplicate),
        cmocka_unit_test(test_auto_disable_re_enable),
        cmocka_unit_test(test_manual_enable_cancels_re_enable),
    };
    return cmocka_run_group_tests(tests, tte_setup, tte_teardown);
}
