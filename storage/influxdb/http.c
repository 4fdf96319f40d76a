#include "storage/influxdb/http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    sb_lp_buf *buf = ud;
    size_t len = size * n;
    if (buf && sb_lp_buf_append(buf, ptr, len) != SB_OK)
        return 0;
    return len;
}

sb_err sb_influx_http(CURL *c, const char *url, const char *content_type, const char *body,
                      size_t len, const sb_influx_auth *auth, int64_t timeout_ms, long *status,
                      sb_lp_buf *resp, sb_errmsg *em)
{
    struct curl_slist *hdr = NULL;
    char line[600];
    *status = 0;
    /* No "Expect: 100-continue" round trip before large batches. */
    hdr = curl_slist_append(hdr, "Expect:");
    if (content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, line);
    }
    if (auth && auth->token && *auth->token) {
        snprintf(line, sizeof(line), "Authorization: Token %s", auth->token);
        hdr = curl_slist_append(hdr, line);
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (auth && auth->username && *auth->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, auth->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, auth->password ? auth->password : "");
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdr);
    if (cc != CURLE_OK)
        return sb_fail(em, cc == CURLE_OPERATION_TIMEDOUT ? SB_ERR_TIMEOUT : SB_ERR_IO,
                       "InfluxDB request failed: %s", curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return SB_OK;
}

sb_err sb_influx_urlenc(sb_lp_buf *b, const char *s)
{
    sb_err rc = SB_OK;
    for (; *s && rc == SB_OK; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || strchr("-._~", ch))
            rc = sb_lp_buf_append(b, s, 1);
        else
            rc = sb_lp_buf_printf(b, "%%%02X", ch);
    }
    return rc;
}
