/*
 * entity_write.c - the write routes: POST /api/<kind> (upsert), DELETE /api/<kind> (ids, with the
 * device tree below a gateway/node/source), POST /api/<kind>/enable|disable. Every change is
 * stored first and then published as an event. Node, source and field records go to the
 * processor instead (entity_tree.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"

/* Keys other services own: a posted document without them keeps the stored ones. */
static const char *const preserved[] = {
    "state", "current", "previous", "lastSeen", "noChangeSince", "passwordHash", "tokenGeneration"};
/* A firmware document keeps its uploaded file unless the body names another one. */
static const char *const firmware_preserved[] = {"file", "size", "checksum"};

/* Parses the JSON body into *out (caller frees); on failure rs holds 400/415. */
static bool body_json(api_req *rq, api_resp *rs, cJSON **out)
{
    *out = NULL;
    if (rq->content_type[0] && strncmp(rq->content_type, "application/json", 16) != 0) {
        api_errorf(rs, 415, "unsupported media type", "Content-Type '%s': send application/json",
                   rq->content_type);
        return false;
    }
    if (!rq->body || !rq->body_len) {
        api_error(rs, 400, "bad request", "a JSON body is required");
        return false;
    }
    sb_errmsg em = {{0}};
    sb_err rc = sb_json_parse(rq->body, rq->body_len, out, &em);
    if (rc != SB_OK) {
        api_error(rs, 400, "malformed JSON", sb_errmsg_str(&em, rc));
        return false;
    }
    return true;
}

/* The body as an array of ids; NULL (and rs set) otherwise. */
static cJSON *body_ids(api_req *rq, api_resp *rs)
{
    cJSON *ids = NULL;
    if (!body_json(rq, rs, &ids))
        return NULL;
    bool ok = cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0;
    for (cJSON *e = ok ? ids->child : NULL; e; e = e->next)
        ok = ok && cJSON_IsString(e) && e->valuestring[0];
    if (!ok) {
        api_error(rs, 400, "bad request", "the body must be a non-empty JSON array of id strings");
        cJSON_Delete(ids);
        return NULL;
    }
    return ids;
}

static void set_now(cJSON *doc)
{
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    sb_json_set_str(doc, "modifiedOn", now);
}

/* Device-tree records are addressed "gw1.12.1"; an id left out is made from the parts. */
static void default_id(sb_entity_kind kind, cJSON *doc)
{
    if (cJSON_GetObjectItemCaseSensitive(doc, "id"))
        return;
    static const char *const parts[] = {"gatewayId", "nodeId", "sourceId", "fieldId"};
    int depth = sb_entity_kind_depth(kind);
    char id[4 * SB_QUICKID_PART_MAX] = "";
    for (int i = 0; depth > 1 && i < depth; i++) {
        const char *p = sb_json_str(doc, parts[i], "");
        if (!sb_quickid_valid_part(p))
            break;
        if (i == depth - 1) {
            strcat(id, p);
            sb_json_set_str(doc, "id", id);
        } else {
            strcat(strcat(id, p), ".");
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(doc, "id")) {
        char uuid[SB_UUID_LEN];
        sb_uuid(uuid);
        sb_json_set_str(doc, "id", uuid);
    }
}

/* Users: a plain "password" becomes "passwordHash"; usernames are unique. 409 / 400 in rs. */
static bool prepare_user(api *a, cJSON *doc, api_resp *rs)
{
    const char *name = sb_json_str(doc, "username", "");
    if (!sb_quickid_valid_part(name)) {
        api_error(rs, 400, "bad request", "username: required, no '.', ':' or spaces");
        return false;
    }
    sb_query q = {0};
    cJSON *v = cJSON_CreateString(name), *found = NULL;
    sb_err rc = sb_query_add(&q, "username", SB_OP_EQ, v, NULL);
    cJSON_Delete(v);
    if (rc == SB_OK)
        rc = sb_store_find(a->store, "user", &q, &found, NULL);
    sb_query_free(&q);
    const cJSON *other = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(found, "data"), 0);
    bool taken = other && strcmp(sb_json_str(other, "id", ""), sb_json_str(doc, "id", "")) != 0;
    cJSON_Delete(found);
    if (rc != SB_OK || taken) {
        api_errorf(rs, rc ? 500 : 409, rc ? "store" : "conflict", "username '%s' %s", name,
                   rc ? "could not be checked" : "is taken");
        return false;
    }
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(doc, "password");
    if (pw) {
        char hash[256];
        sb_errmsg em = {{0}};
        if (strlen(pw->valuestring) < 8) {
            api_error(rs, 400, "bad request", "password: at least 8 characters");
            return false;
        }
        if ((rc = api_password_hash(pw->valuestring, hash, sizeof(hash), &em)) != SB_OK) {
            api_error(rs, 500, "password", sb_errmsg_str(&em, rc));
            return false;
        }
        sb_json_set_str(doc, "passwordHash", hash);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "password");
        api_user_revoke_tokens(doc); /* a password set by an admin logs the user out */
    }
    if (!cJSON_GetObjectItemCaseSensitive(doc, "role"))
        sb_json_set_str(doc, "role", "readonly");
    return true;
}

