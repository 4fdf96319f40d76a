/*
 * state.c - the gateway's state {status, message, since}: the gateway service is its single
 * writer. It is stored into the gateway document and published as an event
 * <p>/event/gateway/<id> {"type":"updated","entityType":"gateway",...,"entity":{...}}.
 */
#include "services/gateway/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

static cJSON *state_object(const char *status, const char *message, int64_t since_ms)
{
    char since[SB_TIME_RFC3339_LEN];
    sb_time_format(since_ms, since, sizeof(since));
    cJSON *st = cJSON_CreateObject();
    if (st && (!sb_json_set_str(st, "status", status) ||
               !sb_json_set_str(st, "message", message ? message : "") ||
               !sb_json_set_str(st, "since", since))) {
        cJSON_Delete(st);
        return NULL;
    }
    return st;
}

/* The document with the new state, stored; a minimal one when it is gone. */
static cJSON *store_state(const gw_env *env, const char *id, cJSON *state, bool deleted)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = deleted ? SB_ERR_NOTFOUND : sb_store_get(env->store, "gateway", id, &doc, &em);
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND)
        sb_warn(NULL, "gateway '%s': reading it to store its state: %s", id,
                sb_errmsg_str(&em, rc));
    bool found = rc == SB_OK;
    if (!doc) {
        doc = cJSON_CreateObject();
        sb_json_set_str(doc, "id", id);
    }
    sb_json_set(doc, "state", state);
    if (found && (rc = sb_store_put(env->store, "gateway", doc, &em)) != SB_OK)
        sb_warn(NULL, "gateway '%s': storing its state: %s", id, sb_errmsg_str(&em, rc));
    return doc;
}

void gw_state_publish(const gw_env *env, const char *id, const char *status, const char *message,
                      int64_t since_ms, bool deleted)
{
    cJSON *state = state_object(status, message, since_ms);
    cJSON *ev = cJSON_CreateObject();
    if (!state || !ev) {
        cJSON_Delete(state);
        cJSON_Delete(ev);
        return;
    }
    cJSON *doc = store_state(env, id, state, deleted);
    char quick[SB_MSG_ID_MAX + 16], topic[512];
    snprintf(quick, sizeof(quick), "gateway:%s", id);
    sb_json_set_str(ev, "type", "updated");
    sb_json_set_str(ev, "entityType", "gateway");
    sb_json_set_str(ev, "entityId", id);
    sb_json_set_str(ev, "quickId", quick);
    sb_json_set(ev, "entity", doc);
    char *text = sb_json_print(ev);
    if (text && sb_bus_topic(env->bus, topic, sizeof(topic), "event/gateway/%s", id) == SB_OK)
        sb_bus_publish(env->bus, topic, text, strlen(text), 1, false);
    free(text);
    cJSON_Delete(ev);
}
