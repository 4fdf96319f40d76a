/*
 * switchboard run - every service of the configuration in one process, each on its own thread
 * with its own bus connection, and (bus.managed) a mosquitto child process on a loopback port.
 * SIGINT/SIGTERM stop everything within about 2 s.
 */
#include "commands.h"

#include "core/broker.h"
#include "core/influxd.h"
#include "core/config.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/service.h"
#include "core/time.h"

#include <stdatomic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_DEADLINE_MS 2000

/* Every service Switchboard has; a build may not contain all of them yet. */
static const char *const known_services[] = {"gateway",   "processor", "forward", "task",
                                             "scheduler", "handler",   "api",     NULL};

typedef struct running {
    const sb_service_def *def;
    const sb_config *cfg;
    sb_stop_flag *stop;
    pthread_t thread;
    bool started;
    atomic_bool done;
    int rc;
} running;

static void *service_thread(void *arg)
{
    running *r = arg;
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "[%s]", r->def->name);
    sb_log_thread_prefix(prefix);
    r->rc = r->def->run(r->cfg, r->stop);
    if (r->rc != 0 && !sb_stop_raised(r->stop)) {
        sb_error(NULL, "stopped with an error (%d): stopping switchboard", r->rc);
        sb_stop_raise(r->stop);
    }
    atomic_store(&r->done, true);
    return NULL;
}

static bool is_known(const char *name)
{
    for (size_t i = 0; known_services[i]; i++)
        if (strcmp(known_services[i], name) == 0)
            return true;
    return false;
}

/* Resolves run.services to the services of this build; unknown names are an error. */
static int pick_services(const sb_config *cfg, running *out, size_t *n, sb_stop_flag *stop)
{
    *n = 0;
    for (size_t i = 0; i < cfg->run.services.n; i++) {
        const char *name = cfg->run.services.items[i];
        const sb_service_def *def = sb_service_find(name);
        if (!def && !is_known(name)) {
            sb_error(NULL, "run.services: unknown service '%s'", name);
            return 1;
        }
        if (!def) {
            sb_info(NULL, "service '%s' is not part of this build", name);
            continue;
        }
        out[*n] = (running){.def = def, .cfg = cfg, .stop = stop};
        (*n)++;
    }
    return 0;
}

static int start_broker(sb_config *cfg, sb_broker *broker)
{
    if (!cfg->bus.managed || (cfg->bus.url && *cfg->bus.url))
        return 0;
    char *dir = sb_config_data_path(cfg, "mosquitto");
    sb_errmsg em = {0};
    sb_err rc = dir ? sb_broker_start(broker, cfg->bus.mosquitto, dir, (int)cfg->bus.managed_port,
                                      NULL, &em)
                    : SB_ERR_NOMEM;
    free(dir);
    if (rc != SB_OK) {
        sb_error(NULL, "cannot start the managed broker: %s", sb_errmsg_str(&em, rc));
        return 1;
    }
    free(cfg->bus.url);
    cfg->bus.url = strdup(broker->url);
    sb_info(NULL, "managed mosquitto on %s (pid %d, data in %s)", broker->url,
            (int)broker->proc.pid, broker->dir);
    return cfg->bus.url ? 0 : 1;
}

/* The managed influxd when metrics go to InfluxDB, managed is on and no url is set. */
static int start_influxd(sb_config *cfg, sb_influxd *influxd)
{
    sb_config_metrics *m = &cfg->metrics;
    if (m->type != SB_METRICS_INFLUXDB || !m->managed || (m->url && *m->url))
        return 0;
    char *dir = sb_config_data_path(cfg, "influxdb");
    sb_errmsg em = {0};
    sb_err rc =
        dir ? sb_influxd_start(influxd, m->influxd, dir, (int)m->managed_port, &em) : SB_ERR_NOMEM;
    free(dir);
    if (rc != SB_OK) {
        sb_error(NULL, "cannot start the managed influxd: %s", sb_errmsg_str(&em, rc));
        return 1;
    }
    free(m->url);
    m->url = strdup(influxd->url);
    sb_info(NULL, "managed influxd on %s (pid %d, data in %s)", influxd->url,
            (int)influxd->proc.pid, influxd->dir);
    return m->url ? 0 : 1;
}

/*
 * On the first start the api service creates user admin with a random password in
 * <data_dir>/initial-admin-password; wait briefly for it so the banner can show it.
 */
static void print_admin_password(const sb_config *cfg, bool first_start)
{
    char *path = sb_config_data_path(cfg, "initial-admin-password");
    char pw[128] = "";
    for (int i = 0; path && first_start && i < 60 && !pw[0]; i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(pw, sizeof(pw), f))
                pw[0] = '\0';
            fclose(f);
        }
        if (!pw[0])
            sb_time_sleep_ms(50);
    }
    pw[strcspn(pw, "\n")] = '\0';
    if (pw[0])
        printf("  login:     user admin, password %s (first start; change it)\n", pw);
    free(path);
}

static bool runs_api(const running *svcs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(svcs[i].def->name, "api") == 0)
            return true;
    return false;
}

static bool admin_password_absent(const sb_config *cfg)
{
    char *path = sb_config_data_path(cfg, "initial-admin-password");
    bool absent = path && access(path, F_OK) != 0;
    free(path);
    return absent;
}

