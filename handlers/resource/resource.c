/*
 * resource.c - the resource handler: changes something Switchboard controls. By quick id (or,
 * for fields, by labels): set a field, a node action, enable/disable/reload a task, schedule,
 * handler or gateway, set a key of a config entity (act.c). With a delay the action is stored
 * and runs later, also after a restart (delay.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "core/time.h"
#include "handlers/resource/resource.h"

typedef struct resource_opts {
    char *resource;
    cJSON *labels;
    char *payload;
    char *key_path;
    int64_t delay_ms;
    int64_t api_timeout_ms;
} resource_opts;

static const sb_option resource_table[] = {
    SB_OPT_ROW_STR(resource_opts, resource, "resource", "",
                   "Quick id of what to change: field:gw.node.source.field, node:gw.node, "
                   "task:id, schedule:id, handler:id, gateway:id (a template)."),
    SB_OPT_ROW_MAP(resource_opts, labels, "labels",
                   "Instead of resource: every field carrying all of these labels."),
    SB_OPT_ROW_STR(resource_opts, payload, "payload", "",
                   "The value to set (toggle flips a binary field), the node action, or "
                   "enable/disable/reload (a template)."),
    SB_OPT_ROW_STR(resource_opts, key_path, "keyPath", "",
                   "Set this key of a config entity to the payload instead (through the API)."),
    SB_OPT_ROW_DURATION(resource_opts, delay_ms, "delay", "0", 0, 366.0 * 86400000,
                        "Run the action this long after the call; kept across restarts."),
    SB_OPT_ROW_DURATION(resource_opts, api_timeout_ms, "apiTimeout", "5s", 100, 600000,
                        "How long to wait for the API's answer (entity actions)."),
    SB_OPT_END,
};

static sb_err resource_check(const void *opts, sb_errmsg *em)
{
    const resource_opts *o = opts;
    bool by_id = o->resource && *o->resource, by_labels = cJSON_GetArraySize(o->labels) > 0;
    if (by_id == by_labels)
        return sb_fail(em, SB_ERR_INVALID, "spec: give either resource or labels");
    if ((!o->payload || !*o->payload) && (!o->key_path || !*o->key_path))
        return sb_fail(em, SB_ERR_INVALID, "spec.payload: required");
    return SB_OK;
}

static cJSON *action_of(const resource_opts *o)
{
    cJSON *a = cJSON_CreateObject();
    bool ok = a && sb_json_set_str(a, "payload", o->payload ? o->payload : "");
    if (ok && o->resource && *o->resource)
        ok = sb_json_set_str(a, "resource", o->resource);
    if (ok && cJSON_GetArraySize(o->labels) > 0)
        ok = sb_json_set(a, "labels", cJSON_Duplicate(o->labels, 1));
    if (ok && o->key_path && *o->key_path)
        ok = sb_json_set_str(a, "keyPath", o->key_path);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

typedef struct resource_inst {
    rs_delay *delay;
} resource_inst;

static sb_err resource_create(const sb_handler_host *host, const void *opts, void **out,
                              sb_errmsg *em)
{
    const resource_opts *o = opts;
    resource_inst *r = calloc(1, sizeof(*r));
    if (!r)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = rs_delay_start(host, o->api_timeout_ms, &r->delay, em);
    if (rc != SB_OK) {
        free(r);
        return rc;
    }
    *out = r;
    return SB_OK;
}

static sb_err resource_run(void *inst, const sb_handler_host *host, const void *opts,
                           const sb_handler_call *call, sb_errmsg *em)
{
    (void)call;
    resource_inst *r = inst;
    const resource_opts *o = opts;
    sb_err rc = resource_check(o, em); /* what the templates rendered */
    cJSON *action = rc == SB_OK ? action_of(o) : NULL;
    if (rc == SB_OK && !action)
        rc = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (rc == SB_OK)
        rc = o->delay_ms > 0 ? rs_delay_add(r->delay, action, sb_time_now_ms() + o->delay_ms, em)
                             : rs_act(host, action, o->api_timeout_ms, em);
    cJSON_Delete(action);
    return rc;
}

static void resource_destroy(void *inst)
{
    resource_inst *r = inst;
    if (!r)
        return;
    rs_delay_stop(r->delay);
    free(r);
}

const sb_handler_plugin sb_handler_plugin_resource = {
    .info = {.name = "resource",
             .version = "1",
             .description = "sets a field, runs a node action or enables/disables/reloads an "
                            "entity, now or after a delay",
             .options = resource_table},
    .options_size = sizeof(resource_opts),
    .check = resource_check,
    .create = resource_create,
    .run = resource_run,
    .destroy = resource_destroy,
};
