/*
 * pipeline_forward_test - payload forwarding end to end:
 *
 *   devsim --transport tasmota (child) --MQTT--> gateway service (tasmota) --> processor -->
 *   field events --> forward service --<p>/msg/out--> gateway --> devsim
 *
 * A relay of devsim's plug1 is switched at the device (a cmnd straight to it, as its button
 * would); a forward_payload mapping makes plug2's relay follow, seen in devsim's record of the
 * commands it received and in the field's stored value. Repeated reports of an unchanged value
 * do not echo. Mappings that would close a loop (A -> B -> A, and a longer cycle) are refused
 * with a state message, and accepted once the loop is broken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"
#include "services/forward/forward.h"

static sb_stop_flag fwd_stop;
static pthread_t fwd_thread;

static void *fwd_main(void *arg)
{
    (void)arg;
    sb_forward_run(sbt_pl.cfg, &fwd_stop);
    return NULL;
}

static int setup(void **state)
{
    int rc = sbt_pipeline_setup(state);
    sb_stop_init(&fwd_stop);
    pthread_create(&fwd_thread, NULL, fwd_main, NULL);
    return rc;
}

static int teardown(void **state)
{
    sb_stop_raise(&fwd_stop);
    pthread_join(fwd_thread, NULL);
    sb_stop_destroy(&fwd_stop);
    return sbt_pipeline_teardown(state);
}

/* Stores a mapping and publishes its event, as the API does. */
static void put_mapping(const char *id, const char *src, const char *dst, bool enabled)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"enabled\":%s,\"srcFieldId\":\"%s\",\"dstFieldId\":\"%s\"}", id,
             enabled ? "true" : "false", src, dst);
    cJSON *doc = cJSON_Parse(json);
    assert_int_equal(sb_store_put(sbt_pl.store, "forward_payload", doc, NULL), SB_OK);
    assert_int_equal(sb_event_publish(sbt_pl.bus, "updated", "forward_payload", id, NULL, doc),
                     SB_OK);
    cJSON_Delete(doc);
}

/* Waits for the mapping's state.status; returns its state.message (static). */
static const char *wait_mapping(const char *id, const char *status)
{
    static char message[512];
    int64_t end = sb_time_mono_ms() + 5000;
    for (;;) {
        cJSON *d = NULL;
        bool ok = false;
        if (sb_store_get(sbt_pl.store, "forward_payload", id, &d, NULL) == SB_OK) {
            const cJSON *st = cJSON_GetObjectItem(d, "state");
            ok = strcmp(sb_json_str(st, "status", ""), status) == 0;
            snprintf(message, sizeof(message), "%s", sb_json_str(st, "message", ""));
        }
        cJSON_Delete(d);
        if (ok)
            return message;
        if (sb_time_mono_ms() > end)
            fail_msg("forward_payload %s: want status %s (message '%s')", id, status, message);
        sb_time_sleep_ms(20);
    }
}

/* Switches a relay at the device, as its button would: a command straight to devsim. */
static void press(const char *node, const char *relay, const char *value)
{
    char topic[128];
    snprintf(topic, sizeof(topic), "cmnd/%s/%s", node, relay);
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, value, strlen(value), 1, false), SB_OK);
}

static void test_forward(void **state)
{
    (void)state;
    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"gwt\",\"enabled\":true,\"reconnectDelay\":\"200ms\","
             "\"provider\":{\"type\":\"tasmota\",\"url\":\"%s\"}}",
             sbt_pl.broker->url);
    put_gateway(doc);
    sb_time_sleep_ms(500); /* the provider subscribes before devsim's first tele */
    sbt_devsim sim = {0};
    sbt_devsim_start(&sim, "tasmota", "6", "300ms"); /* plug1 and plug2 among them */
    wait_field_bool("gwt.plug1.POWER1.power", false);
    wait_field_bool("gwt.plug2.POWER2.power", false);

    /* plug1's relay 1 -> plug2's relay 2; a quick id and a bare field id both work */
    put_mapping("f1", "field:gwt.plug1.POWER1.power", "gwt.plug2.POWER2.power", true);
    wait_mapping("f1", "ok");
    /* A field's first value counts as a change: if the mapping was loaded before the event of
     * plug1's first report arrived, that value (off) was forwarded. Count from here. */
    sb_time_sleep_ms(500);
    int sent = sbt_file_count(sim.record, "cmnd/plug2/POWER2");
    press("plug1", "POWER1", "ON");
    sbt_devsim_wait_record(&sim, "cmnd/plug2/POWER2 ON");
    wait_field_bool("gwt.plug2.POWER2.power", true);
    press("plug1", "POWER1", "OFF");
    sbt_devsim_wait_record(&sim, "cmnd/plug2/POWER2 OFF");
    wait_field_bool("gwt.plug2.POWER2.power", false);
    /* devsim reports both relays every 300 ms: an unchanged value is not sent again */
    sb_time_sleep_ms(1200);
    assert_int_equal(sbt_file_count(sim.record, "cmnd/plug2/POWER2"), sent + 2);

    /* B -> A would close a loop: refused, and A's change still goes to B only once */
    put_mapping("f2", "gwt.plug2.POWER2.power", "field:gwt.plug1.POWER1.power", true);
    const char *msg = wait_mapping("f2", "error");
    assert_non_null(strstr(msg, "loop gwt.plug2.POWER2.power -> gwt.plug1.POWER1.power -> "
                                "gwt.plug2.POWER2.power"));
    press("plug1", "POWER1", "ON");
    sbt_devsim_wait_record(&sim, "cmnd/plug2/POWER2 ON");
    wait_field_bool("gwt.plug2.POWER2.power", true);
    sb_time_sleep_ms(800);
    assert_int_equal(sbt_file_count(sim.record, "cmnd/plug2/POWER2"), sent + 3);
    assert_int_equal(sbt_file_count(sim.record, "cmnd/plug1/POWER1"), 3); /* our presses */

    /* a longer cycle n1 -> n2 -> n3 -> n1: the mapping closing it is refused */
    put_mapping("g1", "gwx.n1.s.v", "gwx.n2.s.v", true);
    put_mapping("g2", "gwx.n2.s.v", "gwx.n3.s.v", true);
    wait_mapping("g2", "ok");
    put_mapping("g3", "gwx.n3.s.v", "gwx.n1.s.v", true);
    msg = wait_mapping("g3", "error");
    assert_non_null(strstr(msg, "gwx.n3.s.v -> gwx.n1.s.v -> gwx.n2.s.v -> gwx.n3.s.v"));
    wait_mapping("g1", "ok");

    /* bad field ids are an error naming the key */
    put_mapping("bad", "node:gwt.plug1", "gwt.plug2.POWER2.power", true);
    msg = wait_mapping("bad", "error");
    assert_non_null(strstr(msg, "srcFieldId"));

    /* breaking the loop: f1 disabled, f2 (B -> A) is accepted and works */
    put_mapping("f1", "field:gwt.plug1.POWER1.power", "gwt.plug2.POWER2.power", false);
    wait_mapping("f2", "ok");
    press("plug2", "POWER2", "OFF");
    sbt_devsim_wait_record(&sim, "cmnd/plug1/POWER1 OFF");
    wait_field_bool("gwt.plug1.POWER1.power", false);
    sb_proc_stop(&sim.proc, SIGTERM, 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
