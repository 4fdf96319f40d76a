/*
 * store.h - the configuration store: one interface, several backends (storage/<name>/).
 *
 * Documents are JSON objects (cJSON) with a string "id", kept per entity kind ("gateway",
 * "field", ... or internal kinds starting with '_'). Every call is safe from several threads.
 * Functions take an optional sb_errmsg that names the problem on failure.
 *
 * Queries use MyController's filter form
 *     [{"k":"labels.room","o":"eq","v":"hall"}, {"k":"current.value","o":"gt","v":20}]
 * (all filters must hold) with key paths into nested objects and the operators
 *     eq ne in nin gt lt gte lte exists regex
 * Comparison rules, the same in every backend:
 *   - a number compares with a number numerically; a string that is a number compares with a
 *     number numerically too (query parameters arrive as text);
 *   - two strings that are both RFC 3339 timestamps compare as times; other strings compare
 *     byte-wise; booleans compare as booleans; values of different kinds are never equal and
 *     never ordered (gt/lt/gte/lte are false);
 *   - in/nin take an array of values; a document value that is an array matches eq/in when
 *     any of its elements does;
 *   - exists takes true/false; regex is a POSIX extended regular expression, case-insensitive,
 *     matched against string values (and the string elements of an array value) only;
 *   - an object or array query value is equal to a document value that is deeply equal;
 *   - a missing key matches only ne, nin and exists:false.
 * Sorting takes several keys [{"f":"name","o":"asc"},...]. Every value has a place: missing <
 * null < numbers and numeric strings (by value) < timestamps (by time) < other strings
 * (byte-wise) < false < true < objects < arrays, so missing values sort first ascending and last
 * descending; ties keep the order of id, ascending (so paging is stable). Without sort keys
 * documents come in id order. docs/storage.md has the full rules and examples.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/registry.h"

typedef enum sb_filter_op {
    SB_OP_EQ = 0,
    SB_OP_NE,
    SB_OP_IN,
    SB_OP_NIN,
    SB_OP_GT,
    SB_OP_LT,
    SB_OP_GTE,
    SB_OP_LTE,
    SB_OP_EXISTS,
    SB_OP_REGEX,
} sb_filter_op;

typedef struct sb_filter {
    char *key; /* dotted key path, owned */
    sb_filter_op op;
    cJSON *value; /* owned */
    void *priv;   /* compiled form (regex), owned by the query */
} sb_filter;

typedef struct sb_sort {
    char *key; /* owned */
    bool desc;
} sb_sort;

typedef struct sb_query {
    sb_filter *filters;
    size_t n_filters;
    sb_sort *sort;
    size_t n_sort;
    int64_t limit;  /* 0 = no limit */
    int64_t offset; /* >= 0 */
} sb_query;

/*
 * Builds a query from the JSON forms (either may be NULL): filters
 * [{"k":..,"o":..,"v":..}] and sort [{"f":..,"o":"asc|desc"}]. Bad parts fail naming them
 * ("filter 2: unknown operator 'like'"). Free with sb_query_free().
 */
sb_err sb_query_from_json(const cJSON *filters, const cJSON *sort, sb_query *out, sb_errmsg *em);

/* The same from text (JSON-stringified, as MyController's web console sends them). */
sb_err sb_query_parse(const char *filters, const char *sort, sb_query *out, sb_errmsg *em);

/* Adds one filter (key and value copied). */
sb_err sb_query_add(sb_query *q, const char *key, sb_filter_op op, const cJSON *value,
                    sb_errmsg *em);

void sb_query_free(sb_query *q);

/* Whether doc satisfies every filter (the reference semantics above). */
bool sb_query_match(const sb_query *q, const cJSON *doc);

/* Orders two documents by the query's sort keys, then by id. */
int sb_query_compare(const sb_query *q, const cJSON *a, const cJSON *b);

const char *sb_filter_op_name(sb_filter_op op);
sb_err sb_filter_op_parse(const char *name, sb_filter_op *out);

/*
 * One operation of an atomic batch. SB_STORE_CHECK changes nothing: it makes the whole batch
 * fail with SB_ERR_CONFLICT (nothing applied) unless the stored document kind/id holds every
 * top-level key of doc with an equal value (sb_store_doc_matches), or, with doc NULL, unless
 * no document kind/id exists. Checks see the store as it was before the batch and are
 * evaluated inside the batch's transaction, so writers in
 * other processes cannot slip in between the check and the writes (compare-and-set; the
 * processor fences its stream positions with it, docs/scaling.md).
 */
