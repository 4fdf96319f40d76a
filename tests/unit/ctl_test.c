/* ctl_test - reload requests (core/ctl.h): parsing the ctl payloads, the queue's order and wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/ctl.h"
#include "core/json.h"
#include "core/time.h"

static sb_ctl_req *from(const char *payload, const char *reply)
{
    sb_bus_msg bm = {.topic = "p/ctl/x/reload",
                     .payload = payload,
                     .len = strlen(payload),
                     .response_topic = reply,
                     .correlation = reply ? "c1" : NULL,
                     .correlation_len = reply ? 2 : 0};
    sb_ctl_req *r = sb_ctl_from_msg(&bm);
    assert_non_null(r);
    assert_true(r->force);
    return r;
}

static void test_payloads(void **state)
{
    (void)state;
    sb_ctl_req *r = from("{\"id\":\"a\"}", NULL);
    assert_int_equal(cJSON_GetArraySize(r->ids), 1);
    assert_string_equal(cJSON_GetArrayItem(r->ids, 0)->valuestring, "a");
    assert_null(r->reply);
    sb_ctl_free(r);
    r = from("{\"ids\":[\"a\",\"b\"]}", "p/reply/me");
    assert_int_equal(cJSON_GetArraySize(r->ids), 2);
    assert_string_equal(r->reply, "p/reply/me");
    assert_int_equal(r->corr_len, 2);
    assert_memory_equal(r->corr, "c1", 2);
    sb_ctl_free(r);
    r = from("{}", NULL); /* every entity */
    assert_null(r->ids);
    sb_ctl_free(r);
    r = from("not json", NULL);
    assert_null(r->ids);
    sb_ctl_free(r);
    r = sb_ctl_for("x", false);
    assert_false(r->force);
    assert_int_equal(cJSON_GetArraySize(r->ids), 1);
    sb_ctl_free(r);
    sb_ctl_free(NULL);
}

static void test_queue(void **state)
{
    (void)state;
    sb_ctl_queue q;
    sb_ctl_queue_init(&q);
    int64_t t0 = sb_time_mono_ms();
    assert_null(sb_ctl_next(&q, 30)); /* waits, then nothing */
    assert_true(sb_time_mono_ms() - t0 >= 25);
    sb_ctl_push(&q, sb_ctl_for("1", false));
    sb_ctl_push(&q, sb_ctl_for("2", false));
    sb_ctl_push(&q, NULL);
    sb_ctl_req *r = sb_ctl_next(&q, 0);
    assert_string_equal(cJSON_GetArrayItem(r->ids, 0)->valuestring, "1");
    sb_ctl_free(r);
    sb_ctl_push(&q, sb_ctl_for("3", false)); /* left in the queue: destroy frees it */
    r = sb_ctl_next(&q, 0);
    assert_string_equal(cJSON_GetArrayItem(r->ids, 0)->valuestring, "2");
    sb_ctl_free(r);
    sb_ctl_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
