/*
 * firmware.c - POST /api/firmware/upload/{id}: the request body is the firmware image (raw bytes
 * as flashed, Content-Type application/octet-stream), up to api.firmware_limit bytes (larger
 * ones get 413 before the body is read, http.c). The file goes to
 * <data_dir>/firmware/<id>-<sha256 prefix>.bin (written to a temporary name, synced, renamed)
 * and the firmware document gets
 *     "file": "<absolute path>", "size": N,
 *     "checksum": {"sha256": "<hex>", "crc16": N, "blocks": N}
 * where crc16/blocks are what the MySensors OTA protocol announces for the image
 * (gateways/mysensors/mys_ota.h: padded with 0xFF to 16-byte blocks, CRC-16/MODBUS over the
 * padded image), so a node's ST_FIRMWARE_CONFIG_RESPONSE can be checked against the document.
 * The previous file of the document is removed once the new document is stored; an upload drops
 * an inline "data" image (mys_fw.c prefers data over file).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"

#define OTA_BLOCK 16
#define OTA_PAD   0xff

/* CRC-16/MODBUS over the image padded with 0xFF to whole 16-byte blocks, as
 * gateways/mysensors/mys_ota.c computes it (the API does not link the gateway's codec). */
static uint16_t ota_crc(const unsigned char *data, size_t len, size_t *blocks)
{
    *blocks = (len + OTA_BLOCK - 1) / OTA_BLOCK;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < *blocks * OTA_BLOCK; i++) {
        crc ^= i < len ? data[i] : OTA_PAD;
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
        n = 0;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < n ? md[i] : 0);
}

/* Writes len bytes to path through a temporary file in the same directory. */
static sb_err write_atomic(const char *path, const void *data, size_t len, sb_errmsg *em)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sb_fail(em, SB_ERR_IO, "%s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    bool ok = left == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(e));
    }
    return SB_OK;
}

/* The absolute firmware directory, created when missing (caller frees). */
static char *firmware_dir(api *a, sb_errmsg *em)
{
    char *dir = sb_config_data_path(a->cfg, "firmware");
    char *abs = NULL;
    if (!dir) {
        sb_fail(em, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sb_mkdirs(dir, em) == SB_OK && !(abs = realpath(dir, NULL)))
        sb_fail(em, SB_ERR_IO, "%s: %s", dir, strerror(errno));
    free(dir);
    return abs;
}

/* Whether path is a file this service wrote (under its firmware directory). */
static bool ours(api *a, const char *path)
{
    char *dir = firmware_dir(a, NULL);
    size_t n = dir ? strlen(dir) : 0;
    bool yes = dir && path && strncmp(path, dir, n) == 0 && path[n] == '/' && !strstr(path, "/..");
    free(dir);
    return yes;
}

static void remove_file(api *a, const char *file)
{
    if (ours(a, file) && unlink(file) != 0 && errno != ENOENT)
        sb_warn(&a->log, "firmware %s: cannot remove: %s", file, strerror(errno));
}

void api_firmware_forget(api *a, const cJSON *doc)
{
    remove_file(a, sb_json_str(doc, "file", NULL));
}

static bool binary_type(const char *ctype)
{
    return !ctype[0] || strncmp(ctype, "application/octet-stream", 24) == 0;
}

static void upload(api *a, api_req *rq, api_resp *rs)
{
    cJSON *doc = NULL;
    char *dir = NULL, *old_file = NULL;
    sb_errmsg em = {{0}};
    if (!binary_type(rq->content_type)) {
        api_errorf(rs, 415, "unsupported media type",
                   "Content-Type '%s': send the image as application/octet-stream",
                   rq->content_type);
        return;
    }
    if (!rq->body_len) {
        api_error(rs, 400, "bad request", "the body must be the firmware image (no bytes sent)");
        return;
    }
    sb_err rc = sb_store_get(a->store, "firmware", rq->id, &doc, &em);
    if (rc != SB_OK) {
        api_errorf(rs, api_status_of(rc), rc == SB_ERR_NOTFOUND ? "not found" : "store",
                   "firmware '%s': %s", rq->id,
                   rc == SB_ERR_NOTFOUND ? "create it first (POST /api/firmware)"
                                         : sb_errmsg_str(&em, rc));
        return;
    }
    char sha[65], path[PATH_MAX];
    size_t blocks = 0;
    const unsigned char *bytes = (const unsigned char *)rq->body;
    uint16_t crc = ota_crc(bytes, rq->body_len, &blocks);
    sha256_hex(bytes, rq->body_len, sha);
    if (!(dir = firmware_dir(a, &em))) {
        rc = SB_ERR_IO;
        goto fail;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s-%.16s.bin", dir, rq->id, sha) >= sizeof(path)) {
        rc = sb_fail(&em, SB_ERR_INVALID, "id too long for a file name");
        goto fail;
    }
    if ((rc = write_atomic(path, bytes, rq->body_len, &em)) != SB_OK)
        goto fail;
    const char *prev = sb_json_str(doc, "file", NULL);
    if (prev && strcmp(prev, path) != 0)
        old_file = strdup(prev);
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    cJSON *sum = cJSON_CreateObject();
    cJSON_AddStringToObject(sum, "sha256", sha);
    cJSON_AddNumberToObject(sum, "crc16", crc);
    cJSON_AddNumberToObject(sum, "blocks", (double)blocks);
    sb_json_set_str(doc, "file", path);
    sb_json_set(doc, "size", cJSON_CreateNumber((double)rq->body_len));
    sb_json_set(doc, "checksum", sum);
    sb_json_set_str(doc, "modifiedOn", now);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "data");
    if ((rc = sb_store_put(a->store, "firmware", doc, &em)) != SB_OK) {
        unlink(path);
        goto fail;
    }
    if (old_file)
        remove_file(a, old_file);
    sb_info(&a->log, "firmware %s: %zu bytes, sha256 %s, %zu blocks, crc 0x%04x", rq->id,
            rq->body_len, sha, blocks, crc);
    api_event(a, "updated", SB_KIND_FIRMWARE, doc);
    api_reply(rs, 200, doc);
    doc = NULL;
    goto done;
fail:
    api_error(rs, api_status_of(rc), "firmware", sb_errmsg_str(&em, rc));
done:
    cJSON_Delete(doc);
    free(dir);
    free(old_file);
}

/* One upload at a time: two for the same firmware would race on its document and files. */
void api_firmware_upload(api *a, api_req *rq, api_resp *rs)
{
    pthread_mutex_lock(&a->firmware_mu);
    upload(a, rq, rs);
    pthread_mutex_unlock(&a->firmware_mu);
}
