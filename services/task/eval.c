/*
 * eval.c - one evaluation of a task: variables, the rule/script/webhook result, dampening,
 * ignoreDuplicate, the handler calls with rendered parameters, auto-disable and the state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/template.h"
#include "core/time.h"
#include "services/task/task.h"

sb_err task_result_parse(const cJSON *res, bool *triggered, cJSON **extra, sb_errmsg *em)
{
    *extra = NULL;
    if (cJSON_IsBool(res)) {
        *triggered = cJSON_IsTrue(res);
        return SB_OK;
    }
    const cJSON *t =
        cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res, "triggered") : NULL;
    if (!cJSON_IsBool(t))
        return sb_fail(em, SB_ERR_INVALID,
                       "result must be true/false or an object {\"triggered\": true|false, ...}");
    *triggered = cJSON_IsTrue(t);
    *extra = cJSON_Duplicate(res, true);
    if (!*extra)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(*extra, "triggered");
    return SB_OK;
}

/* Appends the warnings to buf as "; "-separated text (truncated to fit). */
static void join_warnings(char *buf, size_t len, const cJSON *warnings)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, warnings)
    {
        size_t used = strlen(buf);
        if (used + 1 >= len)
            break;
        snprintf(buf + used, len - used, "%s%s", used ? "; " : "", w->valuestring);
    }
}

static void merge(cJSON *dst, const cJSON *src)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, src) sb_json_set(dst, e->string, cJSON_Duplicate(e, true));
}

/* handlerParameters rendered with the variables (and the result's extra keys), then the extra
 * keys themselves: a script's {triggered: true, level: 3} gives the handlers "level": 3. */
static cJSON *render_params(const task *t, const cJSON *vars, const cJSON *extra, cJSON *warnings)
{
    cJSON *tvars = cJSON_Duplicate(vars, true), *params = cJSON_CreateObject();
    const cJSON *p;
    merge(tvars, extra);
    cJSON_ArrayForEach(p, t->params)
    {
        if (!cJSON_IsString(p)) {
            sb_json_set(params, p->string, cJSON_Duplicate(p, true));
            continue;
        }
        char *out = NULL, buf[700];
        cJSON *tw = NULL;
        sb_errmsg em = {{0}};
        sb_err rc = sb_tmpl_render(p->valuestring, tvars, NULL, &out, &tw, &em);
        const cJSON *w;
        if (rc != SB_OK) {
            snprintf(buf, sizeof(buf), "handler parameter '%s': %s", p->string,
                     sb_errmsg_str(&em, rc));
            cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
        }
        cJSON_ArrayForEach(w, tw)
        {
            snprintf(buf, sizeof(buf), "handler parameter '%s': %s", p->string, w->valuestring);
            cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
        }
        sb_json_set_str(params, p->string, out ? out : "");
        cJSON_Delete(tw);
        free(out);
    }
    merge(params, extra);
    cJSON_Delete(tvars);
    return params;
}

/* Publishes one handler call per handler id; false when any publish failed (named in buf). */
static bool call_handlers(task_svc *s, const task *t, const cJSON *params, const cJSON *vars,
                          char *buf, size_t len)
{
    char source[300];
    snprintf(source, sizeof(source), "task:%s", t->id);
    bool ok = true;
    const cJSON *h;
    cJSON_ArrayForEach(h, t->handlers)
    {
        sb_err rc = sb_handler_call_publish(s->bus, h->valuestring, source, params, vars);
        if (rc == SB_OK) {
            atomic_fetch_add(&s->st.handler_calls, 1);
            continue;
        }
        ok = false;
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%shandler '%s' not called: %s", used ? "; " : "",
                 h->valuestring, sb_strerror(rc));
    }
    return ok;
}

