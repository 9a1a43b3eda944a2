/*
 * The protobuf wire codec.  Decoding keeps every field occurrence in wire
 * order, unknown ones with their raw bytes; encoding writes them back in the
 * same order, and copies messages that nothing changed from their raw bytes, so
 * that decode + encode is byte-identical.
 */
#include <errno.h>
#include <string.h>

#include "img/pb.h"

/* Varints */

int img_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 10; i++) {
		if (p + i >= end)
			return 0;
		uint8_t b = p[i];

		if (i == 9 && b > 1)
			return 0; /* more than 64 bits */
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

size_t img_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t img_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The wire type a scalar type travels as, unpacked. */
static int type_wt(int type)
{
	switch (type) {
	case IMG_T_DOUBLE: case IMG_T_FIXED64: case IMG_T_SFIXED64:
		return IMG_WT_I64;
	case IMG_T_FLOAT: case IMG_T_FIXED32: case IMG_T_SFIXED32:
		return IMG_WT_I32;
	case IMG_T_STRING: case IMG_T_BYTES: case IMG_T_MESSAGE:
		return IMG_WT_LEN;
	default:
		return IMG_WT_VARINT;
	}
}

int img_packed_next(int type, const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	int wt = type_wt(type), n;

	if (*p >= end)
		return 0;
	if (wt == IMG_WT_I64) {
		if (end - *p < 8)
			return -1;
		*v = img_get_u64(*p);
		*p += 8;
	} else if (wt == IMG_WT_I32) {
		if (end - *p < 4)
			return -1;
		*v = img_get_u32(*p);
		*p += 4;
	} else {
		n = img_varint_get(*p, end, v);
		if (!n)
			return -1;
		*p += n;
	}
	return 1;
}

/* A wire value seen as the field's type, widened to 64 bits (signed types in two's complement). */
static uint64_t wire_value(int type, uint64_t w)
{
	switch (type) {
	case IMG_T_INT32: case IMG_T_ENUM: case IMG_T_SFIXED32:
		return (uint64_t)(int64_t)(int32_t)(uint32_t)w;
	case IMG_T_UINT32: case IMG_T_FIXED32: case IMG_T_FLOAT:
		return (uint32_t)w;
	case IMG_T_SINT32: {
		uint32_t u = (uint32_t)w;

		return (uint64_t)(int64_t)(int32_t)((u >> 1) ^ -(u & 1));
	}
	case IMG_T_SINT64:
		return (uint64_t)img_unzigzag64(w);
	case IMG_T_BOOL:
		return w != 0;
	default:
		return w;
	}
}

uint64_t img_pb_to_wire(int type, uint64_t v)
{
	switch (type) {
	case IMG_T_INT32: case IMG_T_ENUM:
		return (uint64_t)(int64_t)(int32_t)v;
	case IMG_T_UINT32: case IMG_T_FIXED32: case IMG_T_SFIXED32: case IMG_T_FLOAT:
		return (uint32_t)v;
	case IMG_T_SINT32: {
		int32_t s = (int32_t)v;

		return (uint32_t)(((uint32_t)s << 1) ^ (uint32_t)(s >> 31));
	}
	case IMG_T_SINT64:
		return img_zigzag64((int64_t)v);
	case IMG_T_BOOL:
		return v != 0;
	default:
		return v;
	}
}

uint64_t img_fval_u64(const struct img_fielddesc *fd, const struct img_fval *fv)
{
	return fd ? wire_value(fd->type, fv->v.u) : fv->v.u;
}

int64_t img_fval_i64(const struct img_fielddesc *fd, const struct img_fval *fv)
{
	return (int64_t)img_fval_u64(fd, fv);
}

/* Decoding */

struct dctx {
	struct img_arena *a;
	struct img_err *err;
	const uint8_t *start; /* of the outermost message */
	uint64_t base;        /* its file offset */
};

/* Path of names from the outermost message, for messages. */
struct dpath {
	const struct dpath *up;
	const struct img_fielddesc *fd;
};

static void path_str(const struct dpath *p, char *buf, size_t len)
{
	const struct dpath *st[IMG_PB_MAX_DEPTH + 2];
	int n = 0;
	size_t o = 0;

	for (; p && n < IMG_PB_MAX_DEPTH + 2; p = p->up)
		if (p->fd)
			st[n++] = p;
	buf[0] = 0;
	while (n-- > 0 && o < len) {
		int w = snprintf(buf + o, len - o, "%s%s", o ? "." : "", st[n]->fd->name);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static struct img_msg *derr(struct dctx *c, const struct dpath *path, uint32_t num,
			    const struct img_fielddesc *fd, const uint8_t *at, const char *fmt, ...)
	IMG_PRINTF(6, 7);

static struct img_msg *derr(struct dctx *c, const struct dpath *path, uint32_t num,
			    const struct img_fielddesc *fd, const uint8_t *at, const char *fmt, ...)
{
	char what[512], where[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	path_str(path, where, sizeof(where));
	unsigned long long off = c->base + (unsigned long long)(at - c->start);

	if (num && fd)
		img_err_set(c->err, EINVAL, "field %s%s%s (%u) at offset 0x%llx: %s", where, where[0] ? "." : "",
			    fd->name, num, off, what);
	else if (num)
		img_err_set(c->err, EINVAL, "%s%sfield %u at offset 0x%llx: %s", where, where[0] ? ": " : "", num,
			    off, what);
	else
		img_err_set(c->err, EINVAL, "%s%soffset 0x%llx: %s", where, where[0] ? ": " : "", off, what);
	return NULL;
}

/* Skip a group that started with tag num; p is just after the start tag. */
static const uint8_t *skip_group(const uint8_t *p, const uint8_t *end, uint32_t num, int depth)
{
	while (p < end) {
		uint64_t tag, v;
		int n = img_varint_get(p, end, &tag);

		if (!n || depth > IMG_PB_MAX_DEPTH)
			return NULL;
		p += n;
		switch (tag & 7) {
		case IMG_WT_VARINT:
			n = img_varint_get(p, end, &v);
			if (!n)
				return NULL;
			p += n;
			break;
		case IMG_WT_I64:
			if (end - p < 8)
				return NULL;
			p += 8;
			break;
		case IMG_WT_I32:
			if (end - p < 4)
				return NULL;
			p += 4;
			break;
		case IMG_WT_LEN:
			n = img_varint_get(p, end, &v);
			if (!n || v > (uint64_t)(end - p - n))
				return NULL;
			p += n + v;
			break;
		case IMG_WT_SGROUP:
			p = skip_group(p, end, (uint32_t)(tag >> 3), depth + 1);
			if (!p)
				return NULL;
			break;
		case IMG_WT_EGROUP:
			return (tag >> 3) == num ? p : NULL;
		default:
			return NULL;
		}
	}
	return NULL;
}

static int wt_fits(const struct img_fielddesc *fd, int wt)
{
	int want = type_wt(fd->type);

	if (wt == want)
		return 1;
	/* packed repeated scalars */
	return wt == IMG_WT_LEN && fd->label == IMG_L_REPEATED && want != IMG_WT_LEN;
}

static int packed_ok(int type, const uint8_t *p, const uint8_t *end)
{
	uint64_t v;
	int r;

	while ((r = img_packed_next(type, &p, end, &v)) > 0)
		;
	return r == 0;
}

static struct img_msg *decode(struct dctx *c, const struct img_msgdesc *d, const uint8_t *p, size_t n,
			      const struct dpath *path, int depth)
{
	const uint8_t *q, *end = p + n;
	struct img_msg *m;
	uint32_t count = 0, last = 0, i;
	int sorted = 1;

	if (depth > IMG_PB_MAX_DEPTH)
		return derr(c, path, 0, NULL, p, "messages nested deeper than %d", IMG_PB_MAX_DEPTH);

	/* Pass 1: frame every field, count them, report framing errors. */
	for (q = p; q < end;) {
		const uint8_t *at = q;
		uint64_t tag, v;
		int k = img_varint_get(q, end, &tag);

		if (!k)
			return derr(c, path, 0, NULL, at, "truncated or overlong field tag");
		q += k;
		uint64_t num = tag >> 3;
		int wt = (int)(tag & 7);
		const struct img_fielddesc *fd = num <= UINT32_MAX ? img_msgdesc_field(d, (uint32_t)num) : NULL;

		if (num == 0 || num > 536870911)
			return derr(c, path, 0, NULL, at, "bad field number %llu", (unsigned long long)num);
		switch (wt) {
		case IMG_WT_VARINT:
			k = img_varint_get(q, end, &v);
			if (!k)
				return derr(c, path, (uint32_t)num, fd, at, "truncated or overlong varint");
			q += k;
			break;
		case IMG_WT_I64:
			if (end - q < 8)
				return derr(c, path, (uint32_t)num, fd, at, "truncated: need 8 bytes, %zu left",
					    (size_t)(end - q));
			q += 8;
			break;
		case IMG_WT_I32:
			if (end - q < 4)
				return derr(c, path, (uint32_t)num, fd, at, "truncated: need 4 bytes, %zu left",
					    (size_t)(end - q));
			q += 4;
			break;
		case IMG_WT_LEN:
			k = img_varint_get(q, end, &v);
			if (!k)
				return derr(c, path, (uint32_t)num, fd, at, "truncated length");
			q += k;
			if (v > (uint64_t)(end - q))
				return derr(c, path, (uint32_t)num, fd, at, "truncated: need %llu bytes, %zu left",
					    (unsigned long long)v, (size_t)(end - q));
			q += v;
			break;
		case IMG_WT_SGROUP:
			q = skip_group(q, end, (uint32_t)num, depth);
			if (!q)
				return derr(c, path, (uint32_t)num, fd, at, "unterminated group");
			break;
		default:
			return derr(c, path, (uint32_t)num, fd, at, "bad wire type %d", wt);
		}
		if (num < last)
			sorted = 0;
		last = (uint32_t)num;
		count++;
	}

	m = img_arena_alloc(c->a, sizeof(*m));
	if (!m)
		goto nomem;
	m->desc = d;
	m->n = m->cap = count;
	m->flags = sorted ? IMG_MSG_SORTED : 0;
	m->enc_size = 0;
	m->raw = p;
	m->rawlen = (uint32_t)n;
	m->f = count ? img_arena_alloc(c->a, count * sizeof(*m->f)) : NULL;
	if (count && !m->f)
		goto nomem;

	/* Pass 2: fill in the values. */
	for (q = p, i = 0; q < end; i++) {
		struct img_fval *f = &m->f[i];
		const uint8_t *at = q;
		uint64_t tag, v = 0;

		q += img_varint_get(q, end, &tag);
		f->num = (uint32_t)(tag >> 3);
		f->wt = (uint8_t)(tag & 7);
		f->packed = 0;
		const struct img_fielddesc *fd = img_msgdesc_field(d, f->num);
		const uint8_t *vstart = q;

		switch (f->wt) {
		case IMG_WT_VARINT:
			q += img_varint_get(q, end, &v);
			break;
		case IMG_WT_I64:
			v = img_get_u64(q);
			q += 8;
			break;
		case IMG_WT_I32:
			v = img_get_u32(q);
			q += 4;
			break;
		case IMG_WT_LEN:
			q += img_varint_get(q, end, &v);
			vstart = q;
			q += v;
			break;
		default:
			q = skip_group(q, end, f->num, depth);
			break;
		}
		if (fd && wt_fits(fd, f->wt)) {
			f->fi = (uint16_t)(fd - d->fields);
			if (f->wt != IMG_WT_LEN) {
				f->v.u = v;
				if (fd->type == IMG_T_ENUM && !img_enum_by_num(fd->en, (int32_t)v))
					goto unknown; /* closed enums keep unknown values aside */
				continue;
			}
			if (fd->type == IMG_T_MESSAGE) {
				struct dpath sub = { path, fd };

				f->v.m = decode(c, fd->msg, vstart, (size_t)v, &sub, depth + 1);
				if (!f->v.m)
					return NULL;
				continue;
			}
			f->v.b.p = vstart;
			f->v.b.len = (uint32_t)v;
			if (fd->type != IMG_T_STRING && fd->type != IMG_T_BYTES) {
				if (!packed_ok(fd->type, vstart, q))
					return derr(c, path, f->num, fd, at, "bad packed values");
				f->packed = 1;
			}
			continue;
		}
unknown:
		f->fi = IMG_FI_UNKNOWN;
		f->v.b.p = at;
		f->v.b.len = (uint32_t)(q - at);
	}
	return m;
nomem:
	img_err_set(c->err, ENOMEM, "out of memory");
	return NULL;
}

struct img_msg *img_pb_decode(struct img_arena *a, const struct img_msgdesc *d, const uint8_t *p, size_t n,
			      uint64_t base, struct img_err *err)
{
	static const uint8_t none[1];
	struct dctx c;

	if (!p) /* an empty buffer may have no data pointer */
		p = none;
	c = (struct dctx){ a, err, p, base };
	if (n > UINT32_MAX) {
		img_err_set(err, EFBIG, "message of %zu bytes is too large", n);
		return NULL;
	}
	return decode(&c, d, p, n, NULL, 0);
}

/* Encoding */

static size_t fval_size(struct img_msg *m, struct img_fval *f, int *clean);

static size_t msg_size(struct img_msg *m, int *clean_out)
{
	size_t s = 0;
	int clean = !(m->flags & IMG_MSG_DIRTY) && m->raw;

	for (uint32_t i = 0; i < m->n; i++)
		s += fval_size(m, &m->f[i], &clean);
	if (clean)
		s = m->rawlen;
	m->enc_size = (uint32_t)s;
	/* Remember for img_pb_encode whether raw can be copied. */
	m->flags = (m->flags & ~0x80000000u) | (clean ? 0x80000000u : 0);
	if (clean_out && !clean)
		*clean_out = 0;
	return s;
}

static size_t fval_size(struct img_msg *m, struct img_fval *f, int *clean)
{
	size_t tag = img_varint_len((uint64_t)f->num << 3);

	if (f->fi == IMG_FI_UNKNOWN)
		return f->v.b.len;
	const struct img_fielddesc *fd = &m->desc->fields[f->fi];

	switch (f->wt) {
	case IMG_WT_VARINT:
		return tag + img_varint_len(f->v.u);
	case IMG_WT_I64:
		return tag + 8;
	case IMG_WT_I32:
		return tag + 4;
	default:
		if (fd->type == IMG_T_MESSAGE) {
			size_t s = msg_size(f->v.m, clean);

			return tag + img_varint_len(s) + s;
		}
		return tag + img_varint_len(f->v.b.len) + f->v.b.len;
	}
}

size_t img_pb_size(struct img_msg *m)
{
	return msg_size(m, NULL);
}

static void put_varint(struct img_buf *b, uint64_t v)
{
	b->len += img_varint_put(b->data + b->len, v);
}

/* Writes into b, which has room for the sizes computed by msg_size. */
static void encode(struct img_msg *m, struct img_buf *b)
{
	if (m->flags & 0x80000000u) {
		memcpy(b->data + b->len, m->raw, m->rawlen);
		b->len += m->rawlen;
		return;
	}
	for (uint32_t i = 0; i < m->n; i++) {
		struct img_fval *f = &m->f[i];

		if (f->fi == IMG_FI_UNKNOWN) {
			memcpy(b->data + b->len, f->v.b.p, f->v.b.len);
			b->len += f->v.b.len;
			continue;
		}
		put_varint(b, ((uint64_t)f->num << 3) | f->wt);
		switch (f->wt) {
		case IMG_WT_VARINT:
			put_varint(b, f->v.u);
			break;
		case IMG_WT_I64:
			img_put_u64(b->data + b->len, f->v.u);
			b->len += 8;
			break;
		case IMG_WT_I32:
			img_put_u32(b->data + b->len, (uint32_t)f->v.u);
			b->len += 4;
			break;
		default:
			if (m->desc->fields[f->fi].type == IMG_T_MESSAGE) {
				put_varint(b, f->v.m->enc_size);
				encode(f->v.m, b);
			} else {
				put_varint(b, f->v.b.len);
				if (f->v.b.len)
					memcpy(b->data + b->len, f->v.b.p, f->v.b.len);
				b->len += f->v.b.len;
			}
		}
	}
}

int img_pb_encode(struct img_msg *m, struct img_buf *out)
{
	size_t n = msg_size(m, NULL);

	if (!n) /* out->data may still be NULL */
		return out->failed ? -ENOMEM : 0;
	if (img_buf_reserve(out, n))
		return -ENOMEM;
	encode(m, out);
	return 0;
}

/* Building */

struct img_msg *img_msg_new(struct img_arena *a, const struct img_msgdesc *d)
{
	struct img_msg *m = img_arena_zalloc(a, sizeof(*m));

	if (m) {
		m->desc = d;
		m->flags = IMG_MSG_SORTED | IMG_MSG_DIRTY;
	}
	return m;
}

static int msg_grow(struct img_arena *a, struct img_msg *m, uint32_t extra)
{
	if (m->n + extra <= m->cap)
		return 0;
	uint32_t cap = m->cap ? m->cap * 2 : 8;

	while (cap < m->n + extra)
		cap *= 2;
	struct img_fval *f = img_arena_alloc(a, cap * sizeof(*f));

	if (!f)
		return -ENOMEM;
	if (m->n)
		memcpy(f, m->f, m->n * sizeof(*f));
	m->f = f;
	m->cap = cap;
	return 0;
}

struct img_fval *img_msg_append(struct img_arena *a, struct img_msg *m, uint32_t num)
{
	struct img_fval *f;
	const struct img_fielddesc *fd;

	if (msg_grow(a, m, 1))
		return NULL;
	if (m->n && m->f[m->n - 1].num > num)
		m->flags &= ~(uint32_t)IMG_MSG_SORTED;
	f = &m->f[m->n++];
	memset(f, 0, sizeof(*f));
	f->num = num;
	fd = img_msgdesc_field(m->desc, num);
	f->fi = fd ? (uint16_t)(fd - m->desc->fields) : IMG_FI_UNKNOWN;
	if (fd)
		f->wt = (uint8_t)type_wt(fd->type);
	m->flags |= IMG_MSG_DIRTY;
	return f;
}

void img_msg_touch(struct img_msg *m)
{
	m->flags |= IMG_MSG_DIRTY;
}

static int del_num(struct img_msg *m, uint32_t num)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].num != num)
			m->f[j++] = m->f[i];
	if (j != m->n)
		m->flags |= IMG_MSG_DIRTY;
	m->n = j;
	return 0;
}

/* Insert one occurrence of fd where number order puts it. */
static struct img_fval *insert(struct img_arena *a, struct img_msg *m, const struct img_fielddesc *fd)
{
	uint32_t pos = m->n;

	if (msg_grow(a, m, 1))
		return NULL;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].num > fd->num) {
			pos = i;
			break;
		}
	memmove(&m->f[pos + 1], &m->f[pos], (m->n - pos) * sizeof(*m->f));
	m->n++;
	struct img_fval *f = &m->f[pos];

	memset(f, 0, sizeof(*f));
	f->num = fd->num;
	f->fi = (uint16_t)(fd - m->desc->fields);
	f->wt = (uint8_t)type_wt(fd->type);
	m->flags |= IMG_MSG_DIRTY;
	return f;
}

