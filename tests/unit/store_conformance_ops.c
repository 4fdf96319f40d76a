/*
 * store_conformance_ops.c - the operator half of the conformance suite: every filter operator on
 * strings, numbers, booleans, null, nested and missing keys, arrays, regex and timestamps, and
 * multi-key sorting. The rules are the ones in storage/store.h; results come back in id order
 * when no sort is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/store_conformance.h"

/* d has no labels, tags, on or ts: it is the "missing key" document. */
static void put_fixture(sb_store *s)
{
    sb_conformance_put(s, "dev",
                       "{\"id\":\"a\",\"name\":\"Hall lamp\",\"n\":5,\"ns\":\"5\",\"f\":1.5,"
                       "\"on\":true,\"labels\":{\"room\":\"hall\",\"floor\":\"1\"},"
                       "\"tags\":[\"x\",\"y\"],\"ts\":\"2026-01-01T10:00:00Z\",\"nul\":null}");
    sb_conformance_put(s, "dev",
                       "{\"id\":\"b\",\"name\":\"kitchen Lamp\",\"n\":10,\"ns\":\"10\",\"f\":-2,"
                       "\"on\":false,\"labels\":{\"room\":\"kitchen\"},\"tags\":[\"y\",\"z\"],"
                       "\"ts\":\"2026-01-01T12:00:00+01:00\"}");
    sb_conformance_put(s, "dev",
                       "{\"id\":\"c\",\"name\":\"garage door\",\"n\":\"7\",\"ns\":\"abc\","
                       "\"on\":true,\"labels\":{\"room\":\"garage\",\"floor\":\"0\"},"
                       "\"tags\":[],\"ts\":\"2026-01-01T09:30:00.500Z\"}");
    sb_conformance_put(s, "dev", "{\"id\":\"d\",\"name\":\"Porch\",\"n\":2.5}");
}

#define F(k, o, v) "[{\"k\":\"" k "\",\"o\":\"" o "\",\"v\":" v "}]"

static void test_ops_strings(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    EXPECT_IDS(s, "dev", F("name", "eq", "\"Porch\""), NULL, "d");
    EXPECT_IDS(s, "dev", F("name", "eq", "\"porch\""), NULL, ""); /* eq is case-sensitive */
    EXPECT_IDS(s, "dev", F("labels.room", "ne", "\"hall\""), NULL, "b,c,d");
    /* byte-wise: "Hall lamp" < "Porch" < "garage door" < "kitchen Lamp" */
    EXPECT_IDS(s, "dev", F("name", "gt", "\"Porch\""), NULL, "b,c");
    EXPECT_IDS(s, "dev", F("name", "gte", "\"Porch\""), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("name", "lt", "\"Porch\""), NULL, "a");
    EXPECT_IDS(s, "dev", F("name", "lte", "\"Porch\""), NULL, "a,d");
    EXPECT_IDS(s, "dev", F("labels.room", "in", "[\"hall\",\"garage\"]"), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("labels.room", "nin", "[\"hall\",\"garage\"]"), NULL, "b,d");
    EXPECT_IDS(s, "dev", F("labels.room", "in", "[]"), NULL, "");
    EXPECT_IDS(s, "dev", F("labels.room", "nin", "[]"), NULL, "a,b,c,d");
}

/* eq/in on strings that JSON escapes or that are not ASCII, as values and as array elements
 * (sqlite looks for a string's printed form in the document text before parsing it). */
