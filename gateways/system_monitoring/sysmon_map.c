/*
 * sysmon_map.c - samples to messages (sysmon.h): one set message per source, percentages and
 * rates from the difference of two samples (docs/gateways/system_monitoring.md "Fields").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateways/system_monitoring/sysmon.h"

/* The messages being built. */
typedef struct out {
    const char *gw, *node;
    sb_msg **msgs;
    size_t n;
    bool nomem;
} out;

static sb_msg *msg(out *o, sb_msg_type type, const char *src)
{
    sb_msg **grown = realloc(o->msgs, (o->n + 1) * sizeof(*grown));
    if (!grown) {
        o->nomem = true;
        return NULL;
    }
    o->msgs = grown;
    sb_msg *m = sb_msg_new(o->gw, o->node, src, type);
    if (!m)
        o->nomem = true;
    else
        o->msgs[o->n++] = m;
    return m;
}

static void add(out *o, sb_msg *m, const char *key, const char *value, sb_metric_type mt,
                const char *unit)
{
    if (m && !sb_msg_add_payload(m, key, value, mt, unit))
        o->nomem = true;
}

static void add_u64(out *o, sb_msg *m, const char *key, uint64_t v, sb_metric_type mt,
                    const char *unit)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
    add(o, m, key, text, mt, unit);
}

static void add_num(out *o, sb_msg *m, const char *key, double v, const char *unit)
{
    char text[48];
    snprintf(text, sizeof(text), "%.2f", isfinite(v) ? v : 0.0);
    add(o, m, key, text, SB_METRIC_GAUGE_FLOAT, unit);
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole * 100.0 : 0.0;
}

void sb_sysmon_disk_source(const char *path, char *o, size_t len)
{
    if (strcmp(path, "/") == 0) {
        snprintf(o, len, "disk_root");
        return;
    }
    size_t n = (size_t)snprintf(o, len, "disk");
    for (const char *p = path; *p && n + 1 < len; p++) {
        unsigned char ch = (unsigned char)*p;
        char c = ch <= ' ' || ch == 0x7f || strchr("./:+#", ch) ? '_' : (char)ch;
        if (!(c == '_' && o[n - 1] == '_'))
            o[n++] = c;
    }
    while (n > 4 && o[n - 1] == '_')
        n--;
    o[n] = '\0';
}

/* "net_eth0"; an interface name may hold '.' (VLANs: eth0.100) and ':' (aliases). */
static void net_source(const char *ifname, char *src, size_t len)
{
    snprintf(src, len, "net_%s", ifname);
    for (char *p = src; *p; p++)
        if (strchr(".:+#", *p))
            *p = '_';
}

/* The same cpu line (by core) in prev. */
static const sb_sysmon_cpu *cpu_in(const sb_sysmon_sample *prev, int core)
{
    for (size_t i = 0; prev && i < prev->n_cpu; i++)
        if (prev->cpu[i].core == core)
            return &prev->cpu[i];
    return NULL;
}

static void cpu(out *o, const sb_sysmon_sample *prev, const sb_sysmon_sample *cur)
{
    if (!cur->n_cpu)
        return;
    sb_msg *m = msg(o, SB_MSG_SET, "cpu");
    add_u64(o, m, "cores", cur->n_cpu - 1, SB_METRIC_GAUGE, NULL);
    for (size_t i = 0; i < cur->n_cpu; i++) {
        const sb_sysmon_cpu *p = cpu_in(prev, cur->cpu[i].core);
        double pct = p ? sb_sysmon_cpu_percent(p, &cur->cpu[i]) : -1;
        if (pct < 0)
            continue; /* the first sample, or counters that did not advance */
        char key[32];
        if (cur->cpu[i].core < 0)
            snprintf(key, sizeof(key), "usage");
        else
            snprintf(key, sizeof(key), "core%d", cur->cpu[i].core);
        add_num(o, m, key, pct, "%");
    }
}

