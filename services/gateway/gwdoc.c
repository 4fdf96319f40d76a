/* gwdoc.c - the gateway document's option table and parsing (gwdoc.h). */
#include "services/gateway/gwdoc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"

static const char *const logger_types[] = {"none", "file", NULL};

static const sb_option ack_table[] = {
    SB_OPT_ROW_INT(gw_doc_ack, retry_count, "retryCount", "3", 0, 100,
                   "Resends of a message the device did not acknowledge (providers with acks)."),
    SB_OPT_ROW_DURATION(gw_doc_ack, timeout_ms, "timeout", "1s", 10, 600000,
                        "How long to wait for a device's acknowledgement."),
    SB_OPT_END,
};

static const sb_option sleep_table[] = {
    SB_OPT_ROW_INT(gw_doc_sleep, max_per_node, "maxPerNode", "10", 1, 10000,
                   "Messages held for one sleeping node; more push out the oldest."),
    SB_OPT_ROW_DURATION(gw_doc_sleep, validity_ms, "validity", "1h", 0, 30.0 * 86400000,
                        "Held messages older than this are dropped; 0 = never."),
    SB_OPT_END,
};

static const sb_option logger_table[] = {
    SB_OPT_ROW_ENUM(gw_doc_logger, type, "type", "none", logger_types,
                    "none, or file: raw traffic in a rotating file."),
    SB_OPT_ROW_STR(gw_doc_logger, path, "path", "",
                   "Log file; empty = <gateway.log_dir>/<gatewayId>.log."),
    SB_OPT_ROW_INT(gw_doc_logger, max_size, "maxSize", "1048576", 256, 1e12,
                   "Bytes in one file before it is rotated."),
    SB_OPT_ROW_INT(gw_doc_logger, max_files, "maxFiles", "3", 1, 1000,
                   "Files kept, the current one included."),
    SB_OPT_END,
};

static const sb_option doc_table[] = {
    {.type = SB_OPT_STRING,
     .key = "id",
     .def = "",
     .offset = offsetof(gw_doc, id),
     .flags = SB_OPT_REQUIRED,
     .desc = "Gateway id."},
    SB_OPT_ROW_STR(gw_doc, name, "name", "", "Display name."),
    SB_OPT_ROW_BOOL(gw_doc, enabled, "enabled", "false", "Whether the service runs it."),
    SB_OPT_ROW_MAP(gw_doc, labels, "labels", "Labels (gateway.filter.labels matches them)."),
    SB_OPT_ROW_DURATION(gw_doc, reconnect_delay_ms, "reconnectDelay", "10s", 10, 86400000,
                        "Wait before reopening a failed or lost device link."),
    SB_OPT_ROW_BOOL(gw_doc, queue_failed, "queueFailedMessages", "false",
                    "Keep messages that could not be sent and send them when the link is back."),
    SB_OPT_ROW_SECTION(gw_doc, ack, "ack", ack_table, "Acknowledgements."),
    SB_OPT_ROW_SECTION(gw_doc, sleep, "sleepingQueue", sleep_table, "Sleeping-node queue."),
    SB_OPT_ROW_SECTION(gw_doc, logger, "messageLogger", logger_table, "Message logger."),
    SB_OPT_END,
};

char *gw_doc_fingerprint(const cJSON *doc)
{
    static const char *const skip[] = {"state", "modifiedOn", NULL};
    return sb_json_print_except(doc, skip);
}

/* The members the table knows, so entity keys it does not describe are ignored. */
static cJSON *known_part(const cJSON *doc)
{
    cJSON *part = cJSON_CreateObject();
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        if (part && item->string && sb_options_find(doc_table, item->string))
            cJSON_AddItemToObject(part, item->string, cJSON_Duplicate(item, 1));
    }
    return part;
}

sb_err gw_doc_parse(const cJSON *doc, gw_doc **out, sb_errmsg *em)
{
    *out = NULL;
    const char *id = sb_json_str(doc, "id", "?");
    gw_doc *d = calloc(1, sizeof(*d));
    cJSON *part = known_part(doc);
    sb_err rc = SB_ERR_NOMEM;
    if (!d || !part)
        goto fail;
    if ((rc = sb_options_defaults(doc_table, d, em)) != SB_OK ||
        (rc = sb_options_from_json(doc_table, d, part, "", em)) != SB_OK)
        goto fail;
    const cJSON *provider = cJSON_GetObjectItemCaseSensitive(doc, "provider");
    if (!cJSON_IsObject(provider) || !cJSON_IsString(cJSON_GetObjectItem(provider, "type"))) {
        rc = sb_fail(em, SB_ERR_INVALID, "key 'provider': expected an object with a \"type\"");
        goto fail;
    }
    d->provider = cJSON_Duplicate(provider, 1);
    d->fingerprint = gw_doc_fingerprint(doc);
    rc = SB_ERR_NOMEM;
    if (!d->provider || !d->fingerprint)
        goto fail;
    cJSON_Delete(part);
    *out = d;
    return SB_OK;
fail:
    cJSON_Delete(part);
    gw_doc_free(d);
    if (rc == SB_ERR_NOMEM)
        return sb_fail(em, rc, "gateway '%s': out of memory", id);
    return sb_fail_wrap(em, rc, "gateway '%s'", id);
}

void gw_doc_free(gw_doc *d)
{
    if (!d)
        return;
    sb_options_free(doc_table, d);
    cJSON_Delete(d->provider);
    free(d->fingerprint);
    free(d);
}
