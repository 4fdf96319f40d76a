/*
 * config_test.c - switchboard.yaml: defaults, every key type from YAML, the error messages
 * (key and line), environment overrides, the `config default` round trip, redaction, the
 * Markdown reference and its copy in docs/configuration.md, and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"

static sb_config *load_ok(const char *yaml)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_config_load_string(yaml, strlen(yaml), "t.yaml", &cfg, &em);
    if (err)
        fail_msg("loading failed: %s\n--- input:\n%s", em.text, yaml);
    return cfg;
}

static void expect_error_n(const char *yaml, size_t len, const char *message)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {{0}};
    sb_err err = sb_config_load_string(yaml, len, "t.yaml", &cfg, &em);
    if (err == SB_OK)
        fail_msg("expected an error for:\n%s", yaml);
    assert_null(cfg);
    if (!strstr(em.text, message))
        fail_msg("got      \"%s\"\nexpected \"%s\"\n--- input:\n%s", em.text, message, yaml);
}

static void expect_error(const char *yaml, const char *message)
{
    expect_error_n(yaml, strlen(yaml), message);
}

static char *print_to_string(void (*fn)(const sb_config *, FILE *), const sb_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fn(cfg, f);
    fclose(f);
    return text;
}

static void print_default(const sb_config *cfg, FILE *f)
{
    (void)cfg;
    sb_config_print_default(f);
}

static void print_markdown(const sb_config *cfg, FILE *f)
{
    (void)cfg;
    sb_options_print_markdown(sb_config_table, f, NULL);
}

static void test_defaults(void **state)
{
    sb_config *c = NULL;
    assert_int_equal(sb_config_defaults(&c, NULL), SB_OK);
    assert_string_equal(c->source, "defaults");
    assert_string_equal(c->data_dir, "data");
    assert_string_equal(c->secret, "");
    assert_string_equal(c->instance, "");
    assert_int_equal(c->log.level, SB_LOG_INFO);
    assert_int_equal(c->log.format, SB_LOG_FORMAT_TEXT);
    assert_true(c->bus.managed);
    assert_string_equal(c->bus.mosquitto, "mosquitto");
    assert_int_equal(c->bus.managed_port, 0);
    assert_string_equal(c->bus.url, "");
    assert_string_equal(c->bus.topic_prefix, "switchboard");
    assert_string_equal(c->bus.password, "");
    assert_int_equal(c->bus.mqtt_version, SB_MQTT_AUTO);
    assert_int_equal(c->bus.keepalive_ms, 30000);
    assert_int_equal(c->bus.connect_timeout_ms, 5000);
    assert_int_equal(c->bus.reconnect_min_ms, 250);
    assert_int_equal(c->bus.reconnect_max_ms, 30000);
    assert_int_equal(c->bus.session_expiry_ms, 7 * 86400000LL);
    assert_int_equal(c->bus.max_pending, 100000);
    assert_int_equal(c->bus.batch_max, 500);
    assert_int_equal(c->bus.batch_delay_ms, 5);
    assert_string_equal(c->bus.tls.ca_file, "");
    assert_true(c->bus.tls.verify);
    assert_int_equal(c->storage.type, SB_STORE_SQLITE);
    assert_string_equal(c->storage.memory.dir, "");
    assert_int_equal(c->storage.memory.sync, SB_SYNC_ALWAYS);
    assert_int_equal(c->storage.memory.sync_interval_ms, 100);
    assert_int_equal(c->storage.memory.snapshot_every, 10000);
    assert_int_equal(c->storage.sqlite.busy_timeout_ms, 5000);
    assert_string_equal(c->storage.mongodb.uri, "mongodb://127.0.0.1:27017");
    assert_string_equal(c->storage.mongodb.database, "switchboard");
    assert_int_equal(c->storage.mongodb.pool_max, 16);
    assert_int_equal(c->metrics.type, SB_METRICS_INFLUXDB);
    assert_true(c->metrics.managed);
    assert_string_equal(c->metrics.influxd, "influxd");
    assert_string_equal(c->metrics.database, "switchboard");
    assert_int_equal(c->run.services.n, 7);
    assert_string_equal(c->run.services.items[0], "gateway");
    assert_true(sb_strlist_contains(&c->run.services, "api"));
    sb_config_free(c);
    sb_config_free(NULL);
}

static void expect_choice(const char *path, int value, const char *word)
{
    const sb_option *row = sb_options_find(sb_config_table, path);
    assert_non_null(row);
    assert_int_equal(row->type, SB_OPT_ENUM);
    assert_string_equal(row->choices[value], word);
}

/* The words of each enum row must be in the order of the C enum its member holds. */
static void test_enum_orders(void **state)
{
    expect_choice("log.level", SB_LOG_ERROR, "error");
    expect_choice("log.level", SB_LOG_WARN, "warn");
    expect_choice("log.level", SB_LOG_INFO, "info");
    expect_choice("log.level", SB_LOG_DEBUG, "debug");
    expect_choice("log.level", SB_LOG_TRACE, "trace");
    expect_choice("log.format", SB_LOG_FORMAT_TEXT, "text");
    expect_choice("log.format", SB_LOG_FORMAT_PLAIN, "plain");
    expect_choice("bus.mqtt_version", SB_MQTT_AUTO, "auto");
    expect_choice("bus.mqtt_version", SB_MQTT_V5, "5");
    expect_choice("bus.mqtt_version", SB_MQTT_V311, "3.1.1");
    expect_choice("storage.type", SB_STORE_SQLITE, "sqlite");
    expect_choice("storage.type", SB_STORE_MEMORY, "memory");
    expect_choice("storage.type", SB_STORE_MONGODB, "mongodb");
    expect_choice("storage.memory.sync", SB_SYNC_ALWAYS, "always");
    expect_choice("storage.memory.sync", SB_SYNC_BATCH, "batch");
    expect_choice("storage.sqlite.sync", SB_SYNC_BATCH, "batch");
    expect_choice("metrics.type", SB_METRICS_INFLUXDB, "influxdb");
    expect_choice("metrics.type", SB_METRICS_NONE, "none");
}

