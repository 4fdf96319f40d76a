/*
 * gm_internal.h - the parsed generic MQTT configuration and routes shared by gm_config.c,
 * gm_map.c and gm_out.c.
 */
#ifndef SB_GM_INTERNAL_H
#define SB_GM_INTERNAL_H

#include "gateways/generic_mqtt/gm_map.h"

typedef struct gm_field {
    char *path;  /* "" = the whole payload */
    char *field; /* the field id */
    sb_metric_type mt;
    bool mt_auto; /* no metricType given: numbers gauge_float, booleans binary, text string */
    char *unit;   /* NULL = none */
} gm_field;

typedef enum gm_level_kind { L_LIT, L_ONE, L_CAPTURE, L_REST } gm_level_kind;

typedef struct gm_mapping {
    char *name; /* for messages: the given name or "mappings[i]" */
    char *filter;
    char *levels[SB_GM_LEVELS]; /* literal text or capture name */
    gm_level_kind kinds[SB_GM_LEVELS];
    size_t n_levels;
    char *node, *source; /* texts with {name} */
    gm_field *fields;
    size_t n_fields;
    bool all_fields;
    char *write_topic, *write_payload; /* NULL = not writable */
    bool write_retain;
} gm_mapping;

struct sb_gm_config {
    gm_mapping *maps;
    size_t n;
};

typedef struct gm_route {
    char node[SB_MSG_ID_MAX + 2], source[SB_MSG_ID_MAX + 2];
    size_t mapping;
    cJSON *captures; /* object of name -> level text (owned) */
} gm_route;

struct sb_gm_routes {
    gm_route *r;
    size_t n, cap;
};

/* Whether mapping m produces field id (named in its fields, or any with allFields). */
bool gm_writes_field(const gm_mapping *m, const char *field);

#endif
