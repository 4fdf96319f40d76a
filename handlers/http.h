/* http.h - one HTTP request with libcurl, shared by the webhook and telegram handlers. */
#ifndef SB_HANDLER_HTTP_H
#define SB_HANDLER_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sb_http_req {
    const char *method;   /* "GET", "POST", ... */
    const char *url;      /* without the query below */
    const cJSON *query;   /* object of string -> string, URL-encoded and appended; may be NULL */
    const cJSON *headers; /* object of string -> string; may be NULL */
    const char *body;     /* NULL or "" = no body */
    const char *content_type; /* used when headers name no Content-Type and there is a body */
    bool insecure;            /* skip TLS certificate and host verification */
    int64_t timeout_ms;
} sb_http_req;

typedef struct sb_http_resp {
    long status;
    char *body; /* NUL-terminated, at most 64 KiB kept; caller frees */
    size_t len;
} sb_http_resp;

/*
 * Performs the request. SB_OK whenever a response arrived (any status); SB_ERR_TIMEOUT,
 * SB_ERR_IO (connection, TLS, DNS) or SB_ERR_INVALID (a malformed URL) with curl's reason
 * otherwise. Free resp->body with free() (also on failure).
 */
sb_err sb_http_do(const sb_http_req *req, sb_http_resp *resp, sb_errmsg *em);

#endif
