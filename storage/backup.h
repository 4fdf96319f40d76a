/*
 * backup.h - export a config store to a directory or a .tar.gz, import it back, copy a store
 * into another.
 *
 * A backup is manifest.json
 *     {"format":"switchboard-backup","version":1,"createdAt":"<RFC 3339>",
 *      "kinds":{"<kind>":<count>,...},"switchboardVersion":"<x.y.z>"}
 * and one <kind>.json per kind holding a JSON array of the documents, exactly as stored (the API
 * stores secrets encrypted, so a backup holds them encrypted with that installation's secret).
 * The same files sit in a directory or at the top of a gzip-compressed tar archive (libarchive).
 *
 * Import reads and checks the whole backup (format, version, every file parses, counts match the
 * manifest) before it changes anything, then applies it with one sb_store_batch(), so a corrupt
 * or unsupported backup leaves the store untouched, and on stores whose batch is atomic (memory,
 * sqlite, mongodb on a replica set) a failure half-way leaves it untouched too.
 * The whole backup is held in memory while it is written or applied.
 */
#ifndef SB_BACKUP_H
#define SB_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "storage/store.h"

#define SB_BACKUP_FORMAT  "switchboard-backup"
#define SB_BACKUP_VERSION 1

typedef struct sb_backup_stats {
    size_t kinds;   /* kinds exported / found in the backup */
    size_t docs;    /* documents exported / written */
    size_t skipped; /* import without replace: documents whose id already existed */
    size_t removed; /* import with replace: existing documents cleared first */
} sb_backup_stats;

/* True when path names an archive (ends in .tar.gz or .tgz) rather than a directory. */
bool sb_backup_is_archive(const char *path);

/*
 * Writes every kind of s to dest: a directory (created if missing; its manifest and kind files
 * are replaced) or an archive when sb_backup_is_archive(dest). The archive is written to a
 * temporary name and renamed, so a failed export never leaves a truncated FILE.tar.gz.
 * st may be NULL.
 */
sb_err sb_backup_export(sb_store *s, const char *dest, sb_backup_stats *st, sb_errmsg *em);

/*
 * Reads a backup from src (directory or archive) into s. Without replace, documents whose id
 * already exists in s are kept (counted in st->skipped); with replace, every kind present in
 * the backup is cleared first. A wrong format or version fails with SB_ERR_UNSUPPORTED or
 * SB_ERR_INVALID naming the manifest; a corrupt file with SB_ERR_PARSE naming the file.
 */
sb_err sb_backup_import(sb_store *s, const char *src, bool replace, sb_backup_stats *st,
                        sb_errmsg *em);

/* Copies every kind of from into to, with the import rules above (both borrowed). */
sb_err sb_backup_copy(sb_store *from, sb_store *to, bool replace, sb_backup_stats *st,
                      sb_errmsg *em);

#endif
