/*
 * tasmota_map_test.c - the Tasmota mapping (gateways/tasmota/tas_map.h): topics against
 * FullTopics, real-looking SENSOR / STATE / RESULT / STATUS / POWER / LWT payloads, and writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/tasmota/tas_map.h"

static const sb_tas_opts dflt = {.gateway_id = "gw1"};

/* Maps topic+payload with o; fails the test when the topic does not parse. */
static void map(const sb_tas_opts *o, const char *topic, const char *payload, sb_tas_result *r)
{
    sb_tas_topic t;
    sb_errmsg em = {{0}};
    if (sb_tas_topic_parse(o, topic, &t, &em) != SB_OK)
        fail_msg("%s: %s", topic, em.text);
    assert_int_equal(sb_tas_map(o, &t, payload, strlen(payload), r), SB_OK);
    for (size_t i = 0; i < r->m.n; i++)
        if (sb_msg_validate(r->m.msgs[i], &em) != SB_OK)
            fail_msg("%s: message %zu invalid: %s", topic, i, em.text);
}

static const sb_msg *find_msg(const sb_tas_result *r, sb_msg_type type, const char *src)
{
    for (size_t i = 0; i < r->m.n; i++)
        if (r->m.msgs[i]->type == type && strcmp(r->m.msgs[i]->source_id, src) == 0)
            return r->m.msgs[i];
    fail_msg("no %s message for source '%s'", sb_msg_type_name(type), src);
    return NULL;
}

static bool has_msg(const sb_tas_result *r, const char *src)
{
    for (size_t i = 0; i < r->m.n; i++)
        if (strcmp(r->m.msgs[i]->source_id, src) == 0)
            return true;
    return false;
}

/* Checks source src has field key = value with metric type and unit (NULL = none). */
static void field(const sb_tas_result *r, const char *src, const char *key, const char *value,
                  sb_metric_type mt, const char *unit)
{
    const sb_msg *m = find_msg(r, SB_MSG_SET, src);
    assert_string_equal(m->node_id, r->m.msgs[0]->node_id);
    for (size_t i = 0; i < m->n_payloads; i++) {
        const sb_payload *p = &m->payloads[i];
        if (strcmp(p->key, key) != 0)
            continue;
        assert_string_equal(p->value, value);
        assert_int_equal(p->metric_type, mt);
        if (unit)
            assert_string_equal(p->unit ? p->unit : "", unit);
        else
            assert_true(!p->unit || !*p->unit);
        return;
    }
    fail_msg("source %s has no field %s", src, key);
}

static bool has_field(const sb_tas_result *r, const char *src, const char *key)
{
    for (size_t i = 0; i < r->m.n; i++) {
        const sb_msg *m = r->m.msgs[i];
        if (strcmp(m->source_id, src) != 0)
            continue;
        for (size_t j = 0; j < m->n_payloads; j++)
            if (strcmp(m->payloads[j].key, key) == 0)
                return true;
    }
    return false;
}

static bool note_has(const sb_tas_result *r, const char *text)
{
    for (size_t i = 0; i < r->m.n_notes; i++)
        if (strstr(r->m.notes[i], text))
            return true;
    return false;
}

