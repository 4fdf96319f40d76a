/*
 * handler_notify_test - the email and telegram handlers against real local servers: a real
 * SMTP server (Debian's python3-aiosmtpd, smtp_sink.py) with and without AUTH, and a real HTTP
 * server answering in the Bot API's shape (http_stub.c), through the handler service with a
 * real mosquitto.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/proc.h"
#include "handler_test_util.h"
#include "http_stub.h"

static sbt_http *http;
static sb_proc smtp_plain, smtp_auth, smtp_tls, smtp_ssl;
static char dir_plain[1024], dir_auth[1024], dir_tls[1024], dir_ssl[1024];

/* Starts smtp_sink.py on a free port writing into dir; returns the port. tls: NULL, "starttls"
 * or "ssl". */
static int start_smtp(sb_proc *p, char *dir, size_t len, const char *name, const char *user,
                      const char *pass, const char *tls)
{
    snprintf(dir, len, "%s/%s", hte.tmp, name);
    assert_int_equal(sb_mkdirs(dir, NULL), SB_OK);
    int port = 0;
    assert_int_equal(sb_port_free(&port, NULL), SB_OK);
    char script[1024], ports[16], log[1100];
    const char *src = getenv("SB_SOURCE_DIR");
    snprintf(script, sizeof(script), "%s/tests/system/smtp_sink.py", src ? src : ".");
    snprintf(ports, sizeof(ports), "%d", port);
    snprintf(log, sizeof(log), "%s.log", dir);
    const char *argv[10] = {"/usr/bin/python3", script, ports, dir};
    int n = 4;
    if (user) {
        argv[n++] = user;
        argv[n++] = pass;
    }
    if (tls) {
        argv[n++] = "--tls";
        argv[n++] = tls;
    }
    assert_int_equal(sb_proc_spawn(p, argv, log, NULL), SB_OK);
    char ready[1100];
    snprintf(ready, sizeof(ready), "%s/ready", dir);
    int64_t end = sb_time_mono_ms() + 15000;
    while (access(ready, F_OK) != 0 && sb_time_mono_ms() < end && sb_proc_alive(p, NULL))
        sb_time_sleep_ms(20);
    if (access(ready, F_OK) != 0)
        fail_msg("smtp_sink.py did not start (see %s)", log);
    return port;
}

/* The n-th message (1-based) the sink in dir stored, waiting up to timeout_ms. */
static cJSON *wait_mail(const char *dir, int n, int64_t timeout_ms)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%d.json", dir, n);
    int64_t end = sb_time_mono_ms() + timeout_ms;
    while (access(path, F_OK) != 0 && sb_time_mono_ms() < end)
        sb_time_sleep_ms(10);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[65536];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    cJSON *o = NULL;
    sb_json_parse(buf, len, &o, NULL);
    return o;
}

