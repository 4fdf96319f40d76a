/*
 * store_memory_test.c - what only the memory backend has: snapshots and journal replay over
 * them, sync: batch, its equality indexes kept right through updates and deletes (checked
 * against a plain scan with sb_query_match), and copies from get that share stored keys
 * (mem_keys.c) yet behave as any cJSON tree. The shared behaviour is in the conformance suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "storage/store.h"

static char base[512];

static sb_store *open_dir(const char *dir, int sync, int64_t snapshot_every)
{
    sb_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.storage.type = SB_STORE_MEMORY;
    cfg.storage.memory.dir = (char *)dir;
    cfg.storage.memory.sync = sync;
    cfg.storage.memory.sync_interval_ms = 10;
    cfg.storage.memory.snapshot_every = snapshot_every;
    sb_store *s = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_store_open(&cfg, &s, &em);
    if (err)
        print_error("open %s: %s\n", dir, em.text);
    assert_int_equal(err, SB_OK);
    assert_string_equal(em.text, "");
    return s;
}

static void new_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "%s/%s", base, name);
}

static void put(sb_store *s, const char *id, int v)
{
    char json[96];
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"v\":%d,\"tag\":\"t%d\"}", id, v, v % 10);
    cJSON *doc = cJSON_Parse(json);
    assert_int_equal(sb_store_put(s, "k", doc, NULL), SB_OK);
    cJSON_Delete(doc);
}

static bool exists(sb_store *s, const char *id)
{
    cJSON *doc = NULL;
    sb_err err = sb_store_get(s, "k", id, &doc, NULL);
    cJSON_Delete(doc);
    return err == SB_OK;
}

static long file_size(const char *dir, const char *name)
{
    char path[800];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[2000];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void test_snapshot_compaction(void **state)
{
    char dir[600];
    new_dir(dir, sizeof(dir), "compact");
    sb_store *s = open_dir(dir, SB_SYNC_ALWAYS, 10);
    for (int i = 0; i < 25; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d%d", i);
        put(s, id, i);
    }
    assert_true(file_size(dir, "snapshot") > 0);
    assert_true(file_size(dir, "journal") < file_size(dir, "snapshot")); /* 5 records left */
    sb_store_close(s);
    s = open_dir(dir, SB_SYNC_ALWAYS, 10);
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "k", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 25);
    sb_store_close(s);
}

/* A crash between the snapshot's rename and the journal's truncation leaves a journal whose
 * records are already in the snapshot: replaying them again must change nothing. */
