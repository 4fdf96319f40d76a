/*
 * backup_io.c - where backup files live: a plain directory, or a gzip-compressed tar archive
 * written and read with libarchive.
 */
#include "core/buf.h"
#include "storage/backup.h"
#include "storage/backup_priv.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BK_MAX_FILE (512u * 1024u * 1024u)

sb_err bk_files_add(bk_files *fs, const char *name, char *data, size_t len)
{
    if (sb_array_reserve(&fs->items, &fs->cap, fs->n + 1, sizeof(*fs->items), 16) != SB_OK) {
        free(data);
        return SB_ERR_NOMEM;
    }
    char *n = strdup(name);
    if (!n) {
        free(data);
        return SB_ERR_NOMEM;
    }
    fs->items[fs->n++] = (bk_file){.name = n, .data = data, .len = len};
    return SB_OK;
}

const bk_file *bk_files_find(const bk_files *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->items[i].name, name) == 0)
            return &fs->items[i];
    return NULL;
}

void bk_files_free(bk_files *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->items[i].name);
        free(fs->items[i].data);
    }
    free(fs->items);
    *fs = (bk_files){0};
}

bool sb_backup_is_archive(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return (n > 7 && strcmp(path + n - 7, ".tar.gz") == 0) ||
           (n > 4 && strcmp(path + n - 4, ".tgz") == 0);
}

/* Writes one file of a directory backup through a temporary name. */
static sb_err write_plain(const char *dir, const bk_file *f, sb_errmsg *em)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return sb_fail(em, SB_ERR_IO, "backup: cannot write %s: %s", tmp, strerror(errno));
    int bad = fwrite(f->data, 1, f->len, fp) != f->len;
    bad |= fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return sb_fail(em, SB_ERR_IO, "backup: cannot write %s: %s", path, strerror(errno));
    }
    return SB_OK;
}

static sb_err write_dir(const char *dir, const bk_files *fs, sb_errmsg *em)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return sb_fail(em, SB_ERR_IO, "backup: cannot create %s: %s", dir, strerror(errno));
    /* Kind files first, the manifest last: a directory with a manifest is complete. */
    for (size_t i = 0; i < fs->n; i++) {
        if (strcmp(fs->items[i].name, "manifest.json") == 0)
            continue;
        sb_err err = write_plain(dir, &fs->items[i], em);
        if (err)
            return err;
    }
    const bk_file *m = bk_files_find(fs, "manifest.json");
    return m ? write_plain(dir, m, em) : SB_OK;
}

static sb_err arch_fail(struct archive *a, sb_errmsg *em, const char *what, const char *path)
{
    const char *msg = archive_error_string(a);
    return sb_fail(em, SB_ERR_IO, "backup: %s %s: %s", what, path, msg ? msg : "unknown error");
}

static sb_err write_entries(struct archive *a, const bk_files *fs, const char *path, sb_errmsg *em)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return SB_ERR_NOMEM;
    sb_err err = SB_OK;
    for (size_t i = 0; i < fs->n && !err; i++) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, fs->items[i].name);
        archive_entry_set_size(e, (la_int64_t)fs->items[i].len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0640);
        archive_entry_set_mtime(e, time(NULL), 0);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            archive_write_data(a, fs->items[i].data, fs->items[i].len) !=
                (la_ssize_t)fs->items[i].len)
            err = arch_fail(a, em, "cannot write", path);
    }
    archive_entry_free(e);
    return err;
}

static sb_err write_archive(const char *path, const bk_files *fs, sb_errmsg *em)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct archive *a = archive_write_new();
    if (!a)
        return sb_fail(em, SB_ERR_NOMEM, "backup: out of memory");
    sb_err err = SB_OK;
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_filename(a, tmp) != ARCHIVE_OK)
        err = arch_fail(a, em, "cannot create", tmp);
    if (!err)
        err = write_entries(a, fs, tmp, em);
    if (archive_write_close(a) != ARCHIVE_OK && !err)
        err = arch_fail(a, em, "cannot finish", tmp);
    archive_write_free(a);
    if (!err && rename(tmp, path) != 0)
        err = sb_fail(em, SB_ERR_IO, "backup: cannot rename %s: %s", tmp, strerror(errno));
    if (err)
        unlink(tmp);
    return err;
}

