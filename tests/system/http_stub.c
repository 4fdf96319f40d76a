/* http_stub.c - a small real HTTP/1.1 server for system tests (http_stub.h). */
#include "http_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"

#define MAX_RULES 32
#define MAX_REQS  512

typedef struct rule {
    char prefix[256];
    int status, delay_ms, times;
    char body[1024];
} rule;

struct sbt_http {
    int fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    bool quit;
    int active;
    rule rules[MAX_RULES];
    int n_rules;
    sbt_http_req reqs[MAX_REQS];
    int n_reqs;
};

typedef struct conn {
    sbt_http *h;
    int fd;
} conn;

/* Reads until the end of the headers and Content-Length bytes of body. */
static char *read_request(int fd, size_t *len, size_t *head_len)
{
    size_t cap = 8192, n = 0, need = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        if (n == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        ssize_t got = recv(fd, buf + n, cap - n, 0);
        if (got <= 0)
            break;
        n += (size_t)got;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && !need) {
            *head_len = (size_t)(end - buf) + 4;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            need = *head_len + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (need && n >= need) {
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

static void record(sbt_http *h, const char *buf, size_t len, size_t head_len, rule *answer)
{
    sbt_http_req r = {0};
    sscanf(buf, "%15s %1023s", r.method, r.target);
    const char *hdr = strstr(buf, "\r\n");
    size_t hl = hdr && (size_t)(hdr - buf) + 2 < head_len ? head_len - (size_t)(hdr + 2 - buf) : 0;
    snprintf(r.headers, sizeof(r.headers), "%.*s", (int)hl, hdr ? hdr + 2 : "");
    r.body_len = len - head_len;
    r.body = malloc(r.body_len + 1);
    if (r.body) {
        memcpy(r.body, buf + head_len, r.body_len);
        r.body[r.body_len] = '\0';
    }
    pthread_mutex_lock(&h->mu);
    *answer = (rule){.status = 200, .body = "{}"};
    for (int i = h->n_rules - 1; i >= 0; i--) {
        rule *ru = &h->rules[i];
        if (ru->times != 0 && strncmp(r.target, ru->prefix, strlen(ru->prefix)) == 0) {
            *answer = *ru;
            if (ru->times > 0)
                ru->times--;
            break;
        }
    }
    if (h->n_reqs < MAX_REQS)
        h->reqs[h->n_reqs++] = r;
    else
        free(r.body);
    pthread_mutex_unlock(&h->mu);
}

static void *serve(void *arg)
{
    conn *c = arg;
    size_t len = 0, head_len = 0;
    char *buf = read_request(c->fd, &len, &head_len);
    if (buf) {
        rule answer;
        record(c->h, buf, len, head_len, &answer);
        if (answer.delay_ms > 0)
            sb_time_sleep_ms(answer.delay_ms);
        char out[2048];
        int n = snprintf(out, sizeof(out),
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: "
                         "%zu\r\nConnection: close\r\n\r\n%s",
                         answer.status, strlen(answer.body), answer.body);
        if (send(c->fd, out, (size_t)n, MSG_NOSIGNAL) < 0) {
            /* the client gave up (its timeout): nothing to do */
        }
    }
    free(buf);
    close(c->fd);
    pthread_mutex_lock(&c->h->mu);
    c->h->active--;
    pthread_mutex_unlock(&c->h->mu);
    free(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    sbt_http *h = arg;
    for (;;) {
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        int ready = poll(&p, 1, 50);
        pthread_mutex_lock(&h->mu);
        bool quit = h->quit;
        pthread_mutex_unlock(&h->mu);
        if (quit)
            break;
        if (ready <= 0)
            continue;
        int fd = accept(h->fd, NULL, NULL);
        conn *c = fd >= 0 ? malloc(sizeof(*c)) : NULL;
        if (!c) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        c->h = h;
        c->fd = fd;
        pthread_mutex_lock(&h->mu);
        h->active++;
        pthread_mutex_unlock(&h->mu);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, c) == 0) {
            pthread_detach(t);
        } else {
            close(fd);
            free(c);
            pthread_mutex_lock(&h->mu);
            h->active--;
            pthread_mutex_unlock(&h->mu);
        }
    }
    return NULL;
}

sbt_http *sbt_http_start(void)
{
    sbt_http *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    pthread_mutex_init(&h->mu, NULL);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int one = 1;
    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(h->fd, 64) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&a, &al) != 0) {
        fprintf(stderr, "http_stub: cannot listen\n");
        abort();
    }
    h->port = ntohs(a.sin_port);
    if (pthread_create(&h->acceptor, NULL, acceptor, h) != 0)
        abort();
    return h;
}

int sbt_http_port(const sbt_http *h)
{
    return h->port;
}

void sbt_http_rule(sbt_http *h, const char *prefix, int status, const char *body, int delay_ms,
                   int times)
{
    pthread_mutex_lock(&h->mu);
    if (h->n_rules < MAX_RULES) {
        rule *r = &h->rules[h->n_rules++];
        snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
        snprintf(r->body, sizeof(r->body), "%s", body ? body : "");
        r->status = status;
        r->delay_ms = delay_ms;
        r->times = times;
    }
    pthread_mutex_unlock(&h->mu);
}

int sbt_http_count(sbt_http *h, const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < h->n_reqs; i++)
        if (strncmp(h->reqs[i].target, prefix, strlen(prefix)) == 0)
            n++;
    pthread_mutex_unlock(&h->mu);
    return n;
}

bool sbt_http_wait(sbt_http *h, const char *prefix, int n, int timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (sbt_http_count(h, prefix) < n) {
        if (sb_time_mono_ms() > end)
            return false;
        sb_time_sleep_ms(5);
    }
    return true;
}

bool sbt_http_get(sbt_http *h, const char *prefix, int index, sbt_http_req *out)
{
    bool found = false;
    pthread_mutex_lock(&h->mu);
    for (int i = 0, k = 0; i < h->n_reqs && !found; i++) {
        if (strncmp(h->reqs[i].target, prefix, strlen(prefix)) != 0 || k++ != index)
            continue;
        *out = h->reqs[i];
        out->body = strdup(h->reqs[i].body ? h->reqs[i].body : "");
        found = true;
    }
    pthread_mutex_unlock(&h->mu);
    return found;
}

void sbt_http_req_free(sbt_http_req *r)
{
    free(r->body);
    r->body = NULL;
}

bool sbt_http_header(const sbt_http_req *r, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = eol ? (size_t)(eol - v) : strlen(v);
            snprintf(buf, len, "%.*s", (int)vl, v);
            return true;
        }
        line = eol ? eol + 2 : NULL;
    }
    return false;
}

void sbt_http_stop(sbt_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->quit = true;
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->acceptor, NULL);
    close(h->fd);
    for (int i = 0; i < 600; i++) { /* connections finish their answers (delays included) */
        pthread_mutex_lock(&h->mu);
        int active = h->active;
        pthread_mutex_unlock(&h->mu);
        if (!active)
            break;
        sb_time_sleep_ms(10);
    }
    for (int i = 0; i < h->n_reqs; i++)
        free(h->reqs[i].body);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
