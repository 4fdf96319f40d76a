/*
 * quickid.c - parsing and formatting quick ids ("field:gw1.12.1.V_TEMP.current.value").
 *
 * Grammar:   quickid  = kind ":" id *( "." id ) [ "." keypath ]
 *            kind     = a kind name or alias, any case
 *            id       = 1..127 bytes, no '.', ':', whitespace or control characters
 *            keypath  = segment *( "." segment ), segments non-empty, no whitespace
 * The kind fixes how many ids come first (4 for a field, 1 for a task); what follows them is
 * the key path. Everything is checked; errors quote the input and name the problem.
 */
#include "core/quickid.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct kind_info {
    const char *name;
    int depth;
    const char *parts; /* what the ids are, for messages */
    const char *aliases[4];
} kind_info;

/* Aliases are the prefixes MyController v1/v2 accepted (including its "sensor_filed" typo). */
static const kind_info kinds[SB_KIND__COUNT] = {
    [SB_KIND_GATEWAY] = {"gateway", 1, "gateway", {"gw"}},
    [SB_KIND_NODE] = {"node", 2, "gateway.node", {"nd", "no"}},
    [SB_KIND_SOURCE] = {"source", 3, "gateway.node.source", {"sn", "sensor"}},
    [SB_KIND_FIELD] = {"field",
                       4,
                       "gateway.node.source.field",
                       {"sf", "sensor_field", "sensor_filed"}},
    [SB_KIND_TASK] = {"task", 1, "task", {"tk"}},
    [SB_KIND_SCHEDULE] = {"schedule", 1, "schedule", {"sk", "scheduler"}},
    [SB_KIND_HANDLER] = {"handler", 1, "handler", {"hd", "notify_handler"}},
    [SB_KIND_FORWARD_PAYLOAD] = {"forward_payload", 1, "forward_payload", {"forwardpayload"}},
    [SB_KIND_FIRMWARE] = {"firmware", 1, "firmware", {"fw"}},
    [SB_KIND_DASHBOARD] = {"dashboard", 1, "dashboard", {0}},
    [SB_KIND_DATA_REPOSITORY] = {"data_repository", 1, "data_repository", {"datarepository"}},
    [SB_KIND_USER] = {"user", 1, "user", {0}},
    [SB_KIND_SERVICE_TOKEN] = {"service_token", 1, "service_token", {"servicetoken"}},
    [SB_KIND_SETTINGS] = {"settings", 1, "settings", {0}},
};

static const char *const id_names[4] = {"gateway", "node", "source", "field"};

const char *sb_entity_kind_name(sb_entity_kind kind)
{
    if ((unsigned)kind >= SB_KIND__COUNT)
        return "unknown";
    return kinds[kind].name;
}

/* Case-insensitive lookup of n bytes of name among kinds and aliases. */
static bool kind_lookup(const char *name, size_t n, sb_entity_kind *out)
{
    for (int k = 0; k < SB_KIND__COUNT; k++) {
        const char *cands[5] = {kinds[k].name, kinds[k].aliases[0], kinds[k].aliases[1],
                                kinds[k].aliases[2], kinds[k].aliases[3]};
        for (int i = 0; i < 5 && cands[i]; i++) {
            if (strlen(cands[i]) == n && strncasecmp(name, cands[i], n) == 0) {
                *out = (sb_entity_kind)k;
                return true;
            }
        }
    }
    return false;
}

sb_err sb_entity_kind_parse(const char *name, sb_entity_kind *out)
{
    if (!name || !kind_lookup(name, strlen(name), out))
        return SB_ERR_INVALID;
    return SB_OK;
}

int sb_entity_kind_depth(sb_entity_kind kind)
{
    if ((unsigned)kind >= SB_KIND__COUNT)
        return 0;
    return kinds[kind].depth;
}

static bool bad_id_char(unsigned char c)
{
    return c <= ' ' || c == 0x7f || c == '.' || c == ':';
}

int sb_quickid_valid_part(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (n + 1 >= SB_QUICKID_PART_MAX || bad_id_char((unsigned char)s[n]))
            return 0;
    return 1;
}

/* The first character of s[0..n) that an id cannot hold, or NULL. */
static const char *find_bad(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bad_id_char((unsigned char)s[i]))
            return s + i;
    return NULL;
}

static sb_err bad_char(sb_errmsg *em, const char *text, const char *what, char c)
{
    if ((unsigned char)c <= ' ' || c == 0x7f)
        return sb_fail(em, SB_ERR_INVALID,
                       "quick id '%.200s': %s contains whitespace or a control character", text,
                       what);
    return sb_fail(em, SB_ERR_INVALID, "quick id '%.200s': %s contains '%c'", text, what, c);
}

/* Reads the i-th id from *p (stopping at '.' or the end) into out. */
static sb_err parse_id(const char *text, sb_entity_kind kind, int i, const char **p,
                       sb_quickid *out, sb_errmsg *em)
{
    const char *s = *p, *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    char what[48];
    snprintf(what, sizeof(what), "id %d (%s)", i + 1,
             kinds[kind].depth > 1 ? id_names[i] : kinds[kind].name);
    if (n == 0)
        return sb_fail(em, SB_ERR_INVALID, "quick id '%.200s': %s is empty", text, what);
    if (n >= SB_QUICKID_PART_MAX)
        return sb_fail(em, SB_ERR_INVALID,
                       "quick id '%.200s': %s is %zu bytes, over the limit of %d", text, what, n,
                       SB_QUICKID_PART_MAX - 1);
    const char *bad = find_bad(s, n);
    if (bad)
        return bad_char(em, text, what, *bad);
    memcpy(out->ids[i], s, n);
    out->ids[i][n] = '\0';
    *p = dot ? dot + 1 : s + n;
    return SB_OK;
}

