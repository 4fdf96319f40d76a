/*
 * tas_map.c - one Tasmota publish to messages: the dispatch by topic name, LWT, STATUS node
 * info, and the helpers that collect messages and notes (tas_map.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "gateways/tasmota/tas_internal.h"

void tas_note(tas_ctx *c, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sb_mapped_note(&c->r->m, "%s", buf);
}

sb_msg *tas_msg(tas_ctx *c, sb_msg_type type, const char *src)
{
    char id[SB_MSG_ID_MAX + 1];
    sb_tas_sanitize(src, id, sizeof(id));
    return sb_mapped_msg(&c->r->m, c->o->gateway_id, c->t->node_id, id, type);
}

void tas_add(tas_ctx *c, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
             const char *unit)
{
    char k[SB_MSG_ID_MAX + 1];
    sb_tas_sanitize(key, k, sizeof(k));
    sb_mapped_add(&c->r->m, m, k, value, mt, unit);
}

static bool is_nan_text(const char *s)
{
    return strcasecmp(s, "nan") == 0 || strcasecmp(s, "-nan") == 0 || strcasecmp(s, "inf") == 0 ||
           strcasecmp(s, "-inf") == 0 || strcasecmp(s, "null") == 0;
}

void tas_add_json(tas_ctx *c, sb_msg *m, const char *where, const char *key, const cJSON *v,
                  sb_metric_type mt, const char *unit)
{
    char text[64];
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(text, sizeof(text), "%.15g", v->valuedouble);
        tas_add(c, m, key, text, mt == SB_METRIC_NONE ? SB_METRIC_GAUGE_FLOAT : mt, unit);
    } else if (cJSON_IsString(v) && !is_nan_text(v->valuestring)) {
        if (mt == SB_METRIC_NONE || mt == SB_METRIC_STRING)
            tas_add(c, m, key, v->valuestring, SB_METRIC_STRING, unit);
        else /* a number sent as text: the processor checks it */
            tas_add(c, m, key, v->valuestring, mt, unit);
    } else if (cJSON_IsBool(v)) {
        tas_add(c, m, key, cJSON_IsTrue(v) ? "true" : "false", SB_METRIC_BINARY, NULL);
    } else {
        tas_note(c, "%s: %s.%s: no value (%s), skipped", c->t->name, where, key,
                 cJSON_IsNull(v) || cJSON_IsString(v) ? "null/nan" : "unexpected type");
    }
}

/* Older firmware writes a failed reading as a bare nan/inf, which is not JSON: such words
 * outside strings become null. Returns a NUL-terminated copy (caller frees). */
static char *scrub(const char *p, size_t len)
{
    char *s = malloc(len * 2 + 1); /* "nan" -> "null" grows by a third at most */
    if (!s)
        return NULL;
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (in_str) {
            s[o++] = ch;
            if (ch == '\\' && i + 1 < len)
                s[o++] = p[++i];
            else if (ch == '"')
                in_str = false;
            continue;
        }
        in_str = ch == '"';
        size_t at = i + (ch == '-');
        bool start = i == 0 || strchr(":,[ \t\r\n", p[i - 1]);
        if (start && len - at >= 3 &&
            (strncasecmp(p + at, "nan", 3) == 0 || strncasecmp(p + at, "inf", 3) == 0)) {
            memcpy(s + o, "null", 4);
            o += 4;
            i = at + 2;
            continue;
        }
        s[o++] = ch;
    }
    s[o] = '\0';
    return s;
}

/* LWT: "Online" / "Offline" (Tasmota's default words) as the node's "online" field and its
 * state (a node_state action: docs/processor.md). */
static void map_lwt(tas_ctx *c, const char *text)
{
    bool on = strcasecmp(text, "Online") == 0, off = strcasecmp(text, "Offline") == 0;
    if (!on && !off) {
        tas_note(c, "LWT: '%.40s' is neither Online nor Offline", text);
        return;
    }
    c->r->online_known = true;
    c->r->online = on;
    tas_add(c, tas_msg(c, SB_MSG_SET, ""), SB_TAS_FIELD_ONLINE, on ? "true" : "false",
            SB_METRIC_BINARY, NULL);
    tas_add(c, tas_msg(c, SB_MSG_ACTION, ""), "node_state", on ? "up" : "down", SB_METRIC_NONE,
            NULL);
}

