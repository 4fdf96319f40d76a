/*
 * secrets.c - sealing secrets that are stored in clear: documents written before secrets were
 * encrypted, by hand, or restored from a backup made without them. Run at start and after a
 * restore over the kinds that may hold secrets (configuration, not the device tree, so few
 * documents).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"

/* Seals the clear secrets of every document of kind; counts the documents rewritten. */
static sb_err seal_kind(api *a, sb_entity_kind kind, size_t *n, sb_errmsg *em)
{
    cJSON *found = NULL, *doc;
    sb_err rc = sb_store_find(a->store, sb_entity_kind_name(kind), NULL, &found, em);
    cJSON_ArrayForEach(doc, cJSON_GetObjectItemCaseSensitive(found, "data"))
    {
        if (rc != SB_OK)
            break;
        char *before = sb_json_print(doc);
        if ((rc = sb_secret_seal_doc(&a->seal, doc, NULL, em)) != SB_OK) {
            free(before);
            break;
        }
        char *after = sb_json_print(doc);
        if (before && after && strcmp(before, after) != 0) {
            rc = sb_store_put(a->store, sb_entity_kind_name(kind), doc, em);
            (*n)++;
        }
        free(before);
        free(after);
    }
    cJSON_Delete(found);
    return rc;
}

void api_secrets_seal_stored(api *a)
{
    size_t n = 0;
    sb_errmsg em = {{0}};
    for (int k = 0; k < SB_KIND__COUNT; k++) {
        if (!api_kind_has_secrets((sb_entity_kind)k))
            continue;
        sb_err rc = seal_kind(a, (sb_entity_kind)k, &n, &em);
        if (rc != SB_OK)
            sb_warn(&a->log, "sealing stored %s secrets: %s", sb_entity_kind_name(k),
                    sb_errmsg_str(&em, rc));
    }
    if (n)
        sb_info(&a->log, "sealed the secrets of %zu stored documents", n);
}
