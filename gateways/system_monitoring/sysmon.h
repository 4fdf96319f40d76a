/*
 * sysmon.h - the host as a node (docs/gateways/system_monitoring.md): parsers of /proc text,
 * a sample of everything measured at one instant, and the messages two samples give.
 *
 * The parsers take text (a file's whole content) so tests feed fixtures and the fuzz target
 * feeds bytes; sb_sysmon_read() is the only part that touches the file system (under
 * configurable /proc and /sys roots, so a container can watch the host's).
 */
#ifndef SB_SYSMON_H
#define SB_SYSMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/msg.h"

#define SB_SYSMON_CPUS_MAX  257 /* "cpu" and up to 256 cores */
#define SB_SYSMON_IFS_MAX   64
#define SB_SYSMON_DISKS_MAX 64
#define SB_SYSMON_TEMPS_MAX 64
#define SB_SYSMON_NAME_MAX  128

/* ---- /proc parsers ---- */

/* One "cpu" / "cpuN" line of /proc/stat: jiffies spent busy and in total. */
typedef struct sb_sysmon_cpu {
    int core; /* -1 for the "cpu" total line */
    uint64_t busy, total;
} sb_sysmon_cpu;

/* /proc/stat: the total line first, then each core line (up to max); *n gets how many.
 * SB_ERR_PARSE naming the line when a cpu line is malformed or the total is missing. */
sb_err sb_sysmon_parse_stat(const char *text, sb_sysmon_cpu *out, size_t max, size_t *n,
                            sb_errmsg *em);

/* Busy share of the interval between two readings of one cpu line, 0..100; -1 when the
 * counters did not advance (or went back, after a counter reset). */
double sb_sysmon_cpu_percent(const sb_sysmon_cpu *prev, const sb_sysmon_cpu *cur);

/* /proc/meminfo, in bytes. */
typedef struct sb_sysmon_mem {
    uint64_t total, free, available, buffers, cached, swap_total, swap_free;
} sb_sysmon_mem;

/* SB_ERR_PARSE when MemTotal or MemFree is missing or a value is malformed. Kernels before
 * 3.14 have no MemAvailable: then free + buffers + cached. */
sb_err sb_sysmon_parse_meminfo(const char *text, sb_sysmon_mem *out, sb_errmsg *em);

/* /proc/loadavg: "0.52 0.58 0.59 2/139 27296". */
typedef struct sb_sysmon_load {
    double avg[3];
    long running, total;
} sb_sysmon_load;

sb_err sb_sysmon_parse_loadavg(const char *text, sb_sysmon_load *out, sb_errmsg *em);

/* /proc/uptime: seconds since boot (the first number). */
sb_err sb_sysmon_parse_uptime(const char *text, double *seconds, sb_errmsg *em);

/* One interface of /proc/net/dev. */
typedef struct sb_sysmon_netif {
    char name[32];
    uint64_t rx_bytes, rx_packets, rx_errors, tx_bytes, tx_packets, tx_errors;
} sb_sysmon_netif;

/* /proc/net/dev (the two header lines skipped); malformed lines fail naming the line. */
sb_err sb_sysmon_parse_netdev(const char *text, sb_sysmon_netif *out, size_t max, size_t *n,
                              sb_errmsg *em);

/* One line of /proc/mounts (octal escapes such as \040 decoded). */
typedef struct sb_sysmon_mount {
    char device[256], path[256], fstype[32];
} sb_sysmon_mount;

/* /proc/mounts; with real_only, only file systems on a device (a device path starting with '/',
 * or zfs), not pseudo ones (proc, sysfs, tmpfs, cgroup, overlay ...), each device once. */
sb_err sb_sysmon_parse_mounts(const char *text, bool real_only, sb_sysmon_mount *out, size_t max,
                              size_t *n, sb_errmsg *em);

/* A sysfs temperature in millidegrees Celsius ("45000\n") as degrees. */
sb_err sb_sysmon_parse_millideg(const char *text, double *celsius, sb_errmsg *em);

/* ---- a sample ---- */

typedef struct sb_sysmon_disk {
    char path[256], device[256], fstype[32];
    uint64_t total, free, avail; /* bytes; avail = free to unprivileged users */
} sb_sysmon_disk;

typedef struct sb_sysmon_temp {
    char key[SB_SYSMON_NAME_MAX]; /* "cpu_thermal", "coretemp_core_0" */
    double celsius;
} sb_sysmon_temp;

/* Everything measured at one instant; a part that could not be read is absent (has_* false,
 * n_* zero). */
typedef struct sb_sysmon_sample {
    int64_t mono_ms;
    sb_sysmon_cpu cpu[SB_SYSMON_CPUS_MAX];
    size_t n_cpu;
    bool has_mem, has_load, has_uptime;
    sb_sysmon_mem mem;
    sb_sysmon_load load;
    double uptime;
    sb_sysmon_netif net[SB_SYSMON_IFS_MAX];
    size_t n_net;
    sb_sysmon_disk disks[SB_SYSMON_DISKS_MAX];
    size_t n_disks;
    sb_sysmon_temp temps[SB_SYSMON_TEMPS_MAX];
    size_t n_temps;
} sb_sysmon_sample;

/* What to read; every string and list is borrowed. */
typedef struct sb_sysmon_cfg {
    const char *proc_root;         /* "/proc" */
    const char *sys_root;          /* "/sys" */
    const char *const *disks;      /* mount points, NULL-terminated; NULL or empty = all real */
    const char *const *interfaces; /* NULL-terminated; NULL or empty = all but "lo" */
    bool temperatures;
} sb_sysmon_cfg;

/*
 * Reads one sample. A file that cannot be read or parsed leaves its part absent and adds a
 * line to why (at most len bytes; may be NULL); the rest is still read.
 */
void sb_sysmon_read(const sb_sysmon_cfg *cfg, sb_sysmon_sample *s, char *why, size_t len);

/*
 * The messages of a sample for node node_id: set messages per source (cpu, load, memory, swap,
 * disk_<mount>, net_<interface>, temperature, and the node's uptime). CPU percentages and
 * network rates need prev (the sample before; NULL at the first). *out gets an array of *n
 * messages (caller frees each with sb_msg_free and the array with free). SB_ERR_NOMEM only.
 */
sb_err sb_sysmon_messages(const char *gateway_id, const char *node_id, const sb_sysmon_sample *prev,
                          const sb_sysmon_sample *cur, sb_msg ***out, size_t *n);

/* The node and source presentations of a sample (names: the host name, mount points and
 * interfaces; kernel and cpu count as node info). Same ownership as sb_sysmon_messages. */
sb_err sb_sysmon_presentations(const char *gateway_id, const char *node_id, const char *hostname,
                               const char *kernel, const sb_sysmon_sample *cur, sb_msg ***out,
                               size_t *n);

/* The source id of a mount point: "/" -> "disk_root", "/var/lib" -> "disk_var_lib". */
void sb_sysmon_disk_source(const char *path, char *out, size_t len);

#endif