static void fire(task_svc *s, task *t, const cJSON *vars, const cJSON *extra, cJSON *warnings)
{
    char msg[512] = "";
    cJSON *params = render_params(t, vars, extra, warnings);
    bool ok = params && call_handlers(s, t, params, vars, msg, sizeof(msg));
    cJSON_Delete(params);
    atomic_fetch_add(&s->st.triggers, 1);
    t->st.latched = true;
    t->st.executed++;
    t->st.last_success_ms = sb_time_now_ms();
    if (!msg[0])
        snprintf(msg, sizeof(msg), "triggered");
    join_warnings(msg, sizeof(msg), warnings);
    if (t->auto_disable) {
        t->enabled = false;
        t->st.enabled_dirty = true;
        sb_json_set_bool(t->conf, "enabled", false);
        sb_json_set_bool(t->raw, "enabled", false);
        t->st.re_enable_at_ms = t->re_enable ? t->st.last_success_ms + t->re_enable_ms : 0;
    }
    task_state_record(s, t, true, ok && cJSON_GetArraySize(warnings) == 0 ? "ok" : "error", msg);
}

static sb_err evaluate(task_svc *s, task *t, const cJSON *vars, bool *result, cJSON **extra,
                       sb_errmsg *em)
{
    *extra = NULL;
    switch (t->eval) {
    case TASK_EVAL_RULE:
        *result = task_rule_eval(&t->rule, vars);
        return SB_OK;
    case TASK_EVAL_JS:
        return task_js_eval(s->cfg, t->js, vars, result, extra, em);
    case TASK_EVAL_WEBHOOK:
        return task_webhook_eval(s->cfg, &t->hook, vars, result, extra, em);
    }
    return sb_fail(em, SB_ERR_INTERNAL, "unknown evaluation type");
}

void task_run(task_svc *s, task *t, const sb_event *ev)
{
    if (!t->enabled || t->error[0])
        return;
    atomic_fetch_add(&s->st.evaluations, 1);
    int64_t started = sb_time_mono_us();
    cJSON *warnings = cJSON_CreateArray();
    cJSON *vars = warnings ? task_vars_resolve(s, t, ev, warnings) : NULL, *extra = NULL;
    bool result = false;
    sb_errmsg em = {{0}};
    sb_err rc = vars ? evaluate(s, t, vars, &result, &extra, &em)
                     : sb_fail(&em, SB_ERR_NOMEM, "out of memory");
    if (rc != SB_OK) {
        char msg[600];
        static const char *const what[] = {"rule", "javascript", "webhook"};
        snprintf(msg, sizeof(msg), "%s: %s", what[t->eval], sb_errmsg_str(&em, rc));
        atomic_fetch_add(&s->st.errors, 1);
        if (rc == SB_ERR_TIMEOUT || rc == SB_ERR_TOO_LARGE)
            atomic_fetch_add(&s->st.js_limits, t->eval == TASK_EVAL_JS);
        task_state_record(s, t, false, "error", msg);
    } else {
        if (!result)
            t->st.latched = false;
        bool go = task_damp_step(&t->damp, &t->ds, result, sb_time_now_ms());
        if (go && !(t->ignore_dup && t->st.latched)) {
            fire(s, t, vars, extra, warnings);
        } else {
            char msg[512] = "";
            join_warnings(msg, sizeof(msg), warnings);
            task_state_record(s, t, false, msg[0] ? "error" : "ok",
                              msg[0]   ? msg
                              : go     ? "not triggered: duplicate (ignoreDuplicate)"
                              : result ? "condition true, dampened"
                                       : "condition false");
        }
    }
    cJSON_Delete(extra);
    cJSON_Delete(vars);
    cJSON_Delete(warnings);
    sb_histo_observe(&s->st.evaluation_ms, (double)(sb_time_mono_us() - started) / 1000.0);
}

void task_damp_timer(task_svc *s, task *t)
{
    if (!t->enabled || t->error[0] || !task_damp_check(&t->damp, &t->ds, sb_time_now_ms()))
        return;
    if (t->ignore_dup && t->st.latched)
        return;
    cJSON *warnings = cJSON_CreateArray();
    cJSON *vars = warnings ? task_vars_resolve(s, t, NULL, warnings) : NULL;
    if (vars)
        fire(s, t, vars, NULL, warnings);
    cJSON_Delete(vars);
    cJSON_Delete(warnings);
}
