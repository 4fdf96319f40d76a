/*
 * apply.c - one message applied to the device tree: records created or updated, values
 * converted, metric points written, requests answered. Runs on the worker thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/quickid.h"
#include "core/time.h"
#include "processor.h"

#define NODE_SOURCE "_node" /* node-level payloads (battery, rssi ...) live in this source */

void frame_ctx_touch(frame_ctx *fc, tree_entry *e)
{
    if (e->dirty)
        return;
    if (fc->n_touched == fc->cap_touched) {
        size_t cap = fc->cap_touched ? fc->cap_touched * 2 : 64;
        tree_entry **t = realloc(fc->touched, cap * sizeof(*t));
        if (!t)
            return; /* not persisted this frame; the next change of e retries */
        fc->touched = t;
        fc->cap_touched = cap;
    }
    fc->touched[fc->n_touched++] = e;
    e->dirty = true;
}

void frame_ctx_free(frame_ctx *fc)
{
    for (int k = 0; k < T__COUNT; k++) {
        free(fc->events[k].text);
        free(fc->events[k].first_id);
    }
    free(fc->touched);
    memset(fc, 0, sizeof(*fc));
}

static const sb_entity_kind qkinds[T__COUNT] = {SB_KIND_NODE, SB_KIND_SOURCE, SB_KIND_FIELD};

static bool ev_reserve(event_buf *b, size_t more)
{
    if (b->cap - b->len > more)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= more)
        cap *= 2;
    char *t = realloc(b->text, cap);
    if (!t)
        return false;
    b->text = t;
    b->cap = cap;
    return true;
}

/* Appends s as a JSON string (quoted, escaped). */
static bool ev_str(event_buf *b, const char *s)
{
    if (!ev_reserve(b, 6 * strlen(s) + 3))
        return false;
    char *o = b->text + b->len;
    *o++ = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        } else if (*c < 0x20) {
            o += sprintf(o, "\\u%04x", *c);
        } else {
            *o++ = (char)*c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->text);
    return true;
}

static bool ev_raw(event_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!ev_reserve(b, n))
        return false;
    memcpy(b->text + b->len, s, n);
    b->len += n;
    return true;
}

/* Prints doc at the end of b, growing the buffer until it fits. */
static bool ev_doc(event_buf *b, const cJSON *doc)
{
    size_t want = b->doc_hint ? b->doc_hint * 2 + 64 : 1024;
    for (int i = 0; i < 8; i++, want *= 4) {
        if (!ev_reserve(b, want))
            return false;
        char *at = b->text + b->len;
        if (cJSON_PrintPreallocated((cJSON *)doc, at, (int)(b->cap - b->len), false)) {
            size_t n = strlen(at);
            b->len += n;
            b->doc_hint = n;
            return true;
        }
    }
    return false;
}

void proc_event(proc *p, frame_ctx *fc, tree_entry *e, const char *type)
{
    event_buf *b = &fc->events[e->kind];
    char qid[SB_QUICKID_MAX + 16];
    snprintf(qid, sizeof(qid), "%s:%s", sb_entity_kind_name(qkinds[e->kind]), e->id);
    size_t mark = b->len;
    if (!b->n && !b->first_id && !(b->first_id = strdup(e->id)))
        return;
    bool ok = ev_raw(b, b->n ? ",{\"type\":" : "[{\"type\":") && ev_str(b, type) &&
              ev_raw(b, ",\"entityType\":") && ev_str(b, tree_kind_name(e->kind)) &&
              ev_raw(b, ",\"entityId\":") && ev_str(b, e->id) && ev_raw(b, ",\"quickId\":") &&
              ev_str(b, qid) && ev_raw(b, ",\"entity\":") && ev_doc(b, e->doc) && ev_raw(b, "}");
    if (!ok) {
        b->len = mark; /* out of memory: this event is not published */
        return;
    }
    b->n++;
    (void)p;
}

