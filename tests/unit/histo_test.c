/*
 * histo_test.c - latency histograms: bucket edges, cumulative counts, sum, and odd inputs
 * (negative, NaN, beyond the last bound).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/histo.h"
#include "core/json.h"

static double bucket(const cJSON *h, const char *le)
{
    return sb_json_num(cJSON_GetObjectItem(h, "buckets"), le, -1);
}

static void test_buckets(void **state)
{
    (void)state;
    sb_histo h = {0};
    sb_histo_observe(&h, 0.5);   /* le 1 */
    sb_histo_observe(&h, 1.0);   /* le 1: bounds are inclusive */
    sb_histo_observe(&h, 1.5);   /* le 2 */
    sb_histo_observe(&h, 47);    /* le 50 */
    sb_histo_observe(&h, 60000); /* +Inf */
    sb_histo_observe(&h, -3);    /* counts as 0 */
    sb_histo_observe(&h, NAN);   /* counts as 0 */
    cJSON *j = sb_histo_json(&h);
    assert_true(sb_json_bool(j, "histogram", false));
    assert_string_equal(sb_json_str(j, "unit", ""), "ms");
    assert_true(bucket(j, "1") == 4);
    assert_true(bucket(j, "2") == 5);
    assert_true(bucket(j, "20") == 5);
    assert_true(bucket(j, "50") == 6);
    assert_true(bucket(j, "10000") == 6);
    assert_true(bucket(j, "+Inf") == 7);
    assert_true(sb_json_num(j, "count", 0) == 7);
    assert_true(fabs(sb_json_num(j, "sum", 0) - (0.5 + 1 + 1.5 + 47 + 60000)) < 0.01);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "buckets")), SB_HISTO_BUCKETS);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_buckets)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
