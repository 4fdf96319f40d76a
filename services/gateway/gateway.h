/*
 * gateway.h - the gateway service (switchboard-gateway): runs the enabled gateway documents of
 * the store (those matching gateway.filter.labels) with their providers, one runner each, and
 * connects them to the bus: received messages to <p>/msg/in/<id>, <p>/msg/out/<id> to the
 * devices, reload on <p>/event/gateway/<id> and <p>/ctl/gateway/reload. docs/gateways.md.
 */
#ifndef SB_GATEWAY_SERVICE_H
#define SB_GATEWAY_SERVICE_H

#include "core/service.h"

/* Runs until stop is raised; returns the exit code. */
int sb_gateway_run(const sb_config *cfg, sb_stop_flag *stop);

extern const sb_service_def sb_service_gateway;

#endif
