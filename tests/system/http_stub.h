/*
 * http_stub.h - a small real HTTP/1.1 server on a free loopback port for system tests: it
 * records every request (method, target, headers, body) and answers by rules per path prefix
 * (status, body, delay, for the next N requests), one thread per connection, so a slow answer
 * holds up only its own client. Webhook and telegram handler tests point at it.
 */
#ifndef SB_TEST_HTTP_STUB_H
#define SB_TEST_HTTP_STUB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbt_http sbt_http;

typedef struct sbt_http_req {
    char method[16];
    char target[1024];  /* path and query as sent */
    char headers[4096]; /* raw header lines, "\r\n" separated */
    char *body;         /* NUL-terminated; freed by sbt_http_req_free */
    size_t body_len;
} sbt_http_req;

/* Starts the server; fails the test when it cannot. Default answer: 200 "{}". */
sbt_http *sbt_http_start(void);
int sbt_http_port(const sbt_http *h);

/* Answers requests whose target starts with prefix with status/body after delay_ms, for the
 * next times requests (times < 0: always). Later rules win over earlier ones. */
void sbt_http_rule(sbt_http *h, const char *prefix, int status, const char *body, int delay_ms,
                   int times);

/* Requests received so far whose target starts with prefix. */
int sbt_http_count(sbt_http *h, const char *prefix);

/* Waits up to timeout_ms for at least n requests under prefix. */
bool sbt_http_wait(sbt_http *h, const char *prefix, int n, int timeout_ms);

/* A copy of the index-th request under prefix; false when there is none. */
bool sbt_http_get(sbt_http *h, const char *prefix, int index, sbt_http_req *out);
void sbt_http_req_free(sbt_http_req *r);

/* The value of header name (case-insensitive) in r, copied into buf; false when absent. */
bool sbt_http_header(const sbt_http_req *r, const char *name, char *buf, size_t len);

/* Stops accepting, waits for the connections in progress, frees. */
void sbt_http_stop(sbt_http *h);

#endif
