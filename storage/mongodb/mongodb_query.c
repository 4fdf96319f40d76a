/*
 * mongodb_query.c - sb_query filters as a MongoDB query.
 *
 * MongoDB's own comparison differs from store.h in places: it never compares a number with a
 * numeric string, it compares timestamps as text, its $regex is PCRE, and $gt on an array field
 * matches when any element does. So a filter is translated either exactly, or to a wider
 * MongoDB condition that keeps every document the rules accept (the results are then checked
 * with sb_query_match, the shared engine):
 *   exact:  eq/in with plain strings and booleans, eq null, exists;
 *   wider:  numbers and numeric strings ($or of the number and any numeric-looking string),
 *           timestamps (any string), ranges, regex ($regex with 'i', re-checked as POSIX),
 *           objects and arrays as values (present), ne/nin (no condition).
 * One known difference remains in the exact forms: MongoDB descends into arrays of objects on
 * a dotted path ("a.b" matches {"a":[{"b":..}]}) where sb_json_path does not.
 */
#include "storage/mongodb/mongodb_store.h"

#include <string.h>

#include "storage/query_priv.h"

#define NUMERIC_TEXT "^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$"

typedef enum { V_PLAIN, V_NUM, V_TIME, V_BOOL, V_NULL, V_OTHER } vclass;

static vclass classify(const cJSON *v, double *num)
{
    int64_t ms;
    if (cJSON_IsNumber(v)) {
        *num = v->valuedouble;
        return V_NUM;
    }
    if (cJSON_IsString(v)) {
        if (sb_str_number(v->valuestring, num))
            return V_NUM;
        return sb_str_time(v->valuestring, &ms) ? V_TIME : V_PLAIN;
    }
    if (cJSON_IsBool(v))
        return V_BOOL;
    return cJSON_IsNull(v) ? V_NULL : V_OTHER;
}

/* {key: {$exists: true}} */
static void present(bson_t *b, const char *key)
{
    bson_t sub;
    BSON_APPEND_DOCUMENT_BEGIN(b, key, &sub);
    BSON_APPEND_BOOL(&sub, "$exists", true);
    bson_append_document_end(b, &sub);
}

/* {$or: [{key: {op: n}}, {key: {$regex: numeric text}}]} - op "$eq", "$gt" ... */
static void numeric(bson_t *b, const char *key, const char *op, double n)
{
    bson_t or, c1, c2, s1, s2;
    BSON_APPEND_ARRAY_BEGIN(b, "$or", & or);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &c1);
    BSON_APPEND_DOCUMENT_BEGIN(&c1, key, &s1);
    BSON_APPEND_DOUBLE(&s1, op, n);
    bson_append_document_end(&c1, &s1);
    bson_append_document_end(& or, &c1);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &c2);
    BSON_APPEND_DOCUMENT_BEGIN(&c2, key, &s2);
    BSON_APPEND_REGEX(&s2, "$regex", NUMERIC_TEXT, "");
    bson_append_document_end(&c2, &s2);
    bson_append_document_end(& or, &c2);
    bson_append_array_end(b, & or);
}

/* eq (one value) or in (an array of values); each is one $and clause of its own. */
static bool eq_in(bson_t *and, const char *idx, const char *key, const cJSON *vals, bool is_in)
{
    bool exact = true;
    bson_t clause, sub, arr;
    BSON_APPEND_DOCUMENT_BEGIN(and, idx, &clause);
    BSON_APPEND_ARRAY_BEGIN(&clause, "$or", &arr);
    int i = 0;
    const cJSON *v = is_in ? (cJSON_IsArray(vals) ? vals->child : NULL) : vals;
    for (; v; v = is_in ? v->next : NULL, i++) {
        char n[16];
        double num = 0;
        snprintf(n, sizeof(n), "%d", i);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, n, &sub);
        switch (classify(v, &num)) {
        case V_PLAIN:
            BSON_APPEND_UTF8(&sub, key, v->valuestring);
            break;
        case V_BOOL:
            BSON_APPEND_BOOL(&sub, key, cJSON_IsTrue(v));
            break;
        case V_NULL: {
            bson_t t;
            BSON_APPEND_DOCUMENT_BEGIN(&sub, key, &t);
            BSON_APPEND_UTF8(&t, "$type", "null");
            bson_append_document_end(&sub, &t);
            break;
        }
        case V_NUM:
            numeric(&sub, key, "$eq", num);
            exact = false;
            break;
        default: /* times: any string; objects, arrays: present */
            present(&sub, key);
            exact = false;
            break;
        }
        bson_append_document_end(&arr, &sub);
    }
    if (i == 0) { /* in []: matches nothing */
        BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &sub);
        BSON_APPEND_BOOL(&sub, "_id", false);
        bson_append_document_end(&arr, &sub);
    }
    bson_append_array_end(&clause, &arr);
    bson_append_document_end(and, &clause);
    return exact;
}

static bool one(bson_t *and, const char *idx, const sb_filter *f)
{
    static const char *const range_ops[] = {
        [SB_OP_GT] = "$gte", [SB_OP_GTE] = "$gte", [SB_OP_LT] = "$lte", [SB_OP_LTE] = "$lte"};
    bson_t clause, sub;
    double num = 0;
    if (f->op == SB_OP_EQ || f->op == SB_OP_IN)
        return eq_in(and, idx, f->key, f->value, f->op == SB_OP_IN);
    if (f->op == SB_OP_NE || f->op == SB_OP_NIN)
        return false;
    BSON_APPEND_DOCUMENT_BEGIN(and, idx, &clause);
    bool exact = false;
    if (f->op == SB_OP_EXISTS) {
        BSON_APPEND_DOCUMENT_BEGIN(&clause, f->key, &sub);
        BSON_APPEND_BOOL(&sub, "$exists", cJSON_IsTrue(f->value));
        bson_append_document_end(&clause, &sub);
        exact = true;
    } else if (f->op == SB_OP_REGEX && cJSON_IsString(f->value)) {
        BSON_APPEND_DOCUMENT_BEGIN(&clause, f->key, &sub);
        BSON_APPEND_REGEX(&sub, "$regex", f->value->valuestring, "i");
        bson_append_document_end(&clause, &sub);
    } else if (f->op >= SB_OP_GT && f->op <= SB_OP_LTE && classify(f->value, &num) == V_NUM) {
        numeric(&clause, f->key, range_ops[f->op], num); /* inclusive: the engine decides */
    } else {
        present(&clause, f->key);
    }
    bson_append_document_end(and, &clause);
    return exact;
}

bool mg_query_filter(const sb_query *q, bson_t *filter, bool *exact)
{
    *exact = true;
    if (!q || q->n_filters == 0)
        return true;
    bson_t and;
    BSON_APPEND_ARRAY_BEGIN(filter, "$and", &and);
    for (size_t i = 0; i < q->n_filters; i++) {
        char idx[24];
        snprintf(idx, sizeof(idx), "%zu", i);
        if (!one(&and, idx, &q->filters[i]))
            *exact = false;
    }
    /* An empty $and is an error for the server: ne/nin alone add nothing. */
    if (bson_count_keys(&and) == 0) {
        bson_t t;
        BSON_APPEND_DOCUMENT_BEGIN(&and, "0", &t);
        bson_append_document_end(&and, &t);
    }
    return bson_append_array_end(filter, &and);
}
