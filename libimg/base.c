/* Errors, allocation, arenas, byte buffers and buffered output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/base.h"

int img_err_vset(struct img_err *err, int code, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EINVAL;
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return -code;
}

int img_err_set(struct img_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = img_err_vset(err, code, fmt, ap);
	va_end(ap);
	return r;
}

void img_err_prefix(struct img_err *err, const char *fmt, ...)
{
	char pre[384], old[sizeof(err->msg)], joined[sizeof(pre) + sizeof(old) + 2];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(joined, sizeof(joined), "%s: %s", pre, old);
	memcpy(err->msg, joined, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = 0;
}

void img_err_subject(struct img_err *err, const char *subject)
{
	if (err && subject)
		snprintf(err->subject, sizeof(err->subject), "%s", subject);
}

void img_err_clear(struct img_err *err)
{
	if (err) {
		err->code = 0;
		err->subject[0] = 0;
		err->msg[0] = 0;
	}
}

const char *img_err_str(const struct img_err *err, char *buf, size_t len)
{
	if (err->subject[0])
		snprintf(buf, len, "%s: %s", err->subject, err->msg);
	else
		snprintf(buf, len, "%s", err->msg);
	return buf;
}

/* Allocation */

static struct img_allocator cur_alloc = { malloc, realloc, free };

void img_set_allocator(const struct img_allocator *a)
{
	static const struct img_allocator dflt = { malloc, realloc, free };

	cur_alloc = a ? *a : dflt;
}

static unsigned long alloc_failures;

unsigned long img_alloc_failures(void)
{
	return alloc_failures;
}

void *img_malloc(size_t n)
{
	void *p = cur_alloc.malloc_fn(n ? n : 1);

	if (!p)
		alloc_failures++;
	return p;
}

void *img_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size) {
		alloc_failures++;
		return NULL;
	}
	p = img_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *img_realloc(void *p, size_t n)
{
	void *q = cur_alloc.realloc_fn(p, n ? n : 1);

	if (!q)
		alloc_failures++;
	return q;
}

void img_free(void *p)
{
	if (p)
		cur_alloc.free_fn(p);
}

