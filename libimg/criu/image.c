/*
 * CRIU image files: [head magic] magic { u32 size, payload, [extra] }.
 * Every length read from the file is checked against the bytes that remain
 * before anything is allocated for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"

#define IMAGE_LOAD_MAX ((size_t)1 << 30) /* an image with entries read into memory whole, at most */
#define IMAGE_HANDLES 4096

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static struct img_image *image_alloc(const struct img_schema *s, const struct img_kind *k)
{
	struct img_image *img = img_calloc(1, sizeof(*img));

	if (!img)
		return NULL;
	img->schema = s;
	img->kind = k;
	img_arena_init(&img->arena);
	return img;
}

void img_image_free(struct img_image *img)
{
	if (!img)
		return;
	img_arena_free(&img->arena);
	img_free(img->e);
	img_src_unref(img->src);
	img_free(img);
}

static struct img_entry *add_entry(struct img_image *img)
{
	if (img->n == img->cap) {
		size_t cap = img->cap ? img->cap * 2 : 16;
		struct img_entry *e;

		/* a read image's table counts against its budget, with the old table while it is copied */
		if (img->budget) {
			size_t need = (cap + img->cap) * sizeof(*e);

			if (need > img->budget || img->arena.total > img->budget - need) {
				img->arena.failed = EFBIG;
				return NULL;
			}
			img->arena.limit = img->budget - cap * sizeof(*e);
		}
		e = img_realloc(img->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		img->e = e;
		img->cap = cap;
	}
	struct img_entry *e = &img->e[img->n++];

	memset(e, 0, sizeof(*e));
	return e;
}

/* Which kind a file is: by its name for raw images and shared magics, else by its magic. */
static int pick_kind(struct img_src *src, const struct img_schema *s, uint32_t *head, uint32_t *magic,
		     size_t *start, const struct img_kind **kind, struct img_err *err)
{
	const char *fname = base_name(src->name);
	const struct img_kind *byfile = img_kind_by_file(s, fname), *bymagic;
	uint32_t first = 0, second = 0;
	uint8_t m[8] = { 0 };
	int r = img_src_pread(src, m, src->size < 8 ? src->size : 8, 0, err);

	if (r)
		return r;
	if (src->size >= 4)
		first = img_get_u32(m);
	if (src->size >= 8)
		second = img_get_u32(m + 4);
	*head = 0;
	*start = 4;
	*magic = first;
	if (src->size >= 8 && (first == IMG_MAGIC_COMMON || first == IMG_MAGIC_SERVICE)) {
		*head = first;
		*magic = second;
		*start = 8;
	}
	if (*kind)
		return 0;
	bymagic = src->size >= 4 ? img_kind_by_magic(s, *magic, fname) : NULL;
	if (bymagic && bymagic->layout == IMG_LAY_VADDR_PAGES &&
	    (src->size - *start) % (8 + IMG_PAGE_SIZE) != 0)
		bymagic = NULL; /* a raw pages file that happens to start with the pagemap magic */
	if (byfile && (byfile->layout == IMG_LAY_RAW) &&
	    !(bymagic && img_kind_match(bymagic, fname, NULL, NULL, 0))) {
		*kind = byfile;
		return 0;
	}
	if (bymagic) {
		*kind = bymagic;
		return 0;
	}
	if (src->size < 4)
		return img_err_set(err, EINVAL, "offset 0x0: file too short for a magic (%zu bytes)", src->size);
	if (*head)
		return img_err_set(err, EINVAL, "offset 0x4: unknown magic 0x%08x", *magic);
	return img_err_set(err, EINVAL, "offset 0x0: unknown magic 0x%08x", *magic);
}

/* An allocation failed: out of memory, or past the image's budget. */
static int no_room(struct img_image *img, size_t idx, size_t off, struct img_err *err)
{
	if (img->arena.failed != EFBIG)
		return img_err_set(err, ENOMEM, "out of memory");
	return img_err_set(err, EFBIG, "entry %zu at offset 0x%zx: the entries need more than the %zu bytes of memory "
			   "a %zu-byte image may take", idx, off, img->budget, img->src->size);
}

static int read_entries(struct img_image *img, const uint8_t *d, size_t size, size_t off, unsigned flags,
			struct img_err *err)
{
	const struct img_kind *k = img->kind;
	const struct img_schema *s = img->schema;
	const struct img_extra_ops *xo = img_extra_ops(k->extra);
	const struct img_msgdesc *first = k->msg, *rest = k->msg;
	int chunks = 0;

