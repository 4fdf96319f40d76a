/*
 * options_yaml.h - applies a libyaml document node to a struct described by an option table.
 *
 * Internal to libswitchboard-core (libyaml is a private dependency): the public entry points
 * are sb_config_load*() in config.h. Messages read "FILE:LINE: key 'bus.port': expected an
 * integer, got 'abc'" and "FILE:LINE: unknown key 'bus.prot' (did you mean 'port'?)".
 */
#ifndef SB_OPTIONS_YAML_H
#define SB_OPTIONS_YAML_H

#include <yaml.h>

#include "core/options.h"

/*
 * Applies the mapping node to base (already holding defaults). file names the input in
 * messages; prefix is the key path of node ("" or NULL at the top). Borrows everything.
 * A null node (an empty value) leaves the defaults; any other non-mapping is an error.
 */
sb_err sb_options_from_yaml(const sb_option *table, void *base, yaml_document_t *doc,
                            yaml_node_t *node, const char *prefix, const char *file, sb_errmsg *em);

/* The line (1-based) a node starts on. */
static inline int sb_yaml_line(const yaml_node_t *node)
{
    return (int)node->start_mark.line + 1;
}

#endif
