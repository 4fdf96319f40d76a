/*
 * store_conformance_mongodb_test.c - runs the shared store conformance suite against MongoDB
 * when SWITCHBOARD_TEST_MONGODB_URI names a server; otherwise every test reports SKIPPED.
 * Each fresh store is a new database (switchboard_test_<pid>_<n>), dropped at the end.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_conformance.h"

#define MAX_DBS 256

typedef struct mg_ctx {
    const char *uri;
    char db[128];
    char *used[MAX_DBS];
    int n;
} mg_ctx;

static sb_store *open_mongo(void *ctx, bool fresh, sb_errmsg *em)
{
    mg_ctx *c = ctx;
    if ((fresh || !c->db[0]) && c->n < MAX_DBS) {
        snprintf(c->db, sizeof(c->db), "switchboard_test_%d_%d", (int)getpid(), c->n);
        c->used[c->n++] = strdup(c->db);
    }
    sb_config cfg = {0};
    cfg.storage.type = SB_STORE_MONGODB;
    cfg.storage.mongodb.uri = (char *)c->uri;
    cfg.storage.mongodb.database = c->db;
    cfg.storage.mongodb.collection_prefix = "";
    cfg.storage.mongodb.connect_timeout_ms = 5000;
    cfg.storage.mongodb.pool_max = 8;
    sb_store *s = NULL;
    return sb_store_open(&cfg, &s, em) == SB_OK ? s : NULL;
}

/* Drops the databases the run created. */
static void drop_all(mg_ctx *c)
{
    mongoc_client_t *cl = mongoc_client_new(c->uri);
    for (int i = 0; i < c->n; i++) {
        if (cl) {
            mongoc_database_t *db = mongoc_client_get_database(cl, c->used[i]);
            mongoc_database_drop(db, NULL);
            mongoc_database_destroy(db);
        }
        free(c->used[i]);
    }
    mongoc_client_destroy(cl);
}

int main(void)
{
    mg_ctx ctx = {.uri = getenv("SWITCHBOARD_TEST_MONGODB_URI")};
    sb_store_backend b = {.name = "mongodb", .open = open_mongo, .ctx = &ctx};
    if (!ctx.uri || !*ctx.uri)
        b.skip_reason = "SWITCHBOARD_TEST_MONGODB_URI is not set (no MongoDB server to test)";
    mongoc_init();
    int failed = sb_store_conformance_run(&b);
    if (!b.skip_reason)
        drop_all(&ctx);
    mongoc_cleanup();
    return failed;
}
