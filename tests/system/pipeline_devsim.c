/*
 * pipeline_devsim.c - devsim as the pipeline tests' devices (pipeline_devsim.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "pipeline_devsim.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "pipeline_util.h"

#include "core/json.h"
#include "core/time.h"

bool sbt_file_has_line(const char *path, const char *prefix)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return found;
}

void sbt_devsim_start(sbt_devsim *s, const char *name, const char *ready, const char *const *args)
{
    snprintf(s->log, sizeof(s->log), "%s/devsim-%s.log", sbt_pl.tmp, name);
    snprintf(s->record, sizeof(s->record), "%s/devsim-%s.rx", sbt_pl.tmp, name);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = sbt_build_path("../../tools/devsim/devsim");
    for (size_t i = 0; args[i] && n < 28; i++)
        argv[n++] = args[i];
    argv[n++] = "--record";
    argv[n++] = s->record;
    argv[n] = NULL;
    sb_errmsg em = {{0}};
    if (sb_proc_spawn(&s->proc, argv, s->log, &em) != SB_OK)
        fail_msg("devsim: %s", em.text);
    int64_t end = sb_time_mono_ms() + 5000;
    while (!sbt_file_has_line(s->log, ready)) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not start (%s)", s->log);
        sb_time_sleep_ms(10);
    }
}

void sbt_devsim_wait_record(const sbt_devsim *s, const char *line)
{
    int64_t end = sb_time_mono_ms() + 5000;
    while (!sbt_file_has_line(s->record, line)) {
        if (sb_time_mono_ms() > end)
            fail_msg("devsim did not receive '%s'", line);
        sb_time_sleep_ms(20);
    }
}

void sbt_wait_number(const char *id, double want)
{
    int64_t end = sb_time_mono_ms() + 10000;
    for (;;) {
        cJSON *d = NULL;
        bool ok = sb_store_get(sbt_pl.store, "field", id, &d, NULL) == SB_OK &&
                  sb_json_num(cJSON_GetObjectItem(d, "current"), "value", -1e9) == want;
        cJSON_Delete(d);
        if (ok)
            return;
        if (sb_time_mono_ms() > end)
            fail_msg("field %s did not become %g", id, want);
        sb_time_sleep_ms(20);
    }
}

void sbt_send_out(const char *gw, const char *type, const char *node, const char *src,
                  const char *key, const char *value)
{
    char msg[512], topic[256];
    snprintf(msg, sizeof(msg),
             "{\"gatewayId\":\"%s\",\"nodeId\":\"%s\",\"sourceId\":\"%s\",\"type\":\"%s\","
             "\"payloads\":[{\"key\":\"%s\",\"value\":\"%s\"}]}",
             gw, node, src, type, key, value);
    snprintf(topic, sizeof(topic), "sbtest/msg/out/%s", gw);
    assert_int_equal(sb_bus_publish(sbt_pl.bus, topic, msg, strlen(msg), 1, false), SB_OK);
}
