/*
 * edit.c - user edits of the device tree, on the worker thread. The API does not write node,
 * source or field records itself: it sends "<p>/ctl/processor/edit" {kind, id, changes} or
 * "<p>/ctl/processor/delete" {kind, ids} and answers its HTTP request from the reply. The
 * worker runs them between two groups of frames, so an edit lands after every frame queued
 * before it and is never overwritten by the in-memory document of a later one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/quickid.h"
#include "core/time.h"
#include "partition.h"
#include "processor.h"

typedef enum { K_STR, K_BOOL, K_OBJ, K_STRMAP } key_type;

/* The keys a user may change; the rest of a record (ids, values, lastSeen, state) is the
 * processor's. Fields also take what MyController's field editor sets. */
typedef struct edit_key {
    const char *key;
    key_type type;
    bool field_only;
} edit_key;

static const edit_key edit_keys[] = {
    {"name", K_STR, false},      {"description", K_STR, false}, {"labels", K_STRMAP, false},
    {"others", K_OBJ, false},    {"enabled", K_BOOL, false},    {"unit", K_STR, true},
    {"metricType", K_STR, true}, {"readOnly", K_BOOL, true},    {"formatter", K_OBJ, true},
};

typedef struct reply {
    int status;
    char error[512];
    cJSON *body; /* the reply object being built */
} reply;

static void fail(reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(reply *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    r->status = status;
}

/* Sends {"status", "error"?, ...body} to the requester (a request without a response topic,
 * e.g. from mosquitto_pub, gets none). */
static void send_reply(proc *p, const qitem *q, reply *r)
{
    cJSON *o = r->body ? r->body : cJSON_CreateObject();
    r->body = NULL;
    if (o) {
        cJSON_AddNumberToObject(o, "status", r->status);
        if (r->error[0])
            cJSON_AddStringToObject(o, "error", r->error);
    }
    if (r->error[0])
        sb_warn(&p->log, "%s: %s", q->topic, r->error);
    char *text = o ? sb_json_print(o) : NULL;
    sb_bus_msg req = {.topic = q->topic,
                      .response_topic = q->reply,
                      .correlation = q->corr,
                      .correlation_len = q->corr_len};
    if (text && q->reply && sb_bus_reply(p->bus, &req, text, strlen(text)) != SB_OK)
        sb_warn(&p->log, "%s: reply not sent", q->topic);
    free(text);
    cJSON_Delete(o);
}

static bool kind_parse(const char *name, bool gateway_ok, int *out)
{
    for (int k = 0; k < T__COUNT; k++)
        if (strcmp(name, tree_kind_name((tree_kind)k)) == 0)
            return *out = k, true;
    if (gateway_ok && strcmp(name, "gateway") == 0)
        return *out = -1, true;
    return false;
}

/* Splits a device-tree id of kind k (-1 gateway, T_NODE "gw.n", ...) into its parts. */
static bool split_id(int k, const char *id, char parts[4][SB_QUICKID_PART_MAX])
{
    int want = k + 2, n = 0;
    const char *s = id;
    while (n < 4) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len == 0 || len >= SB_QUICKID_PART_MAX)
            return false;
        memcpy(parts[n], s, len);
        parts[n][len] = '\0';
        if (!sb_quickid_valid_part(parts[n++]))
            return false;
        if (!dot)
            break;
        s = dot + 1;
    }
    return n == want && !strchr(s, '.');
}

