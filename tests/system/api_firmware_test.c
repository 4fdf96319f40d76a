/*
 * api_firmware_test - POST /api/firmware/upload/{id} over real HTTP: the stored file and its
 * sha256, the MySensors OTA CRC and block count checked against the gateway's own codec
 * (sb_mys_fw_prepare), api.firmware_limit instead of api.body_limit (413 past it), 415 for a
 * JSON body, 404 for an unknown firmware, a re-upload replacing the file, a document update
 * keeping it and a delete removing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "gateways/mysensors/mys_ota.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FW_LIMIT 8192

static const char *admin_token(void)
{
    return apit_env()->admin_token;
}

static const cJSON *at(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static api_res upload(const char *id, const void *bytes, size_t n, const char *ctype)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/firmware/upload/%s", id);
    return apic_req_n("POST", path, admin_token(), bytes, n, ctype, NULL);
}

static unsigned char *image(size_t n, unsigned seed)
{
    unsigned char *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)((i * 131 + seed) ^ (i >> 3)); /* includes zero bytes */
    return b;
}

static bool file_equals(const char *path, const unsigned char *bytes, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char *got = malloc(n + 1);
    size_t k = fread(got, 1, n + 1, f);
    fclose(f);
    bool eq = k == n && memcmp(got, bytes, n) == 0;
    free(got);
    return eq;
}

static void check_checksum(const cJSON *doc, const unsigned char *bytes, size_t n)
{
    unsigned char md[32];
    char hex[65];
    EVP_Digest(bytes, n, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    const cJSON *sum = at(doc, "checksum");
    assert_string_equal(cJSON_GetStringValue(at(sum, "sha256")), hex);
    sb_mys_firmware fw;
    assert_int_equal(sb_mys_fw_prepare(10, 2, bytes, n, &fw, NULL), SB_OK);
    assert_int_equal((int)at(sum, "crc16")->valuedouble, fw.crc);
    assert_int_equal((int)at(sum, "blocks")->valuedouble, fw.blocks);
    sb_mys_fw_free(&fw);
    assert_int_equal((size_t)at(doc, "size")->valuedouble, n);
}

static void test_upload(void **state)
{
    api_res r = apic_post("/api/firmware", admin_token(),
                          "{\"id\":\"blink\",\"name\":\"Blink\",\"type\":10,\"version\":2}");
    assert_int_equal(r.status, 201);
    apic_free(&r);
    /* Larger than api.body_limit, within api.firmware_limit; not a multiple of 16. */
    size_t n = APIT_BODY_LIMIT + 1001;
    unsigned char *fw = image(n, 7);
    r = upload("blink", fw, n, "application/octet-stream");
    if (r.status != 200)
        fail_msg("upload: %ld %s", r.status, r.raw);
    check_checksum(r.json, fw, n);
    char file[1024];
    snprintf(file, sizeof(file), "%s", cJSON_GetStringValue(at(r.json, "file")));
    assert_true(file[0] == '/');
    assert_true(file_equals(file, fw, n));
    apic_free(&r);
    cJSON *ev = apit_event_wait("sbtest/event/firmware/blink", "updated");
    assert_non_null(ev);
    cJSON_Delete(ev);

    /* The stored document says the same; an update without the file keys keeps them. */
    r = apic_post("/api/firmware", admin_token(),
                  "{\"id\":\"blink\",\"name\":\"Blink 2\",\"type\":10,\"version\":2}");
    assert_int_equal(r.status, 200);
    apic_free(&r);
    r = apic_get("/api/firmware/blink", admin_token());
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetStringValue(at(r.json, "file")), file);
    check_checksum(r.json, fw, n);
    apic_free(&r);

    /* A new image replaces the file; the old one is gone. */
    unsigned char *fw2 = image(100, 99);
    r = upload("blink", fw2, 100, "application/octet-stream");
    assert_int_equal(r.status, 200);
    check_checksum(r.json, fw2, 100);
    const char *file2 = cJSON_GetStringValue(at(r.json, "file"));
    assert_string_not_equal(file2, file);
    assert_true(file_equals(file2, fw2, 100));
    assert_int_not_equal(access(file, F_OK), 0);
    snprintf(file, sizeof(file), "%s", file2);
    apic_free(&r);

    /* Deleting the firmware removes its file. */
    r = apic_req("DELETE", "/api/firmware", admin_token(), "[\"blink\"]", NULL, NULL);
    assert_int_equal(r.status, 200);
    apic_free(&r);
    assert_int_not_equal(access(file, F_OK), 0);
    free(fw);
    free(fw2);
}

static void test_refused(void **state)
{
    unsigned char *fw = image(FW_LIMIT + 1, 1);
    api_res r = apic_post("/api/firmware", admin_token(), "{\"id\":\"big\",\"type\":1}");
    assert_int_equal(r.status, 201);
    apic_free(&r);
    r = upload("big", fw, FW_LIMIT + 1, "application/octet-stream");
    assert_int_equal(r.status, 413);
    assert_string_equal(cJSON_GetStringValue(at(r.json, "error")), "payload too large");
    apic_free(&r);
    r = upload("big", "{}", 2, "application/json");
    assert_int_equal(r.status, 415);
    apic_free(&r);
    r = upload("big", "", 0, "application/octet-stream");
    assert_int_equal(r.status, 400);
    apic_free(&r);
    r = upload("nosuch", fw, 16, "application/octet-stream");
    assert_int_equal(r.status, 404);
    assert_non_null(at(r.json, "detail"));
    apic_free(&r);
    /* No token: 401; the type key of a firmware must be a number. */
    r = apic_req_n("POST", "/api/firmware/upload/big", NULL, fw, 16, NULL, NULL);
    assert_int_equal(r.status, 401);
    apic_free(&r);
    r = apic_post("/api/firmware", admin_token(), "{\"id\":\"big\",\"type\":\"x\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(apic_detail(&r), "type: expected a number"));
    apic_free(&r);
    free(fw);
}

int main(void)
{
    char yaml[128];
    snprintf(yaml, sizeof(yaml), "  firmware_limit: %d\n", FW_LIMIT);
    apit_extra_yaml(yaml);
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload),
        cmocka_unit_test(test_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
