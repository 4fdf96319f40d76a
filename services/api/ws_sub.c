/*
 * ws_sub.c - websocket subscriptions: {"type":"subscribe","id"?,"quickIds","prefixes","kinds",
 * "events"} adds one subscription (all lists that are given must match, any entry within a
 * list); "unsubscribe" removes by id, removes list entries from every subscription, or removes
 * everything. Quick ids and kinds are stored with canonical kind names ("sf:" -> "field:") so
 * matching a bus event is plain string comparison. This parses outside input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "ws.h"

static void strs_free(ws_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void sub_free(ws_sub *s)
{
    strs_free(&s->quick_ids);
    strs_free(&s->prefixes);
    strs_free(&s->kinds);
    strs_free(&s->events);
}

static bool strs_has(const ws_strs *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return true;
    return false;
}

/* "sf:gw1.1.2.t" -> "field:gw1.1.2.t"; a text without a known kind is kept as it is. */
static char *canonical(const char *text, bool as_kind)
{
    char kind[64];
    const char *colon = as_kind ? text + strlen(text) : strchr(text, ':');
    sb_entity_kind k;
    if (!colon || (size_t)(colon - text) >= sizeof(kind))
        return strdup(text);
    snprintf(kind, sizeof(kind), "%.*s", (int)(colon - text), text);
    if (sb_entity_kind_parse(kind, &k) != SB_OK)
        return strdup(text);
    const char *name = sb_entity_kind_name(k);
    size_t n = strlen(name) + strlen(colon) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s", name, colon);
    return out;
}

static sb_err read_list(const cJSON *msg, const char *key, bool as_kind, ws_strs *out,
                        sb_errmsg *em)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(msg, key);
    if (!arr || cJSON_IsNull(arr))
        return SB_OK;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > WS_LIST_MAX)
        return sb_fail(em, SB_ERR_INVALID, "%s: expected an array of at most %d strings", key,
                       WS_LIST_MAX);
    out->v = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(char *));
    if (!out->v)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return sb_fail(em, SB_ERR_INVALID, "%s: expected non-empty strings", key);
        if (!(out->v[out->n] = canonical(e->valuestring, as_kind)))
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        out->n++;
    }
    return SB_OK;
}

static sb_err read_sub(const cJSON *msg, ws_sub *s, sb_errmsg *em)
{
    sb_err rc = read_list(msg, "quickIds", false, &s->quick_ids, em);
    if (rc == SB_OK)
        rc = read_list(msg, "prefixes", false, &s->prefixes, em);
    if (rc == SB_OK)
        rc = read_list(msg, "kinds", true, &s->kinds, em);
    if (rc == SB_OK)
        rc = read_list(msg, "events", false, &s->events, em);
    return rc;
}

sb_err ws_sub_add(ws_client *c, const cJSON *msg, char *id, size_t id_len, sb_errmsg *em)
{
    if (c->n_subs >= WS_SUBS_MAX)
        return sb_fail(em, SB_ERR_FULL, "at most %d subscriptions per socket", WS_SUBS_MAX);
    ws_sub s;
    memset(&s, 0, sizeof(s));
    const char *want = sb_json_str(msg, "id", NULL);
    static unsigned long seq;
    if (want)
        snprintf(s.id, sizeof(s.id), "%s", want);
    else
        snprintf(s.id, sizeof(s.id), "s%lu", ++seq);
    sb_err rc = read_sub(msg, &s, em);
    ws_sub *grown = rc == SB_OK ? realloc(c->subs, (c->n_subs + 1) * sizeof(*grown)) : NULL;
    if (rc == SB_OK && !grown)
        rc = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (rc != SB_OK) {
        sub_free(&s);
        return rc;
    }
    c->subs = grown;
    c->subs[c->n_subs++] = s;
    snprintf(id, id_len, "%s", s.id);
    return SB_OK;
}

static void strs_remove(ws_strs *s, const ws_strs *gone)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (strs_has(gone, s->v[i]))
            free(s->v[i]);
        else
            s->v[k++] = s->v[i];
    }
    s->n = k;
}

static bool sub_empty(const ws_sub *s)
{
    return !s->quick_ids.n && !s->prefixes.n && !s->kinds.n && !s->events.n;
}

size_t ws_sub_remove(ws_client *c, const cJSON *msg)
{
    const char *id = sb_json_str(msg, "id", NULL);
    ws_sub gone;
    memset(&gone, 0, sizeof(gone));
    bool lists = read_sub(msg, &gone, NULL) == SB_OK && !sub_empty(&gone);
    size_t k = 0, removed = 0;
    for (size_t i = 0; i < c->n_subs; i++) {
        ws_sub *s = &c->subs[i];
        bool drop = id ? strcmp(s->id, id) == 0 : !lists;
        if (!drop && !id) {
            /* Taking entries out of a list may leave a subscription without criteria, which
             * would match everything: such a subscription goes away. */
            bool had = !sub_empty(s);
            strs_remove(&s->quick_ids, &gone.quick_ids);
            strs_remove(&s->prefixes, &gone.prefixes);
            strs_remove(&s->kinds, &gone.kinds);
            strs_remove(&s->events, &gone.events);
            drop = had && sub_empty(s);
        }
        if (drop) {
            sub_free(s);
            removed++;
        } else {
            c->subs[k++] = *s;
        }
    }
    c->n_subs = k;
    sub_free(&gone);
    return removed;
}

void ws_sub_clear(ws_client *c)
{
    for (size_t i = 0; i < c->n_subs; i++)
        sub_free(&c->subs[i]);
    free(c->subs);
    c->subs = NULL;
    c->n_subs = 0;
}

/* "node:gw1.12" covers node gw1.12 and its sources and fields; "gw1" (no kind) is an id prefix. */
static bool prefix_match(const char *prefix, const ws_event_info *e)
{
    const char *colon = strchr(prefix, ':');
    if (!colon)
        return strncmp(e->entity_id, prefix, strlen(prefix)) == 0;
    char kind[64];
    sb_entity_kind k;
    snprintf(kind, sizeof(kind), "%.*s", (int)(colon - prefix), prefix);
    if (sb_entity_kind_parse(kind, &k) != SB_OK || e->kind < 0)
        return false;
    bool tree = k <= SB_KIND_FIELD && e->kind <= SB_KIND_FIELD;
    if (!(e->kind == (int)k || (tree && e->kind >= (int)k)))
        return false;
    size_t n = strlen(colon + 1);
    return strncmp(e->qid_ids, colon + 1, n) == 0 &&
           (e->qid_ids[n] == '\0' || e->qid_ids[n] == '.');
}

static bool sub_match(const ws_sub *s, const ws_event_info *e)
{
    if (s->kinds.n && !strs_has(&s->kinds, e->entity_type))
        return false;
    if (s->events.n && !strs_has(&s->events, e->type))
        return false;
    if (!s->quick_ids.n && !s->prefixes.n)
        return true;
    if (strs_has(&s->quick_ids, e->quick_id))
        return true;
    for (size_t i = 0; i < s->prefixes.n; i++)
        if (prefix_match(s->prefixes.v[i], e))
            return true;
    return false;
}

bool ws_client_wants(const ws_client *c, const ws_event_info *e)
{
    for (size_t i = 0; i < c->n_subs; i++)
        if (sub_match(&c->subs[i], e))
            return true;
    return false;
}
