/*
 * Tar headers: ustar, GNU and old (v7) header blocks, octal and base-256
 * numbers, pax extended records, member names.  Pure functions over bytes.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Field offsets and widths of the 512-byte header (POSIX ustar; GNU reuses prefix for times). */
#define F_NAME      0, 100
#define F_MODE      100, 8
#define F_SIZE      124, 12
#define F_MTIME     136, 12
#define F_CHKSUM    148, 8
#define F_TYPE      156
#define F_LINK      157, 100
#define F_MAGIC     257
#define F_PREFIX    345, 155

static int field_number(const uint8_t *b, size_t off, size_t len, uint64_t *v)
{
	return img_tar_number(b + off, len, v);
}

int img_tar_number(const uint8_t *f, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (n && (f[0] & 0x80)) {
		/* base-256: a positive number is 0x80 then big-endian bytes; 0xff starts a negative one */
		if (f[0] != 0x80)
			return -EINVAL;
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return -ERANGE;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -ERANGE;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	/* the digits end with a space or NUL, or fill the field */
	if (i < n && f[i] != ' ' && f[i] != 0)
		return -EINVAL;
	return 0;
}

uint32_t img_tar_checksum(const uint8_t b[512], int sign)
{
	uint32_t sum = 0;

	for (int i = 0; i < 512; i++) {
		int c = i >= 148 && i < 156 ? ' ' : sign ? (int)(int8_t)b[i] : b[i];

		sum += (uint32_t)c;
	}
	return sum;
}

static void copy_field(char *dst, const uint8_t *b, size_t off, size_t len)
{
	size_t n = strnlen((const char *)b + off, len);

	memcpy(dst, b + off, n);
	dst[n] = 0;
}

int img_tar_hdr_parse(const uint8_t b[512], struct img_tar_hdr *h, struct img_err *err)
{
	uint64_t stored, v;
	size_t i;

	for (i = 0; i < 512 && !b[i]; i++)
		;
	if (i == 512)
		return 1;
	memset(h, 0, sizeof(*h));
	if (field_number(b, F_CHKSUM, &stored))
		return img_err_set(err, EINVAL, "header checksum field is not a number");
	/* POSIX sums unsigned bytes; some old writers summed signed ones */
	if (stored != img_tar_checksum(b, 0) && stored != img_tar_checksum(b, 1))
		return img_err_set(err, EINVAL, "bad header checksum: the header says 0%llo, the bytes sum to 0%o",
				   (unsigned long long)stored, img_tar_checksum(b, 0));
	if (!memcmp(b + F_MAGIC, "ustar\0" "00", 8))
		h->format = IMG_TAR_USTAR;
	else if (!memcmp(b + F_MAGIC, "ustar  \0", 8))
		h->format = IMG_TAR_GNU;
	else
		h->format = IMG_TAR_V7;
	h->type = (char)b[F_TYPE];
	if (h->format == IMG_TAR_USTAR && b[345]) {
		copy_field(h->name, b, F_PREFIX);
		strcat(h->name, "/");
		copy_field(h->name + strlen(h->name), b, F_NAME);
	} else
		copy_field(h->name, b, F_NAME);
	copy_field(h->link, b, F_LINK);
	switch (field_number(b, F_SIZE, &h->size)) {
	case 0:
		break;
	case -ERANGE:
		return img_err_set(err, EINVAL, "size field is larger than 2^63");
	default:
		return img_err_set(err, EINVAL, "size field is not a number");
	}
	if (field_number(b, F_MODE, &v) == 0)
		h->mode = (uint32_t)(v & 07777);
	else
		h->mode = 0644;
	/* times before 1970 (negative base-256) do not matter here */
	if (field_number(b, F_MTIME, &h->mtime))
		h->mtime = 0;
	return 0;
}

/* A decimal number of a pax record, without sign or leading junk. */
static int pax_decimal(const char *p, size_t n, uint64_t *v)
{
	*v = 0;
	if (!n || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	}
	return 0;
}

static int pax_string(char *dst, const char *key, const char *v, size_t n, struct img_err *err)
{
	if (n > IMG_TAR_NAME_MAX)
		return img_err_set(err, EINVAL, "pax %s of %zu bytes: longer than %d", key, n, IMG_TAR_NAME_MAX);
	if (memchr(v, 0, n))
		return img_err_set(err, EINVAL, "pax %s holds a NUL byte", key);
	memcpy(dst, v, n);
	dst[n] = 0;
	return 0;
}

int img_tar_pax_parse(const uint8_t *p, size_t n, struct img_tar_pax *x, struct img_err *err)
{
	const char *s = (const char *)p;
	size_t off = 0, nrec = 0;

	while (off < n) {
		const char *rec = s + off, *sp, *eq, *val;
		size_t left = n - off, vlen;
		uint64_t len;

		/* tar writers pad the last block of a pax header with NULs */
		if (!rec[0]) {
			for (size_t i = off; i < n; i++)
				if (s[i])
					return img_err_set(err, EINVAL, "pax record at byte %zu: bytes after a NUL", off);
			break;
		}
		if (++nrec > IMG_TAR_PAX_RECORDS)
			return img_err_set(err, EINVAL, "more than %d pax records", IMG_TAR_PAX_RECORDS);
		sp = memchr(rec, ' ', left < 21 ? left : 21);
		if (!sp || pax_decimal(rec, (size_t)(sp - rec), &len))
			return img_err_set(err, EINVAL, "pax record at byte %zu: no length", off);
		if (len > left || len < (uint64_t)(sp - rec) + 4 || rec[len - 1] != '\n')
			return img_err_set(err, EINVAL, "pax record at byte %zu: length %llu does not fit (%zu bytes left)",
					   off, (unsigned long long)len, left);
		eq = memchr(sp + 1, '=', (size_t)(rec + len - 1 - (sp + 1)));
		if (!eq || eq == sp + 1)
			return img_err_set(err, EINVAL, "pax record at byte %zu: no key", off);
		val = eq + 1;
		vlen = (size_t)(rec + len - 1 - val);
#define KEY(k) ((size_t)(eq - (sp + 1)) == sizeof(k) - 1 && !memcmp(sp + 1, k, sizeof(k) - 1))
		if (KEY("path")) {
			if (pax_string(x->path, "path", val, vlen, err))
				return -EINVAL;
			x->has_path = 1;
		} else if (KEY("linkpath")) {
			if (pax_string(x->linkpath, "linkpath", val, vlen, err))
				return -EINVAL;
			x->has_linkpath = 1;
		} else if (KEY("size")) {
			if (pax_decimal(val, vlen, &x->size) || x->size >> 63)
				return img_err_set(err, EINVAL, "pax size '%.*s' is not a number below 2^63",
						   (int)(vlen < 40 ? vlen : 40), val);
			x->has_size = 1;
		} else if ((size_t)(eq - (sp + 1)) > 11 && !memcmp(sp + 1, "GNU.sparse.", 11)) {
			return img_err_set(err, EOPNOTSUPP, "sparse members (GNU.sparse) are not supported");
		}
#undef KEY
		off += (size_t)len;
	}
	return 0;
}

/*
 * Append the components of p to out (o bytes long so far): "." and empty ones
 * dropped, ".." climbing one folder when climb is set.  0, or what went wrong.
 */
enum { JOIN_OK, JOIN_DOTDOT, JOIN_LONG, JOIN_COMPONENT };
static int join_components(const char *p, int climb, char *out, size_t len, size_t *o)
{
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!climb || !*o)
				return JOIN_DOTDOT;
			while (*o && out[*o - 1] != '/')
				(*o)--;
			if (*o)
				(*o)--;
		} else if (n > 255) {
			return JOIN_COMPONENT;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (*o + n + 2 > len)
				return JOIN_LONG;
			if (*o)
				out[(*o)++] = '/';
			memcpy(out + *o, p, n);
			*o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[*o] = 0;
	return JOIN_OK;
}

