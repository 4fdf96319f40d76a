/*
 * action.c - POST /api/action and GET /api/quickid.
 *
 * An action is {"resource": "<quick id>", "payload": "...", "keyPath": "..."}:
 * - field: a "set" message to the device on <p>/msg/out/<gatewayId> ("toggle" flips a binary
 *   field's current value);
 * - node: an "action" message (reboot, heartbeat_request, refresh, discover, firmware_update);
 * - gateway, task, schedule, handler: enable / disable (store + event) or reload
 *   (<p>/ctl/<service>/reload {"id"}); a gateway also takes discover;
 * - a key path (in "keyPath" or after the quick id's ids) on a non-device entity sets that key
 *   to the payload ("true"/"false" and numbers as JSON values) in the store, with an event.
 * Every action of a request is checked before any is carried out: one bad action fails the
 * request with 400/404 naming it and nothing happens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/time.h"

typedef struct action {
    sb_quickid q;
    char id[4 * SB_QUICKID_PART_MAX]; /* the store id: "gw1.12.1.V_TEMP", "<task id>" */
    const char *payload;
    cJSON *doc; /* the entity as stored (owned) */
} action;

static const char *const node_actions[] = {"reboot", "heartbeat_request", "refresh", "discover",
                                           "firmware_update"};

static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *service_of(sb_entity_kind k)
{
    switch (k) {
    case SB_KIND_GATEWAY:
        return "gateway";
    case SB_KIND_TASK:
        return "task";
    case SB_KIND_SCHEDULE:
        return "scheduler";
    case SB_KIND_HANDLER:
        return "handler";
    default:
        return NULL;
    }
}

/* Whether the payload is allowed for the kind (without a key path). */
static sb_err check_payload(const action *ac, sb_errmsg *em)
{
    const char *p = ac->payload;
    sb_entity_kind k = ac->q.kind;
    static const char *const control[] = {"enable", "disable", "reload"};
    if (k == SB_KIND_FIELD)
        return SB_OK;
    if (k == SB_KIND_NODE && one_of(p, node_actions, SB_ARRAY_LEN(node_actions)))
        return SB_OK;
    if (k == SB_KIND_GATEWAY && strcmp(p, "discover") == 0)
        return SB_OK;
    if (service_of(k) && one_of(p, control, SB_ARRAY_LEN(control)))
        return SB_OK;
    if (k == SB_KIND_NODE)
        return sb_fail(em, SB_ERR_INVALID,
                       "a node takes reboot, heartbeat_request, refresh, discover or "
                       "firmware_update, not '%.64s'",
                       p);
    if (service_of(k))
        return sb_fail(em, SB_ERR_INVALID, "a %s takes enable, disable or reload%s, not '%.64s'",
                       sb_entity_kind_name(k), k == SB_KIND_GATEWAY ? " or discover" : "", p);
    return sb_fail(em, SB_ERR_INVALID, "a %s takes no actions (give a keyPath to set a key)",
                   sb_entity_kind_name(k));
}

/* Parses and checks one item; loads the entity. */
static sb_err prepare(api *a, const cJSON *item, action *ac, sb_errmsg *em)
{
    const char *res = sb_json_str(item, "resource", NULL);
    ac->payload = sb_json_str(item, "payload", NULL);
    const char *kp = sb_json_str(item, "keyPath", NULL);
    if (!res || !ac->payload)
        return sb_fail(em, SB_ERR_INVALID, "\"resource\" and \"payload\" strings are required");
    sb_err rc = sb_quickid_parse(res, &ac->q, em);
    if (rc != SB_OK)
        return rc;
    if (kp && *kp)
        snprintf(ac->q.key_path, sizeof(ac->q.key_path), "%s", kp);
    ac->id[0] = '\0';
    for (int i = 0; i < ac->q.n_ids; i++)
        snprintf(ac->id + strlen(ac->id), sizeof(ac->id) - strlen(ac->id), "%s%s", i ? "." : "",
                 ac->q.ids[i]);
    if (ac->q.key_path[0] && (ac->q.kind <= SB_KIND_FIELD || ac->q.kind == SB_KIND_USER ||
                              ac->q.kind == SB_KIND_SERVICE_TOKEN))
        return sb_fail(em, SB_ERR_INVALID, "%s: a key path can be set only on config entities",
                       res);
    if (!ac->q.key_path[0] && (rc = check_payload(ac, em)) != SB_OK)
        return rc;
    rc = sb_store_get(a->store, sb_entity_kind_name(ac->q.kind), ac->id, &ac->doc, em);
    if (rc == SB_ERR_NOTFOUND)
        return sb_fail(em, rc, "%s does not exist", res);
    return rc;
}

