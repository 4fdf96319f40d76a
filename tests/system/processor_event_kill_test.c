/*
 * processor_event_kill_test - events are at least once: switchboard-processor kills itself
 * (SIGKILL) twice in a stream and is restarted each time, once right after a commit, before it
 * acknowledges the frames (SWITCHBOARD_TEST_KILL_AFTER_COMMIT), and once after the broker
 * acknowledged a group's events but before their commit (SWITCHBOARD_TEST_KILL_BEFORE_COMMIT:
 * the frames come again, so their events are published twice). Every value the producer sent
 * must reach a subscriber of the field events (a persistent session), and every duplicate must
 * carry the same value and timestamp as the first copy. Each item sets its own field once, so
 * the events are counted per field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include "core/json.h"
#include "core/msg.h"
#include "core/proc.h"
#include "core/stream.h"
#include "core/time.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 3000 };

static char conf[700], exe[1024], logpath[700];
static const char *fault_var; /* the fault point of the running test */

/* What the event subscriber saw of field fI: how often, and the first value and timestamp. */
typedef struct seen {
    pthread_mutex_t mu;
    int count[N];
    char first[N][64];
    int distinct, dups, mismatched, foreign;
} seen;

static seen ev = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void note(const cJSON *e)
{
    const char *id = sb_json_str(e, "entityId", "");
    const char *dot = strrchr(id, '.');
    const cJSON *cur = sb_json_path(e, "entity.current");
    int i = dot && dot[1] == 'f' ? atoi(dot + 2) : -1;
    if (i < 0 || i >= N || !cur) {
        ev.foreign++;
        return;
    }
    char vt[64];
    snprintf(vt, sizeof(vt), "%s@%s", sb_json_str(cur, "value", ""),
             sb_json_str(cur, "timestamp", ""));
    if (ev.count[i]++ == 0) {
        snprintf(ev.first[i], sizeof(ev.first[i]), "%s", vt);
        ev.distinct++;
    } else {
        ev.dups++;
        ev.mismatched += strcmp(ev.first[i], vt) != 0;
    }
}

static void on_event(void *ctx, const sb_bus_msg *bm)
{
    (void)ctx;
    cJSON *j = NULL;
    if (sb_json_parse(bm->payload, bm->len, &j, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&ev.mu);
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) note(e);
    } else {
        note(j);
    }
    pthread_mutex_unlock(&ev.mu);
    cJSON_Delete(j);
}

static bool all_seen(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&ev.mu);
    bool done = ev.distinct == N;
    pthread_mutex_unlock(&ev.mu);
    return done;
}

/* Starts the processor; kill_at > 0 makes it SIGKILL itself at that commit (fault_var). */
static void start(sb_proc *child, int kill_at)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", kill_at);
    if (kill_at > 0)
        setenv(fault_var, n, 1);
    const char *argv[] = {exe, "-c", conf, NULL};
    sb_errmsg em = {{0}};
    sb_err rc = sb_proc_spawn(child, argv, logpath, &em);
    unsetenv(fault_var);
    if (rc != SB_OK)
        fail_msg("%s", em.text);
}

static void add(sb_stream_producer *p, int i)
{
    char key[32], val[32];
    snprintf(key, sizeof(key), "f%d", i);
    snprintf(val, sizeof(val), "%d", i);
    sb_msg *m = sb_msg_new("gwe", "n1", "s1", SB_MSG_SET);
    sb_msg_add_payload(m, key, val, SB_METRIC_GAUGE, NULL);
    size_t len = 0;
    char *text = sb_msg_encode(m, &len);
    sb_msg_free(m);
    assert_non_null(text);
    sb_err rc;
    while ((rc = sb_stream_add_text(p, text, len)) == SB_ERR_FULL)
        sb_time_sleep_ms(2);
    free(text);
    assert_int_equal(rc, SB_OK);
}

