/*
 * backup.c - the backup handler: exports the whole config store (storage/backup.h) into
 * <directory>/<prefix>-<UTC time>.tar.gz (or a directory of that name when archive is off), then
 * removes the oldest backups of that prefix beyond retention. `switchboard backup import`
 * restores one. The export is written under a temporary name and renamed, so a backup that is
 * listed is complete.
 */
#include <dirent.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/options.h"
#include "core/proc.h"
#include "core/time.h"
#include "handlers/plugin.h"
#include "storage/backup.h"

typedef struct backup_opts {
    char *directory;
    char *prefix;
    int64_t retention;
    bool archive;
} backup_opts;

static const sb_option backup_table[] = {
    SB_OPT_ROW_STR(backup_opts, directory, "directory", "",
                   "Where backups go; empty = <data_dir>/backups."),
    SB_OPT_ROW_STR(backup_opts, prefix, "prefix", "switchboard-backup",
                   "Backup names: <prefix>-<UTC time>[.tar.gz]."),
    SB_OPT_ROW_INT(backup_opts, retention, "retention", "5", 0, 100000,
                   "Backups of this prefix kept, the new one included; 0 = all."),
    SB_OPT_ROW_BOOL(backup_opts, archive, "archive", "true",
                    "A .tar.gz file; false = a directory of JSON files."),
    SB_OPT_END,
};

static sb_err backup_check(const void *opts, sb_errmsg *em)
{
    const backup_opts *o = opts;
    if (!o->prefix || !*o->prefix || strchr(o->prefix, '/'))
        return sb_fail(em, SB_ERR_INVALID, "spec.prefix: a non-empty name without '/'");
    return SB_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Whether name is one of our backups: <prefix>-<digits...>Z[.tar.gz]. */
static bool ours(const backup_opts *o, const char *name)
{
    size_t pl = strlen(o->prefix);
    if (strncmp(name, o->prefix, pl) != 0 || name[pl] != '-' || name[pl + 1] < '0' ||
        name[pl + 1] > '9')
        return false;
    return !strstr(name, ".tmp");
}

/* Removes the oldest backups of the prefix so that retention remain. */
static sb_err prune(const sb_handler_host *host, const backup_opts *o, const char *dir,
                    size_t *removed, sb_errmsg *em)
{
    *removed = 0;
    if (o->retention <= 0)
        return SB_OK;
    DIR *d = opendir(dir);
    if (!d)
        return sb_fail(em, SB_ERR_IO, "%s: cannot list it", dir);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char **grown = ours(o, e->d_name) ? realloc(names, (n + 1) * sizeof(*names)) : NULL;
        if (grown && (grown[n] = strdup(e->d_name)))
            n++;
        if (grown)
            names = grown;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names); /* the UTC time in the name sorts by age */
    for (size_t i = 0; i + (size_t)o->retention < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
            (*removed)++;
        else
            sb_warn(host->log, "%s: cannot remove an old backup", path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return SB_OK;
}

static sb_err backup_run(void *inst, const sb_handler_host *host, const void *opts,
                         const sb_handler_call *call, sb_errmsg *em)
{
    (void)inst;
    (void)call;
    const backup_opts *o = opts;
    sb_err rc = backup_check(o, em);
    if (rc != SB_OK)
        return rc;
    char *dflt = o->directory && *o->directory ? NULL : sb_config_data_path(host->cfg, "backups");
    const char *dir = dflt ? dflt : o->directory;
    char stamp[32], final[4096], tmp[4200];
    int64_t now = sb_time_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(final, sizeof(final), "%s/%s-%s%03dZ%s", dir, o->prefix, stamp, (int)(now % 1000),
             o->archive ? ".tar.gz" : "");
    /* the archive is renamed into place by the export itself; a directory here */
    snprintf(tmp, sizeof(tmp), "%s.tmp%s", final, o->archive ? ".tar.gz" : "");
    rc = sb_mkdirs(dir, em);
    sb_backup_stats st = {0};
    if (rc == SB_OK)
        rc = sb_backup_export(host->store, o->archive ? final : tmp, &st, em);
    if (rc == SB_OK && !o->archive && rename(tmp, final) != 0)
        rc = sb_fail(em, SB_ERR_IO, "%s: cannot rename it into place", final);
    size_t removed = 0;
    if (rc == SB_OK)
        rc = prune(host, o, dir, &removed, em);
    if (rc == SB_OK)
        sb_fail(em, SB_OK, "%zu documents in %s%s", st.docs, strrchr(final, '/') + 1,
                removed ? " (older ones removed)" : "");
    else if (!o->archive)
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dflt);
    return rc;
}

const sb_handler_plugin sb_handler_plugin_backup = {
    .info = {.name = "backup",
             .version = "1",
             .description = "exports the config store to a directory, keeping the newest N",
             .options = backup_table},
    .options_size = sizeof(backup_opts),
    .check = backup_check,
    .run = backup_run,
};
