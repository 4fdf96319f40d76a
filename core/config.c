/*
 * config.c - loading switchboard.yaml: defaults, then the file, then the environment.
 *
 * The keys themselves are described in config_table.c; the YAML walk is options_yaml.c. This
 * file owns the parser life cycle (one document, syntax errors with line and column), the order
 * of the layers, the checks that span several keys, and the printing entry points.
 * An sb_config owns all its strings; sb_config_free() releases it, half-built or not.
 */
#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/options_internal.h"
#include "core/options_yaml.h"

#define ENV_PREFIX "SWITCHBOARD"

/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CONFIG_FILE_MAX (4u << 20)

/*
 * Deepest nesting of mappings and sequences accepted. The keys need 4 levels; the limit exists
 * because libyaml's scanner costs O(depth) per token inside flow collections, so 100,000
 * nested '[' take tens of seconds to load.
 */
#define CONFIG_DEPTH_MAX 32

void sb_config_free(sb_config *cfg)
{
    if (!cfg)
        return;
    sb_options_free(sb_config_table, cfg);
    free(cfg->source);
    free(cfg);
}

/* A zeroed config holding the table's defaults and the source name. */
static sb_err new_config(const char *source, sb_config **out, sb_errmsg *em)
{
    sb_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->source = strdup(source))) {
        free(cfg);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    sb_err err = sb_options_defaults(sb_config_table, cfg, em);
    if (err) {
        sb_config_free(cfg);
        return err;
    }
    *out = cfg;
    return SB_OK;
}

static sb_err syntax_error(yaml_parser_t *p, const char *yaml, size_t len, const char *name,
                           sb_errmsg *em)
{
    const char *problem = p->problem ? p->problem : "malformed input";
    size_t at = p->problem_mark.index;
    if (p->error == YAML_SCANNER_ERROR && at < len && yaml[at] == '\t')
        problem = "a tab; YAML indents with spaces only";
    if (p->error == YAML_MEMORY_ERROR)
        return sb_fail(em, SB_ERR_NOMEM, "%s: out of memory while parsing YAML", name);
    if (p->error == YAML_READER_ERROR)
        return sb_fail(em, SB_ERR_PARSE, "%s: byte %zu: YAML syntax error: %s", name,
                       p->problem_offset, problem);
    if (p->context)
        return sb_fail(em, SB_ERR_PARSE, "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu)", name,
                       p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                       p->context_mark.line + 1);
    return sb_fail(em, SB_ERR_PARSE, "%s:%zu:%zu: YAML syntax error: %s", name,
                   p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

/* After the first document: nothing but the end of the stream may follow. */
static sb_err expect_end(yaml_parser_t *p, const char *yaml, size_t len, const char *name,
                         sb_errmsg *em)
{
    yaml_document_t doc;
    if (!yaml_parser_load(p, &doc))
        return syntax_error(p, yaml, len, name, em);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int line = root ? sb_yaml_line(root) : 0;
    yaml_document_delete(&doc);
    if (root)
        return sb_fail(em, SB_ERR_INVALID, "%s:%d: only one YAML document is allowed", name, line);
    return SB_OK;
}

/* A first pass over the events, stopping at the first syntax error or too deep a nesting. */
static sb_err check_events(const char *yaml, size_t len, const char *name, sb_errmsg *em)
{
    yaml_parser_t p;
    yaml_event_t ev;
    sb_err err = SB_OK;
    int depth = 0;
    if (!yaml_parser_initialize(&p))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    while (!err) {
        if (!yaml_parser_parse(&p, &ev)) {
            err = syntax_error(&p, yaml, len, name, em);
            break;
        }
        yaml_event_type_t type = ev.type;
        if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT)
            depth--;
        if (depth > CONFIG_DEPTH_MAX)
            err = sb_fail(em, SB_ERR_INVALID, "%s:%zu: nested deeper than %d levels", name,
                          ev.start_mark.line + 1, CONFIG_DEPTH_MAX);
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return err;
}

static sb_err apply_yaml(sb_config *cfg, const char *yaml, size_t len, const char *name,
                         sb_errmsg *em)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    sb_err err = check_events(yaml, len, name, em);
    if (err)
        return err;
    if (!yaml_parser_initialize(&parser))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        err = syntax_error(&parser, yaml, len, name, em);
        yaml_parser_delete(&parser);
        return err;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) /* no root: an empty file or only comments, the defaults stand */
        err = sb_options_from_yaml(sb_config_table, cfg, &doc, root, NULL, name, em);
    yaml_document_delete(&doc);
    if (!err && root)
        err = expect_end(&parser, yaml, len, name, em);
    yaml_parser_delete(&parser);
    return err;
}

