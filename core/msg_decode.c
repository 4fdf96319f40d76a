/*
 * msg_decode.c - JSON -> message, strict and safe for outside input.
 *
 * A frame is parsed once with cJSON; the decoder then walks each object's members a single time
 * (a repeated key: the last one wins, as in Go's encoding/json and JavaScript) and, when it owns
 * the parse tree, steals the strings and label objects instead of copying them. cJSON allocates
 * with malloc (no hooks are installed anywhere in Switchboard), so stolen strings are freed by
 * sb_msg_free() like any other. Unknown keys are ignored (MyController sends "isAckEnabled",
 * payload "others"); known keys of the wrong type, unknown enum words and limits fail, naming
 * the key. Cross-field rules and limits are checked by sb_msg_validate() at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"
#include "core/msg_internal.h"
#include "core/time.h"
#include "core/uuid.h"

/* The article and name of a JSON value's type, for messages: "an object". */
static const char *jtype(const cJSON *it)
{
    if (cJSON_IsString(it))
        return "a string";
    if (cJSON_IsNumber(it))
        return "a number";
    if (cJSON_IsBool(it))
        return "a bool";
    if (cJSON_IsNull(it))
        return "null";
    if (cJSON_IsArray(it))
        return "an array";
    if (cJSON_IsObject(it))
        return "an object";
    return "an invalid value";
}

/* Absent and null optional members are the same thing. */
static bool absent(const cJSON *it)
{
    return !it || cJSON_IsNull(it);
}

/* Takes a string member's text: stolen from the tree when allowed, copied otherwise. */
static char *take_str(cJSON *it, bool steal)
{
    if (!steal)
        return strdup(it->valuestring);
    char *s = it->valuestring;
    it->valuestring = NULL;
    return s;
}

/* The members of one object that the decoder knows, each the last occurrence of its key. */
enum { K_ID, K_GW, K_NODE, K_SRC, K_TYPE, K_PAYLOADS, K_LABELS, K_ACK, K_RECV, K_SLEEP, K_TS, K_N };
enum { P_KEY, P_VALUE, P_METRIC, P_UNIT, P_LABELS, P_N };

static const char *const msg_keys[K_N] = {
    "id",     "gatewayId", "nodeId",     "sourceId",    "type",      "payloads",
    "labels", "isAck",     "isReceived", "isSleepNode", "timestamp",
};
static const char *const payload_keys[P_N] = {"key", "value", "metricType", "unit", "labels"};

static void gather(const cJSON *obj, const char *const *keys, int n, cJSON **slots)
{
    for (int i = 0; i < n; i++)
        slots[i] = NULL;
    for (cJSON *it = obj->child; it; it = it->next) {
        if (!it->string)
            continue;
        for (int i = 0; i < n; i++) {
            if (it->string[0] == keys[i][0] && strcmp(it->string, keys[i]) == 0) {
                slots[i] = it;
                break;
            }
        }
    }
}

