/* ctl_print.c - human tables for `switchboard ctl` (ctl.h). */
#include "services/switchboard/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define MAX_COLS 6
#define CELL_MAX 48

typedef struct column {
    const char *title, *path;
} column;

typedef struct layout {
    const char *kind;
    column cols[MAX_COLS];
} layout;

static const layout layouts[] = {
    {"gateway",
     {{"ID", "id"},
      {"PROVIDER", "provider.type"},
      {"ENABLED", "enabled"},
      {"STATE", "state.status"},
      {"MESSAGE", "state.message"}}},
    {"node",
     {{"ID", "id"}, {"NAME", "name"}, {"STATE", "state.status"}, {"LAST SEEN", "lastSeen"}}},
    {"source", {{"ID", "id"}, {"NAME", "name"}, {"TYPE", "others.type"}}},
    {"field",
     {{"ID", "id"},
      {"NAME", "name"},
      {"VALUE", "current.value"},
      {"UNIT", "unit"},
      {"TYPE", "metricType"},
      {"UPDATED", "current.timestamp"}}},
    {"user", {{"ID", "id"}, {"USERNAME", "username"}, {"ROLE", "role"}, {"NAME", "fullName"}}},
    {NULL,
     {{"ID", "id"},
      {"NAME", "name"},
      {"ENABLED", "enabled"},
      {"STATE", "state.status"},
      {"MODIFIED", "modifiedOn"}}},
};

static const layout *layout_of(const char *kind)
{
    size_t i = 0;
    while (layouts[i].kind && strcmp(layouts[i].kind, kind) != 0)
        i++;
    return &layouts[i];
}

/* A cell: the value at path as text, cut to CELL_MAX characters. */
static void cell(const cJSON *doc, const char *path, char *out, size_t len)
{
    const cJSON *v = sb_json_path(doc, path);
    out[0] = '\0';
    if (!v || cJSON_IsNull(v))
        return;
    if (!sb_json_scalar_text(v, out, len)) {
        char *t = sb_json_print(v);
        snprintf(out, len, "%s", t ? t : "");
        free(t);
    }
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    if (strlen(out) > CELL_MAX)
        strcpy(out + CELL_MAX - 3, "...");
}

void ctl_print_list(const char *kind, const cJSON *page)
{
    const layout *l = layout_of(kind);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(page, "data"), *doc;
    int ncols = 0, width[MAX_COLS] = {0};
    while (ncols < MAX_COLS && l->cols[ncols].title) {
        width[ncols] = (int)strlen(l->cols[ncols].title);
        ncols++;
    }
    char text[CELL_MAX + 8];
    cJSON_ArrayForEach(doc, data)
    {
        for (int c = 0; c < ncols; c++) {
            cell(doc, l->cols[c].path, text, sizeof(text));
            if ((int)strlen(text) > width[c])
                width[c] = (int)strlen(text);
        }
    }
    for (int c = 0; c < ncols; c++)
        printf("%-*s%s", width[c], l->cols[c].title, c + 1 < ncols ? "  " : "\n");
    cJSON_ArrayForEach(doc, data)
    {
        for (int c = 0; c < ncols; c++) {
            cell(doc, l->cols[c].path, text, sizeof(text));
            printf("%-*s%s", c + 1 < ncols ? width[c] : 0, text, c + 1 < ncols ? "  " : "\n");
        }
    }
    int shown = cJSON_GetArraySize(data);
    long count = (long)sb_json_num(page, "count", shown);
    long offset = (long)sb_json_num(page, "offset", 0);
    if (count > shown)
        printf("(%d of %ld shown from %ld; --limit and --offset page)\n", shown, count, offset);
}

static void print_members(const cJSON *obj, const char *prefix)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        char key[512];
        snprintf(key, sizeof(key), "%s%s", prefix, m->string);
        if (cJSON_IsObject(m) && cJSON_GetArraySize(m) > 0) {
            char sub[520];
            snprintf(sub, sizeof(sub), "%s.", key);
            print_members(m, sub);
            continue;
        }
        char text[4096];
        if (!sb_json_scalar_text(m, text, sizeof(text))) {
            char *t = sb_json_print(m);
            snprintf(text, sizeof(text), "%s", t ? t : "");
            free(t);
        }
        printf("%-28s %s\n", key, text);
    }
}

void ctl_print_entity(const cJSON *doc)
{
    print_members(doc, "");
}
