/*
 * state.c - a task's state {status, message, since, lastEvaluation, lastSuccess, executedCount,
 * history, reEnableAt}: the task service is its single writer. It is stored into the task's
 * document and published as the event <p>/event/task/<id> ("updated", the whole document).
 *
 * Every trigger, error and change of message is stored at once; an evaluation that changes only
 * lastEvaluation is stored by the next periodic flush (task.state_flush), so a stream of
 * evaluations does not become a stream of store writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "services/task/task.h"

static int64_t time_member(const cJSON *o, const char *key)
{
    int64_t ms = 0;
    const char *s = sb_json_str(o, key, NULL);
    if (s && sb_time_parse(s, &ms) != SB_OK)
        ms = 0;
    return ms;
}

void task_state_load(task *t, const cJSON *state)
{
    t->st.last_eval_ms = time_member(state, "lastEvaluation");
    t->st.last_success_ms = time_member(state, "lastSuccess");
    t->st.re_enable_at_ms = time_member(state, "reEnableAt");
    t->st.executed = (int64_t)sb_json_num(state, "executedCount", 0);
    snprintf(t->st.status, sizeof(t->st.status), "%s", sb_json_str(state, "status", "ok"));
    snprintf(t->st.message, sizeof(t->st.message), "%s", sb_json_str(state, "message", ""));
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(state, "history");
    t->st.history = cJSON_IsArray(h) ? cJSON_Duplicate(h, true) : cJSON_CreateArray();
}

static void set_time(cJSON *o, const char *key, int64_t ms)
{
    char buf[SB_TIME_RFC3339_LEN];
    if (!ms) {
        sb_json_set(o, key, cJSON_CreateNull());
        return;
    }
    sb_time_format(ms, buf, sizeof(buf));
    sb_json_set_str(o, key, buf);
}

static cJSON *state_json(const task *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    sb_json_set_str(o, "status", t->st.status[0] ? t->st.status : "ok");
    sb_json_set_str(o, "message", t->st.message);
    set_time(o, "since", t->st.last_eval_ms ? t->st.last_eval_ms : sb_time_now_ms());
    set_time(o, "lastEvaluation", t->st.last_eval_ms);
    set_time(o, "lastSuccess", t->st.last_success_ms);
    sb_json_set_num(o, "executedCount", (double)t->st.executed);
    if (t->st.re_enable_at_ms)
        set_time(o, "reEnableAt", t->st.re_enable_at_ms);
    sb_json_set(o, "history",
                t->st.history ? cJSON_Duplicate(t->st.history, true) : cJSON_CreateArray());
    return o;
}

static void add_history(task_svc *s, task *t, bool triggered, const char *status,
                        const char *message)
{
    if (!t->st.history && !(t->st.history = cJSON_CreateArray()))
        return;
    cJSON *e = cJSON_CreateObject();
    set_time(e, "time", t->st.last_eval_ms);
    sb_json_set_bool(e, "triggered", triggered);
    sb_json_set_str(e, "status", status);
    sb_json_set_str(e, "message", message);
    cJSON_AddItemToArray(t->st.history, e);
    while (cJSON_GetArraySize(t->st.history) > (int)s->cfg->task.history)
        cJSON_DeleteItemFromArray(t->st.history, 0);
}

void task_state_record(task_svc *s, task *t, bool triggered, const char *status,
                       const char *message)
{
    t->st.last_eval_ms = sb_time_now_ms();
    bool changed = triggered || strcmp(t->st.status, status) != 0 ||
                   strncmp(t->st.message, message, sizeof(t->st.message) - 1) != 0;
    snprintf(t->st.status, sizeof(t->st.status), "%s", status);
    snprintf(t->st.message, sizeof(t->st.message), "%s", message);
    t->st.dirty = true;
    if (changed) {
        add_history(s, t, triggered, status, message);
        task_state_save(s, t);
    }
}

void task_state_save(task_svc *s, task *t)
{
    cJSON *state = state_json(t), *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = state ? sb_store_get(s->store, "task", t->id, &doc, &em) : SB_ERR_NOMEM;
    if (rc != SB_OK) {
        /* Deleted meanwhile: nothing to store or announce. */
        if (rc != SB_ERR_NOTFOUND)
            sb_warn(&s->log, "task '%s': reading it to store its state: %s", t->id,
                    sb_errmsg_str(&em, rc));
        cJSON_Delete(state);
        return;
    }
    if (task_modified_ms(t->raw) > task_modified_ms(doc)) {
        /* The store holds an older configuration than the one running (a write of ours
         * overwrote a newer one): the newer one goes back with the state. */
        cJSON *newer = cJSON_Duplicate(t->raw, true);
        if (newer) {
            cJSON_Delete(doc);
            doc = newer;
        }
    }
    sb_json_set(doc, "state", state);
    /* The one configuration key this service writes: autoDisable and reEnable flip it. */
    if (t->st.enabled_dirty)
        sb_json_set_bool(doc, "enabled", t->enabled);
    t->st.dirty = t->st.enabled_dirty = false;
    rc = sb_event_publish(s->bus, "updated", "task", t->id, NULL, doc);
    if (rc != SB_OK)
        sb_warn(&s->log, "task '%s': state event not published: %s", t->id, sb_strerror(rc));
    if (!s->pending)
        s->pending = cJSON_CreateArray();
    /* A second save of the same task before the commit replaces the first. */
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, s->pending)
    {
        if (strcmp(sb_json_str(p, "id", ""), t->id) == 0)
            break;
        i++;
    }
    if (p)
        cJSON_ReplaceItemInArray(s->pending, i, doc);
    else
        cJSON_AddItemToArray(s->pending, doc);
}

