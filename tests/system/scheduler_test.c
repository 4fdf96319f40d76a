/*
 * scheduler_test - the scheduler service against a real mosquitto and a sqlite store: handler
 * calls on <p>/handler/+ at the due times (cron every second, repeat with a count, validity
 * windows, on_date), the state it stores, and restarts (no replay; catchUp runs once).
 * The service runs on a thread of this process and is stopped and started again for restarts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"
#include "services/scheduler/scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sb_config *cfg;
static sb_store *store;
static sb_bus *bus;
static sb_stop_flag stop;
static pthread_t thr;
static bool running;

/* ---- handler calls seen on the bus ------------------------------------------------------ */

#define MAX_CALLS 256

typedef struct call {
    char handler[64], source[64];
    int64_t due, fired, received;
    bool catch_up;
    char msg[128]; /* parameters.msg */
} call;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static call calls[MAX_CALLS];
static int n_calls;

static void on_api_action(void *ctx, const sb_bus_msg *m);

static void on_handler(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    int64_t now = sb_time_now_ms();
    sb_handler_call hc;
    if (sb_handler_call_parse(m->payload, m->len, &hc, NULL) != SB_OK)
        return;
    call c = {.received = now};
    snprintf(c.handler, sizeof(c.handler), "%s", hc.id);
    snprintf(c.source, sizeof(c.source), "%s", hc.source);
    const char *due = sb_json_str(cJSON_GetObjectItem(hc.variables, "run"), "due", "");
    sb_time_parse(due, &c.due);
    sb_time_parse(sb_json_str(cJSON_GetObjectItem(hc.variables, "run"), "firedAt", ""), &c.fired);
    c.catch_up = sb_json_bool(cJSON_GetObjectItem(hc.variables, "run"), "catchUp", false);
    snprintf(c.msg, sizeof(c.msg), "%s", sb_json_str(hc.parameters, "msg", ""));
    sb_handler_call_free(&hc);
    pthread_mutex_lock(&mu);
    if (n_calls < MAX_CALLS)
        calls[n_calls++] = c;
    pthread_mutex_unlock(&mu);
}

/* The calls from schedule id (source "schedule:<id>") into out (may be NULL); their number. */
static int calls_of(const char *id, call *out, int max)
{
    char source[80];
    snprintf(source, sizeof(source), "schedule:%s", id);
    int n = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_calls; i++)
        if (strcmp(calls[i].source, source) == 0) {
            if (out && n < max)
                out[n] = calls[i];
            n++;
        }
    pthread_mutex_unlock(&mu);
    return n;
}

typedef struct want_calls {
    const char *id;
    int n;
} want_calls;

static bool enough_calls(void *ctx)
{
    want_calls *w = ctx;
    return calls_of(w->id, NULL, 0) >= w->n;
}

static void wait_calls(const char *id, int n, int64_t timeout_ms)
{
    want_calls w = {id, n};
    if (!sbt_wait(enough_calls, &w, timeout_ms))
        fail_msg("schedule '%s': %d handler calls after %lld ms, want %d", id,
                 calls_of(id, NULL, 0), (long long)timeout_ms, n);
}

/* ---- the service ------------------------------------------------------------------------ */

static void *run_scheduler(void *arg)
{
    (void)arg;
    sb_scheduler_run(cfg, &stop);
    return NULL;
}

static void start_scheduler(void)
{
    sb_stop_init(&stop);
    assert_int_equal(pthread_create(&thr, NULL, run_scheduler, NULL), 0);
    running = true;
}

static void stop_scheduler(void)
{
    if (!running)
        return;
    sb_stop_raise(&stop);
    pthread_join(thr, NULL);
    sb_stop_destroy(&stop);
    running = false;
}

static void set_str(char **dst, const char *value)
{
    free(*dst);
    *dst = strdup(value);
}

