/*
 * processor_scaleout_test - two switchboard-processor processes (instances "pa" and "pb")
 * share one sqlite store and split eight gateway streams between them (docs/scaling.md). In
 * the middle of the stream "pb" is killed with SIGKILL: "pa" takes its gateways over when the
 * broker publishes pb's last will. Later pb is started again and takes its gateways back while
 * pa still runs (the hand-over window), and is finally frozen with SIGSTOP until pa has taken
 * over, then woken up (split brain). After each phase every message must have been applied
 * exactly once and, per node, in order:
 *
 *   message k of a node sets u<k> = "k"        (created once: a second apply leaves "previous")
 *                        o<k> = "before"
 *                        o<k-1> = "after"      (so o<k-1> must end as before -> after)
 *                        seq = "k"             (the node's last value)
 *
 * A lost message shows as a missing u<k>, a duplicate as a u<k> with "previous", a reorder as
 * an o<k> whose current value is "before" although a later message exists.
 *
 * test_fenced_commit checks the hand-over fence on its own: a commit whose stored stream
 * position moved under it (another instance committed the frame) fails and is not applied.
 * test_silent_member_expires: a member whose status stops coming loses its gateways.
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
#include "services/processor/partition.h"
#include "storage/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GWS = 8, NODES = 2, PHASE1 = 1600, PHASE2 = 800 };

static const char *const inst[2] = {"pa", "pb"};
static char conf[2][700], logpath[2][700], exe[1024];
static sb_proc child[2];
static int sent[GWS][NODES]; /* messages sent per node */

/* Frames applied by each instance, from its status (stats.processor.framesIn). */
static pthread_mutex_t smu = PTHREAD_MUTEX_INITIALIZER;
static double frames_in[2], foreign_in[2], commit_fail[2];
static bool online[2];

static void on_status(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    cJSON *d = NULL;
    if (sb_json_parse(m->payload, m->len, &d, NULL) != SB_OK)
        return;
    for (int i = 0; i < 2; i++) {
        if (strcmp(sb_json_str(d, "instance", ""), inst[i]) != 0)
            continue;
        const cJSON *pr = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "stats"), "processor");
        pthread_mutex_lock(&smu);
        online[i] = strcmp(sb_json_str(d, "status", ""), "online") == 0;
        if (pr) {
            frames_in[i] = sb_json_num(pr, "framesIn", 0);
            foreign_in[i] = sb_json_num(pr, "foreignFrames", 0);
            commit_fail[i] = sb_json_num(pr, "commitFailures", 0);
        }
        pthread_mutex_unlock(&smu);
    }
    cJSON_Delete(d);
}

static bool both_online(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&smu);
    bool ok = online[0] && online[1];
    pthread_mutex_unlock(&smu);
    return ok;
}

static double stat_of(double *v, int i)
{
    pthread_mutex_lock(&smu);
    double x = v[i];
    pthread_mutex_unlock(&smu);
    return x;
}

static void start(int i)
{
    const char *argv[] = {exe, "-c", conf[i], NULL};
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&child[i], argv, logpath[i], &em) != SB_OK)
        fail_msg("%s", em.text);
}

static void gw_name(int g, char *buf, size_t len)
{
    snprintf(buf, len, "gs%d", g);
}

static void add_payload(sb_msg *m, const char *key, const char *val)
{
    assert_non_null(sb_msg_add_payload(m, key, val, SB_METRIC_STRING, NULL));
}

/* Sends the next message of node n of gateway g. */
static void send_next(sb_stream_producer *p, int g, int n)
{
    char gw[16], node[16], k[32], prev[32], num[32];
    gw_name(g, gw, sizeof(gw));
    snprintf(node, sizeof(node), "n%d", n);
    int seq = ++sent[g][n];
    sb_msg *m = sb_msg_new(gw, node, "s1", SB_MSG_SET);
    snprintf(k, sizeof(k), "u%d", seq);
    snprintf(num, sizeof(num), "%d", seq);
    add_payload(m, k, num);
    snprintf(k, sizeof(k), "o%d", seq);
    add_payload(m, k, "before");
    if (seq > 1) {
        snprintf(prev, sizeof(prev), "o%d", seq - 1);
        add_payload(m, prev, "after");
    }
    add_payload(m, "seq", num);
    cJSON *j = sb_msg_to_json(m);
    sb_msg_free(m);
    sb_err rc;
    while ((rc = sb_stream_add(p, cJSON_Duplicate(j, true))) == SB_ERR_FULL)
        sb_time_sleep_ms(2);
    cJSON_Delete(j);
    assert_int_equal(rc, SB_OK);
}

