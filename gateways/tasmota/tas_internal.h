/*
 * tas_internal.h - what the mapping's files share (tas_map.c, tas_sensor.c, tas_state.c).
 */
#ifndef SB_TAS_INTERNAL_H
#define SB_TAS_INTERNAL_H

#include <cjson/cJSON.h>

#include "gateways/tasmota/tas_map.h"

/* One mapping in progress: the device's node id and where messages collect. */
typedef struct tas_ctx {
    const sb_tas_opts *o;
    const sb_tas_topic *t;
    sb_tas_result *r;
    bool nomem;
} tas_ctx;

/* Records why something was skipped (printf-like; sb_mapped_note keeps the first ones). */
void tas_note(tas_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The set (or presentation) message of source src (raw name, sanitized here), created once. */
sb_msg *tas_msg(tas_ctx *c, sb_msg_type type, const char *src);

/* Adds a payload (key sanitized); notes and skips on failure. */
void tas_add(tas_ctx *c, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
             const char *unit);

/*
 * Adds a JSON scalar: numbers as gauge_float (or mt when not NONE), strings as string, bools as
 * binary; null, "nan" and other types are skipped with a note naming where.
 */
void tas_add_json(tas_ctx *c, sb_msg *m, const char *where, const char *key, const cJSON *v,
                  sb_metric_type mt, const char *unit);

/* SENSOR / StatusSNS object. */
void tas_sensor(tas_ctx *c, const cJSON *root);
/* STATE / RESULT / StatusSTS object. */
void tas_state(tas_ctx *c, const cJSON *root, const char *what);
/* POWER / POWER<n>: true when name is a relay name; *index gets n (0 for plain POWER). */
bool tas_relay_name(const char *name, unsigned *index);
/* Adds the relay's "ON"/"OFF" (any case, also 1/0/true/false) to its source. */
void tas_relay(tas_ctx *c, const char *name, const char *value);

#endif
