/*
 * api_ws_test - the websocket /api/ws of the API service over real sockets (a raw RFC 6455
 * client, ws_client.c) with a real mosquitto: authentication (header, cookie, first message,
 * refusal), subscriptions matched against events the test publishes on the bus (single and
 * batched), ping/pong, and a client that never reads while events flood.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "ws_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"

static wsc *open_bearer(void)
{
    char hdr[2200];
    int status;
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", apit_env()->admin_token);
    wsc *c = wsc_connect(apit_env()->port, "/api/ws", hdr, 0, &status);
    if (!c)
        fail_msg("upgrade: HTTP %d", status);
    cJSON *j = wsc_wait_type(c, "authenticated", 5000);
    assert_non_null(j);
    cJSON_Delete(j);
    return c;
}

static void subscribe(wsc *c, const char *body)
{
    assert_true(wsc_send(c, body));
    cJSON *j = wsc_wait_type(c, "subscribed", 5000);
    if (!j)
        fail_msg("no 'subscribed' for %s", body);
    cJSON_Delete(j);
}

static char *event_json(const char *type, const char *kind, const char *id, const char *qid)
{
    char *t = malloc(1024);
    snprintf(t, 1024,
             "{\"type\":\"%s\",\"entityType\":\"%s\",\"entityId\":\"%s\",\"quickId\":\"%s\","
             "\"entity\":{\"id\":\"%s\",\"current\":{\"value\":\"21.5\"}}}",
             type, kind, id, qid, id);
    return t;
}

static void publish(const char *topic, const char *payload)
{
    char full[512];
    snprintf(full, sizeof(full), "sbtest/%s", topic);
    assert_int_equal(sb_bus_publish(apit_bus(), full, payload, strlen(payload), 1, false), SB_OK);
}

static void publish_event(const char *type, const char *kind, const char *id, const char *qid)
{
    char topic[256];
    snprintf(topic, sizeof(topic), "event/%s/%s", kind, id);
    char *e = event_json(type, kind, id, qid);
    publish(topic, e);
    free(e);
}

/* The next event's quick id (and type), or fails. */
static void expect_event(wsc *c, const char *qid, const char *type)
{
    cJSON *j = wsc_recv_json(c, 5000);
    if (!j)
        fail_msg("no event, wanted %s %s", type, qid);
    const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(j, "quickId"));
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
    if (!q || !t || strcmp(q, qid) != 0 || strcmp(t, type) != 0)
        fail_msg("got %s, wanted %s %s", cJSON_PrintUnformatted(j), type, qid);
    assert_non_null(cJSON_GetObjectItem(j, "entity"));
    cJSON_Delete(j);
}

static void test_refused_without_token(void **state)
{
    int status, code = 0;
    char reason[256] = "", *text = NULL;
    wsc *c = wsc_connect(apit_env()->port, "/api/ws", NULL, 0, &status);
    assert_non_null(c);
    assert_true(wsc_send(c, "{\"type\":\"subscribe\",\"kinds\":[\"field\"]}"));
    assert_int_equal(wsc_recv(c, 5000, &text, &code, reason, sizeof(reason)), WSC_CLOSE);
    assert_int_equal(code, 1008);
    assert_non_null(strstr(reason, "unauthorized"));
    wsc_close(c);
    /* A wrong token in the first message. */
    c = wsc_connect(apit_env()->port, "/api/ws", NULL, 0, &status);
    assert_true(wsc_send(c, "{\"type\":\"auth\",\"token\":\"not.a.token\"}"));
    assert_int_equal(wsc_recv(c, 5000, &text, &code, reason, sizeof(reason)), WSC_CLOSE);
    assert_non_null(strstr(reason, "invalid token"));
    wsc_close(c);
    /* A wrong bearer header: closed at once with the reason. */
    c = wsc_connect(apit_env()->port, "/api/ws", "Authorization: Bearer x.y.z", 0, &status);
    if (c) {
        wsc_kind k = wsc_recv(c, 5000, &text, &code, reason, sizeof(reason));
        assert_true(k == WSC_CLOSE || k == WSC_ERROR);
        wsc_close(c);
    }
}

static void test_auth_message_cookie_and_ping(void **state)
{
    int status;
    wsc *c = wsc_connect(apit_env()->port, "/api/ws", NULL, 0, &status);
    assert_non_null(c);
    char msg[2300];
    snprintf(msg, sizeof(msg), "{\"type\":\"auth\",\"token\":\"%s\"}", apit_env()->admin_token);
    assert_true(wsc_send(c, msg));
    cJSON *j = wsc_wait_type(c, "authenticated", 5000);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "username")), "admin");
    cJSON_Delete(j);
    assert_true(wsc_send(c, "{\"type\":\"ping\"}"));
    j = wsc_wait_type(c, "pong", 5000);
    assert_non_null(j);
    cJSON_Delete(j);
    assert_true(wsc_send(c, "{\"type\":\"subscribe\",\"kinds\":7}"));
    j = wsc_wait_type(c, "error", 5000);
    assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")), "kinds"));
    cJSON_Delete(j);
    wsc_close(c);
    snprintf(msg, sizeof(msg), "Cookie: other=1; sb_token=%s", apit_env()->admin_token);
    c = wsc_connect(apit_env()->port, "/api/ws", msg, 0, &status);
    assert_non_null(c);
    j = wsc_wait_type(c, "authenticated", 5000);
    assert_non_null(j);
    cJSON_Delete(j);
    wsc_close(c);
}

