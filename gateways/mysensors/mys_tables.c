/*
 * mys_tables.c - the MySensors 2.x type tables: S_ (presentation) -> Switchboard source type,
 * V_ (set/req) -> field metric type and unit, I_ (internal) and ST_ (stream) names.
 * The mapping is documented, table for table, in docs/gateways/mysensors.md.
 */
#include <string.h>

#include "gateways/mysensors/mys_proto.h"

typedef struct stype {
    const char *name;
    const char *source_type;
} stype;

static const stype s_types[] = {
    {"S_DOOR", "door"},
    {"S_MOTION", "motion"},
    {"S_SMOKE", "smoke"},
    {"S_BINARY", "binary"},
    {"S_DIMMER", "dimmer"},
    {"S_COVER", "cover"},
    {"S_TEMP", "temperature"},
    {"S_HUM", "humidity"},
    {"S_BARO", "barometer"},
    {"S_WIND", "wind"},
    {"S_RAIN", "rain"},
    {"S_UV", "uv"},
    {"S_WEIGHT", "weight"},
    {"S_POWER", "power"},
    {"S_HEATER", "heater"},
    {"S_DISTANCE", "distance"},
    {"S_LIGHT_LEVEL", "light_level"},
    {"S_ARDUINO_NODE", "node"},
    {"S_ARDUINO_REPEATER_NODE", "repeater_node"},
    {"S_LOCK", "lock"},
    {"S_IR", "ir"},
    {"S_WATER", "water"},
    {"S_AIR_QUALITY", "air_quality"},
    {"S_CUSTOM", "custom"},
    {"S_DUST", "dust"},
    {"S_SCENE_CONTROLLER", "scene_controller"},
    {"S_RGB_LIGHT", "rgb_light"},
    {"S_RGBW_LIGHT", "rgbw_light"},
    {"S_COLOR_SENSOR", "color_sensor"},
    {"S_HVAC", "hvac"},
    {"S_MULTIMETER", "multimeter"},
    {"S_SPRINKLER", "sprinkler"},
    {"S_WATER_LEAK", "water_leak"},
    {"S_SOUND", "sound"},
    {"S_VIBRATION", "vibration"},
    {"S_MOISTURE", "moisture"},
    {"S_INFO", "info"},
    {"S_GAS", "gas"},
    {"S_GPS", "gps"},
    {"S_WATER_QUALITY", "water_quality"},
};

#define F SB_METRIC_GAUGE_FLOAT
#define G SB_METRIC_GAUGE
#define B SB_METRIC_BINARY
#define S SB_METRIC_STRING
#define N SB_METRIC_NONE

static const sb_mys_vinfo v_types[] = {
    {"V_TEMP", F, "°C", "°F"},
    {"V_HUM", F, "%", "%"},
    {"V_STATUS", B, NULL, NULL},
    {"V_PERCENTAGE", G, "%", "%"},
    {"V_PRESSURE", F, "hPa", "hPa"},
    {"V_FORECAST", S, NULL, NULL},
    {"V_RAIN", F, "mm", "mm"},
    {"V_RAINRATE", F, "mm/h", "mm/h"},
    {"V_WIND", F, "m/s", "m/s"},
    {"V_GUST", F, "m/s", "m/s"},
    {"V_DIRECTION", G, "°", "°"},
    {"V_UV", F, "UVI", "UVI"},
    {"V_WEIGHT", F, "kg", "kg"},
    {"V_DISTANCE", F, "cm", "cm"},
    {"V_IMPEDANCE", F, "Ω", "Ω"},
    {"V_ARMED", B, NULL, NULL},
    {"V_TRIPPED", B, NULL, NULL},
    {"V_WATT", F, "W", "W"},
    {"V_KWH", F, "kWh", "kWh"},
    {"V_SCENE_ON", S, NULL, NULL},
    {"V_SCENE_OFF", S, NULL, NULL},
    {"V_HVAC_FLOW_STATE", S, NULL, NULL},
    {"V_HVAC_SPEED", S, NULL, NULL},
    {"V_LIGHT_LEVEL", F, "%", "%"},
    {"V_VAR1", S, NULL, NULL},
    {"V_VAR2", S, NULL, NULL},
    {"V_VAR3", S, NULL, NULL},
    {"V_VAR4", S, NULL, NULL},
    {"V_VAR5", S, NULL, NULL},
    {"V_UP", N, NULL, NULL},
    {"V_DOWN", N, NULL, NULL},
    {"V_STOP", N, NULL, NULL},
    {"V_IR_SEND", S, NULL, NULL},
    {"V_IR_RECEIVE", S, NULL, NULL},
    {"V_FLOW", F, "m", "m"},
    {"V_VOLUME", F, "l", "l"},
    {"V_LOCK_STATUS", B, NULL, NULL},
    {"V_LEVEL", F, NULL, NULL},
    {"V_VOLTAGE", F, "V", "V"},
    {"V_CURRENT", F, "A", "A"},
    {"V_RGB", S, NULL, NULL},
    {"V_RGBW", S, NULL, NULL},
    {"V_ID", S, NULL, NULL},
    {"V_UNIT_PREFIX", S, NULL, NULL},
    {"V_HVAC_SETPOINT_COOL", F, "°C", "°F"},
    {"V_HVAC_SETPOINT_HEAT", F, "°C", "°F"},
    {"V_HVAC_FLOW_MODE", S, NULL, NULL},
    {"V_TEXT", S, NULL, NULL},
    {"V_CUSTOM", S, NULL, NULL},
    {"V_POSITION", SB_METRIC_GEO, NULL, NULL},
    {"V_IR_RECORD", S, NULL, NULL},
    {"V_PH", F, "pH", "pH"},
    {"V_ORP", F, "mV", "mV"},
    {"V_EC", F, "μS/cm", "μS/cm"},
    {"V_VAR", F, "var", "var"},
    {"V_VA", F, "VA", "VA"},
    {"V_POWER_FACTOR", F, NULL, NULL},
    {"V_MULTI_MESSAGE", S, NULL, NULL},
    {"V_TILT", G, "%", "%"},
};