/* Parses the request; the kind, the id (or ids) and the changes (or NULL) in the outputs. */
static cJSON *parse_request(const qitem *q, reply *r)
{
    cJSON *req = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_json_parse(q->data, q->len, &req, &em);
    if (rc != SB_OK || !cJSON_IsObject(req)) {
        fail(r, 400, "not a JSON object: %s", rc ? sb_errmsg_str(&em, rc) : "");
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static bool type_ok(key_type t, const cJSON *v)
{
    switch (t) {
    case K_STR:
        return cJSON_IsString(v);
    case K_BOOL:
        return cJSON_IsBool(v);
    case K_OBJ:
        return cJSON_IsObject(v) || cJSON_IsNull(v);
    case K_STRMAP:
        if (cJSON_IsNull(v))
            return true;
        if (!cJSON_IsObject(v))
            return false;
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return false;
        return true;
    }
    return false;
}

/* The editable key of k named key, or NULL. */
static const edit_key *editable(tree_kind k, const char *key)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(edit_keys); i++)
        if (strcmp(edit_keys[i].key, key) == 0 && (!edit_keys[i].field_only || k == T_FIELD))
            return &edit_keys[i];
    return NULL;
}

/* Checks every editable key in changes; the first bad one fails r. Other keys are ignored: a
 * posted whole document carries the processor's keys too. */
static bool check_changes(tree_kind k, const cJSON *changes, reply *r)
{
    for (const cJSON *c = changes->child; c; c = c->next) {
        const edit_key *ek = editable(k, c->string);
        if (!ek)
            continue;
        if (!type_ok(ek->type, c)) {
            static const char *const words[] = {"a string", "a boolean", "an object",
                                                "an object of strings"};
            fail(r, 400, "%s: expected %s", c->string, words[ek->type]);
            return false;
        }
        sb_metric_type t;
        if (strcmp(c->string, "metricType") == 0 &&
            sb_metric_type_parse(c->valuestring, &t) != SB_OK) {
            fail(r, 400,
                 "metricType: '%.32s' is not none, string, binary, gauge, gauge_float, counter "
                 "or geo",
                 c->valuestring);
            return false;
        }
    }
    return true;
}

/* Applies the editable keys of changes to doc; the other keys are listed in ignored. */
static void apply_changes(tree_kind k, cJSON *doc, const cJSON *changes, cJSON *ignored)
{
    for (const cJSON *c = changes->child; c; c = c->next) {
        const edit_key *ek = editable(k, c->string);
        if (!ek) {
            cJSON_AddItemToArray(ignored, cJSON_CreateString(c->string));
        } else if (cJSON_IsNull(c) && (ek->type == K_STRMAP || strcmp(c->string, "others") == 0)) {
            sb_json_set(doc, c->string, cJSON_CreateObject());
        } else if (cJSON_IsNull(c)) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, c->string);
        } else {
            sb_json_set(doc, c->string, cJSON_Duplicate(c, true));
        }
    }
}

/* The entry to edit: from the tree, or a new record (created) when it does not exist. */
static tree_entry *edit_target(proc *p, tree_kind k, const char *id, reply *r)
{
    sb_err rc = SB_OK;
    tree_entry *e = tree_get(p->tree, k, id, &rc);
    if (rc != SB_OK) {
        fail(r, 500, "%s %s not read from the store: %s", tree_kind_name(k), id, sb_strerror(rc));
        return NULL;
    }
    if (e)
        return e;
    char parts[4][SB_QUICKID_PART_MAX];
    split_id((int)k, id, parts);
    cJSON *d =
        proc_new_doc(k, id, parts[0], parts[1], k >= T_SOURCE ? parts[2] : NULL, parts[k + 1]);
    if (!d || !(e = tree_add(p->tree, k, id, d))) {
        fail(r, 500, "out of memory");
        return NULL;
    }
    e->created = true;
    atomic_fetch_add(&p->st.created, 1);
    return e;
}

