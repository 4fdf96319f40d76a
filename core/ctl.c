/* ctl.c - reload requests for a service's main thread (ctl.h). */
#include "core/ctl.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

sb_ctl_req *sb_ctl_for(const char *id, bool force)
{
    sb_ctl_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->force = force;
    if (id && (!(r->ids = cJSON_CreateArray()) ||
               !cJSON_AddItemToArray(r->ids, cJSON_CreateString(id)))) {
        sb_ctl_free(r);
        return NULL;
    }
    return r;
}

sb_ctl_req *sb_ctl_from_msg(const sb_bus_msg *bm)
{
    cJSON *req = NULL;
    if (bm->len)
        sb_json_parse(bm->payload, bm->len, &req, NULL);
    const char *id = sb_json_str(req, "id", NULL);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids");
    sb_ctl_req *r = sb_ctl_for(id, true);
    if (r && !id && cJSON_IsArray(ids))
        r->ids = cJSON_Duplicate(ids, 1);
    if (r && bm->response_topic) {
        r->reply = strdup(bm->response_topic);
        if (bm->correlation && bm->correlation_len && (r->corr = malloc(bm->correlation_len))) {
            memcpy(r->corr, bm->correlation, bm->correlation_len);
            r->corr_len = bm->correlation_len;
        }
    }
    cJSON_Delete(req);
    return r;
}

void sb_ctl_reply(sb_bus *bus, const sb_ctl_req *r, cJSON *results)
{
    if (!r->reply) {
        cJSON_Delete(results);
        return;
    }
    cJSON *reply = cJSON_CreateObject();
    if (reply && results && cJSON_AddItemToObject(reply, "results", results))
        results = NULL;
    char *text = sb_json_print(reply);
    sb_bus_msg req = {
        .response_topic = r->reply, .correlation = r->corr, .correlation_len = r->corr_len};
    if (text)
        sb_bus_reply(bus, &req, text, strlen(text));
    free(text);
    cJSON_Delete(reply);
    cJSON_Delete(results);
}

void sb_ctl_free(sb_ctl_req *r)
{
    if (!r)
        return;
    cJSON_Delete(r->ids);
    free(r->reply);
    free(r->corr);
    free(r);
}

void sb_ctl_queue_init(sb_ctl_queue *q)
{
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    sb_time_cond_init(&q->cv);
}

void sb_ctl_queue_destroy(sb_ctl_queue *q)
{
    for (sb_ctl_req *r = q->head, *next; r; r = next) {
        next = r->next;
        sb_ctl_free(r);
    }
    q->head = q->tail = NULL;
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

void sb_ctl_push(sb_ctl_queue *q, sb_ctl_req *r)
{
    if (!r)
        return;
    r->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

sb_ctl_req *sb_ctl_next(sb_ctl_queue *q, int64_t wait_ms)
{
    pthread_mutex_lock(&q->mu);
    if (!q->head && wait_ms > 0) {
        struct timespec ts;
        sb_time_mono_deadline(wait_ms, &ts);
        pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
    sb_ctl_req *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    return r;
}

void sb_ctl_note(cJSON *results, const char *id, const char *what)
{
    if (results && !cJSON_GetObjectItemCaseSensitive(results, id))
        cJSON_AddStringToObject(results, id, what);
}

void sb_ctl_run(sb_bus *bus, const sb_ctl_req *r, void (*all)(void *, bool, cJSON *),
                void (*one)(void *, const char *, bool, cJSON *), void *ctx)
{
    cJSON *results = cJSON_CreateObject();
    if (!r->ids) {
        all(ctx, r->force, results);
    } else {
        const cJSON *id;
        cJSON_ArrayForEach(id, r->ids)
        {
            if (cJSON_IsString(id))
                one(ctx, id->valuestring, r->force, results);
        }
    }
    sb_ctl_reply(bus, r, results);
}
