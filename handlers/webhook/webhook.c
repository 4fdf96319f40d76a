/*
 * webhook.c - the webhook handler: one HTTP request per call, with the rendered URL, headers,
 * query and body. A status outside expectedStatus fails the delivery: 408, 429 and 5xx are
 * retried, other statuses are not (the same request would fail again).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "handlers/http.h"
#include "handlers/plugin.h"

typedef struct webhook_opts {
    char *url;
    char *method;
    cJSON *headers;
    cJSON *query;
    char *body;
    char *content_type;
    sb_strlist expected;
    bool insecure;
    int64_t timeout_ms;
} webhook_opts;

static const sb_option webhook_table[] = {
    {.type = SB_OPT_STRING,
     .key = "url",
     .def = "",
     .offset = offsetof(webhook_opts, url),
     .flags = SB_OPT_REQUIRED,
     .desc = "http:// or https:// URL (a template)."},
    SB_OPT_ROW_STR(webhook_opts, method, "method", "POST", "HTTP method."),
    SB_OPT_ROW_MAP(webhook_opts, headers, "headers", "Request headers (values are templates)."),
    SB_OPT_ROW_MAP(webhook_opts, query, "query",
                   "Query parameters added to the URL, URL-encoded (values are templates)."),
    SB_OPT_ROW_STR(webhook_opts, body, "body", "",
                   "Request body (a template); empty = the call's parameters as JSON for POST, "
                   "PUT and PATCH, no body otherwise."),
    SB_OPT_ROW_STR(webhook_opts, content_type, "contentType", "application/json",
                   "Content-Type of the body unless headers give one."),
    SB_OPT_ROW_LIST(webhook_opts, expected, "expectedStatus", "200,201,202,204",
                    "Response statuses that count as delivered."),
    SB_OPT_ROW_BOOL(webhook_opts, insecure, "insecure", "false",
                    "Accept any TLS certificate (self-signed servers)."),
    SB_OPT_ROW_DURATION(webhook_opts, timeout_ms, "timeout", "10s", 100, 600000,
                        "Whole-request timeout."),
    SB_OPT_END,
};

static sb_err webhook_check(const void *opts, sb_errmsg *em)
{
    const webhook_opts *o = opts;
    for (size_t i = 0; i < o->expected.n; i++) {
        char *end = NULL;
        long s = strtol(o->expected.items[i], &end, 10);
        if (!end || *end || s < 100 || s > 599)
            return sb_fail(em, SB_ERR_INVALID, "spec.expectedStatus: '%s' is not an HTTP status",
                           o->expected.items[i]);
    }
    return SB_OK;
}

static bool expected(const webhook_opts *o, long status)
{
    for (size_t i = 0; i < o->expected.n; i++)
        if (strtol(o->expected.items[i], NULL, 10) == status)
            return true;
    return false;
}

static bool method_has_body(const char *m)
{
    return !strcasecmp(m, "POST") || !strcasecmp(m, "PUT") || !strcasecmp(m, "PATCH");
}

static sb_err webhook_run(void *inst, const sb_handler_host *host, const void *opts,
                          const sb_handler_call *call, sb_errmsg *em)
{
    (void)inst;
    const webhook_opts *o = opts;
    char *params = NULL;
    const char *body = o->body;
    if ((!body || !*body) && method_has_body(o->method))
        body = params = sb_json_print(call->parameters);
    sb_http_req req = {.method = o->method,
                       .url = o->url,
                       .query = o->query,
                       .headers = o->headers,
                       .body = body,
                       .content_type = o->content_type,
                       .insecure = o->insecure,
                       .timeout_ms = o->timeout_ms,
                       .cancel = host->cancel};
    sb_http_resp resp;
    sb_err rc = sb_http_do(&req, &resp, em);
    free(params);
    if (rc == SB_OK && expected(o, resp.status)) {
        sb_fail(em, SB_OK, "HTTP %ld", resp.status);
    } else if (rc == SB_OK) {
        long s = resp.status;
        rc = s == 408 || s == 429 || s >= 500 ? SB_ERR_REMOTE : SB_ERR_INVALID;
        char origin[256];
        sb_fail(em, rc, "HTTP %ld from %s %s (expected %s%s): %.160s", s, o->method,
                sb_http_origin(o->url, origin, sizeof(origin)),
                o->expected.n ? o->expected.items[0] : "?", o->expected.n > 1 ? ", ..." : "",
                resp.body ? resp.body : "");
    }
    free(resp.body);
    return rc;
}

const sb_handler_plugin sb_handler_plugin_webhook = {
    .info = {.name = "webhook",
             .version = "1",
             .description = "an HTTP request with a rendered URL, headers, query and body",
             .options = webhook_table},
    .options_size = sizeof(webhook_opts),
    .check = webhook_check,
    .run = webhook_run,
};