static void banner(const sb_config *cfg, const running *svcs, size_t n, bool first_start)
{
    static const char *const stores[] = {"sqlite", "memory", "mongodb"};
    printf("\nSwitchboard %s is running.\n", SB_VERSION);
    printf("  bus:       %s%s\n", cfg->bus.url, cfg->bus.managed ? " (managed mosquitto)" : "");
    printf("  store:     %s, data in %s\n", stores[cfg->storage.type % 3], cfg->data_dir);
    printf("  metrics:   %s\n", cfg->metrics.type == SB_METRICS_NONE    ? "off"
                                : cfg->metrics.url && *cfg->metrics.url ? cfg->metrics.url
                                                                        : "(no url)");
    printf("  services:  ");
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", svcs[i].def->name);
    printf("%s\n", n ? "" : "(none in this build yet)");
    if (runs_api(svcs, n)) {
        printf("  api:       http://%s:%lld/api\n", cfg->api.address, (long long)cfg->api.port);
        if (cfg->api.web_root && *cfg->api.web_root)
            printf("  web:       http://%s:%lld/ (dashboard)\n", cfg->api.address,
                   (long long)cfg->api.port);
        print_admin_password(cfg, first_start);
    }
    printf("Press Ctrl-C to stop.\n\n");
    fflush(stdout);
}

/* Joins every service thread, giving them STOP_DEADLINE_MS in all. */
static int join_all(running *svcs, size_t n)
{
    int rc = 0;
    int64_t deadline = sb_time_mono_ms() + STOP_DEADLINE_MS;
    for (size_t i = 0; i < n; i++) {
        if (!svcs[i].started)
            continue;
        while (!atomic_load(&svcs[i].done) && sb_time_mono_ms() < deadline)
            sb_time_sleep_ms(5);
        if (!atomic_load(&svcs[i].done)) {
            sb_error(NULL, "service %s did not stop in time", svcs[i].def->name);
            rc = 1;
            continue;
        }
        pthread_join(svcs[i].thread, NULL);
        rc |= svcs[i].rc != 0;
    }
    return rc;
}

/*
 * <data_dir>/run.json tells other commands on this machine (`switchboard status`) where the
 * running all-in-one's bus and API are: a managed broker's port is only known at run time.
 */
static void write_run_file(const sb_config *cfg, bool present)
{
    char *path = sb_config_data_path(cfg, "run.json");
    if (!path)
        return;
    FILE *f = present ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "{\"pid\":%d,\"busUrl\":\"%s\",\"topicPrefix\":\"%s\"}\n", (int)getpid(),
                cfg->bus.url ? cfg->bus.url : "", cfg->bus.topic_prefix);
        fclose(f);
    } else if (!present) {
        unlink(path);
    }
    free(path);
}

static int run(sb_config *cfg)
{
    sb_errmsg em = {0};
    if (sb_mkdirs(cfg->data_dir, &em) != SB_OK) {
        sb_error(NULL, "%s", em.text);
        return 1;
    }
    sb_stop_flag stop;
    sb_stop_init(&stop);
    running svcs[16];
    size_t n = 0;
    sb_broker broker = {0};
    sb_influxd influxd = {0};
    if (pick_services(cfg, svcs, &n, &stop) || sb_signals_install(&stop, &em) != SB_OK ||
        start_broker(cfg, &broker))
        return 1;
    if (start_influxd(cfg, &influxd)) {
        sb_broker_stop(&broker);
        return 1;
    }
    bool first_start = admin_password_absent(cfg);
    for (size_t i = 0; i < n; i++) {
        svcs[i].started = pthread_create(&svcs[i].thread, NULL, service_thread, &svcs[i]) == 0;
        if (!svcs[i].started) {
            sb_error(NULL, "cannot start a thread for %s", svcs[i].def->name);
            sb_stop_raise(&stop);
        }
    }
    write_run_file(cfg, true);
    banner(cfg, svcs, n, first_start);
    while (!sb_stop_wait(&stop, 1000)) {
        if (cfg->bus.managed && broker.proc.pid && !sb_proc_alive(&broker.proc, NULL)) {
            sb_warn(NULL, "managed mosquitto exited; restarting it");
            if (sb_broker_restart(&broker, &em) != SB_OK)
                sb_error(NULL, "%s", em.text);
        }
        if (influxd.proc.pid && !sb_proc_alive(&influxd.proc, NULL)) {
            sb_warn(NULL, "managed influxd exited; restarting it");
            if (sb_influxd_restart(&influxd, &em) != SB_OK)
                sb_error(NULL, "%s", em.text);
        }
    }
    int rc = join_all(svcs, n);
    write_run_file(cfg, false);
    sb_broker_stop(&broker);
    sb_influxd_stop(&influxd);
    sb_info(NULL, "stopped");
    return rc;
}

int sb_cmd_run(const char *config_path, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: switchboard [-c FILE] run\n");
        return 2;
    }
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    if (sb_config_load(config_path, &cfg, &em) != SB_OK) {
        fprintf(stderr, "switchboard: %s\n", em.text);
        return 1;
    }
    sb_log_set_level((sb_log_level)cfg->log.level);
    sb_log_set_format((sb_log_format)cfg->log.format);
    sb_log_thread_prefix("[switchboard]");
    int rc = run(cfg);
    sb_config_free(cfg);
    return rc;
}
