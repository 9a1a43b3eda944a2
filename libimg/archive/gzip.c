/*
 * Random access into a gzip stream without inflating it to disk or memory.
 *
 * The first pass inflates the whole stream once (the tar reader walks its
 * headers meanwhile) and records access points at deflate block boundaries:
 * the compressed offset, the bits left over in the byte before it, and the
 * 32 KiB window inflate needs to go on from there (zlib's zran method).  A
 * read then starts at the last point before the offset, so it inflates at
 * most a span and a deflate block more than it returns (zlib's blocks inflate
 * to 4 MiB at most; a block has no limit in the format, so a hand-made one
 * costs more time, never more memory).  Points are at least 1 MiB apart; when
 * there are more than IMG_GZ_POINTS of them every other one is dropped and
 * the span doubles, so the index never holds more than 16 MiB of windows
 * whatever the size of the archive.  One cursor follows the reads, so reading
 * on from where the last read stopped inflates nothing twice.
 *
 * Windows are kept whole rather than compressed: 16 MiB is the price of a
 * read that costs one inflate of about a span, without a second codec.
 *
 * Streams of several gzip members (pigz, bgzip, cat a.gz b.gz) work; a point
 * at the start of a member needs no window.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

#define IMG_GZ_POINTS 512
#define GZ_SPAN ((uint64_t)1 << 20)
#define GZ_WINDOW 32768
#define GZ_SCRATCH 65536

struct gz_point {
	uint64_t out;  /* offset in the inflated stream */
	uint64_t in;   /* compressed offset of the first whole byte to feed */
	uint8_t bits;  /* bits of the byte before 'in' that belong to the next block */
	uint8_t fresh; /* the start of a gzip member: no window */
	uint32_t wlen;
	uint8_t *win;
};

enum { GZ_DEFLATE, GZ_MEMBER, GZ_END };

struct img_gz {
	const uint8_t *data;
	uint64_t size;
	z_stream z;
	uint64_t in, out;   /* where the stream is: next compressed byte, next inflated byte */
	int state;
	/* the first pass */
	int scanning;
	uint32_t crc;       /* of the current gzip member's output */
	uint64_t mout;      /* bytes the current gzip member inflated to */
	uint64_t mstart;    /* compressed offset of the current gzip member */
	uint64_t limit;
	struct gz_point *pt;
	size_t npt;
	uint64_t span;
	/* reads */
	int cur_valid;
	uint64_t total;
	uint64_t inflated;
	uint8_t *scratch;
};

void *img_zalloc(void *opaque, unsigned items, unsigned size)
{
	(void)opaque;
	return img_calloc(items, size);
}

void img_zfree(void *opaque, void *p)
{
	(void)opaque;
	img_free(p);
}

/* The gzip member header at off (RFC 1952): returns the offset of its deflate data. */
static int member_header(const uint8_t *d, uint64_t size, uint64_t off, uint64_t *start, struct img_err *err)
{
	uint64_t p = off + 10;
	uint8_t flg;

	if (size - off < 10)
		return img_err_set(err, EINVAL, "offset 0x%llx: truncated gzip header", (unsigned long long)off);
	if (d[off] != 0x1f || d[off + 1] != 0x8b)
		return img_err_set(err, EINVAL, "offset 0x%llx: not a gzip member (magic %02x %02x)",
				   (unsigned long long)off, d[off], d[off + 1]);
	if (d[off + 2] != 8)
		return img_err_set(err, EINVAL, "offset 0x%llx: gzip compression method %u is not deflate",
				   (unsigned long long)off, d[off + 2]);
	flg = d[off + 3];
	if (flg & 0xe0)
		return img_err_set(err, EINVAL, "offset 0x%llx: reserved gzip flags 0x%02x", (unsigned long long)off,
				   flg);
	if (flg & 4) { /* FEXTRA */
		if (size - p < 2)
			goto trunc;
		p += 2 + (uint64_t)(d[p] | d[p + 1] << 8);
		if (p > size)
			goto trunc;
	}
	for (int f = 8; f <= 16; f <<= 1) { /* FNAME, FCOMMENT: NUL-terminated */
		if (!(flg & f))
			continue;
		const uint8_t *z = memchr(d + p, 0, size - p);

		if (!z)
			goto trunc;
		p = (uint64_t)(z - d) + 1;
	}
	if (flg & 2) /* FHCRC */
		p += 2;
	if (p > size)
		goto trunc;
	*start = p;
	return 0;
trunc:
	return img_err_set(err, EINVAL, "offset 0x%llx: truncated gzip header", (unsigned long long)off);
}