static void test_topics(void **state)
{
    (void)state;
    sb_tas_topic t;
    assert_int_equal(sb_tas_topic_parse(&dflt, "tele/plug_1/SENSOR", &t, NULL), SB_OK);
    assert_int_equal(t.prefix, SB_TAS_TELE);
    assert_string_equal(t.device, "plug_1");
    assert_string_equal(t.node_id, "plug_1");
    assert_string_equal(t.name, "SENSOR");
    assert_string_equal(t.cmnd_base, "cmnd/plug_1/");
    /* a device topic of several levels, with characters ids may not hold */
    assert_int_equal(sb_tas_topic_parse(&dflt, "stat/home/kitchen.plug:2/POWER2", &t, NULL), SB_OK);
    assert_int_equal(t.prefix, SB_TAS_STAT);
    assert_string_equal(t.device, "home/kitchen.plug:2");
    assert_string_equal(t.node_id, "home_kitchen_plug_2");
    assert_string_equal(t.cmnd_base, "cmnd/home/kitchen.plug:2/");
    /* not ours */
    assert_int_equal(sb_tas_topic_parse(&dflt, "zigbee2mqtt/lamp", &t, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_topic_parse(&dflt, "tele/SENSOR", &t, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_topic_parse(&dflt, "tele//SENSOR", &t, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_topic_parse(&dflt, "", &t, NULL), SB_ERR_INVALID);

    char f[2][SB_TAS_TOPIC_MAX];
    size_t n = 0;
    assert_int_equal(sb_tas_filters(&dflt, f, &n, NULL), SB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(f[0], "stat/#");
    assert_string_equal(f[1], "tele/#");
    char base[SB_TAS_TOPIC_MAX];
    assert_int_equal(sb_tas_cmnd_base(&dflt, "plug", base, sizeof(base), NULL), SB_OK);
    assert_string_equal(base, "cmnd/plug/");
}

static void test_custom_full_topic(void **state)
{
    (void)state;
    sb_tas_opts o = {
        .gateway_id = "gw1", .full_topic = "house/%topic%/%prefix%/", .prefix = {"c", "s", "t"}};
    sb_tas_topic t;
    assert_int_equal(sb_tas_topic_parse(&o, "house/garden/pump/t/SENSOR", &t, NULL), SB_OK);
    assert_int_equal(t.prefix, SB_TAS_TELE);
    assert_string_equal(t.device, "garden/pump");
    assert_string_equal(t.cmnd_base, "house/garden/pump/c/");
    assert_int_equal(sb_tas_topic_parse(&o, "house/pump/tele/SENSOR", &t, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_topic_parse(&o, "home/pump/t/SENSOR", &t, NULL), SB_ERR_INVALID);
    char f[2][SB_TAS_TOPIC_MAX];
    size_t n = 0;
    assert_int_equal(sb_tas_filters(&o, f, &n, NULL), SB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(f[0], "house/#");

    /* %hostname% is one level; a never-seen device has no command topic */
    sb_tas_opts h = {.gateway_id = "gw1", .full_topic = "%prefix%/%hostname%/%topic%/"};
    assert_int_equal(sb_tas_topic_parse(&h, "tele/tasmota-1A2B/bath/STATE", &t, NULL), SB_OK);
    assert_string_equal(t.device, "bath");
    assert_string_equal(t.cmnd_base, "cmnd/tasmota-1A2B/bath/");
    assert_int_equal(sb_tas_filters(&h, f, &n, NULL), SB_OK);
    assert_string_equal(f[0], "stat/+/#");
    char base[SB_TAS_TOPIC_MAX];
    assert_int_equal(sb_tas_cmnd_base(&h, "bath", base, sizeof(base), NULL), SB_ERR_INVALID);

    assert_int_equal(sb_tas_full_topic_check("%prefix%/%topic%/", NULL), SB_OK);
    assert_int_equal(sb_tas_full_topic_check("%topic%/", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_full_topic_check("%prefix%/%topic%/%topic%/", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_full_topic_check("%prefix%/+/%topic%", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_full_topic_check("%prefix%//%topic%", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_tas_full_topic_check("%prefix%/x%topic%", NULL), SB_ERR_INVALID);
}

static void test_sensor_bme_ds(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/sensor1/SENSOR",
        "{\"Time\":\"2024-01-05T10:00:00\",\"BME280\":{\"Temperature\":21.4,\"Humidity\":45.2,"
        "\"DewPoint\":9.1,\"Pressure\":1013.2},\"DS18B20\":{\"Id\":\"0316A279C0FF\","
        "\"Temperature\":19.9},\"PressureUnit\":\"hPa\",\"TempUnit\":\"C\"}",
        &r);
    field(&r, "BME280", "Temperature", "21.4", SB_METRIC_GAUGE_FLOAT, "°C");
    field(&r, "BME280", "Humidity", "45.2", SB_METRIC_GAUGE_FLOAT, "%");
    field(&r, "BME280", "DewPoint", "9.1", SB_METRIC_GAUGE_FLOAT, "°C");
    field(&r, "BME280", "Pressure", "1013.2", SB_METRIC_GAUGE_FLOAT, "hPa");
    field(&r, "DS18B20", "Temperature", "19.9", SB_METRIC_GAUGE_FLOAT, "°C");
    field(&r, "DS18B20", "Id", "0316A279C0FF", SB_METRIC_STRING, NULL);
    assert_string_equal(r.m.msgs[0]->node_id, "sensor1");
    assert_string_equal(r.m.msgs[0]->gateway_id, "gw1");
    assert_int_equal(r.m.skipped, 0);
    sb_tas_result_free(&r);
}

static void test_sensor_fahrenheit_mmhg_several(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/porch/SENSOR",
        "{\"Time\":\"2024-01-05T10:00:00\",\"DS18B20-1\":{\"Id\":\"01\",\"Temperature\":70.3},"
        "\"DS18B20-2\":{\"Id\":\"02\",\"Temperature\":68},\"AM2301\":{\"Temperature\":71.2,"
        "\"Humidity\":52,\"DewPoint\":52.7},\"BMP280\":{\"Temperature\":70,\"Pressure\":760.1},"
        "\"TempUnit\":\"F\",\"PressureUnit\":\"mmHg\"}",
        &r);
    field(&r, "DS18B20-1", "Temperature", "70.3", SB_METRIC_GAUGE_FLOAT, "°F");
    field(&r, "DS18B20-2", "Temperature", "68", SB_METRIC_GAUGE_FLOAT, "°F");
    field(&r, "AM2301", "Temperature", "71.2", SB_METRIC_GAUGE_FLOAT, "°F");
    field(&r, "AM2301", "DewPoint", "52.7", SB_METRIC_GAUGE_FLOAT, "°F");
    field(&r, "AM2301", "Humidity", "52", SB_METRIC_GAUGE_FLOAT, "%");
    field(&r, "BMP280", "Pressure", "760.1", SB_METRIC_GAUGE_FLOAT, "mmHg");
    sb_tas_result_free(&r);
}

static void test_sensor_nan_null_bad(void **state)
{
    (void)state;
    sb_tas_result r;
    /* older firmware writes a bare nan; newer null; one bad sensor must not lose the rest */
    map(&dflt, "tele/s2/SENSOR",
        "{\"Time\":\"x\",\"AM2301\":{\"Temperature\":nan,\"Humidity\":null,\"DewPoint\":-nan},"
        "\"SI7021\":{\"Temperature\":\"nan\",\"Humidity\":40.5},\"Flag\":3,"
        "\"DS18B20\":{\"Temperature\":[1,{\"a\":2}]},\"TempUnit\":\"K\"}",
        &r);
    field(&r, "SI7021", "Humidity", "40.5", SB_METRIC_GAUGE_FLOAT, "%");
    field(&r, "DS18B20", "Temperature1", "1", SB_METRIC_GAUGE_FLOAT, "°C");
    assert_false(has_msg(&r, "AM2301")); /* every value skipped: no empty message */
    assert_false(has_field(&r, "SI7021", "Temperature"));
    assert_true(note_has(&r, "AM2301.Temperature"));
    assert_true(note_has(&r, "AM2301.Humidity"));
    assert_true(note_has(&r, "Flag"));
    assert_true(note_has(&r, "TempUnit"));
    assert_true(r.m.skipped >= 6);
    sb_tas_result_free(&r);

    /* not JSON at all: no message, one note */
    map(&dflt, "tele/s2/SENSOR", "{\"BME280\":{\"Temperature\":21", &r);
    assert_int_equal(r.m.n, 0);
    assert_true(note_has(&r, "not a JSON object"));
    sb_tas_result_free(&r);
    map(&dflt, "tele/s2/SENSOR", "[1,2]", &r);
    assert_int_equal(r.m.n, 0);
    sb_tas_result_free(&r);
}

static void test_sensor_nested_and_names(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/multi/SENSOR",
        "{\"ANALOG\":{\"A0\":512,\"Range\":{\"Value\":3.3}},\"SHT3X-0x45\":{\"Temperature\":"
        "20.1},\"PMS5003\":{\"PM2.5\":12,\"CF1\":3},\"My Sensor/1\":{\"Light\":true,"
        "\"Mode\":\"auto\"},\"A\":{\"B\":{\"C\":{\"D\":{\"E\":{\"x\":1}}}}}}",
        &r);
    field(&r, "ANALOG", "A0", "512", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "ANALOG-Range", "Value", "3.3", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "SHT3X-0x45", "Temperature", "20.1", SB_METRIC_GAUGE_FLOAT, "°C");
    field(&r, "PMS5003", "PM2_5", "12", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "My_Sensor_1", "Light", "true", SB_METRIC_BINARY, NULL);
    field(&r, "My_Sensor_1", "Mode", "auto", SB_METRIC_STRING, NULL);
    assert_true(note_has(&r, "nested too deep"));
    sb_tas_result_free(&r);
}

static void test_energy(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/plug2/SENSOR",
        "{\"Time\":\"2024-01-05T10:00:00\",\"ENERGY\":{\"TotalStartTime\":\"2023-01-01T00:00:00\","
        "\"Total\":12.345,\"Yesterday\":0.5,\"Today\":0.123,\"Period\":2,\"Power\":[45,0],"
        "\"ApparentPower\":50,\"ReactivePower\":20,\"Factor\":0.9,\"Voltage\":230,"
        "\"Current\":0.217}}",
        &r);
    field(&r, "ENERGY", "Total", "12.345", SB_METRIC_GAUGE_FLOAT, "kWh");
    field(&r, "ENERGY", "Today", "0.123", SB_METRIC_GAUGE_FLOAT, "kWh");
    field(&r, "ENERGY", "Yesterday", "0.5", SB_METRIC_GAUGE_FLOAT, "kWh");
    field(&r, "ENERGY", "Power1", "45", SB_METRIC_GAUGE_FLOAT, "W");
    field(&r, "ENERGY", "Power2", "0", SB_METRIC_GAUGE_FLOAT, "W");
    field(&r, "ENERGY", "ApparentPower", "50", SB_METRIC_GAUGE_FLOAT, "VA");
    field(&r, "ENERGY", "ReactivePower", "20", SB_METRIC_GAUGE_FLOAT, "var");
    field(&r, "ENERGY", "Factor", "0.9", SB_METRIC_GAUGE_FLOAT, NULL);
    field(&r, "ENERGY", "Voltage", "230", SB_METRIC_GAUGE_FLOAT, "V");
    field(&r, "ENERGY", "Current", "0.217", SB_METRIC_GAUGE_FLOAT, "A");
    field(&r, "ENERGY", "TotalStartTime", "2023-01-01T00:00:00", SB_METRIC_STRING, NULL);
    sb_tas_result_free(&r);
}

static void test_state_relays_light_wifi(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/light1/STATE",
        "{\"Time\":\"2024-01-05T10:00:00\",\"Uptime\":\"0T01:02:03\",\"UptimeSec\":3723,"
        "\"Heap\":25,\"SleepMode\":\"Dynamic\",\"Sleep\":50,\"LoadAvg\":19,\"MqttCount\":1,"
        "\"POWER1\":\"ON\",\"POWER2\":\"OFF\",\"Dimmer\":75,\"Color\":\"FF8000\","
        "\"HSBColor\":\"30,100,75\",\"CT\":250,\"Channel\":[100,50,0],\"Scheme\":0,"
        "\"Wifi\":{\"AP\":1,\"SSId\":\"home\",\"RSSI\":78,\"Signal\":-61,\"LinkCount\":1},"
        "\"Mystery\":1}",
        &r);
    field(&r, "POWER1", "power", "true", SB_METRIC_BINARY, NULL);
    field(&r, "POWER2", "power", "false", SB_METRIC_BINARY, NULL);
    field(&r, "light", "Dimmer", "75", SB_METRIC_GAUGE, "%");
    field(&r, "light", "Color", "FF8000", SB_METRIC_STRING, NULL);
    field(&r, "light", "HSBColor", "30,100,75", SB_METRIC_STRING, NULL);
    field(&r, "light", "CT", "250", SB_METRIC_GAUGE, "mired");
    field(&r, "", "rssi", "78", SB_METRIC_GAUGE, "%");
    field(&r, "", "signal", "-61", SB_METRIC_GAUGE, "dBm");
    field(&r, "", "uptime", "0T01:02:03", SB_METRIC_STRING, NULL);
    field(&r, "", "uptimeSec", "3723", SB_METRIC_COUNTER, "s");
    assert_true(note_has(&r, "Mystery"));
    assert_int_equal(r.m.skipped, 1);
    sb_tas_result_free(&r);
}

static void test_result_and_power(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "stat/plug/RESULT", "{\"POWER\":\"OFF\"}", &r);
    field(&r, "POWER", "power", "false", SB_METRIC_BINARY, NULL);
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/RESULT", "{\"POWER2\":\"ON\",\"Dimmer\":\"x\",\"POWER3\":{}}", &r);
    field(&r, "POWER2", "power", "true", SB_METRIC_BINARY, NULL);
    field(&r, "light", "Dimmer", "x", SB_METRIC_GAUGE, "%"); /* the processor rejects it */
    assert_true(note_has(&r, "POWER3"));
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/POWER2", "ON", &r);
    field(&r, "POWER2", "power", "true", SB_METRIC_BINARY, NULL);
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/POWER", "off", &r);
    field(&r, "POWER", "power", "false", SB_METRIC_BINARY, NULL);
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/POWER1", "maybe", &r);
    assert_int_equal(r.m.n, 0);
    assert_int_equal(r.m.skipped, 1);
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/POWER33", "ON", &r);
    assert_int_equal(r.m.n, 0);
    assert_true(note_has(&r, "not mapped"));
    sb_tas_result_free(&r);
    map(&dflt, "cmnd/plug/POWER1", "ON", &r);
    assert_int_equal(r.m.n, 0);
    sb_tas_result_free(&r);
}

static void test_lwt(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "tele/plug/LWT", "Offline", &r);
    assert_true(r.online_known);
    assert_false(r.online);
    field(&r, "", "online", "false", SB_METRIC_BINARY, NULL);
    sb_tas_result_free(&r);
    map(&dflt, "tele/plug/LWT", "Online", &r);
    assert_true(r.online_known && r.online);
    field(&r, "", "online", "true", SB_METRIC_BINARY, NULL);
    sb_tas_result_free(&r);
    map(&dflt, "tele/plug/LWT", "Sleeping", &r);
    assert_false(r.online_known);
    assert_int_equal(r.m.n, 0);
    sb_tas_result_free(&r);
}

static void check_info(const sb_msg *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n_payloads; i++)
        if (strcmp(m->payloads[i].key, key) == 0) {
            assert_string_equal(m->payloads[i].value, value);
            return;
        }
    fail_msg("presentation has no %s", key);
}

static void test_status(void **state)
{
    (void)state;
    sb_tas_result r;
    map(&dflt, "stat/plug/STATUS0",
        "{\"Status\":{\"Module\":8,\"DeviceName\":\"Desk plug\",\"FriendlyName\":[\"Desk\"],"
        "\"Topic\":\"plug\",\"Power\":1},\"StatusPRM\":{\"Baudrate\":115200},"
        "\"StatusFWR\":{\"Version\":\"13.3.0(tasmota)\",\"Hardware\":\"ESP8266EX\"},"
        "\"StatusNET\":{\"Hostname\":\"plug-1234\",\"IPAddress\":\"192.168.1.50\","
        "\"Mac\":\"AA:BB:CC:DD:EE:FF\"},\"StatusSNS\":{\"Time\":\"t\",\"ENERGY\":{\"Power\":12}},"
        "\"StatusSTS\":{\"POWER\":\"ON\",\"Wifi\":{\"RSSI\":60,\"Signal\":-70}}}",
        &r);
    const sb_msg *m = find_msg(&r, SB_MSG_PRESENTATION, "");
    check_info(m, "name", "Desk plug");
    check_info(m, "module", "8");
    check_info(m, "version", "13.3.0(tasmota)");
    check_info(m, "hardware", "ESP8266EX");
    check_info(m, "ip", "192.168.1.50");
    check_info(m, "mac", "AA:BB:CC:DD:EE:FF");
    field(&r, "ENERGY", "Power", "12", SB_METRIC_GAUGE_FLOAT, "W");
    field(&r, "POWER", "power", "true", SB_METRIC_BINARY, NULL);
    field(&r, "", "rssi", "60", SB_METRIC_GAUGE, "%");
    sb_tas_result_free(&r);
    /* the older split answers, and FriendlyName when there is no DeviceName */
    map(&dflt, "stat/plug/STATUS", "{\"Status\":{\"Module\":1,\"FriendlyName\":[\"Hall\"]}}", &r);
    check_info(find_msg(&r, SB_MSG_PRESENTATION, ""), "name", "Hall");
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/STATUS5", "{\"StatusNET\":{\"IPAddress\":7}}", &r);
    check_info(find_msg(&r, SB_MSG_PRESENTATION, ""), "ip", "7");
    sb_tas_result_free(&r);
    map(&dflt, "stat/plug/STATUS2", "{\"StatusFWR\":3}", &r);
    assert_int_equal(r.m.n, 0);
    assert_int_equal(r.m.skipped, 1);
    sb_tas_result_free(&r);
}

static sb_msg *out_msg(sb_msg_type type, const char *src, const char *key, const char *value)
{
    sb_msg *m = sb_msg_new("gw1", "plug", src, type);
    sb_msg_add_payload(m, key, value, SB_METRIC_NONE, NULL);
    return m;
}

static void expect_cmd(sb_msg_type type, const char *src, const char *key, const char *value,
                       const char *cmd, const char *payload)
{
    sb_msg *m = out_msg(type, src, key, value);
    char c[64], v[128];
    sb_errmsg em = {{0}};
    sb_err rc = sb_tas_command(m, 0, c, sizeof(c), v, sizeof(v), &em);
    sb_msg_free(m);
    if (!cmd) {
        assert_int_equal(rc, SB_ERR_INVALID);
        assert_true(em.text[0]);
        return;
    }
    if (rc != SB_OK)
        fail_msg("%s.%s=%s: %s", src, key, value, em.text);
    assert_string_equal(c, cmd);
    assert_string_equal(v, payload);
}

static void test_commands(void **state)
{
    (void)state;
    expect_cmd(SB_MSG_SET, "POWER1", "power", "true", "POWER1", "ON");
    expect_cmd(SB_MSG_SET, "POWER2", "power", "off", "POWER2", "OFF");
    expect_cmd(SB_MSG_SET, "POWER", "power", "1", "POWER", "ON");
    expect_cmd(SB_MSG_SET, "POWER", "power", "toggle", "POWER", "TOGGLE");
    expect_cmd(SB_MSG_SET, "POWER", "power", "maybe", NULL, NULL);
    expect_cmd(SB_MSG_SET, "light", "Dimmer", "40", "Dimmer", "40");
    expect_cmd(SB_MSG_SET, "light", "Dimmer", "101", NULL, NULL);
    expect_cmd(SB_MSG_SET, "light", "Dimmer", "4.5", NULL, NULL);
    expect_cmd(SB_MSG_SET, "light", "Color", "FF0000", "Color", "FF0000");
    expect_cmd(SB_MSG_SET, "light", "Color", "255,0,0", "Color", "255,0,0");
    expect_cmd(SB_MSG_SET, "light", "Color", "red; Power off", NULL, NULL);
    expect_cmd(SB_MSG_SET, "light", "CT", "300", "CT", "300");
    expect_cmd(SB_MSG_SET, "light", "CT", "100", NULL, NULL);
    expect_cmd(SB_MSG_REQUEST, "POWER2", "power", "", "POWER2", "");
    expect_cmd(SB_MSG_SET, "ENERGY", "Total", "1", NULL, NULL);
    expect_cmd(SB_MSG_SET, "", "rssi", "1", NULL, NULL);
    expect_cmd(SB_MSG_ACTION, "POWER1", "power", "on", NULL, NULL);
    /* node actions */
    expect_cmd(SB_MSG_ACTION, "", "reboot", "", "Restart", "1");
    expect_cmd(SB_MSG_ACTION, "", "refresh", "", "Status", "0");
    expect_cmd(SB_MSG_ACTION, "", "heartbeat_request", "", "State", "");
    expect_cmd(SB_MSG_ACTION, "", "firmware_update", "", "Upgrade", "1");
    expect_cmd(SB_MSG_ACTION, "", "selfdestruct", "", NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_custom_full_topic),
        cmocka_unit_test(test_sensor_bme_ds),
        cmocka_unit_test(test_sensor_fahrenheit_mmhg_several),
        cmocka_unit_test(test_sensor_nan_null_bad),
        cmocka_unit_test(test_sensor_nested_and_names),
        cmocka_unit_test(test_energy),
        cmocka_unit_test(test_state_relays_light_wifi),
        cmocka_unit_test(test_result_and_power),
        cmocka_unit_test(test_lwt),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