/* Optional string member: NULL out when absent, null or "" (when empty_is_null). */
static sb_err opt_str(cJSON *it, bool steal, const char *key, bool empty_is_null, char **out,
                      sb_errmsg *em)
{
    *out = NULL;
    if (absent(it))
        return SB_OK;
    if (!cJSON_IsString(it))
        return sb_fail(em, SB_ERR_INVALID, "key '%s': expected a string, got %s", key, jtype(it));
    if (empty_is_null && it->valuestring[0] == '\0')
        return SB_OK;
    *out = take_str(it, steal);
    return *out ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

static sb_err opt_bool(const cJSON *it, const char *key, bool *out, sb_errmsg *em)
{
    if (absent(it))
        return SB_OK;
    if (!cJSON_IsBool(it))
        return sb_fail(em, SB_ERR_INVALID, "key '%s': expected a bool, got %s", key, jtype(it));
    *out = cJSON_IsTrue(it);
    return SB_OK;
}

/* Turns a scalar label value into a string in place; false for other types. */
static bool label_to_string(cJSON *it)
{
    if (cJSON_IsString(it))
        return true;
    char text[64];
    if (!(cJSON_IsNumber(it) || cJSON_IsBool(it)) || !sb_json_scalar_text(it, text, sizeof(text)))
        return false;
    char *s = strdup(text);
    if (!s)
        return false;
    it->type = cJSON_String;
    it->valuestring = s;
    return true;
}

/*
 * A label map member of parent: NULL out when absent, null or empty; otherwise an object of
 * strings (numbers and bools turned to text), detached from the tree or copied.
 */
static sb_err take_labels(cJSON *parent, cJSON *it, bool steal, const char *where, cJSON **out,
                          sb_errmsg *em)
{
    *out = NULL;
    if (absent(it))
        return SB_OK;
    if (!cJSON_IsObject(it))
        return sb_fail(em, SB_ERR_INVALID, "key '%s': expected an object, got %s", where,
                       jtype(it));
    if (!it->child)
        return SB_OK;
    size_t n = 0;
    for (const cJSON *c = it->child; c; c = c->next)
        if (++n > SB_MSG_LABELS_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "key '%s': more than %d labels (SB_MSG_LABELS_MAX)", where,
                           SB_MSG_LABELS_MAX);
    cJSON *labels = steal ? cJSON_DetachItemViaPointer(parent, it) : cJSON_Duplicate(it, true);
    if (!labels)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    for (cJSON *c = labels->child; c; c = c->next) {
        if (!label_to_string(c)) {
            sb_err err = sb_fail(em, SB_ERR_INVALID,
                                 "key '%s.%s': expected a string, number or bool, got %s", where,
                                 c->string, jtype(c));
            cJSON_Delete(labels);
            return err;
        }
    }
    sb_msg_labels_repeated(labels, true); /* the last occurrence wins */
    *out = labels;
    return SB_OK;
}

static sb_err take_value(cJSON *it, bool steal, const char *where, char **out, sb_errmsg *em)
{
    char text[64];
    if (cJSON_IsString(it)) {
        *out = take_str(it, steal);
    } else if (absent(it)) {
        *out = strdup("");
    } else if ((cJSON_IsNumber(it) || cJSON_IsBool(it)) &&
               sb_json_scalar_text(it, text, sizeof(text))) {
        *out = strdup(text);
    } else {
        return sb_fail(em, SB_ERR_INVALID, "key '%s': expected a string, number or bool, got %s",
                       where, jtype(it));
    }
    return *out ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
}

static sb_err decode_payload(cJSON *obj, bool steal, size_t i, sb_payload *p, sb_errmsg *em)
{
    char where[48];
    if (!cJSON_IsObject(obj))
        return sb_fail(em, SB_ERR_INVALID, "key 'payloads[%zu]': expected an object, got %s", i,
                       jtype(obj));
    cJSON *k[P_N];
    gather(obj, payload_keys, P_N, k);
    snprintf(where, sizeof(where), "payloads[%zu].key", i);
    if (!cJSON_IsString(k[P_KEY]))
        return sb_fail(em, SB_ERR_INVALID, "key '%s': %s", where,
                       k[P_KEY] ? "expected a string" : "is missing");
    if (!(p->key = take_str(k[P_KEY], steal)))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    snprintf(where, sizeof(where), "payloads[%zu].value", i);
    sb_err err = take_value(k[P_VALUE], steal, where, &p->value, em);
    if (err)
        return err;
    snprintf(where, sizeof(where), "payloads[%zu].metricType", i);
    char *mt = NULL;
    if ((err = opt_str(k[P_METRIC], false, where, true, &mt, em)))
        return err;
    err = mt && sb_metric_type_parse(mt, &p->metric_type)
              ? sb_fail(em, SB_ERR_INVALID,
                        "key '%s': unknown metric type '%.64s' (expected none, string, binary, "
                        "gauge, gauge_float, counter or geo)",
                        where, mt)
              : SB_OK;
    free(mt);
    if (err)
        return err;
    snprintf(where, sizeof(where), "payloads[%zu].unit", i);
    if ((err = opt_str(k[P_UNIT], steal, where, true, &p->unit, em)))
        return err;
    snprintf(where, sizeof(where), "payloads[%zu].labels", i);
    return take_labels(obj, k[P_LABELS], steal, where, &p->labels, em);
}

static sb_err decode_payloads(cJSON *arr, bool steal, sb_msg *m, sb_errmsg *em)
{
    if (absent(arr))
        return SB_OK;
    if (!cJSON_IsArray(arr))
        return sb_fail(em, SB_ERR_INVALID, "key 'payloads': expected an array, got %s", jtype(arr));
    size_t n = 0;
    for (const cJSON *it = arr->child; it; it = it->next)
        if (++n > SB_MSG_PAYLOADS_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "key 'payloads': more than %d payloads (SB_MSG_PAYLOADS_MAX)",
                           SB_MSG_PAYLOADS_MAX);
    if (n && !(m->payloads = sb_msg_payloads_alloc(n)))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++) {
        m->n_payloads = i + 1; /* so sb_msg_free releases a half-built payload */
        sb_err err = decode_payload(it, steal, i, &m->payloads[i], em);
        if (err)
            return err;
    }
    return SB_OK;
}

