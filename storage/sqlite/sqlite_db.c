/*
 * sqlite_db.c - the sqlite store's connection: opening, pragmas, schema, the per-connection
 * statement cache and retries on SQLITE_BUSY.
 */
#include "storage/sqlite/sqlite_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/time.h"

static const char *const fixed_sql[SQ__FIXED] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_PUT] = ("INSERT INTO sb_docs(kind, id, doc) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc"),
    [SQ_GET] = "SELECT doc FROM sb_docs WHERE kind = ?1 AND id = ?2",
    [SQ_DELETE] = "DELETE FROM sb_docs WHERE kind = ?1 AND id = ?2",
    [SQ_KINDS] = "SELECT DISTINCT kind FROM sb_docs ORDER BY kind",
    [SQ_COUNT_ALL] = "SELECT count(*) FROM sb_docs WHERE kind = ?1",
    [SQ_IKEYS_GET] = "SELECT entries FROM sb_ikeys WHERE kind = ?1 AND id = ?2",
    [SQ_IKEYS_PUT] = ("INSERT INTO sb_ikeys(kind, id, entries) VALUES(?1, ?2, ?3) "
                      "ON CONFLICT(kind, id) DO UPDATE SET entries = excluded.entries"),
    [SQ_IKEYS_DEL] = "DELETE FROM sb_ikeys WHERE kind = ?1 AND id = ?2",
    [SQ_KEYS_ADD] = "INSERT OR IGNORE INTO sb_keys(kind, key, value, id) VALUES(?1, ?2, ?3, ?4)",
    [SQ_KEYS_DEL] = "DELETE FROM sb_keys WHERE kind = ?1 AND key = ?2 AND value = ?3 AND id = ?4",
};

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS sb_docs ("
                                 " kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
                                 " PRIMARY KEY (kind, id)) WITHOUT ROWID";

sb_err sq_db_fail(sq_store *s, int rc, sb_errmsg *em, const char *what)
{
    sb_err code;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = SB_ERR_BUSY;
        break;
    case SQLITE_NOMEM:
        code = SB_ERR_NOMEM;
        break;
    case SQLITE_FULL:
        code = SB_ERR_FULL;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = SB_ERR_PARSE;
        break;
    default:
        code = SB_ERR_IO;
    }
    const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    return sb_fail(em, code, "sqlite %s: %s (%s)", what, msg, s && s->path ? s->path : "?");
}

char *sq_db_path(const sb_config *cfg)
{
    const char *p = cfg->storage.sqlite.path;
    if (p && *p)
        return strdup(p);
    const char *dir = cfg->data_dir && *cfg->data_dir ? cfg->data_dir : ".";
    size_t n = strlen(dir) + sizeof("/switchboard.db");
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/switchboard.db", dir);
    return out;
}

/* mkdir -p of the directory that holds path. */
static sb_err make_parent(const char *path, sb_errmsg *em)
{
    char *dir = strdup(path);
    if (!dir)
        return SB_ERR_NOMEM;
    char *slash = strrchr(dir, '/');
    sb_err err = SB_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p && !err; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            if (mkdir(dir, 0750) != 0 && errno != EEXIST)
                err = sb_fail(em, SB_ERR_IO, "sqlite: cannot create %s: %s", dir, strerror(errno));
            *p = '/';
        }
        if (!err && mkdir(dir, 0750) != 0 && errno != EEXIST)
            err = sb_fail(em, SB_ERR_IO, "sqlite: cannot create %s: %s", dir, strerror(errno));
    }
    free(dir);
    return err;
}

/* sqlite3_exec with retries: another process may be creating the schema or recovering WAL. */
static int exec_retry(sq_store *s, const char *sql)
{
    int64_t deadline = sb_time_mono_ms() + s->busy_ms;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || sb_time_mono_ms() >= deadline)
            return rc;
        sb_time_sleep_ms(2);
    }
}

