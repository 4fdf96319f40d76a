/*
 * msg_test.c - the message: construction, round trips, every malformed input the decoder must
 * refuse (with the key or limit named), batch frames and the type names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/msg.h"
#include "core/time.h"

static const char *const TYPICAL =
    "{\"id\":\"6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f\",\"gatewayId\":\"gw1\",\"nodeId\":\"12\","
    "\"sourceId\":\"1\",\"type\":\"set\",\"payloads\":[{\"key\":\"V_TEMP\",\"value\":\"21.5\","
    "\"metricType\":\"gauge_float\",\"unit\":\"°C\",\"labels\":{}}],\"labels\":{},"
    "\"isAck\":false,\"isReceived\":true,\"isSleepNode\":false,"
    "\"timestamp\":\"2026-11-25T20:00:00.123Z\"}";

static sb_msg *decode_ok(const char *text)
{
    sb_msg *m = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_msg_decode(text, strlen(text), &m, &em);
    if (err)
        fail_msg("decode failed (%s): %s\n  input: %.300s", sb_strerror(err), em.text, text);
    assert_non_null(m);
    return m;
}

/* Decodes text expecting err, and that the message contains want. */
static void decode_bad(const char *text, sb_err want, const char *want_text)
{
    sb_msg *m = (sb_msg *)0x1;
    sb_errmsg em = {{0}};
    sb_err err = sb_msg_decode(text, strlen(text), &m, &em);
    if (err != want || !strstr(em.text, want_text))
        fail_msg("want %s containing \"%s\", got %s: \"%s\"\n  input: %.300s", sb_strerror(want),
                 want_text, sb_strerror(err), em.text, text);
    assert_null(m);
}

