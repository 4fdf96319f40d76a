/*
 * mys_out.c - outgoing Switchboard messages -> MySensors lines (mys_msg.h).
 */
#include <strings.h>
#include <string.h>

#include "gateways/mysensors/mys_msg.h"

/* Friendly action names for node commands. */
static const struct {
    const char *name;
    unsigned type;
} actions[] = {
    {"reboot", SB_MYS_I_REBOOT},
    {"discover", SB_MYS_I_DISCOVER_REQUEST},
    {"heartbeat", SB_MYS_I_HEARTBEAT_REQUEST},
    {"refresh_node_info", SB_MYS_I_PRESENTATION},
    {"signal_report", SB_MYS_I_SIGNAL_REPORT_REQUEST},
};

/* "" -> dflt, else a decimal 0..255. */
static sb_err parse_id(const char *s, unsigned dflt, const char *what, unsigned *out, sb_errmsg *em)
{
    if (!s || !*s) {
        *out = dflt;
        return SB_OK;
    }
    unsigned v = 0;
    size_t n = strlen(s);
    if (n > 3)
        return sb_fail(em, SB_ERR_INVALID, "%s '%s' is not a MySensors id 0..255", what, s);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return sb_fail(em, SB_ERR_INVALID, "%s '%s' is not a MySensors id 0..255", what, s);
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 255)
        return sb_fail(em, SB_ERR_INVALID, "%s '%s' is not a MySensors id 0..255", what, s);
    *out = v;
    return SB_OK;
}

/* Binary values travel as 0/1. */
static sb_err binary_value(const char *v, const char **out, sb_errmsg *em)
{
    static const char *const on[] = {"1", "true", "on", "yes"};
    static const char *const off[] = {"0", "false", "off", "no"};
    for (size_t i = 0; i < SB_ARRAY_LEN(on); i++) {
        if (strcasecmp(v, on[i]) == 0) {
            *out = "1";
            return SB_OK;
        }
        if (strcasecmp(v, off[i]) == 0) {
            *out = "0";
            return SB_OK;
        }
    }
    return sb_fail(em, SB_ERR_INVALID, "value '%s' is not binary (0/1, true/false, on/off)", v);
}

/* Picks command and type from the message type and payload key. */
static sb_err command_of(const sb_msg *m, const sb_payload *p, unsigned *cmd, unsigned *type,
                         sb_errmsg *em)
{
    const char *key = p->key ? p->key : "";
    if (strncmp(key, "I_", 2) == 0 && sb_mys_type_parse(SB_MYS_INTERNAL, key, type) == SB_OK) {
        *cmd = SB_MYS_INTERNAL;
        return SB_OK;
    }
    if (strncmp(key, "ST_", 3) == 0 && sb_mys_type_parse(SB_MYS_STREAM, key, type) == SB_OK) {
        *cmd = SB_MYS_STREAM;
        return SB_OK;
    }
    if (m->type == SB_MSG_ACTION) {
        for (size_t i = 0; i < SB_ARRAY_LEN(actions); i++) {
            if (strcmp(key, actions[i].name) == 0) {
                *cmd = SB_MYS_INTERNAL;
                *type = actions[i].type;
                return SB_OK;
            }
        }
        return sb_fail(em, SB_ERR_UNSUPPORTED, "action '%s' is not a MySensors node command", key);
    }
    if (m->type != SB_MSG_SET && m->type != SB_MSG_REQUEST)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "a %s message cannot be sent to a node",
                       sb_msg_type_name(m->type));
    if (sb_mys_type_parse(SB_MYS_SET, key, type) != SB_OK)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "field '%s' is not a V_ type", key);
    *cmd = m->type == SB_MSG_SET ? SB_MYS_SET : SB_MYS_REQ;
    return SB_OK;
}

sb_err sb_mys_from_msg(const sb_msg *m, size_t i, sb_mys_line *out, sb_errmsg *em)
{
    if (!m || !out || i >= m->n_payloads)
        return sb_fail(em, SB_ERR_INVALID, "no payload %zu in the message", i);
    const sb_payload *p = &m->payloads[i];
    unsigned node = 0, child = 0, cmd = 0, type = 0;
    sb_err err = parse_id(m->node_id, SB_MYS_GATEWAY_NODE, "nodeId", &node, em);
    if (!err)
        err = parse_id(m->source_id, SB_MYS_NODE_CHILD, "sourceId", &child, em);
    if (!err)
        err = command_of(m, p, &cmd, &type, em);
    if (err)
        return err;
    const char *value = p->value ? p->value : "";
    if (cmd == SB_MYS_REQ)
        value = "";
    const sb_mys_vinfo *vi = cmd == SB_MYS_SET ? sb_mys_vinfo_get(type) : NULL;
    if (vi && vi->metric == SB_METRIC_BINARY && (err = binary_value(value, &value, em)))
        return err;
    if (sb_mys_line_set(out, node, child, cmd, m->is_ack ? 1 : 0, type, value) != SB_OK)
        return sb_fail(em, SB_ERR_TOO_LARGE, "payload '%s': value too long", p->key);
    err = sb_mys_validate(out, em);
    if (err)
        return sb_fail_wrap(em, err, "payload '%s'", p->key);
    return SB_OK;
}
