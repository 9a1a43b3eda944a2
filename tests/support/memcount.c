/* The counting allocator: each block carries its size in a header in front of it. */
#include <stdlib.h>
#include <string.h>

#include "img/base.h"
#include "memcount.h"

struct memcount memcount;

#define HDR 16 /* keeps max_align_t alignment for what follows */

/* Called on each failure made on purpose: a place for a debugger's breakpoint. */
__attribute__((noinline)) void memcount_failing(void)
{
	__asm__ volatile("");
}

static int refuse(size_t n, size_t old)
{
	memcount.calls++;
	if (n > memcount.biggest)
		memcount.biggest = n;
	if ((memcount.fail_at && memcount.calls == memcount.fail_at) ||
	    (memcount.limit && memcount.bytes - old + n > memcount.limit) || n > SIZE_MAX - HDR) {
		memcount.failed++;
		memcount_failing();
		return 1;
	}
	return 0;
}

static void account(size_t n, size_t old)
{
	memcount.bytes = memcount.bytes - old + n;
	if (memcount.bytes > memcount.peak)
		memcount.peak = memcount.bytes;
}

static void *mc_malloc(size_t n)
{
	char *p;

	if (refuse(n, 0) || !(p = malloc(n + HDR)))
		return NULL;
	memcpy(p, &n, sizeof(n));
	memcount.live++;
	account(n, 0);
	return p + HDR;
}

static void *mc_realloc(void *q, size_t n)
{
	size_t old = 0;
	char *p;

	if (!q)
		return mc_malloc(n);
	memcpy(&old, (char *)q - HDR, sizeof(old));
	if (refuse(n, old) || !(p = realloc((char *)q - HDR, n + HDR)))
		return NULL;
	memcpy(p, &n, sizeof(n));
	account(n, old);
	return p + HDR;
}

static void mc_free(void *q)
{
	size_t old;

	if (!q)
		return;
	memcpy(&old, (char *)q - HDR, sizeof(old));
	memcount.live--;
	memcount.bytes -= old;
	free((char *)q - HDR);
}

void memcount_install(int on)
{
	static const struct img_allocator a = { mc_malloc, mc_realloc, mc_free };

	img_set_allocator(on ? &a : NULL);
}

void memcount_reset(void)
{
	memcount.calls = 0;
	memcount.peak = memcount.bytes;
	memcount.biggest = 0;
	memcount.failed = 0;
}
