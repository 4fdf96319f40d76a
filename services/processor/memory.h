/*
 * memory.h - how the processor uses the C library's heap (docs/processor.md, "Memory").
 */
#ifndef SB_PROCESSOR_MEMORY_H
#define SB_PROCESSOR_MEMORY_H

/* The malloc arenas the processor asks glibc for (M_ARENA_MAX). */
#define SB_PROC_MALLOC_ARENAS 1

/*
 * The arena limit to set given the environment's MALLOC_ARENA_MAX and GLIBC_TUNABLES (either
 * may be NULL): SB_PROC_MALLOC_ARENAS, or 0 (leave it) when the environment chose one.
 */
int sb_proc_mem_arenas(const char *malloc_arena_max, const char *glibc_tunables);

/* Limits the malloc arenas of the process (sb_proc_mem_arenas of the real environment); call
 * before the processor starts its threads. Returns the limit set, 0 when none was. */
int sb_proc_mem_setup(void);

#endif
