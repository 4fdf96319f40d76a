/*
 * api_http_test - the HTTP layer of the API over real HTTP: gzip for large responses when the
 * client accepts it (the body inflates to the plain answer), keep-alive across successes, errors
 * and compressed answers, configurable CORS (allowed origin echoed, others not, preflight), a
 * chunked request body refused with 411, a body-less POST, and every error status in the
 * {"error","detail"} shape with its right code (400 401 403 404 405 409 413 415).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "services/api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ORIGIN "https://ui.example"

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static bool has_header(const api_res *r, const char *line)
{
    return strcasestr(r->headers, line) != NULL;
}

/* Inflates a gzip body (caller frees). */
static char *gunzip(const char *in, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = len * 20 + 1024;
    char *out = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap - 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    out[z.total_out] = '\0';
    inflateEnd(&z);
    return out;
}

static void test_gzip(void **state)
{
    for (int i = 0; i < 30; i++) {
        char body[256];
        snprintf(
            body, sizeof(body),
            "{\"id\":\"z%02d\",\"name\":\"schedule number %d\",\"labels\":{\"room\":\"hall\"}}", i,
            i);
        api_res r = apic_post("/api/schedule", admin_token(), body);
        assert_int_equal(r.status, 201);
        apic_free(&r);
    }
    const char *path = "/api/schedule?limit=100";
    api_res plain = apic_get(path, admin_token());
    assert_int_equal(plain.status, 200);
    assert_false(has_header(&plain, "Content-Encoding"));
    assert_true(has_header(&plain, "Vary: Accept-Encoding"));
    assert_true(plain.raw_len > 1024);

    api_res z = apic_req("GET", path, admin_token(), NULL, NULL, "Accept-Encoding: gzip, br");
    assert_int_equal(z.status, 200);
    assert_true(has_header(&z, "Content-Encoding: gzip"));
    assert_true(z.raw_len < plain.raw_len / 3);
    assert_int_equal(z.connects, 0); /* still the keep-alive connection */
    char *text = gunzip(z.raw, z.raw_len);
    assert_string_equal(text, plain.raw);
    free(text);
    apic_free(&z);

    /* Refused with q=0; small answers are not worth it. */
    z = apic_req("GET", path, admin_token(), NULL, NULL, "Accept-Encoding: gzip;q=0, identity");
    assert_false(has_header(&z, "Content-Encoding"));
    assert_int_equal(z.raw_len, plain.raw_len);
    apic_free(&z);
    z = apic_req("GET", "/api/status", NULL, NULL, NULL, "Accept-Encoding: gzip");
    assert_false(has_header(&z, "Content-Encoding"));
    assert_non_null(z.json);
    apic_free(&z);
    apic_free(&plain);

    /* The parsing itself. */
    assert_true(api_accepts_gzip("gzip"));
    assert_true(api_accepts_gzip("deflate, GZIP;q=0.5"));
    assert_true(api_accepts_gzip("*"));
    assert_false(api_accepts_gzip("gzip;q=0"));
    assert_false(api_accepts_gzip("*, gzip;q=0.0"));
    assert_false(api_accepts_gzip("identity"));
    assert_false(api_accepts_gzip(""));
}

static void test_keep_alive(void **state)
{
    api_res r = apic_get("/api/status", NULL); /* may open the connection */
    apic_free(&r);
    static const char *const paths[] = {"/api/status", "/api/nosuch", "/api/gateway/missing",
                                        "/api/status", "/api/schedule?limit=100"};
    for (size_t i = 0; i < 5; i++) {
        r = apic_req("GET", paths[i], admin_token(), NULL, NULL, "Accept-Encoding: gzip");
        if (r.connects != 0)
            fail_msg("GET %s opened a new connection", paths[i]);
        assert_false(has_header(&r, "Connection: close"));
        apic_free(&r);
    }
    r = apic_post("/api/gateway", admin_token(), "{\"id\":\"ka\"}");
    assert_int_equal(r.status, 201);
    assert_int_equal(r.connects, 0);
    apic_free(&r);
    /* A POST without Content-Length has an empty body: answered, and the connection closed so
     * the next request does not wait. */
    r = apic_req("POST", "/api/gateway", admin_token(), NULL, NULL, NULL);
    assert_int_equal(r.status, 400);
    assert_true(has_header(&r, "Connection: close"));
    apic_free(&r);
    r = apic_get("/api/status", NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);
}

/* libwebsockets 4.1 does not decode chunked request bodies: 411, and the server goes on. */
static void test_chunked(void **state)
{
    api_res r = apic_req("POST", "/api/gateway", admin_token(),
                         "{\"id\":\"chunky\",\"name\":\"c\"}", NULL, "Transfer-Encoding: chunked");
    assert_int_equal(r.status, 411);
    assert_non_null(strstr(apic_detail(&r), "Content-Length"));
    apic_free(&r);
    r = apic_get("/api/gateway/chunky", admin_token());
    assert_int_equal(r.status, 404);
    apic_free(&r);
}