	if (k->layout == IMG_LAY_PAGEMAP) {
		first = img_schema_msg(s, "pagemap_head");
		if (!first)
			return img_err_set(err, EINVAL, "the schema has no pagemap_head message");
	} else if (k->layout == IMG_LAY_GHOST) {
		rest = img_schema_msg(s, "ghost_chunk_entry");
		if (!rest)
			return img_err_set(err, EINVAL, "the schema has no ghost_chunk_entry message");
	}
	while (off < size) {
		size_t idx = img->n;
		struct img_entry *e;

		if (k->layout == IMG_LAY_VADDR_PAGES) {
			if (size - off < 8 + IMG_PAGE_SIZE)
				return img_err_set(err, EINVAL, "entry %zu at offset 0x%zx: truncated page: need %d bytes, %zu left",
						   idx, off, 8 + IMG_PAGE_SIZE, size - off);
			e = add_entry(img);
			if (!e)
				return no_room(img, idx, off, err);
			e->off = off;
			e->vaddr = img_get_u64(d + off);
			e->extra = d + off + 8;
			e->extra_len = IMG_PAGE_SIZE;
			e->has_extra = 1;
			off += 8 + IMG_PAGE_SIZE;
			continue;
		}
		if (size - off < 4)
			return img_err_set(err, EINVAL, "entry %zu at offset 0x%zx: truncated size: %zu bytes left, need 4",
					   idx, off, size - off);
		uint32_t len = img_get_u32(d + off);

		if (len > size - off - 4)
			return img_err_set(err, EINVAL, "entry %zu at offset 0x%zx: size %u is past the end: %zu bytes left",
					   idx, off, len, size - off - 4);
		e = add_entry(img);
		if (!e)
			return no_room(img, idx, off, err);
		e->off = off;
		e->size = len;
		e->desc = idx == 0 ? first : rest;
		int need_msg = !(flags & IMG_READ_FRAMES) || xo || k->layout == IMG_LAY_GHOST;

		if (need_msg) {
			e->msg = img_pb_decode(&img->arena, e->desc, d + off + 4, len, off + 4, err);
			if (!e->msg) {
				if (err && err->code == ENOMEM)
					return no_room(img, idx, off, err);
				img_err_prefix(err, "entry %zu at offset 0x%zx", idx, off);
				return -EINVAL;
			}
		}
		off += 4 + len;
		if (k->layout == IMG_LAY_GHOST) {
			if (idx == 0) {
				chunks = img_msg_u64(e->msg, "chunks", 0) != 0;
				if (!chunks) {
					/* the file's contents, to the end */
					e->extra = d + off;
					e->extra_len = size - off;
					e->has_extra = 1;
					off = size;
				}
			} else {
				uint64_t l = img_msg_u64(e->msg, "len", 0);

				if (l > size - off)
					return img_err_set(err, EINVAL, "entry %zu at offset 0x%zx: chunk of %llu bytes is past the end: %zu bytes left",
							   idx, e->off, (unsigned long long)l, size - off);
				e->extra = d + off;
				e->extra_len = l;
				e->has_extra = 1;
				off += l;
			}
			continue;
		}
		if (xo && xo->present(e->msg)) {
			uint64_t l;

			if (xo->measure(s, e->msg, d + off, size - off, &l, err)) {
				img_err_prefix(err, "entry %zu at offset 0x%zx", idx, e->off);
				return -EINVAL;
			}
			e->extra = d + off;
			e->extra_len = l;
			e->has_extra = 1;
			off += l;
		}
	}
	return 0;
}

int img_image_read(struct img_src *src, const struct img_schema *s, const struct img_kind *kind,
		   unsigned flags, struct img_image **out, struct img_err *err)
{
	struct img_image *img;
	struct img_err local;
	uint32_t head, magic;
	size_t start;
	int r;

	if (!err) /* the decoder says out of memory only through an err */
		err = &local;
	img_err_subject(err, src->name);
	r = pick_kind(src, s, &head, &magic, &start, &kind, err);
	if (r)
		return r;
	img = image_alloc(s, kind);
	if (!img)
		return img_err_set(err, ENOMEM, "out of memory");
	img->src = img_src_ref(src);
	/* the image's handle and its source's take a little: kept out of what the entries may take */
	img->budget = img_budget(src->size) - IMAGE_HANDLES;
	img->arena.limit = img->budget;
	/* a windowed source (a large member of a tar.gz): raw pages stay windowed, entries are read in */
	if (kind->layout != IMG_LAY_RAW) {
		r = img_src_load(src, IMAGE_LOAD_MAX, err);
		if (r) {
			img_image_free(img);
			return r;
		}
	}
	if (kind->layout == IMG_LAY_RAW) {
		img->raw = src->data;
		img->raw_size = src->size;
		*out = img;
		return 0;
	}
	if (src->size < 4) {
		img_image_free(img);
		return img_err_set(err, EINVAL, "offset 0x0: file too short for a magic (%zu bytes)", src->size);
	}
	if (magic != kind->magic) {
		img_image_free(img);
		return img_err_set(err, EINVAL, "offset 0x%zx: magic 0x%08x is not the one of %s (0x%08x)", start - 4,
				   magic, kind->name, kind->magic);
	}
	img->head = head;
	if (kind->layout == IMG_LAY_OPAQUE) {
		img->raw = src->data + start;
		img->raw_size = src->size - start;
		*out = img;
		return 0;
	}
	r = read_entries(img, src->data, src->size, start, flags, err);
	if (!r && kind->layout == IMG_LAY_SINGLE && img->n != 1) {
		if (img->n == 0)
			r = img_err_set(err, EINVAL, "offset 0x%zx: no entry: a %s image holds one", start, kind->name);
		else
			r = img_err_set(err, EINVAL, "entry 1 at offset 0x%llx: a %s image holds one entry, this is more",
					(unsigned long long)img->e[1].off, kind->name);
	}
	if (r) {
		img_image_free(img);
		return r;
	}
	/* the budget is the reading's: what a caller adds later is its own business */
	img->budget = 0;
	img->arena.limit = 0;
	*out = img;
	return 0;
}

int img_image_open(const char *path, const struct img_schema *s, unsigned flags, struct img_image **out,
		   struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	r = img_image_read(src, s, NULL, flags, out, err);
	img_src_unref(src);
	return r;
}

int img_image_load(struct img_dir *d, const char *member, const struct img_schema *s, unsigned flags,
		   struct img_image **out, struct img_err *err)
{
	struct img_src *src;
	int r = img_dir_get(d, member, &src, err);

