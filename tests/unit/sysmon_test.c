/*
 * sysmon_test.c - the host monitoring (gateways/system_monitoring/sysmon.h): the /proc parsers on
 * fixture files (tests/unit/fixtures/sysmon, taken from real machines and trimmed), a whole
 * sample read from fixture /proc and /sys roots, and the messages two samples give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateways/system_monitoring/sysmon.h"
#include "msg_check.h"

#ifndef SB_FIXTURES
#error "SB_FIXTURES: the fixture directory"
#endif

static char *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SB_FIXTURES, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("fixture %s missing", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *copy = strdup(buf);
    assert_non_null(copy);
    return copy;
}

static void test_stat(void **state)
{
    (void)state;
    sb_sysmon_cpu a[8], b[8];
    size_t na, nb;
    sb_errmsg em = {{0}};
    char *t = fixture("proc/stat");
    assert_int_equal(sb_sysmon_parse_stat(t, a, 8, &na, &em), SB_OK);
    free(t);
    assert_int_equal(na, 3);
    assert_int_equal(a[0].core, -1);
    assert_int_equal(a[0].total, 94000);
    assert_int_equal(a[0].busy, 13500);
    assert_int_equal(a[2].core, 1);
    t = fixture("stat_later");
    assert_int_equal(sb_sysmon_parse_stat(t, b, 8, &nb, &em), SB_OK);
    free(t);
    assert_float_equal(sb_sysmon_cpu_percent(&a[0], &b[0]), 900.0 / 1900 * 100, 1e-9);
    assert_float_equal(sb_sysmon_cpu_percent(&a[1], &b[1]), 650.0 / 850 * 100, 1e-9);
    assert_float_equal(sb_sysmon_cpu_percent(&b[0], &b[0]), -1, 0); /* no time passed */
    assert_float_equal(sb_sysmon_cpu_percent(&b[0], &a[0]), -1, 0); /* counters went back */
    /* only as many cores as fit */
    assert_int_equal(sb_sysmon_parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n", a, 1, &na, &em), SB_OK);
    assert_int_equal(na, 1);
    const char *bad[] = {"",
                         "intr 1 2\n",
                         "cpu 1 2\n",
                         "cpu0 1 2 3 4\ncpu 1 2 3 4\n",
                         "cpux 1 2 3 4\n",
                         "cpu 1 2 3 4\ncpu 1 2 3 4\n",
                         "cpu 99999999999999999999999 2 3 4\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em.text[0] = '\0';
        assert_int_equal(sb_sysmon_parse_stat(bad[i], a, 8, &na, &em), SB_ERR_PARSE);
        assert_non_null(strstr(em.text, "/proc/stat"));
    }
}

static void test_meminfo(void **state)
{
    (void)state;
    sb_sysmon_mem m;
    sb_errmsg em = {{0}};
    char *t = fixture("proc/meminfo");
    assert_int_equal(sb_sysmon_parse_meminfo(t, &m, &em), SB_OK);
    free(t);
    assert_int_equal(m.total, 8000000ull * 1024);
    assert_int_equal(m.available, 5000000ull * 1024);
    assert_int_equal(m.cached, 2500000ull * 1024); /* not SwapCached */
    assert_int_equal(m.swap_free, 1500000ull * 1024);
    t = fixture("meminfo_old");
    assert_int_equal(sb_sysmon_parse_meminfo(t, &m, &em), SB_OK);
    free(t);
    assert_int_equal(m.available, 300000ull * 1024); /* free + buffers + cached */
    assert_int_equal(sb_sysmon_parse_meminfo("MemTotal: 1 kB\n", &m, &em), SB_ERR_PARSE);
    assert_int_equal(sb_sysmon_parse_meminfo("MemTotal: x kB\nMemFree: 1 kB\n", &m, &em),
                     SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "MemTotal"));
    assert_int_equal(sb_sysmon_parse_meminfo("MemTotal: 5 kB junk\nMemFree: 1 kB\n", &m, &em),
                     SB_ERR_PARSE);
}

static void test_load_uptime(void **state)
{
    (void)state;
    sb_sysmon_load l;
    double up;
    sb_errmsg em = {{0}};
    char *t = fixture("proc/loadavg");
    assert_int_equal(sb_sysmon_parse_loadavg(t, &l, &em), SB_OK);
    free(t);
    assert_float_equal(l.avg[1], 1.58, 1e-9);
    assert_int_equal(l.running, 3);
    assert_int_equal(l.total, 412);
    t = fixture("proc/uptime");
    assert_int_equal(sb_sysmon_parse_uptime(t, &up, &em), SB_OK);
    free(t);
    assert_float_equal(up, 98765.43, 1e-6);
    assert_int_equal(sb_sysmon_parse_loadavg("0.1 0.2\n", &l, &em), SB_ERR_PARSE);
    assert_int_equal(sb_sysmon_parse_loadavg("0.1 0.2 0.3 4\n", &l, &em), SB_ERR_PARSE);
    assert_int_equal(sb_sysmon_parse_uptime("nan 1\n", &up, &em), SB_ERR_PARSE);
}

