/*
 * api_web_test - the dashboard's static files from api.web_root over real HTTP: content types,
 * cache headers, ETag revalidation, precompressed .gz files, the index.html fallback for the
 * browser's routes, 404 for missing assets and paths that climb out of the root, and /api left
 * to the router.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[800];

static void put(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool has(const api_res *r, const char *line)
{
    return r->headers && strcasestr(r->headers, line) != NULL;
}

static api_res get(const char *path, const char *header)
{
    return apic_req("GET", path, NULL, NULL, NULL, header);
}

static void test_index_and_types(void **state)
{
    (void)state;
    api_res r = get("/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.raw, "<!doctype html><title>sb</title>");
    assert_true(has(&r, "content-type: text/html; charset=utf-8"));
    assert_true(has(&r, "cache-control: no-cache"));
    assert_true(has(&r, "etag: \""));
    apic_free(&r);

    r = get("/assets/app-1a2b.js", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.raw, "console.log(1)");
    assert_true(has(&r, "content-type: text/javascript"));
    assert_true(has(&r, "cache-control: public, max-age=31536000, immutable"));
    assert_false(has(&r, "content-encoding"));
    apic_free(&r);

    r = get("/assets/app-1a2b.css", NULL);
    assert_true(has(&r, "content-type: text/css"));
    apic_free(&r);
    r = get("/favicon.svg", NULL);
    assert_true(has(&r, "content-type: image/svg+xml"));
    apic_free(&r);
}

static void test_gzip(void **state)
{
    (void)state;
    api_res r = get("/assets/app-1a2b.js", "Accept-Encoding: gzip, deflate, br");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.raw, "GZIPPED");
    assert_true(has(&r, "content-encoding: gzip"));
    assert_true(has(&r, "content-type: text/javascript"));
    assert_true(has(&r, "vary: accept-encoding"));
    apic_free(&r);
    r = get("/assets/app-1a2b.js", "Accept-Encoding: gzip;q=0");
    assert_string_equal(r.raw, "console.log(1)");
    apic_free(&r);
    /* No .gz beside the CSS: the plain file. */
    r = get("/assets/app-1a2b.css", "Accept-Encoding: gzip");
    assert_string_equal(r.raw, "body{}");
    assert_false(has(&r, "content-encoding"));
    apic_free(&r);
}

static void test_etag(void **state)
{
    (void)state;
    api_res r = get("/index.html", NULL);
    const char *e = strcasestr(r.headers, "etag: ");
    assert_non_null(e);
    char line[128];
    snprintf(line, sizeof(line), "If-None-Match: %.*s", (int)strcspn(e + 6, "\r\n"), e + 6);
    apic_free(&r);
    r = get("/index.html", line);
    assert_int_equal(r.status, 304);
    assert_true(r.raw == NULL || r.raw[0] == '\0');
    apic_free(&r);
    r = get("/index.html", "If-None-Match: \"other\"");
    assert_int_equal(r.status, 200);
    apic_free(&r);
}

static void test_fallback_and_404(void **state)
{
    (void)state;
    /* The browser's own routes get the app. */
    api_res r = get("/devices/gw1.12", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.raw, "<!doctype html><title>sb</title>");
    assert_true(has(&r, "content-type: text/html"));
    apic_free(&r);
    /* A missing file is not the app. */
    r = get("/assets/gone-0000.js", NULL);
    assert_int_equal(r.status, 404);
    apic_free(&r);
    r = get("/robots.txt", NULL);
    assert_int_equal(r.status, 404);
    apic_free(&r);
    /* Out of the root: refused whether or not curl normalises the path. */
    r = get("/assets/../../secret.txt", NULL);
    assert_int_equal(r.status, 404);
    apic_free(&r);
    r = get("/%2e%2e/secret.txt", NULL);
    assert_int_equal(r.status, 404);
    apic_free(&r);
    /* A directory means its index.html. */
    r = get("/sub", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.raw, "sub index");
    apic_free(&r);
}

static void test_api_untouched(void **state)
{
    (void)state;
    api_res r = get("/api/status", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    apic_free(&r);
    r = get("/api/nosuch/route/here", NULL);
    assert_int_equal(r.status, 404);
    assert_true(has(&r, "content-type: application/json"));
    apic_free(&r);
    r = get("/api", NULL);
    assert_int_equal(r.status, 404);
    assert_true(has(&r, "content-type: application/json"));
    apic_free(&r);
    /* /metrics is the Prometheus route, not a file (nor the app's index.html). */
    r = get("/metrics", NULL);
    assert_int_equal(r.status, 401);
    assert_true(has(&r, "content-type: application/json"));
    apic_free(&r);
    /* Other methods outside /api are not files. */
    r = apic_req("POST", "/index.html", NULL, "{}", NULL, NULL);
    assert_int_equal(r.status, 404);
    apic_free(&r);
}

int main(void)
{
    const char *tmp = sbt_tmpdir("web-root");
    snprintf(root, sizeof(root), "%s/site", tmp);
    char secret[900];
    snprintf(secret, sizeof(secret), "%s/secret.txt", tmp);
    mkdir(root, 0700);
    FILE *f = fopen(secret, "w");
    if (f) {
        fputs("SECRET", f);
        fclose(f);
    }
    char sub[900], assets[900];
    snprintf(sub, sizeof(sub), "%s/sub", root);
    snprintf(assets, sizeof(assets), "%s/assets", root);
    mkdir(sub, 0700);
    mkdir(assets, 0700);
    put("index.html", "<!doctype html><title>sb</title>");
    put("favicon.svg", "<svg/>");
    put("sub/index.html", "sub index");
    put("assets/app-1a2b.js", "console.log(1)");
    put("assets/app-1a2b.js.gz", "GZIPPED");
    put("assets/app-1a2b.css", "body{}");
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "  web_root: %s\n", root); /* continues the api: section */
    apit_extra_yaml(yaml);
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_and_types),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_fallback_and_404),
        cmocka_unit_test(test_api_untouched),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
