#include "core/json.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sb_err sb_json_parse(const char *text, size_t len, cJSON **out, sb_errmsg *em)
{
    *out = NULL;
    if (!text)
        return sb_fail(em, SB_ERR_PARSE, "empty JSON");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        return sb_fail(em, SB_ERR_PARSE, "malformed JSON at byte %zu", off);
    }
    /* Trailing garbage other than whitespace is an error too. */
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '\0') {
            cJSON_Delete(root);
            return sb_fail(em, SB_ERR_PARSE, "trailing data after JSON at byte %zu",
                           (size_t)(p - text));
        }
    }
    *out = root;
    return SB_OK;
}

/* An array index: decimal digits only ("+1", " 1" and "" are not indexes). */
static int array_index(const char *key)
{
    long idx = 0;
    for (const char *c = key; *c; c++) {
        if (*c < '0' || *c > '9' || idx > 100000000)
            return -1;
        idx = idx * 10 + (*c - '0');
    }
    return *key ? (int)idx : -1;
}

cJSON *sb_json_path(const cJSON *obj, const char *path)
{
    if (!obj || !path)
        return NULL;
    const cJSON *cur = obj;
    char key[256];
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        /* empty segments ("a..b", "a.") address nothing */
        if (n == 0 || n >= sizeof(key) || (dot && dot[1] == '\0'))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (cJSON_IsArray(cur)) {
            int idx = array_index(key);
            cur = idx < 0 ? NULL : cJSON_GetArrayItem(cur, idx);
        } else {
            cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        }
        p = dot ? dot + 1 : p + n;
    }
    return (cJSON *)cur;
}

const char *sb_json_str(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : def;
}

double sb_json_num(const cJSON *obj, const char *key, double def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : def;
}

bool sb_json_bool(const cJSON *obj, const char *key, bool def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

bool sb_json_set(cJSON *obj, const char *key, cJSON *item)
{
    if (!obj || !item) {
        cJSON_Delete(item);
        return false;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    return cJSON_AddItemToObject(obj, key, item);
}

bool sb_json_set_str(cJSON *obj, const char *key, const char *value)
{
    /* Rewriting a string member in place (no allocation when the new text is not longer) is
     * what the processor does several times per value: timestamps, lastSeen, status. */
    cJSON *cur = value ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (cJSON_IsString(cur) && !(cur->type & cJSON_IsReference) && cur->valuestring &&
        (value < cur->valuestring || value > cur->valuestring + strlen(cur->valuestring)))
        return cJSON_SetValuestring(cur, value) != NULL;
    return sb_json_set(obj, key, value ? cJSON_CreateString(value) : cJSON_CreateNull());
}

bool sb_json_set_num(cJSON *obj, const char *key, double value)
{
    return sb_json_set(obj, key, cJSON_CreateNumber(value));
}

bool sb_json_set_bool(cJSON *obj, const char *key, bool value)
{
    return sb_json_set(obj, key, cJSON_CreateBool(value));
}

char *sb_json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}

bool sb_json_scalar_text(const cJSON *item, char *buf, size_t len)
{
    if (cJSON_IsString(item)) {
        snprintf(buf, len, "%s", item->valuestring);
    } else if (cJSON_IsBool(item)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(item) ? "true" : "false");
    } else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (isfinite(v) && fabs(v) < 1e15 && v == (double)(long long)v) {
            snprintf(buf, len, "%lld", (long long)v);
        } else {
            /* Shortest exact: the fewest significant digits that read back as the same double
             * (21.5 -> "21.5", 0.1 -> "0.1", not "0.10000000000000001"). */
            char tmp[32];
            int prec = 15;
            for (; prec <= 17; prec++) {
                snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
                if (!isfinite(v) || strtod(tmp, NULL) == v)
                    break;
            }
            /* Subnormals carry fewer digits: 5e-324, not 4.94065645841247e-324. */
            for (int p = 1; prec == 15 && v != 0 && fabs(v) < DBL_MIN && p < 15; p++) {
                char shorter[32];
                snprintf(shorter, sizeof(shorter), "%.*g", p, v);
                if (strtod(shorter, NULL) == v) {
                    memcpy(tmp, shorter, sizeof(tmp));
                    break;
                }
            }
            snprintf(buf, len, "%s", tmp);
        }
    } else if (cJSON_IsNull(item)) {
        snprintf(buf, len, "%s", "");
    } else {
        return false;
    }
    return true;
}

char *sb_json_print_except(const cJSON *obj, const char *const *skip)
{
    cJSON *copy = cJSON_Duplicate(obj, 1);
    if (!copy)
        return NULL;
    for (; skip && *skip; skip++)
        cJSON_DeleteItemFromObjectCaseSensitive(copy, *skip);
    char *text = sb_json_print(copy);
    cJSON_Delete(copy);
    return text;
}

bool sb_json_labels_match(const cJSON *labels, const cJSON *want)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(labels, w->string);
        if (!cJSON_IsString(have) || !cJSON_IsString(w) ||
            strcmp(have->valuestring, w->valuestring) != 0)
            return false;
    }
    return true;
}
