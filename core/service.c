#include "core/service.h"

#include "core/json.h"
#include "core/time.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_INTERVAL_MS 10000

/* ---- stop flag ----------------------------------------------------------------------------- */

void sb_cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

void sb_stop_init(sb_stop_flag *f)
{
    atomic_init(&f->stop, false);
    pthread_mutex_init(&f->mu, NULL);
    sb_cond_init_mono(&f->cv);
}

void sb_stop_destroy(sb_stop_flag *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

void sb_stop_raise(sb_stop_flag *f)
{
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->stop, true);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

bool sb_stop_raised(sb_stop_flag *f)
{
    return atomic_load(&f->stop);
}

bool sb_stop_wait(sb_stop_flag *f, int64_t ms)
{
    struct timespec ts;
    sb_time_mono_deadline(ms, &ts);
    pthread_mutex_lock(&f->mu);
    while (!atomic_load(&f->stop)) {
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
            break;
    }
    bool r = atomic_load(&f->stop);
    pthread_mutex_unlock(&f->mu);
    return r;
}

/* ---- signals: a self-pipe read by a watcher thread ------------------------------------------ */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static void *sig_watch(void *arg)
{
    sb_stop_flag *f = arg;
    unsigned char b;
    while (read(sig_pipe[0], &b, 1) == 1) {
        sb_info(NULL, "signal %d: stopping", (int)b);
        sb_stop_raise(f);
    }
    return NULL;
}

sb_err sb_signals_install(sb_stop_flag *f, sb_errmsg *em)
{
    if (pipe2(sig_pipe, O_CLOEXEC) != 0)
        return sb_fail(em, SB_ERR_IO, "pipe: %s", strerror(errno));
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t t;
    if (pthread_create(&t, NULL, sig_watch, f) != 0)
        return sb_fail(em, SB_ERR_NOMEM, "cannot start the signal thread");
    pthread_detach(t);
    return SB_OK;
}

/* ---- per-service runtime ------------------------------------------------------------------- */

struct sb_service {
    const sb_config *cfg;
    char name[64];
    sb_bus *bus;
    sb_service_stats_fn stats_fn;
    void *stats_ctx;
    sb_stop_flag stop;
    pthread_t status_thread;
    bool status_running;
};

const char *sb_service_instance(const sb_config *cfg, char *buf, size_t len)
{
    if (cfg->instance && *cfg->instance) {
        snprintf(buf, len, "%s", cfg->instance);
    } else if (gethostname(buf, len) != 0 || !buf[0]) {
        snprintf(buf, len, "%s", "default");
    }
    buf[len - 1] = '\0';
    return buf;
}

void sb_service_publish_status(sb_service *svc)
{
    cJSON *stats = cJSON_CreateObject();
    if (!stats)
        return;
    sb_bus_stats bs;
    sb_bus_get_stats(svc->bus, &bs);
    cJSON *b = cJSON_AddObjectToObject(stats, "bus");
    cJSON_AddNumberToObject(b, "published", (double)bs.published);
    cJSON_AddNumberToObject(b, "received", (double)bs.received);
    cJSON_AddNumberToObject(b, "pending", (double)bs.pending);
    cJSON_AddNumberToObject(b, "publishFailed", (double)bs.publish_failed);
    cJSON_AddNumberToObject(b, "rejectedFull", (double)bs.rejected_full);
    cJSON_AddNumberToObject(b, "connects", (double)bs.connects);
    if (svc->stats_fn)
        svc->stats_fn(svc->stats_ctx, stats);
    char *text = sb_json_print(stats);
    cJSON_Delete(stats);
    if (text)
        sb_bus_set_status(svc->bus, text);
    free(text);
}

static void *status_main(void *arg)
{
    sb_service *svc = arg;
    int64_t every = svc->cfg->bus.status_interval_ms > 0 ? svc->cfg->bus.status_interval_ms
                                                         : STATUS_INTERVAL_MS;
    while (!sb_stop_wait(&svc->stop, every)) {
        if (sb_bus_connected(svc->bus))
            sb_service_publish_status(svc);
    }
    return NULL;
}

sb_err sb_service_subscribe(sb_service *svc, const char *filter, sb_bus_handler fn, void *ctx,
                            sb_errmsg *em)
{
    char topic[512];
    sb_bus *bus = sb_service_bus(svc);
    if (sb_bus_topic(bus, topic, sizeof(topic), "%s", filter) != SB_OK)
        return sb_fail(em, SB_ERR_TOO_LARGE, "topic '%.64s': too long", filter);
    return sb_bus_subscribe(bus, topic, 1, fn, ctx, em);
}

sb_err sb_service_open(const sb_config *cfg, const char *name, sb_service_stats_fn stats_fn,
                       void *stats_ctx, sb_service **out, sb_errmsg *em)
{
    *out = NULL;
    sb_service *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    svc->cfg = cfg;
    snprintf(svc->name, sizeof(svc->name), "%s", name);
    svc->stats_fn = stats_fn;
    svc->stats_ctx = stats_ctx;
    sb_stop_init(&svc->stop);
    char inst[128];
    sb_bus_opts o = {.cfg = &cfg->bus,
                     .service = name,
                     .instance = sb_service_instance(cfg, inst, sizeof(inst))};
    sb_err rc = sb_bus_create(&o, &svc->bus, em);
    if (rc != SB_OK)
        goto fail;
    rc = sb_bus_start(svc->bus, cfg->bus.connect_timeout_ms, em);
    if (rc == SB_ERR_TIMEOUT) {
        sb_warn(NULL, "%s", em ? em->text : "bus not connected yet; retrying");
        rc = SB_OK; /* keeps retrying in the background */
    }
    if (rc != SB_OK)
        goto fail;
    if (pthread_create(&svc->status_thread, NULL, status_main, svc) == 0)
        svc->status_running = true;
    *out = svc;
    return SB_OK;
fail:
    sb_service_close(svc, 0);
    return rc;
}

sb_bus *sb_service_bus(sb_service *svc)
{
    return svc->bus;
}

const sb_config *sb_service_config(sb_service *svc)
{
    return svc->cfg;
}

void sb_service_close(sb_service *svc, int64_t drain_ms)
{
    if (!svc)
        return;
    sb_stop_raise(&svc->stop);
    if (svc->status_running)
        pthread_join(svc->status_thread, NULL);
    sb_bus_destroy(svc->bus, drain_ms);
    sb_stop_destroy(&svc->stop);
    free(svc);
}
