/*
 * quickid_test.c - quick ids: every kind, MyController's aliases, key paths, format/make and
 * every error the parser names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/quickid.h"

static sb_quickid parse_ok(const char *text)
{
    sb_quickid q;
    sb_errmsg em = {{0}};
    if (sb_quickid_parse(text, &q, &em) != SB_OK)
        fail_msg("'%s' did not parse: %s", text, em.text);
    return q;
}

static void parse_bad(const char *text, const char *want)
{
    sb_quickid q;
    sb_errmsg em = {{0}};
    sb_err err = sb_quickid_parse(text, &q, &em);
    if (err != SB_ERR_INVALID || !strstr(em.text, want))
        fail_msg("'%s': want an error containing \"%s\", got %s: \"%s\"", text ? text : "(null)",
                 want, sb_strerror(err), em.text);
}

static void test_every_kind(void **state)
{
    static const struct {
        sb_entity_kind kind;
        const char *name;
        int depth;
        const char *text;
    } cases[] = {
        {SB_KIND_GATEWAY, "gateway", 1, "gateway:gw1"},
        {SB_KIND_NODE, "node", 2, "node:gw1.12"},
        {SB_KIND_SOURCE, "source", 3, "source:gw1.12.1"},
        {SB_KIND_FIELD, "field", 4, "field:gw1.12.1.V_TEMP"},
        {SB_KIND_TASK, "task", 1, "task:t-1"},
        {SB_KIND_SCHEDULE, "schedule", 1, "schedule:sunrise"},
        {SB_KIND_HANDLER, "handler", 1, "handler:mail"},
        {SB_KIND_FORWARD_PAYLOAD, "forward_payload", 1, "forward_payload:fp1"},
        {SB_KIND_FIRMWARE, "firmware", 1, "firmware:fw_2.3"},
        {SB_KIND_DASHBOARD, "dashboard", 1, "dashboard:home"},
        {SB_KIND_DATA_REPOSITORY, "data_repository", 1, "data_repository:prices"},
        {SB_KIND_USER, "user", 1, "user:admin"},
        {SB_KIND_SERVICE_TOKEN, "service_token", 1, "service_token:tok"},
        {SB_KIND_SETTINGS, "settings", 1, "settings:system"},
    };
    assert_int_equal(sizeof(cases) / sizeof(cases[0]), SB_KIND__COUNT);
    for (size_t i = 0; i < SB_KIND__COUNT; i++) {
        assert_string_equal(sb_entity_kind_name(cases[i].kind), cases[i].name);
        assert_int_equal(sb_entity_kind_depth(cases[i].kind), cases[i].depth);
        sb_entity_kind k;
        assert_int_equal(sb_entity_kind_parse(cases[i].name, &k), SB_OK);
        assert_int_equal(k, cases[i].kind);
        if (cases[i].kind == SB_KIND_FIRMWARE) {
            /* "fw_2.3": the id stops at the first '.', the rest is a key path */
            sb_quickid q = parse_ok(cases[i].text);
            assert_string_equal(q.ids[0], "fw_2");
            assert_string_equal(q.key_path, "3");
            continue;
        }
        sb_quickid q = parse_ok(cases[i].text);
        assert_int_equal(q.kind, cases[i].kind);
        assert_int_equal(q.n_ids, cases[i].depth);
        assert_string_equal(q.key_path, "");
        char buf[SB_QUICKID_MAX];
        assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
        assert_string_equal(buf, cases[i].text);
    }
    sb_quickid f = parse_ok("field:gw1.12.1.V_TEMP");
    assert_string_equal(f.ids[0], "gw1");
    assert_string_equal(f.ids[1], "12");
    assert_string_equal(f.ids[2], "1");
    assert_string_equal(f.ids[3], "V_TEMP");
    assert_string_equal(sb_entity_kind_name(SB_KIND__COUNT), "unknown");
    assert_int_equal(sb_entity_kind_depth((sb_entity_kind)-1), 0);
}

