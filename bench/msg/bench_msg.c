/*
 * bench_msg.c - encode/decode cost of a typical one-payload message, single and in batch
 * frames of 500 (the internal-hop case). Prints ns per message. Build Release for real numbers.
 *
 * Usage: bench_msg [iterations]   (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msg.h"

static const char *const TYPICAL =
    "{\"id\":\"6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f\",\"gatewayId\":\"gw1\",\"nodeId\":\"12\","
    "\"sourceId\":\"1\",\"type\":\"set\",\"payloads\":[{\"key\":\"V_TEMP\",\"value\":\"21.5\","
    "\"metricType\":\"gauge_float\",\"unit\":\"°C\",\"labels\":{}}],\"labels\":{},"
    "\"isAck\":false,\"isReceived\":true,\"isSleepNode\":false,"
    "\"timestamp\":\"2026-11-25T20:00:00.123Z\"}";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fail(const char *what, const sb_errmsg *em)
{
    fprintf(stderr, "bench_msg: %s failed: %s\n", what, em ? em->text : "");
    exit(1);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    if (iters <= 0)
        iters = 200000;
    size_t len = strlen(TYPICAL);
    sb_errmsg em = {{0}};
    sb_msg *m = NULL;
    if (sb_msg_decode(TYPICAL, len, &m, &em))
        fail("decode", &em);

    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        sb_msg *d = NULL;
        if (sb_msg_decode(TYPICAL, len, &d, &em))
            fail("decode", &em);
        sb_msg_free(d);
    }
    double t1 = now_ns();
    size_t total = 0;
    for (long i = 0; i < iters; i++) {
        size_t n;
        char *text = sb_msg_encode(m, &n);
        if (!text)
            fail("encode", NULL);
        total += n;
        free(text);
    }
    double t2 = now_ns();
    printf("message of %zu bytes, %ld iterations\n", len, iters);
    printf("decode        %8.0f ns/msg\n", (t1 - t0) / (double)iters);
    printf("encode        %8.0f ns/msg\n", (t2 - t1) / (double)iters);

    enum { BATCH = 500 };
    sb_msg *msgs[BATCH];
    for (int i = 0; i < BATCH; i++)
        msgs[i] = m;
    size_t blen;
    long rounds = iters / BATCH > 0 ? iters / BATCH : 1;
    double t3 = now_ns();
    char *frame = NULL;
    for (long r = 0; r < rounds; r++) {
        free(frame);
        if (!(frame = sb_msg_encode_batch(msgs, BATCH, &blen)))
            fail("encode_batch", NULL);
    }
    double t4 = now_ns();
    for (long r = 0; r < rounds; r++) {
        sb_msg_batch b;
        if (sb_msg_decode_batch(frame, blen, &b, &em) || b.n != BATCH)
            fail("decode_batch", &em);
        sb_msg_batch_free(&b);
    }
    double t5 = now_ns();
    double per = (double)rounds * BATCH;
    printf("batch encode  %8.0f ns/msg (frames of %d, %zu bytes)\n", (t4 - t3) / per, BATCH, blen);
    printf("batch decode  %8.0f ns/msg\n", (t5 - t4) / per);
    free(frame);
    sb_msg_free(m);
    return total == 0;
}
