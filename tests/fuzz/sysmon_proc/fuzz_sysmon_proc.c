/*
 * fuzz_sysmon_proc.c - the /proc and sysfs parsers of the host monitoring on arbitrary text: the
 * first byte picks the parser (stat, meminfo, loadavg, uptime, net/dev, mounts, millidegrees),
 * the rest is the file. Whatever parses must be within bounds; a failure must say why.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/system_monitoring/sysmon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sysmon_proc: check failed: %s (line %d)\n", #cond, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void stat_text(const char *t)
{
    sb_sysmon_cpu a[4];
    size_t n = 99;
    sb_errmsg em = {{0}};
    if (sb_sysmon_parse_stat(t, a, 4, &n, &em) != SB_OK) {
        CHECK(em.text[0]);
        return;
    }
    CHECK(n >= 1 && n <= 4 && a[0].core == -1);
    for (size_t i = 0; i < n; i++) {
        CHECK(a[i].busy <= a[i].total);
        double p = sb_sysmon_cpu_percent(&a[0], &a[i]);
        CHECK(p == -1 || (p >= 0 && p <= 100));
    }
}

static void other(int which, const char *t)
{
    sb_errmsg em = {{0}};
    sb_err rc = SB_OK;
    if (which == 1) {
        sb_sysmon_mem m;
        rc = sb_sysmon_parse_meminfo(t, &m, &em);
    } else if (which == 2) {
        sb_sysmon_load l;
        rc = sb_sysmon_parse_loadavg(t, &l, &em);
        CHECK(rc != SB_OK || (isfinite(l.avg[0]) && l.running >= 0 && l.total >= 0));
    } else if (which == 3) {
        double up;
        rc = sb_sysmon_parse_uptime(t, &up, &em);
        CHECK(rc != SB_OK || (isfinite(up) && up >= 0));
    } else if (which == 4) {
        sb_sysmon_netif f[3];
        size_t n = 99;
        rc = sb_sysmon_parse_netdev(t, f, 3, &n, &em);
        CHECK(rc != SB_OK || n <= 3);
        for (size_t i = 0; rc == SB_OK && i < n; i++)
            CHECK(f[i].name[0] && strlen(f[i].name) < sizeof(f[i].name));
    } else if (which == 5) {
        sb_sysmon_mount m[3];
        size_t n = 99;
        for (int real = 0; real < 2; real++) {
            rc = sb_sysmon_parse_mounts(t, real, m, 3, &n, &em);
            CHECK(rc != SB_OK || n <= 3);
            for (size_t i = 0; rc == SB_OK && i < n; i++) {
                CHECK(m[i].path[0] && m[i].fstype[0]);
                char src[SB_MSG_ID_MAX + 1];
                sb_sysmon_disk_source(m[i].path, src, sizeof(src));
                CHECK(strncmp(src, "disk", 4) == 0 && !strpbrk(src, "./: "));
            }
        }
    } else {
        double c;
        rc = sb_sysmon_parse_millideg(t, &c, &em);
        CHECK(rc != SB_OK || (c >= -273.15 && c <= 1000));
    }
    CHECK(rc == SB_OK || em.text[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *t = malloc(size);
    if (!t)
        return 0;
    memcpy(t, data + 1, size - 1);
    t[size - 1] = '\0';
    int which = data[0] % 7;
    if (which == 0)
        stat_text(t);
    else
        other(which, t);
    free(t);
    return 0;
}
