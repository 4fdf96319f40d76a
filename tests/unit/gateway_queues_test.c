/*
 * gateway_queues_test - the gateway service's pure parts: the sleeping-node queue (bounds,
 * newest value replaces old, validity), the overflow queue of received messages (bound, order,
 * partial drains) and the message logger's rotation. The msg/in frames
 * are core/stream.h's producer, tested in stream_test and stream_sys_test.
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

#include "services/gateway/inq.h"
#include "services/gateway/msglog.h"
#include "services/gateway/sleepq.h"

static sb_msg *set_msg(const char *node, const char *source, const char *key, const char *value)
{
    sb_msg *m = sb_msg_new("gw1", node, source, SB_MSG_SET);
    assert_non_null(m);
    assert_non_null(sb_msg_add_payload(m, key, value, SB_METRIC_NONE, NULL));
    m->is_sleep_node = true;
    return m;
}

static void test_sleepq_newest_replaces(void **state)
{
    (void)state;
    gw_sleepq *q = gw_sleepq_new(10, 0);
    size_t dropped = 99;
    assert_int_equal(gw_sleepq_add(q, set_msg("5", "1", "V_STATUS", "1"), 0, &dropped), SB_OK);
    assert_int_equal(dropped, 0);
    gw_sleepq_add(q, set_msg("5", "2", "V_STATUS", "1"), 1, NULL);
    gw_sleepq_add(q, set_msg("5", "1", "V_STATUS", "0"), 2, &dropped); /* replaces the first */
    assert_int_equal(dropped, 1);
    gw_sleepq_add(q, set_msg("6", "1", "V_STATUS", "1"), 3, NULL);
    assert_int_equal(gw_sleepq_count(q, "5"), 2);
    assert_int_equal(gw_sleepq_count(q, NULL), 3);
    sb_msg **out = NULL;
    size_t n = gw_sleepq_take(q, "5", 10, &out, NULL);
    assert_int_equal(n, 2);
    assert_string_equal(out[0]->source_id, "2"); /* the replacement takes the newest place */
    assert_string_equal(out[1]->source_id, "1");
    assert_string_equal(out[1]->payloads[0].value, "0");
    for (size_t i = 0; i < n; i++)
        sb_msg_free(out[i]);
    free(out);
    assert_int_equal(gw_sleepq_count(q, "5"), 0);
    assert_int_equal(gw_sleepq_take(q, "5", 10, &out, NULL), 0);
    assert_null(out);
    gw_sleepq_free(q);
}

static void test_sleepq_bounds(void **state)
{
    (void)state;
    gw_sleepq *q = gw_sleepq_new(3, 100);
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "K%d", i);
        size_t dropped = 0;
        gw_sleepq_add(q, set_msg("7", "1", key, "x"), i * 10, &dropped);
        assert_int_equal(dropped, i >= 3 ? 1 : 0);
    }
    assert_int_equal(gw_sleepq_count(q, "7"), 3); /* K2 K3 K4 */
    sb_msg **out = NULL;
    size_t expired = 0;
    /* at 125, K2 (added at 20) is 105 ms old: expired; K3 (30) and K4 (40) are valid */
    size_t n = gw_sleepq_take(q, "7", 125, &out, &expired);
    assert_int_equal(n, 2);
    assert_int_equal(expired, 1);
    assert_string_equal(out[0]->payloads[0].key, "K3");
    assert_string_equal(out[1]->payloads[0].key, "K4");
    for (size_t i = 0; i < n; i++)
        sb_msg_free(out[i]);
    free(out);
    gw_sleepq_add(q, set_msg("8", "1", "A", "x"), 0, NULL);
    assert_int_equal(gw_sleepq_purge(q, 1000), 1);
    assert_int_equal(gw_sleepq_count(q, NULL), 0);
    gw_sleepq_free(q);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* take() for the overflow test: accepts up to *room items, recording their text in order. */
typedef struct taker {
    int room;
    char got[256];
} taker;

static bool take(void *ctx, const char *text, size_t len)
{
    taker *t = ctx;
    if (t->room <= 0)
        return false;
    t->room--;
    strncat(t->got, text, len);
    return true;
}

static void test_inq_bound_and_order(void **state)
{
    (void)state;
    gw_inq q;
    gw_inq_init(&q, 3);
    assert_true(gw_inq_push(&q, "a", 1));
    assert_true(gw_inq_push(&q, "bb", 2));
    assert_true(gw_inq_push(&q, "c", 1));
    assert_false(gw_inq_push(&q, "d", 1)); /* full: the caller counts the drop */
    taker t = {.room = 2};
    assert_int_equal(gw_inq_drain(&q, take, &t), 2); /* the window took two */
    assert_string_equal(t.got, "abb");
    assert_int_equal(q.n, 1);
    assert_true(gw_inq_push(&q, "e", 1)); /* room again, behind the older one */
    t.room = 10;
    assert_int_equal(gw_inq_drain(&q, take, &t), 2);
    assert_string_equal(t.got, "abbce");
    assert_int_equal(q.n, 0);
    assert_int_equal(gw_inq_drain(&q, take, &t), 0);
    assert_true(gw_inq_push(&q, "f", 1));
    assert_int_equal(gw_inq_free(&q), 1);
    gw_inq_init(&q, 0); /* in_queue_max 0: nothing is held */
    assert_false(gw_inq_push(&q, "g", 1));
    assert_int_equal(gw_inq_free(&q), 0);
}

static void test_msglog_rotation(void **state)
{
    (void)state;
    const char *tmp = getenv("SB_TEST_TMPDIR");
    char dir[1024], path[1200], p1[1300], p2[1300], p3[1300];
    snprintf(dir, sizeof(dir), "%s/msglog-%d", tmp ? tmp : "/tmp", (int)getpid());
    snprintf(path, sizeof(path), "%s/sub/gw1.log", dir);
    snprintf(p1, sizeof(p1), "%s.1", path);
    snprintf(p2, sizeof(p2), "%s.2", path);
    snprintf(p3, sizeof(p3), "%s.3", path);
    gw_msglog *l = NULL;
    assert_int_equal(gw_msglog_open(path, 400, 3, &l, NULL), SB_OK);
    char line[64];
    for (int i = 0; i < 60; i++) {
        snprintf(line, sizeof(line), "12;1;1;0;2;%d\n", i);
        gw_msglog_write(l, i % 2 == 0, line, strlen(line));
    }
    assert_int_equal(gw_msglog_errors(l), 0);
    gw_msglog_close(l);
    assert_true(file_size(path) > 0 && file_size(path) <= 400);
    assert_true(file_size(p1) > 300 && file_size(p1) <= 400);
    assert_true(file_size(p2) > 300);
    assert_int_equal(file_size(p3), -1); /* 3 files, the current one included */
    FILE *f = fopen(path, "r");
    char buf[256];
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_non_null(strstr(buf, "\\n")); /* one frame stays one line */
    assert_true(strstr(buf, " in  ") || strstr(buf, " out "));
    remove(path);
    remove(p1);
    remove(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleepq_newest_replaces),
        cmocka_unit_test(test_sleepq_bounds),
        cmocka_unit_test(test_inq_bound_and_order),
        cmocka_unit_test(test_msglog_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
