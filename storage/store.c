/*
 * store.c - the generic half of the store interface: picks the backend named by
 * cfg->storage.type from the generated sb_store_plugins[] table, checks arguments once for
 * every backend (kinds, ids, documents) and dispatches to the plugin's callbacks.
 */
#include "storage/store.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(int type)
{
    switch (type) {
    case SB_STORE_SQLITE:
        return "sqlite";
    case SB_STORE_MEMORY:
        return "memory";
    case SB_STORE_MONGODB:
        return "mongodb";
    default:
        return NULL;
    }
}

/* Kinds become file names, table and collection names: letters, digits, '_' and '-' only. */
static sb_err check_kind(const char *kind, sb_errmsg *em)
{
    if (!kind || !*kind)
        return sb_fail(em, SB_ERR_INVALID, "kind must be a non-empty string");
    size_t n = 0;
    for (const char *p = kind; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return sb_fail(em, SB_ERR_INVALID, "kind '%s': only letters, digits, '_' and '-'",
                           kind);
    }
    if (n > 64)
        return sb_fail(em, SB_ERR_INVALID, "kind '%.64s...': longer than 64 characters", kind);
    return SB_OK;
}

static sb_err check_doc(const char *kind, const cJSON *doc, sb_errmsg *em)
{
    if (!cJSON_IsObject(doc))
        return sb_fail(em, SB_ERR_INVALID, "%s: document must be a JSON object", kind);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!cJSON_IsString(id) || !id->valuestring[0])
        return sb_fail(em, SB_ERR_INVALID, "%s: document needs a non-empty string \"id\"", kind);
    return SB_OK;
}

static sb_err check_store(sb_store *s, sb_errmsg *em)
{
    if (!s || !s->plugin)
        return sb_fail(em, SB_ERR_INVALID, "store is NULL");
    return SB_OK;
}

sb_err sb_store_open(const sb_config *cfg, sb_store **out, sb_errmsg *em)
{
    if (em)
        em->text[0] = '\0'; /* on SB_OK a non-empty text is a warning (see store.h) */
    if (!cfg || !out)
        return sb_fail(em, SB_ERR_INVALID, "sb_store_open: config and out are required");
    *out = NULL;
    const char *name = type_name(cfg->storage.type);
    if (!name)
        return sb_fail(em, SB_ERR_INVALID, "storage.type %d: unknown store type",
                       cfg->storage.type);
    const sb_store_plugin *p = sb_registry_find((const void *const *)sb_store_plugins, name);
    if (!p) {
        char names[256];
        sb_registry_names((const void *const *)sb_store_plugins, names, sizeof(names));
        return sb_fail(em, SB_ERR_UNSUPPORTED, "storage.type '%s' is not built in (available: %s)",
                       name, names[0] ? names : "none");
    }
    sb_err err = p->open(cfg, out, em);
    if (err)
        return err;
    (*out)->plugin = p;
    return SB_OK;
}

sb_err sb_store_put(sb_store *s, const char *kind, const cJSON *doc, sb_errmsg *em)
{
    sb_err err;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)) ||
        (err = check_doc(kind, doc, em)))
        return err;
    return s->plugin->put(s, kind, doc, em);
}

sb_err sb_store_get(sb_store *s, const char *kind, const char *id, cJSON **out, sb_errmsg *em)
{
    sb_err err;
    if (out)
        *out = NULL;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)))
        return err;
    if (!id || !*id)
        return sb_fail(em, SB_ERR_INVALID, "%s: id is required", kind);
    if (!out)
        return sb_fail(em, SB_ERR_INVALID, "%s: out is required", kind);
    return s->plugin->get(s, kind, id, out, em);
}

sb_err sb_store_delete(sb_store *s, const char *kind, const char *const *ids, size_t n,
                       size_t *deleted, sb_errmsg *em)
{
    sb_err err;
    if (deleted)
        *deleted = 0;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)))
        return err;
    if (n && !ids)
        return sb_fail(em, SB_ERR_INVALID, "%s: ids is NULL", kind);
    for (size_t i = 0; i < n; i++)
        if (!ids[i] || !*ids[i])
            return sb_fail(em, SB_ERR_INVALID, "%s: id %zu is empty", kind, i + 1);
    if (n == 0)
        return SB_OK;
    return s->plugin->remove(s, kind, ids, n, deleted, em);
}

