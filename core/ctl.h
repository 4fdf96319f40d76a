/*
 * ctl.h - reload requests for a service's main thread.
 *
 * Services that run entities (the gateway service its gateways, the handler service its
 * handlers) reload them when an entity event arrives (<p>/event/<kind>/<id>) or on
 * <p>/ctl/<service>/reload {"id": ...} | {"ids": [...]} | {} (every one), which may ask for a
 * reply (MQTT v5 response topic): {"results": {"<id>": "started|restarted|stopped|..."}}.
 * The bus thread only queues a request; the service's main thread takes them one by one.
 * Every function is thread-safe where it takes a queue.
 */
#ifndef SB_CTL_H
#define SB_CTL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"

typedef struct sb_ctl_req {
    struct sb_ctl_req *next;
    cJSON *ids;  /* array of ids, owned; NULL = every entity */
    bool force;  /* restart even when the document did not change (ctl requests) */
    char *reply; /* response topic, or NULL */
    void *corr;  /* correlation data */
    size_t corr_len;
} sb_ctl_req;

/* A request for one id (NULL: every entity, ids stays NULL). NULL when out of memory. */
sb_ctl_req *sb_ctl_for(const char *id, bool force);

/* The request a <p>/ctl/<service>/reload message carries (force set), with its reply topic.
 * A payload that is not a JSON object means every entity. NULL when out of memory. */
sb_ctl_req *sb_ctl_from_msg(const sb_bus_msg *bm);

/* Answers r (when it asked for a reply) with {"results": results}; takes results. */
void sb_ctl_reply(sb_bus *bus, const sb_ctl_req *r, cJSON *results);

/* Frees r (accepts NULL). */
void sb_ctl_free(sb_ctl_req *r);

/* Records what happened to id in results (may be NULL); the first note of an id stays. */
void sb_ctl_note(cJSON *results, const char *id, const char *what);

/* Carries out r: all(ctx, force, results) when it names no ids, else one(ctx, id, force,
 * results) per id; then answers it (sb_ctl_reply). Does not free r. */
void sb_ctl_run(sb_bus *bus, const sb_ctl_req *r, void (*all)(void *, bool, cJSON *),
                void (*one)(void *, const char *, bool, cJSON *), void *ctx);

typedef struct sb_ctl_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sb_ctl_req *head, *tail;
} sb_ctl_queue;

void sb_ctl_queue_init(sb_ctl_queue *q);
/* Frees the requests left and the queue's lock. */
void sb_ctl_queue_destroy(sb_ctl_queue *q);
/* Appends r (taken; NULL ignored) and wakes the taker. */
void sb_ctl_push(sb_ctl_queue *q, sb_ctl_req *r);
/* The oldest request, waiting up to wait_ms for one; NULL when none came. */
sb_ctl_req *sb_ctl_next(sb_ctl_queue *q, int64_t wait_ms);

#endif
