#include "api_test_env.h"

#include "api_client.h"
#include "harness.h"

#include "core/json.h"
#include "core/time.h"
#include "services/api/api.h"
#include "services/processor/processor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static apit env;
static sb_config *cfg;
static sb_stop_flag stop;
static pthread_t thread;
static atomic_int port;
static sb_bus *bus;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *events; /* [{"topic":..,"event":..}] */
static char extra_yaml[1024];
/* The processor: node, source and field edits through the API need it (docs/api.md). */
static sb_stop_flag proc_stop;
static pthread_t proc_thread;
static bool proc_running;

const apit *apit_env(void)
{
    return &env;
}

static void on_listening(void *ctx, int p)
{
    (void)ctx;
    atomic_store(&port, p);
}

static void *run(void *arg)
{
    static const sb_api_hooks hooks = {.listening = on_listening};
    (void)arg;
    sb_log_thread_prefix("[api]");
    sb_api_run_with(cfg, &stop, &hooks);
    return NULL;
}

static void *run_processor(void *arg)
{
    (void)arg;
    sb_log_thread_prefix("[processor]");
    sb_processor_run_with(cfg, &proc_stop, NULL);
    return NULL;
}

static bool processor_online(void *ctx)
{
    (void)ctx;
    char *reply = NULL;
    /* An edit of nothing: answered 400 by a processor that is subscribed. */
    sb_err rc = sb_bus_request(bus, "sbtest/ctl/processor/edit", "{}", 2, 200, &reply, NULL, NULL);
    free(reply);
    return rc == SB_OK;
}

void apit_processor_start(void)
{
    if (proc_running)
        return;
    sb_stop_init(&proc_stop);
    pthread_create(&proc_thread, NULL, run_processor, NULL);
    proc_running = true;
    if (!sbt_wait(processor_online, NULL, 10000)) {
        fprintf(stderr, "api_test: the processor did not answer\n");
        exit(1);
    }
}

void apit_processor_stop(void)
{
    if (!proc_running)
        return;
    sb_stop_raise(&proc_stop);
    pthread_join(proc_thread, NULL);
    sb_stop_destroy(&proc_stop);
    proc_running = false;
}

static void on_event(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(m->payload, m->len, &j, NULL) != SB_OK)
        return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "topic", m->topic);
    cJSON_AddItemToObject(e, "event", j);
    pthread_mutex_lock(&mu);
    cJSON_AddItemToArray(events, e);
    pthread_mutex_unlock(&mu);
}

static bool listening(void *ctx)
{
    (void)ctx;
    return atomic_load(&port) > 0;
}

static void load_config(const sb_broker *broker)
{
    char yaml[4096];
    snprintf(env.data_dir, sizeof(env.data_dir), "%s", sbt_tmpdir("api-data"));
    snprintf(yaml, sizeof(yaml),
             "data_dir: %s\nsecret: %s\n"
             "bus:\n  url: %s\n  managed: false\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
             "api:\n  port: 0\n  body_limit: %d\n  token_lifetime: 1h\n  processor_timeout: 1s\n%s",
             env.data_dir, APIT_SECRET, broker->url, APIT_BODY_LIMIT, extra_yaml);
    sb_errmsg em = {{0}};
    if (sb_config_load_string(yaml, strlen(yaml), "api_test", &cfg, &em) != SB_OK) {
        fprintf(stderr, "api_test: %s\n", em.text);
        exit(1);
    }
}