static void test_cors(void **state)
{
    api_res r = apic_req("GET", "/api/status", NULL, NULL, NULL, "Origin: " ORIGIN);
    assert_true(has_header(&r, "Access-Control-Allow-Origin: " ORIGIN));
    assert_true(has_header(&r, "Access-Control-Allow-Credentials: true"));
    assert_true(has_header(&r, "Access-Control-Expose-Headers:"));
    apic_free(&r);
    r = apic_req("GET", "/api/status", NULL, NULL, NULL, "Origin: https://evil.example");
    assert_int_equal(r.status, 200);
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));
    apic_free(&r);
    r = apic_req("OPTIONS", "/api/gateway", NULL, NULL, NULL, "Origin: " ORIGIN);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Access-Control-Allow-Origin: " ORIGIN));
    assert_true(has_header(&r, "Access-Control-Allow-Methods:"));
    assert_true(has_header(&r, "Access-Control-Allow-Headers: Authorization, Content-Type"));
    assert_true(has_header(&r, "Access-Control-Max-Age:"));
    apic_free(&r);
}

typedef struct err_case {
    const char *method, *path, *body, *ctype;
    int token; /* 0 none, 1 admin, 2 readonly */
    long status;
    const char *error;
} err_case;

static void test_error_shapes(void **state)
{
    api_res r =
        apic_post("/api/user", admin_token(),
                  "{\"username\":\"viewer\",\"password\":\"viewer-pw\",\"role\":\"readonly\"}");
    assert_int_equal(r.status, 201);
    apic_free(&r);
    long st = 0;
    const char *t = apit_login("viewer", "viewer-pw", &st);
    assert_non_null(t);
    char ro[2048];
    snprintf(ro, sizeof(ro), "%s", t);
    char big[APIT_BODY_LIMIT + 64];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '[';
    big[sizeof(big) - 2] = ']';
    big[sizeof(big) - 1] = '\0';
    const err_case cases[] = {
        {"POST", "/api/gateway", "{\"id\":", NULL, 1, 400, "malformed JSON"},
        {"POST", "/api/gateway", "{\"enabled\":\"yes\"}", NULL, 1, 400, "invalid entity"},
        {"GET", "/api/gateway?limit=0", NULL, NULL, 1, 400, "bad query"},
        {"GET", "/api/gateway", NULL, NULL, 0, 401, "unauthorized"},
        {"GET", "/api/gateway", NULL, NULL, 3, 401, "unauthorized"},
        {"POST", "/api/gateway", "{\"id\":\"x\"}", NULL, 2, 403, "forbidden"},
        {"DELETE", "/api/gateway", "[\"ka\"]", NULL, 2, 403, "forbidden"},
        {"POST", "/api/action", "[]", NULL, 2, 403, "forbidden"},
        {"GET", "/api/nosuch/route/at/all", NULL, NULL, 1, 404, "not found"},
        {"GET", "/api/gateway/missing", NULL, NULL, 1, 404, "not found"},
        {"PUT", "/api/gateway", "{}", NULL, 1, 405, "method not allowed"},
        {"DELETE", "/api/status", NULL, NULL, 1, 405, "method not allowed"},
        {"POST", "/api/user", "{\"username\":\"viewer\"}", NULL, 1, 409, "conflict"},
        {"POST", "/api/gateway", big, NULL, 1, 413, "payload too large"},
        {"POST", "/api/gateway", "id=x", "application/x-www-form-urlencoded", 1, 415,
         "unsupported media type"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const err_case *c = &cases[i];
        const char *tok = c->token == 1   ? admin_token()
                          : c->token == 2 ? ro
                          : c->token == 3 ? "not.a.jwt"
                                          : NULL;
        r = apic_req(c->method, c->path, tok, c->body, c->ctype, NULL);
        if (r.status != c->status)
            fail_msg("%s %s: %ld %s, wanted %ld", c->method, c->path, r.status, r.raw, c->status);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r.json, "error"),
                    *d = cJSON_GetObjectItemCaseSensitive(r.json, "detail");
        if (!cJSON_IsString(e) || strcmp(e->valuestring, c->error) != 0 ||
            !(cJSON_IsString(d) || cJSON_IsNull(d)) || cJSON_GetArraySize(r.json) != 2)
            fail_msg("%s %s: body %s is not {\"error\":\"%s\",\"detail\"}", c->method, c->path,
                     r.raw, c->error);
        assert_true(has_header(&r, "Content-Type: application/json"));
        if (c->status == 405)
            assert_true(has_header(&r, "Allow: "));
        apic_free(&r);
    }
}

int main(void)
{
    apit_extra_yaml("  cors_origins:\n    - " ORIGIN "\n");
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip),         cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_chunked),      cmocka_unit_test(test_cors),
        cmocka_unit_test(test_error_shapes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
