/* msglog.c - the rotating raw-traffic log of one gateway (msglog.h). */
#include "services/gateway/msglog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/time.h"

struct gw_msglog {
    pthread_mutex_t mu;
    char *path;
    FILE *f;
    int64_t size;
    int64_t max_bytes;
    int files;
    uint64_t errors;
};

/* mkdir -p of the directory part of path. */
static void make_parent(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
}

static sb_err reopen(gw_msglog *l, sb_errmsg *em)
{
    l->f = fopen(l->path, "a");
    if (!l->f)
        return sb_fail(em, SB_ERR_IO, "message log '%s': %s", l->path, strerror(errno));
    struct stat st;
    l->size = fstat(fileno(l->f), &st) == 0 ? (int64_t)st.st_size : 0;
    return SB_OK;
}

sb_err gw_msglog_open(const char *path, int64_t max_bytes, int files, gw_msglog **out,
                      sb_errmsg *em)
{
    *out = NULL;
    gw_msglog *l = calloc(1, sizeof(*l));
    if (!l || !(l->path = strdup(path))) {
        free(l);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory opening the message log");
    }
    pthread_mutex_init(&l->mu, NULL);
    l->max_bytes = max_bytes > 0 ? max_bytes : 1;
    l->files = files > 0 ? files : 1;
    make_parent(path);
    sb_err rc = reopen(l, em);
    if (rc != SB_OK) {
        gw_msglog_close(l);
        return rc;
    }
    *out = l;
    return SB_OK;
}

/* path.<files-1> is dropped, each path.k moves to path.k+1, path becomes path.1. */
static void rotate(gw_msglog *l)
{
    fclose(l->f);
    l->f = NULL;
    size_t n = strlen(l->path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (from && to && l->files > 1) {
        for (int k = l->files - 1; k >= 1; k--) {
            snprintf(to, n, "%s.%d", l->path, k);
            if (k == 1)
                snprintf(from, n, "%s", l->path);
            else
                snprintf(from, n, "%s.%d", l->path, k - 1);
            rename(from, to);
        }
    } else {
        remove(l->path);
    }
    free(from);
    free(to);
    if (reopen(l, NULL) != SB_OK)
        l->errors++;
}

/* The line, with newlines and CRs escaped so one frame stays one line. */
static char *format_line(bool inbound, const unsigned char *data, size_t len, size_t *out_len)
{
    char *line = malloc(SB_TIME_RFC3339_LEN + 6 + 2 * len + 2);
    if (!line)
        return NULL;
    sb_time_format(sb_time_now_ms(), line, SB_TIME_RFC3339_LEN);
    size_t n = strlen(line);
    n += (size_t)sprintf(line + n, " %s ", inbound ? "in " : "out");
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || data[i] == '\r' || data[i] == '\\') {
            line[n++] = '\\';
            line[n++] = data[i] == '\n' ? 'n' : data[i] == '\r' ? 'r' : '\\';
        } else {
            line[n++] = (char)data[i];
        }
    }
    line[n++] = '\n';
    *out_len = n;
    return line;
}

void gw_msglog_write(gw_msglog *l, bool inbound, const void *data, size_t len)
{
    if (!l)
        return;
    size_t n;
    char *line = format_line(inbound, data, len, &n);
    pthread_mutex_lock(&l->mu);
    if (line && l->f && l->size > 0 && l->size + (int64_t)n > l->max_bytes)
        rotate(l);
    if (!line || !l->f || fwrite(line, 1, n, l->f) != n || fflush(l->f) != 0)
        l->errors++;
    else
        l->size += (int64_t)n;
    pthread_mutex_unlock(&l->mu);
    free(line);
}

uint64_t gw_msglog_errors(gw_msglog *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t n = l->errors;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void gw_msglog_close(gw_msglog *l)
{
    if (!l)
        return;
    if (l->f)
        fclose(l->f);
    pthread_mutex_destroy(&l->mu);
    free(l->path);
    free(l);
}
