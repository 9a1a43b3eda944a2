/* JSON values, parser and writer; base64 and quoted-printable as crit uses them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img/json.h"

/* Parser */

struct jp {
	struct img_arena *a;
	const char *s, *p, *end;
	const char *line_start;
	uint32_t line;
	struct img_err *err;
};

static struct img_jv *jerr(struct jp *j, const char *what)
{
	img_err_set(j->err, EINVAL, "line %u column %u (offset 0x%zx): %s", j->line,
		    (unsigned)(j->p - j->line_start) + 1, (size_t)(j->p - j->s), what);
	return NULL;
}

static void ws(struct jp *j)
{
	while (j->p < j->end) {
		char c = *j->p;

		if (c == '\n') {
			j->line++;
			j->line_start = j->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r')
			return;
		j->p++;
	}
}

static struct img_jv *newv(struct jp *j, int type)
{
	struct img_jv *v = img_arena_zalloc(j->a, sizeof(*v));

	if (!v) {
		img_err_set(j->err, ENOMEM, "out of memory");
		return NULL;
	}
	v->type = (uint8_t)type;
	v->line = j->line;
	v->col = (uint32_t)(j->p - j->line_start) + 1;
	return v;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parse a string at j->p (on the quote) into a NUL-terminated arena copy. */
static int jstring(struct jp *j, char **out, size_t *olen)
{
	const char *q = ++j->p;
	size_t n = 0;
	char *d;

	/* The decoded text is never longer than the encoded one. */
	while (q < j->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= j->end)
		return jerr(j, "unterminated string"), -1;
	d = img_arena_alloc(j->a, (size_t)(q - j->p) + 1);
	if (!d)
		return img_err_set(j->err, ENOMEM, "out of memory");
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return jerr(j, "control character in string"), -1;
		if (c != '\\') {
			d[n++] = (char)c;
			j->p++;
			continue;
		}
		j->p++;
		switch (*j->p++) {
		case '"': d[n++] = '"'; break;
		case '\\': d[n++] = '\\'; break;
		case '/': d[n++] = '/'; break;
		case 'b': d[n++] = '\b'; break;
		case 'f': d[n++] = '\f'; break;
		case 'n': d[n++] = '\n'; break;
		case 'r': d[n++] = '\r'; break;
		case 't': d[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (j->end - j->p < 4 || hex4(j->p, &cp))
				return jerr(j, "bad \\u escape"), -1;
			j->p += 4;
			if (cp >= 0xdc80 && cp <= 0xdcff) {
				/* surrogateescape: a byte that was not UTF-8 */
				d[n++] = (char)(cp - 0xdc00);
				break;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return jerr(j, "lone surrogate in \\u escape"), -1;
				j->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff)
				return jerr(j, "lone surrogate in \\u escape"), -1;
			n += utf8_put(d + n, cp);
			break;
		}
		default:
			j->p--;
			return jerr(j, "bad escape in string"), -1;
		}
	}
	j->p++;
	d[n] = 0;
	*out = d;
	*olen = n;
	return 0;
}

static struct img_jv *jvalue(struct jp *j, int depth);

struct vec {
	void **v;
	size_t n, cap;
};

static int vec_push(struct vec *v, void *x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void **nv = img_realloc(v->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

static struct img_jv *jarray(struct jp *j, int depth)
{
	struct img_jv *v = newv(j, IMG_JV_ARR), *x;
	struct vec items = { 0 };

	if (!v)
		return NULL;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return v;
	}
	for (;;) {
		x = jvalue(j, depth + 1);
		if (!x)
			goto fail;
		if (vec_push(&items, x)) {
			img_err_set(j->err, ENOMEM, "out of memory");
			goto fail;
		}
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			break;
		}
		jerr(j, "expected ',' or ']'");
		goto fail;
	}
	v->a.v = img_arena_alloc(j->a, items.n * sizeof(*v->a.v));
	if (!v->a.v) {
		img_err_set(j->err, ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(v->a.v, items.v, items.n * sizeof(*v->a.v));
	v->a.n = items.n;
	img_free(items.v);
	return v;
fail:
	img_free(items.v);
	return NULL;
}

static struct img_jv *jobject(struct jp *j, int depth)
{
	struct img_jv *v = newv(j, IMG_JV_OBJ);
	struct vec keys = { 0 }, vals = { 0 }, lens = { 0 };

	if (!v)
		return NULL;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return v;
	}
	for (;;) {
		char *k;
		size_t kl;
		struct img_jv *x;

		ws(j);
		if (j->p >= j->end || *j->p != '"') {
			jerr(j, "expected a string key");
			goto fail;
		}
		if (jstring(j, &k, &kl))
			goto fail;
		ws(j);
		if (j->p >= j->end || *j->p != ':') {
			jerr(j, "expected ':'");
			goto fail;
		}
		j->p++;
		x = jvalue(j, depth + 1);
		if (!x)
			goto fail;
		if (vec_push(&keys, k) || vec_push(&vals, x) || vec_push(&lens, (void *)(uintptr_t)kl)) {
			img_err_set(j->err, ENOMEM, "out of memory");
			goto fail;
		}
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		jerr(j, "expected ',' or '}'");
		goto fail;
	}
	v->o.m = img_arena_alloc(j->a, keys.n * sizeof(*v->o.m));
	if (!v->o.m) {
		img_err_set(j->err, ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < keys.n; i++) {
		v->o.m[i].key = keys.v[i];
		v->o.m[i].klen = (size_t)(uintptr_t)lens.v[i];
		v->o.m[i].v = vals.v[i];
	}
	v->o.n = keys.n;
	img_free(keys.v);
	img_free(vals.v);
	img_free(lens.v);
	return v;
fail:
	img_free(keys.v);
	img_free(vals.v);
	img_free(lens.v);
	return NULL;
}

static struct img_jv *jnumber(struct jp *j)
{
	const char *q = j->p;
	struct img_jv *v = newv(j, IMG_JV_INT);
	int neg = 0, real = 0;
	uint64_t u = 0;

	if (!v)
		return NULL;
	if (*q == '-') {
		neg = 1;
		q++;
	}
	if (q >= j->end || *q < '0' || *q > '9')
		return jerr(j, "bad number");
	if (*q == '0' && q + 1 < j->end && q[1] >= '0' && q[1] <= '9')
		return jerr(j, "bad number: leading zero");
	for (; q < j->end && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');

		if (u > (UINT64_MAX - d) / 10)
			real = 2; /* too large for an integer */
		else
			u = u * 10 + d;
	}
	if (q < j->end && *q == '.') {
		real = 1;
		q++;
		if (q >= j->end || *q < '0' || *q > '9')
			return jerr(j, "bad number");
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < j->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= j->end || *q < '0' || *q > '9')
			return jerr(j, "bad number");
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (real == 2)
		return jerr(j, "integer out of range");
	if (real) {
		char tmp[128];
		size_t l = (size_t)(q - j->p);

		if (l >= sizeof(tmp))
			return jerr(j, "number too long");
		memcpy(tmp, j->p, l);
		tmp[l] = 0;
		v->type = IMG_JV_REAL;
		v->d = strtod(tmp, NULL);
	} else {
		v->u = u;
		v->neg = (uint8_t)(neg && u);
	}
	j->p = q;
	return v;
}

static int word(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, w, n)) {
		j->p += n;
		return 1;
	}
	return 0;
}

static struct img_jv *jvalue(struct jp *j, int depth)
{
	struct img_jv *v;

	if (depth > IMG_JSON_MAX_DEPTH)
		return jerr(j, "nested too deeply");
	ws(j);
	if (j->p >= j->end)
		return jerr(j, "unexpected end of input");
	switch (*j->p) {
	case '{':
		return jobject(j, depth);
	case '[':
		return jarray(j, depth);
	case '"':
		v = newv(j, IMG_JV_STR);
		if (!v || jstring(j, &v->s.s, &v->s.len))
			return NULL;
		return v;
	case 't':
	case 'f':
		v = newv(j, IMG_JV_BOOL);
		if (!v)
			return NULL;
		if (word(j, "true"))
			v->b = 1;
		else if (!word(j, "false"))
			return jerr(j, "unexpected character");
		return v;
	case 'n':
		v = newv(j, IMG_JV_NULL);
		if (v && !word(j, "null"))
			return jerr(j, "unexpected character");
		return v;
	case 'N':
	case 'I':
		v = newv(j, IMG_JV_REAL);
		if (!v)
			return NULL;
		if (word(j, "NaN"))
			v->d = NAN;
		else if (word(j, "Infinity"))
			v->d = INFINITY;
		else
			return jerr(j, "unexpected character");
		return v;
	default:
		if (*j->p == '-' && word(j, "-Infinity")) {
			v = newv(j, IMG_JV_REAL);
			if (v)
				v->d = -INFINITY;
			return v;
		}
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jnumber(j);
		return jerr(j, "unexpected character");
	}
}

struct img_jv *img_json_parse(struct img_arena *a, const char *p, size_t n, struct img_err *err)
{
	struct jp j;
	size_t limit = a->limit, cap = img_budget(n) / 4 * 3;
	int failed = a->failed;
	struct img_jv *v;

	if (!p) /* an empty buffer may have no data pointer */
		p = "";
	j = (struct jp){ a, p, p, p + n, p, 1, err };
	/* the tree within three quarters of the budget: the scratch arrays of the parse take the rest */
	if (cap <= SIZE_MAX - a->total && (!limit || a->total + cap < limit))
		a->limit = a->total + cap;
	a->failed = 0;
	/* a UTF-8 byte order mark is accepted */
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		j.p += 3;
	v = jvalue(&j, 0);
	if (!v && a->failed == EFBIG)
		img_err_set(err, EFBIG, "line %u (offset 0x%zx): the text needs more than the %zu bytes of memory "
			    "a %zu-byte JSON text may take", j.line, (size_t)(j.p - j.s), cap, n);
	a->limit = limit;
	a->failed = failed ? failed : a->failed;
	if (!v)
		return NULL;
	ws(&j);
	if (j.p != j.end)
		return jerr(&j, "extra data after the JSON value");
	return v;
}

struct img_jv *img_jv_get(const struct img_jv *o, const char *key)
{
	if (!o || o->type != IMG_JV_OBJ)
		return NULL;
	for (size_t i = o->o.n; i-- > 0;)
		if (!strcmp(o->o.m[i].key, key))
			return o->o.m[i].v;
	return NULL;
}

int img_jv_i64(const struct img_jv *v, int64_t *out)
{
	if (v->type != IMG_JV_INT)
		return -EINVAL;
	if (v->neg) {
		if (v->u > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = (int64_t)(0 - v->u);
	} else {
		if (v->u > INT64_MAX)
			return -ERANGE;
		*out = (int64_t)v->u;
	}
	return 0;
}

int img_jv_u64(const struct img_jv *v, uint64_t *out)
{
	if (v->type != IMG_JV_INT)
		return -EINVAL;
	if (v->neg)
		return -ERANGE;
	*out = v->u;
	return 0;
}

/* Writer */

void img_jw_init(struct img_jw *w, struct img_out *o, int indent)
{
	memset(w, 0, sizeof(*w));
	w->o = o;
	w->indent = indent;
	w->first[0] = 1;
}

static void newline(struct img_jw *w)
{
	img_out_putc(w->o, '\n');
	for (int i = 0; i < w->indent * w->depth; i++)
		img_out_putc(w->o, ' ');
}

/* Separator before an item (a key in objects, a value in arrays). */
static void item(struct img_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		img_out_puts(w->o, w->indent ? "," : ", ");
	w->first[w->depth] = 0;
	if (w->indent)
		newline(w);
}

static void open(struct img_jw *w, char c)
{
	item(w);
	img_out_putc(w->o, c);
	if (w->depth < IMG_JSON_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = 1;
}

static void close(struct img_jw *w, char c)
{
	int empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty && w->indent)
		newline(w);
	img_out_putc(w->o, c);
}

void img_jw_obj_begin(struct img_jw *w) { open(w, '{'); }
void img_jw_obj_end(struct img_jw *w) { close(w, '}'); }
void img_jw_arr_begin(struct img_jw *w) { open(w, '['); }
void img_jw_arr_end(struct img_jw *w) { close(w, ']'); }

void img_jw_keyn(struct img_jw *w, const char *key, size_t n)
{
	item(w);
	img_json_quote(w->o, key, n);
	img_out_puts(w->o, ": ");
	w->after_key = 1;
}

void img_jw_key(struct img_jw *w, const char *key)
{
	img_jw_keyn(w, key, strlen(key));
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0. */
static int utf8_len(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf && n >= 2 && (p[1] & 0xc0) == 0x80) {
		*cp = ((c & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef && n >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*cp = ((c & 0x0f) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3f);
		if (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4 && n >= 4 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
	    (p[3] & 0xc0) == 0x80) {
		*cp = ((c & 0x07) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3f);
		if (*cp < 0x10000 || *cp > 0x10ffff)
			return 0;
		return 4;
	}
	return 0;
}

void img_json_quote(struct img_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = n ? p + n : p; /* s may be NULL when n is 0 */
	char u[13];

	img_out_putc(o, '"');
	while (p < end) {
		const unsigned char *run = p;

		while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			img_out_write(o, run, (size_t)(p - run));
		if (p >= end)
			break;
		unsigned cp;
		int l;

		switch (*p) {
		case '"': img_out_puts(o, "\\\""); p++; continue;
		case '\\': img_out_puts(o, "\\\\"); p++; continue;
		case '\n': img_out_puts(o, "\\n"); p++; continue;
		case '\r': img_out_puts(o, "\\r"); p++; continue;
		case '\t': img_out_puts(o, "\\t"); p++; continue;
		case '\b': img_out_puts(o, "\\b"); p++; continue;
		case '\f': img_out_puts(o, "\\f"); p++; continue;
		}
		l = utf8_len(p, (size_t)(end - p), &cp);
		if (!l) {
			cp = 0xdc00 + *p; /* surrogateescape */
			l = 1;
		}
		p += l;
		if (cp >= 0x10000) {
			unsigned v = cp - 0x10000, hi = 0xd800 + (v >> 10), lo = 0xdc00 + (v & 0x3ff);

			u[0] = '\\'; u[1] = 'u';
			u[2] = hex[hi >> 12]; u[3] = hex[(hi >> 8) & 15]; u[4] = hex[(hi >> 4) & 15]; u[5] = hex[hi & 15];
			u[6] = '\\'; u[7] = 'u';
			u[8] = hex[lo >> 12]; u[9] = hex[(lo >> 8) & 15]; u[10] = hex[(lo >> 4) & 15]; u[11] = hex[lo & 15];
			img_out_write(o, u, 12);
		} else {
			u[0] = '\\'; u[1] = 'u';
			u[2] = hex[cp >> 12]; u[3] = hex[(cp >> 8) & 15]; u[4] = hex[(cp >> 4) & 15]; u[5] = hex[cp & 15];
			img_out_write(o, u, 6);
		}
	}
	img_out_putc(o, '"');
}

void img_jw_strn(struct img_jw *w, const char *s, size_t n)
{
	item(w);
	img_json_quote(w->o, s, n);
}

void img_jw_str(struct img_jw *w, const char *s)
{
	img_jw_strn(w, s, strlen(s));
}

void img_jw_u64(struct img_jw *w, uint64_t v)
{
	char b[24];
	int i = sizeof(b);

	item(w);
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	img_out_write(w->o, b + i, sizeof(b) - (size_t)i);
}

void img_jw_i64(struct img_jw *w, int64_t v)
{
	if (v < 0) {
		item(w);
		img_out_putc(w->o, '-');
		w->after_key = 1;
		img_jw_u64(w, 0 - (uint64_t)v);
		return;
	}
	img_jw_u64(w, (uint64_t)v);
}

void img_jw_bool(struct img_jw *w, int v)
{
	item(w);
	img_out_puts(w->o, v ? "true" : "false");
}

void img_jw_null(struct img_jw *w)
{
	item(w);
	img_out_puts(w->o, "null");
}

/*
 * Python's repr of a float: the shortest digits that read back the same,
 * written plainly for exponents -4..15 and as d.ddde+XX otherwise.
 */
void img_jw_real(struct img_jw *w, double v)
{
	char e[40], digits[24], b[64];
	int prec, exp, nd = 0, o = 0;
	const char *p;

	item(w);
	if (isnan(v)) {
		img_out_puts(w->o, "NaN");
		return;
	}
	if (isinf(v)) {
		img_out_puts(w->o, v < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	p = e;
	if (*p == '-')
		b[o++] = *p++;
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	exp = atoi(p + 1);
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			o += snprintf(b + o, sizeof(b) - (size_t)o, "0.%.*s%.*s", -exp - 1, "0000", nd, digits);
		} else {
			for (int i = 0; i <= exp; i++)
				b[o++] = i < nd ? digits[i] : '0';
			b[o++] = '.';
			if (nd > exp + 1)
				for (int i = exp + 1; i < nd; i++)
					b[o++] = digits[i];
			else
				b[o++] = '0';
			b[o] = 0;
		}
	} else {
		b[o++] = digits[0];
		if (nd > 1) {
			b[o++] = '.';
			for (int i = 1; i < nd; i++)
				b[o++] = digits[i];
		}
		snprintf(b + o, sizeof(b) - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	img_out_puts(w->o, b);
}

void img_jw_raw(struct img_jw *w, const char *s, size_t n)
{
	item(w);
	img_out_write(w->o, s, n);
}

void img_jw_value(struct img_jw *w, const struct img_jv *v)
{
	switch (v->type) {
	case IMG_JV_NULL: img_jw_null(w); break;
	case IMG_JV_BOOL: img_jw_bool(w, v->b); break;
	case IMG_JV_INT:
		if (v->neg) {
			item(w);
			img_out_putc(w->o, '-');
			w->after_key = 1;
		}
		img_jw_u64(w, v->u);
		break;
	case IMG_JV_REAL: img_jw_real(w, v->d); break;
	case IMG_JV_STR: img_jw_strn(w, v->s.s, v->s.len); break;
	case IMG_JV_ARR:
		img_jw_arr_begin(w);
		for (size_t i = 0; i < v->a.n; i++)
			img_jw_value(w, v->a.v[i]);
		img_jw_arr_end(w);
		break;
	case IMG_JV_OBJ:
		img_jw_obj_begin(w);
		for (size_t i = 0; i < v->o.n; i++) {
			img_jw_keyn(w, v->o.m[i].key, v->o.m[i].klen);
			img_jw_value(w, v->o.m[i].v);
		}
		img_jw_obj_end(w);
		break;
	}
}

void img_jw_kv_str(struct img_jw *w, const char *key, const char *s)
{
	img_jw_key(w, key);
	if (s)
		img_jw_str(w, s);
	else
		img_jw_null(w);
}

void img_jw_kv_u64(struct img_jw *w, const char *key, uint64_t v)
{
	img_jw_key(w, key);
	img_jw_u64(w, v);
}

void img_jw_kv_i64(struct img_jw *w, const char *key, int64_t v)
{
	img_jw_key(w, key);
	img_jw_i64(w, v);
}

void img_jw_kv_bool(struct img_jw *w, const char *key, int v)
{
	img_jw_key(w, key);
	img_jw_bool(w, v);
}

/* base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t img_b64_encode_lines_len(size_t n)
{
	size_t chars = (n + 2) / 3 * 4;

	return chars + (n + 56) / 57;
}

void img_b64_encode_lines(struct img_out *o, const uint8_t *p, size_t n)
{
	char line[80];

	while (n) {
		size_t take = n < 57 ? n : 57, l = 0, i;

		for (i = 0; i + 3 <= take; i += 3) {
			uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

			line[l++] = b64[v >> 18];
			line[l++] = b64[(v >> 12) & 63];
			line[l++] = b64[(v >> 6) & 63];
			line[l++] = b64[v & 63];
		}
		if (take - i == 1) {
			uint32_t v = (uint32_t)p[i] << 16;

			line[l++] = b64[v >> 18];
			line[l++] = b64[(v >> 12) & 63];
			line[l++] = '=';
			line[l++] = '=';
		} else if (take - i == 2) {
			uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

			line[l++] = b64[v >> 18];
			line[l++] = b64[(v >> 12) & 63];
			line[l++] = b64[(v >> 6) & 63];
			line[l++] = '=';
		}
		line[l++] = '\n';
		img_out_write(o, line, l);
		p += take;
		n -= take;
	}
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long img_b64_decode(const char *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	int q = 0;
	long o = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);

		if (s[i] == '=') {
			if (q >= 2)
				break;
			continue;
		}
		if (v < 0)
			continue; /* newlines and other characters are skipped, as Python does */
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			q = 0;
		}
	}
	if (q == 1)
		return -1;
	if (q == 2)
		out[o++] = (uint8_t)(acc >> 4);
	else if (q == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	return o;
}

/* Quoted-printable, with the rules of Python's binascii.b2a_qp (istext, no header). */

#define QP_LINE 76

int img_qp_encode(struct img_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	int crlf = 0;
	size_t linelen = 0, i = 0;

	/* Line ends are CRLF when the first LF follows a CR. */
	const uint8_t *lf = memchr(p, '\n', n);

	if (lf && lf > p && lf[-1] == '\r')
		crlf = 1;
	while (i < n) {
		uint8_t c = p[i];
		int enc = c > 126 || c == '=' ||
			  (c == '.' && linelen == 0 &&
			   (i + 1 == n || p[i + 1] == '\n' || p[i + 1] == '\r' || p[i + 1] == 0)) ||
			  ((c == '\t' || c == ' ') && i + 1 == n) ||
			  (c < 33 && c != '\r' && c != '\n' && c != '\t' && c != ' ');

		if (enc) {
			if (linelen + 3 >= QP_LINE) {
				img_buf_addc(b, '=');
				if (crlf)
					img_buf_addc(b, '\r');
				img_buf_addc(b, '\n');
				linelen = 0;
			}
			img_buf_addc(b, '=');
			img_buf_addc(b, hex[c >> 4]);
			img_buf_addc(b, hex[c & 15]);
			i++;
			linelen += 3;
			continue;
		}
		if (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n')) {
			linelen = 0;
			/* whitespace at the end of a line is encoded */
			if (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t')) {
				uint8_t w = b->data[b->len - 1];

				b->data[b->len - 1] = '=';
				img_buf_addc(b, hex[w >> 4]);
				img_buf_addc(b, hex[w & 15]);
			}
			if (crlf)
				img_buf_addc(b, '\r');
			img_buf_addc(b, '\n');
			i += c == '\r' ? 2 : 1;
			continue;
		}
		if (i + 1 != n && p[i + 1] != '\n' && linelen + 1 >= QP_LINE) {
			img_buf_addc(b, '=');
			if (crlf)
				img_buf_addc(b, '\r');
			img_buf_addc(b, '\n');
			linelen = 0;
		}
		linelen++;
		img_buf_addc(b, c);
		i++;
	}
	return b->failed ? -ENOMEM : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int img_qp_decode(struct img_buf *b, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] != '=') {
			img_buf_addc(b, s[i++]);
			continue;
		}
		i++;
		if (i >= n)
			break;
		if (s[i] == '\n' || s[i] == '\r') {
			while (i < n && s[i] != '\n')
				i++;
			if (i < n)
				i++;
		} else if (s[i] == '=') {
			img_buf_addc(b, '=');
			i++;
		} else if (i + 1 < n && hexval(s[i]) >= 0 && hexval(s[i + 1]) >= 0) {
			img_buf_addc(b, hexval(s[i]) << 4 | hexval(s[i + 1]));
			i += 2;
		} else
			img_buf_addc(b, '=');
	}
	return b->failed ? -ENOMEM : 0;
}
