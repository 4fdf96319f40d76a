/*
 * options.c - typed option tables: defaults, scalar parsing, lookup, free.
 *
 * The front ends live next to it: options_json.c (JSON objects), options_env.c (environment),
 * options_yaml.c (libyaml documents) and options_print.c (YAML and Markdown output). They all
 * parse values through sb_opt_set_text() here, so a value means the same thing everywhere.
 * A struct described by a table owns its strings, lists and maps; sb_options_free() frees them.
 */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/options_internal.h"
#include "core/time.h"

bool sb_opt_path(char *buf, size_t len, const char *prefix, const char *key)
{
    int n = (prefix && *prefix) ? snprintf(buf, len, "%s.%s", prefix, key)
                                : snprintf(buf, len, "%s", key);
    return n >= 0 && (size_t)n < len;
}

static void choices_text(const sb_option *row, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; row->choices && row->choices[i]; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? "|" : "", row->choices[i]);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

const char *sb_opt_expected(const sb_option *row, char *buf, size_t len)
{
    char ch[200];
    switch (row->type) {
    case SB_OPT_STRING:
        return "a string";
    case SB_OPT_INT:
        return "an integer";
    case SB_OPT_DOUBLE:
        return "a number";
    case SB_OPT_BOOL:
        return "true or false";
    case SB_OPT_DURATION:
        return "a duration like 30s";
    case SB_OPT_ENUM:
        choices_text(row, ch, sizeof(ch));
        snprintf(buf, len, "one of %s", ch);
        return buf;
    case SB_OPT_STRLIST:
        return "a list of strings";
    case SB_OPT_MAP:
        return "a mapping of strings";
    case SB_OPT_SECTION:
        return "a mapping";
    }
    return "a value";
}

const char *sb_opt_got(const char *text, char *buf, size_t len)
{
    size_t i = 0, max = len > 44 ? 40 : len - 4;
    for (; text[i] && i < max; i++)
        buf[i] = ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) ? '?' : text[i];
    if (text[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static sb_err bad_value(const sb_option *row, const char *text, sb_errmsg *why)
{
    char exp[256], got[48];
    return sb_fail(why, SB_ERR_INVALID, "expected %s, got '%s'",
                   sb_opt_expected(row, exp, sizeof(exp)), sb_opt_got(text, got, sizeof(got)));
}

/* Copies text without surrounding blanks into buf; false when it does not fit. */
static bool trimmed(const char *text, char *buf, size_t len)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    if (n >= len)
        return false;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return true;
}

static sb_err out_of_range(const sb_option *row, const char *text, sb_errmsg *why)
{
    char lo[48], hi[48], got[48];
    if (row->type == SB_OPT_DURATION) {
        sb_opt_format_duration((int64_t)row->min, lo, sizeof(lo));
        sb_opt_format_duration((int64_t)row->max, hi, sizeof(hi));
    } else {
        sb_opt_format_double(row->min, lo, sizeof(lo));
        sb_opt_format_double(row->max, hi, sizeof(hi));
    }
    return sb_fail(why, SB_ERR_INVALID, "%s is out of range (%s..%s)",
                   sb_opt_got(text, got, sizeof(got)), lo, hi);
}

static bool in_range(const sb_option *row, double v)
{
    return !(row->min < row->max) || (v >= row->min && v <= row->max);
}

static sb_err set_int(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    char t[64];
    if (!trimmed(text, t, sizeof(t)) || !t[0])
        return bad_value(row, text, why);
    errno = 0;
    char *end;
    long long v = strtoll(t, &end, 10);
    if (*end != '\0')
        return bad_value(row, text, why);
    if (errno == ERANGE || !in_range(row, (double)v))
        return out_of_range(row, t, why);
    *(int64_t *)sb_opt_member(base, row) = v;
    return SB_OK;
}

static sb_err set_double(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    char t[64];
    if (!trimmed(text, t, sizeof(t)) || !t[0] || isalpha((unsigned char)t[t[0] == '-']))
        return bad_value(row, text, why); /* no "inf", "nan", hex words */
    errno = 0;
    char *end;
    double v = strtod(t, &end);
    if (*end != '\0')
        return bad_value(row, text, why);
    if (errno == ERANGE || !isfinite(v) || !in_range(row, v))
        return out_of_range(row, t, why);
    *(double *)sb_opt_member(base, row) = v;
    return SB_OK;
}

static sb_err set_bool(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    char t[16];
    if (trimmed(text, t, sizeof(t))) {
        for (size_t i = 0; i < SB_ARRAY_LEN(yes); i++) {
            if (strcasecmp(t, yes[i]) == 0 || strcasecmp(t, no[i]) == 0) {
                *(bool *)sb_opt_member(base, row) = strcasecmp(t, yes[i]) == 0;
                return SB_OK;
            }
        }
    }
    return bad_value(row, text, why);
}

static sb_err set_duration(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    char t[SB_OPT_DURATION_TEXT_MAX];
    int64_t ms;
    if (!trimmed(text, t, sizeof(t)) || sb_duration_parse(t, &ms) != SB_OK)
        return bad_value(row, text, why);
    if (!in_range(row, (double)ms))
        return out_of_range(row, t, why);
    *(int64_t *)sb_opt_member(base, row) = ms;
    return SB_OK;
}

static sb_err set_enum(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    char t[64];
    if (trimmed(text, t, sizeof(t))) {
        for (int i = 0; row->choices && row->choices[i]; i++) {
            if (strcasecmp(t, row->choices[i]) == 0) {
                *(int *)sb_opt_member(base, row) = i;
                return SB_OK;
            }
        }
    }
    return bad_value(row, text, why);
}

static sb_err set_string(const sb_option *row, void *base, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return SB_ERR_NOMEM;
    char **m = sb_opt_member(base, row);
    free(*m);
    *m = copy;
    return SB_OK;
}

/* Calls fn on every comma separated item of text, blanks trimmed, empty items skipped. */
static sb_err split_commas(const char *text, sb_err (*fn)(const char *, size_t, void *), void *ctx)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s) {
            sb_err err = fn(s, (size_t)(e - s), ctx);
            if (err)
                return err;
        }
        p = comma ? comma + 1 : end;
    }
    return SB_OK;
}