/* Publishes events as one batch on <p>/event/field, in order. */
static void publish_batch(int n, const char *const *ids)
{
    char batch[8192] = "[";
    for (int i = 0; i < n; i++) {
        char qid[256];
        snprintf(qid, sizeof(qid), "field:%s", ids[i]);
        char *e = event_json("updated", "field", ids[i], qid);
        snprintf(batch + strlen(batch), sizeof(batch) - strlen(batch), "%s%s", i ? "," : "", e);
        free(e);
    }
    strcat(batch, "]");
    publish("event/field", batch);
}

static void test_subscriptions(void **state)
{
    wsc *a = open_bearer(), *b = open_bearer();
    subscribe(a, "{\"type\":\"subscribe\",\"id\":\"n12\",\"prefixes\":[\"node:gw1.12\"],"
                 "\"kinds\":[\"field\"],\"events\":[\"updated\"]}");
    subscribe(a, "{\"type\":\"subscribe\",\"quickIds\":[\"field:m.1.1.a\"]}");
    subscribe(b, "{\"type\":\"subscribe\",\"quickIds\":[\"sf:gw9.1.1.x\",\"field:m.1.1.b\"]}");
    /* Not for a: created, another node (gw1.120), a source; none of them for b. */
    publish_event("created", "field", "gw1.12.1.V_TEMP", "field:gw1.12.1.V_TEMP");
    publish_event("updated", "field", "gw1.120.1.V_TEMP", "field:gw1.120.1.V_TEMP");
    publish_event("updated", "source", "gw1.12.1", "source:gw1.12.1");
    publish_event("updated", "field", "gw1.12.1.V_TEMP", "field:gw1.12.1.V_TEMP");
    expect_event(a, "field:gw1.12.1.V_TEMP", "updated");
    /* A batch: one for each client. */
    static const char *const mixed[] = {"gw9.1.1.x", "gw1.12.2.V_HUM"};
    publish_batch(2, mixed);
    expect_event(b, "field:gw9.1.1.x", "updated");
    expect_event(a, "field:gw1.12.2.V_HUM", "updated");
    /* Unsubscribed, a no longer gets gw1.12's fields: the next thing it reads is its marker. */
    assert_true(wsc_send(a, "{\"type\":\"unsubscribe\",\"id\":\"n12\"}"));
    cJSON *j = wsc_wait_type(a, "unsubscribed", 5000);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "removed")->valueint, 1);
    cJSON_Delete(j);
    static const char *const after[] = {"gw1.12.1.V_TEMP", "m.1.1.a", "m.1.1.b"};
    publish_batch(3, after);
    expect_event(a, "field:m.1.1.a", "updated");
    /* b saw none of a's events: its next one is its own marker. */
    expect_event(b, "field:m.1.1.b", "updated");
    wsc_close(a);
    wsc_close(b);
}

/* Events of API changes reach the socket too (the service's own publishes). */
static void test_api_change_event(void **state)
{
    wsc *a = open_bearer();
    subscribe(a, "{\"type\":\"subscribe\",\"kinds\":[\"gateway\"]}");
    api_res r = apic_post("/api/gateway", apit_env()->admin_token, "{\"id\":\"gws\"}");
    assert_int_equal(r.status, 201);
    apic_free(&r);
    expect_event(a, "gateway:gws", "created");
    wsc_close(a);
}

/* A service token authenticates the socket; events other services publish (documents as they
 * stored them) reach it redacted: no password hashes, secrets as "********". */
