/*
 * bench_automation - the task service under a stream of field updates, with its own mosquitto on
 * a free loopback port and a sqlite store in a temp dir.
 *
 *   bench_automation [-t TASKS] [-n EVENTS] [-b BATCH] [-p TRIGGER_PERCENT] [-r PACED_RATE]
 *
 * TASKS event tasks (default 1,000), each a rule "v > 50" on its own field, whose variable v is
 * that field's current value, with one handler and a templated parameter. The service runs in
 * this process on a thread (as in `switchboard run`), with its own bus connection.
 *
 * Phase 1 (throughput): EVENTS field-update events (default 100,000) in arrays of BATCH (100,
 * the way the processor batches events on <p>/event/field), spread over the fields, of which
 * TRIGGER_PERCENT (1) cross the threshold. Every event matches one task, so evaluations/s =
 * EVENTS / (first publish -> the handler call of the last event, which always triggers).
 * The trigger -> handler-call latency here includes the queue the flood builds up.
 * Phase 2 (latency): PACED_RATE single events per second for 5 s (10 % triggering): trigger ->
 * handler-call latency when the service keeps up. Latency = the handler call's arrival at this
 * process's subscriber minus the event's publish time (carried in the event's entity).
 * Baseline in the same run: plain publish -> subscribe of 64-byte QoS 1 messages through the
 * same broker with the same bus client (core/bus.h), 100,000 messages.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/broker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/event.h"
#include "core/json.h"
#include "services/task/task.h"
#include "core/service.h"
#include "core/time.h"
#include "storage/store.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- handler calls --------------------------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat; /* µs per handler call of the current phase */
static size_t n_lat, cap_lat;
static atomic_long calls;
static atomic_long last_seq_seen; /* seq of the newest call */
static atomic_long evaluations, dropped;

static void on_call(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    int64_t t = now_us();
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK)
        return;
    const cJSON *e = sb_json_path(j, "variables.event.entity");
    double sent = sb_json_num(e, "sentUs", 0);
    long seq = (long)sb_json_num(e, "seq", -1);
    pthread_mutex_lock(&mu);
    if (n_lat == cap_lat) {
        cap_lat = cap_lat ? cap_lat * 2 : 4096;
        lat = realloc(lat, cap_lat * sizeof(double));
    }
    lat[n_lat++] = (double)t - sent;
    pthread_mutex_unlock(&mu);
    atomic_store(&last_seq_seen, seq);
    atomic_fetch_add(&calls, 1);
    cJSON_Delete(j);
}

static void on_status(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK)
        return;
    const cJSON *t = sb_json_path(j, "stats.task");
    if (t) {
        atomic_store(&evaluations, (long)sb_json_num(t, "evaluations", 0));
        atomic_store(&dropped, (long)sb_json_num(t, "eventsDropped", 0));
    }
    cJSON_Delete(j);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints p50/p99/max of the phase's latencies (ms) and resets them. */
static void report_latency(const char *what)
{
    pthread_mutex_lock(&mu);
    qsort(lat, n_lat, sizeof(double), cmp_double);
    if (n_lat)
        printf("%s: %zu handler calls, trigger -> handler call p50 %.2f ms, p99 %.2f ms, max "
               "%.2f ms\n",
               what, n_lat, lat[n_lat / 2] / 1000, lat[(size_t)((double)n_lat * 0.99)] / 1000,
               lat[n_lat - 1] / 1000);
    n_lat = 0;
    pthread_mutex_unlock(&mu);
}

/* ---- the stream ------------------------------------------------------------------------------ */

static cJSON *field_event(int field, double value, long seq)
{
    char id[64], qid[80];
    snprintf(id, sizeof(id), "gw1.1.1.F%d", field);
    snprintf(qid, sizeof(qid), "field:%s", id);
    cJSON *ev = cJSON_CreateObject(), *ent = cJSON_CreateObject(), *cur = cJSON_CreateObject();
    sb_json_set_str(ev, "type", "updated");
    sb_json_set_str(ev, "entityType", "field");
    sb_json_set_str(ev, "entityId", id);
    sb_json_set_str(ev, "quickId", qid);
    sb_json_set_str(ent, "id", id);
    sb_json_set_num(cur, "value", value);
    sb_json_set(ent, "current", cur);
    sb_json_set_num(ent, "seq", (double)seq);
    sb_json_set_num(ent, "sentUs", (double)now_us());
    sb_json_set(ev, "entity", ent);
    return ev;
}

