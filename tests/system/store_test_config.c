/*
 * store_test_config.c - see store_test_config.h. A backend joins the durability test by adding
 * its branch here and an add_test line in tests/system/CMakeLists.txt.
 */
#include "tests/system/store_test_config.h"

#include <stdio.h>
#include <string.h>

sb_err sb_test_store_config(const char *backend, const char *dir, sb_config *cfg, sb_errmsg *em)
{
    static char path[1024];
    memset(cfg, 0, sizeof(*cfg));
    if (strcmp(backend, "memory") == 0) {
        snprintf(path, sizeof(path), "%s", dir);
        cfg->storage.type = SB_STORE_MEMORY;
        cfg->storage.memory.dir = path;
        cfg->storage.memory.sync = SB_SYNC_ALWAYS;
        cfg->storage.memory.snapshot_every = 200; /* kills land inside compactions too */
        return SB_OK;
    }
    if (strcmp(backend, "sqlite") == 0) {
        snprintf(path, sizeof(path), "%s/store.db", dir);
        cfg->storage.type = SB_STORE_SQLITE;
        cfg->storage.sqlite.path = path;
        cfg->storage.sqlite.sync = SB_SYNC_ALWAYS;
        cfg->storage.sqlite.busy_timeout_ms = 5000;
        return SB_OK;
    }
    return sb_fail(em, SB_ERR_INVALID, "durability test: unknown backend '%s'", backend);
}
