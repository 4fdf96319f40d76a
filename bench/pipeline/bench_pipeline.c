/*
 * bench_pipeline - the device pipeline end to end: devsim --sequence (TCP) -> gateway ->
 * processor -> sqlite + influxd + events, with its own mosquitto and influxd on free ports.
 *
 *   bench_pipeline BUILD_DIR separate|allinone N RATE
 *   bench_pipeline BUILD_DIR rss N 0
 *
 * separate: switchboard-gateway and switchboard-processor as two processes; allinone:
 * `switchboard run` with run.services gateway,processor. Prints field updates/s (events seen,
 * first to last), the number of values devsim sent and events received (loss = the difference),
 * p50/p99/max latency from the gateway's receive timestamp (current.timestamp, the message's) to
 * the event reaching a subscriber, the gateway's share of it (the same timestamp to the frame
 * reaching a subscriber of the processor's input topic), and CPU seconds and peak RSS per
 * process. rss: the RSS of a processor alone whose store holds N fields, after its start and
 * after a value for each field went through it (plain frames published by the bench).
 * SB_BENCH_KEEP=1 keeps the temp dir (logs, store, broker and influxd data).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/broker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/influxd.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/proc.h"
#include "core/stream.h"
#include "core/time.h"
#include "storage/store.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Latencies in ms: of every field value event (end to end), and of every message reaching the
 * processor's input topic (the gateway's share: batching, its bus client and one broker hop). */
typedef struct samples {
    double *v;
    size_t n, cap;
} samples;
static samples lat, lat_in;
static int64_t first_ms, last_ms;

static void add(samples *s, const char *ts, int64_t now)
{
    int64_t t = 0;
    if (!ts || sb_time_parse(ts, &t) != SB_OK)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (double)(now - t);
}

static void note(const cJSON *ev, int64_t now)
{
    add(&lat, sb_json_str(sb_json_path(ev, "entity.current"), "timestamp", NULL), now);
}

static void on_event(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    int64_t now = sb_time_now_ms();
    cJSON *j = NULL;
    if (sb_json_parse(bm->payload, bm->len, &j, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&mu);
    if (!first_ms)
        first_ms = now;
    last_ms = now;
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) note(e, now);
    } else {
        note(j, now);
    }
    pthread_mutex_unlock(&mu);
    cJSON_Delete(j);
}

static void on_frame(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    int64_t now = sb_time_now_ms();
    sb_stream_frame f;
    if (sb_stream_decode(bm->payload, bm->len, &f, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&mu);
    const cJSON *m;
    cJSON_ArrayForEach(m, f.items)
    {
        if (strcmp(sb_json_str(m, "type", ""), "set") == 0)
            add(&lat_in, sb_json_str(m, "timestamp", NULL), now);
    }
    pthread_mutex_unlock(&mu);
    sb_stream_frame_free(&f);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile of sorted samples (100 = max). */
static double pct(const samples *s, int p)
{
    if (!s->n)
        return 0;
    size_t i = s->n * (size_t)p / 100;
    return s->v[i < s->n ? i : s->n - 1];
}

/* CPU seconds (utime + stime) and peak RSS in MB of a live process. */
static void usage_of(pid_t pid, double *cpu, double *rss_mb)
{
    char path[64], buf[2048];
    *cpu = *rss_mb = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f && fgets(buf, sizeof(buf), f)) {
        char *p = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            *cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r"))) {
        while (fgets(buf, sizeof(buf), f))
            if (strncmp(buf, "VmHWM:", 6) == 0)
                *rss_mb = strtod(buf + 6, NULL) / 1024.0;
        fclose(f);
    }
}

static void write_config(const char *conf, const char *dir, const char *bus, const char *influx)
{
    FILE *f = fopen(conf, "w");
    if (!f)
        exit(1);
    fprintf(f,
            "data_dir: %s\ninstance: bench\nlog:\n  level: warn\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/sb.db\n"
            "metrics:\n  managed: false\n  url: %s\n  database: bench\n  buffer_dir: %s/spool\n"
            "gateway:\n  log_dir: %s/logs\nrun:\n  services: gateway,processor\n",
            dir, bus, dir, influx, dir, dir);
    fclose(f);
}

static int devsim_port(const char *log)
{
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(log, "r");
        char line[256];
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "devsim: tcp ", 12) == 0) {
                fclose(f);
                return atoi(strrchr(line, ':') + 1);
            }
        if (f)
            fclose(f);
        sb_time_sleep_ms(10);
    }
    return -1;
}