/* encode -> decode gives the same message, and encoding again gives the same text. */
static void assert_round_trip(const sb_msg *m)
{
    size_t len = 0;
    char *text = sb_msg_encode(m, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    sb_msg *back = decode_ok(text);
    if (!sb_msg_equal(m, back))
        fail_msg("round trip changed the message: %s", text);
    char *again = sb_msg_encode(back, NULL);
    assert_string_equal(text, again);
    free(again);
    free(text);
    sb_msg_free(back);
}

static void test_decode_typical(void **state)
{
    sb_msg *m = decode_ok(TYPICAL);
    assert_string_equal(m->id, "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f");
    assert_string_equal(m->gateway_id, "gw1");
    assert_string_equal(m->node_id, "12");
    assert_string_equal(m->source_id, "1");
    assert_int_equal(m->type, SB_MSG_SET);
    assert_int_equal(m->n_payloads, 1);
    assert_string_equal(m->payloads[0].key, "V_TEMP");
    assert_string_equal(m->payloads[0].value, "21.5");
    assert_int_equal(m->payloads[0].metric_type, SB_METRIC_GAUGE_FLOAT);
    assert_string_equal(m->payloads[0].unit, "°C");
    assert_null(m->payloads[0].labels);
    assert_null(m->labels);
    assert_false(m->is_ack);
    assert_true(m->is_received);
    assert_false(m->is_sleep_node);
    int64_t ts;
    assert_int_equal(sb_time_parse("2026-11-25T20:00:00.123Z", &ts), SB_OK);
    assert_int_equal(m->timestamp_ms, ts);
    /* Encoding a message decoded from canonical text gives that text back. */
    char *text = sb_msg_encode(m, NULL);
    assert_string_equal(text, TYPICAL);
    free(text);
    sb_msg_free(m);
}

static void test_defaults(void **state)
{
    int64_t before = sb_time_now_ms();
    sb_msg *m = decode_ok("{\"gatewayId\":\"gw1\",\"type\":\"request\"}");
    int64_t after = sb_time_now_ms();
    assert_int_equal(strlen(m->id), 36);
    assert_int_equal(m->id[14], '4');
    assert_string_equal(m->node_id, "");
    assert_string_equal(m->source_id, "");
    assert_int_equal(m->type, SB_MSG_REQUEST);
    assert_int_equal(m->n_payloads, 0);
    assert_null(m->labels);
    assert_false(m->is_ack || m->is_received || m->is_sleep_node);
    assert_true(m->timestamp_ms >= before && m->timestamp_ms <= after);
    sb_msg_free(m);

    /* null is the same as absent for optional keys; "" id generates one too. */
    m = decode_ok("{\"id\":\"\",\"gatewayId\":\"g\",\"nodeId\":null,\"type\":\"presentation\","
                  "\"payloads\":null,\"labels\":null,\"isAck\":null,\"timestamp\":null,"
                  "\"unknownKey\":[1,{\"x\":2}],\"isAckEnabled\":true}");
    assert_int_equal(strlen(m->id), 36);
    assert_string_equal(m->node_id, "");
    assert_int_equal(m->type, SB_MSG_PRESENTATION);
    sb_msg_free(m);

    /* payload defaults: value "", metricType none, unit and labels absent */
    m = decode_ok("{\"gatewayId\":\"g\",\"type\":\"action\",\"payloads\":[{\"key\":\"reboot\"}]}");
    assert_int_equal(m->type, SB_MSG_ACTION);
    assert_string_equal(m->payloads[0].value, "");
    assert_int_equal(m->payloads[0].metric_type, SB_METRIC_NONE);
    assert_null(m->payloads[0].unit);
    assert_null(m->payloads[0].labels);
    sb_msg_free(m);
}

static void test_value_kinds(void **state)
{
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"21.5", "21.5"},
        {"21.50", "21.5"},
        {"0.1", "0.1"},
        {"-3", "-3"},
        {"1e3", "1000"},
        {"1.5e-7", "1.5e-07"},
        {"123456789012345678", "1.2345678901234568e+17"},
        {"true", "true"},
        {"false", "false"},
        {"\"ON\"", "ON"},
        {"\"\"", ""},
        {"null", ""},
        {"0", "0"},
        {"-0.0", "0"},
        {"3.141592653589793", "3.141592653589793"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(
            text, sizeof(text),
            "{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"k\",\"value\":%s}]}",
            cases[i].json);
        sb_msg *m = decode_ok(text);
        if (strcmp(m->payloads[0].value, cases[i].text) != 0)
            fail_msg("value %s: want \"%s\", got \"%s\"", cases[i].json, cases[i].text,
                     m->payloads[0].value);
        assert_round_trip(m);
        sb_msg_free(m);
    }
}

static void test_round_trip_built(void **state)
{
    sb_msg *m = sb_msg_new("gw-ü", "12", "1", SB_MSG_SET);
    assert_non_null(m);
    m->is_ack = true;
    m->is_sleep_node = true;
    m->timestamp_ms = 1795636800123;
    sb_payload *p = sb_msg_add_payload(m, "V_TEMP", "21.5", SB_METRIC_GAUGE_FLOAT, "°C");
    assert_non_null(p);
    p->labels = cJSON_CreateObject();
    cJSON_AddStringToObject(p->labels, "raum", "Küche ☕");
    cJSON_AddStringToObject(p->labels, "quote\"back\\slash", "tab\tnl\nctl\x01");
    assert_non_null(sb_msg_add_payload(m, "V_STATUS", "1", SB_METRIC_BINARY, NULL));
    assert_non_null(sb_msg_add_payload(m, "V_TEXT", "héllo 世界 🌍", SB_METRIC_STRING, ""));
    assert_non_null(sb_msg_add_payload(m, "V_POS", "52.1,4.3,2", SB_METRIC_GEO, "m"));
    assert_non_null(sb_msg_add_payload(m, "count", "42", SB_METRIC_COUNTER, NULL));
    assert_non_null(sb_msg_add_payload(m, "g", "7", SB_METRIC_GAUGE, "%"));
    m->labels = cJSON_CreateObject();
    cJSON_AddStringToObject(m->labels, "ignore_name", "true");
    cJSON_AddStringToObject(m->labels, "ünïcode", "✓");
    assert_int_equal(sb_msg_validate(m, NULL), SB_OK);
    assert_round_trip(m);

    sb_msg *d = sb_msg_dup(m);
    assert_true(sb_msg_equal(m, d));
    free(d->payloads[1].value);
    d->payloads[1].value = strdup("0");
    assert_false(sb_msg_equal(m, d));
    sb_msg_free(d);

    /* all 4 types, and before-1970 / far-future timestamps */
    int64_t stamps[] = {SB_MSG_TIME_MIN, -1, 0, 951782400000 /* 2000-02-29 */, SB_MSG_TIME_MAX};
    for (int t = SB_MSG_SET; t <= SB_MSG_ACTION; t++) {
        m->type = (sb_msg_type)t;
        m->timestamp_ms = stamps[t];
        assert_round_trip(m);
    }
    sb_msg_free(m);
}

