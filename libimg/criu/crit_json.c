/*
 * crit-compatible JSON: what CRIU 4.2's `crit decode [--pretty]` prints, and
 * what `crit encode` reads back (raw and pretty forms both).
 *
 * Rules (lib/pycriu/images/pb2dict.py): fields in field-number order, unset
 * ones left out; enums by name; bytes as base64 with a newline every 76
 * characters (quoted-printable for unix socket names); with --pretty, hex for
 * fields marked hex and everything nested under them, flag names, major:minor
 * for devices, names for dict fields, and IP addresses as text.
 *
 * Beyond crit: fields the schema does not know are kept as "_unknown" (the raw
 * wire bytes, base64), and an image without its head magic (img_version 1
 * sets) says "_head": "none", so that such images encode back byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "img/image.h"

static int is_signed(int type)
{
	return type == IMG_T_INT32 || type == IMG_T_INT64 || type == IMG_T_SINT32 || type == IMG_T_SINT64 ||
	       type == IMG_T_SFIXED32 || type == IMG_T_SFIXED64 || type == IMG_T_ENUM;
}

/* Python's "0x%x" % v, which prints negative numbers as 0x-N. */
static void py_hex(char *b, size_t n, int neg, uint64_t mag)
{
	snprintf(b, n, neg ? "0x-%llx" : "0x%llx", (unsigned long long)mag);
}

static void write_hex(struct img_jw *w, int type, uint64_t v)
{
	char b[32];
	int neg = is_signed(type) && (int64_t)v < 0;

	py_hex(b, sizeof(b), neg, neg ? 0 - v : v);
	img_jw_str(w, b);
}

static void write_int(struct img_jw *w, int type, uint64_t v)
{
	if (is_signed(type))
		img_jw_i64(w, (int64_t)v);
	else
		img_jw_u64(w, v);
}

static void write_flags(struct img_jw *w, const struct img_map *map, int type, uint64_t v)
{
	char b[1024] = "";
	size_t o = 0;
	int64_t val = (int64_t)v, all = 0;

	if (!is_signed(type) && v > INT64_MAX) {
		/* too large for the signed arithmetic below; Python would mask the same way */
		uint64_t rest = v, sum = 0;

		for (uint32_t i = 0; i < map->n; i++) {
			if (v & map->ents[i].val)
				o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s", o ? " | " : "", map->ents[i].name);
			sum += map->ents[i].val;
		}
		rest &= ~sum;
		if (rest)
			snprintf(b + o, sizeof(b) - o, "%s0x%llx", o ? " | " : "", (unsigned long long)rest);
		img_jw_str(w, b);
		return;
	}
	for (uint32_t i = 0; i < map->n && o < sizeof(b); i++) {
		if (val & (int64_t)map->ents[i].val)
			o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s", o ? " | " : "", map->ents[i].name);
		all += (int64_t)map->ents[i].val;
	}
	val &= ~all;
	if (val && o < sizeof(b)) {
		char h[32];

		py_hex(h, sizeof(h), val < 0, val < 0 ? 0 - (uint64_t)val : (uint64_t)val);
		snprintf(b + o, sizeof(b) - o, "%s%s", o ? " | " : "", h);
	}
	img_jw_str(w, b);
}

/* glibc's gnu_dev_major / gnu_dev_minor, which Python's os.major / os.minor use */
static uint64_t old_major(uint64_t d) { return ((d >> 8) & 0xfff) | ((uint32_t)(d >> 32) & ~0xfffu); }
static uint64_t old_minor(uint64_t d) { return (d & 0xff) | ((uint32_t)(d >> 12) & ~0xffu); }

static void write_scalar(struct img_jw *w, const struct img_fielddesc *fd, uint64_t v, int pretty, int hex)
{
	char b[64];

	switch (fd->type) {
	case IMG_T_BOOL:
		img_jw_bool(w, v != 0);
		return;
	case IMG_T_ENUM: {
		const struct img_enumval *ev = img_enum_by_num(fd->en, (int32_t)v);

		if (ev)
			img_jw_str(w, ev->name);
		else
			img_jw_i64(w, (int64_t)v);
		return;
	}
	case IMG_T_FLOAT: {
		float f;
		uint32_t u = (uint32_t)v;

		memcpy(&f, &u, 4);
		img_jw_real(w, f);
		return;
	}
	case IMG_T_DOUBLE: {
		double d;

		memcpy(&d, &v, 8);
		img_jw_real(w, d);
		return;
	}
	}
	if (pretty) {
		if (hex || (fd->hints & IMG_H_HEX)) {
			write_hex(w, fd->type, v);
			return;
		}
		if (fd->hints & IMG_H_DEV) {
			if (fd->hints & IMG_H_ODEV)
				snprintf(b, sizeof(b), "%llu:%llu", (unsigned long long)old_major(v),
					 (unsigned long long)old_minor(v));
			else if (is_signed(fd->type) && (int64_t)v < 0)
				snprintf(b, sizeof(b), "%lld:%lld", (long long)((int64_t)v >> 20),
					 (long long)(v & 0xfffff));
			else
				snprintf(b, sizeof(b), "%llu:%llu", (unsigned long long)(v >> 20),
					 (unsigned long long)(v & 0xfffff));
			img_jw_str(w, b);
			return;
		}
		if (fd->flags_name) {
			if (fd->flags)
				write_flags(w, fd->flags, fd->type, v);
			else
				write_hex(w, fd->type, v);
			return;
		}
		if (fd->dict) {
			char mapname[128];
			const struct img_map *map;

			snprintf(mapname, sizeof(mapname), "%s.%s", fd->dict, fd->name);
			map = img_schema_map(img_schema_default(), mapname);
			for (uint32_t i = 0; map && i < map->n; i++)
				if (map->ents[i].val == v) {
					img_jw_str(w, map->ents[i].name);
					return;
				}
		}
	}
	write_int(w, fd->type, v);
}