static void test_netdev(void **state)
{
    (void)state;
    sb_sysmon_netif f[8];
    size_t n;
    sb_errmsg em = {{0}};
    char *t = fixture("proc/net/dev");
    assert_int_equal(sb_sysmon_parse_netdev(t, f, 8, &n, &em), SB_OK);
    free(t);
    assert_int_equal(n, 4);
    assert_string_equal(f[1].name, "eth0");
    assert_int_equal(f[1].rx_bytes, 247099839);
    assert_int_equal(f[1].rx_errors, 2);
    assert_int_equal(f[1].tx_bytes, 429157);
    assert_int_equal(f[1].tx_packets, 4826);
    assert_string_equal(f[2].name, "eth0.100");
    assert_int_equal(sb_sysmon_parse_netdev("h\nh\neth0 1 2 3\n", f, 8, &n, &em), SB_ERR_PARSE);
    assert_int_equal(sb_sysmon_parse_netdev("h\nh\neth0: 1 2 3\n", f, 8, &n, &em), SB_ERR_PARSE);
    assert_non_null(strstr(em.text, "line 3"));
}

static void test_mounts(void **state)
{
    (void)state;
    sb_sysmon_mount m[16];
    size_t n;
    sb_errmsg em = {{0}};
    char *t = fixture("proc/mounts");
    assert_int_equal(sb_sysmon_parse_mounts(t, true, m, 16, &n, &em), SB_OK);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].path, "/");
    assert_string_equal(m[1].path, "/media/My Disk");
    assert_string_equal(m[1].fstype, "vfat");
    assert_string_equal(m[2].device, "tank/data");
    assert_int_equal(sb_sysmon_parse_mounts(t, false, m, 16, &n, &em), SB_OK);
    assert_int_equal(n, 12);
    free(t);
    assert_int_equal(sb_sysmon_parse_mounts("/dev/sda1 /\n", true, m, 16, &n, &em), SB_ERR_PARSE);
    char src[64];
    sb_sysmon_disk_source("/", src, sizeof(src));
    assert_string_equal(src, "disk_root");
    sb_sysmon_disk_source("/media/My Disk", src, sizeof(src));
    assert_string_equal(src, "disk_media_My_Disk");
    sb_sysmon_disk_source("/var/lib.d/", src, sizeof(src));
    assert_string_equal(src, "disk_var_lib_d");
}

static void test_millideg(void **state)
{
    (void)state;
    double c;
    assert_int_equal(sb_sysmon_parse_millideg("45000\n", &c, NULL), SB_OK);
    assert_float_equal(c, 45.0, 1e-9);
    assert_int_equal(sb_sysmon_parse_millideg("-5500", &c, NULL), SB_OK);
    assert_float_equal(c, -5.5, 1e-9);
    assert_int_equal(sb_sysmon_parse_millideg("", &c, NULL), SB_ERR_PARSE);
    assert_int_equal(sb_sysmon_parse_millideg("45 C\n", &c, NULL), SB_ERR_PARSE);
}

static const sb_sysmon_cfg fixture_cfg = {
    .proc_root = SB_FIXTURES "/proc", .sys_root = SB_FIXTURES "/sys", .temperatures = true};

static const sb_payload *field(sb_msg **msgs, size_t n, const char *src, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(msgs[i]->source_id, src) != 0 || msgs[i]->type != SB_MSG_SET)
            continue;
        for (size_t k = 0; k < msgs[i]->n_payloads; k++)
            if (strcmp(msgs[i]->payloads[k].key, key) == 0)
                return &msgs[i]->payloads[k];
    }
    return NULL;
}

static void expect(sb_msg **msgs, size_t n, const char *src, const char *key, const char *value,
                   sb_metric_type mt, const char *unit)
{
    char what[200];
    snprintf(what, sizeof(what), "%s.%s", src, key);
    sbt_payload_check(field(msgs, n, src, key), what, value, mt, unit);
}

static void free_msgs(sb_msg **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_msg_free(msgs[i]);
    free(msgs);
}

