/*
 * mys_ota.h - MySensors OTA firmware updates (the MYSBootloader / MySensors OTA protocol) as
 * pure functions: the binary stream payloads, the CRC16 and block serving from firmware bytes
 * held in memory.
 *
 * Every stream payload is a packed little-endian struct, carried on the serial line as hex:
 *   ST_FIRMWARE_CONFIG_REQUEST  node -> ctl  type u16, version u16, blocks u16, crc u16
 *                                            [, bootloader version u16]   (8 or 10 bytes)
 *   ST_FIRMWARE_CONFIG_RESPONSE ctl -> node  type u16, version u16, blocks u16, crc u16 (8)
 *   ST_FIRMWARE_REQUEST         node -> ctl  type u16, version u16, block u16             (6)
 *   ST_FIRMWARE_RESPONSE        ctl -> node  type u16, version u16, block u16, data[16]   (22)
 * The node asks for blocks from blocks-1 down to 0, then checks the CRC over all blocks.
 */
#ifndef SB_MYS_OTA_H
#define SB_MYS_OTA_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "gateways/mysensors/mys_proto.h"

#define SB_MYS_FW_BLOCK_SIZE 16
#define SB_MYS_FW_MAX_BLOCKS 65535u
#define SB_MYS_FW_PAD        0xff /* the last block is padded with erased-flash bytes */

typedef struct sb_mys_fw_config {
    uint16_t type;
    uint16_t version;
    uint16_t blocks;
    uint16_t crc;
    uint16_t bl_version; /* request only, 0 when the node sent 8 bytes */
} sb_mys_fw_config;

typedef struct sb_mys_fw_request {
    uint16_t type;
    uint16_t version;
    uint16_t block;
} sb_mys_fw_request;

/* A firmware image ready to serve: padded to whole blocks, with its CRC. */
typedef struct sb_mys_firmware {
    uint16_t type;
    uint16_t version;
    uint16_t blocks;
    uint16_t crc;
    uint8_t *data; /* owned, blocks * SB_MYS_FW_BLOCK_SIZE bytes */
} sb_mys_firmware;

/*
 * The CRC16 MySensors checks firmware with (CRC-16/MODBUS: reflected polynomial 0xA001,
 * start 0xFFFF, no final xor). Continue a running CRC by passing the previous value as crc;
 * start with 0xFFFF.
 */
uint16_t sb_mys_crc16(uint16_t crc, const uint8_t *data, size_t len);

/*
 * Prepares len bytes (copied) of firmware type/version: pads to whole blocks with 0xFF and
 * computes the CRC over the padded image. SB_ERR_INVALID for 0 bytes, SB_ERR_TOO_LARGE over
 * 65535 blocks. Free with sb_mys_fw_free().
 */
sb_err sb_mys_fw_prepare(uint16_t type, uint16_t version, const uint8_t *bytes, size_t len,
                         sb_mys_firmware *fw, sb_errmsg *em);
void sb_mys_fw_free(sb_mys_firmware *fw);

/* Hex <-> bytes. hex_encode writes 2*n upper-case chars and a NUL (out >= 2*n+1). */
void sb_mys_hex_encode(const uint8_t *data, size_t n, char *out);
sb_err sb_mys_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *n,
                         sb_errmsg *em);

/* Payload codecs; the encoders write hex into a line payload (the line is filled in full). */
sb_err sb_mys_fw_config_decode(const char *hex, size_t len, sb_mys_fw_config *out, sb_errmsg *em);
sb_err sb_mys_fw_request_decode(const char *hex, size_t len, sb_mys_fw_request *out, sb_errmsg *em);
sb_err sb_mys_fw_response_decode(const char *hex, size_t len, sb_mys_fw_request *hdr,
                                 uint8_t data[SB_MYS_FW_BLOCK_SIZE], sb_errmsg *em);

/* node -> controller lines (used by devsim and tests). */
sb_err sb_mys_fw_config_request_line(unsigned node, const sb_mys_fw_config *cfg, sb_mys_line *out);
sb_err sb_mys_fw_request_line(unsigned node, const sb_mys_fw_request *req, sb_mys_line *out);

/* controller -> node lines. */
sb_err sb_mys_fw_config_response_line(unsigned node, const sb_mys_firmware *fw, sb_mys_line *out);
/* Block N of fw; SB_ERR_NOTFOUND when type/version differ or the block is out of range. */
sb_err sb_mys_fw_response_line(unsigned node, const sb_mys_firmware *fw,
                               const sb_mys_fw_request *req, sb_mys_line *out, sb_errmsg *em);

/*
 * The controller's whole OTA step: given a received ST_FIRMWARE_CONFIG_REQUEST or
 * ST_FIRMWARE_REQUEST line and the firmware assigned to that node, fills the answer line.
 * SB_ERR_INVALID for another line or a malformed payload, SB_ERR_NOTFOUND for a block request
 * the firmware cannot serve.
 */
sb_err sb_mys_ota_answer(const sb_mys_line *req, const sb_mys_firmware *fw, sb_mys_line *answer,
                         sb_errmsg *em);

#endif
