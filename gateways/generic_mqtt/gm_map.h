/*
 * gm_map.h - the generic MQTT mapping: user-configured topic patterns and JSON paths to
 * node/source/field, and templates from field writes back to MQTT publishes. Pure functions, no
 * transport: the provider (generic_mqtt.c), the unit tests and the fuzz target share it
 * (docs/gateways/generic_mqtt.md).
 *
 * A mapping (one item of the provider's "mappings" list):
 *   {"name":"sensors","topic":"sensors/{node}/{source}",
 *    "node":"{node}","source":"{source}",
 *    "fields":[{"path":"temperature","metricType":"gauge_float","unit":"°C"},
 *              {"path":"env.humidity","field":"humidity","unit":"%"}],
 *    "allFields":false,
 *    "write":{"topic":"sensors/{{node}}/{{source}}/set","payload":"{\"{{field}}\":{{value}}}"}}
 * A topic pattern is '/'-separated levels: a literal, {name} (one level, captured), + (one
 * level) or a final # (the rest). node and source are texts in which {name} stands for a
 * captured level.
 */
#ifndef SB_GM_MAP_H
#define SB_GM_MAP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mapped.h"
#include "core/msg.h"

#define SB_GM_TOPIC_MAX 256  /* bytes of a topic or pattern */
#define SB_GM_LEVELS    32   /* levels of a pattern */
#define SB_GM_ROUTES    4096 /* node/source pairs remembered for writes */

typedef struct sb_gm_config sb_gm_config;

/*
 * Reads and checks the "mappings" list. Errors name the mapping and key:
 * "provider.mappings[1] (sensors): fields[0].metricType: 'gauge_flot' is not a metric type".
 * Free with sb_gm_config_free().
 */
sb_err sb_gm_config_parse(const cJSON *mappings, sb_gm_config **out, sb_errmsg *em);
void sb_gm_config_free(sb_gm_config *c);

/* The subscription filter of mapping i (its pattern with {name} as +), or NULL past the end. */
const char *sb_gm_filter(const sb_gm_config *c, size_t i);

/*
 * Where writes go: the mapping and captured levels behind each node/source seen. Not
 * thread-safe (the provider locks). Free with sb_gm_routes_free().
 */
typedef struct sb_gm_routes sb_gm_routes;
sb_gm_routes *sb_gm_routes_new(void);
void sb_gm_routes_free(sb_gm_routes *r);
size_t sb_gm_routes_count(const sb_gm_routes *r);

/* What one received publish became. */
typedef struct sb_gm_result {
    sb_mapped out;  /* the messages, and notes on what was skipped */
    size_t matched; /* mappings whose pattern matched the topic */
} sb_gm_result;

/*
 * Maps one publish with every mapping whose pattern matches topic: a set message per mapping
 * with the values its fields' paths find (a payload that is not JSON is one value, reached by
 * the path "" ). Bad values are skipped with a note; the rest is used. routes (may be NULL)
 * learns the node/source for writes. SB_ERR_NOMEM only. Free with sb_gm_result_free().
 */
sb_err sb_gm_map(const sb_gm_config *c, sb_gm_routes *routes, const char *gateway_id,
                 const char *topic, const void *payload, size_t len, sb_gm_result *out);
void sb_gm_result_free(sb_gm_result *r);

/*
 * The publish for payload i of a set message: the write templates of the mapping behind the
 * node/source (from routes; else the first mapping with a write that names the field) rendered
 * with gatewayId, node, source, field, value and the captured levels. *topic and *payload are
 * the caller's to free(). SB_ERR_INVALID naming the field when no mapping writes it or a
 * template renders with a warning (a captured level unknown) or a topic with + or #.
 */
sb_err sb_gm_command(const sb_gm_config *c, const sb_gm_routes *routes, const sb_msg *m, size_t i,
                     char **topic, char **payload, bool *retain, sb_errmsg *em);

#endif
