/*
 * bench_store.c - config store throughput and latency for one backend:
 *
 *   bench_store BACKEND [--docs N] [--sync always|batch] [--dir DIR] [--finds N] [--scatter-puts]
 *
 * Puts N documents one by one (in id order, or with --scatter-puts in the scattered order the
 * random gets use, so each put lands on another part of an id-ordered index), gets N random ids,
 * then runs finds with a label filter + sort + limit 50 (indexable) and with a range filter + sort
 * + limit 50 (a scan), printing ops/s, p50/p99 latency and the process RSS. Results are recorded in
 * bench/README.md.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "storage/store.h"

typedef struct opts {
    const char *backend, *dir;
    long docs, finds;
    int sync;
    bool scatter_puts;
} opts;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of the whole process (every thread): on a shared machine, ops per CPU-second is
 * what a change to the store moves; wall-clock ops/s also moves with whoever else runs. */
static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints ops/s over the whole run, p50/p99/max of the per-op latencies (sorted in place) and
 * ops per CPU-second of the process. */
static void report(const char *what, double *lat, long n, double total_us, double total_cpu_us)
{
    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    printf(
        "%-34s %7ld ops %10.0f ops/s  p50 %8.1f us  p99 %8.1f us  max %9.1f us  %10.0f ops/cpu-s\n",
        what, n, n / (total_us / 1e6), lat[n / 2], lat[(long)(n * 0.99)], lat[n - 1],
        n / (total_cpu_us / 1e6));
}

static long rss_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0)
            kb = atol(line + strlen(key) + 1);
    if (f)
        fclose(f);
    return kb;
}

static cJSON *make_doc(long i)
{
    char id[32], name[32], room[16], floor[8];
    snprintf(id, sizeof(id), "dev-%06ld", i);
    snprintf(name, sizeof(name), "Device %ld", (i * 7919) % 100003);
    snprintf(room, sizeof(room), "room-%03ld", i % 100);
    snprintf(floor, sizeof(floor), "%ld", i % 5);
    cJSON *doc = cJSON_CreateObject(), *labels = cJSON_CreateObject();
    sb_json_set_str(doc, "id", id);
    sb_json_set_str(doc, "name", name);
    sb_json_set_str(labels, "room", room);
    sb_json_set_str(labels, "floor", floor);
    sb_json_set(doc, "labels", labels);
    sb_json_set_num(doc, "value", (double)(i % 1000) / 10.0);
    sb_json_set_bool(doc, "enabled", i % 3 != 0);
    sb_json_set_str(doc, "modifiedOn", "2026-11-25T20:00:00.123Z");
    return doc;
}

static int bench_puts(sb_store *s, const opts *o, double *lat)
{
    double t0 = now_us(), c0 = cpu_us();
    for (long i = 0; i < o->docs; i++) {
        cJSON *doc = make_doc(o->scatter_puts ? (i * 48271) % o->docs : i);
        double a = now_us();
        sb_errmsg em = {{0}};
        sb_err err = sb_store_put(s, "field", doc, &em);
        lat[i] = now_us() - a;
        cJSON_Delete(doc);
        if (err) {
            fprintf(stderr, "put: %s\n", sb_errmsg_str(&em, err));
            return 1;
        }
    }
    report("put (one by one)", lat, o->docs, now_us() - t0, cpu_us() - c0);
    return 0;
}

typedef struct get_job {
    sb_store *s;
    long docs, from, n, stride;
    double *lat;
    int failed;
} get_job;

/* Gets ids from, from+stride, ... (mod docs): stride 1 is id order, 48271 is scattered. */
static void *get_main(void *arg)
{
    get_job *j = arg;
    for (long i = 0; i < j->n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "dev-%06ld", ((j->from + i) * j->stride) % j->docs);
        cJSON *doc = NULL;
        double a = now_us();
        sb_err err = sb_store_get(j->s, "field", id, &doc, NULL);
        j->lat[i] = now_us() - a;
        cJSON_Delete(doc);
        if (err)
            j->failed = 1;
    }
    return NULL;
}

static int bench_gets(sb_store *s, const opts *o, double *lat, const char *what, long stride,
                      int threads)
{
    pthread_t th[16];
    get_job jobs[16];
    long per = o->docs / threads;
    double t0 = now_us(), c0 = cpu_us();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (get_job){.s = s,
                            .docs = o->docs,
                            .from = t * per,
                            .n = per,
                            .stride = stride,
                            .lat = lat + t * per};
        if (pthread_create(&th[t], NULL, get_main, &jobs[t]) != 0)
            return 1;
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        failed |= jobs[t].failed;
    }
    if (failed) {
        fprintf(stderr, "get: an id was not found\n");
        return 1;
    }
    report(what, lat, per * threads, now_us() - t0, cpu_us() - c0);
    return 0;
}

/* The i-th query's filter: a label (indexable) or a range (a scan). */
static void make_filter(bool label, long i, char *buf, size_t len)
{
    if (label)
        snprintf(buf, len, "[{\"k\":\"labels.room\",\"o\":\"eq\",\"v\":\"room-%03ld\"}]",
                 (i * 37) % 100);
    else
        snprintf(buf, len, "[{\"k\":\"value\",\"o\":\"gte\",\"v\":%ld}]", (i * 37) % 100);
}

