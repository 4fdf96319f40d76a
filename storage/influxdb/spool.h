/*
 * spool.h - the disk side of the metric buffer: append-only segment files of line protocol in
 * one directory (seg-<20-digit id>.lp), oldest id first. A segment holds at most `per_segment`
 * points so that one segment is one write request. A torn tail (a crash mid-append) is cut at
 * open. Not thread-safe: the owner (the InfluxDB writer) holds its lock around every call.
 */
#ifndef SB_INFLUXDB_SPOOL_H
#define SB_INFLUXDB_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sb_spool_seg {
    uint64_t id;
    size_t count; /* points in the file */
} sb_spool_seg;

typedef struct sb_spool {
    char dir[512];
    size_t per_segment;
    sb_spool_seg *segs; /* oldest first */
    size_t n, cap;
    uint64_t total;   /* points in all segments */
    uint64_t next_id; /* id of the next new segment */
    uint64_t torn;    /* points lost to torn tails found at open */
} sb_spool;

/* Creates dir if needed and indexes the segments in it. */
sb_err sb_spool_open(sb_spool *s, const char *dir, size_t per_segment, sb_errmsg *em);

/* Appends n complete lines (buf ends with '\n'), filling the newest segment, then new ones;
 * fsyncs what it wrote. */
sb_err sb_spool_append(sb_spool *s, const char *buf, size_t len, size_t n, sb_errmsg *em);

/* Reads segment id into *buf (caller frees). */
sb_err sb_spool_read(const sb_spool *s, uint64_t id, char **buf, size_t *len, sb_errmsg *em);

/* Deletes segment id (written or dropped); returns its point count (0 when unknown). */
size_t sb_spool_remove(sb_spool *s, uint64_t id);

void sb_spool_close(sb_spool *s);

#endif
