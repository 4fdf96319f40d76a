/*
 * msg_encode.c - message -> JSON text, written straight into one growing buffer (no cJSON tree:
 * building and printing a tree costs several allocations per key on the hot path), and
 * message -> cJSON tree for callers that embed a message in a larger document.
 *
 * Every key is always written, so MyController-style consumers find the fields they expect:
 * a NULL unit is written as "", a NULL label map as {}. Strings are copied byte for byte except
 * for the escapes JSON requires, so decode(encode(m)) gives m back exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "core/time.h"

typedef struct sbuf {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

static bool grow(sbuf *b, size_t need)
{
    if (b->oom)
        return false;
    if (b->len + need + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *p = realloc(b->buf, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

static void put(sbuf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

/* Bytes that JSON requires escaped: '"', '\\' and control characters. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_escape(sbuf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '"':
        put(b, "\\\"", 2);
        return;
    case '\\':
        put(b, "\\\\", 2);
        return;
    case '\n':
        put(b, "\\n", 2);
        return;
    case '\r':
        put(b, "\\r", 2);
        return;
    case '\t':
        put(b, "\\t", 2);
        return;
    case '\b':
        put(b, "\\b", 2);
        return;
    case '\f':
        put(b, "\\f", 2);
        return;
    default:
        put(b, e, 6);
        return;
    }
}

/* A JSON string; runs of plain bytes are copied with one memcpy. NULL is written as "". */
static void put_str(sbuf *b, const char *s)
{
    PUT_LIT(b, "\"");
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *run = p;
    for (; *p; p++) {
        if (!needs_escape(*p))
            continue;
        put(b, (const char *)run, (size_t)(p - run));
        put_escape(b, *p);
        run = p + 1;
    }
    put(b, (const char *)run, (size_t)(p - run));
    PUT_LIT(b, "\"");
}

static void put_key_str(sbuf *b, const char *key_lit, size_t key_len, const char *s)
{
    put(b, key_lit, key_len);
    put_str(b, s);
}

#define PUT_KEY_STR(b, lit, s) put_key_str((b), (lit), sizeof(lit) - 1, (s))

/* A label map; values that are not strings cannot occur in a valid message and write "". */
static void put_labels(sbuf *b, const cJSON *labels)
{
    PUT_LIT(b, "{");
    const cJSON *it = cJSON_IsObject(labels) ? labels->child : NULL;
    for (bool first = true; it; it = it->next, first = false) {
        if (!first)
            PUT_LIT(b, ",");
        put_str(b, it->string);
        PUT_LIT(b, ":");
        put_str(b, cJSON_IsString(it) ? it->valuestring : "");
    }
    PUT_LIT(b, "}");
}

static void put_bool(sbuf *b, bool v)
{
    if (v)
        PUT_LIT(b, "true");
    else
        PUT_LIT(b, "false");
}

static void put_payload(sbuf *b, const sb_payload *p)
{
    PUT_KEY_STR(b, "{\"key\":", p->key);
    PUT_KEY_STR(b, ",\"value\":", p->value);
    PUT_KEY_STR(b, ",\"metricType\":", sb_metric_type_name(p->metric_type));
    PUT_KEY_STR(b, ",\"unit\":", p->unit);
    PUT_LIT(b, ",\"labels\":");
    put_labels(b, p->labels);
    PUT_LIT(b, "}");
}

