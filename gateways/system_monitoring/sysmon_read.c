/*
 * sysmon_read.c - one sample of the host (sysmon.h sb_sysmon_read): /proc files through the
 * parsers, statvfs of the mount points, temperatures from sysfs thermal zones and hwmon chips.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "core/time.h"
#include "gateways/system_monitoring/sysmon.h"

/* Appends a line to why. */
static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...)
{
    if (!why || !len)
        return;
    size_t used = strlen(why);
    if (used + 2 >= len)
        return;
    if (used)
        why[used++] = '\n', why[used] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + used, len - used, fmt, ap);
    va_end(ap);
}

/* The whole file (at most 1 MiB) as a NUL-terminated string; NULL when it cannot be read. */
static char *slurp(const char *root, const char *rel)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0 || n + 1 < cap)
            break;
        if (cap >= 1u << 20)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown)
            SB_FREE(buf);
        buf = grown;
        cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static bool listed(const char *const *list, const char *item)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], item) == 0)
            return true;
    return false;
}

static bool empty_list(const char *const *list)
{
    return !list || !list[0];
}

static void read_proc(const sb_sysmon_cfg *cfg, sb_sysmon_sample *s, char *why, size_t len)
{
    sb_errmsg em = {{0}};
    char *t = slurp(cfg->proc_root, "stat");
    if (!t || sb_sysmon_parse_stat(t, s->cpu, SB_SYSMON_CPUS_MAX, &s->n_cpu, &em) != SB_OK)
        s->n_cpu = 0, say(why, len, "%s", t ? em.text : "/proc/stat: cannot read");
    free(t);
    t = slurp(cfg->proc_root, "meminfo");
    s->has_mem = t && sb_sysmon_parse_meminfo(t, &s->mem, &em) == SB_OK;
    if (!s->has_mem)
        say(why, len, "%s", t ? em.text : "/proc/meminfo: cannot read");
    free(t);
    t = slurp(cfg->proc_root, "loadavg");
    s->has_load = t && sb_sysmon_parse_loadavg(t, &s->load, &em) == SB_OK;
    if (!s->has_load)
        say(why, len, "%s", t ? em.text : "/proc/loadavg: cannot read");
    free(t);
    t = slurp(cfg->proc_root, "uptime");
    s->has_uptime = t && sb_sysmon_parse_uptime(t, &s->uptime, &em) == SB_OK;
    if (!s->has_uptime)
        say(why, len, "%s", t ? em.text : "/proc/uptime: cannot read");
    free(t);
    t = slurp(cfg->proc_root, "net/dev");
    sb_sysmon_netif all[SB_SYSMON_IFS_MAX];
    size_t n = 0;
    if (!t || sb_sysmon_parse_netdev(t, all, SB_SYSMON_IFS_MAX, &n, &em) != SB_OK)
        n = 0, say(why, len, "%s", t ? em.text : "/proc/net/dev: cannot read");
    free(t);
    s->n_net = 0;
    for (size_t i = 0; i < n; i++)
        if (empty_list(cfg->interfaces) ? strcmp(all[i].name, "lo") != 0
                                        : listed(cfg->interfaces, all[i].name))
            s->net[s->n_net++] = all[i];
}

static void add_disk(sb_sysmon_sample *s, const sb_sysmon_mount *m, char *why, size_t len)
{
    struct statvfs v;
    if (statvfs(m->path, &v) != 0) {
        say(why, len, "statvfs %s failed", m->path);
        return;
    }
    sb_sysmon_disk *d = &s->disks[s->n_disks++];
    memset(d, 0, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "%s", m->path);
    snprintf(d->device, sizeof(d->device), "%s", m->device);
    snprintf(d->fstype, sizeof(d->fstype), "%s", m->fstype);
    uint64_t f = v.f_frsize ? v.f_frsize : v.f_bsize;
    d->total = (uint64_t)v.f_blocks * f;
    d->free = (uint64_t)v.f_bfree * f;
    d->avail = (uint64_t)v.f_bavail * f;
}

static void read_disks(const sb_sysmon_cfg *cfg, sb_sysmon_sample *s, char *why, size_t len)
{
    s->n_disks = 0;
    char *t = slurp(cfg->proc_root, "mounts");
    sb_sysmon_mount *m = malloc(SB_SYSMON_DISKS_MAX * 4 * sizeof(*m));
    size_t n = 0;
    sb_errmsg em = {{0}};
    bool all = empty_list(cfg->disks);
    if (!t || !m || sb_sysmon_parse_mounts(t, all, m, SB_SYSMON_DISKS_MAX * 4, &n, &em) != SB_OK) {
        say(why, len, "%s", !t ? "/proc/mounts: cannot read" : m ? em.text : "out of memory");
        n = 0;
    }
    for (size_t i = 0; i < n && s->n_disks < SB_SYSMON_DISKS_MAX; i++) {
        bool dup = false; /* a configured path mounted twice: once */
        for (size_t k = 0; k < s->n_disks && !dup; k++)
            dup = strcmp(s->disks[k].path, m[i].path) == 0;
        if (!dup && (all || listed(cfg->disks, m[i].path)))
            add_disk(s, &m[i], why, len);
    }
    for (size_t i = 0; !all && cfg->disks[i]; i++) {
        bool found = false;
        for (size_t k = 0; k < s->n_disks && !found; k++)
            found = strcmp(s->disks[k].path, cfg->disks[i]) == 0;
        if (!found)
            say(why, len, "disk %s: not a mount point", cfg->disks[i]);
    }
    free(m);
    free(t);
}