static sb_err publish_msg(api *a, sb_msg *m, sb_errmsg *em)
{
    char topic[512];
    size_t len = 0;
    char *text = sb_msg_encode(m, &len);
    sb_err rc = text ? sb_bus_topic(a->bus, topic, sizeof(topic), "msg/out/%s", m->gateway_id)
                     : SB_ERR_NOMEM;
    if (rc == SB_OK)
        rc = sb_bus_publish(a->bus, topic, text, len, 1, false);
    free(text);
    sb_msg_free(m);
    return rc == SB_OK ? SB_OK : sb_fail(em, rc, "msg/out: %s", sb_strerror(rc));
}

/* "toggle" on a binary field: the opposite of its current value. */
static const char *field_value(const action *ac)
{
    if (strcmp(ac->payload, "toggle") != 0)
        return ac->payload;
    char cur[64] = "";
    const cJSON *v = sb_json_path(ac->doc, "current.value");
    if (v)
        sb_json_scalar_text(v, cur, sizeof(cur));
    bool on = strcmp(cur, "1") == 0 || strcmp(cur, "true") == 0 || strcmp(cur, "on") == 0;
    return on ? "0" : "1";
}

static sb_err do_device(api *a, const action *ac, sb_errmsg *em)
{
    const sb_quickid *q = &ac->q;
    bool field = q->kind == SB_KIND_FIELD;
    sb_msg *m = sb_msg_new(q->ids[0], q->n_ids > 1 ? q->ids[1] : "", q->n_ids > 2 ? q->ids[2] : "",
                           field ? SB_MSG_SET : SB_MSG_ACTION);
    if (!m)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_metric_type mt = SB_METRIC_NONE;
    if (field)
        sb_metric_type_parse(sb_json_str(ac->doc, "metricType", "none"), &mt);
    const char *key = field ? q->ids[3] : ac->payload;
    if (!sb_msg_add_payload(m, key, field ? field_value(ac) : "", mt, NULL)) {
        sb_msg_free(m);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    return publish_msg(a, m, em);
}

/* Sets dotted path in doc to the payload (true/false/numbers as JSON). */
static bool set_path(cJSON *doc, const char *path, const char *payload)
{
    char buf[SB_QUICKID_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *o = doc;
    char *seg = buf, *dot;
    while ((dot = strchr(seg, '.'))) {
        *dot = '\0';
        cJSON *next = cJSON_GetObjectItemCaseSensitive(o, seg);
        if (!cJSON_IsObject(next)) {
            next = cJSON_CreateObject();
            if (!sb_json_set(o, seg, next))
                return false;
        }
        o = next;
        seg = dot + 1;
    }
    cJSON *v = NULL;
    char *end = NULL;
    double num = strtod(payload, &end);
    if (strcmp(payload, "true") == 0 || strcmp(payload, "false") == 0)
        v = cJSON_CreateBool(payload[0] == 't');
    else if (*payload && end && !*end)
        v = cJSON_CreateNumber(num);
    else
        v = cJSON_CreateString(payload);
    return sb_json_set(o, seg, v);
}

static sb_err store_update(api *a, action *ac, sb_errmsg *em)
{
    /* Read again: an earlier action of the same request may have changed the entity. */
    cJSON *fresh = NULL;
    sb_err rc = sb_store_get(a->store, sb_entity_kind_name(ac->q.kind), ac->id, &fresh, em);
    if (rc != SB_OK)
        return rc;
    cJSON_Delete(ac->doc);
    ac->doc = fresh;
    bool ok = ac->q.key_path[0] ? set_path(ac->doc, ac->q.key_path, ac->payload)
                                : sb_json_set_bool(ac->doc, "enabled", ac->payload[0] == 'e');
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    if (!ok || !sb_json_set_str(ac->doc, "modifiedOn", now))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (api_kind_has_secrets(ac->q.kind) && (rc = sb_secret_seal_doc(&a->seal, ac->doc, NULL, em)))
        return rc; /* a secret set by key path is sealed like a posted one */
    rc = sb_store_put(a->store, sb_entity_kind_name(ac->q.kind), ac->doc, em);
    if (rc == SB_OK)
        api_event(a, "updated", ac->q.kind, ac->doc);
    return rc;
}

static sb_err reload(api *a, const action *ac, sb_errmsg *em)
{
    char topic[256], body[256];
    sb_err rc = sb_bus_topic(a->bus, topic, sizeof(topic), "ctl/%s/reload", service_of(ac->q.kind));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", ac->id);
    bool printed = cJSON_PrintPreallocated(o, body, sizeof(body), false);
    cJSON_Delete(o);
    if (rc == SB_OK)
        rc = printed ? sb_bus_publish(a->bus, topic, body, strlen(body), 1, false) : SB_ERR_NOMEM;
    return rc == SB_OK ? SB_OK : sb_fail(em, rc, "%s: %s", topic, sb_strerror(rc));
}

static sb_err perform(api *a, action *ac, sb_errmsg *em)
{
    if (ac->q.key_path[0])
        return store_update(a, ac, em);
    if (ac->q.kind == SB_KIND_FIELD || ac->q.kind == SB_KIND_NODE)
        return do_device(a, ac, em);
    if (strcmp(ac->payload, "reload") == 0)
        return reload(a, ac, em);
    if (strcmp(ac->payload, "discover") == 0) {
        sb_msg *m = sb_msg_new(ac->q.ids[0], "", "", SB_MSG_ACTION);
        if (!m || !sb_msg_add_payload(m, "discover", "", SB_METRIC_NONE, NULL)) {
            sb_msg_free(m);
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        }
        return publish_msg(a, m, em);
    }
    return store_update(a, ac, em);
}

static void free_actions(action *acs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(acs[i].doc);
    free(acs);
}

void api_action(api *a, api_req *rq, api_resp *rs)
{
    cJSON *body = NULL;
    sb_errmsg em = {{0}};
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &body, &em) != SB_OK ||
        !cJSON_IsArray(body) || cJSON_GetArraySize(body) == 0) {
        api_error(rs, 400, "bad request", "the body must be a non-empty JSON array of actions");
        cJSON_Delete(body);
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(body), i = 0;
    action *acs = calloc(n, sizeof(*acs));
    sb_err rc = acs ? SB_OK : SB_ERR_NOMEM;
    for (const cJSON *it = body->child; rc == SB_OK && it; it = it->next, i++)
        if ((rc = prepare(a, it, &acs[i], &em)) != SB_OK)
            api_errorf(rs, api_status_of(rc), "bad action", "action %zu: %s", i,
                       sb_errmsg_str(&em, rc));
    for (i = 0; rc == SB_OK && i < n; i++)
        if ((rc = perform(a, &acs[i], &em)) != SB_OK)
            api_errorf(rs, api_status_of(rc), "action failed", "action %zu: %s", i,
                       sb_errmsg_str(&em, rc));
    if (rc == SB_OK) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "done", (double)n);
        api_reply(rs, 200, o);
    } else if (!rs->body) {
        api_error(rs, 500, "out of memory", NULL);
    }
    free_actions(acs, acs ? n : 0);
    cJSON_Delete(body);
}

