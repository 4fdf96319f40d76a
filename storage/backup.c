/*
 * backup.c - export, import and copy of a whole config store (see backup.h). The files and
 * where they live are in backup_io.c; this file turns a store into a "set" (kind -> array of
 * documents), a set into files and back, and applies a set to a store in one batch.
 */
#include "core/buf.h"
#include "storage/backup.h"
#include "storage/backup_priv.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

/* A kind becomes a file name, so it is held to a safe alphabet. */
static bool kind_ok(const char *k)
{
    size_t n = strlen(k);
    return n > 0 && n < 128 && k[0] != '.' &&
           strspn(k, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-.") == n &&
           strcmp(k, "manifest") != 0;
}

/* Every document of every kind of s: {"kind": [docs...], ...}. */
static sb_err collect(sb_store *s, cJSON **out, sb_errmsg *em)
{
    cJSON *kinds = NULL, *set = cJSON_CreateObject();
    sb_err err = set ? sb_store_kinds(s, &kinds, em) : SB_ERR_NOMEM;
    const cJSON *k;
    cJSON_ArrayForEach(k, kinds)
    {
        if (err)
            break;
        if (!cJSON_IsString(k) || !kind_ok(k->valuestring)) {
            err = sb_fail(em, SB_ERR_INVALID, "backup: kind '%s' cannot be a file name",
                          cJSON_IsString(k) ? k->valuestring : "?");
            break;
        }
        cJSON *res = NULL;
        if ((err = sb_store_find(s, k->valuestring, NULL, &res, em)) != SB_OK)
            break;
        cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(res, "data");
        cJSON_Delete(res);
        if (!data || !sb_json_set(set, k->valuestring, data))
            err = SB_ERR_NOMEM;
    }
    cJSON_Delete(kinds);
    if (err) {
        cJSON_Delete(set);
        return err == SB_ERR_NOMEM ? sb_fail(em, err, "backup: out of memory") : err;
    }
    *out = set;
    return SB_OK;
}

/* "[\n<doc>,\n<doc>\n]\n": one document per line, so backups diff well. */
static char *kind_text(const cJSON *docs, size_t *len)
{
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[n++] = '[';
    const cJSON *d;
    cJSON_ArrayForEach(d, docs)
    {
        char *t = cJSON_PrintUnformatted(d);
        size_t tl = t ? strlen(t) : 0;
        char *nb = t && n + tl + 8 > cap ? realloc(buf, (cap = (n + tl + 8) * 2)) : buf;
        if (!t || !nb) {
            free(t);
            free(nb ? nb : buf);
            return NULL;
        }
        buf = nb;
        buf[n++] = d == docs->child ? '\n' : ',';
        if (d != docs->child)
            buf[n++] = '\n';
        memcpy(buf + n, t, tl);
        n += tl;
        free(t);
    }
    memcpy(buf + n, "\n]\n", 4);
    *len = n + 3;
    return buf;
}

static cJSON *manifest(const cJSON *set)
{
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    cJSON *m = cJSON_CreateObject(), *kinds = cJSON_CreateObject();
    sb_json_set_str(m, "format", SB_BACKUP_FORMAT);
    sb_json_set_num(m, "version", SB_BACKUP_VERSION);
    sb_json_set_str(m, "createdAt", now);
    const cJSON *k;
    cJSON_ArrayForEach(k, set) sb_json_set_num(kinds, k->string, cJSON_GetArraySize(k));
    sb_json_set(m, "kinds", kinds);
    sb_json_set_str(m, "switchboardVersion", SB_VERSION);
    return m;
}

static sb_err set_to_files(const cJSON *set, bk_files *fs, sb_errmsg *em)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, set)
    {
        size_t len = 0;
        char *text = kind_text(k, &len), name[160];
        snprintf(name, sizeof(name), "%s.json", k->string);
        if (!text || bk_files_add(fs, name, text, len) != SB_OK)
            return sb_fail(em, SB_ERR_NOMEM, "backup: out of memory");
    }
    cJSON *m = manifest(set);
    char *text = m ? cJSON_Print(m) : NULL;
    cJSON_Delete(m);
    if (!text || bk_files_add(fs, "manifest.json", text, strlen(text)) != SB_OK)
        return sb_fail(em, SB_ERR_NOMEM, "backup: out of memory");
    return SB_OK;
}