static void test_yaml_every_type(void **state)
{
    sb_config *c = load_ok("# a comment\n"
                           "data_dir: /var/lib/switchboard\n"
                           "secret: 's3cret: yes'\n"
                           "instance: 42\n"
                           "log: {level: debug, format: plain}\n"
                           "bus:\n"
                           "  managed: off\n"
                           "  managed_port: 1883\n"
                           "  url: tcp://broker:1883\n"
                           "  mqtt_version: 3.1.1\n"
                           "  keepalive: 1m30s\n"
                           "  batch_delay: 0\n"
                           "  tls:\n"
                           "    verify: no\n"
                           "    ca_file: \"/etc/ssl/ca.pem\"\n"
                           "storage:\n"
                           "  type: mongodb\n"
                           "  memory:\n"
                           "  mongodb:\n"
                           "    pool_max: 4\n"
                           "metrics:\n"
                           "  type: none\n"
                           "run:\n"
                           "  services:\n"
                           "    - gateway\n"
                           "    - api\n");
    assert_string_equal(c->source, "t.yaml");
    assert_string_equal(c->data_dir, "/var/lib/switchboard");
    assert_string_equal(c->secret, "s3cret: yes");
    assert_string_equal(c->instance, "42");
    assert_int_equal(c->log.level, SB_LOG_DEBUG);
    assert_int_equal(c->log.format, SB_LOG_FORMAT_PLAIN);
    assert_false(c->bus.managed);
    assert_int_equal(c->bus.managed_port, 1883);
    assert_string_equal(c->bus.url, "tcp://broker:1883");
    assert_int_equal(c->bus.mqtt_version, SB_MQTT_V311);
    assert_int_equal(c->bus.keepalive_ms, 90000);
    assert_int_equal(c->bus.batch_delay_ms, 0);
    assert_false(c->bus.tls.verify);
    assert_string_equal(c->bus.tls.ca_file, "/etc/ssl/ca.pem");
    assert_int_equal(c->storage.type, SB_STORE_MONGODB);
    assert_int_equal(c->storage.memory.snapshot_every, 10000);
    assert_int_equal(c->storage.mongodb.pool_max, 4);
    assert_string_equal(c->storage.mongodb.database, "switchboard");
    assert_int_equal(c->metrics.type, SB_METRICS_NONE);
    assert_int_equal(c->run.services.n, 2);
    assert_string_equal(c->run.services.items[1], "api");
    sb_config_free(c);

    c = load_ok("run: {services: 'gateway, api'}\nbus: {mqtt_version: 5}\n");
    assert_int_equal(c->run.services.n, 2);
    assert_string_equal(c->run.services.items[1], "api");
    assert_int_equal(c->bus.mqtt_version, SB_MQTT_V5);
    sb_config_free(c);
    c = load_ok("run:\n  services: []\n");
    assert_int_equal(c->run.services.n, 0);
    sb_config_free(c);
}

