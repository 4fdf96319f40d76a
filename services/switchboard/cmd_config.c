/* switchboard config default | check FILE | show | docs */
#include "commands.h"

#include "core/config.h"

#include <stdio.h>
#include <string.h>

static int check(const char *path)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    if (sb_config_load(path, &cfg, &em) != SB_OK) {
        fprintf(stderr, "%s\n", em.text);
        return 1;
    }
    printf("%s: ok\n", path);
    sb_config_free(cfg);
    return 0;
}

static int show(const char *config_path)
{
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    if (sb_config_load(config_path, &cfg, &em) != SB_OK) {
        fprintf(stderr, "%s\n", em.text);
        return 1;
    }
    sb_config_print(cfg, stdout);
    sb_config_free(cfg);
    return 0;
}

int sb_cmd_config(const char *config_path, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "default") == 0) {
        sb_config_print_default(stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check(argv[2]);
    if (argc == 2 && strcmp(argv[1], "show") == 0)
        return show(config_path);
    if (argc == 2 && strcmp(argv[1], "docs") == 0) {
        sb_options_print_markdown(sb_config_table, stdout, "");
        return 0;
    }
    fprintf(stderr, "usage: switchboard config default      print every key with its default\n"
                    "       switchboard config check FILE   validate FILE (exit 0 or 1)\n"
                    "       switchboard [-c FILE] config show   the effective configuration\n"
                    "       switchboard config docs         the option reference as Markdown\n");
    return 2;
}
