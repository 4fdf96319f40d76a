/*
 * bench_metrics.c - points/s through sb_metrics_write to a real influxd (started here on free
 * loopback ports in a temporary directory), for several batch sizes.
 *
 * Usage: bench_metrics [POINTS] [BATCH...]   (defaults: 200000 points; 500 1000 5000 10000)
 * Prints one row per batch size: the rate at which points were queued and the end-to-end
 * rate (queued and acknowledged by InfluxDB, after sb_metrics_flush returned).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/influxd.h"
#include "core/time.h"
#include "storage/metrics.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int run(const char *url, long points, long batch)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    sb_config_defaults(&cfg, NULL);
    free(cfg->metrics.database);
    char db[64];
    snprintf(db, sizeof(db), "bench_%ld", batch);
    cfg->metrics.database = strdup(db);
    cfg->metrics.batch_size = batch;
    sb_metrics *m = NULL;
    if (sb_metrics_open_url(cfg, url, &m, &em) != SB_OK) {
        fprintf(stderr, "bench_metrics: %s\n", em.text);
        return 1;
    }
    int64_t base = sb_time_now_ms() - points, t0 = sb_time_mono_ms();
    double c0 = cpu_s();
    char node[16], v[32];
    for (long i = 0; i < points; i++) {
        snprintf(node, sizeof(node), "%ld", i % 100);
        snprintf(v, sizeof(v), "%ld.25", i % 1000);
        sb_metric_point p = {"gw1", node, "1", "V_TEMP", SB_METRIC_GAUGE_FLOAT, v, base + i};
        sb_metrics_write(m, &p);
    }
    int64_t t1 = sb_time_mono_ms();
    sb_err rc = sb_metrics_flush(m, 120000);
    int64_t t2 = sb_time_mono_ms();
    sb_metrics_stats st;
    sb_metrics_get_stats(m, &st);
    printf("| %ld | %ld | %.0f | %.0f | %.2f | %llu | %llu |%s\n", batch, points,
           points * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
           points * 1000.0 / (double)(t2 - t0 ? t2 - t0 : 1), (cpu_s() - c0) * 1e6 / (double)points,
           (unsigned long long)st.written, (unsigned long long)st.dropped,
           rc == SB_OK ? "" : " flush timed out");
    sb_metrics_close(m, 1000);
    sb_config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    long points = argc > 1 ? atol(argv[1]) : 200000;
    char dir[] = "/tmp/sb-bench-influxd-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    sb_influxd d;
    sb_errmsg em = {0};
    if (sb_influxd_start(&d, "influxd", dir, 0, &em) != SB_OK) {
        fprintf(stderr, "bench_metrics: %s\n", em.text);
        return 1;
    }
    printf("| batch_size | points | queued/s | written/s (end to end) | client CPU µs/point "
           "| written | dropped |\n|---|---|---|---|---|---|---|\n");
    static const long defaults[] = {500, 1000, 5000, 10000};
    int rc = 0;
    if (argc > 2)
        for (int i = 2; i < argc && rc == 0; i++)
            rc = run(d.url, points, atol(argv[i]));
    else
        for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults) && rc == 0; i++)
            rc = run(d.url, points, defaults[i]);
    sb_influxd_stop(&d);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_metrics: could not remove %s\n", dir);
    return rc;
}
