/*
 * options_json.c - applies a JSON object to a struct described by an option table.
 *
 * Used for plugin settings stored inside entities (a gateway's provider, a handler's spec).
 * JSON carries its own types, so they are checked strictly: a number where a string belongs is
 * an error, not a conversion. Durations accept "30s" or a number of milliseconds.
 */
#include "core/options.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options_internal.h"

static const char *json_kind(const cJSON *v, char *buf, size_t len)
{
    char text[256], got[48];
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsObject(v))
        return "a mapping";
    if (cJSON_IsNull(v))
        return "null";
    if (!sb_json_scalar_text(v, text, sizeof(text)))
        return "an unknown value";
    snprintf(buf, len, "'%s'", sb_opt_got(text, got, sizeof(got)));
    return buf;
}

static sb_err wrong_type(const sb_option *row, const cJSON *v, const char *path, sb_errmsg *em)
{
    char exp[256], got[64];
    return sb_fail(em, SB_ERR_INVALID, "key '%s': expected %s, got %s", path,
                   sb_opt_expected(row, exp, sizeof(exp)), json_kind(v, got, sizeof(got)));
}

static bool kind_fits(const sb_option *row, const cJSON *v)
{
    switch (row->type) {
    case SB_OPT_STRING:
        return cJSON_IsString(v) || cJSON_IsNull(v);
    case SB_OPT_INT:
    case SB_OPT_DOUBLE:
        return cJSON_IsNumber(v);
    case SB_OPT_BOOL:
        return cJSON_IsBool(v);
    case SB_OPT_DURATION:
        return cJSON_IsString(v) || cJSON_IsNumber(v);
    case SB_OPT_ENUM:
        return cJSON_IsString(v);
    case SB_OPT_STRLIST:
        return cJSON_IsArray(v) || cJSON_IsNull(v);
    case SB_OPT_MAP:
        return cJSON_IsObject(v) || cJSON_IsNull(v);
    case SB_OPT_SECTION:
        return cJSON_IsObject(v) || cJSON_IsNull(v);
    }
    return false;
}

/* A scalar's text: strings as they are (any length), null as "", numbers and booleans. */
static const char *json_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNull(v))
        return "";
    return sb_json_scalar_text(v, buf, len) ? buf : NULL;
}

static sb_err set_list(const sb_option *row, void *base, const cJSON *v, const char *path,
                       sb_errmsg *em)
{
    sb_strlist list = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        sb_err err = SB_ERR_NOMEM;
        if (!cJSON_IsString(it))
            err = wrong_type(row, it, path, em);
        else if (sb_opt_strlist_push(&list, it->valuestring, strlen(it->valuestring)) == SB_OK)
            continue;
        sb_strlist_free(&list);
        return err == SB_ERR_NOMEM ? sb_fail(em, err, "key '%s': out of memory", path) : err;
    }
    sb_opt_strlist_replace(row, base, &list);
    return SB_OK;
}

static sb_err set_map(const sb_option *row, void *base, const cJSON *v, const char *path,
                      sb_errmsg *em)
{
    cJSON *map = cJSON_CreateObject();
    const cJSON *it;
    char buf[64];
    cJSON_ArrayForEach(it, v)
    {
        if (!map)
            break;
        const char *text = cJSON_IsNull(it) ? NULL : json_text(it, buf, sizeof(buf));
        if (!it->string || !text) {
            cJSON_Delete(map);
            return sb_fail(em, SB_ERR_INVALID, "key '%s.%s': expected a string", path,
                           it->string ? it->string : "");
        }
        cJSON_DeleteItemFromObjectCaseSensitive(map, it->string);
        cJSON *str = cJSON_CreateString(text);
        if (!str || !cJSON_AddItemToObject(map, it->string, str)) {
            cJSON_Delete(str);
            cJSON_Delete(map);
            map = NULL;
        }
    }
    if (!map)
        return sb_fail(em, SB_ERR_NOMEM, "key '%s': out of memory", path);
    sb_opt_map_replace(row, base, map);
    return SB_OK;
}

static sb_err apply(const sb_option *table, void *base, const cJSON *obj, const char *prefix,
                    sb_errmsg *em);

static sb_err set_value(const sb_option *row, void *base, const cJSON *v, const char *path,
                        sb_errmsg *em)
{
    if (!kind_fits(row, v))
        return wrong_type(row, v, path, em);
    if (row->type == SB_OPT_SECTION)
        return cJSON_IsNull(v) ? SB_OK : apply(row->section, sb_opt_member(base, row), v, path, em);
    if (row->type == SB_OPT_STRLIST)
        return set_list(row, base, cJSON_IsNull(v) ? NULL : v, path, em);
    if (row->type == SB_OPT_MAP)
        return set_map(row, base, cJSON_IsNull(v) ? NULL : v, path, em);
    char buf[64];
    const char *text = json_text(v, buf, sizeof(buf));
    if (!text)
        return wrong_type(row, v, path, em);
    sb_errmsg why = {{0}};
    sb_err err = sb_opt_set_text(row, base, text, &why);
    if (err)
        return sb_fail(em, err, "key '%s': %s", path, sb_errmsg_str(&why, err));
    return SB_OK;
}

static sb_err apply(const sb_option *table, void *base, const cJSON *obj, const char *prefix,
                    sb_errmsg *em)
{
    size_t rows = 0;
    while (table[rows].key)
        rows++;
    bool *seen = calloc(rows + 1, sizeof(*seen));
    if (!seen)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err err = SB_OK;
    char path[SB_OPT_PATH_MAX];
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        const char *key = v->string ? v->string : "";
        sb_opt_path(path, sizeof(path), prefix, key);
        const sb_option *row = table;
        while (row->key && strcmp(row->key, key) != 0)
            row++;
        if (!row->key) {
            err = sb_fail(em, SB_ERR_INVALID, "unknown key '%s'", path);
        } else if (seen[row - table]) {
            err = sb_fail(em, SB_ERR_INVALID, "duplicate key '%s'", path);
        } else {
            seen[row - table] = true;
            err = set_value(row, base, v, path, em);
        }
        if (err)
            break;
    }
    free(seen);
    return err;
}

sb_err sb_options_from_json(const sb_option *table, void *base, const cJSON *obj,
                            const char *prefix, sb_errmsg *em)
{
    if (!obj || cJSON_IsNull(obj))
        return sb_opt_check_required(table, base, prefix, em);
    if (!cJSON_IsObject(obj)) {
        if (prefix && *prefix)
            return sb_fail(em, SB_ERR_INVALID, "key '%s': expected a mapping", prefix);
        return sb_fail(em, SB_ERR_INVALID, "expected a JSON object");
    }
    sb_err err = apply(table, base, obj, prefix, em);
    if (err)
        return err;
    return sb_opt_check_required(table, base, prefix, em);
}
