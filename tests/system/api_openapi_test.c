/*
 * api_openapi_test - GET /api/openapi.json against the router's real route table, in both
 * directions (every route is documented with its method and least role, every documented
 * operation is routed), the document's parameters, security and error schema, the auth claims
 * tried over HTTP, and the HTML list at GET /api/docs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "services/api/api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const http_methods[] = {"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};

static cJSON *doc; /* the fetched document */

static cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(item(o, key));
}

static void lower(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* Follows a local "$ref" ("#/components/parameters/Kind") once. */
static const cJSON *deref(const cJSON *o)
{
    const char *ref = str(o, "$ref");
    if (!ref)
        return o;
    assert_true(strncmp(ref, "#/", 2) == 0);
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", ref + 2);
    const cJSON *at = doc;
    for (char *save = NULL, *part = strtok_r(copy, "/", &save); part;
         part = strtok_r(NULL, "/", &save))
        at = item(at, part);
    if (!at)
        fail_msg("unresolved $ref %s", ref);
    return at;
}

static bool has_header(const api_res *r, const char *line)
{
    return r->headers && strstr(r->headers, line) != NULL;
}

static void test_fetch(void **state)
{
    api_res r = apic_get("/api/openapi.json", NULL); /* no token */
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "content-type: application/json") ||
                has_header(&r, "Content-Type: application/json"));
    assert_non_null(r.json);
    doc = cJSON_Duplicate(r.json, true);
    apic_free(&r);
    assert_true(strncmp(str(doc, "openapi"), "3.0.", 4) == 0);
    assert_non_null(str(item(doc, "info"), "title"));
    assert_string_equal(str(item(doc, "info"), "version"), SB_VERSION);
    assert_true(cJSON_IsObject(item(doc, "paths")));
}

/* Every route the router has is documented with the same method and least role. */
static void test_routes_documented(void **state)
{
    assert_non_null(doc);
    const cJSON *paths = item(doc, "paths");
    for (size_t i = 0; i < api_route_count(); i++) {
        api_route_info ri = api_route_at(i);
        char m[16];
        lower(ri.method, m, sizeof(m));
        const cJSON *op = item(item(paths, ri.pattern), m);
        if (!cJSON_IsObject(op))
            fail_msg("route %s %s is not in openapi.json", ri.method, ri.pattern);
        const char *role = str(op, "x-switchboard-role");
        if (!role || strcmp(role, ri.role) != 0)
            fail_msg("%s %s: x-switchboard-role %s, the router says %s", ri.method, ri.pattern,
                     role ? role : "(none)", ri.role);
        /* No token needed exactly when the operation overrides security with []. */
        const cJSON *sec = item(op, "security");
        bool open = cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0;
        if (open != (strcmp(ri.role, "none") == 0))
            fail_msg("%s %s: security %s but role %s", ri.method, ri.pattern,
                     open ? "[]" : "(inherited)", ri.role);
        if (!open && !item(item(op, "responses"), "401"))
            fail_msg("%s %s needs a token but documents no 401", ri.method, ri.pattern);
    }
}

static bool routed(const char *method, const char *path)
{
    for (size_t i = 0; i < api_route_count(); i++) {
        api_route_info ri = api_route_at(i);
        if (strcmp(ri.method, method) == 0 && strcmp(ri.pattern, path) == 0)
            return true;
    }
    return false;
}

/* Every documented path+method is routed; every {placeholder} is a declared path parameter. */
static void test_documented_routed(void **state)
{
    assert_non_null(doc);
    const cJSON *path;
    int ops = 0;
    cJSON_ArrayForEach(path, item(doc, "paths"))
    {
        const cJSON *field;
        cJSON_ArrayForEach(field, path)
        {
            if (strcmp(field->string, "parameters") == 0 || strcmp(field->string, "summary") == 0 ||
                strcmp(field->string, "description") == 0)
                continue;
            bool is_method = false;
            for (size_t k = 0; k < SB_ARRAY_LEN(http_methods); k++)
                is_method |= strcmp(field->string, http_methods[k]) == 0;
            if (!is_method)
                fail_msg("%s: unexpected key %s", path->string, field->string);
            char up[16];
            size_t n = 0;
            for (; field->string[n] && n + 1 < sizeof(up); n++)
                up[n] = (char)toupper((unsigned char)field->string[n]);
            up[n] = '\0';
            if (!routed(up, path->string))
                fail_msg("openapi.json documents %s %s, the router has no such route", up,
                         path->string);
            ops++;
            assert_non_null(str(field, "operationId"));
            assert_true(cJSON_IsObject(item(field, "responses")));
            /* {name} placeholders: each declared as a required path parameter. */
            for (const char *p = strchr(path->string, '{'); p; p = strchr(p + 1, '{')) {
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)(strcspn(p + 1, "}")), p + 1);
                bool found = false;
                const cJSON *lists[] = {item(path, "parameters"), item(field, "parameters")};
                for (size_t l = 0; l < 2; l++) {
                    const cJSON *prm;
                    cJSON_ArrayForEach(prm, lists[l])
                    {
                        const cJSON *d = deref(prm);
                        if (strcmp(str(d, "in"), "path") == 0 && strcmp(str(d, "name"), name) == 0)
                            found = cJSON_IsTrue(item(d, "required"));
                    }
                }
                if (!found)
                    fail_msg("%s: no required path parameter %s", path->string, name);
            }
        }
    }
    assert_int_equal(ops, (int)api_route_count());
}

