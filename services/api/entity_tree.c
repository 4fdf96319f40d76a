/*
 * entity_tree.c - writes of device-tree records (node, source, field). The processor is their
 * single writer and keeps them in memory (DESIGN.md section 1), so the API never stores them:
 * it sends the edit to the processor over the bus (MQTT v5 request/reply on
 * <p>/ctl/processor/edit and <p>/ctl/processor/delete) and answers the HTTP request from the
 * processor's reply. The processor stores the record and publishes its events.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"

bool api_kind_is_tree(sb_entity_kind kind)
{
    return kind == SB_KIND_NODE || kind == SB_KIND_SOURCE || kind == SB_KIND_FIELD;
}

/*
 * Sends body to <p>/ctl/processor/<cmd> and returns the parsed reply object, or NULL with rs
 * set (503 when no processor answered in time). Runs on the HTTP thread, never in a bus
 * handler (sb_bus_request refuses there).
 */
static cJSON *processor_call(api *a, const char *cmd, const cJSON *body, api_resp *rs)
{
    char topic[256] = "ctl/processor";
    char *text = sb_json_print(body), *reply = NULL;
    sb_errmsg em = {{0}};
    sb_err rc =
        text ? sb_bus_topic(a->bus, topic, sizeof(topic), "ctl/processor/%s", cmd) : SB_ERR_NOMEM;
    cJSON *out = NULL;
    int64_t wait_ms = a->cfg->api.processor_timeout_ms;
    if (rc == SB_OK)
        rc = sb_bus_request(a->bus, topic, text, strlen(text), wait_ms, &reply, NULL, &em);
    if (rc == SB_OK &&
        (sb_json_parse(reply, strlen(reply), &out, NULL) != SB_OK || !cJSON_IsObject(out))) {
        cJSON_Delete(out);
        out = NULL;
        api_errorf(rs, 502, "bad reply", "the processor's reply on %s is not a JSON object", topic);
    }
    if (rc == SB_ERR_TIMEOUT)
        api_errorf(rs, 503, "processor unavailable",
                   "no processor answered on %s within %lld ms: node, source and field records "
                   "are changed by the processor service (switchboard-processor); is it running?",
                   topic, (long long)wait_ms);
    else if (rc != SB_OK)
        api_errorf(rs, 503, "processor unavailable", "%s: %s", topic, sb_errmsg_str(&em, rc));
    free(reply);
    free(text);
    return out;
}

/* Answers rs from the processor's reply: its status, and entity or error. */
static void reply_from(api_resp *rs, cJSON *r, const char *keep)
{
    int status = (int)sb_json_num(r, "status", 500);
    if (status >= 400) {
        api_error(rs, status, status == 404 ? "not found" : "rejected by the processor",
                  sb_json_str(r, "error", NULL));
        return;
    }
    cJSON *body = keep ? cJSON_DetachItemFromObjectCaseSensitive(r, keep) : NULL;
    if (!body) {
        cJSON_DeleteItemFromObjectCaseSensitive(r, "status");
        body = cJSON_Duplicate(r, true);
    }
    api_reply(rs, status, body);
}

sb_err api_tree_edit(api *a, sb_entity_kind kind, const char *id, const cJSON *changes,
                     api_resp *rs)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "kind", sb_entity_kind_name(kind));
    cJSON_AddStringToObject(req, "id", id);
    cJSON_AddItemToObject(req, "changes", cJSON_Duplicate(changes, true));
    cJSON *r = processor_call(a, "edit", req, rs);
    cJSON_Delete(req);
    if (!r)
        return SB_ERR_CLOSED;
    sb_err rc = sb_json_num(r, "status", 500) >= 400 ? SB_ERR_INVALID : SB_OK;
    reply_from(rs, r, "entity");
    cJSON_Delete(r);
    return rc;
}

sb_err api_tree_delete(api *a, sb_entity_kind kind, const cJSON *ids, api_resp *rs, int *deleted)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "kind", sb_entity_kind_name(kind));
    cJSON_AddItemToObject(req, "ids", cJSON_Duplicate(ids, true));
    cJSON *r = processor_call(a, "delete", req, rs);
    cJSON_Delete(req);
    if (!r)
        return SB_ERR_CLOSED;
    sb_err rc = sb_json_num(r, "status", 500) >= 400 ? SB_ERR_INVALID : SB_OK;
    *deleted = (int)sb_json_num(r, "deleted", 0);
    if (rc != SB_OK || kind != SB_KIND_GATEWAY)
        reply_from(rs, r, NULL);
    cJSON_Delete(r);
    return rc;
}
