/*
 * bus_acl_test.c - the generated broker users and ACL, enforced by a real mosquitto:
 * `switchboard bus acl --dir` writes them; a wrong password or no user is refused; each
 * service may publish and read only what core/busacl.c gives it (a gateway cannot publish
 * events of other kinds or handler calls, the handler cannot publish device input), and the
 * table (sb_busacl_allows) agrees with what the broker does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/busacl.h"
#include "core/time.h"
#include "harness.h"

#define PREFIX "sbtest"

static char dir[512];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char seen[64][128]; /* topics the observer received */
static int n_seen;

static void on_seen(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    if (n_seen < 64)
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", m->topic);
    pthread_mutex_unlock(&mu);
}

static bool was_seen(const char *topic)
{
    pthread_mutex_lock(&mu);
    bool found = false;
    for (int i = 0; i < n_seen; i++)
        found |= strcmp(seen[i], topic) == 0;
    pthread_mutex_unlock(&mu);
    return found;
}

static bool seen_cond(void *ctx)
{
    return was_seen(ctx);
}

static void password_of(const char *service, char *pw, size_t len)
{
    char path[700], line[256];
    snprintf(path, sizeof(path), "%s/%s.env", dir, service);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    pw[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "SWITCHBOARD_BUS_PASSWORD=", 25) == 0)
            snprintf(pw, len, "%.*s", (int)strcspn(line + 25, "\n"), line + 25);
    fclose(f);
    assert_true(strlen(pw) >= 16);
}