static void drop_points(struct img_gz *g, size_t from, size_t step)
{
	size_t k = from;

	for (size_t i = from; i < g->npt; i++) {
		if ((i - from) % step == 0)
			g->pt[k++] = g->pt[i];
		else
			img_free(g->pt[i].win);
	}
	g->npt = k;
}

static int add_point(struct img_gz *g, int fresh)
{
	struct gz_point *p;

	if (g->npt == IMG_GZ_POINTS) {
		/* keep every other point: the index stays bounded, spans double */
		drop_points(g, 0, 2);
		g->span *= 2;
	}
	p = &g->pt[g->npt];
	memset(p, 0, sizeof(*p));
	p->out = g->out;
	p->in = g->in;
	p->fresh = (uint8_t)fresh;
	if (!fresh) {
		uInt wlen = GZ_WINDOW;

		p->bits = (uint8_t)(g->z.data_type & 7);
		p->win = img_malloc(GZ_WINDOW);
		if (!p->win || inflateGetDictionary(&g->z, p->win, &wlen) != Z_OK) {
			img_free(p->win);
			return -ENOMEM;
		}
		p->wlen = wlen;
	}
	g->npt++;
	return 0;
}

static int want_point(const struct img_gz *g)
{
	return g->scanning && (!g->npt || g->out - g->pt[g->npt - 1].out >= g->span);
}

/* At a member boundary: the next gzip member, or the end (zeros may pad it). */
static int next_member(struct img_gz *g, struct img_err *err)
{
	uint64_t start;
	int r;

	if (g->in == g->size) {
		g->state = GZ_END;
		return 0;
	}
	if (g->data[g->in] != 0x1f && g->data[g->in] != 0)
		return img_err_set(err, EINVAL, "offset 0x%llx: bytes after the end of the gzip stream",
				   (unsigned long long)g->in);
	if (g->data[g->in] == 0) {
		for (uint64_t i = g->in; i < g->size; i++)
			if (g->data[i])
				return img_err_set(err, EINVAL, "offset 0x%llx: bytes after the end of the gzip stream",
						   (unsigned long long)i);
		g->in = g->size;
		g->state = GZ_END;
		return 0;
	}
	r = member_header(g->data, g->size, g->in, &start, err);
	if (r)
		return r;
	g->mstart = g->in;
	g->in = start;
	g->crc = (uint32_t)crc32(0, NULL, 0);
	g->mout = 0;
	if (inflateReset(&g->z) != Z_OK)
		return img_err_set(err, EINVAL, "inflateReset failed");
	g->state = GZ_DEFLATE;
	if (want_point(g) && add_point(g, 1))
		return img_err_set(err, ENOMEM, "out of memory");
	return 0;
}

static int check_trailer(struct img_gz *g, struct img_err *err)
{
	const uint8_t *t = g->data + g->in;

	if (g->size - g->in < 8)
		return img_err_set(err, EINVAL, "offset 0x%llx: truncated: the gzip trailer is missing",
				   (unsigned long long)g->in);
	if (!g->scanning)
		return 0;
	if ((uint32_t)(t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24) != g->crc)
		return img_err_set(err, EINVAL, "offset 0x%llx: the gzip member starting at 0x%llx fails its CRC check",
				   (unsigned long long)g->in, (unsigned long long)g->mstart);
	if ((uint32_t)(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24) != (uint32_t)g->mout)
		return img_err_set(err, EINVAL, "offset 0x%llx: the gzip member starting at 0x%llx has the wrong length",
				   (unsigned long long)g->in, (unsigned long long)g->mstart);
	return 0;
}