static void write_conf(int i, const char *dir, const char *url)
{
    snprintf(conf[i], sizeof(conf[i]), "%s/%s.yaml", dir, inst[i]);
    snprintf(logpath[i], sizeof(logpath[i]), "%s/%s.log", dir, inst[i]);
    FILE *f = fopen(conf[i], "w");
    assert_non_null(f);
    fprintf(f,
            "data_dir: %s/%s\ninstance: %s\nlog:\n  level: info\n"
            "bus:\n  managed: false\n  url: %s\n  topic_prefix: sbtest\n  reconnect_min: 50ms\n"
            "  keepalive: 1s\n  status_interval: 300ms\n"
            "storage:\n  type: sqlite\n  sqlite:\n    path: %s/shared.db\n"
            "metrics:\n  type: none\n  managed: false\n",
            dir, inst[i], inst[i], url, dir);
    fclose(f);
}

/* Reads field id's current and previous values ("" when absent); false when no such field. */
static bool field(sb_store *s, const char *id, char *cur, char *prev, size_t len)
{
    cJSON *d = NULL;
    if (sb_store_get(s, "field", id, &d, NULL) != SB_OK)
        return false;
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "current"), "value");
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "previous"), "value");
    snprintf(cur, len, "%s", cJSON_IsString(c) ? c->valuestring : "");
    snprintf(prev, len, "%s", cJSON_IsString(p) ? p->valuestring : "");
    cJSON_Delete(d);
    return true;
}

/* Every message of every node applied exactly once and in order. */
static void verify(sb_store *s)
{
    char id[96], cur[32], prev[32], want[32];
    int missing = 0, twice = 0, reordered = 0;
    for (int g = 0; g < GWS; g++) {
        for (int n = 0; n < NODES; n++) {
            int last = sent[g][n];
            for (int k = 1; k <= last; k++) {
                snprintf(id, sizeof(id), "gs%d.n%d.s1.u%d", g, n, k);
                snprintf(want, sizeof(want), "%d", k);
                if (!field(s, id, cur, prev, sizeof(cur)) || strcmp(cur, want) != 0)
                    missing++;
                else if (prev[0])
                    twice++;
                snprintf(id, sizeof(id), "gs%d.n%d.s1.o%d", g, n, k);
                bool have = field(s, id, cur, prev, sizeof(cur));
                if (k < last && (!have || strcmp(cur, "after") != 0 || strcmp(prev, "before")))
                    reordered++;
                if (k == last && (!have || strcmp(cur, "before") != 0 || prev[0]))
                    reordered++;
            }
            snprintf(id, sizeof(id), "gs%d.n%d.s1.seq", g, n);
            snprintf(want, sizeof(want), "%d", last);
            assert_true(field(s, id, cur, prev, sizeof(cur)));
            assert_string_equal(cur, want);
        }
    }
    print_message("missing %d, applied twice %d, out of order %d\n", missing, twice, reordered);
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 0);
    assert_int_equal(reordered, 0);
}

static int64_t pos_seq(sb_store *s, const char *gw)
{
    cJSON *d = NULL;
    if (sb_store_get(s, "_stream", gw, &d, NULL) != SB_OK)
        return 0;
    int64_t seq = (int64_t)sb_json_num(d, "seq", 0);
    cJSON_Delete(d);
    return seq;
}

/* Sends count messages round-robin over the gateways and nodes; after kill_at of them sends
 * sig to instance 1 (pb) once it has committed frames of its own gateways. */
