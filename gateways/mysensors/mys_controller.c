/*
 * mys_controller.c - the answers a controller owes MySensors nodes (mys_msg.h).
 */
#include <stdio.h>
#include <string.h>

#include "gateways/mysensors/mys_msg.h"

sb_err sb_mys_answer_time(unsigned node, int64_t now_ms, int32_t utc_offset_s, sb_mys_line *out)
{
    char buf[24];
    int64_t s = now_ms / 1000 + utc_offset_s;
    if (s < 0)
        s = 0;
    snprintf(buf, sizeof(buf), "%lld", (long long)s);
    return sb_mys_line_set(out, node, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_TIME, buf);
}

sb_err sb_mys_answer_config(unsigned node, bool imperial, sb_mys_line *out)
{
    return sb_mys_line_set(out, node, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_CONFIG,
                           imperial ? "I" : "M");
}

sb_err sb_mys_next_free_id(const uint8_t *used, size_t n, uint8_t *id)
{
    bool taken[256];
    memset(taken, 0, sizeof(taken));
    for (size_t i = 0; used && i < n; i++)
        taken[used[i]] = true;
    for (unsigned v = 1; v <= 254; v++) {
        if (!taken[v]) {
            *id = (uint8_t)v;
            return SB_OK;
        }
    }
    return SB_ERR_FULL;
}

sb_err sb_mys_answer_id(uint8_t id, sb_mys_line *out)
{
    if (id == 0 || id == SB_MYS_BROADCAST)
        return SB_ERR_INVALID;
    char buf[4];
    snprintf(buf, sizeof(buf), "%u", id);
    return sb_mys_line_set(out, SB_MYS_BROADCAST, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0,
                           SB_MYS_I_ID_RESPONSE, buf);
}
