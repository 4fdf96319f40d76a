/*
 * schedule_test.c - next runs and previews of every schedule spec type, validity windows,
 * DST days, month ends, polar nights and the errors that name the bad key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/schedule.h"
#include "core/sun.h"
#include "core/time.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    if (sb_time_parse(rfc3339, &ms) != SB_OK)
        fail_msg("bad test time %s", rfc3339);
    return ms;
}

static const sb_sched_ctx berlin = {
    .tz = "Europe/Berlin", .has_location = true, .latitude = 52.52, .longitude = 13.405};
static const sb_sched_ctx utc = {.tz = "UTC"};

/* The preview of spec after `after` must be exactly the UTC times in want (NULL-ended). */
static void expect_preview(const char *spec_json, const sb_sched_ctx *ctx, const char *after,
                           const char **want)
{
    cJSON *spec = cJSON_Parse(spec_json);
    if (!spec)
        fail_msg("bad test spec %s", spec_json);
    int64_t out[SB_SCHED_PREVIEW_MAX];
    int n = 0, got = 0;
    while (want[n])
        n++;
    sb_errmsg em = {{0}};
    if (sb_sched_preview(spec, at(after), ctx, 8, out, &got, &em) != SB_OK)
        fail_msg("%s: %s", spec_json, em.text);
    for (int i = 0; i < got && i < n; i++) {
        char g[SB_TIME_RFC3339_LEN];
        sb_time_format(out[i], g, sizeof(g));
        if (out[i] != at(want[i]))
            fail_msg("%s run %d: want %s, got %s", spec_json, i, want[i], g);
    }
    if (got != (n < 8 ? n : 8))
        fail_msg("%s: want %d runs, got %d", spec_json, n, got);
    cJSON_Delete(spec);
}

#define PREVIEW(spec, ctx, after, ...)                                                             \
    do {                                                                                           \
        const char *want_[] = {__VA_ARGS__, NULL};                                                 \
        expect_preview(spec, ctx, after, want_);                                                   \
    } while (0)

static void expect_error(const char *spec_json, const sb_sched_ctx *ctx, sb_err want_err,
                         const char *want)
{
    cJSON *spec = cJSON_Parse(spec_json);
    int64_t when;
    sb_errmsg em = {{0}};
    sb_err err = sb_sched_next(spec, at("2026-01-01T00:00:00Z"), ctx, &when, &em);
    if (err != want_err || !strstr(em.text, want))
        fail_msg("%s: want %s containing \"%s\", got %s: \"%s\"", spec_json, sb_strerror(want_err),
                 want, sb_strerror(err), em.text);
    cJSON_Delete(spec);
}

static void test_repeat(void **state)
{
    PREVIEW("{\"type\":\"repeat\",\"interval\":\"10m\",\"start\":\"2026-01-01T08:00:00Z\"}", &utc,
            "2026-01-01T08:25:00Z", "2026-01-01T08:30:00Z", "2026-01-01T08:40:00Z",
            "2026-01-01T08:50:00Z", "2026-01-01T09:00:00Z", "2026-01-01T09:10:00Z",
            "2026-01-01T09:20:00Z", "2026-01-01T09:30:00Z", "2026-01-01T09:40:00Z");
    PREVIEW("{\"type\":\"repeat\",\"interval\":\"10m\",\"count\":3,"
            "\"start\":\"2026-01-01T08:00:00Z\"}",
            &utc, "2026-01-01T07:00:00Z", "2026-01-01T08:00:00Z", "2026-01-01T08:10:00Z",
            "2026-01-01T08:20:00Z");
    PREVIEW("{\"type\":\"repeat\",\"interval\":90000,\"count\":2}", &utc, "2026-01-01T00:00:00Z",
            "2026-01-01T00:01:30Z", "2026-01-01T00:03:00Z");
    sb_sched_ctx done = {.tz = "UTC", .runs_done = 2};
    expect_error("{\"type\":\"repeat\",\"interval\":\"1m\",\"count\":2}", &done, SB_ERR_NOTFOUND,
                 "all 2 runs done");
}

