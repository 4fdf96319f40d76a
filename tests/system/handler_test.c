/*
 * handler_test - the handler service against a real mosquitto, a sqlite store and a real local
 * HTTP server (http_stub.c): the log, mqtt and webhook handlers with rendered templates,
 * retries with backoff, a status the spec does not expect shown in the state, a bad spec, a slow
 * webhook that delays no other handler, a malformed call logged and dropped, reload on events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handler_test_util.h"
#include "http_stub.h"

#include "core/secret.h"

static sbt_http *http;

static int setup(void **state)
{
    (void)state;
    hte_setup("handler");
    http = sbt_http_start();
    int port = sbt_http_port(http);
    char doc[2048];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mqext\",\"type\":\"mqtt\",\"enabled\":true,\"spec\":{"
             "\"url\":\"%s\",\"topic\":\"out/ext/{{ room }}\",\"payload\":\"{{ room }}\"}}",
             hte.buscfg.url);
    hte_put(doc);
    hte_put("{\"id\":\"mqdown\",\"type\":\"mqtt\",\"enabled\":true,\"spec\":{"
            "\"url\":\"tcp://127.0.0.1:1\",\"topic\":\"x\",\"timeout\":\"500ms\",\"retries\":1,"
            "\"retryDelay\":\"50ms\"}}");
    hte_put("{\"id\":\"log1\",\"type\":\"log\",\"enabled\":true,"
            "\"spec\":{\"message\":\"hello {{ name }}\",\"level\":\"warn\"}}");
    hte_put("{\"id\":\"mq1\",\"type\":\"mqtt\",\"enabled\":true,"
            "\"spec\":{\"topic\":\"out/{{ room }}/cmd\",\"payload\":\"{\\\"v\\\":{{ value }}}\","
            "\"qos\":1}}");
    snprintf(doc, sizeof(doc),
             "{\"id\":\"wh1\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/hook/{{ room }}\",\"method\":\"PUT\","
             "\"headers\":{\"X-Token\":\"t-{{ token }}\",\"Content-Type\":\"text/plain\"},"
             "\"query\":{\"q\":\"{{ room }} & more\"},"
             "\"body\":\"temp={{ value | fixed 1 }} from {{ source }}\"}}",
             port);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"flaky\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/flaky\",\"retries\":3,\"retryDelay\":\"50ms\"}}",
             port);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"picky\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/picky\",\"expectedStatus\":[201],"
             "\"retries\":3,\"retryDelay\":\"50ms\"}}",
             port);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"slow\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/slow\",\"timeout\":\"10s\"}}",
             port);
    hte_put(doc);
    hte_put("{\"id\":\"badspec\",\"type\":\"webhook\",\"enabled\":true,"
            "\"spec\":{\"url\":\"http://x\",\"nope\":1}}");
    hte_put("{\"id\":\"off\",\"type\":\"log\",\"enabled\":false}");
    snprintf(doc, sizeof(doc),
             "{\"id\":\"bk\",\"type\":\"backup\",\"enabled\":true,\"spec\":{"
             "\"directory\":\"%s/backups\",\"retention\":2}}",
             hte.tmp);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"bkdir\",\"type\":\"backup\",\"enabled\":true,\"spec\":{"
             "\"directory\":\"%s/backups\",\"prefix\":\"plain\",\"archive\":false}}",
             hte.tmp);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"rs\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/rs1\"}}",
             port);
    hte_put(doc);
    sbt_http_rule(http, "/rs1", 200, "{}", 1000, -1);
    /* A header sealed by the API (core/secret.h) under this installation's secret. */
    free(hte.cfg->secret);
    hte.cfg->secret = strdup("handler-test-secret");
    sb_secret_key key;
    char *sealed = NULL;
    if (sb_secret_key_load(hte.cfg, &key, NULL) != SB_OK ||
        sb_secret_seal(&key, "Bearer s3aled", &sealed, NULL) != SB_OK)
        return 1;
    snprintf(doc, sizeof(doc),
             "{\"id\":\"whsec\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/sealed\",\"headers\":{\"Authorization\":\"%s\"}}}",
             port, sealed);
    free(sealed);
    hte_put(doc);
    hte.cfg->handler.queue_max = 3;
    sbt_http_rule(http, "/flaky", 503, "busy", 0, 2);
    sbt_http_rule(http, "/picky", 200, "{}", 0, -1);
    sbt_http_rule(http, "/slow", 200, "{}", 2500, -1);
    hte_service_start("handlers.wh1.type"); /* it subscribes to calls once they run */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hte_service_stop();
    sbt_http_stop(http);
    hte_teardown();
    return 0;
}

