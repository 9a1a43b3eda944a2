/* Byte sources: mapped files, memory, streams, and windows onto compressed data. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/source.h"

static struct img_src *src_new(const char *name)
{
	struct img_src *s = img_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = img_strdup(name ? name : "-");
	if (!s->name) {
		img_free(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

int img_src_read_fd(int fd, const char *name, size_t max, struct img_src **out, struct img_err *err)
{
	struct img_buf b;
	struct img_src *s;

	img_buf_init(&b);
	for (;;) {
		ssize_t r;

		if (img_buf_reserve(&b, 65536))
			goto nomem;
		r = read(fd, b.data + b.len, b.cap - b.len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			img_buf_free(&b);
			img_err_subject(err, name);
			return img_err_set(err, e, "read error at offset 0x%zx: %s", b.len, strerror(e));
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > max) {
			img_buf_free(&b);
			img_err_subject(err, name);
			return img_err_set(err, EFBIG, "input is larger than %zu bytes", max);
		}
	}
	s = src_new(name);
	if (!s)
		goto nomem;
	s->data = b.data;
	s->size = b.len;
	s->how = IMG_SRC_HEAP;
	*out = s;
	return 0;
nomem:
	img_buf_free(&b);
	img_err_subject(err, name);
	return img_err_set(err, ENOMEM, "out of memory");
}

int img_src_open(const char *path, struct img_src **out, struct img_err *err)
{
	struct img_src *s;
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "%s", strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : errno ? errno : EINVAL;

		close(fd);
		img_err_subject(err, path);
		if (e == EISDIR)
			return img_err_set(err, e, "is a directory, not an image file");
		if (e == EINVAL)
			return img_err_set(err, e, "not a regular file");
		return img_err_set(err, e, "%s", strerror(e));
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p != MAP_FAILED) {
			close(fd);
			s = src_new(path);
			if (!s) {
				munmap(p, (size_t)st.st_size);
				img_err_subject(err, path);
				return img_err_set(err, ENOMEM, "out of memory");
			}
			s->data = p;
			s->size = (size_t)st.st_size;
			s->how = IMG_SRC_MMAP;
			*out = s;
			return 0;
		}
	}
	/* Empty files, and files that cannot be mapped: read them. */
	r = img_src_read_fd(fd, path, SIZE_MAX / 4, out, err);
	close(fd);
	return r;
}

struct img_src *img_src_mem(const void *p, size_t n, const char *name, int copy)
{
	struct img_src *s = src_new(name);

	if (!s)
		return NULL;
	if (copy) {
		void *d = img_malloc(n);

		if (!d) {
			img_src_unref(s);
			return NULL;
		}
		memcpy(d, p, n);
		s->data = d;
		s->how = IMG_SRC_HEAP;
	} else {
		s->data = p;
		s->how = IMG_SRC_BORROW;
	}
	s->size = n;
	return s;
}

struct img_src *img_src_slice(struct img_src *parent, size_t off, size_t n, const char *name)
{
	struct img_src *s;

	if (off > parent->size || n > parent->size - off)
		return NULL;
	s = src_new(name);
	if (!s)
		return NULL;
	s->data = parent->data + off;
	s->size = n;
	s->how = IMG_SRC_BORROW;
	s->owner = img_src_ref(parent);
	return s;
}

struct img_src *img_src_ref(struct img_src *s)
{
	if (s)
		s->refs++;
	return s;
}

struct img_src *img_src_window(uint64_t size, const char *name, const struct img_src_ops *ops, void *priv)
{
	struct img_src *s;

	if (size > SIZE_MAX)
		return NULL;
	s = src_new(name);
	if (!s)
		return NULL;
	s->size = (size_t)size;
	s->how = IMG_SRC_WINDOW;
	s->ops = ops;
	s->priv = priv;
	return s;
}

/* Gathered pieces: cumulative starts for a binary search */
struct gather {
	struct img_src *base;
	size_t n;
	uint64_t *at;                  /* at[i]: where piece i starts in the gathered source */
	struct img_src_piece p[];
};

