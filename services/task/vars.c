/*
 * vars.c - a task's variables for one evaluation. Each entry of "variables" is, in document
 * order (so a template can use the variables before it):
 *   - "kind:id[.key.path]"  a quick id: the entity from the store (or from the trigger event when
 *                            it is about that entity), then the key path into it;
 *   - {"kind", "labels", "filters", "keyPath"}  every entity of kind with those labels (and
 *                            store filters): an array of the entities or of their key path;
 *   - a string with "{{"     rendered through the template engine with the variables so far;
 *   - anything else          the literal value.
 * The trigger event is the variable "event" ({type, entityType, entityId, quickId, entity}).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/quickid.h"
#include "core/template.h"
#include "services/task/task.h"

__attribute__((format(printf, 3, 4))) static void warn(cJSON *warnings, const char *name,
                                                       const char *fmt, ...)
{
    char text[600], buf[720];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(buf, sizeof(buf), "variable '%.100s': %.590s", name, text);
    cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
}

static cJSON *event_object(const sb_event *ev)
{
    cJSON *o = cJSON_CreateObject();
    if (o && sb_json_set_str(o, "type", ev->type) &&
        sb_json_set_str(o, "entityType", ev->entity_type) &&
        sb_json_set_str(o, "entityId", ev->entity_id) &&
        sb_json_set_str(o, "quickId", ev->quick_id) &&
        (!ev->entity || sb_json_set(o, "entity", cJSON_Duplicate(ev->entity, true))))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* The value of a key path (NULL/"" = the whole document) as a new item; null when absent. */
static cJSON *pick(const cJSON *doc, const char *path)
{
    const cJSON *v = path && path[0] ? sb_json_path(doc, path) : doc;
    return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

static cJSON *by_quickid(task_svc *s, const sb_quickid *q, const sb_event *ev, const char *name,
                         cJSON *warnings)
{
    char id[SB_QUICKID_MAX] = "", whole[SB_QUICKID_MAX + 32];
    for (int i = 0; i < q->n_ids; i++) {
        size_t used = strlen(id);
        snprintf(id + used, sizeof(id) - used, "%s%s", i ? "." : "", q->ids[i]);
    }
    const char *kind = sb_entity_kind_name(q->kind);
    snprintf(whole, sizeof(whole), "%s:%s", kind, id);
    if (ev && ev->entity && strcmp(ev->quick_id, whole) == 0)
        return pick(ev->entity, q->key_path);
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(s->store, kind, id, &doc, &em);
    if (rc != SB_OK) {
        warn(warnings, name, "%s: %s", whole,
             rc == SB_ERR_NOTFOUND ? "not found" : sb_errmsg_str(&em, rc));
        return cJSON_CreateNull();
    }
    cJSON *v = pick(doc, q->key_path);
    cJSON_Delete(doc);
    return v;
}

static sb_err selector_query(const cJSON *sel, sb_query *q, sb_errmsg *em)
{
    sb_err rc = sb_query_from_json(cJSON_GetObjectItemCaseSensitive(sel, "filters"), NULL, q, em);
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(sel, "labels"))
    {
        char key[300];
        if (rc != SB_OK)
            break;
        snprintf(key, sizeof(key), "labels.%s", l->string);
        rc = sb_query_add(q, key, SB_OP_EQ, l, em);
    }
    return rc;
}

static cJSON *by_selector(task_svc *s, const cJSON *sel, const char *name, cJSON *warnings)
{
    sb_entity_kind kind;
    if (sb_entity_kind_parse(sb_json_str(sel, "kind", ""), &kind) != SB_OK) {
        warn(warnings, name, "%s", "selector: 'kind' must name an entity kind");
        return cJSON_CreateNull();
    }
    sb_query q = {0};
    cJSON *found = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = selector_query(sel, &q, &em);
    if (rc == SB_OK)
        rc = sb_store_find(s->store, sb_entity_kind_name(kind), &q, &found, &em);
    sb_query_free(&q);
    if (rc != SB_OK) {
        warn(warnings, name, "%s", sb_errmsg_str(&em, rc));
        return cJSON_CreateNull();
    }
    const char *path = sb_json_str(sel, "keyPath", NULL);
    cJSON *out = cJSON_CreateArray(), *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(found, "data"))
        cJSON_AddItemToArray(out, pick(d, path));
    cJSON_Delete(found);
    return out;
}

static cJSON *render(const char *text, const cJSON *vars, const char *name, cJSON *warnings)
{
    char *out = NULL;
    cJSON *tw = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_tmpl_render(text, vars, NULL, &out, &tw, &em);
    if (rc != SB_OK) {
        warn(warnings, name, "%s", sb_errmsg_str(&em, rc));
        return cJSON_CreateNull();
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, tw) warn(warnings, name, "%s", w->valuestring);
    cJSON_Delete(tw);
    cJSON *v = cJSON_CreateString(out);
    free(out);
    return v;
}

static cJSON *resolve_one(task_svc *s, const cJSON *spec, const cJSON *vars, const sb_event *ev,
                          cJSON *warnings)
{
    const char *name = spec->string;
    if (cJSON_IsString(spec)) {
        const char *text = spec->valuestring;
        if (strstr(text, "{{"))
            return render(text, vars, name, warnings);
        sb_quickid q;
        if (strchr(text, ':') && !strchr(text, ' ') && sb_quickid_parse(text, &q, NULL) == SB_OK)
            return by_quickid(s, &q, ev, name, warnings);
        return cJSON_CreateString(text);
    }
    if (cJSON_IsObject(spec) && cJSON_GetObjectItemCaseSensitive(spec, "kind"))
        return by_selector(s, spec, name, warnings);
    return cJSON_Duplicate(spec, true);
}

cJSON *task_vars_resolve(task_svc *s, const task *t, const sb_event *ev, cJSON *warnings)
{
    cJSON *vars = cJSON_CreateObject();
    if (!vars)
        return NULL;
    if (ev && !sb_json_set(vars, "event", event_object(ev))) {
        cJSON_Delete(vars);
        return NULL;
    }
    const cJSON *spec;
    cJSON_ArrayForEach(spec, t->variables)
    {
        cJSON *v = resolve_one(s, spec, vars, ev, warnings);
        if (!v || !sb_json_set(vars, spec->string, v)) {
            cJSON_Delete(vars);
            return NULL;
        }
    }
    return vars;
}
