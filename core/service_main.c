/* service_main.c - the whole main() of a separate service binary. */
#include "core/service.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const sb_service_def *def)
{
    fprintf(out,
            "usage: switchboard-%s [-c FILE] [--log-level LEVEL]\n"
            "  %s\n"
            "  -c, --config FILE     configuration file (default: $SWITCHBOARD_CONFIG or "
            "built-in defaults)\n"
            "  -l, --log-level LEVEL error, warn, info, debug or trace\n"
            "  -V, --version         print the version\n",
            def->name, def->description);
}

/* Sets up logging from the config, with an optional command-line level on top. */
static int setup_logging(const sb_config *cfg, const char *level)
{
    sb_log_set_level((sb_log_level)cfg->log.level);
    sb_log_set_format((sb_log_format)cfg->log.format);
    if (level) {
        sb_log_level l;
        if (sb_log_level_parse(level, &l) != SB_OK) {
            fprintf(stderr, "unknown log level '%s'\n", level);
            return 2;
        }
        sb_log_set_level(l);
    }
    return 0;
}

int sb_service_main(int argc, char **argv, const sb_service_def *def)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = getenv("SWITCHBOARD_CONFIG"), *level = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:l:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'V':
            printf("switchboard-%s %s\n", def->name, SB_VERSION);
            return 0;
        case 'h':
            usage(stdout, def);
            return 0;
        default:
            usage(stderr, def);
            return 2;
        }
    }
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    if (sb_config_load(path && *path ? path : NULL, &cfg, &em) != SB_OK) {
        fprintf(stderr, "switchboard-%s: %s\n", def->name, em.text);
        return 1;
    }
    int rc = setup_logging(cfg, level);
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "[%s]", def->name);
    sb_log_thread_prefix(prefix);
    sb_stop_flag stop;
    sb_stop_init(&stop);
    if (rc == 0 && sb_signals_install(&stop, &em) != SB_OK) {
        sb_error(NULL, "%s", em.text);
        rc = 1;
    }
    if (rc == 0)
        rc = def->run(cfg, &stop);
    sb_config_free(cfg);
    return rc;
}
