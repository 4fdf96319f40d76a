/*
 * bus_test - the bus client against a real mosquitto on a free loopback port: publish and
 * subscribe at QoS 0 and 1, wildcard dispatch, request/reply, broker stopped and killed
 * mid-stream, a subscriber process killed and restarted, the last will, the bounded publish
 * queue and MQTT 3.1.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include "core/proc.h"
#include "core/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_broker *broker;
static sb_config_bus cfg;

/* Counts deliveries per sequence number carried as the decimal payload. */
typedef struct counter {
    pthread_mutex_t mu;
    int *seen;
    int n;
    int total;
    int distinct;
    int bad;
} counter;

static void counter_init(counter *c, int n)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->seen = calloc((size_t)n, sizeof(int));
    c->n = n;
}

static void counter_free(counter *c)
{
    free(c->seen);
    pthread_mutex_destroy(&c->mu);
}

static void counter_add(counter *c, const char *p, size_t len)
{
    char buf[32];
    size_t k = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
    memcpy(buf, p, k);
    buf[k] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    pthread_mutex_lock(&c->mu);
    c->total++;
    if (*end || v < 0 || v >= c->n) {
        c->bad++;
    } else if (c->seen[v]++ == 0) {
        c->distinct++;
    }
    pthread_mutex_unlock(&c->mu);
}

static void on_count(void *ctx, const sb_bus_msg *m)
{
    counter_add(ctx, m->payload, m->len);
}

static bool counter_complete(void *ctx)
{
    counter *c = ctx;
    pthread_mutex_lock(&c->mu);
    bool done = c->distinct == c->n;
    pthread_mutex_unlock(&c->mu);
    return done;
}

static void report_missing(counter *c, const sb_bus_stats *st)
{
    int shown = 0, missing = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->seen[i] == 0 && shown++ < 20)
            print_message("missing %d\n", i);
        missing += c->seen[i] == 0;
    }
    print_message("%d missing; publisher: published %llu acked %llu failed %llu pending %llu "
                  "connects %llu\n",
                  missing, (unsigned long long)st->published, (unsigned long long)st->acknowledged,
                  (unsigned long long)st->publish_failed, (unsigned long long)st->pending,
                  (unsigned long long)st->connects);
}

static int publish_range(sb_bus *bus, const char *topic, int from, int to, int qos)
{
    int accepted = 0;
    for (int i = from; i < to; i++) {
        char p[16];
        int n = snprintf(p, sizeof(p), "%d", i);
        if (sb_bus_publish(bus, topic, p, (size_t)n, qos, false) == SB_OK)
            accepted++;
    }
    return accepted;
}

static int group_setup(void **state)
{
    (void)state;
    broker = sbt_broker_start(NULL);
    sbt_bus_config(&cfg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sbt_broker_stop();
    return 0;
}

static void pubsub_at(int qos, const char *instance)
{
    enum { N = 2000 };
    counter c;
    counter_init(&c, N);
    char topic[64];
    snprintf(topic, sizeof(topic), "sbtest/pubsub/%d", qos);
    sb_bus *sub = sbt_bus(&cfg, "sub", instance, true);
    assert_int_equal(sb_bus_subscribe(sub, topic, qos, on_count, &c, NULL), SB_OK);
    sb_time_sleep_ms(100);
    sb_bus *pub = sbt_bus(&cfg, "pub", instance, true);
    assert_int_equal(publish_range(pub, topic, 0, N, qos), N);
    assert_int_equal(sb_bus_flush(pub, 5000), SB_OK);
    assert_true(sbt_wait(counter_complete, &c, 10000));
    assert_int_equal(c.bad, 0);
    if (qos == 1)
        assert_int_equal(c.total, N); /* no reconnect happened: no duplicates expected */
    sb_bus_stats st;
    sb_bus_get_stats(pub, &st);
    assert_true(st.published >= N); /* plus the retained status */
    assert_int_equal(st.acknowledged, st.published);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.mqtt_version, 5);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    counter_free(&c);
}

static void test_pubsub_qos0(void **state)
{
    (void)state;
    pubsub_at(0, "q0");
}

static void test_pubsub_qos1(void **state)
{
    (void)state;
    pubsub_at(1, "q1");
}

