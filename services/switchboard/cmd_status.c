/*
 * cmd_status.c - `switchboard status [SERVICE]`: the services online, from their retained
 * status topics <p>/status/<service>/<instance>.
 *
 * Without SERVICE prints one line per service instance and exits 0 when every one is online.
 * With SERVICE checks this machine's instance of it (the configured instance, else the host
 * name: what the service itself uses) and exits 0 only when it is online: the health check of
 * the containers and systemd units (docs/operations.md). Against a running `switchboard run`
 * with a managed broker the bus url comes from <data_dir>/run.json.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/config.h"
#include "core/json.h"
#include "core/service.h"
#include "core/time.h"
#include "services/switchboard/commands.h"

#define MAX_SEEN 64
#define QUIET_MS 300 /* retained messages arrive at once; stop after this silence */
#define WAIT_MAX 3000

typedef struct seen {
    char service[64], instance[128], status[16], version[32], started[40];
} seen;

typedef struct collect {
    pthread_mutex_t mu;
    seen items[MAX_SEEN];
    int n;
    int64_t last_ms;
    size_t prefix_len;
} collect;

static void on_status(void *ctx, const sb_bus_msg *m)
{
    collect *c = ctx;
    const char *rest = m->topic + c->prefix_len + strlen("/status/");
    const char *slash = strchr(rest, '/');
    cJSON *doc = NULL;
    if (!slash || sb_json_parse(m->payload, m->len, &doc, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAX_SEEN) {
        seen *s = &c->items[c->n++];
        snprintf(s->service, sizeof(s->service), "%.*s", (int)(slash - rest), rest);
        snprintf(s->instance, sizeof(s->instance), "%s", slash + 1);
        snprintf(s->status, sizeof(s->status), "%s", sb_json_str(doc, "status", "?"));
        snprintf(s->version, sizeof(s->version), "%s", sb_json_str(doc, "version", ""));
        snprintf(s->started, sizeof(s->started), "%s", sb_json_str(doc, "startedAt", ""));
    }
    c->last_ms = sb_time_mono_ms();
    pthread_mutex_unlock(&c->mu);
    cJSON_Delete(doc);
}

/* The managed broker's url from <data_dir>/run.json when the config names no broker. */
static char *run_file_url(const sb_config *cfg)
{
    char *path = sb_config_data_path(cfg, "run.json"), buf[1024];
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    cJSON *doc = NULL;
    char *url = NULL;
    if (sb_json_parse(buf, n, &doc, NULL) == SB_OK && *sb_json_str(doc, "busUrl", ""))
        url = strdup(sb_json_str(doc, "busUrl", ""));
    cJSON_Delete(doc);
    return url;
}

static sb_err gather(sb_config *cfg, collect *c, sb_errmsg *em)
{
    if (!cfg->bus.url || !*cfg->bus.url) {
        char *url = run_file_url(cfg);
        if (!url)
            return sb_fail(em, SB_ERR_NOTFOUND,
                           "no bus.url configured and no running switchboard (no run.json in %s)",
                           cfg->data_dir);
        free(cfg->bus.url);
        cfg->bus.url = url;
    }
    char inst[64];
    snprintf(inst, sizeof(inst), "status-%d", (int)getpid());
    sb_bus_opts o = {.cfg = &cfg->bus,
                     .service = "cli",
                     .instance = inst,
                     .clean_start = true,
                     .no_status = true};
    sb_bus *bus = NULL;
    sb_err rc = sb_bus_create(&o, &bus, em);
    char filter[300];
    if (rc == SB_OK)
        rc = sb_bus_topic(bus, filter, sizeof(filter), "status/+/+");
    if (rc == SB_OK)
        rc = sb_bus_subscribe(bus, filter, 1, on_status, c, em);
    if (rc == SB_OK)
        rc = sb_bus_start(bus, cfg->bus.connect_timeout_ms, em);
    int64_t start = sb_time_mono_ms();
    c->last_ms = start;
    while (rc == SB_OK) {
        sb_time_sleep_ms(20);
        pthread_mutex_lock(&c->mu);
        int64_t last = c->last_ms;
        pthread_mutex_unlock(&c->mu);
        int64_t now = sb_time_mono_ms();
        if (now - last > QUIET_MS || now - start > WAIT_MAX)
            break;
    }
    sb_bus_destroy(bus, 0);
    return rc;
}

static int report(const collect *c, const char *service, const char *instance)
{
    int bad = 0, found = 0;
    if (!service)
        printf("%-12s %-24s %-8s %-10s %s\n", "SERVICE", "INSTANCE", "STATUS", "VERSION",
               "STARTED");
    for (int i = 0; i < c->n; i++) {
        const seen *s = &c->items[i];
        bool online = strcmp(s->status, "online") == 0;
        if (service) {
            if (strcmp(s->service, service) != 0 || strcmp(s->instance, instance) != 0)
                continue;
            found++;
            printf("%s %s: %s\n", s->service, s->instance, s->status);
            bad += !online;
            continue;
        }
        if (strcmp(s->service, "cli") == 0)
            continue;
        found++;
        bad += !online;
        printf("%-12s %-24s %-8s %-10s %s\n", s->service, s->instance, s->status, s->version,
               s->started);
    }
    if (!found) {
        if (service)
            printf("%s %s: no status published\n", service, instance);
        else
            printf("(no service has published a status)\n");
        return 1;
    }
    return bad ? 1 : 0;
}

int sb_cmd_status(const char *config_path, int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: switchboard [-c FILE] status [SERVICE]\n");
        return 2;
    }
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    sb_err rc = sb_config_load(config_path, &cfg, &em);
    collect c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    if (rc == SB_OK) {
        c.prefix_len = strlen(cfg->bus.topic_prefix);
        rc = gather(cfg, &c, &em);
    }
    if (rc != SB_OK) {
        fprintf(stderr, "switchboard status: %s\n", sb_errmsg_str(&em, rc));
        sb_config_free(cfg);
        return 1;
    }
    char inst[128];
    int code = report(&c, argc == 2 ? argv[1] : NULL, sb_service_instance(cfg, inst, sizeof(inst)));
    sb_config_free(cfg);
    return code;
}
