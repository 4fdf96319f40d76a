/*
 * fuzz_store_query.c - fuzzes the store query engine (storage/query*.c).
 *
 * Input: "<filters JSON>\n<sort JSON>" (the sort line is optional). A parse failure must come
 * with a message; a parsed query is matched against fixed documents and must satisfy:
 *   - sorting is a total order: antisymmetric and transitive, and sb_query_compare agrees with
 *     sb_query_compare_values;
 *   - a single eq/in/exists filter and its complement (ne/nin/exists:!v) split the documents;
 *   - a document an eq filter matches has the filter value's index key (query_index.h), so the
 *     memory store's equality indexes never miss a match.
 * Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "storage/query_index.h"
#include "storage/store.h"

static const char *const doc_text[] = {
    "{\"id\":\"a\",\"n\":5,\"s\":\"5\",\"t\":\"2026-01-01T10:00:00Z\",\"b\":true,\"z\":null,"
    "\"arr\":[1,\"x\",\"2026-01-01T11:00:00+01:00\",[1]],\"o\":{\"k\":\"v\",\"n\":-0.0}}",
    "{\"id\":\"b\",\"n\":\"10\",\"s\":\"abc\",\"t\":\"2026-01-01T09:00:00.5Z\",\"b\":false,"
    "\"arr\":[],\"o\":{\"k\":\"V\"}}",
    "{\"id\":\"c\",\"n\":1e300,\"s\":\"\",\"t\":\"not a time\",\"arr\":\"x\",\"o\":[1,2]}",
    "{\"id\":\"d\",\"n\":-1.5,\"s\":\"-1.5\",\"t\":\"2026-01-01T10:00:00.000+00:00\","
    "\"arr\":[\"5\",5,true,null,{\"k\":1}],\"o\":null}",
    "{\"id\":\"e\"}",
    "{\"id\":\"f\",\"n\":0,\"s\":\"0e0\",\"t\":20260101,\"b\":\"true\",\"arr\":[0,-0,\"0\"],"
    "\"o\":{\"k\":{\"deep\":[\"x\"]}}}",
};
enum { N_DOCS = sizeof(doc_text) / sizeof(doc_text[0]) };
static cJSON *docs[N_DOCS];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_store_query: %s\n", what);
        abort();
    }
}

static int sgn(int x)
{
    return x < 0 ? -1 : x > 0;
}

static void check_order(const sb_query *q)
{
    sb_sort_val vals[N_DOCS][8];
    bool with_vals = q->n_sort <= 8;
    for (int i = 0; with_vals && i < N_DOCS; i++)
        sb_query_sort_values(q, docs[i], vals[i]);
    int c[N_DOCS][N_DOCS];
    for (int i = 0; i < N_DOCS; i++) {
        for (int j = 0; j < N_DOCS; j++) {
            c[i][j] = sgn(sb_query_compare(q, docs[i], docs[j]));
            check((i == j) == (c[i][j] == 0), "compare: only a document equals itself");
            if (with_vals)
                check(sgn(sb_query_compare_values(q, vals[i], sb_json_str(docs[i], "id", ""),
                                                  vals[j], sb_json_str(docs[j], "id", ""))) ==
                          c[i][j],
                      "compare and compare_values disagree");
        }
    }
    for (int i = 0; i < N_DOCS; i++)
        for (int j = 0; j < N_DOCS; j++) {
            check(c[i][j] == -c[j][i], "compare is not antisymmetric");
            for (int k = 0; k < N_DOCS; k++)
                if (c[i][j] < 0 && c[j][k] < 0)
                    check(c[i][k] < 0, "compare is not transitive");
        }
}

static bool complement(sb_filter_op op, const cJSON *v, sb_filter_op *out, cJSON **value)
{
    *value = cJSON_Duplicate(v, true);
    if (op == SB_OP_EQ || op == SB_OP_IN) {
        *out = op == SB_OP_EQ ? SB_OP_NE : SB_OP_NIN;
        return true;
    }
    if (op != SB_OP_EXISTS)
        return false;
    bool want = cJSON_IsTrue(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0);
    cJSON_Delete(*value);
    *value = cJSON_CreateBool(!want);
    *out = SB_OP_EXISTS;
    return true;
}

static bool has_key(const cJSON *v, const char *key)
{
    char k[128];
    if (sb_query_index_key(v, k, sizeof(k)) && strcmp(k, key) == 0)
        return true;
    for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e; e = e->next)
        if (sb_query_index_key(e, k, sizeof(k)) && strcmp(k, key) == 0)
            return true;
    return false;
}

static void check_single(const sb_query *q)
{
    const sb_filter *f = &q->filters[0];
    sb_filter_op op;
    cJSON *v = NULL;
    if (complement(f->op, f->value, &op, &v)) {
        sb_query neg = {0};
        check(sb_query_add(&neg, f->key, op, v, NULL) == SB_OK, "complement does not parse");
        for (int i = 0; i < N_DOCS; i++)
            check(sb_query_match(q, docs[i]) != sb_query_match(&neg, docs[i]),
                  "a filter and its complement overlap or leave a gap");
        sb_query_free(&neg);
    }
    cJSON_Delete(v);
    char key[128];
    if (f->op == SB_OP_EQ && sb_query_index_key(f->value, key, sizeof(key)))
        for (int i = 0; i < N_DOCS; i++)
            if (sb_query_match(q, docs[i]))
                check(has_key(sb_json_path(docs[i], f->key), key),
                      "eq matched a document outside its index bucket");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!docs[0])
        for (int i = 0; i < N_DOCS; i++)
            docs[i] = cJSON_Parse(doc_text[i]);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = memchr(text, '\n', size);
    const char *sort = NULL;
    if (nl) {
        *nl = '\0';
        sort = nl + 1;
    }
    sb_query q;
    sb_errmsg em = {{0}};
    if (sb_query_parse(text, sort, &q, &em) != SB_OK) {
        check(em.text[0] != '\0', "a parse error without a message");
        free(text);
        return 0;
    }
    for (int i = 0; i < N_DOCS; i++)
        (void)sb_query_match(&q, docs[i]);
    check_order(&q);
    if (q.n_filters == 1)
        check_single(&q);
    sb_query_free(&q);
    free(text);
    return 0;
}
