/*
 * system_monitoring.c - the system_monitoring gateway provider: the host Switchboard runs on
 * as one node. A thread of its own samples /proc and /sys every interval (sysmon.h) and hands
 * the messages to the service; nothing is writable (docs/gateways/system_monitoring.md).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/options.h"
#include "core/time.h"
#include "gateways/provider.h"
#include "gateways/system_monitoring/sysmon.h"

typedef struct sm_opts {
    int64_t interval_ms;
    char *node_id, *proc_root, *sys_root;
    sb_strlist disks, interfaces;
    bool temperatures;
} sm_opts;

static const sb_option sm_table[] = {
    SB_OPT_ROW_DURATION(sm_opts, interval_ms, "interval", "10s", 100, 86400000,
                        "how often the host is sampled"),
    SB_OPT_ROW_STR(sm_opts, node_id, "nodeId", "",
                   "the node id; empty = the host name (with '.' and the like as '_')"),
    SB_OPT_ROW_LIST(sm_opts, disks, "disks", NULL,
                    "mount points to report; empty = every real file system in /proc/mounts"),
    SB_OPT_ROW_LIST(sm_opts, interfaces, "interfaces", NULL,
                    "network interfaces to report; empty = all but lo"),
    SB_OPT_ROW_BOOL(sm_opts, temperatures, "temperatures", "true",
                    "report /sys thermal zones and hwmon temperatures"),
    SB_OPT_ROW_STR(sm_opts, proc_root, "procRoot", "/proc",
                   "where proc is mounted (a container may see the host's elsewhere)"),
    SB_OPT_ROW_STR(sm_opts, sys_root, "sysRoot", "/sys", "where sysfs is mounted"),
    SB_OPT_END,
};

typedef struct sm_prov {
    const sb_gateway_host *host;
    const sm_opts *o;
    sb_sysmon_cfg cfg;
    const char **disks, **interfaces; /* NULL-terminated copies of the option lists' items */
    char node_id[SB_MSG_ID_MAX + 1], hostname[256], kernel[128];
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    sb_sysmon_sample *prev, *cur;
    atomic_uint_fast64_t samples, messages, read_errors;
} sm_prov;

static const char **terminated(const sb_strlist *l)
{
    const char **a = calloc(l->n + 1, sizeof(*a));
    for (size_t i = 0; a && i < l->n; i++)
        a[i] = l->items[i];
    return a;
}

static void handoff(sm_prov *p, sb_msg **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p->host->receive(p->host->ctx, msgs[i]);
    atomic_fetch_add(&p->messages, n);
    free(msgs);
}

static void sample(sm_prov *p, bool first)
{
    char why[1024];
    sb_sysmon_read(&p->cfg, p->cur, why, sizeof(why));
    atomic_fetch_add(&p->samples, 1);
    if (why[0]) {
        atomic_fetch_add(&p->read_errors, 1);
        if (first) /* the same problem every interval: said once, at debug level after */
            sb_warn(p->host->log, "%s", why);
        else
            sb_debug(p->host->log, "%s", why);
    }
    sb_msg **msgs = NULL;
    size_t n = 0;
    if (first && sb_sysmon_presentations(p->host->gateway_id, p->node_id, p->hostname, p->kernel,
                                         p->cur, &msgs, &n) == SB_OK)
        handoff(p, msgs, n);
    if (sb_sysmon_messages(p->host->gateway_id, p->node_id, first ? NULL : p->prev, p->cur, &msgs,
                           &n) == SB_OK)
        handoff(p, msgs, n);
    else
        sb_error(p->host->log, "out of memory");
    sb_sysmon_sample *t = p->prev;
    p->prev = p->cur;
    p->cur = t;
}

