/* event.c - events and handler calls on the bus (event.h). */
#include "core/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static sb_err publish_obj(sb_bus *bus, const char *topic, cJSON *obj)
{
    char *text = obj ? sb_json_print(obj) : NULL;
    cJSON_Delete(obj);
    if (!text)
        return SB_ERR_NOMEM;
    sb_err rc = sb_bus_publish(bus, topic, text, strlen(text), 1, false);
    free(text);
    return rc;
}

static cJSON *dup_or_object(const cJSON *item)
{
    return item ? cJSON_Duplicate(item, true) : cJSON_CreateObject();
}

sb_err sb_event_publish(sb_bus *bus, const char *type, const char *entity_type,
                        const char *entity_id, const char *quick_id, const cJSON *entity)
{
    char topic[512], qid[320];
    sb_err rc = sb_bus_topic(bus, topic, sizeof(topic), "event/%s/%s", entity_type, entity_id);
    if (rc != SB_OK)
        return rc;
    if (!quick_id) {
        if ((size_t)snprintf(qid, sizeof(qid), "%s:%s", entity_type, entity_id) >= sizeof(qid))
            return SB_ERR_TOO_LARGE;
        quick_id = qid;
    }
    cJSON *ev = cJSON_CreateObject();
    if (!ev || !sb_json_set_str(ev, "type", type) ||
        !sb_json_set_str(ev, "entityType", entity_type) ||
        !sb_json_set_str(ev, "entityId", entity_id) || !sb_json_set_str(ev, "quickId", quick_id) ||
        (entity && !sb_json_set(ev, "entity", cJSON_Duplicate(entity, true)))) {
        cJSON_Delete(ev);
        return SB_ERR_NOMEM;
    }
    return publish_obj(bus, topic, ev);
}

static sb_err copy_member(const cJSON *obj, const char *key, char *dst, size_t len, size_t index,
                          sb_errmsg *em)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return sb_fail(em, SB_ERR_INVALID, "event %zu: '%s' must be a non-empty string", index,
                       key);
    if (strlen(v->valuestring) >= len)
        return sb_fail(em, SB_ERR_TOO_LARGE, "event %zu: '%s' is longer than %zu bytes", index, key,
                       len - 1);
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return SB_OK;
}

static sb_err parse_one(const cJSON *obj, size_t index, sb_event *ev, sb_errmsg *em)
{
    if (!cJSON_IsObject(obj))
        return sb_fail(em, SB_ERR_INVALID, "event %zu: not an object", index);
    sb_err rc;
    if ((rc = copy_member(obj, "type", ev->type, sizeof(ev->type), index, em)) ||
        (rc =
             copy_member(obj, "entityType", ev->entity_type, sizeof(ev->entity_type), index, em)) ||
        (rc = copy_member(obj, "entityId", ev->entity_id, sizeof(ev->entity_id), index, em)))
        return rc;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(obj, "quickId");
    if (cJSON_IsString(q) && q->valuestring[0] && strlen(q->valuestring) < sizeof(ev->quick_id))
        memcpy(ev->quick_id, q->valuestring, strlen(q->valuestring) + 1);
    else
        snprintf(ev->quick_id, sizeof(ev->quick_id), "%s:%s", ev->entity_type, ev->entity_id);
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(obj, "entity");
    if (ent && !cJSON_IsNull(ent)) {
        if (!cJSON_IsObject(ent))
            return sb_fail(em, SB_ERR_INVALID, "event %zu: 'entity' must be an object", index);
        if (!(ev->entity = cJSON_Duplicate(ent, true)))
            return SB_ERR_NOMEM;
    }
    return SB_OK;
}

sb_err sb_event_parse(const void *payload, size_t len, sb_event **out, size_t *n, sb_errmsg *em)
{
    *out = NULL;
    *n = 0;
    cJSON *root;
    sb_err rc = sb_json_parse(payload, len, &root, em);
    if (rc != SB_OK)
        return rc;
    size_t count = cJSON_IsArray(root) ? (size_t)cJSON_GetArraySize(root) : 1;
    sb_event *evs = calloc(count ? count : 1, sizeof(*evs));
    if (!evs) {
        cJSON_Delete(root);
        return SB_ERR_NOMEM;
    }
    size_t i = 0;
    if (cJSON_IsArray(root)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, root)
        {
            if ((rc = parse_one(it, i, &evs[i], em)) != SB_OK)
                break;
            i++;
        }
    } else if ((rc = parse_one(root, 0, &evs[0], em)) == SB_OK) {
        i = 1;
    }
    cJSON_Delete(root);
    if (rc != SB_OK) {
        sb_event_free_all(evs, count);
        return rc;
    }
    *out = evs;
    *n = i;
    return SB_OK;
}

void sb_event_free_all(sb_event *ev, size_t n)
{
    if (!ev)
        return;
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(ev[i].entity);
    free(ev);
}

sb_err sb_handler_call_publish(sb_bus *bus, const char *handler_id, const char *source,
                               const cJSON *parameters, const cJSON *variables)
{
    char topic[512];
    sb_err rc = sb_bus_topic(bus, topic, sizeof(topic), "handler/%s", handler_id);
    if (rc != SB_OK)
        return rc;
    cJSON *call = cJSON_CreateObject();
    if (!call || !sb_json_set_str(call, "id", handler_id) ||
        !sb_json_set_str(call, "source", source) ||
        !sb_json_set(call, "parameters", dup_or_object(parameters)) ||
        !sb_json_set(call, "variables", dup_or_object(variables))) {
        cJSON_Delete(call);
        return SB_ERR_NOMEM;
    }
    return publish_obj(bus, topic, call);
}

static sb_err take_object(cJSON *root, const char *key, cJSON **dst, sb_errmsg *em)
{
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        cJSON_Delete(v);
        *dst = cJSON_CreateObject();
        return *dst ? SB_OK : SB_ERR_NOMEM;
    }
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        return sb_fail(em, SB_ERR_INVALID, "handler call: '%s' must be an object", key);
    }
    *dst = v;
    return SB_OK;
}

sb_err sb_handler_call_parse(const void *payload, size_t len, sb_handler_call *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    cJSON *root;
    sb_err rc = sb_json_parse(payload, len, &root, em);
    if (rc != SB_OK)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sb_fail(em, SB_ERR_INVALID, "handler call: not a JSON object");
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (!cJSON_IsString(id) || !id->valuestring[0])
        rc = sb_fail(em, SB_ERR_INVALID, "handler call: 'id' must be a non-empty string");
    else if (!cJSON_IsString(src))
        rc = sb_fail(em, SB_ERR_INVALID, "handler call: 'source' must be a string");
    else if (!(out->id = strdup(id->valuestring)) || !(out->source = strdup(src->valuestring)))
        rc = SB_ERR_NOMEM;
    if (rc == SB_OK && (rc = take_object(root, "parameters", &out->parameters, em)) == SB_OK)
        rc = take_object(root, "variables", &out->variables, em);
    cJSON_Delete(root);
    if (rc != SB_OK)
        sb_handler_call_free(out);
    return rc;
}

void sb_handler_call_free(sb_handler_call *call)
{
    if (!call)
        return;
    free(call->id);
    free(call->source);
    cJSON_Delete(call->parameters);
    cJSON_Delete(call->variables);
    memset(call, 0, sizeof(*call));
}
