/*
 * mongodb_store_test.c - what can be checked without a MongoDB server: an unreachable server
 * fails start-up within connect_timeout with a message naming the URI (password redacted),
 * a malformed URI is refused at once, and the filter translation says which filters the
 * server can answer exactly. The store contract runs in store_conformance_mongodb_test when
 * SWITCHBOARD_TEST_MONGODB_URI is set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "storage/mongodb/mongodb_store.h"

/* A loopback port nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static sb_err open_uri(const char *uri, int64_t timeout, sb_errmsg *em)
{
    sb_config cfg = {0};
    cfg.storage.type = SB_STORE_MONGODB;
    cfg.storage.mongodb.uri = (char *)uri;
    cfg.storage.mongodb.database = "switchboard";
    cfg.storage.mongodb.collection_prefix = "";
    cfg.storage.mongodb.connect_timeout_ms = timeout;
    cfg.storage.mongodb.pool_max = 4;
    sb_store *s = NULL;
    sb_err err = sb_store_open(&cfg, &s, em);
    sb_store_close(s);
    return err;
}

static void test_unreachable(void **state)
{
    char uri[128], host[64];
    int port = closed_port();
    snprintf(uri, sizeof(uri), "mongodb://user:hunter2@127.0.0.1:%d/?directConnection=true", port);
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    sb_errmsg em = {0};
    int64_t t0 = sb_time_mono_ms();
    sb_err err = open_uri(uri, 1500, &em);
    int64_t took = sb_time_mono_ms() - t0;
    print_message("unreachable after %lld ms: %s\n", (long long)took, em.text);
    assert_int_equal(err, SB_ERR_TIMEOUT);
    assert_true(took < 1500 + 2000);
    assert_non_null(strstr(em.text, host));
    assert_non_null(strstr(em.text, "1500 ms"));
    assert_null(strstr(em.text, "hunter2"));
}

static void test_bad_uri(void **state)
{
    sb_errmsg em = {0};
    assert_int_equal(open_uri("http://nope", 1000, &em), SB_ERR_INVALID);
    assert_non_null(strstr(em.text, "storage.mongodb.uri"));
    assert_int_equal(open_uri("", 1000, &em), SB_ERR_INVALID);
}

static void expect_filter(const char *filters, bool exact, const char *needle)
{
    sb_query q = {0};
    assert_int_equal(sb_query_parse(filters, NULL, &q, NULL), SB_OK);
    bson_t f = BSON_INITIALIZER;
    bool ex = !exact;
    assert_true(mg_query_filter(&q, &f, &ex));
    char *json = bson_as_relaxed_extended_json(&f, NULL);
    print_message("%s -> %s (%s)\n", filters, json, ex ? "exact" : "re-checked");
    assert_int_equal(ex, exact);
    assert_non_null(strstr(json, needle));
    bson_free(json);
    bson_destroy(&f);
    sb_query_free(&q);
}

static void test_translation(void **state)
{
    expect_filter("[{\"k\":\"labels.room\",\"o\":\"eq\",\"v\":\"hall\"}]", true,
                  "\"labels.room\" : \"hall\"");
    expect_filter("[{\"k\":\"a\",\"o\":\"in\",\"v\":[\"x\",true]}]", true, "\"a\" : true");
    expect_filter("[{\"k\":\"a\",\"o\":\"exists\",\"v\":false}]", true, "\"$exists\" : false");
    expect_filter("[{\"k\":\"v\",\"o\":\"eq\",\"v\":\"12\"}]", false, "\"$eq\" : 12");
    expect_filter("[{\"k\":\"v\",\"o\":\"gt\",\"v\":20}]", false, "\"$gte\" : 20");
    expect_filter("[{\"k\":\"n\",\"o\":\"regex\",\"v\":\"^te\"}]", false, "\"options\" : \"i\"");
    expect_filter("[{\"k\":\"n\",\"o\":\"ne\",\"v\":\"x\"}]", false, "$and");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_uri),
        cmocka_unit_test(test_translation),
    };
    return cmocka_run_group_tests_name("mongodb_store", tests, NULL, NULL);
}