void proc_edit(proc *p, const qitem *q)
{
    reply r = {.status = 200};
    cJSON *req = parse_request(q, &r), *ignored = NULL;
    const char *kind = sb_json_str(req, "kind", ""), *id = sb_json_str(req, "id", "");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(req, "changes");
    char parts[4][SB_QUICKID_PART_MAX];
    int k = 0;
    if (!req)
        goto done;
    if (!kind_parse(kind, false, &k)) {
        fail(&r, 400, "kind: '%.32s' is not node, source or field", kind);
    } else if (!split_id(k, id, parts)) {
        fail(&r, 400, "id: '%.200s' is not a %s id (%s)", id, kind,
             k == T_NODE     ? "<gatewayId>.<nodeId>"
             : k == T_SOURCE ? "<gatewayId>.<nodeId>.<sourceId>"
                             : "<gatewayId>.<nodeId>.<sourceId>.<fieldId>");
    } else if (!cJSON_IsObject(changes)) {
        fail(&r, 400, "changes: expected an object");
    }
    if (r.status != 200 || !check_changes((tree_kind)k, changes, &r))
        goto done;
    /* Several processor instances: the one that owns the gateway applies and answers
     * (docs/scaling.md); every instance computes the same owner. */
    if (!part_owns_key(p, parts[0])) {
        cJSON_Delete(req);
        return;
    }
    tree_entry *e = edit_target(p, (tree_kind)k, id, &r);
    if (!e)
        goto done;
    ignored = cJSON_CreateArray();
    apply_changes((tree_kind)k, e->doc, changes, ignored);
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    sb_json_set_str(e->doc, "modifiedOn", now);
    bool created = e->created;
    e->event_pending = true;
    frame_ctx fc = {0};
    frame_ctx_touch(&fc, e);
    sb_err rc = proc_commit(p, &fc); /* on failure the tree is reloaded: e may be gone */
    frame_ctx_free(&fc);
    if (rc != SB_OK) {
        fail(&r, 503, "the edit of %s %s was not stored: %s", kind, id, sb_strerror(rc));
        goto done;
    }
    r.status = created ? 201 : 200;
    r.body = cJSON_CreateObject();
    e = tree_get(p->tree, (tree_kind)k, id, NULL);
    if (r.body && e)
        cJSON_AddItemToObject(r.body, "entity", cJSON_Duplicate(e->doc, true));
    if (r.body && cJSON_GetArraySize(ignored) > 0)
        cJSON_AddItemToObject(r.body, "ignored", ignored), ignored = NULL;
    sb_info(&p->log, "%s %s %s by a user", kind, id, created ? "created" : "edited");
done:
    send_reply(p, q, &r);
    cJSON_Delete(ignored);
    cJSON_Delete(req);
}

/* ---- delete -------------------------------------------------------------------------------- */

/* Adds the documents of kind k whose first n tree ids equal parts' to docs (with their kind). */
static sb_err find_below(proc *p, tree_kind k, char parts[4][SB_QUICKID_PART_MAX], int n,
                         cJSON *docs)
{
    static const char *const keys[] = {"gatewayId", "nodeId", "sourceId"};
    sb_query qr = {0};
    sb_err rc = SB_OK;
    for (int i = 0; i < n && rc == SB_OK; i++) {
        cJSON *v = cJSON_CreateString(parts[i]);
        rc = v ? sb_query_add(&qr, keys[i], SB_OP_EQ, v, NULL) : SB_ERR_NOMEM;
        cJSON_Delete(v);
    }
    cJSON *found = NULL, *d;
    if (rc == SB_OK)
        rc = sb_store_find(p->store, tree_kind_name(k), &qr, &found, NULL);
    sb_query_free(&qr);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(found, "data");
    while (data && (d = cJSON_DetachItemFromArray(data, 0))) {
        sb_json_set_num(d, "_kind", k);
        cJSON_AddItemToArray(docs, d);
    }
    cJSON_Delete(found);
    return rc;
}

/* Collects the record id of kind k (-1: a gateway, which is the API's) and every record below
 * it into docs. */
