/*
 * stream_sys_test - the stream protocol against a real mosquitto: frames numbered and batched,
 * acks release them, frames a consumer lost (taken but never applied, as after a kill -9) are
 * resent and applied exactly once and in order, the window is bounded (SB_ERR_FULL), and an
 * idle producer sends an item at once (batching only under load).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include "core/stream.h"
#include "core/time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_config_bus cfg;

/* A consumer with its position in memory; drop_first frames are "lost" after delivery. */
typedef struct consumer {
    pthread_mutex_t mu;
    sb_bus *bus;
    sb_stream_pos pos;
    int drop_first;
    int applied_items;
    int next_item; /* items carry 0, 1, 2 ...: order check */
    int out_of_order;
    int duplicates, gaps;
} consumer;

static void on_frame(void *ctx, const sb_bus_msg *m)
{
    consumer *c = ctx;
    sb_stream_frame f;
    if (sb_stream_decode(m->payload, m->len, &f, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->drop_first > 0) {
        c->drop_first--;
    } else {
        sb_stream_verdict v = sb_stream_check(&c->pos, &f);
        if (v == SB_STREAM_APPLY) {
            const cJSON *it;
            cJSON_ArrayForEach(it, f.items)
            {
                if ((int)it->valuedouble != c->next_item)
                    c->out_of_order++;
                c->next_item = (int)it->valuedouble + 1;
                c->applied_items++;
            }
            c->pos = sb_stream_next(&f);
            sb_stream_ack(c->bus, f.stream, &c->pos, false);
        } else if (v == SB_STREAM_DUPLICATE) {
            c->duplicates++;
            sb_stream_ack(c->bus, f.stream, &c->pos, false);
        } else if (v == SB_STREAM_GAP) {
            c->gaps++;
            sb_stream_ack(c->bus, f.stream, &c->pos, true);
        }
    }
    pthread_mutex_unlock(&c->mu);
    sb_stream_frame_free(&f);
}

static int setup(void **state)
{
    (void)state;
    sbt_broker_start(NULL);
    sbt_bus_config(&cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sbt_broker_stop();
    return 0;
}

static void run_stream(const char *name, int n_items, int drop_first, int64_t resend_ms)
{
    consumer c = {.drop_first = drop_first};
    pthread_mutex_init(&c.mu, NULL);
    c.bus = sbt_bus(&cfg, "consumer", name, true);
    char topic[128];
    snprintf(topic, sizeof(topic), "sbtest/msg/in/%s", name);
    assert_int_equal(sb_bus_subscribe(c.bus, topic, 1, on_frame, &c, NULL), SB_OK);
    sb_bus *pbus = sbt_bus(&cfg, "producer", name, true);
    sb_time_sleep_ms(100);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = pbus,
                                 .stream = name,
                                 .topic = topic,
                                 .batch_max = 100,
                                 .batch_delay_ms = 5,
                                 .resend_ms = resend_ms};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    for (int i = 0; i < n_items; i++) {
        sb_err rc;
        while ((rc = sb_stream_add(p, cJSON_CreateNumber(i))) == SB_ERR_FULL)
            sb_time_sleep_ms(1);
        assert_int_equal(rc, SB_OK);
    }
    assert_int_equal(sb_stream_wait_acked(p, 15000), SB_OK);
    sb_stream_producer_stats st;
    sb_stream_producer_get_stats(p, &st);
    pthread_mutex_lock(&c.mu);
    assert_int_equal(c.applied_items, n_items);
    assert_int_equal(c.out_of_order, 0);
    pthread_mutex_unlock(&c.mu);
    assert_int_equal(st.items, (uint64_t)n_items);
    assert_int_equal(st.unacked, 0);
    assert_true(st.frames >= (uint64_t)(n_items / 100));
    if (drop_first)
        assert_true(st.resent > 0);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(pbus, 1000);
    sb_bus_destroy(c.bus, 1000);
    pthread_mutex_destroy(&c.mu);
}

static void test_batched_and_acked(void **state)
{
    (void)state;
    run_stream("s1", 5000, 0, 5000);
}

static void test_lost_frames_resent_once(void **state)
{
    (void)state;
    /* The first 3 frames vanish in the consumer: the rest are gaps until the resend. */
    run_stream("s2", 2000, 3, 300);
}

static void test_window_bounded(void **state)
{
    (void)state;
    sb_bus *pbus = sbt_bus(&cfg, "producer", "s3", true);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = pbus,
                                 .stream = "s3",
                                 .topic = "sbtest/nobody/s3",
                                 .batch_max = 2,
                                 .batch_delay_ms = 10000,
                                 .max_frames = 3};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    int accepted = 0;
    sb_err rc = SB_OK;
    for (int i = 0; i < 100 && rc == SB_OK; i++) {
        rc = sb_stream_add(p, cJSON_CreateNumber(i));
        accepted += rc == SB_OK;
    }
    assert_int_equal(rc, SB_ERR_FULL);
    /* the first item alone (the pipe was idle), two frames of 2, a full open frame */
    assert_int_equal(accepted, 1 + 2 * 2 + 2);
    assert_int_equal(sb_stream_wait_acked(p, 100), SB_ERR_TIMEOUT);
    sb_stream_producer_stats st;
    sb_stream_producer_get_stats(p, &st);
    assert_int_equal(st.unacked, 3);
    assert_int_equal(st.full, 1);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(pbus, 1000);
}

