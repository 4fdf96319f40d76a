/*
 * handler.h - the handler service (switchboard-handler): runs the enabled handler documents of
 * the store (kind "handler") and carries out the calls tasks and schedules publish on
 * <p>/handler/<id> (docs/automation.md, "Handlers").
 *
 * Bus: subscribes <p>/handler/+ (QoS 1), <p>/event/handler/# (reload the named handlers) and
 * <p>/ctl/handler/reload ({"id"} | {"ids":[...]} | {} for all; replies when asked). Every
 * handler has its own worker thread and bounded queue (handler.queue_max): the bus thread only
 * parses and enqueues, so a slow webhook delays no other handler. Failed deliveries are retried
 * with exponential backoff (spec.retries, spec.retryDelay, spec.retryMaxDelay); the handler's
 * state {status, message, since} says how the last one went, stored and published as an event.
 * Counters per handler are in the service's status (stats.handlers).
 */
#ifndef SB_HANDLER_SERVICE_H
#define SB_HANDLER_SERVICE_H

#include "core/service.h"

int sb_handler_run(const sb_config *cfg, sb_stop_flag *stop);

extern const sb_service_def sb_service_handler;

#endif
