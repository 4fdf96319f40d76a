/*
 * msg.c - the message structure: construction, copy, invariants, equality and the names of
 * message and metric types. JSON text lives in msg_encode.c and msg_decode.c.
 *
 * Ownership: an sb_msg owns every string, its payload array and its label objects; all of it is
 * released by sb_msg_free(). The payload array's capacity is implicit (the next power of two of
 * n_payloads), so sb_msg_add_payload() can grow it without a capacity member.
 */
#include "core/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg_internal.h"
#include "core/time.h"
#include "core/uuid.h"

static const char *const type_names[] = {
    [SB_MSG_SET] = "set",
    [SB_MSG_REQUEST] = "request",
    [SB_MSG_PRESENTATION] = "presentation",
    [SB_MSG_ACTION] = "action",
};

static const char *const metric_names[] = {
    [SB_METRIC_NONE] = "none",
    [SB_METRIC_STRING] = "string",
    [SB_METRIC_BINARY] = "binary",
    [SB_METRIC_GAUGE] = "gauge",
    [SB_METRIC_GAUGE_FLOAT] = "gauge_float",
    [SB_METRIC_COUNTER] = "counter",
    [SB_METRIC_GEO] = "geo",
};

const char *sb_msg_type_name(sb_msg_type type)
{
    if ((unsigned)type >= SB_ARRAY_LEN(type_names))
        return "unknown";
    return type_names[type];
}

sb_err sb_msg_type_parse(const char *name, sb_msg_type *out)
{
    for (size_t i = 0; name && i < SB_ARRAY_LEN(type_names); i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (sb_msg_type)i;
            return SB_OK;
        }
    }
    return SB_ERR_INVALID;
}

const char *sb_metric_type_name(sb_metric_type type)
{
    if ((unsigned)type >= SB_ARRAY_LEN(metric_names))
        return "unknown";
    return metric_names[type];
}

sb_err sb_metric_type_parse(const char *name, sb_metric_type *out)
{
    for (size_t i = 0; name && i < SB_ARRAY_LEN(metric_names); i++) {
        if (strcmp(name, metric_names[i]) == 0) {
            *out = (sb_metric_type)i;
            return SB_OK;
        }
    }
    return SB_ERR_INVALID;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

sb_msg *sb_msg_new(const char *gateway_id, const char *node_id, const char *source_id,
                   sb_msg_type type)
{
    sb_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    sb_uuid(m->id);
    m->gateway_id = dup_or_empty(gateway_id);
    m->node_id = dup_or_empty(node_id);
    m->source_id = dup_or_empty(source_id);
    m->type = type;
    m->timestamp_ms = sb_time_now_ms();
    if (!m->gateway_id || !m->node_id || !m->source_id) {
        sb_msg_free(m);
        return NULL;
    }
    return m;
}

/* The capacity behind n payloads: 0, or the next power of two >= n. */
static size_t payload_cap(size_t n)
{
    size_t cap = 1;
    while (cap < n)
        cap <<= 1;
    return n ? cap : 0;
}

sb_payload *sb_msg_payloads_alloc(size_t n)
{
    return n ? calloc(payload_cap(n), sizeof(sb_payload)) : NULL;
}

sb_payload *sb_msg_add_payload(sb_msg *msg, const char *key, const char *value,
                               sb_metric_type metric_type, const char *unit)
{
    if (!msg || !key)
        return NULL;
    size_t n = msg->n_payloads;
    if (payload_cap(n) == n) {
        sb_payload *p = realloc(msg->payloads, (n ? n * 2 : 1) * sizeof(*p));
        if (!p)
            return NULL;
        msg->payloads = p;
    }
    sb_payload *p = &msg->payloads[n];
    memset(p, 0, sizeof(*p));
    p->key = strdup(key);
    p->value = dup_or_empty(value);
    p->unit = unit ? strdup(unit) : NULL;
    p->metric_type = metric_type;
    if (!p->key || !p->value || (unit && !p->unit)) {
        sb_payload_clear(p);
        return NULL;
    }
    msg->n_payloads = n + 1;
    return p;
}

void sb_payload_clear(sb_payload *p)
{
    SB_FREE(p->key);
    SB_FREE(p->value);
    SB_FREE(p->unit);
    cJSON_Delete(p->labels);
    p->labels = NULL;
}

void sb_msg_array_free(sb_msg **msgs, size_t n)
{
    for (size_t i = 0; msgs && i < n; i++)
        sb_msg_free(msgs[i]);
    free(msgs);
}

size_t sb_msg_drop_empty(sb_msg **msgs, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i]->n_payloads)
            msgs[k++] = msgs[i];
        else
            sb_msg_free(msgs[i]);
    }
    return k;
}

void sb_msg_free(sb_msg *msg)
{
    if (!msg)
        return;
    for (size_t i = 0; i < msg->n_payloads; i++)
        sb_payload_clear(&msg->payloads[i]);
    free(msg->payloads);
    free(msg->gateway_id);
    free(msg->node_id);
    free(msg->source_id);
    cJSON_Delete(msg->labels);
    free(msg);
}

