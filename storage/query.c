/*
 * query.c - building queries: the JSON and text forms of filters and sort keys, and the
 * compiled form (classified values, regex compiled once, key path split) that
 * storage/query_match.c evaluates. Errors name the part: "filter 2: unknown operator 'like'".
 */
#include "storage/query_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static const char *const op_names[] = {
    [SB_OP_EQ] = "eq",         [SB_OP_NE] = "ne",       [SB_OP_IN] = "in",   [SB_OP_NIN] = "nin",
    [SB_OP_GT] = "gt",         [SB_OP_LT] = "lt",       [SB_OP_GTE] = "gte", [SB_OP_LTE] = "lte",
    [SB_OP_EXISTS] = "exists", [SB_OP_REGEX] = "regex",
};

const char *sb_filter_op_name(sb_filter_op op)
{
    if ((unsigned)op >= SB_ARRAY_LEN(op_names))
        return "?";
    return op_names[op];
}

sb_err sb_filter_op_parse(const char *name, sb_filter_op *out)
{
    for (size_t i = 0; name && i < SB_ARRAY_LEN(op_names); i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *out = (sb_filter_op)i;
            return SB_OK;
        }
    }
    return SB_ERR_INVALID;
}

static void comp_free(sb_qcomp *c)
{
    if (!c)
        return;
    if (c->has_re)
        regfree(&c->re);
    free(c->set);
    free(c->segs);
    free(c);
}

void sb_query_free(sb_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n_filters; i++) {
        free(q->filters[i].key);
        cJSON_Delete(q->filters[i].value);
        comp_free(q->filters[i].priv);
    }
    for (size_t i = 0; i < q->n_sort; i++)
        free(q->sort[i].key);
    free(q->filters);
    free(q->sort);
    memset(q, 0, sizeof(*q));
}

/* Splits key at '.' into one allocation: the pointer array followed by the copied text. */
static bool split_key(sb_qcomp *c, const char *key)
{
    size_t n = 1, len = strlen(key);
    for (const char *p = key; *p; p++)
        n += *p == '.';
    char **segs = malloc(n * sizeof(char *) + len + 1);
    if (!segs)
        return false;
    char *text = (char *)(segs + n);
    memcpy(text, key, len + 1);
    segs[0] = text;
    for (size_t i = 1; *text; text++) {
        if (*text == '.') {
            *text = '\0';
            segs[i++] = text + 1;
        }
    }
    c->segs = segs;
    c->n_segs = n;
    return true;
}

/*
 * Filters come from API users: glibc's regcomp expands repetitions into a tree whose size can
 * explode (a pattern of 100 '+' took gigabytes). Patterns are bounded: at most 256 bytes, 16
 * repetition operators, and no repetition applied to a repetition ("a++", "a*{2}").
 */
#define REGEX_MAX_LEN  256
#define REGEX_MAX_REPS 16

static bool regex_tame(const char *pat, sb_errmsg *em)
{
    size_t len = strlen(pat);
    if (len > REGEX_MAX_LEN)
        return sb_fail(em, SB_ERR_INVALID, "regex longer than %d bytes", REGEX_MAX_LEN), false;
    int reps = 0;
    bool after_rep = false;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < len) {
            i++;
            after_rep = false;
            continue;
        }
        bool rep = c == '*' || c == '+' || c == '?' || c == '{';
        if (rep && after_rep)
            return sb_fail(em, SB_ERR_INVALID, "regex: a repetition of a repetition at byte %zu",
                           i),
                   false;
        if (rep && ++reps > REGEX_MAX_REPS)
            return sb_fail(em, SB_ERR_INVALID, "regex: more than %d repetitions", REGEX_MAX_REPS),
                   false;
        if (c == '{') { /* skip the bounds */
            while (i + 1 < len && pat[i + 1] != '}')
                i++;
            i += i + 1 < len;
        }
        after_rep = rep;
    }
    return true;
}

static sb_err compile_value(sb_qcomp *c, sb_filter_op op, const cJSON *v, sb_errmsg *em)
{
    const char *name = sb_filter_op_name(op);
    switch (op) {
    case SB_OP_IN:
    case SB_OP_NIN: {
        if (!cJSON_IsArray(v))
            return sb_fail(em, SB_ERR_INVALID, "'%s' needs an array value", name);
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        c->set = calloc(n ? n : 1, sizeof(sb_qval));
        if (!c->set)
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        for (const cJSON *e = v->child; e; e = e->next)
            sb_qval_init(&c->set[i++], e);
        c->n_set = n;
        return SB_OK;
    }
    case SB_OP_EXISTS:
        if (cJSON_IsBool(v))
            c->want = cJSON_IsTrue(v);
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0)
            c->want = true;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "false") == 0)
            c->want = false;
        else
            return sb_fail(em, SB_ERR_INVALID, "'exists' needs true or false");
        return SB_OK;
    case SB_OP_REGEX: {
        if (!cJSON_IsString(v))
            return sb_fail(em, SB_ERR_INVALID, "'regex' needs a string value");
        if (!regex_tame(v->valuestring, em))
            return SB_ERR_INVALID;
        int rc = regcomp(&c->re, v->valuestring, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &c->re, why, sizeof(why));
            return sb_fail(em, SB_ERR_INVALID, "bad regex '%s': %s", v->valuestring, why);
        }
        c->has_re = true;
        return SB_OK;
    }
    default:
        if (cJSON_IsInvalid(v))
            return sb_fail(em, SB_ERR_INVALID, "'%s' needs a value", name);
        sb_qval_init(&c->v, v);
        return SB_OK;
    }
}

