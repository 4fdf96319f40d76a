/*
 * bench_bus - the bus client's publish -> receive rate against a plain paho MQTTAsync pair,
 * in the same run, on the same broker (a private mosquitto on a free loopback port).
 *
 *   bench_bus [-n MESSAGES] [-r ROUNDS] [-s PAYLOAD_BYTES]
 *
 * For QoS 0 and 1, one publisher thread sends MESSAGES as fast as its client accepts them and
 * one subscriber counts them; the rate is MESSAGES / (last receive - first publish). Each
 * (client, qos) is measured ROUNDS times, alternating, and the median is reported with the
 * ratio ours / plain paho.
 */
#include "core/broker.h"
#include "core/bus.h"
#include "core/proc.h"
#include "core/time.h"

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sb_broker broker;
static atomic_int received;
static char payload[4096];
static size_t payload_len = 64;

/* ---- plain paho ---------------------------------------------------------------------------- */

static int paho_arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx, (void)len;
    atomic_fetch_add(&received, 1);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static atomic_int paho_connected;
static void paho_on_connect(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx, (void)r;
    atomic_store(&paho_connected, 1);
}

static MQTTAsync paho_client(const char *id)
{
    MQTTAsync c;
    /* The same protocol as ours (MQTT 5), so the comparison is about the client alone. */
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.sendWhileDisconnected = 1;
    co.maxBufferedMessages = 1000000;
    MQTTAsync_createWithOptions(&c, broker.url, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    MQTTAsync_setCallbacks(c, NULL, NULL, paho_arrived, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
    o.cleanstart = 1;
    o.onSuccess5 = paho_on_connect;
    atomic_store(&paho_connected, 0);
    MQTTAsync_connect(c, &o);
    while (!atomic_load(&paho_connected))
        sb_time_sleep_ms(1);
    return c;
}

static atomic_int paho_acked;
static void paho_on_sent(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx, (void)r;
    atomic_fetch_add(&paho_acked, 1);
}

/* A plain paho publisher written the way a careful application would: at most `window`
 * publishes outstanding (0 = no limit, everything queued in paho at once). */
static double run_paho(int n, int qos, int window)
{
    MQTTAsync sub = paho_client("bench-paho-sub"), pub = paho_client("bench-paho-pub");
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTAsync_subscribe(sub, "bench/paho", qos, &ro);
    sb_time_sleep_ms(200);
    atomic_store(&received, 0);
    atomic_store(&paho_acked, 0);
    int64_t t0 = sb_time_mono_ms();
    for (int i = 0; i < n; i++) {
        while (window && i - atomic_load(&paho_acked) >= window)
            usleep(50);
        MQTTAsync_message m = MQTTAsync_message_initializer;
        m.payload = payload;
        m.payloadlen = (int)payload_len;
        m.qos = qos;
        MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
        r.onSuccess5 = paho_on_sent;
        while (MQTTAsync_sendMessage(pub, "bench/paho", &m, &r) != MQTTASYNC_SUCCESS)
            sb_time_sleep_ms(1);
    }
    int64_t deadline = sb_time_mono_ms() + 120000;
    while (atomic_load(&received) < n && sb_time_mono_ms() < deadline)
        usleep(200);
    int64_t dt = sb_time_mono_ms() - t0;
    int got = atomic_load(&received);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    MQTTAsync_disconnect(pub, &d);
    MQTTAsync_disconnect(sub, &d);
    sb_time_sleep_ms(100);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub);
    return got < n ? -1 : n * 1000.0 / (double)(dt ? dt : 1);
}

/* ---- the Switchboard bus client ------------------------------------------------------------ */

static void on_msg(void *ctx, const sb_bus_msg *m)
{
    (void)ctx, (void)m;
    atomic_fetch_add(&received, 1);
}

static double run_ours(int n, int qos)
{
    sb_config_bus cfg = {.url = broker.url,
                         .topic_prefix = "bench",
                         .keepalive_ms = 30000,
                         .connect_timeout_ms = 5000,
                         .reconnect_min_ms = 100,
                         .reconnect_max_ms = 1000,
                         .session_expiry_ms = 0,
                         .max_pending = 1000000};
    sb_bus_opts so = {.cfg = &cfg,
                      .service = "benchsub",
                      .instance = "1",
                      .clean_start = true,
                      .no_status = true};
    sb_bus_opts po = so;
    po.service = "benchpub";
    sb_bus *sub, *pub;
    if (sb_bus_create(&so, &sub, NULL) || sb_bus_create(&po, &pub, NULL))
        return -1;
    sb_bus_subscribe(sub, "bench/ours", qos, on_msg, NULL, NULL);
    if (sb_bus_start(sub, 5000, NULL) || sb_bus_start(pub, 5000, NULL))
        return -1;
    sb_time_sleep_ms(200);
    atomic_store(&received, 0);
    int64_t t0 = sb_time_mono_ms();
    for (int i = 0; i < n; i++) {
        while (sb_bus_publish(pub, "bench/ours", payload, payload_len, qos, false) != SB_OK)
            sb_time_sleep_ms(1);
    }
    int64_t deadline = sb_time_mono_ms() + 120000;
    while (atomic_load(&received) < n && sb_time_mono_ms() < deadline)
        usleep(200);
    int64_t dt = sb_time_mono_ms() - t0;
    int got = atomic_load(&received);
    sb_bus_destroy(pub, 1000);
    sb_bus_destroy(sub, 1000);
    return got < n ? -1 : n * 1000.0 / (double)(dt ? dt : 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int n = 100000, rounds = 3, opt;
    while ((opt = getopt(argc, argv, "n:r:s:")) != -1) {
        if (opt == 'n')
            n = atoi(optarg);
        else if (opt == 'r')
            rounds = atoi(optarg);
        else if (opt == 's')
            payload_len = (size_t)atoi(optarg) % sizeof(payload);
        else {
            fprintf(stderr, "usage: bench_bus [-n MESSAGES] [-r ROUNDS] [-s BYTES]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 50)
        rounds = 3;
    memset(payload, 'x', sizeof(payload));
    char dir[] = "/tmp/bench_bus-XXXXXX";
    sb_errmsg em = {0};
    if (!mkdtemp(dir) || sb_broker_start(&broker, "mosquitto", dir, 0, NULL, &em) != SB_OK) {
        fprintf(stderr, "bench_bus: %s\n", em.text);
        return 1;
    }
    printf("bench_bus: %d messages of %zu bytes, %d rounds, broker %s\n", n, payload_len, rounds,
           broker.url);
    printf("%-5s %16s %16s %14s %9s %9s\n", "qos", "paho msg/s", "paho w=1000", "ours msg/s",
           "ours/paho", "ours/w1000");
    for (int qos = 0; qos <= 1; qos++) {
        double p[50], w[50], o[50];
        for (int r = 0; r < rounds; r++) {
            p[r] = run_paho(n, qos, 0);
            w[r] = run_paho(n, qos, 1000);
            o[r] = run_ours(n, qos);
        }
        double mp = median(p, rounds), mw = median(w, rounds), mo = median(o, rounds);
        printf("%-5d %16.0f %16.0f %14.0f %9.2f %9.2f\n", qos, mp, mw, mo, mp > 0 ? mo / mp : 0,
               mw > 0 ? mo / mw : 0);
        fflush(stdout);
    }
    sb_broker_stop(&broker);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
