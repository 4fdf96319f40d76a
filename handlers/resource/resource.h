/* resource.h - the resource handler's parts: the actions (act.c) and the delay queue (delay.c). */
#ifndef SB_HANDLER_RESOURCE_H
#define SB_HANDLER_RESOURCE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "handlers/plugin.h"

/*
 * Carries out one action {"resource": quick id, "labels": {...}, "payload", "keyPath"}:
 * - fields (a field quick id, or every field carrying all of labels): a "set" message on
 *   <p>/msg/out/<gatewayId>; payload "toggle" flips a binary field's current value;
 * - a node: an "action" message (reboot, heartbeat_request, refresh, discover);
 * - a task, schedule, handler or gateway (enable, disable, reload) or a key path on a config
 *   entity: a request to the API, the single writer of config, on <p>/ctl/api/action.
 * SB_ERR_INVALID for an action that can never work; other errors may pass on a retry.
 */
sb_err rs_act(const sb_handler_host *host, const cJSON *action, int64_t api_timeout_ms,
              sb_errmsg *em);

/* Delayed actions: kept in the store (kind "_handler_resource") until done. */
typedef struct rs_delay rs_delay;

/* Loads the handler's pending actions and starts the timer thread. */
sb_err rs_delay_start(const sb_handler_host *host, int64_t api_timeout_ms, rs_delay **out,
                      sb_errmsg *em);
/* Stores action (borrowed) to run at due_ms (epoch ms) and arms it. */
sb_err rs_delay_add(rs_delay *d, const cJSON *action, int64_t due_ms, sb_errmsg *em);
/* Stops the timer; what is pending stays in the store for the next start. Accepts NULL. */
void rs_delay_stop(rs_delay *d);

#endif