sb_err sb_query_add(sb_query *q, const char *key, sb_filter_op op, const cJSON *value,
                    sb_errmsg *em)
{
    if (!q || !key || !*key)
        return sb_fail(em, SB_ERR_INVALID, "filter key must be a non-empty string");
    if ((unsigned)op >= SB_ARRAY_LEN(op_names))
        return sb_fail(em, SB_ERR_INVALID, "unknown operator %d", (int)op);
    if (!value && op != SB_OP_EXISTS)
        return sb_fail(em, SB_ERR_INVALID, "'%s' needs a value", sb_filter_op_name(op));
    sb_filter f = {.op = op};
    sb_qcomp *c = calloc(1, sizeof(*c));
    f.priv = c;
    f.key = strdup(key);
    f.value = value ? cJSON_Duplicate(value, true) : cJSON_CreateBool(true);
    if (!c || !f.key || !f.value || !split_key(c, key)) {
        comp_free(c);
        free(f.key);
        cJSON_Delete(f.value);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    sb_err err = compile_value(c, op, f.value, em);
    sb_filter *grown = err ? NULL : realloc(q->filters, (q->n_filters + 1) * sizeof(sb_filter));
    if (!grown) {
        comp_free(c);
        free(f.key);
        cJSON_Delete(f.value);
        return err ? err : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    q->filters = grown;
    q->filters[q->n_filters++] = f;
    return SB_OK;
}

static sb_err parse_filter(sb_query *q, const cJSON *f, size_t i, sb_errmsg *em)
{
    if (!cJSON_IsObject(f))
        return sb_fail(em, SB_ERR_INVALID, "filter %zu: expected an object {\"k\",\"o\",\"v\"}", i);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(f, "k");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(f, "o");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "v");
    if (!cJSON_IsString(k) || !k->valuestring[0])
        return sb_fail(em, SB_ERR_INVALID, "filter %zu: 'k' must be a non-empty string", i);
    sb_filter_op op = SB_OP_EQ;
    if (o && !cJSON_IsString(o))
        return sb_fail(em, SB_ERR_INVALID, "filter %zu: 'o' must be a string", i);
    if (o && sb_filter_op_parse(o->valuestring, &op) != SB_OK)
        return sb_fail(em, SB_ERR_INVALID, "filter %zu: unknown operator '%s'", i, o->valuestring);
    if (!v && op != SB_OP_EXISTS)
        return sb_fail(em, SB_ERR_INVALID, "filter %zu: '%s' needs a value 'v'", i,
                       sb_filter_op_name(op));
    sb_err err = sb_query_add(q, k->valuestring, op, v, em);
    if (err)
        return sb_fail_wrap(em, err, "filter %zu", i);
    return SB_OK;
}

static sb_err parse_sort(sb_query *q, const cJSON *s, size_t i, sb_errmsg *em)
{
    if (!cJSON_IsObject(s))
        return sb_fail(em, SB_ERR_INVALID, "sort %zu: expected an object {\"f\",\"o\"}", i);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(s, "f");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(s, "o");
    if (!cJSON_IsString(f) || !f->valuestring[0])
        return sb_fail(em, SB_ERR_INVALID, "sort %zu: 'f' must be a non-empty string", i);
    bool desc = false;
    if (o) {
        const char *t = cJSON_IsString(o) ? o->valuestring : "";
        if (strcasecmp(t, "desc") == 0)
            desc = true;
        else if (strcasecmp(t, "asc") != 0)
            return sb_fail(em, SB_ERR_INVALID, "sort %zu: 'o' must be asc or desc", i);
    }
    char *key = strdup(f->valuestring);
    sb_sort *grown = key ? realloc(q->sort, (q->n_sort + 1) * sizeof(sb_sort)) : NULL;
    if (!grown) {
        free(key);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    q->sort = grown;
    q->sort[q->n_sort++] = (sb_sort){.key = key, .desc = desc};
    return SB_OK;
}

sb_err sb_query_from_json(const cJSON *filters, const cJSON *sort, sb_query *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    sb_err err = SB_OK;
    if (filters && !cJSON_IsNull(filters) && !cJSON_IsArray(filters)) {
        err = sb_fail(em, SB_ERR_INVALID, "filters: expected a JSON array");
        goto fail;
    }
    if (sort && !cJSON_IsNull(sort) && !cJSON_IsArray(sort)) {
        err = sb_fail(em, SB_ERR_INVALID, "sort: expected a JSON array");
        goto fail;
    }
    size_t i = 1;
    for (const cJSON *f = filters ? filters->child : NULL; f; f = f->next, i++)
        if ((err = parse_filter(out, f, i, em)))
            goto fail;
    i = 1;
    for (const cJSON *s = sort ? sort->child : NULL; s; s = s->next, i++)
        if ((err = parse_sort(out, s, i, em)))
            goto fail;
    return SB_OK;
fail:
    sb_query_free(out);
    return err;
}

static sb_err parse_text(const char *text, const char *what, cJSON **out, sb_errmsg *em)
{
    *out = NULL;
    if (!text)
        return SB_OK;
    size_t len = strlen(text);
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (!*p)
        return SB_OK;
    sb_err err = sb_json_parse(text, len, out, em);
    if (err)
        return sb_fail_wrap(em, err, "%s", what);
    return SB_OK;
}

sb_err sb_query_parse(const char *filters, const char *sort, sb_query *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    cJSON *f = NULL, *s = NULL;
    sb_err err = parse_text(filters, "filters", &f, em);
    if (!err)
        err = parse_text(sort, "sort", &s, em);
    if (!err)
        err = sb_query_from_json(f, s, out, em);
    cJSON_Delete(f);
    cJSON_Delete(s);
    return err;
}
