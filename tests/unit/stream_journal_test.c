/*
 * stream_journal_test - the stream producer's journal (core/stream_journal.h): records read back
 * as frames with their epoch and seq and unsealed items, acks dropping what they cover (older
 * epochs included), a torn last line and bad lines skipped, rewrite (compaction) and emptying,
 * the lock against a second opener, and a file written through the API read back after a
 * close without any clean-up (what a SIGKILL leaves).
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

#include "core/stream.h"
#include "core/stream_journal.h"

static void parse(const char *text, sb_stream_journal_replay *r)
{
    assert_int_equal(sb_stream_journal_parse(text, strlen(text), "gw1", r), SB_OK);
}

/* The items of a replayed frame, checked by decoding its envelope. */
static void assert_frame(const sb_stream_journal_frame *f, int64_t epoch, int64_t seq, int items)
{
    assert_int_equal(f->epoch, epoch);
    assert_int_equal(f->seq, seq);
    sb_stream_frame d;
    assert_int_equal(sb_stream_decode(f->text, f->len, &d, NULL), SB_OK);
    assert_true(d.sequenced);
    assert_string_equal(d.stream, "gw1");
    assert_int_equal(d.epoch, epoch);
    assert_int_equal(d.seq, seq);
    assert_int_equal(cJSON_GetArraySize(d.items), items);
    sb_stream_frame_free(&d);
}

static void test_frames_and_items(void **state)
{
    (void)state;
    sb_stream_journal_replay r;
    parse("i {\"n\":1}\ni {\"n\":2}\nf 100 1 2\ni {\"n\":3}\nf 100 2 1\ni {\"n\":4}\n", &r);
    assert_int_equal(r.n_frames, 2);
    assert_frame(&r.frames[0], 100, 1, 2);
    assert_frame(&r.frames[1], 100, 2, 1);
    assert_non_null(strstr(r.frames[0].text, "{\"n\":1},{\"n\":2}"));
    assert_int_equal(r.n_items, 1);
    assert_string_equal(r.items[0], "{\"n\":4}");
    assert_int_equal(r.max_epoch, 100);
    assert_int_equal(r.bad_lines, 0);
    assert_false(r.torn);
    sb_stream_journal_replay_free(&r);
}

static void test_acks(void **state)
{
    (void)state;
    sb_stream_journal_replay r;
    /* an ack covers its epoch up to seq and every older epoch */
    parse("i 1\nf 100 1 1\ni 2\nf 100 2 1\ni 3\nf 100 3 1\na 100 2\n", &r);
    assert_int_equal(r.n_frames, 1);
    assert_frame(&r.frames[0], 100, 3, 1);
    sb_stream_journal_replay_free(&r);

    parse("i 1\nf 100 7 1\ni 2\nf 200 1 1\ni 3\nf 200 2 1\na 200 1\n", &r);
    assert_int_equal(r.n_frames, 1);
    assert_frame(&r.frames[0], 200, 2, 1);
    assert_int_equal(r.max_epoch, 200);
    sb_stream_journal_replay_free(&r);

    /* everything acknowledged: nothing to replay, the epoch is still known */
    parse("i 1\nf 300 1 1\na 300 1\n", &r);
    assert_int_equal(r.n_frames, 0);
    assert_int_equal(r.n_items, 0);
    assert_int_equal(r.max_epoch, 300);
    sb_stream_journal_replay_free(&r);
}

static void test_torn_and_bad_lines(void **state)
{
    (void)state;
    sb_stream_journal_replay r;
    /* the last record was cut short by a crash: ignored, the rest stands */
    parse("i 1\nf 100 1 1\ni {\"n\":2", &r);
    assert_true(r.torn);
    assert_int_equal(r.n_frames, 1);
    assert_int_equal(r.n_items, 0);
    sb_stream_journal_replay_free(&r);

    parse("i 1\nf 100 1 1\nf 100 1", &r); /* a torn seal: the item is not sealed */
    assert_true(r.torn);
    assert_int_equal(r.n_frames, 1);
    sb_stream_journal_replay_free(&r);

    /* bad lines: not JSON, unknown kind, more items than pending, seq going back, numbers */
    parse("i {broken\nx what\ni 1\nf 100 1 5\nf 100 1 1\ni 2\nf 100 1 1\na 1 -3\n\n"
          "f 100 2 0\nF {\"stream\":\"other\",\"epoch\":100,\"seq\":9,\"items\":[]}\n",
          &r);
    assert_int_equal(r.n_frames, 1);
    assert_int_equal(r.n_items, 1); /* "2": its seal went back to seq 1 */
    assert_int_equal(r.bad_lines, 7);
    sb_stream_journal_replay_free(&r);

    /* a NUL inside a record (found by fuzz_stream_journal): skipped, not cut short into an
     * item that is no longer JSON */
    static const char nul[] = "i {\"a\0\":1}\ni 2\n";
    assert_int_equal(sb_stream_journal_parse(nul, sizeof(nul) - 1, "gw1", &r), SB_OK);
    assert_int_equal(r.n_items, 1);
    assert_string_equal(r.items[0], "2");
    assert_int_equal(r.bad_lines, 1);
    sb_stream_journal_replay_free(&r);

    /* an epoch past 2^53 cannot travel as a JSON number (found by fuzz_stream_journal) */
    parse("i 1\nf 111111111111110500 1 1\n", &r);
    assert_int_equal(r.n_frames, 0);
    assert_int_equal(r.bad_lines, 1);
    sb_stream_journal_replay_free(&r);
}

