/*
 * api_token_test - service tokens and secrets at rest, over real HTTP:
 * - a token is shown once, stored only as a hash (the data files never hold the secret), works
 *   as "Authorization: Bearer <id>_<secret>" with its role, and stops working when disabled,
 *   expired, deleted or altered; only admins manage tokens;
 * - secrets inside entities are never returned (responses and events show "********"), are
 *   sealed in the store (a second store connection opened the way the gateway service does
 *   reads the clear text back with the installation's key), and writing the placeholder back
 *   keeps the stored secret; a secret stored in clear is sealed when a restore brings it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include "core/json.h"
#include "core/secret.h"
#include "storage/store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static long status_as(const char *token, const char *method, const char *path, const char *body)
{
    api_res r = apic_req(method, path, token, body, NULL, NULL);
    long st = r.status;
    if (st >= 400)
        assert_non_null(cJSON_GetObjectItem(r.json, "error"));
    apic_free(&r);
    return st;
}

/* Whether any file directly in the data dir contains needle. */
static bool data_files_contain(const char *needle)
{
    DIR *d = opendir(apit_env()->data_dir);
    assert_non_null(d);
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", apit_env()->data_dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t cap = 1 << 20, n = 0, k;
        char *buf = malloc(cap);
        while ((k = fread(buf + n, 1, cap - n, f)) > 0)
            if ((n += k) == cap)
                buf = realloc(buf, cap *= 2);
        fclose(f);
        found = memmem(buf, n, needle, strlen(needle)) != NULL;
        free(buf);
    }
    closedir(d);
    return found;
}

/* Creates a service token; its "<id>_<secret>" into out. */
static void create_token(const char *body, char *out, size_t len)
{
    api_res r = apic_post("/api/service_token", admin_token(), body);
    if (r.status != 201)
        fail_msg("create token: %ld %s", r.status, r.raw);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "token"));
    assert_non_null(t);
    assert_null(cJSON_GetObjectItem(r.json, "tokenHash"));
    snprintf(out, len, "%s", t);
    apic_free(&r);
}

static void test_tokens(void **state)
{
    char ro[256], rw[256];
    create_token("{\"id\":\"prom\",\"name\":\"prometheus\",\"role\":\"readonly\"}", ro, sizeof(ro));
    assert_true(strncmp(ro, "prom_", 5) == 0);
    assert_int_equal(strlen(ro), 5 + 40);
    create_token("{\"name\":\"script\",\"role\":\"readwrite\"}", rw, sizeof(rw));

    /* Stored as a hash only; listed without it. */
    assert_false(data_files_contain(ro + 5));
    api_res r = apic_get("/api/service_token", admin_token());
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetObjectItem(r.json, "count")->valueint, 2);
    assert_null(strstr(r.raw, "tokenHash"));
    assert_null(strstr(r.raw, ro + 5));
    apic_free(&r);
    cJSON *ev = apit_event_wait("sbtest/event/service_token/prom", "created");
    assert_non_null(ev);
    char *evtext = sb_json_print(ev);
    assert_null(strstr(evtext, "tokenHash"));
    assert_null(strstr(evtext, ro + 5));
    free(evtext);
    cJSON_Delete(ev);

    /* The role applies. */
    assert_int_equal(status_as(ro, "GET", "/api/gateway", NULL), 200);
    assert_int_equal(status_as(ro, "GET", "/metrics", NULL), 200);
    assert_int_equal(status_as(ro, "POST", "/api/gateway", "{\"id\":\"g1\"}"), 403);
    assert_int_equal(status_as(rw, "POST", "/api/gateway", "{\"id\":\"g1\"}"), 201);
    assert_int_equal(status_as(rw, "POST", "/api/service_token", "{\"name\":\"x\"}"), 403);
    assert_int_equal(status_as(rw, "POST", "/api/user", "{\"username\":\"x\"}"), 403);
    assert_int_equal(status_as(ro, "DELETE", "/api/service_token", "[\"prom\"]"), 403);

    /* Altered or unknown tokens. */
    char bad[256];
    snprintf(bad, sizeof(bad), "%s", ro);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    assert_int_equal(status_as(bad, "GET", "/api/gateway", NULL), 401);
    assert_int_equal(
        status_as("nosuch_0123456789012345678901234567890123456789", "GET", "/api/gateway", NULL),
        401);
    assert_int_equal(status_as("prom_short", "GET", "/api/gateway", NULL), 401);

    /* Disabled, enabled again; an update keeps the credential and shows no token. */
    assert_int_equal(status_as(admin_token(), "POST", "/api/service_token/disable", "[\"prom\"]"),
                     200);
    r = apic_get("/api/gateway", ro);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(apic_detail(&r), "disabled"));
    apic_free(&r);
    assert_int_equal(status_as(admin_token(), "POST", "/api/service_token/enable", "[\"prom\"]"),
                     200);
    r = apic_post("/api/service_token", admin_token(),
                  "{\"id\":\"prom\",\"name\":\"renamed\",\"role\":\"readonly\"}");
    assert_int_equal(r.status, 200);
    assert_null(cJSON_GetObjectItem(r.json, "token"));
    apic_free(&r);
    assert_int_equal(status_as(ro, "GET", "/api/gateway", NULL), 200);
    assert_int_equal(status_as(admin_token(), "POST", "/api/service_token",
                               "{\"id\":\"prom\",\"role\":\"owner\"}"),
                     400);

    /* Expired. */
    assert_int_equal(status_as(admin_token(), "POST", "/api/service_token",
                               "{\"id\":\"prom\",\"expiresAt\":\"2020-01-01T00:00:00Z\"}"),
                     200);
    r = apic_get("/api/gateway", ro);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(apic_detail(&r), "expired"));
    apic_free(&r);

    /* Deleted. */
    assert_int_equal(status_as(admin_token(), "DELETE", "/api/service_token", "[\"prom\"]"), 200);
    assert_int_equal(status_as(ro, "GET", "/api/gateway", NULL), 401);
}

