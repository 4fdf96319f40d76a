/*
 * store_test_config.h - the store configuration the durability test and its writer process
 * share: the backend by name, its files under one directory, sync: always.
 */
#ifndef SB_STORE_TEST_CONFIG_H
#define SB_STORE_TEST_CONFIG_H

#include "storage/store.h"

/*
 * Fills cfg (zeroed first) for backend ("memory", "sqlite") with its data under dir. The
 * strings point into static storage: one configuration per process at a time.
 * SB_ERR_INVALID for a backend name this test does not know.
 */
sb_err sb_test_store_config(const char *backend, const char *dir, sb_config *cfg, sb_errmsg *em);

#endif
