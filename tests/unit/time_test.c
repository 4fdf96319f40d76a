/*
 * time_test.c - RFC 3339 parse/format (offsets, fractions, leap days, invalid dates) and
 * durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/time.h"

static int64_t parse_ok(const char *text)
{
    int64_t ms = 0;
    if (sb_time_parse(text, &ms) != SB_OK)
        fail_msg("'%s' did not parse", text);
    return ms;
}

static void test_parse(void **state)
{
    const int64_t base = 1795636800000; /* 2026-11-25T20:00:00Z */
    assert_int_equal(parse_ok("2026-11-25T20:00:00Z"), base);
    assert_int_equal(parse_ok("2026-11-25t20:00:00z"), base);
    assert_int_equal(parse_ok("2026-11-25 20:00:00Z"), base);
    assert_int_equal(parse_ok("2026-11-25T20:00:00.123Z"), base + 123);
    assert_int_equal(parse_ok("2026-11-25T20:00:00.1Z"), base + 100);
    assert_int_equal(parse_ok("2026-11-25T20:00:00,5Z"), base + 500);
    assert_int_equal(parse_ok("2026-11-25T20:00:00.123456789Z"), base + 123);
    assert_int_equal(parse_ok("2026-11-25T21:00:00+01:00"), base);
    assert_int_equal(parse_ok("2026-11-25T21:00:00+0100"), base);
    assert_int_equal(parse_ok("2026-11-25T14:30:00-05:30"), base);
    assert_int_equal(parse_ok("2026-11-25T14:30:00.250-0530"), base + 250);
    assert_int_equal(parse_ok("2026-11-25T20:00:00+00:00"), base);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("2028-02-29T00:00:00Z"), 1835395200000);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400000);
    assert_int_equal(parse_ok("0000-01-01T00:00:00Z"), -62167219200000);
    assert_int_equal(parse_ok("9999-12-31T23:59:59.999Z"), 253402300799999);
}

static void test_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2026-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T20:60:00Z",
        "2026-11-25T20:00:61Z",
        "2026-11-25T20:00:00", /* no zone */
        "2026-11-25",
        "2026-11-25T20:00Z",
        "2026-11-25T20:00:00.Z",
        "2026-11-25T20:00:00Zx",
        "2026-11-25T20:00:00+1",
        "2026-11-25T20:00:00+24:00",
        "2026-11-25T20:00:00+01:60",
        "2026-11-25T20:00:00+01:",
        "26-11-25T20:00:00Z",
        "2026/11/25T20:00:00Z",
        " 2026-11-25T20:00:00Z",
        "",
        "now",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 42;
        if (sb_time_parse(bad[i], &ms) != SB_ERR_PARSE)
            fail_msg("'%s' parsed as %lld", bad[i], (long long)ms);
        assert_int_equal(ms, 42);
    }
    int64_t ms;
    assert_int_equal(sb_time_parse(NULL, &ms), SB_ERR_PARSE);
}

static void test_format(void **state)
{
    char buf[SB_TIME_RFC3339_LEN];
    sb_time_format(1795636800123, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-25T20:00:00.123Z");
    sb_time_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    sb_time_format(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    sb_time_format(1835395200000, buf, sizeof(buf));
    assert_string_equal(buf, "2028-02-29T00:00:00.000Z");
    sb_time_format(-62167219200000, buf, sizeof(buf));
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    sb_time_format(253402300799999, buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    /* format -> parse is the identity over a spread of instants */
    for (int64_t ms = -62167219200000; ms < 253402300799999; ms += 987654321987) {
        sb_time_format(ms, buf, sizeof(buf));
        assert_int_equal(parse_ok(buf), ms);
    }
}

static void test_clocks(void **state)
{
    int64_t now = sb_time_now_ms();
    assert_true(now > 1700000000000);
    int64_t m0 = sb_time_mono_ms();
    sb_time_sleep_ms(20);
    int64_t m1 = sb_time_mono_ms();
    assert_true(m1 - m0 >= 20);
    assert_true(sb_time_now_ms() >= now);
}

static void test_duration(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"250ms", 250},      {"10s", 10000},    {"5m", 300000},
        {"2h", 7200000},     {"1d", 86400000},  {"1h30m", 5400000},
        {"1m30s", 90000},    {"1500", 1500},    {"0", 0},
        {"1.5s", 1500},      {"0.5h", 1800000}, {"1s500ms", 1500},
        {"2d3h", 183600000},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t ms = -1;
        if (sb_duration_parse(ok[i].text, &ms) != SB_OK || ms != ok[i].ms)
            fail_msg("'%s': want %lld ms, got %lld", ok[i].text, (long long)ok[i].ms,
                     (long long)ms);
    }
    static const char *const bad[] = {
        "",
        "s",
        "10x",
        "-5s",
        "1h30",
        "5 m",
        " 5m",
        "1e3s",
        "0x10s",
        "ms",
        "1.s",
        "1..5s",
        "inf",
        "10ss",
        "99999999999999999999d",
        "9000000000000000ms9000000000000000ms",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 42;
        if (sb_duration_parse(bad[i], &ms) != SB_ERR_PARSE)
            fail_msg("'%s' parsed as %lld", bad[i], (long long)ms);
    }
    int64_t ms;
    assert_int_equal(sb_duration_parse(NULL, &ms), SB_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),    cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),   cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