/* GET /api/quickid?id=<quick id>: the entity, or with a key path the value there. */
void api_quickid(api *a, api_req *rq, api_resp *rs)
{
    const char *text = api_params_get(&rq->params, "id");
    sb_errmsg em = {{0}};
    action ac;
    memset(&ac, 0, sizeof(ac));
    sb_err rc = text ? sb_quickid_parse(text, &ac.q, &em) : SB_ERR_INVALID;
    if (rc != SB_OK) {
        api_error(rs, 400, "bad quick id", text ? sb_errmsg_str(&em, rc) : "the id parameter");
        return;
    }
    for (int i = 0; i < ac.q.n_ids; i++)
        snprintf(ac.id + strlen(ac.id), sizeof(ac.id) - strlen(ac.id), "%s%s", i ? "." : "",
                 ac.q.ids[i]);
    rc = sb_store_get(a->store, sb_entity_kind_name(ac.q.kind), ac.id, &ac.doc, &em);
    if (rc != SB_OK) {
        api_errorf(rs, api_status_of(rc), rc == SB_ERR_NOTFOUND ? "not found" : "store", "%s: %s",
                   text, sb_errmsg_str(&em, rc));
        return;
    }
    api_entity_redact(ac.q.kind, ac.doc);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "quickId", text);
    cJSON_AddStringToObject(o, "entityType", sb_entity_kind_name(ac.q.kind));
    cJSON_AddStringToObject(o, "entityId", ac.id);
    if (ac.q.key_path[0]) {
        const cJSON *v = sb_json_path(ac.doc, ac.q.key_path);
        cJSON_AddStringToObject(o, "keyPath", ac.q.key_path);
        cJSON_AddItemToObject(o, "value", v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
        cJSON_Delete(ac.doc);
    } else {
        cJSON_AddItemToObject(o, "entity", ac.doc);
    }
    api_reply(rs, 200, o);
}