static void test_ops_escaped_strings(void **state)
{
    sb_store *s = sb_conformance_store(state);
    sb_conformance_put(s, "esc",
                       "{\"id\":\"a\",\"v\":\"say \\\"hi\\\" \\\\ a/b\",\"t\":[\"x\\ty\"]}");
    sb_conformance_put(s, "esc", "{\"id\":\"b\",\"v\":\"caf\u00e9 \\u00e9\",\"t\":\"\\u0001\"}");
    sb_conformance_put(s, "esc", "{\"id\":\"c\",\"v\":\"say hi\",\"t\":[\"xy\"]}");
    EXPECT_IDS(s, "esc", F("v", "eq", "\"say \\\"hi\\\" \\\\ a/b\""), NULL, "a");
    EXPECT_IDS(s, "esc", F("v", "eq", "\"say \\\"hi\\\" \\\\ a\\/b\""), NULL, "a");
    EXPECT_IDS(s, "esc", F("v", "eq", "\"caf\u00e9 \u00e9\""), NULL, "b");
    EXPECT_IDS(s, "esc", F("v", "in", "[\"nope\",\"caf\\u00e9 \\u00e9\"]"), NULL, "b");
    EXPECT_IDS(s, "esc", F("t", "eq", "\"x\\ty\""), NULL, "a");
    EXPECT_IDS(s, "esc", F("t", "eq", "\"\\u0001\""), NULL, "b");
    EXPECT_IDS(s, "esc", F("t", "in", "[\"xy\",\"x\\ty\"]"), NULL, "a,c");
    EXPECT_IDS(s, "esc", F("v", "eq", "\"say\""), NULL, "");
}

static void test_ops_numbers(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    /* n: a=5, b=10, c="7" (a numeric string), d=2.5 */
    EXPECT_IDS(s, "dev", F("n", "gt", "4"), NULL, "a,b,c");
    EXPECT_IDS(s, "dev", F("n", "gt", "9"), NULL, "b"); /* 10 > 9 as numbers, not text */
    EXPECT_IDS(s, "dev", F("n", "lt", "5"), NULL, "d");
    EXPECT_IDS(s, "dev", F("n", "gte", "5"), NULL, "a,b,c");
    EXPECT_IDS(s, "dev", F("n", "lte", "5"), NULL, "a,d");
    EXPECT_IDS(s, "dev", F("n", "eq", "10"), NULL, "b");
    EXPECT_IDS(s, "dev", F("n", "eq", "10.0"), NULL, "b");
    EXPECT_IDS(s, "dev", F("n", "ne", "5"), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("f", "lt", "0"), NULL, "b");
    EXPECT_IDS(s, "dev", F("f", "gte", "-2"), NULL, "a,b");
    EXPECT_IDS(s, "dev", F("n", "in", "[5,\"2.5\"]"), NULL, "a,d");
    EXPECT_IDS(s, "dev", F("n", "nin", "[5,7]"), NULL, "b,d");
}

static void test_ops_numeric_strings(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    /* a query string that is a number meets a document number numerically */
    EXPECT_IDS(s, "dev", F("n", "eq", "\"10\""), NULL, "b");
    EXPECT_IDS(s, "dev", F("n", "gt", "\"9\""), NULL, "b");
    /* a document string that is a number meets a query number numerically */
    EXPECT_IDS(s, "dev", F("n", "eq", "7"), NULL, "c");
    EXPECT_IDS(s, "dev", F("ns", "gt", "5"), NULL, "b"); /* "abc" is not a number */
    EXPECT_IDS(s, "dev", F("labels.floor", "eq", "0"), NULL, "c");
    /* two strings compare byte-wise even when both look like numbers */
    EXPECT_IDS(s, "dev", F("ns", "gt", "\"5\""), NULL, "c");
    EXPECT_IDS(s, "dev", F("ns", "lt", "\"5\""), NULL, "b");
    EXPECT_IDS(s, "dev", F("n", "eq", "\"7.0\""), NULL, "");
}

