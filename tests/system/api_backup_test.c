/*
 * api_backup_test - the backup routes over real HTTP: run a backup, list it, download it (a gzip
 * archive of the listed size), change the store, restore the downloaded archive (the change is
 * undone, services are told to reload), restore a stored one by name, and the refusals: a
 * corrupt archive (400, store untouched), over api.restore_limit (413), a wrong content type
 * (415), bad and unknown names, and a readwrite user (403).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTORE_LIMIT 65536

static char name[256];
static char *archive;
static size_t archive_len;

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static const cJSON *at(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static long status_of(const char *method, const char *path, const char *body)
{
    api_res r = apic_req(method, path, admin_token(), body, NULL, NULL);
    long st = r.status;
    apic_free(&r);
    return st;
}

static void test_run_list_download(void **state)
{
    assert_int_equal(status_of("POST", "/api/gateway", "{\"id\":\"gwb\",\"name\":\"kept\"}"), 201);
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tb\",\"name\":\"kept too\"}"), 201);
    api_res r = apic_post("/api/backup/run", admin_token(), NULL);
    if (r.status != 201)
        fail_msg("backup/run: %ld %s", r.status, r.raw);
    snprintf(name, sizeof(name), "%s", cJSON_GetStringValue(at(r.json, "name")));
    assert_true(strncmp(name, "switchboard-", 12) == 0);
    assert_true(at(r.json, "documents")->valueint >= 3); /* admin, gateway, task */
    double size = at(r.json, "size")->valuedouble;
    assert_true(size > 0);
    apic_free(&r);

    r = apic_get("/api/backup", admin_token());
    assert_int_equal(r.status, 200);
    assert_int_equal(at(r.json, "count")->valueint, 1);
    const cJSON *first = cJSON_GetArrayItem(at(r.json, "data"), 0);
    assert_string_equal(cJSON_GetStringValue(at(first, "name")), name);
    assert_true(at(first, "size")->valuedouble == size);
    assert_non_null(at(first, "createdAt"));
    apic_free(&r);

    char path[512];
    snprintf(path, sizeof(path), "/api/backup/%s", name);
    r = apic_get(path, admin_token());
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "application/gzip"));
    assert_non_null(strstr(r.headers, "attachment; filename="));
    assert_true((double)r.raw_len == size);
    assert_int_equal((unsigned char)r.raw[0], 0x1f);
    assert_int_equal((unsigned char)r.raw[1], 0x8b);
    archive = malloc(r.raw_len);
    memcpy(archive, r.raw, r.raw_len);
    archive_len = r.raw_len;
    apic_free(&r);

    assert_int_equal(status_of("GET", "/api/backup/nosuch.tar.gz", NULL), 404);
    assert_int_equal(status_of("GET", "/api/backup/passwd", NULL), 400);
    assert_int_equal(status_of("GET", "/api/backup/.hidden.tar.gz", NULL), 400);
}

static void test_restore_upload(void **state)
{
    assert_non_null(archive);
    /* Change the store after the backup: one entity deleted, one renamed, one added. */
    assert_int_equal(status_of("DELETE", "/api/gateway", "[\"gwb\"]"), 200);
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tb\",\"name\":\"changed\"}"), 200);
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tnew\",\"name\":\"after\"}"), 201);
    apit_events_clear();
    api_res r = apic_req_n("POST", "/api/restore", admin_token(), archive, archive_len,
                           "application/gzip", NULL);
    if (r.status != 200)
        fail_msg("restore: %ld %s", r.status, r.raw);
    assert_true(at(r.json, "documents")->valueint >= 3);
    assert_true(at(r.json, "removed")->valueint >= 3);
    apic_free(&r);
    r = apic_get("/api/gateway/gwb", admin_token());
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(at(r.json, "name")), "kept");
    apic_free(&r);
    r = apic_get("/api/task/tb", admin_token());
    assert_string_equal(cJSON_GetStringValue(at(r.json, "name")), "kept too");
    apic_free(&r);
    assert_int_equal(status_of("GET", "/api/task/tnew", NULL), 404);
    /* The services are told to reload (no "type" in the payload). */
    cJSON *ctl = apit_event_wait("sbtest/ctl/gateway/reload", "");
    assert_non_null(ctl);
    cJSON_Delete(ctl);
    ctl = apit_event_wait("sbtest/ctl/handler/reload", "");
    assert_non_null(ctl);
    cJSON_Delete(ctl);

    /* replace=false keeps what exists and adds what is missing. */
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tb\",\"name\":\"mine\"}"), 200);
    assert_int_equal(status_of("DELETE", "/api/gateway", "[\"gwb\"]"), 200);
    r = apic_req_n("POST", "/api/restore?replace=false", admin_token(), archive, archive_len,
                   "application/octet-stream", NULL);
    assert_int_equal(r.status, 200);
    assert_true(at(r.json, "skipped")->valueint >= 2);
    apic_free(&r);
    r = apic_get("/api/task/tb", admin_token());
    assert_string_equal(cJSON_GetStringValue(at(r.json, "name")), "mine");
    apic_free(&r);
    assert_int_equal(status_of("GET", "/api/gateway/gwb", NULL), 200);
}

