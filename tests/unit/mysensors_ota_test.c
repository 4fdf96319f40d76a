/*
 * mysensors_ota_test.c - OTA firmware: the CRC16, payload layouts, padding, block serving and a
 * whole transfer driven by a simulated node that checks the CRC like the bootloader does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/mysensors/mys_ota.h"

static void test_crc16(void **state)
{
    /* CRC-16/MODBUS check value */
    assert_int_equal(sb_mys_crc16(0xFFFF, (const uint8_t *)"123456789", 9), 0x4B37);
    assert_int_equal(sb_mys_crc16(0xFFFF, NULL, 0), 0xFFFF);
    /* running CRC == one-shot CRC */
    uint16_t c = sb_mys_crc16(0xFFFF, (const uint8_t *)"1234", 4);
    assert_int_equal(sb_mys_crc16(c, (const uint8_t *)"56789", 5), 0x4B37);
}

static void test_layouts(void **state)
{
    sb_mys_fw_config cfg = {0x0A, 0x0102, 300, 0xBEEF, 2};
    sb_mys_line l;
    assert_int_equal(sb_mys_fw_config_request_line(7, &cfg, &l), SB_OK);
    assert_string_equal(l.payload, "0A0002012C01EFBE0200"); /* little-endian u16s */
    assert_int_equal(sb_mys_validate(&l, NULL), SB_OK);
    sb_mys_fw_config back;
    assert_int_equal(sb_mys_fw_config_decode(l.payload, l.payload_len, &back, NULL), SB_OK);
    assert_memory_equal(&back, &cfg, sizeof(cfg));
    /* 8-byte requests (older bootloaders) have no bootloader version */
    assert_int_equal(sb_mys_fw_config_decode("0a0002012c01efbe", 16, &back, NULL), SB_OK);
    assert_int_equal(back.crc, 0xBEEF);
    assert_int_equal(back.bl_version, 0);
    sb_errmsg em = {{0}};
    assert_int_equal(sb_mys_fw_config_decode("0A00", 4, &back, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "2 bytes, 8 expected"));
    assert_int_equal(sb_mys_fw_config_decode("0A0Z", 4, &back, &em), SB_ERR_INVALID);

    sb_mys_fw_request r = {0x0A, 0x0102, 299}, rb;
    assert_int_equal(sb_mys_fw_request_line(7, &r, &l), SB_OK);
    assert_string_equal(l.payload, "0A0002012B01");
    assert_int_equal(l.type, SB_MYS_ST_FIRMWARE_REQUEST);
    assert_int_equal(sb_mys_fw_request_decode(l.payload, l.payload_len, &rb, NULL), SB_OK);
    assert_memory_equal(&rb, &r, sizeof(r));
}

static void test_prepare_and_serve(void **state)
{
    uint8_t bytes[20];
    for (int i = 0; i < 20; i++)
        bytes[i] = (uint8_t)i;
    sb_mys_firmware fw;
    assert_int_equal(sb_mys_fw_prepare(3, 1, bytes, sizeof(bytes), &fw, NULL), SB_OK);
    assert_int_equal(fw.blocks, 2);
    assert_int_equal(fw.data[19], 19);
    assert_int_equal(fw.data[20], 0xFF); /* padding */
    assert_int_equal(fw.data[31], 0xFF);
    assert_int_equal(fw.crc, sb_mys_crc16(0xFFFF, fw.data, 32));

    sb_mys_line l;
    sb_errmsg em = {{0}};
    sb_mys_fw_request r = {3, 1, 1};
    assert_int_equal(sb_mys_fw_response_line(9, &fw, &r, &l, &em), SB_OK);
    assert_string_equal(l.payload, "03000100010010111213FFFFFFFFFFFFFFFFFFFFFFFF");
    assert_int_equal(sb_mys_validate(&l, NULL), SB_OK);
    r.block = 2;
    assert_int_equal(sb_mys_fw_response_line(9, &fw, &r, &l, &em), SB_ERR_NOTFOUND);
    assert_non_null(strstr(em.text, "block 2 of 2"));
    r.block = 0, r.version = 2;
    assert_int_equal(sb_mys_fw_response_line(9, &fw, &r, &l, &em), SB_ERR_NOTFOUND);
    sb_mys_fw_free(&fw);
    sb_mys_fw_free(&fw); /* twice is harmless */

    assert_int_equal(sb_mys_fw_prepare(3, 1, bytes, 0, &fw, &em), SB_ERR_INVALID);
    assert_int_equal(sb_mys_fw_prepare(3, 1, bytes, 65536u * 16, &fw, &em), SB_ERR_TOO_LARGE);
}

