/*
 * bus_peer - a bus client in its own process, for tests that kill it.
 *
 *   bus_peer URL PREFIX INSTANCE TOPIC OUTFILE
 *
 * Connects as service "peer" with a persistent session (fixed client id, clean start off),
 * subscribes to TOPIC at QoS 1 and appends every payload as a line to OUTFILE (flushed per
 * message). Its retained status turns online once the subscription is in place (the broker
 * handles a connection's packets in order). Runs until killed.
 */
#include "core/bus.h"
#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *out;

static void on_msg(void *ctx, const sb_bus_msg *m)
{
    (void)ctx;
    fwrite(m->payload, 1, m->len, out);
    fputc('\n', out);
    fflush(out);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bus_peer URL PREFIX INSTANCE TOPIC OUTFILE\n");
        return 2;
    }
    out = fopen(argv[5], "a");
    if (!out)
        return 1;
    sb_config_bus cfg = {.url = argv[1],
                         .topic_prefix = argv[2],
                         .keepalive_ms = 5000,
                         .connect_timeout_ms = 2000,
                         .reconnect_min_ms = 50,
                         .reconnect_max_ms = 500,
                         .session_expiry_ms = 3600000,
                         .max_pending = 1000};
    sb_bus_opts o = {.cfg = &cfg, .service = "peer", .instance = argv[3]};
    sb_bus *bus;
    sb_errmsg em = {0};
    if (sb_bus_create(&o, &bus, &em) != SB_OK ||
        sb_bus_subscribe(bus, argv[4], 1, on_msg, NULL, &em) != SB_OK ||
        sb_bus_start(bus, 5000, &em) != SB_OK) {
        fprintf(stderr, "bus_peer: %s\n", em.text);
        return 1;
    }
    for (;;)
        sb_time_sleep_ms(1000);
}
