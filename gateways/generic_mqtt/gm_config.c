/*
 * gm_config.c - reading and checking the generic MQTT "mappings" list (gm_map.h). Every error
 * names the mapping (index and name) and the key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"
#include "gateways/generic_mqtt/gm_internal.h"

/* Fails naming mapping i (and its name, when it has one). */
static sb_err bad(sb_errmsg *em, size_t i, const cJSON *obj, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sb_err bad(sb_errmsg *em, size_t i, const cJSON *obj, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (cJSON_IsString(name))
        return sb_fail(em, SB_ERR_INVALID, "provider.mappings[%zu] (%.60s): %s", i,
                       name->valuestring, why);
    return sb_fail(em, SB_ERR_INVALID, "provider.mappings[%zu]: %s", i, why);
}

/* A string member (copied into *out, NULL when absent and def is NULL). */
static sb_err str(const cJSON *obj, const char *key, const char *def, char **out, size_t i,
                  const cJSON *map, const char *where, sb_errmsg *em)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v && !cJSON_IsString(v))
        return bad(em, i, map, "%s%s: expected a string", where, key);
    const char *s = v ? v->valuestring : def;
    *out = s ? strdup(s) : NULL;
    return s && !*out ? sb_fail(em, SB_ERR_NOMEM, "out of memory") : SB_OK;
}

static bool known_keys(const cJSON *obj, const char *const *keys, const char **unknown)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], it->string) != 0)
            k++;
        if (!keys[k]) {
            *unknown = it->string;
            return false;
        }
    }
    return true;
}

static bool name_ok(const char *s, size_t n)
{
    return n > 0 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") >= n;
}

/* Splits the pattern into levels and builds the subscription filter. */
static sb_err pattern(gm_mapping *m, const char *topic, size_t i, const cJSON *map, sb_errmsg *em)
{
    size_t len = strlen(topic);
    if (!len || len >= SB_GM_TOPIC_MAX)
        return bad(em, i, map, "topic: empty or longer than %d bytes", SB_GM_TOPIC_MAX - 1);
    if (!(m->filter = malloc(len + 1)))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    size_t at = 0;
    for (const char *s = topic;;) {
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (m->n_levels == SB_GM_LEVELS)
            return bad(em, i, map, "topic '%s': more than %d levels", topic, SB_GM_LEVELS);
        gm_level_kind k = L_LIT;
        if (n == 1 && *s == '+')
            k = L_ONE;
        else if (n == 1 && *s == '#')
            k = L_REST;
        else if (n >= 2 && s[0] == '{' && s[n - 1] == '}' && name_ok(s + 1, n - 2))
            k = L_CAPTURE;
        else if (!n || memchr(s, '+', n) || memchr(s, '#', n) || memchr(s, '{', n) ||
                 memchr(s, '}', n))
            return bad(em, i, map, "topic '%s': level %zu must be a word, {name}, + or a final #",
                       topic, m->n_levels + 1);
        if (k == L_REST && end)
            return bad(em, i, map, "topic '%s': # only as the last level", topic);
        m->kinds[m->n_levels] = k;
        m->levels[m->n_levels] = k == L_CAPTURE ? strndup(s + 1, n - 2) : strndup(s, n);
        if (!m->levels[m->n_levels++])
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        const char *f = k == L_CAPTURE ? "+" : s;
        size_t fn = k == L_CAPTURE ? 1 : n;
        memcpy(m->filter + at, f, fn);
        at += fn;
        m->filter[at++] = end ? '/' : '\0';
        if (!end)
            return SB_OK;
        s = end + 1;
    }
}

static bool captured(const gm_mapping *m, const char *name, size_t n)
{
    for (size_t k = 0; k < m->n_levels; k++)
        if (m->kinds[k] == L_CAPTURE && strlen(m->levels[k]) == n &&
            strncmp(m->levels[k], name, n) == 0)
            return true;
    return false;
}

/* Every {name} of an id text must be a captured level. */
static sb_err id_text(const gm_mapping *m, const char *key, const char *text, size_t i,
                      const cJSON *map, sb_errmsg *em)
{
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close || !captured(m, p + 1, (size_t)(close - p - 1)))
            return bad(em, i, map, "%s '%s': {%.*s} is not a {name} level of the topic", key, text,
                       close ? (int)(close - p - 1) : (int)strlen(p + 1), p + 1);
    }
    return SB_OK;
}

