/*
 * processor_kill_test - switchboard-processor as a child process, killed with SIGKILL in the
 * middle of a stream and restarted: every item the producer sent must be applied exactly once.
 * Each item sets its own field once, so a lost frame shows as a missing field and a frame applied
 * twice as a field with a "previous" value.
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
#include "storage/store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 4000 };

static char conf[700], exe[1024], logpath[700];

static void start(sb_proc *child)
{
    const char *argv[] = {exe, "-c", conf, NULL};
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(child, argv, logpath, &em) != SB_OK)
        fail_msg("%s", em.text);
}

static int64_t applied_seq(sb_store *s)
{
    cJSON *d = NULL;
    if (sb_store_get(s, "_stream", "gwk", &d, NULL) != SB_OK)
        return 0;
    int64_t seq = (int64_t)sb_json_num(d, "seq", 0);
    cJSON_Delete(d);
    return seq;
}

static void add(sb_stream_producer *p, int i)
{
    char key[32], val[32];
    snprintf(key, sizeof(key), "f%d", i);
    snprintf(val, sizeof(val), "%d", i);
    sb_msg *m = sb_msg_new("gwk", "n1", "s1", SB_MSG_SET);
    sb_msg_add_payload(m, key, val, SB_METRIC_GAUGE, NULL);
    cJSON *j = sb_msg_to_json(m);
    sb_msg_free(m);
    sb_err rc;
    while ((rc = sb_stream_add(p, cJSON_Duplicate(j, true))) == SB_ERR_FULL)
        sb_time_sleep_ms(2);
    cJSON_Delete(j);
    assert_int_equal(rc, SB_OK);
}

static void test_kill9_exactly_once(void **state)
{
    (void)state;
    sb_broker *b = sbt_broker_start(NULL);
    const char *dir = sbt_tmpdir("kill");
    sbt_processor_files(dir, b->url, "kill", conf, logpath, exe);

    sb_proc child = {0};
    start(&child);
    static sb_config_bus bc; /* the bus keeps a pointer to it */
    sbt_bus_config(&bc);
    sb_bus *bus = sbt_bus(&bc, "producer", "kill", true);
    sb_stream_producer *p = NULL;
    sb_stream_producer_opts o = {.bus = bus,
                                 .stream = "gwk",
                                 .topic = "sbtest/msg/in/gwk",
                                 .batch_max = 40,
                                 .batch_delay_ms = 2,
                                 .resend_ms = 1000};
    assert_int_equal(sb_stream_producer_create(&o, &p, NULL), SB_OK);
    sb_config *cfg = NULL;
    assert_int_equal(sb_config_load(conf, &cfg, NULL), SB_OK);
    sb_store *s = NULL;
    sb_time_sleep_ms(300); /* the child subscribes (its session is persistent afterwards) */
    assert_int_equal(sb_store_open(cfg, &s, NULL), SB_OK);

    int killed_at = -1;
    for (int i = 0; i < N; i++) {
        add(p, i);
        if (i % 20 == 0)
            sb_time_sleep_ms(1);
        if (killed_at < 0 && i >= N / 3 && applied_seq(s) >= 5) {
            kill(child.pid, SIGKILL); /* mid-stream: frames in flight and in its queue */
            sb_proc_alive(&child, NULL);
            killed_at = i;
        }
        if (killed_at >= 0 && i == killed_at + N / 4)
            start(&child);
    }
    assert_true(killed_at >= 0);
    if (child.pid == 0 || !sb_proc_alive(&child, NULL))
        start(&child);
    assert_int_equal(sb_stream_wait_acked(p, 30000), SB_OK);

    size_t n = 0;
    assert_int_equal(sb_store_count(s, "field", NULL, &n, NULL), SB_OK);
    assert_int_equal(n, N);
    sb_query q = {0};
    assert_int_equal(
        sb_query_parse("[{\"k\":\"previous\",\"o\":\"exists\",\"v\":true}]", NULL, &q, NULL),
        SB_OK);
    assert_int_equal(sb_store_count(s, "field", &q, &n, NULL), SB_OK);
    assert_int_equal(n, 0); /* no field was set twice: no frame applied twice */
    sb_query_free(&q);
    sb_stream_producer_stats st;
    sb_stream_producer_get_stats(p, &st);
    print_message("killed after item %d; frames %llu, resent %llu\n", killed_at,
                  (unsigned long long)st.frames, (unsigned long long)st.resent);

    sb_proc_stop(&child, SIGTERM, 3000);
    sb_stream_producer_destroy(p);
    sb_bus_destroy(bus, 500);
    sb_store_close(s);
    sb_config_free(cfg);
    sbt_broker_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_exactly_once)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
