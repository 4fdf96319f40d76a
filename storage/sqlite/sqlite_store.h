/*
 * sqlite_store.h - internals of the sqlite config store, shared by its three files:
 *   sqlite_db.c     the connection: open, pragmas, schema, statement cache, busy retries
 *   sqlite_where.c  the SQL pre-filter built from an sb_query, and the REGEXP and sb_contains
 *                   functions
 *   sqlite_store.c  the sb_store_plugin callbacks
 *
 * Layout: one table sb_docs(kind, id, doc) with PRIMARY KEY (kind, id), WITHOUT ROWID.
 * One table rather than one per kind because kinds are open-ended (internal kinds start with
 * '_'), so a new kind never needs DDL at run time (DDL while other processes hold prepared
 * statements forces them all to re-prepare), batch() across kinds is one plain transaction, and
 * kinds() is a walk of the primary key. The (kind, id) key makes every per-kind scan a range
 * scan in id order, which is also the store's tie-break order.
 *
 * Concurrency: one connection per store handle behind a mutex. A connection per thread was
 * measured against it (bench/README.md): the config store's work is short statements, and the
 * mutex keeps the statement cache simple and the memory small. Several processes share the file
 * through SQLite's own locking: WAL lets readers run beside the single writer, writes that read
 * first use BEGIN IMMEDIATE, and SQLITE_BUSY is retried until busy_timeout has passed.
 */
#ifndef SB_SQLITE_STORE_H
#define SB_SQLITE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "storage/store.h"

/* The fixed statements, prepared once per connection. */
enum sq_stmt_id {
    SQ_BEGIN = 0,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_PUT,
    SQ_GET,
    SQ_DELETE,
    SQ_KINDS,
    SQ_COUNT_ALL,
    SQ_IKEYS_GET,
    SQ_IKEYS_PUT,
    SQ_IKEYS_DEL,
    SQ_KEYS_ADD,
    SQ_KEYS_DEL,
    SQ__FIXED
};

#define SQ_CACHE_SLOTS 24

typedef struct sq_cached {
    char *sql; /* owned; NULL = free slot */
    sqlite3_stmt *st;
    uint64_t used; /* for least-recently-used eviction */
} sq_cached;

typedef struct sq_store {
    sb_store base;
    sqlite3 *db;
    pthread_mutex_t mu; /* guards db and the statement cache */
    char *path;         /* owned */
    int64_t busy_ms;
    sqlite3_stmt *fixed[SQ__FIXED];
    sq_cached cache[SQ_CACHE_SLOTS];
    uint64_t tick;
    char **index; /* the indexed key paths (storage.sqlite.index), owned */
    size_t n_index, index_cap;
    size_t index_rebuilt; /* documents indexed by the rebuild at open (0: none was needed) */
} sq_store;

extern const sb_store_plugin sb_store_plugin_sqlite;

/* sqlite_db.c */

/* Opens (creating) the database file and its schema. *out is freed with sq_db_close(). */
sb_err sq_db_open(const sb_config *cfg, sq_store **out, sb_errmsg *em);
void sq_db_close(sq_store *s);

/* The resolved file path for a config: storage.sqlite.path or <data_dir>/switchboard.db.
 * malloc'd; NULL on allocation failure. */
char *sq_db_path(const sb_config *cfg);

/* A statement for sql from the per-connection cache (prepared on first use). Borrowed: valid
 * until the next sq_db_prepare call; it is reset and its bindings cleared. */
sb_err sq_db_prepare(sq_store *s, const char *sql, sqlite3_stmt **out, sb_errmsg *em);

/* Steps a statement that has not produced rows yet, retrying SQLITE_BUSY until busy_timeout. */
int sq_db_step(sq_store *s, sqlite3_stmt *st);

/* Runs a fixed statement without results (BEGIN/COMMIT/ROLLBACK), with busy retries. */
sb_err sq_db_exec_fixed(sq_store *s, enum sq_stmt_id id, sb_errmsg *em);

