/*
 * bench_api - the API service (services/api, in-process) over real HTTP and websockets, with a
 * sqlite store pre-filled with FIELDS field documents and its own mosquitto on a free port.
 *
 *   1. wrk --latency against a small static file served by the same service (the baseline),
 *      GET /api/status, and GET /api/field?limit=50 with a JSON filter on labels.room, on
 *      gatewayId and nodeId, on numeric strings (nodeId, labels.floor), on name (in) and id
 *      (a login token in the Authorization header), and sorted by name with and without a
 *      filter;
 *   2. websocket fan-out: CLIENTS sockets subscribed to kind "field", EVENTS field events
 *      published on the bus at RATE/s, each carrying its publish time; per delivery latency
 *      (publish -> a client has parsed it) p50/p99/max and the number delivered.
 *
 * Usage: bench_api [-f FIELDS] [-d WRK_SECONDS] [-c WRK_CONNECTIONS] [-l LIST_CONNECTIONS]
 *                  [-w WS_CLIENTS] [-e EVENTS] [-r RATE] [-W API_WORKERS]
 * A list's latency under wrk is its service time times the connections waiting for a worker
 * (api.workers, -W; default the config's): lists are measured with LIST_CONNECTIONS (default 1,
 * one dashboard), the static file and /api/status with WRK_CONNECTIONS (default 50).
 * wrk (Debian package wrk) must be on PATH. SB_BENCH_KEEP=1 keeps the temp dir.
 */
#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/broker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/event.h"
#include "core/proc.h"
#include "core/time.h"
#include "services/api/api.h"
#include "storage/store.h"
#include "tests/system/ws_client.h"

static sb_config *cfg;
static sb_stop_flag stop;
static atomic_int port;

static void on_listening(void *ctx, int p)
{
    (void)ctx;
    atomic_store(&port, p);
}

static void *run_api(void *arg)
{
    static const sb_api_hooks hooks = {.listening = on_listening};
    (void)arg;
    sb_api_run_with(cfg, &stop, &hooks);
    return NULL;
}

/* ---- the store ------------------------------------------------------------------------------ */

#define GATEWAYS     10
#define NODES_PER_GW 100
#define ROOMS        50

/* Field i: gateway gw<i%10>, node <(i/10)%100>, source <(i/1000)%10>, a room of 50. */
static cJSON *field_doc(long i, const char *now)
{
    static const char *const kinds[] = {"V_TEMP", "V_HUM", "V_STATUS", "V_WATT", "V_KWH"};
    char gw[16], node[16], src[16], fid[32], id[96], room[16];
    snprintf(gw, sizeof(gw), "gw%ld", i % GATEWAYS);
    snprintf(node, sizeof(node), "%ld", (i / GATEWAYS) % NODES_PER_GW);
    snprintf(src, sizeof(src), "%ld", (i / (GATEWAYS * NODES_PER_GW)) % 10);
    snprintf(fid, sizeof(fid), "%s_%ld", kinds[i % 5], i / (GATEWAYS * NODES_PER_GW * 10));
    snprintf(id, sizeof(id), "%s.%s.%s.%s", gw, node, src, fid);
    snprintf(room, sizeof(room), "room%ld", (i / 7) % ROOMS);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "gatewayId", gw);
    cJSON_AddStringToObject(d, "nodeId", node);
    cJSON_AddStringToObject(d, "sourceId", src);
    cJSON_AddStringToObject(d, "fieldId", fid);
    cJSON_AddStringToObject(d, "name", fid);
    cJSON_AddStringToObject(d, "metricType", "gauge_float");
    cJSON_AddStringToObject(d, "unit", "C");
    cJSON *l = cJSON_AddObjectToObject(d, "labels");
    cJSON_AddStringToObject(l, "room", room);
    cJSON_AddStringToObject(l, "floor", i % 2 ? "1" : "0");
    cJSON *c = cJSON_AddObjectToObject(d, "current");
    cJSON_AddNumberToObject(c, "value", 15.0 + (double)(i % 100) / 10.0);
    cJSON_AddStringToObject(c, "timestamp", now);
    cJSON *p = cJSON_AddObjectToObject(d, "previous");
    cJSON_AddNumberToObject(p, "value", 15.0 + (double)(i % 90) / 10.0);
    cJSON_AddStringToObject(p, "timestamp", now);
    cJSON_AddStringToObject(d, "noChangeSince", now);
    cJSON_AddStringToObject(d, "lastSeen", now);
    cJSON_AddStringToObject(d, "modifiedOn", now);
    return d;
}

