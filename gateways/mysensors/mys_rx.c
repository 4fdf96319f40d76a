/*
 * mys_rx.c - one received line: strict parse, the controller's own answers (I_TIME, I_CONFIG,
 * I_ID_REQUEST, OTA firmware), otherwise the codec's message handed to the gateway service.
 * Malformed lines are logged with the gateway id (the logger's prefix) and counted, never passed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/time.h"
#include "gateways/mysensors/mysensors.h"

void mys_rx_malformed(mys_prov *p, const char *text, size_t len, const char *why)
{
    atomic_fetch_add(&p->st.malformed, 1);
    char shown[81];
    size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;
    for (size_t i = 0; i < n; i++) /* control bytes would garble the log */
        shown[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    shown[n] = '\0';
    sb_warn(p->host->log, "gateway %s: dropped a malformed line '%s%s': %s", p->host->gateway_id,
            shown, len > n ? "..." : "", why);
}

static void answer(mys_prov *p, const sb_mys_line *l, const char *what)
{
    sb_errmsg em = {{0}};
    sb_err rc = mys_write(p, l, &em);
    if (rc != SB_OK) {
        sb_warn(p->host->log, "cannot answer %s to node %u: %s", what, l->node,
                sb_errmsg_str(&em, rc));
        return;
    }
    atomic_fetch_add(&p->st.answered, 1);
    sb_debug(p->host->log, "answered %s to node %u", what, l->node);
}

static int32_t utc_offset(const mys_prov *p)
{
    if (!p->o->local_time)
        return (int32_t)p->o->utc_offset_s;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (int32_t)tm.tm_gmtoff;
}

static bool answer_id(mys_prov *p)
{
    if (!p->o->assign_ids)
        return false;
    uint8_t id = 0;
    sb_errmsg em = {{0}};
    sb_err rc = mys_ids_assign(p, &id, &em);
    if (rc != SB_OK) {
        sb_warn(p->host->log, "cannot give a node an id: %s", sb_errmsg_str(&em, rc));
        return true;
    }
    sb_mys_line out;
    if (sb_mys_answer_id(id, &out) == SB_OK) {
        atomic_fetch_add(&p->st.ids_assigned, 1);
        sb_info(p->host->log, "assigned node id %u", id);
        answer(p, &out, "I_ID_RESPONSE");
    }
    return true;
}

/* OTA: true when answered from the node's assigned firmware. */
static bool answer_ota(mys_prov *p, const sb_mys_line *l)
{
    sb_errmsg em = {{0}};
    sb_mys_line out;
    const sb_mys_firmware *fw = NULL;
    pthread_mutex_lock(&p->fwmu);
    sb_err rc = mys_fw_for_node(p, l->node, &fw, &em);
    if (rc == SB_OK)
        rc = sb_mys_ota_answer(l, fw, &out, &em);
    pthread_mutex_unlock(&p->fwmu);
    if (rc == SB_ERR_NOTFOUND && !fw)
        return false; /* no firmware assigned: the request goes to the pipeline */
    if (rc != SB_OK) {
        sb_warn(p->host->log, "firmware request from node %u not served: %s", l->node,
                sb_errmsg_str(&em, rc));
        return true;
    }
    if (l->type == SB_MYS_ST_FIRMWARE_REQUEST)
        atomic_fetch_add(&p->st.fw_blocks, 1);
    answer(p, &out,
           l->type == SB_MYS_ST_FIRMWARE_REQUEST ? "ST_FIRMWARE_RESPONSE"
                                                 : "ST_FIRMWARE_CONFIG_RESPONSE");
    return true;
}

/* The answers the controller gives itself; true when the line was consumed. */
static bool controller_answer(mys_prov *p, const sb_mys_line *l)
{
    sb_mys_line out;
    if (l->cmd == SB_MYS_STREAM &&
        (l->type == SB_MYS_ST_FIRMWARE_CONFIG_REQUEST || l->type == SB_MYS_ST_FIRMWARE_REQUEST))
        return answer_ota(p, l);
    if (l->cmd != SB_MYS_INTERNAL || l->ack)
        return false;
    switch (l->type) {
    case SB_MYS_I_TIME:
        if (l->node == SB_MYS_BROADCAST ||
            sb_mys_answer_time(l->node, sb_time_now_ms(), utc_offset(p), &out) != SB_OK)
            return false;
        answer(p, &out, "I_TIME");
        return true;
    case SB_MYS_I_CONFIG:
        if (sb_mys_answer_config(l->node, p->o->units == MYS_IMPERIAL, &out) != SB_OK)
            return false;
        answer(p, &out, "I_CONFIG");
        return true;
    case SB_MYS_I_ID_REQUEST:
        return answer_id(p);
    case SB_MYS_I_GATEWAY_READY:
        sb_info(p->host->log, "gateway ready: %s", l->payload);
        return false;
    case SB_MYS_I_LOG_MESSAGE:
    case SB_MYS_I_DEBUG:
        sb_debug(p->host->log, "gateway log: %s", l->payload);
        return false;
    default:
        return false;
    }
}

void mys_rx_line(mys_prov *p, const char *text, size_t len)
{
    atomic_fetch_add(&p->st.lines_in, 1);
    p->host->raw(p->host->ctx, true, text, len);
    sb_mys_line l;
    sb_errmsg em = {{0}};
    sb_err rc = sb_mys_parse(text, len, &l, &em);
    if (rc != SB_OK) {
        mys_rx_malformed(p, text, len, sb_errmsg_str(&em, rc));
        return;
    }
    if (l.node != SB_MYS_GATEWAY_NODE && l.node != SB_MYS_BROADCAST)
        mys_ids_seen(p, l.node);
    if (controller_answer(p, &l))
        return;
    sb_msg *m = NULL;
    const char *dropped = NULL;
    rc = sb_mys_to_msg(&l, &p->codec, &m, &dropped, &em);
    if (rc == SB_ERR_UNSUPPORTED) {
        atomic_fetch_add(&p->st.unsupported, 1);
        sb_warn(p->host->log, "gateway %s: dropped '%.*s': %s", p->host->gateway_id, (int)len, text,
                sb_errmsg_str(&em, rc));
        return;
    }
    if (rc != SB_OK) {
        mys_rx_malformed(p, text, len, sb_errmsg_str(&em, rc));
        return;
    }
    if (!m) {
        atomic_fetch_add(&p->st.ignored, 1);
        sb_trace(p->host->log, "ignored '%.*s': %s", (int)len, text, dropped ? dropped : "");
        return;
    }
    p->host->receive(p->host->ctx, m);
}