sb_err sb_store_delete_where(sb_store *s, const char *kind, const sb_query *q, size_t *deleted,
                             sb_errmsg *em)
{
    sb_err err;
    if (deleted)
        *deleted = 0;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)))
        return err;
    if (!q)
        return sb_fail(em, SB_ERR_INVALID, "%s: delete_where needs a query", kind);
    return s->plugin->remove_where(s, kind, q, deleted, em);
}

static sb_err check_paging(const char *kind, const sb_query *q, sb_errmsg *em)
{
    if (q && (q->limit < 0 || q->offset < 0))
        return sb_fail(em, SB_ERR_INVALID, "%s: limit and offset must be >= 0", kind);
    return SB_OK;
}

sb_err sb_store_find(sb_store *s, const char *kind, const sb_query *q, cJSON **out, sb_errmsg *em)
{
    sb_err err;
    if (out)
        *out = NULL;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)) ||
        (err = check_paging(kind, q, em)))
        return err;
    if (!out)
        return sb_fail(em, SB_ERR_INVALID, "%s: out is required", kind);
    return s->plugin->find(s, kind, q, out, em);
}

sb_err sb_store_count(sb_store *s, const char *kind, const sb_query *q, size_t *n, sb_errmsg *em)
{
    sb_err err;
    if ((err = check_store(s, em)) || (err = check_kind(kind, em)))
        return err;
    if (!n)
        return sb_fail(em, SB_ERR_INVALID, "%s: n is required", kind);
    *n = 0;
    return s->plugin->count(s, kind, q, n, em);
}

bool sb_store_doc_matches(const cJSON *expect, const cJSON *stored)
{
    if (!expect || !stored)
        return !expect && !stored;
    const cJSON *k;
    cJSON_ArrayForEach(k, expect)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(stored, k->string);
        if (!v || !cJSON_Compare(k, v, true))
            return false;
    }
    return true;
}

sb_err sb_store_batch(sb_store *s, const sb_store_op *ops, size_t n, sb_errmsg *em)
{
    sb_err err;
    if ((err = check_store(s, em)))
        return err;
    if (n && !ops)
        return sb_fail(em, SB_ERR_INVALID, "batch: ops is NULL");
    for (size_t i = 0; i < n; i++) {
        const sb_store_op *op = &ops[i];
        if ((err = check_kind(op->kind, em)))
            return sb_fail_wrap(em, err, "batch op %zu", i + 1);
        if (op->type == SB_STORE_PUT)
            err = check_doc(op->kind, op->doc, em);
        else if (op->type == SB_STORE_CHECK && op->doc && !cJSON_IsObject(op->doc))
            err = sb_fail(em, SB_ERR_INVALID, "%s: check needs an object or NULL", op->kind);
        else if (op->type != SB_STORE_DELETE && op->type != SB_STORE_CHECK)
            err = sb_fail(em, SB_ERR_INVALID, "unknown op type %d", (int)op->type);
        else if (!op->id || !*op->id)
            err = sb_fail(em, SB_ERR_INVALID, "%s: %s needs an id", op->kind,
                          op->type == SB_STORE_CHECK ? "check" : "delete");
        if (err)
            return sb_fail_wrap(em, err, "batch op %zu", i + 1);
    }
    if (n == 0)
        return SB_OK;
    return s->plugin->batch(s, ops, n, em);
}

sb_err sb_store_kinds(sb_store *s, cJSON **out, sb_errmsg *em)
{
    sb_err err;
    if (out)
        *out = NULL;
    if ((err = check_store(s, em)))
        return err;
    if (!out)
        return sb_fail(em, SB_ERR_INVALID, "kinds: out is required");
    return s->plugin->kinds(s, out, em);
}

void sb_store_close(sb_store *s)
{
    if (s && s->plugin)
        s->plugin->close(s);
}
