/*
 * fuzz_api_gzip.c - fuzzes the API's Accept-Encoding parsing (services/api/gzip.c) and its gzip
 * encoder: the input is both a header value and a body. Checks:
 * a header that names no gzip, x-gzip or * is never accepted, and the compressed body inflates
 * back to the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "services/api/api.h"

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_api_gzip: %s\n", what);
        abort();
    }
}

static bool names_gzip(const char *h)
{
    return strcasestr(h, "gzip") || strchr(h, '*');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    bool ok = api_accepts_gzip(text);
    check(!ok || names_gzip(text), "accepted without gzip or *");
    char *z = NULL;
    size_t zl = 0;
    if (api_gzip((const char *)data, size, &z, &zl) == SB_OK) {
        unsigned char *back = malloc(size + 1);
        z_stream s;
        memset(&s, 0, sizeof(s));
        check(back && inflateInit2(&s, 15 + 16) == Z_OK, "inflateInit2");
        s.next_in = (Bytef *)z;
        s.avail_in = (uInt)zl;
        s.next_out = back;
        s.avail_out = (uInt)size + 1;
        check(inflate(&s, Z_FINISH) == Z_STREAM_END, "the gzip stream does not end");
        check(s.total_out == size && memcmp(back, data, size) == 0, "round trip differs");
        inflateEnd(&s);
        free(back);
        free(z);
    }
    free(text);
    return 0;
}
