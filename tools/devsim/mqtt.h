/*
 * mqtt.h - what devsim's MQTT device families (tasmota.c, z2m.c) share: their client on the
 * devices' broker and the periodic loop they publish from.
 */
#ifndef SB_DEVSIM_MQTT_H
#define SB_DEVSIM_MQTT_H

#include <signal.h>
#include <stdint.h>

#include "core/bus.h"

/*
 * Connects the client "devsim-<name>" (MQTT 3.1.1, clean session, no status) to url, subscribed
 * to filter with fn(ctx, ...) on paho's delivery thread. cfg is filled and must outlive the bus.
 * On failure prints "devsim: <name>: <why>" to stderr and returns the error.
 */
sb_err devsim_mqtt_open(const char *url, const char *name, const char *filter, sb_bus_handler fn,
                        void *ctx, sb_config_bus *cfg, sb_bus **out);

/* Calls tick(ctx) at once and then every period_ms until *stop or duration_ms (0 = no end). */
void devsim_mqtt_loop(int64_t period_ms, int64_t duration_ms, volatile sig_atomic_t *stop,
                      void (*tick)(void *ctx), void *ctx);

#endif