/* Copies obj.key (a string, or a number) into the presentation as key out. */
static void info(tas_ctx *c, sb_msg *m, const cJSON *obj, const char *key, const char *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsArray(v)) /* FriendlyName is a list: the first */
        v = cJSON_GetArrayItem(v, 0);
    if (!v)
        return;
    char text[256];
    if ((cJSON_IsString(v) || cJSON_IsNumber(v)) && sb_json_scalar_text(v, text, sizeof(text)))
        tas_add(c, m, out, text, SB_METRIC_NONE, NULL);
    else
        tas_note(c, "%s: %s: unexpected type", c->t->name, key);
}

/* STATUS, STATUS0 .. STATUS11: node info, and the sensor and state parts as values. */
static void map_status(tas_ctx *c, const cJSON *root)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!cJSON_IsObject(it)) {
            tas_note(c, "%s: %s: not an object", c->t->name, it->string);
        } else if (strcmp(it->string, "Status") == 0) {
            sb_msg *m = tas_msg(c, SB_MSG_PRESENTATION, "");
            info(c, m, it, "DeviceName", "name");
            if (!cJSON_GetObjectItemCaseSensitive(it, "DeviceName"))
                info(c, m, it, "FriendlyName", "name");
            info(c, m, it, "Module", "module");
            info(c, m, it, "Topic", "topic");
        } else if (strcmp(it->string, "StatusFWR") == 0) {
            sb_msg *m = tas_msg(c, SB_MSG_PRESENTATION, "");
            info(c, m, it, "Version", "version");
            info(c, m, it, "Hardware", "hardware");
        } else if (strcmp(it->string, "StatusNET") == 0) {
            sb_msg *m = tas_msg(c, SB_MSG_PRESENTATION, "");
            info(c, m, it, "IPAddress", "ip");
            info(c, m, it, "Hostname", "hostname");
            info(c, m, it, "Mac", "mac");
        } else if (strcmp(it->string, "StatusSNS") == 0) {
            tas_sensor(c, it);
        } else if (strcmp(it->string, "StatusSTS") == 0) {
            tas_state(c, it, "StatusSTS");
        } /* StatusPRM, StatusLOG, StatusMEM, StatusMQT, StatusTIM ...: not device data */
    }
}

static bool is_status(const char *name)
{
    if (strncmp(name, "STATUS", 6) != 0)
        return false;
    for (const char *p = name + 6; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* The names whose payload is JSON, mapped by fn. */
static void map_json(tas_ctx *c, const char *payload, size_t len,
                     void (*fn)(tas_ctx *, const cJSON *))
{
    char *text = scrub(payload, len);
    if (!text) {
        c->nomem = true;
        return;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root))
        tas_note(c, "%s: payload is not a JSON object: '%.*s'", c->t->name,
                 (int)(len < 60 ? len : 60), payload);
    else
        fn(c, root);
    cJSON_Delete(root);
}

static void state_fn(tas_ctx *c, const cJSON *root)
{
    tas_state(c, root, c->t->name);
}

sb_err sb_tas_map(const sb_tas_opts *o, const sb_tas_topic *t, const void *payload, size_t len,
                  sb_tas_result *out)
{
    memset(out, 0, sizeof(*out));
    tas_ctx c = {.o = o, .t = t, .r = out};
    const char *p = payload;
    char text[64];
    snprintf(text, sizeof(text), "%.*s", (int)(len < 63 ? len : 63), p);
    unsigned relay;
    if (t->prefix == SB_TAS_CMND)
        tas_note(&c, "%s: a command topic, not device data", t->name);
    else if (t->prefix == SB_TAS_TELE && strcmp(t->name, "LWT") == 0)
        map_lwt(&c, text);
    else if (strcmp(t->name, "SENSOR") == 0)
        map_json(&c, p, len, tas_sensor);
    else if (strcmp(t->name, "STATE") == 0 || strcmp(t->name, "RESULT") == 0)
        map_json(&c, p, len, state_fn);
    else if (t->prefix == SB_TAS_STAT && is_status(t->name))
        map_json(&c, p, len, map_status);
    else if (t->prefix == SB_TAS_STAT && tas_relay_name(t->name, &relay))
        tas_relay(&c, t->name, text);
    else
        tas_note(&c, "%s: not mapped", t->name);
    out->m.nomem = out->m.nomem || c.nomem;
    sb_err rc = sb_mapped_finish(&out->m); /* drops messages whose every value was skipped */
    if (rc != SB_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

void sb_tas_result_free(sb_tas_result *r)
{
    if (!r)
        return;
    sb_mapped_free(&r->m);
    memset(r, 0, sizeof(*r));
}
