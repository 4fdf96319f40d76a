/*
 * js.c - javascript evaluation with Duktape: every run gets a fresh heap, so one task's script
 * never sees another's (or its own previous run's) globals.
 *
 * Sandbox: Duktape has no file, network, process or module access of its own; the `Duktape`
 * global is removed too. What a script gets:
 *   variables        the task's variables (JSON), including `event` for event-triggered runs
 *   event            variables.event, or undefined
 *   now()            ms since the epoch
 *   isoTime(ms)      RFC 3339 UTC text of ms (default now)
 *   parseTime(text)  ms of an RFC 3339 time, NaN when it is not one
 *   duration(text)   ms of "90s", "5m", "1h30m", NaN when it is not one
 * The value of the script (its last expression statement) is the result: true/false, or an
 * object {triggered: true|false, ...} whose other keys become handler parameters.
 *
 * Limits: task.js_timeout through Duktape's execution timeout check (built in, see
 * CMakeLists.txt) and task.js_memory through the heap's allocator, which refuses allocations
 * past the cap.
 */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duktape.h>

#include "core/json.h"
#include "core/time.h"
#include "services/task/task.h"

typedef struct js_run {
    size_t used, cap;
    int64_t deadline_mono;
    bool timed_out, out_of_memory;
    jmp_buf fatal; /* a Duktape fatal error comes back here */
    char fatal_msg[200];
} js_run;

/* Every allocation carries its size in front, so the cap can count frees and reallocs. */
typedef union js_hdr {
    size_t size;
    max_align_t align;
} js_hdr;

static void *js_alloc(void *ud, duk_size_t size)
{
    js_run *r = ud;
    if (size > r->cap - r->used) {
        r->out_of_memory = true;
        return NULL;
    }
    js_hdr *h = malloc(sizeof(*h) + size);
    if (!h)
        return NULL;
    h->size = size;
    r->used += size;
    return h + 1;
}

static void js_free(void *ud, void *ptr)
{
    js_run *r = ud;
    if (!ptr)
        return;
    js_hdr *h = (js_hdr *)ptr - 1;
    r->used -= h->size;
    free(h);
}

static void *js_realloc(void *ud, void *ptr, duk_size_t size)
{
    js_run *r = ud;
    if (!ptr)
        return js_alloc(ud, size);
    if (size == 0) {
        js_free(ud, ptr);
        return NULL;
    }
    js_hdr *h = (js_hdr *)ptr - 1;
    size_t old = h->size;
    if (size > old && size - old > r->cap - r->used) {
        r->out_of_memory = true;
        return NULL;
    }
    js_hdr *n = realloc(h, sizeof(*n) + size);
    if (!n)
        return NULL;
    n->size = size;
    r->used = r->used - old + size;
    return n + 1;
}

/* Called by Duktape's interrupt check (DUK_USE_EXEC_TIMEOUT_CHECK) with the heap's udata. */
int sb_task_js_timed_out(void *udata)
{
    js_run *r = udata;
    if (!r || r->timed_out)
        return r != NULL;
    if (sb_time_mono_ms() < r->deadline_mono)
        return 0;
    r->timed_out = true;
    return 1;
}

static void js_fatal(void *udata, const char *msg)
{
    js_run *r = udata;
    snprintf(r->fatal_msg, sizeof(r->fatal_msg), "%s", msg ? msg : "fatal error");
    longjmp(r->fatal, 1);
}

/* ---- helpers the script can call ---------------------------------------------------------- */

static duk_ret_t h_now(duk_context *ctx)
{
    duk_push_number(ctx, (double)sb_time_now_ms());
    return 1;
}

static duk_ret_t h_iso_time(duk_context *ctx)
{
    char buf[SB_TIME_RFC3339_LEN];
    double ms = duk_is_number(ctx, 0) ? duk_get_number(ctx, 0) : (double)sb_time_now_ms();
    if (!isfinite(ms) || fabs(ms) > 8.64e15)
        return duk_range_error(ctx, "isoTime: not a time");
    sb_time_format((int64_t)ms, buf, sizeof(buf));
    duk_push_string(ctx, buf);
    return 1;
}

static duk_ret_t h_parse_time(duk_context *ctx)
{
    int64_t ms;
    const char *s = duk_is_string(ctx, 0) ? duk_get_string(ctx, 0) : NULL;
    duk_push_number(ctx, s && sb_time_parse(s, &ms) == SB_OK ? (double)ms : NAN);
    return 1;
}

static duk_ret_t h_duration(duk_context *ctx)
{
    int64_t ms;
    const char *s = duk_is_string(ctx, 0) ? duk_get_string(ctx, 0) : NULL;
    duk_push_number(ctx, s && sb_duration_parse(s, &ms) == SB_OK ? (double)ms : NAN);
    return 1;
}