/* A sample from the fixture roots, then a later one: every field with its type and unit. */
static void test_sample_messages(void **state)
{
    (void)state;
    sb_sysmon_sample *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    char why[1024];
    sb_sysmon_read(&fixture_cfg, a, why, sizeof(why));
    assert_non_null(strstr(why, "statvfs /media/My Disk failed")); /* not mounted here */
    assert_int_equal(a->n_cpu, 3);
    assert_int_equal(a->n_net, 3); /* lo left out */
    assert_int_equal(a->n_disks, 1);
    assert_string_equal(a->disks[0].path, "/");
    assert_true(a->disks[0].total > 0);
    assert_int_equal(a->n_temps, 5);
    assert_string_equal(a->temps[0].key, "x86_pkg_temp");
    assert_string_equal(a->temps[2].key, "coretemp_package_id_0");
    assert_string_equal(a->temps[3].key, "coretemp_core_0");
    assert_string_equal(a->temps[4].key, "nvme_temp1");

    *b = *a;
    char *t = fixture("stat_later");
    assert_int_equal(sb_sysmon_parse_stat(t, b->cpu, SB_SYSMON_CPUS_MAX, &b->n_cpu, NULL), SB_OK);
    free(t);
    t = fixture("net_dev_later");
    assert_int_equal(sb_sysmon_parse_netdev(t, b->net, SB_SYSMON_IFS_MAX, &b->n_net, NULL), SB_OK);
    free(t);
    memmove(b->net, b->net + 1, sizeof(b->net[0])); /* eth0 only */
    b->n_net = 1;
    a->mono_ms = 1000, b->mono_ms = 3000;

    sb_msg **msgs;
    size_t n;
    assert_int_equal(sb_sysmon_messages("gw1", "host1", NULL, a, &msgs, &n), SB_OK);
    assert_null(field(msgs, n, "cpu", "usage")); /* needs two samples */
    expect(msgs, n, "cpu", "cores", "2", SB_METRIC_GAUGE, NULL);
    assert_null(field(msgs, n, "net_eth0", "rx_rate"));
    free_msgs(msgs, n);

    assert_int_equal(sb_sysmon_messages("gw1", "host1", a, b, &msgs, &n), SB_OK);
    sb_errmsg em = {{0}};
    for (size_t i = 0; i < n; i++)
        if (sb_msg_validate(msgs[i], &em) != SB_OK)
            fail_msg("message %zu: %s", i, em.text);
    expect(msgs, n, "cpu", "usage", "47.37", SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "cpu", "core0", "76.47", SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "cpu", "core1", "23.81", SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "memory", "total", "8192000000", SB_METRIC_GAUGE, "B");
    expect(msgs, n, "memory", "used", "3072000000", SB_METRIC_GAUGE, "B");
    expect(msgs, n, "memory", "used_percent", "37.50", SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "swap", "used", "512000000", SB_METRIC_GAUGE, "B");
    expect(msgs, n, "swap", "used_percent", "25.00", SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "load", "load5", "1.58", SB_METRIC_GAUGE_FLOAT, NULL);
    expect(msgs, n, "load", "processes", "412", SB_METRIC_GAUGE, NULL);
    expect(msgs, n, "", "uptime", "98765", SB_METRIC_COUNTER, "s");
    expect(msgs, n, "disk_root", "total", NULL, SB_METRIC_GAUGE, "B");
    expect(msgs, n, "disk_root", "used_percent", NULL, SB_METRIC_GAUGE_FLOAT, "%");
    expect(msgs, n, "net_eth0", "rx_bytes", "247109839", SB_METRIC_COUNTER, "B");
    expect(msgs, n, "net_eth0", "rx_rate", "5000.00", SB_METRIC_GAUGE_FLOAT, "B/s");
    expect(msgs, n, "net_eth0", "tx_rate", "2500.00", SB_METRIC_GAUGE_FLOAT, "B/s");
    expect(msgs, n, "temperature", "x86_pkg_temp", "45.00", SB_METRIC_GAUGE_FLOAT, "°C");
    expect(msgs, n, "temperature", "nvme_temp1", "38.85", SB_METRIC_GAUGE_FLOAT, "°C");
    free_msgs(msgs, n);

    assert_int_equal(sb_sysmon_presentations("gw1", "host1", "host1.lan", "6.1.0", a, &msgs, &n),
                     SB_OK);
    assert_string_equal(msgs[0]->payloads[0].key, "name");
    assert_string_equal(msgs[0]->payloads[0].value, "host1.lan");
    bool disk = false;
    for (size_t i = 0; i < n; i++)
        disk = disk || (strcmp(msgs[i]->source_id, "disk_root") == 0 &&
                        strcmp(msgs[i]->payloads[0].value, "/") == 0);
    assert_true(disk);
    free_msgs(msgs, n);
    free(a);
    free(b);
}

/* Configured disks and interfaces; a configured path that is not mounted is said. */
static void test_selection(void **state)
{
    (void)state;
    const char *disks[] = {"/", "/nowhere", NULL}, *ifs[] = {"lo", NULL};
    sb_sysmon_cfg c = fixture_cfg;
    c.disks = disks;
    c.interfaces = ifs;
    c.temperatures = false;
    sb_sysmon_sample *s = calloc(1, sizeof(*s));
    char why[1024];
    sb_sysmon_read(&c, s, why, sizeof(why));
    assert_int_equal(s->n_disks, 1);
    assert_int_equal(s->n_net, 1);
    assert_string_equal(s->net[0].name, "lo");
    assert_int_equal(s->n_temps, 0);
    assert_non_null(strstr(why, "disk /nowhere: not a mount point"));
    /* a root without the files: every part absent, each said */
    c.proc_root = SB_FIXTURES "/missing";
    sb_sysmon_read(&c, s, why, sizeof(why));
    assert_int_equal(s->n_cpu, 0);
    assert_false(s->has_mem);
    assert_non_null(strstr(why, "/proc/stat: cannot read"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_load_uptime),
        cmocka_unit_test(test_netdev),
        cmocka_unit_test(test_mounts),
        cmocka_unit_test(test_millideg),
        cmocka_unit_test(test_sample_messages),
        cmocka_unit_test(test_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
