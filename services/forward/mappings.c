/*
 * mappings.c - which forward_payload mappings are in force: the enabled ones that name two
 * fields and do not close a loop with the mappings already in force. A loop would make a set
 * travel around for ever (A's change sets B, B's change sets A ...), so the mapping that would
 * close one is refused and its state says which loop; the others keep working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "services/forward/forward.h"

sb_err fwd_field_id(const char *text, char *out, size_t len, sb_errmsg *em)
{
    char buf[SB_QUICKID_MAX + 8];
    sb_quickid q;
    if (!text || !*text)
        return sb_fail(em, SB_ERR_INVALID, "missing");
    snprintf(buf, sizeof(buf), "%s%s", strchr(text, ':') ? "" : "field:", text);
    sb_err rc = sb_quickid_parse(buf, &q, em);
    if (rc != SB_OK)
        return rc;
    if (q.kind != SB_KIND_FIELD)
        return sb_fail(em, SB_ERR_INVALID, "'%.64s' is a %s, not a field", text,
                       sb_entity_kind_name(q.kind));
    if (q.key_path[0])
        return sb_fail(em, SB_ERR_INVALID, "'%.64s': a key path is not allowed", text);
    if ((size_t)snprintf(out, len, "%s.%s.%s.%s", q.ids[0], q.ids[1], q.ids[2], q.ids[3]) >= len)
        return sb_fail(em, SB_ERR_TOO_LARGE, "'%.64s' is too long", text);
    return SB_OK;
}

/* Depth-first from `from` along the edges not yet seen; stack gets the path on success. */
static bool reach(const fwd_map *maps, size_t n, const char *from, const char *to, bool *seen,
                  const char **stack, size_t *depth)
{
    stack[(*depth)++] = from;
    if (strcmp(from, to) == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (seen[i] || strcmp(maps[i].src, from) != 0)
            continue;
        seen[i] = true;
        if (reach(maps, n, maps[i].dst, to, seen, stack, depth))
            return true;
    }
    (*depth)--;
    return false;
}

bool fwd_closes_loop(const fwd_map *maps, size_t n, const char *src, const char *dst, char *path,
                     size_t len)
{
    bool *seen = calloc(n + 1, sizeof(*seen));
    const char **stack = calloc(n + 2, sizeof(*stack));
    size_t depth = 0;
    bool loop = true; /* out of memory: refuse rather than risk a loop */
    if (seen && stack)
        loop = reach(maps, n, dst, src, seen, stack, &depth);
    if (path && len) {
        snprintf(path, len, "%s", src);
        for (size_t i = 0; loop && i < depth; i++)
            snprintf(path + strlen(path), len - strlen(path), " -> %s", stack[i]);
    }
    free(seen);
    free(stack);
    return loop;
}

/* ---- reloading ---------------------------------------------------------------------------- */

typedef struct verdict {
    const char *status;
    char message[512];
} verdict;

static const fwd_map *find_map(const fwd_map *maps, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(maps[i].id, id) == 0)
            return &maps[i];
    return NULL;
}

/* Stores doc's new state (when it changed) and publishes the mapping's event. */
static void save_state(fwd_service *s, cJSON *doc, const verdict *v)
{
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(doc, "state");
    if (strcmp(sb_json_str(old, "status", ""), v->status) == 0 &&
        strcmp(sb_json_str(old, "message", ""), v->message) == 0)
        return;
    char since[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), since, sizeof(since));
    cJSON *st = cJSON_CreateObject();
    if (!st || !sb_json_set_str(st, "status", v->status) ||
        !sb_json_set_str(st, "message", v->message) || !sb_json_set_str(st, "since", since) ||
        !sb_json_set(doc, "state", st))
        return;
    const char *id = sb_json_str(doc, "id", "");
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_put(s->store, "forward_payload", doc, &em);
    if (rc == SB_OK)
        rc = sb_event_publish(s->bus, "updated", "forward_payload", id, NULL, doc);
    if (rc != SB_OK)
        sb_warn(NULL, "forward_payload '%s': state not saved: %s", id, sb_errmsg_str(&em, rc));
}