/* Waits until the child has died by its own SIGKILL; false after timeout_ms. */
static bool died(sb_proc *child, int64_t timeout_ms)
{
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (sb_proc_alive(child, NULL))
        if (sb_time_mono_ms() > end)
            return false;
        else
            sb_time_sleep_ms(5);
    return true;
}

/* Sends N values while the processor dies twice at the fault point var; *dups gets the
 * duplicate events seen (all checked to be identical to the first copy). */
static void run(const char *var, const char *name, int *dups)
{
    fault_var = var;
    pthread_mutex_lock(&ev.mu);
    memset(ev.count, 0, sizeof(ev.count));
    ev.distinct = ev.dups = ev.mismatched = ev.foreign = 0;
    pthread_mutex_unlock(&ev.mu);
    sb_broker *b = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir(name);
    sbt_processor_files(dir, b->url, "evkill", conf, logpath, exe);

    static sb_config_bus bc; /* the bus keeps a pointer to it */
    sbt_bus_config(&bc);
    sb_bus *sub = sbt_bus(&bc, "events", "evkill", false); /* persistent session */
    assert_int_equal(sb_bus_subscribe(sub, "sbtest/event/field/#", 1, on_event, NULL, NULL), SB_OK);
    sb_bus *bus = sbt_bus(&bc, "producer", "evkill", true);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = bus,
                                 .stream = "gwe",
                                 .topic = "sbtest/msg/in/gwe",
                                 .batch_max = 40,
                                 .batch_delay_ms = 2,
                                 .resend_ms = 1000};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);

    /* two crashes right after a commit: the 5th of the first run, the 25th of the second */
    sb_proc child = {0};
    start(&child, 5);
    int round = 0;
    for (int i = 0; i < N; i++) {
        add(p, i);
        if (i % 2 == 0) /* ~1,000 values/s: many small commits, so the kills fall mid-stream */
            sb_time_sleep_ms(2);
        if (round < 2 && !sb_proc_alive(&child, NULL)) {
            round++;
            start(&child, round == 1 ? 25 : 0);
        }
    }
    for (int64_t end = sb_time_mono_ms() + 20000; round < 2 && sb_time_mono_ms() < end;) {
        if (died(&child, 100)) { /* a crash still to come while the tail is applied */
            round++;
            start(&child, round == 1 ? 25 : 0);
        }
    }
    assert_int_equal(round, 2);
    assert_int_equal(sb_stream_wait_acked(p, 30000), SB_OK);
    bool complete = sbt_wait(all_seen, NULL, 20000);
    pthread_mutex_lock(&ev.mu);
    print_message("events: %d of %d fields, %d duplicates (%d with another value or time), "
                  "%d other\n",
                  ev.distinct, N, ev.dups, ev.mismatched, ev.foreign);
    for (int i = 0, shown = 0; !complete && i < N && shown < 10; i++)
        if (!ev.count[i] && ++shown)
            print_message("no event for f%d\n", i);
    int mismatched = ev.mismatched;
    *dups = ev.dups;
    pthread_mutex_unlock(&ev.mu);
    assert_true(complete);
    assert_int_equal(mismatched, 0);

    sb_proc_stop(&child, SIGTERM, 3000);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(bus, 500);
    sb_bus_destroy(sub, 500);
    sbt_broker_stop();
}

static void test_events_survive_kill_after_commit(void **state)
{
    (void)state;
    int dups = 0;
    run("SWITCHBOARD_TEST_KILL_AFTER_COMMIT", "evkill", &dups);
}

/* Killed between the events' PUBACKs and the commit: the resent frames publish them again,
 * so duplicates must show up here (else the fault point missed) and be identical. */
static void test_events_repeat_identically_kill_before_commit(void **state)
{
    (void)state;
    int dups = 0;
    run("SWITCHBOARD_TEST_KILL_BEFORE_COMMIT", "evkill2", &dups);
    assert_true(dups > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_survive_kill_after_commit),
        cmocka_unit_test(test_events_repeat_identically_kill_before_commit)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
