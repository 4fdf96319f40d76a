/*
 * fuzz_quickid.c - the quick id parser on arbitrary text: whatever parses must format and
 * parse back to the same quick id; whatever is refused must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quickid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_quickid: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_parsed(const sb_quickid *q)
{
    char buf[SB_QUICKID_MAX + 64];
    CHECK(q->n_ids == sb_entity_kind_depth(q->kind));
    for (int i = 0; i < q->n_ids; i++)
        CHECK(sb_quickid_valid_part(q->ids[i]));
    CHECK(sb_quickid_format(q, buf, sizeof(buf)) == SB_OK);
    sb_quickid back;
    sb_errmsg em = {{0}};
    if (sb_quickid_parse(buf, &back, &em) != SB_OK) {
        fprintf(stderr, "formatted '%s' does not parse: %s\n", buf, em.text);
        abort();
    }
    CHECK(memcmp(q, &back, sizeof(back)) == 0);
    /* make() from the ids gives the same quick id without its key path */
    sb_quickid made;
    const char *p[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < q->n_ids; i++)
        p[i] = q->ids[i];
    CHECK(sb_quickid_make(&made, q->kind, p[0], p[1], p[2], p[3]) == SB_OK);
    CHECK(memcmp(made.ids, q->ids, sizeof(made.ids)) == 0 && made.key_path[0] == '\0');
    /* a buffer one byte short is refused, never overrun */
    size_t need = strlen(buf) + 1;
    char *tight = malloc(need - 1);
    CHECK(tight && sb_quickid_format(q, tight, need - 1) == SB_ERR_TOO_LARGE);
    free(tight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sb_quickid q;
    sb_errmsg em = {{0}};
    sb_err err = sb_quickid_parse(text, &q, &em);
    if (err == SB_OK)
        check_parsed(&q);
    else
        CHECK(err == SB_ERR_INVALID && em.text[0]);
    sb_entity_kind k;
    if (sb_entity_kind_parse(text, &k) == SB_OK)
        CHECK(sb_entity_kind_parse(sb_entity_kind_name(k), &k) == SB_OK);
    (void)sb_quickid_valid_part(text);
    free(text);
    return 0;
}