/* Parses doc into m; false with the reason in v when it names no two fields. */
static bool parse_doc(const cJSON *doc, fwd_map *m, verdict *v)
{
    sb_errmsg em = {{0}};
    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", sb_json_str(doc, "id", ""));
    sb_err rc = fwd_field_id(sb_json_str(doc, "srcFieldId", NULL), m->src, sizeof(m->src), &em);
    if (rc == SB_OK && (rc = fwd_field_id(sb_json_str(doc, "dstFieldId", NULL), m->dst,
                                          sizeof(m->dst), &em)) != SB_OK)
        sb_fail_wrap(&em, rc, "dstFieldId");
    else if (rc != SB_OK)
        sb_fail_wrap(&em, rc, "srcFieldId");
    if (rc == SB_OK)
        return true;
    v->status = "error";
    snprintf(v->message, sizeof(v->message), "%s", em.text);
    return false;
}

/* Decides one enabled document against the accepted list; appends it when accepted. */
static void decide(const cJSON *doc, const fwd_map *old, size_t n_old, fwd_map *acc, size_t *n,
                   verdict *v)
{
    fwd_map m;
    if (!parse_doc(doc, &m, v))
        return;
    char path[400];
    if (fwd_closes_loop(acc, *n, m.src, m.dst, path, sizeof(path))) {
        v->status = "error";
        snprintf(v->message, sizeof(v->message), "refused: it would close the loop %s", path);
        return;
    }
    const fwd_map *prev = find_map(old, n_old, m.id);
    if (prev && strcmp(prev->src, m.src) == 0)
        memcpy(m.last_ts, prev->last_ts, sizeof(m.last_ts));
    acc[(*n)++] = m;
    v->status = "ok";
    v->message[0] = '\0';
}

/* Whether doc is an enabled mapping that was in force before with the same fields. */
static bool kept(const cJSON *doc, const fwd_map *old, size_t n_old)
{
    fwd_map m;
    verdict v;
    const fwd_map *prev = find_map(old, n_old, sb_json_str(doc, "id", ""));
    return prev && sb_json_bool(doc, "enabled", false) && parse_doc(doc, &m, &v) &&
           strcmp(prev->src, m.src) == 0 && strcmp(prev->dst, m.dst) == 0;
}

void fwd_reload(fwd_service *s)
{
    cJSON *found = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_find(s->store, "forward_payload", NULL, &found, &em);
    if (rc != SB_OK) {
        sb_error(NULL, "reading the forward_payload mappings: %s", sb_errmsg_str(&em, rc));
        return;
    }
    cJSON *docs = cJSON_GetObjectItemCaseSensitive(found, "data");
    size_t total = (size_t)cJSON_GetArraySize(docs), n = 0;
    fwd_map *acc = calloc(total + 1, sizeof(*acc));
    verdict *v = calloc(total + 1, sizeof(*v));
    if (!acc || !v) {
        sb_error(NULL, "reloading the mappings: out of memory");
        goto done;
    }
    /* Locked while deciding (no I/O in it): the bus thread updates last_ts of the old list. */
    pthread_mutex_lock(&s->mu);
    fwd_map *old = s->maps;
    size_t n_old = s->n_maps;
    /* In force before: they stay (a subset of a loop-free set is loop-free); then the rest. */
    for (int pass = 0; pass < 2; pass++) {
        size_t i = 0;
        for (const cJSON *doc = docs ? docs->child : NULL; doc; doc = doc->next, i++) {
            if (!sb_json_bool(doc, "enabled", false) || (pass == 0) != kept(doc, old, n_old))
                continue;
            decide(doc, old, n_old, acc, &n, &v[i]);
        }
    }
    s->maps = acc;
    s->n_maps = n;
    pthread_mutex_unlock(&s->mu);
    acc = old;
    size_t i = 0, refused = 0;
    for (cJSON *doc = docs ? docs->child : NULL; doc; doc = doc->next, i++) {
        if (!v[i].status)
            continue; /* disabled: its state is left as it was */
        if (strcmp(v[i].status, "ok") != 0) {
            refused++;
            sb_warn(NULL, "forward_payload '%s': %s", sb_json_str(doc, "id", ""), v[i].message);
        }
        save_state(s, doc, &v[i]);
    }
    atomic_store(&s->refused, refused);
    sb_info(NULL, "%zu mappings in force, %zu refused", n, refused);
done:
    free(acc);
    free(v);
    cJSON_Delete(found);
}
