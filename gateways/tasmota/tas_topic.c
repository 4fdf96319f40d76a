/*
 * tas_topic.c - reading topics against a Tasmota FullTopic, subscription filters and command
 * topics (tas_map.h).
 */
#include <stdio.h>
#include <string.h>

#include "gateways/tasmota/tas_map.h"

#define DEFAULT_FULL_TOPIC "%prefix%/%topic%/"

static const char *const default_prefix[3] = {"cmnd", "stat", "tele"};

typedef enum { LIT, PREFIX, TOPIC, ANY } level_kind;

typedef struct tmpl {
    char buf[SB_TAS_TOPIC_MAX];
    const char *lv[SB_TAS_LEVELS];
    level_kind kind[SB_TAS_LEVELS];
    size_t n, topic_at;
} tmpl;

static const char *word(const sb_tas_opts *o, sb_tas_prefix p)
{
    return o->prefix[p] && *o->prefix[p] ? o->prefix[p] : default_prefix[p];
}

static level_kind kind_of(const char *lv)
{
    if (strcmp(lv, "%prefix%") == 0)
        return PREFIX;
    if (strcmp(lv, "%topic%") == 0)
        return TOPIC;
    if (strcmp(lv, "%hostname%") == 0 || strcmp(lv, "%id%") == 0)
        return ANY;
    return LIT;
}

/* Splits the template into levels (a trailing '/' ends it) and checks it. */
static sb_err tmpl_load(const char *full, tmpl *t, sb_errmsg *em)
{
    if (!full || !*full)
        full = DEFAULT_FULL_TOPIC;
    size_t len = strlen(full);
    if (len >= sizeof(t->buf))
        return sb_fail(em, SB_ERR_INVALID, "fullTopic: longer than %zu bytes", sizeof(t->buf) - 1);
    memcpy(t->buf, full, len + 1);
    if (len && t->buf[len - 1] == '/')
        t->buf[len - 1] = '\0';
    t->n = 0;
    size_t prefixes = 0, topics = 0;
    for (char *s = t->buf;; s++) {
        char *end = strchr(s, '/');
        if (end)
            *end = '\0';
        if (t->n == SB_TAS_LEVELS)
            return sb_fail(em, SB_ERR_INVALID, "fullTopic: more than %d levels", SB_TAS_LEVELS);
        if (!*s || strpbrk(s, "+#"))
            return sb_fail(em, SB_ERR_INVALID, "fullTopic '%s': empty level or wildcard", full);
        t->kind[t->n] = kind_of(s);
        if (t->kind[t->n] == LIT && strchr(s, '%'))
            return sb_fail(em, SB_ERR_INVALID, "fullTopic '%s': unknown token '%s'", full, s);
        prefixes += t->kind[t->n] == PREFIX;
        if (t->kind[t->n] == TOPIC)
            t->topic_at = t->n, topics++;
        t->lv[t->n++] = s;
        if (!end)
            break;
        s = end;
    }
    if (prefixes != 1 || topics != 1)
        return sb_fail(em, SB_ERR_INVALID, "fullTopic '%s': needs %%prefix%% and %%topic%% once",
                       full);
    return SB_OK;
}

sb_err sb_tas_full_topic_check(const char *full_topic, sb_errmsg *em)
{
    tmpl t;
    return tmpl_load(full_topic, &t, em);
}

void sb_tas_sanitize(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = c <= ' ' || c == 0x7f || strchr("./:+#", c) ? '_' : (char)c;
    }
    if (len)
        out[i] = '\0';
}

/* Appends s and a '/' to buf at *at; false when it does not fit. */
static bool put(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
    if (*at + n + 2 > len)
        return false;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[(*at)++] = '/';
    buf[*at] = '\0';
    return true;
}

static sb_err parse_levels(const sb_tas_opts *o, const tmpl *t, const char *topic, size_t nl,
                           const char **lv, const size_t *ll, sb_tas_topic *out, sb_errmsg *em)
{
    size_t span = nl - 1 - (t->n - 1), k = 0, dev = 0, base = 0;
    bool have_prefix = false;
    for (size_t i = 0; i < t->n; i++) {
        size_t take = t->kind[i] == TOPIC ? span : 1;
        if (t->kind[i] == LIT && (ll[k] != strlen(t->lv[i]) || memcmp(lv[k], t->lv[i], ll[k])))
            return sb_fail(em, SB_ERR_INVALID, "%s: level %zu is not '%s'", topic, k + 1, t->lv[i]);
        if (t->kind[i] == PREFIX) {
            for (int p = SB_TAS_CMND; p <= SB_TAS_TELE && !have_prefix; p++) {
                const char *w = word(o, (sb_tas_prefix)p);
                if (ll[k] == strlen(w) && memcmp(lv[k], w, ll[k]) == 0)
                    out->prefix = (sb_tas_prefix)p, have_prefix = true;
            }
            if (!have_prefix)
                return sb_fail(em, SB_ERR_INVALID, "%s: no cmnd/stat/tele prefix", topic);
            const char *c = word(o, SB_TAS_CMND);
            if (!put(out->cmnd_base, sizeof(out->cmnd_base), &base, c, strlen(c)))
                return sb_fail(em, SB_ERR_TOO_LARGE, "%s: too long", topic);
            k++;
            continue;
        }
        for (size_t j = 0; j < take; j++, k++) {
            if (!put(out->cmnd_base, sizeof(out->cmnd_base), &base, lv[k], ll[k]))
                return sb_fail(em, SB_ERR_TOO_LARGE, "%s: too long", topic);
            if (t->kind[i] == TOPIC && !put(out->device, sizeof(out->device), &dev, lv[k], ll[k]))
                return sb_fail(em, SB_ERR_TOO_LARGE, "%s: too long", topic);
        }
    }
    out->device[dev ? dev - 1 : 0] = '\0'; /* drop the last '/' */
    return SB_OK;
}

