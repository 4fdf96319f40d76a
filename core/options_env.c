/*
 * options_env.c - environment overrides for an option table.
 *
 * Row "keepalive" in section "bus" under prefix SWITCHBOARD is SWITCHBOARD_BUS_KEEPALIVE: the
 * key path upper-cased, every '.' (and any other non-alphanumeric byte) turned into '_'.
 * Values are text, parsed like a YAML scalar; lists are comma separated, maps "k=v,k2=v2".
 * Variables that match no key are ignored: the environment is shared with other programs.
 */
#include "core/options.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/options_internal.h"

/* Appends "_KEY" (upper-cased) to name; false when it does not fit. */
static bool env_name(char *buf, size_t len, const char *prefix, const char *key)
{
    int n = snprintf(buf, len, "%s_%s", prefix, key);
    if (n < 0 || (size_t)n >= len)
        return false;
    for (char *p = buf + strlen(prefix) + 1; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return true;
}

sb_err sb_options_from_env(const sb_option *table, void *base, const char *env_prefix,
                           sb_errmsg *em)
{
    char name[SB_OPT_PATH_MAX];
    for (const sb_option *row = table; row->key; row++) {
        if (!env_name(name, sizeof(name), env_prefix ? env_prefix : "", row->key))
            return sb_fail(em, SB_ERR_INTERNAL, "environment variable name too long for '%s'",
                           row->key);
        if (row->type == SB_OPT_SECTION) {
            sb_err err = sb_options_from_env(row->section, sb_opt_member(base, row), name, em);
            if (err)
                return err;
            continue;
        }
        const char *value = getenv(name);
        if (!value)
            continue;
        sb_errmsg why = {{0}};
        sb_err err = sb_opt_set_text(row, base, value, &why);
        if (err)
            return sb_fail(em, err, "environment variable %s: %s", name, sb_errmsg_str(&why, err));
    }
    return SB_OK;
}
