/*
 * mys_msg.c - received MySensors lines -> Switchboard messages (mys_msg.h). What each command
 * and internal type becomes is the table in docs/gateways/mysensors.md; keep them in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/mysensors/mys_msg.h"
#include "gateways/mysensors/mys_ota.h"

typedef enum act { DROP, SET, PRESENT, REQUEST } act;

/* What an internal type becomes: a node-level message with one payload, or nothing. */
typedef struct imap {
    act act;
    const char *key; /* payload key; for DROP the reason */
    sb_metric_type metric;
    const char *unit;
} imap;

#define STR SB_METRIC_STRING
static const imap i_map[] = {
    [SB_MYS_I_BATTERY_LEVEL] = {SET, "battery", SB_METRIC_GAUGE, "%"},
    [SB_MYS_I_TIME] = {REQUEST, "I_TIME", SB_METRIC_NONE, NULL},
    [SB_MYS_I_VERSION] = {PRESENT, "library_version", STR, NULL},
    [SB_MYS_I_ID_REQUEST] = {REQUEST, "I_ID_REQUEST", SB_METRIC_NONE, NULL},
    [SB_MYS_I_ID_RESPONSE] = {DROP, "I_ID_RESPONSE: a controller answer", 0, NULL},
    [SB_MYS_I_INCLUSION_MODE] = {SET, "inclusion_mode", SB_METRIC_BINARY, NULL},
    [SB_MYS_I_CONFIG] = {REQUEST, "I_CONFIG", SB_METRIC_NONE, NULL},
    [SB_MYS_I_FIND_PARENT_REQUEST] = {DROP, "I_FIND_PARENT_REQUEST: radio routing", 0, NULL},
    [SB_MYS_I_FIND_PARENT_RESPONSE] = {DROP, "I_FIND_PARENT_RESPONSE: radio routing", 0, NULL},
    [SB_MYS_I_LOG_MESSAGE] = {DROP, "I_LOG_MESSAGE: gateway log text", 0, NULL},
    [SB_MYS_I_CHILDREN] = {DROP, "I_CHILDREN: routing table upkeep", 0, NULL},
    [SB_MYS_I_SKETCH_NAME] = {PRESENT, "name", STR, NULL},
    [SB_MYS_I_SKETCH_VERSION] = {PRESENT, "version", STR, NULL},
    [SB_MYS_I_REBOOT] = {DROP, "I_REBOOT: a command to nodes", 0, NULL},
    [SB_MYS_I_GATEWAY_READY] = {DROP, "I_GATEWAY_READY: gateway start-up banner", 0, NULL},
    [SB_MYS_I_SIGNING_PRESENTATION] = {DROP, "I_SIGNING_PRESENTATION: signing handshake", 0, NULL},
    [SB_MYS_I_NONCE_REQUEST] = {DROP, "I_NONCE_REQUEST: signing handshake", 0, NULL},
    [SB_MYS_I_NONCE_RESPONSE] = {DROP, "I_NONCE_RESPONSE: signing handshake", 0, NULL},
    [SB_MYS_I_HEARTBEAT_REQUEST] = {DROP, "I_HEARTBEAT_REQUEST: a command to nodes", 0, NULL},
    [SB_MYS_I_PRESENTATION] = {DROP, "I_PRESENTATION: a command to nodes", 0, NULL},
    [SB_MYS_I_DISCOVER_REQUEST] = {DROP, "I_DISCOVER_REQUEST: a command to nodes", 0, NULL},
    [SB_MYS_I_DISCOVER_RESPONSE] = {PRESENT, "parent_id", STR, NULL},
    [SB_MYS_I_HEARTBEAT_RESPONSE] = {PRESENT, "heartbeat", SB_METRIC_NONE, NULL},
    [SB_MYS_I_LOCKED] = {PRESENT, "locked", STR, NULL},
    [SB_MYS_I_PING] = {DROP, "I_PING: a command to nodes", 0, NULL},
    [SB_MYS_I_PONG] = {PRESENT, "pong", SB_METRIC_NONE, NULL},
    [SB_MYS_I_REGISTRATION_REQUEST] = {REQUEST, "I_REGISTRATION_REQUEST", SB_METRIC_NONE, NULL},
    [SB_MYS_I_REGISTRATION_RESPONSE] = {DROP, "I_REGISTRATION_RESPONSE: a controller answer", 0,
                                        NULL},
    [SB_MYS_I_DEBUG] = {DROP, "I_DEBUG: debug text", 0, NULL},
    [SB_MYS_I_SIGNAL_REPORT_REQUEST] = {DROP, "I_SIGNAL_REPORT_REQUEST: a command to nodes", 0,
                                        NULL},
    [SB_MYS_I_SIGNAL_REPORT_REVERSE] = {DROP, "I_SIGNAL_REPORT_REVERSE: radio internal", 0, NULL},
    [SB_MYS_I_SIGNAL_REPORT_RESPONSE] = {SET, "signal_strength", SB_METRIC_GAUGE, NULL},
    [SB_MYS_I_PRE_SLEEP_NOTIFICATION] = {PRESENT, "sleep_notification", SB_METRIC_NONE, "ms"},
    [SB_MYS_I_POST_SLEEP_NOTIFICATION] = {PRESENT, "wake_notification", SB_METRIC_NONE, NULL},
};
#undef STR