static void test_log_and_state(void **state)
{
    (void)state;
    hte_call("log1", "{}", "{\"name\":\"world\"}");
    assert_true(hte_wait_count("sbtest/event/handler/log1", "entity.state.status", "ok", 1, 5000));
    cJSON *doc = hte_get("log1");
    assert_string_equal(sb_json_str(sb_json_path(doc, "state"), "message", ""), "delivered");
    assert_non_null(sb_json_path(doc, "state.since"));
    assert_non_null(sb_json_path(doc, "spec.message")); /* the document is kept */
    cJSON_Delete(doc);
}

static void test_mqtt_publish(void **state)
{
    (void)state;
    hte_call("mq1", "{\"room\":\"hall\"}", "{\"value\":21.5}");
    assert_true(hte_wait_count("out/hall/cmd", "v", NULL, 1, 5000));
    assert_int_equal(hte_count("out/hall/cmd", NULL, NULL), 1);
    cJSON *m = hte_seen("out/hall/cmd", 0);
    assert_float_equal(sb_json_num(m, "v", 0), 21.5, 1e-9);
    cJSON_Delete(m);
}

/* The mqtt handler on another broker (its own client; here the same mosquitto by URL). */
static void test_mqtt_other_broker(void **state)
{
    (void)state;
    hte_call("mqext", "{}", "{\"room\":\"cellar\"}");
    assert_true(hte_wait_count("out/ext/cellar", NULL, NULL, 1, 10000));
    cJSON *m = hte_seen("out/ext/cellar", 0);
    assert_true(cJSON_IsNumber(m) || cJSON_IsString(m));
    cJSON_Delete(m);
    assert_true(hte_wait_count("sbtest/event/handler/mqext", "entity.state.message",
                               "published to out/ext/cellar", 1, 5000));
    /* a broker that is not there: retried, then the state says so */
    hte_call("mqdown", "{}", "{}");
    assert_true(
        hte_wait_count("sbtest/event/handler/mqdown", "entity.state.status", "error", 1, 10000));
    assert_true(hte_state_says("mqdown", "tcp://127.0.0.1:1"));
}

static void test_webhook_rendered(void **state)
{
    (void)state;
    hte_call("wh1", "{\"token\":\"abc\"}", "{\"room\":\"kitchen\",\"value\":20.25}");
    assert_true(sbt_http_wait(http, "/hook/", 1, 5000));
    sbt_http_req r;
    assert_true(sbt_http_get(http, "/hook/", 0, &r));
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.target, "/hook/kitchen?q=kitchen%20%26%20more");
    char v[256];
    assert_true(sbt_http_header(&r, "X-Token", v, sizeof(v)));
    assert_string_equal(v, "t-abc");
    assert_true(sbt_http_header(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/plain");
    assert_string_equal(r.body, "temp=20.2 from test");
    sbt_http_req_free(&r);
    assert_true(
        hte_wait_count("sbtest/event/handler/wh1", "entity.state.message", "HTTP 200", 1, 5000));
}

/* The sealed Authorization header goes out in clear; the stored handler stays sealed. */
static void test_webhook_sealed_header(void **state)
{
    (void)state;
    hte_call("whsec", "{}", "{}");
    assert_true(sbt_http_wait(http, "/sealed", 1, 5000));
    sbt_http_req r;
    assert_true(sbt_http_get(http, "/sealed", 0, &r));
    char v[256];
    assert_true(sbt_http_header(&r, "Authorization", v, sizeof(v)));
    assert_string_equal(v, "Bearer s3aled");
    sbt_http_req_free(&r);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(hte.store, "handler", "whsec", &doc, NULL), SB_OK);
    assert_true(
        sb_secret_is_sealed(cJSON_GetStringValue(sb_json_path(doc, "spec.headers.Authorization"))));
    cJSON_Delete(doc);
}

