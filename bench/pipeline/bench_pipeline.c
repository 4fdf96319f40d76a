/*
 * bench_pipeline - the device pipeline end to end: devsim --sequence (TCP) -> gateway ->
 * processor -> sqlite + influxd + events, with its own mosquitto and influxd on free ports.
 *
 *   bench_pipeline BUILD_DIR separate|allinone N RATE
 *   bench_pipeline BUILD_DIR rss N 0
 *   bench_pipeline BUILD_DIR tasmota|tasmota-allinone N RATE
 *
 * separate: switchboard-gateway and switchboard-processor as two processes; allinone:
 * `switchboard run` with run.services gateway,processor. Prints field updates/s (events seen,
 * first to last), the number of values devsim sent and events received (loss = the difference),
 * p50/p99/max latency from the gateway's receive timestamp (current.timestamp, the message's) to
 * the event reaching a subscriber, the gateway's share of it (the same timestamp to the frame
 * reaching a subscriber of the processor's input topic), and CPU seconds and peak RSS per
 * process. rss: the RSS of a processor alone whose store holds N fields, after its start and
 * after a value for each field went through it (plain frames published by the bench).
 * tasmota: N Tasmota publishes (tele/<t>/SENSOR with 8 readings, every 10th of a device a
 * tele/<t>/STATE with 6) from 20 devices to a second mosquitto (the devices' broker) at RATE
 * messages/s (0: as fast as the broker takes them) -> gateway with the tasmota provider ->
 * processor; prints messages/s and field updates/s end to end, checks every value arrived (the
 * events, and the store's fields hold each device's last values), and the raw rate of the same
 * publishes through the same broker (publisher -> subscriber, before and after) for the ratio.
 * SB_BENCH_KEEP=1 keeps the temp dir (logs, store, broker and influxd data); SB_BENCH_CONFIG
 * (YAML) is appended to the services' configuration, e.g. "processor: {field_cache: 16}".
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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
/* lat_steady: the values sent after the first WARMUP_MS of traffic. The services start with the
 * devices (mysensors modes): the first values wait for connections and for the processor to
 * learn the other instances (partition.c's settle); the steady-state figure leaves that out. */
static samples lat, lat_in, lat_steady;
static int64_t first_ms, last_ms, first_sent_ms;
#define WARMUP_MS 1000

static void push(samples *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = v;
}

/* Adds the latency of a message sent at ts (the device's timestamp); returns when it was sent. */
static int64_t add(samples *s, const char *ts, int64_t now)
{
    int64_t t = 0;
    if (!ts || sb_time_parse(ts, &t) != SB_OK)
        return 0;
    push(s, (double)(now - t));
    return t;
}