sb_err bk_write(const char *dest, const bk_files *fs, sb_errmsg *em)
{
    return sb_backup_is_archive(dest) ? write_archive(dest, fs, em) : write_dir(dest, fs, em);
}

static bool wanted(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0 && !strchr(name, '/') && name[0] != '.';
}

static sb_err read_plain(const char *path, char **out, size_t *len, sb_errmsg *em)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sb_fail(em, SB_ERR_IO, "backup: cannot read %s: %s", path, strerror(errno));
    struct stat sbuf;
    char *buf = NULL;
    sb_err err = SB_OK;
    if (fstat(fileno(fp), &sbuf) != 0 || sbuf.st_size < 0 || sbuf.st_size > BK_MAX_FILE)
        err = sb_fail(em, SB_ERR_TOO_LARGE, "backup: %s is too large or unreadable", path);
    else if (!(buf = malloc((size_t)sbuf.st_size + 1)))
        err = SB_ERR_NOMEM;
    else if (fread(buf, 1, (size_t)sbuf.st_size, fp) != (size_t)sbuf.st_size)
        err = sb_fail(em, SB_ERR_IO, "backup: cannot read %s", path);
    fclose(fp);
    if (err) {
        free(buf);
        return err;
    }
    buf[sbuf.st_size] = '\0';
    *out = buf;
    *len = (size_t)sbuf.st_size;
    return SB_OK;
}

static sb_err read_dir(const char *dir, bk_files *fs, sb_errmsg *em)
{
    DIR *d = opendir(dir);
    if (!d)
        return sb_fail(em, errno == ENOENT ? SB_ERR_NOTFOUND : SB_ERR_IO,
                       "backup: cannot open %s: %s", dir, strerror(errno));
    sb_err err = SB_OK;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        if (!wanted(de->d_name))
            continue;
        char path[4096], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        err = read_plain(path, &data, &len, em);
        if (!err)
            err = bk_files_add(fs, de->d_name, data, len);
    }
    closedir(d);
    return err;
}

static sb_err read_entry(struct archive *a, struct archive_entry *e, const char *path, bk_files *fs,
                         sb_errmsg *em)
{
    const char *name = archive_entry_pathname(e);
    if (name && strncmp(name, "./", 2) == 0)
        name += 2;
    if (!name || !wanted(name) || archive_entry_filetype(e) != AE_IFREG)
        return archive_read_data_skip(a) == ARCHIVE_OK ? SB_OK
                                                       : arch_fail(a, em, "corrupt archive", path);
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || size > BK_MAX_FILE)
        return sb_fail(em, SB_ERR_TOO_LARGE, "backup: %s in %s is too large", name, path);
    char *buf = malloc((size_t)size + 1);
    if (!buf)
        return SB_ERR_NOMEM;
    size_t got = 0;
    while (got < (size_t)size) {
        la_ssize_t r = archive_read_data(a, buf + got, (size_t)size - got);
        if (r <= 0) {
            free(buf);
            return r < 0 ? arch_fail(a, em, "corrupt archive", path)
                         : sb_fail(em, SB_ERR_PARSE, "backup: %s in %s is truncated", name, path);
        }
        got += (size_t)r;
    }
    buf[size] = '\0';
    return bk_files_add(fs, name, buf, (size_t)size);
}

static sb_err read_archive(const char *path, bk_files *fs, sb_errmsg *em)
{
    struct archive *a = archive_read_new();
    if (!a)
        return SB_ERR_NOMEM;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    sb_err err = SB_OK;
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        err = access(path, R_OK) != 0 ? sb_fail(em, SB_ERR_NOTFOUND, "backup: cannot open %s: %s",
                                                path, strerror(errno))
                                      : arch_fail(a, em, "not a readable tar.gz archive:", path);
    }
    struct archive_entry *e;
    int rc = ARCHIVE_OK;
    while (!err && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK)
        err = read_entry(a, e, path, fs, em);
    if (!err && rc != ARCHIVE_EOF)
        err = arch_fail(a, em, "corrupt archive", path);
    archive_read_free(a);
    return err;
}

sb_err bk_read(const char *src, bk_files *fs, sb_errmsg *em)
{
    struct stat sbuf;
    if (stat(src, &sbuf) == 0 && S_ISDIR(sbuf.st_mode))
        return read_dir(src, fs, em);
    return read_archive(src, fs, em);
}
