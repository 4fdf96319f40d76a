/* rule.c - a task's rule and dampening (rule.h). The conditions reuse the store's filters. */
#include "services/task/rule.h"

#include <stdlib.h>
#include <string.h>

#include "core/time.h"

/* Symbolic spellings some rule editors write, mapped to the store's operator names. */
static const char *const op_alias[][2] = {
    {"==", "eq"}, {"!=", "ne"}, {">", "gt"}, {"<", "lt"}, {">=", "gte"}, {"<=", "lte"},
};

static sb_err parse_op(const cJSON *o, sb_filter_op *op)
{
    if (!cJSON_IsString(o))
        return SB_ERR_INVALID;
    const char *name = o->valuestring;
    for (size_t i = 0; i < SB_ARRAY_LEN(op_alias); i++)
        if (strcmp(name, op_alias[i][0]) == 0)
            name = op_alias[i][1];
    return sb_filter_op_parse(name, op);
}

static sb_err parse_condition(task_rule *r, const cJSON *c, size_t i, sb_errmsg *em)
{
    if (!cJSON_IsObject(c))
        return sb_fail(em, SB_ERR_INVALID,
                       "rule: condition %zu: expected an object {variable, operator, value}", i);
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(c, "variable");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(c, "operator");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
    if (!cJSON_IsString(var) || !var->valuestring[0])
        return sb_fail(em, SB_ERR_INVALID,
                       "rule: condition %zu: 'variable' must be a non-empty string", i);
    sb_filter_op op;
    if (parse_op(o, &op) != SB_OK)
        return sb_fail(em, SB_ERR_INVALID,
                       "rule: condition %zu: unknown operator '%s' (eq ne in nin gt lt gte lte "
                       "exists regex)",
                       i, cJSON_IsString(o) ? o->valuestring : "");
    if (op == SB_OP_EXISTS && v && !cJSON_IsBool(v))
        return sb_fail(em, SB_ERR_INVALID, "rule: condition %zu: exists takes true or false", i);
    if (!v && op != SB_OP_EXISTS)
        return sb_fail(em, SB_ERR_INVALID, "rule: condition %zu: '%s' needs a 'value'", i,
                       sb_filter_op_name(op));
    sb_err rc = sb_query_add(r->conds, var->valuestring, op, v, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "rule: condition %zu", i);
    return SB_OK;
}

sb_err task_rule_parse(const cJSON *rule, task_rule *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(rule))
        return sb_fail(em, SB_ERR_INVALID, "rule: expected an object {matchAll, conditions}");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(rule, "matchAll");
    if (all && !cJSON_IsBool(all))
        return sb_fail(em, SB_ERR_INVALID, "rule: 'matchAll' must be true or false");
    out->match_all = !all || cJSON_IsTrue(all);
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(rule, "conditions");
    int n = cJSON_IsArray(conds) ? cJSON_GetArraySize(conds) : 0;
    if (n == 0)
        return sb_fail(em, SB_ERR_INVALID, "rule: 'conditions' must be a non-empty array");
    if (n > TASK_RULE_MAX_CONDITIONS)
        return sb_fail(em, SB_ERR_TOO_LARGE, "rule: more than %d conditions",
                       TASK_RULE_MAX_CONDITIONS);
    out->conds = calloc(1, sizeof(*out->conds));
    if (!out->conds)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        sb_err rc = parse_condition(out, c, i++, em);
        if (rc != SB_OK) {
            task_rule_free(out);
            return rc;
        }
    }
    out->n = out->conds->n_filters;
    return SB_OK;
}

bool task_rule_eval(const task_rule *r, const cJSON *vars)
{
    if (!r->conds || r->n == 0)
        return false;
    for (size_t i = 0; i < r->n; i++) {
        sb_query one = {.filters = &r->conds->filters[i], .n_filters = 1};
        bool ok = sb_query_match(&one, vars);
        if (ok != r->match_all)
            return ok; /* any: the first true decides; all: the first false */
    }
    return r->match_all;
}

void task_rule_free(task_rule *r)
{
    if (r->conds) {
        sb_query_free(r->conds);
        free(r->conds);
    }
    memset(r, 0, sizeof(*r));
}

