/*
 * stream_test - stream frames (envelope, plain object, plain array, bad envelopes) and the
 * consumer's verdicts (apply, duplicate, gap, stale, new epoch), position documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/stream.h"

static sb_err dec(const char *text, sb_stream_frame *f)
{
    sb_errmsg em = {{0}};
    return sb_stream_decode(text, strlen(text), f, &em);
}

static void test_decode_forms(void **state)
{
    (void)state;
    sb_stream_frame f;
    assert_int_equal(dec("{\"stream\":\"gw1\",\"epoch\":7,\"seq\":3,\"items\":[{},{}]}", &f),
                     SB_OK);
    assert_true(f.sequenced);
    assert_string_equal(f.stream, "gw1");
    assert_int_equal(f.epoch, 7);
    assert_int_equal(f.seq, 3);
    assert_int_equal(cJSON_GetArraySize(f.items), 2);
    sb_stream_frame_free(&f);

    assert_int_equal(dec("{\"gatewayId\":\"gw1\"}", &f), SB_OK);
    assert_false(f.sequenced);
    assert_int_equal(cJSON_GetArraySize(f.items), 1);
    sb_stream_frame_free(&f);

    assert_int_equal(dec("[1,2,3]", &f), SB_OK);
    assert_false(f.sequenced);
    assert_int_equal(cJSON_GetArraySize(f.items), 3);
    sb_stream_frame_free(&f);
}

static void test_decode_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"stream\":\"gw1\",\"epoch\":7,\"seq\":0,\"items\":[]}",
        "{\"stream\":\"gw1\",\"epoch\":7,\"seq\":1.5,\"items\":[]}",
        "{\"stream\":\"g/w\",\"epoch\":7,\"seq\":1,\"items\":[]}",
        "{\"stream\":\"gw1\",\"seq\":1,\"items\":[]}",
        "{\"stream\":\"gw1\",\"epoch\":1,\"seq\":1,\"items\":{}}",
        "{\"stream\":\"gw1\",\"epoch\":1,\"seq\":1}",
        "\"text\"",
        "[1,",
        "",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        sb_stream_frame f;
        sb_err rc = dec(bad[i], &f);
        if (rc == SB_OK)
            fail_msg("accepted: %s", bad[i]);
        assert_null(f.items);
    }
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    cJSON *items = cJSON_Parse("[{\"a\":1},\"x\"]");
    size_t len = 0;
    char *text = sb_stream_encode("gw\"1", 12345, 9, items, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    sb_stream_frame f;
    assert_int_equal(dec(text, &f), SB_OK);
    assert_string_equal(f.stream, "gw\"1");
    assert_int_equal(f.epoch, 12345);
    assert_int_equal(f.seq, 9);
    assert_true(cJSON_Compare(items, f.items, true));
    sb_stream_frame_free(&f);
    free(text);
    cJSON_Delete(items);
}

static sb_stream_verdict check(int64_t le, int64_t ls, int64_t fe, int64_t fs)
{
    sb_stream_pos last = {le, ls};
    sb_stream_frame f = {.sequenced = true, .epoch = fe, .seq = fs};
    return sb_stream_check(&last, &f);
}

static void test_verdicts(void **state)
{
    (void)state;
    assert_int_equal(check(0, 0, 5, 1), SB_STREAM_APPLY); /* first frame ever */
    assert_int_equal(check(0, 0, 5, 2), SB_STREAM_GAP);   /* frame 1 missing */
    assert_int_equal(check(5, 3, 5, 4), SB_STREAM_APPLY); /* the next one */
    assert_int_equal(check(5, 3, 5, 3), SB_STREAM_DUPLICATE);
    assert_int_equal(check(5, 3, 5, 1), SB_STREAM_DUPLICATE);
    assert_int_equal(check(5, 3, 5, 5), SB_STREAM_GAP);
    assert_int_equal(check(5, 3, 6, 1), SB_STREAM_APPLY); /* producer restarted */
    assert_int_equal(check(5, 3, 6, 2), SB_STREAM_GAP);
    assert_int_equal(check(5, 3, 4, 9), SB_STREAM_STALE); /* an old incarnation's frame */
}

static void test_pos_doc(void **state)
{
    (void)state;
    sb_stream_pos p = {1764000000000LL, 42}, back = {0, 0};
    cJSON *d = sb_stream_pos_doc("gw1", &p);
    char name[SB_STREAM_NAME_MAX];
    assert_int_equal(sb_stream_pos_parse(d, name, sizeof(name), &back), SB_OK);
    assert_string_equal(name, "gw1");
    assert_int_equal(back.epoch, p.epoch);
    assert_int_equal(back.seq, p.seq);
    cJSON_Delete(d);
    assert_false(sb_stream_name_valid("a+b"));
    assert_false(sb_stream_name_valid(""));
    assert_true(sb_stream_name_valid("gw-1_x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_forms),      cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_encode_round_trip), cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_pos_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
