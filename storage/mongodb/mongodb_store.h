/*
 * mongodb_store.h - internals of the MongoDB config store, shared by its two files:
 *   mongodb_store.c  the sb_store_plugin callbacks, the client pool, documents <-> BSON
 *   mongodb_query.c  sb_query -> a MongoDB filter
 *
 * One collection per kind (<collection_prefix><kind>), each document stored with _id = its id.
 */
#ifndef SB_MONGODB_STORE_H
#define SB_MONGODB_STORE_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "storage/store.h"

extern const sb_store_plugin sb_store_plugin_mongodb;

/*
 * Appends to filter the MongoDB form of q's filters. Every document the store.h rules accept
 * passes the filter. *exact is set when the filter also rejects every other document, so the
 * server may count, skip and limit; otherwise the caller re-checks each document with
 * sb_query_match(). Returns false on allocation failure.
 */
bool mg_query_filter(const sb_query *q, bson_t *filter, bool *exact);

#endif
