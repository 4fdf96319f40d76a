/*
 * fuzz_cron.c - the cron parser on arbitrary text: whatever parses must give a next fire time
 * strictly later than its start (or say it never fires); whatever is refused must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_cron: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sb_cron c;
    sb_errmsg em = {{0}};
    sb_err err = sb_cron_parse(text, &c, &em);
    if (err != SB_OK) {
        CHECK(err == SB_ERR_PARSE && em.text[0]);
        free(text);
        return 0;
    }
    /* 2026-10-25T00:59:59Z sits just before the Berlin fall-back; 2026-03-29T00:30Z before the
     * spring-forward. */
    static const int64_t starts[] = {1792889999000, 1774744200000, 0};
    static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York"};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
            int64_t next;
            err = sb_cron_next(&c, starts[i], zones[z], &next, &em);
            CHECK(err == SB_OK || err == SB_ERR_NOTFOUND);
            if (err == SB_OK)
                CHECK(next > starts[i]);
        }
    }
    free(text);
    return 0;
}
