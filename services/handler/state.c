/*
 * state.c - the handler's state {status, message, since}: the handler service is its single
 * writer. It is stored into the handler document and published as an "updated" event
 * <p>/event/handler/<id> carrying the document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "services/handler/service_priv.h"

void hd_state_publish(const hd_env *env, const char *id, const char *status, const char *message)
{
    char since[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), since, sizeof(since));
    cJSON *st = cJSON_CreateObject();
    if (!st || !sb_json_set_str(st, "status", status) ||
        !sb_json_set_str(st, "message", message ? message : "") ||
        !sb_json_set_str(st, "since", since)) {
        cJSON_Delete(st);
        return;
    }
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(env->store, "handler", id, &doc, &em);
    if (rc != SB_OK) { /* deleted meanwhile: nothing to store, nobody to tell */
        if (rc != SB_ERR_NOTFOUND)
            sb_warn(NULL, "handler '%s': reading it to store its state: %s", id,
                    sb_errmsg_str(&em, rc));
        cJSON_Delete(st);
        return;
    }
    sb_json_set(doc, "state", st);
    if ((rc = sb_store_put(env->store, "handler", doc, &em)) != SB_OK)
        sb_warn(NULL, "handler '%s': storing its state: %s", id, sb_errmsg_str(&em, rc));
    char quick[320];
    snprintf(quick, sizeof(quick), "handler:%s", id);
    if ((rc = sb_event_publish(env->bus, "updated", "handler", id, quick, doc)) != SB_OK)
        sb_warn(NULL, "handler '%s': publishing its state: %s", id, sb_strerror(rc));
    cJSON_Delete(doc);
}
