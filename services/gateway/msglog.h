/*
 * msglog.h - a gateway's message logger: the raw traffic between the gateway and its devices,
 * one line per frame ("<RFC 3339 time> in|out <bytes, \n and \r escaped>"), in a file that is
 * rotated when it would pass max_bytes: path -> path.1 -> ... -> path.<files-1>, the oldest
 * deleted. Thread-safe. Write errors are counted, never fatal.
 */
#ifndef SB_GW_MSGLOG_H
#define SB_GW_MSGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct gw_msglog gw_msglog;

/* Opens (appending) path; creates its directory. files >= 1 counts the current file. */
sb_err gw_msglog_open(const char *path, int64_t max_bytes, int files, gw_msglog **out,
                      sb_errmsg *em);

void gw_msglog_write(gw_msglog *l, bool inbound, const void *data, size_t len);

/* Lines that could not be written since open. */
uint64_t gw_msglog_errors(gw_msglog *l);

void gw_msglog_close(gw_msglog *l); /* accepts NULL */

#endif