static void num_text(unsigned v, char buf[4])
{
    snprintf(buf, 4, "%u", v & 0xffu);
}

/* A message addressed from the line; source "" when node_level. */
static sb_err new_msg(const sb_mys_line *l, const sb_mys_opts *o, sb_msg_type type, bool node_level,
                      sb_msg **out)
{
    char node[4], child[4];
    num_text(l->node, node);
    num_text(l->child, child);
    sb_msg *m =
        sb_msg_new(o && o->gateway_id ? o->gateway_id : "", node, node_level ? "" : child, type);
    if (!m)
        return SB_ERR_NOMEM;
    m->is_received = true;
    m->is_ack = l->ack != 0;
    *out = m;
    return SB_OK;
}

static sb_err add(sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                  const char *unit)
{
    return sb_msg_add_payload(m, key, value, mt, unit) ? SB_OK : SB_ERR_NOMEM;
}

static sb_err from_presentation(const sb_mys_line *l, const sb_mys_opts *o, sb_msg **out,
                                sb_errmsg *em)
{
    const char *name = sb_mys_type_name(SB_MYS_PRESENTATION, l->type);
    if (!name)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "presentation type %u is not an S_ type", l->type);
    bool node_level = l->child == SB_MYS_NODE_CHILD && (l->type == SB_MYS_S_ARDUINO_NODE ||
                                                        l->type == SB_MYS_S_ARDUINO_REPEATER_NODE);
    sb_msg *m = NULL;
    sb_err err = new_msg(l, o, SB_MSG_PRESENTATION, node_level, &m);
    if (!err)
        err = add(m, "type", sb_mys_source_type(l->type), SB_METRIC_STRING, NULL);
    if (!err)
        err = add(m, "mys_type", name, SB_METRIC_STRING, NULL);
    if (!err && l->payload_len)
        err = add(m, node_level ? "library_version" : "name", l->payload, SB_METRIC_STRING, NULL);
    if (err) {
        sb_msg_free(m);
        return err;
    }
    *out = m;
    return SB_OK;
}

static sb_err from_setreq(const sb_mys_line *l, const sb_mys_opts *o, sb_msg **out, sb_errmsg *em)
{
    const sb_mys_vinfo *vi = sb_mys_vinfo_get(l->type);
    if (!vi)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "%s type %u is not a V_ type",
                       sb_mys_cmd_name(l->cmd), l->type);
    bool set = l->cmd == SB_MYS_SET;
    sb_msg *m = NULL;
    sb_err err = new_msg(l, o, set ? SB_MSG_SET : SB_MSG_REQUEST, false, &m);
    if (err)
        return err;
    const char *unit = o && o->imperial ? vi->unit_imperial : vi->unit;
    err = add(m, vi->name, l->payload, vi->metric, unit);
    if (err) {
        sb_msg_free(m);
        return err;
    }
    *out = m;
    return SB_OK;
}

static sb_err check_battery(const sb_mys_line *l, sb_errmsg *em)
{
    char *end = NULL;
    long v = l->payload_len ? strtol(l->payload, &end, 10) : -1;
    if (!end || *end || v < 0 || v > 100)
        return sb_fail(em, SB_ERR_INVALID, "I_BATTERY_LEVEL: '%s' is not 0..100", l->payload);
    return SB_OK;
}