/* Inflate the next n bytes into buf, or drop them when buf is NULL. */
static int gz_run(struct img_gz *g, uint8_t *buf, uint64_t n, uint64_t *got, struct img_err *err)
{
	uint64_t done = 0;
	int r;

	while (done < n && g->state != GZ_END) {
		uint8_t *dst = buf ? buf + done : g->scratch;
		uint64_t room = n - done, in0 = g->in;
		size_t made;

		if (g->state == GZ_MEMBER) {
			r = next_member(g, err);
			if (r)
				return r;
			continue;
		}
		if (room > (buf ? UINT_MAX : GZ_SCRATCH))
			room = buf ? UINT_MAX : GZ_SCRATCH;
		g->z.next_out = dst;
		g->z.avail_out = (uInt)room;
		g->z.next_in = (Bytef *)(uintptr_t)(g->data + g->in);
		g->z.avail_in = g->size - g->in > UINT_MAX ? UINT_MAX : (uInt)(g->size - g->in);
		r = inflate(&g->z, g->scanning ? Z_BLOCK : Z_NO_FLUSH);
		made = (size_t)(room - g->z.avail_out);
		g->in = (uint64_t)(g->z.next_in - g->data);
		g->out += made;
		done += made;
		if (g->scanning) {
			g->crc = (uint32_t)crc32(g->crc, dst, (uInt)made);
			g->mout += made;
			if (g->out > g->limit)
				return img_err_set(err, EFBIG,
						   "offset 0x%llx: inflates to more than %llu bytes (over %llu times its size): "
						   "refused as a gzip bomb (if it is genuine, gunzip it and open the .tar)",
						   (unsigned long long)g->in, (unsigned long long)g->limit,
						   (unsigned long long)(g->limit / (g->size ? g->size : 1)));
		} else
			g->inflated += made;
		if (r == Z_STREAM_END) {
			r = check_trailer(g, err);
			if (r)
				return r;
			g->in += 8;
			g->state = GZ_MEMBER;
			continue;
		}
		if (r == Z_BUF_ERROR && g->in == g->size)
			return img_err_set(err, EINVAL, "offset 0x%llx: truncated: the gzip stream ends inside deflate data",
					   (unsigned long long)g->in);
		if (r == Z_BUF_ERROR && !made && g->in == in0)
			return img_err_set(err, EINVAL, "offset 0x%llx: inflate makes no progress", (unsigned long long)g->in);
		if (r == Z_MEM_ERROR) /* the window, allocated at the first inflate */
			return img_err_set(err, ENOMEM, "out of memory");
		if (r != Z_OK && r != Z_BUF_ERROR)
			return img_err_set(err, EINVAL, "offset 0x%llx: bad deflate data: %s", (unsigned long long)g->in,
					   g->z.msg ? g->z.msg : "inflate failed");
		if ((g->z.data_type & 128) && !(g->z.data_type & 64) && want_point(g) && add_point(g, 0))
			return img_err_set(err, ENOMEM, "out of memory");
	}
	*got = done;
	return 0;
}