sb_err sb_backup_export(sb_store *s, const char *dest, sb_backup_stats *st, sb_errmsg *em)
{
    cJSON *set = NULL;
    bk_files fs = {0};
    sb_err err = collect(s, &set, em);
    if (!err)
        err = set_to_files(set, &fs, em);
    if (!err)
        err = bk_write(dest, &fs, em);
    if (!err && st) {
        *st = (sb_backup_stats){0};
        const cJSON *k;
        cJSON_ArrayForEach(k, set)
        {
            st->kinds++;
            st->docs += (size_t)cJSON_GetArraySize(k);
        }
    }
    bk_files_free(&fs);
    cJSON_Delete(set);
    return err;
}

static sb_err check_manifest(const cJSON *m, const char *src, sb_errmsg *em)
{
    const char *format = sb_json_str(m, "format", NULL);
    if (!format || strcmp(format, SB_BACKUP_FORMAT) != 0)
        return sb_fail(em, SB_ERR_INVALID,
                       "backup %s: manifest.json format is '%s', expected '" SB_BACKUP_FORMAT "'",
                       src, format ? format : "(missing)");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != SB_BACKUP_VERSION)
        return sb_fail(em, SB_ERR_UNSUPPORTED,
                       "backup %s: manifest.json version %g is not supported (this switchboard "
                       "reads version %d)",
                       src, cJSON_IsNumber(v) ? v->valuedouble : -1.0, SB_BACKUP_VERSION);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "kinds")))
        return sb_fail(em, SB_ERR_INVALID, "backup %s: manifest.json has no \"kinds\" object", src);
    return SB_OK;
}

/* Parses one kind file and checks it against the manifest's count. */
static sb_err load_kind(const bk_files *fs, const cJSON *k, const char *src, cJSON **out,
                        sb_errmsg *em)
{
    char name[160];
    snprintf(name, sizeof(name), "%s.json", k->string);
    const bk_file *f = kind_ok(k->string) ? bk_files_find(fs, name) : NULL;
    if (!f)
        return sb_fail(em, SB_ERR_PARSE, "backup %s: %s is missing", src, name);
    cJSON *docs = NULL;
    sb_err err = sb_json_parse(f->data, f->len, &docs, em);
    if (err)
        return sb_fail_wrap(em, SB_ERR_PARSE, "backup %s: %s", src, name);
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, (cJSON_IsArray(docs) ? docs : NULL))
    {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "id")))
            break;
        i++;
    }
    if (!cJSON_IsArray(docs) || i != cJSON_GetArraySize(docs) || !cJSON_IsNumber(k) ||
        k->valuedouble != i) {
        cJSON_Delete(docs);
        return sb_fail(em, SB_ERR_PARSE,
                       "backup %s: %s is not an array of %g documents with string ids", src, name,
                       cJSON_IsNumber(k) ? k->valuedouble : -1.0);
    }
    *out = docs;
    return SB_OK;
}