/* Lower-case letters, digits and '_' only ("Core 0" -> "core_0"). */
static void key_part(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 1 < len; in++) {
        char ch = *in;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        out[o++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '_';
    }
    while (o && out[o - 1] == '_')
        o--;
    out[o] = '\0';
}

static void add_temp(sb_sysmon_sample *s, const char *key, const char *text)
{
    double c;
    if (!text || s->n_temps == SB_SYSMON_TEMPS_MAX ||
        sb_sysmon_parse_millideg(text, &c, NULL) != SB_OK)
        return;
    char k[SB_SYSMON_NAME_MAX];
    snprintf(k, sizeof(k), "%s", key);
    for (int i = 2; i < 100; i++) { /* two zones of one type: cpu_thermal, cpu_thermal_2 */
        bool dup = false;
        for (size_t j = 0; j < s->n_temps && !dup; j++)
            dup = strcmp(s->temps[j].key, k) == 0;
        if (!dup)
            break;
        snprintf(k, sizeof(k), "%.100s_%d", key, i);
    }
    sb_sysmon_temp *t = &s->temps[s->n_temps++];
    snprintf(t->key, sizeof(t->key), "%s", k);
    t->celsius = c;
}

/* The entries of dir, sorted, for a stable order of fields; -1 when it cannot be read. */
static int names(const char *dir, struct dirent ***out)
{
    return scandir(dir, out, NULL, alphasort);
}

static void thermal_zones(const char *sys, sb_sysmon_sample *s)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/class/thermal", sys);
    struct dirent **e = NULL;
    int n = names(dir, &e);
    for (int i = 0; i < n; i++) {
        if (strncmp(e[i]->d_name, "thermal_zone", 12) == 0) {
            char rel[400], key[SB_SYSMON_NAME_MAX];
            snprintf(rel, sizeof(rel), "class/thermal/%.200s/type", e[i]->d_name);
            char *type = slurp(sys, rel);
            key_part(type && *type ? type : e[i]->d_name, key, sizeof(key));
            snprintf(rel, sizeof(rel), "class/thermal/%.200s/temp", e[i]->d_name);
            char *temp = slurp(sys, rel);
            add_temp(s, *key ? key : "thermal", temp);
            free(type);
            free(temp);
        }
        free(e[i]);
    }
    free(e);
}

/* hwmon chips: <name>_<label or tempN>, e.g. coretemp_core_0, nvme_composite. */
static void hwmon_chip(const char *sys, const char *chip, sb_sysmon_sample *s)
{
    char rel[400], dir[700], name[64];
    snprintf(rel, sizeof(rel), "class/hwmon/%.200s/name", chip);
    char *text = slurp(sys, rel);
    key_part(text && *text ? text : chip, name, sizeof(name));
    free(text);
    snprintf(dir, sizeof(dir), "%s/class/hwmon/%.200s", sys, chip);
    struct dirent **e = NULL;
    int n = names(dir, &e);
    for (int i = 0; i < n; i++) {
        const char *f = e[i]->d_name;
        size_t fl = strlen(f);
        if (strncmp(f, "temp", 4) == 0 && fl > 10 && strcmp(f + fl - 6, "_input") == 0) {
            char base[64], key[SB_SYSMON_NAME_MAX], label[64];
            snprintf(base, sizeof(base), "%.*s", (int)(fl - 6), f);
            snprintf(rel, sizeof(rel), "class/hwmon/%.200s/%s_label", chip, base);
            char *l = slurp(sys, rel);
            key_part(l && *l ? l : base, label, sizeof(label));
            free(l);
            snprintf(key, sizeof(key), "%s_%s", name, label);
            snprintf(rel, sizeof(rel), "class/hwmon/%.200s/%s", chip, f);
            char *temp = slurp(sys, rel);
            add_temp(s, key, temp);
            free(temp);
        }
        free(e[i]);
    }
    free(e);
}

static void read_temps(const sb_sysmon_cfg *cfg, sb_sysmon_sample *s)
{
    s->n_temps = 0;
    if (!cfg->temperatures)
        return;
    thermal_zones(cfg->sys_root, s);
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/class/hwmon", cfg->sys_root);
    struct dirent **e = NULL;
    int n = names(dir, &e);
    for (int i = 0; i < n; i++) {
        if (e[i]->d_name[0] != '.')
            hwmon_chip(cfg->sys_root, e[i]->d_name, s);
        free(e[i]);
    }
    free(e);
}

void sb_sysmon_read(const sb_sysmon_cfg *cfg, sb_sysmon_sample *s, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    s->mono_ms = sb_time_mono_ms();
    read_proc(cfg, s, why, len);
    read_disks(cfg, s, why, len);
    read_temps(cfg, s);
}