/* {kind} lists exactly the kinds the router serves (every one but settings). */
static void test_kinds(void **state)
{
    assert_non_null(doc);
    const cJSON *kind = deref(item(item(item(doc, "components"), "parameters"), "Kind"));
    const cJSON *en = item(item(kind, "schema"), "enum");
    assert_int_equal(cJSON_GetArraySize(en), SB_KIND__COUNT - 1);
    for (int k = 0; k < SB_KIND__COUNT; k++) {
        if (k == SB_KIND_SETTINGS)
            continue;
        bool found = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, en) found |= strcmp(e->valuestring, sb_entity_kind_name(k)) == 0;
        if (!found)
            fail_msg("kind %s missing from the {kind} enum", sb_entity_kind_name(k));
    }
}

/* Security schemes as auth.c reads them; every error response is the {error, detail} schema. */
static void test_security_and_errors(void **state)
{
    assert_non_null(doc);
    const cJSON *comp = item(doc, "components");
    const cJSON *bearer = item(item(comp, "securitySchemes"), "bearerAuth");
    assert_string_equal(str(bearer, "type"), "http");
    assert_string_equal(str(bearer, "scheme"), "bearer");
    const cJSON *cookie = item(item(comp, "securitySchemes"), "cookieAuth");
    assert_string_equal(str(cookie, "type"), "apiKey");
    assert_string_equal(str(cookie, "in"), "cookie");
    assert_string_equal(str(cookie, "name"), API_COOKIE);
    /* Global: bearer or cookie. */
    assert_int_equal(cJSON_GetArraySize(item(doc, "security")), 2);

    const cJSON *err = item(item(comp, "schemas"), "Error");
    const cJSON *req = item(err, "required");
    assert_int_equal(cJSON_GetArraySize(req), 2);
    assert_string_equal(cJSON_GetArrayItem(req, 0)->valuestring, "error");
    assert_string_equal(cJSON_GetArrayItem(req, 1)->valuestring, "detail");
    assert_true(cJSON_IsTrue(item(item(item(err, "properties"), "detail"), "nullable")));

    const cJSON *path, *op, *resp;
    cJSON_ArrayForEach(path, item(doc, "paths")) cJSON_ArrayForEach(op, path)
    {
        if (strcmp(op->string, "parameters") == 0)
            continue;
        cJSON_ArrayForEach(resp, item(op, "responses"))
        {
            if (resp->string[0] != '4' && resp->string[0] != '5' &&
                strcmp(resp->string, "default") != 0)
                continue;
            const cJSON *schema =
                item(item(item(deref(resp), "content"), "application/json"), "schema");
            if (!schema || strcmp(str(schema, "$ref") ? str(schema, "$ref") : "",
                                  "#/components/schemas/Error") != 0)
                fail_msg("%s %s: response %s is not the Error schema", op->string, path->string,
                         resp->string);
        }
    }
}

/* What the document says about tokens holds over HTTP: routes with security [] answer without
 * one, the others answer 401 with the error schema. */
static void test_auth_claims(void **state)
{
    for (size_t i = 0; i < api_route_count(); i++) {
        api_route_info ri = api_route_at(i);
        char path[256] = "";
        for (const char *p = ri.pattern; *p;) {
            if (strncmp(p, "{kind}", 6) == 0) {
                strcat(path, "gateway");
                p += 6;
            } else if (strncmp(p, "{id}", 4) == 0) {
                strcat(path, "nosuchid");
                p += 4;
            } else {
                strncat(path, p++, 1);
            }
        }
        /* A body on everything but GET: lws waits for one on a POST without Content-Length. */
        bool get = strcmp(ri.method, "GET") == 0;
        api_res r = apic_req(ri.method, path, NULL, get ? NULL : "{}", NULL, NULL);
        if (strcmp(ri.role, "none") == 0) {
            if (r.status == 401 || r.status == 403 || r.status == 404 || r.status == 405)
                fail_msg("%s %s without a token: %ld", ri.method, path, r.status);
        } else {
            if (r.status != 401)
                fail_msg("%s %s without a token: %ld, want 401", ri.method, path, r.status);
            assert_non_null(cJSON_GetObjectItemCaseSensitive(r.json, "error"));
            assert_non_null(cJSON_GetObjectItemCaseSensitive(r.json, "detail"));
        }
        apic_free(&r);
    }
}

/* /api/docs: HTML without a token, every operation listed, nothing loaded from elsewhere. */
static void test_docs_page(void **state)
{
    assert_non_null(doc);
    api_res r = apic_req("GET", "/api/docs", NULL, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "text/html"));
    assert_non_null(strstr(r.raw, "<!DOCTYPE html>"));
    assert_null(strstr(r.raw, "<script"));
    assert_null(strstr(r.raw, "<link"));
    assert_null(strstr(r.raw, "src="));
    assert_null(strstr(r.raw, "@import"));
    const cJSON *path, *op;
    int rows = 0;
    cJSON_ArrayForEach(path, item(doc, "paths")) cJSON_ArrayForEach(op, path)
    {
        if (strcmp(op->string, "parameters") == 0)
            continue;
        char needle[128];
        snprintf(needle, sizeof(needle), "<code>%s</code>", str(op, "operationId"));
        if (!strstr(r.raw, needle))
            fail_msg("/api/docs does not list %s", str(op, "operationId"));
        rows++;
    }
    int trs = 0;
    for (const char *p = strstr(r.raw, "<tr><td"); p; p = strstr(p + 1, "<tr><td"))
        trs++;
    assert_int_equal(trs, rows);
    apic_free(&r);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_routes_documented),
        cmocka_unit_test(test_documented_routed),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_security_and_errors),
        cmocka_unit_test(test_auth_claims),
        cmocka_unit_test(test_docs_page),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(doc);
    apit_stop();
    return rc;
}
