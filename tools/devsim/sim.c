/*
 * sim.c - simulated MySensors nodes (sim.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tools/devsim/sim.h"

static bool emit(devsim *sim, unsigned node, unsigned child, unsigned cmd, unsigned ack,
                 unsigned type, const char *payload)
{
    sb_mys_line l;
    if (sb_mys_line_set(&l, node, child, cmd, ack, type, payload) != SB_OK)
        return false;
    if (!sim->emit(sim->emit_ctx, &l))
        return false;
    sim->frames_sent++;
    return true;
}

bool devsim_init(devsim *sim, size_t n, unsigned first_id, size_t with_id)
{
    memset(sim, 0, sizeof(*sim));
    sim->nodes = calloc(n ? n : 1, sizeof(*sim->nodes));
    if (!sim->nodes)
        return false;
    sim->n_nodes = n;
    for (size_t i = 0; i < n; i++) {
        devsim_node *nd = &sim->nodes[i];
        nd->id = i < with_id && first_id + i <= 254 ? (uint8_t)(first_id + i) : SB_MYS_BROADCAST;
        nd->battery = 100 - (int)(i % 30);
    }
    return true;
}

void devsim_free(devsim *sim)
{
    if (sim)
        SB_FREE(sim->nodes);
}

static void send_relay(devsim *sim, const devsim_node *nd)
{
    emit(sim, nd->id, DEVSIM_CHILD_RELAY, SB_MYS_SET, 0, SB_MYS_V_STATUS, nd->relay ? "1" : "0");
}

static void send_temp(devsim *sim, const devsim_node *nd)
{
    char buf[16];
    double c = 20.0 + nd->id % 5 + 0.1 * (nd->round % 10);
    snprintf(buf, sizeof(buf), "%.1f", nd->imperial ? c * 9 / 5 + 32 : c);
    emit(sim, nd->id, DEVSIM_CHILD_TEMP, SB_MYS_SET, 0, SB_MYS_V_TEMP, buf);
}

static void present(devsim *sim, devsim_node *nd)
{
    char name[32];
    snprintf(name, sizeof(name), "devsim node %u", nd->id);
    emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_PRESENTATION, 0, SB_MYS_S_ARDUINO_NODE, "2.3.2");
    emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_SKETCH_NAME, name);
    emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_SKETCH_VERSION, "1.0");
    emit(sim, nd->id, DEVSIM_CHILD_TEMP, SB_MYS_PRESENTATION, 0, SB_MYS_S_TEMP, "temperature");
    emit(sim, nd->id, DEVSIM_CHILD_HUM, SB_MYS_PRESENTATION, 0, SB_MYS_S_HUM, "humidity");
    emit(sim, nd->id, DEVSIM_CHILD_RELAY, SB_MYS_PRESENTATION, 0, SB_MYS_S_BINARY, "relay");
    emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_CONFIG, "0");
    emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_TIME, "");
    send_relay(sim, nd);
}

void devsim_start(devsim *sim)
{
    emit(sim, SB_MYS_GATEWAY_NODE, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_GATEWAY_READY,
         "Gateway startup complete.");
    for (size_t i = 0; i < sim->n_nodes; i++) {
        devsim_node *nd = &sim->nodes[i];
        if (nd->id == SB_MYS_BROADCAST)
            emit(sim, SB_MYS_BROADCAST, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_ID_REQUEST,
                 "");
        else
            present(sim, nd);
    }
}

/* --sequence: temperature and humidity in turn, each value the next number of one counter. A
 * value that could not be written is not counted (and its number is used again). */
static void send_sequence(devsim *sim, devsim_node *nd)
{
    int k = nd->round % 2;
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(sim->seq + 1));
    if (!emit(sim, nd->id, k ? DEVSIM_CHILD_HUM : DEVSIM_CHILD_TEMP, SB_MYS_SET, 0,
              k ? SB_MYS_V_HUM : SB_MYS_V_TEMP, buf))
        return;
    sim->seq++;
    nd->seq_count[k]++;
    nd->seq_last[k] = sim->seq;
}

void devsim_print_sequence(const devsim *sim, FILE *out)
{
    for (size_t i = 0; i < sim->n_nodes; i++) {
        const devsim_node *nd = &sim->nodes[i];
        for (int k = 0; k < 2; k++)
            if (nd->seq_count[k])
                fprintf(out, "devsim: seq %u %d %d %llu %llu\n", nd->id,
                        k ? DEVSIM_CHILD_HUM : DEVSIM_CHILD_TEMP, k ? SB_MYS_V_HUM : SB_MYS_V_TEMP,
                        (unsigned long long)nd->seq_count[k], (unsigned long long)nd->seq_last[k]);
    }
    fflush(out);
}

