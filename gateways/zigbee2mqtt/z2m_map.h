/*
 * z2m_map.h - the Zigbee2MQTT mapping: pure functions from (MQTT topic, payload) to messages and
 * from messages to /set and /get publishes. No transport, no threads: the provider
 * (zigbee2mqtt.c), the unit tests and the fuzz target share it (docs/gateways/zigbee2mqtt.md).
 *
 * What the bridge tells about its devices and groups (bridge/devices, bridge/groups) is kept in
 * an sb_z2m_registry: friendly names (which may contain '/'), models and vendors, and the
 * exposes of each device (type, unit, range, access). Topics are resolved against the known
 * names, longest match first, so "kitchen/climate/availability" belongs to "kitchen/climate"
 * even when a device "kitchen" exists.
 *
 * A device or group is the node whose id is its friendly name with '/', '.', ':', '+', '#' and
 * white space turned into '_'; its attributes are fields of the source "device"; its
 * availability is the node field "online" and a node_state action.
 */
#ifndef SB_Z2M_MAP_H
#define SB_Z2M_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mapped.h"
#include "core/msg.h"

#define SB_Z2M_NAME_MAX 256 /* bytes of a friendly name or base topic */

/* Source and field ids the mapping uses. */
#define SB_Z2M_SRC_DEVICE   "device"
#define SB_Z2M_FIELD_ONLINE "online"
#define SB_Z2M_NODE_BRIDGE  "_bridge"

/* Access bits of an expose (Zigbee2MQTT's own). */
enum { SB_Z2M_ACCESS_STATE = 1, SB_Z2M_ACCESS_SET = 2, SB_Z2M_ACCESS_GET = 4 };

typedef struct sb_z2m_registry sb_z2m_registry;

/* An empty registry; NULL when out of memory. Free with sb_z2m_registry_free (accepts NULL). */
sb_z2m_registry *sb_z2m_registry_new(void);
void sb_z2m_registry_free(sb_z2m_registry *reg);
/* Devices and groups known (named by bridge/devices, bridge/groups or seen in state topics). */
size_t sb_z2m_registry_count(const sb_z2m_registry *reg);

/* The friendly name of node id node_id, copied into buf; false when unknown. */
bool sb_z2m_friendly_name(const sb_z2m_registry *reg, const char *node_id, char *buf, size_t len);

/* Turns what may not be in an id ('.', ':', '/', '+', '#', white space, control bytes) into '_';
 * at most len-1 bytes are written. */
void sb_z2m_sanitize(const char *in, char *out, size_t len);

/* What the mapping needs to know; borrowed. */
typedef struct sb_z2m_opts {
    const char *gateway_id;
    const char *base_topic; /* "zigbee2mqtt" when NULL */
    bool attribute_topics;  /* map <name>/<attribute> sub-topics (output attribute*) */
} sb_z2m_opts;

/* What one received publish became. */
typedef struct sb_z2m_result {
    sb_mapped out;         /* the messages, and notes on what was skipped (without the topic) */
    bool registry_changed; /* bridge/devices or bridge/groups was read */
    bool ignored;          /* a topic that carries no device data (our own /set, bridge logs) */
} sb_z2m_result;

/*
 * Maps one publish under the base topic: device and group state (JSON object), attribute
 * sub-topics, availability (JSON or plain), bridge/state, bridge/info, bridge/devices and
 * bridge/groups (which update reg and give presentations). Bad parts are skipped with a note and
 * the rest is used. SB_ERR_NOMEM only. Free with sb_z2m_result_free().
 */
sb_err sb_z2m_map(const sb_z2m_opts *o, sb_z2m_registry *reg, const char *topic,
                  const void *payload, size_t len, sb_z2m_result *out);
void sb_z2m_result_free(sb_z2m_result *r);

/* One publish to a device. */
typedef struct sb_z2m_command {
    char topic[SB_Z2M_NAME_MAX * 2 + 16]; /* "<base>/<friendly name>/set" or ".../get" */
    char *payload;                        /* JSON object text (owned; free()) */
} sb_z2m_command;

/*
 * Keeps offline nodes down: the processor marks a node up on any message, so a presentation
 * from bridge/devices, or a retained state (sets_too) replayed at subscription, would make an
 * offline device look up. For each such message of a node whose last availability was offline
 * this appends a node_state "down" action after it. Called by sb_z2m_map for the bridge's
 * topics; the provider calls it with sets_too for retained publishes. SB_ERR_NOMEM only.
 */
sb_err sb_z2m_keep_offline(const sb_z2m_opts *o, const sb_z2m_registry *reg, bool sets_too,
                           sb_z2m_result *r);

/* The last availability of node_id: 1 online, 0 offline, -1 never said. */
int sb_z2m_availability(const sb_z2m_registry *reg, const char *node_id);

/*
 * The publish for a message to a device: a set of fields of the source "device" gives one /set
 * with every payload in the device's own form (binary fields as the expose's value_on/off/
 * toggle, numbers within the expose's range, "color_x" as {"color":{"x":..}}, "color" from
 * "#rrggbb", "r,g,b" or a JSON object); a request gives one /get. SB_ERR_INVALID naming the
 * field when the node is unknown, the field is read-only (or cannot be read), or a value does
 * not fit. On success free out->payload.
 */
sb_err sb_z2m_command_build(const sb_z2m_opts *o, const sb_z2m_registry *reg, const sb_msg *m,
                            sb_z2m_command *out, sb_errmsg *em);

#endif
