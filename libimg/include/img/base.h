/* libimg: errors, allocation, arenas and output buffers shared by every layer. */
#ifndef IMG_BASE_H
#define IMG_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * An error: what went wrong (msg), and about what (subject: a file name, an
 * archive member, a path).  Tools print "cannot read 'SUBJECT': MSG".
 * code is a positive errno value (EINVAL for malformed input).
 */
struct img_err {
	int code;
	char subject[256];
	char msg[768];
};

/* Set err (if not NULL) and return -code. */
int img_err_set(struct img_err *err, int code, const char *fmt, ...) IMG_PRINTF(3, 4);
int img_err_vset(struct img_err *err, int code, const char *fmt, va_list ap);
/* Put "PREFIX: " in front of the message already in err. */
void img_err_prefix(struct img_err *err, const char *fmt, ...) IMG_PRINTF(2, 3);
void img_err_subject(struct img_err *err, const char *subject);
void img_err_clear(struct img_err *err);
/* "SUBJECT: MSG" or "MSG" when there is no subject. */
const char *img_err_str(const struct img_err *err, char *buf, size_t len);

/*
 * Allocation.  Every allocation of the library goes through these, so a test
 * can swap in an allocator that fails on purpose (img_set_allocator).
 */
void *img_malloc(size_t n);
void *img_calloc(size_t n, size_t size);
void *img_realloc(void *p, size_t n);
void img_free(void *p);
char *img_strdup(const char *s);
char *img_strndup(const char *s, size_t n);

/*
 * qsort for arrays that may be empty: an empty one may have no memory at all
 * (NULL), which qsort must not be given.
 */
static inline void img_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/*
 * Allocations that failed in this process so far (through these functions):
 * the tools' command runner turns any into exit status 2, "out of memory".
 */
unsigned long img_alloc_failures(void);

struct img_allocator {
	void *(*malloc_fn)(size_t);
	void *(*realloc_fn)(void *, size_t);
	void (*free_fn)(void *);
};
void img_set_allocator(const struct img_allocator *a);

/*
 * The memory budget of a reader: what decoding an input of n bytes may
 * hold at once, at most (IMG_BUDGET_RATIO times n, plus IMG_BUDGET_FIXED).
 * Readers give their arenas this limit, so that no length, count or nesting
 * depth in a hostile input costs more; past it they fail with EFBIG.  Real
 * images take up to 18 times their size (a pagemap of small entries), crit
 * JSON 9 times; the fixed part covers a tar.gz's index and cache.
 */
#define IMG_BUDGET_RATIO 32
#define IMG_BUDGET_FIXED ((size_t)64 << 20)
size_t img_budget(size_t n);
/* Another budget (a machine with more memory, a test that wants a small one); 0, 0: the default. */
void img_budget_set(size_t ratio, size_t fixed);

/* An arena: many small allocations freed at once. */
struct img_arena_chunk;
struct img_arena {
	struct img_arena_chunk *head;
	size_t used, cap; /* of head */
	size_t total;     /* bytes taken from the allocator, for budgets */
	size_t limit;     /* 0: none; else allocation fails past it */
	int failed;       /* an allocation failed: ENOMEM, or EFBIG past the limit (readers check it at the end) */
};
void img_arena_init(struct img_arena *a);
void *img_arena_alloc(struct img_arena *a, size_t n);
void *img_arena_zalloc(struct img_arena *a, size_t n);
char *img_arena_strndup(struct img_arena *a, const char *s, size_t n);
/*
 * Room for element n of an array in the arena of *cap elements of size bytes:
 * when it is full, a copy twice as large (16 at first); the old one stays in
 * the arena until it is freed.  0 or -ENOMEM.
 */
int img_arena_grow(struct img_arena *a, void **arr, size_t *cap, size_t n, size_t size);
void img_arena_free(struct img_arena *a);
/*
 * For tests: the size of the chunks arenas take from the allocator (0: the
 * default, 16 KiB growing to 1 MiB).  With 1 every arena allocation is one
 * of the allocator's, so that an allocation-failure test reaches them all.
 */
void img_arena_chunk(size_t n);

/*
 * A growable byte buffer.  Once an allocation has failed, failed is set,
 * later additions do nothing, and data still reads as a NUL-terminated
 * string (truncated, or empty).
 */
struct img_buf {
	uint8_t *data;
	size_t len, cap;
	int failed; /* an allocation failed: the content is incomplete */
};
void img_buf_init(struct img_buf *b);
int img_buf_reserve(struct img_buf *b, size_t extra);
int img_buf_add(struct img_buf *b, const void *p, size_t n);
int img_buf_addc(struct img_buf *b, int c);
int img_buf_adds(struct img_buf *b, const char *s);
int img_buf_printf(struct img_buf *b, const char *fmt, ...) IMG_PRINTF(2, 3);
void img_buf_free(struct img_buf *b);

/*
 * A buffered output stream to a file descriptor or into an img_buf.
 * Errors are sticky; img_out_close reports the first one.
 */
struct img_out {
	int fd;               /* -1: write into mem */
	struct img_buf *mem;
	char buf[65536];
	size_t len;
	int err;              /* first errno seen */
};
void img_out_fd(struct img_out *o, int fd);
void img_out_mem(struct img_out *o, struct img_buf *mem);
void img_out_write(struct img_out *o, const void *p, size_t n);
void img_out_putc(struct img_out *o, int c);
void img_out_puts(struct img_out *o, const char *s);
void img_out_printf(struct img_out *o, const char *fmt, ...) IMG_PRINTF(2, 3);
int img_out_flush(struct img_out *o);

/* Little helpers on host-order integers from unaligned bytes. */
static inline uint32_t img_get_u32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}
static inline uint64_t img_get_u64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}
static inline uint16_t img_get_u16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}
static inline void img_put_u32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void img_put_u64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline void img_put_u16(uint8_t *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }

#ifdef __cplusplus
}
#endif
#endif
