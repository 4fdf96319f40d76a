/*
 * query_match.c - the reference semantics of filters and sort (storage/store.h): every backend
 * either calls these or must give the same answers (the conformance suite checks).
 */
#include "storage/query_index.h"
#include "storage/query_priv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

enum { CMP_NONE = 2 }; /* values of different kinds: neither equal nor ordered */

bool sb_str_number(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++, digits++;
    }
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return false;
    *out = strtod(s, NULL);
    return true;
}

bool sb_str_time(const char *s, int64_t *ms)
{
    /* Most strings are not timestamps: reject them before sb_time_parse does real work. */
    if (!isdigit((unsigned char)s[0]) || s[1] == '\0' || s[2] == '\0' || s[3] == '\0' ||
        s[4] != '-')
        return false;
    if (strlen(s) < 19 || s[7] != '-')
        return false;
    return sb_time_parse(s, ms) == SB_OK;
}

void sb_qval_init(sb_qval *q, const cJSON *v)
{
    memset(q, 0, sizeof(*q));
    q->j = v;
    if (cJSON_IsNumber(v)) {
        q->is_num = true;
        q->num = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        q->is_num = sb_str_number(v->valuestring, &q->num);
        q->is_time = !q->is_num && sb_str_time(v->valuestring, &q->ms);
    }
}

static int sign_of(long long d)
{
    return d < 0 ? -1 : d > 0;
}

static int num_cmp(double a, double b)
{
    return a < b ? -1 : a > b;
}

/* Document value d against query value q: -1, 0, 1, or CMP_NONE. */
static int cmp_value(const cJSON *d, const sb_qval *q)
{
    const cJSON *v = q->j;
    double x;
    int64_t ms;
    if (cJSON_IsNumber(d))
        return q->is_num ? num_cmp(d->valuedouble, q->num) : CMP_NONE;
    if (cJSON_IsString(d)) {
        if (cJSON_IsNumber(v))
            return sb_str_number(d->valuestring, &x) ? num_cmp(x, q->num) : CMP_NONE;
        if (!cJSON_IsString(v))
            return CMP_NONE;
        if (q->is_time && sb_str_time(d->valuestring, &ms))
            return sign_of((long long)ms - (long long)q->ms);
        return sign_of(strcmp(d->valuestring, v->valuestring));
    }
    if (cJSON_IsBool(d))
        return cJSON_IsBool(v) ? (int)cJSON_IsTrue(d) - (int)cJSON_IsTrue(v) : CMP_NONE;
    if (cJSON_IsNull(d))
        return cJSON_IsNull(v) ? 0 : CMP_NONE;
    if ((cJSON_IsObject(d) && cJSON_IsObject(v)) || (cJSON_IsArray(d) && cJSON_IsArray(v)))
        return cJSON_Compare(d, v, true) ? 0 : CMP_NONE;
    return CMP_NONE;
}

/* eq, where an array-valued field matches when any element does. */
static bool eq_any(const cJSON *d, const sb_qval *q)
{
    if (cmp_value(d, q) == 0)
        return true;
    if (cJSON_IsArray(d))
        for (const cJSON *e = d->child; e; e = e->next)
            if (cmp_value(e, q) == 0)
                return true;
    return false;
}

static bool in_set(const cJSON *d, const sb_qcomp *c)
{
    for (size_t i = 0; i < c->n_set; i++)
        if (eq_any(d, &c->set[i]))
            return true;
    return false;
}

static bool regex_any(const cJSON *d, const sb_qcomp *c)
{
    if (cJSON_IsString(d))
        return regexec(&c->re, d->valuestring, 0, NULL, 0) == 0;
    if (cJSON_IsArray(d))
        for (const cJSON *e = d->child; e; e = e->next)
            if (cJSON_IsString(e) && regexec(&c->re, e->valuestring, 0, NULL, 0) == 0)
                return true;
    return false;
}

/* The key path, pre-split at parse time; array elements by decimal index. */
static const cJSON *walk(const cJSON *doc, const sb_qcomp *c)
{
    const cJSON *cur = doc;
    for (size_t i = 0; cur && i < c->n_segs; i++) {
        const char *seg = c->segs[i];
        if (cJSON_IsObject(cur)) {
            const cJSON *e = cur->child;
            while (e && (!e->string || strcmp(e->string, seg) != 0))
                e = e->next;
            cur = e;
        } else if (cJSON_IsArray(cur) && isdigit((unsigned char)seg[0])) {
            char *end;
            long idx = strtol(seg, &end, 10);
            cur = *end || idx > 1000000 ? NULL : cJSON_GetArrayItem(cur, (int)idx);
        } else {
            cur = NULL;
        }
    }
    return cur;
}

