/*
 * store_durability_test.c - what survives a crash, for the backend named on the command line:
 *
 *   store_durability_test BACKEND PATH/TO/store_writer
 *
 * kill -9 loop: a store_writer child puts documents with sync: always and reports each
 *   acknowledged id on a pipe; it is SIGKILLed at a random moment, the store is reopened and
 *   every acknowledged id must be there (20 rounds, bounded to ~15 s).
 * torn tail: the journal is cut mid-record or has garbage appended: open succeeds with a
 *   warning and the data before it is intact; damage followed by valid records fails loudly.
 * lock: a second process opening the same store gets SB_ERR_BUSY naming the directory and pid.
 * The last two run for backends whose row in `backends` says they apply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/time.h"
#include "tests/system/store_test_config.h"

typedef struct backend_traits {
    const char *name;
    const char *journal; /* file under the directory whose tail can tear, or NULL */
    bool single_process; /* a second opener must get SB_ERR_BUSY */
} backend_traits;

static const backend_traits backends[] = {
    {.name = "memory", .journal = "journal", .single_process = true},
    {.name = "sqlite", .journal = NULL, .single_process = false},
};

enum { ROUNDS = 20, BUDGET_MS = 15000, MAX_ACKS = 1 << 20 };

static const backend_traits *T;
static const char *writer_bin;
static char base[512];

static void fresh_dir(char *dir, size_t len, const char *what)
{
    static int n;
    snprintf(dir, len, "%s/%s-%d", base, what, ++n);
    char cmd[1600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
}

static sb_store *open_store(const char *dir, sb_errmsg *em, sb_err *err)
{
    sb_config cfg;
    sb_store *s = NULL;
    assert_int_equal(sb_test_store_config(T->name, dir, &cfg, em), SB_OK);
    *err = sb_store_open(&cfg, &s, em);
    return s;
}

static pid_t spawn_writer(const char *dir, const char *arg, int *rfd)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        execl(writer_bin, writer_bin, T->name, dir, arg, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

/* Reads "PREFIX-N\n" lines until deadline (or EOF when deadline < 0); returns acks so far. */
static long read_acks(int fd, int64_t deadline, long acked, const char *prefix)
{
    static char buf[65536];
    static size_t len;
    for (;;) {
        int wait = deadline < 0 ? 1000 : (int)(deadline - sb_time_mono_ms());
        if (deadline >= 0 && wait <= 0)
            return acked;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, wait) <= 0)
            continue;
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0) {
            len = 0;
            return acked;
        }
        len += (size_t)r;
        buf[len] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            char want[128];
            snprintf(want, sizeof(want), "%s-%ld", prefix, acked);
            assert_string_equal(line, want); /* acknowledged in order, none missing */
            acked++;
            line = nl + 1;
        }
        len = strlen(line);
        memmove(buf, line, len);
    }
}

static void expect_all(sb_store *s, const char *prefix, long n)
{
    for (long i = 0; i < n; i++) {
        char id[128];
        snprintf(id, sizeof(id), "%s-%ld", prefix, i);
        cJSON *doc = NULL;
        sb_err err = sb_store_get(s, "dur", id, &doc, NULL);
        if (err)
            print_error("acknowledged write %s (of %ld) lost: %s\n", id, n, sb_strerror(err));
        assert_int_equal(err, SB_OK);
        cJSON_Delete(doc);
    }
}

static void test_kill9(void **state)
{
    char dir[700];
    fresh_dir(dir, sizeof(dir), "kill9");
    long acks[ROUNDS] = {0}, total = 0;
    int rounds = 0, warnings = 0;
    int64_t start = sb_time_mono_ms();
    for (; rounds < ROUNDS && sb_time_mono_ms() - start < BUDGET_MS; rounds++) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "r%d", rounds);
        int fd;
        pid_t pid = spawn_writer(dir, prefix, &fd);
        int64_t run_ms = 20 + rand() % 200;
        acks[rounds] = read_acks(fd, sb_time_mono_ms() + run_ms, 0, prefix);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        acks[rounds] = read_acks(fd, -1, acks[rounds], prefix); /* acks still in the pipe */
        close(fd);
        if (!WIFSIGNALED(status))
            print_error("writer exited by itself (status %d) in round %d\n", status, rounds);
        assert_true(WIFSIGNALED(status));
        total += acks[rounds];
        sb_errmsg em = {{0}};
        sb_err err;
        sb_store *s = open_store(dir, &em, &err);
        if (err)
            print_error("reopen after kill %d: %s\n", rounds, sb_errmsg_str(&em, err));
        assert_int_equal(err, SB_OK);
        warnings += em.text[0] != '\0';
        for (int r = 0; r <= rounds; r++) {
            snprintf(prefix, sizeof(prefix), "r%d", r);
            expect_all(s, prefix, acks[r]);
        }
        sb_store_close(s);
    }
    print_message("%s: %d kill -9 rounds, %ld acknowledged writes all present, %d torn tails "
                  "skipped, %lld ms\n",
                  T->name, rounds, total, warnings, (long long)(sb_time_mono_ms() - start));
    assert_true(rounds >= 5);
    assert_true(total > 0);
}

