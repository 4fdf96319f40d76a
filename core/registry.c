#include "core/registry.h"

#include <stdio.h>
#include <string.h>

const void *sb_registry_find(const void *const *table, const char *name)
{
    if (!table || !name)
        return NULL;
    for (size_t i = 0; table[i]; i++) {
        const sb_plugin_info *info = table[i];
        if (strcmp(info->name, name) == 0)
            return table[i];
    }
    return NULL;
}

void sb_registry_names(const void *const *table, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; table && table[i] && n < len; i++) {
        const sb_plugin_info *info = table[i];
        int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", info->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