int img_gz_open(struct img_src *file, struct img_gz **out, struct img_err *err)
{
	struct img_gz *g = img_calloc(1, sizeof(*g));
	uint64_t start;
	int r;

	if (!g)
		return img_err_set(err, ENOMEM, "out of memory");
	g->data = file->data;
	g->size = file->size;
	g->span = GZ_SPAN;
	g->scanning = 1;
	g->limit = g->size > IMG_GZ_MAX / IMG_GZ_RATIO ? IMG_GZ_MAX : g->size * IMG_GZ_RATIO;
	if (g->limit < IMG_GZ_FLOOR)
		g->limit = IMG_GZ_FLOOR;
	g->pt = img_calloc(IMG_GZ_POINTS, sizeof(*g->pt));
	g->scratch = img_malloc(GZ_SCRATCH);
	if (!g->pt || !g->scratch) {
		img_gz_free(g);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	r = member_header(g->data, g->size, 0, &start, err);
	if (r) {
		img_gz_free(g);
		return r;
	}
	g->z.zalloc = img_zalloc;
	g->z.zfree = img_zfree;
	if (inflateInit2(&g->z, -15) != Z_OK) {
		img_gz_free(g);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	g->z.next_in = Z_NULL;
	g->in = start;
	g->crc = (uint32_t)crc32(0, NULL, 0);
	g->state = GZ_DEFLATE;
	if (add_point(g, 1)) {
		img_gz_free(g);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	*out = g;
	return 0;
}

void img_gz_free(struct img_gz *g)
{
	if (!g)
		return;
	if (g->z.state)
		inflateEnd(&g->z);
	for (size_t i = 0; g->pt && i < g->npt; i++)
		img_free(g->pt[i].win);
	img_free(g->pt);
	img_free(g->scratch);
	img_free(g);
}

int img_gz_next(struct img_gz *g, uint8_t *buf, uint64_t n, uint64_t *got, struct img_err *err)
{
	return gz_run(g, buf, n, got, err);
}

int img_gz_finish(struct img_gz *g, struct img_err *err)
{
	uint64_t got;
	int r;

	do {
		r = gz_run(g, NULL, UINT64_MAX, &got, err);
	} while (!r && g->state != GZ_END);
	if (r)
		return r;
	g->total = g->out;
	g->scanning = 0;
	g->cur_valid = 0;
	return 0;
}

/* Put the cursor on the last access point at or before off. */
static int seek_point(struct img_gz *g, uint64_t off, struct img_err *err)
{
	size_t lo = 0, hi = g->npt;
	struct gz_point *p;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->pt[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	p = &g->pt[lo];
	g->cur_valid = 0;
	if (inflateReset(&g->z) != Z_OK)
		return img_err_set(err, EINVAL, "inflateReset failed");
	if (p->bits && inflatePrime(&g->z, p->bits, g->data[p->in - 1] >> (8 - p->bits)) != Z_OK)
		return img_err_set(err, EINVAL, "inflatePrime failed");
	if (p->wlen && inflateSetDictionary(&g->z, p->win, p->wlen) != Z_OK)
		return img_err_set(err, EINVAL, "inflateSetDictionary failed");
	g->in = p->in;
	g->out = p->out;
	g->state = GZ_DEFLATE;
	g->cur_valid = 1;
	return 0;
}

int img_gz_pread(struct img_gz *g, uint64_t off, void *buf, size_t n, struct img_err *err)
{
	uint64_t got;
	int r;

	if (off > g->total || n > g->total - off)
		return img_err_set(err, EINVAL, "offset 0x%llx: past the end of the stream", (unsigned long long)off);
	if (!n)
		return 0;
	if (!g->cur_valid || off < g->out || off - g->out > g->span) {
		r = seek_point(g, off, err);
		if (r)
			return r;
	}
	r = gz_run(g, NULL, off - g->out, &got, err);
	if (!r)
		r = gz_run(g, buf, n, &got, err);
	if (!r && got != n)
		r = img_err_set(err, EINVAL, "offset 0x%llx: the stream ended early", (unsigned long long)g->out);
	if (r)
		g->cur_valid = 0;
	return r;
}

void img_gz_stats(const struct img_gz *g, struct img_archive_stats *st)
{
	st->compressed = 1;
	st->points = g->npt;
	st->span = g->span;
	st->index_bytes = IMG_GZ_POINTS * sizeof(*g->pt) + GZ_SCRATCH;
	for (size_t i = 0; i < g->npt; i++)
		st->index_bytes += g->pt[i].wlen ? GZ_WINDOW : 0;
	st->inflated = g->inflated;
}