static void memory(out *o, const sb_sysmon_sample *cur)
{
    if (!cur->has_mem)
        return;
    const sb_sysmon_mem *mem = &cur->mem;
    uint64_t avail = mem->available < mem->total ? mem->available : mem->total;
    sb_msg *m = msg(o, SB_MSG_SET, "memory");
    add_u64(o, m, "total", mem->total, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "used", mem->total - avail, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "available", avail, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "free", mem->free, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "buffers", mem->buffers, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "cached", mem->cached, SB_METRIC_GAUGE, "B");
    add_num(o, m, "used_percent", percent(mem->total - avail, mem->total), "%");
    uint64_t sfree = mem->swap_free < mem->swap_total ? mem->swap_free : mem->swap_total;
    m = msg(o, SB_MSG_SET, "swap");
    add_u64(o, m, "total", mem->swap_total, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "used", mem->swap_total - sfree, SB_METRIC_GAUGE, "B");
    add_u64(o, m, "free", sfree, SB_METRIC_GAUGE, "B");
    add_num(o, m, "used_percent", percent(mem->swap_total - sfree, mem->swap_total), "%");
}

static void load_and_uptime(out *o, const sb_sysmon_sample *cur)
{
    if (cur->has_load) {
        sb_msg *m = msg(o, SB_MSG_SET, "load");
        add_num(o, m, "load1", cur->load.avg[0], NULL);
        add_num(o, m, "load5", cur->load.avg[1], NULL);
        add_num(o, m, "load15", cur->load.avg[2], NULL);
        add_u64(o, m, "running", (uint64_t)cur->load.running, SB_METRIC_GAUGE, NULL);
        add_u64(o, m, "processes", (uint64_t)cur->load.total, SB_METRIC_GAUGE, NULL);
    }
    if (cur->has_uptime && cur->uptime >= 0 && cur->uptime < 1e15)
        add_u64(o, msg(o, SB_MSG_SET, ""), "uptime", (uint64_t)cur->uptime, SB_METRIC_COUNTER, "s");
}

static void disks(out *o, const sb_sysmon_sample *cur)
{
    for (size_t i = 0; i < cur->n_disks; i++) {
        const sb_sysmon_disk *d = &cur->disks[i];
        char src[SB_MSG_ID_MAX + 1];
        sb_sysmon_disk_source(d->path, src, sizeof(src));
        uint64_t used = d->total > d->free ? d->total - d->free : 0;
        sb_msg *m = msg(o, SB_MSG_SET, src);
        add_u64(o, m, "total", d->total, SB_METRIC_GAUGE, "B");
        add_u64(o, m, "used", used, SB_METRIC_GAUGE, "B");
        add_u64(o, m, "free", d->avail, SB_METRIC_GAUGE, "B");
        /* like df: of what an unprivileged user could have, the share in use */
        add_num(o, m, "used_percent", percent(used, used + d->avail), "%");
    }
}

static const sb_sysmon_netif *net_in(const sb_sysmon_sample *prev, const char *name)
{
    for (size_t i = 0; prev && i < prev->n_net; i++)
        if (strcmp(prev->net[i].name, name) == 0)
            return &prev->net[i];
    return NULL;
}