static int send_phase(sb_stream_producer **p, int count, int kill_at, sb_store *s, int pb_gw,
                      int sig)
{
    char gw[16];
    gw_name(pb_gw, gw, sizeof(gw));
    int killed_at = -1;
    for (int i = 0; i < count; i++) {
        int g = i % GWS, n = (i / GWS) % NODES;
        send_next(p[g], g, n);
        if (i % 4 == 3)
            sb_time_sleep_ms(1);
        if (kill_at >= 0 && killed_at < 0 && i >= kill_at && pos_seq(s, gw) >= 3) {
            kill(child[1].pid, sig); /* frames in flight, in its queue, uncommitted */
            if (sig == SIGKILL)
                sb_proc_alive(&child[1], NULL);
            killed_at = i;
        }
    }
    return killed_at;
}

static void test_two_instances_kill_and_rejoin(void **state)
{
    (void)state;
    sb_broker *b = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("scaleout");
    const char *bd = getenv("SB_BUILD_DIR");
    snprintf(exe, sizeof(exe), "%s/services/processor/switchboard-processor", bd ? bd : ".");
    for (int i = 0; i < 2; i++)
        write_conf(i, dir, b->url);

    /* both instances must own some gateways for the test to mean anything */
    int owned[2] = {0}, pb_gw = -1;
    for (int g = 0; g < GWS; g++) {
        char gw[16];
        gw_name(g, gw, sizeof(gw));
        int o = strcmp(sb_partition_owner(gw, inst, 2), "pb") == 0;
        owned[o]++;
        if (o && pb_gw < 0)
            pb_gw = g;
    }
    print_message("gateways owned: pa %d, pb %d\n", owned[0], owned[1]);
    assert_true(owned[0] > 0 && owned[1] > 0);

    static sb_config_bus bc; /* the bus keeps a pointer to it */
    sbt_bus_config(&bc);
    sb_bus *bus = sbt_bus(&bc, "producer", "scaleout", true);
    assert_int_equal(sb_bus_subscribe(bus, "sbtest/status/processor/+", 1, on_status, NULL, NULL),
                     SB_OK);
    start(0);
    start(1);
    assert_true(sbt_wait(both_online, NULL, 10000));
    sb_time_sleep_ms(800); /* each has seen the other (their workers wait for that at start) */

    sb_stream_producer *p[GWS];
    char topics[GWS][64], names[GWS][16];
    for (int g = 0; g < GWS; g++) {
        gw_name(g, names[g], sizeof(names[g]));
        snprintf(topics[g], sizeof(topics[g]), "sbtest/msg/in/%s", names[g]);
        sb_stream_producer_opts o = {.bus = bus,
                                     .stream = names[g],
                                     .topic = topics[g],
                                     .batch_max = 20,
                                     .batch_delay_ms = 2,
                                     .resend_ms = 1000};
        assert_int_equal(sb_stream_producer_create(&o, &p[g], NULL), SB_OK);
    }
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_load(conf[0], &cfg, NULL), SB_OK);
    sb_store *s = NULL;
    assert_int_equal(sb_store_open(cfg, &s, NULL), SB_OK);

    /* phase 1: both run, then pb is killed mid-stream; pa must take its gateways over */
    int64_t t0 = sb_time_mono_ms();
    int killed_at = send_phase(p, PHASE1, PHASE1 / 3, s, pb_gw, SIGKILL);
    assert_true(killed_at >= 0);
    for (int g = 0; g < GWS; g++)
        assert_int_equal(sb_stream_wait_acked(p[g], 20000), SB_OK);
    print_message("phase 1: pb killed after message %d; all acknowledged %lld ms after start\n",
                  killed_at, (long long)(sb_time_mono_ms() - t0));
    verify(s);
    assert_true(stat_of(frames_in, 0) > 0);

    /* phase 2: pb comes back and takes its gateways back from a running pa */
    pthread_mutex_lock(&smu);
    online[1] = false;
    frames_in[1] = 0;
    pthread_mutex_unlock(&smu);
    start(1);
    assert_true(sbt_wait(both_online, NULL, 10000));
    t0 = sb_time_mono_ms(); /* no pause: frames arrive while the two hand the gateways over */
    send_phase(p, PHASE2, -1, s, pb_gw, 0);
    for (int g = 0; g < GWS; g++)
        assert_int_equal(sb_stream_wait_acked(p[g], 20000), SB_OK);
    print_message("phase 2: all acknowledged %lld ms after start\n",
                  (long long)(sb_time_mono_ms() - t0));
    verify(s);
    sb_time_sleep_ms(700); /* a fresh status */
    print_message("frames applied by pb after its restart: %.0f\n", stat_of(frames_in, 1));
    assert_true(stat_of(frames_in, 1) > 0); /* it did take its share back */
    /* and each ignored the other's gateways */
    assert_true(stat_of(foreign_in, 0) > 0 && stat_of(foreign_in, 1) > 0);

    /* phase 3: split brain. pb freezes (SIGSTOP) with frames in its queue; the broker drops it
     * after 1.5 keepalives and publishes its will, pa takes over; then pb wakes up still
     * believing it owns its gateways and commits what it holds: the fence must refuse that */
    t0 = sb_time_mono_ms();
    int stopped_at = send_phase(p, PHASE2, PHASE2 / 4, s, pb_gw, SIGSTOP);
    assert_true(stopped_at >= 0);
    sb_time_sleep_ms(4000);
    send_phase(p, PHASE2 / 2, -1, s, pb_gw, 0); /* pa applies pb's gateways now */
    kill(child[1].pid, SIGCONT);
    send_phase(p, PHASE2 / 2, -1, s, pb_gw, 0);
    for (int g = 0; g < GWS; g++)
        assert_int_equal(sb_stream_wait_acked(p[g], 20000), SB_OK);
    print_message("phase 3: pb frozen after message %d; all acknowledged %lld ms after start\n",
                  stopped_at, (long long)(sb_time_mono_ms() - t0));
    verify(s);

    for (int i = 0; i < 2; i++)
        sb_proc_stop(&child[i], SIGTERM, 3000);
    for (int g = 0; g < GWS; g++)
        sb_stream_producer_destroy(p[g]);
    sb_bus_destroy(bus, 500);
    sb_store_close(s);
    sb_config_free(cfg);
    sbt_broker_stop();
}