static sb_config_bus cfg_for(const char *user, char *pw, size_t len)
{
    sb_config_bus c;
    sbt_bus_config(&c);
    c.username = (char *)user;
    c.password = pw;
    if (user && len)
        password_of(user, pw, len);
    return c;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/broker-auth", sbt_tmpdir("bus_acl"));
    char cmd[2048], conf[1200];
    snprintf(cmd, sizeof(cmd),
             "SWITCHBOARD_BUS_TOPIC_PREFIX=" PREFIX " %s/services/switchboard/switchboard bus acl "
             "--dir %s >/dev/null",
             getenv("SB_BUILD_DIR"), dir);
    if (system(cmd) != 0)
        return -1;
    /* an observer that reads everything, only for this test */
    char line[512], path[700];
    if (sb_busacl_passwd_line("observer", "observer-pw", line, sizeof(line)) != SB_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/passwd", dir);
    FILE *f = fopen(path, "a");
    fputs(line, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/acl", dir);
    f = fopen(path, "a");
    fputs("\nuser observer\ntopic read #\n", f);
    fclose(f);
    snprintf(conf, sizeof(conf),
             "allow_anonymous false\npassword_file %s/passwd\nacl_file %s/acl\n", dir, dir);
    return sbt_broker_start(conf) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sbt_broker_stop();
    return 0;
}

static void test_files_written(void **state)
{
    (void)state;
    char pw1[64], pw2[64], cmd[2048];
    password_of("gateway", pw1, sizeof(pw1));
    /* running again keeps the passwords */
    snprintf(cmd, sizeof(cmd),
             "SWITCHBOARD_BUS_TOPIC_PREFIX=" PREFIX " %s/services/switchboard/switchboard bus acl "
             "--dir %s >/dev/null",
             getenv("SB_BUILD_DIR"), dir);
    assert_int_equal(system(cmd), 0);
    password_of("gateway", pw2, sizeof(pw2));
    assert_string_equal(pw1, pw2);
}

static void test_refused(void **state)
{
    (void)state;
    char pw[64] = "not-the-password";
    struct {
        const char *user, *password;
    } cases[] = {{"gateway", pw}, {NULL, NULL}, {"nobody", pw}};
    for (size_t i = 0; i < 3; i++) {
        sb_config_bus c = cfg_for(NULL, NULL, 0);
        c.username = (char *)cases[i].user;
        c.password = (char *)cases[i].password;
        c.connect_timeout_ms = 1000;
        sb_bus_opts o = {.cfg = &c, .service = "gateway", .instance = "bad", .clean_start = true};
        sb_bus *bus = NULL;
        sb_errmsg em = {0};
        assert_int_equal(sb_bus_create(&o, &bus, &em), SB_OK);
        sb_err rc = sb_bus_start(bus, 1500, &em);
        if (rc == SB_OK)
            fail_msg("case %zu: connected without valid credentials", i);
        sb_bus_destroy(bus, 0);
    }
}

/*
 * Publishes forbidden then allowed topics as service; ordering per client means that once the
 * last allowed one arrived, a forbidden one would have arrived before it. The broker answers a
 * forbidden QoS 1 publish with PUBACK "not authorized" (MQTT 5): the bus drops that message
 * and counts it, and paho 1.3.11 then closes the connection, so each costs a reconnect.
 */
static void check_publish(const char *service, const char *const *allowed,
                          const char *const *forbidden)
{
    char pw[64];
    sb_config_bus c = cfg_for(service, pw, sizeof(pw));
    sb_bus *bus = sbt_bus(&c, service, "acl", true);
    for (size_t i = 0; forbidden[i]; i++) {
        assert_false(sb_busacl_allows(PREFIX, service, forbidden[i], true));
        assert_int_equal(sb_bus_publish(bus, forbidden[i], "x", 1, 1, false), SB_OK);
    }
    for (size_t i = 0; allowed[i]; i++) {
        assert_true(sb_busacl_allows(PREFIX, service, allowed[i], true));
        assert_int_equal(sb_bus_publish(bus, allowed[i], "x", 1, 1, false), SB_OK);
    }
    for (size_t i = 0; allowed[i]; i++)
        if (!sbt_wait(seen_cond, (void *)allowed[i], 30000))
            fail_msg("%s: allowed %s did not arrive", service, allowed[i]);
    for (size_t i = 0; forbidden[i]; i++)
        if (was_seen(forbidden[i]))
            fail_msg("%s: forbidden %s reached a subscriber", service, forbidden[i]);
    sb_bus_stats st;
    sb_bus_get_stats(bus, &st);
    size_t n_forbidden = 0;
    while (forbidden[n_forbidden])
        n_forbidden++;
    if (!getenv("SB_TEST_MQTT_VERSION")) /* MQTT 3.1.1 has no negative PUBACK */
        assert_int_equal(st.publish_failed, n_forbidden);
    sb_bus_destroy(bus, 1000);
}

static void test_publish_rules(void **state)
{
    (void)state;
    sb_config_bus c = cfg_for(NULL, NULL, 0);
    c.username = "observer";
    c.password = "observer-pw";
    sb_bus *obs = sbt_bus(&c, "observer", "o", true);
    assert_int_equal(sb_bus_subscribe(obs, "#", 1, on_seen, NULL, NULL), SB_OK);
    assert_true(sbt_wait(seen_cond, PREFIX "/status/observer/o", 5000));

    const char *gw_ok[] = {PREFIX "/msg/in/gw1", PREFIX "/event/gateway/gw1",
                           PREFIX "/status/gateway/acl", NULL};
    const char *gw_no[] = {PREFIX "/event/field/gw1.1.1.V_TEMP",
                           PREFIX "/handler/h1",
                           PREFIX "/msg/out/gw1",
                           PREFIX "/ack/gw1",
                           "elsewhere/topic",
                           PREFIX "/status/processor/x",
                           NULL};
    check_publish("gateway", gw_ok, gw_no);

    const char *h_ok[] = {PREFIX "/msg/out/gw2", "home/lights/set", PREFIX "/ctl/api/action", NULL};
    const char *h_no[] = {PREFIX "/msg/in/gw2", PREFIX "/handler/h2", PREFIX "/ack/gw2", NULL};
    check_publish("handler", h_ok, h_no);

    const char *p_ok[] = {PREFIX "/event/field/gw1.2.3.V", PREFIX "/event/node", PREFIX "/ack/gw3",
                          NULL};
    const char *p_no[] = {PREFIX "/msg/in/gw3", PREFIX "/event/task/t1", PREFIX "/handler/h3",
                          NULL};
    check_publish("processor", p_ok, p_no);
    sb_bus_destroy(obs, 1000);
}

static int n_gw_events;

static void on_gw(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    (void)m;
    pthread_mutex_lock(&mu);
    n_gw_events++;
    pthread_mutex_unlock(&mu);
}

/* A gateway subscribed to event/# gets its own kind only: the broker filters reads too. */
static void test_read_rules(void **state)
{
    (void)state;
    char pw[64], pw2[64];
    sb_config_bus gc = cfg_for("gateway", pw, sizeof(pw));
    sb_bus *gw = sbt_bus(&gc, "gateway", "reader", true);
    assert_int_equal(sb_bus_subscribe(gw, PREFIX "/event/#", 1, on_gw, NULL, NULL), SB_OK);
    sb_config_bus ac = cfg_for("api", pw2, sizeof(pw2));
    sb_bus *api = sbt_bus(&ac, "api", "writer", true);
    sb_time_sleep_ms(300); /* the subscription is made asynchronously */
    assert_true(sb_busacl_allows(PREFIX, "gateway", PREFIX "/event/gateway/g", false));
    assert_false(sb_busacl_allows(PREFIX, "gateway", PREFIX "/event/task/t", false));
    /* processor instances read each other's status (membership, docs/scaling.md) */
    assert_true(sb_busacl_allows(PREFIX, "processor", PREFIX "/status/processor/p2", false));
    assert_false(sb_busacl_allows(PREFIX, "processor", PREFIX "/status/gateway/g", false));
    sb_bus_publish(api, PREFIX "/event/task/t", "x", 1, 1, false);
    sb_bus_publish(api, PREFIX "/event/gateway/g", "x", 1, 1, false);
    int64_t end = sb_time_mono_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&mu);
        int n = n_gw_events;
        pthread_mutex_unlock(&mu);
        if (n >= 1 || sb_time_mono_ms() > end)
            break;
        sb_time_sleep_ms(10);
    }
    sb_time_sleep_ms(200);
    pthread_mutex_lock(&mu);
    assert_int_equal(n_gw_events, 1); /* event/gateway/g only */
    pthread_mutex_unlock(&mu);
    sb_bus_destroy(gw, 1000);
    sb_bus_destroy(api, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_written),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_publish_rules),
        cmocka_unit_test(test_read_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