static size_t gather_find(const struct gather *g, uint64_t off)
{
	size_t lo = 0, hi = g->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->at[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static struct img_src *piece_src(const struct gather *g, size_t i)
{
	return g->p[i].src ? g->p[i].src : g->base;
}

static const uint8_t *gather_direct(struct img_src *s, uint64_t off, uint64_t *n)
{
	const struct gather *g = s->priv;
	size_t i;

	if (off >= s->size)
		return NULL;
	i = gather_find(g, off);
	if (!piece_src(g, i)->data)
		return NULL;
	*n = g->p[i].len - (off - g->at[i]);
	return piece_src(g, i)->data + g->p[i].off + (off - g->at[i]);
}

static int gather_pread(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err)
{
	const struct gather *g = s->priv;
	uint8_t *out = buf;

	for (size_t i = gather_find(g, off); n && i < g->n; i++) {
		uint64_t in = off - g->at[i], k = g->p[i].len - in < n ? g->p[i].len - in : n;
		int r = img_src_pread(piece_src(g, i), out, (size_t)k, g->p[i].off + in, err);

		if (r)
			return r;
		out += k;
		off += k;
		n -= (size_t)k;
	}
	return 0;
}

static void gather_release(struct img_src *s)
{
	struct gather *g = s->priv;

	for (size_t i = 0; i < g->n; i++)
		img_src_unref(g->p[i].src);
	img_src_unref(g->base);
	img_free(g->at);
	img_free(g);
}

static const struct img_src_ops gather_ops = { gather_pread, gather_release, gather_direct };

struct img_src *img_src_gather(struct img_src *base, const struct img_src_piece *p, size_t n, const char *name)
{
	struct gather *g;
	struct img_src *s;
	uint64_t size = 0;

	if (n > (SIZE_MAX - sizeof(*g)) / sizeof(*p))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct img_src *from = p[i].src ? p[i].src : base;

		if (p[i].off > from->size || p[i].len > from->size - p[i].off || !p[i].len || size + p[i].len < size)
			return NULL;
		size += p[i].len;
	}
	g = img_malloc(sizeof(*g) + n * sizeof(*p));
	if (!g)
		return NULL;
	g->at = img_malloc((n ? n : 1) * sizeof(*g->at));
	if (!g->at) {
		img_free(g);
		return NULL;
	}
	g->n = n;
	size = 0;
	for (size_t i = 0; i < n; i++) {
		g->p[i] = p[i];
		g->at[i] = size;
		size += p[i].len;
	}
	g->base = base;
	s = img_src_window(size, name, &gather_ops, g);
	if (!s) {
		img_free(g->at);
		img_free(g);
		return NULL;
	}
	img_src_ref(base);
	for (size_t i = 0; i < n; i++)
		if (p[i].src)
			img_src_ref(p[i].src);
	return s;
}

const uint8_t *img_src_direct(struct img_src *s, uint64_t off, uint64_t *n)
{
	if (off >= s->size)
		return NULL;
	if (s->data) {
		*n = s->size - off;
		return s->data + off;
	}
	return s->ops && s->ops->direct ? s->ops->direct(s, off, n) : NULL;
}

struct img_src *img_src_heap(void *p, size_t n, const char *name)
{
	struct img_src *s = src_new(name);

	if (!s) {
		img_free(p);
		return NULL;
	}
	s->data = p;
	s->size = n;
	s->how = IMG_SRC_HEAP;
	return s;
}

int img_src_pread(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err)
{
	if (off > s->size || n > s->size - off) {
		img_err_subject(err, s->name);
		return img_err_set(err, EINVAL, "offset 0x%llx: %zu bytes asked, %llu left",
				   (unsigned long long)off, n,
				   (unsigned long long)(off > s->size ? 0 : s->size - off));
	}
	if (s->data) {
		memcpy(buf, s->data + off, n);
		return 0;
	}
	return s->ops->pread(s, buf, n, off, err);
}

int img_src_load(struct img_src *s, size_t max, struct img_err *err)
{
	uint8_t *p;
	int r;

	if (s->data || !s->size)
		return 0;
	if (s->size > max) {
		img_err_subject(err, s->name);
		return img_err_set(err, EFBIG, "%zu bytes: more than the %zu this reader takes into memory",
				   s->size, max);
	}
	p = img_malloc(s->size);
	if (!p) {
		img_err_subject(err, s->name);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	r = s->ops->pread(s, p, s->size, 0, err);
	if (r) {
		img_free(p);
		return r;
	}
	s->data = p;
	return 0;
}

void img_src_release(struct img_src *s, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, e = a + n, pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	/* only a read-only file mapping may be dropped: heap memory would be lost */
	while (s && (s->how == IMG_SRC_BORROW || (s->how == IMG_SRC_WINDOW && s->ops == &gather_ops)))
		s = s->how == IMG_SRC_BORROW ? s->owner : ((struct gather *)s->priv)->base;
	if (!s || s->how != IMG_SRC_MMAP || a < (uintptr_t)s->data || e > (uintptr_t)s->data + s->size)
		return;
	a = (a + pg - 1) & ~(pg - 1);
	e &= ~(pg - 1);
	if (e > a)
		madvise((void *)a, e - a, MADV_DONTNEED);
}

void img_src_unref(struct img_src *s)
{
	if (!s || --s->refs > 0)
		return;
	if (s->how == IMG_SRC_MMAP)
		munmap((void *)s->data, s->size);
	else if (s->how == IMG_SRC_HEAP || s->how == IMG_SRC_WINDOW)
		img_free((void *)s->data);
	if (s->how == IMG_SRC_WINDOW && s->ops->release)
		s->ops->release(s);
	if (s->owner)
		img_src_unref(s->owner);
	img_free(s->name);
	img_free(s);
}