typedef enum sb_store_op_type {
    SB_STORE_PUT = 0,
    SB_STORE_DELETE,
    SB_STORE_CHECK
} sb_store_op_type;
typedef struct sb_store_op {
    sb_store_op_type type;
    const char *kind;
    const cJSON *doc; /* PUT: borrowed, must have a string "id"; CHECK: expected keys or NULL */
    const char *id;   /* DELETE, CHECK */
} sb_store_op;

/* Whether stored (NULL = absent) satisfies the CHECK expectation expect (see above). */
bool sb_store_doc_matches(const cJSON *expect, const cJSON *stored);

typedef struct sb_store sb_store;

/* A backend: a const struct of callbacks, registered in sb_store_plugins[]. */
typedef struct sb_store_plugin {
    sb_plugin_info info;
    sb_err (*open)(const sb_config *cfg, sb_store **out, sb_errmsg *em);
    sb_err (*put)(sb_store *s, const char *kind, const cJSON *doc, sb_errmsg *em);
    sb_err (*get)(sb_store *s, const char *kind, const char *id, cJSON **out, sb_errmsg *em);
    sb_err (*remove)(sb_store *s, const char *kind, const char *const *ids, size_t n,
                     size_t *deleted, sb_errmsg *em);
    sb_err (*remove_where)(sb_store *s, const char *kind, const sb_query *q, size_t *deleted,
                           sb_errmsg *em);
    sb_err (*find)(sb_store *s, const char *kind, const sb_query *q, cJSON **out, sb_errmsg *em);
    sb_err (*count)(sb_store *s, const char *kind, const sb_query *q, size_t *n, sb_errmsg *em);
    sb_err (*batch)(sb_store *s, const sb_store_op *ops, size_t n, sb_errmsg *em);
    sb_err (*kinds)(sb_store *s, cJSON **out, sb_errmsg *em);
    void (*close)(sb_store *s);
} sb_store_plugin;

/* Every backend's handle begins with this. */
struct sb_store {
    const sb_store_plugin *plugin;
};

extern const sb_store_plugin *const sb_store_plugins[];

/*
 * Opens the backend named by cfg->storage.type with its section of the config. On SB_OK a
 * non-empty em->text is a warning for the caller to log (the memory store reports a torn
 * journal tail it skipped this way); em is cleared first.
 */
sb_err sb_store_open(const sb_config *cfg, sb_store **out, sb_errmsg *em);

/* Insert or replace by doc["id"] (a non-empty string). The document is copied. */
sb_err sb_store_put(sb_store *s, const char *kind, const cJSON *doc, sb_errmsg *em);

/* A copy of the document (caller frees with cJSON_Delete), or SB_ERR_NOTFOUND. */
sb_err sb_store_get(sb_store *s, const char *kind, const char *id, cJSON **out, sb_errmsg *em);

/* Deletes by ids; *deleted (may be NULL) counts those that existed. */
sb_err sb_store_delete(sb_store *s, const char *kind, const char *const *ids, size_t n,
                       size_t *deleted, sb_errmsg *em);

/* Deletes every document the query's filters match (sort/limit ignored). */
sb_err sb_store_delete_where(sb_store *s, const char *kind, const sb_query *q, size_t *deleted,
                             sb_errmsg *em);

/*
 * Finds documents: *out is {"count": <matches before paging>, "limit", "offset",
 * "data": [copies]}; q may be NULL (everything). Caller frees with cJSON_Delete.
 */
sb_err sb_store_find(sb_store *s, const char *kind, const sb_query *q, cJSON **out, sb_errmsg *em);

sb_err sb_store_count(sb_store *s, const char *kind, const sb_query *q, size_t *n, sb_errmsg *em);

/* Applies puts and deletes of any kinds atomically: all become durable together, or none. */
sb_err sb_store_batch(sb_store *s, const sb_store_op *ops, size_t n, sb_errmsg *em);

/* The kinds that hold documents, as a JSON array of strings (for backup). */
sb_err sb_store_kinds(sb_store *s, cJSON **out, sb_errmsg *em);

/* Closes and frees; accepts NULL. */
void sb_store_close(sb_store *s);

#endif
