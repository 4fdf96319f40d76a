/*
 * options.h - typed option tables: one row per key fills one struct member.
 *
 * A table (terminated by a row with key == NULL) describes a struct: each row has a type, a key,
 * a default written as YAML scalar text, the member's offsetof, a one-line description and, for
 * numbers, a range. The same table
 *   - fills the struct with its defaults (sb_options_defaults),
 *   - applies a YAML mapping or a JSON object on top, rejecting unknown keys, wrong types and
 *     out-of-range values with an error that names the key (and the line, for YAML),
 *   - applies SWITCHBOARD_<SECTION>_<KEY> environment overrides,
 *   - prints itself as commented default YAML and as Markdown for the docs,
 *   - frees what it allocated (sb_options_free).
 * Plugins (gateway providers, handlers, stores) describe their own settings with a table too.
 */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

typedef enum sb_opt_type {
    SB_OPT_STRING,   /* char *, owned by the struct (NULL when the default is NULL) */
    SB_OPT_INT,      /* int64_t */
    SB_OPT_DOUBLE,   /* double */
    SB_OPT_BOOL,     /* bool: true/false/yes/no/on/off */
    SB_OPT_DURATION, /* int64_t milliseconds: "250ms", "5s", "1h30m", or a number of ms */
    SB_OPT_ENUM,     /* int: index into .choices */
    SB_OPT_STRLIST,  /* sb_strlist; YAML sequence of scalars, env: comma separated */
    SB_OPT_MAP,      /* cJSON * object of string -> string (labels), owned */
    SB_OPT_SECTION,  /* a nested mapping described by .section, its struct at .offset */
} sb_opt_type;

enum {
    SB_OPT_SECRET = 1u << 0,   /* printed as "***" outside `config default` */
    SB_OPT_REQUIRED = 1u << 1, /* must be given (non-empty) */
};

typedef struct sb_strlist {
    char **items;
    size_t n;
} sb_strlist;

typedef struct sb_option {
    sb_opt_type type;
    const char *key;
    const char *def; /* default as YAML scalar text; for STRLIST comma separated; may be NULL */
    size_t offset;   /* offsetof(struct, member) */
    const char *desc;
    double min, max;                 /* INT/DOUBLE/DURATION range, checked when min < max */
    const char *const *choices;      /* ENUM: NULL-terminated list of accepted words */
    const struct sb_option *section; /* SECTION: nested table */
    unsigned flags;
} sb_option;

/* Row builders, so tables read as one line per key. */
#define SB_OPT_ROW_STR(st, m, k, d, desc_)                                                         \
    {                                                                                              \
        .type = SB_OPT_STRING, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_)  \
    }
#define SB_OPT_ROW_SECRET(st, m, k, desc_)                                                         \
    {                                                                                              \
        .type = SB_OPT_STRING, .key = (k), .def = "", .offset = offsetof(st, m), .desc = (desc_),  \
        .flags = SB_OPT_SECRET                                                                     \
    }
#define SB_OPT_ROW_INT(st, m, k, d, lo, hi, desc_)                                                 \
    {                                                                                              \
        .type = SB_OPT_INT, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_),    \
        .min = (lo), .max = (hi)                                                                   \
    }
#define SB_OPT_ROW_DOUBLE(st, m, k, d, lo, hi, desc_)                                              \
    {                                                                                              \
        .type = SB_OPT_DOUBLE, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_), \
        .min = (lo), .max = (hi)                                                                   \
    }
#define SB_OPT_ROW_BOOL(st, m, k, d, desc_)                                                        \
    {                                                                                              \
        .type = SB_OPT_BOOL, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_)    \
    }
#define SB_OPT_ROW_DURATION(st, m, k, d, lo, hi, desc_)                                            \
    {                                                                                              \
        .type = SB_OPT_DURATION, .key = (k), .def = (d), .offset = offsetof(st, m),                \
        .desc = (desc_), .min = (lo), .max = (hi)                                                  \
    }
#define SB_OPT_ROW_ENUM(st, m, k, d, ch, desc_)                                                    \
    {                                                                                              \
        .type = SB_OPT_ENUM, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_),   \
        .choices = (ch)                                                                            \
    }
#define SB_OPT_ROW_LIST(st, m, k, d, desc_)                                                        \
    {                                                                                              \
        .type = SB_OPT_STRLIST, .key = (k), .def = (d), .offset = offsetof(st, m), .desc = (desc_) \
    }
#define SB_OPT_ROW_MAP(st, m, k, desc_)                                                            \
    {                                                                                              \
        .type = SB_OPT_MAP, .key = (k), .def = NULL, .offset = offsetof(st, m), .desc = (desc_)    \
    }
#define SB_OPT_ROW_SECTION(st, m, k, tbl, desc_)                                                   \
    {                                                                                              \
        .type = SB_OPT_SECTION, .key = (k), .offset = offsetof(st, m), .desc = (desc_),            \
        .section = (tbl)                                                                           \
    }
#define SB_OPT_END                                                                                 \
    {                                                                                              \
        .key = NULL                                                                                \
    }

/* Fills base from the table's defaults (recursively). The struct must be zeroed first. */
sb_err sb_options_defaults(const sb_option *table, void *base, sb_errmsg *em);

/*
 * Applies a JSON object on top of base (already holding defaults). Unknown keys, wrong types
 * and out-of-range values fail, naming the key path (prefix + key). Used for plugin settings
 * stored in entities (a gateway's provider config, a handler's spec).
 */
sb_err sb_options_from_json(const sb_option *table, void *base, const cJSON *obj,
                            const char *prefix, sb_errmsg *em);

/*
 * Applies environment overrides: for every row, the variable <env_prefix>_<KEY> (upper case,
 * nested sections joined by '_', e.g. SWITCHBOARD_STORAGE_SQLITE_PATH). Bad values fail naming
 * the variable.
 */
sb_err sb_options_from_env(const sb_option *table, void *base, const char *env_prefix,
                           sb_errmsg *em);

/* Frees the strings, lists and maps a table's struct owns (recursively); base may be NULL. */
void sb_options_free(const sb_option *table, void *base);

/* Writes the table as YAML with a "# description (range)" comment above every key. */
void sb_options_print_yaml(const sb_option *table, const void *base, FILE *out, int indent,
                           bool redact_secrets);

/* Writes a Markdown table (key path, type, default, description) for the docs. */
void sb_options_print_markdown(const sb_option *table, FILE *out, const char *prefix);

/* Looks up the row for a dotted key path ("bus.url"), or NULL. */
const sb_option *sb_options_find(const sb_option *table, const char *path);

void sb_strlist_free(sb_strlist *list);
bool sb_strlist_contains(const sb_strlist *list, const char *item);

#endif