static void test_service_token_and_redaction(void **state)
{
    api_res r = apic_post("/api/service_token", apit_env()->admin_token,
                          "{\"id\":\"wsbot\",\"role\":\"readonly\"}");
    assert_int_equal(r.status, 201);
    char hdr[512];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
             cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "token")));
    apic_free(&r);
    int status = 0;
    wsc *c = wsc_connect(apit_env()->port, "/api/ws", hdr, 0, &status);
    assert_non_null(c);
    cJSON *j = wsc_wait_type(c, "authenticated", 5000);
    assert_non_null(j);
    cJSON_Delete(j);
    subscribe(c, "{\"type\":\"subscribe\",\"kinds\":[\"gateway\"]}");
    publish("event/gateway/gwsec",
            "{\"type\":\"updated\",\"entityType\":\"gateway\",\"entityId\":\"gwsec\","
            "\"quickId\":\"gateway:gwsec\",\"entity\":{\"id\":\"gwsec\",\"state\":{\"status\":"
            "\"up\"},\"provider\":{\"type\":\"mysensors\",\"password\":\"enc:v1:c2VhbGVk\"}}}");
    j = wsc_recv_json(c, 5000);
    assert_non_null(j);
    const cJSON *pw = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "entity"), "provider"), "password");
    assert_string_equal(cJSON_GetStringValue(pw), "********");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(j, "entity"), "state"), "status")),
        "up");
    cJSON_Delete(j);
    wsc_close(c);
    /* Altered, it is refused. */
    hdr[strlen(hdr) - 1] = hdr[strlen(hdr) - 1] == 'a' ? 'b' : 'a';
    c = wsc_connect(apit_env()->port, "/api/ws", hdr, 0, &status);
    if (c) {
        int code = 0;
        char reason[128] = "";
        char *text = NULL;
        wsc_kind k = wsc_recv(c, 5000, &text, &code, reason, sizeof(reason));
        free(text);
        assert_true(k == WSC_CLOSE || k == WSC_ERROR);
        wsc_close(c);
    }
}

/* A flood of n batches of 500 events, each with a ~400-byte entity. */
static void flood(int batches)
{
    static char pad[401];
    memset(pad, 'x', 400);
    size_t cap = 500 * 700;
    char *batch = malloc(cap);
    for (int b = 0; b < batches; b++) {
        size_t used = 0;
        batch[used++] = '[';
        for (int i = 0; i < 500; i++)
            used += (size_t)snprintf(batch + used, cap - used,
                                     "%s{\"type\":\"updated\",\"entityType\":\"field\","
                                     "\"entityId\":\"f.1.1.%d\",\"quickId\":\"field:f.1.1.%d\","
                                     "\"entity\":{\"pad\":\"%s\"}}",
                                     i ? "," : "", b * 500 + i, b * 500 + i, pad);
        batch[used++] = ']';
        batch[used] = 0;
        publish("event/field", batch);
        sb_time_sleep_ms(5); /* 100k events/s: a burst, but not all 20,000 at once */
    }
    free(batch);
}

static void *flood_thread(void *arg)
{
    (void)arg;
    flood(40);
    return NULL;
}

/* A client that never reads while 20,000 events flood: another client gets every one, HTTP
 * keeps answering, and the stuck one gets a resync notice or is disconnected as too slow. */
static void test_slow_client(void **state)
{
    int status;
    char hdr[2200];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", apit_env()->admin_token);
    wsc *slow = wsc_connect(apit_env()->port, "/api/ws", hdr, 4096, &status);
    assert_non_null(slow);
    subscribe(slow, "{\"type\":\"subscribe\",\"prefixes\":[\"field:f\"]}");
    wsc *fast = open_bearer();
    subscribe(fast, "{\"type\":\"subscribe\",\"prefixes\":[\"field:f\"]}");
    int64_t t0 = sb_time_mono_ms();
    pthread_t pub; /* publish while this thread reads, as a browser would */
    pthread_create(&pub, NULL, flood_thread, NULL);
    int got = 0;
    while (got < 20000) {
        cJSON *j = wsc_recv_json(fast, 10000);
        if (!j)
            fail_msg("the reading client got %d of 20000 events", got);
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
        assert_string_equal(t, "updated"); /* never a resync for the one that keeps up */
        got++;
        cJSON_Delete(j);
        if (got % 5000 == 0) {
            api_res r = apic_get("/api/status", NULL);
            assert_int_equal(r.status, 200);
            apic_free(&r);
        }
    }
    int64_t took = sb_time_mono_ms() - t0;
    pthread_join(pub, NULL);
    print_message("20000 events to the reading client in %lld ms\n", (long long)took);
    /* The stuck client: whatever it had in its socket, then a resync or the close. */
    bool resync = false, closed = false;
    for (;;) {
        char *text = NULL, reason[256] = "";
        int code = 0;
        wsc_kind k = wsc_recv(slow, 3000, &text, &code, reason, sizeof(reason));
        if (k == WSC_TEXT) {
            resync |= strstr(text, "\"resync\"") != NULL;
            free(text);
            continue;
        }
        closed = k == WSC_CLOSE || k == WSC_ERROR;
        if (k == WSC_CLOSE)
            assert_non_null(strstr(reason, "too slow"));
        break;
    }
    assert_true(resync || closed);
    wsc_close(slow);
    wsc_close(fast);
}

int main(void)
{
    apit_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_without_token),
        cmocka_unit_test(test_auth_message_cookie_and_ping),
        cmocka_unit_test(test_subscriptions),
        cmocka_unit_test(test_api_change_event),
        cmocka_unit_test(test_service_token_and_redaction),
        cmocka_unit_test(test_slow_client),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apit_stop();
    return rc;
}