static void write_bytes(struct img_jw *w, const struct img_fielddesc *fd, const uint8_t *p, size_t n)
{
	if (fd->type == IMG_T_STRING) {
		img_jw_strn(w, (const char *)p, n);
		return;
	}
	struct img_buf b;
	struct img_out o;

	img_buf_init(&b);
	if (fd->hints & IMG_H_UNIX_NAME)
		img_qp_encode(&b, p, n);
	else {
		img_out_mem(&o, &b);
		img_b64_encode_lines(&o, p, n);
		img_out_flush(&o);
	}
	img_jw_strn(w, (const char *)b.data, b.len);
	img_buf_free(&b);
}

/* Python's ipaddress formatting, of addresses stored as u32 words in network order. */
static uint32_t ntohl32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static void write_ip(struct img_jw *w, const uint32_t *words, size_t n)
{
	char b[64];

	if (n == 1) {
		uint32_t a = ntohl32(words[0]);

		snprintf(b, sizeof(b), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	} else {
		/* ipaddress.IPv6Address.compressed: the first longest run of two or more zero groups becomes "::" */
		char hx[10][8];
		int nh = 0, best = -1, bestlen = 0, cur = -1, curlen = 0;
		unsigned h[8];
		size_t o = 0;

		for (int i = 0; i < 4; i++) {
			uint32_t x = ntohl32(words[i]);

			h[2 * i] = x >> 16;
			h[2 * i + 1] = x & 0xffff;
		}
		for (int i = 0; i < 8; i++) {
			if (h[i]) {
				cur = -1;
				curlen = 0;
				continue;
			}
			if (cur < 0)
				cur = i;
			if (++curlen > bestlen) {
				bestlen = curlen;
				best = cur;
			}
		}
		if (bestlen < 2)
			best = -1;
		if (best == 0)
			hx[nh++][0] = 0;
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				hx[nh++][0] = 0;
				i += bestlen - 1;
				continue;
			}
			snprintf(hx[nh++], sizeof(hx[0]), "%x", h[i]);
		}
		if (best >= 0 && best + bestlen == 8)
			hx[nh++][0] = 0;
		for (int i = 0; i < nh; i++)
			o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s", i ? ":" : "", hx[i]);
	}
	img_jw_arr_begin(w);
	img_jw_str(w, b);
	img_jw_arr_end(w);
}

static void write_fval(struct img_jw *w, const struct img_msg *m, const struct img_fielddesc *fd,
		       const struct img_fval *f, int pretty, int hex)
{
	if (fd->type == IMG_T_MESSAGE) {
		img_msg_to_json(w, f->v.m, pretty, hex || (fd->hints & IMG_H_HEX));
		return;
	}
	if (f->wt == IMG_WT_LEN && !f->packed) {
		write_bytes(w, fd, f->v.b.p, f->v.b.len);
		return;
	}
	(void)m;
	write_scalar(w, fd, img_fval_u64(fd, f), pretty, hex);
}

/* All values of a repeated field: occurrences [i, j) of field number num, packed runs expanded. */
static void write_repeated(struct img_jw *w, const struct img_msg *m, const struct img_fielddesc *fd,
			   const uint32_t *idx, size_t cnt, int pretty, int hex)
{
	if (pretty && (fd->hints & IMG_H_IPADD) && fd->type != IMG_T_MESSAGE) {
		uint32_t words[4];
		size_t n = 0;

		for (size_t k = 0; k < cnt; k++) {
			const struct img_fval *f = &m->f[idx[k]];

			if (f->packed) {
				const uint8_t *p = f->v.b.p, *e = p + f->v.b.len;
				uint64_t v;

				while (img_packed_next(fd->type, &p, e, &v) > 0) {
					if (n < 4)
						words[n] = (uint32_t)v;
					n++;
				}
			} else {
				if (n < 4)
					words[n] = (uint32_t)f->v.u;
				n++;
			}
		}
		if (n == 1 || n >= 4) {
			write_ip(w, words, n == 1 ? 1 : 4);
			return;
		}
	}
	img_jw_arr_begin(w);
	for (size_t k = 0; k < cnt; k++) {
		const struct img_fval *f = &m->f[idx[k]];

		if (f->packed) {
			const uint8_t *p = f->v.b.p, *e = p + f->v.b.len;
			uint64_t v;

			while (img_packed_next(fd->type, &p, e, &v) > 0) {
				struct img_fval one = *f;

				one.packed = 0;
				one.wt = IMG_WT_VARINT;
				one.v.u = v;
				write_scalar(w, fd, img_fval_u64(fd, &one), pretty, hex);
			}
			continue;
		}
		write_fval(w, m, fd, f, pretty, hex);
	}
	img_jw_arr_end(w);
}

static int cmp_num(const void *a, const void *b, void *m)
{
	const struct img_fval *f = ((const struct img_msg *)m)->f;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (f[x].num != f[y].num)
		return f[x].num < f[y].num ? -1 : 1;
	return x < y ? -1 : x > y; /* stable: wire order within a field */
}

