/*
 * pipeline_sysmon_test - the host as a node end to end:
 *
 *   gateway service (thread, system_monitoring provider reading this machine's /proc and /sys)
 *   --<p>/msg/in stream--> processor (thread) --> sqlite store + real influxd
 *
 * The node is named after the host; CPU, memory, swap, load, uptime, disk and network fields
 * appear with their types and units, agree with /proc, become InfluxDB points, and are sampled
 * again at the configured interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"
#include "storage/store.h"

/* MemTotal of this machine in bytes. */
static double mem_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    assert_non_null(f);
    char line[256];
    double kb = -1;
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %lf kB", &kb) != 1)
            kb = -1;
    fclose(f);
    return kb * 1024;
}

/* The field's current timestamp text ("" when it has none yet). */
static void stamp(const char *id, char *buf, size_t len)
{
    cJSON *d = NULL;
    buf[0] = '\0';
    if (sb_store_get(sbt_pl.store, "field", id, &d, NULL) == SB_OK)
        snprintf(buf, len, "%s", sb_json_str(cJSON_GetObjectItem(d, "current"), "timestamp", ""));
    cJSON_Delete(d);
}

/* Waits until the field gets a value newer than it had; returns its timestamp (ms). */
static int64_t next_sample(const char *id)
{
    char before[64], now[64];
    stamp(id, before, sizeof(before));
    int64_t start = sb_time_mono_ms(), end = start + 5000, t = 0;
    for (;;) {
        stamp(id, now, sizeof(now));
        if (strcmp(now, before) != 0 && sb_time_parse(now, &t) == SB_OK)
            return t;
        if (sb_time_mono_ms() > end)
            fail_msg("field %s was not sampled again", id);
        sb_time_sleep_ms(10);
    }
}

static void test_host(void **state)
{
    (void)state;
    put_gateway("{\"id\":\"gws\",\"enabled\":true,\"provider\":{\"type\":\"system_monitoring\","
                "\"interval\":\"400ms\",\"nodeId\":\"testhost\"}}");
    check_number_field("gws.testhost.cpu.usage", "gauge_float", "%", 0, 100);
    check_number_field("gws.testhost.cpu.core0", "gauge_float", "%", 0, 100);
    double total = mem_total();
    check_number_field("gws.testhost.memory.total", "gauge", "B", total, total);
    check_number_field("gws.testhost.memory.used", "gauge", "B", 1, total);
    check_number_field("gws.testhost.memory.used_percent", "gauge_float", "%", 0, 100);
    check_number_field("gws.testhost.swap.total", "gauge", "B", 0, 1e15);
    check_number_field("gws.testhost.load.load1", "gauge_float", "", 0, 1e4);
    check_number_field("gws.testhost._node.uptime", "counter", "s", 1, 1e10);
    check_number_field("gws.testhost.disk_root.used_percent", "gauge_float", "%", 0, 100);

    /* the node is the host: named after it */
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    cJSON *n = wait_doc("node", "gws.testhost", false, 5000);
    int64_t end = sb_time_mono_ms() + 5000;
    while (strcmp(sb_json_str(n, "name", ""), host) != 0 && sb_time_mono_ms() < end) {
        cJSON_Delete(n);
        sb_time_sleep_ms(50);
        n = wait_doc("node", "gws.testhost", false, 5000);
    }
    assert_string_equal(sb_json_str(n, "name", ""), host);
    assert_string_equal(sb_json_str(cJSON_GetObjectItem(n, "others"), "type", ""), "host");
    cJSON_Delete(n);

    /* sampled again at the interval (400 ms): three intervals between the samples' own
     * timestamps (when the gateway read them), so delivery jitter on a busy machine, which
     * can bring two samples to the store close together, does not count */
    int64_t first = next_sample("gws.testhost.memory.free"), last = first;
    for (int i = 0; i < 3; i++)
        last = next_sample("gws.testhost.memory.free");
    if (last - first < 900 || last - first > 3000)
        fail_msg("three sampling intervals took %lld ms, not about 1200",
                 (long long)(last - first));
    check_influx("gws", "testhost.memory.total");
    check_influx("gws", "testhost.cpu.usage");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
    };
    return cmocka_run_group_tests(tests, sbt_pipeline_setup, sbt_pipeline_teardown);
}
