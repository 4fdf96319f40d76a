/*
 * cmd_store.c - `switchboard store copy --from CONFIG --to CONFIG [--replace]`: copies every
 * document of the store the first configuration names into the store of the second (for
 * example sqlite -> mongodb when a site grows past one host). Prints one summary line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "services/switchboard/commands.h"
#include "storage/backup.h"

static int usage(void)
{
    fprintf(stderr, "usage: switchboard store copy --from CONFIG --to CONFIG [--replace]\n");
    return 2;
}

/* Loads a configuration and opens its store; names the file in the message on failure. */
static sb_err open_from(const char *path, sb_config **cfg, sb_store **s, sb_errmsg *em)
{
    sb_err err = sb_config_load(path, cfg, em);
    if (!err)
        err = sb_store_open(*cfg, s, em);
    if (err)
        sb_fail_wrap(em, err, "%s", path);
    return err;
}

static int copy(const char *from, const char *to, bool replace)
{
    sb_config *cf = NULL, *ct = NULL;
    sb_store *sf = NULL, *st = NULL;
    sb_errmsg em = {0};
    sb_backup_stats stats = {0};
    sb_err err = open_from(from, &cf, &sf, &em);
    if (!err)
        err = open_from(to, &ct, &st, &em);
    if (!err)
        err = sb_backup_copy(sf, st, replace, &stats, &em);
    if (err)
        fprintf(stderr, "switchboard store copy: %s\n", sb_errmsg_str(&em, err));
    else
        printf("copied %zu documents of %zu kinds from %s to %s (%zu existing kept, %zu "
               "cleared)\n",
               stats.docs, stats.kinds, from, to, stats.skipped, stats.removed);
    sb_store_close(sf);
    sb_store_close(st);
    sb_config_free(cf);
    sb_config_free(ct);
    return err ? 1 : 0;
}

int sb_cmd_store(const char *config_path, int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    bool replace = false;
    (void)config_path; /* both stores are named explicitly; -c is not used */
    if (argc < 2 || strcmp(argv[1], "copy") != 0)
        return usage();
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--replace") == 0)
            replace = true;
        else
            return usage();
    }
    if (!from || !to)
        return usage();
    return copy(from, to, replace);
}