/*
 * Unknown fields in number order (wire order within a number), as encoding
 * the JSON puts them: the JSON of what it encodes is the same again.
 */
static void write_unknown(struct img_jw *w, const struct img_msg *m)
{
	uint32_t stack[64], *idx = stack, n = 0;
	struct img_buf raw;
	struct img_out o;
	struct img_buf txt;

	for (uint32_t i = 0; i < m->n; i++)
		n += m->f[i].fi == IMG_FI_UNKNOWN;
	if (n > 64 && !(idx = img_malloc(n * sizeof(*idx)))) {
		w->o->err = ENOMEM;
		return;
	}
	n = 0;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].fi == IMG_FI_UNKNOWN)
			idx[n++] = i;
	if (!(m->flags & IMG_MSG_SORTED))
		qsort_r(idx, n, sizeof(*idx), cmp_num, (void *)m);
	img_buf_init(&raw);
	for (uint32_t i = 0; i < n; i++)
		img_buf_add(&raw, m->f[idx[i]].v.b.p, m->f[idx[i]].v.b.len);
	if (idx != stack)
		img_free(idx);
	if (raw.failed)
		w->o->err = ENOMEM;
	if (!raw.len) {
		img_buf_free(&raw);
		return;
	}
	img_buf_init(&txt);
	img_out_mem(&o, &txt);
	img_b64_encode_lines(&o, raw.data, raw.len);
	img_out_flush(&o);
	img_jw_key(w, "_unknown");
	img_jw_strn(w, (const char *)txt.data, txt.len);
	img_buf_free(&txt);
	img_buf_free(&raw);
}

/* Occurrences that hold no value: packed runs of no bytes (protobuf shows no key for an empty repeated field, nor does crit). */
static int repeated_empty(const struct img_msg *m, const uint32_t *idx, size_t cnt)
{
	for (size_t k = 0; k < cnt; k++)
		if (!m->f[idx[k]].packed || m->f[idx[k]].v.b.len)
			return 0;
	return 1;
}

/* The body of a message: its fields, without the braces. */
static void msg_fields(struct img_jw *w, const struct img_msg *m, int pretty, int hex)
{
	uint32_t stack[256], *idx = stack;
	uint32_t n = 0, unknown = 0;

	if (m->n > 256) {
		idx = img_malloc(m->n * sizeof(*idx));
		if (!idx) {
			w->o->err = ENOMEM;
			return;
		}
	}
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->f[i].fi == IMG_FI_UNKNOWN)
			unknown = 1;
		else
			idx[n++] = i;
	}
	if (!(m->flags & IMG_MSG_SORTED))
		qsort_r(idx, n, sizeof(*idx), cmp_num, (void *)m);
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i + 1;
		const struct img_fval *f = &m->f[idx[i]];
		const struct img_fielddesc *fd = &m->desc->fields[f->fi];

		while (j < n && m->f[idx[j]].num == f->num)
			j++;
		if (fd->label == IMG_L_REPEATED && repeated_empty(m, idx + i, j - i)) {
			i = j;
			continue;
		}
		img_jw_key(w, fd->name);
		if (fd->label == IMG_L_REPEATED)
			write_repeated(w, m, fd, idx + i, j - i, pretty, hex);
		else
			write_fval(w, m, fd, &m->f[idx[j - 1]], pretty, hex); /* the last one wins */
		i = j;
	}
	if (unknown)
		write_unknown(w, m);
	if (idx != stack)
		img_free(idx);
}

void img_msg_to_json(struct img_jw *w, const struct img_msg *m, int pretty, int hex)
{
	img_jw_obj_begin(w);
	msg_fields(w, m, pretty, hex);
	img_jw_obj_end(w);
}

void img_field_to_json(struct img_jw *w, const struct img_msg *m, const struct img_fielddesc *fd, int pretty, int hex)
{
	uint32_t stack[64], *idx = stack, n = 0;

	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].num == fd->num && m->f[i].fi != IMG_FI_UNKNOWN)
			n++;
	if (!n) {
		if (fd->label == IMG_L_REPEATED) {
			img_jw_arr_begin(w);
			img_jw_arr_end(w);
		} else
			img_jw_null(w);
		return;
	}
	if (n > 64) {
		idx = img_malloc(n * sizeof(*idx));
		if (!idx) {
			w->o->err = ENOMEM;
			return;
		}
	}
	n = 0;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].num == fd->num && m->f[i].fi != IMG_FI_UNKNOWN)
			idx[n++] = i;
	if (fd->label == IMG_L_REPEATED)
		write_repeated(w, m, fd, idx, n, pretty, hex);
	else
		write_fval(w, m, fd, &m->f[idx[n - 1]], pretty, hex);
	if (idx != stack)
		img_free(idx);
}

void img_scalar_to_json(struct img_jw *w, const struct img_fielddesc *fd, uint64_t v, int pretty, int hex)
{
	write_scalar(w, fd, v, pretty, hex);
}

void img_bytes_to_json(struct img_jw *w, const struct img_fielddesc *fd, const uint8_t *p, size_t n)
{
	write_bytes(w, fd, p, n);
}

