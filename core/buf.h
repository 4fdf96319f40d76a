/*
 * buf.h - growing a heap buffer geometrically: the one place for the "double until it fits"
 * loop that text builders (templates, line protocol, HTTP bodies) share.
 */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Makes *data hold at least need bytes (capacity doubles from 256). SB_ERR_NOMEM leaves the
 * buffer as it was. */
sb_err sb_buf_reserve(char **data, size_t *cap, size_t need);

/* Appends item to the pointer array *arr of *n entries and capacity *cap (doubling from 8).
 * arr is the address of a T ** (e.g. &s->runners). false when out of memory (nothing added). */
bool sb_ptrs_push(void *arr, size_t *n, size_t *cap, void *item);

/* Makes the array *arr of elem-byte elements hold at least need of them (capacity doubling from
 * first). arr is the address of a T * (e.g. &q->nodes). SB_ERR_NOMEM (also when the size would
 * overflow) leaves the array as it was. */
sb_err sb_array_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