static sb_err field(gm_field *f, const cJSON *obj, size_t i, size_t j, const cJSON *map,
                    sb_errmsg *em)
{
    static const char *const keys[] = {"path", "field", "metricType", "unit", NULL};
    char where[40];
    snprintf(where, sizeof(where), "fields[%zu].", j);
    const char *unknown = NULL;
    if (!cJSON_IsObject(obj))
        return bad(em, i, map, "fields[%zu]: expected an object", j);
    if (!known_keys(obj, keys, &unknown))
        return bad(em, i, map, "%s%s: unknown key", where, unknown);
    sb_err rc = str(obj, "path", "", &f->path, i, map, where, em);
    if (rc == SB_OK && strcmp(f->path, "$") == 0)
        f->path[0] = '\0';
    const char *last = rc == SB_OK ? strrchr(f->path, '.') : NULL;
    const char *def = rc != SB_OK ? NULL : last ? last + 1 : *f->path ? f->path : "value";
    if (rc == SB_OK)
        rc = str(obj, "field", def, &f->field, i, map, where, em);
    if (rc == SB_OK)
        rc = str(obj, "unit", NULL, &f->unit, i, map, where, em);
    if (rc != SB_OK)
        return rc;
    if (!*f->field || strlen(f->field) > SB_MSG_ID_MAX || strpbrk(f->field, ".: \t\r\n"))
        return bad(em, i, map, "%sfield '%s': an id of 1..%d bytes without '.', ':' or spaces",
                   where, f->field, SB_MSG_ID_MAX);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(obj, "metricType");
    f->mt_auto = !mt;
    if (mt && (!cJSON_IsString(mt) || sb_metric_type_parse(mt->valuestring, &f->mt) != SB_OK))
        return bad(em, i, map,
                   "%smetricType: '%s' is not a metric type (none, string, binary, "
                   "gauge, gauge_float, counter, geo)",
                   where, cJSON_IsString(mt) ? mt->valuestring : "?");
    return SB_OK;
}

/* Renders a template with sample values, so a malformed one fails at load. */
static sb_err template_ok(const char *tmpl, const char *key, size_t i, const cJSON *map,
                          sb_errmsg *em)
{
    char *out = NULL;
    sb_errmsg why = {{0}};
    cJSON *vars = cJSON_CreateObject();
    sb_err rc = sb_tmpl_render(tmpl, vars, NULL, &out, NULL, &why);
    cJSON_Delete(vars);
    free(out);
    return rc == SB_OK ? SB_OK : bad(em, i, map, "%s: %s", key, why.text);
}

static sb_err write_spec(gm_mapping *m, const cJSON *w, size_t i, const cJSON *map, sb_errmsg *em)
{
    static const char *const keys[] = {"topic", "payload", "retain", NULL};
    const char *unknown = NULL;
    if (!cJSON_IsObject(w))
        return bad(em, i, map, "write: expected an object");
    if (!known_keys(w, keys, &unknown))
        return bad(em, i, map, "write.%s: unknown key", unknown);
    sb_err rc = str(w, "topic", NULL, &m->write_topic, i, map, "write.", em);
    if (rc == SB_OK && (!m->write_topic || !*m->write_topic))
        return bad(em, i, map, "write.topic: required");
    if (rc == SB_OK)
        rc = str(w, "payload", "{{value}}", &m->write_payload, i, map, "write.", em);
    const cJSON *retain = cJSON_GetObjectItemCaseSensitive(w, "retain");
    if (rc == SB_OK && retain && !cJSON_IsBool(retain))
        return bad(em, i, map, "write.retain: expected true or false");
    m->write_retain = cJSON_IsTrue(retain);
    if (rc == SB_OK)
        rc = template_ok(m->write_topic, "write.topic", i, map, em);
    if (rc == SB_OK)
        rc = template_ok(m->write_payload, "write.payload", i, map, em);
    return rc;
}

