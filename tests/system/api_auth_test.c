/*
 * api_auth_test - login, tokens and roles of the API service over real HTTP: good and bad
 * passwords, the cookie, 401 for missing/forged/expired/alg-none tokens, 403 for a readonly
 * user's writes and a readwrite user's user management, and passwords never returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void expect_status(const char *method, const char *path, const char *token, const char *body,
                          long want)
{
    api_res r = apic_req(method, path, token, body, NULL, NULL);
    if (r.status != want)
        fail_msg("%s %s: %ld %s, wanted %ld", method, path, r.status, r.raw, want);
    assert_non_null(r.json);
    if (want >= 400)
        assert_non_null(cJSON_GetObjectItem(r.json, "error"));
    apic_free(&r);
}

/* A token signed by key with alg, for subject sub, expiring at exp. Caller frees. */
static char *make_token(const char *key, jwt_alg_t alg, const char *sub, long exp)
{
    jwt_t *j = NULL;
    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)key, (int)strlen(key)), 0);
    jwt_add_grant(j, "sub", sub);
    jwt_add_grant_int(j, "exp", exp);
    char *t = jwt_encode_str(j);
    jwt_free(j);
    return t;
}

static void b64url(const char *in, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
    for (int i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
}

static void test_login(void **state)
{
    long st = 0;
    assert_null(apit_login("admin", "wrong-password", &st));
    assert_int_equal(st, 401);
    assert_null(apit_login("nobody", "wrong-password", &st));
    assert_int_equal(st, 401);
    api_res r = apic_post("/api/user/login", NULL, "{\"username\":1}");
    assert_int_equal(r.status, 400);
    apic_free(&r);
    /* The cookie works as well as the header and is HttpOnly + SameSite=Strict. */
    const char *t = apit_env()->admin_token;
    char cookie[2200];
    snprintf(cookie, sizeof(cookie), "Cookie: other=1; sb_token=%s", t);
    r = apic_req("GET", "/api/user/profile", NULL, NULL, NULL, cookie);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "username")), "admin");
    assert_null(cJSON_GetObjectItem(r.json, "passwordHash"));
    apic_free(&r);
    r = apic_post("/api/user/logout", NULL, "{}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "sb_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    apic_free(&r);
}

static void test_login_cookie_flags(void **state)
{
    /* A fresh user so the admin's initial password is not needed here. */
    api_res r = apic_post("/api/user", apit_env()->admin_token,
                          "{\"id\":\"u-rw\",\"username\":\"rw\",\"password\":\"rw-password\","
                          "\"role\":\"readwrite\"}");
    assert_int_equal(r.status, 201);
    assert_null(cJSON_GetObjectItem(r.json, "password"));
    assert_null(cJSON_GetObjectItem(r.json, "passwordHash"));
    apic_free(&r);
    r = apic_post("/api/user/login", NULL, "{\"username\":\"rw\",\"password\":\"rw-password\"}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Set-Cookie: sb_token=ey"));
    assert_non_null(strstr(r.headers, "HttpOnly; SameSite=Strict"));
    apic_free(&r);
}

static void test_bad_tokens(void **state)
{
    expect_status("GET", "/api/gateway", NULL, NULL, 401);
    expect_status("GET", "/api/gateway", "not-a-token", NULL, 401);
    const char *id = apit_env()->admin_id;
    char *forged =
        make_token("some-other-key-0123456789abcdef", JWT_ALG_HS256, id, (long)time(NULL) + 600);
    expect_status("GET", "/api/gateway", forged, NULL, 401);
    char *expired = make_token(APIT_SECRET, JWT_ALG_HS256, id, (long)time(NULL) - 10);
    expect_status("GET", "/api/gateway", expired, NULL, 401);
    char *hs384 = make_token(APIT_SECRET, JWT_ALG_HS384, id, (long)time(NULL) + 600);
    expect_status("GET", "/api/gateway", hs384, NULL, 401);
    char *good = make_token(APIT_SECRET, JWT_ALG_HS256, id, (long)time(NULL) + 600);
    expect_status("GET", "/api/gateway", good, NULL, 200);
    char *ghost = make_token(APIT_SECRET, JWT_ALG_HS256, "no-such-user", (long)time(NULL) + 600);
    expect_status("GET", "/api/gateway", ghost, NULL, 401);
    /* alg none, with and without a signature part. */
    char head[128], body[512], claims[256], none[1024];
    b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", head);
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"exp\":%ld}", id, (long)time(NULL) + 600);
    b64url(claims, body);
    snprintf(none, sizeof(none), "%s.%s.", head, body);
    expect_status("GET", "/api/gateway", none, NULL, 401);
    snprintf(none, sizeof(none), "%s.%s", head, body);
    expect_status("GET", "/api/gateway", none, NULL, 401);
    /* A good token's signature on a tampered payload. */
    char *dot = strrchr(good, '.');
    snprintf(none, sizeof(none), "%s.%s%s", strtok(good, "."), body, dot);
    expect_status("GET", "/api/gateway", none, NULL, 401);
    free(forged);
    free(expired);
    free(hs384);
    free(good);
    free(ghost);
}

