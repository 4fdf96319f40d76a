/*
 * main.c - devsim: N simulated MySensors nodes behind a serial (pty), ethernet (TCP) or MQTT
 * gateway, for testing the controller without radios. See `devsim --help`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "tools/devsim/esphome.h"
#include "tools/devsim/io.h"
#include "tools/devsim/tasmota.h"
#include "tools/devsim/z2m.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct args {
    devsim_io_opts io;
    long nodes, no_id, first_id, count, garbage;
    double rate;
    int64_t duration_ms, linger_ms;
    const char *record;
    bool sequence;
    bool tasmota;
    bool esphome;
    bool zigbee2mqtt;
    bool prefix_set;
    int attribute_output; /* 0 json, 1 attribute_and_json, 2 attribute */
    int64_t tele_ms;
} args;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: devsim [options]\n"
        "Simulates MySensors nodes (temperature, humidity, relay, battery) behind a gateway.\n"
        "  -t, --transport pty|tcp|mqtt  gateway kind (default pty)\n"
        "  -n, --nodes N        simulated nodes (default 3, at most 254)\n"
        "      --first-id ID    id of the first node (default 1)\n"
        "      --no-id K        the last K nodes start without an id and ask for one\n"
        "  -r, --rate R         value frames per second, all nodes together (default 1)\n"
        "  -c, --count N        stop after N value frames (default: no limit)\n"
        "  -d, --duration D     stop after D (\"30s\", \"5m\", ms; default: no limit)\n"
        "      --linger D       after --count, keep answering for D (default 500ms)\n"
        "      --record FILE    append every received frame to FILE, one line each\n"
        "      --garbage N      after start-up, send N malformed frames (controller tests)\n"
        "      --sequence       values are 1, 2, 3 ... over all nodes (temperature and humidity\n"
        "                       in turn); at exit one line per field: \"devsim: seq <node>\n"
        "                       <child> <type> <count> <last>\" on stdout\n"
        "      --link PATH      pty: also symlink PATH to the slave device\n"
        "      --bind ADDR      tcp: listen address (default 127.0.0.1)\n"
        "  -p, --port PORT      tcp: listen port (default 5003, 0 = any free)\n"
        "      --url URL        mqtt: broker (default tcp://127.0.0.1:1883)\n"
        "      --prefix P       mqtt: topics P-out/... and P-in/... (default mygateway1)\n"
        "  -t tasmota           instead: N Tasmota devices (sensor, 2-relay plug, light) on --url\n"
        "      --tele-period D  tasmota: tele STATE/SENSOR period (default 10s)\n"
        "  -t esphome           instead: N ESPHome devices (sensor node, plug, light) on --url;\n"
        "                       --tele-period is how often their sensors publish\n"
        "  -t zigbee2mqtt       instead: a Zigbee2MQTT bridge (plug, climate sensor, colour bulb,\n"
        "                       a group) on --url; --prefix is its base topic (default\n"
        "                       zigbee2mqtt), --tele-period how often devices publish state\n"
        "      --attrs          zigbee2mqtt: also <name>/<attribute> topics (attribute_and_json)\n"
        "      --attrs-only     zigbee2mqtt: only <name>/<attribute> topics (output attribute)\n"
        "  -h, --help           this help\n"
        "The first stdout line says where the controller connects (\"devsim: pty /dev/pts/3\").\n");
}

