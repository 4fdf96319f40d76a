/*
 * fuzz_config.c - switchboard.yaml loading (libyaml document walk, option parsing, validation)
 * on arbitrary bytes. Any input must give SB_OK with a config or an error with a message, and
 * free cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_config_load_string((const char *)data, size, "fuzz.yaml", &cfg, &em);
    if (err == SB_OK) {
        if (!cfg)
            abort();
        /* what loaded must print, and what printed must load */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f) {
            sb_config_print(cfg, f);
            fclose(f);
            sb_config *back = NULL;
            if (sb_config_load_string(text, len, "printed.yaml", &back, &em) != SB_OK)
                abort();
            sb_config_free(back);
            free(text);
        }
    } else if (cfg || !em.text[0]) {
        abort();
    }
    sb_config_free(cfg);
    return 0;
}