struct img_fval *img_msg_insert(struct img_arena *a, struct img_msg *m, const struct img_fielddesc *fd)
{
	return insert(a, m, fd);
}

static const struct img_fielddesc *need_field(const struct img_msg *m, const char *name)
{
	const struct img_fielddesc *fd = img_msgdesc_field_by_name(m->desc, name);

	if (!fd)
		errno = ENOENT;
	return fd;
}

int img_msg_set_u64(struct img_arena *a, struct img_msg *m, const char *name, uint64_t v)
{
	const struct img_fielddesc *fd = need_field(m, name);
	struct img_fval *f;

	if (!fd)
		return -ENOENT;
	if (fd->type >= IMG_T_STRING)
		return -EINVAL;
	del_num(m, fd->num);
	f = insert(a, m, fd);
	if (!f)
		return -ENOMEM;
	f->v.u = img_pb_to_wire(fd->type, v);
	return 0;
}

int img_msg_set_i64(struct img_arena *a, struct img_msg *m, const char *name, int64_t v)
{
	return img_msg_set_u64(a, m, name, (uint64_t)v);
}

/* A copy of n bytes in the arena (p may be NULL when n is 0). */
static int copy_bytes(struct img_arena *a, const void *p, size_t n, void **out)
{
	if (n > UINT32_MAX)
		return -EFBIG;
	*out = img_arena_alloc(a, n ? n : 1);
	if (!*out)
		return -ENOMEM;
	if (n)
		memcpy(*out, p, n);
	return 0;
}

