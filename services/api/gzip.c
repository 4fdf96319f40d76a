/*
 * gzip.c - gzip-compressed responses. Debian's libwebsockets 4.1 is built without its stream
 * compression, so the body is deflated here with zlib (a gzip wrapper: windowBits 15 + 16) in one
 * go before the headers are sent; the response keeps its Content-Length (of the compressed
 * bytes) and so stays on the keep-alive connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "api.h"

/* One coding of an Accept-Encoding list: its name and q (1 when absent; 0 when malformed). */
static const char *coding(const char *p, char *name, size_t len, double *q)
{
    p += strspn(p, " \t,");
    size_t n = strcspn(p, ",; \t");
    snprintf(name, len, "%.*s", (int)(n < len ? n : len - 1), p);
    p += n;
    *q = 1;
    while (*p && *p != ',') {
        p += strspn(p, " \t;");
        if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char *end = NULL;
            double v = strtod(p + 2, &end);
            *q = end != p + 2 && v >= 0 && v <= 1 ? v : 0;
            p = end != p + 2 ? end : p + 2;
        } else {
            p += strcspn(p, ";,");
        }
    }
    return p;
}

bool api_accepts_gzip(const char *accept_encoding)
{
    bool star = false;
    for (const char *p = accept_encoding; p && *p;) {
        char name[32];
        double q;
        p = coding(p, name, sizeof(name), &q);
        if (strcasecmp(name, "gzip") == 0 || strcasecmp(name, "x-gzip") == 0)
            return q > 0;
        if (strcmp(name, "*") == 0)
            star = q > 0;
    }
    return star;
}

sb_err api_gzip(const char *in, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SB_ERR_NOMEM;
    uLong cap = deflateBound(&z, (uLong)len);
    char *buf = malloc(cap);
    int rc = Z_MEM_ERROR;
    if (buf) {
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)buf;
        z.avail_out = (uInt)cap;
        rc = deflate(&z, Z_FINISH);
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return SB_ERR_INTERNAL;
    }
    *out = buf;
    return SB_OK;
}

static bool compressible(const char *ctype)
{
    return !ctype || strncmp(ctype, "text/", 5) == 0 || strncmp(ctype, "application/json", 16) == 0;
}

void api_gzip_response(api *a, const char *accept_encoding, api_resp *rs)
{
    int64_t min = a->cfg->api.gzip_min;
    if (min <= 0 || !rs->body || !compressible(rs->content_type))
        return;
    /* A body already encoded, or one with validators of its own (static files), goes as it is. */
    if (rs->as_is || strcasestr(rs->headers, "Content-Encoding:"))
        return;
    /* Caches must keep the two forms apart, whichever this client gets. */
    api_add_header(rs, "Vary", "Accept-Encoding");
    if ((int64_t)rs->len < min || !api_accepts_gzip(accept_encoding))
        return;
    char *z = NULL;
    size_t zl = 0;
    if (api_gzip(rs->body, rs->len, &z, &zl) != SB_OK)
        return; /* sent as it is */
    free(rs->body);
    rs->body = z;
    rs->len = zl;
    api_add_header(rs, "Content-Encoding", "gzip");
}
