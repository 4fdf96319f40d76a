/*
 * fuzz_handler_spec.c - handler documents as the API stores them, on arbitrary bytes:
 * {"type": <plugin>, "spec": {...}, "call": {"parameters", "variables"}} is parsed the way the
 * handler service does it (unrendered with templates allowed, then rendered with the call's
 * variables and parsed again); every step either succeeds or fails with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "handlers/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_handler_spec: check failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void parse(const sb_handler_plugin *p, const cJSON *spec, unsigned flags)
{
    void *opts = NULL;
    sb_handler_common c;
    sb_errmsg em = {{0}};
    if (sb_handler_spec_parse(p, spec, flags, &c, &opts, &em) == SB_OK) {
        CHECK(opts != NULL);
        CHECK(c.retries >= 0 && c.retry_delay_ms > 0);
    } else {
        CHECK(opts == NULL && em.text[0]);
    }
    sb_handler_options_free(p, opts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = NULL;
    if (sb_json_parse((const char *)data, size, &doc, NULL) != SB_OK)
        return 0;
    const sb_handler_plugin *p = NULL;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
    const cJSON *call = cJSON_GetObjectItemCaseSensitive(doc, "call");
    if (sb_handler_plugin_find(sb_json_str(doc, "type", "log"), &p, NULL) != SB_OK) {
        cJSON_Delete(doc);
        return 0;
    }
    parse(p, spec, SB_HANDLER_SPEC_TEMPLATES);
    sb_handler_call hc = {.id = "h",
                          .source = "fuzz",
                          .parameters = cJSON_GetObjectItemCaseSensitive(call, "parameters"),
                          .variables = cJSON_GetObjectItemCaseSensitive(call, "variables")};
    cJSON *vars = sb_handler_call_vars(&hc, "h");
    cJSON *warnings = cJSON_CreateArray(), *rendered = NULL;
    sb_errmsg em = {{0}};
    if (vars && warnings &&
        sb_handler_spec_render(cJSON_IsObject(spec) ? spec : NULL, vars, &rendered, warnings,
                               &em) == SB_OK) {
        CHECK(rendered != NULL);
        parse(p, rendered, 0);
    }
    cJSON_Delete(rendered);
    cJSON_Delete(warnings);
    cJSON_Delete(vars);
    cJSON_Delete(doc);
    return 0;
}