int img_msg_set_bytes(struct img_arena *a, struct img_msg *m, const char *name, const void *p, size_t n)
{
	const struct img_fielddesc *fd = need_field(m, name);
	struct img_fval *f;
	void *copy;
	int r;

	if (!fd)
		return -ENOENT;
	if (fd->type != IMG_T_STRING && fd->type != IMG_T_BYTES)
		return -EINVAL;
	r = copy_bytes(a, p, n, &copy);
	if (r)
		return r;
	del_num(m, fd->num);
	f = insert(a, m, fd);
	if (!f)
		return -ENOMEM;
	f->v.b.p = copy;
	f->v.b.len = (uint32_t)n;
	return 0;
}

int img_msg_set_str(struct img_arena *a, struct img_msg *m, const char *name, const char *s)
{
	return img_msg_set_bytes(a, m, name, s, strlen(s));
}

/* One more value of a repeated field, after the ones it has. */
static struct img_fval *add_one(struct img_arena *a, struct img_msg *m, const char *name, int want_bytes, int *r)
{
	const struct img_fielddesc *fd = need_field(m, name);
	struct img_fval *f;

	*r = -ENOENT;
	if (!fd)
		return NULL;
	*r = -EINVAL;
	if (fd->label != IMG_L_REPEATED || fd->type == IMG_T_MESSAGE ||
	    want_bytes != (fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES))
		return NULL;
	*r = -ENOMEM;
	f = insert(a, m, fd);
	if (f)
		*r = 0;
	return f;
}

