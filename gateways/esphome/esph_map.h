/*
 * esph_map.h - the ESPHome mapping: pure functions from (MQTT topic, payload) to messages and
 * from messages to ESPHome commands. No transport, no threads: the provider (esphome.c), the
 * unit tests and the fuzz target share it (docs/gateways/esphome.md).
 *
 * ESPHome's MQTT component publishes under a per-device topic prefix (the device name unless
 * configured; it may hold '/'):
 *   <prefix>/status                                  online | offline (birth message, last will)
 *   <prefix>/<component>/<object_id>/state           the entity's state
 *   <prefix>/<component>/<object_id>/<sub>/state     fan, cover, climate sub-states
 *   <prefix>/<component>/<object_id>[/<sub>]/command what the device obeys
 *   <discovery>/<component>/[<node>/]<object_id>/config  Home Assistant discovery (retained)
 * A state topic is read from the right: the component is the third level from the end, or the
 * fourth when the second from the end is one of that component's sub-states, and the prefix is
 * everything before it. The node id is the prefix sanitized, the source id
 * "<component>-<object_id>" and the field id the sub-state ("state" for the main one).
 */
#ifndef SB_ESPH_MAP_H
#define SB_ESPH_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mapped.h"
#include "core/msg.h"

#define SB_ESPH_TOPIC_MAX 256  /* bytes of a topic or prefix */
#define SB_ESPH_NOTES_MAX 16   /* notes kept per mapped publish */
#define SB_ESPH_ENTITIES  4096 /* discovered entities kept per gateway */

typedef enum sb_esph_kind {
    SB_ESPH_STATE = 0, /* <prefix>/<component>/<object_id>[/<sub>]/state */
    SB_ESPH_STATUS,    /* <prefix>/status */
    SB_ESPH_DISCOVERY, /* <discovery>/<component>/[<node>/]<object_id>/config */
} sb_esph_kind;

/* A topic taken apart. */
typedef struct sb_esph_topic {
    sb_esph_kind kind;
    char prefix[SB_ESPH_TOPIC_MAX];  /* "living" or "home/living"; discovery: its node level */
    char node_id[SB_MSG_ID_MAX + 1]; /* the prefix sanitized ("home_living") */
    char component[24];              /* "sensor", "climate" ... */
    char object_id[SB_MSG_ID_MAX + 1];
    char sub[32];                      /* "" or "target_temperature", "position" ... */
    char source_id[SB_MSG_ID_MAX + 1]; /* "<component>-<object_id>", sanitized */
} sb_esph_topic;

/*
 * Reads a topic: a discovery config under discovery_prefix ("homeassistant" when NULL), a
 * status topic or a state topic of a known component. SB_ERR_INVALID with why otherwise.
 */
sb_err sb_esph_topic_parse(const char *discovery_prefix, const char *topic, sb_esph_topic *out,
                           sb_errmsg *em);

/* Whether name is a component the mapping knows ("sensor", "light", ...). */
bool sb_esph_component_known(const char *name);

/* Turns any character that may not be in an id ('.', ':', '/', white space, '+', '#', control
 * bytes) into '_'; at most len-1 bytes are written. */
void sb_esph_sanitize(const char *in, char *out, size_t len);

/*
 * What discovery told about the devices: per entity its unit, device class, payloads and
 * limits; per node its topic prefix and availability words. Not thread-safe: the provider
 * locks around every call. Free with sb_esph_registry_free().
 */
typedef struct sb_esph_registry sb_esph_registry;

sb_esph_registry *sb_esph_registry_new(void);
void sb_esph_registry_free(sb_esph_registry *reg);
size_t sb_esph_registry_count(const sb_esph_registry *reg);

/* The topic prefix of node_id as last seen (in a state, status or discovery topic), or NULL. */
const char *sb_esph_registry_prefix(const sb_esph_registry *reg, const char *node_id);

/* What the mapping needs to know; every string is borrowed. */
typedef struct sb_esph_opts {
    const char *gateway_id;
    const char *discovery_prefix; /* "homeassistant" when NULL */
} sb_esph_opts;

/* What one received publish became. */
typedef struct sb_esph_result {
    sb_mapped out;             /* the messages, and notes on what was skipped */
    bool online_known, online; /* a status topic told the device's availability */
} sb_esph_result;

/*
 * Maps one publish (topic already parsed): a state to a set message with metric type and unit
 * (from the registry when discovery described the entity), a status to the node's "online"
 * field and its node_state, a discovery config to the registry and presentations (an empty
 * payload forgets the entity). Bad parts are skipped with a note and the rest is used.
 * reg may be NULL (no discovery). SB_ERR_NOMEM only. Free with sb_esph_result_free().
 */
sb_err sb_esph_map(const sb_esph_opts *o, sb_esph_registry *reg, const sb_esph_topic *t,
                   const void *payload, size_t len, sb_esph_result *out);
void sb_esph_result_free(sb_esph_result *r);

/*
 * The command for payload i of a set message to a device: topic and payload as ESPHome obeys
 * them (a switch's "state" -> <prefix>/switch/<id>/command ON; a light's "brightness" ->
 * <prefix>/light/<id>/command {"state":"ON","brightness":128}; a climate's
 * "target_temperature" -> <prefix>/climate/<id>/target_temperature/command 21.5 ...). The
 * prefix is the node's from reg (may be NULL), else the node id. SB_ERR_INVALID naming the
 * field when it is not writable or the value does not fit (numbers against discovery's
 * min/max, selects against its options).
 */
sb_err sb_esph_command(const sb_esph_registry *reg, const sb_msg *m, size_t i, char *topic,
                       size_t topic_len, char *payload, size_t payload_len, sb_errmsg *em);

/* Field ids the mapping uses. */
#define SB_ESPH_FIELD_STATE  "state"
#define SB_ESPH_FIELD_ONLINE "online"

#endif
