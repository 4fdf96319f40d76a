/*
 * tasmota.h - devsim --transport tasmota: simulated Tasmota devices on an MQTT broker.
 */
#ifndef SB_DEVSIM_TASMOTA_H
#define SB_DEVSIM_TASMOTA_H

#include <signal.h>
#include <stdint.h>

typedef struct devsim_tas_opts {
    const char *url;     /* the broker */
    long devices;        /* cycling sensor, plug, light */
    int64_t tele_ms;     /* TelePeriod: STATE and SENSOR of every device */
    int64_t duration_ms; /* 0 = until a signal */
    const char *record;  /* every received command, one line each; may be NULL */
} devsim_tas_opts;

/* Runs until *stop or the duration; publishes the Offline LWT of every device at the end.
 * Returns the exit code. */
int devsim_tasmota_run(const devsim_tas_opts *o, volatile sig_atomic_t *stop);

#endif