typedef struct hits {
    atomic_int a, b, c;
} hits;

static void on_a(void *ctx, const sb_bus_msg *m)
{
    (void)m;
    atomic_fetch_add(&((hits *)ctx)->a, 1);
}
static void on_b(void *ctx, const sb_bus_msg *m)
{
    (void)m;
    atomic_fetch_add(&((hits *)ctx)->b, 1);
}
static void on_c(void *ctx, const sb_bus_msg *m)
{
    (void)m;
    atomic_fetch_add(&((hits *)ctx)->c, 1);
}

static bool hits_done(void *ctx)
{
    hits *h = ctx;
    return atomic_load(&h->a) >= 2 && atomic_load(&h->b) >= 3 && atomic_load(&h->c) >= 1;
}

static void test_wildcard_dispatch(void **state)
{
    (void)state;
    hits h = {0};
    sb_bus *bus = sbt_bus(&cfg, "wild", "w", true);
    assert_int_equal(sb_bus_subscribe(bus, "sbtest/w/msg/in/+", 1, on_a, &h, NULL), SB_OK);
    assert_int_equal(sb_bus_subscribe(bus, "sbtest/w/#", 1, on_b, &h, NULL), SB_OK);
    assert_int_equal(sb_bus_subscribe(bus, "sbtest/w/event/+/x", 1, on_c, &h, NULL), SB_OK);
    sb_time_sleep_ms(100);
    sb_bus_publish(bus, "sbtest/w/msg/in/gw1", "1", 1, 1, false);
    sb_bus_publish(bus, "sbtest/w/msg/in/gw2", "1", 1, 1, false);
    sb_bus_publish(bus, "sbtest/w/event/node/x", "1", 1, 1, false);
    assert_true(sbt_wait(hits_done, &h, 5000));
    sb_time_sleep_ms(100); /* nothing more may arrive */
    assert_int_equal(atomic_load(&h.a), 2);
    assert_int_equal(atomic_load(&h.b), 3);
    assert_int_equal(atomic_load(&h.c), 1);
    sb_bus_destroy(bus, 1000);
}

static sb_bus *responder;

static void on_echo(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    char out[256];
    int n = snprintf(out, sizeof(out), "echo:%.*s", (int)m->len, (const char *)m->payload);
    sb_bus_reply(responder, m, out, (size_t)n);
}

static void test_request_reply(void **state)
{
    (void)state;
    responder = sbt_bus(&cfg, "responder", "r", true);
    assert_int_equal(sb_bus_subscribe(responder, "sbtest/ctl/echo/+", 1, on_echo, NULL, NULL),
                     SB_OK);
    sb_bus *req = sbt_bus(&cfg, "requester", "r", true);
    sb_time_sleep_ms(100);
    for (int i = 0; i < 20; i++) {
        char body[16], want[32];
        snprintf(body, sizeof(body), "hello%d", i);
        snprintf(want, sizeof(want), "echo:%s", body);
        char *reply = NULL;
        size_t len = 0;
        sb_errmsg em = {0};
        assert_int_equal(
            sb_bus_request(req, "sbtest/ctl/echo/run", body, strlen(body), 3000, &reply, &len, &em),
            SB_OK);
        assert_string_equal(reply, want);
        assert_int_equal(len, strlen(want));
        free(reply);
    }
    /* Nobody answers here: a timeout, with a message saying so. */
    char *reply = NULL;
    sb_errmsg em = {0};
    int64_t t0 = sb_time_mono_ms();
    assert_int_equal(sb_bus_request(req, "sbtest/ctl/nobody/run", "x", 1, 300, &reply, NULL, &em),
                     SB_ERR_TIMEOUT);
    assert_true(sb_time_mono_ms() - t0 < 2000);
    assert_non_null(strstr(em.text, "no reply"));
    assert_null(reply);
    sb_bus_destroy(req, 1000);
    sb_bus_destroy(responder, 1000);
}

typedef struct stream {
    sb_bus *bus;
    const char *topic;
    int n;
    int accepted;
    int rate_per_ms;
} stream;