static void test_roles(void **state)
{
    const char *admin = apit_env()->admin_token;
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-ro\",\"username\":\"ro\",\"password\":\"ro-password\","
                  "\"role\":\"readonly\"}",
                  201);
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-other\",\"username\":\"ro\",\"password\":\"xx-password\"}", 409);
    expect_status("POST", "/api/user", admin, "{\"username\":\"weird\",\"role\":\"god\"}", 400);
    long st = 0;
    char ro[2048], rw[2048];
    snprintf(ro, sizeof(ro), "%s", apit_login("ro", "ro-password", &st));
    assert_int_equal(st, 200);
    expect_status("GET", "/api/gateway", ro, NULL, 200);
    expect_status("POST", "/api/gateway", ro, "{\"id\":\"g-ro\"}", 403);
    expect_status("DELETE", "/api/gateway", ro, "[\"x\"]", 403);
    expect_status("POST", "/api/gateway/enable", ro, "[\"x\"]", 403);
    const char *t = apit_login("rw", "rw-password", &st);
    assert_non_null(t);
    snprintf(rw, sizeof(rw), "%s", t);
    expect_status("POST", "/api/gateway", rw, "{\"id\":\"g-rw\"}", 201);
    expect_status("POST", "/api/user", rw, "{\"username\":\"sneaky\",\"role\":\"admin\"}", 403);
    /* Passwords never come back. */
    api_res r = apic_get("/api/user?limit=1000", admin);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.raw, "password"));
    assert_null(strstr(r.raw, "pbkdf2"));
    apic_free(&r);
    /* A demotion takes effect on the next request with the same token. */
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-rw\",\"username\":\"rw\",\"role\":\"readonly\"}", 200);
    expect_status("POST", "/api/gateway", rw, "{\"id\":\"g-rw2\"}", 403);
    /* The password survived the update without one. */
    assert_non_null(apit_login("rw", "rw-password", &st));
}

/* One's own password: the current one is checked, every older token is revoked, the new one
 * works; one's own profile; an admin's password reset revokes too. */
static void test_own_password_and_profile(void **state)
{
    const char *admin = apit_env()->admin_token;
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-pw\",\"username\":\"pw\",\"password\":\"first-password\","
                  "\"role\":\"readonly\"}",
                  201);
    long st = 0;
    char one[2048], two[2048], three[2048];
    snprintf(one, sizeof(one), "%s", apit_login("pw", "first-password", &st));
    snprintf(two, sizeof(two), "%s", apit_login("pw", "first-password", &st));
    expect_status("POST", "/api/user/profile", one, "{\"fullName\":\"P. W.\",\"email\":\"p@w\"}",
                  200);
    expect_status("POST", "/api/user/profile", one, "{\"role\":\"admin\"}", 400);
    api_res r = apic_get("/api/user/profile", two);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "fullName")), "P. W.");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "role")), "readonly");
    apic_free(&r);

    expect_status("POST", "/api/user/password", one,
                  "{\"currentPassword\":\"wrong-one\",\"newPassword\":\"second-password\"}", 403);
    expect_status("POST", "/api/user/password", one,
                  "{\"currentPassword\":\"first-password\",\"newPassword\":\"short\"}", 400);
    r = apic_post("/api/user/password", one,
                  "{\"currentPassword\":\"first-password\",\"newPassword\":\"second-password\"}");
    assert_int_equal(r.status, 200);
    snprintf(three, sizeof(three), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "token")));
    assert_non_null(strstr(r.headers, "sb_token="));
    apic_free(&r);
    /* Both earlier tokens are revoked at once; the answered one works. */
    r = apic_get("/api/user/profile", two);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(apic_detail(&r), "revoked"));
    apic_free(&r);
    expect_status("GET", "/api/user/profile", one, NULL, 401);
    expect_status("GET", "/api/user/profile", three, NULL, 200);
    assert_null(apit_login("pw", "first-password", &st));
    assert_non_null(apit_login("pw", "second-password", &st));
    /* An admin setting the password logs the user out too; a rename alone does not. */
    snprintf(one, sizeof(one), "%s", apit_login("pw", "second-password", &st));
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-pw\",\"username\":\"pw\",\"fullName\":\"renamed\"}", 200);
    expect_status("GET", "/api/user/profile", one, NULL, 200);
    expect_status("POST", "/api/user", admin,
                  "{\"id\":\"u-pw\",\"username\":\"pw\",\"password\":\"third-password\"}", 200);
    expect_status("GET", "/api/user/profile", one, NULL, 401);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_login_cookie_flags),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_own_password_and_profile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