static int setup(void **state)
{
    (void)state;
    sb_broker *broker = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("scheduler");
    char path[1024];
    if (sb_config_defaults(&cfg, NULL) != SB_OK)
        return 1;
    set_str(&cfg->data_dir, dir);
    set_str(&cfg->instance, "s1");
    set_str(&cfg->bus.url, broker->url);
    set_str(&cfg->bus.topic_prefix, "sbtest");
    cfg->bus.managed = false;
    cfg->bus.reconnect_min_ms = 50;
    cfg->bus.reconnect_max_ms = 500;
    cfg->storage.type = SB_STORE_SQLITE;
    snprintf(path, sizeof(path), "%s/sb.db", dir);
    set_str(&cfg->storage.sqlite.path, path);
    cfg->metrics.managed = false;
    set_str(&cfg->site.timezone, "UTC");
    set_str(&cfg->site.location, "52.52,13.405");
    if (getenv("SB_TEST_DEBUG"))
        sb_log_set_level(SB_LOG_DEBUG);
    if (sb_store_open(cfg, &store, NULL) != SB_OK)
        return 1;
    static sb_config_bus bc; /* the bus borrows it for its lifetime */
    sbt_bus_config(&bc);
    bus = sbt_bus(&bc, "schedtest", "t1", true);
    if (sb_bus_subscribe(bus, "sbtest/handler/+", 1, on_handler, NULL, NULL) != SB_OK ||
        sb_bus_subscribe(bus, "sbtest/ctl/api/action", 1, on_api_action, NULL, NULL) != SB_OK)
        return 1;
    start_scheduler();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_scheduler();
    sb_bus_destroy(bus, 500);
    sb_store_close(store);
    sb_config_free(cfg);
    sbt_broker_stop();
    return 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* Stores a schedule document and publishes its event, as the API does. */
static void put_schedule(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    if (!doc)
        fail_msg("bad test JSON: %s", json);
    sb_errmsg em = {{0}};
    if (sb_store_put(store, "schedule", doc, &em) != SB_OK)
        fail_msg("put: %s", em.text);
    assert_int_equal(
        sb_event_publish(bus, "updated", "schedule", sb_json_str(doc, "id", ""), NULL, doc), SB_OK);
    cJSON_Delete(doc);
}

static cJSON *get_schedule(const char *id);

/* Turns a schedule on or off the way the API's enable/disable does (state kept). */
static void set_enabled(const char *id, bool on)
{
    cJSON *doc = get_schedule(id);
    sb_json_set_bool(doc, "enabled", on);
    char *text = cJSON_PrintUnformatted(doc);
    put_schedule(text);
    free(text);
    cJSON_Delete(doc);
}

static cJSON *get_schedule(const char *id)
{
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    if (sb_store_get(store, "schedule", id, &doc, &em) != SB_OK)
        fail_msg("schedule %s: %s", id, em.text);
    return doc;
}

static const char *want_id, *want_status;

static bool has_status(void *ctx)
{
    (void)ctx;
    cJSON *doc = get_schedule(want_id);
    bool ok =
        strcmp(sb_json_str(cJSON_GetObjectItem(doc, "state"), "status", ""), want_status) == 0;
    cJSON_Delete(doc);
    return ok;
}

/* Waits for the schedule's stored state.status; returns the document (caller frees). */
static cJSON *wait_status(const char *id, const char *status)
{
    want_id = id;
    want_status = status;
    if (!sbt_wait(has_status, NULL, 5000)) {
        cJSON *doc = get_schedule(id);
        char *text = cJSON_PrintUnformatted(doc);
        fail_msg("schedule %s: want status %s, have %s", id, status, text);
    }
    return get_schedule(id);
}

static int64_t state_ms(const cJSON *doc, const char *key)
{
    int64_t ms = 0;
    const char *t = sb_json_str(cJSON_GetObjectItem(doc, "state"), key, NULL);
    return t && sb_time_parse(t, &ms) == SB_OK ? ms : 0;
}

/* The next whole second at least lead_ms from now. */
static int64_t whole_second(int64_t lead_ms)
{
    int64_t t = sb_time_now_ms() + lead_ms;
    return (t / 1000 + 1) * 1000;
}

/* "HH:MM:SS" and "YYYY-MM-DD" of ms in UTC. */
static void utc_tod(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
}

static void utc_date(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Every second for N seconds: N calls (+-1), each within 100 ms of its due time, never twice. */
static void test_cron_every_second(void **state)
{
    (void)state;
    put_schedule("{\"id\":\"c1\",\"enabled\":true,\"type\":\"cron\","
                 "\"spec\":{\"expression\":\"* * * * * *\"},\"handlers\":[\"h1\",\"h2\"],"
                 "\"handlerParameters\":{\"msg\":\"run {{ run.count }} of {{ schedule.id }}\"}}");
    wait_calls("c1", 2, 3000); /* one run, both handlers */
    int64_t t0 = sb_time_now_ms();
    int before = calls_of("c1", NULL, 0);
    const int seconds = 4;
    sb_time_sleep_ms(seconds * 1000);
    int runs = (calls_of("c1", NULL, 0) - before) / 2;
    int64_t elapsed = sb_time_now_ms() - t0;
    set_enabled("c1", false);
    if (runs < seconds - 1 || runs > seconds + 1)
        fail_msg("%d runs in %lld ms, want %d +-1", runs, (long long)elapsed, seconds);
    sb_time_sleep_ms(300); /* a run already under way when it was disabled */
    int n = calls_of("c1", NULL, 0);
    call *got = calloc((size_t)n, sizeof(*got));
    calls_of("c1", got, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(got[i].due % 1000, 0);
        /* the service's promise is its own firing time; the bus hop adds to the receipt */
        if (got[i].fired < got[i].due || got[i].fired - got[i].due > 100)
            fail_msg("call %d: fired %lld ms after its due time", i,
                     (long long)(got[i].fired - got[i].due));
        if (got[i].received - got[i].due > 1000)
            fail_msg("call %d: received %lld ms after its due time", i,
                     (long long)(got[i].received - got[i].due));
        /* handlers h1 and h2 of one run share the due time; runs never repeat one */
        if (i >= 2 && got[i].due <= got[i - 2].due)
            fail_msg("due time %lld seen twice", (long long)got[i].due);
    }
    assert_string_equal(got[0].msg, "run 1 of c1");
    assert_string_equal(got[0].handler, "h1");
    assert_string_equal(got[1].handler, "h2");
    char want[64];
    snprintf(want, sizeof(want), "run %d of c1", n / 2);
    assert_string_equal(got[n - 1].msg, want);
    int64_t got_last_due = got[n - 1].due;
    free(got);
    sb_time_sleep_ms(1200);
    assert_int_equal(calls_of("c1", NULL, 0), n); /* disabled: no more runs */
    cJSON *doc = wait_status("c1", "disabled");   /* no next run; the record stays */
    assert_int_equal((int)sb_json_num(cJSON_GetObjectItem(doc, "state"), "runCount", 0), n / 2);
    assert_int_equal(state_ms(doc, "nextRun"), 0);
    assert_int_equal(state_ms(doc, "lastRun"), got_last_due);
    cJSON_Delete(doc);
}

/* repeat with a count: that many runs, then completed. */
static void test_repeat_count(void **state)
{
    (void)state;
    cJSON *field = cJSON_Parse("{\"id\":\"gw1.n1.s1.V_TEMP\",\"gatewayId\":\"gw1\","
                               "\"current\":{\"value\":21.5}}");
    assert_int_equal(sb_store_put(store, "field", field, NULL), SB_OK);
    cJSON_Delete(field);
    /* variables: a field's value by quick id, a literal, a user (never read: stays text) */
    put_schedule("{\"id\":\"r3\",\"enabled\":true,\"type\":\"repeat\","
                 "\"spec\":{\"interval\":\"1s\",\"count\":3},\"handlers\":[\"h1\"],"
                 "\"variables\":{\"temp\":\"field:gw1.n1.s1.V_TEMP.current.value\","
                 "\"who\":\"hall\",\"u\":\"user:admin\"},"
                 "\"handlerParameters\":{\"msg\":\"{{ temp }} in {{ who }} {{ u }}\"}}");
    wait_calls("r3", 3, 5000);
    cJSON *doc = wait_status("r3", "completed");
    const cJSON *st = cJSON_GetObjectItem(doc, "state");
    assert_int_equal((int)sb_json_num(st, "runCount", 0), 3);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "nextRun")));
    assert_non_null(strstr(sb_json_str(st, "message", ""), "3 runs"));
    cJSON_Delete(doc);
    call got[3];
    calls_of("r3", got, 3);
    assert_string_equal(got[0].msg, "21.5 in hall user:admin");
    for (int i = 1; i < 3; i++) /* each a second after the previous */
        assert_true(llabs(got[i].due - got[i - 1].due - 1000) <= 1);
    sb_time_sleep_ms(1500);
    assert_int_equal(calls_of("r3", NULL, 0), 3);
}

