/*
 * pipeline_devsim.h - the simulated devices of the pipeline tests: tools/devsim as a child
 * process (its stdout in a log, every command it receives in a record file, both in the test's
 * temporary directory), and the waits and bus messages the tests drive it with. Uses sbt_pl
 * (pipeline_util.h); helpers fail the running cmocka test on a timeout.
 */
#ifndef SB_PIPELINE_DEVSIM_H
#define SB_PIPELINE_DEVSIM_H

#include <stdbool.h>

#include "core/proc.h"

typedef struct sbt_devsim {
    sb_proc proc;
    char log[700], record[700];
} sbt_devsim;

/*
 * Starts devsim with args (NULL-terminated, after the program name; "--record <file>" is
 * added), files named devsim-<name>.log/.rx, and waits until its stdout has a line starting
 * with ready ("devsim: tasmota ").
 */
void sbt_devsim_start(sbt_devsim *s, const char *name, const char *ready, const char *const *args);

/* Whether the file at path has a line starting with prefix. */
bool sbt_file_has_line(const char *path, const char *prefix);

/* Waits up to 5 s until devsim recorded a received line starting with line. */
void sbt_devsim_wait_record(const sbt_devsim *s, const char *line);

/* Waits up to 10 s until the number field id's current value is want. */
void sbt_wait_number(const char *id, double want);

/* Publishes a message of type (set, request) with one payload to <p>/msg/out/<gw>. */
void sbt_send_out(const char *gw, const char *type, const char *node, const char *src,
                  const char *key, const char *value);

#endif
