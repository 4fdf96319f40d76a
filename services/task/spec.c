/*
 * spec.c - a task document turned into what the service runs. Every problem is named in
 * t->error ("executionInterval: ...") and ends up in the task's state message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/quickid.h"
#include "core/time.h"
#include "services/task/task.h"

__attribute__((format(printf, 2, 3))) static void set_error(task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof(t->error), fmt, ap); /* long messages are cut, not refused */
    va_end(ap);
}

#define BAD(...)                                                                                   \
    do {                                                                                           \
        set_error(t, __VA_ARGS__);                                                                 \
        return false;                                                                              \
    } while (0)

static bool opt_bool(task *t, const char *key, bool def, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->conf, key);
    if (v && !cJSON_IsBool(v) && !cJSON_IsNull(v))
        BAD("%s: must be true or false", key);
    *out = cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
    return true;
}

/* A duration as text ("5m") or a number of ms; absent, null or "" is 0. */
static bool opt_duration(task *t, const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
        return true;
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
        *out = (int64_t)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v) || sb_duration_parse(v->valuestring, out) != SB_OK || *out < 0)
        BAD("%s: expected a duration such as \"30s\" or \"5m\"", key);
    return true;
}

/* A string or an array of strings (a string becomes a one-element array in the document). */
static bool opt_strings(task *t, cJSON *obj, const char *path, const char *key, const cJSON **out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0])
            return true;
        cJSON *arr = cJSON_CreateArray();
        if (!arr || !cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring)) ||
            !cJSON_ReplaceItemInObjectCaseSensitive(obj, key, arr)) {
            cJSON_Delete(arr);
            BAD("out of memory");
        }
        v = arr;
    }
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            BAD("%s.%s: expected strings", path, key);
        n++;
    }
    if (!cJSON_IsArray(v))
        BAD("%s.%s: expected a string or an array of strings", path, key);
    *out = n ? v : NULL;
    return true;
}

static bool parse_filter(task *t)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(t->conf, "eventFilter");
    if (!f || cJSON_IsNull(f))
        return true;
    if (!cJSON_IsObject(f))
        BAD("eventFilter: expected an object");
    if (!opt_strings(t, f, "eventFilter", "entityType", &t->filter.entity_types) ||
        !opt_strings(t, f, "eventFilter", "eventTypes", &t->filter.event_types) ||
        !opt_strings(t, f, "eventFilter", "quickIds", &t->filter.quick_ids))
        return false;
    if (!t->filter.entity_types &&
        !opt_strings(t, f, "eventFilter", "entityTypes", &t->filter.entity_types))
        return false;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(f, "labels");
    if (labels && !cJSON_IsNull(labels)) {
        const cJSON *l;
        if (!cJSON_IsObject(labels))
            BAD("eventFilter.labels: expected an object of label values");
        cJSON_ArrayForEach(l, labels)
        {
            if (!cJSON_IsString(l))
                BAD("eventFilter.labels.%s: expected a string", l->string);
        }
        t->filter.labels = labels->child ? labels : NULL;
    }
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(f, "filters");
    if (filters && !cJSON_IsNull(filters) && cJSON_GetArraySize(filters) > 0) {
        sb_errmsg em = {{0}};
        t->filter.filters = calloc(1, sizeof(sb_query));
        if (!t->filter.filters)
            BAD("out of memory");
        if (sb_query_from_json(filters, NULL, t->filter.filters, &em) != SB_OK)
            BAD("eventFilter.filters: %s", em.text);
    }
    return true;
}

static bool parse_eval(task *t)
{
    const char *type = sb_json_str(t->conf, "evaluationType", "rule");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(t->conf, "evaluationConfig");
    if (cfg && !cJSON_IsObject(cfg) && !cJSON_IsNull(cfg))
        BAD("evaluationConfig: expected an object");
    sb_errmsg em = {{0}};
    if (strcmp(type, "rule") == 0) {
        t->eval = TASK_EVAL_RULE;
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(t->conf, "rule");
        if (!rule && cfg)
            rule = cJSON_GetObjectItemCaseSensitive(cfg, "rule");
        if (task_rule_parse(rule, &t->rule, &em) != SB_OK)
            BAD("%s", em.text);
        return true;
    }
    if (strcmp(type, "javascript") == 0) {
        t->eval = TASK_EVAL_JS;
        t->js = cfg ? sb_json_str(cfg, "javascript", NULL) : NULL;
        if (!t->js || !t->js[0])
            BAD("evaluationConfig.javascript: the script must be a non-empty string");
        return true;
    }
    if (strcmp(type, "webhook") == 0) {
        t->eval = TASK_EVAL_WEBHOOK;
        cJSON *w = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "webhook") : NULL;
        const char *url = w ? sb_json_str(w, "url", NULL) : NULL;
        if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
            BAD("evaluationConfig.webhook.url: expected an http:// or https:// URL");
        t->hook.url = (char *)url;
        t->hook.headers = cJSON_GetObjectItemCaseSensitive(w, "headers");
        if (t->hook.headers && !cJSON_IsObject(t->hook.headers))
            BAD("evaluationConfig.webhook.headers: expected an object of header values");
        t->hook.insecure = sb_json_bool(w, "insecure", false);
        return opt_duration(t, w, "timeout", &t->hook.timeout_ms);
    }
    BAD("evaluationType: unknown '%s' (rule, javascript or webhook)", type);
}

