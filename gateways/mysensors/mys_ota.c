/*
 * mys_ota.c - MySensors OTA firmware payloads, CRC16 and block serving (mys_ota.h).
 */
#include <stdlib.h>
#include <string.h>

#include "gateways/mysensors/mys_ota.h"

uint16_t sb_mys_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

sb_err sb_mys_fw_prepare(uint16_t type, uint16_t version, const uint8_t *bytes, size_t len,
                         sb_mys_firmware *fw, sb_errmsg *em)
{
    memset(fw, 0, sizeof(*fw));
    if (!bytes || len == 0)
        return sb_fail(em, SB_ERR_INVALID, "firmware %u/%u: no bytes", type, version);
    size_t blocks = (len + SB_MYS_FW_BLOCK_SIZE - 1) / SB_MYS_FW_BLOCK_SIZE;
    if (blocks > SB_MYS_FW_MAX_BLOCKS)
        return sb_fail(em, SB_ERR_TOO_LARGE, "firmware %u/%u: %zu bytes, at most %u blocks", type,
                       version, len, SB_MYS_FW_MAX_BLOCKS);
    size_t size = blocks * SB_MYS_FW_BLOCK_SIZE;
    fw->data = malloc(size);
    if (!fw->data)
        return sb_fail(em, SB_ERR_NOMEM, "firmware %u/%u: out of memory", type, version);
    memcpy(fw->data, bytes, len);
    memset(fw->data + len, SB_MYS_FW_PAD, size - len);
    fw->type = type;
    fw->version = version;
    fw->blocks = (uint16_t)blocks;
    fw->crc = sb_mys_crc16(0xFFFF, fw->data, size);
    return SB_OK;
}

void sb_mys_fw_free(sb_mys_firmware *fw)
{
    if (fw)
        SB_FREE(fw->data);
}

