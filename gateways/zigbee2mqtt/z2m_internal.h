/*
 * z2m_internal.h - what the mapping's files share (z2m_registry.c, z2m_map.c, z2m_state.c,
 * z2m_out.c).
 */
#ifndef SB_Z2M_INTERNAL_H
#define SB_Z2M_INTERNAL_H

#include <cjson/cJSON.h>

#include "gateways/zigbee2mqtt/z2m_map.h"

#define Z2M_DEPTH_MAX 4    /* nested objects flattened at most this deep */
#define Z2M_SEEN_MAX  4096 /* names learnt from topics, until the next bridge/devices */

typedef enum z2m_kind {
    Z_UNKNOWN = 0,
    Z_BINARY,
    Z_NUMERIC,
    Z_ENUM,
    Z_TEXT,
    Z_LIST,
    Z_COMPOSITE,
} z2m_kind;

/* One exposed property, flattened: "brightness", "state_l1", "color_x" (parent "color"). */
typedef struct z2m_prop {
    char *key;    /* the field id */
    char *parent; /* composite property ("color") or NULL */
    char *sub;    /* the feature's property inside parent ("x") or NULL */
    z2m_kind kind;
    unsigned access; /* SB_Z2M_ACCESS_* */
    char *unit;      /* NULL when none */
    bool has_min, has_max;
    double min, max;
    cJSON *on, *off, *toggle; /* binary: value_on/off/toggle (owned) or NULL */
    cJSON *values;            /* enum: the accepted values (owned array) or NULL */
} z2m_prop;

typedef enum z2m_ent_kind { E_SEEN = 0, E_DEVICE, E_GROUP } z2m_ent_kind;

/* A device, a group, or a name only seen in a state topic. */
typedef struct z2m_entity {
    char *name;    /* friendly name as published */
    char *node_id; /* sanitized */
    char *ieee;    /* devices: the IEEE address, or NULL */
    z2m_ent_kind kind;
    z2m_prop *props;
    size_t n_props;
} z2m_entity;

/* The last availability said for a node; kept across bridge/devices. */
typedef struct z2m_avail {
    char node_id[SB_MSG_ID_MAX + 1];
    bool online;
} z2m_avail;

struct sb_z2m_registry {
    z2m_entity *ents;
    size_t n;
    z2m_avail *avail;
    size_t n_avail;
};

/* The entity whose name is the longest one that rest starts with, followed by '/' or the end;
 * NULL when none. */
const z2m_entity *z2m_resolve(const sb_z2m_registry *reg, const char *rest);
const z2m_entity *z2m_by_name(const sb_z2m_registry *reg, const char *name);
const z2m_prop *z2m_prop_find(const z2m_entity *e, const char *key);
/* Records node_id's availability; false when out of memory. */
bool z2m_set_avail(sb_z2m_registry *reg, const char *node_id, bool online);

/* Adds a name seen in a state topic (no exposes); false when out of memory. */
bool z2m_remember(sb_z2m_registry *reg, const char *name);
/* How many names were learnt that way (bounded by Z2M_SEEN_MAX). */
size_t z2m_seen_count(const sb_z2m_registry *reg);

/* One mapping in progress. */
typedef struct z2m_ctx {
    const sb_z2m_opts *o;
    sb_z2m_registry *reg;
    sb_z2m_result *r;
} z2m_ctx;

/* A note on something skipped (sb_mapped_note). */
#define z2m_note(c, ...) sb_mapped_note(&(c)->r->out, __VA_ARGS__)
/* An allocation failed on the way. */
#define z2m_nomem(c) ((c)->r->out.nomem = true)
/* The message of type for node/source, created once per publish. */
sb_msg *z2m_msg(z2m_ctx *c, sb_msg_type type, const char *node_id, const char *src);
/* Adds a payload (sb_mapped_add) under the sanitized key; labels may be NULL (borrowed). */
void z2m_add(z2m_ctx *c, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
             const char *unit, const cJSON *labels);

/* bridge/devices and bridge/groups: replace what reg knows, add presentations. */
void z2m_devices(z2m_ctx *c, const cJSON *root);
void z2m_groups(z2m_ctx *c, const cJSON *root);

/* A device's state object (flattened into fields of SB_Z2M_SRC_DEVICE). */
void z2m_state(z2m_ctx *c, const z2m_entity *e, const cJSON *root);
/* One attribute sub-topic value (text) of e; attr is already '-' -> '_'. */
void z2m_attribute(z2m_ctx *c, const z2m_entity *e, const char *attr, const char *text);

#endif