static void put_gateway(const char *conf, int port)
{
    sb_config *cfg = NULL;
    sb_store *s = NULL;
    char json[400];
    snprintf(json, sizeof(json),
             "{\"id\":\"gwb\",\"enabled\":true,\"provider\":{\"type\":\"mysensors\","
             "\"transport\":\"ethernet\",\"host\":\"127.0.0.1\",\"tcpPort\":%d}}",
             port);
    cJSON *doc = NULL;
    if (sb_config_load(conf, &cfg, NULL) != SB_OK || sb_store_open(cfg, &s, NULL) != SB_OK ||
        sb_json_parse(json, strlen(json), &doc, NULL) != SB_OK ||
        sb_store_put(s, "gateway", doc, NULL) != SB_OK)
        exit(1);
    cJSON_Delete(doc);
    sb_store_close(s);
    sb_config_free(cfg);
}

/* Current RSS (VmRSS) of a live process in MB. */
static double rss_now(pid_t pid)
{
    char path[64], buf[256];
    double mb = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(buf, sizeof(buf), f))
        if (strncmp(buf, "VmRSS:", 6) == 0)
            mb = strtod(buf + 6, NULL) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

/*
 * Puts n fields (in sources of 100 fields, 20 sources per node) with a current and a previous
 * value, the records the processor writes, straight into the store.
 */
static void put_fields(const char *conf, long n)
{
    sb_config *cfg = NULL;
    sb_store *s = NULL;
    if (sb_config_load(conf, &cfg, NULL) != SB_OK || sb_store_open(cfg, &s, NULL) != SB_OK)
        exit(1);
    enum { CHUNK = 1000 };
    cJSON *docs[CHUNK + 2];
    sb_store_op ops[CHUNK + 2];
    for (long i = 0; i < n;) {
        size_t k = 0;
        for (; k < CHUNK && i < n; k++, i++) {
            char id[96], node[24], src[24], fid[24], json[1536];
            snprintf(node, sizeof(node), "%ld", i / 2000 + 1);
            snprintf(src, sizeof(src), "%ld", i / 100 % 20);
            snprintf(fid, sizeof(fid), "V_%ld", i % 100);
            snprintf(id, sizeof(id), "gwb.%s.%s.%s", node, src, fid);
            snprintf(json, sizeof(json),
                     "{\"id\":\"%s\",\"gatewayId\":\"gwb\",\"nodeId\":\"%s\",\"sourceId\":\"%s\","
                     "\"enabled\":true,\"labels\":{},\"others\":{},\"fieldId\":\"%s\","
                     "\"metricType\":\"gauge_float\",\"unit\":\"\",\"name\":\"%s\","
                     "\"lastSeen\":\"2026-11-26T10:00:00.000Z\","
                     "\"modifiedOn\":\"2026-11-26T10:00:00.000Z\","
                     "\"previous\":{\"value\":21.25,\"timestamp\":\"2026-11-26T09:59:00.000Z\"},"
                     "\"current\":{\"value\":21.5,\"timestamp\":\"2026-11-26T10:00:00.000Z\"},"
                     "\"noChangeSince\":\"2026-11-26T10:00:00.000Z\"}",
                     id, node, src, fid, fid);
            if (sb_json_parse(json, strlen(json), &docs[k], NULL) != SB_OK)
                exit(1);
            ops[k] = (sb_store_op){SB_STORE_PUT, "field", docs[k], NULL};
        }
        if (sb_store_batch(s, ops, k, NULL) != SB_OK)
            exit(1);
        for (size_t j = 0; j < k; j++)
            cJSON_Delete(docs[j]);
    }
    sb_store_close(s);
    sb_config_free(cfg);
}

/* Waits (up to 60 s) until the RSS of pid stayed the same for a second; returns it in MB. */
static double rss_stable(pid_t pid)
{
    double last = -1, cur = 0;
    int stable = 0;
    for (int i = 0; i < 600 && stable < 10; i++) {
        sb_time_sleep_ms(100);
        cur = rss_now(pid);
        stable = cur > 0 && cur == last ? stable + 1 : 0;
        last = cur;
    }
    return cur;
}