static void put_msg(sbuf *b, const sb_msg *m)
{
    char ts[SB_TIME_RFC3339_LEN + 8];
    int64_t t = m->timestamp_ms;
    /* A valid message is inside the range; clamping keeps gmtime away from absurd values. */
    t = t < SB_MSG_TIME_MIN ? SB_MSG_TIME_MIN : t > SB_MSG_TIME_MAX ? SB_MSG_TIME_MAX : t;
    sb_time_format(t, ts, sizeof(ts));

    char id[sizeof(m->id) + 1];
    memcpy(id, m->id, sizeof(m->id));
    id[sizeof(m->id)] = '\0';
    PUT_KEY_STR(b, "{\"id\":", id);
    PUT_KEY_STR(b, ",\"gatewayId\":", m->gateway_id);
    PUT_KEY_STR(b, ",\"nodeId\":", m->node_id);
    PUT_KEY_STR(b, ",\"sourceId\":", m->source_id);
    PUT_KEY_STR(b, ",\"type\":", sb_msg_type_name(m->type));
    PUT_LIT(b, ",\"payloads\":[");
    for (size_t i = 0; i < m->n_payloads; i++) {
        if (i)
            PUT_LIT(b, ",");
        put_payload(b, &m->payloads[i]);
    }
    PUT_LIT(b, "],\"labels\":");
    put_labels(b, m->labels);
    PUT_LIT(b, ",\"isAck\":");
    put_bool(b, m->is_ack);
    PUT_LIT(b, ",\"isReceived\":");
    put_bool(b, m->is_received);
    PUT_LIT(b, ",\"isSleepNode\":");
    put_bool(b, m->is_sleep_node);
    PUT_KEY_STR(b, ",\"timestamp\":", ts);
    PUT_LIT(b, "}");
}

static char *finish(sbuf *b, size_t *len)
{
    if (b->oom || !grow(b, 0)) {
        free(b->buf);
        return NULL;
    }
    b->buf[b->len] = '\0';
    if (len)
        *len = b->len;
    return b->buf;
}

char *sb_msg_encode(const sb_msg *msg, size_t *len)
{
    if (!msg)
        return NULL;
    sbuf b = {0};
    grow(&b, 384);
    put_msg(&b, msg);
    return finish(&b, len);
}

char *sb_msg_encode_batch(sb_msg *const *msgs, size_t n, size_t *len)
{
    sbuf b = {0};
    grow(&b, 64 + n * 384);
    PUT_LIT(&b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT_LIT(&b, ",");
        put_msg(&b, msgs[i]);
    }
    PUT_LIT(&b, "]");
    return finish(&b, len);
}

static cJSON *labels_json(const cJSON *labels)
{
    return labels ? cJSON_Duplicate(labels, true) : cJSON_CreateObject();
}

static cJSON *payload_json(const sb_payload *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "key", p->key ? p->key : "") ||
        !cJSON_AddStringToObject(o, "value", p->value ? p->value : "") ||
        !cJSON_AddStringToObject(o, "metricType", sb_metric_type_name(p->metric_type)) ||
        !cJSON_AddStringToObject(o, "unit", p->unit ? p->unit : "") ||
        !cJSON_AddItemToObject(o, "labels", labels_json(p->labels))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_payloads(cJSON *o, const sb_msg *m)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "payloads");
    for (size_t i = 0; arr && i < m->n_payloads; i++) {
        cJSON *p = payload_json(&m->payloads[i]);
        if (!p)
            return false;
        cJSON_AddItemToArray(arr, p);
    }
    return arr != NULL;
}

cJSON *sb_msg_to_json(const sb_msg *msg)
{
    if (!msg)
        return NULL;
    char ts[SB_TIME_RFC3339_LEN + 8];
    int64_t t = msg->timestamp_ms;
    t = t < SB_MSG_TIME_MIN ? SB_MSG_TIME_MIN : t > SB_MSG_TIME_MAX ? SB_MSG_TIME_MAX : t;
    sb_time_format(t, ts, sizeof(ts));
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "id", msg->id) ||
        !cJSON_AddStringToObject(o, "gatewayId", msg->gateway_id ? msg->gateway_id : "") ||
        !cJSON_AddStringToObject(o, "nodeId", msg->node_id ? msg->node_id : "") ||
        !cJSON_AddStringToObject(o, "sourceId", msg->source_id ? msg->source_id : "") ||
        !cJSON_AddStringToObject(o, "type", sb_msg_type_name(msg->type)) || !add_payloads(o, msg) ||
        !cJSON_AddItemToObject(o, "labels", labels_json(msg->labels)) ||
        !cJSON_AddBoolToObject(o, "isAck", msg->is_ack) ||
        !cJSON_AddBoolToObject(o, "isReceived", msg->is_received) ||
        !cJSON_AddBoolToObject(o, "isSleepNode", msg->is_sleep_node) ||
        !cJSON_AddStringToObject(o, "timestamp", ts)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