static void test_aliases(void **state)
{
    static const struct {
        const char *alias;
        sb_entity_kind kind;
    } cases[] = {
        {"gw", SB_KIND_GATEWAY},
        {"GW", SB_KIND_GATEWAY},
        {"Gateway", SB_KIND_GATEWAY},
        {"nd", SB_KIND_NODE},
        {"no", SB_KIND_NODE},
        {"sn", SB_KIND_SOURCE},
        {"sensor", SB_KIND_SOURCE},
        {"sf", SB_KIND_FIELD},
        {"sensor_field", SB_KIND_FIELD},
        {"sensor_filed", SB_KIND_FIELD},
        {"tk", SB_KIND_TASK},
        {"sk", SB_KIND_SCHEDULE},
        {"scheduler", SB_KIND_SCHEDULE},
        {"hd", SB_KIND_HANDLER},
        {"notify_handler", SB_KIND_HANDLER},
        {"forwardpayload", SB_KIND_FORWARD_PAYLOAD},
        {"fw", SB_KIND_FIRMWARE},
        {"datarepository", SB_KIND_DATA_REPOSITORY},
        {"servicetoken", SB_KIND_SERVICE_TOKEN},
        {"SETTINGS", SB_KIND_SETTINGS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sb_entity_kind k;
        assert_int_equal(sb_entity_kind_parse(cases[i].alias, &k), SB_OK);
        assert_int_equal(k, cases[i].kind);
    }
    /* The alias parses, and formats back with the canonical name. */
    sb_quickid q = parse_ok("sf:gw1.12.1.V_TEMP.current.value");
    assert_int_equal(q.kind, SB_KIND_FIELD);
    char buf[SB_QUICKID_MAX];
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
    assert_string_equal(buf, "field:gw1.12.1.V_TEMP.current.value");
    sb_entity_kind k;
    assert_int_equal(sb_entity_kind_parse("sensors", &k), SB_ERR_INVALID);
    assert_int_equal(sb_entity_kind_parse("", &k), SB_ERR_INVALID);
    assert_int_equal(sb_entity_kind_parse(NULL, &k), SB_ERR_INVALID);
}

static void test_key_paths(void **state)
{
    sb_quickid q = parse_ok("field:gw1.12.1.V_TEMP.current.value");
    assert_int_equal(q.n_ids, 4);
    assert_string_equal(q.key_path, "current.value");
    q = parse_ok("gateway:gw1.state.status");
    assert_string_equal(q.ids[0], "gw1");
    assert_string_equal(q.key_path, "state.status");
    q = parse_ok("node:gw1.12.labels.room");
    assert_string_equal(q.key_path, "labels.room");
    q = parse_ok("task:t1.enabled");
    assert_string_equal(q.ids[0], "t1");
    assert_string_equal(q.key_path, "enabled");
    q = parse_ok("source:gw1.12.1.others.a:b");
    assert_string_equal(q.key_path, "others.a:b");
    /* unicode ids are fine: only '.', ':' and whitespace are reserved */
    q = parse_ok("node:küche.𝄞");
    assert_string_equal(q.ids[1], "𝄞");
    char buf[SB_QUICKID_MAX];
    q = parse_ok("field:gw1.12.1.V_TEMP.current.value");
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
    assert_string_equal(buf, "field:gw1.12.1.V_TEMP.current.value");
}

static void test_errors(void **state)
{
    parse_bad(NULL, "quick id is empty");
    parse_bad("", "quick id is empty");
    parse_bad("gw1", "expected kind:id, found no ':'");
    parse_bad("sensorx:gw1", "unknown kind 'sensorx'");
    parse_bad(":gw1", "unknown kind ''");
    parse_bad("field:gw1.12",
              "quick id 'field:gw1.12': a field needs 4 ids (gateway.node.source.field), got 2");
    parse_bad("source:gw1.12", "a source needs 3 ids (gateway.node.source), got 2");
    parse_bad("node:gw1", "a node needs 2 ids (gateway.node), got 1");
    parse_bad("gateway:", "id 1 (gateway) is empty");
    parse_bad("field:", "id 1 (gateway) is empty");
    parse_bad("task:", "id 1 (task) is empty");
    parse_bad("node:gw1..x", "id 2 (node) is empty");
    parse_bad("node:.12", "id 1 (gateway) is empty");
    parse_bad("node:gw 1.12", "id 1 (gateway) contains whitespace");
    parse_bad("node:gw1.1\t2", "id 2 (node) contains whitespace");
    parse_bad("task:a:b", "id 1 (task) contains ':'");
    parse_bad("gateway:gw1.", "the key path is empty");
    parse_bad("gateway:gw1.a..b", "the key path has an empty segment");
    parse_bad("gateway:gw1.a.", "the key path has an empty segment");
    parse_bad("gateway:gw1.a b", "the key path contains whitespace");
    char long_id[SB_QUICKID_PART_MAX + 16];
    snprintf(long_id, sizeof(long_id), "task:%0*d", SB_QUICKID_PART_MAX, 0);
    parse_bad(long_id, "over the limit of 127");
    snprintf(long_id, sizeof(long_id), "task:%0*d", SB_QUICKID_PART_MAX - 1, 0);
    parse_ok(long_id);
    char huge[SB_QUICKID_MAX + 8];
    memset(huge, 'a', sizeof(huge));
    memcpy(huge, "task:t.", 7);
    huge[SB_QUICKID_MAX] = '\0';
    parse_bad(huge, "over the limit of 639");
    huge[SB_QUICKID_MAX - 1] = '\0';
    parse_ok(huge);
}

static void test_format_and_make(void **state)
{
    sb_quickid q;
    char buf[SB_QUICKID_MAX];
    assert_int_equal(sb_quickid_make(&q, SB_KIND_FIELD, "gw1", "12", "1", "V_TEMP"), SB_OK);
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
    assert_string_equal(buf, "field:gw1.12.1.V_TEMP");
    assert_int_equal(sb_quickid_make(&q, SB_KIND_NODE, "gw1", "12", NULL, NULL), SB_OK);
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
    assert_string_equal(buf, "node:gw1.12");
    assert_int_equal(sb_quickid_make(&q, SB_KIND_SOURCE, "gw1", "12", "", "x"), SB_ERR_INVALID);
    assert_int_equal(sb_quickid_make(&q, SB_KIND_GATEWAY, "gw1", "12", NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_quickid_make(&q, SB_KIND_NODE, "gw.1", "12", NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_quickid_make(&q, SB_KIND_TASK, "t1", NULL, NULL, NULL), SB_OK);
    assert_int_equal(sb_quickid_make(&q, SB_KIND__COUNT, "t1", NULL, NULL, NULL), SB_ERR_INVALID);

    /* the buffer must hold the whole text and its NUL */
    assert_int_equal(sb_quickid_make(&q, SB_KIND_FIELD, "gw1", "12", "1", "V_TEMP"), SB_OK);
    assert_int_equal(sb_quickid_format(&q, buf, 21), SB_ERR_TOO_LARGE);
    assert_int_equal(sb_quickid_format(&q, buf, 22), SB_OK);
    strcpy(q.key_path, "current.value");
    assert_int_equal(sb_quickid_format(&q, buf, 22), SB_ERR_TOO_LARGE);
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_OK);
    assert_string_equal(buf, "field:gw1.12.1.V_TEMP.current.value");

    /* format refuses what would not parse back */
    strcpy(q.key_path, "a..b");
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_ERR_INVALID);
    q.key_path[0] = '\0';
    q.n_ids = 3;
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_ERR_INVALID);
    q.n_ids = 4;
    strcpy(q.ids[2], "a b");
    assert_int_equal(sb_quickid_format(&q, buf, sizeof(buf)), SB_ERR_INVALID);
    assert_int_equal(sb_quickid_format(NULL, buf, sizeof(buf)), SB_ERR_INVALID);
}

static void test_valid_part(void **state)
{
    assert_true(sb_quickid_valid_part("gw1"));
    assert_true(sb_quickid_valid_part("V_TEMP-2"));
    assert_false(sb_quickid_valid_part(""));
    assert_false(sb_quickid_valid_part(NULL));
    assert_false(sb_quickid_valid_part("a.b"));
    assert_false(sb_quickid_valid_part("a:b"));
    assert_false(sb_quickid_valid_part("a b"));
    assert_false(sb_quickid_valid_part("a\nb"));
    assert_false(sb_quickid_valid_part("a\x7f"));
    char part[SB_QUICKID_PART_MAX + 1];
    memset(part, 'x', sizeof(part));
    part[SB_QUICKID_PART_MAX - 1] = '\0';
    assert_true(sb_quickid_valid_part(part));
    part[SB_QUICKID_PART_MAX - 1] = 'x';
    part[SB_QUICKID_PART_MAX] = '\0';
    assert_false(sb_quickid_valid_part(part));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),      cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_key_paths),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format_and_make), cmocka_unit_test(test_valid_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