/* Python's human_readable of crit show --nopl. */
static void nopl_text(char *b, size_t n, uint64_t size)
{
	static const char *const units[] = { "", "K", "M", "G", "T", "P", "E", "Z" };
	double num = (double)size;

	for (int i = 0; i < 8; i++) {
		if (num < 1024.0) {
			if ((double)(uint64_t)num == num)
				snprintf(b, n, "... <%llu%sB>", (unsigned long long)num, units[i]);
			else
				snprintf(b, n, "... <%.1f%sB>", num, units[i]);
			return;
		}
		num /= 1024.0;
	}
	snprintf(b, n, "... <%.1fYB>", num);
}

static const char *head_name(uint32_t head)
{
	return head == IMG_MAGIC_COMMON ? "common" : head == IMG_MAGIC_SERVICE ? "service" : "none";
}

static uint32_t kind_head(const struct img_kind *k)
{
	return k->head == IMG_HEAD_COMMON ? IMG_MAGIC_COMMON : k->head == IMG_HEAD_SERVICE ? IMG_MAGIC_SERVICE : 0;
}

int img_image_to_json(const struct img_image *img, struct img_out *o, unsigned flags)
{
	const struct img_kind *k = img->kind;
	const struct img_extra_ops *xo = img_extra_ops(k->extra);
	int pretty = !!(flags & IMG_JSON_PRETTY);
	struct img_jw w;

	if (!k->json)
		return -EINVAL;
	img_jw_init(&w, o, pretty ? 4 : 0);
	img_jw_obj_begin(&w);
	img_jw_kv_str(&w, "magic", k->json);
	if (img->head != kind_head(k))
		img_jw_kv_str(&w, "_head", head_name(img->head));
	img_jw_key(&w, "entries");
	img_jw_arr_begin(&w);
	for (size_t i = 0; i < img->n; i++) {
		const struct img_entry *e = &img->e[i];

		img_jw_obj_begin(&w);
		if (k->layout == IMG_LAY_VADDR_PAGES) {
			img_jw_key(&w, "vaddr");
			if (pretty)
				write_hex(&w, IMG_T_UINT64, e->vaddr);
			else
				img_jw_u64(&w, e->vaddr);
		} else
			msg_fields(&w, e->msg, pretty, 0);
		if (e->has_extra) {
			if (flags & IMG_JSON_NOPL) {
				if (k->layout != IMG_LAY_GHOST) {
					char b[64];
					uint64_t sz = xo ? xo->nopl_size(img->schema, e->msg, e->extra, e->extra_len)
							 : e->extra_len;

					nopl_text(b, sizeof(b), sz);
					img_jw_kv_str(&w, "extra", b);
				}
			} else {
				img_jw_key(&w, "extra");
				if (xo)
					xo->to_json(img->schema, &w, e->msg, e->extra, e->extra_len);
				else {
					struct img_buf b;
					struct img_out bo;

					img_buf_init(&b);
					img_out_mem(&bo, &b);
					img_b64_encode_lines(&bo, e->extra, (size_t)e->extra_len);
					img_out_flush(&bo);
					img_jw_strn(&w, (const char *)b.data, b.len);
					img_buf_free(&b);
				}
			}
		}
		img_jw_obj_end(&w);
	}
	img_jw_arr_end(&w);
	img_jw_obj_end(&w);
	img_out_putc(o, '\n');
	return o->err ? -o->err : 0;
}

/* From JSON */

struct jctx {
	struct img_arena *a;
	struct img_err *err;
};

static int jfail(struct img_err *err, const char *path, const struct img_jv *v, const char *fmt, ...)
	IMG_PRINTF(4, 5);

static int jfail(struct img_err *err, const char *path, const struct img_jv *v, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (v)
		return img_err_set(err, EINVAL, "%s (line %u column %u): %s", path, v->line, v->col, what);
	return img_err_set(err, EINVAL, "%s: %s", path, what);
}

/*
 * Python's int(s, 0): optional sign, 0x/0o/0b prefixes, underscores between
 * digits, no leading zeros on decimal numbers.
 */
static int py_int(const char *s, int *neg, uint64_t *mag)
{
	int base = 10, digits = 0, prev_digit = 0;
	uint64_t v = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	*neg = 0;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		prev_digit = 1;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
		prev_digit = 1;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
		prev_digit = 1;
	}
	const char *first = s;

	for (; *s; s++) {
		int d;

		if (*s == '_') {
			if (!prev_digit || !s[1] || s[1] == '_')
				return -1;
			prev_digit = 0;
			continue;
		}
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -2;
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
		prev_digit = 1;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s || !digits)
		return -1;
	if (base == 10 && first[0] == '0' && v != 0)
		return -1;
	*mag = v;
	if (!v)
		*neg = 0;
	return 0;
}

/* Range of a field's type, as a signed or unsigned 64-bit value. */
static int check_range(int type, int neg, uint64_t mag, uint64_t *out)
{
	int64_t sv;

	if (is_signed(type)) {
		if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > INT64_MAX)
			return -1;
		sv = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		if ((type == IMG_T_INT32 || type == IMG_T_SINT32 || type == IMG_T_SFIXED32 || type == IMG_T_ENUM) &&
		    (sv < INT32_MIN || sv > INT32_MAX))
			return -1;
		*out = (uint64_t)sv;
		return 0;
	}
	if (neg)
		return -1;
	if ((type == IMG_T_UINT32 || type == IMG_T_FIXED32) && mag > UINT32_MAX)
		return -1;
	*out = mag;
	return 0;
}

