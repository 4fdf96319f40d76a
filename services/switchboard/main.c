/*
 * switchboard - the all-in-one binary: `switchboard [-c FILE] <command> [args...]`.
 */
#include "commands.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sb_cmd commands[] = {
    {"run", "run", "run every service of the configuration in one process", sb_cmd_run},
    {"config", "config default|check FILE|show|docs",
     "print the default configuration, validate a file, show the effective one", sb_cmd_config},
    {"backup", "backup export|import DIR|FILE.tar.gz",
     "export the store to a backup, or import one (--replace)", sb_cmd_backup},
    {"store", "store copy --from CONFIG --to CONFIG",
     "copy every document from one store to another", sb_cmd_store},
    {"ctl", "ctl [--url URL] [--json] COMMAND ...",
     "the REST API from the command line (ctl --help lists the commands)", sb_cmd_ctl},
    {"status", "status [SERVICE]",
     "the services online (exit 0 when all are; with SERVICE: this host's instance)",
     sb_cmd_status},
    {"bus", "bus acl [--dir DIR]",
     "print the bus ACL, or write a deployment's broker users and ACL", sb_cmd_bus},
    {"version", "version", "print the version and the library versions", sb_cmd_version},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard [-c FILE] <command> [args...]\n\n"
                 "Switchboard, an IoT controller.\n\n"
                 "options:\n"
                 "  -c, --config FILE  configuration file (default: $SWITCHBOARD_CONFIG, else "
                 "built-in defaults)\n\ncommands:\n");
    for (size_t i = 0; i < SB_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-38s %s\n", commands[i].usage, commands[i].help);
}

int main(int argc, char **argv)
{
    const char *config = getenv("SWITCHBOARD_CONFIG");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config = argv[i] + 9;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "switchboard: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < SB_ARRAY_LEN(commands); k++) {
        if (strcmp(argv[i], commands[k].name) == 0)
            return commands[k].fn(config && *config ? config : NULL, argc - i, argv + i);
    }
    fprintf(stderr, "switchboard: unknown command '%s'\n\n", argv[i]);
    usage(stderr);
    return 2;
}
