/*
 * sim.h - the simulated MySensors nodes, independent of the transport: they emit lines through
 * a callback and react to received lines. Single-threaded; the caller's loop drives it.
 *
 * Every node presents itself (library version, sketch name and version) and three sensors:
 * child 1 S_TEMP (V_TEMP), child 2 S_HUM (V_HUM), child 3 S_BINARY relay (V_STATUS), and
 * reports its battery level. A node started without an id asks for one (I_ID_REQUEST) and
 * presents itself once the controller answers.
 */
#ifndef SB_DEVSIM_SIM_H
#define SB_DEVSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gateways/mysensors/mys_proto.h"

#define DEVSIM_CHILD_TEMP  1
#define DEVSIM_CHILD_HUM   2
#define DEVSIM_CHILD_RELAY 3

typedef struct devsim_node {
    uint8_t id; /* 255 while it has none */
    bool relay;
    bool imperial;
    int battery;
    unsigned round; /* value rounds sent */
    /* --sequence: values written per field (temperature, humidity) and the last one */
    uint64_t seq_count[2], seq_last[2];
} devsim_node;

/* Sends one line to the controller; returns false when the line could not be written. */
typedef bool (*devsim_emit)(void *ctx, const sb_mys_line *line);

typedef struct devsim {
    devsim_node *nodes;
    size_t n_nodes;
    devsim_emit emit;
    void *emit_ctx;
    FILE *record;         /* borrowed; every received frame, one line each; may be NULL */
    uint64_t values_sent; /* value frames (temperature, humidity, battery) */
    uint64_t frames_sent;
    uint64_t frames_received;
    uint64_t frames_bad;
    size_t next_value; /* round-robin cursor over the nodes */
    bool sequence;     /* values are 1, 2, 3 ... across all fields (temperature, humidity) */
    uint64_t seq;      /* the last sequence value written */
} devsim;

/*
 * Sets up n nodes: the first with_id get ids first_id, first_id+1 ...; the rest start without
 * an id. Returns false on allocation failure. Free with devsim_free().
 */
bool devsim_init(devsim *sim, size_t n, unsigned first_id, size_t with_id);
void devsim_free(devsim *sim);

/* The gateway-ready banner, then every node's presentation (or its id request). */
void devsim_start(devsim *sim);

/* Sends one value frame from the next node in turn (temperature, humidity or battery). */
void devsim_send_value(devsim *sim);

/*
 * With --sequence: one line per field that got values, "devsim: seq <node> <child> <type>
 * <count> <last>" (count values written, the last one), so a test can check what arrived.
 */
void devsim_print_sequence(const devsim *sim, FILE *out);

/* Handles one line received from the controller (text as read, without the line end). */
void devsim_receive(devsim *sim, const char *text, size_t len);

#endif
