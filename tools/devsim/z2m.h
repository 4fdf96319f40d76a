/*
 * z2m.h - devsim --transport zigbee2mqtt: a simulated Zigbee2MQTT bridge and its devices on an
 * MQTT broker.
 */
#ifndef SB_DEVSIM_Z2M_H
#define SB_DEVSIM_Z2M_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct devsim_z2m_opts {
    const char *url;        /* the broker */
    const char *base_topic; /* "zigbee2mqtt" when NULL */
    int64_t period_ms;      /* every device publishes its state this often */
    int64_t duration_ms;    /* 0 = until a signal */
    const char *record;     /* every received /set and /get, one line each; may be NULL */
    bool attributes;        /* per-attribute topics too (output attribute_and_json) */
    bool no_json;           /* with attributes: no JSON state (output attribute) */
} devsim_z2m_opts;

/* Runs until *stop or the duration; at the end every device's availability and the bridge's
 * state become offline. Returns the exit code. */
int devsim_z2m_run(const devsim_z2m_opts *o, volatile sig_atomic_t *stop);

#endif