static int str_to_int(const struct img_fielddesc *fd, const char *s, int *neg, uint64_t *mag)
{
	if (fd->hints & IMG_H_DEV) {
		char *end;
		unsigned long long ma, mi;

		ma = strtoull(s, &end, 10);
		if (*end != ':')
			return -1;
		mi = strtoull(end + 1, &end, 10);
		if (*end)
			return -1;
		*neg = 0;
		if (fd->hints & IMG_H_ODEV)
			*mag = ((ma & 0xfff) << 8) | ((ma & ~0xfffull) << 32) | (mi & 0xff) | ((mi & ~0xffull) << 12);
		else
			*mag = ma << 20 | mi;
		return 0;
	}
	if (fd->flags_name && fd->flags) {
		/* "A | B | 0x10": the names' values and the numbers, added as crit does */
		char buf[1024];
		uint64_t sum = 0;
		char *tok, *save = NULL;

		if (!*s) {
			*neg = 0;
			*mag = 0;
			return 0;
		}
		snprintf(buf, sizeof(buf), "%s", s);
		for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
			char *t = tok, *e;
			uint32_t i;
			int n2;
			uint64_t m2;

			while (*t == ' ')
				t++;
			e = t + strlen(t);
			while (e > t && e[-1] == ' ')
				*--e = 0;
			for (i = 0; i < fd->flags->n; i++)
				if (!strcmp(fd->flags->ents[i].name, t))
					break;
			if (i < fd->flags->n)
				sum += fd->flags->ents[i].val;
			else if (!py_int(t, &n2, &m2) && !n2)
				sum += m2;
			else
				return -1;
		}
		*neg = 0;
		*mag = sum;
		return 0;
	}
	if (fd->dict) {
		char mapname[128];
		const struct img_map *map;

		snprintf(mapname, sizeof(mapname), "%s.%s", fd->dict, fd->name);
		map = img_schema_map(img_schema_default(), mapname);
		for (uint32_t i = 0; map && i < map->n; i++)
			if (!strcmp(map->ents[i].name, s)) {
				*neg = 0;
				*mag = map->ents[i].val;
				return 0;
			}
	}
	return py_int(s, neg, mag);
}

static int scalar_from_json(struct jctx *c, const struct img_fielddesc *fd, const struct img_jv *v,
			    const char *path, uint64_t *out)
{
	int neg;
	uint64_t mag;

	switch (fd->type) {
	case IMG_T_BOOL:
		if (v->type == IMG_JV_BOOL)
			*out = v->b;
		else if (v->type == IMG_JV_INT)
			*out = v->u != 0;
		else
			return jfail(c->err, path, v, "%s is a bool: true or false", fd->name);
		return 0;
	case IMG_T_ENUM:
		if (v->type == IMG_JV_STR) {
			const struct img_enumval *ev = img_enum_by_name(fd->en, v->s.s);

			if (!ev)
				return jfail(c->err, path, v, "'%s' is not a value of %s", v->s.s, fd->en->name);
			*out = (uint64_t)(int64_t)ev->num;
			return 0;
		}
		if (v->type == IMG_JV_INT && !check_range(fd->type, v->neg, v->u, out) &&
		    img_enum_by_num(fd->en, (int32_t)*out))
			return 0;
		return jfail(c->err, path, v, "%s takes a name of %s", fd->name, fd->en->name);
	case IMG_T_FLOAT:
	case IMG_T_DOUBLE: {
		double d;

		if (v->type == IMG_JV_REAL)
			d = v->d;
		else if (v->type == IMG_JV_INT)
			d = v->neg ? -(double)v->u : (double)v->u;
		else
			return jfail(c->err, path, v, "%s is a number", fd->name);
		if (fd->type == IMG_T_FLOAT) {
			float f = (float)d;
			uint32_t u;

			memcpy(&u, &f, 4);
			*out = u;
		} else
			memcpy(out, &d, 8);
		return 0;
	}
	}
	if (v->type == IMG_JV_INT) {
		neg = v->neg;
		mag = v->u;
	} else if (v->type == IMG_JV_STR) {
		int r = str_to_int(fd, v->s.s, &neg, &mag);

		if (r == -2)
			return jfail(c->err, path, v, "%s: '%s' is out of range for %s", fd->name, v->s.s,
				     img_type_name(fd->type));
		if (r)
			return jfail(c->err, path, v, "%s: '%s' is not a number", fd->name, v->s.s);
	} else if (v->type == IMG_JV_REAL && v->d >= -9223372036854775808.0 && v->d < 9223372036854775808.0 &&
		   v->d == (double)(int64_t)v->d) { /* a whole number in int64's range (NaN fails the tests) */
		neg = v->d < 0;
		mag = neg ? 0 - (uint64_t)(int64_t)v->d : (uint64_t)v->d;
	} else
		return jfail(c->err, path, v, "%s is a number", fd->name);
	if (check_range(fd->type, neg, mag, out))
		return jfail(c->err, path, v, "%s: %s%llu is out of range for %s", fd->name, neg ? "-" : "",
			     (unsigned long long)mag, img_type_name(fd->type));
	return 0;
}

static struct img_msg *msg_from_json(struct jctx *c, const struct img_msgdesc *d, const struct img_jv *o,
				     const char *path);

