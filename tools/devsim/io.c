/*
 * io.c - devsim transports (io.h). Every input, MQTT included, arrives on a file descriptor
 * (MQTT deliveries are written into a pipe) so one poll() loop drives the simulation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/time.h"
#include "tools/devsim/io.h"

#define INBUF 1024

struct devsim_io {
    devsim_io_opts o;
    int in_fd;       /* pty master, TCP client, or the MQTT pipe's read end; -1 when none */
    int out_fd;      /* where lines are written (pty master, TCP client); -1 for MQTT */
    int slave_fd;    /* pty: open only until set up; the controller opens the slave by path */
    bool attached;   /* pty: the controller has the slave open (the master sees no hang-up) */
    int64_t boot_at; /* pty: when the "board" is up after the controller opened the port */
    int listen_fd;   /* tcp */
    int pipe_w;      /* mqtt: write end of the delivery pipe */
    sb_bus *bus;
    sb_config_bus bus_cfg;
    bool fresh; /* the next poll reports a (re)start */
    char buf[INBUF];
    size_t len;
    bool skipping; /* discarding an over-long line */
    uint64_t dropped;
};

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static sb_err open_pty(devsim_io *io, sb_errmsg *em)
{
    char name[256];
    if (openpty(&io->in_fd, &io->slave_fd, name, NULL, NULL) < 0)
        return sb_fail(em, SB_ERR_IO, "openpty: %s", strerror(errno));
    struct termios t;
    if (tcgetattr(io->slave_fd, &t) == 0) {
        cfmakeraw(&t); /* no echo, no CR/LF translation: a plain 8-bit line like a USB serial */
        tcsetattr(io->slave_fd, TCSANOW, &t);
    }
    set_nonblock(io->in_fd);
    close(io->slave_fd); /* from now on the master hangs up while no controller has it open */
    io->slave_fd = -1;
    io->fresh = false;
    if (io->o.link) {
        unlink(io->o.link);
        if (symlink(name, io->o.link) < 0)
            return sb_fail(em, SB_ERR_IO, "symlink %s -> %s: %s", io->o.link, name,
                           strerror(errno));
    }
    printf("devsim: pty %s\n", name);
    return SB_OK;
}

static sb_err open_tcp(devsim_io *io, sb_errmsg *em)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)io->o.port)};
    const char *host = io->o.bind ? io->o.bind : "127.0.0.1";
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return sb_fail(em, SB_ERR_INVALID, "--bind '%s' is not an IPv4 address", host);
    io->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(io->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (io->listen_fd < 0 || bind(io->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(io->listen_fd, 4) < 0)
        return sb_fail(em, SB_ERR_IO, "tcp %s:%d: %s", host, io->o.port, strerror(errno));
    socklen_t al = sizeof(a);
    getsockname(io->listen_fd, (struct sockaddr *)&a, &al);
    printf("devsim: tcp %s:%u\n", host, ntohs(a.sin_port));
    io->fresh = false; /* starts when a controller connects */
    return SB_OK;
}

/* MQTT delivery: "<prefix>-in/n/c/cmd/ack/type" + payload -> one line into the pipe. */
static void on_mqtt(void *ctx, const sb_bus_msg *m)
{
    devsim_io *io = ctx;
    size_t pl = strlen(io->o.prefix);
    if (strncmp(m->topic, io->o.prefix, pl) != 0 || strncmp(m->topic + pl, "-in/", 4) != 0 ||
        m->len > SB_MYS_TEXT_MAX || memchr(m->payload, '\n', m->len))
        return;
    char line[INBUF];
    int n = snprintf(line, sizeof(line), "%.200s", m->topic + pl + 4);
    for (int i = 0; i < n; i++)
        if (line[i] == '/')
            line[i] = ';';
    n += snprintf(line + n, sizeof(line) - (size_t)n, ";%.*s\n", (int)m->len,
                  (const char *)m->payload);
    if (write(io->pipe_w, line, (size_t)n) != n)
        io->dropped++;
}

static sb_err open_mqtt(devsim_io *io, sb_errmsg *em)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return sb_fail(em, SB_ERR_IO, "pipe: %s", strerror(errno));
    io->in_fd = p[0];
    io->pipe_w = p[1];
    set_nonblock(io->pipe_w); /* never stall paho's delivery thread */
    io->bus_cfg = (sb_config_bus){.url = (char *)io->o.url,
                                  .topic_prefix = (char *)io->o.prefix,
                                  .keepalive_ms = 10000,
                                  .connect_timeout_ms = 5000,
                                  .reconnect_min_ms = 100,
                                  .reconnect_max_ms = 2000,
                                  .max_pending = 10000};
    sb_bus_opts bo = {.cfg = &io->bus_cfg,
                      .service = "devsim",
                      .instance = io->o.prefix,
                      .clean_start = true,
                      .no_status = true};
    char filter[256];
    snprintf(filter, sizeof(filter), "%s-in/#", io->o.prefix);
    sb_err err = sb_bus_create(&bo, &io->bus, em);
    if (!err)
        err = sb_bus_subscribe(io->bus, filter, 1, on_mqtt, io, em);
    if (!err)
        err = sb_bus_start(io->bus, 5000, em);
    if (err)
        return err;
    printf("devsim: mqtt %s %s\n", io->o.url, io->o.prefix);
    return SB_OK;
}

