/*
 * fuzz_mysensors_topic.c - the MySensors MQTT gateway's topic + payload -> line conversion on
 * arbitrary bytes. Input: the topic, a NUL byte, the payload (no NUL: the whole input is the
 * topic and the payload is empty). Whatever converts must be the five topic fields and the
 * payload joined by ';', fit the buffer, hold no line end, and go through the line parser
 * without crashing; whatever is refused must say why. The prefix is "mys" and, for topics
 * starting with a '#', the text up to the first '/' (so odd prefixes are covered too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/mysensors/mys_mqtopic.h"
#include "gateways/mysensors/mys_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mysensors_topic: check failed: %s (line %d)\n", #cond,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check(const char *prefix, const char *topic, const char *payload, size_t plen,
                  size_t cap)
{
    char line[SB_MYS_LINE_MAX * 2 + 1];
    memset(line, 0x55, sizeof(line));
    size_t n = 12345;
    const char *why = NULL;
    sb_err rc = sb_mys_mqtt_line(prefix, topic, payload, plen, line, cap, &n, &why);
    CHECK(line[cap] == 0x55); /* nothing written past cap */
    if (rc != SB_OK) {
        CHECK((rc == SB_ERR_INVALID || rc == SB_ERR_TOO_LARGE) && why && *why && n == 0);
        return;
    }
    CHECK(!why && n < cap && line[n] == '\0' && n >= plen + 10);
    CHECK(!memchr(line, '\n', n));
    CHECK(memcmp(line + n - plen, payload, plen) == 0);
    /* the fields are the topic's, in order */
    const char *t = topic + strlen(prefix) + strlen("-out/");
    const char *l = line;
    for (int i = 0; i < 5; i++) {
        size_t k = strcspn(t, "/");
        CHECK(k >= 1 && k <= 3 && strncmp(l, t, k) == 0 && l[k] == ';');
        t += k + (i < 4), l += k + 1;
    }
    CHECK(*t == '\0' && l == line + n - plen);
    sb_mys_line parsed;
    sb_errmsg em = {{0}};
    sb_err prc = sb_mys_parse(line, n, &parsed, &em);
    CHECK(prc == SB_OK || em.text[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t tlen = strlen(buf);
    const char *payload = tlen < size ? buf + tlen + 1 : "";
    size_t plen = tlen < size ? size - tlen - 1 : 0;
    char prefix[64] = "mys";
    if (buf[0] == '#') {
        size_t k = strcspn(buf + 1, "/");
        if (k < sizeof(prefix) - 5 && buf[1 + k] == '/') {
            memcpy(prefix, buf + 1, k);
            prefix[k] = '\0';
            if (k >= 4 && strcmp(prefix + k - 4, "-out") == 0)
                prefix[k - 4] = '\0'; /* "#p-out/..." means prefix "p" */
        }
    }
    const char *topic = buf[0] == '#' ? buf + 1 : buf;
    check(prefix, topic, payload, plen, SB_MYS_LINE_MAX * 2);
    check(prefix, topic, payload, plen, 24); /* a small buffer: TOO_LARGE, never overflow */
    free(buf);
    return 0;
}
