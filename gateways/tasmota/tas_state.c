/*
 * tas_state.c - STATE, RESULT and StatusSTS: relays, the light and the node's Wifi and uptime;
 * stat/POWER<n> text (docs/gateways/tasmota.md "STATE and RESULT").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "gateways/tasmota/tas_internal.h"

bool tas_relay_name(const char *name, unsigned *index)
{
    if (strncmp(name, "POWER", 5) != 0)
        return false;
    const char *d = name + 5;
    if (!*d) {
        *index = 0;
        return true;
    }
    unsigned n = 0;
    for (size_t i = 0; d[i]; i++) {
        if (d[i] < '0' || d[i] > '9' || i >= 2)
            return false;
        n = n * 10 + (unsigned)(d[i] - '0');
    }
    if (n < 1 || n > 32 || d[0] == '0')
        return false;
    *index = n;
    return true;
}

void tas_relay(tas_ctx *c, const char *name, const char *value)
{
    bool on =
        strcasecmp(value, "ON") == 0 || strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0;
    bool off =
        strcasecmp(value, "OFF") == 0 || strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0;
    if (!on && !off) {
        tas_note(c, "%s: relay %s: '%.20s' is not ON or OFF", c->t->name, name, value);
        return;
    }
    tas_add(c, tas_msg(c, SB_MSG_SET, name), SB_TAS_FIELD_POWER, on ? "true" : "false",
            SB_METRIC_BINARY, NULL);
}

typedef struct light_key {
    const char *key;
    sb_metric_type mt;
    const char *unit;
} light_key;

static const light_key light_keys[] = {
    {"Dimmer", SB_METRIC_GAUGE, "%"},     {"Dimmer1", SB_METRIC_GAUGE, "%"},
    {"Dimmer2", SB_METRIC_GAUGE, "%"},    {"White", SB_METRIC_GAUGE, "%"},
    {"CT", SB_METRIC_GAUGE, "mired"},     {"Color", SB_METRIC_STRING, NULL},
    {"HSBColor", SB_METRIC_STRING, NULL}, {NULL, SB_METRIC_NONE, NULL},
};

/* State keys that are not device data (memory, timing, light effects ...). */
static bool ignored(const char *k)
{
    static const char *const keys[] = {"Time",      "Heap",    "SleepMode", "Sleep",  "LoadAvg",
                                       "MqttCount", "Fade",    "Speed",     "Scheme", "Width",
                                       "LedTable",  "Channel", "Berry",     "Epoch",  NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

static void wifi(tas_ctx *c, const cJSON *w)
{
    if (!cJSON_IsObject(w)) {
        tas_note(c, "%s: Wifi is not an object", c->t->name);
        return;
    }
    sb_msg *m = tas_msg(c, SB_MSG_SET, "");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, "RSSI");
    if (v)
        tas_add_json(c, m, "Wifi", "rssi", v, SB_METRIC_GAUGE, "%");
    if ((v = cJSON_GetObjectItemCaseSensitive(w, "Signal")))
        tas_add_json(c, m, "Wifi", "signal", v, SB_METRIC_GAUGE, "dBm");
}

static bool light(tas_ctx *c, const cJSON *it)
{
    for (const light_key *k = light_keys; k->key; k++) {
        if (strcmp(k->key, it->string) == 0) {
            tas_add_json(c, tas_msg(c, SB_MSG_SET, SB_TAS_SRC_LIGHT), SB_TAS_SRC_LIGHT, k->key, it,
                         k->mt, k->unit);
            return true;
        }
    }
    return false;
}

void tas_state(tas_ctx *c, const cJSON *root, const char *what)
{
    const cJSON *it;
    unsigned relay;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        if (ignored(k) || light(c, it))
            continue;
        if (tas_relay_name(k, &relay)) {
            char text[32];
            if ((cJSON_IsString(it) || cJSON_IsNumber(it)) &&
                sb_json_scalar_text(it, text, sizeof(text)))
                tas_relay(c, k, text);
            else
                tas_note(c, "%s: %s: unexpected type", what, k);
        } else if (strcmp(k, "Wifi") == 0) {
            wifi(c, it);
        } else if (strcmp(k, "Uptime") == 0) {
            tas_add_json(c, tas_msg(c, SB_MSG_SET, ""), what, "uptime", it, SB_METRIC_STRING, NULL);
        } else if (strcmp(k, "UptimeSec") == 0) {
            tas_add_json(c, tas_msg(c, SB_MSG_SET, ""), what, "uptimeSec", it, SB_METRIC_COUNTER,
                         "s");
        } else {
            tas_note(c, "%s: unknown key '%.40s', skipped", what, k);
        }
    }
}
