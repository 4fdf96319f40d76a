/*
 * api_pool_test - the API's request workers (api.workers) over real sockets with a real
 * mosquitto and no processor running, so a device-tree edit waits api.processor_timeout (1 s in
 * this environment) for a reply that never comes:
 * - while one is in flight, GET /api/status and a list on other connections answer within
 *   200 ms, and a websocket subscriber still receives an event published meanwhile;
 * - a pipelined request behind a slow one is answered after it, in order, on its connection;
 * - clients that hang up while their request is in the pool do not crash the service (built
 *   with ASan, ./setup.sh sanitize, a session touched after its connection closed would show);
 * - 8 threads x 200 mixed GET/POST requests on their own connections are all answered right;
 * - backups asked for at once are made one at a time (409 for the others), each its own file;
 * - a request longer than lws's idle timeout (a metric query against a store that never
 *   answers) keeps its connection and gets its answer;
 * - the service stops while a request is in a worker (and leaks nothing under ASan).
 * A ThreadSanitizer build (CC=clang, -DCMAKE_C_FLAGS=-fsanitize=thread and the same linker flag)
 * runs it without a report: the handlers' shared state is what api.h says it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api_client.h"
#include "api_test_env.h"
#include "ws_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/json.h"
#include "core/time.h"

#define SLOW_EDIT "{\"id\":\"gwe.n1\",\"name\":\"x\"}"

/* ---- a request on its own connection (curl handle per thread) ------------------------------ */

/* method path on h (keep-alive); the status, the body in *out (caller frees; may be NULL). */
static long request(CURL *h, const char *method, const char *path, const char *body, char **out)
{
    char url[1200], auth[2200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", apit_env()->port, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", apit_env()->admin_token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    apic_buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, apic_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return status;
}

/* ---- a slow request in flight -------------------------------------------------------------- */

typedef struct slow {
    pthread_t thread;
    long status;
    int64_t took_ms;
    char *body;
} slow;

static void *slow_main(void *arg)
{
    slow *s = arg;
    CURL *h = curl_easy_init();
    int64_t t0 = sb_time_mono_ms();
    s->status = request(h, "POST", "/api/node", SLOW_EDIT, &s->body);
    s->took_ms = sb_time_mono_ms() - t0;
    curl_easy_cleanup(h);
    return NULL;
}

static void slow_start(slow *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(pthread_create(&s->thread, NULL, slow_main, s), 0);
    sb_time_sleep_ms(150); /* sent and handed to a worker, which now waits for the processor */
}

/* Joins the slow request: 503 (no processor) after about api.processor_timeout. */
static void slow_end(slow *s)
{
    pthread_join(s->thread, NULL);
    if (s->status != 503 || !strstr(s->body ? s->body : "", "no processor answered"))
        fail_msg("the slow edit: %ld %s", s->status, s->body ? s->body : "");
    assert_true(s->took_ms >= 900);
    free(s->body);
}

static int64_t timed_get(const char *path, long want)
{
    int64_t t0 = sb_time_mono_ms();
    api_res r = apic_get(path, apit_env()->admin_token);
    int64_t took = sb_time_mono_ms() - t0;
    if (r.status != want)
        fail_msg("GET %s: %ld %s", path, r.status, r.raw);
    apic_free(&r);
    return took;
}

static void test_slow_request_does_not_stall_others(void **state)
{
    (void)state;
    char hdr[2200];
    int status = 0;
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", apit_env()->admin_token);
    wsc *ws = wsc_connect(apit_env()->port, "/api/ws", hdr, 0, &status);
    assert_non_null(ws);
    cJSON_Delete(wsc_wait_type(ws, "authenticated", 5000));
    assert_true(wsc_send(ws, "{\"type\":\"subscribe\",\"kinds\":[\"gateway\"]}"));
    cJSON *j = wsc_wait_type(ws, "subscribed", 5000);
    assert_non_null(j);
    cJSON_Delete(j);
    timed_get("/api/status", 200); /* the test's keep-alive connection is open */

    slow s;
    slow_start(&s);
    int64_t t0 = sb_time_mono_ms();
    int64_t status_ms = timed_get("/api/status", 200);
    int64_t list_ms = timed_get("/api/gateway?limit=5", 200);
    const char *ev = "{\"type\":\"updated\",\"entityType\":\"gateway\",\"entityId\":\"gwpool\","
                     "\"quickId\":\"gateway:gwpool\",\"entity\":{\"id\":\"gwpool\"}}";
    assert_int_equal(
        sb_bus_publish(apit_bus(), "sbtest/event/gateway/gwpool", ev, strlen(ev), 1, false), SB_OK);
    cJSON *got = NULL;
    for (int64_t end = sb_time_mono_ms() + 500; !got && sb_time_mono_ms() < end;) {
        cJSON *m = wsc_recv_json(ws, 100);
        if (m && strcmp(sb_json_str(m, "quickId", ""), "gateway:gwpool") == 0)
            got = m;
        else
            cJSON_Delete(m);
    }
    int64_t all_ms = sb_time_mono_ms() - t0;
    if (!got)
        fail_msg("no websocket event within 500 ms while a request waited in a worker");
    cJSON_Delete(got);
    /* All of it happened while the edit still waited (it takes 1 s after its 150 ms head start). */
    print_message("status %lld ms, list %lld ms, everything %lld ms\n", (long long)status_ms,
                  (long long)list_ms, (long long)all_ms);
    assert_true(status_ms < 200);
    assert_true(list_ms < 200);
    assert_true(all_ms < 700);
    slow_end(&s);
    wsc_close(ws);
}

/* ---- raw connections ----------------------------------------------------------------------- */

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)apit_env()->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* A POST of the slow edit as text (keep-alive). */
static const char *slow_post_text(void)
{
    static char t[4096];
    snprintf(t, sizeof(t),
             "POST /api/node HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             apit_env()->admin_token, strlen(SLOW_EDIT), SLOW_EDIT);
    return t;
}

/* What the server sends until want_responses status lines and the text until have arrived, or
 * quiet_ms pass without data, or it closes (NUL-terminated, caller frees). */
static char *raw_read(int fd, int quiet_ms, size_t want_responses, const char *until)
{
    size_t cap = 65536, n = 0;
    char *out = calloc(1, cap);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, quiet_ms) == 1) {
        ssize_t got = recv(fd, out + n, cap - n - 1, 0);
        if (got <= 0)
            break;
        n += (size_t)got;
        out[n] = '\0';
        size_t seen = 0;
        for (const char *q = out; (q = strstr(q, "HTTP/1.1 ")); q++)
            seen++;
        if (seen >= want_responses && strstr(out, until))
            break;
    }
    return out;
}

