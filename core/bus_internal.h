/* bus_internal.h - state shared by bus.c (connection) and bus_io.c (publish/receive). */
#ifndef SB_BUS_INTERNAL_H
#define SB_BUS_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/bus.h"

typedef struct bus_sub {
    char *filter;      /* as given, maybe "$share/g/..." */
    const char *match; /* the part to match topics against */
    int qos;
    int id; /* MQTT v5 subscription identifier; handlers of one filter share it */
    sb_bus_handler fn;
    void *ctx;
} bus_sub;

typedef struct bus_request {
    struct bus_request *next;
    char corr[33];
    char *reply;
    size_t reply_len;
    bool done;
} bus_request;

struct sb_bus {
    MQTTAsync client;
    const sb_config_bus *cfg;
    char url[512];
    char client_id[336];
    char service[64];
    char instance[128];
    char version[32];
    char prefix[128];
    char status_topic[512];
    char reply_topic[512];
    char started_at[32];
    bool clean_start;
    bool no_status;
    int version_wanted; /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
    bool may_fallback;  /* auto: try 3.1.1 when the broker refuses 5 */

    pthread_mutex_t mu; /* guards everything below that is not atomic */
    pthread_cond_t cv;
    bus_sub *subs;
    size_t n_subs, cap_subs;
    int next_sub_id;
    bus_request *requests;
    char last_error[256];
    bool auth_failed;
    bool connecting;
    bool want_connect;
    bool started;
    bool stopping;
    int64_t backoff_ms;
    pthread_t connector;
    bool connector_running;

    atomic_bool connected;
    atomic_int mqtt_version;
    atomic_uint_fast64_t published, acknowledged, publish_failed, rejected_full, received,
        unhandled, connects;
    atomic_int_fast64_t pending;
};

/* bus_io.c */
int sb_bus__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m);
void sb_bus__subscribe_all(sb_bus *bus);
void sb_bus__free_subs(sb_bus *bus);
sb_err sb_bus__publish_props(sb_bus *bus, const char *topic, const void *payload, size_t len,
                             int qos, bool retain, MQTTProperties *props);
void sb_bus__status_json(sb_bus *bus, const char *status, const char *stats, char **out);

#endif