int img_msg_add_u64(struct img_arena *a, struct img_msg *m, const char *name, uint64_t v)
{
	int r;
	struct img_fval *f = add_one(a, m, name, 0, &r);

	if (f)
		f->v.u = img_pb_to_wire(m->desc->fields[f->fi].type, v);
	return r;
}

int img_msg_add_i64(struct img_arena *a, struct img_msg *m, const char *name, int64_t v)
{
	return img_msg_add_u64(a, m, name, (uint64_t)v);
}

int img_msg_add_bytes(struct img_arena *a, struct img_msg *m, const char *name, const void *p, size_t n)
{
	void *copy;
	int r = copy_bytes(a, p, n, &copy);

	if (r)
		return r;
	struct img_fval *f = add_one(a, m, name, 1, &r);

	if (f) {
		f->v.b.p = copy;
		f->v.b.len = (uint32_t)n;
	}
	return r;
}

int img_msg_add_str(struct img_arena *a, struct img_msg *m, const char *name, const char *s)
{
	return img_msg_add_bytes(a, m, name, s, strlen(s));
}

struct img_msg *img_msg_set_msg(struct img_arena *a, struct img_msg *m, const char *name)
{
	const struct img_fielddesc *fd = need_field(m, name);
	struct img_fval *f;

	if (!fd || fd->type != IMG_T_MESSAGE)
		return NULL;
	for (uint32_t i = m->n; i-- > 0;)
		if (m->f[i].num == fd->num && m->f[i].fi != IMG_FI_UNKNOWN && fd->label != IMG_L_REPEATED) {
			m->f[i].v.m->flags |= IMG_MSG_DIRTY;
			m->flags |= IMG_MSG_DIRTY;
			return m->f[i].v.m;
		}
	f = insert(a, m, fd);
	if (!f)
		return NULL;
	/* a repeated field: add after the existing ones */
	f->v.m = img_msg_new(a, fd->msg);
	return f->v.m;
}

