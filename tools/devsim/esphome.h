/*
 * esphome.h - devsim --transport esphome: simulated ESPHome devices on an MQTT broker.
 */
#ifndef SB_DEVSIM_ESPHOME_H
#define SB_DEVSIM_ESPHOME_H

#include <signal.h>
#include <stdint.h>

typedef struct devsim_esph_opts {
    const char *url;     /* the broker */
    long devices;        /* cycling sensor node, plug, light */
    int64_t period_ms;   /* how often the sensors publish */
    int64_t duration_ms; /* 0 = until a signal */
    const char *record;  /* every received command, one line each; may be NULL */
} devsim_esph_opts;

/* Runs until *stop or the duration; publishes every device's status "offline" at the end (what
 * the broker's last will would). Returns the exit code. */
int devsim_esphome_run(const devsim_esph_opts *o, volatile sig_atomic_t *stop);

#endif
