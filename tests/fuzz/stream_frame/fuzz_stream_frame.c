/*
 * fuzz_stream_frame.c - the processor's frame decoder on arbitrary input: the stream envelope
 * (or plain object/array) and then every item as a message, as the processor reads a frame.
 * A sequenced frame must encode and decode back to the same header and items.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "core/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_stream_frame: check failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_stream_frame f;
    sb_errmsg em = {{0}};
    if (sb_stream_decode((const char *)data, size, &f, &em) != SB_OK) {
        CHECK(f.items == NULL && em.text[0]);
        return 0;
    }
    CHECK(cJSON_IsArray(f.items));
    const cJSON *item;
    cJSON_ArrayForEach(item, f.items)
    {
        sb_msg *m = NULL;
        if (sb_msg_from_json(item, &m, &em) == SB_OK)
            CHECK(sb_msg_validate(m, NULL) == SB_OK);
        sb_msg_free(m);
    }
    if (f.sequenced) {
        size_t len;
        char *text = sb_stream_encode(f.stream, f.epoch, f.seq, f.items, &len);
        CHECK(text);
        sb_stream_frame g;
        CHECK(sb_stream_decode(text, len, &g, NULL) == SB_OK);
        CHECK(g.sequenced && strcmp(f.stream, g.stream) == 0);
        CHECK(f.epoch == g.epoch && f.seq == g.seq);
        /* compared as text: cJSON_Compare finds only the first of duplicate keys */
        char *a = cJSON_PrintUnformatted(f.items), *b = cJSON_PrintUnformatted(g.items);
        CHECK(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
        sb_stream_frame_free(&g);
        free(text);
        sb_stream_pos last = {f.epoch, f.seq};
        CHECK(sb_stream_check(&last, &f) == SB_STREAM_DUPLICATE);
    }
    sb_stream_frame_free(&f);
    return 0;
}
