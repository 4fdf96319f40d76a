/* ws_client.c - see ws_client.h. Test code: small and strict, not a general client. */
#include "ws_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"

struct wsc {
    int fd;
    unsigned char *buf;
    size_t off, len, cap; /* unread bytes are buf[off..len) */
};

static bool send_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads more into the buffer, waiting up to timeout_ms. 1 read, 0 timeout, -1 closed. */
static int fill(wsc *c, int timeout_ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r <= 0)
        return r;
    if (c->off) /* never with a NULL buffer: memmove(NULL, ...) is undefined even for 0 bytes */
        memmove(c->buf, c->buf + c->off, c->len - c->off);
    c->len -= c->off;
    c->off = 0;
    if (c->cap - c->len < 65536) {
        c->cap = c->cap * 2 + 65536;
        c->buf = realloc(c->buf, c->cap);
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 1;
}

static void consume(wsc *c, size_t n)
{
    c->off += n;
}

wsc *wsc_connect(int port, const char *path, const char *header, int rcvbuf, int *status)
{
    *status = 0;
    wsc *c = calloc(1, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[4096];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n%s%s\r\n",
             path, port, header ? header : "", header ? "\r\n" : "");
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        !send_all(c->fd, req, strlen(req)))
        goto fail;
    int64_t deadline = sb_time_mono_ms() + 5000;
    char *end = NULL;
    while (!end) {
        if (fill(c, (int)(deadline - sb_time_mono_ms())) <= 0)
            goto fail;
        c->buf[c->len < c->cap ? c->len : c->cap - 1] = 0;
        end = strstr((char *)c->buf, "\r\n\r\n");
    }
    sscanf((char *)c->buf, "HTTP/1.1 %d", status);
    consume(c, (size_t)(end + 4 - (char *)c->buf));
    if (*status == 101)
        return c;
fail:
    wsc_close(c);
    return NULL;
}

static bool send_frame(wsc *c, int opcode, const void *data, size_t n)
{
    unsigned char h[14];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(h + hl, mask, 4);
    hl += 4;
    unsigned char *m = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        m[i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    bool ok = send_all(c->fd, h, hl) && send_all(c->fd, m, n);
    free(m);
    return ok;
}

bool wsc_send(wsc *c, const char *text)
{
    return send_frame(c, 1, text, strlen(text));
}

/* Parses one whole frame from the buffer; false when more bytes are needed. */
static bool frame(wsc *c, int *op, unsigned char **payload, size_t *n, size_t *total)
{
    const unsigned char *b = c->buf + c->off;
    size_t have = c->len - c->off;
    if (have < 2)
        return false;
    size_t hl = 2, len = b[1] & 0x7f;
    if (len == 126) {
        if (have < 4)
            return false;
        len = ((size_t)b[2] << 8) | b[3];
        hl = 4;
    } else if (len == 127) {
        if (have < 10)
            return false;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | b[2 + i];
        hl = 10;
    }
    if (have < hl + len)
        return false;
    *op = b[0] & 0x0f;
    *payload = c->buf + c->off + hl;
    *n = len;
    *total = hl + len;
    return true;
}

wsc_kind wsc_recv(wsc *c, int timeout_ms, char **text, int *code, char *reason, size_t rlen)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    for (;;) {
        int op;
        unsigned char *p;
        size_t n, total;
        while (frame(c, &op, &p, &n, &total)) {
            if (op == 1) {
                *text = malloc(n + 1);
                memcpy(*text, p, n);
                (*text)[n] = 0;
                consume(c, total);
                return WSC_TEXT;
            }
            if (op == 8) {
                if (code)
                    *code = n >= 2 ? (p[0] << 8 | p[1]) : 0;
                if (reason && rlen)
                    snprintf(reason, rlen, "%.*s", n > 2 ? (int)(n - 2) : 0, (char *)p + 2);
                consume(c, total);
                return WSC_CLOSE;
            }
            if (op == 9)
                send_frame(c, 10, p, n);
            consume(c, total);
        }
        int r = fill(c, (int)(deadline - sb_time_mono_ms()));
        if (r == 0)
            return WSC_TIMEOUT;
        if (r < 0)
            return WSC_ERROR;
    }
}

cJSON *wsc_recv_json(wsc *c, int timeout_ms)
{
    char *t = NULL;
    if (wsc_recv(c, timeout_ms, &t, NULL, NULL, 0) != WSC_TEXT)
        return NULL;
    cJSON *j = cJSON_Parse(t);
    free(t);
    return j;
}

cJSON *wsc_wait_type(wsc *c, const char *type, int timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    while (sb_time_mono_ms() < deadline) {
        cJSON *j = wsc_recv_json(c, (int)(deadline - sb_time_mono_ms()));
        if (!j)
            return NULL;
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
        if (t && strcmp(t, type) == 0)
            return j;
        cJSON_Delete(j);
    }
    return NULL;
}

int wsc_fd(const wsc *c)
{
    return c->fd;
}

void wsc_close(wsc *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c->buf);
    free(c);
}
