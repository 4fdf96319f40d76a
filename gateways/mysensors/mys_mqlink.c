/*
 * mys_mqlink.c - the MQTT transport (a MySensors MQTT gateway): the gateway publishes what
 * nodes send on <prefix>-out/<node>/<child>/<cmd>/<ack>/<type> with the payload as the message,
 * and takes what it must send from <prefix>-in/<node>/<child>/<cmd>/<ack>/<type>.
 *
 * The link is a client of its own (core/bus.h, no status, clean session) to provider.url, which
 * may be an external broker or the bus's own. The client reconnects by itself and restores the
 * subscription, so a broker restart does not stop the gateway; only a failed first connect is
 * reported (start fails and the service retries after reconnectDelay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/mysensors/mysensors.h"

/* Reads "<node>/<child>/<cmd>/<ack>/<type>" into five decimal fields as text. */
static bool topic_fields(const char *tail, char out[5][4])
{
    for (int i = 0; i < 5; i++) {
        size_t n = 0;
        while (tail[n] >= '0' && tail[n] <= '9')
            n++;
        if (n == 0 || n > 3 || (i < 4 && tail[n] != '/') || (i == 4 && tail[n] != '\0'))
            return false;
        memcpy(out[i], tail, n);
        out[i][n] = '\0';
        tail += n + 1;
    }
    return true;
}

static void on_out(void *ctx, const sb_bus_msg *bm)
{
    mys_prov *p = ctx;
    size_t plen = strlen(p->o->topic_prefix);
    /* "<prefix>-out/#" also matches "<prefix>-out" itself: no tail to read there. */
    bool has_tail = strlen(bm->topic) >= plen + strlen("-out/");
    const char *tail = has_tail ? bm->topic + plen + strlen("-out/") : "";
    char f[5][4];
    if (!topic_fields(tail, f)) {
        mys_rx_malformed(p, bm->topic, strlen(bm->topic),
                         "topic is not <node>/<child>/<cmd>/<ack>/<type>");
        return;
    }
    /* The line the serial gateway would have written; the parser checks every limit. */
    char line[SB_MYS_LINE_MAX * 2];
    int n = snprintf(line, sizeof(line), "%s;%s;%s;%s;%s;", f[0], f[1], f[2], f[3], f[4]);
    if (bm->len > sizeof(line) - (size_t)n - 1) {
        mys_rx_malformed(p, bm->topic, strlen(bm->topic), "payload longer than a line");
        return;
    }
    if (memchr(bm->payload, '\n', bm->len)) {
        mys_rx_malformed(p, bm->topic, strlen(bm->topic), "payload holds a line end");
        return;
    }
    memcpy(line + n, bm->payload, bm->len);
    mys_rx_line(p, line, (size_t)n + bm->len);
}

sb_err mys_mqlink_open(mys_prov *p, sb_errmsg *em)
{
    sb_gateway_mqtt m = {.provider = "mysensors",
                         .gateway_id = p->host->gateway_id,
                         .url = p->o->url,
                         .username = p->o->username,
                         .password = p->o->password,
                         .connect_timeout_ms = p->o->connect_timeout_ms};
    char filter[300];
    snprintf(filter, sizeof(filter), "%s-out/#", p->o->topic_prefix);
    sb_err rc = sb_gateway_mqtt_create(&m, &p->buscfg, &p->bus, em);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(p->bus, filter, (int)p->o->qos, on_out, p, em);
    if (rc == SB_OK)
        rc = sb_bus_start(p->bus, p->o->connect_timeout_ms, em);
    if (rc != SB_OK) {
        sb_fail_wrap(em, rc, "mqtt %s", p->o->url);
        mys_mqlink_close(p);
        return rc;
    }
    sb_info(p->host->log, "link open: mqtt %s, %s-out/# and %s-in/", p->o->url, p->o->topic_prefix,
            p->o->topic_prefix);
    return SB_OK;
}

void mys_mqlink_close(mys_prov *p)
{
    if (!p->bus)
        return;
    /* No more deliveries first, so no handler answers through a client being torn down. */
    char filter[300];
    snprintf(filter, sizeof(filter), "%s-out/#", p->o->topic_prefix);
    sb_bus_unsubscribe(p->bus, filter);
    sb_bus *bus = p->bus;
    p->bus = NULL;
    sb_bus_destroy(bus, 500);
}
