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

#include "gateways/mysensors/mys_mqtopic.h"
#include "gateways/mysensors/mysensors.h"

static void on_out(void *ctx, const sb_bus_msg *bm)
{
    mys_prov *p = ctx;
    /* The line the serial gateway would have written; the parser checks every limit. */
    char line[SB_MYS_LINE_MAX * 2];
    size_t n = 0;
    const char *why = NULL;
    if (sb_mys_mqtt_line(p->o->topic_prefix, bm->topic, bm->payload, bm->len, line, sizeof(line),
                         &n, &why) != SB_OK) {
        mys_rx_malformed(p, bm->topic, strlen(bm->topic), why);
        return;
    }
    mys_rx_line(p, line, n);
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
