/*
 * fuzz_generic_mqtt_map.c - the generic MQTT mapping on arbitrary bytes: the first line is a
 * "mappings" list (when it is not a valid one, a fixed list is used), then publishes follow as
 * topic and payload lines. Whatever maps must give valid messages; every payload of them
 * either becomes a write or is refused with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/generic_mqtt/gm_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_generic_mqtt_map: check failed: %s (line %d)\n", #cond,          \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char fixed[] =
    "[{\"name\":\"s\",\"topic\":\"sensors/{node}/{source}\",\"allFields\":true,"
    "\"fields\":[{\"path\":\"t\",\"metricType\":\"gauge_float\",\"unit\":\"C\"},"
    "{\"path\":\"a.0.b\",\"field\":\"b\"}],"
    "\"write\":{\"topic\":\"sensors/{{node}}/{{source}}/set\",\"payload\":\"{{value}}\"}},"
    "{\"topic\":\"p/{x}/+/#\",\"node\":\"n-{x}\",\"fields\":[{\"path\":\"\",\"field\":\"v\"}]}]";

static void check_writes(const sb_gm_config *c, const sb_gm_routes *routes, const sb_msg *m)
{
    for (size_t i = 0; i < m->n_payloads; i++) {
        char *topic = NULL, *payload = NULL;
        bool retain = false;
        sb_errmsg em = {{0}};
        sb_err rc = sb_gm_command(c, routes, m, i, &topic, &payload, &retain, &em);
        if (rc == SB_OK)
            CHECK(topic && *topic && !strpbrk(topic, "+#") && payload);
        else
            CHECK(em.text[0] != '\0' && !topic && !payload);
        free(topic);
        free(payload);
    }
}

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

static sb_gm_config *config(const uint8_t *s, size_t n)
{
    sb_gm_config *c = NULL;
    sb_errmsg em = {{0}};
    cJSON *j = cJSON_ParseWithLength((const char *)s, n);
    if (sb_gm_config_parse(j, &c, &em) != SB_OK) {
        CHECK(em.text[0] && !c);
        cJSON_Delete(j);
        j = cJSON_Parse(fixed);
        CHECK(sb_gm_config_parse(j, &c, &em) == SB_OK);
    }
    cJSON_Delete(j);
    return c;
}

static void one(const sb_gm_config *c, sb_gm_routes *routes, const uint8_t *t, size_t tn,
                const uint8_t *pl, size_t pn)
{
    char topic[512];
    if (tn >= sizeof(topic) || memchr(t, '\0', tn))
        return;
    memcpy(topic, t, tn);
    topic[tn] = '\0';
    sb_gm_result r;
    if (sb_gm_map(c, routes, "gw1", topic, pl, pn, &r) != SB_OK)
        return; /* out of memory only */
    CHECK(r.out.n_notes <= r.out.skipped && r.out.n <= r.matched);
    sb_errmsg em = {{0}};
    for (size_t i = 0; i < r.out.n; i++) {
        CHECK(r.out.msgs[i]->n_payloads > 0);
        if (sb_msg_validate(r.out.msgs[i], &em) != SB_OK) {
            fprintf(stderr, "invalid message: %s\n", em.text);
            abort();
        }
        check_writes(c, routes, r.out.msgs[i]);
    }
    sb_gm_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size, *s, *t, *pl;
    size_t n, tn, pn;
    if (!line(&p, end, &s, &n))
        return 0;
    sb_gm_config *c = config(s, n);
    sb_gm_routes *routes = sb_gm_routes_new();
    while (routes && line(&p, end, &t, &tn)) {
        if (!line(&p, end, &pl, &pn))
            pl = end, pn = 0;
        one(c, routes, t, tn, pl, pn);
    }
    sb_gm_routes_free(routes);
    sb_gm_config_free(c);
    return 0;
}
