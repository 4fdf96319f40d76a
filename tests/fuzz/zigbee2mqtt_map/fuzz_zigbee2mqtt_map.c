/*
 * fuzz_zigbee2mqtt_map.c - the Zigbee2MQTT mapping on arbitrary bytes: the first line is the
 * topic, the rest the payload, mapped against a registry that knows a few devices (and once more
 * as bridge/devices, so the exposes reader sees the bytes too). Whatever maps must give valid
 * messages; every one of them either becomes a /set or /get or is refused with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/zigbee2mqtt/z2m_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_zigbee2mqtt_map: check failed: %s (line %d)\n", #cond,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char devices[] =
    "[{\"friendly_name\":\"a/b\",\"ieee_address\":\"0x1\",\"definition\":{\"exposes\":["
    "{\"type\":\"light\",\"features\":[{\"type\":\"binary\",\"property\":\"state\",\"access\":7,"
    "\"value_on\":\"ON\",\"value_off\":\"OFF\"},{\"type\":\"numeric\",\"property\":"
    "\"brightness\",\"access\":7,\"value_min\":0,\"value_max\":254},{\"type\":\"composite\","
    "\"property\":\"color\",\"access\":7,\"features\":[{\"type\":\"numeric\",\"property\":\"x\","
    "\"access\":7}]}]},{\"type\":\"enum\",\"property\":\"mode\",\"access\":3,\"values\":[\"a\","
    "1]},{\"type\":\"list\",\"property\":\"l\",\"access\":2}]}},{\"friendly_name\":\"a\"}]";

static const sb_z2m_opts opts[] = {
    {.gateway_id = "gw1"},
    {.gateway_id = "gw1", .base_topic = "z/2m", .attribute_topics = true},
};

static void check(const sb_z2m_opts *o, sb_z2m_registry *reg, const sb_z2m_result *r)
{
    CHECK(r->out.n_notes <= r->out.skipped);
    for (size_t i = 0; i < r->out.n; i++) {
        sb_errmsg em = {{0}};
        CHECK(r->out.msgs[i]->n_payloads > 0);
        if (sb_msg_validate(r->out.msgs[i], &em) != SB_OK) {
            fprintf(stderr, "invalid message: %s\n", em.text);
            abort();
        }
        sb_z2m_command c;
        em.text[0] = '\0';
        sb_err rc = sb_z2m_command_build(o, reg, r->out.msgs[i], &c, &em);
        CHECK(rc == SB_OK ? c.payload && c.payload[0] == '{' : em.text[0] != '\0');
        if (rc == SB_OK)
            free(c.payload);
        /* the same fields written back as a set of the device */
        sb_msg *w = sb_msg_dup(r->out.msgs[i]);
        if (w) {
            free(w->source_id);
            w->source_id = strdup("device");
            w->type = SB_MSG_SET;
            em.text[0] = '\0';
            rc = w->source_id ? sb_z2m_command_build(o, reg, w, &c, &em) : SB_ERR_NOMEM;
            CHECK(rc != SB_ERR_INVALID || em.text[0] != '\0');
            if (rc == SB_OK)
                free(c.payload);
            sb_msg_free(w);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - (const char *)data) : size;
    char topic[600];
    if (tlen >= sizeof(topic) - 16 || memchr(data, '\0', tlen))
        return 0;
    const char *payload = nl ? nl + 1 : (const char *)data + size;
    size_t plen = size - (size_t)((const uint8_t *)payload - data);
    for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
        const char *base = opts[k].base_topic ? opts[k].base_topic : "zigbee2mqtt";
        sb_z2m_registry *reg = sb_z2m_registry_new();
        if (!reg)
            return 0;
        sb_z2m_result r;
        snprintf(topic, sizeof(topic), "%s/bridge/devices", base);
        if (sb_z2m_map(&opts[k], reg, topic, devices, strlen(devices), &r) == SB_OK)
            sb_z2m_result_free(&r);
        snprintf(topic, sizeof(topic), "%s/%.*s", base, (int)tlen, (const char *)data);
        if (sb_z2m_map(&opts[k], reg, topic, payload, plen, &r) == SB_OK) {
            check(&opts[k], reg, &r);
            sb_z2m_result_free(&r);
        }
        snprintf(topic, sizeof(topic), "%s/bridge/devices", base);
        if (sb_z2m_map(&opts[k], reg, topic, payload, plen, &r) == SB_OK) {
            check(&opts[k], reg, &r);
            sb_z2m_result_free(&r);
        }
        sb_z2m_registry_free(reg);
    }
    return 0;
}
