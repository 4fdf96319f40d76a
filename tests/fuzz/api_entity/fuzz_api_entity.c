/*
 * fuzz_api_entity.c - fuzzes what the API does with a posted entity body before storing it
 * (services/api/entity.c, core/secret.c): JSON parse, api_entity_validate() for every kind, and
 * the secret walks. Checks: a refusal comes with a message; after sealing, no secret is left in
 * clear and opening gives every original secret back; after redaction no sealed value is left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/secret.h"
#include "services/api/api.h"

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_api_entity: %s\n", what);
        abort();
    }
}

/* Whether some string of doc is (sealed) or is not (!sealed) sealed under a secret key. */
static bool secret_state(const cJSON *doc, bool sealed, int depth)
{
    const cJSON *e;
    if (depth > 40)
        return false;
    cJSON_ArrayForEach(e, doc)
    {
        if (cJSON_IsString(e) && e->string && sb_secret_key_name(e->string) &&
            strcmp(e->valuestring, SB_SECRET_PLACEHOLDER) != 0 &&
            sb_secret_is_sealed(e->valuestring) == sealed)
            return true;
        if ((cJSON_IsObject(e) || cJSON_IsArray(e)) && secret_state(e, sealed, depth + 1))
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sb_secret_key key;
    static bool init;
    if (!init) {
        check(sb_secret_key_derive("fuzz", 4, &key, NULL) == SB_OK, "derive");
        init = true;
    }
    cJSON *doc = NULL;
    if (sb_json_parse((const char *)data, size, &doc, NULL) != SB_OK)
        return 0;
    for (int k = 0; k < SB_KIND__COUNT; k++) {
        sb_errmsg em = {{0}};
        if (api_entity_validate((sb_entity_kind)k, doc, &em) != SB_OK)
            check(em.text[0] != '\0', "a refusal without a message");
    }
    if (cJSON_IsObject(doc)) {
        cJSON *orig = cJSON_Duplicate(doc, true);
        sb_errmsg em = {{0}};
        if (sb_secret_seal_doc(&key, doc, NULL, &em) == SB_OK) {
            check(!secret_state(doc, false, 0), "a secret left in clear after sealing");
            cJSON *red = cJSON_Duplicate(doc, true);
            sb_secret_redact_doc(red);
            check(!secret_state(red, true, 0), "a sealed value left after redaction");
            cJSON_Delete(red);
            /* Without placeholders (dropped) or sealed-looking values (kept as they are, and
             * not ours to open), opening gives the original back. Printed, not cJSON_Compare():
             * that looks keys up by name, and duplicate keys would differ. */
            char *got = NULL, *exp = sb_json_print(orig);
            if (exp && !strstr(exp, SB_SECRET_PLACEHOLDER) && !strstr(exp, SB_SECRET_PREFIX)) {
                check(sb_secret_open_doc(&key, doc, NULL) == SB_OK, "cannot open what was sealed");
                got = sb_json_print(doc);
                check(got && strcmp(got, exp) == 0, "opening differs from the original");
            }
            free(got);
            free(exp);
        }
        cJSON_Delete(orig);
    }
    cJSON_Delete(doc);
    return 0;
}
