/*
 * provider.h - the gateway provider plugin contract (DESIGN.md section 4).
 *
 * A provider connects the gateway service to one kind of device network (MySensors over
 * serial/ethernet/MQTT, Tasmota, ...). It is a const struct of callbacks registered in the
 * generated table sb_gateway_plugins[] (gateways/CMakeLists.txt, sb_registry_generate): adding
 * one is a folder gateways/<name>/ whose CMakeLists.txt says
 *
 *     sb_add_plugin(gateway <name> <name>.c ...)
 *
 * and defines `const sb_gateway_plugin sb_gateway_plugin_<name>`, plus the folder's name in the
 * list at the top of gateways/CMakeLists.txt.
 *
 * Life of an instance, all calls from the service's per-gateway thread unless noted:
 *   create  -> start -> send* -> stop -> (start -> ... -> stop)* -> destroy
 * - create gets its typed options (filled by the service from the gateway document's
 *   "provider" object with info.options, sb_gateway_options_parse) and the host below; both are
 *   borrowed until destroy returns. It must not open the device yet.
 * - start opens the device link and returns once it is open (or fails with em naming why; the
 *   service reports state error and calls start again after reconnectDelay). It may start the
 *   provider's own reader threads.
 * - send hands one message to the device, or queues it inside the provider; it must not block
 *   for long. SB_ERR_CLOSED when the link is down. send may run while reader threads call the
 *   host functions.
 * - stop closes the link and joins the provider's threads; after it returns the provider makes
 *   no host calls. destroy frees everything (accepts a never-started instance).
 *
 * The host functions may be called from any thread the provider owns, between start and the end
 * of stop. A provider that loses its link calls host->state(SB_GATEWAY_DOWN, why): the service
 * then stops it and starts it again after reconnectDelay.
 */
#ifndef SB_GATEWAY_PROVIDER_H
#define SB_GATEWAY_PROVIDER_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/log.h"
#include "core/bus.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/registry.h"

struct sb_store;

typedef enum sb_gateway_status {
    SB_GATEWAY_DOWN = 0, /* not connected (stopped, or the link was lost) */
    SB_GATEWAY_UP,       /* the device link is open */
    SB_GATEWAY_ERROR,    /* the link could not be opened or failed; message says why */
} sb_gateway_status;

/* "down", "up", "error". */
const char *sb_gateway_status_name(sb_gateway_status status);

/* What the service gives a provider instance. Every member is borrowed until destroy. */
typedef struct sb_gateway_host {
    const char *gateway_id;
    const sb_logger *log;   /* "[gateway] [gateway:gw1/mysensors]" */
    struct sb_store *store; /* for small provider state, e.g. used node ids, under the kind
                               "_gateway_<provider>" with ids "<gatewayId>..." */
    void *ctx;              /* the first argument of the functions below */
    /* A message received from a device; takes ownership of msg (is_received is set by the
     * service). An ack (is_ack) completes the matching outgoing message; is_sleep_node says the
     * node is awake now and its held messages are sent. */
    void (*receive)(void *ctx, sb_msg *msg);
    /* The link's state changed; message (may be NULL) is copied. */
    void (*state)(void *ctx, sb_gateway_status status, const char *message);
    /* Raw traffic for the message logger: inbound = from the device. data is copied. */
    void (*raw)(void *ctx, bool inbound, const void *data, size_t len);
} sb_gateway_host;

enum {
    /* The protocol acknowledges messages: the service waits for an ack (a received message
     * with is_ack set, same node, source and first payload key) and resends on timeout. */
    SB_GATEWAY_CAP_ACKS = 1u << 0,
};

typedef struct sb_gateway_plugin {
    sb_plugin_info info; /* info.options describes the "provider" object (minus "type") */
    size_t options_size; /* size of the struct info.options fills */
    unsigned caps;       /* SB_GATEWAY_CAP_* */
    sb_err (*create)(const sb_gateway_host *host, const void *options, void **out, sb_errmsg *em);
    sb_err (*start)(void *inst, sb_errmsg *em);
    sb_err (*send)(void *inst, const sb_msg *msg, sb_errmsg *em); /* borrows msg */
    void (*stop)(void *inst);
    void (*destroy)(void *inst); /* accepts NULL */
    /* Optional: a key of the provider object that the option table cannot describe (a list of
     * objects, like generic_mqtt's "mappings"): sb_gateway_options_parse takes it out before
     * the table applies and stores a copy of its value (NULL when absent) in the cJSON *
     * member at raw_offset of the options struct; sb_gateway_options_free deletes it. The
     * provider checks it in create. */
    const char *raw_key;
    size_t raw_offset;
    /* Optional: adds the instance's own counters to obj (any thread, between create and
     * destroy; must not block). The service reports them under the gateway's "provider". */
    void (*stats)(void *inst, cJSON *obj);
} sb_gateway_plugin;

/* The providers in this build (NULL-terminated), generated by CMake. */
extern const sb_gateway_plugin *const sb_gateway_plugins[];

/* The provider named type, or SB_ERR_NOTFOUND with the known names in em. */
sb_err sb_gateway_plugin_find(const char *type, const sb_gateway_plugin **out, sb_errmsg *em);

