/* buf.c - geometric buffer growth (buf.h). */
#include "core/buf.h"

#include <stdint.h>
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

sb_err sb_array_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return SB_OK;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return SB_ERR_NOMEM;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return SB_ERR_NOMEM;
    void **a = arr;
    void *grown = realloc(*a, c * elem);
    if (!grown)
        return SB_ERR_NOMEM;
    *a = grown;
    *cap = c;
    return SB_OK;
}

bool sb_ptrs_push(void *arr, size_t *n, size_t *cap, void *item)
{
    void ***a = arr;
    if (sb_array_reserve(arr, cap, *n + 1, sizeof(void *), 8) != SB_OK)
        return false;
    (*a)[(*n)++] = item;
    return true;
}