/* Fills em with "sqlite <what>: <sqlite message> (<path>)" and returns the sb_err for rc. */
sb_err sq_db_fail(sq_store *s, int rc, sb_errmsg *em, const char *what);

/* sqlite_where.c */

/* One bound value of a pre-filter. */
typedef struct sq_bind {
    int is_num;
    double num;
    char *text; /* owned */
} sq_bind;

/*
 * A WHERE clause that every document matching the query satisfies (it may let more through;
 * sb_query_match then decides). Built from the filters that can be expressed exactly enough.
 */
typedef struct sq_where {
    char *sql; /* owned; "" when nothing narrows */
    size_t len, cap;
    sq_bind *binds;
    size_t n_binds, cap_binds;
} sq_where;

sb_err sq_where_build(const sq_store *s, const char *kind, const sb_query *q, sq_where *w);

/* A string the query engine compares byte-wise only: not a number, time or boolean word. */
int sq_plain_string(const cJSON *v);

/* sqlite_where.c: appends text / a bound value to w; nonzero when out of memory. */
int sq_where_emit(sq_where *w, const char *text);
int sq_where_text(sq_where *w, const char *text);

/* ---- sqlite_index.c: the equality index over storage.sqlite.index paths ---- */

#define SQ_KEY_MAX 256 /* longest bucket key indexed */

/* Creates the index tables and rebuilds them when the indexed paths changed since the last
 * open (one transaction). */
sb_err sq_index_open(sq_store *s, const sb_strlist *paths, sb_errmsg *em);
void sq_index_free_spec(sq_store *s);
/* Keeps doc's index entries (after its row was written). Outside a transaction it only checks:
 * *need_txn tells that entries change and the put must be redone inside one. */
sb_err sq_index_put(sq_store *s, const char *kind, const char *id, const cJSON *doc, bool in_txn,
                    bool *need_txn, sb_errmsg *em);
/* Drops the entries of kind/id (inside the caller's transaction). */
sb_err sq_index_delete(sq_store *s, const char *kind, const char *id, sb_errmsg *em);

typedef enum sq_use {
    SQ_USE_NONE = 0, /* the filter cannot use the index */
    SQ_USE_EXACT     /* the ids under its buckets are exactly its matches */
} sq_use;
/* How filter f can use the index; buckets gets its values' bucket keys (*n of them, at most
 * max). */
sq_use sq_index_use(const sq_store *s, const sb_filter *f, char buckets[][SQ_KEY_MAX + 8],
                    size_t max, size_t *n);
/* Entries of a path without '*' besides its buckets: the value is missing, or an array, object
 * or too long a scalar. With them every document has an entry there, and one whose entries
 * there are all plain-string buckets ("s:", sorting byte-wise like the engine's strings) holds
 * one string. */
#define SQ_MARK_MISSING "#-"
#define SQ_MARK_OTHER   "#o"
/* Whether q is one sort key that is such a path, with a limit: the index can order it when the
 * matches all have one plain string there. */
bool sq_index_sortable(const sq_store *s, const sb_query *q);
/* Appends to w a SELECT of the ids under f's buckets (f usable, see sq_index_use); nonzero when
 * out of memory. */
int sq_index_ids_sql(const sq_store *s, const char *kind, const sb_filter *f, sq_where *w);
/* Appends to w "EXISTS (...)": whether the id in the column id is under f's buckets (a primary
 * key lookup per bucket). */
int sq_index_has_sql(const sq_store *s, const char *kind, const sb_filter *f, const char *id,
                     sq_where *w);
void sq_where_free(sq_where *w);

/* Binds w's values starting at parameter index first (1-based). */
int sq_where_bind(const sq_where *w, sqlite3_stmt *st, int first);

/* Registers REGEXP (POSIX extended, case-insensitive) on a connection. */
int sq_regexp_register(sqlite3 *db);

#endif
