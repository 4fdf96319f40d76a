/*
 * fuzz_web_path.c - fuzzes how the API serves the dashboard's files (services/api/web.c): the
 * request path and the Accept-Encoding and If-None-Match headers, all from the client.
 *
 * Input: three lines, "<path>\n<accept-encoding>\n<if-none-match>" (missing lines are empty).
 * The root is a small tree made once under $SB_TEST_TMPDIR (or /tmp) with a file beside it that
 * must never be served. Checks: every answer has a status and a body; a 200 is one of the
 * root's files (never the one outside), with a content type; gzip only when asked for; 304
 * only when an If-None-Match was sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "services/api/web.h"

#define OUTSIDE "OUTSIDE-THE-ROOT"

static char root[512];
static char made[16][700]; /* what make_root created, removed at exit in reverse */
static int n_made;

static void remember(const char *path)
{
    if (n_made < 16)
        snprintf(made[n_made++], sizeof(made[0]), "%s", path);
}

static void clean_up(void)
{
    while (n_made > 0)
        remove(made[--n_made]);
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_web_path: %s\n", what);
        abort();
    }
}

static void put(const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
        remember(path);
    }
}

static void dir(const char *path)
{
    if (mkdir(path, 0700) == 0)
        remember(path);
}

static void make_root(void)
{
    const char *tmp = getenv("SB_TEST_TMPDIR") ? getenv("SB_TEST_TMPDIR") : "/tmp";
    char base[400];
    snprintf(base, sizeof(base), "%s/fuzz-web-%d", tmp, (int)getpid());
    mkdir(tmp, 0700);
    dir(base);
    snprintf(root, sizeof(root), "%s/site", base);
    dir(root);
    put("../secret.txt", OUTSIDE);
    put("../site2", OUTSIDE);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/assets", root);
    dir(sub);
    snprintf(sub, sizeof(sub), "%s/sub", root);
    dir(sub);
    put("index.html", "<!doctype html>");
    put("sub/index.html", "sub");
    put("assets/app.js", "js");
    put("assets/app.js.gz", "gz");
    put("assets/s.css", "css");
    atexit(clean_up);
}

/* The next line of *s (up to '\n' or the end), NUL-terminated in place. */
static char *line(char **s)
{
    char *start = *s, *nl = strchr(start, '\n');
    if (nl) {
        *nl = '\0';
        *s = nl + 1;
    } else {
        *s = start + strlen(start);
    }
    return start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0])
        make_root();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *s = text;
    const char *path = line(&s), *enc = line(&s), *etag = line(&s);

    sb_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.api.web_root = root;
    api a;
    memset(&a, 0, sizeof(a));
    a.cfg = &cfg;
    api_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.method = API_GET;
    snprintf(rq.path, sizeof(rq.path), "%s", path);
    api_resp rs;
    memset(&rs, 0, sizeof(rs));

    if (api_web_wants(&a, &rq)) {
        api_web_serve(&a, &rq, enc, etag, &rs);
        check(rs.status >= 200 && rs.body != NULL, "an answer without a status or a body");
        if (rs.status == 200) {
            check(rs.content_type != NULL, "a file without a content type");
            check(strstr(rs.body, OUTSIDE) == NULL, "a file from outside the root");
            /* codings are case-insensitive (RFC 9110 8.4.1) */
            check(!strstr(rs.headers, "gzip") || strcasestr(enc, "gzip"), "gzip nobody asked for");
        }
        check(rs.status != 304 || etag[0], "304 without If-None-Match");
    } else {
        check(strncmp(rq.path, "/api", 4) == 0, "a path outside /api that is not served");
    }
    free(rs.body);
    free(text);
    return 0;
}