static bool match_one(const sb_filter *f, const cJSON *doc)
{
    const sb_qcomp *c = f->priv;
    const cJSON *d = walk(doc, c);
    if (f->op == SB_OP_EXISTS)
        return (d != NULL) == c->want;
    if (!d)
        return f->op == SB_OP_NE || f->op == SB_OP_NIN;
    int r;
    switch (f->op) {
    case SB_OP_EQ:
        return eq_any(d, &c->v);
    case SB_OP_NE:
        return !eq_any(d, &c->v);
    case SB_OP_IN:
        return in_set(d, c);
    case SB_OP_NIN:
        return !in_set(d, c);
    case SB_OP_REGEX:
        return regex_any(d, c);
    default:
        break;
    }
    r = cmp_value(d, &c->v);
    if (r == CMP_NONE)
        return false;
    switch (f->op) {
    case SB_OP_GT:
        return r > 0;
    case SB_OP_LT:
        return r < 0;
    case SB_OP_GTE:
        return r >= 0;
    case SB_OP_LTE:
        return r <= 0;
    default:
        return false;
    }
}

bool sb_query_match(const sb_query *q, const cJSON *doc)
{
    if (!q)
        return true;
    for (size_t i = 0; i < q->n_filters; i++)
        if (!match_one(&q->filters[i], doc))
            return false;
    return true;
}

/*
 * Sorting needs a total order over every kind of value, so it ranks them:
 * missing < null < numbers and numeric strings (by value) < timestamps (by time) < other
 * strings (byte-wise) < false < true < objects < arrays.
 */
enum { R_MISSING, R_NULL, R_NUM, R_TIME, R_STR, R_BOOL, R_OBJECT, R_ARRAY };

static void sort_value(const cJSON *v, sb_sort_val *out)
{
    *out = (sb_sort_val){.v = v, .rank = R_MISSING};
    if (!v)
        return;
    if (cJSON_IsNull(v)) {
        out->rank = R_NULL;
    } else if (cJSON_IsNumber(v)) {
        out->rank = R_NUM;
        out->num = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        if (sb_str_number(v->valuestring, &out->num))
            out->rank = R_NUM;
        else
            out->rank = sb_str_time(v->valuestring, &out->ms) ? R_TIME : R_STR;
    } else {
        out->rank = cJSON_IsBool(v) ? R_BOOL : cJSON_IsObject(v) ? R_OBJECT : R_ARRAY;
    }
}

static int sort_cmp(const sb_sort_val *a, const sb_sort_val *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    int r = 0;
    switch (a->rank) {
    case R_NUM:
        if ((r = num_cmp(a->num, b->num)))
            return r;
        /* equal values: numbers before numeric strings, then the strings byte-wise */
        if (cJSON_IsNumber(a->v) != cJSON_IsNumber(b->v))
            return cJSON_IsNumber(a->v) ? -1 : 1;
        return cJSON_IsString(a->v) ? sign_of(strcmp(a->v->valuestring, b->v->valuestring)) : 0;
    case R_TIME:
        if ((r = sign_of((long long)a->ms - (long long)b->ms)))
            return r;
        return sign_of(strcmp(a->v->valuestring, b->v->valuestring));
    case R_STR:
        return sign_of(strcmp(a->v->valuestring, b->v->valuestring));
    case R_BOOL:
        return (int)cJSON_IsTrue(a->v) - (int)cJSON_IsTrue(b->v);
    default:
        return 0;
    }
}

void sb_query_sort_values(const sb_query *q, const cJSON *doc, sb_sort_val *vals)
{
    for (size_t i = 0; q && i < q->n_sort; i++)
        sort_value(sb_json_path(doc, q->sort[i].key), &vals[i]);
}

int sb_query_compare_values(const sb_query *q, const sb_sort_val *a, const char *id_a,
                            const sb_sort_val *b, const char *id_b)
{
    for (size_t i = 0; q && i < q->n_sort; i++) {
        int r = sort_cmp(&a[i], &b[i]);
        if (r)
            return q->sort[i].desc ? -r : r;
    }
    return sign_of(strcmp(id_a, id_b));
}

int sb_query_compare(const sb_query *q, const cJSON *a, const cJSON *b)
{
    for (size_t i = 0; q && i < q->n_sort; i++) {
        sb_sort_val va, vb;
        sort_value(sb_json_path(a, q->sort[i].key), &va);
        sort_value(sb_json_path(b, q->sort[i].key), &vb);
        int r = sort_cmp(&va, &vb);
        if (r)
            return q->sort[i].desc ? -r : r;
    }
    return sign_of(strcmp(sb_json_str(a, "id", ""), sb_json_str(b, "id", "")));
}

bool sb_query_index_key(const cJSON *v, char *buf, size_t len)
{
    double num;
    int64_t ms;
    if (len < 8)
        return false;
    if (cJSON_IsNumber(v) || (cJSON_IsString(v) && sb_str_number(v->valuestring, &num))) {
        num = cJSON_IsNumber(v) ? v->valuedouble : num;
        snprintf(buf, len, "n:%.17g", num == 0 ? 0.0 : num); /* -0 == 0 */
    } else if (cJSON_IsString(v) && sb_str_time(v->valuestring, &ms)) {
        snprintf(buf, len, "t:%lld", (long long)ms);
    } else if (cJSON_IsString(v)) {
        snprintf(buf, len, "s:%s", v->valuestring); /* truncation only widens a bucket */
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, len, "b:%d", cJSON_IsTrue(v));
    } else if (cJSON_IsNull(v)) {
        snprintf(buf, len, "z");
    } else {
        return false;
    }
    return true;
}