void apit_start(void)
{
    sb_broker *broker = sbt_broker_start(NULL);
    load_config(broker);
    events = cJSON_CreateArray();
    static sb_config_bus bc; /* the bus keeps a pointer to it */
    sbt_bus_config(&bc);
    bus = sbt_bus(&bc, "apitest", "events", true);
    sb_bus_subscribe(bus, "sbtest/event/#", 1, on_event, NULL, NULL);
    sb_stop_init(&stop);
    pthread_create(&thread, NULL, run, NULL);
    if (!sbt_wait(listening, NULL, 10000)) {
        fprintf(stderr, "api_test: the service did not listen\n");
        exit(1);
    }
    env.port = atomic_load(&port);
    apic_init(env.port);
    apit_processor_start();
    char path[800], pw[64] = "";
    snprintf(path, sizeof(path), "%s/initial-admin-password", env.data_dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(pw, sizeof(pw), f)) {
        fprintf(stderr, "api_test: no %s\n", path);
        exit(1);
    }
    fclose(f);
    pw[strcspn(pw, "\n")] = '\0';
    long status = 0;
    const char *t = apit_login("admin", pw, &status);
    if (!t) {
        fprintf(stderr, "api_test: admin login: %ld\n", status);
        exit(1);
    }
    snprintf(env.admin_token, sizeof(env.admin_token), "%s", t);
    api_res r = apic_get("/api/user/profile", env.admin_token);
    snprintf(env.admin_id, sizeof(env.admin_id), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "id")));
    apic_free(&r);
}

void apit_stop(void)
{
    apit_processor_stop();
    sb_stop_raise(&stop);
    pthread_join(thread, NULL);
    apic_cleanup();
    sb_bus_destroy(bus, 0);
    sb_config_free(cfg);
    cJSON_Delete(events);
    sbt_broker_stop();
}

const char *apit_login(const char *user, const char *password, long *status)
{
    static char token[2048];
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "username", user);
    cJSON_AddStringToObject(b, "password", password);
    char *text = cJSON_PrintUnformatted(b);
    api_res r = apic_post("/api/user/login", NULL, text);
    free(text);
    cJSON_Delete(b);
    *status = r.status;
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "token"));
    bool ok = r.status == 200 && t;
    if (ok)
        snprintf(token, sizeof(token), "%s", t);
    apic_free(&r);
    return ok ? token : NULL;
}

void apit_events_clear(void)
{
    pthread_mutex_lock(&mu);
    while (cJSON_GetArraySize(events) > 0)
        cJSON_DeleteItemFromArray(events, 0);
    pthread_mutex_unlock(&mu);
}

static cJSON *find_event(const char *topic, const char *type)
{
    cJSON *e, *found = NULL;
    pthread_mutex_lock(&mu);
    cJSON_ArrayForEach(e, events)
    {
        cJSON *ev = cJSON_GetObjectItem(e, "event");
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "topic")), topic) == 0 &&
            strcmp(sb_json_str(ev, "type", ""), type) == 0) {
            found = cJSON_Duplicate(ev, true);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return found;
}

cJSON *apit_event_wait(const char *topic, const char *type)
{
    int64_t deadline = sb_time_mono_ms() + 5000;
    for (;;) {
        cJSON *ev = find_event(topic, type);
        if (ev || sb_time_mono_ms() > deadline)
            return ev;
        sb_time_sleep_ms(5);
    }
}

sb_bus *apit_bus(void)
{
    return bus;
}

void apit_record(const char *filter)
{
    sb_bus_subscribe(bus, filter, 1, on_event, NULL, NULL);
    /* The subscription is made in the background: a probe on a matching topic comes back once
     * it is active, so what the test triggers next cannot slip past it. */
    char topic[256];
    snprintf(topic, sizeof(topic), "%s", filter);
    size_t n = strlen(topic);
    if (n && (topic[n - 1] == '#' || topic[n - 1] == '+'))
        snprintf(topic + n - 1, sizeof(topic) - (n - 1), "%s", "_probe");
    if (strchr(topic, '+') || strchr(topic, '#'))
        return;
    static const char probe[] = "{\"type\":\"_probe\"}";
    for (int i = 0; i < 50; i++) {
        sb_bus_publish(bus, topic, probe, sizeof(probe) - 1, 1, false);
        cJSON *ev = find_event(topic, "_probe");
        int64_t until = sb_time_mono_ms() + 100;
        while (!ev && sb_time_mono_ms() < until) {
            sb_time_sleep_ms(5);
            ev = find_event(topic, "_probe");
        }
        if (ev) {
            cJSON_Delete(ev);
            return;
        }
    }
}

void apit_extra_yaml(const char *yaml)
{
    snprintf(extra_yaml, sizeof(extra_yaml), "%s", yaml);
}
