/*
 * query_priv.h - the compiled form of a query, shared by storage/query.c (parsing) and
 * storage/query_match.c (evaluation). Not part of the store contract; backends use store.h and
 * query_index.h.
 */
#ifndef SB_QUERY_PRIV_H
#define SB_QUERY_PRIV_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/store.h"

/* A query value, classified once so matching 100k documents does not re-parse it. */
typedef struct sb_qval {
    const cJSON *j; /* borrowed from sb_filter.value */
    bool is_num;    /* a number, or a string that is a number */
    bool is_time;   /* a string that is an RFC 3339 timestamp */
    double num;
    int64_t ms;
} sb_qval;

/* sb_filter.priv: owned by the query, freed by sb_query_free(). */
typedef struct sb_qcomp {
    sb_qval v;    /* eq ne gt lt gte lte */
    sb_qval *set; /* in nin: one per element of the array value */
    size_t n_set;
    bool want;   /* exists */
    bool has_re; /* regex */
    regex_t re;
    char **segs; /* the key path split at '.', one allocation */
    size_t n_segs;
} sb_qcomp;

/* Classifies v (numbers, numeric strings, timestamps). */
void sb_qval_init(sb_qval *q, const cJSON *v);

/* Whether s is a decimal number ([+-]digits[.digits][e[+-]digits]); *out gets its value. */
bool sb_str_number(const char *s, double *out);

/* Whether s is an RFC 3339 timestamp; *ms gets its time. Cheap rejection of other strings. */
bool sb_str_time(const char *s, int64_t *ms);

#endif
