/*
 * gm_out.c - a field write to the MQTT publish of the mapping's write templates
 * (gm_map.h sb_gm_command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/template.h"
#include "gateways/generic_mqtt/gm_internal.h"

/* The mapping that writes node/source/field: its route, else the first that names the field. */
static const gm_mapping *writer(const sb_gm_config *c, const sb_gm_routes *routes, const char *node,
                                const char *source, const char *field, const cJSON **caps)
{
    *caps = NULL;
    for (size_t i = 0; routes && i < routes->n; i++) {
        const gm_route *r = &routes->r[i];
        if (strcmp(r->node, node) == 0 && strcmp(r->source, source) == 0) {
            const gm_mapping *m = &c->maps[r->mapping];
            if (m->write_topic && gm_writes_field(m, field)) {
                *caps = r->captures;
                return m;
            }
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        const gm_mapping *m = &c->maps[i];
        for (size_t k = 0; m->write_topic && k < m->n_fields; k++)
            if (strcmp(m->fields[k].field, field) == 0)
                return m;
    }
    return NULL;
}

/* Renders one template; a warning (a variable not known) fails too. */
static sb_err render(const char *tmpl, const cJSON *vars, const char *what, char **out,
                     sb_errmsg *em)
{
    cJSON *warnings = NULL;
    sb_errmsg why = {{0}};
    sb_err rc = sb_tmpl_render(tmpl, vars, NULL, out, &warnings, &why);
    if (rc != SB_OK)
        return sb_fail(em, rc, "%s: %s", what, why.text);
    const cJSON *w = cJSON_GetArrayItem(warnings, 0);
    if (w) {
        rc = sb_fail(em, SB_ERR_INVALID, "%s: %s", what,
                     cJSON_IsString(w) ? w->valuestring : "warning");
        free(*out);
        *out = NULL;
    }
    cJSON_Delete(warnings);
    return rc;
}

static cJSON *variables(const sb_msg *m, const sb_payload *p, const cJSON *caps)
{
    cJSON *vars = caps ? cJSON_Duplicate(caps, 1) : cJSON_CreateObject();
    bool ok = vars && sb_json_set_str(vars, "gatewayId", m->gateway_id ? m->gateway_id : "") &&
              sb_json_set_str(vars, "node", m->node_id) &&
              sb_json_set_str(vars, "source", m->source_id ? m->source_id : "") &&
              sb_json_set_str(vars, "field", p->key) && sb_json_set_str(vars, "value", p->value);
    if (!ok) {
        cJSON_Delete(vars);
        return NULL;
    }
    return vars;
}

sb_err sb_gm_command(const sb_gm_config *c, const sb_gm_routes *routes, const sb_msg *m, size_t i,
                     char **topic, char **payload, bool *retain, sb_errmsg *em)
{
    *topic = *payload = NULL;
    if (i >= m->n_payloads)
        return sb_fail(em, SB_ERR_INVALID, "payload %zu: no such payload", i);
    const sb_payload *p = &m->payloads[i];
    const char *node = m->node_id ? m->node_id : "", *src = m->source_id ? m->source_id : "";
    if (m->type != SB_MSG_SET)
        return sb_fail(em, SB_ERR_INVALID, "field %s.%s.%s: only set is sent", node, src, p->key);
    const cJSON *caps = NULL;
    const gm_mapping *mp = writer(c, routes, node, src, p->key, &caps);
    if (!mp)
        return sb_fail(em, SB_ERR_INVALID, "field %s.%s.%s: no mapping writes it", node, src,
                       p->key);
    cJSON *vars = variables(m, p, caps);
    if (!vars)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = render(mp->write_topic, vars, "write.topic", topic, em);
    if (rc == SB_OK && (!**topic || strpbrk(*topic, "+#") || strlen(*topic) >= SB_GM_TOPIC_MAX))
        rc = sb_fail(em, SB_ERR_INVALID, "write.topic '%.60s': empty, too long or a wildcard",
                     *topic);
    if (rc == SB_OK)
        rc = render(mp->write_payload, vars, "write.payload", payload, em);
    cJSON_Delete(vars);
    if (rc != SB_OK) {
        free(*topic);
        free(*payload);
        *topic = *payload = NULL;
        return sb_fail_wrap(em, rc, "field %s.%s.%s: mapping %s", node, src, p->key, mp->name);
    }
    *retain = mp->write_retain;
    return SB_OK;
}
