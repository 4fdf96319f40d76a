/* http.h - one HTTP request with libcurl, shared by the webhook and telegram handlers. */
#ifndef SB_HANDLER_HTTP_H
#define SB_HANDLER_HTTP_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
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
    const atomic_bool *cancel; /* may be NULL; raised: the request stops with SB_ERR_CLOSED */
} sb_http_req;

typedef struct sb_http_resp {
    long status;
    char *body; /* NUL-terminated, at most 64 KiB kept; caller frees */
    size_t len;
} sb_http_resp;

/*
 * Performs the request. SB_OK whenever a response arrived (any status); SB_ERR_TIMEOUT,
 * SB_ERR_IO (connection, TLS, DNS), SB_ERR_INVALID (a malformed URL) or SB_ERR_CLOSED (cancel
 * was raised) with curl's reason otherwise. Free resp->body with free() (also on failure).
 */
sb_err sb_http_do(const sb_http_req *req, sb_http_resp *resp, sb_errmsg *em);

/* The scheme and host of url ("https://hooks.example.org") into buf: what messages show, as
 * paths and queries of webhook URLs often carry secrets. */
const char *sb_http_origin(const char *url, char *buf, size_t len);

/* Makes a libcurl transfer on c stop (CURLE_ABORTED_BY_CALLBACK) soon after *cancel is raised;
 * cancel may be NULL. For the handlers that drive libcurl themselves (email). */
void sb_http_cancel_on(void *curl, const atomic_bool *cancel);

#endif
