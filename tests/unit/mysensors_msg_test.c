/*
 * mysensors_msg_test.c - MySensors lines <-> messages, and the controller answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/mysensors/mys_msg.h"

static const sb_mys_opts metric = {"gw1", false};
static const sb_mys_opts imperial = {"gw1", true};

static sb_msg *to_msg(const char *text, const sb_mys_opts *o)
{
    sb_mys_line l;
    sb_errmsg em = {{0}};
    sb_msg *m = NULL;
    const char *why = NULL;
    if (sb_mys_parse(text, strlen(text), &l, &em) != SB_OK)
        fail_msg("'%s' did not parse: %s", text, em.text);
    if (sb_mys_to_msg(&l, o, &m, &why, &em) != SB_OK || !m)
        fail_msg("'%s' gave no message: %s %s", text, em.text, why ? why : "");
    assert_int_equal(sb_msg_validate(m, &em), SB_OK);
    return m;
}

static const char *dropped(const char *text)
{
    sb_mys_line l;
    sb_msg *m = NULL;
    const char *why = NULL;
    assert_int_equal(sb_mys_parse(text, strlen(text), &l, NULL), SB_OK);
    assert_int_equal(sb_mys_to_msg(&l, &metric, &m, &why, NULL), SB_OK);
    assert_null(m);
    assert_non_null(why);
    return why;
}

static void check_payload(const sb_msg *m, size_t i, const char *key, const char *value,
                          sb_metric_type mt, const char *unit)
{
    assert_true(i < m->n_payloads);
    assert_string_equal(m->payloads[i].key, key);
    assert_string_equal(m->payloads[i].value, value);
    assert_int_equal(m->payloads[i].metric_type, mt);
    if (unit)
        assert_string_equal(m->payloads[i].unit, unit);
    else
        assert_true(!m->payloads[i].unit || !*m->payloads[i].unit);
}

static void test_set_and_request(void **state)
{
    sb_msg *m = to_msg("12;1;1;0;0;21.5\n", &metric);
    assert_string_equal(m->gateway_id, "gw1");
    assert_string_equal(m->node_id, "12");
    assert_string_equal(m->source_id, "1");
    assert_int_equal(m->type, SB_MSG_SET);
    assert_true(m->is_received);
    assert_false(m->is_ack);
    assert_int_equal(m->n_payloads, 1);
    check_payload(m, 0, "V_TEMP", "21.5", SB_METRIC_GAUGE_FLOAT, "°C");
    sb_msg_free(m);

    m = to_msg("12;1;1;0;0;70.7", &imperial);
    check_payload(m, 0, "V_TEMP", "70.7", SB_METRIC_GAUGE_FLOAT, "°F");
    sb_msg_free(m);

    m = to_msg("12;2;1;1;1;55", &metric);
    assert_true(m->is_ack);
    check_payload(m, 0, "V_HUM", "55", SB_METRIC_GAUGE_FLOAT, "%");
    sb_msg_free(m);

    m = to_msg("12;3;2;0;2;", &metric);
    assert_int_equal(m->type, SB_MSG_REQUEST);
    check_payload(m, 0, "V_STATUS", "", SB_METRIC_BINARY, NULL);
    sb_msg_free(m);

    m = to_msg("3;4;1;0;18;1.234", &metric);
    check_payload(m, 0, "V_KWH", "1.234", SB_METRIC_GAUGE_FLOAT, "kWh");
    sb_msg_free(m);

    sb_mys_line l;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_mys_parse("1;1;1;0;99;1", 12, &l, NULL), SB_OK);
    assert_int_equal(sb_mys_to_msg(&l, &metric, &m, NULL, &em), SB_ERR_UNSUPPORTED);
    assert_non_null(strstr(em.text, "99"));
}

static void test_presentation(void **state)
{
    sb_msg *m = to_msg("12;1;0;0;6;Living room", &metric);
    assert_int_equal(m->type, SB_MSG_PRESENTATION);
    assert_string_equal(m->source_id, "1");
    check_payload(m, 0, "type", "temperature", SB_METRIC_STRING, NULL);
    check_payload(m, 1, "mys_type", "S_TEMP", SB_METRIC_STRING, NULL);
    check_payload(m, 2, "name", "Living room", SB_METRIC_STRING, NULL);
    sb_msg_free(m);

    m = to_msg("12;2;0;0;3;", &metric); /* no description: no name payload */
    assert_int_equal(m->n_payloads, 2);
    check_payload(m, 0, "type", "binary", SB_METRIC_STRING, NULL);
    sb_msg_free(m);

    m = to_msg("12;255;0;0;17;2.3.2", &metric);
    assert_string_equal(m->source_id, "");
    check_payload(m, 0, "type", "node", SB_METRIC_STRING, NULL);
    check_payload(m, 2, "library_version", "2.3.2", SB_METRIC_STRING, NULL);
    sb_msg_free(m);

    sb_mys_line l;
    assert_int_equal(sb_mys_parse("1;1;0;0;40;x", 12, &l, NULL), SB_OK);
    assert_int_equal(sb_mys_to_msg(&l, &metric, &m, NULL, NULL), SB_ERR_UNSUPPORTED);
}

