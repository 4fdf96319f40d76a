/*
 * sun_test.c - sunrise/sunset/twilight from core/sun.c against an independent implementation of
 * NOAA's solar calculator spreadsheet (below), a few almanac values, and polar day and night.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sun.h"
#include "core/time.h"

#define RAD(d) ((d)*M_PI / 180.0)
#define DEG(r) ((r)*180.0 / M_PI)

/* Julian day of 0h UT of a Gregorian date (Meeus 7.1). */
static double julian_day(int y, int m, int d)
{
    if (m <= 2) {
        y--;
        m += 12;
    }
    int a = y / 100, b = 2 - a + a / 4;
    return floor(365.25 * (y + 4716)) + floor(30.6001 * (m + 1)) + d + b - 1524.5;
}

/*
 * NOAA's spreadsheet (gml.noaa.gov/grad/solcalc/calcdetails.html), evaluated at the event time
 * itself by iteration. Zenith 90.833 is sunrise/sunset, 96 civil, 102 nautical, 108
 * astronomical. Returns false when the sun does not cross that zenith (polar day or night);
 * otherwise the event in ms since the epoch for the solar day of UT date y-m-d.
 */
static bool noaa_event(double lat, double lon, int y, int m, int d, double zenith, bool rise,
                       int64_t *ms)
{
    double jd0 = julian_day(y, m, d), t = 720; /* minutes after 0h UT */
    for (int iter = 0; iter < 4; iter++) {
        double jc = (jd0 + t / 1440.0 - 2451545.0) / 36525.0;
        double l0 = fmod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0);
        double ma = 357.52911 + jc * (35999.05029 - 0.0001537 * jc);
        double ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);
        double ctr = sin(RAD(ma)) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) +
                     sin(RAD(2 * ma)) * (0.019993 - 0.000101 * jc) + sin(RAD(3 * ma)) * 0.000289;
        double omega = 125.04 - 1934.136 * jc;
        double app_long = l0 + ctr - 0.00569 - 0.00478 * sin(RAD(omega));
        double mean_obliq =
            23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60;
        double obliq = mean_obliq + 0.00256 * cos(RAD(omega));
        double decl = DEG(asin(sin(RAD(obliq)) * sin(RAD(app_long))));
        double yv = tan(RAD(obliq / 2)) * tan(RAD(obliq / 2));
        double eq_time =
            4 * DEG(yv * sin(2 * RAD(l0)) - 2 * ecc * sin(RAD(ma)) +
                    4 * ecc * yv * sin(RAD(ma)) * cos(2 * RAD(l0)) -
                    0.5 * yv * yv * sin(4 * RAD(l0)) - 1.25 * ecc * ecc * sin(2 * RAD(ma)));
        double cos_ha =
            cos(RAD(zenith)) / (cos(RAD(lat)) * cos(RAD(decl))) - tan(RAD(lat)) * tan(RAD(decl));
        if (cos_ha < -1 || cos_ha > 1)
            return false;
        double ha = DEG(acos(cos_ha));
        double noon = 720 - 4 * lon - eq_time;
        t = rise ? noon - 4 * ha : noon + 4 * ha;
    }
    *ms = (int64_t)llround((jd0 - 2440587.5) * 86400000.0 + t * 60000.0);
    return true;
}

static const double zeniths[] = {90.833, 96, 102, 108};

static void near(const char *what, int64_t got, int64_t want, int64_t tolerance_ms)
{
    char g[SB_TIME_RFC3339_LEN], w[SB_TIME_RFC3339_LEN];
    sb_time_format(got, g, sizeof(g));
    sb_time_format(want, w, sizeof(w));
    if (llabs(got - want) > tolerance_ms)
        fail_msg("%s: got %s, want %s (+-%lld s)", what, g, w, (long long)tolerance_ms / 1000);
}

static void against_noaa(const char *name, double lat, double lon, int y, int m, int d,
                         const char *tz)
{
    for (int h = SB_SUN_OFFICIAL; h <= SB_SUN_ASTRONOMICAL; h++) {
        sb_sun_day day;
        sb_errmsg em = {{0}};
        assert_int_equal(sb_sun_day_get(lat, lon, y, m, d, tz, (sb_sun_horizon)h, &day, &em),
                         SB_OK);
        int64_t rise, set;
        bool has_rise = noaa_event(lat, lon, y, m, d, zeniths[h], true, &rise);
        bool has_set = noaa_event(lat, lon, y, m, d, zeniths[h], false, &set);
        if (!has_rise && !has_set && !day.has_rise && !day.has_set) {
            /* e.g. no astronomical night in a Berlin June: both agree the sun stays above */
            assert_int_equal(day.state, SB_SUN_POLAR_DAY);
            continue;
        }
        char what[128];
        snprintf(what, sizeof(what), "%s %04d-%02d-%02d %s rise", name, y, m, d,
                 sb_sun_horizon_name((sb_sun_horizon)h));
        if (!has_rise || !day.has_rise)
            fail_msg("%s: NOAA %d, ours %d", what, has_rise, day.has_rise);
        near(what, day.rise_ms, rise, 120000);
        snprintf(what, sizeof(what), "%s %04d-%02d-%02d %s set", name, y, m, d,
                 sb_sun_horizon_name((sb_sun_horizon)h));
        if (!has_set || !day.has_set)
            fail_msg("%s: NOAA %d, ours %d", what, has_set, day.has_set);
        near(what, day.set_ms, set, 120000);
        assert_int_equal(day.state, SB_SUN_NORMAL);
    }
}

