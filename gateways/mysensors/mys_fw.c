/*
 * mys_fw.c - firmware for OTA updates (mysensors.h).
 *
 * A node's firmware is named by its node document ("<gatewayId>.<nodeId>", kind "node"):
 * labels.firmware, else others.firmwareId. The firmware document (kind "firmware") is
 *
 *   {"id":"blink-v2","type":10,"version":2,"data":"<base64 of the binary image>"}
 *   {"id":"blink-v2","type":10,"version":2,"file":"/var/lib/switchboard/fw/blink.bin"}
 *
 * data wins over file; the image is raw bytes as flashed (not Intel HEX). The prepared image is
 * cached by firmware id and modifiedOn, so a transfer of N blocks reads the store N times only
 * for the node document and never re-encodes the image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "gateways/mysensors/mysensors.h"
#include "storage/store.h"

#define FW_FILE_MAX ((size_t)SB_MYS_FW_MAX_BLOCKS * SB_MYS_FW_BLOCK_SIZE)

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

sb_err mys_base64_decode(const char *text, uint8_t **out, size_t *n, sb_errmsg *em)
{
    size_t len = strlen(text);
    while (len && text[len - 1] == '=')
        len--;
    uint8_t *buf = malloc(len * 3 / 4 + 3);
    if (!buf)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    uint32_t acc = 0;
    size_t bits = 0, k = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val((unsigned char)text[i]);
        if (v < 0) {
            free(buf);
            return sb_fail(em, SB_ERR_INVALID, "data: byte %zu is not base64", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[k++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *n = k;
    return SB_OK;
}

static sb_err read_file(const char *path, uint8_t **out, size_t *n, sb_errmsg *em)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sb_fail(em, SB_ERR_IO, "file %s: %s", path, strerror(errno));
    uint8_t *buf = malloc(FW_FILE_MAX + 1);
    size_t got = buf ? fread(buf, 1, FW_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (got > FW_FILE_MAX) {
        free(buf);
        return sb_fail(em, SB_ERR_TOO_LARGE, "file %s: larger than 65535 blocks", path);
    }
    *out = buf;
    *n = got;
    return SB_OK;
}

/* Prepares the firmware document doc into the cache. */
static sb_err load_fw(mys_prov *p, const cJSON *doc, const char *stamp, sb_errmsg *em)
{
    double type = sb_json_num(doc, "type", -1), version = sb_json_num(doc, "version", -1);
    const char *id = sb_json_str(doc, "id", "");
    if (type < 0 || type > 65535 || version < 0 || version > 65535)
        return sb_fail(em, SB_ERR_INVALID, "firmware '%s': type and version must be 0..65535", id);
    uint8_t *bytes = NULL;
    size_t n = 0;
    const char *data = sb_json_str(doc, "data", NULL), *file = sb_json_str(doc, "file", NULL);
    sb_err rc = data   ? mys_base64_decode(data, &bytes, &n, em)
                : file ? read_file(file, &bytes, &n, em)
                       : sb_fail(em, SB_ERR_INVALID, "has neither data nor file");
    mys_fw_cache_free(&p->fw);
    if (rc == SB_OK)
        rc = sb_mys_fw_prepare((uint16_t)type, (uint16_t)version, bytes, n, &p->fw.fw, em);
    free(bytes);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "firmware '%s'", id);
    snprintf(p->fw.id, sizeof(p->fw.id), "%s", id);
    snprintf(p->fw.stamp, sizeof(p->fw.stamp), "%s", stamp);
    p->fw.loaded = true;
    return SB_OK;
}

/* The firmware id assigned to node, copied into buf; false when none. */
static bool assigned(mys_prov *p, unsigned node, char *buf, size_t len)
{
    char id[256];
    snprintf(id, sizeof(id), "%s.%u", p->host->gateway_id, node);
    cJSON *doc = NULL;
    if (!p->host->store || sb_store_get(p->host->store, "node", id, &doc, NULL) != SB_OK)
        return false;
    const char *fw = sb_json_str(sb_json_path(doc, "labels"), "firmware", "");
    if (!*fw)
        fw = sb_json_str(sb_json_path(doc, "others"), "firmwareId", "");
    snprintf(buf, len, "%s", fw);
    cJSON_Delete(doc);
    return *buf != '\0';
}

sb_err mys_fw_for_node(mys_prov *p, unsigned node, const sb_mys_firmware **fw, sb_errmsg *em)
{
    *fw = NULL;
    char fwid[128];
    if (!assigned(p, node, fwid, sizeof(fwid)))
        return sb_fail(em, SB_ERR_NOTFOUND, "node %u has no firmware assigned", node);
    cJSON *doc = NULL;
    if (sb_store_get(p->host->store, "firmware", fwid, &doc, NULL) != SB_OK) {
        sb_fail(em, SB_ERR_INVALID, "node %u: firmware '%s' does not exist", node, fwid);
        return SB_ERR_INVALID;
    }
    char stamp[64];
    snprintf(stamp, sizeof(stamp), "%s", sb_json_str(doc, "modifiedOn", ""));
    sb_err rc = SB_OK;
    if (!p->fw.loaded || strcmp(p->fw.id, fwid) != 0 || strcmp(p->fw.stamp, stamp) != 0)
        rc = load_fw(p, doc, stamp, em);
    cJSON_Delete(doc);
    if (rc != SB_OK)
        return rc == SB_ERR_NOTFOUND ? SB_ERR_INVALID : rc;
    *fw = &p->fw.fw;
    return SB_OK;
}

void mys_fw_cache_free(mys_fw_cache *c)
{
    if (c->loaded)
        sb_mys_fw_free(&c->fw);
    memset(c, 0, sizeof(*c));
}