/* Publishes one value for each of the n fields of put_fields, in plain frames of 500. */
static void touch_fields(sb_bus *bus, long n)
{
    enum { FRAME = 500 };
    sb_msg *msgs[FRAME];
    for (long i = 0; i < n;) {
        size_t k = 0;
        for (; k < FRAME && i < n; k++, i++) {
            char node[24], src[24], fid[24], val[32];
            snprintf(node, sizeof(node), "%ld", i / 2000 + 1);
            snprintf(src, sizeof(src), "%ld", i / 100 % 20);
            snprintf(fid, sizeof(fid), "V_%ld", i % 100);
            snprintf(val, sizeof(val), "%ld.5", i % 40);
            msgs[k] = sb_msg_new("gwb", node, src, SB_MSG_SET);
            if (!msgs[k] || !sb_msg_add_payload(msgs[k], fid, val, SB_METRIC_GAUGE_FLOAT, NULL))
                exit(1);
        }
        size_t len = 0;
        char *frame = sb_msg_encode_batch(msgs, k, &len);
        while (frame &&
               sb_bus_publish(bus, "sbtest/msg/in/gwb", frame, len, 1, false) == SB_ERR_FULL)
            sb_time_sleep_ms(10);
        free(frame);
        for (size_t j = 0; j < k; j++)
            sb_msg_free(msgs[j]);
    }
}

/*
 * RSS of a processor whose store holds n fields: once started (it loads nodes and sources),
 * and again after a value for every one of the n fields went through it.
 */
static int rss_mode(const char *bd, const char *conf, long n, const char *devlog, sb_bus *bus)
{
    put_fields(conf, n);
    char exe[600];
    snprintf(exe, sizeof(exe), "%s/services/processor/switchboard-processor", bd);
    const char *a[] = {exe, "-c", conf, NULL};
    sb_proc ps = {0};
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&ps, a, devlog, &em) != SB_OK)
        return 1;
    double started = rss_stable(ps.pid);
    int64_t t0 = sb_time_mono_ms();
    touch_fields(bus, n);
    for (int i = 0; i < 1200; i++) { /* up to 120 s */
        pthread_mutex_lock(&mu);
        bool done = lat.n >= (size_t)n;
        pthread_mutex_unlock(&mu);
        if (done)
            break;
        sb_time_sleep_ms(100);
    }
    double secs = (double)(sb_time_mono_ms() - t0) / 1000.0;
    double after = rss_stable(ps.pid), cpu, peak;
    usage_of(ps.pid, &cpu, &peak);
    pthread_mutex_lock(&mu);
    printf("rss: %ld fields in the store: processor RSS %.1f MB after start, %.1f MB after a "
           "value for each (%zu events in %.1f s), peak %.1f MB, cpu %.2f s\n",
           n, started, after, lat.n, secs, peak, cpu);
    pthread_mutex_unlock(&mu);
    sb_proc_stop(&ps, SIGTERM, 3000);
    return 0;
}

