/*
 * options_internal.h - helpers shared by the option-table files (options*.c, config*.c).
 *
 * Not a public contract: other modules use core/options.h. The "why" messages these helpers
 * write never name the key; callers wrap them with the key path and, for YAML, the line, so
 * every front end (YAML, JSON, environment) reports the same sentence about the value.
 */
#ifndef SB_OPTIONS_INTERNAL_H
#define SB_OPTIONS_INTERNAL_H

#include "core/options.h"

/* Longest key path ("storage.mongodb.collection_prefix") or variable name we build. */
#define SB_OPT_PATH_MAX 256

/* Longest duration text handed to sb_duration_parse: keeps its sum far from int64 overflow. */
#define SB_OPT_DURATION_TEXT_MAX 64

/* The member a row describes inside base. */
static inline void *sb_opt_member(void *base, const sb_option *row)
{
    return (char *)base + row->offset;
}

static inline const void *sb_opt_cmember(const void *base, const sb_option *row)
{
    return (const char *)base + row->offset;
}

/* Joins "prefix.key" into buf; an empty or NULL prefix gives "key". False when truncated. */
bool sb_opt_path(char *buf, size_t len, const char *prefix, const char *key);

/* What a row accepts, for messages: "an integer", "one of error|warn|info". */
const char *sb_opt_expected(const sb_option *row, char *buf, size_t len);

/* Copies text for a message: at most ~40 bytes, control bytes shown as '?'. */
const char *sb_opt_got(const char *text, char *buf, size_t len);

/*
 * Parses scalar text into the member of any non-SECTION row: STRLIST takes comma separated
 * items, MAP "k=v,k2=v2". Replaces (and frees) the previous value only on success. On failure
 * why says what was wrong with the value ("expected an integer, got 'x'"), without the key.
 */
sb_err sb_opt_set_text(const sb_option *row, void *base, const char *text, sb_errmsg *why);

/* Appends a copy of text[0..n) to list. */
sb_err sb_opt_strlist_push(sb_strlist *list, const char *text, size_t n);

/* Replaces the list member of row with list (taken over) and frees the previous one. */
void sb_opt_strlist_replace(const sb_option *row, void *base, sb_strlist *list);

/* Replaces the map member of row with map (taken over) and frees the previous one. */
void sb_opt_map_replace(const sb_option *row, void *base, cJSON *map);

/* Writes ms as the shortest duration text that parses back: "250ms", "30s", "1h30m", "7d". */
void sb_opt_format_duration(int64_t ms, char *buf, size_t len);

/* Writes a double as the shortest text that parses back to the same value. */
void sb_opt_format_double(double v, char *buf, size_t len);

/*
 * The member's value as scalar text (not for STRLIST, MAP, SECTION): strings as they are
 * ("" for NULL), numbers, true/false, durations, enum words. Returns buf.
 */
const char *sb_opt_value_text(const sb_option *row, const void *base, char *buf, size_t len);

/* Checks SB_OPT_REQUIRED rows (recursively) hold a non-empty value. */
sb_err sb_opt_check_required(const sb_option *table, const void *base, const char *prefix,
                             sb_errmsg *em);

#endif