/* Whether the user protected key with the label ignore_<key> = "true". */
static bool ignored(const cJSON *doc, const char *key)
{
    char label[160];
    snprintf(label, sizeof(label), "ignore_%s", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(doc, "labels"), label);
    return (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0) || cJSON_IsTrue(v);
}

/* Sets a string member unless protected or unchanged; true when it changed. */
static bool set_guarded(cJSON *doc, const char *key, const char *value)
{
    if (!value || ignored(doc, key))
        return false;
    const char *cur = sb_json_str(doc, key, NULL);
    if (cur && strcmp(cur, value) == 0)
        return false;
    return sb_json_set_str(doc, key, value);
}

static void stamp(cJSON *doc, const char *key, int64_t ms)
{
    char ts[SB_TIME_RFC3339_LEN];
    sb_time_format(ms, ts, sizeof(ts));
    sb_json_set_str(doc, key, ts);
}

cJSON *proc_new_doc(tree_kind k, const char *id, const char *gw, const char *node, const char *src,
                    const char *name)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    sb_json_set_str(d, "id", id);
    sb_json_set_str(d, "gatewayId", gw);
    sb_json_set_str(d, "nodeId", node);
    if (src)
        sb_json_set_str(d, "sourceId", src);
    sb_json_set_bool(d, "enabled", true);
    sb_json_set(d, "labels", cJSON_CreateObject());
    sb_json_set(d, "others", cJSON_CreateObject());
    if (k == T_NODE) {
        sb_json_set(d, "state", cJSON_CreateObject());
    } else if (k == T_FIELD) {
        sb_json_set_str(d, "fieldId", name);
        sb_json_set_str(d, "metricType", "none");
        sb_json_set_str(d, "unit", "");
    }
    sb_json_set_str(d, "name", name);
    return d;
}

/* Finds or creates the entry; marks it touched (lastSeen) and returns it, or NULL. */
static tree_entry *upsert(proc *p, frame_ctx *fc, tree_kind k, const char *id, const sb_msg *m,
                          const char *src, const char *name)
{
    sb_err rc = SB_OK;
    tree_entry *e = tree_get(p->tree, k, id, &rc);
    if (rc != SB_OK) { /* it may exist: never replace it with a new record */
        atomic_fetch_add(&p->st.bad_messages, 1);
        sb_error(&p->log, "%s %s not read from the store (%s); its value is dropped",
                 tree_kind_name(k), id, sb_strerror(rc));
        return NULL;
    }
    if (!e) {
        cJSON *d = proc_new_doc(k, id, m->gateway_id, m->node_id, src, name);
        if (!d || !(e = tree_add(p->tree, k, id, d)))
            return NULL;
        e->created = true;
        atomic_fetch_add(&p->st.created, 1);
    }
    stamp(e->doc, "lastSeen", m->timestamp_ms);
    stamp(e->doc, "modifiedOn", sb_time_now_ms());
    if (k != T_FIELD)
        e->event_pending = true;
    frame_ctx_touch(fc, e);
    return e;
}

static void node_up(proc *p, tree_entry *node, int64_t ts)
{
    node->traffic_mono = sb_time_mono_ms();
    cJSON *state = cJSON_GetObjectItemCaseSensitive(node->doc, "state");
    if (!cJSON_IsObject(state)) {
        state = cJSON_CreateObject();
        sb_json_set(node->doc, "state", state);
    }
    if (strcmp(sb_json_str(state, "status", ""), "up") != 0) {
        sb_json_set_str(state, "status", "up");
        sb_json_set_str(state, "message", "");
        stamp(state, "since", ts);
        sb_debug(&p->log, "node %s is up", node->id);
    }
}

/*
 * A node's availability as its provider reports it (a Tasmota LWT, an ESPHome status topic, a
 * Zigbee2MQTT availability message): an action message to the node with the payload
 * node_state = up | down | unavailable, and an optional node_state_message.
 */
