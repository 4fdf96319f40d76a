/* provider.c - provider lookup and option parsing shared by the gateway service and tests. */
#include "gateways/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"

sb_err sb_gateway_mqtt_create(const sb_gateway_mqtt *m, sb_config_bus *cfg, sb_bus **out,
                              sb_errmsg *em)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->url = (char *)m->url;
    cfg->topic_prefix = (char *)m->provider;
    cfg->username = (char *)m->username;
    cfg->password = (char *)m->password;
    cfg->mqtt_version = SB_MQTT_V311;
    cfg->keepalive_ms = 30000;
    cfg->connect_timeout_ms = m->connect_timeout_ms;
    cfg->reconnect_min_ms = 100;
    cfg->reconnect_max_ms = 10000;
    cfg->max_pending = 10000;
    cfg->tls.verify = true;
    char client[256];
    snprintf(client, sizeof(client), "switchboard-%s-%s", m->provider, m->gateway_id);
    sb_bus_opts bo = {.cfg = cfg,
                      .service = m->provider,
                      .instance = m->gateway_id,
                      .client_id = client,
                      .clean_start = false,
                      .no_status = true};
    return sb_bus_create(&bo, out, em);
}

sb_err sb_gateway_mqtt_open(const sb_gateway_host *host, const char *provider,
                            const sb_gateway_mqtt_opts *o, sb_config_bus *cfg,
                            const char *const *filters, size_t n, sb_bus_handler fn, void *ctx,
                            sb_bus **out, sb_errmsg *em)
{
    sb_gateway_mqtt m = {.provider = provider,
                         .gateway_id = host->gateway_id,
                         .url = o->url,
                         .username = o->username,
                         .password = o->password,
                         .connect_timeout_ms = o->connect_timeout_ms};
    sb_err rc = sb_gateway_mqtt_create(&m, cfg, out, em);
    for (size_t i = 0; rc == SB_OK && i < n; i++)
        rc = sb_bus_subscribe(*out, filters[i], (int)o->qos, fn, ctx, em);
    if (rc == SB_OK)
        rc = sb_bus_start(*out, o->connect_timeout_ms, em);
    if (rc != SB_OK) {
        sb_fail_wrap(em, rc, "mqtt %s", o->url);
        sb_gateway_mqtt_close(out);
    }
    return rc;
}

void sb_gateway_mqtt_close(sb_bus **bus)
{
    sb_bus *b = *bus;
    *bus = NULL;
    sb_bus_destroy(b, 500);
}

sb_err sb_gateway_mqtt_send(const sb_gateway_host *host, sb_bus *bus, const char *topic,
                            const char *payload, int qos, bool retain)
{
    size_t len = strlen(payload);
    sb_err rc = bus ? sb_bus_publish(bus, topic, payload, len, qos, retain) : SB_ERR_CLOSED;
    if (rc == SB_OK)
        sb_gateway_raw_publish(host, false, topic, payload, len);
    return rc;
}

void sb_gateway_deliver(const sb_gateway_host *host, const char *where, sb_msg **msgs, size_t n,
                        char *const *notes, size_t n_notes)
{
    for (size_t i = 0; i < n_notes; i++)
        sb_info(host->log, "%s: %s", where, notes[i]);
    for (size_t i = 0; i < n; i++) {
        host->receive(host->ctx, msgs[i]);
        msgs[i] = NULL;
    }
}

void sb_gateway_mqtt_stats(const sb_gateway_mqtt_counters *c, cJSON *obj)
{
    cJSON_AddNumberToObject(obj, "publishesIn", (double)atomic_load(&c->in));
    cJSON_AddNumberToObject(obj, "commandsOut", (double)atomic_load(&c->out));
    cJSON_AddNumberToObject(obj, "malformed", (double)atomic_load(&c->malformed));
    cJSON_AddNumberToObject(obj, "skipped", (double)atomic_load(&c->skipped));
    cJSON_AddNumberToObject(obj, "writeErrors", (double)atomic_load(&c->write_errors));
}

void sb_gateway_raw_publish(const sb_gateway_host *host, bool inbound, const char *topic,
                            const void *payload, size_t len)
{
    size_t tl = strlen(topic);
    char *buf = malloc(tl + 1 + len);
    if (!buf)
        return;
    memcpy(buf, topic, tl);
    buf[tl] = ' ';
    memcpy(buf + tl + 1, payload, len);
    host->raw(host->ctx, inbound, buf, tl + 1 + len);
    free(buf);
}

const char *sb_gateway_status_name(sb_gateway_status status)
{
    switch (status) {
    case SB_GATEWAY_UP:
        return "up";
    case SB_GATEWAY_ERROR:
        return "error";
    case SB_GATEWAY_DOWN:
    default:
        return "down";
    }
}

sb_err sb_gateway_plugin_find(const char *type, const sb_gateway_plugin **out, sb_errmsg *em)
{
    const void *const *table = (const void *const *)sb_gateway_plugins;
    *out = type ? sb_registry_find(table, type) : NULL;
    if (*out)
        return SB_OK;
    char names[256];
    sb_registry_names(table, names, sizeof(names));
    return sb_fail(em, SB_ERR_NOTFOUND, "provider.type '%s': unknown provider (this build has: %s)",
                   type ? type : "", names[0] ? names : "none");
}

sb_err sb_gateway_options_parse(const sb_gateway_plugin *plugin, const cJSON *provider, void **out,
                                sb_errmsg *em)
{
    *out = NULL;
    size_t size = plugin->options_size ? plugin->options_size : 1;
    void *opts = calloc(1, size);
    cJSON *copy = provider ? cJSON_Duplicate(provider, 1) : cJSON_CreateObject();
    sb_err rc = SB_ERR_NOMEM;
    if (!opts || !copy)
        goto fail;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "type");
    if (plugin->raw_key) /* the options struct takes it, so the table never sees it */
        *(cJSON **)((char *)opts + plugin->raw_offset) =
            cJSON_DetachItemFromObjectCaseSensitive(copy, plugin->raw_key);
    if (plugin->info.options) {
        rc = sb_options_defaults(plugin->info.options, opts, em);
        if (rc == SB_OK)
            rc = sb_options_from_json(plugin->info.options, opts, copy, "provider", em);
    } else if (cJSON_GetArraySize(copy) > 0) {
        rc = sb_fail(em, SB_ERR_INVALID, "provider.%s: unknown key (provider '%s' has no options)",
                     copy->child->string, plugin->info.name);
    } else {
        rc = SB_OK;
    }
    if (rc != SB_OK)
        goto fail;
    cJSON_Delete(copy);
    *out = opts;
    return SB_OK;
fail:
    cJSON_Delete(copy);
    sb_gateway_options_free(plugin, opts);
    return rc == SB_ERR_NOMEM ? sb_fail(em, rc, "out of memory parsing provider options") : rc;
}

void sb_gateway_options_free(const sb_gateway_plugin *plugin, void *opts)
{
    if (!opts)
        return;
    if (plugin && plugin->raw_key)
        cJSON_Delete(*(cJSON **)((char *)opts + plugin->raw_offset));
    if (plugin && plugin->info.options)
        sb_options_free(plugin->info.options, opts);
    free(opts);
}