static void test_empty_and_null(void **state)
{
    static const char *const empties[] = {"",      "\n\n",       "# only a comment\n  # another\n",
                                          "---\n", "---\n...\n", "~\n"};
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        sb_config *c = load_ok(empties[i]);
        assert_string_equal(c->bus.topic_prefix, "switchboard");
        assert_int_equal(c->bus.keepalive_ms, 30000);
        sb_config_free(c);
    }
    sb_config *c = load_ok("secret:\nbus:\n  url: ~\n  username: null\n  tls:\nrun:\n"
                           "  services:\n");
    assert_string_equal(c->secret, "");
    assert_string_equal(c->bus.url, "");
    assert_string_equal(c->bus.username, "");
    assert_true(c->bus.tls.verify);
    assert_int_equal(c->run.services.n, 0);
    sb_config_free(c);
    c = load_ok("instance: \"~\"\n");
    assert_string_equal(c->instance, "~");
    sb_config_free(c);
}

static void test_yaml_errors(void **state)
{
    expect_error("bus:\n  port: 1883\n", "t.yaml:2: unknown key 'bus.port'");
    expect_error("bus:\n  prot: 1\n", "t.yaml:2: unknown key 'bus.prot'");
    expect_error("bus:\n  keeplive: 1s\n",
                 "t.yaml:2: unknown key 'bus.keeplive' (did you mean 'keepalive'?)");
    expect_error("\n\nbogus: 1\n", "t.yaml:3: unknown key 'bogus'");
    expect_error("bus:\n  managed_port: abc\n",
                 "t.yaml:2: key 'bus.managed_port': expected an integer, got 'abc'");
    expect_error("bus:\n  managed_port: 70000\n",
                 "t.yaml:2: key 'bus.managed_port': 70000 is out of range (0..65535)");
    expect_error("bus:\n  managed_port: 99999999999999999999999999\n",
                 "key 'bus.managed_port': 99999999999999999999999999 is out of range");
    expect_error("bus:\n  managed_port: -1\n", "-1 is out of range (0..65535)");
    expect_error("bus:\n  keepalive: abc\n",
                 "t.yaml:2: key 'bus.keepalive': expected a duration like 30s, got 'abc'");
    expect_error("bus:\n  keepalive: 100ms\n",
                 "t.yaml:2: key 'bus.keepalive': 100ms is out of range (1s..18h)");
    expect_error("bus:\n  managed: maybe\n",
                 "t.yaml:2: key 'bus.managed': expected true or false, got 'maybe'");
    expect_error("log:\n  level: loud\n", "t.yaml:2: key 'log.level': expected one of "
                                          "error|warn|info|debug|trace, got 'loud'");
    expect_error("bus:\n  url: [a]\n", "t.yaml:2: key 'bus.url': expected a string, got a list");
    expect_error("bus:\n  url:\n    x: 1\n",
                 "t.yaml:3: key 'bus.url': expected a string, got a mapping");
    expect_error("bus: 5\n", "t.yaml:1: key 'bus': expected a mapping, got a scalar");
    expect_error("bus:\n  managed:\n", "key 'bus.managed': expected true or false, got nothing");
    expect_error("run:\n  services:\n    - [x]\n",
                 "t.yaml:3: key 'run.services': expected a list of strings, got a list");
    expect_error("run:\n  services: {a: b}\n", "key 'run.services': expected a list of strings");
    expect_error("bus:\n  url: a\n  url: b\n",
                 "t.yaml:3: duplicate key 'bus.url' (first at line 2)");
    expect_error("bus: {}\nbus: {}\n", "t.yaml:2: duplicate key 'bus'");
    expect_error("- a\n- b\n", "t.yaml:1: the top level must be a mapping of keys, got a list");
    expect_error("just text\n", "the top level must be a mapping of keys, got a scalar");
    expect_error("? [a]\n: b\n", "t.yaml:1: a key must be a plain word, not a list");
    expect_error("bus: {}\n---\nlog: {}\n", "t.yaml:3: only one YAML document is allowed");
    expect_error("bus:\n  tls:\n    verify: true\n  reconnect_min: 1m\n",
                 "t.yaml: key 'bus.reconnect_min' (1m) must not exceed 'bus.reconnect_max' (30s)");
    expect_error("bus:\n  topic_prefix: a/#\n", "key 'bus.topic_prefix': must not hold");
    expect_error("bus:\n  topic_prefix: ''\n", "key 'bus.topic_prefix' is required");
    expect_error("data_dir:\n", "key 'data_dir' is required");
}

