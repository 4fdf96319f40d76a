/*
 * proc.h - child processes (the managed mosquitto and influxd, test servers) and loopback ports.
 */
#ifndef SB_PROC_H
#define SB_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

typedef struct sb_proc {
    pid_t pid;
    char name[64];
} sb_proc;

/*
 * Starts argv[0] (searched in PATH) with argv; stdout and stderr go to log_path (appended) or
 * are inherited when log_path is NULL. The child dies with the parent (PR_SET_PDEATHSIG).
 */
sb_err sb_proc_spawn(sb_proc *p, const char *const *argv, const char *log_path, sb_errmsg *em);

/* Whether the child still runs (reaps it if not; *status gets its wait status if given). */
bool sb_proc_alive(sb_proc *p, int *status);

/*
 * Sends sig (SIGTERM), waits up to grace_ms, then SIGKILL and reap. Accepts a zeroed sb_proc.
 * Returns false when the child had to be killed with SIGKILL after the grace period.
 */
bool sb_proc_stop(sb_proc *p, int sig, int64_t grace_ms);

/* A free TCP port on 127.0.0.1 (bound and released; the caller should use it promptly). */
sb_err sb_port_free(int *port, sb_errmsg *em);

/* Waits until a TCP connect to 127.0.0.1:port succeeds, up to timeout_ms. */
sb_err sb_port_wait(int port, int64_t timeout_ms);

/* mkdir -p with mode 0750. */
sb_err sb_mkdirs(const char *path, sb_errmsg *em);

/* Whether an executable named name is found in PATH (or is a path that exists). */
bool sb_which(const char *name, char *out, size_t len);

#endif