/* A daily time range lets through only the runs inside it; a date range that ended, none. */
static void test_validity_window(void **state)
{
    (void)state;
    int64_t base = whole_second(1500); /* room for the reload on a busy machine */
    char start[SB_TIME_RFC3339_LEN], from[16], to[16], yesterday[16], json[1024];
    sb_time_format(base, start, sizeof(start));
    utc_tod(base + 2000, from, sizeof(from));
    utc_tod(base + 4000, to, sizeof(to));
    snprintf(json, sizeof(json),
             "{\"id\":\"v1\",\"enabled\":true,\"type\":\"repeat\","
             "\"spec\":{\"interval\":\"1s\",\"start\":\"%s\"},\"handlers\":[\"h1\"],"
             "\"validity\":{\"time\":{\"from\":\"%s\",\"to\":\"%s\"}}}",
             start, from, to);
    put_schedule(json);
    utc_date(sb_time_now_ms() - 86400000, yesterday, sizeof(yesterday));
    /* MyController's form of the window: {enabled, date {from, to}, time} */
    snprintf(json, sizeof(json),
             "{\"id\":\"v2\",\"enabled\":true,\"type\":\"repeat\","
             "\"spec\":{\"interval\":\"1s\"},\"handlers\":[\"h1\"],"
             "\"validity\":{\"enabled\":true,\"date\":{\"from\":\"2020-01-01\",\"to\":\"%s\"}}}",
             yesterday);
    put_schedule(json);
    cJSON *doc = wait_status("v2", "completed");
    assert_non_null(strstr(sb_json_str(cJSON_GetObjectItem(doc, "state"), "message", ""),
                           "validity period has ended"));
    cJSON_Delete(doc);
    sb_time_sleep_ms(base + 5500 - sb_time_now_ms());
    call got[8];
    int n = calls_of("v1", got, 8);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].due, base + 2000);
    assert_int_equal(got[1].due, base + 3000);
    doc = get_schedule("v1"); /* the next run is the window's start tomorrow */
    assert_int_equal(state_ms(doc, "nextRun"), base + 2000 + 86400000);
    cJSON_Delete(doc);
    assert_int_equal(calls_of("v2", NULL, 0), 0);
}

