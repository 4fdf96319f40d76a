/*
 * sysmon_proc.c - parsers of /proc and sysfs text (sysmon.h). Each works on one line at a time,
 * copied and NUL-terminated, so a number never runs into the next line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/system_monitoring/sysmon.h"

#define LINE_MAX_ 512

/* Copies the line at *p into buf (truncated to len-1) and moves *p past it; false at the end. */
static bool next_line(const char **p, char *buf, size_t len)
{
    if (!**p)
        return false;
    const char *nl = strchr(*p, '\n');
    size_t n = nl ? (size_t)(nl - *p) : strlen(*p);
    size_t c = n < len - 1 ? n : len - 1;
    memcpy(buf, *p, c);
    buf[c] = '\0';
    *p += n + (nl ? 1 : 0);
    return true;
}

/* An unsigned decimal at *s (spaces first); moves *s past it. */
static bool u64(const char **s, uint64_t *out)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    if (**s < '0' || **s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(*s, &end, 10);
    if (errno)
        return false;
    *s = end;
    *out = v;
    return true;
}

static bool rest_blank(const char *s)
{
    return s[strspn(s, " \t\r")] == '\0';
}

sb_err sb_sysmon_parse_stat(const char *text, sb_sysmon_cpu *out, size_t max, size_t *n,
                            sb_errmsg *em)
{
    *n = 0;
    char line[LINE_MAX_];
    int lineno = 0;
    bool total = false;
    while (next_line(&text, line, sizeof(line))) {
        lineno++;
        if (strncmp(line, "cpu", 3) != 0)
            continue;
        const char *s = line + 3;
        int core = -1;
        if (*s != ' ') {
            uint64_t c;
            if (!u64(&s, &c) || *s != ' ' || c > 100000)
                return sb_fail(em, SB_ERR_PARSE, "/proc/stat line %d: bad cpu name", lineno);
            core = (int)c;
        }
        /* user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
         * already in user and nice, so only the first 8 count */
        uint64_t v[8] = {0}, sum = 0;
        int k = 0;
        for (; k < 8 && u64(&s, &v[k]); k++)
            sum += v[k];
        if (k < 4)
            return sb_fail(em, SB_ERR_PARSE, "/proc/stat line %d: fewer than 4 counters", lineno);
        if (core < 0 ? total : !total)
            return sb_fail(em, SB_ERR_PARSE, "/proc/stat line %d: the 'cpu' line must come first",
                           lineno);
        total = true;
        if (*n == max)
            continue;
        out[*n] = (sb_sysmon_cpu){.core = core, .busy = sum - v[3] - v[4], .total = sum};
        (*n)++;
    }
    if (!total)
        return sb_fail(em, SB_ERR_PARSE, "/proc/stat: no 'cpu' line");
    return SB_OK;
}

double sb_sysmon_cpu_percent(const sb_sysmon_cpu *prev, const sb_sysmon_cpu *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy)
        return -1;
    double d = (double)(cur->busy - prev->busy) / (double)(cur->total - prev->total) * 100.0;
    return d > 100 ? 100 : d;
}

