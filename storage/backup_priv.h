/*
 * backup_priv.h - internals of backup.c: the files of a backup as bytes, and where they live
 * (backup_io.c: a directory or a .tar.gz through libarchive).
 */
#ifndef SB_BACKUP_PRIV_H
#define SB_BACKUP_PRIV_H

#include <stddef.h>

#include "core/err.h"

typedef struct bk_file {
    char *name; /* "manifest.json", "<kind>.json"; owned */
    char *data; /* owned, NUL-terminated */
    size_t len;
} bk_file;

typedef struct bk_files {
    bk_file *items;
    size_t n, cap;
} bk_files;

/* Appends a file; takes ownership of data (freed on failure). */
sb_err bk_files_add(bk_files *fs, const char *name, char *data, size_t len);
const bk_file *bk_files_find(const bk_files *fs, const char *name);
void bk_files_free(bk_files *fs);

/* Writes the files to a directory or, for FILE.tar.gz, to an archive (via a temporary name). */
sb_err bk_write(const char *dest, const bk_files *fs, sb_errmsg *em);

/* Reads every top-level *.json file of a directory or archive. */
sb_err bk_read(const char *src, bk_files *fs, sb_errmsg *em);

#endif