sb_err devsim_io_open(const devsim_io_opts *opts, devsim_io **out, sb_errmsg *em)
{
    devsim_io *io = calloc(1, sizeof(*io));
    if (!io)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    io->o = *opts;
    io->in_fd = io->out_fd = io->slave_fd = io->listen_fd = io->pipe_w = -1;
    io->fresh = true;
    sb_err err = opts->kind == DEVSIM_PTY   ? open_pty(io, em)
                 : opts->kind == DEVSIM_TCP ? open_tcp(io, em)
                                            : open_mqtt(io, em);
    fflush(stdout);
    if (err) {
        devsim_io_close(io);
        return err;
    }
    *out = io;
    return SB_OK;
}

bool devsim_io_send(void *ctx, const sb_mys_line *l)
{
    devsim_io *io = ctx;
    if (io->o.kind == DEVSIM_MQTT) {
        char topic[256];
        snprintf(topic, sizeof(topic), "%s-out/%u/%u/%u/%u/%u", io->o.prefix, l->node, l->child,
                 l->cmd, l->ack, l->type);
        if (sb_bus_publish(io->bus, topic, l->payload, l->payload_len, 1, false) == SB_OK)
            return true;
        io->dropped++;
        return false;
    }
    char buf[SB_MYS_LINE_MAX + 1];
    size_t n = 0;
    if (io->out_fd < 0 || sb_mys_format(l, buf, sizeof(buf), &n) != SB_OK) {
        io->dropped++;
        return false;
    }
    ssize_t w = send(io->out_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == ENOTSOCK)
        w = write(io->out_fd, buf, n);
    if (w != (ssize_t)n) { /* a real gateway drops what the controller does not take either */
        io->dropped++;
        return false;
    }
    return true;
}

static void raw_send(devsim_io *io, const char *topic_tail, const char *text)
{
    if (io->o.kind == DEVSIM_MQTT) {
        char topic[256];
        snprintf(topic, sizeof(topic), "%s-out/%s", io->o.prefix, topic_tail);
        if (sb_bus_publish(io->bus, topic, text, strlen(text), 1, false) != SB_OK)
            io->dropped++;
        return;
    }
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s\n", text);
    if (io->out_fd < 0 || write(io->out_fd, buf, (size_t)n) != n)
        io->dropped++;
}

void devsim_io_garbage(devsim_io *io, long n)
{
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char oversized[420];
    snprintf(oversized, sizeof(oversized), "1;1;1;0;0;%s", big);
    for (long i = 0; i < n; i++) {
        switch (i % 3) {
        case 0:
            raw_send(io, "not/a/mysensors/topic", "not a mysensors line");
            break;
        case 1:
            raw_send(io, "1/1/1/0/0", io->o.kind == DEVSIM_MQTT ? big : oversized);
            break;
        default:
            raw_send(io, "1/1/9/0/0", "1;1;9;0;0;1");
        }
    }
}

/* Splits buffered input into lines for the simulation. */
static void feed(devsim_io *io, devsim *sim, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            size_t len = io->len;
            if (len && io->buf[len - 1] == '\r')
                len--;
            if (!io->skipping && len)
                devsim_receive(sim, io->buf, len);
            io->len = 0;
            io->skipping = false;
        } else if (io->len < sizeof(io->buf)) {
            io->buf[io->len++] = c;
        } else if (!io->skipping) {
            io->skipping = true; /* over-long: dropped as one bad frame */
            sim->frames_bad++;
        }
    }
}

static void drop_client(devsim_io *io)
{
    close(io->in_fd);
    io->in_fd = io->out_fd = -1;
    io->len = 0;
}

/*
 * A serial gateway restarts when the controller opens the port (DTR resets the board), so the
 * simulation (re)starts shortly after the slave is opened, and frames written while nobody
 * has it open are dropped. The master reports POLLHUP while no one has the slave open.
 */
static bool poll_pty(devsim_io *io, devsim *sim, int timeout_ms)
{
    struct pollfd p = {.fd = io->in_fd, .events = POLLIN};
    int n = poll(&p, 1, io->attached ? timeout_ms : 0);
    bool hup = n > 0 && (p.revents & POLLHUP);
    if (hup) {
        io->attached = false;
        io->boot_at = 0;
        io->out_fd = -1;
        sb_time_sleep_ms(timeout_ms < 20 ? timeout_ms : 20);
        return false;
    }
    if (!io->attached) {
        io->attached = true;
        io->boot_at = sb_time_mono_ms() + 200; /* lets the controller set the port up */
        io->len = 0;
    }
    if (n > 0 && (p.revents & POLLIN)) {
        char data[4096];
        ssize_t r = read(io->in_fd, data, sizeof(data));
        if (r > 0)
            feed(io, sim, data, (size_t)r);
    }
    if (io->boot_at && sb_time_mono_ms() >= io->boot_at) {
        io->boot_at = 0;
        io->out_fd = io->in_fd;
        return true;
    }
    return false;
}

