/*
 * backups.c - the backup routes (admin only) over storage/backup.h:
 *   POST /api/backup/run      exports the store to <backup dir>/switchboard-<UTC time>.tar.gz
 *   GET  /api/backup          lists the archives there, newest first
 *   GET  /api/backup/{name}   downloads one (application/gzip)
 *   POST /api/restore         imports an uploaded archive (the body, up to api.restore_limit)
 *                             or ?name=<a stored backup>; ?replace=false keeps existing ids
 * The backup dir is api.backup_dir, else <data_dir>/backups. A restore checks the whole archive
 * before it changes anything (sb_backup_import), then asks every service to reload.
 * Exports and imports run on a request worker (api.h), one at a time: a backup or restore asked
 * for while another runs gets 409 (two at once could pick the same file name, or restore while
 * exporting).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"
#include "storage/backup.h"

#define SUFFIX ".tar.gz"

/* Services told to reload after a restore (<p>/ctl/<service>/reload {}). */
static const char *const reloaded[] = {"gateway",   "processor", "task",
                                       "scheduler", "handler",   "forward"};

/* The backup directory, created when missing (caller frees). */
static char *backup_dir(api *a, sb_errmsg *em)
{
    const char *d = a->cfg->api.backup_dir;
    char *dir = d && *d ? strdup(d) : sb_config_data_path(a->cfg, "backups");
    if (!dir) {
        sb_fail(em, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sb_mkdirs(dir, em) != SB_OK) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* A name this service could have written: [A-Za-z0-9_.-], not hidden, ends in .tar.gz. */
static bool name_ok(const char *n)
{
    size_t len = strlen(n), sl = strlen(SUFFIX);
    return len > sl && len < 200 && n[0] != '.' && strcmp(n + len - sl, SUFFIX) == 0 &&
           strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == len;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static cJSON *file_info(const char *name, const struct stat *st)
{
    char when[SB_TIME_RFC3339_LEN];
    sb_time_format((int64_t)st->st_mtime * 1000, when, sizeof(when));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "size", (double)st->st_size);
    cJSON_AddStringToObject(o, "createdAt", when);
    return o;
}

static void backup_run(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    sb_errmsg em = {{0}};
    char *dir = backup_dir(a, &em), *path = NULL;
    if (!dir) {
        api_error(rs, 500, "backup", em.text);
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32], name[64];
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    struct stat st;
    for (int i = 1; i < 1000; i++) {
        if (i == 1)
            snprintf(name, sizeof(name), "switchboard-%s" SUFFIX, stamp);
        else
            snprintf(name, sizeof(name), "switchboard-%s-%d" SUFFIX, stamp, i);
        free(path);
        path = join(dir, name);
        if (!path || stat(path, &st) != 0)
            break;
    }
    sb_backup_stats bs = {0};
    sb_err rc = path ? sb_backup_export(a->store, path, &bs, &em) : SB_ERR_NOMEM;
    if (rc == SB_OK && stat(path, &st) != 0)
        rc = sb_fail(&em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "backup", sb_errmsg_str(&em, rc));
    } else {
        sb_info(&a->log, "backup %s: %zu documents of %zu kinds", path, bs.docs, bs.kinds);
        cJSON *o = file_info(name, &st);
        cJSON_AddNumberToObject(o, "documents", (double)bs.docs);
        cJSON_AddNumberToObject(o, "kinds", (double)bs.kinds);
        api_reply(rs, 201, o);
    }
    free(path);
    free(dir);
}

static int newest_first(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return strcmp(sb_json_str(b, "name", ""), sb_json_str(a, "name", ""));
}

void api_backup_list(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    sb_errmsg em = {{0}};
    char *dir = backup_dir(a, &em);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        api_errorf(rs, 500, "backup", "%s", dir ? strerror(errno) : em.text);
        free(dir);
        return;
    }
    cJSON *items[4096];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < SB_ARRAY_LEN(items);) {
        struct stat st;
        char *p = name_ok(e->d_name) ? join(dir, e->d_name) : NULL;
        if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            items[n++] = file_info(e->d_name, &st);
        free(p);
    }
    closedir(d);
    free(dir);
    qsort(items, n, sizeof(items[0]), newest_first);
    cJSON *o = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(o, "data");
    cJSON_AddNumberToObject(o, "count", (double)n);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(data, items[i]);
    api_reply(rs, 200, o);
}

