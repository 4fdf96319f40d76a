/*
 * mys_fdlink.c - the serial (termios raw mode) and ethernet (TCP client) transports: one file
 * descriptor, one reader thread that cuts the byte stream into lines (mysensors.h).
 *
 * A lost link (EOF, an unplugged adapter's EIO, a reset connection) is reported with
 * host->state(DOWN); the gateway service then stops the provider and starts it again after the
 * gateway document's reconnectDelay, which reopens the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core/time.h"
#include "gateways/mysensors/mysensors.h"

static const struct {
    int64_t bps;
    speed_t code;
} bauds[] = {{1200, B1200},      {2400, B2400},     {4800, B4800},     {9600, B9600},
             {19200, B19200},    {38400, B38400},   {57600, B57600},   {115200, B115200},
             {230400, B230400},  {460800, B460800}, {500000, B500000}, {921600, B921600},
             {1000000, B1000000}};

static sb_err serial_open(mys_prov *p, sb_errmsg *em)
{
    speed_t speed = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(bauds); i++)
        if (bauds[i].bps == p->o->baud_rate)
            speed = bauds[i].code;
    if (!speed)
        return sb_fail(em, SB_ERR_INVALID, "provider.baudRate: %lld is not a serial speed",
                       (long long)p->o->baud_rate);
    int fd = open(p->o->port, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return sb_fail(em, SB_ERR_IO, "serial %s: %s", p->o->port, strerror(errno));
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        int e = errno;
        close(fd);
        return sb_fail(em, SB_ERR_IO, "serial %s: not a terminal: %s", p->o->port, strerror(e));
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)CRTSCTS;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, speed);
    cfsetospeed(&t, speed);
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        int e = errno;
        close(fd);
        return sb_fail(em, SB_ERR_IO, "serial %s: cannot set raw mode: %s", p->o->port,
                       strerror(e));
    }
    tcflush(fd, TCIFLUSH);
    p->fd = fd;
    return SB_OK;
}

/* connect() with a deadline: non-blocking connect, poll for writability. */
static int connect_deadline(const struct addrinfo *ai, int64_t timeout_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return -1;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int r = poll(&pf, 1, (int)timeout_ms);
    socklen_t len = sizeof(*err);
    *err = r == 0 ? ETIMEDOUT : 0;
    if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) != 0)
        *err = errno;
    if (r < 0)
        *err = errno;
    if (*err) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    return fd;
}

static sb_err tcp_open(mys_prov *p, sb_errmsg *em)
{
    char port[16];
    snprintf(port, sizeof(port), "%lld", (long long)p->o->tcp_port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(p->o->host, port, &hints, &res);
    if (rc != 0)
        return sb_fail(em, SB_ERR_IO, "ethernet %s:%s: %s", p->o->host, port, gai_strerror(rc));
    int err = 0, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_deadline(ai, p->o->connect_timeout_ms, &err);
    freeaddrinfo(res);
    if (fd < 0)
        return sb_fail(em, SB_ERR_IO, "ethernet %s:%s: %s", p->o->host, port, strerror(err));
    p->fd = fd;
    return SB_OK;
}

/* Hands every complete line in buf to mys_rx_line; keeps the partial tail. */
typedef struct linebuf {
    char data[SB_MYS_LINE_MAX * 2];
    size_t n;
    bool overflow; /* dropping the rest of an oversized line */
} linebuf;

static void feed(mys_prov *p, linebuf *lb, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '\n') {
            size_t n = lb->n;
            if (n && lb->data[n - 1] == '\r')
                n--;
            if (lb->overflow)
                mys_rx_malformed(p, lb->data, lb->n, "line longer than 256 bytes");
            else if (n)
                mys_rx_line(p, lb->data, n);
            lb->n = 0;
            lb->overflow = false;
            continue;
        }
        if (lb->n >= SB_MYS_LINE_MAX) {
            lb->overflow = true; /* keep the start for the log line */
            continue;
        }
        lb->data[lb->n++] = c;
    }
}

static void *reader_main(void *arg)
{
    mys_prov *p = arg;
    char prefix[sizeof(p->host->log->prefix)];
    snprintf(prefix, sizeof(prefix), "%s", p->host->log->prefix);
    sb_log_thread_prefix(prefix);
    linebuf lb = {.n = 0};
    char buf[512];
    const char *why = NULL;
    for (;;) {
        struct pollfd pf[2] = {{.fd = p->fd, .events = POLLIN},
                               {.fd = p->wake[0], .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            why = strerror(errno);
            break;
        }
        if (pf[1].revents)
            return NULL; /* stop */
        ssize_t n = read(p->fd, buf, sizeof(buf));
        if (n > 0) {
            feed(p, &lb, buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        why = n == 0 ? "end of file (unplugged or closed by the gateway)" : strerror(errno);
        break;
    }
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", p->o->transport == MYS_SERIAL ? p->o->port : p->o->host,
             why);
    sb_warn(p->host->log, "link lost: %s", msg);
    p->host->state(p->host->ctx, SB_GATEWAY_DOWN, msg);
    return NULL;
}

sb_err mys_fdlink_open(mys_prov *p, sb_errmsg *em)
{
    sb_err rc = p->o->transport == MYS_SERIAL ? serial_open(p, em) : tcp_open(p, em);
    if (rc != SB_OK)
        return rc;
    if (pipe2(p->wake, O_CLOEXEC) != 0) {
        mys_fdlink_close(p);
        return sb_fail(em, SB_ERR_IO, "pipe: %s", strerror(errno));
    }
    if (pthread_create(&p->reader, NULL, reader_main, p) != 0) {
        mys_fdlink_close(p);
        return sb_fail(em, SB_ERR_INTERNAL, "cannot start the reader thread");
    }
    p->reader_running = true;
    sb_info(p->host->log, "link open: %s", p->o->transport == MYS_SERIAL ? p->o->port : p->o->host);
    return SB_OK;
}

void mys_fdlink_close(mys_prov *p)
{
    if (p->reader_running) {
        ssize_t w = write(p->wake[1], "x", 1);
        (void)w;
        pthread_join(p->reader, NULL);
        p->reader_running = false;
    }
    pthread_mutex_lock(&p->wmu);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    pthread_mutex_unlock(&p->wmu);
    for (int i = 0; i < 2; i++) {
        if (p->wake[i] >= 0)
            close(p->wake[i]);
        p->wake[i] = -1;
    }
}