static void test_round_trip_many_payloads(void **state)
{
    sb_msg *m = sb_msg_new("gw", "n", "", SB_MSG_SET);
    char key[16], value[16];
    for (int i = 0; i < SB_MSG_PAYLOADS_MAX; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(value, sizeof(value), "%d", i * 3);
        assert_non_null(sb_msg_add_payload(m, key, value, SB_METRIC_GAUGE, NULL));
    }
    assert_int_equal(sb_msg_validate(m, NULL), SB_OK);
    assert_round_trip(m);
    assert_non_null(sb_msg_add_payload(m, "one-too-many", "1", SB_METRIC_GAUGE, NULL));
    sb_errmsg em = {{0}};
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_TOO_LARGE);
    assert_non_null(strstr(em.text, "SB_MSG_PAYLOADS_MAX"));
    char *text = sb_msg_encode(m, NULL);
    decode_bad(text, SB_ERR_TOO_LARGE, "SB_MSG_PAYLOADS_MAX");
    free(text);
    sb_msg_free(m);
}

static void test_to_from_json(void **state)
{
    sb_msg *m = decode_ok(TYPICAL);
    cJSON *o = sb_msg_to_json(m);
    assert_non_null(o);
    assert_string_equal(sb_json_str(o, "gatewayId", ""), "gw1");
    assert_string_equal(sb_json_str(o, "timestamp", ""), "2026-11-25T20:00:00.123Z");
    assert_string_equal(sb_json_path(o, "payloads.0.unit")->valuestring, "°C");
    sb_msg *back = NULL;
    assert_int_equal(sb_msg_from_json(o, &back, NULL), SB_OK);
    assert_true(sb_msg_equal(m, back));
    /* from_json copies: the object is untouched and still printable */
    char *a = sb_json_print(o), *b = sb_msg_encode(m, NULL);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cJSON_Delete(o);
    sb_msg_free(back);
    sb_msg_free(m);
}

static void test_malformed_frames(void **state)
{
    decode_bad("", SB_ERR_PARSE, "byte 0");
    decode_bad("{\"gatewayId\":\"g\",", SB_ERR_PARSE, "byte");
    decode_bad("{\"gatewayId\":\"g\"} x", SB_ERR_PARSE, "byte 18");
    decode_bad("not json", SB_ERR_PARSE, "byte 0");
    decode_bad("[]", SB_ERR_INVALID, "got an array");
    decode_bad("42", SB_ERR_INVALID, "got a number");
    decode_bad("\"set\"", SB_ERR_INVALID, "got a string");
}

