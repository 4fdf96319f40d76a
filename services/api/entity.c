/*
 * entity.c - what the API knows about entity documents: the known keys of each kind and their
 * JSON types (for validating posted documents), which kinds can be enabled, redaction, change
 * events, and the read routes GET /api/<kind> and GET /api/<kind>/{id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"

typedef enum { T_STR, T_BOOL, T_NUM, T_OBJ, T_ARR, T_STRMAP } key_type;

typedef struct key_rule {
    const char *key;
    key_type type;
} key_rule;

/* Keys every kind may carry. */
static const key_rule common_keys[] = {
    {"id", T_STR},       {"name", T_STR},   {"description", T_STR}, {"labels", T_STRMAP},
    {"enabled", T_BOOL}, {"others", T_OBJ}, {"modifiedOn", T_STR},  {"state", T_OBJ},
    {"lastSeen", T_STR}, {"type", T_STR},   {"spec", T_OBJ},        {NULL, T_STR},
};

static const key_rule gateway_keys[] = {
    {"provider", T_OBJ},       {"ackConfig", T_OBJ}, {"messageLogger", T_OBJ},
    {"reconnectDelay", T_STR}, {NULL, T_STR},
};
static const key_rule node_keys[] = {{"gatewayId", T_STR}, {"nodeId", T_STR}, {NULL, T_STR}};
static const key_rule source_keys[] = {
    {"gatewayId", T_STR}, {"nodeId", T_STR}, {"sourceId", T_STR}, {NULL, T_STR}};
static const key_rule field_keys[] = {
    {"gatewayId", T_STR},     {"nodeId", T_STR},    {"sourceId", T_STR},  {"fieldId", T_STR},
    {"metricType", T_STR},    {"unit", T_STR},      {"current", T_OBJ},   {"previous", T_OBJ},
    {"noChangeSince", T_STR}, {"readOnly", T_BOOL}, {"formatter", T_OBJ}, {NULL, T_STR},
};
static const key_rule task_keys[] = {
    {"ignoreDuplicate", T_BOOL}, {"autoDisable", T_BOOL}, {"evaluationType", T_STR},
    {"evaluationConfig", T_OBJ}, {"dampening", T_OBJ},    {"handlers", T_ARR},
    {"triggerOnEvent", T_BOOL},  {"eventFilter", T_OBJ},  {"executionInterval", T_STR},
    {"remoteCall", T_BOOL},      {NULL, T_STR},
};
static const key_rule schedule_keys[] = {
    {"validity", T_OBJ},  {"handlerParameters", T_OBJ}, {"handlers", T_ARR},
    {"variables", T_OBJ}, {"customVariables", T_OBJ},   {NULL, T_STR},
};
/* As gateways/mysensors/mys_fw.c reads them; file, size and checksum are set by an upload. */
static const key_rule firmware_keys[] = {
    {"type", T_NUM}, {"version", T_NUM},  {"data", T_STR}, {"file", T_STR},
    {"size", T_NUM}, {"checksum", T_OBJ}, {NULL, T_STR},
};
static const key_rule dashboard_keys[] = {{"widgets", T_ARR}, {"favorite", T_BOOL}, {NULL, T_STR}};
static const key_rule fwd_keys[] = {{"srcFieldId", T_STR}, {"dstFieldId", T_STR}, {NULL, T_STR}};
static const key_rule user_keys[] = {
    {"username", T_STR}, {"password", T_STR}, {"email", T_STR},
    {"fullName", T_STR}, {"role", T_STR},     {NULL, T_STR},
};
static const key_rule token_keys[] = {
    {"userId", T_STR}, {"role", T_STR}, {"expiresAt", T_STR}, {NULL, T_STR}};
static const key_rule repo_keys[] = {{"readOnly", T_BOOL}, {"data", T_OBJ}, {NULL, T_STR}};
static const key_rule no_keys[] = {{NULL, T_STR}};

static const key_rule *kind_keys(sb_entity_kind k)
{
    switch (k) {
    case SB_KIND_GATEWAY:
        return gateway_keys;
    case SB_KIND_NODE:
        return node_keys;
    case SB_KIND_SOURCE:
        return source_keys;
    case SB_KIND_FIELD:
        return field_keys;
    case SB_KIND_TASK:
        return task_keys;
    case SB_KIND_SCHEDULE:
        return schedule_keys;
    case SB_KIND_FIRMWARE:
        return firmware_keys;
    case SB_KIND_DASHBOARD:
        return dashboard_keys;
    case SB_KIND_FORWARD_PAYLOAD:
        return fwd_keys;
    case SB_KIND_USER:
        return user_keys;
    case SB_KIND_SERVICE_TOKEN:
        return token_keys;
    case SB_KIND_DATA_REPOSITORY:
        return repo_keys;
    default:
        return no_keys;
    }
}

