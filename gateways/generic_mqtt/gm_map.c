/*
 * gm_map.c - one publish through the generic MQTT mappings: topic patterns, ids from captured
 * levels, values from JSON paths, and the routes writes take (gm_map.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/json.h"
#include "gateways/generic_mqtt/gm_internal.h"

typedef struct gm_ctx {
    sb_mapped *r;
    const char *gateway_id;
} gm_ctx;

#define note(c, ...) sb_mapped_note((c)->r, __VA_ARGS__)

/* ---- topics -------------------------------------------------------------------------------- */

/* Matches topic against m's pattern; captured levels go into caps (an object). */
static bool match(const gm_mapping *m, const char *topic, cJSON *caps)
{
    const char *s = topic;
    for (size_t k = 0; k < m->n_levels; k++) {
        if (m->kinds[k] == L_REST)
            return true;
        if (!s)
            return false;
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (m->kinds[k] == L_LIT && (strlen(m->levels[k]) != n || strncmp(m->levels[k], s, n)))
            return false;
        if (m->kinds[k] == L_CAPTURE) {
            char *v = strndup(s, n);
            bool ok = v && cJSON_AddStringToObject(caps, m->levels[k], v);
            free(v);
            if (!ok)
                return false;
        }
        s = end ? end + 1 : NULL;
    }
    return s == NULL;
}

/* An id from a text with {name} levels; '.', ':', '/', white space, '+', '#' become '_'.
 * False when it is empty or too long. */
static bool make_id(const char *text, const cJSON *caps, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = text; *p; p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        char name[SB_GM_TOPIC_MAX];
        const char *v = NULL;
        if (close && (size_t)(close - p - 1) < sizeof(name)) {
            memcpy(name, p + 1, (size_t)(close - p - 1));
            name[close - p - 1] = '\0';
            v = sb_json_str(caps, name, "");
            p = close;
        }
        for (const char *q = v ? v : p; *q && (v || q == p); q++) {
            unsigned char ch = (unsigned char)*q;
            if (o + 1 >= len)
                return false;
            out[o++] = ch <= ' ' || ch == 0x7f || strchr("./:+#", ch) ? '_' : (char)ch;
        }
    }
    out[o] = '\0';
    return o > 0 && o <= SB_MSG_ID_MAX;
}

/* ---- values -------------------------------------------------------------------------------- */

static bool no_reading(const char *s)
{
    return strcasecmp(s, "nan") == 0 || strcasecmp(s, "-nan") == 0 || strcasecmp(s, "inf") == 0 ||
           strcasecmp(s, "-inf") == 0 || !*s;
}

/* A value of field key; a key m already has (named in fields and met again by allFields) keeps
 * its first value without a note. */
static void add(gm_ctx *c, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                const char *unit)
{
    for (size_t i = 0; i < m->n_payloads; i++)
        if (strcmp(m->payloads[i].key, key) == 0)
            return;
    if (strpbrk(key, ".: \t\r\n"))
        note(c, "%s.%.40s: not usable as a field id", m->source_id, key);
    else
        sb_mapped_add(c->r, m, key, value, mt, unit);
}

/* A JSON scalar (or plain text: v NULL, text given) as field f. */
static void value(gm_ctx *c, sb_msg *m, const char *key, const cJSON *v, const char *text,
                  sb_metric_type mt, bool mt_auto, const char *unit)
{
    char buf[64];
    bool numeric = mt == SB_METRIC_GAUGE || mt == SB_METRIC_GAUGE_FLOAT || mt == SB_METRIC_COUNTER;
    if (v && cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(buf, sizeof(buf), "%.15g", v->valuedouble);
        add(c, m, key, buf, mt_auto ? SB_METRIC_GAUGE_FLOAT : mt, unit);
    } else if (v && cJSON_IsBool(v)) {
        add(c, m, key, cJSON_IsTrue(v) ? "true" : "false", mt_auto ? SB_METRIC_BINARY : mt, unit);
    } else if (v && !cJSON_IsString(v)) {
        note(c, "%s.%s: %s, skipped", m->source_id, key,
             cJSON_IsNull(v) ? "null" : "not a number, text or boolean");
    } else {
        const char *s = v ? v->valuestring : text;
        if (numeric && no_reading(s))
            note(c, "%s.%s: no reading ('%.20s'), skipped", m->source_id, key, s);
        else
            add(c, m, key, s, mt_auto ? SB_METRIC_STRING : mt, unit);
    }
}

/* Whether key is what one of mp's fields reads (its path or its id). */
static bool named(const gm_mapping *mp, const char *key)
{
    for (size_t k = 0; k < mp->n_fields; k++)
        if (strcmp(mp->fields[k].path, key) == 0 || strcmp(mp->fields[k].field, key) == 0)
            return true;
    return false;
}

