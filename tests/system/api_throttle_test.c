/*
 * api_throttle_test - api.rate_limit and the login limit over real HTTP: a client's burst passes,
 * the next request gets 429 with Retry-After and the error schema, another client (no token:
 * its address) is unaffected, the bucket refills after Retry-After; failed logins from an
 * address lock it out (429, even with the right password) until api.login_window has passed,
 * and a successful login clears the count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE  4
#define BURST 8

static char admin_pw[64];

static long retry_after(const api_res *r)
{
    const char *h = strstr(r->headers, "Retry-After: ");
    if (!h)
        h = strstr(r->headers, "retry-after: ");
    return h ? strtol(h + 13, NULL, 10) : -1;
}

static void test_rate(void **state)
{
    const char *t = apit_env()->admin_token;
    int ok = 0;
    api_res r = {0};
    for (int i = 0; i < BURST + 4; i++) {
        r = apic_get("/api/version", t);
        if (r.status != 200)
            break;
        ok++;
        apic_free(&r);
    }
    /* The burst (apit_start spent one on the profile), plus at most what refilled meanwhile. */
    if (ok < BURST - 1 || ok >= BURST + 4)
        fail_msg("%d requests passed, burst %d", ok, BURST);
    assert_int_equal(r.status, 429);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error")),
                        "too many requests");
    assert_non_null(cJSON_GetObjectItem(r.json, "detail"));
    long wait = retry_after(&r);
    assert_true(wait >= 1 && wait <= 1 + 1 / RATE);
    apic_free(&r);

    /* Another client is not held back. */
    r = apic_get("/api/status", NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);

    /* After Retry-After the token's client passes again. */
    sb_time_sleep_ms(wait * 1000);
    r = apic_get("/api/version", t);
    assert_int_equal(r.status, 200);
    apic_free(&r);
}

static void test_login(void **state)
{
    sb_time_sleep_ms(BURST * 1000 / RATE); /* a full bucket for this address */
    long st = 0;
    for (int i = 0; i < 3; i++) {
        assert_null(apit_login("admin", "wrong-password", &st));
        assert_int_equal(st, 401);
    }
    /* Locked out, whatever the password. */
    assert_null(apit_login("admin", admin_pw, &st));
    assert_int_equal(st, 429);
    api_res r = apic_post("/api/user/login", NULL, "{\"username\":\"admin\",\"password\":\"x\"}");
    assert_int_equal(r.status, 429);
    assert_true(retry_after(&r) >= 1 && retry_after(&r) <= 2);
    apic_free(&r);
    /* The window ends. */
    int64_t deadline = sb_time_mono_ms() + 4000;
    const char *tok = NULL;
    while (!tok && sb_time_mono_ms() < deadline) {
        sb_time_sleep_ms(250);
        tok = apit_login("admin", admin_pw, &st);
        assert_true(tok || st == 429);
    }
    assert_non_null(tok);
    /* A success cleared the count: two failures do not lock out. */
    for (int i = 0; i < 2; i++) {
        assert_null(apit_login("admin", "wrong-password", &st));
        assert_int_equal(st, 401);
    }
    assert_non_null(apit_login("admin", admin_pw, &st));
}

int main(void)
{
    char yaml[256];
    snprintf(yaml, sizeof(yaml),
             "  rate_limit: %d\n  rate_burst: %d\n  login_failures: 3\n  login_window: 2s\n", RATE,
             BURST);
    apit_extra_yaml(yaml);
    apit_start();
    char path[800];
    snprintf(path, sizeof(path), "%s/initial-admin-password", apit_env()->data_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(admin_pw, sizeof(admin_pw), f));
    fclose(f);
    admin_pw[strcspn(admin_pw, "\n")] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_login),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