static sb_err parse_key_path(const char *text, const char *s, sb_quickid *out, sb_errmsg *em)
{
    size_t n = strlen(s);
    if (n >= sizeof(out->key_path))
        return sb_fail(em, SB_ERR_INVALID, "quick id '%.200s': key path over %zu bytes", text,
                       sizeof(out->key_path) - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f)
            return bad_char(em, text, "the key path", (char)c);
        if (c == '.' && (i == 0 || s[i - 1] == '.' || i + 1 == n))
            return sb_fail(em, SB_ERR_INVALID,
                           "quick id '%.200s': the key path has an empty segment", text);
    }
    if (n == 0)
        return sb_fail(em, SB_ERR_INVALID,
                       "quick id '%.200s': the key path is empty (ends with '.')", text);
    memcpy(out->key_path, s, n + 1);
    return SB_OK;
}

/* How many '.'-separated parts the rest has, for the "got N" in depth errors. */
static int count_parts(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == '.';
    return n;
}

sb_err sb_quickid_parse(const char *text, sb_quickid *out, sb_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (!text || !*text)
        return sb_fail(em, SB_ERR_INVALID, "quick id is empty");
    size_t len = strlen(text);
    if (len >= SB_QUICKID_MAX)
        return sb_fail(em, SB_ERR_INVALID, "quick id '%.60s...': %zu bytes, over the limit of %d",
                       text, len, SB_QUICKID_MAX - 1);
    const char *colon = strchr(text, ':');
    if (!colon)
        return sb_fail(em, SB_ERR_INVALID, "quick id '%.200s': expected kind:id, found no ':'",
                       text);
    if (!kind_lookup(text, (size_t)(colon - text), &out->kind))
        return sb_fail(em, SB_ERR_INVALID,
                       "quick id '%.200s': unknown kind '%.*s' (expected gateway, node, source, "
                       "field, task, schedule, handler, forward_payload, firmware, dashboard, "
                       "data_repository, user, service_token or settings)",
                       text, (int)(colon - text) > 64 ? 64 : (int)(colon - text), text);
    const char *p = colon + 1;
    int depth = kinds[out->kind].depth, got = count_parts(p);
    if (*p && got < depth)
        return sb_fail(em, SB_ERR_INVALID, "quick id '%.200s': a %s needs %d ids (%s), got %d",
                       text, kinds[out->kind].name, depth, kinds[out->kind].parts, got);
    for (int i = 0; i < depth; i++) {
        sb_err err = parse_id(text, out->kind, i, &p, out, em);
        if (err)
            return err;
    }
    out->n_ids = depth;
    /* parse_id stops after a '.', so a tail exists when it consumed one: "gw1." too. */
    if (*p || p[-1] == '.')
        return parse_key_path(text, p, out, em);
    return SB_OK;
}

/* Whether a key path would parse back: "" or non-empty segments without whitespace. */
static bool key_path_ok(const char *s)
{
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || (c == '.' && (i == 0 || s[i - 1] == '.' || !s[i + 1])))
            return false;
    }
    return true;
}

sb_err sb_quickid_format(const sb_quickid *qid, char *buf, size_t len)
{
    if (!qid || (unsigned)qid->kind >= SB_KIND__COUNT || qid->n_ids != kinds[qid->kind].depth)
        return SB_ERR_INVALID;
    for (int i = 0; i < qid->n_ids; i++)
        if (!memchr(qid->ids[i], '\0', SB_QUICKID_PART_MAX) || !sb_quickid_valid_part(qid->ids[i]))
            return SB_ERR_INVALID;
    if (!memchr(qid->key_path, '\0', sizeof(qid->key_path)) || !key_path_ok(qid->key_path))
        return SB_ERR_INVALID;
    int n = snprintf(buf, len, "%s:", kinds[qid->kind].name);
    for (int i = 0; n >= 0 && i < qid->n_ids; i++) {
        size_t at = (size_t)n < len ? (size_t)n : len;
        n += snprintf(buf + at, len - at, "%s%s", i ? "." : "", qid->ids[i]);
    }
    if (qid->key_path[0]) {
        size_t at = (size_t)n < len ? (size_t)n : len;
        n += snprintf(buf + at, len - at, ".%s", qid->key_path);
    }
    return n >= 0 && (size_t)n < len ? SB_OK : SB_ERR_TOO_LARGE;
}

sb_err sb_quickid_make(sb_quickid *out, sb_entity_kind kind, const char *id1, const char *id2,
                       const char *id3, const char *id4)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)kind >= SB_KIND__COUNT)
        return SB_ERR_INVALID;
    const char *parts[4] = {id1, id2, id3, id4};
    int n = 0;
    while (n < 4 && parts[n] && parts[n][0])
        n++;
    if (n != kinds[kind].depth)
        return SB_ERR_INVALID;
    for (int i = 0; i < n; i++) {
        if (!sb_quickid_valid_part(parts[i]))
            return SB_ERR_INVALID;
        strcpy(out->ids[i], parts[i]);
    }
    out->kind = kind;
    out->n_ids = n;
    return SB_OK;
}