static void test_restore_by_name(void **state)
{
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tb\",\"name\":\"again\"}"), 200);
    char path[512];
    snprintf(path, sizeof(path), "/api/restore?name=%s", name);
    api_res r = apic_req("POST", path, admin_token(), NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);
    r = apic_get("/api/task/tb", admin_token());
    assert_string_equal(cJSON_GetStringValue(at(r.json, "name")), "kept too");
    apic_free(&r);
    assert_int_equal(status_of("POST", "/api/restore?name=nosuch.tar.gz", NULL), 404);
    assert_int_equal(status_of("POST", "/api/restore", NULL), 400);
    assert_int_equal(status_of("POST", "/api/restore?replace=maybe", NULL), 400);
}

static void test_refused(void **state)
{
    /* A corrupt archive: 400 and nothing changes. */
    assert_int_equal(status_of("POST", "/api/task", "{\"id\":\"tc\",\"name\":\"stays\"}"), 201);
    char junk[2048];
    memset(junk, 'x', sizeof(junk));
    memcpy(junk, "\x1f\x8b\x08", 3);
    api_res r = apic_req_n("POST", "/api/restore", admin_token(), junk, sizeof(junk),
                           "application/gzip", NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(cJSON_GetStringValue(at(r.json, "error")), "bad backup");
    apic_free(&r);
    r = apic_get("/api/task/tc", admin_token());
    assert_int_equal(r.status, 200);
    apic_free(&r);
    /* A truncated real archive too. */
    r = apic_req_n("POST", "/api/restore", admin_token(), archive, archive_len / 2,
                   "application/gzip", NULL);
    assert_int_equal(r.status, 400);
    apic_free(&r);

    /* Over api.restore_limit (larger than api.body_limit is fine below it). */
    char *big = calloc(1, RESTORE_LIMIT + 1);
    r = apic_req_n("POST", "/api/restore", admin_token(), big, RESTORE_LIMIT + 1,
                   "application/gzip", NULL);
    assert_int_equal(r.status, 413);
    apic_free(&r);
    r = apic_req_n("POST", "/api/restore", admin_token(), big, APIT_BODY_LIMIT * 2,
                   "application/gzip", NULL);
    assert_int_equal(r.status, 400); /* read, then refused as not an archive */
    apic_free(&r);
    free(big);
    r = apic_req("POST", "/api/restore", admin_token(), "{}", "application/json", NULL);
    assert_int_equal(r.status, 415);
    apic_free(&r);

    /* Admins only. */
    assert_int_equal(status_of("POST", "/api/user",
                               "{\"username\":\"rw\",\"password\":\"readwrite-pw\","
                               "\"role\":\"readwrite\"}"),
                     201);
    long st = 0;
    const char *t = apit_login("rw", "readwrite-pw", &st);
    assert_non_null(t);
    char token[2048];
    snprintf(token, sizeof(token), "%s", t);
    static const char *const routes[][2] = {{"POST", "/api/backup/run"},
                                            {"GET", "/api/backup"},
                                            {"GET", "/api/backup/x.tar.gz"},
                                            {"POST", "/api/restore"}};
    for (size_t i = 0; i < 4; i++) {
        r = apic_req(routes[i][0], routes[i][1], token, NULL, NULL, NULL);
        if (r.status != 403)
            fail_msg("%s %s as readwrite: %ld", routes[i][0], routes[i][1], r.status);
        apic_free(&r);
    }
    free(archive);
    archive = NULL;
}

int main(void)
{
    char yaml[128];
    snprintf(yaml, sizeof(yaml), "  restore_limit: %d\n", RESTORE_LIMIT);
    apit_extra_yaml(yaml);
    apit_start();
    apit_record("sbtest/ctl/#");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_list_download),
        cmocka_unit_test(test_restore_upload),
        cmocka_unit_test(test_restore_by_name),
        cmocka_unit_test(test_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