static int dup_payload(sb_payload *dst, const sb_payload *src)
{
    dst->key = dup_or_empty(src->key);
    dst->value = dup_or_empty(src->value);
    dst->unit = src->unit ? strdup(src->unit) : NULL;
    dst->metric_type = src->metric_type;
    dst->labels = src->labels ? cJSON_Duplicate(src->labels, true) : NULL;
    return dst->key && dst->value && (!src->unit || dst->unit) && (!src->labels || dst->labels);
}

sb_msg *sb_msg_dup(const sb_msg *msg)
{
    if (!msg)
        return NULL;
    sb_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    memcpy(m->id, msg->id, sizeof(m->id));
    m->type = msg->type;
    m->is_ack = msg->is_ack;
    m->is_received = msg->is_received;
    m->is_sleep_node = msg->is_sleep_node;
    m->timestamp_ms = msg->timestamp_ms;
    m->gateway_id = dup_or_empty(msg->gateway_id);
    m->node_id = dup_or_empty(msg->node_id);
    m->source_id = dup_or_empty(msg->source_id);
    m->labels = msg->labels ? cJSON_Duplicate(msg->labels, true) : NULL;
    m->payloads = sb_msg_payloads_alloc(msg->n_payloads);
    if (!m->gateway_id || !m->node_id || !m->source_id || (msg->labels && !m->labels) ||
        (msg->n_payloads && !m->payloads))
        goto fail;
    for (size_t i = 0; i < msg->n_payloads; i++) {
        m->n_payloads = i + 1;
        if (!dup_payload(&m->payloads[i], &msg->payloads[i]))
            goto fail;
    }
    return m;
fail:
    sb_msg_free(m);
    return NULL;
}