/* A second connection to the service's sqlite store, as another service on the host has. */
static sb_store *second_store(sb_config **cfg)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "data_dir: %s\nsecret: %s\n", apit_env()->data_dir, APIT_SECRET);
    sb_store *s = NULL;
    assert_int_equal(sb_config_load_string(yaml, strlen(yaml), "t", cfg, NULL), SB_OK);
    assert_int_equal(sb_store_open(*cfg, &s, NULL), SB_OK);
    return s;
}

/* The stored document read through a second store connection, secrets opened with the
 * installation's key as the gateway service does. */
static cJSON *stored_clear(const char *kind, const char *id)
{
    sb_config *cfg = NULL;
    sb_store *s = second_store(&cfg);
    cJSON *doc = NULL;
    sb_secret_key key;
    assert_int_equal(sb_store_get(s, kind, id, &doc, NULL), SB_OK);
    char *raw = sb_json_print(doc);
    assert_null(strstr(raw, "hunter2")); /* sealed at rest */
    free(raw);
    assert_int_equal(sb_secret_key_load(cfg, &key, NULL), SB_OK);
    assert_int_equal(sb_secret_open_doc(&key, doc, NULL), SB_OK);
    sb_store_close(s);
    sb_config_free(cfg);
    return doc;
}

/* A secret stored in clear (before encryption existed) is sealed when a restore brings it back,
 * as at every start. */
static void test_clear_secrets_sealed(void **state)
{
    sb_config *cfg = NULL;
    sb_store *s = second_store(&cfg);
    cJSON *doc = cJSON_Parse("{\"id\":\"legacy\",\"provider\":{\"type\":\"mysensors\","
                             "\"password\":\"hunter2-legacy\"}}");
    assert_int_equal(sb_store_put(s, "gateway", doc, NULL), SB_OK);
    cJSON_Delete(doc);
    sb_store_close(s);
    sb_config_free(cfg);
    api_res r = apic_get("/api/gateway/legacy", admin_token());
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.raw, "hunter2")); /* never shown, sealed or not */
    apic_free(&r);
    r = apic_post("/api/backup/run", admin_token(), NULL);
    assert_int_equal(r.status, 201);
    char path[300];
    snprintf(path, sizeof(path), "/api/restore?name=%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "name")));
    apic_free(&r);
    r = apic_post(path, admin_token(), NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);
    doc = stored_clear("gateway", "legacy");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "provider.password")),
                        "hunter2-legacy");
    cJSON_Delete(doc);
}