static sb_err collect(proc *p, int k, const char *id, cJSON *docs, reply *r)
{
    char parts[4][SB_QUICKID_PART_MAX];
    if (!split_id(k, id, parts)) {
        fail(r, 400, "id: '%.200s' is not a %s id", id, k < 0 ? "gateway" : tree_kind_name(k));
        return SB_ERR_INVALID;
    }
    sb_err rc = SB_OK;
    for (int below = k + 1; below < T__COUNT && rc == SB_OK; below++)
        rc = find_below(p, (tree_kind)below, parts, k + 2, docs);
    if (rc == SB_OK && k >= 0) {
        cJSON *self = NULL;
        rc = sb_store_get(p->store, tree_kind_name((tree_kind)k), id, &self, NULL);
        if (rc == SB_OK) {
            sb_json_set_num(self, "_kind", k);
            cJSON_AddItemToArray(docs, self);
        } else if (rc == SB_ERR_NOTFOUND) {
            rc = SB_OK;
        }
    }
    if (rc != SB_OK)
        fail(r, 503, "%s %s: reading the records to delete: %s",
             k < 0 ? "gateway" : tree_kind_name((tree_kind)k), id, sb_strerror(rc));
    return rc;
}

/* Deletes docs (each with its "_kind") from the store in one batch, then from memory, and
 * publishes a "deleted" event for each. */
static sb_err delete_docs(proc *p, cJSON *docs, reply *r)
{
    size_t n = (size_t)cJSON_GetArraySize(docs), i = 0;
    sb_store_op *ops = calloc(n ? n : 1, sizeof(*ops));
    tree_kind *kinds = calloc(n ? n : 1, sizeof(*kinds));
    if (!ops || !kinds) {
        free(ops);
        free(kinds);
        fail(r, 500, "out of memory");
        return SB_ERR_NOMEM;
    }
    cJSON *d;
    cJSON_ArrayForEach(d, docs)
    {
        tree_kind k = kinds[i] = (tree_kind)sb_json_num(d, "_kind", 0);
        cJSON_DeleteItemFromObjectCaseSensitive(d, "_kind");
        ops[i++] = (sb_store_op){
            .type = SB_STORE_DELETE, .kind = tree_kind_name(k), .id = sb_json_str(d, "id", "")};
    }
    sb_errmsg em = {{0}};
    sb_err rc = n ? sb_store_batch(p->store, ops, n, &em) : SB_OK;
    if (rc != SB_OK) {
        fail(r, 503, "the records were not deleted: %s", sb_errmsg_str(&em, rc));
        free(ops);
        free(kinds);
        return rc;
    }
    frame_ctx fc = {0};
    i = 0;
    cJSON_ArrayForEach(d, docs)
    {
        tree_kind k = kinds[i++];
        tree_remove(p->tree, k, sb_json_str(d, "id", ""));
        tree_entry gone = {.kind = k, .id = (char *)sb_json_str(d, "id", ""), .doc = d};
        proc_event(p, &fc, &gone, "deleted");
    }
    proc_publish_events(p, &fc, NULL); /* after the commit: a "deleted" event means deleted */
    frame_ctx_free(&fc);
    free(ops);
    free(kinds);
    return SB_OK;
}

void proc_delete(proc *p, const qitem *q)
{
    reply r = {.status = 200};
    cJSON *req = parse_request(q, &r), *docs = cJSON_CreateArray();
    const char *kind = sb_json_str(req, "kind", "");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids"), *id;
    int k = 0;
    if (!req || !docs)
        goto done;
    if (!kind_parse(kind, true, &k)) {
        fail(&r, 400, "kind: '%.32s' is not gateway, node, source or field", kind);
        goto done;
    }
    if (!cJSON_IsArray(ids)) {
        fail(&r, 400, "ids: expected an array of ids");
        goto done;
    }
    cJSON_ArrayForEach(id, ids)
    {
        if (!cJSON_IsString(id)) {
            fail(&r, 400, "ids: expected an array of ids");
            goto done;
        }
        if (collect(p, k, id->valuestring, docs, &r) != SB_OK)
            goto done;
    }
    if (delete_docs(p, docs, &r) != SB_OK)
        goto done;
    r.body = cJSON_CreateObject();
    cJSON_AddNumberToObject(r.body, "deleted", cJSON_GetArraySize(docs));
    sb_info(&p->log, "%d records deleted by a user (%s %d ids)", cJSON_GetArraySize(docs), kind,
            cJSON_GetArraySize(ids));
done:
    send_reply(p, q, &r);
    cJSON_Delete(docs);
    cJSON_Delete(req);
}