/* Sends a line over the "serial port": format, then parse on the other side. */
static sb_mys_line wire(const sb_mys_line *l)
{
    char buf[SB_MYS_LINE_MAX + 1];
    size_t n = 0;
    sb_mys_line got;
    assert_int_equal(sb_mys_format(l, buf, sizeof(buf), &n), SB_OK);
    assert_int_equal(sb_mys_parse(buf, n, &got, NULL), SB_OK);
    return got;
}

/* The node side: asks for the config, then every block from the last down, then checks. */
static void test_full_transfer(void **state)
{
    size_t size = 1000; /* 63 blocks, last one padded */
    uint8_t *image = malloc(size);
    for (size_t i = 0; i < size; i++)
        image[i] = (uint8_t)(i * 31 + 7);
    sb_mys_firmware fw;
    assert_int_equal(sb_mys_fw_prepare(10, 2, image, size, &fw, NULL), SB_OK);

    const unsigned node = 21;
    sb_mys_fw_config have = {10, 1, 40, 0x1234, 2}, want;
    sb_mys_line req, ans;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_mys_fw_config_request_line(node, &have, &req), SB_OK);
    assert_int_equal(sb_mys_ota_answer(&(sb_mys_line){0}, &fw, &ans, &em), SB_ERR_INVALID);
    req = wire(&req);
    assert_int_equal(sb_mys_ota_answer(&req, &fw, &ans, &em), SB_OK);
    ans = wire(&ans);
    assert_int_equal(ans.node, node);
    assert_int_equal(ans.type, SB_MYS_ST_FIRMWARE_CONFIG_RESPONSE);
    assert_int_equal(sb_mys_fw_config_decode(ans.payload, ans.payload_len, &want, NULL), SB_OK);
    assert_int_equal(want.blocks, 63);
    assert_int_equal(want.version, 2);

    uint8_t *flash = malloc((size_t)want.blocks * SB_MYS_FW_BLOCK_SIZE);
    for (int b = want.blocks - 1; b >= 0; b--) {
        sb_mys_fw_request r = {want.type, want.version, (uint16_t)b}, hdr;
        assert_int_equal(sb_mys_fw_request_line(node, &r, &req), SB_OK);
        req = wire(&req);
        assert_int_equal(sb_mys_ota_answer(&req, &fw, &ans, &em), SB_OK);
        ans = wire(&ans);
        assert_int_equal(ans.type, SB_MYS_ST_FIRMWARE_RESPONSE);
        uint8_t data[SB_MYS_FW_BLOCK_SIZE];
        assert_int_equal(sb_mys_fw_response_decode(ans.payload, ans.payload_len, &hdr, data, NULL),
                         SB_OK);
        assert_int_equal(hdr.block, b);
        memcpy(flash + (size_t)b * SB_MYS_FW_BLOCK_SIZE, data, SB_MYS_FW_BLOCK_SIZE);
    }
    /* the bootloader's check: CRC over every block equals the announced CRC */
    uint16_t crc = sb_mys_crc16(0xFFFF, flash, (size_t)want.blocks * SB_MYS_FW_BLOCK_SIZE);
    assert_int_equal(crc, want.crc);
    assert_memory_equal(flash, image, size);
    for (size_t i = size; i < (size_t)want.blocks * SB_MYS_FW_BLOCK_SIZE; i++)
        assert_int_equal(flash[i], 0xFF);

    /* a corrupted block is caught by the CRC */
    flash[5] ^= 1;
    assert_int_not_equal(sb_mys_crc16(0xFFFF, flash, (size_t)want.blocks * 16), want.crc);
    free(flash);
    free(image);
    sb_mys_fw_free(&fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_prepare_and_serve),
        cmocka_unit_test(test_full_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
