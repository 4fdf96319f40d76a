/*
 * pool.c - the request workers (api.workers threads). A job carries one request and its
 * response; a worker runs api_dispatch() on it, gzips the answer as the client accepts it, puts
 * it on the finished list and calls the wake callback (http.c: lws_cancel_service) so the
 * service thread picks it up and writes the answer. The pool never looks at a job's owner:
 * that is the service thread's business (an owner that went away orphans its job, see http.c).
 *
 * Stopping: api_pool_stop() lets every worker finish the job it runs (each handler has its own
 * bound: api.processor_timeout, the metric store's timeouts) and leaves jobs nobody started
 * where they are; api_pool_free() frees every job still held.
 */
#include <pthread.h>
#include <stdlib.h>

#include "api.h"

struct api_pool {
    api *a;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    api_job *queue, *queue_tail; /* waiting for a worker */
    api_job *done;               /* finished, for the service thread (any order) */
    bool stopping;
    void (*wake)(void *ctx);
    void *wake_ctx;
    size_t n_threads;
    pthread_t threads[];
};

void api_job_free(api_job *j)
{
    if (!j)
        return;
    api_params_free(&j->rq.params);
    free(j->rq.body);
    free(j->rs.body);
    free(j);
}

static void free_list(api_job *j)
{
    while (j) {
        api_job *next = j->next;
        api_job_free(j);
        j = next;
    }
}

static void *worker(void *arg)
{
    api_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->queue && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stopping)
            break;
        api_job *j = p->queue;
        p->queue = j->next;
        if (!p->queue)
            p->queue_tail = NULL;
        pthread_mutex_unlock(&p->mu);
        api_dispatch(p->a, &j->rq, &j->rs);
        if (j->rq.method != API_HEAD)
            api_gzip_response(p->a, j->accept_encoding, &j->rs);
        pthread_mutex_lock(&p->mu);
        j->next = p->done;
        p->done = j;
        pthread_mutex_unlock(&p->mu);
        p->wake(p->wake_ctx);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

api_pool *api_pool_start(api *a, size_t n, void (*wake)(void *ctx), void *wake_ctx)
{
    api_pool *p = calloc(1, sizeof(*p) + n * sizeof(pthread_t));
    if (!p)
        return NULL;
    p->a = a;
    p->wake = wake;
    p->wake_ctx = wake_ctx;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (; p->n_threads < n; p->n_threads++)
        if (pthread_create(&p->threads[p->n_threads], NULL, worker, p) != 0)
            break;
    if (p->n_threads == 0) {
        api_pool_free(p);
        return NULL;
    }
    return p;
}

size_t api_pool_threads(const api_pool *p)
{
    return p ? p->n_threads : 0;
}

bool api_pool_submit(api_pool *p, api_job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    bool ok = !p->stopping;
    if (ok) {
        if (p->queue_tail)
            p->queue_tail->next = j;
        else
            p->queue = j;
        p->queue_tail = j;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

api_job *api_pool_take_done(api_pool *p)
{
    pthread_mutex_lock(&p->mu);
    api_job *j = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->mu);
    return j;
}

void api_pool_stop(api_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    bool was = p->stopping;
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (was)
        return;
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
}

void api_pool_free(api_pool *p)
{
    if (!p)
        return;
    api_pool_stop(p);
    free_list(p->queue);
    free_list(p->done);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