static void test_webhook_retry_then_success(void **state)
{
    (void)state;
    hte_call("flaky", "{\"a\":1}", "{}");
    assert_true(sbt_http_wait(http, "/flaky", 3, 5000));
    assert_true(hte_wait_count("sbtest/event/handler/flaky", "entity.state.status", "ok", 1, 5000));
    assert_int_equal(sbt_http_count(http, "/flaky"), 3);
    sbt_http_req r;
    assert_true(sbt_http_get(http, "/flaky", 2, &r));
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.body, "{\"a\":1}"); /* no body template: the parameters */
    sbt_http_req_free(&r);
    assert_true(hte_wait_status("handlers.flaky.retries", 5000));
    assert_int_equal(hte_status_num("handlers.flaky.retries"), 2);
    assert_int_equal(hte_status_num("handlers.flaky.delivered"), 1);
}

static void test_webhook_unexpected_status(void **state)
{
    (void)state;
    hte_call("picky", "{}", "{}");
    assert_true(
        hte_wait_count("sbtest/event/handler/picky", "entity.state.status", "error", 1, 5000));
    assert_true(hte_state_says("picky", "HTTP 200"));
    assert_true(hte_state_says("picky", "expected 201"));
    assert_int_equal(sbt_http_count(http, "/picky"), 1); /* a 2xx/4xx is not retried */
}

static void test_bad_spec_in_state(void **state)
{
    (void)state;
    assert_true(
        hte_wait_count("sbtest/event/handler/badspec", "entity.state.status", "error", 1, 5000));
    assert_true(hte_state_says("badspec", "spec.nope"));
    assert_int_equal(hte_count("sbtest/event/handler/off", "entity.state", NULL), 0);
}

static void test_slow_webhook_delays_nothing_else(void **state)
{
    (void)state;
    int before = hte_count("out/study/cmd", NULL, NULL);
    hte_call("slow", "{}", "{}");
    assert_true(sbt_http_wait(http, "/slow", 1, 5000)); /* the slow request is under way */
    int64_t t0 = sb_time_mono_ms();
    hte_call("mq1", "{\"room\":\"study\"}", "{\"value\":1}");
    hte_call("log1", "{}", "{\"name\":\"again\"}");
    assert_true(hte_wait_count("out/study/cmd", NULL, NULL, before + 1, 2000));
    assert_true(sb_time_mono_ms() - t0 < 1500);
    assert_int_equal(hte_status_num_now("handlers.slow.delivered"), 0);
    /* the slow handler's queue (handler.queue_max 3) fills up: the rest is dropped, counted */
    for (int i = 0; i < 5; i++)
        hte_call("slow", "{}", "{}");
    assert_true(hte_wait_status_at_least("handlers.slow.dropped", 2, 5000));
    assert_int_equal(hte_status_num("handlers.slow.queued"), 3);
    assert_int_equal(hte_status_num_now("handlers.slow.dropped"), 2);
}

static void test_malformed_call_dropped(void **state)
{
    (void)state;
    hte_publish("sbtest/handler/log1", "{not json");
    hte_publish("sbtest/handler/log1", "{\"id\":\"other\",\"source\":\"x\"}");
    hte_publish("sbtest/handler/log1", "{\"id\":\"log1\"}");
    assert_true(hte_wait_status_at_least("malformedCalls", 3, 5000));
    /* the service still works */
    hte_call("mq1", "{\"room\":\"after\"}", "{\"value\":2}");
    assert_true(hte_wait_count("out/after/cmd", NULL, NULL, 1, 5000));
}

