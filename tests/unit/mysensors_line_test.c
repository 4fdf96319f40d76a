/*
 * mysensors_line_test.c - the MySensors line parser and formatter: valid lines, every limit,
 * every refusal naming its field, and the type tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/mysensors/mys_proto.h"

static sb_mys_line parse_ok(const char *text)
{
    sb_mys_line l;
    sb_errmsg em = {{0}};
    if (sb_mys_parse(text, strlen(text), &l, &em) != SB_OK)
        fail_msg("'%s' did not parse: %s", text, em.text);
    return l;
}

static void parse_bad(const char *text, sb_err want_err, const char *want)
{
    sb_mys_line l;
    sb_errmsg em = {{0}};
    sb_err err = sb_mys_parse(text, strlen(text), &l, &em);
    if (err != want_err || !strstr(em.text, want))
        fail_msg("'%s': want %s containing \"%s\", got %s: \"%s\"", text, sb_strerror(want_err),
                 want, sb_strerror(err), em.text);
}

static void test_valid_lines(void **state)
{
    sb_mys_line l = parse_ok("12;6;1;0;0;36.5\n");
    assert_int_equal(l.node, 12);
    assert_int_equal(l.child, 6);
    assert_int_equal(l.cmd, SB_MYS_SET);
    assert_int_equal(l.ack, 0);
    assert_int_equal(l.type, 0);
    assert_string_equal(l.payload, "36.5");
    assert_int_equal(l.payload_len, 4);

    l = parse_ok("255;255;3;0;3;\r\n");
    assert_int_equal(l.node, 255);
    assert_int_equal(l.type, SB_MYS_I_ID_REQUEST);
    assert_int_equal(l.payload_len, 0);

    l = parse_ok("0;0;3;0;9;0 MCO:BGN:INIT GW,CP=RNNGA---,FQ=16,REL=255,VER=2.3.2");
    assert_int_equal(l.type, SB_MYS_I_LOG_MESSAGE);

    l = parse_ok("5;255;4;0;0;0A0002000800AB120200");
    assert_int_equal(l.cmd, SB_MYS_STREAM);
    l = parse_ok("1;1;0;1;6;Température salon"); /* UTF-8 passes through */
    assert_int_equal(l.ack, 1);
    l = parse_ok("007;000;1;0;2;1"); /* leading zeros are still 1-3 digits */
    assert_int_equal(l.node, 7);
}

static void test_field_errors(void **state)
{
    parse_bad("", SB_ERR_INVALID, "empty");
    parse_bad("\n", SB_ERR_INVALID, "empty");
    parse_bad("1;2;3;4", SB_ERR_INVALID, "4 fields");
    parse_bad("1;2;1;0", SB_ERR_INVALID, "fields, 6 expected");
    parse_bad("256;1;1;0;0;1", SB_ERR_INVALID, "node-id: 256 is out of range");
    parse_bad("1;300;1;0;0;1", SB_ERR_INVALID, "child-sensor-id: 300");
    parse_bad("1;1;5;0;0;1", SB_ERR_INVALID, "command: 5 is out of range 0..4");
    parse_bad("1;1;1;2;0;1", SB_ERR_INVALID, "ack: 2");
    parse_bad("1;1;1;0;256;1", SB_ERR_INVALID, "type: 256");
    parse_bad("1;1;1;0;;1", SB_ERR_INVALID, "type: empty");
    parse_bad(";1;1;0;0;1", SB_ERR_INVALID, "node-id: empty");
    parse_bad("1; 1;1;0;0;1", SB_ERR_INVALID, "not a decimal number");
    parse_bad("+1;1;1;0;0;1", SB_ERR_INVALID, "not a decimal number");
    parse_bad("-1;1;1;0;0;1", SB_ERR_INVALID, "not a decimal number");
    parse_bad("0001;1;1;0;0;1", SB_ERR_INVALID, "more than 3 digits");
    sb_mys_line pos = parse_ok("4;7;1;0;49;55.722526;13.017972;18");
    assert_string_equal(pos.payload, "55.722526;13.017972;18");
    parse_bad("1;1;1;0;0;a\tb", SB_ERR_INVALID, "0x09");
    parse_bad("1;1;1;0;0;a\nb", SB_ERR_INVALID, "embedded line end");
    parse_bad("1;1;1;0;0;1\r", SB_ERR_INVALID, "embedded line end");
    parse_bad("1;1;1;0;0;1\n\n", SB_ERR_INVALID, "embedded line end");
}

