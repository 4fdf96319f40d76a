/*
 * mqtt.c - the mqtt handler: publishes the rendered payload to a topic, on the service's own
 * bus connection (url empty) or on another broker given by url and credentials. The other
 * broker's client is made on the first call and kept until the url or the credentials change;
 * a delivery there counts only once that broker acknowledged it (QoS 1/2) or it was sent (QoS 0).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "handlers/plugin.h"

typedef struct mqtt_opts {
    char *topic;
    char *payload;
    int64_t qos;
    bool retain;
    char *url;
    char *username;
    char *password;
    int64_t timeout_ms;
} mqtt_opts;

static const sb_option mqtt_table[] = {
    {.type = SB_OPT_STRING,
     .key = "topic",
     .def = "",
     .offset = offsetof(mqtt_opts, topic),
     .flags = SB_OPT_REQUIRED,
     .desc = "The full topic to publish to (a template; no prefix is added)."},
    SB_OPT_ROW_STR(mqtt_opts, payload, "payload", "",
                   "The payload (a template); empty = the call's parameters as JSON."),
    SB_OPT_ROW_INT(mqtt_opts, qos, "qos", "1", 0, 2, "MQTT QoS of the publish."),
    SB_OPT_ROW_BOOL(mqtt_opts, retain, "retain", "false", "Publish retained."),
    SB_OPT_ROW_STR(mqtt_opts, url, "url", "",
                   "Another broker (tcp://host:port, ssl://host:port); empty = the bus."),
    SB_OPT_ROW_STR(mqtt_opts, username, "username", "", "User name on the other broker."),
    SB_OPT_ROW_SECRET(mqtt_opts, password, "password", "Password on the other broker."),
    SB_OPT_ROW_DURATION(mqtt_opts, timeout_ms, "timeout", "10s", 100, 600000,
                        "Connect and acknowledgement timeout on the other broker."),
    SB_OPT_END,
};

typedef struct mqtt_inst {
    const sb_handler_host *host;
    sb_config_bus cfg; /* the other broker; strings owned */
    sb_bus *bus;
} mqtt_inst;

static void drop_client(mqtt_inst *m)
{
    sb_bus_destroy(m->bus, 1000);
    m->bus = NULL;
    SB_FREE(m->cfg.url);
    SB_FREE(m->cfg.username);
    SB_FREE(m->cfg.password);
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The client of the other broker, made (and connected) when missing or changed. */
static sb_err other_broker(mqtt_inst *m, const mqtt_opts *o, sb_errmsg *em)
{
    if (m->bus && same_str(m->cfg.url, o->url) && same_str(m->cfg.username, o->username) &&
        same_str(m->cfg.password, o->password))
        return SB_OK;
    drop_client(m);
    memset(&m->cfg, 0, sizeof(m->cfg));
    m->cfg.url = strdup(o->url);
    m->cfg.username = strdup(o->username ? o->username : "");
    m->cfg.password = strdup(o->password ? o->password : "");
    m->cfg.topic_prefix = (char *)"switchboard";
    m->cfg.mqtt_version = SB_MQTT_AUTO;
    m->cfg.keepalive_ms = 30000;
    m->cfg.connect_timeout_ms = o->timeout_ms;
    m->cfg.reconnect_min_ms = 100;
    m->cfg.reconnect_max_ms = 10000;
    m->cfg.max_pending = 10000;
    m->cfg.tls.verify = true;
    if (!m->cfg.url || !m->cfg.username || !m->cfg.password) {
        drop_client(m);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    char client[300];
    snprintf(client, sizeof(client), "switchboard-handler-%s", m->host->handler_id);
    sb_bus_opts bo = {.cfg = &m->cfg,
                      .service = "handler",
                      .instance = m->host->handler_id,
                      .client_id = client,
                      .clean_start = true,
                      .no_status = true};
    sb_err rc = sb_bus_create(&bo, &m->bus, em);
    if (rc == SB_OK)
        rc = sb_bus_start(m->bus, o->timeout_ms, em);
    if (rc != SB_OK) {
        sb_fail_wrap(em, rc, "broker %s", o->url);
        drop_client(m);
    }
    return rc;
}

static sb_err mqtt_create(const sb_handler_host *host, const void *opts, void **out, sb_errmsg *em)
{
    (void)opts;
    mqtt_inst *m = calloc(1, sizeof(*m));
    if (!m)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    m->host = host;
    *out = m;
    return SB_OK;
}

static sb_err mqtt_run(void *inst, const sb_handler_host *host, const void *opts,
                       const sb_handler_call *call, sb_errmsg *em)
{
    mqtt_inst *m = inst;
    const mqtt_opts *o = opts;
    char *params = NULL;
    const char *payload = o->payload;
    if (!payload || !*payload)
        payload = params = sb_json_print(call->parameters);
    if (!payload)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    bool other = o->url && *o->url;
    sb_err rc = other ? other_broker(m, o, em) : SB_OK;
    sb_bus *bus = other ? m->bus : host->bus;
    if (rc == SB_OK)
        rc = sb_bus_publish(bus, o->topic, payload, strlen(payload), (int)o->qos, o->retain);
    if (rc == SB_OK && other && (rc = sb_bus_flush(bus, o->timeout_ms)) != SB_OK)
        sb_fail(em, rc, "%s: not acknowledged by %s in time", o->topic, o->url);
    else if (rc == SB_OK)
        sb_fail(em, SB_OK, "published to %s", o->topic);
    else if (rc == SB_ERR_FULL)
        sb_fail(em, rc, "%s: too many publishes pending", o->topic);
    free(params);
    return rc;
}

static void mqtt_destroy(void *inst)
{
    mqtt_inst *m = inst;
    if (!m)
        return;
    drop_client(m);
    free(m);
}

const sb_handler_plugin sb_handler_plugin_mqtt = {
    .info = {.name = "mqtt",
             .version = "1",
             .description = "publishes the rendered payload on the bus or on another broker",
             .options = mqtt_table},
    .options_size = sizeof(mqtt_opts),
    .create = mqtt_create,
    .run = mqtt_run,
    .destroy = mqtt_destroy,
};