static void *stream_main(void *arg)
{
    stream *s = arg;
    for (int i = 0; i < s->n; i++) {
        char p[16];
        int len = snprintf(p, sizeof(p), "%d", i);
        while (sb_bus_publish(s->bus, s->topic, p, (size_t)len, 1, false) == SB_ERR_FULL)
            sb_time_sleep_ms(1);
        s->accepted++;
        if (i % s->rate_per_ms == 0)
            sb_time_sleep_ms(1);
    }
    return NULL;
}

/* Broker stopped (SIGTERM: it saves its persistence file) and restarted while a publisher
 * streams: every accepted message arrives at least once. */
static void test_broker_restart_midstream(void **state)
{
    (void)state;
    enum { N = 6000 };
    counter c;
    counter_init(&c, N);
    sb_bus *sub = sbt_bus(&cfg, "sub", "midstream", false);
    assert_int_equal(sb_bus_subscribe(sub, "sbtest/stream/a", 1, on_count, &c, NULL), SB_OK);
    sb_bus *pub = sbt_bus(&cfg, "pub", "midstream", false);
    sb_time_sleep_ms(100);
    stream s = {.bus = pub, .topic = "sbtest/stream/a", .n = N, .rate_per_ms = 5};
    pthread_t t;
    pthread_create(&t, NULL, stream_main, &s);
    sb_time_sleep_ms(300);
    assert_true(sb_broker_stop_within(broker, 15000)); /* saved its state */
    sb_time_sleep_ms(400);
    sb_errmsg em = {0};
    assert_int_equal(sb_broker_restart(broker, &em), SB_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.accepted, N);
    bool complete = sbt_wait(counter_complete, &c, 20000);
    sb_bus_stats st;
    sb_bus_get_stats(pub, &st);
    if (!complete)
        report_missing(&c, &st);
    assert_true(complete);
    print_message("midstream: %d accepted, %d delivered, %d distinct, %d duplicates, "
                  "publisher connects %llu\n",
                  s.accepted, c.total, c.distinct, c.total - c.distinct,
                  (unsigned long long)st.connects);
    assert_true(st.connects >= 2);
    assert_int_equal(c.bad, 0);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    counter_free(&c);
}

/* Broker killed with SIGKILL; what the client accepts during the outage is delivered after
 * the broker returns. The subscriber's session must be on disk when the broker dies, so this
 * broker saves on every change. */
static void test_broker_killed_outage(void **state)
{
    (void)state;
    enum { BEFORE = 500, DURING = 2000, AFTER = 500, N = BEFORE + DURING + AFTER };
    counter c;
    counter_init(&c, N);
    sb_bus *sub = sbt_bus(&cfg, "sub", "outage", false);
    assert_int_equal(sb_bus_subscribe(sub, "sbtest/stream/b", 1, on_count, &c, NULL), SB_OK);
    sb_bus *pub = sbt_bus(&cfg, "pub", "outage", false);
    sb_time_sleep_ms(100);
    assert_int_equal(publish_range(pub, "sbtest/stream/b", 0, BEFORE, 1), BEFORE);
    assert_int_equal(sb_bus_flush(pub, 5000), SB_OK);
    /* Make the broker write its database (subscriptions, sessions) then kill it hard. */
    assert_true(sb_broker_stop_within(broker, 15000));
    sb_errmsg em = {0};
    assert_int_equal(sb_broker_restart(broker, &em), SB_OK);
    for (int i = 0; i < 400 && !(sb_bus_connected(pub) && sb_bus_connected(sub)); i++)
        sb_time_sleep_ms(10);
    kill(broker->proc.pid, SIGKILL);
    sb_time_sleep_ms(200);
    assert_false(sb_bus_connected(pub));
    assert_int_equal(publish_range(pub, "sbtest/stream/b", BEFORE, BEFORE + DURING, 1), DURING);
    assert_int_equal(sb_broker_restart(broker, &em), SB_OK);
    assert_int_equal(publish_range(pub, "sbtest/stream/b", BEFORE + DURING, N, 1), AFTER);
    assert_true(sbt_wait(counter_complete, &c, 20000));
    print_message("outage: %d accepted during the outage, %d delivered in all, %d duplicates\n",
                  DURING, c.total, c.total - c.distinct);
    for (int i = BEFORE; i < BEFORE + DURING; i++)
        assert_true(c.seen[i] >= 1);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    counter_free(&c);
}

typedef struct peer_file {
    const char *path;
    int want;
} peer_file;