static void test_internal(void **state)
{
    sb_msg *m = to_msg("12;255;3;0;0;87", &metric);
    assert_int_equal(m->type, SB_MSG_SET);
    assert_string_equal(m->source_id, "");
    check_payload(m, 0, "battery", "87", SB_METRIC_GAUGE, "%");
    sb_msg_free(m);

    m = to_msg("12;255;3;0;11;Weather Station", &metric);
    assert_int_equal(m->type, SB_MSG_PRESENTATION);
    check_payload(m, 0, "name", "Weather Station", SB_METRIC_STRING, NULL);
    sb_msg_free(m);
    m = to_msg("12;255;3;0;12;1.4", &metric);
    check_payload(m, 0, "version", "1.4", SB_METRIC_STRING, NULL);
    sb_msg_free(m);
    m = to_msg("12;255;3;0;1;", &metric);
    assert_int_equal(m->type, SB_MSG_REQUEST);
    check_payload(m, 0, "I_TIME", "", SB_METRIC_NONE, NULL);
    sb_msg_free(m);
    m = to_msg("255;255;3;0;3;", &metric);
    assert_string_equal(m->node_id, "255");
    check_payload(m, 0, "I_ID_REQUEST", "", SB_METRIC_NONE, NULL);
    sb_msg_free(m);
    m = to_msg("12;255;3;0;32;500", &metric);
    assert_true(m->is_sleep_node);
    check_payload(m, 0, "sleep_notification", "500", SB_METRIC_NONE, "ms");
    sb_msg_free(m);
    m = to_msg("12;255;3;0;31;-62", &metric);
    check_payload(m, 0, "signal_strength", "-62", SB_METRIC_GAUGE, NULL);
    sb_msg_free(m);

    assert_non_null(strstr(dropped("0;255;3;0;9;TSF:MSG:READ"), "log"));
    assert_non_null(strstr(dropped("0;255;3;0;14;Gateway startup complete."), "READY"));
    assert_non_null(strstr(dropped("255;255;3;0;4;5"), "answer"));

    sb_mys_line l;
    sb_msg *bad = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_mys_parse("12;255;3;0;0;101", 16, &l, NULL), SB_OK);
    assert_int_equal(sb_mys_to_msg(&l, &metric, &bad, NULL, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "101"));
    assert_int_equal(sb_mys_parse("12;255;3;0;40;", 14, &l, NULL), SB_OK);
    assert_int_equal(sb_mys_to_msg(&l, &metric, &bad, NULL, &em), SB_ERR_UNSUPPORTED);
}