static void test_ops_bool_null(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    EXPECT_IDS(s, "dev", F("on", "eq", "true"), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("on", "eq", "false"), NULL, "b");
    EXPECT_IDS(s, "dev", F("on", "ne", "true"), NULL, "b,d");
    EXPECT_IDS(s, "dev", F("on", "gt", "false"), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("on", "eq", "\"true\""), NULL, ""); /* different kinds */
    EXPECT_IDS(s, "dev", F("on", "eq", "1"), NULL, "");
    EXPECT_IDS(s, "dev", F("nul", "eq", "null"), NULL, "a");
    EXPECT_IDS(s, "dev", F("nul", "exists", "true"), NULL, "a");
    EXPECT_IDS(s, "dev", F("nul", "ne", "null"), NULL, "b,c,d");
}

static void test_ops_nested_missing(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    EXPECT_IDS(s, "dev", F("labels.floor", "eq", "\"1\""), NULL, "a");
    EXPECT_IDS(s, "dev", F("labels.floor", "exists", "true"), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("labels.floor", "exists", "false"), NULL, "b,d");
    EXPECT_IDS(s, "dev", F("labels", "exists", "false"), NULL, "d");
    /* a missing key matches only ne, nin and exists:false */
    EXPECT_IDS(s, "dev", F("labels.floor", "ne", "\"1\""), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("labels.floor", "nin", "[\"1\"]"), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("labels.floor", "lt", "\"9\""), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("labels.floor", "gte", "\"\""), NULL, "a,c");
    EXPECT_IDS(s, "dev", F("nope.deeper", "regex", "\".*\""), NULL, "");
    EXPECT_IDS(s, "dev", F("name.sub", "eq", "\"x\""), NULL, ""); /* path through a string */
    /* several filters: all must hold */
    EXPECT_IDS(s, "dev",
               "[{\"k\":\"on\",\"o\":\"eq\",\"v\":true},{\"k\":\"n\",\"o\":\"gt\",\"v\":6}]", NULL,
               "c");
}

static void test_ops_arrays(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    /* tags: a=[x,y], b=[y,z], c=[], d missing */
    EXPECT_IDS(s, "dev", F("tags", "eq", "\"y\""), NULL, "a,b");
    EXPECT_IDS(s, "dev", F("tags", "ne", "\"x\""), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("tags", "in", "[\"x\",\"z\"]"), NULL, "a,b");
    EXPECT_IDS(s, "dev", F("tags", "nin", "[\"x\"]"), NULL, "b,c,d");
    EXPECT_IDS(s, "dev", F("tags", "eq", "[\"x\",\"y\"]"), NULL, "a"); /* whole array */
    EXPECT_IDS(s, "dev", F("tags.0", "eq", "\"y\""), NULL, "b");       /* by index */
    EXPECT_IDS(s, "dev", F("tags", "exists", "true"), NULL, "a,b,c");
}

static void test_ops_regex(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    EXPECT_IDS(s, "dev", F("name", "regex", "\"lamp$\""), NULL, "a,b"); /* case-insensitive */
    EXPECT_IDS(s, "dev", F("name", "regex", "\"^(hall|porch)\""), NULL, "a,d");
    EXPECT_IDS(s, "dev", F("name", "regex", "\"[[:space:]]d.+r\""), NULL, "c");
    EXPECT_IDS(s, "dev", F("tags", "regex", "\"^Z\""), NULL, "b"); /* any array element */
    EXPECT_IDS(s, "dev", F("n", "regex", "\"^7$\""), NULL, "c");   /* strings only, not 5 */
    EXPECT_IDS(s, "dev", F("labels.room", "regex", "\"\""), NULL, "a,b,c");
}

static void test_ops_timestamps(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_fixture(s);
    /* ts: a=10:00Z, b=12:00+01:00 (11:00Z), c=09:30:00.500Z, d missing */
    EXPECT_IDS(s, "dev", F("ts", "gt", "\"2026-01-01T10:30:00Z\""), NULL, "b");
    EXPECT_IDS(s, "dev", F("ts", "eq", "\"2026-01-01T11:00:00.000Z\""), NULL, "b");
    EXPECT_IDS(s, "dev", F("ts", "lt", "\"2026-01-01T10:00:00+00:00\""), NULL, "c");
    EXPECT_IDS(s, "dev", F("ts", "gte", "\"2026-01-01T11:00:00+01:00\""), NULL, "a,b");
    EXPECT_IDS(s, "dev", F("ts", "lte", "\"2026-01-01T09:30:00.5Z\""), NULL, "c");
    EXPECT_IDS(s, "dev", F("ts", "in", "[\"2026-01-01T05:00:00-05:00\"]"), NULL, "a");
    EXPECT_IDS(s, "dev", F("ts", "gt", "0"), NULL, ""); /* a time is not a number */
}