static void test_reload_on_event(void **state)
{
    (void)state;
    hte_put("{\"id\":\"mq1\",\"type\":\"mqtt\",\"enabled\":true,"
            "\"spec\":{\"topic\":\"moved/{{ room }}\",\"payload\":\"x\"}}");
    /* the reload happens on the main thread; calls made meanwhile still go to mq1 */
    int64_t end = sb_time_mono_ms() + 5000;
    while (hte_count("moved/attic", NULL, NULL) == 0 && sb_time_mono_ms() < end) {
        hte_call("mq1", "{\"room\":\"attic\"}", "{}");
        sb_time_sleep_ms(100);
    }
    assert_true(hte_count("moved/attic", NULL, NULL) > 0);
    /* disabled: calls are ignored */
    hte_put("{\"id\":\"mq1\",\"type\":\"mqtt\",\"enabled\":false,"
            "\"spec\":{\"topic\":\"moved/{{ room }}\",\"payload\":\"x\"}}");
    assert_true(hte_wait_status_absent("handlers.mq1", 5000));
}

/* <p>/ctl/handler/reload with a reply: forced restarts, and what happened to each. */
static void test_ctl_reload_reply(void **state)
{
    (void)state;
    const char *req = "{\"ids\":[\"log1\",\"off\",\"nosuch\"]}";
    char *reply = NULL;
    size_t len = 0;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_bus_request(hte.bus, "sbtest/ctl/handler/reload", req, strlen(req), 5000,
                                    &reply, &len, &em),
                     SB_OK);
    cJSON *r = NULL;
    assert_int_equal(sb_json_parse(reply, len, &r, NULL), SB_OK);
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "log1", ""), "restarted");
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "off", ""), "not running");
    assert_string_equal(sb_json_str(sb_json_path(r, "results"), "nosuch", ""), "not running");
    cJSON_Delete(r);
    free(reply);
    /* the restarted handler (its counters start again) works */
    hte_call("log1", "{}", "{\"name\":\"after reload\"}");
    hte_call("log1", "{\"x\":\"{{\"}", "{}"); /* a parameter that is a broken template */
    assert_true(hte_wait_status_at_least("handlers.log1.delivered", 2, 5000));
}

/* Names in dir starting with prefix. */
static int listed(const char *dir, const char *prefix, char *last, size_t len)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        n++;
        if (last && strcmp(e->d_name, last) > 0)
            snprintf(last, len, "%s", e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

extern char **environ;

/* Runs `switchboard -c <yaml> backup import <path>` into a fresh sqlite store. */
static void import_into(const char *db, const char *path)
{
    char yaml[1200], text[2048], bin[1024];
    snprintf(yaml, sizeof(yaml), "%s/import.yaml", hte.tmp);
    snprintf(text, sizeof(text),
             "data_dir: %s\nstorage:\n  type: sqlite\n  sqlite:\n    path: %s\n", hte.tmp, db);
    FILE *f = fopen(yaml, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    const char *bdir = getenv("SB_BUILD_DIR");
    snprintf(bin, sizeof(bin), "%s/services/switchboard/switchboard", bdir ? bdir : ".");
    const char *argv[] = {bin, "-c", yaml, "backup", "import", path, NULL};
    /* posix_spawn + waitpid: sb_proc_spawn reports a child that is done within its first
     * milliseconds as failed to start, and the import may be that quick */
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, (char *const *)argv, environ), 0);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A restart cuts a delivery in progress short and keeps that call; a call that arrives while
 * the handler restarts waits; both go to the restarted handler, in order. */
static void test_calls_kept_across_restart(void **state)
{
    (void)state;
    hte_call("rs", "{\"n\":1}", "{}");
    assert_true(sbt_http_wait(http, "/rs1", 1, 5000)); /* would be answered after 1 s */
    int64_t t0 = sb_time_mono_ms();
    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"rs\",\"type\":\"webhook\",\"enabled\":true,\"spec\":{"
             "\"url\":\"http://127.0.0.1:%d/rs2\"}}",
             sbt_http_port(http));
    hte_put(doc);
    hte_call("rs", "{\"n\":2}", "{}");
    assert_true(sbt_http_wait(http, "/rs2", 2, 10000));
    assert_true(sb_time_mono_ms() - t0 < 900); /* the 1 s answer was not waited for */
    sbt_http_req r;
    assert_true(sbt_http_get(http, "/rs2", 0, &r));
    assert_string_equal(r.body, "{\"n\":1}");
    sbt_http_req_free(&r);
    assert_true(sbt_http_get(http, "/rs2", 1, &r));
    assert_string_equal(r.body, "{\"n\":2}");
    sbt_http_req_free(&r);
    assert_int_equal(sbt_http_count(http, "/rs1"), 1);
    assert_int_equal(hte_status_num("unknownCalls"), 0);
    assert_int_equal(hte_status_num_now("handlers.rs.failed"), 0);
}

