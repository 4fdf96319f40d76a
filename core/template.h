/*
 * template.h - the template engine of tasks, schedules and handlers.
 *
 * Text outside "{{ ... }}" is copied. Inside is one expression: an operand followed by any
 * number of "| function arg..." stages, each stage taking the value on its left:
 *
 *     {{ sensor.value }}                      variable: a dotted key path into vars;
 *     {{ readings.0.temp | fixed 1 }}         numeric segments index arrays
 *     {{ now | format "%Y-%m-%d %H:%M" }}     strftime in the render zone
 *     {{ now | format "%H:%M" "UTC" }}        ...or in a named zone
 *     {{ sunrise | format "%H:%M" }}          today's sunrise/sunset at the configured place
 *     {{ name | default "nobody" | upper }}
 *     {{ door.open | ternary "open" "shut" }}
 *     {{ payload | toJson }}
 *     {{ "{{" }}                              a literal "{{"
 *
 * Operands: a key path, a "string" (escapes \" \\ \n \t), a number, true, false, null, now,
 * sunrise, sunset, or a parenthesised expression: {{ a | default (b | upper) }}.
 * The names now, sunrise, sunset, true, false and null are reserved: a variable with such a
 * name is reached through a parent object only.
 *
 * Functions (the value on the left is the input):
 *   format FMT [ZONE]  time (now, sunrise, ms since the epoch or RFC 3339 text) with strftime
 *   fixed N            number (or numeric text) with N decimals (0-10)
 *   default X          X when the input is missing, null or ""
 *   ternary A B        A when the input is truthy (not missing/null/false/0/""/empty), else B
 *   toJson             the input as JSON text
 *   upper / lower      ASCII case of the input as text
 *
 * Rendering: strings as they are, numbers shortest exact, booleans true/false, missing and null
 * as nothing, times as RFC 3339 UTC, objects and arrays as compact JSON. A rendered value is
 * never itself read as a template.
 *
 * Problems: a malformed template (unterminated "{{", unknown function, missing argument, bad
 * character, nesting over SB_TMPL_MAX_DEPTH) fails with SB_ERR_PARSE naming the byte offset.
 * Problems with data (unknown variable, a function given the wrong kind of value, sunrise with
 * no location) render nothing and add a warning "offset N: ..." instead; "default" and
 * "ternary" accept a missing input without a warning. Output over max_output fails with
 * SB_ERR_TOO_LARGE.
 */
#ifndef SB_TEMPLATE_H
#define SB_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SB_TMPL_MAX_OUTPUT   (64 * 1024) /* default output bound */
#define SB_TMPL_MAX_DEPTH    16          /* parentheses */
#define SB_TMPL_MAX_WARNINGS 32          /* further warnings are dropped */

typedef struct sb_tmpl_opts {
    int64_t now_ms;    /* the value of now; 0 = the current time */
    const char *tz;    /* zone of format and of "today" (core/tz.h names); NULL = process local */
    bool has_location; /* false: sunrise/sunset render nothing with a warning */
    double latitude;   /* north positive */
    double longitude;  /* east positive */
    size_t max_output; /* bytes without the NUL; 0 = SB_TMPL_MAX_OUTPUT */
} sb_tmpl_opts;

/*
 * Renders tmpl with variables vars (borrowed; any JSON, usually an object; NULL = none) and
 * opts (NULL = defaults). On SB_OK *out is the NUL-terminated text, caller frees with free().
 * When warnings is not NULL it receives a new JSON array of strings (caller cJSON_Delete()s),
 * empty when all went well; on failure it is set to NULL.
 */
sb_err sb_tmpl_render(const char *tmpl, const cJSON *vars, const sb_tmpl_opts *opts, char **out,
                      cJSON **warnings, sb_errmsg *em);

/*
 * The zone and location of renders that pass no opts (NULL): tasks and handlers render with the
 * installation's site (storage/site.h sets it at start and when the settings change). Copied;
 * thread-safe. tz NULL = the process's local zone.
 */
void sb_tmpl_set_site(const char *tz, bool has_location, double latitude, double longitude);

#endif