static void test_noaa_locations(void **state)
{
    against_noaa("Berlin", 52.52, 13.405, 2026, 6, 21, "Europe/Berlin");
    against_noaa("Berlin", 52.52, 13.405, 2026, 3, 29, "Europe/Berlin"); /* DST change day */
    against_noaa("New York", 40.7128, -74.006, 2026, 12, 21, "America/New_York");
    against_noaa("Sydney", -33.8688, 151.2093, 2026, 1, 1, "Australia/Sydney");
    against_noaa("Quito", -0.1807, -78.4678, 2026, 9, 23, "America/Guayaquil");
    against_noaa("Cape Town", -33.9249, 18.4241, 2024, 2, 29, "Africa/Johannesburg");
}

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    assert_int_equal(sb_time_parse(rfc3339, &ms), SB_OK);
    return ms;
}

/* Almanac values (rounded to the minute by their publishers, so +-2 minutes). */
static void test_published_values(void **state)
{
    sb_sun_day d;
    assert_int_equal(
        sb_sun_day_get(51.5074, -0.1278, 2026, 6, 21, "Europe/London", SB_SUN_OFFICIAL, &d, NULL),
        SB_OK);
    near("London solstice sunrise 04:43 BST", d.rise_ms, at("2026-06-21T04:43:00+01:00"), 120000);
    near("London solstice sunset 21:21 BST", d.set_ms, at("2026-06-21T21:21:00+01:00"), 120000);
    assert_int_equal(sb_sun_day_get(40.7128, -74.006, 2026, 12, 21, "America/New_York",
                                    SB_SUN_OFFICIAL, &d, NULL),
                     SB_OK);
    near("New York solstice sunrise 07:17 EST", d.rise_ms, at("2026-12-21T07:17:00-05:00"), 120000);
    near("New York solstice sunset 16:32 EST", d.set_ms, at("2026-12-21T16:32:00-05:00"), 120000);
}

static void test_polar(void **state)
{
    sb_sun_day d;
    /* Tromso: polar night around the December solstice, midnight sun in June */
    assert_int_equal(
        sb_sun_day_get(69.6492, 18.9553, 2026, 12, 21, "Europe/Oslo", SB_SUN_OFFICIAL, &d, NULL),
        SB_OK);
    assert_int_equal(d.state, SB_SUN_POLAR_NIGHT);
    assert_false(d.has_rise || d.has_set);
    int64_t ms;
    assert_false(noaa_event(69.6492, 18.9553, 2026, 12, 21, 90.833, true, &ms));
    assert_int_equal(
        sb_sun_day_get(69.6492, 18.9553, 2026, 6, 21, "Europe/Oslo", SB_SUN_OFFICIAL, &d, NULL),
        SB_OK);
    assert_int_equal(d.state, SB_SUN_POLAR_DAY);
    /* ...yet civil twilight still begins and ends there in December */
    assert_int_equal(
        sb_sun_day_get(69.6492, 18.9553, 2026, 12, 21, "Europe/Oslo", SB_SUN_CIVIL, &d, NULL),
        SB_OK);
    assert_int_equal(d.state, SB_SUN_NORMAL);
    assert_true(d.has_rise && d.has_set && d.rise_ms < d.set_ms);
    /* South pole in its summer */
    assert_int_equal(sb_sun_day_get(-90, 0, 2026, 12, 21, "UTC", SB_SUN_OFFICIAL, &d, NULL), SB_OK);
    assert_int_equal(d.state, SB_SUN_POLAR_DAY);
}

static void test_errors(void **state)
{
    sb_sun_day d;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_sun_day_get(91, 0, 2026, 1, 1, "UTC", SB_SUN_OFFICIAL, &d, &em),
                     SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "out of range"));
    assert_int_equal(sb_sun_day_get(0, 181, 2026, 1, 1, "UTC", SB_SUN_OFFICIAL, &d, &em),
                     SB_ERR_INVALID);
    assert_int_equal(sb_sun_day_get(NAN, 0, 2026, 1, 1, "UTC", SB_SUN_OFFICIAL, &d, &em),
                     SB_ERR_INVALID);
    assert_int_equal(sb_sun_day_get(0, 0, 2026, 1, 1, "Nowhere/Land", SB_SUN_OFFICIAL, &d, &em),
                     SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "unknown time zone"));
    assert_string_equal(sb_sun_horizon_name(SB_SUN_NAUTICAL), "nautical");
}

static void test_location_parse(void **state)
{
    (void)state;
    double lat = 0, lon = 0;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_sun_location_parse("52.52,13.405", &lat, &lon, &em), SB_OK);
    assert_true(fabs(lat - 52.52) < 1e-9 && fabs(lon - 13.405) < 1e-9);
    assert_int_equal(sb_sun_location_parse(" -33.87 , 151.21 ", &lat, &lon, &em), SB_OK);
    assert_true(fabs(lat + 33.87) < 1e-9 && fabs(lon - 151.21) < 1e-9);
    static const char *const bad[] = {"",      "52.52", "52.52,", ",13",    "52.52;13.4", "a,b",
                                      "1,2,3", "nan,0", "91,0",   "0,-181", "1e999,0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em.text[0] = '\0';
        assert_int_equal(sb_sun_location_parse(bad[i], &lat, &lon, &em), SB_ERR_INVALID);
        assert_non_null(strstr(em.text, "location '"));
    }
    assert_int_equal(sb_sun_location_parse(NULL, &lat, &lon, &em), SB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noaa_locations), cmocka_unit_test(test_published_values),
        cmocka_unit_test(test_polar),          cmocka_unit_test(test_errors),
        cmocka_unit_test(test_location_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
