/*
 * store_conformance_memory_test.c - runs the store conformance suite against the memory backend
 * (sync: always, and snapshots every 1000 records so compaction runs during the suite).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/store_conformance.h"

typedef struct mem_ctx {
    char base[512];
    char dir[600];
    int n;
} mem_ctx;

static sb_store *open_memory(void *arg, bool fresh, sb_errmsg *em)
{
    mem_ctx *c = arg;
    if (fresh)
        snprintf(c->dir, sizeof(c->dir), "%s/mem-%d", c->base, ++c->n);
    sb_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.storage.type = SB_STORE_MEMORY;
    cfg.storage.memory.dir = c->dir;
    cfg.storage.memory.sync = SB_SYNC_ALWAYS;
    cfg.storage.memory.snapshot_every = 1000;
    sb_store *s = NULL;
    return sb_store_open(&cfg, &s, em) == SB_OK ? s : NULL;
}

int main(void)
{
    static mem_ctx ctx;
    const char *tmp = getenv("SB_TEST_TMPDIR");
    snprintf(ctx.base, sizeof(ctx.base), "%s/store_conformance_memory.%ld", tmp ? tmp : "/tmp",
             (long)getpid());
    sb_store_backend b = {.name = "memory", .open = open_memory, .ctx = &ctx};
    int failed = sb_store_conformance_run(&b);
    if (!failed) { /* keep the directories of a failed run for a look */
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ctx.base);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", ctx.base);
    }
    return failed;
}