static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;
static char api_actions[4096]; /* what the scheduler asked the API, one request per line */

static void on_api_action(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    pthread_mutex_lock(&api_mu);
    size_t n = strlen(api_actions);
    snprintf(api_actions + n, sizeof(api_actions) - n, "%.*s\n", (int)m->len,
             (const char *)m->payload);
    pthread_mutex_unlock(&api_mu);
}

static bool api_asked(void *want)
{
    pthread_mutex_lock(&api_mu);
    bool found = strstr(api_actions, want) != NULL;
    pthread_mutex_unlock(&api_mu);
    return found;
}

/* An on_date schedule runs once, completes, asks the API to disable it, and stays completed
 * after a restart. */
static void test_on_date(void **state)
{
    (void)state;
    int64_t due = whole_second(2000);
    char date[16], tod[16], json[512];
    utc_date(due, date, sizeof(date));
    utc_tod(due, tod, sizeof(tod));
    snprintf(json, sizeof(json),
             "{\"id\":\"d1\",\"enabled\":true,\"type\":\"simple\","
             "\"spec\":{\"frequency\":\"on_date\",\"date\":\"%s\",\"time\":\"%s\"},"
             "\"handlers\":[\"h1\"]}",
             date, tod);
    put_schedule(json);
    wait_calls("d1", 1, 4000);
    call got;
    calls_of("d1", &got, 1);
    assert_int_equal(got.due, due);
    cJSON *doc = wait_status("d1", "completed");
    assert_int_equal(state_ms(doc, "lastRun"), due);
    assert_true(sb_json_bool(doc, "enabled", false)); /* the API's key: only the API writes it */
    assert_true(
        sbt_wait(api_asked, "[{\"resource\":\"schedule:d1\",\"payload\":\"disable\"}]", 3000));
    cJSON_Delete(doc);
    stop_scheduler();
    start_scheduler();
    sb_time_sleep_ms(1000);
    assert_int_equal(calls_of("d1", NULL, 0), 1);
    doc = wait_status("d1", "completed");
    cJSON_Delete(doc);
}

