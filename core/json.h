/*
 * json.h - small helpers over cJSON (Debian's libcjson, no cJSON_Utils).
 *
 * All getters borrow: returned pointers live as long as the object they came from.
 */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Parses exactly len bytes (no NUL needed). SB_ERR_PARSE with the byte offset in em on failure. */
sb_err sb_json_parse(const char *text, size_t len, cJSON **out, sb_errmsg *em);

/* Member lookup by a dotted key path ("state.status", "labels.room"); NULL when absent. */
cJSON *sb_json_path(const cJSON *obj, const char *path);

/* Typed member getters with a default when the key is absent or of another type. */
const char *sb_json_str(const cJSON *obj, const char *key, const char *def);
double sb_json_num(const cJSON *obj, const char *key, double def);
bool sb_json_bool(const cJSON *obj, const char *key, bool def);

/* Sets (replacing) obj[key]. Return false on allocation failure. Strings are copied. */
bool sb_json_set_str(cJSON *obj, const char *key, const char *value);
bool sb_json_set_num(cJSON *obj, const char *key, double value);
bool sb_json_set_bool(cJSON *obj, const char *key, bool value);
/* Takes ownership of item (deleted on failure). */
bool sb_json_set(cJSON *obj, const char *key, cJSON *item);

/* Compact text; caller frees with free(). NULL on allocation failure. */
char *sb_json_print(const cJSON *item);

/* The value of a scalar as text: strings as is, numbers shortest-exact, bools true/false. */
bool sb_json_scalar_text(const cJSON *item, char *buf, size_t len);

/* Compact text of obj without its top-level keys in the NULL-terminated list skip (an entity's
 * fingerprint without "state" and "modifiedOn", to tell a real change from a state update).
 * Caller frees; NULL on allocation failure. */
char *sb_json_print_except(const cJSON *obj, const char *const *skip);

/* Whether the object labels has every key of want with the same string value (labels
 * filters: an empty or NULL want matches anything). */
bool sb_json_labels_match(const cJSON *labels, const cJSON *want);

#endif