static void *run(void *arg)
{
    sm_prov *p = arg;
    int64_t next = sb_time_mono_ms();
    bool first = true;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        sample(p, first);
        first = false;
        next += p->o->interval_ms;
        int64_t now = sb_time_mono_ms();
        if (next < now) /* fell behind (suspend, a stalled disk): no burst */
            next = now;
        pthread_mutex_lock(&p->mu);
        while (!p->stop && sb_time_mono_ms() < next) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = next - sb_time_mono_ms();
            wait = wait > 1000 ? 1000 : wait < 1 ? 1 : wait;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void read_text(const char *root, const char *rel, char *buf, size_t len)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        if (fgets(buf, (int)len, f))
            buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
    }
}

static void sm_destroy(void *inst);

static sb_err sm_create(const sb_gateway_host *host, const void *options, void **out, sb_errmsg *em)
{
    const sm_opts *o = options;
    sm_prov *p = calloc(1, sizeof(*p));
    if (!p)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    p->host = host;
    p->o = o;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->disks = terminated(&o->disks);
    p->interfaces = terminated(&o->interfaces);
    p->prev = malloc(sizeof(*p->prev));
    p->cur = malloc(sizeof(*p->cur));
    if (!p->disks || !p->interfaces || !p->prev || !p->cur) {
        sm_destroy(p);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    p->cfg = (sb_sysmon_cfg){.proc_root = o->proc_root,
                             .sys_root = o->sys_root,
                             .disks = p->disks,
                             .interfaces = p->interfaces,
                             .temperatures = o->temperatures};
    if (gethostname(p->hostname, sizeof(p->hostname) - 1) != 0 || !p->hostname[0])
        snprintf(p->hostname, sizeof(p->hostname), "host");
    read_text(o->proc_root, "sys/kernel/osrelease", p->kernel, sizeof(p->kernel));
    const char *id = *o->node_id ? o->node_id : p->hostname;
    size_t i = 0;
    for (; id[i] && i < SB_MSG_ID_MAX; i++) {
        unsigned char ch = (unsigned char)id[i];
        p->node_id[i] = ch <= ' ' || ch == 0x7f || strchr("./:+#", ch) ? '_' : (char)ch;
    }
    p->node_id[i] = '\0';
    *out = p;
    return SB_OK;
}

static sb_err sm_start(void *inst, sb_errmsg *em)
{
    sm_prov *p = inst;
    char why[256];
    snprintf(why, sizeof(why), "%s/stat", p->o->proc_root);
    if (access(why, R_OK) != 0)
        return sb_fail(em, SB_ERR_IO, "%s: cannot read (provider.procRoot)", why);
    p->stop = false;
    if (pthread_create(&p->thread, NULL, run, p) != 0)
        return sb_fail(em, SB_ERR_IO, "cannot start the sampling thread");
    p->running = true;
    sb_info(p->host->log, "sampling %s as node %s every %lld ms", p->hostname, p->node_id,
            (long long)p->o->interval_ms);
    return SB_OK;
}

static void sm_stop(void *inst)
{
    sm_prov *p = inst;
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->running = false;
}

static void sm_destroy(void *inst)
{
    sm_prov *p = inst;
    if (!p)
        return;
    free(p->disks);
    free(p->interfaces);
    free(p->prev);
    free(p->cur);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static sb_err sm_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    (void)inst;
    return sb_fail(em, SB_ERR_INVALID, "node %s: the host's values are measured, not writable",
                   m->node_id);
}

static void sm_stats(void *inst, cJSON *obj)
{
    sm_prov *p = inst;
    cJSON_AddNumberToObject(obj, "samples", (double)atomic_load(&p->samples));
    cJSON_AddNumberToObject(obj, "messages", (double)atomic_load(&p->messages));
    cJSON_AddNumberToObject(obj, "readErrors", (double)atomic_load(&p->read_errors));
}

const sb_gateway_plugin sb_gateway_plugin_system_monitoring = {
    .info = {.name = "system_monitoring",
             .version = "1",
             .description = "the host itself: CPU, memory, swap, disks, load, temperatures, "
                            "uptime, network",
             .options = sm_table},
    .options_size = sizeof(sm_opts),
    .caps = 0,
    .create = sm_create,
    .start = sm_start,
    .send = sm_send,
    .stop = sm_stop,
    .destroy = sm_destroy,
    .stats = sm_stats,
};