/* ---- dampening -------------------------------------------------------------------------- */

static sb_err damp_int(const cJSON *d, const char *key, int64_t lo, int64_t hi, int64_t *out,
                       sb_errmsg *em)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble ||
        v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return sb_fail(em, SB_ERR_INVALID, "dampening: '%s' must be an integer %lld-%lld", key,
                       (long long)lo, (long long)hi);
    *out = (int64_t)v->valuedouble;
    return SB_OK;
}

sb_err task_damp_parse(const cJSON *d, task_damp *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (!d || cJSON_IsNull(d))
        return SB_OK;
    if (!cJSON_IsObject(d))
        return sb_fail(em, SB_ERR_INVALID, "dampening: expected an object {type, ...}");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "type");
    if (t && !cJSON_IsString(t))
        return sb_fail(em, SB_ERR_INVALID, "dampening: 'type' must be a string");
    const char *type = t ? t->valuestring : "none";
    if (strcmp(type, "none") == 0 || type[0] == 0)
        return SB_OK;
    if (strcmp(type, "consecutive") == 0) {
        out->type = TASK_DAMP_CONSECUTIVE;
        return damp_int(d, "occurrences", 1, 1000000, &out->occurrences, em);
    }
    if (strcmp(type, "evaluation") == 0) {
        out->type = TASK_DAMP_EVALUATION;
        sb_err rc = damp_int(d, "evaluation", 1, TASK_DAMP_WINDOW_MAX, &out->evaluation, em);
        if (rc == SB_OK)
            rc = damp_int(d, "occurrences", 1, out->evaluation, &out->occurrences, em);
        return rc;
    }
    if (strcmp(type, "active_duration") == 0) {
        out->type = TASK_DAMP_ACTIVE_DURATION;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(d, "activeDuration");
        if (!cJSON_IsString(a) || sb_duration_parse(a->valuestring, &out->active_ms) != SB_OK ||
            out->active_ms <= 0)
            return sb_fail(em, SB_ERR_INVALID,
                           "dampening: 'activeDuration' must be a positive duration (\"5m\")");
        return SB_OK;
    }
    return sb_fail(em, SB_ERR_INVALID,
                   "dampening: unknown type '%s' (none consecutive evaluation active_duration)",
                   type);
}

static int popcount64(uint64_t v)
{
    return __builtin_popcountll(v);
}

bool task_damp_step(const task_damp *d, task_damp_state *st, bool result, int64_t now_ms)
{
    switch (d->type) {
    case TASK_DAMP_NONE:
        return result;
    case TASK_DAMP_CONSECUTIVE:
        st->consecutive = result ? st->consecutive + 1 : 0;
        if (st->consecutive < d->occurrences)
            return false;
        st->consecutive = 0;
        return true;
    case TASK_DAMP_EVALUATION: {
        uint64_t mask = d->evaluation >= 64 ? ~0ULL : (1ULL << d->evaluation) - 1;
        st->window = ((st->window << 1) | (result ? 1u : 0u)) & mask;
        if (st->seen < d->evaluation)
            st->seen++;
        if (popcount64(st->window) < d->occurrences)
            return false;
        st->window = 0;
        st->seen = 0;
        return true;
    }
    case TASK_DAMP_ACTIVE_DURATION:
        if (!result) {
            st->active_since_ms = 0;
            st->active_fired = false;
            return false;
        }
        if (st->active_since_ms == 0)
            st->active_since_ms = now_ms;
        return task_damp_check(d, st, now_ms);
    }
    return false;
}

bool task_damp_check(const task_damp *d, task_damp_state *st, int64_t now_ms)
{
    if (d->type != TASK_DAMP_ACTIVE_DURATION || st->active_since_ms == 0 || st->active_fired ||
        now_ms - st->active_since_ms < d->active_ms)
        return false;
    st->active_fired = true;
    return true;
}

int64_t task_damp_due(const task_damp *d, const task_damp_state *st)
{
    if (d->type != TASK_DAMP_ACTIVE_DURATION || st->active_since_ms == 0 || st->active_fired)
        return 0;
    return st->active_since_ms + d->active_ms;
}
