/*
 * pipeline_noloss_test - "nothing accepted is lost" (DESIGN.md section 2) end to end, with
 * every moving part a separate process:
 *
 *   devsim --sequence (TCP, several nodes) --> switchboard-gateway --<p>/msg/in frames-->
 *   switchboard-processor --> sqlite store + influxd
 *
 * While devsim sends, the processor is killed with SIGKILL and restarted twice, and influxd is
 * stopped for ~20 s (the second kill falls inside that outage). devsim's values are 1, 2, 3 ...
 * over all fields, so afterwards every field's stored current value must be the last value
 * devsim wrote for it, and InfluxDB must hold exactly as many points per series as devsim wrote
 * values (a value written twice with its timestamp overwrites itself, so a duplicate cannot hide
 * a loss).
 *
 * N: the issue asks for 100k messages. The pipeline sustains more than 2.5k msg/s on the 2-core
 * build machine, so 100k at 2.5k/s fits in ~40 s of sending; SB_NOLOSS_N and SB_NOLOSS_RATE
 * override both (the schedule scales with the duration).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"
#include "storage/metrics.h"
#include "storage/store.h"

enum { MAX_FIELDS = 64, NODES = 10 };

typedef struct field_seq {
    char id[64]; /* gwn.<node>.<child>.<V_TEMP|V_HUM> */
    long long count, last;
} field_seq;

static char dir[600], conf[700], gw_log[700], proc_log[700], sim_log[700];
static sb_proc gateway, processor, sim;
static sb_influxd *influx;

static void spawn(sb_proc *p, const char *exe, const char *log)
{
    const char *argv[] = {exe, "-c", conf, NULL};
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(p, argv, log, &em) != SB_OK)
        fail_msg("%s: %s", exe, em.text);
}

static const char *bin(const char *rel)
{
    static char path[4][1024];
    static int k;
    const char *bd = getenv("SB_BUILD_DIR");
    char *out = path[k++ % 4];
    snprintf(out, sizeof(path[0]), "%s/%s", bd ? bd : "../..", rel);
    return out;
}

static void write_config(const char *bus_url)
{
    snprintf(conf, sizeof(conf), "%s/sb.yaml", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "data_dir: %s\ninstance: nl\nlog:\n  level: warn\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
            "  reconnect_max: 500ms\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/sb.db\n"
            "metrics:\n  managed: false\n  url: %s\n  database: noloss\n"
            "  flush_interval: 100ms\n  timeout: 2s\n  buffer_dir: %s/spool\n"
            "gateway:\n  log_dir: %s/logs\n",
            dir, bus_url, dir, influx->url, dir, dir);
    fclose(f);
}

/* The first line of devsim's log that starts with prefix, after it; false when none yet. */
static bool log_line(const char *path, const char *prefix, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            size_t k = strlen(line + strlen(prefix));
            if (k >= len)
                k = len - 1;
            memcpy(out, line + strlen(prefix), k);
            out[k] = '\0';
            found = true;
        }
    }
    fclose(f);
    return found;
}

static long env_num(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

/* devsim over TCP; returns the port it listens on. */
static int start_devsim(long n, long rate)
{
    char count[32], rate_s[32], nodes[16];
    snprintf(count, sizeof(count), "%ld", n);
    snprintf(rate_s, sizeof(rate_s), "%ld", rate);
    snprintf(nodes, sizeof(nodes), "%d", NODES);
    const char *argv[] = {bin("tools/devsim/devsim"),
                          "--transport",
                          "tcp",
                          "--port",
                          "0",
                          "--nodes",
                          nodes,
                          "--rate",
                          rate_s,
                          "--count",
                          count,
                          "--sequence",
                          "--linger",
                          "1s",
                          NULL};
    sb_errmsg em = {{0}};
    snprintf(sim_log, sizeof(sim_log), "%s/devsim.log", dir);
    if (sb_proc_spawn(&sim, argv, sim_log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    char where[256];
    int64_t end = sb_time_mono_ms() + 5000;
    while (!log_line(sim_log, "devsim: tcp ", where, sizeof(where))) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not say where it listens (%s)", sim_log);
        sb_time_sleep_ms(10);
    }
    const char *colon = strrchr(where, ':');
    assert_non_null(colon);
    return atoi(colon + 1);
}

static void put_gateway(sb_store *s, int port)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"id\":\"gwn\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"mysensors\",\"transport\":\"ethernet\","
             "\"host\":\"127.0.0.1\",\"tcpPort\":%d}}",
             port);
    cJSON *doc = NULL;
    assert_int_equal(sb_json_parse(json, strlen(json), &doc, NULL), SB_OK);
    assert_int_equal(sb_store_put(s, "gateway", doc, NULL), SB_OK);
    cJSON_Delete(doc);
}

static void kill_processor(const char *when)
{
    print_message("%s: kill -9 the processor\n", when);
    kill(processor.pid, SIGKILL);
    sb_proc_alive(&processor, NULL);
}

/*
 * Lets devsim run to its end while the schedule (fractions of the sending time) kills and
 * restarts the processor twice and stops influxd for ~20 s around the second kill.
 */
