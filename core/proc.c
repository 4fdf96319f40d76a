#include "core/proc.h"

#include "core/time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_exec(const char *const *argv, int logfd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    setpgid(0, 0); /* Ctrl-C on the terminal reaches us, not the child: we stop it ourselves. */
    if (logfd >= 0) {
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        close(logfd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

sb_err sb_proc_spawn(sb_proc *p, const char *const *argv, const char *log_path, sb_errmsg *em)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", argv[0]);
    int logfd = -1;
    if (log_path) {
        logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (logfd < 0)
            return sb_fail(em, SB_ERR_IO, "cannot open log %s: %s", log_path, strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        if (logfd >= 0)
            close(logfd);
        return sb_fail(em, SB_ERR_IO, "fork for %s: %s", argv[0], strerror(errno));
    }
    if (pid == 0)
        child_exec(argv, logfd, parent);
    if (logfd >= 0)
        close(logfd);
    p->pid = pid;
    /* An exec failure shows as exit 127 almost at once; report it instead of a later timeout. */
    for (int i = 0; i < 10; i++) {
        int st;
        if (!sb_proc_alive(p, &st)) {
            return sb_fail(em, SB_ERR_IO, "%s exited at start (status %d)%s", argv[0],
                           WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                           WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ": not found" : "");
        }
        sb_time_sleep_ms(2);
    }
    return SB_OK;
}

bool sb_proc_alive(sb_proc *p, int *status)
{
    if (p->pid <= 0)
        return false;
    int st = 0;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == 0)
        return true;
    if (status)
        *status = st;
    p->pid = 0;
    return false;
}

bool sb_proc_stop(sb_proc *p, int sig, int64_t grace_ms)
{
    if (!p || p->pid <= 0)
        return true;
    kill(p->pid, sig);
    int64_t deadline = sb_time_mono_ms() + grace_ms;
    while (sb_time_mono_ms() < deadline) {
        if (!sb_proc_alive(p, NULL))
            return true;
        sb_time_sleep_ms(5);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return sig == SIGKILL;
}

sb_err sb_port_free(int *port, sb_errmsg *em)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sb_fail(em, SB_ERR_IO, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int e = errno;
        close(fd);
        return sb_fail(em, SB_ERR_IO, "cannot find a free port: %s", strerror(e));
    }
    *port = ntohs(a.sin_port);
    close(fd);
    return SB_OK;
}

sb_err sb_port_wait(int port, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return SB_ERR_IO;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return SB_OK;
        sb_time_sleep_ms(10);
    } while (sb_time_mono_ms() < deadline);
    return SB_ERR_TIMEOUT;
}

sb_err sb_mkdirs(const char *path, sb_errmsg *em)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return sb_fail(em, SB_ERR_TOO_LARGE, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return sb_fail(em, SB_ERR_IO, "cannot create %s: %s", buf, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return SB_OK;
}

bool sb_which(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(name, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    /* Debian puts mosquitto in /usr/sbin, which a non-root PATH may lack. */
    char all[4096];
    snprintf(all, sizeof(all), "%s:/usr/sbin:/usr/local/sbin", path);
    char *save = NULL;
    for (char *dir = strtok_r(all, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", dir, name);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}
