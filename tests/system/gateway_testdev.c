/*
 * gateway_testdev.c - a test-only gateway provider ("testdev") and the provider table the
 * gateway test links instead of the generated one. Never registered for users.
 *
 * Its "device link" is MQTT on the test broker: devices publish message frames on
 * <topic>/tx, the provider sends to <topic>/rx; "down" on <topic>/ctl makes it report a lost
 * link. failStarts makes that many start calls fail first. It claims acks (CAP_ACKS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_testdev.h"
#include "harness.h"

#include "core/options.h"

typedef struct testdev_opts {
    char *topic;
    int64_t fail_starts;
    char *password; /* when set, the device accepts only "device-pw" */
} testdev_opts;

static const sb_option testdev_table[] = {
    {.type = SB_OPT_STRING,
     .key = "topic",
     .def = "",
     .offset = offsetof(testdev_opts, topic),
     .flags = SB_OPT_REQUIRED,
     .desc = "base topic of the device link"},
    SB_OPT_ROW_INT(testdev_opts, fail_starts, "failStarts", "0", 0, 100, "failing starts"),
    SB_OPT_ROW_SECRET(testdev_opts, password, "password", "the device's password"),
    SB_OPT_END,
};

typedef struct testdev {
    const sb_gateway_host *host;
    const testdev_opts *opts;
    int64_t fails_left;
    sb_bus *bus;
} testdev;

const sb_config_bus *testdev_bus_cfg;

static void on_tx(void *ctx, const sb_bus_msg *bm)
{
    testdev *d = ctx;
    const char *tail = strrchr(bm->topic, '/');
    if (tail && strcmp(tail, "/ctl") == 0) {
        d->host->state(d->host->ctx, SB_GATEWAY_DOWN, "link lost");
        return;
    }
    d->host->raw(d->host->ctx, true, bm->payload, bm->len);
    sb_msg_batch b = {0};
    if (sb_msg_decode_batch(bm->payload, bm->len, &b, NULL) != SB_OK)
        return;
    for (size_t i = 0; i < b.n; i++) {
        d->host->receive(d->host->ctx, b.msgs[i]);
        b.msgs[i] = NULL;
    }
    sb_msg_batch_free(&b);
}

static sb_err td_create(const sb_gateway_host *host, const void *options, void **out, sb_errmsg *em)
{
    (void)em;
    testdev *d = calloc(1, sizeof(*d));
    d->host = host;
    d->opts = options;
    d->fails_left = d->opts->fail_starts;
    *out = d;
    return SB_OK;
}

static sb_err td_start(void *inst, sb_errmsg *em)
{
    testdev *d = inst;
    if (d->fails_left > 0) {
        d->fails_left--;
        return sb_fail(em, SB_ERR_IO, "device '%s' not there", d->opts->topic);
    }
    if (d->opts->password && d->opts->password[0] && strcmp(d->opts->password, "device-pw") != 0)
        return sb_fail(em, SB_ERR_AUTH, "device '%s' refused the password", d->opts->topic);
    static int seq;
    char id[64], topic[256];
    snprintf(id, sizeof(id), "testdev-%d", __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    sb_bus_opts o = {.cfg = testdev_bus_cfg,
                     .service = "testdev",
                     .instance = id,
                     .clean_start = true,
                     .no_status = true};
    sb_err rc = sb_bus_create(&o, &d->bus, em);
    snprintf(topic, sizeof(topic), "%s/tx", d->opts->topic);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(d->bus, topic, 1, on_tx, d, em);
    snprintf(topic, sizeof(topic), "%s/ctl", d->opts->topic);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(d->bus, topic, 1, on_tx, d, em);
    if (rc == SB_OK)
        rc = sb_bus_start(d->bus, 3000, em);
    if (rc != SB_OK) {
        sb_bus_destroy(d->bus, 0);
        d->bus = NULL;
    }
    return rc;
}

static sb_err td_send(void *inst, const sb_msg *msg, sb_errmsg *em)
{
    testdev *d = inst;
    if (!d->bus)
        return sb_fail(em, SB_ERR_CLOSED, "not started");
    size_t len = 0;
    char *text = sb_msg_encode(msg, &len), topic[256];
    snprintf(topic, sizeof(topic), "%s/rx", d->opts->topic);
    d->host->raw(d->host->ctx, false, text, len);
    sb_err rc = sb_bus_publish(d->bus, topic, text, len, 1, false);
    free(text);
    return rc;
}

static void td_stop(void *inst)
{
    testdev *d = inst;
    sb_bus_destroy(d->bus, 500);
    d->bus = NULL;
}

static void td_destroy(void *inst)
{
    free(inst);
}

const sb_gateway_plugin sb_gateway_plugin_testdev = {
    .info = {.name = "testdev",
             .version = "1",
             .description = "test-only device link over the test broker",
             .options = testdev_table},
    .options_size = sizeof(testdev_opts),
    .caps = SB_GATEWAY_CAP_ACKS,
    .create = td_create,
    .start = td_start,
    .send = td_send,
    .stop = td_stop,
    .destroy = td_destroy,
};

/* Stands in for the generated table (gateways/CMakeLists.txt). */
const sb_gateway_plugin *const sb_gateway_plugins[] = {&sb_gateway_plugin_testdev, NULL};