static void prefill(long fields)
{
    sb_store *st = NULL;
    sb_errmsg em = {{0}};
    if (sb_store_open(cfg, &st, &em) != SB_OK) {
        fprintf(stderr, "bench_api: %s\n", em.text);
        exit(1);
    }
    char now[64];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    enum { BATCH = 1000 };
    cJSON *docs[BATCH];
    sb_store_op ops[BATCH];
    int64_t t0 = sb_time_mono_ms();
    for (long i = 0; i < fields; i += BATCH) {
        size_t n = 0;
        for (long j = i; j < fields && j < i + BATCH; j++, n++) {
            docs[n] = field_doc(j, now);
            ops[n] = (sb_store_op){.type = SB_STORE_PUT, .kind = "field", .doc = docs[n]};
        }
        if (sb_store_batch(st, ops, n, &em) != SB_OK) {
            fprintf(stderr, "bench_api: prefill: %s\n", em.text);
            exit(1);
        }
        for (size_t k = 0; k < n; k++)
            cJSON_Delete(docs[k]);
    }
    printf("store: %ld field documents written in %.1f s (batches of %d)\n", fields,
           (double)(sb_time_mono_ms() - t0) / 1000.0, BATCH);
    sb_store_close(st);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

/* One request on a fresh connection; the status, and the body in body (may be NULL). */
static int http(const char *method, const char *path, const char *hdr, const char *data, char *body,
                size_t blen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    static char req[8192], resp[1 << 20];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, hdr ? hdr : "", hdr ? "\r\n" : "", data ? strlen(data) : 0,
                     data ? data : "");
    if (send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return 0;
    }
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(resp) - 1 && (r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    resp[got] = 0;
    int status = 0;
    sscanf(resp, "HTTP/1.1 %d", &status);
    const char *b = strstr(resp, "\r\n\r\n");
    if (body && blen)
        snprintf(body, blen, "%s", b ? b + 4 : "");
    return status;
}

static void urlencode(const char *in, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *in && o + 4 < len; in++) {
        unsigned char ch = (unsigned char)*in;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = 0;
}

static char auth_hdr[2100];

/* Checks path answers 200 once, then runs wrk on it. */
static void wrk(const char *label, const char *path, bool auth, int secs, int conns)
{
    char body[512];
    int st = http("GET", path, auth ? auth_hdr : NULL, NULL, body, sizeof(body));
    printf("\n### %s\nGET %s -> %d %.160s\n", label, path, st, body);
    if (st != 200)
        exit(1);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "wrk -t%d -c%d -d%ds --timeout 30s --latency %s%s%s 'http://127.0.0.1:%d%s' 2>&1",
             conns > 1 ? 2 : 1, conns, secs, auth ? "-H '" : "", auth ? auth_hdr : "",
             auth ? "'" : "", (int)port, path);
    printf("load (1/5/15 min) before: ");
    fflush(stdout);
    if (system("cut -d' ' -f1-3 /proc/loadavg") != 0 || system(cmd) != 0) {
        fprintf(stderr, "bench_api: wrk failed (apt-get install -y wrk)\n");
        exit(1);
    }
    fflush(stdout);
}