static int count_lines(const char *path, counter *c)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[64];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (c)
            counter_add(c, line, strlen(line));
        n++;
    }
    fclose(f);
    return n;
}

static bool peer_has(void *ctx)
{
    peer_file *pf = ctx;
    return count_lines(pf->path, NULL) >= pf->want;
}

typedef struct status_seen {
    char status[16];
    pthread_mutex_t mu;
} status_seen;

static void on_status(void *ctx, const sb_bus_msg *m)
{
    status_seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (memmem(m->payload, m->len, "\"online\"", 8))
        snprintf(s->status, sizeof(s->status), "online");
    else if (memmem(m->payload, m->len, "\"offline\"", 9))
        snprintf(s->status, sizeof(s->status), "offline");
    pthread_mutex_unlock(&s->mu);
}

static bool is_online(void *ctx)
{
    status_seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    bool r = strcmp(s->status, "online") == 0;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static bool is_offline(void *ctx)
{
    status_seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    bool r = strcmp(s->status, "offline") == 0;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void start_peer(sb_proc *p, const char *instance, const char *topic, const char *out)
{
    const char *argv[] = {
        sbt_build_path("bus_peer"), broker->url, "sbtest", instance, topic, out, NULL};
    sb_errmsg em = {0};
    assert_int_equal(sb_proc_spawn(p, argv, NULL, &em), SB_OK);
}

/* A subscriber process killed with SIGKILL and restarted receives what was published while it
 * was down (persistent session); its last will turns its status offline. */
static void test_subscriber_killed(void **state)
{
    (void)state;
    enum { N = 1000 };
    char out[800];
    snprintf(out, sizeof(out), "%s/received.txt", sbt_tmpdir("peer"));
    status_seen st = {.mu = PTHREAD_MUTEX_INITIALIZER};
    sb_bus *pub = sbt_bus(&cfg, "pub", "killsub", true);
    assert_int_equal(sb_bus_subscribe(pub, "sbtest/status/peer/k1", 1, on_status, &st, NULL),
                     SB_OK);
    sb_proc peer;
    start_peer(&peer, "k1", "sbtest/stream/c", out);
    assert_true(sbt_wait(is_online, &st, 5000));
    assert_int_equal(publish_range(pub, "sbtest/stream/c", 0, N / 2, 1), N / 2);
    peer_file pf = {.path = out, .want = N / 2};
    assert_true(sbt_wait(peer_has, &pf, 10000));

    kill(peer.pid, SIGKILL);
    sb_proc_stop(&peer, SIGKILL, 1000);
    assert_true(sbt_wait(is_offline, &st, 5000)); /* the last will */
    assert_int_equal(publish_range(pub, "sbtest/stream/c", N / 2, N, 1), N / 2);
    assert_int_equal(sb_bus_flush(pub, 5000), SB_OK);

    start_peer(&peer, "k1", "sbtest/stream/c", out);
    assert_true(sbt_wait(is_online, &st, 5000));
    pf.want = N;
    assert_true(sbt_wait(peer_has, &pf, 10000));
    counter c;
    counter_init(&c, N);
    count_lines(out, &c);
    assert_int_equal(c.distinct, N);
    assert_int_equal(c.bad, 0);
    print_message("killed subscriber: %d distinct of %d, %d duplicates\n", c.distinct, N,
                  c.total - c.distinct);
    counter_free(&c);
    sb_proc_stop(&peer, SIGTERM, 1000);
    sb_bus_destroy(pub, 1000);
}

/* With no broker the client buffers up to max_pending publishes, then says FULL at once. */
static void test_publish_bounded(void **state)
{
    (void)state;
    sb_config_bus c = cfg;
    c.url = "tcp://127.0.0.1:1"; /* nothing listens on port 1 */
    c.max_pending = 50;
    sb_bus_opts o = {.cfg = &c, .service = "bounded", .instance = "b", .clean_start = true};
    sb_bus *bus = NULL;
    assert_int_equal(sb_bus_create(&o, &bus, NULL), SB_OK);
    sb_errmsg em = {0};
    assert_int_equal(sb_bus_start(bus, 200, &em), SB_ERR_TIMEOUT);
    assert_non_null(strstr(em.text, "127.0.0.1:1"));
    int64_t t0 = sb_time_mono_ms();
    int ok = 0, full = 0;
    for (int i = 0; i < 200; i++) {
        sb_err rc = sb_bus_publish(bus, "sbtest/x", "1", 1, 1, false);
        ok += rc == SB_OK;
        full += rc == SB_ERR_FULL;
    }
    assert_true(sb_time_mono_ms() - t0 < 1000);
    assert_int_equal(ok, 50);
    assert_int_equal(full, 150);
    assert_int_equal(sb_bus_flush(bus, 50), SB_ERR_TIMEOUT);
    int64_t t1 = sb_time_mono_ms();
    sb_bus_destroy(bus, 100);
    assert_true(sb_time_mono_ms() - t1 < 2000);
}

/* sb_bus_wait_acked: done when the broker acknowledged every publish up to the id, waiting
 * (and timing out) while the broker is away, done again once it is back. */
static void test_wait_acked(void **state)
{
    (void)state;
    sb_bus *pub = sbt_bus(&cfg, "pub", "acked", false);
    uint64_t first = 0, id = 0;
    assert_int_equal(sb_bus_publish_id(pub, "sbtest/acked", "a", 1, 1, false, &first), SB_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(sb_bus_publish_id(pub, "sbtest/acked", "b", 1, 1, false, &id), SB_OK);
    assert_true(id == first + 200); /* ids grow in publish order */
    assert_int_equal(sb_bus_wait_acked(pub, id, 5000), SB_OK);
    sb_bus_stats st;
    sb_bus_get_stats(pub, &st);
    assert_int_equal(st.pending, 0);

    assert_true(sb_broker_stop_within(broker, 15000));
    uint64_t away = 0;
    assert_int_equal(sb_bus_publish_id(pub, "sbtest/acked", "c", 1, 1, false, &away), SB_OK);
    assert_true(away > id);
    assert_int_equal(sb_bus_wait_acked(pub, id, 10), SB_OK); /* the older ones stay done */
    int64_t t0 = sb_time_mono_ms();
    assert_int_equal(sb_bus_wait_acked(pub, away, 300), SB_ERR_TIMEOUT);
    assert_true(sb_time_mono_ms() - t0 >= 290);
    sb_errmsg em = {0};
    assert_int_equal(sb_broker_restart(broker, &em), SB_OK);
    assert_int_equal(sb_bus_wait_acked(pub, away, 15000), SB_OK);
    sb_bus_destroy(pub, 1000);
}

static void test_mqtt311(void **state)
{
    (void)state;
    enum { N = 200 };
    sb_config_bus c = cfg;
    c.mqtt_version = SB_MQTT_V311;
    counter cnt;
    counter_init(&cnt, N);
    sb_bus *sub = sbt_bus(&c, "sub", "v311", true);
    assert_int_equal(sb_bus_subscribe(sub, "sbtest/v311/#", 1, on_count, &cnt, NULL), SB_OK);
    sb_time_sleep_ms(100);
    sb_bus *pub = sbt_bus(&c, "pub", "v311", true);
    assert_int_equal(publish_range(pub, "sbtest/v311/a", 0, N, 1), N);
    assert_true(sbt_wait(counter_complete, &cnt, 5000));
    sb_bus_stats st;
    sb_bus_get_stats(pub, &st);
    assert_int_equal(st.mqtt_version, 4);
    char *reply = NULL;
    assert_int_equal(sb_bus_request(pub, "sbtest/ctl/x", "1", 1, 100, &reply, NULL, NULL),
                     SB_ERR_UNSUPPORTED);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    counter_free(&cnt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub_qos0),
        cmocka_unit_test(test_pubsub_qos1),
        cmocka_unit_test(test_wildcard_dispatch),
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_publish_bounded),
        cmocka_unit_test(test_wait_acked),
        cmocka_unit_test(test_mqtt311),
        cmocka_unit_test(test_subscriber_killed),
        cmocka_unit_test(test_broker_restart_midstream),
        cmocka_unit_test(test_broker_killed_outage),
    };
    const char *only = getenv("SB_TEST_FILTER"); /* e.g. SB_TEST_FILTER='*midstream*' */
    if (only && *only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests_name("bus", tests, group_setup, group_teardown);
}