static void publish(sb_bus *bus, const char *topic, cJSON *j)
{
    char *text = sb_json_print(j);
    while (sb_bus_publish(bus, topic, text, strlen(text), 1, false) != SB_OK)
        sb_time_sleep_ms(1);
    free(text);
    cJSON_Delete(j);
}

static bool wait_seq(long seq, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (atomic_load(&last_seq_seen) != seq && sb_time_mono_ms() < end)
        usleep(200);
    return atomic_load(&last_seq_seen) == seq;
}

static void phase_flood(sb_bus *bus, int tasks, long n, int batch, int pct)
{
    long n_trig = 0;
    int64_t t0 = now_us();
    for (long i = 0; i < n;) {
        cJSON *arr = cJSON_CreateArray();
        for (int k = 0; k < batch && i < n; k++, i++) {
            bool trig = i == n - 1 || (i * 7919) % 100 < pct;
            n_trig += trig;
            cJSON_AddItemToArray(arr, field_event((int)((i * 31) % tasks), trig ? 75 : 20, i));
        }
        publish(bus, "bench/event/field", arr);
    }
    bool done = wait_seq(n - 1, 300000);
    double dt = (double)(now_us() - t0) / 1e6;
    printf("flood: %ld events in arrays of %d, %ld triggering: %s %.2f s -> %.0f evaluations/s\n",
           n, batch, n_trig, done ? "done in" : "NOT DONE after", dt, (double)n / dt);
    report_latency("flood (includes the queue the flood builds)");
}

static void phase_paced(sb_bus *bus, int tasks, int rate)
{
    long n = rate * 5L, base = 10000000;
    int64_t t0 = now_us();
    for (long i = 0; i < n; i++) {
        int64_t due = t0 + i * 1000000 / rate;
        while (now_us() < due)
            usleep(50);
        bool trig = i % 10 == 0 || i == n - 1;
        publish(bus, "bench/event/field", field_event((int)(i % tasks), trig ? 80 : 10, base + i));
    }
    wait_seq(base + n - 1, 60000);
    char what[80];
    snprintf(what, sizeof(what), "paced %d events/s, 10 %% triggering", rate);
    report_latency(what);
}

/* ---- baseline: raw publish -> subscribe ------------------------------------------------------ */

static atomic_long raw_got;
static void on_raw(void *ctx, const sb_bus_msg *m)
{
    (void)ctx, (void)m;
    atomic_fetch_add(&raw_got, 1);
}

static void baseline(sb_bus *pub, sb_bus *sub, long n)
{
    char payload[64];
    memset(payload, 'x', sizeof(payload));
    sb_bus_subscribe(sub, "bench/raw", 1, on_raw, NULL, NULL);
    sb_time_sleep_ms(300);
    int64_t t0 = now_us();
    for (long i = 0; i < n; i++)
        while (sb_bus_publish(pub, "bench/raw", payload, sizeof(payload), 1, false) != SB_OK)
            sb_time_sleep_ms(1);
    int64_t end = sb_time_mono_ms() + 120000;
    while (atomic_load(&raw_got) < n && sb_time_mono_ms() < end)
        usleep(200);
    double dt = (double)(now_us() - t0) / 1e6;
    printf("baseline: %ld of %ld raw 64-byte QoS 1 messages publish -> subscribe in %.2f s -> "
           "%.0f msg/s\n",
           atomic_load(&raw_got), n, dt, (double)atomic_load(&raw_got) / dt);
}

static sb_stop_flag svc_stop;
static const sb_config *svc_cfg;