static int bench_finds(sb_store *s, const opts *o, double *lat, const char *what, bool label,
                       const char *sort)
{
    double t0 = now_us(), c0 = cpu_us();
    for (long i = 0; i < o->finds; i++) {
        char filters[256];
        make_filter(label, i, filters, sizeof(filters));
        sb_query q;
        sb_errmsg em = {{0}};
        cJSON *res = NULL;
        double a = now_us();
        sb_err err = sb_query_parse(filters, sort, &q, &em);
        q.limit = 50;
        if (!err)
            err = sb_store_find(s, "field", &q, &res, &em);
        lat[i] = now_us() - a;
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(res, "data"));
        sb_query_free(&q);
        cJSON_Delete(res);
        if (err || n != 50) {
            fprintf(stderr, "find %s: %s (%d results)\n", filters, sb_errmsg_str(&em, err), n);
            return 1;
        }
    }
    report(what, lat, o->finds, now_us() - t0, cpu_us() - c0);
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){.docs = 100000, .finds = 2000, .sync = SB_SYNC_BATCH};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--docs") == 0 && v)
            o->docs = atol(v), i++;
        else if (strcmp(argv[i], "--finds") == 0 && v)
            o->finds = atol(v), i++;
        else if (strcmp(argv[i], "--dir") == 0 && v)
            o->dir = v, i++;
        else if (strcmp(argv[i], "--sync") == 0 && v)
            o->sync = strcmp(v, "always") == 0 ? SB_SYNC_ALWAYS : SB_SYNC_BATCH, i++;
        else if (strcmp(argv[i], "--scatter-puts") == 0)
            o->scatter_puts = true;
        else if (argv[i][0] != '-' && !o->backend)
            o->backend = argv[i];
        else
            return 1;
    }
    return !o->backend || o->docs < 100 || o->finds < 1;
}

static int configure(const opts *o, char *dir, size_t len, sb_config *cfg)
{
    static char path[700];
    snprintf(dir, len, "%s", o->dir ? o->dir : "/tmp/bench_store.XXXXXX");
    if (!o->dir && !mkdtemp(dir))
        return 1;
    memset(cfg, 0, sizeof(*cfg));
    if (strcmp(o->backend, "memory") == 0) {
        cfg->storage.type = SB_STORE_MEMORY;
        cfg->storage.memory.dir = dir;
        cfg->storage.memory.sync = o->sync;
        cfg->storage.memory.sync_interval_ms = 200;
        cfg->storage.memory.snapshot_every = 10000;
    } else if (strcmp(o->backend, "sqlite") == 0) {
        snprintf(path, sizeof(path), "%s/bench.db", dir);
        cfg->storage.type = SB_STORE_SQLITE;
        cfg->storage.sqlite.path = path;
        cfg->storage.sqlite.sync = o->sync;
        cfg->storage.sqlite.busy_timeout_ms = 5000;
    } else {
        fprintf(stderr, "bench_store: unknown backend %s\n", o->backend);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: bench_store BACKEND [--docs N] [--finds N] [--sync always|batch] "
                        "[--dir DIR] [--scatter-puts]\n");
        return 2;
    }
    char dir[600];
    sb_config cfg;
    sb_store *s = NULL;
    sb_errmsg em = {{0}};
    if (configure(&o, dir, sizeof(dir), &cfg))
        return 2;
    if (sb_store_open(&cfg, &s, &em) != SB_OK) {
        fprintf(stderr, "open: %s\n", em.text);
        return 1;
    }
    printf("backend %s, %ld documents, sync %s, puts in %s order, data in %s\n", o.backend, o.docs,
           o.sync == SB_SYNC_ALWAYS ? "always" : "batch", o.scatter_puts ? "scattered" : "id", dir);
    double *lat = malloc((size_t)(o.docs > o.finds ? o.docs : o.finds) * sizeof(double));
    int nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
    nproc = nproc < 1 ? 1 : nproc > 16 ? 16 : nproc;
    char what[64];
    snprintf(what, sizeof(what), "get by id, random, %d threads", nproc);
    int rc = !lat || bench_puts(s, &o, lat) ||
             bench_gets(s, &o, lat, "get by id, random order", 48271, 1) ||
             bench_gets(s, &o, lat, "get by id, id order", 1, 1) ||
             bench_gets(s, &o, lat, what, 48271, nproc) ||
             bench_finds(s, &o, lat, "find label eq + sort + limit 50", true,
                         "[{\"f\":\"name\",\"o\":\"asc\"}]") ||
             bench_finds(s, &o, lat, "find range (scan) + sort + limit 50", false,
                         "[{\"f\":\"value\",\"o\":\"desc\"},{\"f\":\"name\"}]");
    printf("RSS %ld kB (peak %ld kB)\n", rss_kb("VmRSS"), rss_kb("VmHWM"));
    free(lat);
    sb_store_close(s);
    if (!o.dir) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        rc |= system(cmd) != 0;
    }
    return rc;
}