static sb_err decode_id(const cJSON *it, sb_msg *m, sb_errmsg *em)
{
    if (absent(it) || (cJSON_IsString(it) && it->valuestring[0] == '\0')) {
        sb_uuid(m->id);
        return SB_OK;
    }
    if (!cJSON_IsString(it))
        return sb_fail(em, SB_ERR_INVALID, "key 'id': expected a string, got %s", jtype(it));
    size_t n = strlen(it->valuestring);
    if (n >= sizeof(m->id))
        return sb_fail(em, SB_ERR_TOO_LARGE, "key 'id': %zu bytes, over the limit of %zu", n,
                       sizeof(m->id) - 1);
    memcpy(m->id, it->valuestring, n + 1);
    return SB_OK;
}

static sb_err decode_type(const cJSON *it, sb_msg *m, sb_errmsg *em)
{
    if (!cJSON_IsString(it))
        return sb_fail(em, SB_ERR_INVALID, "key 'type': %s",
                       it ? "expected a string" : "is missing");
    if (sb_msg_type_parse(it->valuestring, &m->type))
        return sb_fail(em, SB_ERR_INVALID,
                       "key 'type': unknown message type '%.64s' (expected set, request, "
                       "presentation or action)",
                       it->valuestring);
    return SB_OK;
}

static sb_err decode_timestamp(const cJSON *it, sb_msg *m, sb_errmsg *em)
{
    if (absent(it)) {
        m->timestamp_ms = sb_time_now_ms();
        return SB_OK;
    }
    if (!cJSON_IsString(it))
        return sb_fail(em, SB_ERR_INVALID, "key 'timestamp': expected a string, got %s", jtype(it));
    if (sb_time_parse(it->valuestring, &m->timestamp_ms) || m->timestamp_ms < SB_MSG_TIME_MIN ||
        m->timestamp_ms > SB_MSG_TIME_MAX)
        return sb_fail(em, SB_ERR_INVALID, "key 'timestamp': '%.64s' is not an RFC 3339 time",
                       it->valuestring);
    return SB_OK;
}

static sb_err decode_fields(cJSON *obj, cJSON **k, bool steal, sb_msg *m, sb_errmsg *em)
{
    sb_err err;
    if (!cJSON_IsString(k[K_GW]))
        return sb_fail(em, SB_ERR_INVALID, "key 'gatewayId': %s",
                       k[K_GW] ? "expected a string" : "is missing");
    if (!(m->gateway_id = take_str(k[K_GW], steal)))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if ((err = decode_id(k[K_ID], m, em)) || (err = decode_type(k[K_TYPE], m, em)) ||
        (err = opt_str(k[K_NODE], steal, "nodeId", false, &m->node_id, em)) ||
        (err = opt_str(k[K_SRC], steal, "sourceId", false, &m->source_id, em)) ||
        (err = opt_bool(k[K_ACK], "isAck", &m->is_ack, em)) ||
        (err = opt_bool(k[K_RECV], "isReceived", &m->is_received, em)) ||
        (err = opt_bool(k[K_SLEEP], "isSleepNode", &m->is_sleep_node, em)) ||
        (err = decode_timestamp(k[K_TS], m, em)))
        return err;
    if (m->type == SB_MSG_SET && absent(k[K_PAYLOADS]))
        return sb_fail(em, SB_ERR_INVALID, "key 'payloads' is missing (a set message needs it)");
    if ((err = decode_payloads(k[K_PAYLOADS], steal, m, em)) ||
        (err = take_labels(obj, k[K_LABELS], steal, "labels", &m->labels, em)))
        return err;
    if ((!m->node_id && !(m->node_id = strdup(""))) ||
        (!m->source_id && !(m->source_id = strdup(""))))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    return sb_msg_validate(m, em);
}

