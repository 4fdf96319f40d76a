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
