/* common.c - plugin lookup, spec parsing and rendering shared by the handler service and tests. */
#include "handlers/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "core/template.h"

const sb_option sb_handler_common_table[] = {
    SB_OPT_ROW_INT(sb_handler_common, retries, "retries", "3", 0, 100,
                   "Further attempts after a failed delivery (0 = none)."),
    SB_OPT_ROW_DURATION(sb_handler_common, retry_delay_ms, "retryDelay", "1s", 1, 3600000,
                        "Wait before the first retry; it doubles with every further one."),
    SB_OPT_ROW_DURATION(sb_handler_common, retry_max_delay_ms, "retryMaxDelay", "1m", 1, 86400000,
                        "The longest wait between two attempts."),
    SB_OPT_END,
};

sb_err sb_handler_plugin_find(const char *type, const sb_handler_plugin **out, sb_errmsg *em)
{
    const void *const *table = (const void *const *)sb_handler_plugins;
    *out = type ? sb_registry_find(table, type) : NULL;
    if (*out)
        return SB_OK;
    char names[256];
    sb_registry_names(table, names, sizeof(names));
    return sb_fail(em, SB_ERR_NOTFOUND, "type '%s': unknown handler (this build has: %s)",
                   type ? type : "", names[0] ? names : "none");
}

/* Moves the common keys of spec (a copy, changed) into a new object. */
static cJSON *take_common(cJSON *spec)
{
    cJSON *common = cJSON_CreateObject();
    for (const sb_option *row = sb_handler_common_table; common && row->key; row++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(spec, row->key);
        if (v)
            cJSON_AddItemToObject(common, row->key, v);
    }
    return common;
}

/* Numbers in the spec's lists become text, so "expectedStatus": [200, 204] reads as a list of
 * strings (the option tables take lists of strings, like a YAML sequence of scalars). */
static bool list_numbers_to_text(cJSON *obj)
{
    for (cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(c) && !list_numbers_to_text(c))
            return false;
        for (cJSON *it = cJSON_IsArray(c) ? c->child : NULL; it; it = it->next) {
            char buf[64];
            if (!cJSON_IsNumber(it) || !sb_json_scalar_text(it, buf, sizeof(buf)))
                continue;
            char *text = strdup(buf);
            if (!text)
                return false;
            it->type = cJSON_String;
            it->valuestring = text;
        }
    }
    return true;
}

/* Drops the members of obj that are templates for a key of a type other than text: they can
 * be checked only once rendered, for a call. */
static void drop_typed_templates(const sb_option *table, cJSON *obj)
{
    for (cJSON *c = obj ? obj->child : NULL, *next; c; c = next) {
        next = c->next;
        const sb_option *row = table && c->string ? sb_options_find(table, c->string) : NULL;
        if (row && row->type != SB_OPT_STRING && row->type != SB_OPT_STRLIST &&
            row->type != SB_OPT_MAP && cJSON_IsString(c) && strstr(c->valuestring, "{{"))
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
    }
}

sb_err sb_handler_spec_parse(const sb_handler_plugin *plugin, const cJSON *spec, unsigned flags,
                             sb_handler_common *common, void **opts, sb_errmsg *em)
{
    *opts = NULL;
    if (spec && !cJSON_IsObject(spec))
        return sb_fail(em, SB_ERR_INVALID, "spec: expected an object");
    void *o = calloc(1, plugin->options_size ? plugin->options_size : 1);
    cJSON *copy = spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject();
    cJSON *cobj = copy ? take_common(copy) : NULL;
    sb_handler_common c = {0};
    sb_err rc = SB_ERR_NOMEM;
    if (!o || !copy || !cobj || !list_numbers_to_text(copy))
        goto fail;
    if (flags & SB_HANDLER_SPEC_TEMPLATES) {
        drop_typed_templates(sb_handler_common_table, cobj);
        drop_typed_templates(plugin->info.options, copy);
    }
    rc = sb_options_defaults(sb_handler_common_table, &c, em);
    if (rc == SB_OK)
        rc = sb_options_from_json(sb_handler_common_table, &c, cobj, "spec", em);
    if (rc == SB_OK && plugin->info.options) {
        rc = sb_options_defaults(plugin->info.options, o, em);
        if (rc == SB_OK)
            rc = sb_options_from_json(plugin->info.options, o, copy, "spec", em);
    } else if (rc == SB_OK && cJSON_GetArraySize(copy) > 0) {
        rc = sb_fail(em, SB_ERR_INVALID, "spec.%s: unknown key (handler '%s' has no options)",
                     copy->child->string, plugin->info.name);
    }
    if (rc == SB_OK && plugin->check)
        rc = plugin->check(o, em);
    if (rc != SB_OK)
        goto fail;
    if (common)
        *common = c;
    cJSON_Delete(copy);
    cJSON_Delete(cobj);
    *opts = o;
    return SB_OK;
fail:
    cJSON_Delete(copy);
    cJSON_Delete(cobj);
    sb_handler_options_free(plugin, o);
    return rc == SB_ERR_NOMEM ? sb_fail(em, rc, "out of memory parsing the spec") : rc;
}