sb_err sb_sysmon_parse_meminfo(const char *text, sb_sysmon_mem *out, sb_errmsg *em)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"MemTotal:", offsetof(sb_sysmon_mem, total)},
        {"MemFree:", offsetof(sb_sysmon_mem, free)},
        {"MemAvailable:", offsetof(sb_sysmon_mem, available)},
        {"Buffers:", offsetof(sb_sysmon_mem, buffers)},
        {"Cached:", offsetof(sb_sysmon_mem, cached)},
        {"SwapTotal:", offsetof(sb_sysmon_mem, swap_total)},
        {"SwapFree:", offsetof(sb_sysmon_mem, swap_free)},
    };
    memset(out, 0, sizeof(*out));
    unsigned seen = 0;
    char line[LINE_MAX_];
    int lineno = 0;
    while (next_line(&text, line, sizeof(line))) {
        lineno++;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            size_t kl = strlen(keys[i].key);
            if (strncmp(line, keys[i].key, kl) != 0)
                continue;
            const char *s = line + kl;
            uint64_t v;
            if (!u64(&s, &v) || v > UINT64_MAX / 1024)
                return sb_fail(em, SB_ERR_PARSE, "/proc/meminfo line %d: %s is not a number",
                               lineno, keys[i].key);
            while (*s == ' ')
                s++;
            bool kb = strncmp(s, "kB", 2) == 0;
            if (!(kb ? rest_blank(s + 2) : rest_blank(s)))
                return sb_fail(em, SB_ERR_PARSE, "/proc/meminfo line %d: unexpected text", lineno);
            *(uint64_t *)((char *)out + keys[i].off) = kb ? v * 1024 : v;
            seen |= 1u << i;
        }
    }
    if ((seen & 3u) != 3u)
        return sb_fail(em, SB_ERR_PARSE, "/proc/meminfo: no MemTotal or MemFree");
    if (!(seen & 4u)) /* before Linux 3.14 */
        out->available = out->free + out->buffers + out->cached;
    return SB_OK;
}

static bool number(const char **s, double *out)
{
    while (**s == ' ')
        (*s)++;
    if (!((**s >= '0' && **s <= '9') || **s == '.'))
        return false;
    char *end = NULL;
    double d = strtod(*s, &end);
    if (end == *s || !isfinite(d))
        return false;
    *s = end;
    *out = d;
    return true;
}

sb_err sb_sysmon_parse_loadavg(const char *text, sb_sysmon_load *out, sb_errmsg *em)
{
    char line[LINE_MAX_];
    memset(out, 0, sizeof(*out));
    if (!next_line(&text, line, sizeof(line)))
        return sb_fail(em, SB_ERR_PARSE, "/proc/loadavg: empty");
    const char *s = line;
    uint64_t run, tot;
    for (int i = 0; i < 3; i++)
        if (!number(&s, &out->avg[i]))
            return sb_fail(em, SB_ERR_PARSE, "/proc/loadavg: load %d is not a number", i + 1);
    if (!u64(&s, &run) || *s++ != '/' || !u64(&s, &tot) || run > 1u << 30 || tot > 1u << 30)
        return sb_fail(em, SB_ERR_PARSE, "/proc/loadavg: no running/total processes");
    out->running = (long)run;
    out->total = (long)tot;
    return SB_OK;
}

sb_err sb_sysmon_parse_uptime(const char *text, double *seconds, sb_errmsg *em)
{
    char line[LINE_MAX_];
    const char *s = line;
    if (!next_line(&text, line, sizeof(line)) || !number(&s, seconds))
        return sb_fail(em, SB_ERR_PARSE, "/proc/uptime: no number of seconds");
    return SB_OK;
}

sb_err sb_sysmon_parse_netdev(const char *text, sb_sysmon_netif *out, size_t max, size_t *n,
                              sb_errmsg *em)
{
    *n = 0;
    char line[LINE_MAX_];
    int lineno = 0;
    while (next_line(&text, line, sizeof(line))) {
        if (++lineno <= 2 || rest_blank(line))
            continue; /* the two header lines */
        char *colon = strchr(line, ':');
        if (!colon)
            return sb_fail(em, SB_ERR_PARSE, "/proc/net/dev line %d: no ':'", lineno);
        *colon = '\0';
        const char *name = line + strspn(line, " ");
        size_t nl = strlen(name);
        if (!nl || nl >= sizeof(out->name) || strpbrk(name, " \t"))
            return sb_fail(em, SB_ERR_PARSE, "/proc/net/dev line %d: bad interface name", lineno);
        uint64_t v[16];
        const char *s = colon + 1;
        int k = 0;
        while (k < 16 && u64(&s, &v[k]))
            k++;
        if (k < 11 || !rest_blank(s))
            return sb_fail(em, SB_ERR_PARSE, "/proc/net/dev line %d: expected 16 counters", lineno);
        if (*n == max)
            continue;
        sb_sysmon_netif *f = &out[(*n)++];
        memcpy(f->name, name, nl + 1);
        f->rx_bytes = v[0], f->rx_packets = v[1], f->rx_errors = v[2];
        f->tx_bytes = v[8], f->tx_packets = v[9], f->tx_errors = v[10];
    }
    return SB_OK;
}