static void test_cron_and_simple(void **state)
{
    /* 2026-01-02 is a Friday; Berlin is UTC+1 in winter */
    PREVIEW("{\"type\":\"cron\",\"expression\":\"0 30 6 * * MON-FRI\"}", &berlin,
            "2026-01-01T12:00:00Z", "2026-01-02T05:30:00Z", "2026-01-05T05:30:00Z",
            "2026-01-06T05:30:00Z", "2026-01-07T05:30:00Z", "2026-01-08T05:30:00Z",
            "2026-01-09T05:30:00Z", "2026-01-12T05:30:00Z", "2026-01-13T05:30:00Z");
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"daily\",\"time\":\"02:30\",\"validity\":{"
            "\"to\":\"2026-03-31\"}}",
            &berlin, "2026-03-28T00:00:00Z", "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z");
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"weekly\",\"weekdays\":[\"mon\",\"FRI\",0],"
            "\"time\":\"06:30:15\",\"validity\":{\"to\":\"2026-01-12\"}}",
            &utc, "2026-01-01T00:00:00Z", "2026-01-02T06:30:15Z", "2026-01-04T06:30:15Z",
            "2026-01-05T06:30:15Z", "2026-01-09T06:30:15Z", "2026-01-11T06:30:15Z",
            "2026-01-12T06:30:15Z");
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"monthly\",\"day\":31,\"time\":\"12:00\"}", &utc,
            "2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z",
            "2026-04-30T12:00:00Z", "2026-05-31T12:00:00Z", "2026-06-30T12:00:00Z",
            "2026-07-31T12:00:00Z", "2026-08-31T12:00:00Z", "2026-09-30T12:00:00Z");
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"monthly\",\"day\":29,\"time\":\"00:00\","
            "\"validity\":{\"from\":\"2028-01-01\",\"to\":\"2028-03-31\"}}",
            &utc, "2026-01-01T00:00:00Z", "2028-01-29T00:00:00Z", "2028-02-29T00:00:00Z",
            "2028-03-29T00:00:00Z");
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"on_date\",\"date\":\"2026-12-24\","
            "\"time\":\"18:00\"}",
            &berlin, "2026-01-01T00:00:00Z", "2026-12-24T17:00:00Z");
    expect_error("{\"type\":\"simple\",\"frequency\":\"on_date\",\"date\":\"2025-12-24\","
                 "\"time\":\"18:00\"}",
                 &berlin, SB_ERR_NOTFOUND, "the date 2025-12-24 has passed");
}

static void test_sun(void **state)
{
    sb_sun_day d;
    assert_int_equal(
        sb_sun_day_get(52.52, 13.405, 2026, 6, 21, "Europe/Berlin", SB_SUN_OFFICIAL, &d, NULL),
        SB_OK);
    cJSON *spec = cJSON_Parse("{\"type\":\"sunrise\",\"offset\":\"-30m\"}");
    int64_t when;
    assert_int_equal(sb_sched_next(spec, at("2026-06-20T12:00:00Z"), &berlin, &when, NULL), SB_OK);
    assert_true(when == d.rise_ms - 30 * 60000);
    cJSON_Delete(spec);
    spec = cJSON_Parse("{\"type\":\"sunset\",\"offset\":\"1h\"}");
    /* just before sunset+1h of the 21st: that one; just after: the 22nd's */
    assert_int_equal(sb_sched_next(spec, d.set_ms + 3599000, &berlin, &when, NULL), SB_OK);
    assert_true(when == d.set_ms + 3600000);
    assert_int_equal(sb_sched_next(spec, d.set_ms + 3600000, &berlin, &when, NULL), SB_OK);
    assert_true(when > d.set_ms + 3600000 + 86000000 && when < d.set_ms + 3600000 + 86800000);
    cJSON_Delete(spec);
    /* Tromso: no sunrise between late November and mid-January */
    sb_sched_ctx tromso = {
        .tz = "Europe/Oslo", .has_location = true, .latitude = 69.6492, .longitude = 18.9553};
    spec = cJSON_Parse("{\"type\":\"sunrise\"}");
    assert_int_equal(sb_sched_next(spec, at("2026-12-10T00:00:00Z"), &tromso, &when, NULL), SB_OK);
    assert_true(when > at("2027-01-10T00:00:00Z") && when < at("2027-01-20T00:00:00Z"));
    cJSON_Delete(spec);
    expect_error("{\"type\":\"sunset\"}", &utc, SB_ERR_INVALID,
                 "schedule 'sunset': no location configured");
    expect_error("{\"type\":\"sunset\",\"offset\":\"soon\"}", &berlin, SB_ERR_INVALID,
                 "schedule 'offset'");
}

static void test_validity(void **state)
{
    PREVIEW("{\"type\":\"simple\",\"frequency\":\"daily\",\"time\":\"06:30\",\"validity\":{"
            "\"from\":\"2026-04-01\",\"to\":\"2026-04-03\"}}",
            &berlin, "2026-03-01T00:00:00Z", "2026-04-01T04:30:00Z", "2026-04-02T04:30:00Z",
            "2026-04-03T04:30:00Z");
    PREVIEW("{\"type\":\"repeat\",\"interval\":\"1h\",\"start\":\"2026-01-01T00:00:00Z\","
            "\"validity\":{\"time\":{\"from\":\"08:00\",\"to\":\"10:00\"}}}",
            &utc, "2026-01-01T00:00:00Z", "2026-01-01T08:00:00Z", "2026-01-01T09:00:00Z",
            "2026-01-02T08:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T08:00:00Z",
            "2026-01-03T09:00:00Z", "2026-01-04T08:00:00Z", "2026-01-04T09:00:00Z");
    PREVIEW("{\"type\":\"cron\",\"expression\":\"0 0 * * * *\",\"validity\":{\"to\":"
            "\"2026-01-02\",\"time\":{\"from\":\"22:00\",\"to\":\"02:00\"}}}",
            &utc, "2026-01-01T12:00:00Z", "2026-01-01T22:00:00Z", "2026-01-01T23:00:00Z",
            "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", "2026-01-02T22:00:00Z",
            "2026-01-02T23:00:00Z");
    /* the window is wall-clock: 08:00-09:00 Berlin is 07:00Z in winter */
    PREVIEW("{\"type\":\"repeat\",\"interval\":\"30m\",\"start\":\"2026-01-01T00:00:00Z\","
            "\"validity\":{\"to\":\"2026-01-01\",\"time\":{\"from\":\"08:00\",\"to\":\"09:00\"}}}",
            &berlin, "2026-01-01T00:00:00Z", "2026-01-01T07:00:00Z", "2026-01-01T07:30:00Z");
}