/*
 * Fills a new options struct (plugin->options_size bytes) from the defaults of info.options and
 * the provider object (its "type" key is skipped). Bad keys fail naming "provider.<key>".
 * Free with sb_gateway_options_free().
 */
sb_err sb_gateway_options_parse(const sb_gateway_plugin *plugin, const cJSON *provider, void **out,
                                sb_errmsg *em);
void sb_gateway_options_free(const sb_gateway_plugin *plugin, void *opts);

/* A provider's own MQTT client to its devices' broker (MySensors MQTT gateways, Tasmota...). */
typedef struct sb_gateway_mqtt {
    const char *provider; /* "tasmota": the client id is "switchboard-<provider>-<gateway>" */
    const char *gateway_id;
    const char *url;
    const char *username; /* NULL or "" = anonymous */
    const char *password;
    int64_t connect_timeout_ms;
} sb_gateway_mqtt;

/*
 * Fills cfg (MQTT 3.1.1, which device firmware and its brokers speak; no Switchboard status)
 * and creates the client, not yet started: the caller subscribes, then calls sb_bus_start.
 * The session is persistent under the fixed client id switchboard-<provider>-<gatewayId>, so
 * what devices publish with QoS 1 to a QoS 1 subscription while the gateway is down or
 * restarting waits in the broker (docs/gateways.md "Device brokers"). cfg is borrowed by the
 * client and must outlive it; so must the strings.
 */
sb_err sb_gateway_mqtt_create(const sb_gateway_mqtt *m, sb_config_bus *cfg, sb_bus **out,
                              sb_errmsg *em);

/*
 * The options of a provider whose devices use an MQTT broker (Tasmota, ESPHome, generic MQTT):
 * a member of its options struct, described in its table by SB_GATEWAY_MQTT_ROWS(struct,
 * member) (url, username, password, qos, connectTimeout).
 */
typedef struct sb_gateway_mqtt_opts {
    char *url, *username, *password;
    int64_t qos, connect_timeout_ms;
} sb_gateway_mqtt_opts;

#define SB_GATEWAY_MQTT_ROWS(st, m)                                                                \
    SB_OPT_ROW_STR(st, m.url, "url", "tcp://127.0.0.1:1883",                                       \
                   "the broker the devices publish to (may be the bus's own)"),                    \
        SB_OPT_ROW_STR(st, m.username, "username", "", "user name on that broker"),                \
        SB_OPT_ROW_SECRET(st, m.password, "password", "password on that broker"),                  \
        SB_OPT_ROW_INT(st, m.qos, "qos", "0", 0, 1, "QoS of subscriptions and commands"),          \
        SB_OPT_ROW_DURATION(st, m.connect_timeout_ms, "connectTimeout", "5s", 100, 600000,         \
                            "how long the first connect may take")

/*
 * The provider's link: its own client of the devices' broker (sb_gateway_mqtt_create with o),
 * fn subscribed to the n filters at o->qos, and the first connect (waiting up to
 * o->connect_timeout_ms). On failure nothing is left open, *out is NULL and em names the url.
 * cfg and o are borrowed by the client and must outlive it.
 */
sb_err sb_gateway_mqtt_open(const sb_gateway_host *host, const char *provider,
                            const sb_gateway_mqtt_opts *o, sb_config_bus *cfg,
                            const char *const *filters, size_t n, sb_bus_handler fn, void *ctx,
                            sb_bus **out, sb_errmsg *em);

/* Sets *bus to NULL (so a concurrent send sees the link closed), then disconnects and frees the
 * client. Accepts *bus == NULL. */
void sb_gateway_mqtt_close(sb_bus **bus);

/* Publishes payload (text) on topic for a device and hands it to the message logger;
 * SB_ERR_CLOSED when bus is NULL, else what sb_bus_publish returns. */
sb_err sb_gateway_mqtt_send(const sb_gateway_host *host, sb_bus *bus, const char *topic,
                            const char *payload, int qos, bool retain);

/* What a mapping made of one device publish: logs each note at info level as "<where>: <note>"
 * and hands every message to host->receive, which takes it (the slots become NULL). */
void sb_gateway_deliver(const sb_gateway_host *host, const char *where, sb_msg **msgs, size_t n,
                        char *const *notes, size_t n_notes);

/* The counters of a provider whose devices use an MQTT broker (Tasmota, ESPHome, Zigbee2MQTT). */
typedef struct sb_gateway_mqtt_counters {
    atomic_uint_fast64_t in, out, malformed, skipped, write_errors;
} sb_gateway_mqtt_counters;

/* Adds the counters to obj as publishesIn, commandsOut, malformed, skipped and writeErrors (the
 * provider's stats callback). */
void sb_gateway_mqtt_stats(const sb_gateway_mqtt_counters *c, cJSON *obj);

/* Hands one MQTT publish to the message logger as "<topic> <payload>" (inbound = from a
 * device). */
void sb_gateway_raw_publish(const sb_gateway_host *host, bool inbound, const char *topic,
                            const void *payload, size_t len);

#endif