int img_msg_del(struct img_msg *m, const char *name)
{
	const struct img_fielddesc *fd = need_field(m, name);

	if (!fd)
		return -ENOENT;
	return del_num(m, fd->num);
}

struct img_msg *img_msg_dup(struct img_arena *a, const struct img_msg *m)
{
	struct img_msg *d = img_arena_alloc(a, sizeof(*d));

	if (!d)
		return NULL;
	*d = *m;
	d->cap = m->n;
	d->f = m->n ? img_arena_alloc(a, m->n * sizeof(*d->f)) : NULL;
	if (m->n && !d->f)
		return NULL;
	for (uint32_t i = 0; i < m->n; i++) {
		d->f[i] = m->f[i];
		if (m->f[i].fi != IMG_FI_UNKNOWN && m->f[i].wt == IMG_WT_LEN &&
		    m->desc->fields[m->f[i].fi].type == IMG_T_MESSAGE) {
			d->f[i].v.m = img_msg_dup(a, m->f[i].v.m);
			if (!d->f[i].v.m)
				return NULL;
		}
	}
	return d;
}

/* Reading */

const struct img_fval *img_msg_get_num(const struct img_msg *m, uint32_t num)
{
	if (!m)
		return NULL;
	for (uint32_t i = m->n; i-- > 0;)
		if (m->f[i].num == num && m->f[i].fi != IMG_FI_UNKNOWN)
			return &m->f[i];
	return NULL;
}