char *img_strndup(const char *s, size_t n)
{
	char *d = img_malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

char *img_strdup(const char *s)
{
	return img_strndup(s, strlen(s));
}

static size_t budget_ratio = IMG_BUDGET_RATIO, budget_fixed = IMG_BUDGET_FIXED;

void img_budget_set(size_t ratio, size_t fixed)
{
	budget_ratio = ratio || fixed ? ratio : IMG_BUDGET_RATIO;
	budget_fixed = ratio || fixed ? fixed : IMG_BUDGET_FIXED;
}

size_t img_budget(size_t n)
{
	if (budget_ratio && n > (SIZE_MAX - budget_fixed) / budget_ratio)
		return SIZE_MAX;
	return n * budget_ratio + budget_fixed;
}

/* Arenas */

struct img_arena_chunk {
	struct img_arena_chunk *next;
	size_t cap;
	max_align_t data[];
};

static size_t arena_chunk;

void img_arena_chunk(size_t n)
{
	arena_chunk = n;
}

void img_arena_init(struct img_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void *img_arena_alloc(struct img_arena *a, size_t n)
{
	struct img_arena_chunk *c;
	size_t need = (n + 15) & ~(size_t)15, cap;

	if (need < n || need > SIZE_MAX / 2)
		goto over;
	if (!a->head || a->cap - a->used < need) {
		cap = a->head ? a->head->cap * 2 : 16384;
		if (cap > (1u << 20))
			cap = 1u << 20;
		if (arena_chunk)
			cap = arena_chunk;
		if (cap < need)
			cap = need;
		/* the limit counts what is taken from the allocator: a block as a whole */
		if (a->limit && (a->total > a->limit || a->limit - a->total < sizeof(*c) + cap)) {
			if (a->total > a->limit || a->limit - a->total < sizeof(*c) + need)
				goto over;
			cap = need;
		}
		c = img_malloc(sizeof(*c) + cap);
		if (!c) {
			a->failed = a->failed ? a->failed : ENOMEM;
			return NULL;
		}
		c->cap = cap;
		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->cap = cap;
		a->total += sizeof(*c) + cap;
	}
	void *p = (char *)a->head->data + a->used;

	a->used += need;
	return p;
over:
	a->failed = a->failed ? a->failed : EFBIG;
	return NULL;
}

void *img_arena_zalloc(struct img_arena *a, size_t n)
{
	void *p = img_arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *img_arena_strndup(struct img_arena *a, const char *s, size_t n)
{
	char *d = img_arena_alloc(a, n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

int img_arena_grow(struct img_arena *a, void **arr, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	if (nc < *cap || (size && nc > SIZE_MAX / size))
		return -ENOMEM;
	p = img_arena_alloc(a, nc * size);
	if (!p)
		return -ENOMEM;
	if (*arr && n)
		memcpy(p, *arr, n * size);
	*arr = p;
	*cap = nc;
	return 0;
}

void img_arena_free(struct img_arena *a)
{
	struct img_arena_chunk *c = a->head, *n;

	while (c) {
		n = c->next;
		img_free(c);
		c = n;
	}
	a->head = NULL;
	a->used = a->cap = a->total = 0;
	a->failed = 0;
}

/* Byte buffers */

static uint8_t buf_empty[1]; /* the data of a buffer whose first allocation failed */

void img_buf_init(struct img_buf *b)
{
	memset(b, 0, sizeof(*b));
}

int img_buf_reserve(struct img_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return -ENOMEM;
	if (b->cap - b->len >= extra)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		goto fail;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	p = img_realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	/* what a caller reads as a string stays one: NUL terminated, empty if nothing else */
	if (!b->data) {
		b->data = buf_empty;
		b->len = 0;
	} else if (b->cap) {
		b->data[b->len < b->cap ? b->len : b->cap - 1] = 0;
	}
	return -ENOMEM;
}

int img_buf_add(struct img_buf *b, const void *p, size_t n)
{
	if (img_buf_reserve(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int img_buf_addc(struct img_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return img_buf_add(b, &ch, 1);
}

int img_buf_adds(struct img_buf *b, const char *s)
{
	return img_buf_add(b, s, strlen(s));
}

int img_buf_printf(struct img_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || img_buf_reserve(b, (size_t)n + 1))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void img_buf_free(struct img_buf *b)
{
	if (b->data != buf_empty)
		img_free(b->data);
	img_buf_init(b);
}

/* Buffered output */

void img_out_fd(struct img_out *o, int fd)
{
	o->fd = fd;
	o->mem = NULL;
	o->len = 0;
	o->err = 0;
}

void img_out_mem(struct img_out *o, struct img_buf *mem)
{
	o->fd = -1;
	o->mem = mem;
	o->len = 0;
	o->err = 0;
}

static void out_drain(struct img_out *o, const void *p, size_t n)
{
	const char *s = p;

	if (o->err)
		return;
	if (o->mem) {
		if (img_buf_add(o->mem, p, n))
			o->err = ENOMEM;
		return;
	}
	while (n) {
		ssize_t w = write(o->fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

int img_out_flush(struct img_out *o)
{
	if (o->len) {
		out_drain(o, o->buf, o->len);
		o->len = 0;
	}
	return o->err ? -o->err : 0;
}

void img_out_write(struct img_out *o, const void *p, size_t n)
{
	if (n > sizeof(o->buf) - o->len) {
		img_out_flush(o);
		if (n >= sizeof(o->buf)) {
			out_drain(o, p, n);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void img_out_putc(struct img_out *o, int c)
{
	if (o->len == sizeof(o->buf))
		img_out_flush(o);
	o->buf[o->len++] = (char)c;
}

void img_out_puts(struct img_out *o, const char *s)
{
	img_out_write(o, s, strlen(s));
}

void img_out_printf(struct img_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		img_out_write(o, tmp, (size_t)n);
		return;
	}
	char *big = img_malloc((size_t)n + 1);

	if (!big) {
		o->err = ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	img_out_write(o, big, (size_t)n);
	img_free(big);
}