void sb_handler_options_free(const sb_handler_plugin *plugin, void *opts)
{
    if (!opts)
        return;
    if (plugin && plugin->info.options)
        sb_options_free(plugin->info.options, opts);
    free(opts);
}

/* Renders one string; a plain string (no "{{") is copied as it is. */
static sb_err render_text(const char *text, const cJSON *vars, const char *path, char **out,
                          cJSON *warnings, sb_errmsg *em)
{
    if (!strstr(text, "{{")) {
        *out = strdup(text);
        return *out ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    cJSON *warn = NULL;
    sb_errmsg why = {{0}};
    sb_err rc = sb_tmpl_render(text, vars, NULL, out, warnings ? &warn : NULL, &why);
    if (rc != SB_OK)
        return sb_fail(em, SB_ERR_INVALID, "%s: %s", path, sb_errmsg_str(&why, rc));
    const cJSON *w;
    cJSON_ArrayForEach(w, warn)
    {
        char line[512];
        snprintf(line, sizeof(line), "%s: %s", path, cJSON_IsString(w) ? w->valuestring : "?");
        cJSON_AddItemToArray(warnings, cJSON_CreateString(line));
    }
    cJSON_Delete(warn);
    return SB_OK;
}

/* Renders the strings of item in place; path names item in messages. */
static sb_err render_tree(cJSON *item, const cJSON *vars, const char *path, cJSON *warnings,
                          sb_errmsg *em)
{
    if (cJSON_IsString(item)) {
        char *text = NULL;
        sb_err rc = render_text(item->valuestring, vars, path, &text, warnings, em);
        if (rc != SB_OK)
            return rc;
        /* cJSON_SetValuestring only shrinks in place; swap the buffer ourselves. */
        cJSON_free(item->valuestring);
        item->valuestring = text;
        return SB_OK;
    }
    int i = 0;
    for (cJSON *c = item->child; c; c = c->next, i++) {
        char sub[256];
        if (c->string)
            snprintf(sub, sizeof(sub), "%s.%s", path, c->string);
        else
            snprintf(sub, sizeof(sub), "%s.%d", path, i);
        sb_err rc = render_tree(c, vars, sub, warnings, em);
        if (rc != SB_OK)
            return rc;
    }
    return SB_OK;
}

sb_err sb_handler_spec_render(const cJSON *spec, const cJSON *vars, cJSON **out, cJSON *warnings,
                              sb_errmsg *em)
{
    *out = spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject();
    if (!*out)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = render_tree(*out, vars, "spec", warnings, em);
    if (rc != SB_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

cJSON *sb_handler_call_vars(const sb_handler_call *call, const char *handler_id)
{
    cJSON *vars = cJSON_IsObject(call->variables) ? cJSON_Duplicate(call->variables, 1)
                                                  : cJSON_CreateObject();
    cJSON *params = cJSON_IsObject(call->parameters) ? cJSON_Duplicate(call->parameters, 1)
                                                     : cJSON_CreateObject();
    if (!vars || !params)
        goto fail;
    for (cJSON *p = params->child; p; p = p->next) {
        char path[256];
        snprintf(path, sizeof(path), "parameters.%s", p->string ? p->string : "");
        if (cJSON_IsString(p) && render_tree(p, vars, path, NULL, NULL) != SB_OK)
            continue; /* a malformed template parameter stays as it was sent */
    }
    for (const cJSON *p = params->child; p; p = p->next)
        if (p->string && !sb_json_set(vars, p->string, cJSON_Duplicate(p, 1)))
            goto fail;
    if (!sb_json_set(vars, "parameters", params)) {
        params = NULL;
        goto fail;
    }
    params = NULL;
    if (!sb_json_set_str(vars, "source", call->source ? call->source : "") ||
        !sb_json_set_str(vars, "handler", handler_id ? handler_id : ""))
        goto fail;
    return vars;
fail:
    cJSON_Delete(vars);
    cJSON_Delete(params);
    return NULL;
}
