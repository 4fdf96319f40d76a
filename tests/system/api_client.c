#include "api_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CURL *curl;
static char base[64];

size_t apic_collect(char *data, size_t size, size_t n, void *ctx)
{
    apic_buf *b = ctx;
    char *p = realloc(b->p, b->n + size * n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, data, size * n);
    b->p = p;
    b->n += size * n;
    p[b->n] = '\0';
    return size * n;
}

void apic_init(int port)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
}

void apic_cleanup(void)
{
    curl_easy_cleanup(curl);
    curl = NULL;
    curl_global_cleanup();
}

api_res apic_req(const char *method, const char *path, const char *token, const char *body,
                 const char *ctype, const char *header)
{
    return apic_req_n(method, path, token, body, body ? strlen(body) : 0, ctype, header);
}

api_res apic_req_n(const char *method, const char *path, const char *token, const void *body,
                   size_t len, const char *ctype, const char *header)
{
    char url[8192], auth[4096], ct[256];
    apic_buf b = {0}, h = {0};
    struct curl_slist *hdrs = NULL;
    snprintf(url, sizeof(url), "%s%s", base, path);
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
    }
    if (header)
        hdrs = curl_slist_append(hdrs, header);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, apic_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, apic_collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(hdrs);
    api_res r = {0};
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
        abort();
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &r.connects);
    double tt = 0;
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &tt);
    if (tt > 0.5)
        fprintf(stderr, "api_client: slow answer: %s %s: %.2f s -> %ld\n", method, path, tt,
                r.status);
    r.raw = b.p ? b.p : strdup("");
    r.raw_len = b.n;
    r.headers = h.p ? h.p : strdup("");
    r.json = cJSON_Parse(r.raw);
    return r;
}

api_res apic_get(const char *path, const char *token)
{
    return apic_req("GET", path, token, NULL, NULL, NULL);
}

api_res apic_post(const char *path, const char *token, const char *body)
{
    return apic_req("POST", path, token, body, NULL, NULL);
}

void apic_free(api_res *r)
{
    free(r->raw);
    free(r->headers);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

const char *apic_escape(const char *s)
{
    static char out[8192];
    char *e = curl_easy_escape(curl, s, 0);
    snprintf(out, sizeof(out), "%s", e ? e : "");
    curl_free(e);
    return out;
}

const char *apic_detail(const api_res *r)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->json, "detail");
    return cJSON_IsString(d) ? d->valuestring : "";
}
