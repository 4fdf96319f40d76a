/*
 * tas_map.h - the Tasmota mapping: pure functions from (MQTT topic, payload) to messages and
 * from messages to Tasmota commands. No transport, no threads: the provider (tasmota.c), the
 * unit tests and the fuzz target share it (docs/gateways/tasmota.md).
 *
 * Topics are read against the device's FullTopic ("%prefix%/%topic%/" by default): a template
 * of '/'-separated levels, each a literal or one of %prefix%, %topic%, %hostname%, %id%. The
 * last topic level is the command or telemetry name (SENSOR, STATE, RESULT, POWER2 ...).
 * %topic% may span several levels ("home/kitchen/plug"); the node id is the device topic with
 * '/', '.', ':', white space, '+' and '#' turned into '_'.
 */
#ifndef SB_TAS_MAP_H
#define SB_TAS_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mapped.h"
#include "core/msg.h"

#define SB_TAS_TOPIC_MAX 256 /* bytes of a topic, device topic or cmnd base */
#define SB_TAS_LEVELS    16  /* levels of a FullTopic template */

typedef enum sb_tas_prefix { SB_TAS_CMND = 0, SB_TAS_STAT, SB_TAS_TELE } sb_tas_prefix;

/* What the mapping needs to know; every string is borrowed. */
typedef struct sb_tas_opts {
    const char *gateway_id;
    const char *full_topic; /* "%prefix%/%topic%/" when NULL */
    const char *prefix[3];  /* cmnd, stat, tele words; the defaults when NULL */
} sb_tas_opts;

/* Checks a FullTopic template: levels of literals or whole tokens, exactly one %topic% and one
 * %prefix%, no '+' or '#'. em names what is wrong. */
sb_err sb_tas_full_topic_check(const char *full_topic, sb_errmsg *em);

/* A topic read against the FullTopic. */
typedef struct sb_tas_topic {
    sb_tas_prefix prefix;
    char device[SB_TAS_TOPIC_MAX];    /* the device topic as sent ("home/plug") */
    char node_id[SB_TAS_TOPIC_MAX];   /* the device topic sanitized ("home_plug") */
    char name[64];                    /* the last level: "SENSOR", "POWER2" ... */
    char cmnd_base[SB_TAS_TOPIC_MAX]; /* the same levels with the cmnd prefix, '/'-terminated */
} sb_tas_topic;

/* SB_ERR_INVALID (with why) when topic does not fit the template. */
sb_err sb_tas_topic_parse(const sb_tas_opts *o, const char *topic, sb_tas_topic *out,
                          sb_errmsg *em);

/*
 * The subscription filters that cover the stat and tele topics of every device: one or two
 * filters written into f[0], f[1] (each SB_TAS_TOPIC_MAX bytes); *n gets how many.
 */
sb_err sb_tas_filters(const sb_tas_opts *o, char f[2][SB_TAS_TOPIC_MAX], size_t *n, sb_errmsg *em);

/* The cmnd base ('/'-terminated) of a device never seen, for %topic% = device; SB_ERR_INVALID
 * when the template has %hostname% or %id% (unknown until the device speaks). */
sb_err sb_tas_cmnd_base(const sb_tas_opts *o, const char *device, char *buf, size_t len,
                        sb_errmsg *em);

/* Turns any character that may not be in an id ('.', ':', '/', white space, '+', '#', control
 * bytes) into '_'; at most len-1 bytes are written. */
void sb_tas_sanitize(const char *in, char *out, size_t len);

/* What one received publish became. */
typedef struct sb_tas_result {
    sb_mapped m;               /* the messages, and the notes on what was skipped (mapped.h) */
    bool online_known, online; /* an LWT told the device's availability */
} sb_tas_result;

/*
 * Maps one publish (topic already parsed) to messages: SENSOR and StatusSNS values, STATE /
 * RESULT / StatusSTS relays, light and Wifi, POWER<n> text, LWT, STATUS node info. Bad parts
 * are skipped with a note and the rest is used; a payload that is not JSON where JSON is
 * expected gives no message and one note. SB_ERR_NOMEM only. Free with sb_tas_result_free().
 */
sb_err sb_tas_map(const sb_tas_opts *o, const sb_tas_topic *t, const void *payload, size_t len,
                  sb_tas_result *out);
void sb_tas_result_free(sb_tas_result *r);

/*
 * The command for payload i of a message to a device: a set of a relay's "power" field gives
 * POWER<n> ON|OFF, the light's Dimmer/Color/CT/HSBColor/White give that command; a request
 * gives the command with an empty payload (Tasmota answers with the state). cmd and value get
 * the last topic level and the payload. SB_ERR_INVALID naming the field when it is not
 * writable or the value does not fit.
 */
sb_err sb_tas_command(const sb_msg *m, size_t i, char *cmd, size_t cmd_len, char *value,
                      size_t value_len, sb_errmsg *em);

/* Source and field ids the mapping uses. */
#define SB_TAS_SRC_LIGHT    "light"
#define SB_TAS_FIELD_POWER  "power"
#define SB_TAS_FIELD_ONLINE "online"

#endif