/*
 * <p>/ctl/api/action: the body of POST /api/action over the bus, so that services without HTTP
 * (the resource handler) change config entities through their single writer. The reply (MQTT v5
 * request/reply) is the response body with "status", the HTTP status it would have had. Only
 * short store reads and writes happen here, as in any bus handler.
 */
static void on_ctl_action(void *ctx, const sb_bus_msg *bm)
{
    api *a = ctx;
    api_req rq;
    api_resp rs;
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.method = API_POST;
    snprintf(rq.path, sizeof(rq.path), "%s", "/api/action");
    rq.body = strndup(bm->payload, bm->len);
    rq.body_len = rq.body ? bm->len : 0;
    api_action(a, &rq, &rs);
    cJSON *reply = NULL;
    if (!rs.body || sb_json_parse(rs.body, rs.len, &reply, NULL) != SB_OK ||
        !cJSON_IsObject(reply)) {
        cJSON_Delete(reply);
        reply = cJSON_CreateObject();
    }
    if (rs.status >= 400)
        sb_warn(&a->log, "%s: %s", bm->topic, rs.body ? rs.body : "failed");
    char *text = reply && sb_json_set_num(reply, "status", rs.status) ? sb_json_print(reply) : NULL;
    if (text && bm->response_topic)
        sb_bus_reply(a->bus, bm, text, strlen(text));
    free(text);
    cJSON_Delete(reply);
    free(rs.body);
    free(rq.body);
}

sb_err api_action_subscribe(api *a, sb_errmsg *em)
{
    char topic[256];
    sb_err rc = sb_bus_topic(a->bus, topic, sizeof(topic), "ctl/api/action");
    return rc ? rc : sb_bus_subscribe(a->bus, topic, 1, on_ctl_action, a, em);
}