/*
 * Restarts: runs missed while the service was down are not replayed, unless catchUp, which
 * runs once; a schedule running through a restart never repeats a due time.
 */
static void test_restart(void **state)
{
    (void)state;
    put_schedule("{\"id\":\"p1\",\"enabled\":true,\"type\":\"cron\","
                 "\"spec\":{\"expression\":\"* * * * * *\"},\"handlers\":[\"h1\"]}");
    wait_calls("p1", 2, 4000);
    stop_scheduler();
    sb_time_sleep_ms(300); /* calls published before the stop are still on their way */
    int before = calls_of("p1", NULL, 0);
    int64_t down_at = sb_time_now_ms();
    /* While down: two daily schedules whose last run was two days ago (both missed). */
    int64_t at = sb_time_now_ms() + 6 * 3600 * 1000;
    char tod[16], last[SB_TIME_RFC3339_LEN], json[1024];
    utc_tod(at, tod, sizeof(tod));
    sb_time_format(sb_time_now_ms() - 2 * 86400000, last, sizeof(last));
    for (int i = 0; i < 2; i++) {
        snprintf(json, sizeof(json),
                 "{\"id\":\"m%d\",\"enabled\":true,\"catchUp\":%s,\"type\":\"simple\","
                 "\"spec\":{\"frequency\":\"daily\",\"time\":\"%s\"},\"handlers\":[\"h1\"],"
                 "\"state\":{\"status\":\"ok\",\"lastRun\":\"%s\",\"runCount\":5}}",
                 i + 1, i ? "true" : "false", tod, last);
        cJSON *doc = cJSON_Parse(json);
        assert_int_equal(sb_store_put(store, "schedule", doc, NULL), SB_OK);
        cJSON_Delete(doc);
    }
    sb_time_sleep_ms(1500);
    start_scheduler();
    wait_calls("m2", 1, 3000);
    wait_calls("p1", before + 2, 4000);
    sb_time_sleep_ms(1000);
    assert_int_equal(calls_of("m1", NULL, 0), 0);
    assert_int_equal(calls_of("m2", NULL, 0), 1);
    call got[MAX_CALLS];
    calls_of("m2", got, 1);
    assert_true(got[0].catch_up);
    int n = calls_of("p1", got, MAX_CALLS);
    for (int i = 1; i < n; i++)
        if (got[i].due <= got[i - 1].due)
            fail_msg("p1: due time %lld after %lld", (long long)got[i].due,
                     (long long)got[i - 1].due);
    for (int i = before; i < n; i++) /* nothing from the time it was down */
        assert_true(got[i].due > down_at + 1000);
    for (int i = 1; i <= 2; i++) {
        char id[8];
        snprintf(id, sizeof(id), "m%d", i);
        cJSON *doc = get_schedule(id);
        int64_t next = state_ms(doc, "nextRun");
        assert_true(next > sb_time_now_ms() && next <= at + 1000);
        assert_int_equal((int)sb_json_num(cJSON_GetObjectItem(doc, "state"), "runCount", 0),
                         i == 1 ? 5 : 6);
        cJSON_Delete(doc);
    }
    set_enabled("p1", false);
}