static void store_docs(task_svc *s, const cJSON *docs)
{
    int n = cJSON_GetArraySize(docs);
    sb_store_op *ops = calloc((size_t)n, sizeof(*ops));
    const cJSON *doc;
    size_t k = 0;
    if (!ops) {
        sb_warn(&s->log, "storing the state of %d tasks: out of memory", n);
        return;
    }
    cJSON_ArrayForEach(doc, docs)
    {
        ops[k++] = (sb_store_op){.type = SB_STORE_PUT, .kind = "task", .doc = doc};
    }
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_batch(s->store, ops, k, &em);
    if (rc != SB_OK)
        sb_warn(&s->log, "storing the state of %d tasks: %s", n, sb_errmsg_str(&em, rc));
    free(ops);
}

static void *writer(void *arg)
{
    task_svc *s = arg;
    pthread_mutex_lock(&s->wmu);
    for (;;) {
        cJSON *docs = s->wqueue ? cJSON_DetachItemFromArray(s->wqueue, 0) : NULL;
        if (!docs) {
            if (s->wstop)
                break;
            pthread_cond_wait(&s->wcv, &s->wmu);
            continue;
        }
        pthread_mutex_unlock(&s->wmu);
        store_docs(s, docs);
        cJSON_Delete(docs);
        pthread_mutex_lock(&s->wmu);
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

sb_err task_writer_start(task_svc *s, sb_errmsg *em)
{
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    s->wqueue = cJSON_CreateArray();
    if (!s->wqueue || pthread_create(&s->writer, NULL, writer, s) != 0)
        return sb_fail(em, SB_ERR_IO, "cannot start the state writer thread");
    s->writer_running = true;
    return SB_OK;
}

void task_writer_stop(task_svc *s)
{
    if (!s->writer_running)
        return;
    pthread_mutex_lock(&s->wmu);
    s->wstop = true;
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    pthread_join(s->writer, NULL);
    pthread_cond_destroy(&s->wcv);
    pthread_mutex_destroy(&s->wmu);
    cJSON_Delete(s->wqueue);
    s->writer_running = false;
}

void task_state_commit(task_svc *s)
{
    if (!s->pending || !s->pending->child)
        return;
    if (!s->writer_running) {
        store_docs(s, s->pending);
        cJSON_Delete(s->pending);
    } else {
        pthread_mutex_lock(&s->wmu);
        cJSON_AddItemToArray(s->wqueue, s->pending);
        pthread_cond_signal(&s->wcv);
        pthread_mutex_unlock(&s->wmu);
    }
    s->pending = NULL;
}
