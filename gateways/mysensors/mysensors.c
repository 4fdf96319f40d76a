/*
 * mysensors.c - the MySensors gateway provider: descriptor, options, lifecycle, sending and
 * counters (mysensors.h, docs/gateways/mysensors.md "The provider").
 */
#include "gateways/mysensors/mysensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/options.h"

static const char *const transports[] = {"serial", "ethernet", "mqtt", NULL};
static const char *const units[] = {"metric", "imperial", NULL};

static const sb_option mys_table[] = {
    SB_OPT_ROW_ENUM(mys_opts, transport, "transport", "serial", transports,
                    "how the gateway is reached: serial, ethernet (TCP) or mqtt"),
    SB_OPT_ROW_STR(mys_opts, port, "port", "/dev/ttyUSB0", "serial: the device path"),
    SB_OPT_ROW_INT(mys_opts, baud_rate, "baudRate", "115200", 1200, 4000000,
                   "serial: bits per second"),
    SB_OPT_ROW_STR(mys_opts, host, "host", "127.0.0.1", "ethernet: the gateway's address"),
    SB_OPT_ROW_INT(mys_opts, tcp_port, "tcpPort", "5003", 1, 65535, "ethernet: the TCP port"),
    SB_OPT_ROW_DURATION(mys_opts, connect_timeout_ms, "connectTimeout", "5s", 100, 600000,
                        "ethernet and mqtt: how long opening the link may take"),
    SB_OPT_ROW_STR(mys_opts, url, "url", "tcp://127.0.0.1:1883",
                   "mqtt: the broker the MySensors MQTT gateway uses (may be the bus's own)"),
    SB_OPT_ROW_STR(mys_opts, username, "username", "", "mqtt: user name"),
    SB_OPT_ROW_SECRET(mys_opts, password, "password", "mqtt: password"),
    SB_OPT_ROW_STR(mys_opts, topic_prefix, "topicPrefix", "mygateway1",
                   "mqtt: MY_MQTT_PUBLISH_TOPIC_PREFIX without -out (subscribes <p>-out/#, "
                   "publishes <p>-in/...)"),
    SB_OPT_ROW_INT(mys_opts, qos, "qos", "0", 0, 1, "mqtt: QoS of subscriptions and publishes"),
    SB_OPT_ROW_ENUM(mys_opts, units, "unitsConfig", "metric", units,
                    "the I_CONFIG answer (M or I) and the units given to received values"),
    SB_OPT_ROW_BOOL(mys_opts, request_ack, "requestAck", "true",
                    "set the ack (echo) flag on lines sent to nodes, so the gateway service "
                    "can wait for the echo (gateway document ack.retryCount)"),
    SB_OPT_ROW_BOOL(mys_opts, assign_ids, "assignIds", "true",
                    "answer I_ID_REQUEST with the next free node id"),
    SB_OPT_ROW_BOOL(mys_opts, local_time, "localTime", "true",
                    "I_TIME answers the host's local time (false: UTC + utcOffset)"),
    SB_OPT_ROW_INT(mys_opts, utc_offset_s, "utcOffset", "0", -43200, 50400,
                   "I_TIME: seconds added to UTC when localTime is false"),
    SB_OPT_END,
};

static sb_err mys_create(const sb_gateway_host *host, const void *options, void **out,
                         sb_errmsg *em)
{
    mys_prov *p = calloc(1, sizeof(*p));
    if (!p)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    p->host = host;
    p->o = options;
    p->codec.gateway_id = host->gateway_id;
    p->codec.imperial = p->o->units == MYS_IMPERIAL;
    p->fd = -1;
    p->wake[0] = p->wake[1] = -1;
    pthread_mutex_init(&p->wmu, NULL);
    pthread_mutex_init(&p->idmu, NULL);
    pthread_mutex_init(&p->fwmu, NULL);
    if (p->o->transport == MYS_SERIAL && !*p->o->port) {
        free(p);
        return sb_fail(em, SB_ERR_INVALID, "provider.port: a serial transport needs a device");
    }
    *out = p;
    return SB_OK;
}

static sb_err mys_start(void *inst, sb_errmsg *em)
{
    mys_prov *p = inst;
    if (p->o->transport == MYS_MQTT)
        return mys_mqlink_open(p, em);
    return mys_fdlink_open(p, em);
}

static void mys_stop(void *inst)
{
    mys_prov *p = inst;
    if (p->o->transport == MYS_MQTT)
        mys_mqlink_close(p);
    else
        mys_fdlink_close(p);
}