/* The file at path into memory (caller frees); NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) &&
        fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
    *len = buf ? (size_t)st.st_size : 0;
    fclose(f);
    return buf;
}

void api_backup_download(api *a, api_req *rq, api_resp *rs)
{
    if (!name_ok(rq->id)) {
        api_errorf(rs, 400, "bad request", "'%s' is not a backup name (*.tar.gz)", rq->id);
        return;
    }
    sb_errmsg em = {{0}};
    char *dir = backup_dir(a, &em), *path = dir ? join(dir, rq->id) : NULL;
    size_t len = 0;
    char *data = path ? slurp(path, &len) : NULL;
    if (!data) {
        bool missing = path && errno == ENOENT;
        api_errorf(rs, missing ? 404 : 500, missing ? "not found" : "backup", "backup '%s': %s",
                   rq->id, missing ? "no such backup" : strerror(errno));
    } else {
        char disp[300];
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", rq->id);
        api_add_header(rs, "Content-Disposition", disp);
        api_reply_raw(rs, 200, "application/gzip", data, len);
    }
    free(path);
    free(dir);
}

static bool archive_type(const char *ctype)
{
    static const char *const ok[] = {"application/gzip", "application/x-gzip",
                                     "application/octet-stream", "application/x-compressed-tar",
                                     "application/x-tar+gzip"};
    if (!ctype[0])
        return true;
    for (size_t i = 0; i < SB_ARRAY_LEN(ok); i++)
        if (strncmp(ctype, ok[i], strlen(ok[i])) == 0)
            return true;
    return false;
}

/* Writes the uploaded archive to a private temporary file in dir; its path (caller frees). */
static char *save_upload(const char *dir, const api_req *rq, sb_errmsg *em)
{
    char *path = join(dir, ".restore-XXXXXX" SUFFIX);
    int fd = path ? mkstemps(path, (int)strlen(SUFFIX)) : -1;
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < rq->body_len;) {
        ssize_t n = write(fd, rq->body + off, rq->body_len - off);
        ok = n > 0 || (n < 0 && errno == EINTR);
        off += n > 0 ? (size_t)n : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok) {
        sb_fail(em, SB_ERR_IO, "%s: %s", path ? path : dir, strerror(errno));
        if (fd >= 0)
            unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

static void tell_services(api *a)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(reloaded); i++) {
        char topic[256];
        if (sb_bus_topic(a->bus, topic, sizeof(topic), "ctl/%s/reload", reloaded[i]) == SB_OK)
            sb_bus_publish(a->bus, topic, "{}", 2, 1, false);
    }
}

/* The archive to restore: the uploaded body (a temporary copy, *tmp) or a stored backup. */
static char *restore_source(api_req *rq, api_resp *rs, const char *dir, bool *tmp)
{
    const char *name = api_params_get(&rq->params, "name");
    sb_errmsg em = {{0}};
    *tmp = false;
    if (rq->body_len) {
        if (!archive_type(rq->content_type)) {
            api_errorf(rs, 415, "unsupported media type",
                       "Content-Type '%s': send the .tar.gz as application/gzip", rq->content_type);
            return NULL;
        }
        char *path = save_upload(dir, rq, &em);
        if (!path)
            api_error(rs, 500, "restore", em.text);
        *tmp = path != NULL;
        return path;
    }
    if (!name || !name_ok(name)) {
        api_error(rs, 400, "bad request",
                  "send a backup archive as the body, or name a stored one with ?name=");
        return NULL;
    }
    char *path = join(dir, name);
    if (path && access(path, R_OK) != 0) {
        api_errorf(rs, 404, "not found", "backup '%s': no such backup", name);
        free(path);
        return NULL;
    }
    return path;
}

static void restore(api *a, api_req *rq, api_resp *rs)
{
    sb_errmsg em = {{0}};
    const char *rep = api_params_get(&rq->params, "replace");
    if (rep && strcmp(rep, "true") != 0 && strcmp(rep, "false") != 0) {
        api_error(rs, 400, "bad request", "replace: true or false");
        return;
    }
    char *dir = backup_dir(a, &em);
    if (!dir) {
        api_error(rs, 500, "restore", em.text);
        return;
    }
    bool tmp = false, replace = !rep || strcmp(rep, "true") == 0;
    char *path = restore_source(rq, rs, dir, &tmp);
    if (path) {
        sb_backup_stats bs = {0};
        sb_err rc = sb_backup_import(a->store, path, replace, &bs, &em);
        if (rc == SB_OK) {
            sb_info(&a->log, "restored %zu documents of %zu kinds (%zu cleared, %zu kept)", bs.docs,
                    bs.kinds, bs.removed, bs.skipped);
            api_secrets_seal_stored(a); /* a backup from before encryption */
            tell_services(a);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "documents", (double)bs.docs);
            cJSON_AddNumberToObject(o, "kinds", (double)bs.kinds);
            cJSON_AddNumberToObject(o, "removed", (double)bs.removed);
            cJSON_AddNumberToObject(o, "skipped", (double)bs.skipped);
            api_reply(rs, 200, o);
        } else {
            /* An archive that cannot be read or checked is the client's; the store is as it
             * was (sb_backup_import checks everything before it writes). */
            bool bad = rc == SB_ERR_PARSE || rc == SB_ERR_INVALID || rc == SB_ERR_UNSUPPORTED ||
                       (tmp && rc == SB_ERR_IO);
            api_error(rs, bad ? 400 : api_status_of(rc), bad ? "bad backup" : "restore",
                      sb_errmsg_str(&em, rc));
        }
        if (tmp)
            unlink(path);
    }
    free(path);
    free(dir);
}

/* Runs fn holding the backup lock, or answers 409 while another backup or restore runs. */
static void exclusive(api *a, api_req *rq, api_resp *rs, api_handler fn)
{
    if (pthread_mutex_trylock(&a->backup_mu) != 0) {
        api_error(rs, 409, "busy", "a backup or restore is running; retry when it is done");
        return;
    }
    fn(a, rq, rs);
    pthread_mutex_unlock(&a->backup_mu);
}

void api_backup_run(api *a, api_req *rq, api_resp *rs)
{
    exclusive(a, rq, rs, backup_run);
}

void api_restore(api *a, api_req *rq, api_resp *rs)
{
    exclusive(a, rq, rs, restore);
}