int img_tar_name_clean(const char *name, char *out, size_t len, struct img_err *err)
{
	size_t o = 0, nlen = strlen(name);

	if (!nlen)
		return img_err_set(err, EINVAL, "an empty name");
	if (nlen > IMG_TAR_NAME_MAX)
		return img_err_set(err, EINVAL, "the name is %zu bytes long, more than %d", nlen, IMG_TAR_NAME_MAX);
	if (name[0] == '/')
		return img_err_set(err, EINVAL, "an absolute name");
	switch (join_components(name, 0, out, len, &o)) {
	case JOIN_DOTDOT:
		return img_err_set(err, EINVAL, "the name contains '..'");
	case JOIN_COMPONENT:
		return img_err_set(err, EINVAL, "a name component is longer than 255 bytes");
	case JOIN_LONG:
		return img_err_set(err, ENAMETOOLONG, "the name is too long");
	}
	return 0;
}

int img_tar_path_resolve(const char *base, const char *target, char *out, size_t len)
{
	size_t o = 0;

	if (target[0] == '/')
		return -1;
	out[0] = 0;
	return join_components(base, 1, out, len, &o) || join_components(target, 1, out, len, &o) ? -1 : 0;
}

void img_tar_path_dir(const char *path, char *out, size_t len)
{
	const char *s = strrchr(path, '/');
	size_t n = s ? (size_t)(s - path) : 0;

	if (n >= len)
		n = len - 1;
	memcpy(out, path, n);
	out[n] = 0;
}