static void keep_keys(cJSON *doc, const cJSON *old, const char *const *keys, size_t n)
{
    for (size_t i = 0; old && i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(old, keys[i]);
        if (v && !cJSON_GetObjectItemCaseSensitive(doc, keys[i]))
            sb_json_set(doc, keys[i], cJSON_Duplicate(v, true));
    }
}

static void keep_owned_keys(sb_entity_kind kind, cJSON *doc, const cJSON *old)
{
    keep_keys(doc, old, preserved, SB_ARRAY_LEN(preserved));
    if (kind == SB_KIND_FIRMWARE && !cJSON_GetObjectItemCaseSensitive(doc, "data"))
        keep_keys(doc, old, firmware_preserved, SB_ARRAY_LEN(firmware_preserved));
}

void api_entity_save(api *a, api_req *rq, api_resp *rs)
{
    cJSON *doc = NULL, *old = NULL;
    if (!body_json(rq, rs, &doc))
        return;
    const char *kind = sb_entity_kind_name(rq->kind);
    sb_errmsg em = {{0}};
    sb_err rc = api_entity_validate(rq->kind, doc, &em);
    if (rc != SB_OK) {
        api_error(rs, 400, "invalid entity", sb_errmsg_str(&em, rc));
        goto done;
    }
    default_id(rq->kind, doc);
    if (api_kind_is_tree(rq->kind)) { /* the processor's records */
        api_tree_edit(a, rq->kind, sb_json_str(doc, "id", ""), doc, rs);
        goto done;
    }
    /* The password hash moves in before the user checks: a posted password replaces it. */
    rc = sb_store_get(a->store, kind, sb_json_str(doc, "id", ""), &old, &em);
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        goto done;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "passwordHash");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "tokenGeneration");
    keep_owned_keys(rq->kind, doc, old);
    if (rq->kind == SB_KIND_USER && !prepare_user(a, doc, rs))
        goto done;
    char shown[2 * SB_QUICKID_PART_MAX] = "";
    if (rq->kind == SB_KIND_SERVICE_TOKEN &&
        !api_token_prepare(a, rq, doc, old, rs, shown, sizeof(shown)))
        goto done;
    if (api_kind_has_secrets(rq->kind) &&
        (rc = sb_secret_seal_doc(&a->seal, doc, old, &em)) != SB_OK) {
        api_error(rs, api_status_of(rc), "secrets", sb_errmsg_str(&em, rc));
        goto done;
    }
    set_now(doc);
    if ((rc = sb_store_put(a->store, kind, doc, &em)) != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        goto done;
    }
    api_event(a, old ? "updated" : "created", rq->kind, doc);
    api_entity_redact(rq->kind, doc);
    if (shown[0]) /* the only time the token is seen */
        sb_json_set_str(doc, "token", shown);
    api_reply(rs, old ? 200 : 201, doc);
    doc = NULL;
