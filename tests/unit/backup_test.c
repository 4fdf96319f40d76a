/*
 * backup_test.c - backup export/import/copy at the library level (storage/backup.h), with sqlite
 * stores: round trips through a directory and a .tar.gz, --replace, a wrong manifest version
 * and a corrupt archive (clear error, store untouched).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "storage/backup.h"

static char tmpdir[512];
static int seq;

static sb_store *fresh_store(void)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/backup-%d/store-%d.db", tmpdir, (int)getpid(), seq++);
    sb_config cfg = {0};
    cfg.storage.type = SB_STORE_SQLITE;
    cfg.storage.sqlite.path = path;
    cfg.storage.sqlite.sync = SB_SYNC_BATCH;
    cfg.storage.sqlite.busy_timeout_ms = 5000;
    sb_store *s = NULL;
    sb_errmsg em = {0};
    sb_err err = sb_store_open(&cfg, &s, &em);
    if (err)
        fprintf(stderr, "%s\n", sb_errmsg_str(&em, err));
    assert_int_equal(err, SB_OK);
    return s;
}

static void put(sb_store *s, const char *kind, const char *json)
{
    cJSON *d = cJSON_Parse(json);
    assert_int_equal(sb_store_put(s, kind, d, NULL), SB_OK);
    cJSON_Delete(d);
}

static sb_store *sample(void)
{
    sb_store *s = fresh_store();
    put(s, "gateway", "{\"id\":\"gw1\",\"provider\":{\"type\":\"mysensors\"},\"labels\":{}}");
    put(s, "gateway", "{\"id\":\"gw2\",\"enabled\":false,\"secret\":\"enc:AbC==\"}");
    put(s, "field", "{\"id\":\"gw1.12.1.V_TEMP\",\"current\":{\"value\":21.5},\"tags\":[1,\"x\"]}");
    put(s, "_meta", "{\"id\":\"schema\",\"version\":3}");
    return s;
}

/* Every document of every kind of a is in b, equal, and b has no others. */
static void assert_same(sb_store *a, sb_store *b)
{
    cJSON *ka = NULL, *kb = NULL;
    assert_int_equal(sb_store_kinds(a, &ka, NULL), SB_OK);
    assert_int_equal(sb_store_kinds(b, &kb, NULL), SB_OK);
    assert_true(cJSON_Compare(ka, kb, true));
    const cJSON *k;
    cJSON_ArrayForEach(k, ka)
    {
        cJSON *ra = NULL, *rb = NULL;
        assert_int_equal(sb_store_find(a, k->valuestring, NULL, &ra, NULL), SB_OK);
        assert_int_equal(sb_store_find(b, k->valuestring, NULL, &rb, NULL), SB_OK);
        assert_true(
            cJSON_Compare(cJSON_GetObjectItem(ra, "data"), cJSON_GetObjectItem(rb, "data"), true));
        cJSON_Delete(ra);
        cJSON_Delete(rb);
    }
    cJSON_Delete(ka);
    cJSON_Delete(kb);
}

static void round_trip(const char *name)
{
    char dest[700];
    snprintf(dest, sizeof(dest), "%s/backup-%d/%s", tmpdir, (int)getpid(), name);
    sb_store *a = sample(), *b = fresh_store();
    sb_backup_stats st = {0};
    sb_errmsg em = {0};
    sb_err err = sb_backup_export(a, dest, &st, &em);
    if (err)
        fprintf(stderr, "%s\n", sb_errmsg_str(&em, err));
    assert_int_equal(err, SB_OK);
    assert_int_equal(st.kinds, 3);
    assert_int_equal(st.docs, 4);
    assert_int_equal(sb_backup_import(b, dest, false, &st, &em), SB_OK);
    assert_int_equal(st.docs, 4);
    assert_same(a, b);
    /* Importing again without replace keeps what exists. */
    assert_int_equal(sb_backup_import(b, dest, false, &st, &em), SB_OK);
    assert_int_equal(st.docs, 0);
    assert_int_equal(st.skipped, 4);
    sb_store_close(a);
    sb_store_close(b);
}

static void test_directory(void **state)
{
    round_trip("dir");
}

static void test_archive(void **state)
{
    round_trip("all.tar.gz");
}

