/*
 * fuzz_metrics_line.c - the line protocol encoder on arbitrary ids and values. Input: a type
 * byte, then gateway, node, source, field and value separated by NUL bytes. Whatever encodes
 * must be one line that a line protocol reader splits back into the same (mapped) tag values,
 * with exactly three unescaped sections and the timestamp last.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/influxdb/line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_metrics_line: check failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads an escaped token up to an unescaped stop character; returns the stop position. */
static const char *token(const char *p, const char *stops, char *out, size_t n)
{
    size_t j = 0;
    for (; *p && !strchr(stops, *p); p++) {
        if (*p == '\\' && p[1] && strchr(", =\\", p[1]))
            p++;
        if (j + 1 < n)
            out[j++] = *p;
    }
    out[j] = '\0';
    return p;
}

static void check_line(const char *line, const char *const ids[4])
{
    static const char *const keys[] = {"field", "gateway", "node", "source"};
    const size_t order[] = {3, 0, 1, 2}; /* ids[] is gateway, node, source, field */
    char tok[600], want[600];
    CHECK(strchr(line, '\n') == line + strlen(line) - 1);
    const char *p = token(line, ", ", tok, sizeof(tok));
    for (size_t k = 0; k < 4; k++) {
        sb_lp_id(ids[order[k]], want, sizeof(want));
        if (!want[0])
            continue;
        CHECK(*p == ',');
        p = token(p + 1, "=", tok, sizeof(tok));
        CHECK(*p == '=' && !strcmp(tok, keys[k]));
        p = token(p + 1, ", ", tok, sizeof(tok));
        CHECK(!strcmp(tok, want));
    }
    CHECK(*p == ' ');
    bool quoted = false;
    for (p++; *p && (quoted || *p != ' '); p++) {
        if (quoted && *p == '\\')
            p++;
        else if (*p == '"')
            quoted = !quoted;
    }
    CHECK(!quoted && *p == ' ' && !strcmp(p, " 42\n"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *buf = malloc(size + 6);
    memcpy(buf, data + 1, size - 1);
    memset(buf + size - 1, 0, 7);
    const char *parts[5];
    const char *p = buf;
    for (int i = 0; i < 5; i++) {
        parts[i] = p;
        p += strlen(p) + (p < buf + size - 1 ? 1 : 0);
    }
    sb_metric_point pt = {parts[0], parts[1], parts[2], parts[3], (sb_metric_type)(data[0] % 8),
                          parts[4], 42};
    sb_lp_buf out = {0};
    sb_err rc = sb_lp_encode(&pt, &out, NULL);
    if (rc == SB_OK)
        check_line(out.data, parts);
    else
        CHECK(out.len == 0);
    sb_lp_buf_free(&out);
    free(buf);
    return 0;
}
