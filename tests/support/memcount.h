/*
 * A counting allocator for tests, swapped in with img_set_allocator: it
 * counts allocations and live bytes, keeps the peak, and can fail the N-th
 * allocation (jansson's allocation-failure test) or any allocation past a
 * byte budget.  Not thread safe: the library's tests run on one thread.
 */
#ifndef MEMCOUNT_H
#define MEMCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct memcount {
	uint64_t calls;      /* allocations asked for (malloc and realloc) */
	uint64_t live;       /* blocks not freed */
	size_t bytes;        /* live bytes */
	size_t peak;         /* the most live bytes at once since memcount_reset */
	size_t biggest;      /* the largest single request */
	uint64_t fail_at;    /* fail allocation number fail_at (1-based); 0: never */
	uint64_t failed;     /* allocations failed on purpose */
	size_t limit;        /* fail any allocation that would take bytes past this; 0: none */
};

extern struct memcount memcount;

/* Route libimg's allocations through the counter (and back with 0). */
void memcount_install(int on);
/* Zero the counters of calls, peak and failures; keep live and bytes. */
void memcount_reset(void);
/* Called on each failure made on purpose (break here in gdb to see where). */
void memcount_failing(void);

#endif
