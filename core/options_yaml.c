/*
 * options_yaml.c - an option table filled from a libyaml document (yaml_parser_load), so every
 * value has a line for its error message.
 *
 * YAML types are not trusted: a scalar is text and the row's type decides how it parses, the way
 * an environment variable is parsed. A plain empty value, "~" or "null" is YAML null: "" for a
 * string, an empty list or map, the defaults for a section, an error for other types.
 * Aliases are followed (libyaml shares the anchored node); the walk is bounded by the table's
 * depth, so self-referencing anchors cannot loop. Merge keys ("<<") are not supported.
 */
#include "core/options_yaml.h"

#include <stdlib.h>
#include <string.h>

#include "core/options_internal.h"

typedef struct walk {
    yaml_document_t *doc;
    const char *file;
    sb_errmsg *em;
} walk;

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *kind(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    return is_null(n) ? "nothing" : "a scalar";
}

static sb_err at(walk *w, const yaml_node_t *n, sb_err code, const char *path, const char *why)
{
    if (path)
        return sb_fail(w->em, code, "%s:%d: key '%s': %s", w->file, sb_yaml_line(n), path, why);
    return sb_fail(w->em, code, "%s:%d: %s", w->file, sb_yaml_line(n), why);
}

static sb_err wrong_type(walk *w, const sb_option *row, const yaml_node_t *n, const char *path)
{
    char exp[256], why[320];
    snprintf(why, sizeof(why), "expected %s, got %s", sb_opt_expected(row, exp, sizeof(exp)),
             kind(n));
    return at(w, n, SB_ERR_INVALID, path, why);
}

/* The text of a scalar node, refusing embedded NUL bytes ("\0" escapes). */
static sb_err scalar(walk *w, const yaml_node_t *n, const char *path, const char **text)
{
    *text = (const char *)n->data.scalar.value;
    if (strlen(*text) != n->data.scalar.length)
        return at(w, n, SB_ERR_INVALID, path, "a value must not contain NUL bytes");
    return SB_OK;
}

static yaml_node_t *node(walk *w, int index)
{
    return yaml_document_get_node(w->doc, index);
}

static sb_err set_list(walk *w, const sb_option *row, void *base, yaml_node_t *n, const char *path)
{
    sb_strlist list = {0};
    sb_err err = SB_OK;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = node(w, *it);
        const char *text;
        if (!item || item->type != YAML_SCALAR_NODE || is_null(item))
            err = wrong_type(w, row, item ? item : n, path);
        else if (!(err = scalar(w, item, path, &text)))
            err = sb_opt_strlist_push(&list, text, strlen(text));
        if (err == SB_ERR_NOMEM)
            err = at(w, n, err, path, "out of memory");
        if (err)
            break;
    }
    if (err)
        sb_strlist_free(&list);
    else
        sb_opt_strlist_replace(row, base, &list);
    return err;
}

static sb_err map_put(walk *w, cJSON *map, yaml_node_pair_t *p, const char *path)
{
    yaml_node_t *k = node(w, p->key), *v = node(w, p->value);
    const char *key, *val;
    if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
        return at(w, k ? k : v, SB_ERR_INVALID, path, "expected a mapping of strings");
    sb_err err = scalar(w, k, path, &key);
    if (!err)
        err = scalar(w, v, path, &val);
    if (err)
        return err;
    if (cJSON_GetObjectItemCaseSensitive(map, key)) {
        char why[128], got[48];
        snprintf(why, sizeof(why), "duplicate map key '%s'", sb_opt_got(key, got, sizeof(got)));
        return at(w, k, SB_ERR_INVALID, path, why);
    }
    cJSON *str = cJSON_CreateString(is_null(v) ? "" : val);
    if (!str || !cJSON_AddItemToObject(map, key, str)) {
        cJSON_Delete(str);
        return at(w, k, SB_ERR_NOMEM, path, "out of memory");
    }
    return SB_OK;
}

static sb_err set_map(walk *w, const sb_option *row, void *base, yaml_node_t *n, const char *path)
{
    cJSON *map = cJSON_CreateObject();
    if (!map)
        return at(w, n, SB_ERR_NOMEM, path, "out of memory");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        sb_err err = map_put(w, map, p, path);
        if (err) {
            cJSON_Delete(map);
            return err;
        }
    }
    sb_opt_map_replace(row, base, map);
    return SB_OK;
}

static sb_err set_scalar(walk *w, const sb_option *row, void *base, yaml_node_t *n,
                         const char *path)
{
    const char *text;
    sb_err err = scalar(w, n, path, &text);
    if (err)
        return err;
    if (is_null(n)) {
        if (row->type != SB_OPT_STRING && row->type != SB_OPT_STRLIST && row->type != SB_OPT_MAP)
            return wrong_type(w, row, n, path);
        text = "";
    }
    sb_errmsg why = {{0}};
    err = sb_opt_set_text(row, base, text, &why);
    if (err)
        return at(w, n, err, path, sb_errmsg_str(&why, err));
    return SB_OK;
}

