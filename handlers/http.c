/* http.c - one HTTP request with libcurl (http.h). */
#include "handlers/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (64 * 1024)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load((const atomic_bool *)ctx) ? 1 : 0;
}

void sb_http_cancel_on(void *curl, const atomic_bool *cancel)
{
    if (!cancel)
        return;
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)cancel);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    sb_http_resp *r = ctx;
    size_t len = size * n, keep = len;
    if (r->len + keep > RESP_MAX)
        keep = RESP_MAX - r->len;
    if (keep) {
        char *grown = realloc(r->body, r->len + keep + 1);
        if (!grown)
            return 0;
        memcpy(grown + r->len, data, keep);
        r->body = grown;
        r->len += keep;
        r->body[r->len] = '\0';
    }
    return len;
}

/* url?k=v&... with the query's members escaped. */
static char *full_url(CURL *c, const char *url, const cJSON *query)
{
    size_t cap = strlen(url) + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    strcpy(out, url);
    char sep = strchr(url, '?') ? '&' : '?';
    const cJSON *q;
    cJSON_ArrayForEach(q, query)
    {
        if (!q->string || !cJSON_IsString(q))
            continue;
        char *k = curl_easy_escape(c, q->string, 0), *v = curl_easy_escape(c, q->valuestring, 0);
        size_t need = strlen(out) + (k ? strlen(k) : 0) + (v ? strlen(v) : 0) + 3;
        char *grown = k && v && need > cap ? realloc(out, need) : out;
        if (k && v && grown) {
            out = grown;
            cap = need > cap ? need : cap;
            size_t at = strlen(out);
            snprintf(out + at, cap - at, "%c%s=%s", sep, k, v);
            sep = '&';
        }
        curl_free(k);
        curl_free(v);
        if (!grown) {
            free(out);
            return NULL;
        }
    }
    return out;
}

static struct curl_slist *header_list(const sb_http_req *req)
{
    struct curl_slist *list = NULL;
    bool has_type = false;
    const cJSON *h;
    cJSON_ArrayForEach(h, req->headers)
    {
        if (!h->string || !cJSON_IsString(h))
            continue;
        char line[2048];
        snprintf(line, sizeof(line), "%s: %s", h->string, h->valuestring);
        list = curl_slist_append(list, line);
        if (strcasecmp(h->string, "Content-Type") == 0)
            has_type = true;
    }
    if (!has_type && req->body && *req->body && req->content_type) {
        char line[256];
        snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
        list = curl_slist_append(list, line);
    }
    return curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
}

const char *sb_http_origin(const char *url, char *buf, size_t len)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep ? (size_t)(sep + 3 - url) : 0;
    const char *host = url + scheme;
    const char *at = strpbrk(host, "@/?#");
    if (at && *at == '@') /* user:password@ */
        host = at + 1;
    snprintf(buf, len, "%.*s%.*s", (int)scheme, url, (int)strcspn(host, "/?#"), host);
    return buf;
}

sb_err sb_http_do(const sb_http_req *req, sb_http_resp *resp, sb_errmsg *em)
{
    pthread_once(&curl_once, curl_init);
    memset(resp, 0, sizeof(*resp));
    CURL *c = curl_easy_init();
    if (!c)
        return sb_fail(em, SB_ERR_NOMEM, "curl: cannot create a handle");
    char *url = full_url(c, req->url, req->query);
    struct curl_slist *headers = header_list(req);
    char errbuf[CURL_ERROR_SIZE] = "";
    sb_err rc = SB_OK;
    if (!url) {
        rc = sb_fail(em, SB_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *method = req->method && *req->method ? req->method : "GET";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (req->body && *req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
    }
    if (req->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    sb_http_cancel_on(c, req->cancel);
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    } else {
        sb_err code = cc == CURLE_ABORTED_BY_CALLBACK  ? SB_ERR_CLOSED
                      : cc == CURLE_OPERATION_TIMEDOUT ? SB_ERR_TIMEOUT
                      : cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL
                          ? SB_ERR_INVALID
                          : SB_ERR_IO;
        char origin[256];
        rc =
            sb_fail(em, code, "%s %s: %s", method, sb_http_origin(req->url, origin, sizeof(origin)),
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
    }
done:
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    free(url);
    return rc;
}
