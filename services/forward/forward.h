/*
 * forward.h - the forward-payload service (docs/automation.md, "Payload forwarding"): keeps the
 * enabled forward_payload mappings {id, enabled, srcFieldId, dstFieldId, labels} and, when a
 * source field's value changes (the processor's field events), sends a "set" of the
 * destination field to its gateway on <p>/msg/out/<gatewayId>. A mapping that would close a
 * loop (A -> B -> A, or longer) is refused; the mapping's state says why.
 *
 * Internal to services/forward, except sb_forward_run and sb_service_forward.
 */
#ifndef SB_FORWARD_H
#define SB_FORWARD_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/quickid.h"
#include "core/service.h"
#include "storage/store.h"

int sb_forward_run(const sb_config *cfg, sb_stop_flag *stop);
extern const sb_service_def sb_service_forward;

/* ---- internal ----------------------------------------------------------------------------- */

#define FWD_ID_MAX (4 * SB_QUICKID_PART_MAX) /* "gw.node.source.field" */

/* One accepted mapping. */
typedef struct fwd_map {
    char id[SB_QUICKID_PART_MAX];
    char src[FWD_ID_MAX]; /* field store ids */
    char dst[FWD_ID_MAX];
    char last_ts[40]; /* timestamp of the last source value forwarded (drops redeliveries) */
} fwd_map;

/* A value to send: the destination field and the source's value. */
typedef struct fwd_job {
    struct fwd_job *next;
    char map_id[SB_QUICKID_PART_MAX];
    char dst[FWD_ID_MAX];
    cJSON *value; /* owned; NULL = a reload of the mappings */
} fwd_job;

typedef struct fwd_service {
    const sb_config *cfg;
    sb_bus *bus;
    sb_store *store;
    pthread_mutex_t mu; /* guards maps and the job queue */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC */
    fwd_map *maps;
    size_t n_maps;
    fwd_job *head, *tail;
    size_t queued;
    bool reload_queued; /* a reload waits in the queue: further requests join it */
    atomic_uint_fast64_t forwarded, refused, dropped, errors;
} fwd_service;

/*
 * mappings.c: the field store id named by a mapping's srcFieldId/dstFieldId: a field quick id
 * ("field:gw1.12.1.V_STATUS", aliases too) or the bare id "gw1.12.1.V_STATUS".
 */
sb_err fwd_field_id(const char *text, char *out, size_t len, sb_errmsg *em);

/*
 * mappings.c: whether adding edge src -> dst to the edges of maps[0..n) closes a loop; if so,
 * path gets the loop as "a -> b -> a" (len bytes). Pure.
 */
bool fwd_closes_loop(const fwd_map *maps, size_t n, const char *src, const char *dst, char *path,
                     size_t len);

/*
 * mappings.c: rebuilds s->maps from the store's forward_payload documents (mappings accepted
 * before keep their place; new ones are taken in id order and refused when they close a loop)
 * and stores a changed state {status ok|error, message, since} in each, with an event.
 */
void fwd_reload(fwd_service *s);

#endif