static sb_err fields(gm_mapping *m, const cJSON *map, size_t i, sb_errmsg *em)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(map, "fields");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(map, "allFields");
    if (all && !cJSON_IsBool(all))
        return bad(em, i, map, "allFields: expected true or false");
    m->all_fields = cJSON_IsTrue(all);
    if (list && !cJSON_IsArray(list))
        return bad(em, i, map, "fields: expected a list");
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (!n && !m->all_fields)
        return bad(em, i, map, "fields: at least one (or allFields: true)");
    if (n > SB_MSG_PAYLOADS_MAX)
        return bad(em, i, map, "fields: more than %d", SB_MSG_PAYLOADS_MAX);
    if (n && !(m->fields = calloc(n, sizeof(*m->fields))))
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        size_t j = m->n_fields++;
        sb_err rc = field(&m->fields[j], it, i, j, map, em);
        if (rc != SB_OK)
            return rc;
        for (size_t k = 0; k + 1 < m->n_fields; k++)
            if (strcmp(m->fields[k].field, m->fields[m->n_fields - 1].field) == 0)
                return bad(em, i, map, "fields[%zu]: field '%s' given twice", m->n_fields - 1,
                           m->fields[k].field);
    }
    return SB_OK;
}

static sb_err mapping(gm_mapping *m, const cJSON *map, size_t i, sb_errmsg *em)
{
    static const char *const keys[] = {"name",   "topic",     "node",  "source",
                                       "fields", "allFields", "write", NULL};
    const char *unknown = NULL;
    if (!cJSON_IsObject(map))
        return bad(em, i, map, "expected an object");
    if (!known_keys(map, keys, &unknown))
        return bad(em, i, map, "%s: unknown key", unknown);
    char def_name[32];
    snprintf(def_name, sizeof(def_name), "mappings[%zu]", i);
    char *topic = NULL;
    sb_err rc = str(map, "name", def_name, &m->name, i, map, "", em);
    if (rc == SB_OK)
        rc = str(map, "topic", NULL, &topic, i, map, "", em);
    if (rc == SB_OK && !topic)
        rc = bad(em, i, map, "topic: required");
    if (rc == SB_OK)
        rc = pattern(m, topic, i, map, em);
    free(topic);
    if (rc == SB_OK)
        rc = str(map, "node", captured(m, "node", 4) ? "{node}" : NULL, &m->node, i, map, "", em);
    if (rc == SB_OK && (!m->node || !*m->node))
        rc = bad(em, i, map, "node: required when the topic has no {node} level");
    if (rc == SB_OK)
        rc = str(map, "source", captured(m, "source", 6) ? "{source}" : "", &m->source, i, map, "",
                 em);
    if (rc == SB_OK)
        rc = id_text(m, "node", m->node, i, map, em);
    if (rc == SB_OK)
        rc = id_text(m, "source", m->source, i, map, em);
    if (rc == SB_OK)
        rc = fields(m, map, i, em);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(map, "write");
    if (rc == SB_OK && w)
        rc = write_spec(m, w, i, map, em);
    return rc;
}

sb_err sb_gm_config_parse(const cJSON *mappings, sb_gm_config **out, sb_errmsg *em)
{
    *out = NULL;
    if (!cJSON_IsArray(mappings) || cJSON_GetArraySize(mappings) == 0)
        return sb_fail(em, SB_ERR_INVALID, "provider.mappings: a list of at least one mapping");
    sb_gm_config *c = calloc(1, sizeof(*c));
    size_t n = (size_t)cJSON_GetArraySize(mappings);
    if (!c || !(c->maps = calloc(n, sizeof(*c->maps)))) {
        free(c);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, mappings)
    {
        sb_err rc = mapping(&c->maps[c->n], it, c->n, em);
        c->n++;
        if (rc != SB_OK) {
            sb_gm_config_free(c);
            return rc;
        }
    }
    *out = c;
    return SB_OK;
}

void sb_gm_config_free(sb_gm_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        gm_mapping *m = &c->maps[i];
        for (size_t k = 0; k < m->n_levels; k++)
            free(m->levels[k]);
        for (size_t k = 0; k < m->n_fields; k++) {
            free(m->fields[k].path);
            free(m->fields[k].field);
            free(m->fields[k].unit);
        }
        free(m->fields);
        free(m->name);
        free(m->filter);
        free(m->node);
        free(m->source);
        free(m->write_topic);
        free(m->write_payload);
    }
    free(c->maps);
    free(c);
}

const char *sb_gm_filter(const sb_gm_config *c, size_t i)
{
    return c && i < c->n ? c->maps[i].filter : NULL;
}

bool gm_writes_field(const gm_mapping *m, const char *field)
{
    if (m->all_fields)
        return true;
    for (size_t k = 0; k < m->n_fields; k++)
        if (strcmp(m->fields[k].field, field) == 0)
            return true;
    return false;
}