static sb_err push_item(const char *s, size_t n, void *ctx)
{
    return sb_opt_strlist_push(ctx, s, n);
}

static sb_err set_strlist(const sb_option *row, void *base, const char *text)
{
    sb_strlist list = {0};
    sb_err err = split_commas(text, push_item, &list);
    if (err) {
        sb_strlist_free(&list);
        return err;
    }
    sb_opt_strlist_replace(row, base, &list);
    return SB_OK;
}

static sb_err put_pair(const char *s, size_t n, void *ctx)
{
    const char *eq = memchr(s, '=', n);
    if (!eq || eq == s)
        return SB_ERR_INVALID;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    const char *v = eq + 1;
    while (kn && isspace((unsigned char)s[kn - 1]))
        kn--;
    while (vn && isspace((unsigned char)*v))
        v++, vn--;
    char *key = strndup(s, kn), *val = strndup(v, vn);
    cJSON *str = val ? cJSON_CreateString(val) : NULL;
    bool ok = key && str;
    if (ok) {
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, key);
        ok = cJSON_AddItemToObject(ctx, key, str);
    }
    if (!ok)
        cJSON_Delete(str);
    free(key);
    free(val);
    return ok ? SB_OK : SB_ERR_NOMEM;
}

static sb_err set_map(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    cJSON *map = cJSON_CreateObject();
    if (!map)
        return SB_ERR_NOMEM;
    sb_err err = split_commas(text, put_pair, map);
    if (err) {
        cJSON_Delete(map);
        if (err == SB_ERR_INVALID)
            return sb_fail(why, err, "expected key=value pairs separated by commas");
        return err;
    }
    sb_opt_map_replace(row, base, map);
    return SB_OK;
}

sb_err sb_opt_set_text(const sb_option *row, void *base, const char *text, sb_errmsg *why)
{
    sb_err err = SB_ERR_INTERNAL;
    switch (row->type) {
    case SB_OPT_STRING:
        err = set_string(row, base, text);
        break;
    case SB_OPT_INT:
        return set_int(row, base, text, why);
    case SB_OPT_DOUBLE:
        return set_double(row, base, text, why);
    case SB_OPT_BOOL:
        return set_bool(row, base, text, why);
    case SB_OPT_DURATION:
        return set_duration(row, base, text, why);
    case SB_OPT_ENUM:
        return set_enum(row, base, text, why);
    case SB_OPT_STRLIST:
        err = set_strlist(row, base, text);
        break;
    case SB_OPT_MAP:
        return set_map(row, base, text, why);
    case SB_OPT_SECTION:
        return bad_value(row, text, why);
    }
    if (err == SB_ERR_NOMEM)
        return sb_fail(why, err, "out of memory");
    return err;
}