static void test_replace(void **state)
{
    char dest[700];
    snprintf(dest, sizeof(dest), "%s/backup-%d/replace.tar.gz", tmpdir, (int)getpid());
    sb_store *a = sample(), *b = fresh_store();
    assert_int_equal(sb_backup_export(a, dest, NULL, NULL), SB_OK);
    put(b, "gateway", "{\"id\":\"gw1\",\"changed\":true}");
    put(b, "gateway", "{\"id\":\"gw9\"}");
    put(b, "dashboard", "{\"id\":\"d1\"}");
    sb_backup_stats st = {0};
    /* Without replace: gw1 keeps its local version, gw9 stays. */
    assert_int_equal(sb_backup_import(b, dest, false, &st, NULL), SB_OK);
    assert_int_equal(st.skipped, 1);
    cJSON *d = NULL;
    assert_int_equal(sb_store_get(b, "gateway", "gw1", &d, NULL), SB_OK);
    assert_true(sb_json_bool(d, "changed", false));
    cJSON_Delete(d);
    /* With replace: the kinds in the backup are cleared; other kinds are left alone. */
    assert_int_equal(sb_backup_import(b, dest, true, &st, NULL), SB_OK);
    assert_int_equal(st.removed, 3 + 1 + 1); /* gw1, gw2, gw9, the field, _meta */
    assert_int_equal(sb_store_get(b, "gateway", "gw9", &d, NULL), SB_ERR_NOTFOUND);
    assert_int_equal(sb_store_get(b, "gateway", "gw1", &d, NULL), SB_OK);
    assert_false(sb_json_bool(d, "changed", false));
    cJSON_Delete(d);
    assert_int_equal(sb_store_get(b, "dashboard", "d1", &d, NULL), SB_OK);
    cJSON_Delete(d);
    sb_store_close(a);
    sb_store_close(b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_version(void **state)
{
    char dir[700], file[800];
    snprintf(dir, sizeof(dir), "%s/backup-%d/v2", tmpdir, (int)getpid());
    mkdir(dir, 0750);
    snprintf(file, sizeof(file), "%s/manifest.json", dir);
    write_file(file, "{\"format\":\"switchboard-backup\",\"version\":2,\"kinds\":{}}");
    sb_store *b = fresh_store();
    sb_errmsg em = {0};
    assert_int_equal(sb_backup_import(b, dir, false, NULL, &em), SB_ERR_UNSUPPORTED);
    assert_non_null(strstr(em.text, "version 2 is not supported"));
    write_file(file, "{\"format\":\"something-else\",\"version\":1,\"kinds\":{}}");
    assert_int_equal(sb_backup_import(b, dir, false, NULL, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "something-else"));
    sb_store_close(b);
}

static void test_corrupt(void **state)
{
    char dir[700], file[800], tgz[800];
    snprintf(dir, sizeof(dir), "%s/backup-%d/corrupt", tmpdir, (int)getpid());
    sb_store *a = sample(), *b = fresh_store();
    assert_int_equal(sb_backup_export(a, dir, NULL, NULL), SB_OK);
    put(b, "gateway", "{\"id\":\"local\"}");
    /* One kind file broken after the others parsed: nothing may be imported. */
    snprintf(file, sizeof(file), "%s/gateway.json", dir);
    write_file(file, "[{\"id\":\"gw1\"},");
    sb_errmsg em = {0};
    assert_int_equal(sb_backup_import(b, dir, true, NULL, &em), SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "gateway.json"));
    size_t n = 0;
    assert_int_equal(sb_store_count(b, "field", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sb_store_count(b, "gateway", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 1);
    /* A truncated archive. */
    snprintf(tgz, sizeof(tgz), "%s/backup-%d/trunc.tar.gz", tmpdir, (int)getpid());
    assert_int_equal(sb_backup_export(a, tgz, NULL, NULL), SB_OK);
    assert_int_equal(truncate(tgz, 60), 0);
    assert_int_not_equal(sb_backup_import(b, tgz, false, NULL, &em), SB_OK);
    assert_non_null(strstr(em.text, "trunc.tar.gz"));
    assert_int_equal(sb_store_count(b, "field", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 0);
    /* Not a backup at all. */
    write_file(tgz, "hello");
    assert_int_not_equal(sb_backup_import(b, tgz, false, NULL, &em), SB_OK);
    sb_store_close(a);
    sb_store_close(b);
}

static void test_copy(void **state)
{
    sb_store *a = sample(), *b = fresh_store();
    sb_backup_stats st = {0};
    assert_int_equal(sb_backup_copy(a, b, false, &st, NULL), SB_OK);
    assert_int_equal(st.docs, 4);
    assert_same(a, b);
    sb_store_close(a);
    sb_store_close(b);
}

int main(void)
{
    const char *t = getenv("SB_TEST_TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s", t ? t : "/tmp");
    mkdir(tmpdir, 0750);
    char d[700];
    snprintf(d, sizeof(d), "%s/backup-%d", tmpdir, (int)getpid());
    mkdir(d, 0750);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory), cmocka_unit_test(test_archive),
        cmocka_unit_test(test_replace),   cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_corrupt),   cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests_name("backup", tests, NULL, NULL);
}
