/*
 * fuzz_tasmota_map.c - the Tasmota mapping on arbitrary bytes: the first line is the topic
 * (read against one of several FullTopics), the rest the payload. Whatever maps must give valid
 * messages; every payload of them either becomes a command or is refused with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/tasmota/tas_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_tasmota_map: check failed: %s (line %d)\n", #cond, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const sb_tas_opts opts[] = {
    {.gateway_id = "gw1"},
    {.gateway_id = "gw1", .full_topic = "house/%topic%/%prefix%/", .prefix = {"c", "s", "t"}},
    {.gateway_id = "gw1", .full_topic = "%prefix%/%hostname%/%topic%/"},
};

static void check_commands(const sb_msg *m)
{
    for (size_t i = 0; i < m->n_payloads; i++) {
        char cmd[64], value[128];
        sb_errmsg em = {{0}};
        sb_err rc = sb_tas_command(m, i, cmd, sizeof(cmd), value, sizeof(value), &em);
        CHECK(rc == SB_OK ? cmd[0] != '\0' : em.text[0] != '\0');
        CHECK(rc != SB_OK || (!strpbrk(cmd, "/+# ") && strlen(value) < sizeof(value)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - (const char *)data) : size;
    char topic[512];
    if (tlen >= sizeof(topic))
        return 0;
    memcpy(topic, data, tlen);
    topic[tlen] = '\0';
    const uint8_t *payload = nl ? (const uint8_t *)nl + 1 : data + size;
    size_t plen = size - (size_t)(payload - data);
    for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
        sb_tas_topic t;
        sb_errmsg em = {{0}};
        if (sb_tas_topic_parse(&opts[k], topic, &t, &em) != SB_OK) {
            CHECK(em.text[0]);
            continue;
        }
        CHECK(!strpbrk(t.node_id, "./: +#"));
        sb_tas_result r;
        if (sb_tas_map(&opts[k], &t, payload, plen, &r) != SB_OK)
            continue; /* out of memory only */
        CHECK(r.m.n_notes <= r.m.skipped);
        for (size_t i = 0; i < r.m.n; i++) {
            CHECK(r.m.msgs[i]->n_payloads > 0);
            if (sb_msg_validate(r.m.msgs[i], &em) != SB_OK && t.node_id[0]) {
                fprintf(stderr, "invalid message: %s\n", em.text);
                abort();
            }
            check_commands(r.m.msgs[i]);
        }
        sb_tas_result_free(&r);
    }
    return 0;
}
