/*
 * fuzz_template.c - the template engine on arbitrary templates over a fixed set of variables:
 * it must render within the output bound or fail with a message, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_template: check failed: %s (line %d)\n", #cond, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static cJSON *vars;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    if (!vars)
        vars = cJSON_Parse("{\"a\":{\"b\":[1,\"x\",{\"c\":null}],\"t\":\"2026-01-01T00:00:00Z\"},"
                           "\"n\":21.5,\"s\":\"text\",\"yes\":true}");
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sb_tmpl_opts opts = {.now_ms = 1782900000000LL,
                         .tz = "Europe/Berlin",
                         .has_location = true,
                         .latitude = 52.5,
                         .longitude = 13.4,
                         .max_output = 4096};
    char *out = NULL;
    cJSON *warnings = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_tmpl_render(text, vars, &opts, &out, &warnings, &em);
    if (err == SB_OK) {
        CHECK(out && strlen(out) <= 4096 && warnings);
        CHECK(cJSON_GetArraySize(warnings) <= SB_TMPL_MAX_WARNINGS);
    } else {
        CHECK(!out && !warnings && em.text[0]);
        CHECK(err == SB_ERR_PARSE || err == SB_ERR_TOO_LARGE);
    }
    free(out);
    cJSON_Delete(warnings);
    free(text);
    return 0;
}