static void put_sort_fixture(sb_store *s)
{
    sb_conformance_put(s, "srt", "{\"id\":\"s1\",\"g\":\"b\",\"v\":2}");
    sb_conformance_put(s, "srt", "{\"id\":\"s2\",\"g\":\"a\",\"v\":2}");
    sb_conformance_put(s, "srt", "{\"id\":\"s3\",\"g\":\"b\",\"v\":1}");
    sb_conformance_put(s, "srt", "{\"id\":\"s4\",\"g\":\"a\"}");
    sb_conformance_put(s, "srt", "{\"id\":\"s5\",\"g\":\"a\",\"v\":10}");
    sb_conformance_put(s, "srt", "{\"id\":\"s6\",\"v\":\"3\"}");
}

static void test_sort(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_sort_fixture(s);
    /* missing values are the smallest: first ascending, last descending */
    EXPECT_IDS(s, "srt", NULL, "[{\"f\":\"v\",\"o\":\"asc\"}]", "s4,s3,s1,s2,s6,s5");
    EXPECT_IDS(s, "srt", NULL, "[{\"f\":\"v\",\"o\":\"desc\"}]", "s5,s6,s1,s2,s3,s4");
    EXPECT_IDS(s, "srt", NULL, "[{\"f\":\"g\"},{\"f\":\"v\",\"o\":\"desc\"}]", "s6,s5,s2,s4,s1,s3");
    EXPECT_IDS(s, "srt", NULL, "[{\"f\":\"g\",\"o\":\"desc\"},{\"f\":\"v\"}]", "s3,s1,s4,s2,s5,s6");
    EXPECT_IDS(s, "srt", NULL, "[{\"f\":\"id\",\"o\":\"desc\"}]", "s6,s5,s4,s3,s2,s1");
    EXPECT_IDS(s, "srt", F("g", "eq", "\"a\""), "[{\"f\":\"v\"}]", "s4,s2,s5");
}

static void test_sort_stable_paging(void **state)
{
    sb_store *s = sb_conformance_store(state);
    put_sort_fixture(s);
    const char *by_g = "[{\"f\":\"g\",\"o\":\"asc\"}]"; /* many ties: id decides */
    EXPECT_IDS(s, "srt", NULL, by_g, "s6,s2,s4,s5,s1,s3");
    EXPECT_PAGE(s, "srt", NULL, by_g, 2, 0, "s6,s2");
    EXPECT_PAGE(s, "srt", NULL, by_g, 2, 2, "s4,s5");
    EXPECT_PAGE(s, "srt", NULL, by_g, 2, 4, "s1,s3");
    EXPECT_PAGE(s, "srt", NULL, by_g, 4, 4, "s1,s3");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_ops_strings, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_escaped_strings, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_numbers, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_numeric_strings, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_bool_null, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_nested_missing, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_arrays, sb_conformance_setup, sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_regex, sb_conformance_setup, sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_ops_timestamps, sb_conformance_setup,
                                    sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_sort, sb_conformance_setup, sb_conformance_teardown),
    cmocka_unit_test_setup_teardown(test_sort_stable_paging, sb_conformance_setup,
                                    sb_conformance_teardown),
};

size_t sb_conformance_ops_tests(const struct CMUnitTest **out)
{
    *out = tests;
    return SB_ARRAY_LEN(tests);
}
