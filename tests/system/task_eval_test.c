/*
 * task_eval_test - javascript and webhook evaluation in the running task service: a script's
 * extra keys reach the handler call, a script that loops forever or allocates without end is
 * stopped while the other tasks keep working, and webhook tasks POST their variables to a real
 * local HTTP server (a thread of this test) that answers {triggered, ...}.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/secret.h"
#include "core/json.h"
#include "core/time.h"
#include "task_test_env.h"

/* ---- a small HTTP/1.1 server: one connection at a time, Connection: close ------------------ */

static int srv_fd = -1, srv_port;
static pthread_t srv_thr;
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *srv_bodies; /* every request: {"path", "auth", "body"} */

/* Reads one request; returns its body (malloc'ed) and fills path and the Authorization value. */
static char *read_request(int c, char *path, size_t plen, char *auth, size_t alen)
{
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < sizeof(buf) - 1) {
        ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return NULL;
        len += (size_t)n;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return NULL;
    sscanf(buf, "%*s %255s", path);
    (void)plen;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    const char *au = strcasestr(buf, "\r\nAuthorization:");
    auth[0] = 0;
    if (au)
        sscanf(au + 16, " %[^\r]", auth);
    (void)alen;
    size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0, have = len - (size_t)(end + 4 - buf);
    char *body = calloc(1, want + 1);
    memcpy(body, end + 4, have < want ? have : want);
    while (have < want) {
        ssize_t n = read(c, body + have, want - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    return body;
}

static void reply(int c, int status, const char *body)
{
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             status, strlen(body));
    if (write(c, head, strlen(head)) < 0 || write(c, body, strlen(body)) < 0)
        return;
}

/* /hook: triggered when the posted temp > 25, with a reason; /fail: 500; /slow: 1.5 s. */
static void serve(int c)
{
    char path[256] = "", auth[256];
    char *body = read_request(c, path, sizeof(path), auth, sizeof(auth));
    if (!body)
        return;
    cJSON *rec = cJSON_CreateObject(), *vars = cJSON_Parse(body);
    sb_json_set_str(rec, "path", path);
    sb_json_set_str(rec, "auth", auth);
    sb_json_set(rec, "body", vars ? vars : cJSON_CreateNull());
    double temp = sb_json_num(vars, "temp", 0);
    pthread_mutex_lock(&srv_mu);
    cJSON_AddItemToArray(srv_bodies, rec);
    pthread_mutex_unlock(&srv_mu);
    free(body);
    if (strcmp(path, "/fail") == 0) {
        reply(c, 500, "{\"error\":\"broken\"}");
    } else if (strcmp(path, "/slow") == 0) {
        sb_time_sleep_ms(1500);
        reply(c, 200, "{\"triggered\":true}");
    } else if (temp > 25) {
        reply(c, 200, "{\"triggered\":true,\"reason\":\"too warm\"}");
    } else {
        reply(c, 200, "{\"triggered\":false}");
    }
}

static void *srv_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        serve(c);
        close(c);
    }
}

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    srv_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv_fd < 0 || bind(srv_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(srv_fd, 16) != 0 || getsockname(srv_fd, (struct sockaddr *)&a, &al) != 0)
        return 1;
    srv_port = ntohs(a.sin_port);
    srv_bodies = cJSON_CreateArray();
    pthread_create(&srv_thr, NULL, srv_main, NULL);
    return tte_setup_with("task:\n  state_flush: 200ms\n  js_timeout: 300ms\n"
                          "  js_memory: 4194304\n  webhook_timeout: 5s\n"
                          "secret: task-test-secret\n");
}

static int teardown(void **state)
{
    int rc = tte_teardown(state);
    shutdown(srv_fd, SHUT_RDWR);
    close(srv_fd);
    pthread_join(srv_thr, NULL);
    cJSON_Delete(srv_bodies);
    return rc;
}