	if (r)
		return r;
	r = img_image_read(src, s, NULL, flags, out, err);
	img_src_unref(src);
	return r;
}

struct img_image *img_image_new(const struct img_schema *s, const struct img_kind *k)
{
	struct img_image *img = image_alloc(s, k);

	if (img)
		img->head = k->head == IMG_HEAD_COMMON ? IMG_MAGIC_COMMON
			    : k->head == IMG_HEAD_SERVICE ? IMG_MAGIC_SERVICE : 0;
	return img;
}

struct img_entry *img_image_add(struct img_image *img, const struct img_msgdesc *d, struct img_msg *m)
{
	struct img_entry *e = add_entry(img);

	if (e) {
		e->desc = d;
		e->msg = m;
	}
	return e;
}

int img_entry_set_extra(struct img_image *img, struct img_entry *e, const void *p, size_t n)
{
	void *c = img_arena_alloc(&img->arena, n ? n : 1);

	if (!c)
		return -ENOMEM;
	if (n) /* an empty payload may come as NULL */
		memcpy(c, p, n);
	e->extra = c;
	e->extra_len = n;
	e->has_extra = 1;
	return 0;
}

struct img_msg *img_image_msg(const struct img_image *img)
{
	return img && img->n ? img->e[0].msg : NULL;
}

int img_image_write(struct img_image *img, struct img_buf *out, struct img_err *err)
{
	const struct img_kind *k = img->kind;
	uint8_t w[8];

	if (k->layout == IMG_LAY_RAW)
		return img_buf_add(out, img->raw, img->raw_size) ? img_err_set(err, ENOMEM, "out of memory") : 0;
	if (img->head) {
		img_put_u32(w, img->head);
		img_buf_add(out, w, 4);
	}
	img_put_u32(w, k->magic);
	img_buf_add(out, w, 4);
	if (k->layout == IMG_LAY_OPAQUE)
		img_buf_add(out, img->raw, img->raw_size);
	for (size_t i = 0; i < img->n; i++) {
		struct img_entry *e = &img->e[i];

		if (k->layout == IMG_LAY_VADDR_PAGES) {
			img_put_u64(w, e->vaddr);
			img_buf_add(out, w, 8);
		} else {
			size_t at = out->len;

			if (!e->msg)
				return img_err_set(err, EINVAL, "entry %zu has no message", i);
			img_buf_add(out, w, 4);
			if (img_pb_encode(e->msg, out))
				break;
			if (out->len - at - 4 > UINT32_MAX)
				return img_err_set(err, EFBIG, "entry %zu is larger than 4 GiB", i);
			img_put_u32(out->data + at, (uint32_t)(out->len - at - 4));
		}
		if (e->has_extra && e->extra_len)
			img_buf_add(out, e->extra, (size_t)e->extra_len);
	}
	return out->failed ? img_err_set(err, ENOMEM, "out of memory") : 0;
}

int img_tmp_create(const char *path, char *tmp, size_t cap, struct img_err *err)
{
	int fd;

	if (snprintf(tmp, cap, "%s.tmp-XXXXXX", path) >= (int)cap) {
		img_err_subject(err, path);
		return img_err_set(err, ENAMETOOLONG, "path too long");
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "cannot create a temporary file: %s", strerror(e));
	}
	return fd;
}

