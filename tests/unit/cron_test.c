/*
 * cron_test.c - cron parsing (fields, names, steps, lists, macros, every error) and next fire
 * times across DST changes in Europe/Berlin and America/New_York, leap years and month ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/cron.h"
#include "core/time.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    if (sb_time_parse(rfc3339, &ms) != SB_OK)
        fail_msg("bad test time %s", rfc3339);
    return ms;
}

/* Checks that expr, starting after `after`, fires at each of the UTC times in want (NULL-ended). */
static void expect_runs(const char *expr, const char *tz, const char *after, const char **want)
{
    sb_cron c;
    sb_errmsg em = {{0}};
    if (sb_cron_parse(expr, &c, &em) != SB_OK)
        fail_msg("'%s' did not parse: %s", expr, em.text);
    int64_t t = at(after);
    for (int i = 0; want[i]; i++) {
        int64_t next;
        if (sb_cron_next(&c, t, tz, &next, &em) != SB_OK)
            fail_msg("'%s' run %d: %s", expr, i, em.text);
        char got[SB_TIME_RFC3339_LEN];
        sb_time_format(next, got, sizeof(got));
        if (next != at(want[i]))
            fail_msg("'%s' in %s run %d after %s: want %s, got %s", expr, tz ? tz : "local", i,
                     after, want[i], got);
        t = next;
    }
}

#define RUNS(expr, tz, after, ...)                                                                 \
    do {                                                                                           \
        const char *want_[] = {__VA_ARGS__, NULL};                                                 \
        expect_runs(expr, tz, after, want_);                                                       \
    } while (0)

static void parse_bad(const char *expr, const char *want)
{
    sb_cron c;
    sb_errmsg em = {{0}};
    sb_err err = sb_cron_parse(expr, &c, &em);
    if (err != SB_ERR_PARSE || !strstr(em.text, want))
        fail_msg("'%s': want a parse error containing \"%s\", got %s: \"%s\"", expr, want,
                 sb_strerror(err), em.text);
}

static void test_every_second_and_steps(void **state)
{
    RUNS("* * * * * *", "UTC", "2026-01-01T00:00:00.500Z", "2026-01-01T00:00:01Z",
         "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z");
    RUNS("*/20 * * * * *", "UTC", "2026-01-01T00:00:05Z", "2026-01-01T00:00:20Z",
         "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z");
    RUNS("5/20 * * * * *", "UTC", "2026-01-01T00:00:30Z", "2026-01-01T00:00:45Z",
         "2026-01-01T00:01:05Z");
    RUNS("10-30/10 0 0 * * *", "UTC", "2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z",
         "2026-01-01T00:00:30Z", "2026-01-02T00:00:10Z");
    RUNS("0 0 6,18 * * *", "UTC", "2026-01-01T07:00:00Z", "2026-01-01T18:00:00Z",
         "2026-01-02T06:00:00Z");
    RUNS("0 59 23 31 12 *", "UTC", "2026-06-01T00:00:00Z", "2026-12-31T23:59:00Z",
         "2027-12-31T23:59:00Z");
}

static void test_names_and_days(void **state)
{
    /* 2027-01-01 is a Friday */
    RUNS("0 0 9 * JAN-MAR MON-FRI", "UTC", "2026-03-31T09:00:00Z", "2027-01-01T09:00:00Z",
         "2027-01-04T09:00:00Z");
    RUNS("0 0 9 * jan-mar mon-fri", "UTC", "2026-03-31T09:00:00Z", "2027-01-01T09:00:00Z");
    /* both day fields restricted: either matches (2026-02-06 Fri, 02-13 Fri and 13th) */
    RUNS("0 0 0 13 * FRI", "UTC", "2026-02-01T00:00:00Z", "2026-02-06T00:00:00Z",
         "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z");
    /* 7 is Sunday, like SUN and 0; 2026-02-01 is a Sunday */
    RUNS("0 0 0 * * 7", "UTC", "2026-01-30T00:00:00Z", "2026-02-01T00:00:00Z");
    RUNS("0 0 0 ? * SUN", "UTC", "2026-01-30T00:00:00Z", "2026-02-01T00:00:00Z");
    RUNS("0 0 0 1 * ?", "UTC", "2026-01-30T00:00:00Z", "2026-02-01T00:00:00Z");
    RUNS("0 0 12 * * SAT,SUN", "UTC", "2026-02-02T00:00:00Z", "2026-02-07T12:00:00Z",
         "2026-02-08T12:00:00Z", "2026-02-14T12:00:00Z");
}