#undef F
#undef G
#undef B
#undef S
#undef N

static const char *const i_types[] = {
    "I_BATTERY_LEVEL",
    "I_TIME",
    "I_VERSION",
    "I_ID_REQUEST",
    "I_ID_RESPONSE",
    "I_INCLUSION_MODE",
    "I_CONFIG",
    "I_FIND_PARENT_REQUEST",
    "I_FIND_PARENT_RESPONSE",
    "I_LOG_MESSAGE",
    "I_CHILDREN",
    "I_SKETCH_NAME",
    "I_SKETCH_VERSION",
    "I_REBOOT",
    "I_GATEWAY_READY",
    "I_SIGNING_PRESENTATION",
    "I_NONCE_REQUEST",
    "I_NONCE_RESPONSE",
    "I_HEARTBEAT_REQUEST",
    "I_PRESENTATION",
    "I_DISCOVER_REQUEST",
    "I_DISCOVER_RESPONSE",
    "I_HEARTBEAT_RESPONSE",
    "I_LOCKED",
    "I_PING",
    "I_PONG",
    "I_REGISTRATION_REQUEST",
    "I_REGISTRATION_RESPONSE",
    "I_DEBUG",
    "I_SIGNAL_REPORT_REQUEST",
    "I_SIGNAL_REPORT_REVERSE",
    "I_SIGNAL_REPORT_RESPONSE",
    "I_PRE_SLEEP_NOTIFICATION",
    "I_POST_SLEEP_NOTIFICATION",
};

static const char *const st_types[] = {
    "ST_FIRMWARE_CONFIG_REQUEST",
    "ST_FIRMWARE_CONFIG_RESPONSE",
    "ST_FIRMWARE_REQUEST",
    "ST_FIRMWARE_RESPONSE",
    "ST_SOUND",
    "ST_IMAGE",
    "ST_FIRMWARE_CONFIRM",
    "ST_FIRMWARE_RESPONSE_RLE",
};

/* MySensors 1.x names still sent by old sketches and controllers. */
static const struct {
    unsigned cmd; /* SB_MYS_PRESENTATION or SB_MYS_SET */
    const char *name;
    unsigned type;
} aliases[] = {
    {SB_MYS_PRESENTATION, "S_LIGHT", 3},
    {SB_MYS_SET, "V_LIGHT", 2},
    {SB_MYS_SET, "V_DIMMER", 3},
    {SB_MYS_SET, "V_HEATER", 21},
};

const char *sb_mys_cmd_name(unsigned cmd)
{
    static const char *const names[] = {"presentation", "set", "req", "internal", "stream"};
    return cmd < SB_ARRAY_LEN(names) ? names[cmd] : NULL;
}

unsigned sb_mys_type_count(unsigned cmd)
{
    switch (cmd) {
    case SB_MYS_PRESENTATION:
        return SB_ARRAY_LEN(s_types);
    case SB_MYS_SET:
    case SB_MYS_REQ:
        return SB_ARRAY_LEN(v_types);
    case SB_MYS_INTERNAL:
        return SB_ARRAY_LEN(i_types);
    case SB_MYS_STREAM:
        return SB_ARRAY_LEN(st_types);
    default:
        return 0;
    }
}

const char *sb_mys_type_name(unsigned cmd, unsigned type)
{
    if (type >= sb_mys_type_count(cmd))
        return NULL;
    switch (cmd) {
    case SB_MYS_PRESENTATION:
        return s_types[type].name;
    case SB_MYS_SET:
    case SB_MYS_REQ:
        return v_types[type].name;
    case SB_MYS_INTERNAL:
        return i_types[type];
    default:
        return st_types[type];
    }
}

sb_err sb_mys_type_parse(unsigned cmd, const char *name, unsigned *type)
{
    if (!name)
        return SB_ERR_INVALID;
    unsigned n = sb_mys_type_count(cmd);
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(sb_mys_type_name(cmd, i), name) == 0) {
            *type = i;
            return SB_OK;
        }
    }
    unsigned table = cmd == SB_MYS_REQ ? SB_MYS_SET : cmd;
    for (size_t i = 0; i < SB_ARRAY_LEN(aliases); i++) {
        if (aliases[i].cmd == table && strcmp(aliases[i].name, name) == 0) {
            *type = aliases[i].type;
            return SB_OK;
        }
    }
    return SB_ERR_NOTFOUND;
}

const sb_mys_vinfo *sb_mys_vinfo_get(unsigned type)
{
    return type < SB_ARRAY_LEN(v_types) ? &v_types[type] : NULL;
}

const char *sb_mys_source_type(unsigned s_type)
{
    return s_type < SB_ARRAY_LEN(s_types) ? s_types[s_type].source_type : NULL;
}
