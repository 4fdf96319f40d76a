/*
 * delay.c - the resource handler's delayed actions. Each is a document in the store
 * (kind "_handler_resource": {id, handler, dueAt (epoch ms), action}) from the moment the call
 * is accepted until the action ran, so a restart re-arms it: a due time that passed while the
 * service was down runs at once. One timer thread per handler runs them in due order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "core/uuid.h"
#include "handlers/resource/resource.h"
#include "storage/store.h"

#define KIND "_handler_resource"

struct rs_delay {
    const sb_handler_host *host;
    int64_t api_timeout_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit;
    cJSON *pending; /* array of the documents, under mu */
};

/* The pending document due first, or NULL. */
static cJSON *earliest(rs_delay *d)
{
    cJSON *best = NULL, *it;
    cJSON_ArrayForEach(it, d->pending)
    {
        if (!best || sb_json_num(it, "dueAt", 0) < sb_json_num(best, "dueAt", 0))
            best = it;
    }
    return best;
}

static void run_one(rs_delay *d, cJSON *doc)
{
    sb_errmsg em = {{0}};
    const char *id = sb_json_str(doc, "id", "");
    sb_err rc =
        rs_act(d->host, cJSON_GetObjectItemCaseSensitive(doc, "action"), d->api_timeout_ms, &em);
    if (rc == SB_OK)
        sb_info(d->host->log, "delayed action done: %s", em.text);
    else
        sb_warn(d->host->log, "delayed action failed: %s", sb_errmsg_str(&em, rc));
    sb_errmsg dem = {{0}};
    if ((rc = sb_store_delete(d->host->store, KIND, &id, 1, NULL, &dem)) != SB_OK)
        sb_warn(d->host->log, "delayed action %s: removing it: %s", id, sb_errmsg_str(&dem, rc));
}

static void *timer(void *arg)
{
    rs_delay *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->quit) {
        cJSON *next = earliest(d);
        int64_t wait = next ? (int64_t)sb_json_num(next, "dueAt", 0) - sb_time_now_ms() : 60000;
        if (wait > 0) {
            struct timespec ts;
            sb_time_mono_deadline(wait > 60000 ? 60000 : wait, &ts);
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            continue;
        }
        cJSON_DetachItemViaPointer(d->pending, next);
        pthread_mutex_unlock(&d->mu);
        run_one(d, next);
        cJSON_Delete(next);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static sb_err load(rs_delay *d, sb_errmsg *em)
{
    sb_query q = {0};
    cJSON *id = cJSON_CreateString(d->host->handler_id), *found = NULL;
    sb_err rc = id ? sb_query_add(&q, "handler", SB_OP_EQ, id, em) : SB_ERR_NOMEM;
    if (rc == SB_OK)
        rc = sb_store_find(d->host->store, KIND, &q, &found, em);
    cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(found, "data");
    if (rc == SB_OK && data) {
        cJSON_Delete(d->pending);
        d->pending = data;
        if (cJSON_GetArraySize(data) > 0)
            sb_info(d->host->log, "%d delayed actions pending", cJSON_GetArraySize(data));
    } else {
        cJSON_Delete(data);
    }
    cJSON_Delete(found);
    cJSON_Delete(id);
    sb_query_free(&q);
    return rc;
}

void rs_delay_stop(rs_delay *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    bool started = !d->quit;
    d->quit = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (started)
        pthread_join(d->thread, NULL);
    cJSON_Delete(d->pending);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

sb_err rs_delay_start(const sb_handler_host *host, int64_t api_timeout_ms, rs_delay **out,
                      sb_errmsg *em)
{
    *out = NULL;
    rs_delay *d = calloc(1, sizeof(*d));
    if (!d)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    d->host = host;
    d->api_timeout_ms = api_timeout_ms;
    d->pending = cJSON_CreateArray();
    pthread_mutex_init(&d->mu, NULL);
    sb_time_cond_init(&d->cv);
    sb_err rc = d->pending ? load(d, em) : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    if (rc == SB_OK && pthread_create(&d->thread, NULL, timer, d) != 0)
        rc = sb_fail(em, SB_ERR_IO, "cannot start the delay timer thread");
    if (rc != SB_OK) {
        d->quit = true; /* never started */
        rs_delay_stop(d);
        return sb_fail_wrap(em, rc, "delayed actions");
    }
    *out = d;
    return SB_OK;
}

sb_err rs_delay_add(rs_delay *d, const cJSON *action, int64_t due_ms, sb_errmsg *em)
{
    char id[SB_UUID_LEN];
    sb_uuid(id);
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !sb_json_set_str(doc, "id", id) ||
        !sb_json_set_str(doc, "handler", d->host->handler_id) ||
        !sb_json_set_num(doc, "dueAt", (double)due_ms) ||
        !sb_json_set(doc, "action", cJSON_Duplicate(action, 1))) {
        cJSON_Delete(doc);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    sb_err rc = sb_store_put(d->host->store, KIND, doc, em); /* durable before it counts */
    if (rc != SB_OK) {
        cJSON_Delete(doc);
        return rc;
    }
    pthread_mutex_lock(&d->mu);
    cJSON_AddItemToArray(d->pending, doc);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    char due[SB_TIME_RFC3339_LEN];
    sb_time_format(due_ms, due, sizeof(due));
    sb_fail(em, SB_OK, "scheduled for %s", due);
    return SB_OK;
}