/* Sends message k of gateway "gf" (field m<k> = k) as its own frame and waits for the ack. */
static void send_fenced(sb_stream_producer *p, int k)
{
    char key[16], val[16];
    snprintf(key, sizeof(key), "m%d", k);
    snprintf(val, sizeof(val), "%d", k);
    sb_msg *m = sb_msg_new("gf", "n0", "s1", SB_MSG_SET);
    assert_non_null(sb_msg_add_payload(m, key, val, SB_METRIC_STRING, NULL));
    assert_int_equal(sb_stream_add(p, sb_msg_to_json(m)), SB_OK);
    sb_msg_free(m);
    assert_int_equal(sb_stream_flush(p), SB_OK);
    assert_int_equal(sb_stream_wait_acked(p, 10000), SB_OK);
}

static bool has_field(sb_store *s, int k)
{
    char id[64], cur[32], prev[32];
    snprintf(id, sizeof(id), "gf.n0.s1.m%d", k);
    return field(s, id, cur, prev, sizeof(cur));
}

/*
 * The commit fence: another instance (simulated by writing the stored position) commits frame
 * 6 while this one applies it too. This one's commit must fail instead of applying frame 6 a
 * second time; it reloads the position, asks for a resend after it and goes on with frame 7.
 */
static void test_fenced_commit(void **state)
{
    (void)state;
    sb_broker *b = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("fence");
    const char *bd = getenv("SB_BUILD_DIR");
    snprintf(exe, sizeof(exe), "%s/services/processor/switchboard-processor", bd ? bd : ".");
    write_conf(0, dir, b->url);
    static sb_config_bus bc;
    sbt_bus_config(&bc);
    sb_bus *bus = sbt_bus(&bc, "producer", "fence", true);
    assert_int_equal(sb_bus_subscribe(bus, "sbtest/status/processor/+", 1, on_status, NULL, NULL),
                     SB_OK);
    start(0);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {
        .bus = bus, .stream = "gf", .topic = "sbtest/msg/in/gf", .resend_ms = 1000};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_load(conf[0], &cfg, NULL), SB_OK);
    sb_store *s = NULL;
    assert_int_equal(sb_store_open(cfg, &s, NULL), SB_OK);
    for (int k = 1; k <= 5; k++)
        send_fenced(p, k);
    assert_int_equal(pos_seq(s, "gf"), 5);

    sb_stream_producer_stats st;
    sb_stream_producer_get_stats(p, &st);
    sb_stream_pos other = {st.epoch, 6};
    cJSON *doc = sb_stream_pos_doc("gf", &other);
    assert_int_equal(sb_store_put(s, "_stream", doc, NULL), SB_OK); /* "another instance" */
    cJSON_Delete(doc);
    send_fenced(p, 6); /* acknowledged by the resend request after the conflict */
    send_fenced(p, 7);
    for (int k = 1; k <= 5; k++)
        assert_true(has_field(s, k));
    assert_false(has_field(s, 6)); /* the fence kept this instance from committing frame 6 */
    assert_true(has_field(s, 7));
    assert_int_equal(pos_seq(s, "gf"), 7);
    sb_time_sleep_ms(700); /* a fresh status */
    assert_true(stat_of(commit_fail, 0) >= 1);

    sb_proc_stop(&child[0], SIGTERM, 3000);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(bus, 500);
    sb_store_close(s);
    sb_config_free(cfg);
    sbt_broker_stop();
}