static void test_whole_frames(void **state)
{
    (void)state;
    sb_stream_journal_replay r;
    parse("F {\"stream\":\"gw1\",\"epoch\":100,\"seq\":4,\"items\":[1,2]}\ni 3\nf 100 5 1\n"
          "a 100 4\n",
          &r);
    assert_int_equal(r.n_frames, 1);
    assert_frame(&r.frames[0], 100, 5, 1);
    sb_stream_journal_replay_free(&r);
}

static char dir[512];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("SB_TEST_TMPDIR");
    snprintf(dir, sizeof(dir), "%s/stream_journal_test.XXXXXX", base ? base : "/tmp");
    if (base)
        mkdir(base, 0750);
    return mkdtemp(dir) ? 0 : -1;
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static void test_write_and_reopen(void **state)
{
    (void)state;
    sb_stream_journal *j = NULL, *other = NULL;
    sb_stream_journal_replay r;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_stream_journal_open(dir, "gw1", false, &j, &r, &em), SB_OK);
    assert_int_equal(r.n_frames + r.n_items, 0);
    sb_stream_journal_replay_free(&r);
    assert_int_equal(sb_stream_journal_open(dir, "gw1", false, &other, &r, &em), SB_ERR_BUSY);
    assert_non_null(strstr(em.text, "in use"));

    /* a line end inside an item is JSON white space: the record stays one line */
    assert_int_equal(sb_stream_journal_item(j, "{\"a\":\n1}", 8), SB_OK);
    assert_int_equal(sb_stream_journal_item(j, "2", 1), SB_OK);
    assert_int_equal(sb_stream_journal_sealed(j, 500, 1, 2), SB_OK);
    assert_int_equal(sb_stream_journal_item(j, "3", 1), SB_OK);
    assert_int_equal(sb_stream_journal_sealed(j, 500, 2, 1), SB_OK);
    assert_int_equal(sb_stream_journal_acked(j, 500, 1), SB_OK);
    assert_int_equal(sb_stream_journal_item(j, "4", 1), SB_OK);
    /* closed without clean-up, as a killed process leaves it */
    sb_stream_journal_close(j, false);

    assert_int_equal(sb_stream_journal_open(dir, "gw1", false, &j, &r, &em), SB_OK);
    assert_int_equal(r.n_frames, 1);
    assert_frame(&r.frames[0], 500, 2, 1);
    assert_int_equal(r.n_items, 1);
    assert_string_equal(r.items[0], "4");

    /* compaction: only what is pending, read back the same */
    sb_stream_journal_rec recs[] = {{'F', r.frames[0].text, r.frames[0].len}, {'i', "4", 1}};
    char path[600];
    snprintf(path, sizeof(path), "%s/gw1.journal", dir);
    assert_int_equal(sb_stream_journal_rewrite(j, recs, 2), SB_OK);
    assert_int_equal(file_size(path), 2 + r.frames[0].len + 1 + strlen("i 4\n"));
    assert_int_equal(sb_stream_journal_size(j), file_size(path));
    sb_stream_journal_replay_free(&r);
    assert_int_equal(sb_stream_journal_item(j, "5", 1), SB_OK); /* appends after the rewrite */
    sb_stream_journal_close(j, true);

    assert_int_equal(sb_stream_journal_open(dir, "gw1", false, &j, &r, &em), SB_OK);
    assert_int_equal(r.n_frames, 1);
    assert_frame(&r.frames[0], 500, 2, 1);
    assert_int_equal(r.n_items, 2);
    assert_string_equal(r.items[1], "5");
    sb_stream_journal_replay_free(&r);
    /* the rewritten file holds the lock too */
    assert_int_equal(sb_stream_journal_open(dir, "gw1", false, &other, &r, &em), SB_ERR_BUSY);

    /* everything acknowledged: emptied, and removed at close */
    assert_int_equal(sb_stream_journal_rewrite(j, NULL, 0), SB_OK);
    assert_int_equal(file_size(path), 0);
    sb_stream_journal_close(j, true);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_envelope(void **state)
{
    (void)state;
    size_t len = 0;
    char *t = sb_stream_journal_envelope("\"g\\\"w\"", 9, 3, "1,2", 3, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    sb_stream_frame f;
    assert_int_equal(sb_stream_decode(t, len, &f, NULL), SB_OK);
    assert_string_equal(f.stream, "g\"w");
    assert_int_equal(cJSON_GetArraySize(f.items), 2);
    sb_stream_frame_free(&f);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_and_items),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_torn_and_bad_lines),
        cmocka_unit_test(test_whole_frames),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test_setup(test_write_and_reopen, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