static void test_malformed_keys(void **state)
{
    decode_bad("{\"type\":\"set\",\"payloads\":[]}", SB_ERR_INVALID, "'gatewayId': is missing");
    decode_bad("{\"gatewayId\":12,\"type\":\"set\"}", SB_ERR_INVALID, "'gatewayId': expected");
    decode_bad("{\"gatewayId\":\"\",\"type\":\"request\"}", SB_ERR_INVALID, "'gatewayId'");
    decode_bad("{\"gatewayId\":\"g\"}", SB_ERR_INVALID, "'type': is missing");
    decode_bad("{\"gatewayId\":\"g\",\"type\":1}", SB_ERR_INVALID, "'type': expected a string");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"SET\"}", SB_ERR_INVALID,
               "unknown message type 'SET'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\"}", SB_ERR_INVALID, "'payloads' is missing");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[]}", SB_ERR_INVALID,
               "set message needs a payload");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":{}}", SB_ERR_INVALID,
               "'payloads': expected an array, got an object");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[1]}", SB_ERR_INVALID,
               "'payloads[0]': expected an object, got a number");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"value\":\"1\"}]}",
               SB_ERR_INVALID, "'payloads[0].key': is missing");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"\"}]}",
               SB_ERR_INVALID, "'payloads[0].key'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\"},"
               "{\"key\":\"b\",\"value\":[1]}]}",
               SB_ERR_INVALID,
               "'payloads[1].value': expected a string, number or bool, got an array");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\",\"value\":{}}]}",
               SB_ERR_INVALID, "got an object");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\","
               "\"metricType\":\"gauge_double\"}]}",
               SB_ERR_INVALID, "unknown metric type 'gauge_double'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\",\"unit\":5}]}",
               SB_ERR_INVALID, "'payloads[0].unit': expected a string");
    decode_bad(
        "{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\",\"labels\":[]}]}",
        SB_ERR_INVALID, "'payloads[0].labels': expected an object");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"labels\":{\"a\":{}}}", SB_ERR_INVALID,
               "'labels.a': expected a string, number or bool");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"labels\":{\"a\":null}}", SB_ERR_INVALID,
               "'labels.a'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"labels\":{\"\":\"x\"}}", SB_ERR_INVALID,
               "empty key");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"nodeId\":12}", SB_ERR_INVALID,
               "'nodeId': expected a string, got a number");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"sourceId\":\"1\"}", SB_ERR_INVALID,
               "nodeId is empty");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"isAck\":1}", SB_ERR_INVALID,
               "'isAck': expected a bool");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"isReceived\":\"true\"}", SB_ERR_INVALID,
               "'isReceived'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"isSleepNode\":[]}", SB_ERR_INVALID,
               "'isSleepNode'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"id\":7}", SB_ERR_INVALID, "'id'");
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"id\":"
               "\"0123456789012345678901234567890123456789\"}",
               SB_ERR_TOO_LARGE, "'id': 40 bytes, over the limit of 39");
}

static void test_malformed_timestamps(void **state)
{
    static const char *const bad[] = {
        "\"2026-02-30T00:00:00Z\"",
        "\"2026-13-01T00:00:00Z\"",
        "\"yesterday\"",
        "\"2026-11-25\"",
        "\"2026-11-25T25:00:00Z\"",
        "\"2026-11-25T20:00:00\"",
        "\"\"",
        "\"0000-01-01T00:00:00+01:00\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[160];
        snprintf(text, sizeof(text), "{\"gatewayId\":\"g\",\"type\":\"request\",\"timestamp\":%s}",
                 bad[i]);
        decode_bad(text, SB_ERR_INVALID, "'timestamp'");
    }
    decode_bad("{\"gatewayId\":\"g\",\"type\":\"request\",\"timestamp\":1764100800000}",
               SB_ERR_INVALID, "'timestamp': expected a string, got a number");
    sb_msg *m = decode_ok("{\"gatewayId\":\"g\",\"type\":\"request\","
                          "\"timestamp\":\"2026-11-25T21:00:00.123456+01:00\"}");
    int64_t ts;
    sb_time_parse("2026-11-25T20:00:00.123Z", &ts);
    assert_int_equal(m->timestamp_ms, ts);
    sb_msg_free(m);
}

/* fmt with its one "%s" replaced by n copies of c (built by hand: fmt is not a literal). */
static char *with_long(const char *fmt, size_t n, char c)
{
    const char *at = strstr(fmt, "%s");
    size_t pre = (size_t)(at - fmt), post = strlen(at + 2);
    char *text = malloc(pre + n + post + 1);
    memcpy(text, fmt, pre);
    memset(text + pre, c, n);
    memcpy(text + pre + n, at + 2, post + 1);
    return text;
}

