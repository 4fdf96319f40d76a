/*
 * stream.c - stream frames and the consumer's rules (stream.h). The producer is in
 * stream_producer.c.
 */
#include "core/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"

bool sb_stream_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) >= SB_STREAM_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++) {
        if (*c == '+' || *c == '#' || *c == '/' || (unsigned char)*c < 0x20)
            return false;
    }
    return true;
}

/* A JSON number that is an integer in 1 .. 2^53. */
static bool int_member(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(it))
        return false;
    double d = it->valuedouble;
    if (!(d >= 1 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return false;
    *out = (int64_t)d;
    return true;
}

/* Fills f from an envelope object; takes its "items" array out of obj. */
static sb_err decode_envelope(cJSON *obj, sb_stream_frame *f, sb_errmsg *em)
{
    const char *name = sb_json_str(obj, "stream", NULL);
    if (!sb_stream_name_valid(name))
        return sb_fail(em, SB_ERR_INVALID, "frame key 'stream': expected a stream name");
    snprintf(f->stream, sizeof(f->stream), "%s", name);
    if (!int_member(obj, "epoch", &f->epoch))
        return sb_fail(em, SB_ERR_INVALID, "frame key 'epoch': expected an integer >= 1");
    if (!int_member(obj, "seq", &f->seq))
        return sb_fail(em, SB_ERR_INVALID, "frame key 'seq': expected an integer >= 1");
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(obj, "items");
    if (!cJSON_IsArray(items)) {
        cJSON_Delete(items);
        return sb_fail(em, SB_ERR_INVALID, "frame key 'items': expected an array");
    }
    if (cJSON_GetArraySize(items) > SB_MSG_BATCH_MAX) {
        cJSON_Delete(items);
        return sb_fail(em, SB_ERR_TOO_LARGE, "frame key 'items': more than %d items",
                       SB_MSG_BATCH_MAX);
    }
    f->items = items;
    f->sequenced = true;
    return SB_OK;
}

sb_err sb_stream_decode(const char *data, size_t len, sb_stream_frame *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (len > SB_MSG_FRAME_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE, "frame of %zu bytes (limit %u)", len,
                       (unsigned)SB_MSG_FRAME_MAX);
    cJSON *root = NULL;
    sb_err rc = sb_json_parse(data, len, &root, em);
    if (rc != SB_OK)
        return rc;
    if (cJSON_IsArray(root)) {
        if (cJSON_GetArraySize(root) > SB_MSG_BATCH_MAX) {
            cJSON_Delete(root);
            return sb_fail(em, SB_ERR_TOO_LARGE, "frame of more than %d items", SB_MSG_BATCH_MAX);
        }
        out->items = root;
        return SB_OK;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sb_fail(em, SB_ERR_INVALID, "frame: expected an object or an array");
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "items") ||
        cJSON_GetObjectItemCaseSensitive(root, "seq")) {
        rc = decode_envelope(root, out, em);
        cJSON_Delete(root);
        return rc;
    }
    cJSON *arr = cJSON_CreateArray();
    if (!arr || !cJSON_AddItemToArray(arr, root)) {
        cJSON_Delete(arr);
        cJSON_Delete(root);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    out->items = arr;
    return SB_OK;
}

void sb_stream_frame_free(sb_stream_frame *f)
{
    if (!f)
        return;
    cJSON_Delete(f->items);
    f->items = NULL;
}

char *sb_stream_encode(const char *stream, int64_t epoch, int64_t seq, const cJSON *items,
                       size_t *len)
{
    char *body = sb_json_print(items);
    if (!body)
        return NULL;
    /* The stream name is a plain topic level, but may hold '"' or '\\': let cJSON quote it. */
    cJSON *name = cJSON_CreateString(stream);
    char *qname = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    size_t n = strlen(body) + (qname ? strlen(qname) : 0) + 96;
    char *out = qname ? malloc(n) : NULL;
    if (out) {
        int k = snprintf(out, n, "{\"stream\":%s,\"epoch\":%lld,\"seq\":%lld,\"items\":%s}", qname,
                         (long long)epoch, (long long)seq, body);
        if (len)
            *len = (size_t)k;
    }
    free(qname);
    free(body);
    return out;
}

sb_stream_verdict sb_stream_check(const sb_stream_pos *last, const sb_stream_frame *f)
{
    if (f->epoch < last->epoch)
        return SB_STREAM_STALE;
    int64_t prev = f->epoch == last->epoch ? last->seq : 0;
    if (f->seq <= prev)
        return SB_STREAM_DUPLICATE;
    if (f->seq == prev + 1)
        return SB_STREAM_APPLY;
    return SB_STREAM_GAP;
}

sb_stream_pos sb_stream_next(const sb_stream_frame *f)
{
    sb_stream_pos p = {f->epoch, f->seq};
    return p;
}

cJSON *sb_stream_pos_doc(const char *stream, const sb_stream_pos *pos)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !sb_json_set_str(d, "id", stream) ||
        !sb_json_set_num(d, "epoch", (double)pos->epoch) ||
        !sb_json_set_num(d, "seq", (double)pos->seq)) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

sb_err sb_stream_pos_parse(const cJSON *doc, char *stream, size_t len, sb_stream_pos *out)
{
    const char *id = sb_json_str(doc, "id", NULL);
    if (!sb_stream_name_valid(id) || !int_member(doc, "epoch", &out->epoch) ||
        !int_member(doc, "seq", &out->seq))
        return SB_ERR_INVALID;
    snprintf(stream, len, "%s", id);
    return SB_OK;
}

sb_err sb_stream_ack(sb_bus *bus, const char *stream, const sb_stream_pos *pos, bool gap)
{
    char topic[SB_STREAM_NAME_MAX + 160], body[128];
    sb_err rc = sb_bus_topic(bus, topic, sizeof(topic), "ack/%s", stream);
    if (rc != SB_OK)
        return rc;
    int n = snprintf(body, sizeof(body), "{\"epoch\":%lld,\"seq\":%lld%s}", (long long)pos->epoch,
                     (long long)pos->seq, gap ? ",\"gap\":true" : "");
    return sb_bus_publish(bus, topic, body, (size_t)n, 1, false);
}