static bool parse_handlers(task *t)
{
    t->handlers = cJSON_GetObjectItemCaseSensitive(t->conf, "handlers");
    const cJSON *h;
    if (t->handlers && !cJSON_IsArray(t->handlers) && !cJSON_IsNull(t->handlers))
        BAD("handlers: expected an array of handler ids");
    cJSON_ArrayForEach(h, t->handlers)
    {
        if (!cJSON_IsString(h) || !sb_quickid_valid_part(h->valuestring))
            BAD("handlers: '%s' is not a handler id", cJSON_IsString(h) ? h->valuestring : "?");
    }
    t->params = cJSON_GetObjectItemCaseSensitive(t->conf, "handlerParameters");
    if (t->params && !cJSON_IsObject(t->params) && !cJSON_IsNull(t->params))
        BAD("handlerParameters: expected an object");
    t->variables = cJSON_GetObjectItemCaseSensitive(t->conf, "variables");
    if (t->variables && !cJSON_IsObject(t->variables) && !cJSON_IsNull(t->variables))
        BAD("variables: expected an object");
    const cJSON *v;
    cJSON_ArrayForEach(v, t->variables)
    {
        if (strcmp(v->string, "event") == 0 || !v->string[0] || strchr(v->string, '.'))
            BAD("variables: '%s' is not a variable name ('event' is the trigger, no dots)",
                v->string);
    }
    return true;
}

static bool parse_all(task *t)
{
    sb_errmsg em = {{0}};
    if (!opt_bool(t, "enabled", false, &t->enabled) ||
        !opt_bool(t, "ignoreDuplicate", false, &t->ignore_dup) ||
        !opt_bool(t, "autoDisable", false, &t->auto_disable) ||
        !opt_bool(t, "reEnable", false, &t->re_enable) ||
        !opt_bool(t, "triggerOnEvent", false, &t->on_event) ||
        !opt_duration(t, t->conf, "reEnableDuration", &t->re_enable_ms) ||
        !opt_duration(t, t->conf, "executionInterval", &t->interval_ms))
        return false;
    if (t->interval_ms && t->interval_ms < 100)
        BAD("executionInterval: at least 100ms");
    if (!t->on_event && !t->interval_ms)
        BAD("a task needs triggerOnEvent: true or an executionInterval");
    if (t->re_enable && t->re_enable_ms <= 0)
        BAD("reEnableDuration: reEnable needs a positive duration");
    if (task_damp_parse(cJSON_GetObjectItemCaseSensitive(t->conf, "dampening"), &t->damp, &em))
        BAD("%s", em.text);
    return parse_filter(t) && parse_eval(t) && parse_handlers(t);
}

sb_err task_spec_parse(const cJSON *doc, task *t)
{
    const char *id = sb_json_str(doc, "id", NULL);
    t->id = strdup(id ? id : "");
    t->conf = cJSON_Duplicate(doc, true);
    if (t->conf)
        cJSON_DeleteItemFromObjectCaseSensitive(t->conf, "state");
    t->raw = t->conf ? cJSON_Duplicate(t->conf, true) : NULL;
    if (!t->id || !t->raw)
        return SB_ERR_NOMEM;
    if (!parse_all(t)) {
        /* A bad spec never runs (task_run checks error); the members parsed so far are kept
         * only to be freed. */
        if (!t->error[0])
            snprintf(t->error, sizeof(t->error), "invalid task");
    }
    return SB_OK;
}

void task_free(task *t)
{
    if (!t)
        return;
    task_rule_free(&t->rule);
    if (t->filter.filters) {
        sb_query_free(t->filter.filters);
        free(t->filter.filters);
    }
    cJSON_Delete(t->st.history);
    cJSON_Delete(t->conf);
    cJSON_Delete(t->raw);
    free(t->id);
    free(t);
}

static bool in_strings(const cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (strcmp(e->valuestring, s) == 0)
            return true;
    }
    return false;
}

bool task_filter_match(const task *t, const sb_event *ev)
{
    const task_filter *f = &t->filter;
    if (f->entity_types && !in_strings(f->entity_types, ev->entity_type))
        return false;
    if (f->event_types && !in_strings(f->event_types, ev->type))
        return false;
    if (f->quick_ids && !in_strings(f->quick_ids, ev->quick_id))
        return false;
    if (f->labels) {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(ev->entity, "labels"), *l;
        cJSON_ArrayForEach(l, f->labels)
        {
            const char *v = sb_json_str(have, l->string, NULL);
            if (!v || strcmp(v, l->valuestring) != 0)
                return false;
        }
    }
    return !f->filters || (ev->entity && sb_query_match(f->filters, ev->entity));
}

int64_t task_modified_ms(const cJSON *doc)
{
    int64_t ms = 0;
    const char *m = sb_json_str(doc, "modifiedOn", NULL);
    if (!m || sb_time_parse(m, &ms) != SB_OK)
        return 0;
    return ms;
}
