/*
 * event.h - the bus messages that services exchange about entities and automation.
 *
 * Events: <p>/event/<entityType>/<entityId>
 *   {"type":"created|updated|deleted","entityType","entityId","quickId","entity":{...}}
 * Handler calls: <p>/handler/<handlerId>
 *   {"id","source":"task:<id>|schedule:<id>|...","parameters":{...},"variables":{...}}
 *
 * DESIGN.md section 2; docs/bus.md. Publishing borrows its arguments; parsing returns owned
 * structures freed with the matching _free.
 */
#ifndef SB_EVENT_H
#define SB_EVENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/bus.h"
#include "core/err.h"

/* Publishes one event (QoS 1). quick_id may be NULL ("<entityType>:<entityId>" is used). */
sb_err sb_event_publish(sb_bus *bus, const char *type, const char *entity_type,
                        const char *entity_id, const char *quick_id, const cJSON *entity);

/* One event parsed from a bus payload. entity may be NULL (deleted events may omit it). */
typedef struct sb_event {
    char type[16];
    char entity_type[32];
    char entity_id[256];
    char quick_id[320];
    cJSON *entity; /* owned */
} sb_event;

/* Parses a payload that is one event object or an array of them (batched events). On success
 * *out is an array of *n events (free with sb_event_free_all). Entries that are not objects or
 * lack type/entityType/entityId fail the whole parse with a message naming the index. */
sb_err sb_event_parse(const void *payload, size_t len, sb_event **out, size_t *n, sb_errmsg *em);
void sb_event_free_all(sb_event *ev, size_t n);

/* A handler call. */
typedef struct sb_handler_call {
    char *id;          /* handler id */
    char *source;      /* "task:<id>", "schedule:<id>", "api", ... */
    cJSON *parameters; /* object, never NULL after parse */
    cJSON *variables;  /* object, never NULL after parse */
} sb_handler_call;

/* Publishes <p>/handler/<handler_id> (QoS 1). parameters/variables may be NULL ({}). */
sb_err sb_handler_call_publish(sb_bus *bus, const char *handler_id, const char *source,
                               const cJSON *parameters, const cJSON *variables);

/* Parses a handler call payload; id and source are required strings. */
sb_err sb_handler_call_parse(const void *payload, size_t len, sb_handler_call *out, sb_errmsg *em);
void sb_handler_call_free(sb_handler_call *call);

#endif