void img_tmp_abort(int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	unlink(tmp);
}

int img_tmp_commit(int fd, const char *tmp, const char *path, int mode, struct img_err *err)
{
	if (fchmod(fd, (mode_t)mode) < 0 || close(fd) < 0) {
		int e = errno;

		unlink(tmp);
		img_err_subject(err, path);
		return img_err_set(err, e, "write error: %s", strerror(e));
	}
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		img_err_subject(err, path);
		return img_err_set(err, e, "cannot rename the temporary file: %s", strerror(e));
	}
	return 0;
}

int img_write_file_atomic(const char *path, const void *p, size_t n, int mode, struct img_err *err)
{
	char tmp[PATH_MAX];
	const char *s = p;
	int fd = img_tmp_create(path, tmp, sizeof(tmp), err);

	if (fd < 0)
		return fd;
	while (n) {
		ssize_t wr = write(fd, s, n);

		if (wr < 0 && errno == EINTR)
			continue;
		if (wr <= 0) {
			int e = wr < 0 ? errno : EIO;

			img_tmp_abort(fd, tmp);
			img_err_subject(err, path);
			return img_err_set(err, e, "write error: %s", strerror(e));
		}
		s += wr;
		n -= (size_t)wr;
	}
	return img_tmp_commit(fd, tmp, path, mode, err);
}

int img_image_write_file(struct img_image *img, const char *path, struct img_err *err)
{
	struct img_buf b;
	int r;

	img_buf_init(&b);
	r = img_image_write(img, &b, err);
	if (!r)
		r = img_write_file_atomic(path, b.data, b.len, 0644, err);
	img_buf_free(&b);
	return r;
}
