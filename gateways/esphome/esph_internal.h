/*
 * esph_internal.h - what the ESPHome mapping's files share: the component table, the registry
 * of discovered entities and the helpers that collect messages and notes.
 */
#ifndef SB_ESPH_INTERNAL_H
#define SB_ESPH_INTERNAL_H

#include <cjson/cJSON.h>

#include "gateways/esphome/esph_map.h"

/* How a state's text becomes a value. */
typedef enum esph_vkind {
    V_AUTO,   /* a decimal number as gauge_float, other text as string (sensor) */
    V_FLOAT,  /* gauge_float */
    V_INT,    /* gauge */
    V_BINARY, /* ON/OFF (or discovery's payload_on/off) as binary */
    V_OSC,    /* oscillate_on/oscillate_off as binary */
    V_TEXT,   /* string */
    V_LIGHT,  /* the light JSON schema: several fields */
} esph_vkind;

/* Where a value's unit comes from. */
typedef enum esph_ukind { U_NONE, U_DISC, U_TEMP, U_PERCENT } esph_ukind;

typedef struct esph_sub {
    const char *sub; /* "" = the main state (field "state") */
    esph_vkind v;
    esph_ukind u;
} esph_sub;

/* The sub-state sub ("" = main) of component, or NULL when the component has none such. */
const esph_sub *esph_sub_find(const char *component, const char *sub);

/* One entity described by a discovery config. */
typedef struct esph_entity {
    char disc_topic[SB_ESPH_TOPIC_MAX]; /* the config's topic: a new config replaces it */
    char node_id[SB_MSG_ID_MAX + 1];
    char source_id[SB_MSG_ID_MAX + 1];
    char component[24];
    char unit[32];         /* unit_of_measurement */
    char device_class[32]; /* device_class */
    char temp_unit[8];     /* climate: "°C" or "°F" */
    char pl_on[32], pl_off[32];
    double min, max;
    bool has_min, has_max;
    char options[1024]; /* select: the options, each ended by '\n' ("" = not known) */
} esph_entity;

typedef struct esph_node {
    char node_id[SB_MSG_ID_MAX + 1];
    char prefix[SB_ESPH_TOPIC_MAX];
    char pl_avail[32], pl_not_avail[32]; /* "" = online / offline */
} esph_node;

struct sb_esph_registry {
    esph_entity *ents;
    size_t n, cap;
    esph_node *nodes;
    size_t n_nodes, cap_nodes;
};

const esph_entity *esph_entity_find(const sb_esph_registry *reg, const char *node_id,
                                    const char *source_id);
const esph_node *esph_node_find(const sb_esph_registry *reg, const char *node_id);
/* The node's record, created when new (NULL when reg is NULL or full, or out of memory). */
esph_node *esph_node_get(sb_esph_registry *reg, const char *node_id);

/* One mapping in progress. */
typedef struct esph_ctx {
    const sb_esph_opts *o;
    const sb_esph_topic *t;
    sb_esph_registry *reg; /* may be NULL */
    sb_esph_result *r;
} esph_ctx;

/* The collecting helpers of core/mapped.h on the context's result. */
#define esph_note(c, ...)                    sb_mapped_note(&(c)->r->out, __VA_ARGS__)
#define esph_add(c, m, key, value, mt, unit) sb_mapped_add(&(c)->r->out, m, key, value, mt, unit)
#define esph_msg(c, type, node, src)                                                               \
    sb_mapped_msg(&(c)->r->out, (c)->o->gateway_id, node, src, type)
#define esph_nomem(c) ((c)->r->out.nomem = true)

/* Whether s is a finite decimal number the processor accepts ("-3.5", "1e3"). */
bool esph_is_decimal(const char *s);

/* A discovery config (esph_disc.c). */
void esph_discovery(esph_ctx *c, const char *payload, size_t len);

/* The light JSON schema state (esph_light.c). */
void esph_light_state(esph_ctx *c, sb_msg *m, const char *payload, size_t len);
/* A light command for field key with value (esph_light.c). */
sb_err esph_light_command(const char *key, const char *value, char *out, size_t len, sb_errmsg *em);

#endif