bool devsim_io_poll(devsim_io *io, devsim *sim, int timeout_ms)
{
    if (io->o.kind == DEVSIM_PTY)
        return poll_pty(io, sim, timeout_ms);
    if (io->fresh) {
        io->fresh = false;
        return true;
    }
    struct pollfd p[2] = {{.fd = io->in_fd, .events = POLLIN},
                          {.fd = io->listen_fd, .events = POLLIN}};
    if (poll(p, 2, timeout_ms) <= 0)
        return false;
    if (p[1].revents & POLLIN) {
        int c = accept4(io->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0) {
            if (io->in_fd >= 0) /* one controller at a time, the newest wins */
                drop_client(io);
            io->in_fd = io->out_fd = c;
            return true;
        }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char data[4096];
        ssize_t n = read(io->in_fd, data, sizeof(data));
        if (n > 0)
            feed(io, sim, data, (size_t)n);
        else if (io->o.kind == DEVSIM_TCP && (n == 0 || errno != EAGAIN))
            drop_client(io);
    }
    return false;
}

uint64_t devsim_io_dropped(const devsim_io *io)
{
    return io ? io->dropped : 0;
}

void devsim_io_close(devsim_io *io)
{
    if (!io)
        return;
    if (io->bus)
        sb_bus_destroy(io->bus, 2000);
    int fds[] = {io->in_fd, io->slave_fd, io->listen_fd, io->pipe_w};
    for (size_t i = 0; i < SB_ARRAY_LEN(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (io->o.kind == DEVSIM_PTY && io->o.link)
        unlink(io->o.link);
    free(io);
}

sb_err devsim_mqtt_create(const char *url, const char *kind, sb_config_bus *cfg, sb_bus **out,
                          sb_errmsg *em)
{
    *cfg = (sb_config_bus){.url = (char *)url,
                           .topic_prefix = (char *)"devsim",
                           .mqtt_version = SB_MQTT_V311,
                           .keepalive_ms = 30000,
                           .connect_timeout_ms = 5000,
                           .reconnect_min_ms = 100,
                           .reconnect_max_ms = 2000,
                           .max_pending = 100000,
                           .tls = {.verify = true}};
    char client[64];
    snprintf(client, sizeof(client), "devsim-%s", kind);
    sb_bus_opts bo = {.cfg = cfg,
                      .service = "devsim",
                      .instance = kind,
                      .client_id = client,
                      .clean_start = true,
                      .no_status = true};
    return sb_bus_create(&bo, out, em);
}

bool devsim_mqtt_open(devsim_mqtt *m, const char *url, const char *kind, const char *record,
                      const char *const *filters, size_t n, sb_bus_handler fn, void *ctx)
{
    pthread_mutex_init(&m->mu, NULL);
    if (record && !(m->record = fopen(record, "a"))) {
        fprintf(stderr, "devsim: %s: %s: %s\n", kind, record, strerror(errno));
        return false;
    }
    sb_errmsg em = {{0}};
    sb_err rc = devsim_mqtt_create(url, kind, &m->cfg, &m->bus, &em);
    for (size_t i = 0; rc == SB_OK && i < n; i++)
        rc = sb_bus_subscribe(m->bus, filters[i], 1, fn, ctx, &em);
    if (rc == SB_OK)
        rc = sb_bus_start(m->bus, 5000, &em);
    if (rc != SB_OK)
        fprintf(stderr, "devsim: %s: %s\n", kind, em.text);
    return rc == SB_OK;
}

void devsim_mqtt_record(devsim_mqtt *m, const char *topic, const char *text)
{
    if (!m->record)
        return;
    fprintf(m->record, "%s %s\n", topic, text);
    fflush(m->record);
}

void devsim_mqtt_close(devsim_mqtt *m)
{
    sb_bus_destroy(m->bus, 1000);
    m->bus = NULL;
    if (m->record)
        fclose(m->record);
    m->record = NULL;
    pthread_mutex_destroy(&m->mu);
}

void devsim_mqtt_loop(int64_t period_ms, int64_t duration_ms, volatile sig_atomic_t *stop,
                      void (*tick)(void *ctx), void *ctx)
{
    int64_t start = sb_time_mono_ms(), next = start;
    while (!*stop && !(duration_ms && sb_time_mono_ms() - start >= duration_ms)) {
        if (sb_time_mono_ms() >= next) {
            tick(ctx);
            next += period_ms;
        }
        sb_time_sleep_ms(20);
    }
}