static sb_err from_internal(const sb_mys_line *l, const sb_mys_opts *o, sb_msg **out,
                            const char **dropped, sb_errmsg *em)
{
    if (l->type >= SB_ARRAY_LEN(i_map))
        return sb_fail(em, SB_ERR_UNSUPPORTED, "internal type %u is not an I_ type", l->type);
    const imap *im = &i_map[l->type];
    if (im->act == DROP) {
        if (dropped)
            *dropped = im->key;
        return SB_OK;
    }
    if (l->type == SB_MYS_I_BATTERY_LEVEL) {
        sb_err err = check_battery(l, em);
        if (err)
            return err;
    }
    static const sb_msg_type types[] = {
        [SET] = SB_MSG_SET, [PRESENT] = SB_MSG_PRESENTATION, [REQUEST] = SB_MSG_REQUEST};
    sb_msg *m = NULL;
    sb_err err = new_msg(l, o, types[im->act], true, &m);
    if (err)
        return err;
    m->is_sleep_node =
        l->type == SB_MYS_I_PRE_SLEEP_NOTIFICATION || l->type == SB_MYS_I_POST_SLEEP_NOTIFICATION;
    err = add(m, im->key, l->payload, im->metric, im->unit);
    if (err) {
        sb_msg_free(m);
        return err;
    }
    *out = m;
    return SB_OK;
}

/* Decoded OTA request fields as payload labels, so no consumer has to parse the hex. */
static sb_err ota_labels(const sb_mys_line *l, sb_payload *p, sb_errmsg *em)
{
    sb_mys_fw_config cfg;
    sb_mys_fw_request req;
    const char *k[5] = {"type", "version", "blocks", "crc", "bl_version"};
    unsigned v[5];
    size_t n;
    sb_err err;
    if (l->type == SB_MYS_ST_FIRMWARE_CONFIG_REQUEST) {
        err = sb_mys_fw_config_decode(l->payload, l->payload_len, &cfg, em);
        v[0] = cfg.type, v[1] = cfg.version, v[2] = cfg.blocks, v[3] = cfg.crc;
        v[4] = cfg.bl_version, n = 5;
    } else {
        err = sb_mys_fw_request_decode(l->payload, l->payload_len, &req, em);
        v[0] = req.type, v[1] = req.version, v[2] = req.block, k[2] = "block", n = 3;
    }
    if (err)
        return err;
    p->labels = cJSON_CreateObject();
    if (!p->labels)
        return SB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char buf[8];
        snprintf(buf, sizeof(buf), "%u", v[i]);
        if (!cJSON_AddStringToObject(p->labels, k[i], buf))
            return SB_ERR_NOMEM;
    }
    return SB_OK;
}

static sb_err from_stream(const sb_mys_line *l, const sb_mys_opts *o, sb_msg **out,
                          const char **dropped, sb_errmsg *em)
{
    const char *name = sb_mys_type_name(SB_MYS_STREAM, l->type);
    if (!name)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "stream type %u is not an ST_ type", l->type);
    if (l->type != SB_MYS_ST_FIRMWARE_CONFIG_REQUEST && l->type != SB_MYS_ST_FIRMWARE_REQUEST) {
        if (dropped)
            *dropped = "stream: only firmware requests are handled";
        return SB_OK;
    }
    sb_msg *m = NULL;
    sb_err err = new_msg(l, o, SB_MSG_REQUEST, true, &m);
    if (err)
        return err;
    sb_payload *p = sb_msg_add_payload(m, name, l->payload, SB_METRIC_NONE, NULL);
    err = p ? ota_labels(l, p, em) : SB_ERR_NOMEM;
    if (err) {
        sb_msg_free(m);
        return err;
    }
    *out = m;
    return SB_OK;
}

sb_err sb_mys_to_msg(const sb_mys_line *l, const sb_mys_opts *o, sb_msg **out, const char **dropped,
                     sb_errmsg *em)
{
    if (!l || !out)
        return sb_fail(em, SB_ERR_INVALID, "no line");
    *out = NULL;
    if (dropped)
        *dropped = NULL;
    switch (l->cmd) {
    case SB_MYS_PRESENTATION:
        return from_presentation(l, o, out, em);
    case SB_MYS_SET:
    case SB_MYS_REQ:
        return from_setreq(l, o, out, em);
    case SB_MYS_INTERNAL:
        return from_internal(l, o, out, dropped, em);
    case SB_MYS_STREAM:
        return from_stream(l, o, out, dropped, em);
    default:
        return sb_fail(em, SB_ERR_INVALID, "command: %u is not 0..4", l->cmd);
    }
}