const struct img_fval *img_msg_get(const struct img_msg *m, const char *name)
{
	const struct img_fielddesc *fd;

	if (!m)
		return NULL;
	fd = img_msgdesc_field_by_name(m->desc, name);
	return fd ? img_msg_get_num(m, fd->num) : NULL;
}

int img_msg_has(const struct img_msg *m, const char *name)
{
	return img_msg_get(m, name) != NULL;
}

uint64_t img_msg_u64(const struct img_msg *m, const char *name, uint64_t def)
{
	const struct img_fval *f = img_msg_get(m, name);

	if (!f || f->wt == IMG_WT_LEN)
		return def;
	return img_fval_u64(&m->desc->fields[f->fi], f);
}

int64_t img_msg_i64(const struct img_msg *m, const char *name, int64_t def)
{
	return (int64_t)img_msg_u64(m, name, (uint64_t)def);
}

const uint8_t *img_msg_bytes(const struct img_msg *m, const char *name, size_t *len)
{
	const struct img_fval *f = img_msg_get(m, name);

	if (!f || f->wt != IMG_WT_LEN || m->desc->fields[f->fi].type == IMG_T_MESSAGE || f->packed) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = f->v.b.len;
	return f->v.b.p ? f->v.b.p : (const uint8_t *)"";
}

