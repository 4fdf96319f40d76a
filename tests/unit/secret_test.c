/*
 * secret_test - core/secret.c: seal/open round trips, a wrong key and altered text refused,
 * malformed values, which keys count as secrets, and the document walks (seal with the
 * placeholder keeping the stored value, redact, open).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/secret.h"

static sb_secret_key key(const char *text)
{
    sb_secret_key k;
    assert_int_equal(sb_secret_key_derive(text, strlen(text), &k, NULL), SB_OK);
    return k;
}

static void test_round_trip(void **state)
{
    sb_secret_key k = key("one secret");
    static const char *const plains[] = {"", "p", "hunter2", "a much longer password with ünïcode"};
    for (size_t i = 0; i < 4; i++) {
        char *s = NULL, *p = NULL;
        assert_int_equal(sb_secret_seal(&k, plains[i], &s, NULL), SB_OK);
        assert_true(sb_secret_is_sealed(s));
        if (strlen(plains[i]) >= 6) /* shorter ones may turn up in base64 by chance */
            assert_null(strstr(s + 7, plains[i]));
        assert_int_equal(sb_secret_open(&k, s, &p, NULL), SB_OK);
        assert_string_equal(p, plains[i]);
        /* A fresh nonce each time: the same text seals differently. */
        char *s2 = NULL;
        assert_int_equal(sb_secret_seal(&k, plains[i], &s2, NULL), SB_OK);
        assert_string_not_equal(s, s2);
        free(s);
        free(s2);
        free(p);
    }
}

static void test_refused(void **state)
{
    sb_secret_key k = key("one secret"), other = key("another secret");
    char *s = NULL, *p = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_secret_seal(&k, "hunter2", &s, NULL), SB_OK);
    assert_int_equal(sb_secret_open(&other, s, &p, &em), SB_ERR_AUTH);
    assert_null(p);
    /* One character changed in the ciphertext part. */
    size_t n = strlen(s);
    s[n - 5] = s[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(sb_secret_open(&k, s, &p, NULL), SB_ERR_AUTH);
    free(s);
    static const char *const bad[] = {"hunter2", "enc:v1:", "enc:v1:abc", "enc:v1:!!!!!!!!!!!!",
                                      "enc:v1:AAAA"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sb_secret_open(&k, bad[i], &p, NULL), SB_ERR_INVALID);
}

static void test_names(void **state)
{
    static const char *const yes[] = {"password",      "Password",      "api_key", "apiKey",
                                      "botToken",      "client_secret", "token",   "SECRET",
                                      "Authorization", "Api-Key"};
    static const char *const no[] = {"username", "passwordHash", "tokens", "host", "value", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(sb_secret_key_name(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(sb_secret_key_name(no[i]));
}

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static const char *str_at(const cJSON *doc, const char *path)
{
    return cJSON_GetStringValue(sb_json_path(doc, path));
}

static void test_docs(void **state)
{
    sb_secret_key k = key("doc secret");
    cJSON *doc = parse("{\"id\":\"gw\",\"name\":\"n\",\"provider\":{\"type\":\"mysensors\","
                       "\"username\":\"u\",\"password\":\"hunter2\"},"
                       "\"headers\":[{\"name\":\"X-Key\",\"secret\":true,\"value\":\"k1\"},"
                       "{\"name\":\"Accept\",\"value\":\"json\"}],\"enabled\":true}");
    assert_int_equal(sb_secret_seal_doc(&k, doc, NULL, NULL), SB_OK);
    assert_true(sb_secret_is_sealed(str_at(doc, "provider.password")));
    assert_string_equal(str_at(doc, "provider.username"), "u");
    assert_string_equal(str_at(doc, "name"), "n");
    assert_true(sb_secret_is_sealed(cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "headers"), 0), "value"))));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "headers"), 1), "value")),
                        "json");
    char *stored = sb_json_print(doc);

    /* Sealing again keeps sealed values; the placeholder takes the stored one. */
    cJSON *again = cJSON_Duplicate(doc, 1);
    sb_secret_redact_doc(again);
    assert_string_equal(str_at(again, "provider.password"), SB_SECRET_PLACEHOLDER);
    assert_int_equal(sb_secret_seal_doc(&k, again, doc, NULL), SB_OK);
    char *resealed = sb_json_print(again);
    assert_string_equal(resealed, stored);
    /* A placeholder with nothing stored is dropped. */
    cJSON *fresh = parse("{\"provider\":{\"password\":\"********\"}}");
    assert_int_equal(sb_secret_seal_doc(&k, fresh, NULL, NULL), SB_OK);
    assert_null(sb_json_path(fresh, "provider.password"));

    /* Opening gives the clear text back; another key fails naming the key. */
    sb_errmsg em = {{0}};
    sb_secret_key other = key("other");
    cJSON *copy = cJSON_Duplicate(doc, 1);
    assert_int_equal(sb_secret_open_doc(&other, copy, &em), SB_ERR_AUTH);
    assert_non_null(strstr(em.text, "password"));
    assert_int_equal(sb_secret_open_doc(&k, doc, NULL), SB_OK);
    assert_string_equal(str_at(doc, "provider.password"), "hunter2");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "headers"), 0), "value")),
                        "k1");
    free(stored);
    free(resealed);
    cJSON_Delete(doc);
    cJSON_Delete(again);
    cJSON_Delete(fresh);
    cJSON_Delete(copy);
}

/* sb_secret_open_with: the key from cfg->secret, else <data_dir>/secret; without either,
 * documents with nothing sealed still pass. */
static void test_open_with(void **state)
{
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_defaults(&cfg, NULL), SB_OK);
    char dir[] = "/tmp/secret_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    free(cfg->data_dir);
    cfg->data_dir = strdup(dir);
    free(cfg->secret);
    cfg->secret = strdup("");
    cJSON *plain = parse("{\"password\":\"as-stored\"}");
    assert_int_equal(sb_secret_open_with(cfg, plain, NULL), SB_OK);
    assert_string_equal(str_at(plain, "password"), "as-stored");
    sb_secret_key k = key("from the file");
    char *sealed = NULL, text[256];
    assert_int_equal(sb_secret_seal(&k, "hunter2", &sealed, NULL), SB_OK);
    snprintf(text, sizeof(text), "{\"password\":\"%s\"}", sealed);
    cJSON *doc = parse(text);
    sb_errmsg em = {{0}};
    assert_int_equal(sb_secret_open_with(cfg, doc, &em), SB_ERR_AUTH);
    assert_non_null(strstr(em.text, "no secret configured"));
    char path[300];
    snprintf(path, sizeof(path), "%s/secret", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("from the file\n", f);
    fclose(f);
    assert_int_equal(sb_secret_open_with(cfg, doc, NULL), SB_OK);
    assert_string_equal(str_at(doc, "password"), "hunter2");
    unlink(path);
    rmdir(dir);
    free(sealed);
    cJSON_Delete(plain);
    cJSON_Delete(doc);
    sb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_names),      cmocka_unit_test(test_docs),
        cmocka_unit_test(test_open_with),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