static void test_payload_limits(void **state)
{
    char line[600];
    char payload[300];
    memset(payload, 'x', 25);
    payload[25] = '\0';
    snprintf(line, sizeof(line), "1;1;1;0;47;%s", payload);
    parse_ok(line);
    strcat(line, "x");
    parse_bad(line, SB_ERR_TOO_LARGE, "26 bytes, at most 25");

    /* gateway log text may be longer, but not longer than SB_MYS_TEXT_MAX */
    memset(payload, 'y', SB_MYS_TEXT_MAX);
    payload[SB_MYS_TEXT_MAX] = '\0';
    snprintf(line, sizeof(line), "0;255;3;0;9;%s", payload);
    parse_ok(line);
    snprintf(line, sizeof(line), "0;255;3;0;9;%sy", payload);
    parse_bad(line, SB_ERR_TOO_LARGE, "at most 200");
    /* ... and a node's I_VERSION is radio traffic */
    snprintf(line, sizeof(line), "4;255;3;0;2;%.40s", payload);
    parse_bad(line, SB_ERR_TOO_LARGE, "at most 25");

    /* the line itself */
    memset(line, '1', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0'; /* parse_bad takes strlen */
    parse_bad(line, SB_ERR_TOO_LARGE, "at most 256");
    sb_mys_line l;
    assert_int_equal(sb_mys_parse(line, SB_MYS_LINE_MAX + 1, &l, NULL), SB_ERR_TOO_LARGE);

    /* stream payloads are hex of at most 25 bytes */
    parse_bad("1;255;4;0;2;0A0", SB_ERR_INVALID, "odd number");
    parse_bad("1;255;4;0;2;0G", SB_ERR_INVALID, "not hex");
    memset(payload, 'A', 52);
    payload[52] = '\0';
    snprintf(line, sizeof(line), "1;255;4;0;3;%s", payload);
    parse_bad(line, SB_ERR_TOO_LARGE, "at most 25 bytes");
    payload[50] = '\0';
    snprintf(line, sizeof(line), "1;255;4;0;3;%s", payload);
    parse_ok(line);
}

static void test_format(void **state)
{
    sb_mys_line l;
    char buf[SB_MYS_LINE_MAX + 1];
    size_t n = 0;
    assert_int_equal(sb_mys_line_set(&l, 12, 3, SB_MYS_SET, 1, 2, "1"), SB_OK);
    assert_int_equal(sb_mys_format(&l, buf, sizeof(buf), &n), SB_OK);
    assert_string_equal(buf, "12;3;1;1;2;1\n");
    assert_int_equal(n, 13);
    /* round trip */
    sb_mys_line back = parse_ok(buf);
    assert_memory_equal(&back, &l, sizeof(l));
    /* too small a buffer */
    assert_int_equal(sb_mys_format(&l, buf, 5, NULL), SB_ERR_TOO_LARGE);
    /* bad lines are refused */
    assert_int_equal(sb_mys_line_set(&l, 256, 3, 1, 0, 2, "1"), SB_ERR_INVALID);
    assert_int_equal(sb_mys_line_set(&l, 1, 3, 5, 0, 2, "1"), SB_ERR_INVALID);
    assert_int_equal(sb_mys_line_set(&l, 1, 3, 1, 0, 47,
                                     "a\001"
                                     "b"),
                     SB_OK);
    assert_int_equal(sb_mys_format(&l, buf, sizeof(buf), NULL), SB_ERR_INVALID);
    sb_errmsg em = {{0}};
    assert_int_equal(sb_mys_validate(&l, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "0x01"));
}

static void test_tables(void **state)
{
    assert_string_equal(sb_mys_type_name(SB_MYS_PRESENTATION, 6), "S_TEMP");
    assert_string_equal(sb_mys_type_name(SB_MYS_PRESENTATION, 39), "S_WATER_QUALITY");
    assert_null(sb_mys_type_name(SB_MYS_PRESENTATION, 40));
    assert_string_equal(sb_mys_type_name(SB_MYS_SET, 2), "V_STATUS");
    assert_string_equal(sb_mys_type_name(SB_MYS_REQ, 56), "V_POWER_FACTOR");
    assert_string_equal(sb_mys_type_name(SB_MYS_SET, 58), "V_TILT");
    assert_string_equal(sb_mys_type_name(SB_MYS_INTERNAL, 33), "I_POST_SLEEP_NOTIFICATION");
    assert_null(sb_mys_type_name(SB_MYS_INTERNAL, 34));
    assert_string_equal(sb_mys_type_name(SB_MYS_STREAM, 3), "ST_FIRMWARE_RESPONSE");
    assert_null(sb_mys_type_name(7, 0));
    assert_string_equal(sb_mys_source_type(6), "temperature");
    assert_string_equal(sb_mys_source_type(17), "node");

    unsigned t = 0;
    for (unsigned cmd = 0; cmd <= SB_MYS_STREAM; cmd++) {
        for (unsigned i = 0; i < sb_mys_type_count(cmd); i++) {
            assert_int_equal(sb_mys_type_parse(cmd, sb_mys_type_name(cmd, i), &t), SB_OK);
            assert_int_equal(t, i);
        }
    }
    assert_int_equal(sb_mys_type_parse(SB_MYS_SET, "V_LIGHT", &t), SB_OK);
    assert_int_equal(t, 2);
    assert_int_equal(sb_mys_type_parse(SB_MYS_REQ, "V_DIMMER", &t), SB_OK);
    assert_int_equal(t, 3);
    assert_int_equal(sb_mys_type_parse(SB_MYS_PRESENTATION, "S_LIGHT", &t), SB_OK);
    assert_int_equal(t, 3);
    assert_int_equal(sb_mys_type_parse(SB_MYS_SET, "V_NOPE", &t), SB_ERR_NOTFOUND);

    const sb_mys_vinfo *vi = sb_mys_vinfo_get(0);
    assert_int_equal(vi->metric, SB_METRIC_GAUGE_FLOAT);
    assert_string_equal(vi->unit, "°C");
    assert_string_equal(vi->unit_imperial, "°F");
    assert_int_equal(sb_mys_vinfo_get(2)->metric, SB_METRIC_BINARY);
    assert_string_equal(sb_mys_vinfo_get(18)->unit, "kWh");
    assert_int_equal(sb_mys_vinfo_get(49)->metric, SB_METRIC_GEO);
    assert_string_equal(sb_mys_cmd_name(3), "internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_lines),    cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_payload_limits), cmocka_unit_test(test_format),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