static sb_err apply(walk *w, const sb_option *table, void *base, yaml_node_t *n,
                    const char *prefix);

static sb_err set_value(walk *w, const sb_option *row, void *base, yaml_node_t *v, const char *path)
{
    if (row->type == SB_OPT_SECTION) {
        if (is_null(v))
            return SB_OK;
        if (v->type != YAML_MAPPING_NODE)
            return wrong_type(w, row, v, path);
        return apply(w, row->section, sb_opt_member(base, row), v, path);
    }
    if (row->type == SB_OPT_STRLIST && v->type == YAML_SEQUENCE_NODE)
        return set_list(w, row, base, v, path);
    if (row->type == SB_OPT_MAP && v->type == YAML_MAPPING_NODE)
        return set_map(w, row, base, v, path);
    if (v->type != YAML_SCALAR_NODE)
        return wrong_type(w, row, v, path);
    if (row->type == SB_OPT_MAP && !is_null(v))
        return wrong_type(w, row, v, path);
    return set_scalar(w, row, base, v, path);
}

/* Edit distance, to suggest the key a typo meant; small inputs only. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];
    if (la > 64 || lb > 64)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[lb];
}

static sb_err unknown_key(walk *w, const sb_option *table, yaml_node_t *k, const char *key,
                          const char *path)
{
    const sb_option *best = NULL;
    size_t best_d = 3; /* suggest only close typos */
    for (const sb_option *row = table; row->key; row++) {
        size_t d = distance(key, row->key);
        if (d < best_d)
            best = row, best_d = d;
    }
    char got[48];
    sb_opt_got(path, got, sizeof(got));
    if (!strcmp(key, "<<"))
        return sb_fail(w->em, SB_ERR_INVALID, "%s:%d: merge keys ('<<') are not supported", w->file,
                       sb_yaml_line(k));
    if (best)
        return sb_fail(w->em, SB_ERR_INVALID, "%s:%d: unknown key '%s' (did you mean '%s'?)",
                       w->file, sb_yaml_line(k), got, best->key);
    return sb_fail(w->em, SB_ERR_INVALID, "%s:%d: unknown key '%s'", w->file, sb_yaml_line(k), got);
}

/* Finds the row a mapping key names; fails on non-scalar, unknown and duplicate keys. */
static sb_err key_row(walk *w, const sb_option *table, yaml_node_t *k, int *first_line,
                      const char *prefix, const sb_option **out, char *path, size_t len)
{
    const char *key;
    if (!k || k->type != YAML_SCALAR_NODE)
        return sb_fail(w->em, SB_ERR_INVALID, "%s:%d: a key must be a plain word, not %s", w->file,
                       k ? sb_yaml_line(k) : 0, k ? kind(k) : "nothing");
    sb_err err = scalar(w, k, NULL, &key);
    if (err)
        return err;
    sb_opt_path(path, len, prefix, key);
    const sb_option *row = table;
    while (row->key && strcmp(row->key, key) != 0)
        row++;
    if (!row->key)
        return unknown_key(w, table, k, key, path);
    if (first_line[row - table])
        return sb_fail(w->em, SB_ERR_INVALID, "%s:%d: duplicate key '%s' (first at line %d)",
                       w->file, sb_yaml_line(k), path, first_line[row - table]);
    first_line[row - table] = sb_yaml_line(k);
    *out = row;
    return SB_OK;
}

static sb_err apply(walk *w, const sb_option *table, void *base, yaml_node_t *n, const char *prefix)
{
    size_t rows = 0;
    while (table[rows].key)
        rows++;
    int *first_line = calloc(rows + 1, sizeof(*first_line));
    if (!first_line)
        return sb_fail(w->em, SB_ERR_NOMEM, "out of memory");
    sb_err err = SB_OK;
    char path[SB_OPT_PATH_MAX];
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const sb_option *row = NULL;
        yaml_node_t *v = node(w, p->value);
        err = key_row(w, table, node(w, p->key), first_line, prefix, &row, path, sizeof(path));
        if (!err && !v)
            err = sb_fail(w->em, SB_ERR_INTERNAL, "%s: key '%s' has no value node", w->file, path);
        if (!err)
            err = set_value(w, row, base, v, path);
        if (err)
            break;
    }
    free(first_line);
    return err;
}

sb_err sb_options_from_yaml(const sb_option *table, void *base, yaml_document_t *doc,
                            yaml_node_t *n, const char *prefix, const char *file, sb_errmsg *em)
{
    walk w = {.doc = doc, .file = file ? file : "<yaml>", .em = em};
    if (!n || is_null(n))
        return SB_OK;
    if (n->type != YAML_MAPPING_NODE) {
        if (prefix && *prefix)
            return sb_fail(em, SB_ERR_INVALID, "%s:%d: key '%s': expected a mapping, got %s",
                           w.file, sb_yaml_line(n), prefix, kind(n));
        return sb_fail(em, SB_ERR_INVALID, "%s:%d: the top level must be a mapping of keys, got %s",
                       w.file, sb_yaml_line(n), kind(n));
    }
    return apply(&w, table, base, n, prefix);
}