const char *img_msg_str(struct img_arena *a, const struct img_msg *m, const char *name, const char *def)
{
	size_t n;
	const uint8_t *p = img_msg_bytes(m, name, &n);

	if (!p)
		return def;
	return img_arena_strndup(a, (const char *)p, n);
}

struct img_msg *img_msg_sub(const struct img_msg *m, const char *name)
{
	const struct img_fval *f = img_msg_get(m, name);

	if (!f || f->wt != IMG_WT_LEN || m->desc->fields[f->fi].type != IMG_T_MESSAGE)
		return NULL;
	return f->v.m;
}

int img_iter_init(struct img_iter *it, const struct img_msg *m, const char *name)
{
	memset(it, 0, sizeof(*it));
	it->m = m;
	it->fd = m ? img_msgdesc_field_by_name(m->desc, name) : NULL;
	return it->fd ? 0 : -ENOENT;
}

static const struct img_fval *iter_next_fval(struct img_iter *it)
{
	if (!it->fd)
		return NULL;
	while (it->i < it->m->n) {
		const struct img_fval *f = &it->m->f[it->i++];

		if (f->num == it->fd->num && f->fi != IMG_FI_UNKNOWN)
			return f;
	}
	return NULL;
}

int img_iter_next_u64(struct img_iter *it, uint64_t *v)
{
	const struct img_fval *f;
	uint64_t w;

	for (;;) {
		if (it->pp && it->pp < it->pe) {
			if (img_packed_next(it->fd->type, &it->pp, it->pe, &w) <= 0)
				return 0;
			*v = wire_value(it->fd->type, w);
			return 1;
		}
		it->pp = NULL;
		f = iter_next_fval(it);
		if (!f)
			return 0;
		if (f->packed) {
			it->pp = f->v.b.p;
			it->pe = f->v.b.p + f->v.b.len;
			continue;
		}
		if (f->wt == IMG_WT_LEN)
			continue;
		*v = wire_value(it->fd->type, f->v.u);
		return 1;
	}
}

struct img_msg *img_iter_next_msg(struct img_iter *it)
{
	const struct img_fval *f;

	if (!it->fd || it->fd->type != IMG_T_MESSAGE)
		return NULL;
	f = iter_next_fval(it);
	return f ? f->v.m : NULL;
}

size_t img_msg_count(const struct img_msg *m, const char *name)
{
	struct img_iter it;
	size_t n = 0;

	if (img_iter_init(&it, m, name))
		return 0;
	if (it.fd->type == IMG_T_MESSAGE || it.fd->type == IMG_T_STRING || it.fd->type == IMG_T_BYTES) {
		while (iter_next_fval(&it))
			n++;
		return n;
	}
	uint64_t v;

	while (img_iter_next_u64(&it, &v))
		n++;
	return n;
}
