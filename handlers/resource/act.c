/* act.c - the resource handler's actions (resource.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"
#include "core/quickid.h"
#include "handlers/resource/resource.h"
#include "storage/store.h"

static const char *const node_actions[] = {"reboot", "heartbeat_request", "refresh", "discover",
                                           NULL};

static bool listed(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static sb_err publish(const sb_handler_host *host, sb_msg *m, sb_errmsg *em)
{
    char topic[512];
    size_t len = 0;
    char *text = sb_msg_encode(m, &len);
    sb_err rc = text ? sb_bus_topic(host->bus, topic, sizeof(topic), "msg/out/%s", m->gateway_id)
                     : SB_ERR_NOMEM;
    if (rc == SB_OK)
        rc = sb_bus_publish(host->bus, topic, text, len, 1, false);
    free(text);
    sb_msg_free(m);
    return rc == SB_OK ? SB_OK : sb_fail(em, rc, "msg/out: %s", sb_strerror(rc));
}

/* "toggle": the opposite of a binary field's current value. */
static const char *field_value(const cJSON *field, const char *payload)
{
    if (strcmp(payload, "toggle") != 0)
        return payload;
    char cur[64] = "";
    const cJSON *v = sb_json_path(field, "current.value");
    if (v)
        sb_json_scalar_text(v, cur, sizeof(cur));
    bool on = !strcmp(cur, "1") || !strcmp(cur, "true") || !strcmp(cur, "on");
    return on ? "0" : "1";
}

/* A set message for one stored field document. */
static sb_err set_field(const sb_handler_host *host, const cJSON *field, const char *payload,
                        sb_errmsg *em)
{
    const char *gw = sb_json_str(field, "gatewayId", NULL),
               *key = sb_json_str(field, "fieldId", NULL);
    if (!gw || !key)
        return sb_fail(em, SB_ERR_INVALID, "field '%s' has no gatewayId/fieldId",
                       sb_json_str(field, "id", "?"));
    sb_metric_type mt = SB_METRIC_NONE;
    sb_metric_type_parse(sb_json_str(field, "metricType", "none"), &mt);
    sb_msg *m = sb_msg_new(gw, sb_json_str(field, "nodeId", ""), sb_json_str(field, "sourceId", ""),
                           SB_MSG_SET);
    if (!m || !sb_msg_add_payload(m, key, field_value(field, payload), mt, NULL)) {
        sb_msg_free(m);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    return publish(host, m, em);
}

/* Every field carrying all of labels. */
static sb_err set_by_labels(const sb_handler_host *host, const cJSON *labels, const char *payload,
                            sb_errmsg *em)
{
    sb_query q = {0};
    sb_err rc = SB_OK;
    const cJSON *l;
    cJSON_ArrayForEach(l, labels)
    {
        char key[256];
        snprintf(key, sizeof(key), "labels.%s", l->string);
        if (rc == SB_OK)
            rc = sb_query_add(&q, key, SB_OP_EQ, l, em);
    }
    cJSON *found = NULL;
    if (rc == SB_OK)
        rc = sb_store_find(host->store, "field", &q, &found, em);
    sb_query_free(&q);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(found, "data");
    if (rc == SB_OK && cJSON_GetArraySize(data) == 0)
        rc = sb_fail(em, SB_ERR_NOTFOUND, "no field carries the labels");
    const cJSON *f;
    size_t n = 0;
    cJSON_ArrayForEach(f, data)
    {
        if (rc == SB_OK && (rc = set_field(host, f, payload, em)) == SB_OK)
            n++;
    }
    cJSON_Delete(found);
    if (rc == SB_OK)
        sb_fail(em, SB_OK, "set %zu field%s", n, n == 1 ? "" : "s");
    return rc;
}

/* The API's answer to [action]: status 200, or its error. */
static sb_err via_api(const sb_handler_host *host, const cJSON *action, int64_t timeout_ms,
                      sb_errmsg *em)
{
    char topic[256];
    cJSON *body = cJSON_CreateArray();
    char *text = NULL, *reply = NULL;
    size_t reply_len = 0;
    sb_err rc = body && cJSON_AddItemToArray(body, cJSON_Duplicate(action, 1)) &&
                        (text = sb_json_print(body))
                    ? sb_bus_topic(host->bus, topic, sizeof(topic), "ctl/api/action")
                    : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (rc == SB_OK)
        rc = sb_bus_request(host->bus, topic, text, strlen(text), timeout_ms, &reply, &reply_len,
                            em);
    if (rc == SB_ERR_TIMEOUT)
        sb_fail(em, rc, "the API did not answer on %s in time", topic);
    cJSON *ans = NULL;
    if (rc == SB_OK && sb_json_parse(reply, reply_len, &ans, NULL) != SB_OK)
        rc = sb_fail(em, SB_ERR_REMOTE, "the API answered with malformed JSON");
    int status = (int)sb_json_num(ans, "status", 0);
    if (rc == SB_OK && status != 200)
        rc = sb_fail(em, status >= 400 && status < 500 ? SB_ERR_INVALID : SB_ERR_REMOTE,
                     "the API refused it (%d): %.200s", status,
                     sb_json_str(ans, "detail", sb_json_str(ans, "error", "")));
    cJSON_Delete(ans);
    cJSON_Delete(body);
    free(text);
    free(reply);
    return rc;
}

sb_err rs_act(const sb_handler_host *host, const cJSON *action, int64_t api_timeout_ms,
              sb_errmsg *em)
{
    const char *res = sb_json_str(action, "resource", ""),
               *payload = sb_json_str(action, "payload", "");
    const char *kp = sb_json_str(action, "keyPath", "");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(action, "labels");
    if (!*res && cJSON_GetArraySize(labels) > 0)
        return set_by_labels(host, labels, payload, em);
    sb_quickid q;
    sb_err rc = sb_quickid_parse(res, &q, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, SB_ERR_INVALID, "resource");
    if (q.kind == SB_KIND_FIELD && !*kp && !q.key_path[0]) {
        char id[4 * SB_QUICKID_PART_MAX];
        snprintf(id, sizeof(id), "%s.%s.%s.%s", q.ids[0], q.ids[1], q.ids[2], q.ids[3]);
        cJSON *doc = NULL;
        rc = sb_store_get(host->store, "field", id, &doc, em);
        if (rc == SB_ERR_NOTFOUND)
            rc = sb_fail(em, rc, "%s does not exist", res);
        if (rc == SB_OK)
            rc = set_field(host, doc, payload, em);
        cJSON_Delete(doc);
        if (rc == SB_OK)
            sb_fail(em, SB_OK, "set %s to %s", res, payload);
        return rc;
    }
    if (q.kind == SB_KIND_NODE && !*kp && !q.key_path[0]) {
        if (!listed(payload, node_actions))
            return sb_fail(em, SB_ERR_INVALID,
                           "a node takes reboot, heartbeat_request, refresh or discover, not "
                           "'%.64s'",
                           payload);
        sb_msg *m = sb_msg_new(q.ids[0], q.ids[1], "", SB_MSG_ACTION);
        if (!m || !sb_msg_add_payload(m, payload, "", SB_METRIC_NONE, NULL)) {
            sb_msg_free(m);
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        }
        if ((rc = publish(host, m, em)) == SB_OK)
            sb_fail(em, SB_OK, "%s on %s", payload, res);
        return rc;
    }
    if ((rc = via_api(host, action, api_timeout_ms, em)) == SB_OK)
        sb_fail(em, SB_OK, "%s %s%s%s", payload, res, *kp ? "." : "", kp);
    return rc;
}