/*
 * A member whose status stops coming (its will lost, e.g. with a broker node) is taken as gone
 * after 3 status intervals + 5 s: a retained "online" of an instance "ghost" that never
 * refreshes it holds its gateways only that long, then "pa" applies them.
 */
static void test_silent_member_expires(void **state)
{
    (void)state;
    sb_broker *b = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("ghost");
    const char *bd = getenv("SB_BUILD_DIR");
    snprintf(exe, sizeof(exe), "%s/services/processor/switchboard-processor", bd ? bd : ".");
    write_conf(0, dir, b->url);
    static sb_config_bus bc;
    sbt_bus_config(&bc);
    sb_bus *bus = sbt_bus(&bc, "producer", "ghost", true);
    const char *ghost = "{\"status\":\"online\",\"service\":\"processor\",\"instance\":\"ghost\"}";
    assert_int_equal(
        sb_bus_publish(bus, "sbtest/status/processor/ghost", ghost, strlen(ghost), 1, true), SB_OK);
    assert_int_equal(sb_bus_flush(bus, 5000), SB_OK);
    /* a gateway the ghost owns while it counts as alive */
    const char *members[] = {"pa", "ghost"};
    char gw[16] = "";
    for (int i = 0; i < 100 && !gw[0]; i++) {
        char k[16];
        snprintf(k, sizeof(k), "gh%d", i);
        if (strcmp(sb_partition_owner(k, members, 2), "ghost") == 0)
            snprintf(gw, sizeof(gw), "%s", k);
    }
    assert_true(gw[0] != '\0');
    start(0);
    char topic[64];
    snprintf(topic, sizeof(topic), "sbtest/msg/in/%s", gw);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = bus, .stream = gw, .topic = topic, .resend_ms = 1000};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    sb_time_sleep_ms(500);
    int64_t t0 = sb_time_mono_ms();
    sb_msg *m = sb_msg_new(gw, "n0", "s1", SB_MSG_SET);
    assert_non_null(sb_msg_add_payload(m, "v", "1", SB_METRIC_STRING, NULL));
    assert_int_equal(sb_stream_add(p, sb_msg_to_json(m)), SB_OK);
    sb_msg_free(m);
    /* not applied while the ghost counts as alive (3 x 300 ms + 5 s after pa heard it) */
    assert_int_equal(sb_stream_wait_acked(p, 3000), SB_ERR_TIMEOUT);
    assert_int_equal(sb_stream_wait_acked(p, 15000), SB_OK);
    int64_t took = sb_time_mono_ms() - t0;
    print_message("the silent member's gateway was applied after %lld ms\n", (long long)took);
    assert_in_range(took, 4000, 12000);

    sb_proc_stop(&child[0], SIGTERM, 3000);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(bus, 500);
    sbt_broker_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_two_instances_kill_and_rejoin),
                                       cmocka_unit_test(test_fenced_commit),
                                       cmocka_unit_test(test_silent_member_expires)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
