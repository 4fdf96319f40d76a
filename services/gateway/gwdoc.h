/*
 * gwdoc.h - a gateway document from the store, as the gateway service reads it:
 *
 *   {"id":"gw1","name":"Hall","enabled":true,"labels":{"site":"home"},
 *    "provider":{"type":"mysensors", ...provider options},
 *    "reconnectDelay":"10s","queueFailedMessages":false,
 *    "ack":{"retryCount":3,"timeout":"1s"},
 *    "sleepingQueue":{"maxPerNode":10,"validity":"1h"},
 *    "messageLogger":{"type":"none|file","path":"","maxSize":1048576,"maxFiles":3},
 *    "state":{...}, "modifiedOn":..., "others":{...}}
 *
 * Keys the table below does not know (state, modifiedOn, others ...) are ignored; the known
 * sections are strict. The provider object is kept as JSON for the provider's own table.
 */
#ifndef SB_GW_DOC_H
#define SB_GW_DOC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef enum { GW_LOGGER_NONE = 0, GW_LOGGER_FILE } gw_logger_type;

typedef struct gw_doc_ack {
    int64_t retry_count; /* resends after the first try; 0 = no waiting for acks */
    int64_t timeout_ms;
} gw_doc_ack;

typedef struct gw_doc_sleep {
    int64_t max_per_node;
    int64_t validity_ms;
} gw_doc_sleep;

typedef struct gw_doc_logger {
    int type;   /* gw_logger_type */
    char *path; /* empty = <gateway.log_dir>/<id>.log */
    int64_t max_size;
    int64_t max_files;
} gw_doc_logger;

typedef struct gw_doc {
    char *id;
    char *name;
    bool enabled;
    cJSON *labels;
    int64_t reconnect_delay_ms;
    bool queue_failed;
    gw_doc_ack ack;
    gw_doc_sleep sleep;
    gw_doc_logger logger;
    cJSON *provider;   /* owned copy of the "provider" object */
    char *fingerprint; /* the document minus state/modifiedOn, to see whether a reload changes
                          anything */
} gw_doc;

/* Parses doc (borrowed). Errors name the key ("gateway 'gw1': key 'ack.timeout': ..."). */
sb_err gw_doc_parse(const cJSON *doc, gw_doc **out, sb_errmsg *em);

/* The fingerprint a document would have, to compare with a running gateway's. Caller frees. */
char *gw_doc_fingerprint(const cJSON *doc);

void gw_doc_free(gw_doc *d); /* accepts NULL */

#endif