static void put_eval_task(const char *id, const char *field, const char *eval)
{
    char text[2000];
    snprintf(text, sizeof(text),
             "{\"id\":\"%s\",\"enabled\":true,\"triggerOnEvent\":true,"
             "\"eventFilter\":{\"quickIds\":[\"field:gw1.12.1.%s\"]},"
             "\"variables\":{\"temp\":\"field:gw1.12.1.%s.current.value\",\"room\":\"hall\"},"
             "%s,\"handlers\":[\"%s_h\"],"
             "\"handlerParameters\":{\"text\":\"{{ room }}: {{ temp }}\"}}",
             id, field, field, eval, id);
    tte_put_task(text);
}

/* ---- javascript ----------------------------------------------------------------------------- */

static void test_javascript(void **state)
{
    (void)state;
    put_eval_task("js", "V_JS",
                  "\"evaluationType\":\"javascript\",\"evaluationConfig\":{\"javascript\":"
                  "\"({triggered: variables.temp > 25, level: variables.temp > 30 ? 'high' : "
                  "'mild', at: isoTime(0)})\"}");
    tte_field_event("V_JS", "20", NULL);
    tte_sync();
    assert_int_equal(tte_calls("js_h"), 0);
    tte_field_event("V_JS", "27", NULL);
    assert_int_equal(tte_wait_calls("js_h", 1, 5000), 1);
    cJSON *c = tte_call("js_h", 0);
    cJSON *p = cJSON_GetObjectItem(c, "parameters");
    assert_string_equal(sb_json_str(p, "level", ""), "mild");
    assert_string_equal(sb_json_str(p, "at", ""), "1970-01-01T00:00:00.000Z");
    assert_string_equal(sb_json_str(p, "text", ""), "hall: 27");
    cJSON_Delete(c);
}

/* A script that never ends and one that allocates without end are stopped; the service goes on
 * evaluating the other tasks on the same events. */
static void test_javascript_limits(void **state)
{
    (void)state;
    put_eval_task("loop", "V_LIM",
                  "\"evaluationType\":\"javascript\",\"evaluationConfig\":{\"javascript\":"
                  "\"for (;;) { try { while (true) {} } catch (e) {} }\"}");
    put_eval_task("hog", "V_LIM",
                  "\"evaluationType\":\"javascript\",\"evaluationConfig\":{\"javascript\":"
                  "\"var a = [], s = new Array(1025).join('y'); for (;;) a.push(s + a.length);\"}");
    put_eval_task("fine", "V_LIM",
                  "\"rule\":{\"conditions\":[{\"variable\":\"temp\","
                  "\"operator\":\"gt\",\"value\":0}]}");
    int64_t t0 = sb_time_mono_ms();
    tte_field_event("V_LIM", "5", NULL);
    assert_int_equal(tte_wait_calls("fine_h", 1, 5000), 1);
    cJSON *st = tte_wait_state("loop", "stopped after 300 ms", 5000);
    assert_string_equal(sb_json_str(st, "status", ""), "error");
    cJSON_Delete(st);
    st = tte_wait_state("hog", "task.js_memory", 5000);
    cJSON_Delete(st);
    /* The service is unharmed: the next event is evaluated too. */
    tte_field_event("V_LIM", "6", NULL);
    assert_int_equal(tte_wait_calls("fine_h", 2, 5000), 2);
    assert_true(sb_time_mono_ms() - t0 < 5000);
    assert_int_equal(tte_calls("loop_h"), 0);
    assert_int_equal(tte_calls("hog_h"), 0);
}

/* ---- webhook -------------------------------------------------------------------------------- */

static int requests(const char *path)
{
    int n = 0;
    const cJSON *r;
    pthread_mutex_lock(&srv_mu);
    cJSON_ArrayForEach(r, srv_bodies) n += strcmp(sb_json_str(r, "path", ""), path) == 0;
    pthread_mutex_unlock(&srv_mu);
    return n;
}

/* A webhook task on field on the test server's path, with more webhook members. */
static void put_hook_task(const char *id, const char *field, const char *path, const char *more)
{
    char eval[600];
    snprintf(eval, sizeof(eval),
             "\"evaluationType\":\"webhook\",\"evaluationConfig\":{\"webhook\":{\"url\":"
             "\"http://127.0.0.1:%d%s\"%s}}",
             srv_port, path, more);
    put_eval_task(id, field, eval);
}

