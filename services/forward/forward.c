/*
 * forward.c - the forward-payload service: bus subscriptions, the job queue and the worker.
 *
 * The bus thread parses field events (single ones on <p>/event/field/<id>, batches on
 * <p>/event/field), matches their source against the mappings in memory and queues one job per
 * mapping whose source value changed; the service's own thread reads the destination field and
 * publishes the set. Reloads of the mappings are queued the same way, so they happen in order
 * with the jobs.
 */
#include "services/forward/forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/time.h"

#define QUEUE_MAX 10000 /* jobs waiting; more are dropped (counted) */

static void job_free(fwd_job *j)
{
    if (j)
        cJSON_Delete(j->value);
    free(j);
}

/* Queues j (taking it); under s->mu. */
static void push_locked(fwd_service *s, fwd_job *j)
{
    if (s->queued >= QUEUE_MAX && j->value) {
        atomic_fetch_add(&s->dropped, 1);
        job_free(j);
        return;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    s->queued++;
    pthread_cond_signal(&s->cv);
}

static fwd_job *pop(fwd_service *s)
{
    pthread_mutex_lock(&s->mu);
    fwd_job *j = s->head;
    if (j) {
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        if (!j->value)
            s->reload_queued = false;
    }
    pthread_mutex_unlock(&s->mu);
    return j;
}

/*
 * Whether a field event carries a new value: its current value differs from its previous one
 * (or it has no previous one). A value reported again unchanged is not forwarded.
 */
static bool value_changed(const cJSON *field, const cJSON **value, const char **ts)
{
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(field, "current");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(field, "previous");
    *value = cJSON_GetObjectItemCaseSensitive(cur, "value");
    *ts = sb_json_str(cur, "timestamp", "");
    if (!*value || cJSON_IsNull(*value))
        return false;
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(prev, "value");
    return !old || !cJSON_Compare(old, *value, true);
}

/* Queues a job for every mapping from this field, once per source value. */
static void match(fwd_service *s, const sb_event *ev)
{
    const cJSON *value;
    const char *ts;
    if (strcmp(ev->entity_type, "field") != 0 || strcmp(ev->type, "deleted") == 0 ||
        !value_changed(ev->entity, &value, &ts))
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_maps; i++) {
        fwd_map *m = &s->maps[i];
        if (strcmp(m->src, ev->entity_id) != 0)
            continue;
        if (*ts && strcmp(m->last_ts, ts) == 0)
            continue; /* the same value delivered again */
        snprintf(m->last_ts, sizeof(m->last_ts), "%s", ts);
        fwd_job *j = calloc(1, sizeof(*j));
        if (!j || !(j->value = cJSON_Duplicate(value, true))) {
            atomic_fetch_add(&s->dropped, 1);
            free(j);
            continue;
        }
        snprintf(j->map_id, sizeof(j->map_id), "%s", m->id);
        snprintf(j->dst, sizeof(j->dst), "%s", m->dst);
        push_locked(s, j);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_field_event(void *ctx, const sb_bus_msg *bm)
{
    sb_event *ev = NULL;
    size_t n = 0;
    sb_errmsg em = {{0}};
    sb_err rc = sb_event_parse(bm->payload, bm->len, &ev, &n, &em);
    if (rc != SB_OK) {
        sb_warn(NULL, "%s: malformed event dropped: %s", bm->topic, sb_errmsg_str(&em, rc));
        return;
    }
    for (size_t i = 0; i < n; i++)
        match(ctx, &ev[i]);
    sb_event_free_all(ev, n);
}

/* <p>/event/forward_payload/# and <p>/ctl/forward/reload: reload the mappings. */
static void on_reload(void *ctx, const sb_bus_msg *bm)
{
    (void)bm;
    fwd_service *s = ctx;
    pthread_mutex_lock(&s->mu);
    fwd_job *j = s->reload_queued ? NULL : calloc(1, sizeof(*j));
    if (j) {
        s->reload_queued = true;
        push_locked(s, j);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The value as a device message's text: strings as they are, the rest as JSON. */
static char *value_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    return sb_json_print(v);
}

/* Sends the set of j->dst ("gw.node.source.field") to its gateway. */
static void send_set(fwd_service *s, const fwd_job *j)
{
    char ids[4][SB_QUICKID_PART_MAX], topic[512];
    if (sscanf(j->dst, "%127[^.].%127[^.].%127[^.].%127s", ids[0], ids[1], ids[2], ids[3]) != 4)
        return;
    cJSON *dst = NULL;
    sb_metric_type mt = SB_METRIC_NONE;
    if (sb_store_get(s->store, "field", j->dst, &dst, NULL) == SB_OK)
        sb_metric_type_parse(sb_json_str(dst, "metricType", "none"), &mt);
    cJSON_Delete(dst);
    char *text = value_text(j->value), *body = NULL;
    sb_msg *m = sb_msg_new(ids[0], ids[1], ids[2], SB_MSG_SET);
    size_t len = 0;
    sb_err rc = SB_ERR_NOMEM;
    if (text && m && sb_msg_add_payload(m, ids[3], text, mt, NULL) &&
        (body = sb_msg_encode(m, &len)))
        rc = sb_bus_topic(s->bus, topic, sizeof(topic), "msg/out/%s", ids[0]);
    if (rc == SB_OK)
        rc = sb_bus_publish(s->bus, topic, body, len, 1, false);
    if (rc == SB_OK) {
        atomic_fetch_add(&s->forwarded, 1);
        sb_debug(NULL, "forward_payload '%s': %s = %s", j->map_id, j->dst, text);
    } else {
        atomic_fetch_add(&s->errors, 1);
        sb_warn(NULL, "forward_payload '%s': set of %s not sent: %s", j->map_id, j->dst,
                sb_strerror(rc));
    }
    free(body);
    free(text);
    sb_msg_free(m);
}

static void main_loop(fwd_service *s, sb_stop_flag *stop)
{
    while (!sb_stop_raised(stop)) {
        fwd_job *j = pop(s);
        if (!j) { /* the stop flag has its own condition variable: look again every 100 ms */
            struct timespec ts;
            sb_time_mono_deadline(100, &ts);
            pthread_mutex_lock(&s->mu);
            if (!s->head)
                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        if (j->value)
            send_set(s, j);
        else
            fwd_reload(s);
        job_free(j);
    }
}

static void add_stats(void *ctx, cJSON *stats)
{
    fwd_service *s = ctx;
    pthread_mutex_lock(&s->mu);
    cJSON_AddNumberToObject(stats, "mappings", (double)s->n_maps);
    cJSON_AddNumberToObject(stats, "queued", (double)s->queued);
    pthread_mutex_unlock(&s->mu);
    cJSON_AddNumberToObject(stats, "refused", (double)atomic_load(&s->refused));
    cJSON_AddNumberToObject(stats, "forwarded", (double)atomic_load(&s->forwarded));
    cJSON_AddNumberToObject(stats, "dropped", (double)atomic_load(&s->dropped));
    cJSON_AddNumberToObject(stats, "errors", (double)atomic_load(&s->errors));
}

int sb_forward_run(const sb_config *cfg, sb_stop_flag *stop)
{
    fwd_service s = {.cfg = cfg};
    sb_cond_init_mono(&s.cv);
    pthread_mutex_init(&s.mu, NULL);
    sb_service *svc = NULL;
    sb_errmsg em = {{0}};
    int code = 1;
    sb_err rc = sb_store_open(cfg, &s.store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(NULL, "store: %s", em.text);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "forward", add_stats, &s, &svc, &em);
    if (rc == SB_OK) {
        s.bus = sb_service_bus(svc);
        rc = sb_service_subscribe(svc, "event/field/#", on_field_event, &s, &em);
    }
    if (rc == SB_OK)
        rc = sb_service_subscribe(svc, "event/forward_payload/#", on_reload, &s, &em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(svc, "ctl/forward/reload", on_reload, &s, &em);
    if (rc != SB_OK) {
        sb_error(NULL, "%s", sb_errmsg_str(&em, rc));
        goto done;
    }
    fwd_reload(&s);
    main_loop(&s, stop);
    code = 0;
done:
    sb_service_close(svc, 2000); /* first: no bus handler queues anything after it */
    for (fwd_job *j; (j = pop(&s));)
        job_free(j);
    sb_store_close(s.store);
    free(s.maps);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return code;
}

const sb_service_def sb_service_forward = {
    .name = "forward",
    .description = "forwards a field's new values to another field (forward_payload mappings)",
    .run = sb_forward_run,
};
