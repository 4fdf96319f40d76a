/*
 * commands.h - the sub-commands of the `switchboard` binary, one file each (cmd_<name>.c).
 *
 * `switchboard [-c FILE] <command> [args...]`: main.c parses the global options and calls the
 * command with the arguments after the command word (argv[0] is the command word itself).
 * config_path is the -c FILE (or $SWITCHBOARD_CONFIG), NULL for the built-in defaults.
 * A command returns the process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

typedef int (*sb_cmd_fn)(const char *config_path, int argc, char **argv);

typedef struct sb_cmd {
    const char *name;
    const char *usage; /* one line: "config default|check FILE|docs" */
    const char *help;  /* one line */
    sb_cmd_fn fn;
} sb_cmd;

int sb_cmd_run(const char *config_path, int argc, char **argv);
int sb_cmd_config(const char *config_path, int argc, char **argv);
int sb_cmd_version(const char *config_path, int argc, char **argv);
/* switchboard backup export DIR|FILE.tar.gz / backup import DIR|FILE.tar.gz [--replace] */
int sb_cmd_backup(const char *config_path, int argc, char **argv);
/* switchboard store copy --from CONFIG --to CONFIG */
int sb_cmd_store(const char *config_path, int argc, char **argv);
/* switchboard ctl ...: the REST API from the command line (ctl.h) */
int sb_cmd_ctl(const char *config_path, int argc, char **argv);
/* switchboard status [SERVICE] */
int sb_cmd_status(const char *config_path, int argc, char **argv);
/* switchboard bus acl [--dir DIR] */
int sb_cmd_bus(const char *config_path, int argc, char **argv);

#endif