sb_err sb_opt_strlist_push(sb_strlist *list, const char *text, size_t n)
{
    char *copy = strndup(text, n);
    char **items = copy ? realloc(list->items, (list->n + 1) * sizeof(*items)) : NULL;
    if (!items) {
        free(copy);
        return SB_ERR_NOMEM;
    }
    items[list->n++] = copy;
    list->items = items;
    return SB_OK;
}

void sb_opt_strlist_replace(const sb_option *row, void *base, sb_strlist *list)
{
    sb_strlist *m = sb_opt_member(base, row);
    sb_strlist_free(m);
    *m = *list;
    list->items = NULL;
    list->n = 0;
}

void sb_opt_map_replace(const sb_option *row, void *base, cJSON *map)
{
    cJSON **m = sb_opt_member(base, row);
    cJSON_Delete(*m);
    *m = map;
}

sb_err sb_options_defaults(const sb_option *table, void *base, sb_errmsg *em)
{
    for (const sb_option *row = table; row->key; row++) {
        sb_err err = SB_OK;
        sb_errmsg why = {{0}};
        if (row->type == SB_OPT_SECTION) {
            err = sb_options_defaults(row->section, sb_opt_member(base, row), em);
            if (err)
                return sb_fail_wrap(em, err, "in section '%s'", row->key);
            continue;
        }
        if (row->def)
            err = sb_opt_set_text(row, base, row->def, &why);
        else if (row->type == SB_OPT_MAP)
            err = set_map(row, base, "", &why); /* an empty map, never NULL */
        if (err)
            return sb_fail(em, err == SB_ERR_NOMEM ? err : SB_ERR_INTERNAL,
                           "default of key '%s': %s", row->key, sb_errmsg_str(&why, err));
    }
    return SB_OK;
}

void sb_options_free(const sb_option *table, void *base)
{
    if (!base)
        return;
    for (const sb_option *row = table; row->key; row++) {
        void *m = sb_opt_member(base, row);
        if (row->type == SB_OPT_STRING) {
            SB_FREE(*(char **)m);
        } else if (row->type == SB_OPT_STRLIST) {
            sb_strlist_free(m);
        } else if (row->type == SB_OPT_MAP) {
            cJSON_Delete(*(cJSON **)m);
            *(cJSON **)m = NULL;
        } else if (row->type == SB_OPT_SECTION) {
            sb_options_free(row->section, m);
        }
    }
}

const sb_option *sb_options_find(const sb_option *table, const char *path)
{
    if (!table || !path)
        return NULL;
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    for (const sb_option *row = table; row->key; row++) {
        if (strlen(row->key) != n || strncmp(row->key, path, n) != 0)
            continue;
        if (!dot)
            return row;
        return row->type == SB_OPT_SECTION ? sb_options_find(row->section, dot + 1) : NULL;
    }
    return NULL;
}

void sb_strlist_free(sb_strlist *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    SB_FREE(list->items);
    list->n = 0;
}

bool sb_strlist_contains(const sb_strlist *list, const char *item)
{
    if (!list || !item)
        return false;
    for (size_t i = 0; i < list->n; i++) {
        if (strcmp(list->items[i], item) == 0)
            return true;
    }
    return false;
}

sb_err sb_opt_check_required(const sb_option *table, const void *base, const char *prefix,
                             sb_errmsg *em)
{
    char path[SB_OPT_PATH_MAX];
    for (const sb_option *row = table; row->key; row++) {
        sb_opt_path(path, sizeof(path), prefix, row->key);
        const void *m = sb_opt_cmember(base, row);
        bool empty = false;
        if (row->type == SB_OPT_SECTION) {
            sb_err err = sb_opt_check_required(row->section, m, path, em);
            if (err)
                return err;
        } else if (row->type == SB_OPT_STRING) {
            empty = !*(char *const *)m || !**(char *const *)m;
        } else if (row->type == SB_OPT_STRLIST) {
            empty = ((const sb_strlist *)m)->n == 0;
        }
        if (empty && (row->flags & SB_OPT_REQUIRED))
            return sb_fail(em, SB_ERR_INVALID, "key '%s' is required and must not be empty", path);
    }
    return SB_OK;
}