static void put_n(sb_store *s, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"id\":\"%s-%d\",\"i\":%d}", prefix, i, i);
        cJSON *doc = cJSON_Parse(json);
        assert_int_equal(sb_store_put(s, "dur", doc, NULL), SB_OK);
        cJSON_Delete(doc);
    }
}

static void expect_id(sb_store *s, const char *id)
{
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(s, "dur", id, &doc, NULL), SB_OK);
    cJSON_Delete(doc);
}

typedef struct garbage {
    const char *bytes; /* NULL: cut the last record instead */
    size_t len;
} garbage;

static void damage(const char *dir, const garbage *g)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", dir, T->journal);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    if (!g->bytes)
        assert_int_equal(truncate(path, st.st_size - 7), 0); /* mid-way through the last one */
    if (g->bytes) {
        FILE *f = fopen(path, "ab");
        assert_non_null(f);
        assert_int_equal(fwrite(g->bytes, 1, g->len, f), g->len);
        fclose(f);
    }
}

static void test_torn_tail(void **state)
{
    if (!T->journal)
        skip();
    /* a cut record, a header promising more than follows, a short header */
    const garbage cases[] = {
        {NULL, 0}, {"\x20\x00\x00\x00\x01\x02\x03\x04garbage", 15}, {"\xff\xff\xff\x7f", 4}};
    for (size_t g = 0; g < SB_ARRAY_LEN(cases); g++) {
        int kept = cases[g].bytes ? 10 : 9;
        char dir[700];
        fresh_dir(dir, sizeof(dir), "torn");
        sb_errmsg em = {{0}};
        sb_err err;
        sb_store *s = open_store(dir, &em, &err);
        put_n(s, "t", 0, 10);
        sb_store_close(s);
        damage(dir, &cases[g]);
        s = open_store(dir, &em, &err);
        assert_int_equal(err, SB_OK);
        print_message("open after damage %zu: warning: %s\n", g, em.text);
        assert_non_null(strstr(em.text, "torn"));
        expect_all(s, "t", kept);
        put_n(s, "t", 100, 101); /* appends after the cut are readable */
        sb_store_close(s);
        s = open_store(dir, &em, &err);
        assert_int_equal(err, SB_OK);
        assert_string_equal(em.text, "");
        expect_all(s, "t", kept);
        expect_id(s, "t-100");
        sb_store_close(s);
    }
}

static void test_corrupt_middle(void **state)
{
    if (!T->journal)
        skip();
    char dir[700], path[800];
    fresh_dir(dir, sizeof(dir), "corrupt");
    sb_errmsg em = {{0}};
    sb_err err;
    sb_store *s = open_store(dir, &em, &err);
    put_n(s, "c", 0, 5);
    sb_store_close(s);
    snprintf(path, sizeof(path), "%s/%s", dir, T->journal);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "#", 1, 12), 1); /* inside the first record's payload */
    close(fd);
    s = open_store(dir, &em, &err);
    print_message("open with a damaged first record: %s\n", em.text);
    assert_int_equal(err, SB_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(em.text, "corrupt record at byte 0"));
}

static void test_second_process(void **state)
{
    if (!T->single_process)
        skip();
    char dir[700];
    fresh_dir(dir, sizeof(dir), "lock");
    int fd;
    pid_t pid = spawn_writer(dir, "--hold", &fd);
    char line[64] = "";
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    assert_true(read(fd, line, sizeof(line) - 1) > 0);
    assert_true(strncmp(line, "READY ", 6) == 0);
    sb_errmsg em = {{0}};
    sb_err err;
    sb_store *s = open_store(dir, &em, &err);
    print_message("second opener: %s\n", em.text);
    assert_int_equal(err, SB_ERR_BUSY);
    assert_null(s);
    char pidtext[32];
    snprintf(pidtext, sizeof(pidtext), "process %ld", (long)pid);
    assert_non_null(strstr(em.text, dir));
    assert_non_null(strstr(em.text, pidtext));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fd);
    s = open_store(dir, &em, &err); /* the lock dies with its holder */
    assert_int_equal(err, SB_OK);
    sb_store_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: store_durability_test BACKEND STORE_WRITER\n");
        return 2;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(backends); i++)
        if (strcmp(backends[i].name, argv[1]) == 0)
            T = &backends[i];
    if (!T) {
        fprintf(stderr, "store_durability_test: unknown backend %s\n", argv[1]);
        return 2;
    }
    writer_bin = argv[2];
    const char *tmp = getenv("SB_TEST_TMPDIR");
    snprintf(base, sizeof(base), "%s/store_durability_%s.%ld", tmp ? tmp : "/tmp", T->name,
             (long)getpid());
    unsigned seed = (unsigned)getpid() ^ (unsigned)sb_time_now_ms();
    srand(seed);
    printf("store_durability_test %s: seed %u, data under %s\n", T->name, seed, base);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_corrupt_middle),
        cmocka_unit_test(test_second_process),
    };
    int failed = cmocka_run_group_tests_name("store_durability", tests, NULL, NULL);
    if (!failed) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", base);
    }
    return failed;
}