static void test_yaml_syntax_errors(void **state)
{
    expect_error("bus:\n  url: a\n bad\n", "t.yaml:3:");
    expect_error("bus:\n  url: a\n bad\n", "YAML syntax error:");
    expect_error("log: {level: info\n", "t.yaml:2:1: YAML syntax error:");
    expect_error("a: 'unterminated\n", "YAML syntax error: found unexpected end of stream");
    expect_error("a: *nope\n", "t.yaml:1:4: YAML syntax error: found undefined alias");
    expect_error("\tbus: {}\n", "t.yaml:1:1: YAML syntax error: a tab; YAML indents with spaces");
    expect_error_n("bus: {}\n\0x: 1\n", 13,
                   "YAML syntax error: control characters are not "
                   "allowed");
    expect_error("secret: \"a\\0b\"\n", "t.yaml:1: key 'secret': a value must not contain NUL");
}

static void test_aliases_and_hostile(void **state)
{
    /* an alias is the anchored value again */
    sb_config *c = load_ok("bus:\n  password: &pw hunter2\nmetrics:\n  password: *pw\n");
    assert_string_equal(c->metrics.password, "hunter2");
    sb_config_free(c);
    c = load_ok("bus: &b\n  username: u\nmetrics:\n  database: d\n");
    sb_config_free(c);
    expect_error("bus: &b\n  tls: *b\n", "unknown key 'bus.tls.tls'");
    expect_error("run:\n  services: &l [a, *l]\n",
                 "key 'run.services': expected a list of strings");
    expect_error("base: &b {url: x}\n", "unknown key 'base'");
    expect_error("bus:\n  <<: {url: x}\n", "t.yaml:2: merge keys ('<<') are not supported");
    expect_error("storage:\n  memory:\n    dir:\n      a:\n        b: c\n",
                 "key 'storage.memory.dir': expected a string, got a mapping");

    /* deep nesting is refused before libyaml's scanner (O(depth) per token) gets slow */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 16);
    strcpy(deep, "bus: ");
    memset(deep + 5, '[', depth);
    memset(deep + 5 + depth, ']', depth);
    strcpy(deep + 5 + 2 * depth, "\n");
    expect_error(deep, "t.yaml:1: nested deeper than 32 levels");
    free(deep);
    expect_error("a:\n - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - x\n",
                 "t.yaml:2: nested deeper than 32 levels");

    char key[1000] = ""; /* YAML allows implicit keys up to 1024 characters */
    for (int i = 0; i < 900; i++)
        key[i] = 'k';
    strcat(key, ": 1\n");
    expect_error(key, "t.yaml:1: unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
    expect_error("bus:\n  batch_max: 1e400\n", "key 'bus.batch_max': expected an integer");
    expect_error("bus:\n  keepalive: 99999999999999999999999999999d\n", "key 'bus.keepalive'");
    expect_error("bus:\n  keepalive: 9000000d9000000d9000000d9000000d9000000d9000000d9000000d\n",
                 "key 'bus.keepalive'");
}

