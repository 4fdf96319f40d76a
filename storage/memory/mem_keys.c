/*
 * mem_keys.c - object keys shared by every stored document and every copy handed out.
 *
 * A get must return a copy its caller frees with cJSON_Delete, and copying a document allocated
 * every node, every string value and every key: keys were a third of the allocations of a
 * typical entity. Keys repeat across documents ("id", "name", "labels", ...), so the first
 * time a key is stored it is copied once into this table, which lives as long as the process,
 * and stored documents point at it with cJSON's cJSON_StringIsConst flag. cJSON_Duplicate and
 * cJSON_Delete honour the flag, so copies share the key text and never free it; cJSON's own
 * functions that rename an item replace a constant key instead of writing into it.
 *
 * The table is bounded (MAX_KEYS, MAX_LEN): past that, keys are stored and copied as before,
 * so documents with ever-new key names cannot make it grow without limit.
 */
#include "storage/memory/memory.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { CAP = 1 << 15, MAX_KEYS = CAP / 2, MAX_LEN = 64 };

static const char *table[CAP];
static size_t n_keys;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

const char *mem_key_intern(const char *key)
{
    size_t len = strnlen(key, MAX_LEN + 1);
    if (len > MAX_LEN)
        return NULL;
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    const char *out = NULL;
    pthread_mutex_lock(&mu);
    size_t i = h & (CAP - 1);
    while (table[i] && strcmp(table[i], key) != 0)
        i = (i + 1) & (CAP - 1);
    if (table[i])
        out = table[i];
    else if (n_keys < MAX_KEYS && (out = strdup(key)))
        table[i] = out, n_keys++;
    pthread_mutex_unlock(&mu);
    return out;
}
