/*
 * fuzz_event.c - event and handler-call payloads from the bus on arbitrary bytes: either parsed
 * with every required key present, or refused with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_event: check failed: %s (line %d)\n", #cond, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_event *ev;
    size_t n;
    sb_errmsg em = {{0}};
    if (sb_event_parse(data, size, &ev, &n, &em) == SB_OK) {
        for (size_t i = 0; i < n; i++)
            CHECK(ev[i].type[0] && ev[i].entity_type[0] && ev[i].entity_id[0] && ev[i].quick_id[0]);
        sb_event_free_all(ev, n);
    } else {
        CHECK(em.text[0]);
    }
    sb_handler_call c;
    sb_errmsg em2 = {{0}};
    if (sb_handler_call_parse(data, size, &c, &em2) == SB_OK) {
        CHECK(c.id && c.id[0] && c.source && cJSON_IsObject(c.parameters) &&
              cJSON_IsObject(c.variables));
        sb_handler_call_free(&c);
    } else {
        CHECK(em2.text[0]);
    }
    return 0;
}
