/*
 * fuzz_stream_journal.c - the stream producer's journal reader (core/stream_journal.h) on
 * arbitrary file contents, as a gateway reads its journal back after a crash. Every frame it
 * returns must decode as a sequenced frame of the stream with the epoch and seq it names, in
 * increasing order; every unsealed item must be JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/stream.h"
#include "core/stream_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_stream_journal: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_stream_journal_replay r;
    CHECK(sb_stream_journal_parse((const char *)data, size, "gw1", &r) == SB_OK);
    for (size_t i = 0; i < r.n_frames; i++) {
        const sb_stream_journal_frame *f = &r.frames[i];
        sb_stream_frame d;
        CHECK(sb_stream_decode(f->text, f->len, &d, NULL) == SB_OK);
        CHECK(d.sequenced && strcmp(d.stream, "gw1") == 0);
        CHECK(d.epoch == f->epoch && d.seq == f->seq);
        CHECK(f->epoch <= r.max_epoch);
        if (i)
            CHECK(f[-1].epoch < f->epoch || (f[-1].epoch == f->epoch && f[-1].seq < f->seq));
        sb_stream_frame_free(&d);
    }
    for (size_t i = 0; i < r.n_items; i++) {
        cJSON *v = NULL;
        CHECK(sb_json_parse(r.items[i], strlen(r.items[i]), &v, NULL) == SB_OK);
        cJSON_Delete(v);
    }
    CHECK(r.torn == (size > 0 && data[size - 1] != '\n'));
    sb_stream_journal_replay_free(&r);
    return 0;
}