static int setup(void **state)
{
    (void)state;
    hte_setup("handler_notify");
    http = sbt_http_start();
    int p1 = start_smtp(&smtp_plain, dir_plain, sizeof(dir_plain), "smtp", NULL, NULL, NULL);
    int p2 = start_smtp(&smtp_auth, dir_auth, sizeof(dir_auth), "smtpauth", "ann", "s3cret", NULL);
    int p3 = start_smtp(&smtp_tls, dir_tls, sizeof(dir_tls), "smtptls", "bob", "pw", "starttls");
    int p4 = start_smtp(&smtp_ssl, dir_ssl, sizeof(dir_ssl), "smtpssl", NULL, NULL, "ssl");
    char doc[2048];
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mail\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"none\","
             "\"from\":\"switchboard@example.org\","
             "\"to\":[\"{{ who }}@example.org\",\"ops@example.org\"],"
             "\"subject\":\"Battery low: {{ node }}\","
             "\"body\":\"Node {{ node }} reports {{ level | fixed 0 }} %%.\\n.\\nBye\"}}",
             p1);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mailauth\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"none\","
             "\"username\":\"ann\",\"password\":\"s3cret\",\"from\":\"sb@example.org\","
             "\"to\":[\"ann@example.org\"],\"body\":\"hi\"}}",
             p2);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mailbad\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"none\",\"retries\":1,"
             "\"retryDelay\":\"20ms\",\"username\":\"ann\",\"password\":\"wrong\","
             "\"from\":\"sb@example.org\",\"to\":[\"ann@example.org\"]}}",
             p2);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mailtls\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"starttls\",\"insecure\":true,"
             "\"username\":\"bob\",\"password\":\"pw\",\"from\":\"sb@example.org\","
             "\"to\":[\"bob@example.org\"],\"subject\":\"tls\",\"body\":\"over tls\"}}",
             p3);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mailverify\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"starttls\",\"retries\":0,"
             "\"username\":\"bob\",\"password\":\"pw\",\"from\":\"sb@example.org\","
             "\"to\":[\"bob@example.org\"]}}",
             p3);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"mailssl\",\"type\":\"email\",\"enabled\":true,\"spec\":{"
             "\"host\":\"127.0.0.1\",\"port\":%d,\"security\":\"ssl\",\"insecure\":true,"
             "\"from\":\"sb@example.org\",\"to\":[\"eve@example.org\"],\"body\":\"smtps\"}}",
             p4);
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"tg\",\"type\":\"telegram\",\"enabled\":true,\"spec\":{"
             "\"token\":\"123:ABC\",\"chatIds\":[\"42\",\"@alerts\"],\"parseMode\":\"HTML\","
             "\"text\":\"<b>{{ node }}</b> is {{ state }}\","
             "\"baseUrl\":\"http://127.0.0.1:%d\"}}",
             sbt_http_port(http));
    hte_put(doc);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"tgbad\",\"type\":\"telegram\",\"enabled\":true,\"spec\":{"
             "\"token\":\"999:BAD\",\"chatIds\":[1],\"baseUrl\":\"http://127.0.0.1:%d\"}}",
             sbt_http_port(http));
    hte_put(doc);
    sbt_http_rule(http, "/bot123:ABC/sendMessage", 200,
                  "{\"ok\":true,\"result\":{\"message_id\":1}}", 0, -1);
    sbt_http_rule(http, "/bot999:BAD/", 401,
                  "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}", 0, -1);
    hte_service_start("handlers.tgbad.type");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hte_service_stop();
    sbt_http_stop(http);
    sb_proc_stop(&smtp_plain, 15, 2000);
    sb_proc_stop(&smtp_auth, 15, 2000);
    sb_proc_stop(&smtp_tls, 15, 2000);
    sb_proc_stop(&smtp_ssl, 15, 2000);
    hte_teardown();
    return 0;
}

static void test_email_rendered(void **state)
{
    (void)state;
    hte_call("mail", "{\"who\":\"ann\"}", "{\"node\":\"gw1.12\",\"level\":9.4}");
    cJSON *m = wait_mail(dir_plain, 1, 10000);
    assert_non_null(m);
    assert_string_equal(sb_json_str(m, "from", ""), "switchboard@example.org");
    const cJSON *to = cJSON_GetObjectItem(m, "to");
    assert_int_equal(cJSON_GetArraySize(to), 2);
    assert_string_equal(cJSON_GetArrayItem(to, 0)->valuestring, "ann@example.org");
    assert_string_equal(cJSON_GetArrayItem(to, 1)->valuestring, "ops@example.org");
    const char *data = sb_json_str(m, "data", "");
    assert_non_null(strstr(data, "Subject: Battery low: gw1.12\r\n"));
    assert_non_null(strstr(data, "To: <ann@example.org>, <ops@example.org>\r\n"));
    assert_non_null(strstr(data, "Content-Type: text/plain; charset=UTF-8\r\n"));
    /* the body, its lone "." line intact (SMTP dot-stuffing both ways) */
    assert_non_null(strstr(data, "\r\n\r\nNode gw1.12 reports 9 %.\r\n.\r\nBye"));
    cJSON_Delete(m);
    assert_true(hte_wait_count("sbtest/event/handler/mail", "entity.state.message",
                               "sent to 2 recipients", 1, 5000));
}

