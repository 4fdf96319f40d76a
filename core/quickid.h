/*
 * quickid.h - quick ids address any entity: "gateway:gw1", "node:gw1.12", "source:gw1.12.1",
 * "field:gw1.12.1.V_TEMP", "task:<id>", "schedule:<id>", ... A dotted tail after the id is a
 * key path into the entity: "field:gw1.12.1.V_TEMP.current.value".
 *
 * Device-tree ids (gateway, node, source, field) cannot contain '.', ':' or whitespace; other
 * entities' ids cannot contain '.', ':' or whitespace either. The parser is strict and names
 * the problem on error.
 */
#ifndef SB_QUICKID_H
#define SB_QUICKID_H

#include <stddef.h>

#include "core/err.h"

typedef enum sb_entity_kind {
    SB_KIND_GATEWAY = 0,
    SB_KIND_NODE,
    SB_KIND_SOURCE,
    SB_KIND_FIELD,
    SB_KIND_TASK,
    SB_KIND_SCHEDULE,
    SB_KIND_HANDLER,
    SB_KIND_FORWARD_PAYLOAD,
    SB_KIND_FIRMWARE,
    SB_KIND_DASHBOARD,
    SB_KIND_DATA_REPOSITORY,
    SB_KIND_USER,
    SB_KIND_SERVICE_TOKEN,
    SB_KIND_SETTINGS,
    SB_KIND__COUNT
} sb_entity_kind;

#define SB_QUICKID_PART_MAX 128
#define SB_QUICKID_MAX      640

typedef struct sb_quickid {
    sb_entity_kind kind;
    /* ids[0..n_ids): gateway, node, source, field for the device tree; one id otherwise */
    char ids[4][SB_QUICKID_PART_MAX];
    int n_ids;
    char key_path[SB_QUICKID_MAX]; /* "" when none, else "current.value" */
} sb_quickid;

/* The entity kind's name as used in quick ids, topics and the store: "field", "forward_payload". */
const char *sb_entity_kind_name(sb_entity_kind kind);

/* Accepts the names above (and the aliases MyController uses). SB_ERR_INVALID otherwise. */
sb_err sb_entity_kind_parse(const char *name, sb_entity_kind *out);

/* How many ids address the kind: 1 gateway, 2 node, 3 source, 4 field, 1 for the rest. */
int sb_entity_kind_depth(sb_entity_kind kind);

sb_err sb_quickid_parse(const char *text, sb_quickid *out, sb_errmsg *em);

/* Formats "kind:id1.id2[.keypath]" into buf. SB_ERR_TOO_LARGE when it does not fit. */
sb_err sb_quickid_format(const sb_quickid *qid, char *buf, size_t len);

/* Builds a device-tree quick id from parts (NULL/"" parts end the list). */
sb_err sb_quickid_make(sb_quickid *out, sb_entity_kind kind, const char *id1, const char *id2,
                       const char *id3, const char *id4);

/* Whether s is usable as one id part (non-empty, within limits, no '.', ':' or space). */
int sb_quickid_valid_part(const char *s);

#endif