static int parse_ip(const char *s, uint32_t *w, int *n)
{
	unsigned a[4];
	char tail;

	if (sscanf(s, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &tail) == 4) {
		if (a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255)
			return -1;
		w[0] = __builtin_bswap32(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]);
		*n = 1;
		return 0;
	}
	/* IPv6: groups, with at most one "::" */
	unsigned h[8] = { 0 };
	int ng = 0, dc = -1;
	const char *p = s;

	if (p[0] == ':' && p[1] == ':') {
		dc = 0;
		p += 2;
	}
	while (*p) {
		char *end;
		unsigned long x = strtoul(p, &end, 16);

		if (end == p || end - p > 4 || x > 0xffff || ng == 8)
			return -1;
		h[ng++] = (unsigned)x;
		p = end;
		if (!*p)
			break;
		if (*p != ':')
			return -1;
		p++;
		if (*p == ':') {
			if (dc >= 0)
				return -1;
			dc = ng;
			p++;
		}
	}
	if (dc >= 0) {
		int move = ng - dc;

		if (ng >= 8)
			return -1;
		memmove(h + 8 - move, h + dc, (size_t)move * sizeof(*h));
		memset(h + dc, 0, (size_t)(8 - move - dc) * sizeof(*h));
	} else if (ng != 8)
		return -1;
	for (int i = 0; i < 4; i++)
		w[i] = __builtin_bswap32(h[2 * i] << 16 | h[2 * i + 1]);
	*n = 4;
	return 0;
}

static int bytes_from_json(struct jctx *c, const struct img_fielddesc *fd, const struct img_jv *v,
			   const char *path, struct img_fval *f)
{
	if (v->type != IMG_JV_STR)
		return jfail(c->err, path, v, "%s is a string", fd->name);
	if (fd->type == IMG_T_STRING) {
		f->v.b.p = (const uint8_t *)v->s.s;
		f->v.b.len = (uint32_t)v->s.len;
		return 0;
	}
	uint8_t *d;
	long n;

	if (fd->hints & IMG_H_UNIX_NAME) {
		struct img_buf b;

		img_buf_init(&b);
		if (img_qp_decode(&b, v->s.s, v->s.len)) {
			img_buf_free(&b);
			return img_err_set(c->err, ENOMEM, "out of memory");
		}
		d = img_arena_alloc(c->a, b.len + 1);
		if (!d) {
			img_buf_free(&b);
			return img_err_set(c->err, ENOMEM, "out of memory");
		}
		if (b.len)
			memcpy(d, b.data, b.len);
		n = (long)b.len;
		img_buf_free(&b);
	} else {
		d = img_arena_alloc(c->a, v->s.len / 4 * 3 + 3);
		if (!d)
			return img_err_set(c->err, ENOMEM, "out of memory");
		n = img_b64_decode(v->s.s, v->s.len, d);
		if (n < 0)
			return jfail(c->err, path, v, "%s is not valid base64", fd->name);
	}
	f->v.b.p = d;
	f->v.b.len = (uint32_t)n;
	return 0;
}

static int value_from_json(struct jctx *c, struct img_msg *m, const struct img_fielddesc *fd,
			   const struct img_jv *v, const char *path)
{
	struct img_fval *f = img_msg_append(c->a, m, fd->num);

	if (!f)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (fd->type == IMG_T_MESSAGE) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.%s", path, fd->name);
		f->v.m = msg_from_json(c, fd->msg, v, sub);
		return f->v.m ? 0 : -EINVAL;
	}
	if (fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES)
		return bytes_from_json(c, fd, v, path, f);
	uint64_t x;

	if (scalar_from_json(c, fd, v, path, &x))
		return -EINVAL;
	f->v.u = img_pb_to_wire(fd->type, x);
	return 0;
}

static int field_from_json(struct jctx *c, struct img_msg *m, const struct img_fielddesc *fd,
			   const struct img_jv *v, const char *path)
{
	if (fd->label != IMG_L_REPEATED)
		return value_from_json(c, m, fd, v, path);
	if (v->type != IMG_JV_ARR)
		return jfail(c->err, path, v, "%s is a list", fd->name);
	if ((fd->hints & IMG_H_IPADD) && v->a.n && v->a.v[0]->type == IMG_JV_STR) {
		uint32_t w[4];
		int n;

		if (parse_ip(v->a.v[0]->s.s, w, &n))
			return jfail(c->err, path, v->a.v[0], "%s: '%s' is not an IP address", fd->name,
				     v->a.v[0]->s.s);
		for (int i = 0; i < n; i++) {
			struct img_fval *f = img_msg_append(c->a, m, fd->num);

			if (!f)
				return img_err_set(c->err, ENOMEM, "out of memory");
			f->v.u = w[i];
		}
		return 0;
	}
	for (size_t i = 0; i < v->a.n; i++)
		if (value_from_json(c, m, fd, v->a.v[i], path))
			return -EINVAL;
	return 0;
}

/*
 * Fields go in number order, the order CRIU's writer (protobuf-c) uses, known
 * and unknown alike: an unknown field (an enum value the schema lacks, a field
 * of a newer CRIU) goes back where it was.  Ties keep their order.
 */