static void test_backup_and_restore(void **state)
{
    (void)state;
    char dir[1024], last[512] = "", path[1600], db[1100];
    snprintf(dir, sizeof(dir), "%s/backups", hte.tmp);
    for (int i = 1; i <= 3; i++) {
        hte_call("bk", "{}", "{}");
        assert_true(hte_wait_status_at_least("handlers.bk.delivered", i, 10000));
    }
    assert_int_equal(listed(dir, "switchboard-backup-", last, sizeof(last)), 2); /* retention */
    assert_non_null(strstr(last, ".tar.gz"));
    char status[32], msg[256];
    hte_state("bk", status, sizeof(status), msg, sizeof(msg));
    assert_string_equal(status, "ok");
    /* the newest restores into an empty store with the CLI */
    snprintf(path, sizeof(path), "%s/%s", dir, last);
    snprintf(db, sizeof(db), "%s/restored.db", hte.tmp);
    import_into(db, path);
    sb_config *c2 = NULL;
    assert_int_equal(sb_config_defaults(&c2, NULL), SB_OK);
    c2->storage.type = SB_STORE_SQLITE;
    free(c2->storage.sqlite.path);
    c2->storage.sqlite.path = strdup(db);
    sb_store *s2 = NULL;
    assert_int_equal(sb_store_open(c2, &s2, NULL), SB_OK);
    cJSON *got = NULL;
    assert_int_equal(sb_store_get(s2, "handler", "wh1", &got, NULL), SB_OK);
    assert_string_equal(sb_json_str(got, "type", ""), "webhook");
    cJSON_Delete(got);
    sb_store_close(s2);
    sb_config_free(c2);
    /* a directory backup */
    hte_call("bkdir", "{}", "{}");
    assert_true(hte_wait_status_at_least("handlers.bkdir.delivered", 1, 10000));
    last[0] = '\0';
    assert_int_equal(listed(dir, "plain-", last, sizeof(last)), 1);
    snprintf(path, sizeof(path), "%s/%s/manifest.json", dir, last);
    assert_int_equal(access(path, R_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_and_state),
        cmocka_unit_test(test_mqtt_publish),
        cmocka_unit_test(test_mqtt_other_broker),
        cmocka_unit_test(test_webhook_rendered),
        cmocka_unit_test(test_webhook_sealed_header),
        cmocka_unit_test(test_webhook_retry_then_success),
        cmocka_unit_test(test_webhook_unexpected_status),
        cmocka_unit_test(test_bad_spec_in_state),
        cmocka_unit_test(test_slow_webhook_delays_nothing_else),
        cmocka_unit_test(test_malformed_call_dropped),
        cmocka_unit_test(test_reload_on_event),
        cmocka_unit_test(test_calls_kept_across_restart),
        cmocka_unit_test(test_ctl_reload_reply),
        cmocka_unit_test(test_backup_and_restore),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