static void test_errors(void **state)
{
    expect_error("{}", &utc, SB_ERR_INVALID, "schedule 'type': want repeat, cron");
    expect_error("[]", &utc, SB_ERR_INVALID, "must be a JSON object");
    expect_error("{\"type\":\"repeat\"}", &utc, SB_ERR_INVALID, "schedule 'interval'");
    expect_error("{\"type\":\"repeat\",\"interval\":\"500ms\"}", &utc, SB_ERR_INVALID,
                 "1s or more");
    expect_error("{\"type\":\"repeat\",\"interval\":\"1m\",\"start\":\"yesterday\"}", &utc,
                 SB_ERR_INVALID, "schedule 'start': bad time 'yesterday'");
    expect_error("{\"type\":\"cron\"}", &utc, SB_ERR_INVALID, "schedule 'expression': missing");
    expect_error("{\"type\":\"cron\",\"expression\":\"0 0 25 * * *\"}", &utc, SB_ERR_INVALID,
                 "schedule 'expression': cron field 'hours': bad token '25'");
    expect_error("{\"type\":\"simple\",\"frequency\":\"daily\"}", &utc, SB_ERR_INVALID,
                 "schedule 'time': want HH:MM or HH:MM:SS, got 'nothing'");
    expect_error("{\"type\":\"simple\",\"frequency\":\"daily\",\"time\":\"24:00\"}", &utc,
                 SB_ERR_INVALID, "got '24:00'");
    expect_error("{\"type\":\"simple\",\"frequency\":\"hourly\",\"time\":\"10:00\"}", &utc,
                 SB_ERR_INVALID, "schedule 'frequency'");
    expect_error("{\"type\":\"simple\",\"frequency\":\"weekly\",\"time\":\"10:00\"}", &utc,
                 SB_ERR_INVALID, "schedule 'weekdays': want a non-empty list");
    expect_error("{\"type\":\"simple\",\"frequency\":\"weekly\",\"time\":\"10:00\","
                 "\"weekdays\":[\"someday\"]}",
                 &utc, SB_ERR_INVALID, "bad day");
    expect_error("{\"type\":\"simple\",\"frequency\":\"monthly\",\"time\":\"10:00\",\"day\":32}",
                 &utc, SB_ERR_INVALID, "schedule 'day'");
    expect_error("{\"type\":\"simple\",\"frequency\":\"on_date\",\"time\":\"10:00\","
                 "\"date\":\"2026-02-30\"}",
                 &utc, SB_ERR_INVALID, "schedule 'date': want YYYY-MM-DD, got '2026-02-30'");
    expect_error("{\"type\":\"cron\",\"expression\":\"@daily\",\"validity\":{\"from\":\"x\"}}",
                 &utc, SB_ERR_INVALID, "schedule 'validity.from'");
    expect_error("{\"type\":\"cron\",\"expression\":\"@daily\",\"validity\":{\"time\":{}}}", &utc,
                 SB_ERR_INVALID, "schedule 'validity.time'");
    expect_error("{\"type\":\"cron\",\"expression\":\"@daily\",\"validity\":{\"to\":"
                 "\"2025-01-01\"}}",
                 &utc, SB_ERR_NOTFOUND, "the validity period has ended");
    sb_sched_ctx bad_zone = {.tz = "Atlantis/Capital"};
    expect_error("{\"type\":\"cron\",\"expression\":\"@daily\"}", &bad_zone, SB_ERR_INVALID,
                 "unknown time zone");
    cJSON *spec = cJSON_Parse("{\"type\":\"cron\",\"expression\":\"@daily\"}");
    int64_t out[1];
    int got;
    assert_int_equal(sb_sched_preview(spec, 0, &utc, 101, out, &got, NULL), SB_ERR_INVALID);
    cJSON_Delete(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat), cmocka_unit_test(test_cron_and_simple),
        cmocka_unit_test(test_sun),    cmocka_unit_test(test_validity),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