/* Every other top-level scalar of an object payload, by its key (allFields). */
static void all_fields(gm_ctx *c, const gm_mapping *mp, sb_msg *m, const cJSON *root)
{
    const cJSON *it, *obj = cJSON_IsObject(root) ? root : NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsObject(it) && !cJSON_IsArray(it) && !named(mp, it->string))
            value(c, m, it->string, it, NULL, SB_METRIC_NONE, true, NULL);
    }
}

static void fields(gm_ctx *c, const gm_mapping *mp, sb_msg *m, const cJSON *root, const char *text)
{
    for (size_t k = 0; k < mp->n_fields; k++) {
        const gm_field *f = &mp->fields[k];
        const cJSON *v = NULL;
        if (root)
            v = *f->path ? sb_json_path(root, f->path) : root;
        if (root ? !v : *f->path) {
            note(c, "%s: %s: no '%s' in the payload", mp->name, f->field, *f->path ? f->path : "$");
            continue;
        }
        if (v && (cJSON_IsObject(v) || cJSON_IsArray(v)))
            note(c, "%s: %s: '%s' is an object or list", mp->name, f->field, f->path);
        else
            value(c, m, f->field, v, text, f->mt, f->mt_auto, f->unit);
    }
    if (mp->all_fields)
        all_fields(c, mp, m, root);
}

/* ---- routes -------------------------------------------------------------------------------- */

sb_gm_routes *sb_gm_routes_new(void)
{
    return calloc(1, sizeof(sb_gm_routes));
}

void sb_gm_routes_free(sb_gm_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->r[i].captures);
    free(r->r);
    free(r);
}

size_t sb_gm_routes_count(const sb_gm_routes *r)
{
    return r ? r->n : 0;
}

/* Remembers node/source -> mapping and captures (takes caps; full: the oldest stays). */
static void route(sb_gm_routes *r, const char *node, const char *source, size_t mapping,
                  cJSON *caps)
{
    size_t i = 0;
    while (i < r->n && (strcmp(r->r[i].node, node) || strcmp(r->r[i].source, source)))
        i++;
    if (i == r->n) {
        if (r->n == SB_GM_ROUTES) {
            cJSON_Delete(caps);
            return;
        }
        if (sb_array_reserve(&r->r, &r->cap, r->n + 1, sizeof(*r->r), 16) != SB_OK) {
            cJSON_Delete(caps);
            return;
        }
        memset(&r->r[r->n++], 0, sizeof(gm_route));
    }
    cJSON_Delete(r->r[i].captures);
    snprintf(r->r[i].node, sizeof(r->r[i].node), "%s", node);
    snprintf(r->r[i].source, sizeof(r->r[i].source), "%s", source);
    r->r[i].mapping = mapping;
    r->r[i].captures = caps;
}

/* ---- one publish --------------------------------------------------------------------------- */

static void one(gm_ctx *c, const sb_gm_config *cfg, size_t i, sb_gm_routes *routes,
                const cJSON *root, const char *text, cJSON *caps)
{
    const gm_mapping *mp = &cfg->maps[i];
    char node[SB_MSG_ID_MAX + 2], source[SB_MSG_ID_MAX + 2] = "";
    if (!make_id(mp->node, caps, node, sizeof(node)) ||
        (*mp->source && !make_id(mp->source, caps, source, sizeof(source)))) {
        note(c, "%s: node or source id empty or longer than %d bytes", mp->name, SB_MSG_ID_MAX);
        cJSON_Delete(caps);
        return;
    }
    sb_msg *m = sb_mapped_msg(c->r, c->gateway_id, node, source, SB_MSG_SET);
    if (!m) {
        cJSON_Delete(caps);
        return;
    }
    fields(c, mp, m, root, text);
    if (routes && mp->write_topic && m->n_payloads)
        route(routes, node, source, i, caps);
    else
        cJSON_Delete(caps);
}

sb_err sb_gm_map(const sb_gm_config *c, sb_gm_routes *routes, const char *gateway_id,
                 const char *topic, const void *payload, size_t len, sb_gm_result *out)
{
    memset(out, 0, sizeof(*out));
    gm_ctx ctx = {.r = &out->out, .gateway_id = gateway_id};
    cJSON *root = cJSON_ParseWithLength(payload, len);
    char *text = NULL;
    if (!root && !(text = strndup(payload, len)))
        ctx.r->nomem = true;
    if (text && strlen(text) != len) {
        note(&ctx, "payload has a NUL byte, skipped");
        free(text);
        text = NULL;
    }
    for (size_t i = 0; !ctx.r->nomem && (root || text) && i < c->n; i++) {
        cJSON *caps = cJSON_CreateObject();
        if (!caps) {
            ctx.r->nomem = true;
        } else if (!match(&c->maps[i], topic, caps)) {
            cJSON_Delete(caps);
        } else {
            out->matched++;
            one(&ctx, c, i, routes, root, text, caps);
        }
    }
    cJSON_Delete(root);
    free(text);
    return sb_mapped_finish(&out->out);
}

void sb_gm_result_free(sb_gm_result *r)
{
    if (!r)
        return;
    sb_mapped_free(&r->out);
    memset(r, 0, sizeof(*r));
}