static void test_replay_over_snapshot(void **state)
{
    char dir[600], saved[700], journal[700];
    new_dir(dir, sizeof(dir), "replay");
    snprintf(saved, sizeof(saved), "%s.journal", dir);
    snprintf(journal, sizeof(journal), "%s/journal", dir);
    sb_store *s = open_dir(dir, SB_SYNC_ALWAYS, 1000);
    for (int i = 0; i < 9; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d%d", i);
        put(s, id, i);
    }
    const char *gone[] = {"d0"};
    assert_int_equal(sb_store_delete(s, "k", gone, 1, NULL, NULL), SB_OK);
    sb_store_close(s);
    copy_file(journal, saved);
    s = open_dir(dir, SB_SYNC_ALWAYS, 1); /* the next write compacts */
    put(s, "x", 1);
    sb_store_close(s);
    assert_int_equal(file_size(dir, "journal"), 0);
    copy_file(saved, journal);
    s = open_dir(dir, SB_SYNC_ALWAYS, 1000);
    assert_false(exists(s, "d0"));
    assert_true(exists(s, "d8"));
    assert_true(exists(s, "x"));
    size_t n = 0;
    assert_int_equal(sb_store_count(s, "k", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, 9);
    sb_store_close(s);
}

static void test_sync_batch(void **state)
{
    char dir[600];
    new_dir(dir, sizeof(dir), "batch");
    sb_store *s = open_dir(dir, SB_SYNC_BATCH, 1000);
    put(s, "a", 1);
    usleep(30000); /* the syncer runs every 10 ms */
    put(s, "b", 2);
    sb_store_close(s); /* close syncs what is left */
    s = open_dir(dir, SB_SYNC_BATCH, 1000);
    assert_true(exists(s, "a"));
    assert_true(exists(s, "b"));
    sb_store_close(s);
}

/* The ids find returns for tag == t, sorted, joined; and the same by scanning every doc. */
static void find_both(sb_store *s, const char *filters, char *got, char *want, size_t len)
{
    sb_query q, all = {0};
    assert_int_equal(sb_query_parse(filters, NULL, &q, NULL), SB_OK);
    cJSON *res = NULL, *every = NULL;
    assert_int_equal(sb_store_find(s, "k", &q, &res, NULL), SB_OK);
    assert_int_equal(sb_store_find(s, "k", &all, &every, NULL), SB_OK);
    size_t a = 0, b = 0;
    got[0] = want[0] = '\0';
    for (const cJSON *d = cJSON_GetObjectItem(res, "data")->child; d; d = d->next)
        a += (size_t)snprintf(got + a, a < len ? len - a : 0, "%s,", sb_json_str(d, "id", ""));
    for (const cJSON *d = cJSON_GetObjectItem(every, "data")->child; d; d = d->next)
        if (sb_query_match(&q, d))
            b += (size_t)snprintf(want + b, b < len ? len - b : 0, "%s,", sb_json_str(d, "id", ""));
    cJSON_Delete(res);
    cJSON_Delete(every);
    sb_query_free(&q);
}

static void test_index_maintenance(void **state)
{
    char dir[600];
    new_dir(dir, sizeof(dir), "index");
    sb_store *s = open_dir(dir, SB_SYNC_BATCH, 100000);
    for (int i = 0; i < 600; i++) { /* enough documents for an index */
        char id[16];
        snprintf(id, sizeof(id), "d%03d", i);
        put(s, id, i);
    }
    static char got[16384], want[16384];
    const char *f_eq = "[{\"k\":\"tag\",\"o\":\"eq\",\"v\":\"t3\"}]";
    const char *f_in = "[{\"k\":\"v\",\"o\":\"in\",\"v\":[5,\"17\",250]}]";
    srand(7);
    for (int round = 0; round < 300; round++) {
        find_both(s, f_eq, got, want, sizeof(got));
        assert_string_equal(got, want);
        find_both(s, f_in, got, want, sizeof(got));
        assert_string_equal(got, want);
        char id[16];
        snprintf(id, sizeof(id), "d%03d", rand() % 700);
        if (rand() % 4 == 0) {
            const char *ids[] = {id};
            assert_int_equal(sb_store_delete(s, "k", ids, 1, NULL, NULL), SB_OK);
        } else {
            put(s, id, rand() % 300);
        }
    }
    sb_store_close(s);
}

/* A copy from get is the caller's to change and free, and outlives the store (run under ASan). */
static void test_copies_are_independent(void **state)
{
    char dir[600];
    new_dir(dir, sizeof(dir), "copies");
    sb_store *s = open_dir(dir, SB_SYNC_BATCH, 100000);
    const char *json =
        "{\"id\":\"x\",\"labels\":{\"room\":\"hall\"},\"tags\":[\"a\",{\"b\":1}],"
        "\"a_key_longer_than_sixty_four_bytes_is_kept_with_its_document_not_shared\":2}";
    cJSON *doc = cJSON_Parse(json);
    assert_int_equal(sb_store_put(s, "k", doc, NULL), SB_OK);
    cJSON *a = NULL, *b = NULL;
    assert_int_equal(sb_store_get(s, "k", "x", &a, NULL), SB_OK);
    cJSON_ReplaceItemInObject(a, "labels", cJSON_CreateString("changed"));
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(a, "tags")->child->next, "b");
    cJSON *labels = cJSON_DetachItemFromObject(a, "labels");
    cJSON_AddItemToObject(a, "renamed", labels);
    cJSON *dup = cJSON_Duplicate(a, true);
    cJSON_Delete(a);
    assert_int_equal(sb_store_get(s, "k", "x", &b, NULL), SB_OK);
    assert_true(cJSON_Compare(b, doc, true)); /* the stored document did not change */
    sb_store_close(s);
    assert_string_equal(sb_json_str(dup, "renamed", ""), "changed");
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(b, "labels"), "room", ""), "hall");
    cJSON_Delete(dup);
    cJSON_Delete(b);
    cJSON_Delete(doc);
}

int main(void)
{
    const char *tmp = getenv("SB_TEST_TMPDIR");
    snprintf(base, sizeof(base), "%s/store_memory_test.%ld", tmp ? tmp : "/tmp", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_compaction),
        cmocka_unit_test(test_replay_over_snapshot),
        cmocka_unit_test(test_sync_batch),
        cmocka_unit_test(test_index_maintenance),
        cmocka_unit_test(test_copies_are_independent),
    };
    int failed = cmocka_run_group_tests_name("store_memory", tests, NULL, NULL);
    if (!failed) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", base);
    }
    return failed;
}