static void mys_destroy(void *inst)
{
    mys_prov *p = inst;
    if (!p)
        return;
    mys_fw_cache_free(&p->fw);
    pthread_mutex_destroy(&p->wmu);
    pthread_mutex_destroy(&p->idmu);
    pthread_mutex_destroy(&p->fwmu);
    free(p);
}

/*
 * The ack (echo) flag: set on lines to a node when asked for and the message is not itself an
 * ack, so the node echoes the frame and the gateway service sees the echo as the ack
 * (SB_GATEWAY_CAP_ACKS). The gateway (0) and broadcast (255) never echo.
 */
static unsigned ack_flag(const mys_prov *p, const sb_msg *m, const sb_mys_line *l)
{
    if (m->is_ack)
        return 1; /* explicitly an echo/ack frame */
    if (!p->o->request_ack || l->node == SB_MYS_GATEWAY_NODE || l->node == SB_MYS_BROADCAST)
        return 0;
    return 1;
}

static sb_err mys_send(void *inst, const sb_msg *m, sb_errmsg *em)
{
    mys_prov *p = inst;
    for (size_t i = 0; i < m->n_payloads; i++) {
        sb_mys_line l;
        sb_err rc = sb_mys_from_msg(m, i, &l, em);
        if (rc != SB_OK)
            return rc;
        l.ack = (uint8_t)ack_flag(p, m, &l);
        rc = mys_write(p, &l, em);
        if (rc != SB_OK)
            return rc;
    }
    return SB_OK;
}

#define STAT(name, field) cJSON_AddNumberToObject(obj, name, (double)atomic_load(&p->st.field))

static void mys_stats_fn(void *inst, cJSON *obj)
{
    mys_prov *p = inst;
    STAT("linesIn", lines_in);
    STAT("linesOut", lines_out);
    STAT("malformed", malformed);
    STAT("unsupported", unsupported);
    STAT("ignored", ignored);
    STAT("answered", answered);
    STAT("idsAssigned", ids_assigned);
    STAT("firmwareBlocks", fw_blocks);
    STAT("writeErrors", write_errors);
}

sb_err mys_write(mys_prov *p, const sb_mys_line *line, sb_errmsg *em)
{
    if (p->o->transport == MYS_MQTT) {
        if (!p->bus)
            return sb_fail(em, SB_ERR_CLOSED, "mqtt: the link is not open");
        char topic[512];
        snprintf(topic, sizeof(topic), "%s-in/%u/%u/%u/%u/%u", p->o->topic_prefix, line->node,
                 line->child, line->cmd, line->ack, line->type);
        sb_err rc = sb_mys_validate(line, em);
        if (rc == SB_OK)
            rc = sb_bus_publish(p->bus, topic, line->payload, line->payload_len, (int)p->o->qos,
                                false);
        if (rc != SB_OK) {
            atomic_fetch_add(&p->st.write_errors, 1);
            return rc == SB_ERR_FULL ? sb_fail(em, rc, "mqtt: the publish queue is full") : rc;
        }
        char text[SB_MYS_LINE_MAX + 1];
        size_t n = 0;
        if (sb_mys_format(line, text, sizeof(text), &n) == SB_OK)
            p->host->raw(p->host->ctx, false, text, n);
        atomic_fetch_add(&p->st.lines_out, 1);
        return SB_OK;
    }
    char text[SB_MYS_LINE_MAX + 1];
    size_t n = 0;
    sb_err rc = sb_mys_format(line, text, sizeof(text), &n);
    if (rc != SB_OK)
        return sb_fail(em, rc, "cannot format the line");
    pthread_mutex_lock(&p->wmu);
    size_t off = 0;
    while (p->fd >= 0 && off < n) {
        ssize_t w = write(p->fd, text + off, n - off);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_unlock(&p->wmu);
    if (off < n) {
        atomic_fetch_add(&p->st.write_errors, 1);
        return sb_fail(em, SB_ERR_CLOSED, "%s: the link is closed",
                       p->o->transport == MYS_SERIAL ? p->o->port : p->o->host);
    }
    p->host->raw(p->host->ctx, false, text, n);
    atomic_fetch_add(&p->st.lines_out, 1);
    return SB_OK;
}

const sb_gateway_plugin sb_gateway_plugin_mysensors = {
    .info = {.name = "mysensors",
             .version = "1",
             .description = "MySensors serial API v2 over serial, ethernet (TCP) or MQTT",
             .options = mys_table},
    .options_size = sizeof(mys_opts),
    .caps = SB_GATEWAY_CAP_ACKS,
    .create = mys_create,
    .start = mys_start,
    .send = mys_send,
    .stop = mys_stop,
    .destroy = mys_destroy,
    .stats = mys_stats_fn,
};