static void test_webhook(void **state)
{
    (void)state;
    put_hook_task("hook", "V_HOOK", "/hook", ",\"headers\":{\"Authorization\":\"Bearer t0k\"}");
    tte_field_event("V_HOOK", "21", NULL);
    tte_sync();
    assert_int_equal(requests("/hook"), 1);
    assert_int_equal(tte_calls("hook_h"), 0);
    tte_field_event("V_HOOK", "28.5", NULL);
    assert_int_equal(tte_wait_calls("hook_h", 1, 5000), 1);
    cJSON *c = tte_call("hook_h", 0);
    assert_string_equal(sb_json_str(sb_json_path(c, "parameters"), "reason", ""), "too warm");
    assert_string_equal(sb_json_str(sb_json_path(c, "parameters"), "text", ""), "hall: 28.5");
    cJSON_Delete(c);
    /* What the server received: the variables, with the trigger event, and the header. */
    pthread_mutex_lock(&srv_mu);
    cJSON *last = cJSON_GetArrayItem(srv_bodies, cJSON_GetArraySize(srv_bodies) - 1);
    cJSON *body = cJSON_GetObjectItem(last, "body");
    assert_true(sb_json_num(body, "temp", 0) == 28.5);
    assert_string_equal(sb_json_str(body, "room", ""), "hall");
    assert_string_equal(sb_json_str(sb_json_path(body, "event"), "quickId", ""),
                        "field:gw1.12.1.V_HOOK");
    assert_string_equal(sb_json_str(last, "auth", ""), "Bearer t0k");
    pthread_mutex_unlock(&srv_mu);
}

/* A header the API sealed (core/secret.h) is sent in clear; the stored task stays sealed. */
static void test_webhook_sealed_header(void **state)
{
    (void)state;
    sb_secret_key key;
    char *sealed = NULL, more[256];
    assert_int_equal(sb_secret_key_load(tte_cfg, &key, NULL), SB_OK);
    assert_int_equal(sb_secret_seal(&key, "Bearer s3aled", &sealed, NULL), SB_OK);
    snprintf(more, sizeof(more), ",\"headers\":{\"Authorization\":\"%s\"}", sealed);
    put_hook_task("hooksec", "V_HS", "/hooksec", more);
    tte_field_event("V_HS", "21", NULL);
    tte_sync();
    assert_int_equal(requests("/hooksec"), 1);
    pthread_mutex_lock(&srv_mu);
    cJSON *last = cJSON_GetArrayItem(srv_bodies, cJSON_GetArraySize(srv_bodies) - 1);
    assert_string_equal(sb_json_str(last, "path", ""), "/hooksec");
    assert_string_equal(sb_json_str(last, "auth", ""), "Bearer s3aled");
    pthread_mutex_unlock(&srv_mu);
    cJSON *doc = NULL;
    assert_int_equal(sb_store_get(tte_store, "task", "hooksec", &doc, NULL), SB_OK);
    const char *stored =
        cJSON_GetStringValue(sb_json_path(doc, "evaluationConfig.webhook.headers.Authorization"));
    assert_string_equal(stored, sealed);
    cJSON_Delete(doc);
    free(sealed);
}

static void test_webhook_failures(void **state)
{
    (void)state;
    put_hook_task("hookfail", "V_HF", "/fail", "");
    put_hook_task("hookslow", "V_HF", "/slow", ",\"timeout\":\"300ms\"");
    tte_field_event("V_HF", "30", NULL);
    cJSON *st = tte_wait_state("hookfail", "answered HTTP 500", 5000);
    assert_string_equal(sb_json_str(st, "status", ""), "error");
    cJSON_Delete(st);
    st = tte_wait_state("hookslow", "within 300 ms", 5000);
    cJSON_Delete(st);
    assert_int_equal(tte_calls("hookfail_h") + tte_calls("hookslow_h"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_javascript),       cmocka_unit_test(test_javascript_limits),
        cmocka_unit_test(test_webhook),          cmocka_unit_test(test_webhook_sealed_header),
        cmocka_unit_test(test_webhook_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