/* Two requests in one write: the slow edit, then GET /api/status (answered on the service
 * thread at once). The status must come after the edit's answer on that connection. */
static void test_pipelined_in_order(void **state)
{
    (void)state;
    int fd = raw_connect();
    char both[8192];
    snprintf(both, sizeof(both), "%sGET /api/status HTTP/1.1\r\nHost: x\r\n\r\n", slow_post_text());
    int64_t t0 = sb_time_mono_ms();
    raw_send(fd, both);
    char *got = raw_read(fd, 3000, 2, "\"busConnected\"");
    int64_t took = sb_time_mono_ms() - t0;
    const char *first = strstr(got, "HTTP/1.1 503");
    const char *second = strstr(got, "HTTP/1.1 200");
    if (!first || !second || second < first || !strstr(second, "\"busConnected\""))
        fail_msg("pipelined answers out of order or missing:\n%s", got);
    assert_true(took >= 900);
    free(got);
    close(fd);
}

/* Clients that hang up while their requests wait in workers; the service carries on. */
static void test_disconnect_while_in_pool(void **state)
{
    (void)state;
    int fds[6];
    for (size_t i = 0; i < 6; i++) {
        fds[i] = raw_connect();
        raw_send(fds[i], slow_post_text());
    }
    sb_time_sleep_ms(150);
    for (size_t i = 0; i < 6; i++) {
        if (i % 2) /* a reset (RST) as well as an orderly close */
            setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &(struct linger){1, 0},
                       sizeof(struct linger));
        close(fds[i]);
    }
    /* More workers' worth of requests than there are workers: some wait queued. */
    timed_get("/api/status", 200);
    sb_time_sleep_ms(2300); /* every orphaned job comes back (two rounds of 1 s) */
    assert_true(timed_get("/api/status", 200) < 200);
    /* And one closed just as its answer arrives. */
    int fd = raw_connect();
    raw_send(fd, slow_post_text());
    sb_time_sleep_ms(1000);
    close(fd);
    sb_time_sleep_ms(300);
    timed_get("/api/gateway?limit=1", 200);
}

/* ---- many at once -------------------------------------------------------------------------- */

#define THREADS 8
#define ROUNDS  200

static atomic_int wrong;

static void *mixed_main(void *arg)
{
    int t = (int)(intptr_t)arg;
    CURL *h = curl_easy_init();
    char path[256], body[512], *out = NULL;
    for (int i = 0; i < ROUNDS; i++) {
        long st = 0;
        bool ok = false;
        switch (i % 4) {
        case 0: /* create */
            snprintf(body, sizeof(body), "{\"id\":\"mix-%d-%d\",\"name\":\"t%d r%d\"}", t, i, t, i);
            st = request(h, "POST", "/api/gateway", body, &out);
            snprintf(path, sizeof(path), "\"id\":\"mix-%d-%d\",\"name\":\"t%d r%d\"", t, i, t, i);
            ok = st == 201 && strstr(out, path) != NULL;
            break;
        case 1: /* read it back */
            snprintf(path, sizeof(path), "/api/gateway/mix-%d-%d", t, i - 1);
            snprintf(body, sizeof(body), "\"name\":\"t%d r%d\"", t, i - 1);
            st = request(h, "GET", path, NULL, &out);
            ok = st == 200 && strstr(out, body) != NULL;
            break;
        case 2:
            st = request(h, "GET", "/api/status", NULL, &out);
            ok = st == 200 && strstr(out, "\"ok\":true") != NULL;
            break;
        default:
            snprintf(path, sizeof(path), "/api/gateway/mix-%d-%d", t, i + 1);
            st = request(h, "GET", path, NULL, &out); /* not created yet */
            ok = st == 404;
            break;
        }
        if (!ok) {
            fprintf(stderr, "thread %d round %d: %ld %s\n", t, i, st, out ? out : "");
            atomic_fetch_add(&wrong, 1);
        }
        free(out);
        out = NULL;
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void test_many_concurrent(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    int64_t t0 = sb_time_mono_ms();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, mixed_main, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    print_message("%d requests in %lld ms\n", THREADS * ROUNDS,
                  (long long)(sb_time_mono_ms() - t0));
    assert_int_equal(atomic_load(&wrong), 0);
    /* Every gateway is there once. */
    api_res r = apic_get("/api/gateway?limit=1", apit_env()->admin_token);
    assert_int_equal(r.status, 200);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "count")),
                     THREADS * ROUNDS / 4);
    apic_free(&r);
}