bool api_kind_has_enabled(sb_entity_kind k)
{
    return k == SB_KIND_GATEWAY || k == SB_KIND_TASK || k == SB_KIND_SCHEDULE ||
           k == SB_KIND_HANDLER || k == SB_KIND_FORWARD_PAYLOAD || k == SB_KIND_SERVICE_TOKEN;
}

static const char *type_word(key_type t)
{
    static const char *const w[] = {"a string",  "a boolean", "a number",
                                    "an object", "an array",  "an object of strings"};
    return w[t];
}

static bool type_ok(key_type t, const cJSON *v)
{
    switch (t) {
    case T_STR:
        return cJSON_IsString(v);
    case T_BOOL:
        return cJSON_IsBool(v);
    case T_NUM:
        return cJSON_IsNumber(v);
    case T_OBJ:
        return cJSON_IsObject(v) || cJSON_IsNull(v);
    case T_ARR:
        return cJSON_IsArray(v) || cJSON_IsNull(v);
    case T_STRMAP:
        if (cJSON_IsNull(v))
            return true;
        if (!cJSON_IsObject(v))
            return false;
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return false;
        return true;
    }
    return false;
}

static bool has_rule(const key_rule *rules, const char *key)
{
    for (const key_rule *r = rules; rules && r->key; r++)
        if (strcmp(r->key, key) == 0)
            return true;
    return false;
}

/* Appends "key: expected X" to em for every wrong-typed key of rules present in doc; keys that
 * override names a rule of its own (a firmware's numeric "type") are skipped. */
static int check_rules(const key_rule *rules, const key_rule *override, const cJSON *doc,
                       sb_errmsg *em)
{
    int bad = 0;
    for (const key_rule *r = rules; r->key; r++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, r->key);
        if (!v || type_ok(r->type, v) || has_rule(override, r->key))
            continue;
        size_t used = strlen(em->text);
        snprintf(em->text + used, sizeof(em->text) - used, "%s%s: expected %s", used ? "; " : "",
                 r->key, type_word(r->type));
        bad++;
    }
    return bad;
}

static const char *const tree_id_forms[] = {
    "<gatewayId>.<nodeId>",
    "<gatewayId>.<nodeId>.<sourceId>",
    "<gatewayId>.<nodeId>.<sourceId>.<fieldId>",
};

/* Whether id is depth dot-separated parts, each a valid id part ("gw1.12" for a node). */
static bool tree_id_valid(const char *id, int depth)
{
    char part[SB_QUICKID_PART_MAX];
    int n = 0;
    for (const char *s = id;; n++) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len >= sizeof(part))
            return false;
        memcpy(part, s, len);
        part[len] = '\0';
        if (!sb_quickid_valid_part(part))
            return false;
        if (!dot)
            break;
        s = dot + 1;
    }
    return n + 1 == depth;
}

/* Part i of a dotted device-tree id into out ("" when it has no such part). */
static void tree_id_part(const char *id, int i, char *out, size_t len)
{
    const char *s = id;
    for (int k = 0; k < i && s; k++)
        s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL;
    size_t n = s ? strcspn(s, ".") : 0;
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s ? s : "");
}

sb_err api_entity_validate(sb_entity_kind kind, const cJSON *doc, sb_errmsg *em)
{
    if (!cJSON_IsObject(doc))
        return sb_fail(em, SB_ERR_INVALID, "the body must be a JSON object");
    sb_errmsg local = {{0}};
    const key_rule *own = kind_keys(kind);
    int bad = check_rules(common_keys, own, doc, &local) + check_rules(own, NULL, doc, &local);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    int depth = sb_entity_kind_depth(kind);
    size_t used = strlen(local.text);
    if (cJSON_IsString(id) && depth > 1 && !tree_id_valid(id->valuestring, depth)) {
        snprintf(local.text + used, sizeof(local.text) - used,
                 "%sid: '%.64s' is not a valid %s id (%s)", used ? "; " : "", id->valuestring,
                 sb_entity_kind_name(kind), tree_id_forms[depth - 2]);
        bad++;
        id = NULL; /* names no parts */
    } else if (cJSON_IsString(id) && depth <= 1 && !sb_quickid_valid_part(id->valuestring)) {
        return sb_fail(em, SB_ERR_INVALID, "id: '%.64s' is not a valid id (no '.', ':' or spaces)",
                       id->valuestring);
    }
    /* A device-tree record is addressed by its parts: each one is required, unless the id
     * ("gw1.12") names them; then those given must match it. */
    static const char *const parts[] = {"gatewayId", "nodeId", "sourceId", "fieldId"};
    for (int i = 0; kind >= SB_KIND_NODE && kind <= SB_KIND_FIELD && i < depth; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, parts[i]);
        char want[SB_QUICKID_PART_MAX] = "";
        if (cJSON_IsString(id))
            tree_id_part(id->valuestring, i, want, sizeof(want));
        const char *problem = NULL;
        if (v && cJSON_IsString(v) && sb_quickid_valid_part(v->valuestring))
            problem = want[0] && strcmp(want, v->valuestring) != 0 ? "does not match the id" : NULL;
        else if (v && cJSON_IsString(v))
            problem = "not a valid id (no '.', ':' or spaces)";
        else if (!v && !want[0])
            problem = "required";
        if (!problem) /* a wrong type is already named */
            continue;
        used = strlen(local.text);
        snprintf(local.text + used, sizeof(local.text) - used, "%s%s: %s", used ? "; " : "",
                 parts[i], problem);
        bad++;
    }
    if (bad)
        return sb_fail(em, SB_ERR_INVALID, "%s", local.text);
    if (kind == SB_KIND_USER) {
        const char *role = sb_json_str(doc, "role", "readonly");
        if (api_role_parse(role) == API_ROLE_NONE)
            return sb_fail(em, SB_ERR_INVALID, "role: '%.32s' is not admin, readwrite or readonly",
                           role);
    }
    return SB_OK;
}