sb_err sb_tas_topic_parse(const sb_tas_opts *o, const char *topic, sb_tas_topic *out, sb_errmsg *em)
{
    tmpl t;
    sb_err rc = tmpl_load(o->full_topic, &t, em);
    if (rc != SB_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    const char *lv[SB_TAS_LEVELS * 2 + 2];
    size_t ll[SB_TAS_LEVELS * 2 + 2], nl = 0;
    if (strlen(topic) >= SB_TAS_TOPIC_MAX)
        return sb_fail(em, SB_ERR_TOO_LARGE, "topic longer than %d bytes", SB_TAS_TOPIC_MAX - 1);
    for (const char *s = topic;;) {
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n == 0 || nl == sizeof(lv) / sizeof(lv[0]))
            return sb_fail(em, SB_ERR_INVALID, "%s: empty level or too many levels", topic);
        lv[nl] = s, ll[nl++] = n;
        if (!end)
            break;
        s = end + 1;
    }
    if (nl < t.n + 1)
        return sb_fail(em, SB_ERR_INVALID, "%s: fewer levels than the fullTopic", topic);
    if (ll[nl - 1] >= sizeof(out->name))
        return sb_fail(em, SB_ERR_INVALID, "%s: last level too long", topic);
    memcpy(out->name, lv[nl - 1], ll[nl - 1]);
    rc = parse_levels(o, &t, topic, nl, lv, ll, out, em);
    if (rc != SB_OK)
        return rc;
    if (strlen(out->device) > SB_MSG_ID_MAX)
        return sb_fail(em, SB_ERR_INVALID, "%s: device topic longer than %d bytes", topic,
                       SB_MSG_ID_MAX);
    sb_tas_sanitize(out->device, out->node_id, sizeof(out->node_id));
    return SB_OK;
}

sb_err sb_tas_filters(const sb_tas_opts *o, char f[2][SB_TAS_TOPIC_MAX], size_t *n, sb_errmsg *em)
{
    tmpl t;
    sb_err rc = tmpl_load(o->full_topic, &t, em);
    if (rc != SB_OK)
        return rc;
    *n = 0;
    for (int p = SB_TAS_STAT; p <= SB_TAS_TELE; p++) {
        size_t at = 0;
        bool used_prefix = false;
        for (size_t i = 0; i < t.n; i++) {
            const char *s = t.kind[i] == LIT ? t.lv[i] : t.kind[i] == ANY ? "+" : NULL;
            if (t.kind[i] == PREFIX)
                s = word(o, (sb_tas_prefix)p), used_prefix = true;
            if (t.kind[i] == TOPIC)
                s = "#";
            if (!put(f[*n], SB_TAS_TOPIC_MAX, &at, s, strlen(s)))
                return sb_fail(em, SB_ERR_TOO_LARGE, "fullTopic: filter too long");
            if (t.kind[i] == TOPIC)
                break;
        }
        f[*n][at - 1] = '\0';
        (*n)++;
        if (!used_prefix) /* %topic% comes first: one filter covers both prefixes */
            break;
    }
    return SB_OK;
}

sb_err sb_tas_cmnd_base(const sb_tas_opts *o, const char *device, char *buf, size_t len,
                        sb_errmsg *em)
{
    tmpl t;
    sb_err rc = tmpl_load(o->full_topic, &t, em);
    if (rc != SB_OK)
        return rc;
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t.n; i++) {
        if (t.kind[i] == ANY)
            return sb_fail(em, SB_ERR_INVALID, "device '%s' not seen yet: its %s is unknown",
                           device, t.lv[i]);
        const char *s = t.kind[i] == PREFIX  ? word(o, SB_TAS_CMND)
                        : t.kind[i] == TOPIC ? device
                                             : t.lv[i];
        if (!put(buf, len, &at, s, strlen(s)))
            return sb_fail(em, SB_ERR_TOO_LARGE, "command topic too long");
    }
    return SB_OK;
}