/* ---- a request longer than lws's idle timeout --------------------------------------------- */

static int black_hole = -1; /* "InfluxDB": takes connections, never answers */

static void black_hole_open(void)
{
    black_hole = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (black_hole < 0 || bind(black_hole, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(black_hole, 16) != 0 || getsockname(black_hole, (struct sockaddr *)&sa, &len)) {
        fprintf(stderr, "api_pool_test: no listening socket\n");
        exit(1);
    }
    static char yaml[256];
    snprintf(yaml, sizeof(yaml), "metrics:\n  url: http://127.0.0.1:%d\n  timeout: 7s\n",
             ntohs(sa.sin_port));
    apit_extra_yaml(yaml);
}

/* A metric query waits 7 s for a store that never answers: the connection stays open (lws
 * closes idle connections after 5 s) and the answer arrives; meanwhile others are served. */
static void test_longer_than_idle_timeout(void **state)
{
    (void)state;
    int fd = raw_connect();
    char req[4096];
    snprintf(req, sizeof(req),
             "GET /api/metric?quickId=field:gw1.1.1.temp&start=-1h HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer %s\r\n\r\n",
             apit_env()->admin_token);
    int64_t t0 = sb_time_mono_ms();
    raw_send(fd, req);
    sb_time_sleep_ms(200);
    assert_true(timed_get("/api/status", 200) < 200);
    char *got = raw_read(fd, 10000, 1, "Timeout was reached");
    int64_t took = sb_time_mono_ms() - t0;
    if (!strstr(got, "HTTP/1.1 502") || !strstr(got, "Timeout was reached"))
        fail_msg("after %lld ms: %s", (long long)took, got);
    assert_true(took >= 6900);
    free(got);
    close(fd);
}

/* ---- backups one at a time ---------------------------------------------------------------- */

#define BACKUPS 6

static void *backup_main(void *arg)
{
    long *status = arg;
    CURL *h = curl_easy_init();
    *status = request(h, "POST", "/api/backup/run", "", NULL);
    curl_easy_cleanup(h);
    return NULL;
}

/* Backups asked for at once: each is made (201) or refused while another runs (409), and every
 * one made has its own file (two at once within a second would pick the same name). */
static void test_backups_one_at_a_time(void **state)
{
    (void)state;
    pthread_t th[BACKUPS];
    long status[BACKUPS];
    for (int i = 0; i < BACKUPS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, backup_main, &status[i]), 0);
    int made = 0;
    for (int i = 0; i < BACKUPS; i++) {
        pthread_join(th[i], NULL);
        if (status[i] != 201 && status[i] != 409)
            fail_msg("backup %d: %ld", i, status[i]);
        made += status[i] == 201;
    }
    print_message("%d of %d backups made, the others refused with 409\n", made, BACKUPS);
    assert_true(made >= 1);
    api_res r = apic_get("/api/backup", apit_env()->admin_token);
    assert_int_equal(r.status, 200);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "count")), made);
    apic_free(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    black_hole_open();
    apit_start();
    apit_processor_stop();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_request_does_not_stall_others),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_disconnect_while_in_pool),
        cmocka_unit_test(test_many_concurrent),
        cmocka_unit_test(test_backups_one_at_a_time),
        cmocka_unit_test(test_longer_than_idle_timeout),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    /* Stopping with a request in a worker: it finishes (bounded by api.processor_timeout), its
     * connection is closed, nothing leaks (ASan build). */
    int fd = raw_connect();
    raw_send(fd, slow_post_text());
    sb_time_sleep_ms(150);
    int64_t t0 = sb_time_mono_ms();
    apit_stop();
    int64_t took = sb_time_mono_ms() - t0;
    close(fd);
    if (took > 5000) {
        fprintf(stderr, "api_pool_test: stopping took %lld ms\n", (long long)took);
        rc = 1;
    }
    curl_global_cleanup();
    close(black_hole);
    return rc;
}