static void node_action(proc *p, frame_ctx *fc, tree_entry *node, const sb_msg *m)
{
    const char *status = NULL, *message = "";
    for (size_t i = 0; i < m->n_payloads; i++) {
        if (strcmp(m->payloads[i].key, "node_state") == 0)
            status = m->payloads[i].value;
        else if (strcmp(m->payloads[i].key, "node_state_message") == 0)
            message = m->payloads[i].value;
    }
    if (!status)
        return;
    if (strcmp(status, "up") != 0 && strcmp(status, "down") != 0 &&
        strcmp(status, "unavailable") != 0) {
        atomic_fetch_add(&p->st.bad_messages, 1);
        sb_warn(&p->log, "node %s: node_state '%.32s' is not up, down or unavailable; dropped",
                node->id, status);
        return;
    }
    if (strcmp(status, "up") == 0) {
        node_up(p, node, m->timestamp_ms);
    } else {
        cJSON *state = cJSON_GetObjectItemCaseSensitive(node->doc, "state");
        if (!cJSON_IsObject(state)) {
            state = cJSON_CreateObject();
            sb_json_set(node->doc, "state", state);
        }
        if (strcmp(sb_json_str(state, "status", ""), status) != 0)
            stamp(state, "since", m->timestamp_ms);
        sb_json_set_str(state, "status", status);
        sb_json_set_str(state, "message", *message ? message : "reported by the device");
        sb_info(&p->log, "node %s is %s", node->id, status);
    }
    cJSON *state = cJSON_GetObjectItemCaseSensitive(node->doc, "state");
    if (*message && cJSON_IsObject(state))
        sb_json_set_str(state, "message", message);
    stamp(node->doc, "modifiedOn", sb_time_now_ms());
    node->event_pending = true;
    frame_ctx_touch(fc, node);
}

/*
 * The time of a field's new value: the message's, but at least 1 ms after the field's current
 * value. Messages are stamped in ms when the gateway reads them, so two values of one field read
 * in one burst can share a timestamp, and InfluxDB keeps only the last point of a series per
 * timestamp: the other value would be lost. Derived from the stored current value only, so a
 * replayed frame gets the same times again (and overwrites its own points).
 */
static int64_t value_time(const cJSON *cur, int64_t msg_ms)
{
    int64_t last = 0;
    const char *t = cur ? sb_json_str(cur, "timestamp", NULL) : NULL;
    if (t && sb_time_parse(t, &last) == SB_OK && msg_ms <= last)
        return last + 1;
    return msg_ms;
}

/* A value for the field: converted, stored as current (old current -> previous), metered. */
static void set_value(proc *p, frame_ctx *fc, tree_entry *f, const sb_msg *m, const sb_payload *pl)
{
    cJSON *d = f->doc;
    if (pl->metric_type != SB_METRIC_NONE)
        set_guarded(d, "metricType", sb_metric_type_name(pl->metric_type));
    if (pl->unit && *pl->unit)
        set_guarded(d, "unit", pl->unit);
    sb_metric_type t = SB_METRIC_NONE;
    sb_metric_type_parse(sb_json_str(d, "metricType", "none"), &t);
    cJSON *value = NULL;
    char mtext[160];
    sb_errmsg em = {{0}};
    if (sb_proc_convert(t, pl->value, &value, mtext, sizeof(mtext), &em) != SB_OK) {
        atomic_fetch_add(&p->st.rejected_values, 1);
        sb_warn(&p->log, "field %s: value '%.64s' rejected for metric type %s: %s", f->id,
                pl->value, sb_metric_type_name(t), em.text);
        return;
    }
    cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(d, "current");
    bool same = cur && cJSON_Compare(cJSON_GetObjectItem(cur, "value"), value, true);
    int64_t ts = value_time(cur, m->timestamp_ms);
    if (cur)
        sb_json_set(d, "previous", cur);
    cJSON *nc = cJSON_CreateObject();
    sb_json_set(nc, "value", value);
    stamp(nc, "timestamp", ts);
    sb_json_set(d, "current", nc);
    if (!same || !cJSON_GetObjectItem(d, "noChangeSince"))
        stamp(d, "noChangeSince", ts);
    atomic_fetch_add(&p->st.fields_updated, 1);
    proc_event(p, fc, f, f->created && !cJSON_GetObjectItem(d, "previous") ? "created" : "updated");
    if (t == SB_METRIC_NONE)
        return;
    sb_metric_point pt = {m->gateway_id,
                          m->node_id,
                          sb_json_str(d, "sourceId", ""),
                          sb_json_str(d, "fieldId", ""),
                          t,
                          t == SB_METRIC_STRING ? pl->value : mtext,
                          ts};
    fc->points = true;
    if (p->hooks.metrics_write && p->hooks.metrics_write(p->hooks.metrics_ctx, &pt) == SB_OK)
        atomic_fetch_add(&p->st.metrics_written, 1);
    else
        atomic_fetch_add(&p->st.metrics_failed, 1);
}