static void test_stream(void **state)
{
    /* type 10, version 2, blocks 8, crc 0x12AB, bootloader 2 */
    sb_msg *m = to_msg("5;255;4;0;0;0A0002000800AB120200", &metric);
    assert_int_equal(m->type, SB_MSG_REQUEST);
    check_payload(m, 0, "ST_FIRMWARE_CONFIG_REQUEST", "0A0002000800AB120200", SB_METRIC_NONE, NULL);
    cJSON *labels = m->payloads[0].labels;
    assert_string_equal(cJSON_GetObjectItem(labels, "type")->valuestring, "10");
    assert_string_equal(cJSON_GetObjectItem(labels, "blocks")->valuestring, "8");
    assert_string_equal(cJSON_GetObjectItem(labels, "crc")->valuestring, "4779");
    sb_msg_free(m);
    m = to_msg("5;255;4;0;2;0A0002000700", &metric);
    assert_string_equal(cJSON_GetObjectItem(m->payloads[0].labels, "block")->valuestring, "7");
    sb_msg_free(m);
    assert_non_null(dropped("5;255;4;0;4;00"));
}

static sb_mys_line out_line(sb_msg *m)
{
    sb_mys_line l;
    sb_errmsg em = {{0}};
    if (sb_mys_from_msg(m, 0, &l, &em) != SB_OK)
        fail_msg("no line: %s", em.text);
    return l;
}

static void expect_line(sb_msg *m, const char *want)
{
    sb_mys_line l = out_line(m);
    char buf[SB_MYS_LINE_MAX + 1];
    assert_int_equal(sb_mys_format(&l, buf, sizeof(buf), NULL), SB_OK);
    assert_string_equal(buf, want);
    sb_msg_free(m);
}

