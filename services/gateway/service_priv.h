/* service_priv.h - the gateway service's shared state (gateway.c, reload.c). */
#ifndef SB_GW_SERVICE_PRIV_H
#define SB_GW_SERVICE_PRIV_H

#include <cjson/cJSON.h>
#include <pthread.h>

#include "core/ctl.h"
#include "core/msg.h"
#include "core/service.h"
#include "services/gateway/runner.h"

typedef struct gw_service {
    gw_env env;
    pthread_mutex_t mu; /* guards runners and the held messages */
    sb_ctl_queue ctl;   /* reloads for the main thread */
    gw_runner **runners;
    size_t n_runners, cap_runners;
    /* While gateway `reloading` is stopped and started again (gw_reload_one), messages for it
     * from <p>/msg/out wait here (at most gateway.out_queue_max) and go to the new runner. */
    char reloading[SB_MSG_ID_MAX + 1];
    sb_msg **held;
    size_t n_held, cap_held;
    uint64_t held_dropped;
} gw_service;

/*
 * on_msg_out's side (s->mu held): keeps msg for the gateway being reloaded when id is it.
 * Returns false (msg not taken) when id is not being reloaded or the hold is full.
 */
bool gw_hold(gw_service *s, const char *id, sb_msg *msg);

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