static const duk_function_list_entry helpers[] = {
    {"now", h_now, 0},
    {"isoTime", h_iso_time, DUK_VARARGS},
    {"parseTime", h_parse_time, 1},
    {"duration", h_duration, 1},
    {NULL, NULL, 0},
};

/* Globals: helpers, variables, event; no Duktape object. Runs inside duk_safe_call. */
static duk_ret_t setup_globals(duk_context *ctx, void *udata)
{
    const char *json = udata;
    duk_push_global_object(ctx);
    duk_put_function_list(ctx, -1, helpers);
    duk_del_prop_string(ctx, -1, "Duktape");
    duk_push_string(ctx, json);
    duk_json_decode(ctx, -1);
    duk_get_prop_string(ctx, -1, "event");
    duk_put_prop_string(ctx, -3, "event");
    duk_put_prop_string(ctx, -2, "variables");
    duk_pop(ctx);
    return 0;
}

/* The script's value as JSON text (a string on the stack); runs inside duk_safe_call. */
static duk_ret_t encode_result(duk_context *ctx, void *udata)
{
    (void)udata;
    if (duk_is_undefined(ctx, -1))
        return duk_type_error(ctx, "the script's last statement gave no value");
    duk_json_encode(ctx, -1);
    return 1;
}

static sb_err js_error(js_run *r, duk_context *ctx, const sb_config *cfg, sb_errmsg *em)
{
    if (r->timed_out)
        return sb_fail(em, SB_ERR_TIMEOUT, "stopped after %lld ms (task.js_timeout)",
                       (long long)cfg->task.js_timeout_ms);
    if (r->out_of_memory)
        return sb_fail(em, SB_ERR_TOO_LARGE, "allocation refused at %lld bytes (task.js_memory)",
                       (long long)cfg->task.js_memory);
    return sb_fail(em, SB_ERR_INVALID, "%s", duk_safe_to_string(ctx, -1));
}

/* Runs script in ctx; *json gets the result's JSON text (caller frees). */
static sb_err run_script(js_run *r, duk_context *ctx, const char *script, const char *vars,
                         const sb_config *cfg, char **json, sb_errmsg *em)
{
    if (duk_safe_call(ctx, setup_globals, (void *)vars, 0, 1) != DUK_EXEC_SUCCESS)
        return js_error(r, ctx, cfg, em);
    duk_pop(ctx);
    if (duk_peval_string(ctx, script) != 0)
        return js_error(r, ctx, cfg, em);
    if (duk_safe_call(ctx, encode_result, NULL, 1, 1) != DUK_EXEC_SUCCESS)
        return js_error(r, ctx, cfg, em);
    const char *text = duk_get_string(ctx, -1);
    *json = strdup(text ? text : "null");
    return *json ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

sb_err task_js_eval(const sb_config *cfg, const char *script, const cJSON *vars, bool *triggered,
                    cJSON **extra, sb_errmsg *em)
{
    *extra = NULL;
    *triggered = false;
    char *vjson = sb_json_print(vars), *json = NULL;
    js_run *r = calloc(1, sizeof(*r)); /* outlives a fatal error's leaked heap: never freed then */
    if (!vjson || !r) {
        free(vjson);
        free(r);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    r->cap = (size_t)cfg->task.js_memory;
    r->deadline_mono = sb_time_mono_ms() + cfg->task.js_timeout_ms;
    duk_context *volatile ctx = NULL;
    sb_err rc;
    if (setjmp(r->fatal)) {
        /* The heap is in an unknown state after a fatal error: leave it (and r) allocated
         * rather than touch it again. Duktape's fatal errors are internal failures, rare. */
        rc = sb_fail(em, SB_ERR_INTERNAL, "script engine failed: %s", r->fatal_msg);
        free(vjson);
        return rc;
    }
    ctx = duk_create_heap(js_alloc, js_realloc, js_free, r, js_fatal);
    if (!ctx)
        rc = sb_fail(em, SB_ERR_NOMEM, "cannot create a script heap within task.js_memory");
    else
        rc = run_script(r, ctx, script, vjson, cfg, &json, em);
    if (ctx)
        duk_destroy_heap(ctx);
    free(vjson);
    free(r);
    if (rc != SB_OK)
        return rc;
    cJSON *res = cJSON_Parse(json);
    free(json);
    rc = res ? task_result_parse(res, triggered, extra, em)
             : sb_fail(em, SB_ERR_INVALID, "result is not JSON");
    cJSON_Delete(res);
    return rc;
}