static void test_email_auth(void **state)
{
    (void)state;
    hte_call("mailauth", "{}", "{}");
    cJSON *m = wait_mail(dir_auth, 1, 10000);
    assert_non_null(m);
    assert_string_equal(sb_json_str(m, "login", ""), "ann");
    assert_non_null(strstr(sb_json_str(m, "data", ""), "\r\n\r\nhi"));
    cJSON_Delete(m);
    /* a wrong password: retried, then the state says why; nothing delivered */
    hte_call("mailbad", "{}", "{}");
    assert_true(
        hte_wait_count("sbtest/event/handler/mailbad", "entity.state.status", "error", 1, 10000));
    assert_true(hte_state_says("mailbad", "smtp://127.0.0.1:"));
    assert_int_equal(hte_status_num("handlers.mailbad.retries"), 1);
    assert_null(wait_mail(dir_auth, 2, 200));
}

static void test_email_tls(void **state)
{
    (void)state;
    /* STARTTLS (required by the server) with a login, certificate not checked (insecure) */
    hte_call("mailtls", "{}", "{}");
    cJSON *m = wait_mail(dir_tls, 1, 10000);
    assert_non_null(m);
    assert_true(sb_json_bool(m, "tls", false));
    assert_string_equal(sb_json_str(m, "login", ""), "bob");
    assert_non_null(strstr(sb_json_str(m, "data", ""), "\r\n\r\nover tls"));
    cJSON_Delete(m);
    /* SMTPS */
    hte_call("mailssl", "{}", "{}");
    m = wait_mail(dir_ssl, 1, 10000);
    assert_non_null(m);
    assert_true(sb_json_bool(m, "tls", false));
    assert_non_null(strstr(sb_json_str(m, "data", ""), "\r\n\r\nsmtps"));
    cJSON_Delete(m);
    /* the self-signed certificate is refused when it is checked: nothing sent */
    hte_call("mailverify", "{}", "{}");
    assert_true(hte_wait_count("sbtest/event/handler/mailverify", "entity.state.status", "error", 1,
                               10000));
    assert_null(wait_mail(dir_tls, 2, 200));
}

static void test_telegram(void **state)
{
    (void)state;
    hte_call("tg", "{}", "{\"node\":\"door\",\"state\":\"open\"}");
    assert_true(sbt_http_wait(http, "/bot123:ABC/sendMessage", 2, 5000));
    sbt_http_req r;
    assert_true(sbt_http_get(http, "/bot123:ABC/sendMessage", 0, &r));
    assert_string_equal(r.method, "POST");
    char v[128];
    assert_true(sbt_http_header(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_string_equal(r.body, "{\"chat_id\":42,\"text\":\"<b>door</b> is open\","
                                "\"parse_mode\":\"HTML\"}");
    sbt_http_req_free(&r);
    assert_true(sbt_http_get(http, "/bot123:ABC/sendMessage", 1, &r));
    assert_non_null(strstr(r.body, "\"chat_id\":\"@alerts\""));
    sbt_http_req_free(&r);
    assert_true(hte_wait_count("sbtest/event/handler/tg", "entity.state.message", "sent to 2 chats",
                               1, 5000));
    /* refused by the Bot API: not retried, the description in the state, the token not */
    hte_call("tgbad", "{\"x\":1}", "{}");
    assert_true(
        hte_wait_count("sbtest/event/handler/tgbad", "entity.state.status", "error", 1, 5000));
    assert_true(hte_state_says("tgbad", "Unauthorized"));
    assert_false(hte_state_says("tgbad", "999:BAD"));
    assert_int_equal(sbt_http_count(http, "/bot999:BAD/"), 1);
    assert_true(sbt_http_get(http, "/bot999:BAD/", 0, &r));
    assert_string_equal(r.body, "{\"chat_id\":1,\"text\":\"{\\\"x\\\":1}\"}");
    sbt_http_req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_rendered),
        cmocka_unit_test(test_email_auth),
        cmocka_unit_test(test_email_tls),
        cmocka_unit_test(test_telegram),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
