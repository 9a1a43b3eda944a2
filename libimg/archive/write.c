/*
 * Writing a tar stream, plain or through gzip: ustar headers, with a pax
 * header in front when a name, a link or a size does not fit ustar's fields.
 * Data is streamed: nothing is held but one buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

#define OUT_BUF 65536
#define USTAR_SIZE_MAX 077777777777ull

struct img_tar_writer {
	int fd;
	const char *name;   /* for messages */
	int gz;
	z_stream z;
	uint8_t buf[OUT_BUF];
	size_t len;
	uint64_t pos;       /* tar bytes written */
};

static int flush_buf(struct img_tar_writer *w, struct img_err *err)
{
	size_t off = 0;

	while (off < w->len) {
		ssize_t r = write(w->fd, w->buf + off, w->len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			img_err_subject(err, w->name);
			return img_err_set(err, e, "write error: %s", strerror(e));
		}
		off += (size_t)r;
	}
	w->len = 0;
	return 0;
}

static int deflate_some(struct img_tar_writer *w, const void *p, size_t n, int flush, struct img_err *err)
{
	w->z.next_in = (Bytef *)(uintptr_t)p;
	w->z.avail_in = (uInt)n;
	for (;;) {
		int r;

		w->z.next_out = w->buf + w->len;
		w->z.avail_out = (uInt)(OUT_BUF - w->len);
		r = deflate(&w->z, flush);
		w->len = OUT_BUF - w->z.avail_out;
		if (r == Z_STREAM_ERROR) {
			img_err_subject(err, w->name);
			return img_err_set(err, EINVAL, "deflate failed");
		}
		if (w->len == OUT_BUF && flush_buf(w, err))
			return -EIO;
		if (flush == Z_FINISH ? r == Z_STREAM_END : !w->z.avail_in && w->z.avail_out)
			return 0;
	}
}

static int put(struct img_tar_writer *w, const void *p, size_t n, struct img_err *err)
{
	const uint8_t *s = p;

	w->pos += n;
	while (n) {
		size_t k = n > UINT32_MAX / 2 ? UINT32_MAX / 2 : n;

		if (w->gz) {
			if (deflate_some(w, s, k, Z_NO_FLUSH, err))
				return -EIO;
		} else {
			if (k > OUT_BUF - w->len)
				k = OUT_BUF - w->len;
			memcpy(w->buf + w->len, s, k);
			w->len += k;
			if (w->len == OUT_BUF && flush_buf(w, err))
				return -EIO;
		}
		s += k;
		n -= k;
	}
	return 0;
}

static int pad(struct img_tar_writer *w, struct img_err *err)
{
	static const uint8_t zero[512];

	return w->pos % 512 ? put(w, zero, 512 - w->pos % 512, err) : 0;
}

int img_tar_writer_open(int fd, const char *name, int gzip, int level, struct img_tar_writer **out,
			struct img_err *err)
{
	struct img_tar_writer *w = img_calloc(1, sizeof(*w));

