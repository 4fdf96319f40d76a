/*
 * mysensors_devsim_test.c - runs the devsim binary over a pty like a controller would: opens
 * the serial port it prints, parses every frame with the codec, assigns an id to the node that
 * asks for one, switches the relay with the ack flag set, and checks devsim's record file and
 * its clean exit on SIGTERM. No gateway service is involved.
 *
 * The test runs in a private devpts instance when it may (root, or an unprivileged user
 * namespace): /dev/pts numbers are reused at once and anyone may open a slave by its path, so
 * a controller of another test still retrying an old /dev/pts/N (a gateway's reconnect) would
 * otherwise share devsim's new port and read the start-up frames this test waits for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/time.h"
#include "gateways/mysensors/mys_msg.h"

typedef struct ctl {
    pid_t pid;
    int fd;
    char buf[4096];
    size_t len;
    char record[512];
} ctl;

/* Starts devsim and reads the pty path from its first stdout line. */
static void start_devsim(ctl *c)
{
    const char *dir = getenv("SB_BUILD_DIR");
    const char *tmp = getenv("SB_TEST_TMPDIR");
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/tools/devsim/devsim", dir ? dir : ".");
    snprintf(c->record, sizeof(c->record), "%s/devsim_record_%d.txt", tmp ? tmp : "/tmp",
             (int)getpid());
    if (tmp) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmp);
        assert_int_equal(system(cmd), 0);
    }
    unlink(c->record);
    int p[2];
    assert_int_equal(pipe(p), 0);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(bin, "devsim", "--nodes", "2", "--no-id", "1", "--rate", "100", "--duration", "20s",
              "--record", c->record, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[256] = {0};
    FILE *f = fdopen(p[0], "r");
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_true(strncmp(line, "devsim: pty /dev/", 17) == 0);
    line[strcspn(line, "\n")] = '\0';
    c->fd = open(line + 12, O_RDWR | O_NOCTTY | O_NONBLOCK);
    assert_true(c->fd >= 0);
    struct termios t;
    assert_int_equal(tcgetattr(c->fd, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(c->fd, TCSANOW, &t), 0);
}

/* Next line from the pty within the deadline, parsed; false on timeout. */
static bool next_line(ctl *c, sb_mys_line *l, int64_t deadline)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf) + 1;
            sb_errmsg em = {{0}};
            if (sb_mys_parse(c->buf, n, l, &em) != SB_OK)
                fail_msg("devsim sent a bad line '%.*s': %s", (int)n, c->buf, em.text);
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return true;
        }
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (r > 0)
            c->len += (size_t)r;
    }
}

static void send_line(ctl *c, const char *text)
{
    assert_int_equal(write(c->fd, text, strlen(text)), (ssize_t)strlen(text));
}

static bool is(const sb_mys_line *l, int node, int child, int cmd, int ack, int type,
               const char *payload)
{
    return l->node == node && l->child == child && l->cmd == cmd && l->ack == ack &&
           l->type == type && (!payload || strcmp(l->payload, payload) == 0);
}

static void test_devsim_over_pty(void **state)
{
    ctl c = {0};
    start_devsim(&c);
    const sb_mys_opts opts = {"gw1", false};
    bool ready = false, temp_presented = false, temp_value = false, id_req = false;
    bool new_node = false, echo = false, relay_on = false, sent_set = false;
    int64_t deadline = sb_time_mono_ms() + 10000;
    sb_mys_line l;
    while (!(ready && temp_presented && temp_value && new_node && echo && relay_on) &&
           next_line(&c, &l, deadline)) {
        sb_msg *m = NULL;
        const char *why = NULL;
        sb_errmsg em = {{0}};
        if (sb_mys_to_msg(&l, &opts, &m, &why, &em) != SB_OK)
            fail_msg("no message for %u;%u;%u: %s", l.node, l.child, l.cmd, em.text);
        if (m)
            assert_int_equal(sb_msg_validate(m, &em), SB_OK);
        ready |= is(&l, 0, 255, SB_MYS_INTERNAL, 0, SB_MYS_I_GATEWAY_READY, NULL);
        temp_presented |= m && is(&l, 1, 1, SB_MYS_PRESENTATION, 0, SB_MYS_S_TEMP, NULL) &&
                          strcmp(m->payloads[0].value, "temperature") == 0;
        temp_value |= m && is(&l, 1, 1, SB_MYS_SET, 0, SB_MYS_V_TEMP, NULL) &&
                      strcmp(m->payloads[0].unit, "°C") == 0;
        if (is(&l, 255, 255, SB_MYS_INTERNAL, 0, SB_MYS_I_ID_REQUEST, "") && !id_req) {
            id_req = true;
            sb_mys_line ans;
            char buf[SB_MYS_LINE_MAX + 1];
            assert_int_equal(sb_mys_answer_id(42, &ans), SB_OK);
            assert_int_equal(sb_mys_format(&ans, buf, sizeof(buf), NULL), SB_OK);
            send_line(&c, buf);
        }
        new_node |= is(&l, 42, 255, SB_MYS_INTERNAL, 0, SB_MYS_I_SKETCH_NAME, "devsim node 42");
        if (ready && temp_value && !sent_set) {
            sent_set = true;
            send_line(&c, "1;3;1;1;2;1\n");
        }
        echo |= is(&l, 1, 3, SB_MYS_SET, 1, SB_MYS_V_STATUS, "1");
        relay_on |= echo && is(&l, 1, 3, SB_MYS_SET, 0, SB_MYS_V_STATUS, "1");
        sb_msg_free(m);
    }
    assert_true(ready && temp_presented && temp_value);
    assert_true(id_req && new_node);
    assert_true(echo && relay_on);

    assert_int_equal(kill(c.pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(c.fd);

    FILE *f = fopen(c.record, "r");
    assert_non_null(f);
    char rec[256];
    assert_non_null(fgets(rec, sizeof(rec), f));
    assert_string_equal(rec, "255;255;3;0;4;42\n");
    assert_non_null(fgets(rec, sizeof(rec), f));
    assert_string_equal(rec, "1;3;1;1;2;1\n");
    fclose(f);
    unlink(c.record);
}

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Gives this process (and devsim, its child) a devpts instance of its own; false when not allowed.
 */
static bool private_devpts(void)
{
    if (unshare(CLONE_NEWNS) < 0) {
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            return false;
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
        if (!write_file("/proc/self/uid_map", map))
            return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
        if (!write_file("/proc/self/gid_map", map))
            return false;
    }
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
           mount("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666") == 0 &&
           mount("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL) == 0;
}

int main(void)
{
    if (!private_devpts())
        fprintf(stderr,
                "mysensors_devsim_test: no private devpts (%s); another process that "
                "opens a reused /dev/pts/N can disturb this test\n",
                strerror(errno));
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_devsim_over_pty)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