static int cmp_fval(const void *a, const void *b)
{
	const struct img_fval *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static void stable_sort(struct img_fval *f, uint32_t n)
{
	/* insertion sort: stable, and the fields usually come in order already */
	for (uint32_t i = 1; i < n; i++) {
		struct img_fval t = f[i];
		uint32_t j = i;

		while (j > 0 && cmp_fval(&f[j - 1], &t) > 0) {
			f[j] = f[j - 1];
			j--;
		}
		f[j] = t;
	}
}

static int unknown_from_json(struct jctx *c, struct img_msg *m, const struct img_jv *v, const char *path)
{
	uint8_t *d;
	long n;

	if (v->type != IMG_JV_STR)
		return jfail(c->err, path, v, "_unknown is a base64 string");
	d = img_arena_alloc(c->a, v->s.len / 4 * 3 + 3);
	if (!d)
		return img_err_set(c->err, ENOMEM, "out of memory");
	n = img_b64_decode(v->s.s, v->s.len, d);
	if (n < 0)
		return jfail(c->err, path, v, "_unknown is not valid base64");
	/* Check that the bytes are well-formed fields, and keep each one. */
	struct img_msgdesc empty = { m->desc->name, 0, NULL };
	struct img_err e2;
	struct img_msg *u = img_pb_decode(c->a, &empty, d, (size_t)n, 0, &e2);

	if (!u)
		return jfail(c->err, path, v, "_unknown: %s", e2.msg);
	for (uint32_t i = 0; i < u->n; i++) {
		/* a field the schema would read as known is not unknown: it goes by its name */
		struct img_msg *as = img_pb_decode(c->a, m->desc, u->f[i].v.b.p, u->f[i].v.b.len, 0, &e2);

		if (!as || as->n != 1 || as->f[0].fi != IMG_FI_UNKNOWN) {
			const struct img_fielddesc *fd = img_msgdesc_field(m->desc, u->f[i].num);

			if (!as)
				return jfail(c->err, path, v, "_unknown holds field %u ('%s'), which does not read as the schema says: %s",
					     u->f[i].num, fd ? fd->name : "?", e2.msg);
			return jfail(c->err, path, v, "_unknown holds field %u, which the schema reads as '%s': give it by name",
				     u->f[i].num, fd ? fd->name : "?");
		}
		struct img_fval *f = img_msg_append(c->a, m, u->f[i].num);

		if (!f)
			return img_err_set(c->err, ENOMEM, "out of memory");
		*f = u->f[i];
		f->fi = IMG_FI_UNKNOWN;
	}
	return 0;
}

/* A field is there when it is known, or kept unknown (a required enum with a value the enum lacks). */
static int has_field(const struct img_msg *m, uint32_t num)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].num == num)
			return 1;
	return 0;
}