static void run_schedule(int64_t send_ms)
{
    int64_t t0 = sb_time_mono_ms();
    int64_t at[] = {send_ms * 15 / 100, send_ms * 15 / 100 + 700, send_ms * 30 / 100,
                    send_ms * 55 / 100, send_ms * 55 / 100 + 700, send_ms * 30 / 100 + 20000};
    int step = 0;
    sb_errmsg em = {{0}};
    while (sb_proc_alive(&sim, NULL) || step < 6) {
        int64_t t = sb_time_mono_ms() - t0;
        if (step < 6 && t >= at[step]) {
            switch (step) {
            case 0:
            case 3:
                kill_processor(step ? "during the outage" : "first");
                break;
            case 1:
            case 4:
                spawn(&processor, bin("services/processor/switchboard-processor"), proc_log);
                break;
            case 2:
                print_message("stop influxd\n");
                sb_influxd_stop(influx);
                break;
            default:
                print_message("restart influxd\n");
                if (sb_influxd_restart(influx, &em) != SB_OK)
                    fail_msg("influxd restart: %s", em.text);
            }
            step++;
        }
        if (t > send_ms + 60000)
            fail_msg("devsim did not finish");
        sb_time_sleep_ms(20);
    }
}

/* devsim's "seq <node> <child> <type> <count> <last>" lines. */
static size_t read_sequence(field_seq *out, long long *total)
{
    FILE *f = fopen(sim_log, "r");
    assert_non_null(f);
    char line[512];
    size_t n = 0;
    *total = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned node, child, type;
        long long count, last;
        if (sscanf(line, "devsim: seq %u %u %u %lld %lld", &node, &child, &type, &count, &last) !=
                5 ||
            n == MAX_FIELDS)
            continue;
        snprintf(out[n].id, sizeof(out[n].id), "gwn.%u.%u.%s", node, child,
                 type == 0 ? "V_TEMP" : "V_HUM");
        out[n].count = count;
        out[n].last = last;
        *total += count;
        n++;
    }
    fclose(f);
    return n;
}

/* How many fields have their last value in the store; prints the first miss when asked. */
static size_t store_matches(sb_store *s, const field_seq *fs, size_t n, bool report)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *d = NULL;
        double v = -1;
        if (sb_store_get(s, "field", fs[i].id, &d, NULL) == SB_OK)
            v = sb_json_num(sb_json_path(d, "current"), "value", -1);
        cJSON_Delete(d);
        if (v == (double)fs[i].last)
            ok++;
        else if (report)
            print_message("field %s: stored %.0f, devsim sent last %lld\n", fs[i].id, v,
                          fs[i].last);
    }
    return ok;
}

/* How many series have exactly the sent number of points; prints the misses when asked. */
static size_t influx_matches(sb_metrics *m, const field_seq *fs, size_t n, bool report)
{
    char qids[MAX_FIELDS][80];
    const char *fields[MAX_FIELDS] = {NULL};
    for (size_t i = 0; i < n; i++) {
        snprintf(qids[i], sizeof(qids[i]), "field:%s", fs[i].id);
        fields[i] = qids[i];
    }
    const char *fn[] = {"count"};
    cJSON *out = NULL;
    sb_errmsg em = {{0}};
    if (sb_metrics_query(m, fields, n, "-1h", NULL, NULL, fn, 1, &out, &em) != SB_OK) {
        if (report)
            print_message("influx query: %s\n", em.text);
        return 0;
    }
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *rows = sb_json_path(cJSON_GetObjectItem(out, qids[i]), "count");
        double c = sb_json_num(cJSON_GetArrayItem(rows, 0), "value", 0);
        if (c == (double)fs[i].count)
            ok++;
        else if (report)
            print_message("series %s: %.0f points, devsim sent %lld values\n", fs[i].id, c,
                          fs[i].count);
    }
    cJSON_Delete(out);
    return ok;
}

static void check_results(sb_store *s, sb_metrics *m)
{
    field_seq fs[MAX_FIELDS];
    long long total = 0;
    size_t n = read_sequence(fs, &total);
    print_message("devsim wrote %lld values to %zu fields\n", total, n);
    assert_int_equal(n, NODES * 2);
    int64_t end = sb_time_mono_ms() + 30000;
    while (store_matches(s, fs, n, false) < n && sb_time_mono_ms() < end)
        sb_time_sleep_ms(200);
    assert_int_equal(store_matches(s, fs, n, true), n);
    while (influx_matches(m, fs, n, false) < n && sb_time_mono_ms() < end)
        sb_time_sleep_ms(500);
    assert_int_equal(influx_matches(m, fs, n, true), n);
}

static void test_noloss(void **state)
{
    (void)state;
    sb_broker *b = sbt_broker_start("max_queued_messages 0\nmax_inflight_messages 0\n");
    influx = sbt_influxd_start();
    snprintf(dir, sizeof(dir), "%s", sbt_tmpdir("noloss"));
    write_config(b->url);
    snprintf(gw_log, sizeof(gw_log), "%s/gateway.log", dir);
    snprintf(proc_log, sizeof(proc_log), "%s/processor.log", dir);
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_load(conf, &cfg, NULL), SB_OK);
    sb_store *s = NULL;
    assert_int_equal(sb_store_open(cfg, &s, NULL), SB_OK);
    sb_metrics *m = NULL;
    assert_int_equal(sb_metrics_open_url(cfg, influx->url, &m, NULL), SB_OK);

    long n = env_num("SB_NOLOSS_N", 100000), rate = env_num("SB_NOLOSS_RATE", 2500);
    spawn(&processor, bin("services/processor/switchboard-processor"), proc_log);
    sb_time_sleep_ms(300); /* its persistent session exists before the first frame */
    put_gateway(s, start_devsim(n, rate));
    spawn(&gateway, bin("services/gateway/switchboard-gateway"), gw_log);
    run_schedule(n * 1000 / rate);

    check_results(s, m);
    sb_proc_stop(&gateway, SIGTERM, 3000);
    sb_proc_stop(&processor, SIGTERM, 3000);
    sb_metrics_close(m, 0);
    sb_store_close(s);
    sb_config_free(cfg);
    sbt_broker_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_noloss)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
