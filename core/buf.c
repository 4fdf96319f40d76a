/* buf.c - geometric buffer growth (buf.h). */
#include "core/buf.h"

#include <stdlib.h>

sb_err sb_buf_reserve(char **data, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SB_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *d = realloc(*data, c);
    if (!d)
        return SB_ERR_NOMEM;
    *data = d;
    *cap = c;
    return SB_OK;
}

bool sb_ptrs_push(void *arr, size_t *n, size_t *cap, void *item)
{
    void ***a = arr;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        void **grown = realloc(*a, c * sizeof(*grown));
        if (!grown)
            return false;
        *a = grown;
        *cap = c;
    }
    (*a)[(*n)++] = item;
    return true;
}