static int num_arg(const char *opt, const char *v, long min, long max, long *out)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        fprintf(stderr, "devsim: %s '%s': expected a number %ld..%ld\n", opt, v, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

static int dur_arg(const char *opt, const char *v, int64_t *out)
{
    if (sb_duration_parse(v, out) != SB_OK || *out < 0) {
        fprintf(stderr, "devsim: %s '%s': expected a duration (\"10s\", \"5m\", ms)\n", opt, v);
        return -1;
    }
    return 0;
}

/* One option; returns -1 on a bad value, 1 for --help. */
static int apply(args *a, int c, const char *v)
{
    long n = 0;
    char *end = NULL;
    switch (c) {
    case 't':
        a->tasmota = strcmp(v, "tasmota") == 0;
        a->esphome = strcmp(v, "esphome") == 0;
        a->zigbee2mqtt = strcmp(v, "zigbee2mqtt") == 0;
        if (a->tasmota || a->esphome || a->zigbee2mqtt)
            return 0;
        if (strcmp(v, "pty") && strcmp(v, "tcp") && strcmp(v, "mqtt")) {
            fprintf(stderr, "devsim: --transport '%s': expected pty, tcp or mqtt\n", v);
            return -1;
        }
        a->io.kind = v[0] == 'p' ? DEVSIM_PTY : v[0] == 't' ? DEVSIM_TCP : DEVSIM_MQTT;
        return 0;
    case 'n':
        return num_arg("--nodes", v, 1, 254, &a->nodes);
    case 'F':
        return num_arg("--first-id", v, 1, 254, &a->first_id);
    case 'K':
        return num_arg("--no-id", v, 0, 254, &a->no_id);
    case 'r':
        a->rate = strtod(v, &end);
        if (!*v || *end || !(a->rate > 0 && a->rate <= 100000)) {
            fprintf(stderr, "devsim: --rate '%s': expected 0 < R <= 100000\n", v);
            return -1;
        }
        return 0;
    case 'c':
        return num_arg("--count", v, 0, 1000000000L, &a->count);
    case 'd':
        return dur_arg("--duration", v, &a->duration_ms);
    case 'L':
        return dur_arg("--linger", v, &a->linger_ms);
    case 'G':
        return num_arg("--garbage", v, 0, 1000, &a->garbage);
    case 'S':
        a->sequence = true;
        return 0;
    case 'A':
        a->attribute_output = 1;
        return 0;
    case 'O':
        a->attribute_output = 2;
        return 0;
    case 'R':
        a->record = v;
        return 0;
    case 'l':
        a->io.link = v;
        return 0;
    case 'b':
        a->io.bind = v;
        return 0;
    case 'p':
        if (num_arg("--port", v, 0, 65535, &n))
            return -1;
        a->io.port = (int)n;
        return 0;
    case 'u':
        a->io.url = v;
        return 0;
    case 'P':
        a->io.prefix = v;
        a->prefix_set = true;
        return 0;
    case 'T':
        return dur_arg("--tele-period", v, &a->tele_ms);
    case 'h':
        usage(stdout);
        return 1;
    default:
        usage(stderr);
        return -1;
    }
}

static int parse_args(int argc, char **argv, args *a)
{
    static const struct option opts[] = {
        {"transport", 1, NULL, 't'}, {"nodes", 1, NULL, 'n'},       {"first-id", 1, NULL, 'F'},
        {"no-id", 1, NULL, 'K'},     {"rate", 1, NULL, 'r'},        {"count", 1, NULL, 'c'},
        {"duration", 1, NULL, 'd'},  {"linger", 1, NULL, 'L'},      {"record", 1, NULL, 'R'},
        {"link", 1, NULL, 'l'},      {"bind", 1, NULL, 'b'},        {"port", 1, NULL, 'p'},
        {"url", 1, NULL, 'u'},       {"prefix", 1, NULL, 'P'},      {"help", 0, NULL, 'h'},
        {"garbage", 1, NULL, 'G'},   {"tele-period", 1, NULL, 'T'}, {"sequence", 0, NULL, 'S'},
        {"attrs", 0, NULL, 'A'},     {"attrs-only", 0, NULL, 'O'},  {NULL, 0, NULL, 0},
    };
    *a = (args){.io = {.kind = DEVSIM_PTY,
                       .port = 5003,
                       .url = "tcp://127.0.0.1:1883",
                       .prefix = "mygateway1"},
                .nodes = 3,
                .first_id = 1,
                .rate = 1,
                .linger_ms = 500,
                .tele_ms = 10000};
    int c;
    while ((c = getopt_long(argc, argv, "t:n:r:c:d:p:h", opts, NULL)) != -1) {
        int r = apply(a, c, optarg);
        if (r)
            return r;
    }
    if (optind < argc) {
        fprintf(stderr, "devsim: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (a->no_id > a->nodes || a->first_id + (a->nodes - a->no_id) - 1 > 254) {
        fprintf(stderr, "devsim: --nodes/--first-id/--no-id: ids would leave 1..254\n");
        return -1;
    }
    return 0;
}

/* Runs until a signal, --duration, or --count plus --linger. */
static void run(const args *a, devsim *sim, devsim_io *io)
{
    int64_t start = sb_time_mono_ms(), next = start, count_done = 0;
    double period = 1000.0 / a->rate, debt = 0;
    bool started = false;
    while (!stop_flag) {
        int64_t now = sb_time_mono_ms();
        if (a->duration_ms && now - start >= a->duration_ms)
            break;
        bool counted = a->count && sim->values_sent >= (uint64_t)a->count;
        if (counted && !count_done)
            count_done = now;
        if (counted && now - count_done >= a->linger_ms)
            break;
        if (started && !counted && now >= next) {
            devsim_send_value(sim);
            debt += period;
            next = start + (int64_t)debt;
            if (next < now - 1000) /* fell far behind (stalled): do not burst */
                start = now, debt = 0, next = now;
            continue;
        }
        int64_t wait = started && !counted ? next - now : 100;
        if (devsim_io_poll(io, sim, (int)(wait < 0 ? 0 : wait > 100 ? 100 : wait))) {
            devsim_start(sim);
            devsim_io_garbage(io, a->garbage);
            started = true;
        }
    }
}

int main(int argc, char **argv)
{
    args a;
    int r = parse_args(argc, argv, &a);
    if (r)
        return r > 0 ? 0 : 2;
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (a.tasmota) {
        devsim_tas_opts to = {.url = a.io.url,
                              .devices = a.nodes,
                              .tele_ms = a.tele_ms > 0 ? a.tele_ms : 10000,
                              .duration_ms = a.duration_ms,
                              .record = a.record};
        return devsim_tasmota_run(&to, &stop_flag);
    }
    if (a.esphome) {
        devsim_esph_opts eo = {.url = a.io.url,
                               .devices = a.nodes,
                               .period_ms = a.tele_ms > 0 ? a.tele_ms : 10000,
                               .duration_ms = a.duration_ms,
                               .record = a.record};
        return devsim_esphome_run(&eo, &stop_flag);
    }
    if (a.zigbee2mqtt) {
        devsim_z2m_opts zo = {.url = a.io.url,
                              .base_topic = a.prefix_set ? a.io.prefix : NULL,
                              .period_ms = a.tele_ms > 0 ? a.tele_ms : 10000,
                              .duration_ms = a.duration_ms,
                              .record = a.record,
                              .attributes = a.attribute_output > 0,
                              .no_json = a.attribute_output == 2};
        return devsim_z2m_run(&zo, &stop_flag);
    }

    FILE *record = NULL;
    devsim sim;
    devsim_io *io = NULL;
    sb_errmsg em = {{0}};
    int rc = 1;
    if (a.record && !(record = fopen(a.record, "a"))) {
        perror(a.record);
        goto fail;
    }
    if (!devsim_init(&sim, (size_t)a.nodes, (unsigned)a.first_id, (size_t)(a.nodes - a.no_id)))
        goto fail;
    sim.record = record;
    sim.sequence = a.sequence;
    sim.emit = devsim_io_send;
    if (devsim_io_open(&a.io, &io, &em) != SB_OK) {
        fprintf(stderr, "devsim: %s\n", em.text);
        devsim_free(&sim);
        goto fail;
    }
    sim.emit_ctx = io;
    run(&a, &sim, io);
    fprintf(stderr,
            "devsim: sent %llu frames (%llu values), received %llu (%llu bad), %llu dropped\n",
            (unsigned long long)sim.frames_sent, (unsigned long long)sim.values_sent,
            (unsigned long long)sim.frames_received, (unsigned long long)sim.frames_bad,
            (unsigned long long)devsim_io_dropped(io));
    if (sim.sequence)
        devsim_print_sequence(&sim, stdout);
    devsim_io_close(io);
    devsim_free(&sim);
    rc = 0;
fail:
    if (record)
        fclose(record);
    return rc;
}
