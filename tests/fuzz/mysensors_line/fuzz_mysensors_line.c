/*
 * fuzz_mysensors_line.c - the MySensors line parser on arbitrary bytes: whatever parses must
 * format and parse back to the same line and convert to a valid message (or a stated drop);
 * whatever is refused must say why. Stream lines also go through the OTA decoders.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/mysensors/mys_msg.h"
#include "gateways/mysensors/mys_ota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mysensors_line: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_msg(const sb_mys_line *l)
{
    static const sb_mys_opts opts = {"gw1", false};
    sb_msg *m = NULL;
    const char *why = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_mys_to_msg(l, &opts, &m, &why, &em);
    if (err != SB_OK) {
        CHECK(em.text[0] && !m);
        return;
    }
    CHECK(m || why);
    if (!m)
        return;
    CHECK(sb_msg_validate(m, &em) == SB_OK);
    /* a set goes back out as the same line */
    if (m->type == SB_MSG_SET && l->cmd == SB_MYS_SET) {
        sb_mys_line back;
        if (sb_mys_from_msg(m, 0, &back, &em) == SB_OK)
            CHECK(back.node == l->node && back.child == l->child && back.type == l->type);
    }
    sb_msg_free(m);
}

static void check_stream(const sb_mys_line *l)
{
    sb_mys_fw_config c;
    sb_mys_fw_request r;
    uint8_t block[SB_MYS_FW_BLOCK_SIZE];
    (void)sb_mys_fw_config_decode(l->payload, l->payload_len, &c, NULL);
    (void)sb_mys_fw_request_decode(l->payload, l->payload_len, &r, NULL);
    (void)sb_mys_fw_response_decode(l->payload, l->payload_len, &r, block, NULL);
    static const uint8_t image[40] = {1, 2, 3};
    sb_mys_firmware fw;
    if (sb_mys_fw_prepare(10, 2, image, sizeof(image), &fw, NULL) == SB_OK) {
        sb_mys_line ans;
        if (sb_mys_ota_answer(l, &fw, &ans, NULL) == SB_OK)
            CHECK(sb_mys_validate(&ans, NULL) == SB_OK);
        sb_mys_fw_free(&fw);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_mys_line l;
    sb_errmsg em = {{0}};
    sb_err err = sb_mys_parse((const char *)data, size, &l, &em);
    if (err != SB_OK) {
        CHECK((err == SB_ERR_INVALID || err == SB_ERR_TOO_LARGE) && em.text[0]);
        return 0;
    }
    char buf[SB_MYS_LINE_MAX + 8];
    size_t n = 0;
    CHECK(sb_mys_format(&l, buf, sizeof(buf), &n) == SB_OK);
    sb_mys_line back;
    CHECK(sb_mys_parse(buf, n, &back, NULL) == SB_OK);
    CHECK(memcmp(&back, &l, sizeof(l)) == 0);
    check_msg(&l);
    if (l.cmd == SB_MYS_STREAM)
        check_stream(&l);
    return 0;
}