static void test_month_ends_and_leap_years(void **state)
{
    RUNS("0 0 0 31 * *", "UTC", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z",
         "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z");
    RUNS("0 0 0 30 * *", "UTC", "2026-01-31T00:00:00Z", "2026-03-30T00:00:00Z");
    RUNS("0 0 12 29 2 *", "UTC", "2025-01-01T00:00:00Z", "2028-02-29T12:00:00Z",
         "2032-02-29T12:00:00Z");
    /* 2100 is not a leap year */
    RUNS("0 0 12 29 FEB *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T12:00:00Z");
    RUNS("0 0 0 28-29 2 *", "UTC", "2027-02-28T00:00:00Z", "2028-02-28T00:00:00Z",
         "2028-02-29T00:00:00Z");
}

static void test_macros(void **state)
{
    RUNS("@hourly", "UTC", "2026-01-01T00:10:00Z", "2026-01-01T01:00:00Z");
    RUNS("@daily", "UTC", "2026-01-01T00:10:00Z", "2026-01-02T00:00:00Z");
    RUNS("@midnight", "UTC", "2026-01-01T00:10:00Z", "2026-01-02T00:00:00Z");
    RUNS("@weekly", "UTC", "2026-01-01T00:10:00Z", "2026-01-04T00:00:00Z");
    RUNS("@monthly", "UTC", "2026-01-01T00:10:00Z", "2026-02-01T00:00:00Z");
    RUNS("@yearly", "UTC", "2026-01-01T00:10:00Z", "2027-01-01T00:00:00Z");
    RUNS("@annually", "UTC", "2026-01-01T00:10:00Z", "2027-01-01T00:00:00Z");
    RUNS("@every 90s", "UTC", "2026-01-01T00:00:00.250Z", "2026-01-01T00:01:30.250Z",
         "2026-01-01T00:03:00.250Z");
    RUNS("@every 1h30m", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z");
}

static void test_zones(void **state)
{
    RUNS("0 0 9 * * *", "Europe/Berlin", "2026-01-10T00:00:00Z", "2026-01-10T08:00:00Z");
    RUNS("0 0 9 * * *", "Europe/Berlin", "2026-07-10T00:00:00Z", "2026-07-10T07:00:00Z");
    RUNS("0 0 9 * * *", "America/New_York", "2026-01-10T00:00:00Z", "2026-01-10T14:00:00Z");
    RUNS("0 0 0 1 1 *", "America/New_York", "2026-06-01T00:00:00Z", "2027-01-01T05:00:00Z");
}

/* Berlin 2026: spring forward 29 March 02:00 CET -> 03:00 CEST (01:00Z). */
static void test_berlin_spring_forward(void **state)
{
    /* 02:30 does not exist: fires once at 03:00 CEST, then 02:30 CEST the next day */
    RUNS("0 30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z",
         "2026-03-30T00:30:00Z");
    /* several times inside the gap still fire once */
    RUNS("0 */15 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
         "2026-03-30T00:00:00Z");
    /* every-hour expressions follow elapsed time: nothing inside the gap */
    RUNS("0 30 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z",
         "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z");
    RUNS("0 0 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z");
    RUNS("* * * * * *", "Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z");
}

/* Berlin 2026: fall back 25 October 03:00 CEST -> 02:00 CET (01:00Z). */
static void test_berlin_fall_back(void **state)
{
    /* 02:30 happens twice: fires at the first only */
    RUNS("0 30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z",
         "2026-10-26T01:30:00Z");
    /* starting inside the second pass does not fire the repeat either */
    RUNS("0 45 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-26T01:45:00Z");
    /* every-hour expressions fire in both passes */
    RUNS("0 30 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z",
         "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z");
    RUNS("0 0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z",
         "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z");
    RUNS("*/30 * * * * *", "Europe/Berlin", "2026-10-25T00:59:00Z", "2026-10-25T00:59:30Z",
         "2026-10-25T01:00:00Z", "2026-10-25T01:00:30Z");
}

/* New York 2026: spring forward 8 March 02:00 EST -> 03:00 EDT (07:00Z); fall back 1 November
 * 02:00 EDT -> 01:00 EST (06:00Z). */
static void test_new_york(void **state)
{
    RUNS("0 30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z",
         "2026-03-09T06:30:00Z");
    RUNS("0 30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z",
         "2026-11-02T06:30:00Z");
    RUNS("0 15 * * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T05:15:00Z",
         "2026-11-01T06:15:00Z", "2026-11-01T07:15:00Z");
}

static void test_errors(void **state)
{
    parse_bad("0 0 25 * * *", "cron field 'hours': bad token '25': value out of range 0-23");
    parse_bad("60 * * * * *", "cron field 'seconds': bad token '60'");
    parse_bad("0 60 * * * *", "cron field 'minutes': bad token '60'");
    parse_bad("0 0 0 0 * *", "cron field 'day-of-month': bad token '0'");
    parse_bad("0 0 0 32 * *", "cron field 'day-of-month': bad token '32'");
    parse_bad("0 0 0 * 13 *", "cron field 'month': bad token '13'");
    parse_bad("0 0 0 * FOO *", "cron field 'month': bad token 'FOO': expected a number");
    parse_bad("0 0 0 * * MONDAY", "cron field 'day-of-week': bad token 'MONDAY'");
    parse_bad("0 0 0 * * 8", "cron field 'day-of-week': bad token '8'");
    parse_bad("0 0 5-2 * * *", "bad token '5-2': range start is after its end");
    parse_bad("*/0 * * * * *", "bad token '*/0': the step after '/' must be a positive number");
    parse_bad("0 0,,1 * * * *", "cron field 'minutes': bad token '': empty list item");
    parse_bad("0 0 1, * * *", "empty list item");
    parse_bad("? 0 0 * * *", "'?' is only allowed in day-of-month and day-of-week");
    parse_bad("0 0 1x * * *", "bad token '1x': unexpected characters");
    parse_bad("0 0 0 * *", "expected 6 fields");
    parse_bad("0 0 0 * * * *", "got 7");
    parse_bad("", "got 0");
    parse_bad("0 0 0 30 2 *", "bad token '30': no selected month has it");
    parse_bad("0 0 0 31 APR,JUN *", "no selected month has it");
    parse_bad("@foo", "unknown macro '@foo'");
    parse_bad("@every 0s", "bad duration '0s'");
    parse_bad("@every soon", "bad duration 'soon'");
    parse_bad("0 0 99999999999 * * *", "cron field 'hours'");
    sb_cron c;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_cron_parse("0 0 0 * * *", &c, &em), SB_OK);
    int64_t next;
    assert_int_equal(sb_cron_next(&c, 0, "Mars/Olympus", &next, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "unknown time zone 'Mars/Olympus'"));
    assert_int_equal(sb_cron_next(&c, 0, "../etc/passwd", &next, &em), SB_ERR_INVALID);
    /* 29 February or a Monday in February: either day matches */
    RUNS("0 0 0 29 2 MON", "UTC", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_second_and_steps),
        cmocka_unit_test(test_names_and_days),
        cmocka_unit_test(test_month_ends_and_leap_years),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_zones),
        cmocka_unit_test(test_berlin_spring_forward),
        cmocka_unit_test(test_berlin_fall_back),
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