done:
    cJSON_Delete(doc);
    cJSON_Delete(old);
}

/* ---- delete ------------------------------------------------------------------------------
 * Node, source and field records are deleted by the processor (entity_tree.c), with the tree
 * below them; a gateway is the API's, the device tree below it the processor's.
 */

typedef struct doomed {
    cJSON *docs;  /* array of documents to delete */
    cJSON *kinds; /* parallel array of kind numbers */
} doomed;

static void doom(doomed *d, sb_entity_kind k, cJSON *doc)
{
    cJSON_AddItemToArray(d->docs, doc);
    cJSON_AddItemToArray(d->kinds, cJSON_CreateNumber(k));
}

static sb_err collect(api *a, sb_entity_kind kind, const cJSON *ids, doomed *d)
{
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        cJSON *doc = NULL;
        sb_err rc = sb_store_get(a->store, sb_entity_kind_name(kind), id->valuestring, &doc, NULL);
        if (rc == SB_ERR_NOTFOUND)
            continue;
        if (rc != SB_OK)
            return rc;
        doom(d, kind, doc);
    }
    return SB_OK;
}

void api_entity_delete(api *a, api_req *rq, api_resp *rs)
{
    cJSON *ids = body_ids(rq, rs);
    if (!ids)
        return;
    int below = 0;
    if ((api_kind_is_tree(rq->kind) || rq->kind == SB_KIND_GATEWAY) &&
        (api_tree_delete(a, rq->kind, ids, rs, &below) != SB_OK || rs->body)) {
        cJSON_Delete(ids);
        return;
    }
    doomed d = {cJSON_CreateArray(), cJSON_CreateArray()};
    sb_errmsg em = {{0}};
    sb_err rc = collect(a, rq->kind, ids, &d);
    size_t n = (size_t)cJSON_GetArraySize(d.docs);
    sb_store_op *ops = calloc(n ? n : 1, sizeof(*ops));
    if (rc == SB_OK && !ops)
        rc = SB_ERR_NOMEM;
    for (size_t i = 0; rc == SB_OK && i < n; i++) {
        int k = cJSON_GetArrayItem(d.kinds, (int)i)->valueint;
        ops[i] = (sb_store_op){.type = SB_STORE_DELETE,
                               .kind = sb_entity_kind_name((sb_entity_kind)k),
                               .id = sb_json_str(cJSON_GetArrayItem(d.docs, (int)i), "id", "")};
    }
    if (rc == SB_OK)
        rc = sb_store_batch(a->store, ops, n, &em);
    if (rc == SB_OK) {
        for (size_t i = 0; i < n; i++) {
            sb_entity_kind k = (sb_entity_kind)cJSON_GetArrayItem(d.kinds, (int)i)->valueint;
            api_event(a, "deleted", k, cJSON_GetArrayItem(d.docs, (int)i));
            if (k == SB_KIND_FIRMWARE)
                api_firmware_forget(a, cJSON_GetArrayItem(d.docs, (int)i));
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "deleted", (double)n + below);
        api_reply(rs, 200, o);
    } else {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
    }
    free(ops);
    cJSON_Delete(d.docs);
    cJSON_Delete(d.kinds);
    cJSON_Delete(ids);
}

/* ---- enable / disable ------------------------------------------------------------------------ */