static void test_limits(void **state)
{
    static const struct {
        const char *fmt, *name;
    } ids[] = {
        {"{\"gatewayId\":\"%s\",\"type\":\"request\"}", "'gatewayId'"},
        {"{\"gatewayId\":\"g\",\"nodeId\":\"%s\",\"type\":\"request\"}", "'nodeId'"},
        {"{\"gatewayId\":\"g\",\"nodeId\":\"n\",\"sourceId\":\"%s\",\"type\":\"request\"}",
         "'sourceId'"},
        {"{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"%s\"}]}",
         "'payloads[0].key'"},
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char *ok = with_long(ids[i].fmt, SB_MSG_ID_MAX, 'x');
        sb_msg_free(decode_ok(ok));
        free(ok);
        char *bad = with_long(ids[i].fmt, SB_MSG_ID_MAX + 1, 'x');
        decode_bad(bad, SB_ERR_TOO_LARGE, ids[i].name);
        decode_bad(bad, SB_ERR_TOO_LARGE, "SB_MSG_ID_MAX");
        free(bad);
    }
    const char *vfmt = "{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"k\","
                       "\"value\":\"%s\"}]}";
    char *ok = with_long(vfmt, SB_MSG_VALUE_MAX, 'v');
    sb_msg *m = decode_ok(ok);
    assert_int_equal(strlen(m->payloads[0].value), SB_MSG_VALUE_MAX);
    assert_round_trip(m);
    sb_msg_free(m);
    free(ok);
    char *bad = with_long(vfmt, SB_MSG_VALUE_MAX + 1, 'v');
    decode_bad(bad, SB_ERR_TOO_LARGE, "SB_MSG_VALUE_MAX");
    free(bad);

    /* A frame over SB_MSG_FRAME_MAX is refused before parsing. */
    char *huge = with_long(vfmt, SB_MSG_FRAME_MAX, 'v');
    decode_bad(huge, SB_ERR_TOO_LARGE, "SB_MSG_FRAME_MAX");
    sb_msg_batch b;
    assert_int_equal(sb_msg_decode_batch(huge, strlen(huge), &b, NULL), SB_ERR_TOO_LARGE);
    free(huge);
}

static void test_label_limits(void **state)
{
    size_t cap = 64 + (SB_MSG_LABELS_MAX + 1) * 24;
    char *text = malloc(cap);
    size_t n =
        (size_t)snprintf(text, cap, "{\"gatewayId\":\"g\",\"type\":\"request\",\"labels\":{");
    for (int i = 0; i <= SB_MSG_LABELS_MAX; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"l%d\":\"v\"", i ? "," : "", i);
    snprintf(text + n, cap - n, "}}");
    decode_bad(text, SB_ERR_TOO_LARGE, "SB_MSG_LABELS_MAX");
    free(text);
}

static void test_duplicate_keys(void **state)
{
    /* The last occurrence wins, everywhere (as Go's encoding/json and JavaScript do). */
    sb_msg *m = decode_ok("{\"gatewayId\":\"first\",\"type\":\"set\",\"gatewayId\":\"last\","
                          "\"payloads\":[{\"key\":\"a\",\"value\":1,\"value\":\"2\"}],"
                          "\"labels\":{\"x\":\"1\",\"y\":\"2\",\"x\":\"3\"},"
                          "\"isAck\":true,\"isAck\":false,\"type\":\"request\"}");
    assert_string_equal(m->gateway_id, "last");
    assert_int_equal(m->type, SB_MSG_REQUEST);
    assert_string_equal(m->payloads[0].value, "2");
    assert_false(m->is_ack);
    assert_int_equal(cJSON_GetArraySize(m->labels), 2);
    assert_string_equal(sb_json_str(m->labels, "x", ""), "3");
    assert_round_trip(m);
    sb_msg_free(m);
    /* a bad earlier duplicate does not matter once a good one follows */
    m = decode_ok("{\"gatewayId\":5,\"gatewayId\":\"g\",\"type\":\"request\"}");
    sb_msg_free(m);
}