/* Reads and checks the whole backup into a set before anything is written. */
static sb_err load_set(const char *src, cJSON **out, sb_errmsg *em)
{
    bk_files fs = {0};
    cJSON *m = NULL, *set = cJSON_CreateObject();
    sb_err err = set ? bk_read(src, &fs, em) : SB_ERR_NOMEM;
    const bk_file *mf = err ? NULL : bk_files_find(&fs, "manifest.json");
    if (!err && !mf)
        err = sb_fail(em, SB_ERR_INVALID, "backup %s: no manifest.json (not a switchboard backup)",
                      src);
    if (!err && sb_json_parse(mf->data, mf->len, &m, em) != SB_OK)
        err = sb_fail_wrap(em, SB_ERR_PARSE, "backup %s: manifest.json", src);
    if (!err)
        err = check_manifest(m, src, em);
    const cJSON *k;
    cJSON_ArrayForEach(k, (err ? NULL : cJSON_GetObjectItemCaseSensitive(m, "kinds")))
    {
        cJSON *docs = NULL;
        if ((err = load_kind(&fs, k, src, &docs, em)) != SB_OK)
            break;
        sb_json_set(set, k->string, docs);
    }
    cJSON_Delete(m);
    bk_files_free(&fs);
    if (err) {
        cJSON_Delete(set);
        return err;
    }
    *out = set;
    return SB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of kind already in s, sorted, borrowed from *hold (caller frees both). */
static sb_err existing_ids(sb_store *s, const char *kind, cJSON **hold, const char ***ids,
                           size_t *n, sb_errmsg *em)
{
    sb_err err = sb_store_find(s, kind, NULL, hold, em);
    if (err)
        return err;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(*hold, "data");
    *n = 0;
    *ids = calloc((size_t)cJSON_GetArraySize(data) + 1, sizeof(char *));
    if (!*ids)
        return sb_fail(em, SB_ERR_NOMEM, "backup: out of memory");
    const cJSON *d;
    cJSON_ArrayForEach(d, data)(*ids)[(*n)++] = sb_json_str(d, "id", "");
    qsort(*ids, *n, sizeof(char *), cmp_str);
    return SB_OK;
}

typedef struct plan {
    sb_store_op *ops;
    size_t n, cap;
    cJSON *holds; /* find results whose strings the delete ops borrow */
} plan;

static sb_err plan_add(plan *p, sb_store_op op)
{
    if (sb_array_reserve(&p->ops, &p->cap, p->n + 1, sizeof(*p->ops), 256) != SB_OK)
        return SB_ERR_NOMEM;
    p->ops[p->n++] = op;
    return SB_OK;
}

static sb_err plan_kind(sb_store *to, const char *kind, const cJSON *docs, bool replace, plan *p,
                        sb_backup_stats *st, sb_errmsg *em)
{
    cJSON *hold = NULL;
    const char **ids = NULL;
    size_t n = 0;
    sb_err err = existing_ids(to, kind, &hold, &ids, &n, em);
    if (hold)
        cJSON_AddItemToArray(p->holds, hold);
    for (size_t i = 0; !err && replace && i < n; i++) {
        err = plan_add(p, (sb_store_op){.type = SB_STORE_DELETE, .kind = kind, .id = ids[i]});
        st->removed++;
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, (err ? NULL : docs))
    {
        const char *id = sb_json_str(d, "id", "");
        if (!replace && bsearch(&id, ids, n, sizeof(char *), cmp_str)) {
            st->skipped++;
            continue;
        }
        if ((err = plan_add(p, (sb_store_op){.type = SB_STORE_PUT, .kind = kind, .doc = d})))
            break;
        st->docs++;
    }
    free(ids);
    return err == SB_ERR_NOMEM ? sb_fail(em, err, "backup: out of memory") : err;
}

/* Applies a set to a store in one batch. */
static sb_err apply(sb_store *to, const cJSON *set, bool replace, sb_backup_stats *st,
                    sb_errmsg *em)
{
    sb_backup_stats local = {0};
    plan p = {.holds = cJSON_CreateArray()};
    sb_err err = p.holds ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "backup: out of memory");
    const cJSON *k;
    cJSON_ArrayForEach(k, (err ? NULL : set))
    {
        local.kinds++;
        if ((err = plan_kind(to, k->string, k, replace, &p, &local, em)) != SB_OK)
            break;
    }
    if (!err && p.n > 0)
        err = sb_store_batch(to, p.ops, p.n, em);
    free(p.ops);
    cJSON_Delete(p.holds);
    if (!err && st)
        *st = local;
    return err;
}

sb_err sb_backup_import(sb_store *s, const char *src, bool replace, sb_backup_stats *st,
                        sb_errmsg *em)
{
    cJSON *set = NULL;
    sb_err err = load_set(src, &set, em);
    if (!err)
        err = apply(s, set, replace, st, em);
    cJSON_Delete(set);
    return err;
}

sb_err sb_backup_copy(sb_store *from, sb_store *to, bool replace, sb_backup_stats *st,
                      sb_errmsg *em)
{
    cJSON *set = NULL;
    sb_err err = collect(from, &set, em);
    if (!err)
        err = apply(to, set, replace, st, em);
    cJSON_Delete(set);
    return err;
}