static struct img_msg *msg_from_json(struct jctx *c, const struct img_msgdesc *d, const struct img_jv *o,
				     const char *path)
{
	struct img_msg *m;

	if (o->type != IMG_JV_OBJ) {
		jfail(c->err, path, o, "expected an object for %s", d->name);
		return NULL;
	}
	m = img_msg_new(c->a, d);
	if (!m) {
		img_err_set(c->err, ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < o->o.n; i++) {
		const struct img_jmember *mb = &o->o.m[i];
		const struct img_fielddesc *fd;

		if (!strcmp(mb->key, "extra"))
			continue; /* the image layer reads it */
		if (!strcmp(mb->key, "_unknown")) {
			if (unknown_from_json(c, m, mb->v, path))
				return NULL;
			continue;
		}
		/* a key given twice: the last one counts, as in Python */
		if (img_jv_get(o, mb->key) != mb->v)
			continue;
		fd = img_msgdesc_field_by_name(d, mb->key);
		if (!fd) {
			jfail(c->err, path, mb->v, "%s has no field '%s'", d->name, mb->key);
			return NULL;
		}
		if (field_from_json(c, m, fd, mb->v, path))
			return NULL;
	}
	stable_sort(m->f, m->n);
	m->flags |= IMG_MSG_SORTED;
	for (uint32_t i = 0; i < d->nfields; i++)
		if (d->fields[i].label == IMG_L_REQUIRED && !has_field(m, d->fields[i].num)) {
			jfail(c->err, path, o, "required field '%s' of %s is missing", d->fields[i].name, d->name);
			return NULL;
		}
	return m;
}

struct img_msg *img_msg_from_json(struct img_arena *a, const struct img_msgdesc *d, const struct img_jv *o,
				  const char *path, struct img_err *err)
{
	struct jctx c = { a, err };

	return msg_from_json(&c, d, o, path);
}

int img_field_from_json(struct img_arena *a, struct img_msg *m, const struct img_fielddesc *fd,
			const struct img_jv *v, const char *path, struct img_err *err)
{
	struct jctx c = { a, err };
	struct img_msg *t = img_msg_new(a, m->desc);

	if (!t)
		return img_err_set(err, ENOMEM, "out of memory");
	if (field_from_json(&c, t, fd, v, path))
		return -EINVAL;
	img_msg_del(m, fd->name);
	for (uint32_t i = 0; i < t->n; i++) {
		struct img_fval *f = img_msg_insert(a, m, fd);

		if (!f)
			return img_err_set(err, ENOMEM, "out of memory");
		f->wt = t->f[i].wt;
		f->v = t->f[i].v;
	}
	img_msg_touch(m);
	return 0;
}

int img_image_from_json(const struct img_jv *v, const struct img_schema *s, struct img_image **out,
			struct img_err *err)
{
	struct img_jv *magic = img_jv_get(v, "magic"), *ents = img_jv_get(v, "entries"), *head;
	const struct img_kind *k;
	const struct img_msgdesc *first, *rest;
	const struct img_extra_ops *xo;
	struct img_image *img;
	struct jctx c;
	int chunks = 0;

	if (!v || v->type != IMG_JV_OBJ || !magic || magic->type != IMG_JV_STR || !ents || ents->type != IMG_JV_ARR)
		return img_err_set(err, EINVAL, "not a crit image: expected {\"magic\": NAME, \"entries\": [...]}");
	k = img_kind_by_json(s, magic->s.s);
	if (!k)
		return jfail(err, "magic", magic, "unknown image magic '%s'", magic->s.s);
	img = img_image_new(s, k);
	if (!img)
		return img_err_set(err, ENOMEM, "out of memory");
	head = img_jv_get(v, "_head");
	if (head) {
		if (head->type == IMG_JV_STR && !strcmp(head->s.s, "none"))
			img->head = 0;
		else if (head->type == IMG_JV_STR && !strcmp(head->s.s, "common"))
			img->head = IMG_MAGIC_COMMON;
		else if (head->type == IMG_JV_STR && !strcmp(head->s.s, "service"))
			img->head = IMG_MAGIC_SERVICE;
		else {
			img_image_free(img);
			return jfail(err, "_head", head, "_head is \"none\", \"common\" or \"service\"");
		}
	}
	c.a = &img->arena;
	c.err = err;
	xo = img_extra_ops(k->extra);
	first = rest = k->msg;
	if (k->layout == IMG_LAY_PAGEMAP)
		first = img_schema_msg(s, "pagemap_head");
	else if (k->layout == IMG_LAY_GHOST)
		rest = img_schema_msg(s, "ghost_chunk_entry");
	for (size_t i = 0; i < ents->a.n; i++) {
		const struct img_jv *ej = ents->a.v[i], *extra = img_jv_get(ej, "extra");
		char path[64];
		struct img_entry *e;

		snprintf(path, sizeof(path), "entries[%zu]", i);
		if (ej->type != IMG_JV_OBJ) {
			jfail(err, path, ej, "an entry is an object");
			goto fail;
		}
		if (k->layout == IMG_LAY_VADDR_PAGES) {
			struct img_jv *va = img_jv_get(ej, "vaddr");
			struct img_fielddesc fd = { .name = "vaddr", .type = IMG_T_UINT64 };
			uint64_t addr;
			uint8_t page[8192 / 4 * 3 + 3]; /* what 8192 characters of base64 can decode to */
			long n;

			if (!va || scalar_from_json(&c, &fd, va, path, &addr))
				goto bad_entry;
			if (!extra || extra->type != IMG_JV_STR || extra->s.len > 8192)
				goto bad_entry;
			n = img_b64_decode(extra->s.s, extra->s.len, page);
			if (n != IMG_PAGE_SIZE)
				goto bad_entry;
			e = img_image_add(img, NULL, NULL);
			if (!e || img_entry_set_extra(img, e, page, IMG_PAGE_SIZE))
				goto nomem;
			e->vaddr = addr;
			continue;
bad_entry:
			if (!err || !err->msg[0] || err->code != EINVAL)
				jfail(err, path, ej, "a page entry is {\"vaddr\": ADDRESS, \"extra\": 4096 bytes in base64}");
			goto fail;
		}
		const struct img_msgdesc *d = i == 0 ? first : rest;
		struct img_msg *m = msg_from_json(&c, d, ej, path);

		if (!m)
			goto fail;
		e = img_image_add(img, d, m);
		if (!e)
			goto nomem;
		if (k->layout == IMG_LAY_GHOST) {
			if (i == 0)
				chunks = img_msg_u64(m, "chunks", 0) != 0;
			if ((i == 0 && !chunks) || i > 0) {
				struct img_buf b;

				img_buf_init(&b);
				if (extra && extra->type == IMG_JV_STR) {
					if (img_buf_reserve(&b, extra->s.len / 4 * 3 + 3)) {
						img_buf_free(&b);
						goto nomem;
					}
					long n = img_b64_decode(extra->s.s, extra->s.len, b.data);

					if (n < 0) {
						img_buf_free(&b);
						jfail(err, path, extra, "extra is not valid base64");
						goto fail;
					}
					b.len = (size_t)n;
				} else if (extra) {
					img_buf_free(&b);
					jfail(err, path, extra, "extra is a base64 string");
					goto fail;
				}
				if (i > 0 && b.len != img_msg_u64(m, "len", 0)) {
					img_buf_free(&b);
					jfail(err, path, ej, "the chunk's extra has %zu bytes, its len says %llu", b.len,
					      (unsigned long long)img_msg_u64(m, "len", 0));
					goto fail;
				}
				int r = img_entry_set_extra(img, e, b.data, b.len);

				img_buf_free(&b);
				if (r)
					goto nomem;
			}
			continue;
		}
		if (xo && xo->present(m)) {
			struct img_buf b;
			uint64_t want = 0;

			img_buf_init(&b);
			if (extra && xo->from_json(s, m, extra, &b, err)) {
				img_buf_free(&b);
				img_err_prefix(err, "%s", path);
				goto fail;
			}
			/* the extra must have the length its entry gives, or CRIU would misread the image */
			struct img_err e2;

			if (xo->measure(s, m, b.data, b.len, &want, &e2) || want != b.len) {
				jfail(err, path, extra ? extra : ej, "the extra payload has %zu bytes, the entry says %llu",
				      b.len, (unsigned long long)want);
				img_buf_free(&b);
				goto fail;
			}
			int r = img_entry_set_extra(img, e, b.data, b.len);

			img_buf_free(&b);
			if (r)
				goto nomem;
		}
	}
	*out = img;
	return 0;
nomem:
	img_err_set(err, ENOMEM, "out of memory");
fail:
	img_image_free(img);
	return err && err->code == ENOMEM ? -ENOMEM : -EINVAL;
}