/* Counts the items of the frames that arrive (no acks: the producer's window stays busy). */
static void on_count(void *ctx, const sb_bus_msg *m)
{
    consumer *c = ctx;
    sb_stream_frame f;
    if (sb_stream_decode(m->payload, m->len, &f, NULL) != SB_OK)
        return;
    pthread_mutex_lock(&c->mu);
    c->applied_items += cJSON_GetArraySize(f.items);
    pthread_mutex_unlock(&c->mu);
    sb_stream_frame_free(&f);
}

static int counted(consumer *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->applied_items;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Batching only under load: an item added while no frame waits for its ack goes at once, even
 * with a long batch_delay; items added while one waits are held for the batch. */
static void test_idle_sends_at_once(void **state)
{
    (void)state;
    consumer c = {0};
    pthread_mutex_init(&c.mu, NULL);
    c.bus = sbt_bus(&cfg, "consumer", "s4", true);
    assert_int_equal(sb_bus_subscribe(c.bus, "sbtest/msg/in/s4", 1, on_count, &c, NULL), SB_OK);
    sb_bus *pbus = sbt_bus(&cfg, "producer", "s4", true);
    sb_time_sleep_ms(100);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = pbus,
                                 .stream = "s4",
                                 .topic = "sbtest/msg/in/s4",
                                 .batch_max = 100,
                                 .batch_delay_ms = 10000};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    assert_int_equal(sb_stream_add(p, cJSON_CreateNumber(0)), SB_OK);
    int64_t deadline = sb_time_mono_ms() + 3000;
    while (counted(&c) < 1 && sb_time_mono_ms() < deadline)
        sb_time_sleep_ms(5);
    assert_int_equal(counted(&c), 1); /* long before batch_delay */
    for (int i = 1; i <= 3; i++)
        assert_int_equal(sb_stream_add(p, cJSON_CreateNumber(i)), SB_OK);
    sb_time_sleep_ms(300);
    assert_int_equal(counted(&c), 1); /* held: the first frame is not acknowledged */
    sb_stream_producer_stats st;
    sb_stream_producer_get_stats(p, &st);
    assert_int_equal(st.open_items, 3);
    assert_int_equal(sb_stream_flush(p), SB_OK);
    deadline = sb_time_mono_ms() + 3000;
    while (counted(&c) < 4 && sb_time_mono_ms() < deadline)
        sb_time_sleep_ms(5);
    assert_int_equal(counted(&c), 4);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(pbus, 1000);
    sb_bus_destroy(c.bus, 1000);
    pthread_mutex_destroy(&c.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batched_and_acked),
        cmocka_unit_test(test_lost_frames_resent_once),
        cmocka_unit_test(test_window_bounded),
        cmocka_unit_test(test_idle_sends_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
