/*
 * openapi.c - GET /api/openapi.json (the embedded openapi.json as it is) and GET /api/docs (an
 * HTML page, no scripts or stylesheets, listing every operation of that document). Both are
 * served without a token.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

void api_openapi(api *a, api_req *rq, api_resp *rs)
{
    (void)a;
    (void)rq;
    char *text = malloc(api_openapi_json_len + 1);
    if (text)
        memcpy(text, api_openapi_json, api_openapi_json_len + 1);
    api_reply_raw(rs, 200, "application/json", text, api_openapi_json_len);
}

/* ---- the HTML page ------------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* s with & < > " escaped. */
static void put_esc(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            puts_(b, "&amp;");
            break;
        case '<':
            puts_(b, "&lt;");
            break;
        case '>':
            puts_(b, "&gt;");
            break;
        case '"':
            puts_(b, "&quot;");
            break;
        default:
            put(b, s, 1);
        }
    }
}

static const char *str_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* "none" when the operation's security list is empty, else its x-switchboard-role. */
static const char *auth_of(const cJSON *op)
{
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(op, "security");
    if (cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0)
        return "none";
    const char *role = str_of(op, "x-switchboard-role");
    return role ? role : "token";
}

static void put_operations(buf *b, const cJSON *doc)
{
    static const char *const methods[] = {"get",     "put",  "post", "delete",
                                          "options", "head", "patch"};
    const cJSON *path;
    cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(doc, "paths"))
    {
        for (size_t i = 0; i < SB_ARRAY_LEN(methods); i++) {
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(path, methods[i]);
            if (!cJSON_IsObject(op))
                continue;
            puts_(b, "<tr><td class=m>");
            for (const char *m = methods[i]; *m; m++) {
                char up = (char)(*m - 'a' + 'A');
                put(b, &up, 1);
            }
            puts_(b, "</td><td><code>");
            put_esc(b, path->string);
            puts_(b, "</code></td><td>");
            put_esc(b, str_of(op, "summary"));
            puts_(b, "</td><td>");
            put_esc(b, auth_of(op));
            puts_(b, "</td><td><code>");
            put_esc(b, str_of(op, "operationId"));
            puts_(b, "</code></td></tr>\n");
        }
    }
}

void api_docs(api *a, api_req *rq, api_resp *rs)
{
    (void)a;
    (void)rq;
    cJSON *doc = cJSON_ParseWithLength(api_openapi_json, api_openapi_json_len);
    if (!doc) {
        api_error(rs, 500, "internal error", "the embedded openapi.json does not parse");
        return;
    }
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    buf b = {0};
    puts_(&b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>");
    put_esc(&b, str_of(info, "title"));
    puts_(&b, "</title>\n<style>body{font-family:sans-serif;margin:2em}"
              "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
              "text-align:left}.m{font-weight:bold}</style></head>\n<body><h1>");
    put_esc(&b, str_of(info, "title"));
    puts_(&b, " ");
    put_esc(&b, str_of(info, "version"));
    puts_(&b, "</h1>\n<p>");
    put_esc(&b, str_of(info, "description"));
    puts_(&b, "</p>\n<p>The whole description: <a href=\"/api/openapi.json\">/api/openapi.json</a>"
              " (OpenAPI ");
    put_esc(&b, str_of(doc, "openapi"));
    puts_(&b, ").</p>\n<table>\n<tr><th>method</th><th>path</th><th>summary</th>"
              "<th>least role</th><th>operation</th></tr>\n");
    put_operations(&b, doc);
    puts_(&b, "</table>\n</body></html>\n");
    cJSON_Delete(doc);
    if (b.failed) {
        free(b.p);
        b.p = NULL;
    }
    api_reply_raw(rs, 200, "text/html; charset=utf-8", b.p, b.len);
}
