/*
 * fuzz_msg_decode.c - the message decoder on arbitrary frames. Whatever decodes must encode
 * and decode back to an equal message with the same text (single and batch), and the
 * copying decoder (sb_msg_from_json) must agree with the stealing one (sb_msg_decode).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_msg_decode: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void round_trip(const sb_msg *m)
{
    CHECK(sb_msg_validate(m, NULL) == SB_OK);
    size_t len;
    char *text = sb_msg_encode(m, &len);
    CHECK(text && len == strlen(text));
    sb_msg *back = NULL;
    sb_errmsg em = {{0}};
    if (sb_msg_decode(text, len, &back, &em) != SB_OK) {
        fprintf(stderr, "re-decode failed: %s\n%s\n", em.text, text);
        abort();
    }
    CHECK(sb_msg_equal(m, back));
    char *again = sb_msg_encode(back, NULL);
    CHECK(again && strcmp(text, again) == 0);
    free(again);
    free(text);
    sb_msg_free(back);
}

static void single(const char *frame, size_t size)
{
    sb_msg *m = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_msg_decode(frame, size, &m, &em);
    CHECK((err == SB_OK) == (m != NULL));
    CHECK(err == SB_OK || em.text[0]);
    cJSON *root = NULL;
    if (sb_json_parse(frame, size, &root, NULL) == SB_OK) {
        sb_msg *copy = NULL;
        sb_err err2 = sb_msg_from_json(root, &copy, NULL);
        CHECK(err == err2);
        if (copy && m) {
            /* ids and timestamps are generated when absent: take m's, compare the rest */
            memcpy(copy->id, m->id, sizeof(copy->id));
            copy->timestamp_ms = m->timestamp_ms;
            CHECK(sb_msg_equal(m, copy));
        }
        sb_msg_free(copy);
        cJSON_Delete(root);
    }
    if (m)
        round_trip(m);
    sb_msg_free(m);
}

static void batch(const char *frame, size_t size)
{
    sb_msg_batch b;
    sb_errmsg em = {{0}};
    if (sb_msg_decode_batch(frame, size, &b, &em) != SB_OK) {
        CHECK(b.n == 0 && b.msgs == NULL);
        return;
    }
    CHECK(b.rejected == 0 || em.text[0]);
    if (b.n) {
        size_t len;
        char *text = sb_msg_encode_batch(b.msgs, b.n, &len);
        CHECK(text);
        sb_msg_batch b2;
        CHECK(sb_msg_decode_batch(text, len, &b2, NULL) == SB_OK);
        CHECK(b2.n == b.n && b2.rejected == 0);
        for (size_t i = 0; i < b.n; i++)
            CHECK(sb_msg_equal(b.msgs[i], b2.msgs[i]));
        sb_msg_batch_free(&b2);
        free(text);
    }
    sb_msg_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Frames are not NUL-terminated on the bus; give the decoder exactly size bytes. */
    char *frame = malloc(size ? size : 1);
    if (!frame)
        return 0;
    memcpy(frame, data, size);
    single(frame, size);
    batch(frame, size);
    free(frame);
    return 0;
}
