/*
 * mys_mqtopic.c - MySensors MQTT topic + payload -> serial line (mys_mqtopic.h).
 */
#include "gateways/mysensors/mys_mqtopic.h"

#include <string.h>

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

sb_err sb_mys_mqtt_line(const char *prefix, const char *topic, const void *payload, size_t len,
                        char *line, size_t cap, size_t *n, const char **why)
{
    static const char out_level[] = "-out/";
    size_t plen = strlen(prefix);
    char f[5][4];
    *n = 0;
    if (strncmp(topic, prefix, plen) != 0 ||
        strncmp(topic + plen, out_level, sizeof(out_level) - 1) != 0 ||
        !topic_fields(topic + plen + sizeof(out_level) - 1, f)) {
        *why = "topic is not <prefix>-out/<node>/<child>/<cmd>/<ack>/<type>";
        return SB_ERR_INVALID;
    }
    if (memchr(payload, '\n', len)) {
        *why = "payload holds a line end";
        return SB_ERR_INVALID;
    }
    size_t head = 0;
    for (int i = 0; i < 5; i++)
        head += strlen(f[i]) + 1;
    if (head + len + 1 > cap) {
        *why = "payload longer than a line";
        return SB_ERR_TOO_LARGE;
    }
    size_t k = 0;
    for (int i = 0; i < 5; i++) {
        size_t fl = strlen(f[i]);
        memcpy(line + k, f[i], fl);
        k += fl;
        line[k++] = ';';
    }
    memcpy(line + k, payload, len);
    k += len;
    line[k] = '\0';
    *n = k;
    *why = NULL;
    return SB_OK;
}
