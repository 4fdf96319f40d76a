/*
 * params.c - query parameters: the list type and their translation into a store query
 * (paging, MyController's JSON-stringified sortBy/filter, plain key=value eq filters).
 * This is a parser of outside input: tests/fuzz/api_params drives api_params_query().
 */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 50
#define LIMIT_MAX     1000

void api_params_free(api_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->keys[i]);
        free(p->values[i]);
    }
    free(p->keys);
    free(p->values);
    memset(p, 0, sizeof(*p));
}

sb_err api_params_add(api_params *p, const char *key, const char *value)
{
    char **k = realloc(p->keys, (p->n + 1) * sizeof(*k));
    if (!k)
        return SB_ERR_NOMEM;
    p->keys = k;
    char **v = realloc(p->values, (p->n + 1) * sizeof(*v));
    if (!v)
        return SB_ERR_NOMEM;
    p->values = v;
    char *kc = strdup(key), *vc = strdup(value ? value : "");
    if (!kc || !vc) {
        free(kc);
        free(vc);
        return SB_ERR_NOMEM;
    }
    p->keys[p->n] = kc;
    p->values[p->n] = vc;
    p->n++;
    return SB_OK;
}

const char *api_params_get(const api_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

/* A decimal integer in [lo, hi], nothing else. */
static sb_err parse_int(const char *name, const char *text, int64_t lo, int64_t hi, int64_t *out,
                        sb_errmsg *em)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi)
        return sb_fail(em, SB_ERR_INVALID, "%s: expected an integer from %lld to %lld, got '%.40s'",
                       name, (long long)lo, (long long)hi, text);
    *out = v;
    return SB_OK;
}

/* Key paths of plain filters: letters, digits, '_', '-' and non-empty dot-separated parts. */
static bool valid_key(const char *k)
{
    if (!*k || *k == '.' || strlen(k) > 256)
        return false;
    for (const char *c = k; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.';
        if (!ok || (*c == '.' && (c[1] == '.' || c[1] == '\0')))
            return false;
    }
    return true;
}

static bool reserved(const char *k)
{
    return strcmp(k, "limit") == 0 || strcmp(k, "offset") == 0 || strcmp(k, "sortBy") == 0 ||
           strcmp(k, "filter") == 0;
}

/* key=value as an eq filter; "true"/"false" also match the booleans (an in filter). */
static sb_err add_plain(sb_query *q, const char *key, const char *value, sb_errmsg *em)
{
    if (!valid_key(key))
        return sb_fail(em, SB_ERR_INVALID,
                       "query parameter '%.64s': not a key path (letters, digits, _ - .)", key);
    bool tf = strcmp(value, "true") == 0 || strcmp(value, "false") == 0;
    cJSON *v = tf ? cJSON_CreateArray() : cJSON_CreateString(value);
    if (v && tf) {
        cJSON_AddItemToArray(v, cJSON_CreateString(value));
        cJSON_AddItemToArray(v, cJSON_CreateBool(value[0] == 't'));
    }
    if (!v)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = sb_query_add(q, key, tf ? SB_OP_IN : SB_OP_EQ, v, em);
    cJSON_Delete(v);
    return rc;
}

sb_err api_params_query(const api_params *p, sb_query *q, sb_errmsg *em)
{
    memset(q, 0, sizeof(*q));
    const char *filter = api_params_get(p, "filter"), *sort = api_params_get(p, "sortBy");
    sb_err rc =
        sb_query_parse(filter && *filter ? filter : NULL, sort && *sort ? sort : NULL, q, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "%s", "filter/sortBy");
    q->limit = LIMIT_DEFAULT;
    const char *s = api_params_get(p, "limit");
    if (s && (rc = parse_int("limit", s, 1, LIMIT_MAX, &q->limit, em)))
        goto fail;
    s = api_params_get(p, "offset");
    if (s && (rc = parse_int("offset", s, 0, INT64_MAX / 2, &q->offset, em)))
        goto fail;
    for (size_t i = 0; i < p->n; i++) {
        if (reserved(p->keys[i]))
            continue;
        if ((rc = add_plain(q, p->keys[i], p->values[i], em)))
            goto fail;
    }
    return SB_OK;
fail:
    sb_query_free(q);
    memset(q, 0, sizeof(*q));
    return rc;
}
