/* mapped.c - messages and notes of one mapped device input (mapped.h). */
#include "core/mapped.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_mapped_note(sb_mapped *r, const char *fmt, ...)
{
    r->skipped++;
    if (r->n_notes == SB_MAPPED_NOTES_MAX)
        return;
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if ((r->notes[r->n_notes] = strdup(buf)))
        r->n_notes++;
    else
        r->nomem = true;
}

sb_msg *sb_mapped_msg(sb_mapped *r, const char *gateway_id, const char *node, const char *source,
                      sb_msg_type type)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->msgs[i]->type == type && strcmp(r->msgs[i]->node_id, node) == 0 &&
            strcmp(r->msgs[i]->source_id, source) == 0)
            return r->msgs[i];
    sb_msg **grown = realloc(r->msgs, (r->n + 1) * sizeof(*grown));
    sb_msg *m = grown ? sb_msg_new(gateway_id, node, source, type) : NULL;
    if (grown)
        r->msgs = grown;
    if (!m) {
        r->nomem = true;
        return NULL;
    }
    r->msgs[r->n++] = m;
    return m;
}

void sb_mapped_add(sb_mapped *r, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                   const char *unit)
{
    if (!m)
        return;
    if (!*key || strlen(key) > SB_MSG_ID_MAX || strlen(value) > SB_MSG_VALUE_MAX ||
        (unit && strlen(unit) > SB_MSG_ID_MAX)) {
        sb_mapped_note(r, "%s: '%.40s': empty or too long", m->source_id, key);
        return;
    }
    for (size_t i = 0; i < m->n_payloads; i++) {
        if (strcmp(m->payloads[i].key, key) == 0) {
            sb_mapped_note(r, "%s: '%.40s' given twice, the first kept", m->source_id, key);
            return;
        }
    }
    if (m->n_payloads == SB_MSG_PAYLOADS_MAX) {
        sb_mapped_note(r, "%s: more than %d values", m->source_id, SB_MSG_PAYLOADS_MAX);
        return;
    }
    if (!sb_msg_add_payload(m, key, value, mt, unit && *unit ? unit : NULL))
        r->nomem = true;
}

sb_err sb_mapped_finish(sb_mapped *r)
{
    r->n = sb_msg_drop_empty(r->msgs, r->n);
    if (!r->nomem)
        return SB_OK;
    sb_mapped_free(r);
    return SB_ERR_NOMEM;
}

void sb_mapped_free(sb_mapped *r)
{
    if (!r)
        return;
    sb_msg_array_free(r->msgs, r->n);
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    memset(r, 0, sizeof(*r));
}
