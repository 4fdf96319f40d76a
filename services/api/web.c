/*
 * web.c - the dashboard's static files from api.web_root (web.h). The bundle is small (a few
 * hundred KB), so a file is read whole into the response like any JSON answer.
 */
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_FILE_MAX (64L * 1024 * 1024)
#define OCTET        "application/octet-stream"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return OCTET;
}

bool api_web_wants(const api *a, const api_req *rq)
{
    const char *root = a->cfg->api.web_root;
    if (!root || !root[0] || rq->method != API_GET)
        return false;
    if (strcmp(rq->path, "/metrics") == 0) /* the Prometheus route (system.c) */
        return false;
    return strncmp(rq->path, "/api", 4) != 0 || (rq->path[4] != '/' && rq->path[4] != '\0');
}

/* No "." or ".." segment and no backslash: the path stays under the root. */
static bool path_ok(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\'))
        return false;
    for (const char *s = path + 1; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n + (e != NULL);
    }
    return true;
}

/* A regular file's bytes (NUL-terminated) and its size and mtime; NULL when it is none. */
static char *read_file(const char *path, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = NULL;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > WEB_FILE_MAX)
        goto fail;
    buf = malloc((size_t)st->st_size + 1);
    if (!buf)
        goto fail;
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
    close(fd);
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

/* Loads file (or file.gz when gzip is allowed) into rs; false when neither exists. */
static bool load(const char *file, bool gzip, api_resp *rs, struct stat *st)
{
    char gz[PATH_MAX + 4];
    if (gzip && snprintf(gz, sizeof(gz), "%s.gz", file) < (int)sizeof(gz)) {
        rs->body = read_file(gz, &rs->len, st);
        if (rs->body) {
            api_add_header(rs, "Content-Encoding", "gzip");
            return true;
        }
    }
    rs->body = read_file(file, &rs->len, st);
    return rs->body != NULL;
}

/* The file under root that path names ("/" and directories mean their index.html). */
static void file_for(const char *root, const char *path, char *out, size_t len)
{
    size_t n = strlen(path);
    bool dir = n > 0 && path[n - 1] == '/';
    snprintf(out, len, "%s%s%s", root, path, dir ? "index.html" : "");
    struct stat st;
    if (!dir && stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out, len, "%s%s/index.html", root, path);
}

/* A path the browser-side router owns: outside /assets/ and not ending in a file type this
 * server knows ("/devices/gw1.12" is a route, "/robots.txt" a missing file). */
static bool is_app_route(const char *path)
{
    return strncmp(path, "/assets/", 8) != 0 && strcmp(type_of(path), OCTET) == 0;
}

void api_web_serve(const api *a, const api_req *rq, const char *accept_encoding,
                   const char *if_none_match, api_resp *rs)
{
    const char *root = a->cfg->api.web_root;
    if (!path_ok(rq->path)) {
        api_errorf(rs, 404, "not found", "no file %s", rq->path);
        return;
    }
    char file[PATH_MAX];
    file_for(root, rq->path, file, sizeof(file));
    bool gzip = api_accepts_gzip(accept_encoding ? accept_encoding : "");
    struct stat st;
    if (!load(file, gzip, rs, &st)) {
        if (!is_app_route(rq->path)) {
            api_errorf(rs, 404, "not found", "no file %s", rq->path);
            return;
        }
        snprintf(file, sizeof(file), "%s/index.html", root);
        if (!load(file, gzip, rs, &st)) {
            api_errorf(rs, 404, "not found", "no %s (is the dashboard built?)", file);
            return;
        }
    }
    rs->status = 200;
    rs->content_type = type_of(file);
    rs->as_is = true; /* its own .gz and ETag: no compression on the fly (gzip.c) */
    api_add_header(rs, "Vary", "Accept-Encoding");
    api_add_header(rs, "X-Content-Type-Options", "nosniff");
    bool hashed = strncmp(rq->path, "/assets/", 8) == 0;
    api_add_header(rs, "Cache-Control",
                   hashed ? "public, max-age=31536000, immutable" : "no-cache");
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtime, strstr(rs->headers, "gzip") ? "-gz" : "");
    api_add_header(rs, "ETag", etag);
    if (if_none_match && strstr(if_none_match, etag)) {
        rs->status = 304;
        rs->len = 0;
        rs->body[0] = '\0';
    }
}