/* Answers a request with a set carrying the stored value, on <p>/msg/out/<gatewayId>. */
static void answer(proc *p, const sb_msg *m, const char *src, const sb_payload *pl)
{
    char id[4 * SB_MSG_ID_MAX + 8];
    snprintf(id, sizeof(id), "%s.%s.%s.%s", m->gateway_id, m->node_id, src, pl->key);
    tree_entry *f = tree_get(p->tree, T_FIELD, id, NULL);
    const cJSON *v = f ? sb_json_path(f->doc, "current.value") : NULL;
    char text[SB_MSG_VALUE_MAX > 256 ? 256 : SB_MSG_VALUE_MAX];
    if (cJSON_IsObject(v)) { /* geo */
        snprintf(text, sizeof(text), "%.9g;%.9g;%.9g", sb_json_num(v, "latitude", 0),
                 sb_json_num(v, "longitude", 0), sb_json_num(v, "altitude", 0));
    } else if (!v || !sb_json_scalar_text(v, text, sizeof(text))) {
        sb_debug(&p->log, "request for %s: no stored value", id);
        return;
    }
    sb_msg *out = sb_msg_new(m->gateway_id, m->node_id, m->source_id, SB_MSG_SET);
    sb_metric_type t = SB_METRIC_NONE;
    sb_metric_type_parse(sb_json_str(f->doc, "metricType", "none"), &t);
    const char *unit = sb_json_str(f->doc, "unit", "");
    if (out && sb_msg_add_payload(out, pl->key, text, t, *unit ? unit : NULL)) {
        out->is_received = false;
        size_t len;
        char *body = sb_msg_encode(out, &len);
        char topic[512];
        if (body &&
            sb_bus_topic(p->bus, topic, sizeof(topic), "msg/out/%s", m->gateway_id) == SB_OK &&
            sb_bus_publish(p->bus, topic, body, len, 1, false) == SB_OK)
            atomic_fetch_add(&p->st.requests, 1);
        free(body);
    }
    sb_msg_free(out);
}

/* Presentation: names and kinds of nodes and sources (docs/processor.md). */
static void present(tree_entry *e, const sb_payload *pl)
{
    cJSON *others = cJSON_GetObjectItemCaseSensitive(e->doc, "others");
    if (!cJSON_IsObject(others)) {
        others = cJSON_CreateObject();
        sb_json_set(e->doc, "others", others);
    }
    if (strcmp(pl->key, "name") == 0) {
        set_guarded(e->doc, "name", pl->value);
    } else if (e->kind == T_SOURCE) {
        sb_json_set_str(others, "type", pl->key);
        if (*pl->value)
            set_guarded(e->doc, "name", pl->value);
    } else {
        sb_json_set_str(others, pl->key, pl->value);
    }
}