static void note(const cJSON *ev, int64_t now)
{
    int64_t t = add(&lat, sb_json_str(sb_json_path(ev, "entity.current"), "timestamp", NULL), now);
    if (t && (!first_sent_ms || t < first_sent_ms))
        first_sent_ms = t;
    if (t && t >= first_sent_ms + WARMUP_MS)
        push(&lat_steady, (double)(now - t));
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
    /* extra YAML for experiments, e.g. SB_BENCH_CONFIG="processor: {field_cache: 16}" */
    if (getenv("SB_BENCH_CONFIG"))
        fprintf(f, "%s\n", getenv("SB_BENCH_CONFIG"));
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

/* Stores gateway "gwb" with the given provider object. */
static void put_gateway(const char *conf, const char *provider)
{
    sb_config *cfg = NULL;
    sb_store *s = NULL;
    char json[600];
    snprintf(json, sizeof(json), "{\"id\":\"gwb\",\"enabled\":true,\"provider\":%s}", provider);
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

/* The node and source records of put_fields' fields, as the processor wrote them when the
 * fields were created: a store never holds a field without them. */
static void put_parents(sb_store *s, long n)
{
    for (long node = 1; node <= (n + 1999) / 2000; node++) {
        for (long src = -1; src < 20 && (node - 1) * 2000 + src * 100 < n; src++) {
            char id[64], num[24];
            if (src < 0)
                snprintf(id, sizeof(id), "gwb.%ld", node);
            else
                snprintf(id, sizeof(id), "gwb.%ld.%ld", node, src);
            cJSON *doc = cJSON_CreateObject();
            sb_json_set_str(doc, "id", id);
            sb_json_set_str(doc, "gatewayId", "gwb");
            snprintf(num, sizeof(num), "%ld", node);
            sb_json_set_str(doc, "nodeId", num);
            snprintf(num, sizeof(num), "%ld", src);
            if (src >= 0)
                sb_json_set_str(doc, "sourceId", num);
            sb_json_set_bool(doc, "enabled", true);
            sb_json_set(doc, "labels", cJSON_CreateObject());
            sb_json_set(doc, "others", cJSON_CreateObject());
            if (src < 0) {
                cJSON *state = cJSON_CreateObject();
                sb_json_set_str(state, "status", "up");
                sb_json_set(doc, "state", state);
            }
            sb_json_set_str(doc, "name", src < 0 ? id + 4 : num);
            sb_json_set_str(doc, "lastSeen", "2026-11-26T10:00:00.000Z");
            sb_json_set_str(doc, "modifiedOn", "2026-11-26T10:00:00.000Z");
            if (sb_store_put(s, src < 0 ? "node" : "source", doc, NULL) != SB_OK)
                exit(1);
            cJSON_Delete(doc);
        }
    }
}

/*
 * Puts n fields (in sources of 100 fields, 20 sources per node) with a current and a previous
 * value, the records the processor writes, straight into the store, and
 * their nodes and sources.
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
    put_parents(s, n);
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

/* CPU per value (and per message when msgs > 0) and peak RSS of each process. */
static void cpu_lines(sb_proc *ps, const char *const *names, int np, long values, long msgs)
{
    for (int i = 0; i < np; i++) {
        double cpu, rss;
        usage_of(ps[i].pid, &cpu, &rss);
        printf("  %-11s cpu %.2f s (%.1f us/value", names[i], cpu, cpu * 1e6 / (double)values);
        if (msgs > 0)
            printf(", %.1f us/message", cpu * 1e6 / (double)msgs);
        printf(")  peak RSS %.1f MB\n", rss);
    }
}

static void report(const char *mode, long n, long rate, sb_proc *ps, const char *const *names,
                   int np)
{
    pthread_mutex_lock(&mu);
    qsort(lat.v, lat.n, sizeof(*lat.v), cmp);
    qsort(lat_in.v, lat_in.n, sizeof(*lat_in.v), cmp);
    qsort(lat_steady.v, lat_steady.n, sizeof(*lat_steady.v), cmp);
    double secs = (double)(last_ms - first_ms) / 1000.0;
    printf("%s: rate %ld/s sent %ld values, events %zu (lost %ld), %.0f field updates/s, "
           "latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
           mode, rate, n, lat.n, n - (long)lat.n, secs > 0 ? (double)lat.n / secs : 0,
           pct(&lat, 50), pct(&lat, 99), pct(&lat, 100));
    printf("  steady state (values sent after the first %d ms): p50 %.1f ms p99 %.1f ms max "
           "%.1f ms over %zu values\n",
           WARMUP_MS, pct(&lat_steady, 50), pct(&lat_steady, 99), pct(&lat_steady, 100),
           lat_steady.n);
    printf("  gateway share (device read -> processor input topic): p50 %.1f ms p99 %.1f ms "
           "max %.1f ms over %zu messages\n",
           pct(&lat_in, 50), pct(&lat_in, 99), pct(&lat_in, 100), lat_in.n);
    pthread_mutex_unlock(&mu);
    cpu_lines(ps, names, np, n, 0);
}

/* Waits up to tenths/10 s until n value events arrived; true when they did. */
static bool wait_events(size_t n, int tenths)
{
    for (int i = 0; i < tenths; i++) {
        pthread_mutex_lock(&mu);
        bool done = lat.n >= n;
        pthread_mutex_unlock(&mu);
        if (done)
            return true;
        sb_time_sleep_ms(100);
    }
    return false;
}

/* Starts switchboard-gateway and switchboard-processor, or `switchboard run` (allinone). */
static int spawn_services(const char *bd, const char *conf, bool allinone, char logs[][300],
                          sb_proc *ps, const char **names)
{
    static char exe[2][600];
    sb_errmsg em = {{0}};
    if (allinone) {
        snprintf(exe[0], sizeof(exe[0]), "%s/services/switchboard/switchboard", bd);
        const char *a[] = {exe[0], "-c", conf, "run", NULL};
        sb_proc_spawn(&ps[0], a, logs[1], &em);
        names[0] = "switchboard";
        return 1;
    }
    snprintf(exe[0], sizeof(exe[0]), "%s/services/processor/switchboard-processor", bd);
    snprintf(exe[1], sizeof(exe[1]), "%s/services/gateway/switchboard-gateway", bd);
    const char *a[] = {exe[0], "-c", conf, NULL}, *b[] = {exe[1], "-c", conf, NULL};
    sb_proc_spawn(&ps[0], a, logs[1], &em);
    sb_proc_spawn(&ps[1], b, logs[2], &em);
    names[0] = "processor", names[1] = "gateway";
    return 2;
}

/*
 * Tasmota traffic: 20 devices dev0..dev19; publish i is device i % 20's k-th (k = i / 20),
 * every 10th of a device a tele STATE (6 values: POWER1, POWER2, Wifi RSSI and Signal, Uptime,
 * UptimeSec; Heap, LoadAvg ... are not values), the others a tele SENSOR (8 values: BME280
 * Temperature, Humidity, Pressure; ENERGY Total, Today, Power, Voltage, Current). ENERGY.Total
 * is 12 + k / 1000, so the store tells each device's last SENSOR.
 */
enum { TAS_DEVICES = 20, TAS_STATE_EVERY = 10, TAS_SENSOR_VALUES = 8, TAS_STATE_VALUES = 6 };

static double tas_total(long k)
{
    return 12 + 0.001 * (double)k;
}

/* Topic and payload of publish i under prefix; true for a STATE. */
static bool tas_publish_text(long i, const char *prefix, char *topic, size_t tlen, char *buf,
                             size_t len)
{
    long d = i % TAS_DEVICES, k = i / TAS_DEVICES;
    bool state = k % TAS_STATE_EVERY == TAS_STATE_EVERY - 1;
    snprintf(topic, tlen, "%s/dev%ld/%s", prefix, d, state ? "STATE" : "SENSOR");
    if (state)
        snprintf(buf, len,
                 "{\"Time\":\"2026-11-26T10:00:00\",\"Uptime\":\"0T00:%02ld:00\","
                 "\"UptimeSec\":%ld,\"Heap\":27,\"SleepMode\":\"Dynamic\",\"Sleep\":50,"
                 "\"LoadAvg\":19,\"MqttCount\":1,\"POWER1\":\"%s\",\"POWER2\":\"%s\","
                 "\"Wifi\":{\"AP\":1,\"SSId\":\"bench\",\"BSSId\":\"AA:BB:CC:DD:EE:FF\","
                 "\"Channel\":6,\"Mode\":\"11n\",\"RSSI\":%ld,\"Signal\":%ld,"
                 "\"LinkCount\":1,\"Downtime\":\"0T00:00:03\"}}",
                 k % 60, k * 60, k % 2 ? "ON" : "OFF", k % 4 < 2 ? "ON" : "OFF", 60 + k % 40,
                 -80 + k % 30);
    else
        snprintf(buf, len,
                 "{\"Time\":\"2026-11-26T10:00:00\",\"BME280\":{\"Temperature\":%.1f,"
                 "\"Humidity\":%.1f,\"Pressure\":%.1f},\"ENERGY\":{\"Total\":%.3f,"
                 "\"Today\":%.3f,\"Power\":%ld,\"Voltage\":%ld,\"Current\":%.3f},"
                 "\"PressureUnit\":\"hPa\",\"TempUnit\":\"C\"}",
                 20 + 0.1 * (double)(k % 50), 40 + 0.1 * (double)(k % 100),
                 1000 + 0.1 * (double)(k % 200), tas_total(k), 0.001 * (double)(k % 1000), k % 2000,
                 225 + k % 10, (double)(k % 2000) / 230.0);
    return state;
}

/* Publishes 0..n-1 under prefix at rate/s (0: as fast as the client takes them); the values. */
static long tas_publish(sb_bus *bus, const char *prefix, long n, long rate, int qos)
{
    int64_t t0 = sb_time_mono_ms();
    long values = 0;
    for (long i = 0; i < n; i++) {
        if (rate > 0) {
            int64_t due = t0 + i * 1000 / rate, now = sb_time_mono_ms();
            if (due > now)
                sb_time_sleep_ms(due - now);
        }
        char topic[64], buf[512];
        values += tas_publish_text(i, prefix, topic, sizeof(topic), buf, sizeof(buf))
                      ? TAS_STATE_VALUES
                      : TAS_SENSOR_VALUES;
        while (sb_bus_publish(bus, topic, buf, strlen(buf), qos, false) == SB_ERR_FULL)
            sb_time_sleep_ms(1);
    }
    return values;
}

static atomic_long raw_got;
static _Atomic int64_t raw_last;

static void on_raw(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    (void)bm;
    atomic_store(&raw_last, sb_time_mono_ms());
    atomic_fetch_add(&raw_got, 1);
}

/* Messages/s of the same n publishes through the devices' broker: first publish -> last one in. */
static double raw_rate(sb_bus *pub, long n, int qos)
{
    atomic_store(&raw_got, 0);
    int64_t t0 = sb_time_mono_ms();
    tas_publish(pub, "raw", n, 0, qos);
    for (int i = 0; i < 600 && atomic_load(&raw_got) < n; i++)
        sb_time_sleep_ms(50);
    long got = atomic_load(&raw_got);
    if (got != n)
        fprintf(stderr, "bench_pipeline: raw: %ld of %ld publishes received\n", got, n);
    double secs = (double)(atomic_load(&raw_last) - t0) / 1000.0;
    return secs > 0 ? (double)got / secs : 0;
}

/* The bus settings of the bench's own clients on broker url (borrowed). */
static sb_config_bus client_cfg(const char *url)
{
    return (sb_config_bus){.url = (char *)url,
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
}

/* A started client of the bench with settings cfg (which must outlive it). */
static sb_bus *client(const sb_config_bus *cfg, const char *instance)
{
    sb_bus_opts bo = {.cfg = cfg, .service = "bench", .instance = instance, .clean_start = true};
    sb_bus *b = NULL;
    sb_errmsg em = {{0}};
    if (sb_bus_create(&bo, &b, &em) != SB_OK || sb_bus_start(b, 5000, &em) != SB_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", em.text);
        exit(1);
    }
    return b;
}

/*
 * After the run: the store holds one field per value kind of each device (+ online), and each
 * device's ENERGY.Total is its last SENSOR's. Prints it; true when all holds.
 */
static bool tas_check_store(const char *conf, long n)
{
    long last[TAS_DEVICES], expect = 0;
    bool sensor[TAS_DEVICES] = {0}, state[TAS_DEVICES] = {0};
    for (long i = 0; i < n; i++) {
        long d = i % TAS_DEVICES, k = i / TAS_DEVICES;
        if (k % TAS_STATE_EVERY == TAS_STATE_EVERY - 1) {
            state[d] = true;
        } else {
            sensor[d] = true;
            last[d] = k;
        }
    }
    sb_config *cfg = NULL;
    sb_store *s = NULL;
    size_t fields = 0;
    if (sb_config_load(conf, &cfg, NULL) != SB_OK || sb_store_open(cfg, &s, NULL) != SB_OK ||
        sb_store_count(s, "field", NULL, &fields, NULL) != SB_OK)
        exit(1);
    int ok = 0, want = 0;
    for (int d = 0; d < TAS_DEVICES; d++) {
        expect += 1 + (sensor[d] ? TAS_SENSOR_VALUES : 0) + (state[d] ? TAS_STATE_VALUES : 0);
        if (!sensor[d])
            continue;
        want++;
        char id[64];
        cJSON *doc = NULL;
        snprintf(id, sizeof(id), "gwb.dev%d.ENERGY.Total", d);
        if (sb_store_get(s, "field", id, &doc, NULL) == SB_OK) {
            const cJSON *v = sb_json_path(doc, "current.value");
            ok += cJSON_IsNumber(v) && fabs(v->valuedouble - tas_total(last[d])) < 1e-6;
            cJSON_Delete(doc);
        }
    }
    sb_store_close(s);
    sb_config_free(cfg);
    printf("  store: %zu fields (expected %ld), last ENERGY.Total right on %d of %d devices\n",
           fields, expect, ok, want);
    return (long)fields == expect && ok == want;
}

static int tasmota_mode(const char *bd, const char *dir, const char *conf, long n, long rate,
                        bool allinone, char logs[][300], pid_t bus_broker, pid_t influxd)
{
    const char *q = getenv("SB_BENCH_QOS");
    int qos = q && *q == '0' ? 0 : 1;
    sb_broker dbr;
    sb_errmsg em = {{0}};
    char bdir[300];
    snprintf(bdir, sizeof(bdir), "%s/devbroker", dir);
    sb_mkdirs(bdir, NULL);
    if (sb_broker_start(&dbr, "mosquitto", bdir, 0,
                        "max_queued_messages 0\nmax_inflight_messages 0\n", &em) != SB_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", em.text);
        return 1;
    }
    sb_config_bus dcfg = client_cfg(dbr.url);
    sb_bus *pub = client(&dcfg, "pub"), *sub = client(&dcfg, "sub");
    sb_bus_subscribe(sub, "raw/#", qos, on_raw, NULL, NULL);
    while (!atomic_load(&raw_got)) { /* the subscription is in place */
        sb_bus_publish(pub, "raw/sync", "x", 1, qos, false);
        sb_time_sleep_ms(50);
    }
    double raw1 = raw_rate(pub, n, qos);

    /* Each device's retained Online LWT: its "online" field tells the pipeline is running. */
    for (int d = 0; d < TAS_DEVICES; d++) {
        char topic[64];
        snprintf(topic, sizeof(topic), "tele/dev%d/LWT", d);
        sb_bus_publish(pub, topic, "Online", 6, 1, true);
    }
    char prov[300];
    snprintf(prov, sizeof(prov),
             "{\"type\":\"tasmota\",\"url\":\"%s\",\"qos\":%d,\"queryStatus\":false}", dbr.url,
             qos);
    put_gateway(conf, prov);
    sb_proc ps[2] = {{0}};
    const char *names[2];
    int np = spawn_services(bd, conf, allinone, logs, ps, names);
    int rc = 1;
    if (!wait_events(TAS_DEVICES, 600)) {
        fprintf(stderr, "bench_pipeline: the devices' online fields did not arrive\n");
        goto out;
    }
    pthread_mutex_lock(&mu);
    lat.n = lat_in.n = lat_steady.n = 0;
    first_sent_ms = 0;
    first_ms = last_ms = 0;
    pthread_mutex_unlock(&mu);
    /* the rest of the machine's share: both brokers, influxd and this program (load, counting) */
    const char *other[] = {"devices' broker", "bus broker", "influxd", "bench"};
    pid_t opid[] = {dbr.proc.pid, bus_broker, influxd, getpid()};
    double cpu0[2], ocpu0[4], rss;
    for (int i = 0; i < np; i++)
        usage_of(ps[i].pid, &cpu0[i], &rss);
    for (int i = 0; i < 4; i++)
        usage_of(opid[i], &ocpu0[i], &rss);
    int64_t p0 = sb_time_mono_ms();
    long values = tas_publish(pub, "tele", n, rate, qos);
    double pub_secs = (double)(sb_time_mono_ms() - p0) / 1000.0;
    wait_events((size_t)values, 600);
    pthread_mutex_lock(&mu);
    qsort(lat.v, lat.n, sizeof(*lat.v), cmp);
    qsort(lat_in.v, lat_in.n, sizeof(*lat_in.v), cmp);
    double secs = (double)(last_ms - first_ms) / 1000.0, mps = secs > 0 ? (double)n / secs : 0,
           vps = secs > 0 ? (double)lat.n / secs : 0;
    size_t events = lat.n;
    printf("%s: %d devices, qos %d, rate %ld/s: sent %ld messages with %ld values, events %zu "
           "(lost %ld), %.0f messages/s, %.0f field updates/s, latency p50 %.1f ms p99 %.1f ms "
           "max %.1f ms\n",
           allinone ? "tasmota-allinone" : "tasmota", TAS_DEVICES, qos, rate, n, values, events,
           values - (long)events, mps, vps, pct(&lat, 50), pct(&lat, 99), pct(&lat, 100));
    printf("  gateway share (device publish read -> processor input topic): p50 %.1f ms p99 %.1f "
           "ms max %.1f ms over %zu messages\n",
           pct(&lat_in, 50), pct(&lat_in, 99), pct(&lat_in, 100), lat_in.n);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < np; i++) { /* CPU of the load only: what warm-up took is subtracted */
        double cpu;
        usage_of(ps[i].pid, &cpu, &rss);
        printf("  %-11s cpu %.2f s (%.1f us/value, %.1f us/message)  peak RSS %.1f MB\n", names[i],
               cpu - cpu0[i], (cpu - cpu0[i]) * 1e6 / (double)values,
               (cpu - cpu0[i]) * 1e6 / (double)n, rss);
    }
    printf("  others (cpu s):");
    for (int i = 0; i < 4; i++) {
        double cpu;
        usage_of(opid[i], &cpu, &rss);
        printf(" %s %.2f", other[i], cpu - ocpu0[i]);
    }
    printf("; the load took %.1f s to publish\n", pub_secs);
    for (int i = 0; i < np; i++)
        sb_proc_stop(&ps[i], SIGTERM, 3000);
    np = 0;
    double raw2 = raw_rate(pub, n, qos), rawm = (raw1 + raw2) / 2;
    printf("  raw broker rate, the same %ld publishes (qos %d) publisher -> subscriber through the "
           "devices' broker: %.0f before, %.0f after messages/s; pipeline / raw: %.2f "
           "(messages), %.2f (field updates per raw message)\n",
           n, qos, raw1, raw2, rawm > 0 ? mps / rawm : 0, rawm > 0 ? vps / rawm : 0);
    rc = tas_check_store(conf, n) && (long)events == values ? 0 : 1;
out:
    for (int i = 0; i < np; i++)
        sb_proc_stop(&ps[i], SIGTERM, 3000);
    sb_bus_destroy(pub, 500);
    sb_bus_destroy(sub, 500);
    sb_broker_stop(&dbr);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_pipeline BUILD_DIR "
                        "separate|allinone|rss|tasmota|tasmota-allinone N RATE\n");
        return 2;
    }
    const char *bd = argv[1], *mode = argv[2];
    long n = atol(argv[3]), rate = atol(argv[4]);
    char dir[] = "/tmp/sbbench-XXXXXX", conf[300], exe[1][600], logs[4][300];
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
    sb_config_bus bc = client_cfg(br.url);
    sb_bus *bus = client(&bc, "b");
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
    int rc = 0;
    if (strncmp(mode, "tasmota", 7) == 0) {
        rc = tasmota_mode(bd, dir, conf, n, rate, strcmp(mode, "tasmota-allinone") == 0, logs,
                          br.proc.pid, ix.proc.pid);
        goto done;
    }
    snprintf(cnt, sizeof(cnt), "%ld", n);
    snprintf(rt, sizeof(rt), "%ld", rate);
    const char *dargv[] = {exe[0], "-t", "tcp", "-p",         "0",        "-n", "20", "-r",
                           rt,     "-c", cnt,   "--sequence", "--linger", "2s", NULL};
    sb_proc sim = {0}, ps[2] = {{0}};
    sb_proc_spawn(&sim, dargv, logs[0], &em);
    char prov[200];
    snprintf(prov, sizeof(prov),
             "{\"type\":\"mysensors\",\"transport\":\"ethernet\",\"host\":\"127.0.0.1\","
             "\"tcpPort\":%d}",
             devsim_port(logs[0]));
    put_gateway(conf, prov);
    const char *names[2];
    int np = spawn_services(bd, conf, strcmp(mode, "allinone") == 0, logs, ps, names);
    while (sb_proc_alive(&sim, NULL))
        sb_time_sleep_ms(50);
    wait_events((size_t)n, 300); /* up to 30 s for the tail */
    report(mode, n, rate, ps, names, np);
    for (int i = 0; i < np; i++)
        sb_proc_stop(&ps[i], SIGTERM, 3000);
done:
    sb_bus_destroy(bus, 500);
    sb_influxd_stop(&ix);
    sb_broker_stop(&br);
    if (getenv("SB_BENCH_KEEP")) { /* keep the logs and data for a look */
        fprintf(stderr, "bench_pipeline: kept %s\n", dir);
        return rc;
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? rc : 1;
}
