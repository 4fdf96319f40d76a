/*
 * memory.c - the processor's use of glibc's heap. glibc gives each thread that allocates under
 * contention an arena of its own (up to 8 per core). In the processor the bus thread allocates
 * the frame copies, the worker the records, events and store reads, the metrics thread the
 * points: a burst of values leaves free but resident memory spread over several arenas, and
 * malloc_trim cannot give back a page that still holds one live chunk. With one arena the
 * freed chunks of all threads are reused for each other and the live ones stay together:
 * after 100k values in a burst the RSS stayed 29.5 MB instead of 35-41 MB (bench/README.md),
 * at the same throughput (the threads hand work to each other, they rarely allocate at once).
 */
#include "memory.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int sb_proc_mem_arenas(const char *malloc_arena_max, const char *glibc_tunables)
{
    if ((malloc_arena_max && *malloc_arena_max) ||
        (glibc_tunables && strstr(glibc_tunables, "glibc.malloc.arena_max")))
        return 0; /* the operator's choice wins */
    return SB_PROC_MALLOC_ARENAS;
}

int sb_proc_mem_setup(void)
{
#ifdef __GLIBC__
    int n = sb_proc_mem_arenas(getenv("MALLOC_ARENA_MAX"), getenv("GLIBC_TUNABLES"));
    return n > 0 && mallopt(M_ARENA_MAX, n) == 1 ? n : 0;
#else
    return 0;
#endif
}