static void set_enabled(api *a, api_req *rq, api_resp *rs, bool on)
{
    const char *kind = sb_entity_kind_name(rq->kind);
    if (!api_kind_has_enabled(rq->kind)) {
        api_errorf(rs, 404, "not found", "%s has no enable/disable", kind);
        return;
    }
    cJSON *ids = body_ids(rq, rs), *docs = cJSON_CreateArray(), *id;
    if (!ids)
        goto done;
    cJSON_ArrayForEach(id, ids)
    {
        cJSON *doc = NULL;
        sb_err rc = sb_store_get(a->store, kind, id->valuestring, &doc, NULL);
        if (rc != SB_OK) {
            api_errorf(rs, api_status_of(rc), rc == SB_ERR_NOTFOUND ? "not found" : "store",
                       "%s '%s': %s", kind, id->valuestring, sb_strerror(rc));
            goto done;
        }
        sb_json_set_bool(doc, "enabled", on);
        set_now(doc);
        cJSON_AddItemToArray(docs, doc);
    }
    int n = cJSON_GetArraySize(docs);
    sb_store_op *ops = calloc((size_t)n, sizeof(*ops));
    for (int i = 0; ops && i < n; i++)
        ops[i] =
            (sb_store_op){.type = SB_STORE_PUT, .kind = kind, .doc = cJSON_GetArrayItem(docs, i)};
    sb_errmsg em = {{0}};
    sb_err rc = ops ? sb_store_batch(a->store, ops, (size_t)n, &em) : SB_ERR_NOMEM;
    free(ops);
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        goto done;
    }
    cJSON_ArrayForEach(id, docs) api_event(a, "updated", rq->kind, id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "updated", n);
    api_reply(rs, 200, o);
done:
    cJSON_Delete(ids);
    cJSON_Delete(docs);
}

void api_entity_enable(api *a, api_req *rq, api_resp *rs)
{
    set_enabled(a, rq, rs, true);
}

void api_entity_disable(api *a, api_req *rq, api_resp *rs)
{
    set_enabled(a, rq, rs, false);
}

/* ---- reload ---------------------------------------------------------------------------------- */

/* The service that runs entities of kind k, NULL when none reloads them. */
static const char *reloader(sb_entity_kind k)
{
    switch (k) {
    case SB_KIND_GATEWAY:
        return "gateway";
    case SB_KIND_HANDLER:
        return "handler";
    case SB_KIND_TASK:
        return "task";
    case SB_KIND_SCHEDULE:
        return "scheduler";
    case SB_KIND_FORWARD_PAYLOAD:
        return "forward";
    default:
        return NULL;
    }
}

void api_entity_reload(api *a, api_req *rq, api_resp *rs)
{
    const char *kind = sb_entity_kind_name(rq->kind), *svc = reloader(rq->kind);
    if (!svc) {
        api_errorf(rs, 404, "not found", "%s has no reload", kind);
        return;
    }
    /* No body (or []): every entity of the kind; else the ids, which must exist. */
    bool all = !rq->body_len || strspn(rq->body, " \t\r\n[]") == rq->body_len;
    cJSON *ids = all ? cJSON_CreateArray() : body_ids(rq, rs), *id;
    if (!ids)
        return;
    cJSON_ArrayForEach(id, ids)
    {
        cJSON *doc = NULL;
        sb_err rc = sb_store_get(a->store, kind, id->valuestring, &doc, NULL);
        cJSON_Delete(doc);
        if (rc != SB_OK) {
            api_errorf(rs, api_status_of(rc), rc == SB_ERR_NOTFOUND ? "not found" : "store",
                       "%s '%s': %s", kind, id->valuestring, sb_strerror(rc));
            cJSON_Delete(ids);
            return;
        }
    }
    cJSON *req = cJSON_CreateObject();
    if (cJSON_GetArraySize(ids) == 1)
        sb_json_set_str(req, "id", ids->child->valuestring);
    if (!all)
        sb_json_set(req, "ids", cJSON_Duplicate(ids, true));
    char topic[256], *text = sb_json_print(req);
    cJSON_Delete(req);
    sb_err rc = sb_bus_topic(a->bus, topic, sizeof(topic), "ctl/%s/reload", svc);
    if (rc == SB_OK)
        rc = text ? sb_bus_publish(a->bus, topic, text, strlen(text), 1, false) : SB_ERR_NOMEM;
    free(text);
    if (rc != SB_OK) {
        api_errorf(rs, 503, "bus", "%s: %s", topic, sb_strerror(rc));
        cJSON_Delete(ids);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "service", svc);
    cJSON_AddBoolToObject(o, "all", all);
    cJSON_AddItemToObject(o, "ids", ids);
    api_reply(rs, 202, o);
}