/* A bad spec is an error in the schedule's state, and the service goes on. */
static void test_bad_spec(void **state)
{
    (void)state;
    put_schedule("{\"id\":\"b1\",\"enabled\":true,\"type\":\"cron\","
                 "\"spec\":{\"expression\":\"* * 25 * * *\"},\"handlers\":[\"h1\"]}");
    cJSON *doc = wait_status("b1", "error");
    assert_non_null(strstr(sb_json_str(cJSON_GetObjectItem(doc, "state"), "message", ""),
                           "cron field 'hours'"));
    cJSON_Delete(doc);
    put_schedule("{\"id\":\"b2\",\"enabled\":true,\"type\":\"sunset\","
                 "\"spec\":{\"offset\":\"-30m\"},\"handlers\":[\"h1\"]}");
    doc = wait_status("b2", "ok"); /* the configured location */
    assert_true(state_ms(doc, "nextRun") > sb_time_now_ms());
    cJSON_Delete(doc);
}

/*
 * The settings entity overrides the configured zone and location (every next run recomputed on
 * its event); <p>/ctl/scheduler/reload reloads and replies with what happened.
 */
static void test_settings_and_ctl(void **state)
{
    (void)state;
    put_schedule("{\"id\":\"s1\",\"enabled\":true,\"type\":\"sunrise\","
                 "\"spec\":{\"offset\":\"-30m\"},\"handlers\":[\"h1\"]}");
    cJSON *doc = wait_status("s1", "ok");
    int64_t berlin = state_ms(doc, "nextRun");
    cJSON_Delete(doc);
    cJSON *settings = cJSON_Parse("{\"id\":\"system\",\"spec\":{\"geoLocation\":{"
                                  "\"latitude\":-33.8688,\"longitude\":151.2093},"
                                  "\"timezone\":\"Australia/Sydney\"}}");
    assert_int_equal(sb_store_put(store, "settings", settings, NULL), SB_OK);
    assert_int_equal(sb_event_publish(bus, "updated", "settings", "system", NULL, settings), SB_OK);
    cJSON_Delete(settings);
    /* the same computation for Sydney (sun_test checks it against NOAA's equations) */
    cJSON *spec = cJSON_Parse("{\"type\":\"sunrise\",\"offset\":\"-30m\"}");
    sb_sched_ctx sydney = {.tz = "Australia/Sydney",
                           .has_location = true,
                           .latitude = -33.8688,
                           .longitude = 151.2093};
    int64_t want = 0, next = 0, end = sb_time_mono_ms() + 5000;
    assert_int_equal(sb_sched_next(spec, sb_time_now_ms(), &sydney, &want, NULL), SB_OK);
    cJSON_Delete(spec);
    assert_true(llabs(want - berlin) > 60000);
    while ((next = state_ms(doc = get_schedule("s1"), "nextRun")) != want) {
        cJSON_Delete(doc);
        if (sb_time_mono_ms() > end)
            fail_msg("s1: nextRun %lld, want Sydney's %lld", (long long)next, (long long)want);
        sb_time_sleep_ms(20);
    }
    cJSON_Delete(doc);

    char *reply = NULL;
    size_t len = 0;
    const char *req = "{\"id\":\"s1\"}";
    assert_int_equal(sb_bus_request(bus, "sbtest/ctl/scheduler/reload", req, strlen(req), 5000,
                                    &reply, &len, NULL),
                     SB_OK);
    cJSON *r = cJSON_Parse(reply);
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(r, "results"), "s1", ""), "unchanged");
    cJSON_Delete(r);
    free(reply);
    assert_int_equal(
        sb_bus_request(bus, "sbtest/ctl/scheduler/reload", "{}", 2, 5000, &reply, &len, NULL),
        SB_OK);
    r = cJSON_Parse(reply);
    const cJSON *results = cJSON_GetObjectItem(r, "results");
    assert_string_equal(sb_json_str(results, "s1", ""), "unchanged");
    assert_string_equal(sb_json_str(results, "c1", ""), "not running"); /* disabled */
    cJSON_Delete(r);
    free(reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cron_every_second), cmocka_unit_test(test_repeat_count),
        cmocka_unit_test(test_validity_window),   cmocka_unit_test(test_on_date),
        cmocka_unit_test(test_restart),           cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_settings_and_ctl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
