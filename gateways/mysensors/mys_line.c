/*
 * mys_line.c - strict parse and format of one MySensors serial API line (mys_proto.h).
 */
#include <stdio.h>
#include <string.h>

#include "gateways/mysensors/mys_proto.h"

static const char *const field_names[6] = {"node-id", "child-sensor-id", "command", "ack",
                                           "type",    "payload"};

/* Whether this line's payload is gateway-local text allowed up to SB_MYS_TEXT_MAX. */
static bool long_text_allowed(const sb_mys_line *l)
{
    if (l->cmd != SB_MYS_INTERNAL)
        return false;
    switch (l->type) {
    case SB_MYS_I_LOG_MESSAGE:
    case SB_MYS_I_GATEWAY_READY:
    case SB_MYS_I_DEBUG:
        return true;
    case SB_MYS_I_VERSION:
        return l->node == SB_MYS_GATEWAY_NODE;
    default:
        return false;
    }
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static sb_err check_payload(const sb_mys_line *l, sb_errmsg *em)
{
    size_t n = l->payload_len;
    if (l->cmd == SB_MYS_STREAM) {
        if (n > 2 * SB_MYS_PAYLOAD_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "payload: %zu hex chars, a stream payload is at most %d bytes", n,
                           SB_MYS_PAYLOAD_MAX);
        if (n % 2)
            return sb_fail(em, SB_ERR_INVALID, "payload: odd number (%zu) of hex chars", n);
        for (size_t i = 0; i < n; i++)
            if (!is_hex(l->payload[i]))
                return sb_fail(em, SB_ERR_INVALID, "payload: byte %zu (0x%02x) is not hex", i,
                               (unsigned char)l->payload[i]);
        return SB_OK;
    }
    size_t max = long_text_allowed(l) ? SB_MYS_TEXT_MAX : SB_MYS_PAYLOAD_MAX;
    if (n > max)
        return sb_fail(em, SB_ERR_TOO_LARGE, "payload: %zu bytes, at most %zu allowed", n, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)l->payload[i];
        if (c < 0x20 || c == 0x7f)
            return sb_fail(em, SB_ERR_INVALID, "payload: byte %zu (0x%02x) is not allowed", i, c);
    }
    return SB_OK;
}

sb_err sb_mys_validate(const sb_mys_line *l, sb_errmsg *em)
{
    if (!l)
        return sb_fail(em, SB_ERR_INVALID, "no line");
    if (l->cmd > SB_MYS_STREAM)
        return sb_fail(em, SB_ERR_INVALID, "command: %u is not 0..4", l->cmd);
    if (l->ack > 1)
        return sb_fail(em, SB_ERR_INVALID, "ack: %u is not 0 or 1", l->ack);
    if (l->payload_len >= sizeof(l->payload) || l->payload[l->payload_len] != '\0')
        return sb_fail(em, SB_ERR_INVALID, "payload: length %zu does not match its text",
                       l->payload_len);
    return check_payload(l, em);
}

/* Parses a decimal 0..max field of 1-3 digits. */
static sb_err parse_num(const char *s, size_t n, unsigned max, int field, unsigned *out,
                        sb_errmsg *em)
{
    if (n == 0)
        return sb_fail(em, SB_ERR_INVALID, "%s: empty", field_names[field]);
    if (n > 3)
        return sb_fail(em, SB_ERR_INVALID, "%s: '%.*s' has more than 3 digits", field_names[field],
                       (int)(n > 16 ? 16 : n), s);
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return sb_fail(em, SB_ERR_INVALID, "%s: '%.*s' is not a decimal number",
                           field_names[field], (int)n, s);
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return sb_fail(em, SB_ERR_INVALID, "%s: %u is out of range 0..%u", field_names[field], v,
                       max);
    *out = v;
    return SB_OK;
}

/* Strips one "\n" or "\r\n"; refuses any other line end or an embedded one. */
static sb_err strip_eol(const char *data, size_t *len, sb_errmsg *em)
{
    size_t n = *len;
    if (n > 0 && data[n - 1] == '\n') {
        n--;
        if (n > 0 && data[n - 1] == '\r')
            n--;
    }
    if (memchr(data, '\n', n) || memchr(data, '\r', n))
        return sb_fail(em, SB_ERR_INVALID, "line: an embedded line end");
    *len = n;
    return SB_OK;
}

sb_err sb_mys_parse(const char *data, size_t len, sb_mys_line *out, sb_errmsg *em)
{
    static const unsigned max[5] = {255, 255, 4, 1, 255};
    if (!data || !out)
        return sb_fail(em, SB_ERR_INVALID, "no line");
    if (len > SB_MYS_LINE_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE, "line: %zu bytes, at most %d allowed", len,
                       SB_MYS_LINE_MAX);
    sb_err err = strip_eol(data, &len, em);
    if (err)
        return err;
    if (len == 0)
        return sb_fail(em, SB_ERR_INVALID, "line: empty");
    unsigned v[5];
    size_t pos = 0;
    for (int f = 0; f < 5; f++) {
        const char *semi = memchr(data + pos, ';', len - pos);
        if (!semi)
            return sb_fail(em, SB_ERR_INVALID, "line: %d fields, 6 expected", f + 1);
        size_t n = (size_t)(semi - (data + pos));
        err = parse_num(data + pos, n, max[f], f, &v[f], em);
        if (err)
            return err;
        pos += n + 1;
    }
    memset(out, 0, sizeof(*out));
    out->node = (uint8_t)v[0];
    out->child = (uint8_t)v[1];
    out->cmd = (uint8_t)v[2];
    out->ack = (uint8_t)v[3];
    out->type = (uint8_t)v[4];
    out->payload_len = len - pos;
    memcpy(out->payload, data + pos, out->payload_len);
    out->payload[out->payload_len] = '\0';
    return check_payload(out, em);
}

sb_err sb_mys_format(const sb_mys_line *l, char *buf, size_t len, size_t *written)
{
    sb_err err = sb_mys_validate(l, NULL);
    if (err)
        return err;
    int n = snprintf(buf, len, "%u;%u;%u;%u;%u;%s\n", l->node, l->child, l->cmd, l->ack, l->type,
                     l->payload);
    if (n < 0 || (size_t)n >= len)
        return SB_ERR_TOO_LARGE;
    if (written)
        *written = (size_t)n;
    return SB_OK;
}

sb_err sb_mys_line_set(sb_mys_line *l, unsigned node, unsigned child, unsigned cmd, unsigned ack,
                       unsigned type, const char *payload)
{
    size_t n = payload ? strlen(payload) : 0;
    if (node > 255 || child > 255 || cmd > SB_MYS_STREAM || ack > 1 || type > 255)
        return SB_ERR_INVALID;
    if (n >= sizeof(l->payload))
        return SB_ERR_TOO_LARGE;
    memset(l, 0, sizeof(*l));
    l->node = (uint8_t)node;
    l->child = (uint8_t)child;
    l->cmd = (uint8_t)cmd;
    l->ack = (uint8_t)ack;
    l->type = (uint8_t)type;
    l->payload_len = n;
    if (n)
        memcpy(l->payload, payload, n);
    return SB_OK;
}
