/*
 * fuzz_esphome_map.c - the ESPHome mapping on arbitrary bytes: the input is a sequence of
 * publishes, each a topic line and a payload line, mapped in order against one registry (so
 * discovery configs shape the states after them). Whatever maps must give valid messages; every
 * payload of them either becomes a command or is refused with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/esphome/esph_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_esphome_map: check failed: %s (line %d)\n", #cond, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const sb_esph_opts opts = {.gateway_id = "gw1"};

static void check_commands(const sb_esph_registry *reg, const sb_msg *m)
{
    for (size_t i = 0; i < m->n_payloads; i++) {
        char topic[SB_ESPH_TOPIC_MAX + 64], value[512];
        sb_errmsg em = {{0}};
        sb_err rc = sb_esph_command(reg, m, i, topic, sizeof(topic), value, sizeof(value), &em);
        if (rc != SB_OK) {
            CHECK(em.text[0] != '\0');
            continue;
        }
        size_t n = strlen(topic);
        CHECK(n > 8 && strcmp(topic + n - 8, "/command") == 0);
        CHECK(strlen(value) < sizeof(value));
    }
}

/* One line from *p (up to '\n' or the end); false when nothing is left. */
static bool line(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
    if (*p >= end)
        return false;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    *s = *p;
    *n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    *p = nl ? nl + 1 : end;
    return true;
}

static void one(sb_esph_registry *reg, const uint8_t *t, size_t tn, const uint8_t *pl, size_t pn)
{
    char topic[512];
    if (tn >= sizeof(topic) || memchr(t, '\0', tn))
        return;
    memcpy(topic, t, tn);
    topic[tn] = '\0';
    sb_esph_topic tp;
    sb_errmsg em = {{0}};
    if (sb_esph_topic_parse(NULL, topic, &tp, &em) != SB_OK) {
        CHECK(em.text[0]);
        return;
    }
    CHECK(!strpbrk(tp.node_id, "./: +#"));
    sb_esph_result r;
    if (sb_esph_map(&opts, reg, &tp, pl, pn, &r) != SB_OK)
        return; /* out of memory only */
    CHECK(r.out.n_notes <= r.out.skipped);
    for (size_t i = 0; i < r.out.n; i++) {
        CHECK(r.out.msgs[i]->n_payloads > 0);
        if (sb_msg_validate(r.out.msgs[i], &em) != SB_OK) {
            fprintf(stderr, "invalid message: %s\n", em.text);
            abort();
        }
        check_commands(reg, r.out.msgs[i]);
    }
    sb_esph_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_esph_registry *reg = sb_esph_registry_new();
    if (!reg)
        return 0;
    const uint8_t *p = data, *end = data + size, *t, *pl;
    size_t tn, pn;
    while (line(&p, end, &t, &tn)) {
        if (!line(&p, end, &pl, &pn))
            pl = end, pn = 0;
        one(reg, t, tn, pl, pn);
    }
    sb_esph_registry_free(reg);
    return 0;
}
