/*
 * store_conformance.h - one test suite that every config store backend must pass unchanged.
 *
 * A backend plugs in with a tiny driver, tests/unit/store_conformance_<backend>_test.c:
 *
 *     static sb_store *open_mine(void *ctx, bool fresh, sb_errmsg *em) { ... }
 *     int main(void)
 *     {
 *         sb_store_backend b = {.name = "sqlite", .open = open_mine, .ctx = &my_ctx};
 *         return sb_store_conformance_run(&b);
 *     }
 *
 * and one line in tests/unit/CMakeLists.txt:
 *
 *     sb_add_unit_test(store_conformance_sqlite_test
 *       SOURCES store_conformance_sqlite_test.c store_conformance.c store_conformance_ops.c
 *       LIBS sb_storage)
 *
 * A backend that needs a server it cannot find sets .skip_reason: every test then reports
 * SKIPPED (cmocka skip()) and the run returns SB_CONFORMANCE_SKIPPED, which ctest shows as
 * "Skipped" given the test property SKIP_RETURN_CODE 77. The MongoDB driver, for example:
 *
 *     const char *uri = getenv("SWITCHBOARD_TEST_MONGODB_URI");
 *     sb_store_backend b = {.name = "mongodb", .open = open_mongodb, .ctx = &ctx,
 *                           .skip_reason = uri ? NULL : "SWITCHBOARD_TEST_MONGODB_URI is not set"};
 *     return sb_store_conformance_run(&b);
 *
 *     set_tests_properties(store_conformance_mongodb_test PROPERTIES SKIP_RETURN_CODE 77)
 */
#ifndef SB_STORE_CONFORMANCE_H
#define SB_STORE_CONFORMANCE_H

#include <stdbool.h>

#include "storage/store.h"

typedef struct sb_store_backend {
    const char *name; /* for the cmocka group name */
    /*
     * Opens a store of this backend. fresh = true: an empty store (a new directory, file or
     * database); fresh = false: the same data as the last store opened, which the suite has
     * closed (reopen-and-read-back). Returns NULL with em filled on failure. The suite closes
     * every store it opens with sb_store_close().
     */
    sb_store *(*open)(void *ctx, bool fresh, sb_errmsg *em);
    void *ctx;
    const char *skip_reason; /* non-NULL: report every test as skipped, with this reason */
} sb_store_backend;

enum { SB_CONFORMANCE_SKIPPED = 77 };

/*
 * Runs every conformance test against b; returns the number of failed tests (0 = pass), or
 * SB_CONFORMANCE_SKIPPED when b->skip_reason is set.
 */
int sb_store_conformance_run(const sb_store_backend *b);

/* Internals shared by the suite's two files (store_conformance.c, store_conformance_ops.c). */
struct CMUnitTest;
size_t sb_conformance_ops_tests(const struct CMUnitTest **out); /* the operator tests */
int sb_conformance_setup(void **state);
int sb_conformance_teardown(void **state);
sb_store *sb_conformance_store(void **state); /* skip()s when the backend is skipped */
void sb_conformance_put(sb_store *s, const char *kind, const char *json);
/* Checks that find(kind, filters, sort, limit, offset) returns exactly the ids "a,b,c". */
void sb_conformance_expect(sb_store *s, const char *kind, const char *filters, const char *sort,
                           long limit, long offset, const char *ids, const char *file, int line);
#define EXPECT_IDS(s, kind, filters, sort, ids)                                                    \
    sb_conformance_expect(s, kind, filters, sort, 0, 0, ids, __FILE__, __LINE__)
#define EXPECT_PAGE(s, kind, filters, sort, limit, offset, ids)                                    \
    sb_conformance_expect(s, kind, filters, sort, limit, offset, ids, __FILE__, __LINE__)

#endif