/* Checks that involve more than one key, or more than a key's type and range. */
static sb_err validate(const sb_config *cfg, sb_errmsg *em)
{
    char a[48], b[48];
    const sb_config_bus *bus = &cfg->bus;
    sb_err err = sb_opt_check_required(sb_config_table, cfg, NULL, em);
    if (err)
        return err;
    if (bus->reconnect_min_ms > bus->reconnect_max_ms) {
        sb_opt_format_duration(bus->reconnect_min_ms, a, sizeof(a));
        sb_opt_format_duration(bus->reconnect_max_ms, b, sizeof(b));
        return sb_fail(em, SB_ERR_INVALID,
                       "key 'bus.reconnect_min' (%s) must not exceed 'bus.reconnect_max' (%s)", a,
                       b);
    }
    if (strpbrk(bus->topic_prefix, "+#") || bus->topic_prefix[0] == '/' ||
        bus->topic_prefix[strlen(bus->topic_prefix) - 1] == '/')
        return sb_fail(em, SB_ERR_INVALID,
                       "key 'bus.topic_prefix': must not hold the MQTT wildcards + or # nor "
                       "start or end with '/', got '%s'",
                       sb_opt_got(bus->topic_prefix, a, sizeof(a)));
    return SB_OK;
}

/* The layers after the defaults: the YAML text (when yaml is not NULL), then the environment. */
static sb_err load(const char *yaml, size_t len, const char *name, sb_config **out, sb_errmsg *em)
{
    sb_config *cfg = NULL;
    *out = NULL;
    sb_err err = new_config(name, &cfg, em);
    if (!err && yaml)
        err = apply_yaml(cfg, yaml, len, name, em);
    if (!err)
        err = sb_options_from_env(sb_config_table, cfg, ENV_PREFIX, em);
    if (!err && (err = validate(cfg, em)))
        sb_fail_wrap(em, err, "%s", name);
    if (err) {
        sb_config_free(cfg);
        return err;
    }
    *out = cfg;
    return SB_OK;
}

sb_err sb_config_load_string(const char *yaml, size_t len, const char *name, sb_config **out,
                             sb_errmsg *em)
{
    return load(yaml ? yaml : "", yaml ? len : 0, name ? name : "<string>", out, em);
}

sb_err sb_config_defaults(sb_config **out, sb_errmsg *em)
{
    return load(NULL, 0, "defaults", out, em);
}

static sb_err read_file(const char *path, char **text, size_t *len, sb_errmsg *em)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sb_fail(em, errno == ENOENT ? SB_ERR_NOTFOUND : SB_ERR_IO,
                       "cannot open config file '%s': %s", path, strerror(errno));
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (failed || n > CONFIG_FILE_MAX) {
        free(buf);
        return failed ? sb_fail(em, SB_ERR_IO, "cannot read config file '%s'", path)
                      : sb_fail(em, SB_ERR_TOO_LARGE, "config file '%s' is over %u bytes", path,
                                CONFIG_FILE_MAX);
    }
    *text = buf;
    *len = n;
    return SB_OK;
}

sb_err sb_config_load(const char *path, sb_config **out, sb_errmsg *em)
{
    if (!path)
        return sb_config_defaults(out, em);
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    sb_err err = read_file(path, &text, &len, em);
    if (err)
        return err;
    err = load(text, len, path, out, em);
    free(text);
    return err;
}

static const char header[] =
    "# switchboard.yaml - the Switchboard configuration (`switchboard config default`).\n"
    "#\n"
    "# Every key is listed with its default; keep only what you change. Unknown keys, wrong\n"
    "# types and values out of range stop the services with a message naming key and line.\n"
    "# Environment variables override this file: SWITCHBOARD_<SECTION>_<KEY>, the key path in\n"
    "# upper case with '.' as '_' (bus.tls.ca_file -> SWITCHBOARD_BUS_TLS_CA_FILE); lists are\n"
    "# comma separated there. Durations: 250ms, 30s, 5m, 2h, 7d, or combined like 1h30m.\n"
    "# Reference: docs/configuration.md.\n"
    "\n";

void sb_config_print_default(FILE *out)
{
    sb_config *cfg = NULL;
    fputs(header, out);
    if (new_config("defaults", &cfg, NULL) != SB_OK) {
        fputs("# (out of memory)\n", out);
        return;
    }
    sb_options_print_yaml(sb_config_table, cfg, out, 0, false);
    sb_config_free(cfg);
}

void sb_config_print(const sb_config *cfg, FILE *out)
{
    fprintf(out, "# effective configuration from %s (file, then environment); secrets hidden\n",
            cfg->source ? cfg->source : "defaults");
    sb_options_print_yaml(sb_config_table, cfg, out, 0, true);
}

char *sb_config_data_path(const sb_config *cfg, const char *name)
{
    const char *dir = cfg && cfg->data_dir ? cfg->data_dir : "";
    char *path = NULL;
    size_t n = strlen(dir);
    int rc;
    if (!name)
        name = "";
    if (name[0] == '/' || n == 0)
        rc = asprintf(&path, "%s", name);
    else
        rc = asprintf(&path, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
    return rc < 0 ? NULL : path;
}