static void list_bench(const char *label, const char *filter, int secs, int conns)
{
    char enc[1024], path[1400];
    urlencode(filter, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/api/field?limit=50&filter=%s", enc);
    wrk(label, path, true, secs, conns);
}

/* ---- websocket fan-out ------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fanout(sb_bus *pub, int clients, long events, long rate)
{
    wsc **c = calloc((size_t)clients, sizeof(*c));
    struct pollfd *pf = calloc((size_t)clients, sizeof(*pf));
    for (int i = 0; i < clients; i++) {
        int st = 0;
        c[i] = wsc_connect(port, "/api/ws", auth_hdr, 0, &st);
        cJSON *m = c[i] ? wsc_wait_type(c[i], "authenticated", 5000) : NULL;
        if (!m) {
            fprintf(stderr, "bench_api: websocket %d: %d\n", i, st);
            exit(1);
        }
        cJSON_Delete(m);
        wsc_send(c[i], "{\"type\":\"subscribe\",\"kinds\":[\"field\"]}");
        m = wsc_wait_type(c[i], "subscribed", 5000);
        if (!m) {
            fprintf(stderr, "bench_api: websocket %d: no subscribed\n", i);
            exit(1);
        }
        cJSON_Delete(m);
        pf[i] = (struct pollfd){.fd = wsc_fd(c[i]), .events = POLLIN};
    }
    size_t cap = (size_t)clients * (size_t)events, n = 0;
    double *lat = malloc(cap * sizeof(double));
    long resync = 0, closed = 0;
    int64_t t0 = sb_time_mono_us(), next = t0, last_pub = 0, step = 1000000 / rate;
    long sent = 0;
    int64_t quiet_until = 0;
    for (;;) {
        int64_t now = sb_time_mono_us();
        while (sent < events && now >= next) {
            char id[64];
            snprintf(id, sizeof(id), "gw1.%ld.1.V_TEMP_0", sent % NODES_PER_GW);
            char qid[80];
            snprintf(qid, sizeof(qid), "field:%s", id);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", id);
            cJSON_AddStringToObject(e, "gatewayId", "gw1");
            cJSON *cur = cJSON_AddObjectToObject(e, "current");
            cJSON_AddNumberToObject(cur, "value", (double)sent);
            cJSON_AddNumberToObject(e, "benchSentUs", (double)sb_time_mono_us());
            sb_event_publish(pub, "updated", "field", id, qid, e);
            cJSON_Delete(e);
            sent++;
            next += step;
            last_pub = sb_time_mono_us();
        }
        if (sent == events && !quiet_until)
            quiet_until = last_pub + 3000000;
        if (quiet_until && (now > quiet_until || n == cap))
            break;
        int wait = sent < events ? (int)((next - now) / 1000) : 100;
        if (poll(pf, (nfds_t)clients, wait < 0 ? 0 : wait) <= 0)
            continue;
        for (int i = 0; i < clients; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char *text = NULL;
            wsc_kind k;
            while ((k = wsc_recv(c[i], 0, &text, NULL, NULL, 0)) == WSC_TEXT) {
                int64_t at = sb_time_mono_us();
                cJSON *j = cJSON_Parse(text);
                free(text);
                text = NULL;
                const cJSON *t =
                    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "entity"), "benchSentUs");
                if (cJSON_IsNumber(t) && n < cap)
                    lat[n++] = (double)(at - (int64_t)t->valuedouble) / 1000.0;
                else if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")) ?: "",
                                "resync") == 0)
                    resync++;
                cJSON_Delete(j);
            }
            if (k == WSC_CLOSE || k == WSC_ERROR) {
                closed++;
                pf[i].fd = -1;
            }
        }
    }
    double secs = (double)(last_pub - t0) / 1e6;
    qsort(lat, n, sizeof(double), cmp_double);
    printf("\n### websocket fan-out\n%d clients subscribed to kind field; %ld events published at "
           "%ld/s (%.1f s)\n",
           clients, events, rate, secs);
    printf("delivered %zu of %zu (%.1f%%), resync notices %ld, sockets closed %ld\n", n, cap,
           100.0 * (double)n / (double)cap, resync, closed);
    if (n)
        printf("latency publish -> client (ms): p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
               lat[n / 2], lat[n * 90 / 100], lat[n * 99 / 100], lat[n - 1]);
    for (int i = 0; i < clients; i++)
        wsc_close(c[i]);
    free(lat);
    free(pf);
    free(c);
}

/* The broker alone: the same events publisher -> one subscriber, messages/s (the baseline). */
static atomic_long raw_got;
static void on_raw(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    (void)m;
    atomic_fetch_add(&raw_got, 1);
}

static sb_bus *client(const char *name)
{
    sb_bus_opts o = {
        .cfg = &cfg->bus, .service = name, .instance = "1", .clean_start = true, .no_status = true};
    sb_bus *b = NULL;
    sb_errmsg em = {{0}};
    if (sb_bus_create(&o, &b, &em) != SB_OK || sb_bus_start(b, 5000, &em) != SB_OK) {
        fprintf(stderr, "bench_api: %s\n", em.text);
        exit(1);
    }
    return b;
}

int main(int argc, char **argv)
{
    long fields = 100000, events = 1000, rate = 200;
    int secs = 10, conns = 50, lconns = 1, clients = 200, workers = -1, opt;
    while ((opt = getopt(argc, argv, "f:d:c:l:w:e:r:W:")) != -1) {
        if (opt == 'f')
            fields = atol(optarg);
        else if (opt == 'd')
            secs = atoi(optarg);
        else if (opt == 'c')
            conns = atoi(optarg);
        else if (opt == 'l')
            lconns = atoi(optarg);
        else if (opt == 'w')
            clients = atoi(optarg);
        else if (opt == 'e')
            events = atol(optarg);
        else if (opt == 'r')
            rate = atol(optarg);
        else if (opt == 'W')
            workers = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_api [-f FIELDS] [-d WRK_SECONDS] [-c WRK_CONNECTIONS] "
                            "[-l LIST_CONNECTIONS] [-w WS_CLIENTS] [-e EVENTS] [-r RATE] "
                            "[-W API_WORKERS]\n");
            return 2;
        }
    }
    if (fields < 1 || secs < 1 || conns < 1 || lconns < 1 || clients < 1 || events < 1 || rate < 1)
        return 2;
    char dir[] = "/tmp/bench_api-XXXXXX", yaml[2048], web[400], path[500], wk[64] = "";
    if (workers >= 0)
        snprintf(wk, sizeof(wk), "  workers: %d\n", workers);
    static sb_broker broker;
    sb_errmsg em = {{0}};
    if (!mkdtemp(dir) ||
        sb_broker_start(&broker, "mosquitto", dir, 0,
                        "max_queued_messages 0\nmax_inflight_messages 0\n", &em) != SB_OK) {
        fprintf(stderr, "bench_api: %s\n", em.text);
        return 1;
    }
    snprintf(web, sizeof(web), "%s/web", dir);
    sb_mkdirs(web, NULL);
    snprintf(path, sizeof(path), "%s/hello.txt", web);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("{\"ok\":true,\"static\":\"a small file of the size of /api/status\"}\n", f);
        fclose(f);
    }
    snprintf(yaml, sizeof(yaml),
             "data_dir: %s\ninstance: bench\nlog:\n  level: warn\n"
             "bus:\n  managed: false\n  url: %s\n  topic_prefix: bench\n"
             "storage:\n  type: sqlite\n  sqlite:\n    path: %s/store.db\n    sync: batch\n"
             "metrics:\n  type: none\n  managed: false\n"
             "api:\n  port: 0\n  web_root: %s\n%s",
             dir, broker.url, dir, web, wk);
    if (sb_config_load_string(yaml, strlen(yaml), "bench", &cfg, &em) != SB_OK) {
        fprintf(stderr, "bench_api: %s\n", em.text);
        return 1;
    }
    prefill(fields);
    sb_stop_init(&stop);
    pthread_t thr;
    pthread_create(&thr, NULL, run_api, NULL);
    for (int i = 0; i < 1000 && !atomic_load(&port); i++)
        sb_time_sleep_ms(10);
    if (!atomic_load(&port)) {
        fprintf(stderr, "bench_api: the API did not listen\n");
        return 1;
    }
    char pw[128] = "", login[300], body[4096];
    snprintf(path, sizeof(path), "%s/initial-admin-password", dir);
    f = fopen(path, "r");
    if (!f || !fgets(pw, sizeof(pw), f)) {
        fprintf(stderr, "bench_api: no %s\n", path);
        return 1;
    }
    fclose(f);
    pw[strcspn(pw, "\n")] = 0;
    snprintf(login, sizeof(login), "{\"username\":\"admin\",\"password\":\"%s\"}", pw);
    int st = http("POST", "/api/user/login", NULL, login, body, sizeof(body));
    cJSON *j = cJSON_Parse(body);
    const char *tok = cJSON_GetStringValue(cJSON_GetObjectItem(j, "token"));
    if (st != 200 || !tok) {
        fprintf(stderr, "bench_api: login: %d %s\n", st, body);
        return 1;
    }
    snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: Bearer %s", tok);
    cJSON_Delete(j);
    printf("bench_api: API on port %d (in-process, sqlite store, sync batch), broker %s; "
           "wrk -c%d (lists -c%d) -d%ds, api.workers %lld\n",
           (int)port, broker.url, conns, lconns, secs, (long long)cfg->api.workers);

    wrk("baseline: static file from api.web_root", "/hello.txt", false, secs, conns);
    wrk("/api/status", "/api/status", false, secs, conns);
    list_bench("field list, labels.room eq (2% of fields match)",
               "[{\"k\":\"labels.room\",\"o\":\"eq\",\"v\":\"room17\"}]", secs, lconns);
    list_bench("field list, gatewayId eq (10% match)",
               "[{\"k\":\"gatewayId\",\"o\":\"eq\",\"v\":\"gw3\"}]", secs, lconns);
    list_bench("field list, gatewayId eq + nodeId eq (0.1% match)",
               "[{\"k\":\"gatewayId\",\"o\":\"eq\",\"v\":\"gw3\"},"
               "{\"k\":\"nodeId\",\"o\":\"eq\",\"v\":\"42\"}]",
               secs, lconns);
    list_bench("field list, nodeId eq \"42\" (1% match, a numeric string)",
               "[{\"k\":\"nodeId\",\"o\":\"eq\",\"v\":\"42\"}]", secs, lconns);
    list_bench("field list, labels.floor eq \"1\" (50% match, a numeric string)",
               "[{\"k\":\"labels.floor\",\"o\":\"eq\",\"v\":\"1\"}]", secs, lconns);
    list_bench("field list, name in (2 names, 4% match)",
               "[{\"k\":\"name\",\"o\":\"in\",\"v\":[\"V_TEMP_3\",\"V_HUM_3\"]}]", secs, lconns);
    list_bench("field list, id eq (1 match)",
               "[{\"k\":\"id\",\"o\":\"eq\",\"v\":\"gw3.42.0.V_WATT_0\"}]", secs, lconns);
    wrk("field list, no filter", "/api/field?limit=50", true, secs, lconns);
    wrk("field list, no filter, sorted by name (desc)",
        "/api/field?limit=50&sortBy=%5B%7B%22f%22%3A%22name%22%2C%22o%22%3A%22desc%22%7D%5D", true,
        secs, lconns);
    wrk("field list, gatewayId eq (10%), sorted by name",
        "/api/field?limit=50&filter=%5B%7B%22k%22%3A%22gatewayId%22%2C%22o%22%3A%22eq%22%2C%22v%22%"
        "3A%22gw3%22%7D%5D&sortBy=%5B%7B%22f%22%3A%22name%22%2C%22o%22%3A%22asc%22%7D%5D",
        true, secs, lconns);

    sb_bus *pub = client("benchpub"), *sub = client("benchsub");
    fanout(pub, clients, events, rate);

    sb_bus_subscribe(sub, "bench/raw", 0, on_raw, NULL, NULL);
    sb_time_sleep_ms(200);
    long raw_n = 100000;
    int64_t r0 = sb_time_mono_ms();
    for (long i = 0; i < raw_n; i++)
        sb_bus_publish(pub, "bench/raw", "{\"x\":1}", 7, 0, NULL);
    for (int i = 0; i < 600 && atomic_load(&raw_got) < raw_n; i++)
        sb_time_sleep_ms(20);
    double rs = (double)(sb_time_mono_ms() - r0) / 1000.0;
    printf("\n### baseline: the broker alone\n%ld of %ld qos-0 publishes publisher -> one "
           "subscriber in %.2f s: %.0f messages/s\n",
           (long)atomic_load(&raw_got), raw_n, rs, (double)atomic_load(&raw_got) / rs);

    sb_stop_raise(&stop);
    pthread_join(thr, NULL);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    sb_config_free(cfg);
    sb_broker_stop(&broker);
    if (!getenv("SB_BENCH_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_api: could not remove %s\n", dir);
    }
    return 0;
}