	if (!w)
		return img_err_set(err, ENOMEM, "out of memory");
	w->fd = fd;
	w->name = name;
	w->gz = gzip;
	w->z.zalloc = img_zalloc;
	w->z.zfree = img_zfree;
	/* windowBits 31: a gzip wrapper, with no name and no time in it */
	if (gzip && deflateInit2(&w->z, level ? level : 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		img_free(w);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	*out = w;
	return 0;
}

void img_tar_writer_free(struct img_tar_writer *w)
{
	if (!w)
		return;
	if (w->gz)
		deflateEnd(&w->z);
	img_free(w);
}

int img_tar_writer_close(struct img_tar_writer *w, struct img_err *err)
{
	static const uint8_t zero[1024];

	if (put(w, zero, sizeof(zero), err))
		return -EIO;
	if (w->gz && deflate_some(w, NULL, 0, Z_FINISH, err))
		return -EIO;
	return flush_buf(w, err);
}

/* len-1 octal digits and a NUL; callers keep v within the field */
static void octal(uint8_t *f, size_t len, uint64_t v)
{
	f[len - 1] = 0;
	for (size_t i = len - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (uint8_t)('0' + (v & 7));
}

/* One pax record: "LEN key=value\n", LEN counting itself. */
static int pax_record(struct img_buf *b, const char *key, const char *val)
{
	size_t body = 1 + strlen(key) + 1 + strlen(val) + 1, len = body + 1;

	while (snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	return img_buf_printf(b, "%zu %s=%s\n", len, key, val);
}

/* Split a name into ustar's prefix and name fields, at a '/'. */
static int ustar_split(const char *path, size_t *cut)
{
	size_t n = strlen(path);

	if (n <= 100) {
		*cut = 0;
		return 0;
	}
	for (size_t i = n - 1; i > 0; i--)
		if (path[i] == '/' && i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
			*cut = i;
			return 0;
		}
	return -1;
}

static int header(struct img_tar_writer *w, const char *path, char type, uint32_t mode, uint64_t size,
		  uint64_t mtime, const char *link, struct img_err *err)
{
	uint8_t h[512];
	struct img_buf pax;
	size_t cut = 0;
	int r = 0;

	img_buf_init(&pax);
	if (ustar_split(path, &cut))
		r |= pax_record(&pax, "path", path);
	if (link && strlen(link) > 100)
		r |= pax_record(&pax, "linkpath", link);
	if (size > USTAR_SIZE_MAX) {
		char v[24];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)size);
		r |= pax_record(&pax, "size", v);
	}
	if (r || pax.failed) {
		img_buf_free(&pax);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	if (pax.len) {
		memset(h, 0, sizeof(h));
		snprintf((char *)h, 100, "PaxHeaders/%.80s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
		octal(h + 100, 8, 0644);
		octal(h + 108, 8, 0);
		octal(h + 116, 8, 0);
		octal(h + 124, 12, pax.len);
		octal(h + 136, 12, mtime);
		h[156] = 'x';
		memcpy(h + 257, "ustar\0" "00", 8);
		octal(h + 148, 7, img_tar_checksum(h, 0));
		h[155] = ' ';
		r = put(w, h, 512, err);
		if (!r)
			r = put(w, pax.data, pax.len, err);
		if (!r)
			r = pad(w, err);
		img_buf_free(&pax);
		if (r)
			return r;
		cut = 0;
	}
	memset(h, 0, sizeof(h));
	if (cut) {
		memcpy(h + 345, path, cut);
		strncpy((char *)h, path + cut + 1, 100);
	} else
		strncpy((char *)h, path, 100);
	octal(h + 100, 8, mode);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size > USTAR_SIZE_MAX ? 0 : size);
	octal(h + 136, 12, mtime > USTAR_SIZE_MAX ? 0 : mtime);
	h[156] = (uint8_t)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257, "ustar\0" "00", 8);
	octal(h + 148, 7, img_tar_checksum(h, 0));
	h[155] = ' ';
	return put(w, h, 512, err);
}

int img_tar_write_dir(struct img_tar_writer *w, const char *path, uint64_t mtime, struct img_err *err)
{
	char p[IMG_TAR_NAME_MAX + 2];

	snprintf(p, sizeof(p), "%s/", path);
	return header(w, p, '5', 0755, 0, mtime, NULL, err);
}

int img_tar_write_symlink(struct img_tar_writer *w, const char *path, const char *target, uint64_t mtime,
			  struct img_err *err)
{
	return header(w, path, '2', 0777, 0, mtime, target, err);
}

int img_tar_write_file(struct img_tar_writer *w, const char *path, uint32_t mode, uint64_t mtime,
		       struct img_src *data, struct img_err *err)
{
	uint8_t *chunk = NULL;
	int r = header(w, path, '0', mode, data->size, mtime, NULL, err);

	if (!r && data->data)
		r = put(w, data->data, data->size, err);
	else if (!r && data->size) {
		chunk = img_malloc(OUT_BUF);
		if (!chunk)
			return img_err_set(err, ENOMEM, "out of memory");
		for (uint64_t off = 0; !r && off < data->size; off += OUT_BUF) {
			size_t n = data->size - off < OUT_BUF ? (size_t)(data->size - off) : OUT_BUF;

			r = img_src_pread(data, chunk, n, off, err);
			if (!r)
				r = put(w, chunk, n, err);
		}
		img_free(chunk);
	}
	return r ? r : pad(w, err);
}