/* One whitespace-separated field of a mounts line with \ooo escapes decoded. */
static bool mount_field(const char **s, char *out, size_t len)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    size_t o = 0;
    while (**s && **s != ' ' && **s != '\t') {
        char ch = **s;
        if (ch == '\\' && (*s)[1] >= '0' && (*s)[1] <= '3' && (*s)[2] >= '0' && (*s)[2] <= '7' &&
            (*s)[3] >= '0' && (*s)[3] <= '7') {
            ch = (char)(((*s)[1] - '0') * 64 + ((*s)[2] - '0') * 8 + ((*s)[3] - '0'));
            *s += 3;
        }
        if (o + 1 >= len || ch == '\0')
            return false;
        out[o++] = ch;
        (*s)++;
    }
    out[o] = '\0';
    return o > 0;
}

/* Pseudo file systems, and network ones: a server that does not answer would hang statvfs and
 * with it the sampling, so those are reported only when configured by name. */
static bool pseudo_fs(const char *fstype)
{
    if (strncmp(fstype, "fuse.", 5) == 0 || strncmp(fstype, "nfs", 3) == 0)
        return true;
    static const char *const types[] = {
        "proc",       "sysfs",    "devtmpfs",   "devpts",    "tmpfs",     "cgroup",      "cgroup2",
        "overlay",    "squashfs", "autofs",     "mqueue",    "hugetlbfs", "debugfs",     "tracefs",
        "securityfs", "pstore",   "bpf",        "configfs",  "fusectl",   "binfmt_misc", "ramfs",
        "nsfs",       "efivarfs", "rpc_pipefs", "selinuxfs", "iso9660",   "cifs",        "smb3",
        "9p",         "ceph",     "glusterfs",  NULL};
    for (int i = 0; types[i]; i++)
        if (strcmp(fstype, types[i]) == 0)
            return true;
    return false;
}

sb_err sb_sysmon_parse_mounts(const char *text, bool real_only, sb_sysmon_mount *out, size_t max,
                              size_t *n, sb_errmsg *em)
{
    *n = 0;
    char line[LINE_MAX_ * 2];
    int lineno = 0;
    while (next_line(&text, line, sizeof(line))) {
        lineno++;
        if (rest_blank(line))
            continue;
        sb_sysmon_mount m;
        const char *s = line;
        if (!mount_field(&s, m.device, sizeof(m.device)) ||
            !mount_field(&s, m.path, sizeof(m.path)) ||
            !mount_field(&s, m.fstype, sizeof(m.fstype)))
            return sb_fail(em, SB_ERR_PARSE, "/proc/mounts line %d: expected device, path, type",
                           lineno);
        bool on_device = m.device[0] == '/' || strcmp(m.fstype, "zfs") == 0;
        if (real_only && (!on_device || pseudo_fs(m.fstype) || m.path[0] != '/'))
            continue;
        bool dup = false;
        for (size_t i = 0; real_only && i < *n && !dup; i++)
            dup = strcmp(out[i].device, m.device) == 0;
        if (dup || *n == max)
            continue; /* a device mounted twice (bind mounts): its first mount point */
        out[(*n)++] = m;
    }
    return SB_OK;
}

sb_err sb_sysmon_parse_millideg(const char *text, double *celsius, sb_errmsg *em)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || errno || !rest_blank(end + (*end == '\n')) || v < -273150 || v > 1000000)
        return sb_fail(em, SB_ERR_PARSE, "'%.20s' is not a temperature in millidegrees", text);
    *celsius = (double)v / 1000.0;
    return SB_OK;
}