static void test_label_scalars(void **state)
{
    sb_msg *m = decode_ok("{\"gatewayId\":\"g\",\"type\":\"request\","
                          "\"labels\":{\"n\":1.50,\"b\":true,\"s\":\"x\"}}");
    assert_string_equal(sb_json_str(m->labels, "n", ""), "1.5");
    assert_string_equal(sb_json_str(m->labels, "b", ""), "true");
    assert_string_equal(sb_json_str(m->labels, "s", ""), "x");
    assert_round_trip(m);
    sb_msg_free(m);
}

static void test_batch(void **state)
{
    const char *frame =
        "[{\"gatewayId\":\"g\",\"type\":\"set\",\"payloads\":[{\"key\":\"a\",\"value\":1}]},"
        "{\"type\":\"set\"},"
        "[{\"gatewayId\":\"g\",\"type\":\"request\"}],"
        "{\"gatewayId\":\"g2\",\"nodeId\":\"5\",\"type\":\"request\"},"
        "\"text\",null]";
    sb_msg_batch b;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_msg_decode_batch(frame, strlen(frame), &b, &em), SB_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.rejected, 4);
    assert_string_equal(b.msgs[0]->payloads[0].value, "1");
    assert_string_equal(b.msgs[1]->gateway_id, "g2");
    assert_non_null(strstr(em.text, "item 1: key 'gatewayId': is missing"));

    /* encode_batch -> decode_batch round trip */
    size_t len;
    char *text = sb_msg_encode_batch(b.msgs, b.n, &len);
    assert_int_equal(text[0], '[');
    sb_msg_batch b2;
    assert_int_equal(sb_msg_decode_batch(text, len, &b2, NULL), SB_OK);
    assert_int_equal(b2.n, 2);
    assert_int_equal(b2.rejected, 0);
    for (size_t i = 0; i < b.n; i++)
        assert_true(sb_msg_equal(b.msgs[i], b2.msgs[i]));
    free(text);
    sb_msg_batch_free(&b2);
    sb_msg_batch_free(&b);
    sb_msg_batch_free(&b); /* twice is harmless */

    /* A single object is a batch of one; a bad one fails the frame. */
    assert_int_equal(sb_msg_decode_batch(TYPICAL, strlen(TYPICAL), &b, NULL), SB_OK);
    assert_int_equal(b.n, 1);
    sb_msg_batch_free(&b);
    assert_int_equal(sb_msg_decode_batch("{\"type\":1}", 10, &b, &em), SB_ERR_INVALID);
    assert_int_equal(b.n, 0);
    assert_null(b.msgs);

    /* An empty array, nested arrays only, scalars and parse errors. */
    assert_int_equal(sb_msg_decode_batch("[]", 2, &b, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "empty batch"));
    assert_int_equal(sb_msg_decode_batch(" [ ] ", 5, &b, &em), SB_ERR_INVALID);
    assert_int_equal(sb_msg_decode_batch("[[]]", 4, &b, &em), SB_OK);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.rejected, 1);
    assert_non_null(strstr(em.text, "item 0: expected a message object, got an array"));
    sb_msg_batch_free(&b);
    assert_int_equal(sb_msg_decode_batch("true", 4, &b, &em), SB_ERR_INVALID);
    assert_int_equal(sb_msg_decode_batch("[{}", 3, &b, &em), SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "byte"));
    char *empty = sb_msg_encode_batch(NULL, 0, NULL);
    assert_string_equal(empty, "[]");
    free(empty);
}

static void test_batch_limit(void **state)
{
    const char *item = "{\"gatewayId\":\"g\",\"type\":\"request\"},";
    size_t n = SB_MSG_BATCH_MAX + 1, il = strlen(item);
    char *text = malloc(n * il + 2);
    text[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(text + 1 + i * il, item, il);
    text[n * il] = ']';
    text[n * il + 1] = '\0';
    sb_msg_batch b;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_msg_decode_batch(text, strlen(text), &b, &em), SB_ERR_TOO_LARGE);
    assert_non_null(strstr(em.text, "SB_MSG_BATCH_MAX"));
    /* exactly the limit is fine */
    text[(n - 1) * il] = ']';
    text[(n - 1) * il + 1] = '\0';
    assert_int_equal(sb_msg_decode_batch(text, strlen(text), &b, &em), SB_OK);
    assert_int_equal(b.n, SB_MSG_BATCH_MAX);
    sb_msg_batch_free(&b);
    free(text);
}