static sb_err configure(sq_store *s, const sb_config *cfg, sb_errmsg *em)
{
    sqlite3_busy_timeout(s->db, (int)s->busy_ms);
    int rc = exec_retry(s, "PRAGMA journal_mode=WAL");
    if (rc != SQLITE_OK)
        return sq_db_fail(s, rc, em, "journal_mode=WAL");
    /* always: every commit is fsynced; batch: WAL is fsynced at checkpoints only, so a power
     * cut may lose the last commits but a killed process never does. */
    const char *sync = cfg->storage.sqlite.sync == SB_SYNC_BATCH ? "PRAGMA synchronous=NORMAL"
                                                                 : "PRAGMA synchronous=FULL";
    if ((rc = exec_retry(s, sync)) != SQLITE_OK)
        return sq_db_fail(s, rc, em, "synchronous");
    /* batch: checkpoint every ~40 MB of WAL instead of ~4 MB; measured 24k -> 37k puts/s
     * (bench/README.md), at the cost of a larger -wal file between checkpoints. */
    if (cfg->storage.sqlite.sync == SB_SYNC_BATCH &&
        (rc = exec_retry(s, "PRAGMA wal_autocheckpoint=10000")) != SQLITE_OK)
        return sq_db_fail(s, rc, em, "wal_autocheckpoint");
    char cache[64]; /* a negative cache_size is in KiB */
    snprintf(cache, sizeof(cache), "PRAGMA cache_size=%lld",
             -(long long)((cfg->storage.sqlite.cache_size + 1023) / 1024));
    if (cfg->storage.sqlite.cache_size > 0 && (rc = exec_retry(s, cache)) != SQLITE_OK)
        return sq_db_fail(s, rc, em, "cache_size"); /* 0 (a config not from the table): SQLite's */
    if ((rc = exec_retry(s, schema_sql)) != SQLITE_OK)
        return sq_db_fail(s, rc, em, "create schema");
    if ((rc = sq_regexp_register(s->db)) != SQLITE_OK)
        return sq_db_fail(s, rc, em, "register REGEXP");
    /* the index tables exist before the fixed statements that name them are prepared */
    if ((rc = exec_retry(s, "CREATE TABLE IF NOT EXISTS sb_keys (kind TEXT NOT NULL, key TEXT "
                            "NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (kind, "
                            "key, value, id)) WITHOUT ROWID")) != SQLITE_OK ||
        /* a sorted page of few matches looks their sort key's entries up by id */
        (rc = exec_retry(s, "CREATE INDEX IF NOT EXISTS sb_keys_id ON sb_keys(kind, key, id)")) !=
            SQLITE_OK ||
        (rc = exec_retry(s, "CREATE TABLE IF NOT EXISTS sb_ikeys (kind TEXT NOT NULL, id TEXT "
                            "NOT NULL, entries TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT "
                            "ROWID")) != SQLITE_OK ||
        (rc = exec_retry(s, "CREATE TABLE IF NOT EXISTS sb_meta (name TEXT PRIMARY KEY, value "
                            "TEXT NOT NULL)")) != SQLITE_OK ||
        /* count(*) of a kind reads this instead of every document (24 -> 3 ms at 100k);
         * updates of a document do not touch it */
        (rc = exec_retry(s, "CREATE INDEX IF NOT EXISTS sb_docs_kind ON sb_docs(kind)")) !=
            SQLITE_OK)
        return sq_db_fail(s, rc, em, "create index tables");
    for (int i = 0; i < SQ__FIXED; i++) {
        rc = sqlite3_prepare_v3(s->db, fixed_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->fixed[i],
                                NULL);
        if (rc != SQLITE_OK)
            return sq_db_fail(s, rc, em, "prepare");
    }
    return sq_index_open(s, &cfg->storage.sqlite.index, em);
}

sb_err sq_db_open(const sb_config *cfg, sq_store **out, sb_errmsg *em)
{
    *out = NULL;
    sq_store *s = calloc(1, sizeof(*s));
    if (!s)
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    s->busy_ms =
        cfg->storage.sqlite.busy_timeout_ms > 0 ? cfg->storage.sqlite.busy_timeout_ms : 5000;
    sb_err err = SB_OK;
    s->path = sq_db_path(cfg);
    if (!s->path) {
        err = sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
        goto fail;
    }
    if ((err = make_parent(s->path, em)) != SB_OK)
        goto fail;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        err = sq_db_fail(s, rc, em, "open");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 0);
    if ((err = configure(s, cfg, em)) != SB_OK)
        goto fail;
    *out = s;
    return SB_OK;
fail:
    sq_db_close(s);
    return err;
}

void sq_db_close(sq_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < SQ__FIXED; i++)
        sqlite3_finalize(s->fixed[i]);
    sq_index_free_spec(s);
    for (int i = 0; i < SQ_CACHE_SLOTS; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

sb_err sq_db_prepare(sq_store *s, const char *sql, sqlite3_stmt **out, sb_errmsg *em)
{
    sq_cached *victim = &s->cache[0];
    s->tick++;
    for (int i = 0; i < SQ_CACHE_SLOTS; i++) {
        sq_cached *c = &s->cache[i];
        if (c->sql && strcmp(c->sql, sql) == 0) {
            c->used = s->tick;
            sqlite3_reset(c->st);
            sqlite3_clear_bindings(c->st);
            *out = c->st;
            return SB_OK;
        }
        if (!c->sql || (victim->sql && c->used < victim->used))
            victim = c;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_db_fail(s, rc, em, "prepare query");
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        return sb_fail(em, SB_ERR_NOMEM, "sqlite: out of memory");
    }
    sqlite3_finalize(victim->st);
    free(victim->sql);
    victim->sql = copy;
    victim->st = st;
    victim->used = s->tick;
    *out = st;
    return SB_OK;
}

int sq_db_step(sq_store *s, sqlite3_stmt *st)
{
    int64_t deadline = sb_time_mono_ms() + s->busy_ms;
    for (;;) {
        int rc = sqlite3_step(st);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || sb_time_mono_ms() >= deadline)
            return rc;
        sqlite3_reset(st);
        sb_time_sleep_ms(1);
    }
}

sb_err sq_db_exec_fixed(sq_store *s, enum sq_stmt_id id, sb_errmsg *em)
{
    sqlite3_stmt *st = s->fixed[id];
    int rc = sq_db_step(s, st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sq_db_fail(s, rc, em, fixed_sql[id]);
    return SB_OK;
}
