/*
 * Bytes of the raw images, which CRIU does not write itself but takes from
 * other programs: tar --gzip for tmpfs contents, "ip addr/route/rule save"
 * (netlink messages after a magic word), iptables-save, nft, and conntrack
 * dumps.  Made here by hand, small and fixed, so that every run writes the
 * same bytes.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

/* One ustar header as GNU tar --numeric-owner writes it, the mtime fixed. */
static void tar_header(uint8_t *h, const struct tar_member *m)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", m->name);
	snprintf((char *)h + 100, 8, "%07o", m->mode);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)m->size);
	snprintf((char *)h + 136, 12, "%011o", 1795969170u);
	memset(h + 148, ' ', 8);
	h[156] = (uint8_t)m->type;
	memcpy(h + 257, "ustar  ", 8); /* GNU magic and version */
	if (m->type == '3') {
		snprintf((char *)h + 329, 8, "%07o", m->major);
		snprintf((char *)h + 337, 8, "%07o", m->minor);
	}
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

size_t make_tar_gz(uint8_t *out, size_t cap, const struct tar_member *m, size_t n)
{
	static uint8_t tar[10240]; /* one record: tar's default blocking factor of 20 */
	size_t t = 0, o = 0;

	memset(tar, 0, sizeof(tar));
	for (size_t i = 0; i < n; i++) {
		tar_header(tar + t, &m[i]);
		t += 512;
		memcpy(tar + t, m[i].data, m[i].size);
		t += (m[i].size + 511) / 512 * 512;
	}
	if (cap < sizeof(tar) + 18 + 5 || t + 1024 > sizeof(tar))
		return 0;
	/* gzip, with one stored deflate block: no compressor, so no version of one, changes the bytes */
	memcpy(out, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
	o = 10;
	out[o++] = 1; /* BFINAL, stored */
	img_put_u16(out + o, (uint16_t)sizeof(tar));
	img_put_u16(out + o + 2, (uint16_t)~sizeof(tar));
	o += 4;
	memcpy(out + o, tar, sizeof(tar));
	o += sizeof(tar);
	img_put_u32(out + o, crc32_of(tar, sizeof(tar)));
	img_put_u32(out + o + 4, (uint32_t)sizeof(tar));
	return o + 8;
}

/* Netlink messages: a header, a fixed part, and attributes (each padded to 4). */
void nl_begin(struct nl *b, uint16_t type, const void *fixed, size_t flen)
{
	b->start = b->len;
	img_put_u32(b->buf + b->len, 0);
	img_put_u16(b->buf + b->len + 4, type);
	img_put_u16(b->buf + b->len + 6, 0x2);      /* NLM_F_MULTI: a part of a dump */
	img_put_u32(b->buf + b->len + 8, 1795969170); /* sequence number */
	img_put_u32(b->buf + b->len + 12, 0);
	b->len += 16;
	memcpy(b->buf + b->len, fixed, flen);
	b->len += (flen + 3) & ~3u;
}

void nl_attr(struct nl *b, uint16_t type, const void *p, size_t n)
{
	img_put_u16(b->buf + b->len, (uint16_t)(4 + n));
	img_put_u16(b->buf + b->len + 2, type);
	memcpy(b->buf + b->len + 4, p, n);
	memset(b->buf + b->len + 4 + n, 0, ((n + 3) & ~3u) - n);
	b->len += 4 + ((n + 3) & ~3u);
}

void nl_attr_u32(struct nl *b, uint16_t type, uint32_t v)
{
	uint8_t w[4];

	img_put_u32(w, v);
	nl_attr(b, type, w, 4);
}

void nl_end(struct nl *b)
{
	img_put_u32(b->buf + b->start, (uint32_t)(b->len - b->start));
}