bool api_kind_has_secrets(sb_entity_kind k)
{
    return k != SB_KIND_USER && k != SB_KIND_SERVICE_TOKEN && k != SB_KIND_NODE &&
           k != SB_KIND_SOURCE && k != SB_KIND_FIELD && k != SB_KIND_FIRMWARE;
}

void api_entity_redact(sb_entity_kind kind, cJSON *doc)
{
    if (!doc)
        return;
    if (kind == SB_KIND_USER) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "password");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "passwordHash");
    } else if (kind == SB_KIND_SERVICE_TOKEN) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "tokenHash");
    } else if (api_kind_has_secrets(kind)) {
        sb_secret_redact_doc(doc);
    }
}

/* "node:gw1.12" for device-tree records, "<kind>:<id>" for the rest. */
static void quick_id(sb_entity_kind kind, const cJSON *doc, char *buf, size_t len)
{
    const char *id = sb_json_str(doc, "id", "");
    sb_quickid q;
    int depth = sb_entity_kind_depth(kind);
    if (depth > 1 &&
        sb_quickid_make(&q, kind, sb_json_str(doc, "gatewayId", NULL),
                        sb_json_str(doc, "nodeId", NULL),
                        depth > 2 ? sb_json_str(doc, "sourceId", NULL) : NULL,
                        depth > 3 ? sb_json_str(doc, "fieldId", NULL) : NULL) == SB_OK &&
        q.n_ids == depth && sb_quickid_format(&q, buf, len) == SB_OK)
        return;
    snprintf(buf, len, "%s:%s", sb_entity_kind_name(kind), id);
}

void api_event(api *a, const char *type, sb_entity_kind kind, const cJSON *doc)
{
    const char *id = sb_json_str(doc, "id", "");
    char topic[512], qid[SB_QUICKID_MAX];
    if (sb_bus_topic(a->bus, topic, sizeof(topic), "event/%s/%s", sb_entity_kind_name(kind), id))
        return;
    quick_id(kind, doc, qid, sizeof(qid));
    cJSON *ev = cJSON_CreateObject(), *ent = cJSON_Duplicate(doc, true);
    api_entity_redact(kind, ent);
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddStringToObject(ev, "entityType", sb_entity_kind_name(kind));
    cJSON_AddStringToObject(ev, "entityId", id);
    cJSON_AddStringToObject(ev, "quickId", qid);
    cJSON_AddItemToObject(ev, "entity", ent);
    char *text = sb_json_print(ev);
    cJSON_Delete(ev);
    sb_err rc = text ? sb_bus_publish(a->bus, topic, text, strlen(text), 1, false) : SB_ERR_NOMEM;
    if (rc != SB_OK)
        sb_warn(&a->log, "event %s %s: not published: %s", type, topic, sb_strerror(rc));
    free(text);
}

/* ---- read routes --------------------------------------------------------------------------- */

void api_entity_list(api *a, api_req *rq, api_resp *rs)
{
    sb_query q;
    sb_errmsg em = {{0}};
    sb_err rc = api_params_query(&rq->params, &q, &em);
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "bad query", sb_errmsg_str(&em, rc));
        return;
    }
    cJSON *out = NULL;
    rc = sb_store_find(a->store, sb_entity_kind_name(rq->kind), &q, &out, &em);
    sb_query_free(&q);
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        return;
    }
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(out, "data"))
        api_entity_redact(rq->kind, e);
    api_reply(rs, 200, out);
}

void api_entity_get(api *a, api_req *rq, api_resp *rs)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(a->store, sb_entity_kind_name(rq->kind), rq->id, &doc, &em);
    if (rc == SB_ERR_NOTFOUND) {
        api_errorf(rs, 404, "not found", "%s '%s' does not exist", sb_entity_kind_name(rq->kind),
                   rq->id);
        return;
    }
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        return;
    }
    api_entity_redact(rq->kind, doc);
    api_reply(rs, 200, doc);
}
