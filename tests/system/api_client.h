/*
 * api_client.h - a small libcurl client for the API system tests: one request, the status, the
 * response headers and the body parsed as JSON. One keep-alive handle per test binary.
 */
#ifndef SB_TEST_API_CLIENT_H
#define SB_TEST_API_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct api_res {
    long status;
    char *raw; /* the body as received (NUL-terminated), owned */
    size_t raw_len;
    cJSON *json;   /* parsed body or NULL, owned */
    char *headers; /* every response header line, owned */
    long connects; /* new connections the request needed (0: it reused the keep-alive one) */
} api_res;

/* A growing NUL-terminated buffer, and the libcurl write callback that appends to it (for
 * tests that drive their own curl handles, e.g. one per thread). Free p. */
typedef struct apic_buf {
    char *p;
    size_t n;
} apic_buf;
size_t apic_collect(char *data, size_t size, size_t n, void *ctx);

/* Base URL "http://127.0.0.1:<port>" for the requests that follow. */
void apic_init(int port);
void apic_cleanup(void);

/*
 * Sends method path (with its query string) with an optional Bearer token, an optional extra
 * header line ("Cookie: ...") and an optional body (sent as application/json unless ctype says
 * otherwise). Fails the test when the request does not complete.
 */
api_res apic_req(const char *method, const char *path, const char *token, const char *body,
                 const char *ctype, const char *header);
/* The same with a body of len bytes (binary; NULL = none). */
api_res apic_req_n(const char *method, const char *path, const char *token, const void *body,
                   size_t len, const char *ctype, const char *header);
/* Shorthands with JSON content. */
api_res apic_get(const char *path, const char *token);
api_res apic_post(const char *path, const char *token, const char *body);
void apic_free(api_res *r);

/* Percent-encodes s for a query string (static buffer, one at a time). */
const char *apic_escape(const char *s);

/* The "error"/"detail" strings of an error body ("" when absent). */
const char *apic_detail(const api_res *r);

#endif
