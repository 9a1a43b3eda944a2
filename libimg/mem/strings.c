/*
 * A task's command line and environment.  The kernel's blocks (mm arg and env
 * ranges, what /proc/PID/cmdline and /proc/PID/environ show) hold what exec
 * gave the process.  A process that calls setenv() gets a new environment
 * array from its C library: glibc copies the block's pointers into a heap
 * array and adds the new strings there.  That array is found by its first
 * pointer (the block's first string) and checked element by element.
 */
#include <errno.h>
#include <string.h>

#include "img/mem.h"

/* a larger block or array is not an environment */
#define MAX_BLOCK ((uint64_t)16 << 20)
#define MAX_ENTRIES 65536
#define MAX_STRING 131072

static int read_block(struct img_mem *m, uint64_t start, uint64_t end, struct img_buf *out, struct img_err *err)
{
	int r;

	out->len = 0;
	if (end <= start)
		return 0;
	if (end - start > MAX_BLOCK)
		end = start + MAX_BLOCK;
	r = img_buf_reserve(out, (size_t)(end - start) + 1);
	if (r)
		return img_err_set(err, ENOMEM, "out of memory");
	r = img_mem_read(m, start, out->data, (size_t)(end - start), NULL, err);
	if (r)
		return r;
	out->len = (size_t)(end - start);
	out->data[out->len] = 0;
	/* the block ends with a NUL; no empty string after it */
	while (out->len && out->data[out->len - 1] == 0 && (out->len < 2 || out->data[out->len - 2] == 0))
		out->len--;
	return 0;
}

/* Read a NUL-terminated "KEY=VALUE" string at addr into out (with its NUL); 0 when it is not one. */
static int env_string(struct img_mem *m, uint64_t addr, struct img_buf *out)
{
	uint8_t chunk[256];
	size_t start = out->len;
	int eq = 0;

	while (out->len - start < MAX_STRING) {
		size_t have, n;
		const uint8_t *z;

		if (img_mem_read(m, addr, chunk, sizeof(chunk), &have, NULL) || have < sizeof(chunk)) {
			/* the tail of a mapping or a hole: read byte by byte up to it */
			if (img_mem_read(m, addr, chunk, 1, &have, NULL) || !have)
				break;
			n = 1;
		} else {
			n = sizeof(chunk);
		}
		z = memchr(chunk, 0, n);
		if (memchr(chunk, '=', z ? (size_t)(z - chunk) : n))
			eq = 1;
		if (img_buf_add(out, chunk, z ? (size_t)(z - chunk) + 1 : n))
			break;
		if (z)
			return out->len - start > 1 && eq && out->data[start] != '=';
		addr += n;
	}
	out->len = start;
	return 0;
}

/* The pointer array at addr: every element a KEY=VALUE string, then NULL. Fills out; returns the count. */
static size_t env_array(struct img_mem *m, uint64_t addr, struct img_buf *out)
{
	size_t n = 0;

	out->len = 0;
	while (n < MAX_ENTRIES) {
		uint8_t w[8];
		size_t have;
		uint64_t p;

		if (img_mem_read(m, addr + n * 8, w, 8, &have, NULL) || have != 8)
			return 0;
		p = img_get_u64(w);
		if (!p)
			return n;
		if (!env_string(m, p, out))
			return 0;
		n++;
	}
	return 0;
}

/* Aligned words equal to v in the task's writable memory, in address order. */
static int find_words(struct img_mem *m, uint64_t v, int (*fn)(void *arg, uint64_t addr), void *arg,
		      struct img_err *err)
{
	const struct img_mm *mm = img_mem_task(m)->mm;
	uint8_t pat[8];

	img_put_u64(pat, v);
	for (size_t i = 0; mm && i < mm->nvmas; i++) {
		const struct img_vma *vma = &mm->vmas[i];
		uint64_t a = vma->start;

		if ((vma->prot & 3) != 3)
			continue;
		while (a < vma->end) {
			struct img_mem_run run;
			int r = img_mem_run(m, a, vma->end, &run, err);

			if (r)
				return r;
			if (run.data) {
				size_t len = (size_t)(run.end - run.start);
				const uint8_t *p = run.data, *e = p + len;

				while ((size_t)(e - p) >= 8 && (p = memmem(p, (size_t)(e - p), pat, 8))) {
					uint64_t at = run.start + (uint64_t)(p - run.data);

					if (!(at & 7) && fn(arg, at))
						return 0;
					p++;
				}
			}
			a = run.end;
		}
	}
	return 0;
}

struct env_pick {
	struct img_mem *m;
	const struct img_vma *stack;
	struct img_buf cand;
	struct img_buf *best;
	size_t best_n;
	int found;
};

static int try_array(void *arg, uint64_t addr)
{
	struct env_pick *ep = arg;
	const struct img_vma *v = img_mm_find(img_mem_task(ep->m)->mm, addr);
	size_t n;

	/* the stack holds exec's own envp array: the block again */
	if (!v || v == ep->stack)
		return 0;
	n = env_array(ep->m, addr, &ep->cand);
	if (n > ep->best_n) {
		ep->best_n = n;
		ep->best->len = 0;
		img_buf_add(ep->best, ep->cand.data, ep->cand.len);
		ep->found = 1;
	}
	return 0;
}

int img_mem_strings(struct img_mem *m, int which, struct img_buf *out, int *live, struct img_err *err)
{
	const struct img_mm *mm = img_mem_task(m)->mm;
	struct env_pick ep = { 0 };
	int r;

	if (live)
		*live = 0;
	out->len = 0;
	if (!mm)
		return 0;
	if (which == IMG_STRINGS_ARGV)
		return read_block(m, mm->arg_start, mm->arg_end, out, err);
	r = read_block(m, mm->env_start, mm->env_end, out, err);
	if (r || which == IMG_STRINGS_ENV_BLOCK || !mm->env_start)
		return r;
	ep.m = m;
	ep.stack = img_mm_find(mm, mm->env_start);
	ep.best = out;
	img_buf_init(&ep.cand);
	/* an array that starts where the block's starts and is longer than it, or changed */
	ep.best_n = 0;
	r = find_words(m, mm->env_start, try_array, &ep, err);
	img_buf_free(&ep.cand);
	if (r)
		return r;
	if (ep.found) {
		if (live)
			*live = 1;
		if (out->len)
			out->len--; /* no NUL after the last string, as in the block */
	}
	return 0;
}
