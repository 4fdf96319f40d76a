/*
 * mqtt.c - devsim's MQTT device families' client and loop (mqtt.h).
 */
#include "tools/devsim/mqtt.h"

#include <stdio.h>
#include <string.h>

#include "core/time.h"

sb_err devsim_mqtt_open(const char *url, const char *name, const char *filter, sb_bus_handler fn,
                        void *ctx, sb_config_bus *cfg, sb_bus **out)
{
    *cfg = (sb_config_bus){.url = (char *)url,
                           .topic_prefix = (char *)"devsim",
                           .mqtt_version = SB_MQTT_V311,
                           .keepalive_ms = 30000,
                           .connect_timeout_ms = 5000,
                           .reconnect_min_ms = 100,
                           .reconnect_max_ms = 2000,
                           .max_pending = 100000,
                           .tls = {.verify = true}};
    char client[64];
    snprintf(client, sizeof(client), "devsim-%s", name);
    sb_bus_opts bo = {.cfg = cfg,
                      .service = "devsim",
                      .instance = name,
                      .client_id = client,
                      .clean_start = true,
                      .no_status = true};
    sb_errmsg em = {{0}};
    sb_err rc = sb_bus_create(&bo, out, &em);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(*out, filter, 1, fn, ctx, &em);
    if (rc == SB_OK)
        rc = sb_bus_start(*out, 5000, &em);
    if (rc != SB_OK)
        fprintf(stderr, "devsim: %s: %s\n", name, em.text);
    return rc;
}

void devsim_mqtt_loop(int64_t period_ms, int64_t duration_ms, volatile sig_atomic_t *stop,
                      void (*tick)(void *ctx), void *ctx)
{
    int64_t start = sb_time_mono_ms(), next = start;
    while (!*stop && !(duration_ms && sb_time_mono_ms() - start >= duration_ms)) {
        if (sb_time_mono_ms() >= next) {
            tick(ctx);
            next += period_ms;
        }
        sb_time_sleep_ms(20);
    }
}