static void test_secrets(void **state)
{
    api_res r = apic_post("/api/gateway", admin_token(),
                          "{\"id\":\"gws\",\"name\":\"radio\",\"provider\":{\"type\":\"mysensors\","
                          "\"transport\":\"mqtt\",\"username\":\"u\","
                          "\"password\":\"hunter2-gw\"}}");
    assert_int_equal(r.status, 201);
    assert_string_equal(cJSON_GetStringValue(sb_json_path(r.json, "provider.password")),
                        SB_SECRET_PLACEHOLDER);
    assert_string_equal(cJSON_GetStringValue(sb_json_path(r.json, "provider.username")), "u");
    apic_free(&r);
    r = apic_get("/api/gateway/gws", admin_token());
    assert_null(strstr(r.raw, "hunter2"));
    assert_null(strstr(r.raw, "enc:v1:"));
    apic_free(&r);
    r = apic_get("/api/gateway?limit=10", admin_token());
    assert_null(strstr(r.raw, "hunter2"));
    apic_free(&r);
    cJSON *ev = apit_event_wait("sbtest/event/gateway/gws", "created");
    assert_non_null(ev);
    assert_string_equal(cJSON_GetStringValue(sb_json_path(ev, "entity.provider.password")),
                        SB_SECRET_PLACEHOLDER);
    cJSON_Delete(ev);
    assert_false(data_files_contain("hunter2-gw"));
    assert_true(data_files_contain("radio")); /* the scan does see the stored document */
    cJSON *doc = stored_clear("gateway", "gws");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "provider.password")), "hunter2-gw");
    cJSON_Delete(doc);

    /* Writing back what GET returned keeps the secret; a new value replaces it. */
    r = apic_post("/api/gateway", admin_token(),
                  "{\"id\":\"gws\",\"name\":\"renamed\",\"provider\":{\"type\":\"mysensors\","
                  "\"transport\":\"mqtt\",\"username\":\"u\",\"password\":\"********\"}}");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    doc = stored_clear("gateway", "gws");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "provider.password")), "hunter2-gw");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "name")), "renamed");
    cJSON_Delete(doc);
    r = apic_post(
        "/api/gateway", admin_token(),
        "{\"id\":\"gws\",\"provider\":{\"type\":\"mysensors\",\"password\":\"hunter2-new\"}}");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    doc = stored_clear("gateway", "gws");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "provider.password")),
                        "hunter2-new");
    cJSON_Delete(doc);

    /* A handler's webhook header marked secret, and a bot token. */
    r = apic_post("/api/handler", admin_token(),
                  "{\"id\":\"hook\",\"type\":\"webhook\",\"spec\":{\"headers\":["
                  "{\"name\":\"X-Key\",\"secret\":true,\"value\":\"hunter2-hdr\"},"
                  "{\"name\":\"Accept\",\"value\":\"application/json\"}],"
                  "\"botToken\":\"hunter2-bot\"}}");
    assert_int_equal(r.status, 201);
    assert_null(strstr(r.raw, "hunter2"));
    assert_non_null(strstr(r.raw, "application/json"));
    apic_free(&r);
    doc = stored_clear("handler", "hook");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "spec.botToken")), "hunter2-bot");
    const cJSON *h0 = cJSON_GetArrayItem(sb_json_path(doc, "spec.headers"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h0, "value")), "hunter2-hdr");
    cJSON_Delete(doc);

    /* A secret set through an action's key path is sealed too. */
    r = apic_post("/api/action", admin_token(),
                  "[{\"resource\":\"handler:hook\",\"keyPath\":\"spec.botToken\","
                  "\"payload\":\"hunter2-act\"}]");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    r = apic_get("/api/quickid?id=handler:hook.spec.botToken", admin_token());
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "value")),
                        SB_SECRET_PLACEHOLDER);
    apic_free(&r);
    doc = stored_clear("handler", "hook");
    assert_string_equal(cJSON_GetStringValue(sb_json_path(doc, "spec.botToken")), "hunter2-act");
    cJSON_Delete(doc);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_clear_secrets_sealed),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
