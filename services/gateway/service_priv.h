/* service_priv.h - the gateway service's shared state (gateway.c, reload.c). */
#ifndef SB_GW_SERVICE_PRIV_H
#define SB_GW_SERVICE_PRIV_H

#include <cjson/cJSON.h>
#include <pthread.h>

#include "core/ctl.h"
#include "core/service.h"
#include "services/gateway/runner.h"

typedef struct gw_service {
    gw_env env;
    pthread_mutex_t mu; /* guards runners */
    sb_ctl_queue ctl;   /* reloads for the main thread */
    gw_runner **runners;
    size_t n_runners, cap_runners;
} gw_service;

/* gw_reload_one for every stored gateway and every running one; results may be NULL. */
void gw_reload_all(gw_service *s, bool force, cJSON *results);

/*
 * Makes gateway id run as its stored document says: started, restarted (when it changed, or
 * force), stopped (disabled, filtered out or deleted) or left alone. results (may be NULL)
 * gets id -> what happened.
 */
void gw_reload_one(gw_service *s, const char *id, bool force, cJSON *results);

/* Stops and frees every runner. */
void gw_stop_all(gw_service *s);

#endif