static void net(out *o, const sb_sysmon_sample *prev, const sb_sysmon_sample *cur)
{
    for (size_t i = 0; i < cur->n_net; i++) {
        const sb_sysmon_netif *f = &cur->net[i];
        char src[64];
        net_source(f->name, src, sizeof(src));
        sb_msg *m = msg(o, SB_MSG_SET, src);
        add_u64(o, m, "rx_bytes", f->rx_bytes, SB_METRIC_COUNTER, "B");
        add_u64(o, m, "tx_bytes", f->tx_bytes, SB_METRIC_COUNTER, "B");
        add_u64(o, m, "rx_packets", f->rx_packets, SB_METRIC_COUNTER, NULL);
        add_u64(o, m, "tx_packets", f->tx_packets, SB_METRIC_COUNTER, NULL);
        add_u64(o, m, "rx_errors", f->rx_errors, SB_METRIC_COUNTER, NULL);
        add_u64(o, m, "tx_errors", f->tx_errors, SB_METRIC_COUNTER, NULL);
        const sb_sysmon_netif *p = net_in(prev, f->name);
        double secs = prev ? (double)(cur->mono_ms - prev->mono_ms) / 1000.0 : 0;
        if (p && secs > 0 && f->rx_bytes >= p->rx_bytes && f->tx_bytes >= p->tx_bytes) {
            add_num(o, m, "rx_rate", (double)(f->rx_bytes - p->rx_bytes) / secs, "B/s");
            add_num(o, m, "tx_rate", (double)(f->tx_bytes - p->tx_bytes) / secs, "B/s");
        }
    }
}

static void temps(out *o, const sb_sysmon_sample *cur)
{
    if (!cur->n_temps)
        return;
    sb_msg *m = msg(o, SB_MSG_SET, "temperature");
    for (size_t i = 0; i < cur->n_temps; i++)
        add_num(o, m, cur->temps[i].key, cur->temps[i].celsius, "°C");
}

static sb_err finish(out *o, sb_msg ***msgs, size_t *n)
{
    if (o->nomem) {
        for (size_t i = 0; i < o->n; i++)
            sb_msg_free(o->msgs[i]);
        free(o->msgs);
        *msgs = NULL, *n = 0;
        return SB_ERR_NOMEM;
    }
    *msgs = o->msgs, *n = o->n;
    return SB_OK;
}

sb_err sb_sysmon_messages(const char *gateway_id, const char *node_id, const sb_sysmon_sample *prev,
                          const sb_sysmon_sample *cur, sb_msg ***msgs, size_t *n)
{
    out o = {.gw = gateway_id, .node = node_id};
    cpu(&o, prev, cur);
    memory(&o, cur);
    load_and_uptime(&o, cur);
    disks(&o, cur);
    net(&o, prev, cur);
    temps(&o, cur);
    return finish(&o, msgs, n);
}

/* A source's presentation: others.type = kind, name = name. */
static void present(out *o, const char *src, const char *kind, const char *name)
{
    add(o, msg(o, SB_MSG_PRESENTATION, src), kind, name, SB_METRIC_NONE, NULL);
}

sb_err sb_sysmon_presentations(const char *gateway_id, const char *node_id, const char *hostname,
                               const char *kernel, const sb_sysmon_sample *cur, sb_msg ***msgs,
                               size_t *n)
{
    out o = {.gw = gateway_id, .node = node_id};
    sb_msg *m = msg(&o, SB_MSG_PRESENTATION, "");
    add(&o, m, "name", hostname, SB_METRIC_NONE, NULL);
    add(&o, m, "type", "host", SB_METRIC_NONE, NULL);
    if (kernel && *kernel)
        add(&o, m, "kernel", kernel, SB_METRIC_NONE, NULL);
    if (cur->n_cpu)
        add_u64(&o, m, "cpus", cur->n_cpu - 1, SB_METRIC_NONE, NULL);
    present(&o, "cpu", "cpu", "CPU");
    present(&o, "memory", "memory", "Memory");
    present(&o, "swap", "swap", "Swap");
    present(&o, "load", "load", "Load average");
    for (size_t i = 0; i < cur->n_disks; i++) {
        char src[SB_MSG_ID_MAX + 1];
        sb_sysmon_disk_source(cur->disks[i].path, src, sizeof(src));
        present(&o, src, "disk", cur->disks[i].path);
    }
    for (size_t i = 0; i < cur->n_net; i++) {
        char src[64];
        net_source(cur->net[i].name, src, sizeof(src));
        present(&o, src, "interface", cur->net[i].name);
    }
    if (cur->n_temps)
        present(&o, "temperature", "temperature", "Temperatures");
    return finish(&o, msgs, n);
}