static void test_outgoing(void **state)
{
    sb_msg *m = sb_msg_new("gw1", "12", "3", SB_MSG_SET);
    sb_msg_add_payload(m, "V_STATUS", "on", SB_METRIC_BINARY, NULL);
    expect_line(m, "12;3;1;0;2;1\n");

    m = sb_msg_new("gw1", "12", "3", SB_MSG_SET);
    m->is_ack = true;
    sb_msg_add_payload(m, "V_STATUS", "false", SB_METRIC_BINARY, NULL);
    expect_line(m, "12;3;1;1;2;0\n");

    m = sb_msg_new("gw1", "12", "1", SB_MSG_SET);
    sb_msg_add_payload(m, "V_LIGHT", "1", SB_METRIC_BINARY, NULL);
    expect_line(m, "12;1;1;0;2;1\n");

    m = sb_msg_new("gw1", "12", "4", SB_MSG_SET);
    sb_msg_add_payload(m, "V_TEXT", "hello", SB_METRIC_STRING, NULL);
    expect_line(m, "12;4;1;0;47;hello\n");

    m = sb_msg_new("gw1", "12", "1", SB_MSG_REQUEST);
    sb_msg_add_payload(m, "V_TEMP", "ignored", SB_METRIC_NONE, NULL);
    expect_line(m, "12;1;2;0;0;\n");

    m = sb_msg_new("gw1", "12", "", SB_MSG_ACTION);
    sb_msg_add_payload(m, "reboot", "", SB_METRIC_NONE, NULL);
    expect_line(m, "12;255;3;0;13;\n");

    m = sb_msg_new("gw1", "255", "", SB_MSG_ACTION);
    sb_msg_add_payload(m, "discover", "", SB_METRIC_NONE, NULL);
    expect_line(m, "255;255;3;0;20;\n");

    m = sb_msg_new("gw1", "", "", SB_MSG_ACTION);
    sb_msg_add_payload(m, "I_VERSION", "", SB_METRIC_NONE, NULL);
    expect_line(m, "0;255;3;0;2;\n");

    /* refusals name the problem */
    struct {
        const char *node, *source;
        sb_msg_type type;
        const char *key, *value, *want;
    } bad[] = {
        {"x1", "1", SB_MSG_SET, "V_TEMP", "1", "nodeId 'x1'"},
        {"1", "256", SB_MSG_SET, "V_TEMP", "1", "sourceId '256'"},
        {"1", "1", SB_MSG_SET, "V_NOPE", "1", "not a V_ type"},
        {"1", "1", SB_MSG_SET, "V_STATUS", "maybe", "not binary"},
        {"1", "1", SB_MSG_SET, "V_TEXT", "a\tb", "V_TEXT"},
        {"1", "1", SB_MSG_SET, "V_TEXT", "12345678901234567890123456", "at most 25"},
        {"1", "1", SB_MSG_PRESENTATION, "name", "x", "presentation message"},
        {"1", "", SB_MSG_ACTION, "explode", "", "action 'explode'"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        m = sb_msg_new("gw1", bad[i].node, bad[i].source, bad[i].type);
        sb_msg_add_payload(m, bad[i].key, bad[i].value, SB_METRIC_NONE, NULL);
        sb_mys_line l;
        sb_errmsg em = {{0}};
        assert_int_not_equal(sb_mys_from_msg(m, 0, &l, &em), SB_OK);
        if (!strstr(em.text, bad[i].want))
            fail_msg("case %zu: want \"%s\" in \"%s\"", i, bad[i].want, em.text);
        sb_msg_free(m);
    }
}

static void test_round_trip_set(void **state)
{
    /* a received set, sent back out, is the same line */
    sb_msg *m = to_msg("12;3;1;0;2;1", &metric);
    m->is_received = false;
    expect_line(m, "12;3;1;0;2;1\n");
}

static void test_controller_answers(void **state)
{
    sb_mys_line l;
    char buf[SB_MYS_LINE_MAX + 1];
    assert_int_equal(sb_mys_answer_time(12, 1764100800123LL, 3600, &l), SB_OK);
    sb_mys_format(&l, buf, sizeof(buf), NULL);
    assert_string_equal(buf, "12;255;3;0;1;1764104400\n");
    assert_int_equal(sb_mys_answer_config(12, false, &l), SB_OK);
    sb_mys_format(&l, buf, sizeof(buf), NULL);
    assert_string_equal(buf, "12;255;3;0;6;M\n");
    assert_int_equal(sb_mys_answer_config(12, true, &l), SB_OK);
    assert_string_equal(l.payload, "I");

    uint8_t id = 0;
    assert_int_equal(sb_mys_next_free_id(NULL, 0, &id), SB_OK);
    assert_int_equal(id, 1);
    uint8_t used[] = {0, 1, 2, 4, 255};
    assert_int_equal(sb_mys_next_free_id(used, sizeof(used), &id), SB_OK);
    assert_int_equal(id, 3);
    uint8_t all[254];
    for (int i = 0; i < 254; i++)
        all[i] = (uint8_t)(i + 1);
    assert_int_equal(sb_mys_next_free_id(all, 254, &id), SB_ERR_FULL);
    all[99] = 1; /* 100 is free again */
    assert_int_equal(sb_mys_next_free_id(all, 254, &id), SB_OK);
    assert_int_equal(id, 100);

    assert_int_equal(sb_mys_answer_id(100, &l), SB_OK);
    sb_mys_format(&l, buf, sizeof(buf), NULL);
    assert_string_equal(buf, "255;255;3;0;4;100\n");
    assert_int_equal(sb_mys_answer_id(0, &l), SB_ERR_INVALID);
    assert_int_equal(sb_mys_answer_id(255, &l), SB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_request),    cmocka_unit_test(test_presentation),
        cmocka_unit_test(test_internal),           cmocka_unit_test(test_stream),
        cmocka_unit_test(test_outgoing),           cmocka_unit_test(test_round_trip_set),
        cmocka_unit_test(test_controller_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