/* Decodes one message object; steal: obj's tree may be plundered (it is deleted afterwards). */
static sb_err decode_obj(cJSON *obj, bool steal, sb_msg **out, sb_errmsg *em)
{
    *out = NULL;
    if (!cJSON_IsObject(obj))
        return sb_fail(em, SB_ERR_INVALID, "expected a message object, got %s", jtype(obj));
    cJSON *k[K_N];
    gather(obj, msg_keys, K_N, k);
    sb_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err err = decode_fields(obj, k, steal, m, em);
    if (err) {
        sb_msg_free(m);
        return err;
    }
    *out = m;
    return SB_OK;
}

sb_err sb_msg_from_json(const cJSON *obj, sb_msg **out, sb_errmsg *em)
{
    /* Never steals: the caller keeps obj intact. */
    return decode_obj((cJSON *)obj, false, out, em);
}

static sb_err parse_frame(const char *data, size_t len, cJSON **root, sb_errmsg *em)
{
    *root = NULL;
    if (len > SB_MSG_FRAME_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE,
                       "frame of %zu bytes, over the limit of %u (SB_MSG_FRAME_MAX)", len,
                       SB_MSG_FRAME_MAX);
    return sb_json_parse(data, len, root, em);
}

sb_err sb_msg_decode(const char *data, size_t len, sb_msg **out, sb_errmsg *em)
{
    cJSON *root;
    *out = NULL;
    sb_err err = parse_frame(data, len, &root, em);
    if (err)
        return err;
    err = decode_obj(root, true, out, em);
    cJSON_Delete(root);
    return err;
}

static sb_err decode_items(cJSON *arr, sb_msg_batch *out, sb_errmsg *em)
{
    size_t n = 0;
    for (const cJSON *it = arr->child; it; it = it->next)
        if (++n > SB_MSG_BATCH_MAX)
            return sb_fail(em, SB_ERR_TOO_LARGE,
                           "batch of more than %d messages (SB_MSG_BATCH_MAX)", SB_MSG_BATCH_MAX);
    if (n == 0)
        return sb_fail(em, SB_ERR_INVALID, "empty batch: the array holds no message");
    if (!(out->msgs = calloc(n, sizeof(*out->msgs))))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++) {
        sb_errmsg item_em = {{0}};
        sb_err err = decode_obj(it, true, &out->msgs[out->n], &item_em);
        if (err == SB_ERR_NOMEM)
            return sb_fail(em, err, "out of memory");
        if (err) {
            if (out->rejected++ == 0)
                sb_fail(em, err, "item %zu: %s", i, sb_errmsg_str(&item_em, err));
            continue;
        }
        out->n++;
    }
    return SB_OK;
}

sb_err sb_msg_decode_batch(const char *data, size_t len, sb_msg_batch *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    cJSON *root;
    sb_err err = parse_frame(data, len, &root, em);
    if (err)
        return err;
    if (cJSON_IsArray(root)) {
        err = decode_items(root, out, em);
    } else if (!(out->msgs = calloc(1, sizeof(*out->msgs)))) {
        err = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    } else if ((err = decode_obj(root, true, &out->msgs[0], em)) == SB_OK) {
        out->n = 1;
    }
    cJSON_Delete(root);
    if (err)
        sb_msg_batch_free(out);
    return err;
}

void sb_msg_batch_free(sb_msg_batch *batch)
{
    if (!batch)
        return;
    for (size_t i = 0; i < batch->n; i++)
        sb_msg_free(batch->msgs[i]);
    free(batch->msgs);
    memset(batch, 0, sizeof(*batch));
}