static void unset_env(void)
{
    const char *vars[] = {"SWITCHBOARD_BUS_URL",       "SWITCHBOARD_BUS_TLS_VERIFY",
                          "SWITCHBOARD_RUN_SERVICES",  "SWITCHBOARD_STORAGE_SQLITE_PATH",
                          "SWITCHBOARD_BUS_KEEPALIVE", "SWITCHBOARD_DATA_DIR",
                          "SWITCHBOARD_LOG_LEVEL"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void test_env_override(void **state)
{
    setenv("SWITCHBOARD_BUS_URL", "tcp://env:1883", 1);
    setenv("SWITCHBOARD_BUS_TLS_VERIFY", "false", 1);
    setenv("SWITCHBOARD_RUN_SERVICES", "api, task", 1);
    setenv("SWITCHBOARD_STORAGE_SQLITE_PATH", "/tmp/x.db", 1);
    setenv("SWITCHBOARD_DATA_DIR", "/srv/sb", 1);
    sb_config *c = load_ok("bus:\n  url: tcp://file:1883\n  username: file\n");
    assert_string_equal(c->bus.url, "tcp://env:1883"); /* the environment beats the file */
    assert_string_equal(c->bus.username, "file");
    assert_false(c->bus.tls.verify);
    assert_int_equal(c->run.services.n, 2);
    assert_string_equal(c->run.services.items[0], "api");
    assert_string_equal(c->run.services.items[1], "task");
    assert_string_equal(c->storage.sqlite.path, "/tmp/x.db");
    assert_string_equal(c->data_dir, "/srv/sb");
    sb_config_free(c);

    assert_int_equal(sb_config_load(NULL, &c, NULL), SB_OK); /* defaults + environment */
    assert_string_equal(c->bus.url, "tcp://env:1883");
    sb_config_free(c);
    char *def = print_to_string(print_default, NULL); /* `config default` ignores the env */
    assert_non_null(strstr(def, "\n  url: \"\"\n"));
    assert_null(strstr(def, "tcp://env"));
    free(def);

    setenv("SWITCHBOARD_BUS_KEEPALIVE", "abc", 1);
    expect_error("", "environment variable SWITCHBOARD_BUS_KEEPALIVE: expected a duration like "
                     "30s, got 'abc'");
    unsetenv("SWITCHBOARD_BUS_KEEPALIVE");
    setenv("SWITCHBOARD_LOG_LEVEL", "verbose", 1);
    expect_error("", "environment variable SWITCHBOARD_LOG_LEVEL: expected one of");
    unset_env();
}

/* Field-by-field equality of two structs described by table. */
static void assert_same(const sb_option *table, const void *a, const void *b, const char *pre)
{
    for (const sb_option *row = table; row->key; row++) {
        const char *ma = (const char *)a + row->offset, *mb = (const char *)b + row->offset;
        const sb_strlist *la = (const void *)ma, *lb = (const void *)mb;
        switch (row->type) {
        case SB_OPT_STRING:
            assert_string_equal(*(char *const *)ma, *(char *const *)mb);
            break;
        case SB_OPT_INT:
        case SB_OPT_DURATION:
            assert_int_equal(*(const int64_t *)ma, *(const int64_t *)mb);
            break;
        case SB_OPT_DOUBLE:
            assert_true(*(const double *)ma == *(const double *)mb);
            break;
        case SB_OPT_BOOL:
            assert_int_equal(*(const bool *)ma, *(const bool *)mb);
            break;
        case SB_OPT_ENUM:
            assert_int_equal(*(const int *)ma, *(const int *)mb);
            break;
        case SB_OPT_STRLIST:
            assert_int_equal(la->n, lb->n);
            for (size_t i = 0; i < la->n; i++)
                assert_string_equal(la->items[i], lb->items[i]);
            break;
        case SB_OPT_MAP:
            assert_true(cJSON_Compare(*(cJSON *const *)ma, *(cJSON *const *)mb, true));
            break;
        case SB_OPT_SECTION:
            assert_same(row->section, ma, mb, row->key);
            break;
        }
    }
}

static void test_default_round_trip(void **state)
{
    char *text = print_to_string(print_default, NULL);
    assert_non_null(strstr(text, "SWITCHBOARD_<SECTION>_<KEY>"));
    assert_non_null(strstr(text, "# Ping interval; the broker drops a client silent for 1.5 "
                                 "times this. (1s..18h)\n  keepalive: 30s\n"));
    assert_non_null(strstr(text, "\n  tls:\n    # "));
    sb_config *back = load_ok(text), *def = NULL;
    assert_int_equal(sb_config_defaults(&def, NULL), SB_OK);
    assert_same(sb_config_table, def, back, "");
    sb_config_free(back);

    /* the effective config printed with non-default values loads back to the same values */
    sb_config *c = load_ok("secret: x\nbus: {url: 'tcp://h:1', keepalive: 90s, "
                           "session_expiry: 0}\nrun: {services: [a b, 'c,d']}\n");
    char *eff = print_to_string(sb_config_print, c);
    sb_config *c2 = load_ok(eff);
    free(c2->secret);
    c2->secret = strdup("x");
    assert_same(sb_config_table, c, c2, "");
    sb_config_free(c);
    sb_config_free(c2);
    sb_config_free(def);
    free(eff);
    free(text);
}

static void test_print_redacts_secrets(void **state)
{
    sb_config *c = load_ok("secret: topsecret1\nbus: {password: topsecret2}\n"
                           "metrics: {password: topsecret3}\n");
    char *text = print_to_string(sb_config_print, c);
    assert_null(strstr(text, "topsecret"));
    assert_non_null(strstr(text, "secret: \"***\"\n"));
    assert_non_null(strstr(text, "  password: \"***\"\n"));
    assert_non_null(strstr(text, "t.yaml"));
    free(text);
    sb_config_free(c);
}

static void check_rows(const sb_option *table, const char *prefix, const char *md)
{
    char needle[300];
    for (const sb_option *row = table; row->key; row++) {
        char path[256];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", row->key);
        snprintf(needle, sizeof(needle), "| `%s` |", path);
        if (!strstr(md, needle))
            fail_msg("markdown misses %s", path);
        assert_non_null(row->desc);
        assert_true(strlen(row->desc) > 5);
        if (row->type == SB_OPT_SECTION)
            check_rows(row->section, path, md);
    }
}

static void test_markdown_every_key(void **state)
{
    char *md = print_to_string(print_markdown, NULL);
    check_rows(sb_config_table, "", md);
    assert_non_null(strstr(md, "| `bus.keepalive` | duration (1s..18h) | `30s` |"));
    free(md);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, out);
    fclose(f);
    fclose(out);
    return buf;
}

/* docs/configuration.md carries the generated reference; it must not drift from the table. */
static void test_docs_in_sync(void **state)
{
    static const char begin[] = "<!-- BEGIN GENERATED OPTIONS -->\n";
    static const char end[] = "<!-- END GENERATED OPTIONS -->";
    const char *src = getenv("SB_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/configuration.md", src ? src : ".");
    char *doc = read_all(path);
    if (!doc)
        fail_msg("cannot read %s (set SB_SOURCE_DIR)", path);
    char *b = strstr(doc, begin), *e = b ? strstr(b, end) : NULL;
    if (!b || !e)
        fail_msg("%s: the markers %s and %s are missing", path, "BEGIN", "END GENERATED OPTIONS");
    b += strlen(begin);
    char *md = print_to_string(print_markdown, NULL);
    const char *x = b, *y = md;
    for (int line = 1; x < e || *y; line++) {
        const char *xn = memchr(x, '\n', (size_t)(e - x)), *yn = strchr(y, '\n');
        size_t xl = xn ? (size_t)(xn - x) : (size_t)(e - x), yl = yn ? (size_t)(yn - y) : strlen(y);
        if (x >= e || !*y || xl != yl || memcmp(x, y, xl) != 0)
            fail_msg("docs/configuration.md differs from the option table at line %d of the "
                     "generated block:\n  doc:   %.*s\n  table: %.*s\nregenerate it with "
                     "`switchboard config docs` (see the doc)",
                     line, (int)(x < e ? xl : 0), x, (int)yl, y);
        x = xn ? xn + 1 : e;
        y = yn ? yn + 1 : y + yl;
    }
    free(md);
    free(doc);
}

static void test_load_file(void **state)
{
    const char *tmp = getenv("SB_TEST_TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp");
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/config_test_%d.yaml", dir, (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("log:\n  level: warn\nbus:\n  batch_max: x\n", f);
    fclose(f);
    sb_config *c = NULL;
    sb_errmsg em = {{0}};
    assert_int_equal(sb_config_load(path, &c, &em), SB_ERR_INVALID);
    char want[4400];
    snprintf(want, sizeof(want), "%s:4: key 'bus.batch_max': expected an integer, got 'x'", path);
    assert_string_equal(em.text, want);
    f = fopen(path, "w");
    fputs("log:\n  level: warn\n", f);
    fclose(f);
    assert_int_equal(sb_config_load(path, &c, &em), SB_OK);
    assert_int_equal(c->log.level, SB_LOG_WARN);
    assert_string_equal(c->source, path);
    sb_config_free(c);
    unlink(path);
    assert_int_equal(sb_config_load(path, &c, &em), SB_ERR_NOTFOUND);
    assert_null(c);
    assert_non_null(strstr(em.text, "cannot open config file"));
}

static void test_data_path(void **state)
{
    sb_config *c = load_ok("data_dir: /var/lib/sb/\n");
    char *p = sb_config_data_path(c, "secret");
    assert_string_equal(p, "/var/lib/sb/secret");
    free(p);
    free(c->data_dir);
    c->data_dir = strdup("data");
    p = sb_config_data_path(c, "memory");
    assert_string_equal(p, "data/memory");
    free(p);
    p = sb_config_data_path(c, "/abs/file");
    assert_string_equal(p, "/abs/file");
    free(p);
    sb_config_free(c);
}

int main(void)
{
    unset_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_enum_orders),
        cmocka_unit_test(test_yaml_every_type),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_yaml_syntax_errors),
        cmocka_unit_test(test_aliases_and_hostile),
        cmocka_unit_test(test_env_override),
        cmocka_unit_test(test_default_round_trip),
        cmocka_unit_test(test_print_redacts_secrets),
        cmocka_unit_test(test_markdown_every_key),
        cmocka_unit_test(test_docs_in_sync),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_data_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
