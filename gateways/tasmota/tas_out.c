/*
 * tas_out.c - messages to Tasmota commands (tas_map.h sb_tas_command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateways/tasmota/tas_internal.h"

static sb_err relay_value(const char *v, char *out, size_t len, sb_errmsg *em)
{
    static const char *const on[] = {"on", "true", "1", "yes", NULL};
    static const char *const off[] = {"off", "false", "0", "no", NULL};
    for (int i = 0; on[i]; i++) {
        if (strcasecmp(v, on[i]) == 0)
            return snprintf(out, len, "ON"), SB_OK;
        if (strcasecmp(v, off[i]) == 0)
            return snprintf(out, len, "OFF"), SB_OK;
    }
    if (strcasecmp(v, "toggle") == 0)
        return snprintf(out, len, "TOGGLE"), SB_OK;
    return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not on/off/toggle", v);
}

/* An integer lo..hi, written back without sign or spaces. */
static sb_err int_value(const char *v, long lo, long hi, char *out, size_t len, sb_errmsg *em)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (!*v || *end || d < lo || d > hi || d != (double)(long)d)
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not an integer %ld..%ld", v, lo, hi);
    snprintf(out, len, "%ld", (long)d);
    return SB_OK;
}

/* Colour text: hex with an optional '#', or decimal channels separated by commas. */
static sb_err color_value(const char *v, char *out, size_t len, sb_errmsg *em)
{
    size_t n = strlen(v);
    if (n == 0 || n >= len || n > 64 || strspn(v, "#0123456789abcdefABCDEF,") != n)
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not a colour (hex or r,g,b)", v);
    memcpy(out, v, n + 1);
    return SB_OK;
}

static sb_err light_cmd(const char *key, const char *v, char *value, size_t vlen, sb_errmsg *em)
{
    if (strncmp(key, "Dimmer", 6) == 0 || strcmp(key, "White") == 0)
        return int_value(v, 0, 100, value, vlen, em);
    if (strcmp(key, "CT") == 0)
        return int_value(v, 153, 500, value, vlen, em);
    if (strcmp(key, "Color") == 0)
        return color_value(v, value, vlen, em);
    if (strcmp(key, "HSBColor") == 0) {
        size_t n = strlen(v);
        if (n == 0 || n >= vlen || strspn(v, "0123456789,") != n)
            return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not h,s,b", v);
        memcpy(value, v, n + 1);
        return SB_OK;
    }
    return sb_fail(em, SB_ERR_INVALID, "not writable");
}

static bool light_key(const char *k)
{
    return strcmp(k, "Dimmer") == 0 || strcmp(k, "Dimmer1") == 0 || strcmp(k, "Dimmer2") == 0 ||
           strcmp(k, "White") == 0 || strcmp(k, "CT") == 0 || strcmp(k, "Color") == 0 ||
           strcmp(k, "HSBColor") == 0;
}

/* Node actions (POST /api/action on node:<gw>.<node>) as Tasmota commands. */
static const char *const node_actions[][3] = {
    {"reboot", "Restart", "1"},          {"refresh", "Status", "0"},
    {"discover", "Status", "0"},         {"heartbeat_request", "State", ""},
    {"firmware_update", "Upgrade", "1"},
};

static sb_err node_action(const sb_msg *m, const sb_payload *p, char *cmd, size_t cmd_len,
                          char *value, size_t value_len, sb_errmsg *em)
{
    for (size_t a = 0; a < sizeof(node_actions) / sizeof(node_actions[0]); a++) {
        if (strcmp(p->key, node_actions[a][0]) == 0) {
            snprintf(cmd, cmd_len, "%s", node_actions[a][1]);
            snprintf(value, value_len, "%s", node_actions[a][2]);
            return SB_OK;
        }
    }
    return sb_fail(em, SB_ERR_INVALID,
                   "node %s: action '%.40s' is not one of reboot, refresh, discover, "
                   "heartbeat_request, firmware_update",
                   m->node_id, p->key);
}

sb_err sb_tas_command(const sb_msg *m, size_t i, char *cmd, size_t cmd_len, char *value,
                      size_t value_len, sb_errmsg *em)
{
    if (i >= m->n_payloads)
        return sb_fail(em, SB_ERR_INVALID, "payload %zu: no such payload", i);
    const sb_payload *p = &m->payloads[i];
    const char *src = m->source_id ? m->source_id : "";
    if (m->type == SB_MSG_ACTION && !*src)
        return node_action(m, p, cmd, cmd_len, value, value_len, em);
    unsigned relay;
    bool is_relay = tas_relay_name(src, &relay) && strcmp(p->key, SB_TAS_FIELD_POWER) == 0;
    bool is_light = strcmp(src, SB_TAS_SRC_LIGHT) == 0 && light_key(p->key);
    if (!is_relay && !is_light)
        return sb_fail(em, SB_ERR_INVALID, "field %s.%s.%s is not writable", m->node_id, src,
                       p->key);
    if (m->type != SB_MSG_SET && m->type != SB_MSG_REQUEST)
        return sb_fail(em, SB_ERR_INVALID, "field %s.%s.%s: only set and request are sent",
                       m->node_id, src, p->key);
    snprintf(cmd, cmd_len, "%s", is_relay ? src : p->key);
    value[0] = '\0';
    if (m->type == SB_MSG_REQUEST)
        return SB_OK; /* an empty command payload asks Tasmota for the state */
    sb_err rc = is_relay ? relay_value(p->value, value, value_len, em)
                         : light_cmd(p->key, p->value, value, value_len, em);
    if (rc != SB_OK)
        return sb_fail_wrap(em, rc, "field %s.%s.%s", m->node_id, src, p->key);
    return SB_OK;
}