typedef struct member {
    cJSON *it;
    size_t pos;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    int c = strcmp(x->it->string, y->it->string);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Finds keys that appear more than once in a label map (at most SB_MSG_LABELS_MAX members, keys
 * not NULL) by sorting (key, position): hostile maps stay O(n log n), not O(n^2). With drop,
 * every occurrence but the last is deleted and NULL returned; otherwise the first repeated key.
 */
const char *sb_msg_labels_repeated(cJSON *labels, bool drop)
{
    member m[SB_MSG_LABELS_MAX];
    size_t n = 0;
    for (cJSON *it = labels->child; it && n < SB_MSG_LABELS_MAX; it = it->next, n++)
        m[n] = (member){it, n};
    if (n < 2)
        return NULL;
    qsort(m, n, sizeof(m[0]), member_cmp);
    for (size_t i = 0; i + 1 < n; i++) {
        if (strcmp(m[i].it->string, m[i + 1].it->string) != 0)
            continue;
        if (!drop)
            return m[i].it->string;
        cJSON_Delete(cJSON_DetachItemViaPointer(labels, m[i].it));
    }
    return NULL;
}

/* Checks one label map: an object of at most SB_MSG_LABELS_MAX distinct, non-empty string keys
 * with string values, within the id and value limits. where names it in messages. */
sb_err sb_msg_check_labels(const cJSON *labels, const char *where, sb_errmsg *em)
{
    if (!labels)
        return SB_OK;
    if (!cJSON_IsObject(labels))
        return sb_fail(em, SB_ERR_INVALID, "%s: expected an object of strings", where);
    size_t n = 0;
    for (const cJSON *it = labels->child; it; it = it->next) {
        if (++n > SB_MSG_LABELS_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE, "%s: more than %d labels (SB_MSG_LABELS_MAX)",
                           where, SB_MSG_LABELS_MAX);
        size_t klen = it->string ? strlen(it->string) : 0;
        if (klen == 0)
            return sb_fail(em, SB_ERR_INVALID, "%s: a label has an empty key", where);
        if (klen > SB_MSG_ID_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "%s: key of %zu bytes, over the limit of %d (SB_MSG_ID_MAX)", where,
                           klen, SB_MSG_ID_MAX);
        if (!cJSON_IsString(it) || !it->valuestring)
            return sb_fail(em, SB_ERR_INVALID, "%s.%s: expected a string", where, it->string);
        size_t vlen = strlen(it->valuestring);
        if (vlen > SB_MSG_VALUE_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "%s.%s: %zu bytes, over the limit of %d (SB_MSG_VALUE_MAX)", where,
                           it->string, vlen, SB_MSG_VALUE_MAX);
    }
    const char *dup = sb_msg_labels_repeated((cJSON *)labels, false);
    if (dup)
        return sb_fail(em, SB_ERR_INVALID, "%s: key '%s' appears twice", where, dup);
    return SB_OK;
}

static sb_err check_id(const char *s, const char *key, bool required, sb_errmsg *em)
{
    size_t n = s ? strlen(s) : 0;
    if (required && n == 0)
        return sb_fail(em, SB_ERR_INVALID, "key '%s' is missing or empty", key);
    if (n > SB_MSG_ID_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE,
                       "key '%s': %zu bytes, over the limit of %d (SB_MSG_ID_MAX)", key, n,
                       SB_MSG_ID_MAX);
    return SB_OK;
}

static sb_err check_payload(const sb_payload *p, size_t i, sb_errmsg *em)
{
    char where[48];
    snprintf(where, sizeof(where), "payloads[%zu].key", i);
    sb_err err = check_id(p->key, where, true, em);
    if (err)
        return err;
    snprintf(where, sizeof(where), "payloads[%zu].unit", i);
    if ((err = check_id(p->unit, where, false, em)))
        return err;
    size_t vlen = p->value ? strlen(p->value) : 0;
    if (!p->value)
        return sb_fail(em, SB_ERR_INVALID, "payloads[%zu].value is NULL", i);
    if (vlen > SB_MSG_VALUE_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE,
                       "payloads[%zu].value: %zu bytes, over the limit of %d (SB_MSG_VALUE_MAX)", i,
                       vlen, SB_MSG_VALUE_MAX);
    if ((unsigned)p->metric_type >= SB_ARRAY_LEN(metric_names))
        return sb_fail(em, SB_ERR_INVALID, "payloads[%zu].metricType: unknown value %d", i,
                       (int)p->metric_type);
    snprintf(where, sizeof(where), "payloads[%zu].labels", i);
    return sb_msg_check_labels(p->labels, where, em);
}

sb_err sb_msg_validate(const sb_msg *msg, sb_errmsg *em)
{
    if (!msg)
        return sb_fail(em, SB_ERR_INVALID, "message is NULL");
    size_t idlen = strnlen(msg->id, sizeof(msg->id));
    if (idlen == 0 || idlen >= sizeof(msg->id))
        return sb_fail(em, SB_ERR_INVALID, "key 'id': must be 1 to %zu bytes", sizeof(msg->id) - 1);
    sb_err err;
    if ((err = check_id(msg->gateway_id, "gatewayId", true, em)) ||
        (err = check_id(msg->node_id, "nodeId", false, em)) ||
        (err = check_id(msg->source_id, "sourceId", false, em)))
        return err;
    if (msg->source_id && msg->source_id[0] && !(msg->node_id && msg->node_id[0]))
        return sb_fail(em, SB_ERR_INVALID, "key 'sourceId' is '%s' but nodeId is empty",
                       msg->source_id);
    if ((unsigned)msg->type >= SB_ARRAY_LEN(type_names))
        return sb_fail(em, SB_ERR_INVALID, "key 'type': unknown value %d", (int)msg->type);
    if (msg->n_payloads > SB_MSG_PAYLOADS_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE,
                       "key 'payloads': %zu payloads, over the limit of %d (SB_MSG_PAYLOADS_MAX)",
                       msg->n_payloads, SB_MSG_PAYLOADS_MAX);
    if (msg->type == SB_MSG_SET && msg->n_payloads == 0)
        return sb_fail(em, SB_ERR_INVALID, "key 'payloads': a set message needs a payload");
    for (size_t i = 0; i < msg->n_payloads; i++)
        if ((err = check_payload(&msg->payloads[i], i, em)))
            return err;
    if ((err = sb_msg_check_labels(msg->labels, "labels", em)))
        return err;
    if (msg->timestamp_ms < SB_MSG_TIME_MIN || msg->timestamp_ms > SB_MSG_TIME_MAX)
        return sb_fail(em, SB_ERR_INVALID, "key 'timestamp': %lld ms is outside years 0000 to 9999",
                       (long long)msg->timestamp_ms);
    return SB_OK;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Label maps are equal when they hold the same keys and values, in any order. */
static bool labels_eq(const cJSON *a, const cJSON *b)
{
    int na = a ? cJSON_GetArraySize(a) : 0, nb = b ? cJSON_GetArraySize(b) : 0;
    if (na != nb)
        return false;
    for (const cJSON *it = a ? a->child : NULL; it; it = it->next) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, it->string);
        if (!o || !cJSON_IsString(it) || !cJSON_IsString(o) ||
            strcmp(it->valuestring, o->valuestring) != 0)
            return false;
    }
    return true;
}

bool sb_msg_equal(const sb_msg *a, const sb_msg *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a->id, b->id) != 0 || !str_eq(a->gateway_id, b->gateway_id) ||
        !str_eq(a->node_id, b->node_id) || !str_eq(a->source_id, b->source_id) ||
        a->type != b->type || a->n_payloads != b->n_payloads || a->is_ack != b->is_ack ||
        a->is_received != b->is_received || a->is_sleep_node != b->is_sleep_node ||
        a->timestamp_ms != b->timestamp_ms || !labels_eq(a->labels, b->labels))
        return false;
    for (size_t i = 0; i < a->n_payloads; i++) {
        const sb_payload *p = &a->payloads[i], *q = &b->payloads[i];
        if (!str_eq(p->key, q->key) || !str_eq(p->value, q->value) ||
            p->metric_type != q->metric_type || !str_eq(p->unit, q->unit) ||
            !labels_eq(p->labels, q->labels))
            return false;
    }
    return true;
}
