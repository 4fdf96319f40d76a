/*
 * cmd_backup.c - `switchboard [-c FILE] backup export DIR|FILE.tar.gz` and
 * `switchboard [-c FILE] backup import DIR|FILE.tar.gz [--replace]`: the store named by the
 * configuration to or from a backup (storage/backup.h). Prints one summary line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "services/switchboard/commands.h"
#include "storage/backup.h"

static int usage(void)
{
    fprintf(stderr, "usage: switchboard [-c FILE] backup export DIR|FILE.tar.gz\n"
                    "       switchboard [-c FILE] backup import DIR|FILE.tar.gz [--replace]\n");
    return 2;
}

static int run(const char *config_path, bool export, const char *path, bool replace)
{
    sb_config *cfg = NULL;
    sb_store *s = NULL;
    sb_errmsg em = {0};
    sb_backup_stats st = {0};
    sb_err err = sb_config_load(config_path, &cfg, &em);
    if (!err)
        err = sb_store_open(cfg, &s, &em);
    if (!err)
        err = export ? sb_backup_export(s, path, &st, &em)
                     : sb_backup_import(s, path, replace, &st, &em);
    if (err)
        fprintf(stderr, "switchboard backup %s: %s\n", export ? "export" : "import",
                sb_errmsg_str(&em, err));
    else if (export)
        printf("exported %zu documents of %zu kinds to %s\n", st.docs, st.kinds, path);
    else
        printf("imported %zu documents of %zu kinds from %s (%zu existing kept, %zu cleared)\n",
               st.docs, st.kinds, path, st.skipped, st.removed);
    sb_store_close(s);
    sb_config_free(cfg);
    return err ? 1 : 0;
}

int sb_cmd_backup(const char *config_path, int argc, char **argv)
{
    if (argc < 3)
        return usage();
    bool replace = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--replace") == 0)
            replace = true;
        else
            return usage();
    }
    if (strcmp(argv[1], "export") == 0 && !replace)
        return run(config_path, true, argv[2], false);
    if (strcmp(argv[1], "import") == 0)
        return run(config_path, false, argv[2], replace);
    return usage();
}
