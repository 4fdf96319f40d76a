/* ctl_http.c - HTTP for `switchboard ctl` with libcurl, and the saved session (ctl.h). */
#include "services/switchboard/ctl.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/json.h"

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    size_t add = size * n;
    if (sb_buf_reserve(&b->data, &b->cap, b->len + add + 1) != SB_OK)
        return 0;
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

void ctl_request(const ctl *c, const char *method, const char *path, const void *body,
                 size_t body_len, const char *ctype, ctl_resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(out->error, sizeof(out->error), "cannot initialise libcurl");
        return;
    }
    char url[2048], auth[4200], ct[128];
    snprintf(url, sizeof(url), "%s%s", c->url, path);
    struct curl_slist *hdrs = NULL;
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
    hdrs = curl_slist_append(hdrs, ct);
    if (*c->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    buf b = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        snprintf(out->error, sizeof(out->error), "%s: %s", c->url,
                 *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    out->body = b.data ? b.data : calloc(1, 1);
    out->len = b.len;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

int ctl_fail(const char *what, const ctl_resp *r)
{
    if (!r->status) {
        fprintf(stderr, "switchboard ctl: %s: %s\n", what, r->error);
        return 1;
    }
    cJSON *doc = NULL;
    if (r->body && sb_json_parse(r->body, r->len, &doc, NULL) == SB_OK) {
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(doc, "detail");
        char *d = detail && !cJSON_IsString(detail) ? sb_json_print(detail) : NULL;
        fprintf(stderr, "switchboard ctl: %s: %ld %s%s%s\n", what, r->status,
                sb_json_str(doc, "error", "error"), detail ? ": " : "",
                detail ? (d ? d : detail->valuestring) : "");
        free(d);
        cJSON_Delete(doc);
    } else {
        fprintf(stderr, "switchboard ctl: %s: HTTP %ld\n", what, r->status);
    }
    if (r->status == 401)
        fprintf(stderr, "(log in with: switchboard ctl login USER)\n");
    return 1;
}

int ctl_json(const ctl *c, const char *method, const char *path, const cJSON *body, cJSON **out)
{
    *out = NULL;
    char *text = body ? sb_json_print(body) : NULL;
    ctl_resp r;
    ctl_request(c, method, path, text, text ? strlen(text) : 0, NULL, &r);
    free(text);
    int rc = 0;
    char what[600];
    snprintf(what, sizeof(what), "%s %s", method, path);
    if (r.status < 200 || r.status >= 300)
        rc = ctl_fail(what, &r);
    else if (sb_json_parse(r.body, r.len, out, NULL) != SB_OK) {
        fprintf(stderr, "switchboard ctl: %s: the answer is not JSON\n", what);
        rc = 1;
    }
    free(r.body);
    return rc;
}

static bool session_path(char *path, size_t len, bool make_dir)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char dir[900];
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/switchboard", xdg);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.config/switchboard", home);
    else
        return false;
    if (make_dir) {
        char parent[900];
        snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
        mkdir(parent, 0700);
        mkdir(dir, 0700);
    }
    return (size_t)snprintf(path, len, "%s/ctl.json", dir) < len;
}

bool ctl_session_load(ctl *c)
{
    char path[1024], text[8192];
    if (!session_path(path, sizeof(path), false))
        return false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    cJSON *doc = NULL;
    if (sb_json_parse(text, n, &doc, NULL) != SB_OK)
        return false;
    if (!*c->url)
        snprintf(c->url, sizeof(c->url), "%s", sb_json_str(doc, "url", ""));
    if (!*c->token && strcmp(c->url, sb_json_str(doc, "url", "")) == 0)
        snprintf(c->token, sizeof(c->token), "%s", sb_json_str(doc, "token", ""));
    cJSON_Delete(doc);
    return true;
}

int ctl_session_save(const ctl *c)
{
    char path[1024];
    if (!session_path(path, sizeof(path), true)) {
        fprintf(stderr, "switchboard ctl: no HOME or XDG_CONFIG_HOME to keep the session in\n");
        return 1;
    }
    cJSON *doc = cJSON_CreateObject();
    sb_json_set_str(doc, "url", c->url);
    sb_json_set_str(doc, "token", c->token);
    char *text = sb_json_print(doc);
    cJSON_Delete(doc);
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f || !text || fprintf(f, "%s\n", text) < 0) {
        fprintf(stderr, "switchboard ctl: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (f && fclose(f) != 0)
        rc = 1;
    chmod(path, 0600);
    free(text);
    return rc;
}

void ctl_session_remove(void)
{
    char path[1024];
    if (session_path(path, sizeof(path), false))
        remove(path);
}
