/*
 * query_index.h - helpers for backends that keep their own secondary indexes (storage/memory).
 * Part of sb_store_common with the query engine.
 */
#ifndef SB_QUERY_INDEX_H
#define SB_QUERY_INDEX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/*
 * The bucket key of a scalar for an equality index: every value that an "eq" filter value v can
 * match has the same key as v (numbers and numeric strings by value, timestamps by time, other
 * strings by text, booleans, null), so looking up the key of v gives a superset of the matches;
 * the caller still runs sb_query_match() on each candidate. Distinct values may share a key
 * (long strings are truncated to len). Writes a NUL-terminated key into buf; false for objects
 * and arrays, which are not indexed.
 */
bool sb_query_index_key(const cJSON *v, char *buf, size_t len);

/*
 * Sort keys extracted once per document, so sorting n documents does not walk key paths
 * O(n log n) times. vals has q->n_sort entries and borrows from doc.
 */
typedef struct sb_sort_val {
    const cJSON *v; /* NULL = missing */
    int rank;       /* the kind of value, in sort order */
    double num;
    int64_t ms;
} sb_sort_val;

void sb_query_sort_values(const sb_query *q, const cJSON *doc, sb_sort_val *vals);

/* The order of sb_query_compare() from extracted values and the documents' ids. */
int sb_query_compare_values(const sb_query *q, const sb_sort_val *a, const char *id_a,
                            const sb_sort_val *b, const char *id_b);

#endif