static void *run_service(void *arg)
{
    (void)arg;
    sb_task_run(svc_cfg, &svc_stop);
    return NULL;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void put_tasks(sb_store *st, int tasks)
{
    for (int i = 0; i < tasks; i++) {
        char text[1000];
        snprintf(text, sizeof(text),
                 "{\"id\":\"t%d\",\"enabled\":true,\"triggerOnEvent\":true,"
                 "\"eventFilter\":{\"entityType\":\"field\",\"quickIds\":[\"field:gw1.1.1.F%d\"]},"
                 "\"variables\":{\"v\":\"field:gw1.1.1.F%d.current.value\"},"
                 "\"rule\":{\"conditions\":[{\"variable\":\"v\",\"operator\":\"gt\",\"value\":50}"
                 "]},\"handlers\":[\"bench_h\"],"
                 "\"handlerParameters\":{\"text\":\"F%d is {{ v }}\"}}",
                 i, i, i, i);
        cJSON *doc = cJSON_Parse(text);
        sb_store_put(st, "task", doc, NULL);
        cJSON_Delete(doc);
    }
}

static sb_bus *client(const sb_config *cfg, const char *name)
{
    sb_bus_opts o = {
        .cfg = &cfg->bus, .service = name, .instance = "1", .clean_start = true, .no_status = true};
    sb_bus *b = NULL;
    if (sb_bus_create(&o, &b, NULL) != SB_OK || sb_bus_start(b, 5000, NULL) != SB_OK)
        exit(1);
    return b;
}

int main(int argc, char **argv)
{
    int tasks = 1000, batch = 100, pct = 1, rate = 1000, opt;
    long n = 100000;
    while ((opt = getopt(argc, argv, "t:n:b:p:r:")) != -1) {
        if (opt == 't')
            tasks = atoi(optarg);
        else if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'b')
            batch = atoi(optarg);
        else if (opt == 'p')
            pct = atoi(optarg);
        else if (opt == 'r')
            rate = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_automation [-t TASKS] [-n EVENTS] [-b BATCH] "
                            "[-p TRIGGER_PERCENT] [-r PACED_RATE]\n");
            return 2;
        }
    }
    if (tasks < 1 || n < 1 || batch < 1 || rate < 1)
        return 2;
    char dir[] = "/tmp/bench_automation-XXXXXX", yaml[2048];
    static sb_broker broker;
    sb_errmsg em = {{0}};
    if (!mkdtemp(dir) ||
        sb_broker_start(&broker, "mosquitto", dir, 0,
                        "max_queued_messages 0\nmax_inflight_messages 0\n", &em) != SB_OK) {
        fprintf(stderr, "bench_automation: %s\n", em.text);
        return 1;
    }
    snprintf(yaml, sizeof(yaml),
             "data_dir: %s\ninstance: bench\nlog:\n  level: warn\n"
             "bus:\n  managed: false\n  url: %s\n  topic_prefix: bench\n  status_interval: 200ms\n"
             "storage:\n  type: sqlite\n  sqlite:\n    path: %s/store.db\n"
             "metrics:\n  type: none\n  managed: false\n"
             "task:\n  queue_max: 1000000\n",
             dir, broker.url, dir);
    sb_config *cfg = NULL;
    sb_store *st = NULL;
    if (sb_config_load_string(yaml, strlen(yaml), "bench", &cfg, &em) != SB_OK ||
        sb_store_open(cfg, &st, &em) != SB_OK) {
        fprintf(stderr, "bench_automation: %s\n", em.text);
        return 1;
    }
    put_tasks(st, tasks);
    sb_bus *pub = client(cfg, "benchpub"), *sub = client(cfg, "benchsub");
    sb_bus_subscribe(sub, "bench/handler/+", 1, on_call, NULL, NULL);
    sb_bus_subscribe(sub, "bench/status/task/+", 1, on_status, NULL, NULL);
    sb_stop_init(&svc_stop);
    svc_cfg = cfg;
    pthread_t thr;
    pthread_create(&thr, NULL, run_service, NULL);
    printf("bench_automation: %d tasks (rule, event-triggered), broker %s, sqlite store\n", tasks,
           broker.url);
    /* Ready once a triggering event comes back as a handler call. */
    long probe = -1000;
    for (int i = 0; i < 200 && atomic_load(&last_seq_seen) != probe; i++) {
        publish(pub, "bench/event/field", field_event(0, 99, probe));
        wait_seq(probe, 100);
    }
    report_latency("warm-up");
    phase_flood(pub, tasks, n, batch, pct);
    phase_paced(pub, tasks, rate);
    sb_time_sleep_ms(500);
    printf("service: %ld evaluations, %ld events dropped, %ld handler calls\n",
           atomic_load(&evaluations), atomic_load(&dropped), atomic_load(&calls));
    baseline(pub, sub, 100000);
    sb_stop_raise(&svc_stop);
    pthread_join(thr, NULL);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    sb_store_close(st);
    sb_config_free(cfg);
    sb_broker_stop(&broker);
    return 0;
}
