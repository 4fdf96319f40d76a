#include "harness.h"

#include "core/proc.h"
#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[512];
static sb_broker broker;
static bool broker_running;
static sb_influxd influxd;
static bool influxd_running;
static sb_config_bus bus_defaults;

static void cleanup(void)
{
    sbt_broker_stop();
    sbt_influxd_stop();
    const char *keep = getenv("SB_KEEP_TMP");
    if (root[0] && !(keep && *keep == '1')) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", root);
    }
}

const char *sbt_tmpdir(const char *name)
{
    if (!root[0]) {
        const char *base = getenv("SB_TEST_TMPDIR");
        char tmpl[512];
        snprintf(tmpl, sizeof(tmpl), "%s/sbtest-XXXXXX", base && *base ? base : "/tmp");
        sb_mkdirs(base && *base ? base : "/tmp", NULL);
        if (!mkdtemp(tmpl)) {
            perror("mkdtemp");
            exit(1);
        }
        snprintf(root, sizeof(root), "%s", tmpl);
        atexit(cleanup);
    }
    static _Thread_local char path[700];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    sb_mkdirs(path, NULL);
    return path;
}

sb_broker *sbt_broker_start(const char *extra_conf)
{
    sb_errmsg em = {0};
    const char *dir = sbt_tmpdir("mosquitto");
    if (sb_broker_start(&broker, "mosquitto", dir, 0, extra_conf, &em) != SB_OK) {
        fprintf(stderr, "harness: %s\n", em.text);
        exit(1);
    }
    broker_running = true;
    return &broker;
}

void sbt_broker_stop(void)
{
    if (broker_running) {
        sb_broker_stop(&broker);
        broker_running = false;
    }
}

sb_influxd *sbt_influxd_start(void)
{
    sb_errmsg em = {0};
    if (sb_influxd_start(&influxd, "influxd", sbt_tmpdir("influxd"), 0, &em) != SB_OK) {
        fprintf(stderr, "harness: %s\n", em.text);
        exit(1);
    }
    influxd_running = true;
    return &influxd;
}

void sbt_influxd_stop(void)
{
    if (influxd_running) {
        sb_influxd_stop(&influxd);
        influxd_running = false;
    }
}

void sbt_bus_config(sb_config_bus *c)
{
    memset(c, 0, sizeof(*c));
    c->url = broker.url;
    c->topic_prefix = "sbtest";
    const char *v = getenv("SB_TEST_MQTT_VERSION"); /* "311" runs the suite over MQTT 3.1.1 */
    c->mqtt_version = v && strcmp(v, "311") == 0 ? SB_MQTT_V311 : SB_MQTT_AUTO;
    c->keepalive_ms = 5000;
    c->connect_timeout_ms = 2000;
    c->reconnect_min_ms = 50;
    c->reconnect_max_ms = 500;
    c->session_expiry_ms = 3600 * 1000;
    c->max_pending = 100000;
    c->batch_max = 500;
    c->batch_delay_ms = 5;
    c->tls.verify = true;
    (void)bus_defaults;
}

sb_bus *sbt_bus(const sb_config_bus *cfg, const char *service, const char *instance,
                bool clean_start)
{
    sb_bus_opts o = {
        .cfg = cfg, .service = service, .instance = instance, .clean_start = clean_start};
    sb_bus *bus = NULL;
    sb_errmsg em = {0};
    if (sb_bus_create(&o, &bus, &em) != SB_OK) {
        fprintf(stderr, "harness: %s\n", em.text);
        exit(1);
    }
    if (sb_bus_start(bus, 5000, &em) != SB_OK) {
        fprintf(stderr, "harness: %s\n", em.text);
        exit(1);
    }
    return bus;
}

bool sbt_wait(bool (*cond)(void *ctx), void *ctx, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    for (;;) {
        if (cond(ctx))
            return true;
        if (sb_time_mono_ms() >= deadline)
            return cond(ctx);
        sb_time_sleep_ms(5);
    }
}

const char *sbt_build_path(const char *name)
{
    /* Next to the running test binary, wherever the build directory is. */
    static char path[2048];
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(path, sizeof(path), "%s/%s", slash ? self : ".", name);
    return path;
}

void sbt_processor_files(const char *dir, const char *url, const char *instance, char *conf,
                         char *log, char *exe)
{
    snprintf(conf, 600, "%s/p.yaml", dir);
    snprintf(log, 600, "%s/processor.log", dir);
    const char *bd = getenv("SB_BUILD_DIR");
    snprintf(exe, 1024, "%s/services/processor/switchboard-processor", bd ? bd : ".");
    FILE *f = fopen(conf, "w");
    if (!f) {
        fprintf(stderr, "harness: cannot write %s\n", conf);
        exit(1);
    }
    fprintf(f,
            "data_dir: %s\ninstance: %s\nlog:\n  level: warn\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/p.db\n"
            "metrics:\n  type: none\n  managed: false\n",
            dir, instance, url, dir);
    fclose(f);
}
