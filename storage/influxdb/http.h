/*
 * http.h - the few HTTP requests the InfluxDB store makes, over one libcurl easy handle
 * (keep-alive). A handle belongs to one thread at a time.
 */
#ifndef SB_INFLUXDB_HTTP_H
#define SB_INFLUXDB_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "storage/influxdb/line.h"

typedef struct sb_influx_auth {
    const char *username; /* 1.x basic auth; NULL or "" = none */
    const char *password;
    const char *token; /* 2.x "Authorization: Token ..."; NULL or "" = none */
} sb_influx_auth;

/*
 * POSTs body (GET when body is NULL) to url. *status gets the HTTP status, or 0 when no answer
 * came (connection refused, timeout); resp (may be NULL) gets the answer appended. Returns SB_OK
 * whenever an HTTP answer arrived, whatever its status.
 */
sb_err sb_influx_http(CURL *c, const char *url, const char *content_type, const char *body,
                      size_t len, const sb_influx_auth *auth, int64_t timeout_ms, long *status,
                      sb_lp_buf *resp, sb_errmsg *em);

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to b. */
sb_err sb_influx_urlenc(sb_lp_buf *b, const char *s);

#endif