static void report(const char *mode, long n, long rate, sb_proc *ps, const char *const *names,
                   int np)
{
    pthread_mutex_lock(&mu);
    qsort(lat.v, lat.n, sizeof(*lat.v), cmp);
    qsort(lat_in.v, lat_in.n, sizeof(*lat_in.v), cmp);
    double secs = (double)(last_ms - first_ms) / 1000.0;
    printf("%s: rate %ld/s sent %ld values, events %zu (lost %ld), %.0f field updates/s, "
           "latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
           mode, rate, n, lat.n, n - (long)lat.n, secs > 0 ? (double)lat.n / secs : 0,
           pct(&lat, 50), pct(&lat, 99), pct(&lat, 100));
    printf("  gateway share (device read -> processor input topic): p50 %.1f ms p99 %.1f ms "
           "max %.1f ms over %zu messages\n",
           pct(&lat_in, 50), pct(&lat_in, 99), pct(&lat_in, 100), lat_in.n);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < np; i++) {
        double cpu, rss;
        usage_of(ps[i].pid, &cpu, &rss);
        printf("  %-10s cpu %.2f s (%.1f us/value)  peak RSS %.1f MB\n", names[i], cpu,
               cpu * 1e6 / (double)n, rss);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_pipeline BUILD_DIR separate|allinone|rss N RATE\n");
        return 2;
    }
    const char *bd = argv[1], *mode = argv[2];
    long n = atol(argv[3]), rate = atol(argv[4]);
    char dir[] = "/tmp/sbbench-XXXXXX", conf[300], exe[3][600], logs[4][300];
    if (!mkdtemp(dir))
        return 1;
    sb_broker br;
    sb_influxd ix;
    sb_errmsg em = {{0}};
    char bdir[300], idir[300];
    snprintf(bdir, sizeof(bdir), "%s/mosquitto", dir);
    snprintf(idir, sizeof(idir), "%s/influxd", dir);
    sb_mkdirs(bdir, NULL);
    sb_mkdirs(idir, NULL);
    if (sb_broker_start(&br, "mosquitto", bdir, 0,
                        "max_queued_messages 0\nmax_inflight_messages 0\n", &em) != SB_OK ||
        sb_influxd_start(&ix, "influxd", idir, 0, &em) != SB_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", em.text);
        return 1;
    }
    snprintf(conf, sizeof(conf), "%s/sb.yaml", dir);
    write_config(conf, dir, br.url, ix.url);
    sb_config_bus bc = {.url = br.url,
                        .topic_prefix = "sbtest",
                        .mqtt_version = SB_MQTT_AUTO,
                        .keepalive_ms = 5000,
                        .connect_timeout_ms = 2000,
                        .reconnect_min_ms = 50,
                        .reconnect_max_ms = 500,
                        .session_expiry_ms = 60000,
                        .max_pending = 100000,
                        .batch_max = 500,
                        .batch_delay_ms = 5};
    sb_bus_opts bo = {.cfg = &bc, .service = "bench", .instance = "b", .clean_start = true};
    sb_bus *bus = NULL;
    if (sb_bus_create(&bo, &bus, &em) != SB_OK || sb_bus_start(bus, 5000, &em) != SB_OK)
        return 1;
    /* "event/field/#" also matches the batched "event/field" topic */
    sb_bus_subscribe(bus, "sbtest/event/field/#", 1, on_event, NULL, NULL);
    sb_bus_subscribe(bus, "sbtest/msg/in/+", 1, on_frame, NULL, NULL);

    for (int i = 0; i < 4; i++)
        snprintf(logs[i], sizeof(logs[i]), "%s/p%d.log", dir, i);
    snprintf(exe[0], sizeof(exe[0]), "%s/tools/devsim/devsim", bd);
    char cnt[32], rt[32];
    if (strcmp(mode, "rss") == 0) {
        int rc = rss_mode(bd, conf, n, logs[1], bus);
        sb_bus_destroy(bus, 500);
        sb_influxd_stop(&ix);
        sb_broker_stop(&br);
        return rc;
    }
    snprintf(cnt, sizeof(cnt), "%ld", n);
    snprintf(rt, sizeof(rt), "%ld", rate);
    const char *dargv[] = {exe[0], "-t", "tcp", "-p",         "0",        "-n", "20", "-r",
                           rt,     "-c", cnt,   "--sequence", "--linger", "2s", NULL};
    sb_proc sim = {0}, ps[2] = {{0}};
    sb_proc_spawn(&sim, dargv, logs[0], &em);
    put_gateway(conf, devsim_port(logs[0]));
    const char *names[2];
    int np;
    if (strcmp(mode, "allinone") == 0) {
        snprintf(exe[1], sizeof(exe[1]), "%s/services/switchboard/switchboard", bd);
        const char *a[] = {exe[1], "-c", conf, "run", NULL};
        sb_proc_spawn(&ps[0], a, logs[1], &em);
        names[0] = "switchboard";
        np = 1;
    } else {
        snprintf(exe[1], sizeof(exe[1]), "%s/services/processor/switchboard-processor", bd);
        snprintf(exe[2], sizeof(exe[2]), "%s/services/gateway/switchboard-gateway", bd);
        const char *a[] = {exe[1], "-c", conf, NULL}, *b[] = {exe[2], "-c", conf, NULL};
        sb_proc_spawn(&ps[0], a, logs[1], &em);
        sb_proc_spawn(&ps[1], b, logs[2], &em);
        names[0] = "processor", names[1] = "gateway";
        np = 2;
    }
    while (sb_proc_alive(&sim, NULL))
        sb_time_sleep_ms(50);
    for (int i = 0; i < 300; i++) { /* up to 30 s for the tail */
        pthread_mutex_lock(&mu);
        bool done = lat.n >= (size_t)n;
        pthread_mutex_unlock(&mu);
        if (done)
            break;
        sb_time_sleep_ms(100);
    }
    report(mode, n, rate, ps, names, np);
    for (int i = 0; i < np; i++)
        sb_proc_stop(&ps[i], SIGTERM, 3000);
    sb_bus_destroy(bus, 500);
    sb_influxd_stop(&ix);
    sb_broker_stop(&br);
    if (getenv("SB_BENCH_KEEP")) { /* keep the logs and data for a look */
        fprintf(stderr, "bench_pipeline: kept %s\n", dir);
        return 0;
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
