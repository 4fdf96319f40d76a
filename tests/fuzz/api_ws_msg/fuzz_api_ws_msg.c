/*
 * fuzz_api_ws_msg.c - fuzzes the websocket client's subscribe/unsubscribe messages
 * (services/api/ws_sub.c): the input is a JSON message; it is added as a subscription, matched
 * against a few events and removed again. Checks: a refusal comes with a message, a subscription
 * that was added is counted, and removing by its id takes it away.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "services/api/ws.h"

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_api_ws_msg: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *msg = NULL;
    if (sb_json_parse((const char *)data, size, &msg, NULL) != SB_OK)
        return 0;
    ws_client c;
    memset(&c, 0, sizeof(c));
    char id[64] = "";
    sb_errmsg em = {{0}};
    size_t before = c.n_subs;
    if (ws_sub_add(&c, msg, id, sizeof(id), &em) != SB_OK) {
        check(em.text[0] != '\0', "a refusal without a message");
        check(c.n_subs == before, "a refused subscription was kept");
    } else {
        check(c.n_subs == before + 1, "an accepted subscription is not counted");
        static const ws_event_info events[] = {
            {"updated", "field", SB_KIND_FIELD, "field:gw1.12.1.V_TEMP", "gw1.12.1.V_TEMP",
             "gw1.12.1.V_TEMP"},
            {"created", "node", SB_KIND_NODE, "node:gw1.12", "gw1.12", "gw1.12"},
            {"deleted", "task", SB_KIND_TASK, "task:t1", "t1", "t1"},
            {"updated", "nonsense", -1, "", "", ""},
        };
        for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
            (void)ws_client_wants(&c, &events[i]);
        cJSON *un = cJSON_CreateObject();
        cJSON_AddStringToObject(un, "type", "unsubscribe");
        cJSON_AddStringToObject(un, "id", id);
        check(ws_sub_remove(&c, un) >= 1 && c.n_subs == before, "unsubscribe by id failed");
        cJSON_Delete(un);
    }
    (void)ws_sub_remove(&c, msg);
    ws_sub_clear(&c);
    cJSON_Delete(msg);
    return 0;
}