void sb_mys_hex_encode(const uint8_t *data, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

sb_err sb_mys_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *n,
                         sb_errmsg *em)
{
    if (hex_len % 2)
        return sb_fail(em, SB_ERR_INVALID, "hex payload: odd length %zu", hex_len);
    if (hex_len / 2 > cap)
        return sb_fail(em, SB_ERR_TOO_LARGE, "hex payload: %zu bytes, at most %zu", hex_len / 2,
                       cap);
    for (size_t i = 0; i < hex_len / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return sb_fail(em, SB_ERR_INVALID, "hex payload: bad digit near char %zu", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = hex_len / 2;
    return SB_OK;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

/* Decodes hex into buf and checks the byte count is one of want_a / want_b. */
static sb_err decode_fixed(const char *what, const char *hex, size_t len, uint8_t *buf,
                           size_t want_a, size_t want_b, sb_errmsg *em)
{
    size_t n = 0;
    sb_err err = sb_mys_hex_decode(hex, len, buf, SB_MYS_PAYLOAD_MAX, &n, em);
    if (err)
        return sb_fail_wrap(em, err, "%s", what);
    if (n != want_a && n != want_b)
        return sb_fail(em, SB_ERR_INVALID, "%s: %zu bytes, %zu expected", what, n, want_a);
    return SB_OK;
}

sb_err sb_mys_fw_config_decode(const char *hex, size_t len, sb_mys_fw_config *out, sb_errmsg *em)
{
    uint8_t b[SB_MYS_PAYLOAD_MAX] = {0};
    sb_err err = decode_fixed("firmware config", hex, len, b, 8, 10, em);
    if (err)
        return err;
    out->type = get16(b);
    out->version = get16(b + 2);
    out->blocks = get16(b + 4);
    out->crc = get16(b + 6);
    out->bl_version = len == 20 ? get16(b + 8) : 0;
    return SB_OK;
}

sb_err sb_mys_fw_request_decode(const char *hex, size_t len, sb_mys_fw_request *out, sb_errmsg *em)
{
    uint8_t b[SB_MYS_PAYLOAD_MAX];
    sb_err err = decode_fixed("firmware request", hex, len, b, 6, 6, em);
    if (err)
        return err;
    out->type = get16(b);
    out->version = get16(b + 2);
    out->block = get16(b + 4);
    return SB_OK;
}

sb_err sb_mys_fw_response_decode(const char *hex, size_t len, sb_mys_fw_request *hdr,
                                 uint8_t data[SB_MYS_FW_BLOCK_SIZE], sb_errmsg *em)
{
    uint8_t b[SB_MYS_PAYLOAD_MAX];
    sb_err err = decode_fixed("firmware response", hex, len, b, 6 + SB_MYS_FW_BLOCK_SIZE,
                              6 + SB_MYS_FW_BLOCK_SIZE, em);
    if (err)
        return err;
    hdr->type = get16(b);
    hdr->version = get16(b + 2);
    hdr->block = get16(b + 4);
    memcpy(data, b + 6, SB_MYS_FW_BLOCK_SIZE);
    return SB_OK;
}

static sb_err stream_line(unsigned node, unsigned type, const uint8_t *b, size_t n,
                          sb_mys_line *out)
{
    char hex[2 * SB_MYS_PAYLOAD_MAX + 1];
    sb_mys_hex_encode(b, n, hex);
    return sb_mys_line_set(out, node, SB_MYS_NODE_CHILD, SB_MYS_STREAM, 0, type, hex);
}

sb_err sb_mys_fw_config_request_line(unsigned node, const sb_mys_fw_config *c, sb_mys_line *out)
{
    uint8_t b[10];
    put16(b, c->type), put16(b + 2, c->version), put16(b + 4, c->blocks);
    put16(b + 6, c->crc), put16(b + 8, c->bl_version);
    return stream_line(node, SB_MYS_ST_FIRMWARE_CONFIG_REQUEST, b, sizeof(b), out);
}

sb_err sb_mys_fw_request_line(unsigned node, const sb_mys_fw_request *r, sb_mys_line *out)
{
    uint8_t b[6];
    put16(b, r->type), put16(b + 2, r->version), put16(b + 4, r->block);
    return stream_line(node, SB_MYS_ST_FIRMWARE_REQUEST, b, sizeof(b), out);
}

sb_err sb_mys_fw_config_response_line(unsigned node, const sb_mys_firmware *fw, sb_mys_line *out)
{
    uint8_t b[8];
    put16(b, fw->type), put16(b + 2, fw->version), put16(b + 4, fw->blocks);
    put16(b + 6, fw->crc);
    return stream_line(node, SB_MYS_ST_FIRMWARE_CONFIG_RESPONSE, b, sizeof(b), out);
}

sb_err sb_mys_fw_response_line(unsigned node, const sb_mys_firmware *fw,
                               const sb_mys_fw_request *req, sb_mys_line *out, sb_errmsg *em)
{
    if (!fw || !fw->data)
        return sb_fail(em, SB_ERR_NOTFOUND, "node %u: no firmware assigned", node);
    if (req->type != fw->type || req->version != fw->version)
        return sb_fail(em, SB_ERR_NOTFOUND, "node %u asks for firmware %u/%u, serving %u/%u", node,
                       req->type, req->version, fw->type, fw->version);
    if (req->block >= fw->blocks)
        return sb_fail(em, SB_ERR_NOTFOUND, "node %u asks for block %u of %u", node, req->block,
                       fw->blocks);
    uint8_t b[6 + SB_MYS_FW_BLOCK_SIZE];
    put16(b, fw->type), put16(b + 2, fw->version), put16(b + 4, req->block);
    memcpy(b + 6, fw->data + (size_t)req->block * SB_MYS_FW_BLOCK_SIZE, SB_MYS_FW_BLOCK_SIZE);
    return stream_line(node, SB_MYS_ST_FIRMWARE_RESPONSE, b, sizeof(b), out);
}

sb_err sb_mys_ota_answer(const sb_mys_line *req, const sb_mys_firmware *fw, sb_mys_line *answer,
                         sb_errmsg *em)
{
    if (!req || req->cmd != SB_MYS_STREAM)
        return sb_fail(em, SB_ERR_INVALID, "not a stream line");
    if (req->type == SB_MYS_ST_FIRMWARE_CONFIG_REQUEST) {
        sb_mys_fw_config cfg;
        sb_err err = sb_mys_fw_config_decode(req->payload, req->payload_len, &cfg, em);
        if (err)
            return err;
        if (!fw || !fw->data)
            return sb_fail(em, SB_ERR_NOTFOUND, "node %u: no firmware assigned", req->node);
        return sb_mys_fw_config_response_line(req->node, fw, answer);
    }
    if (req->type == SB_MYS_ST_FIRMWARE_REQUEST) {
        sb_mys_fw_request r;
        sb_err err = sb_mys_fw_request_decode(req->payload, req->payload_len, &r, em);
        if (err)
            return err;
        return sb_mys_fw_response_line(req->node, fw, &r, answer, em);
    }
    return sb_fail(em, SB_ERR_INVALID, "stream type %u is not a firmware request", req->type);
}