static void apply_payload(proc *p, frame_ctx *fc, const sb_msg *m, const char *src,
                          tree_entry *node, tree_entry *source, const sb_payload *pl)
{
    if (m->type == SB_MSG_PRESENTATION) {
        present(*m->source_id ? source : node, pl);
        return;
    }
    if (m->type == SB_MSG_REQUEST) {
        answer(p, m, src, pl);
        return;
    }
    if (m->type != SB_MSG_SET)
        return;
    if (!sb_quickid_valid_part(pl->key)) {
        atomic_fetch_add(&p->st.rejected_values, 1);
        sb_warn(&p->log, "node %s: field key '%.64s' is not a valid id; value dropped", node->id,
                pl->key);
        return;
    }
    char id[4 * SB_MSG_ID_MAX + 8];
    snprintf(id, sizeof(id), "%s.%s", source->id, pl->key);
    tree_entry *f = upsert(p, fc, T_FIELD, id, m, src, pl->key);
    if (f) {
        if (f->created && pl->labels && !cJSON_GetObjectItem(f->doc, "current")) {
            cJSON *labels = cJSON_GetObjectItem(f->doc, "labels");
            const cJSON *l;
            cJSON_ArrayForEach(l, pl->labels)
            {
                if (!cJSON_GetObjectItem(labels, l->string))
                    cJSON_AddItemToObject(labels, l->string, cJSON_Duplicate(l, true));
            }
        }
        set_value(p, fc, f, m, pl);
    }
}

void proc_apply(proc *p, frame_ctx *fc, const sb_msg *m)
{
    atomic_fetch_add(&p->st.messages, 1);
    if (!*m->node_id)
        return; /* gateway-level messages: the gateway service owns the gateway record */
    if (!sb_quickid_valid_part(m->gateway_id) || !sb_quickid_valid_part(m->node_id) ||
        (*m->source_id && !sb_quickid_valid_part(m->source_id))) {
        atomic_fetch_add(&p->st.bad_messages, 1);
        sb_warn(&p->log, "message %s: ids must not contain '.', ':' or spaces; dropped", m->id);
        return;
    }
    const char *src = *m->source_id ? m->source_id : NODE_SOURCE;
    char nid[2 * SB_MSG_ID_MAX + 4], sid[3 * SB_MSG_ID_MAX + 8];
    snprintf(nid, sizeof(nid), "%s.%s", m->gateway_id, m->node_id);
    snprintf(sid, sizeof(sid), "%s.%s", nid, src);
    tree_entry *node = upsert(p, fc, T_NODE, nid, m, NULL, m->node_id);
    if (!node)
        return;
    if (m->type == SB_MSG_ACTION && !*m->source_id) {
        node_action(p, fc, node, m);
        return;
    }
    node_up(p, node, m->timestamp_ms);
    tree_entry *source = NULL;
    bool need_source = *m->source_id || m->type == SB_MSG_SET;
    if (need_source &&
        !(source = upsert(p, fc, T_SOURCE, sid, m, src, *m->source_id ? src : "node")))
        return;
    for (size_t i = 0; i < m->n_payloads; i++)
        apply_payload(p, fc, m, src, node, source, &m->payloads[i]);
}

typedef struct sweep_ctx {
    proc *p;
    frame_ctx *fc;
    int64_t now;
} sweep_ctx;

static void sweep_one(void *ctx, tree_entry *e)
{
    sweep_ctx *s = ctx;
    cJSON *state = cJSON_GetObjectItemCaseSensitive(e->doc, "state");
    if (strcmp(sb_json_str(state, "status", ""), "up") != 0)
        return;
    if (!e->traffic_mono)
        e->traffic_mono = s->now; /* loaded from the store: a full period of grace */
    if (s->now - e->traffic_mono < s->p->cfg->processor.node_down_after_ms)
        return;
    sb_json_set_str(state, "status", "down");
    sb_json_set_str(state, "message", "no traffic");
    stamp(state, "since", sb_time_now_ms());
    stamp(e->doc, "modifiedOn", sb_time_now_ms());
    e->event_pending = true;
    frame_ctx_touch(s->fc, e);
    atomic_fetch_add(&s->p->st.nodes_down, 1);
    sb_info(&s->p->log, "node %s is down (no traffic)", e->id);
}

void proc_sweep(proc *p, frame_ctx *fc, int64_t now_mono)
{
    if (p->cfg->processor.node_down_after_ms <= 0)
        return;
    sweep_ctx s = {p, fc, now_mono};
    tree_each(p->tree, T_NODE, sweep_one, &s);
}
