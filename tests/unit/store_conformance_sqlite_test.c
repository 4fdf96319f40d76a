/*
 * store_conformance_sqlite_test.c - runs the shared store conformance suite against the sqlite
 * backend: each fresh store is a new file under $SB_TEST_TMPDIR, a reopen opens the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_conformance.h"

typedef struct sq_ctx {
    char path[512];
    int seq;
} sq_ctx;

static sb_store *open_sqlite(void *ctx, bool fresh, sb_errmsg *em)
{
    sq_ctx *c = ctx;
    if (fresh || !c->path[0]) {
        const char *tmp = getenv("SB_TEST_TMPDIR") ? getenv("SB_TEST_TMPDIR") : "/tmp";
        snprintf(c->path, sizeof(c->path), "%s/conformance-sqlite-%d/%d.db", tmp, (int)getpid(),
                 c->seq++);
    }
    sb_config cfg = {0};
    cfg.storage.type = SB_STORE_SQLITE;
    cfg.storage.sqlite.path = c->path;
    cfg.storage.sqlite.sync = SB_SYNC_BATCH;
    cfg.storage.sqlite.busy_timeout_ms = 5000;
    sb_store *s = NULL;
    return sb_store_open(&cfg, &s, em) == SB_OK ? s : NULL;
}

int main(void)
{
    sq_ctx ctx = {0};
    sb_store_backend b = {.name = "sqlite", .open = open_sqlite, .ctx = &ctx};
    return sb_store_conformance_run(&b);
}