void devsim_send_value(devsim *sim)
{
    for (size_t tries = 0; tries < sim->n_nodes; tries++) {
        devsim_node *nd = &sim->nodes[sim->next_value];
        sim->next_value = (sim->next_value + 1) % sim->n_nodes;
        if (nd->id == SB_MYS_BROADCAST)
            continue;
        char buf[16];
        if (sim->sequence) {
            send_sequence(sim, nd);
            nd->round++;
            sim->values_sent++;
            return;
        }
        switch (nd->round % 3) {
        case 0:
            send_temp(sim, nd);
            break;
        case 1:
            snprintf(buf, sizeof(buf), "%u", 40 + (nd->id + nd->round) % 30);
            emit(sim, nd->id, DEVSIM_CHILD_HUM, SB_MYS_SET, 0, SB_MYS_V_HUM, buf);
            break;
        default:
            if (nd->battery > 1 && nd->round % 30 == 29)
                nd->battery--;
            snprintf(buf, sizeof(buf), "%d", nd->battery);
            emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_BATTERY_LEVEL, buf);
        }
        nd->round++;
        sim->values_sent++;
        return;
    }
}

static devsim_node *find(devsim *sim, unsigned id)
{
    for (size_t i = 0; i < sim->n_nodes; i++)
        if (sim->nodes[i].id == id)
            return &sim->nodes[i];
    return NULL;
}

/* I_ID_RESPONSE: the first node still without an id takes it and presents itself. */
static void take_id(devsim *sim, const sb_mys_line *l)
{
    char *end = NULL;
    long id = strtol(l->payload, &end, 10);
    if (!l->payload_len || *end || id < 1 || id > 254 || find(sim, (unsigned)id))
        return;
    devsim_node *nd = find(sim, SB_MYS_BROADCAST);
    if (!nd)
        return;
    nd->id = (uint8_t)id;
    present(sim, nd);
}

static void on_internal(devsim *sim, devsim_node *nd, const sb_mys_line *l)
{
    char buf[16];
    switch (l->type) {
    case SB_MYS_I_CONFIG:
        nd->imperial = strcmp(l->payload, "I") == 0;
        break;
    case SB_MYS_I_REBOOT:
    case SB_MYS_I_PRESENTATION:
        present(sim, nd);
        break;
    case SB_MYS_I_HEARTBEAT_REQUEST:
        snprintf(buf, sizeof(buf), "%u", nd->round);
        emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_HEARTBEAT_RESPONSE, buf);
        break;
    case SB_MYS_I_DISCOVER_REQUEST:
        emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_DISCOVER_RESPONSE, "0");
        break;
    case SB_MYS_I_SIGNAL_REPORT_REQUEST:
        emit(sim, nd->id, SB_MYS_NODE_CHILD, SB_MYS_INTERNAL, 0, SB_MYS_I_SIGNAL_REPORT_RESPONSE,
             "-60");
        break;
    default: /* I_TIME and the rest are only recorded */
        break;
    }
}

/* A set or request for one of the node's children. */
static void on_value(devsim *sim, devsim_node *nd, const sb_mys_line *l)
{
    if (l->ack && l->cmd == SB_MYS_SET) /* echo first, as the radio layer does */
        emit(sim, l->node, l->child, l->cmd, 1, l->type, l->payload);
    if (l->child == DEVSIM_CHILD_RELAY && l->type == SB_MYS_V_STATUS) {
        if (l->cmd == SB_MYS_SET)
            nd->relay = strcmp(l->payload, "1") == 0;
        send_relay(sim, nd);
    } else if (l->cmd == SB_MYS_REQ && l->child == DEVSIM_CHILD_TEMP) {
        send_temp(sim, nd);
    }
}

void devsim_receive(devsim *sim, const char *text, size_t len)
{
    sim->frames_received++;
    if (sim->record) {
        fprintf(sim->record, "%.*s\n", (int)len, text);
        fflush(sim->record);
    }
    sb_mys_line l;
    if (sb_mys_parse(text, len, &l, NULL) != SB_OK) {
        sim->frames_bad++;
        return;
    }
    if (l.node == SB_MYS_BROADCAST && l.cmd == SB_MYS_INTERNAL && l.type == SB_MYS_I_ID_RESPONSE) {
        take_id(sim, &l);
        return;
    }
    for (size_t i = 0; i < sim->n_nodes; i++) {
        devsim_node *nd = &sim->nodes[i];
        if (nd->id == SB_MYS_BROADCAST || (l.node != nd->id && l.node != SB_MYS_BROADCAST))
            continue;
        if (l.cmd == SB_MYS_INTERNAL)
            on_internal(sim, nd, &l);
        else if (l.cmd == SB_MYS_SET || l.cmd == SB_MYS_REQ)
            on_value(sim, nd, &l);
    }
}