static void test_names(void **state)
{
    static const char *const types[] = {"set", "request", "presentation", "action"};
    for (int i = 0; i < 4; i++) {
        sb_msg_type t;
        assert_string_equal(sb_msg_type_name((sb_msg_type)i), types[i]);
        assert_int_equal(sb_msg_type_parse(types[i], &t), SB_OK);
        assert_int_equal(t, i);
    }
    static const char *const metrics[] = {"none",        "string",  "binary", "gauge",
                                          "gauge_float", "counter", "geo"};
    for (int i = 0; i < 7; i++) {
        sb_metric_type t;
        assert_string_equal(sb_metric_type_name((sb_metric_type)i), metrics[i]);
        assert_int_equal(sb_metric_type_parse(metrics[i], &t), SB_OK);
        assert_int_equal(t, i);
    }
    sb_msg_type t;
    sb_metric_type mt;
    assert_int_equal(sb_msg_type_parse("stream", &t), SB_ERR_INVALID);
    assert_int_equal(sb_msg_type_parse(NULL, &t), SB_ERR_INVALID);
    assert_int_equal(sb_metric_type_parse("float", &mt), SB_ERR_INVALID);
    assert_string_equal(sb_msg_type_name((sb_msg_type)99), "unknown");
    assert_string_equal(sb_metric_type_name((sb_metric_type)-1), "unknown");
}

static void test_validate(void **state)
{
    sb_errmsg em = {{0}};
    assert_int_equal(sb_msg_validate(NULL, &em), SB_ERR_INVALID);
    sb_msg *m = sb_msg_new("gw", NULL, NULL, SB_MSG_SET);
    assert_string_equal(m->node_id, "");
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID); /* set without payloads */
    assert_non_null(strstr(em.text, "payloads"));
    sb_msg_add_payload(m, "k", NULL, SB_METRIC_NONE, NULL);
    assert_string_equal(m->payloads[0].value, "");
    assert_int_equal(sb_msg_validate(m, &em), SB_OK);
    m->timestamp_ms = SB_MSG_TIME_MAX + 1;
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "timestamp"));
    m->timestamp_ms = 0;
    m->payloads[0].metric_type = (sb_metric_type)42;
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "metricType"));
    m->payloads[0].metric_type = SB_METRIC_NONE;
    m->labels = cJSON_CreateObject();
    cJSON_AddNumberToObject(m->labels, "n", 1);
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "labels.n"));
    cJSON_Delete(m->labels);
    m->labels = cJSON_CreateObject();
    cJSON_AddStringToObject(m->labels, "b", "1");
    cJSON_AddStringToObject(m->labels, "a", "1");
    cJSON_AddStringToObject(m->labels, "b", "2");
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "key 'b' appears twice"));
    cJSON_Delete(m->labels);
    m->labels = NULL;
    m->id[0] = '\0';
    assert_int_equal(sb_msg_validate(m, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "'id'"));
    assert_null(sb_msg_add_payload(NULL, "k", "v", SB_METRIC_NONE, NULL));
    assert_null(sb_msg_add_payload(m, NULL, "v", SB_METRIC_NONE, NULL));
    sb_msg_free(m);
    sb_msg_free(NULL);
    assert_null(sb_msg_dup(NULL));
    assert_null(sb_msg_encode(NULL, NULL));
    assert_true(sb_msg_equal(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_typical),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_value_kinds),
        cmocka_unit_test(test_round_trip_built),
        cmocka_unit_test(test_round_trip_many_payloads),
        cmocka_unit_test(test_to_from_json),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_malformed_keys),
        cmocka_unit_test(test_malformed_timestamps),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_label_limits),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_label_scalars),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_limit),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
