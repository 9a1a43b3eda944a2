/*
 * Which linux-cr version wrote a stream.  CHECKPOINT_VERSION did not change
 * with every layout (rev 6 covers v21, v23-rc1 and v23-rc2), and the arch id
 * moved (x86_64 was 5 in v19-rc2, 2 from v19-rc3), so the header narrows the
 * candidates and the record sizes decide: every record of an exact-length
 * type must have its struct's size in that version.  Each check is logged
 * with the offsets it compared.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

int img_lcr_probe(const uint8_t *p, size_t n)
{
	if (n < 24 || img_get_u32(p) != 1 || img_get_u32(p + 4) < 24)
		return 0;
	if (img_get_u64(p + 8) == IMG_LCR_MAGIC_HEAD)
		return 1;
	if (img_get_u64(p + 8) == __builtin_bswap64(IMG_LCR_MAGIC_HEAD))
		return 2; /* written on a big-endian machine */
	return 0;
}

IMG_PRINTF(2, 3) static void check(struct img_lcr_detect *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nchecks == sizeof(d->checks) / sizeof(d->checks[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(d->checks[d->nchecks++], sizeof(d->checks[0]), fmt, ap);
	va_end(ap);
}

/* The struct a record of this layout must carry, and whether its length must equal it. */
const struct img_lcr_struct *lcr_rec_struct(const struct img_lcr_tables *t, const struct img_lcr_layout *l,
					    const struct img_lcr_rectype *rt, const uint8_t *rec, uint32_t len,
					    const struct img_lcr_recdesc **desc)
{
	const struct img_lcr_recdesc *d = rt->desc;

	*desc = d;
	if (!d)
		return NULL;
	if (d->len == IMG_LCR_LEN_SELECT && rt->st) {
		struct img_lcr_fref fr;
		char name[64];
		const char *sub;

		if (img_lcr_field_ref(rt->st, d->select_field, &fr) || fr.off + fr.size > len)
			return rt->st;
		sub = img_lcr_enum_name(img_lcr_enum_find(l, d->select_enum),
					(int64_t)img_lcr_get_u(rec, fr.off, fr.f->type));
		if (!sub)
			return rt->st;
		snprintf(name, sizeof(name), "%s/%s", rt->name, sub);
		const struct img_lcr_recdesc *sd = img_lcr_recdesc_find(t, l, name);

		if (!sd || !sd->strct)
			return rt->st;
		*desc = sd;
		return img_lcr_struct_find(l, sd->strct);
	}
	return rt->st;
}

struct score {
	const struct img_lcr_layout *l;
	uint32_t bad, odd, checked;
	char first[200], firstodd[200];
};

/* A field holding a value its records.tab row says it cannot hold. */
static void values(struct score *s, const struct img_lcr_recdesc *d, const struct img_lcr_struct *st,
		   const uint8_t *rec, uint32_t len, uint64_t off)
{
	for (uint32_t k = 0; k < d->nvalues; k++) {
		const struct img_lcr_values *vs = &d->values[k];
		struct img_lcr_fref fr;
		int64_t v;
		uint32_t j;

		if (img_lcr_field_ref(st, vs->field, &fr) || fr.off + fr.size > len)
			continue;
		v = img_lcr_type_signed(fr.f->type) ? img_lcr_get_s(rec, fr.off, fr.f->type) :
						      (int64_t)img_lcr_get_u(rec, fr.off, fr.f->type);
		for (j = 0; j < vs->n && vs->v[j] != v; j++)
			;
		if (j == vs->n && !s->odd++)
			snprintf(s->firstodd, sizeof(s->firstodd), "%s at 0x%llx: %s (at 0x%llx) holds %lld, which it cannot",
				 d->name, (unsigned long long)off, vs->field, (unsigned long long)(off + fr.off),
				 (long long)v);
	}
}

static void score_layout(const struct img_lcr_tables *t, struct score *s, const uint8_t *p, size_t n)
{
	uint64_t off = 0;

	while (off + IMG_LCR_HDR_LEN <= n) {
		uint32_t type = img_get_u32(p + off), len = img_get_u32(p + off + 4);

		if (len < IMG_LCR_HDR_LEN || len > n - off)
			break;
		const struct img_lcr_rectype *rt = img_lcr_rectype(s->l, type);
		const struct img_lcr_recdesc *d;
		const struct img_lcr_struct *st;

		s->checked++;
		if (!rt) {
			if (!s->bad++)
				snprintf(s->first, sizeof(s->first), "type %u at 0x%llx is not a %s record type", type,
					 (unsigned long long)off, s->l->ver->name);
		} else if ((st = lcr_rec_struct(t, s->l, rt, p + off, len, &d)) &&
			   (d->len == IMG_LCR_LEN_EXACT || d->len == IMG_LCR_LEN_SELECT || d->len == IMG_LCR_LEN_TAIL)) {
			int ok = d->len == IMG_LCR_LEN_TAIL ? len >= st->size : len == st->size;

			if (!ok && !s->bad++)
				snprintf(s->first, sizeof(s->first), "%s (%u) at 0x%llx: len %u, %s is %u bytes%s",
					 rt->name, type, (unsigned long long)off, len, st->name, st->size,
					 d->len == IMG_LCR_LEN_TAIL ? " and more" : "");
			if (ok)
				values(s, d, st, p + off, len, off);
		}
		off += len;
	}
}

static int kernel_is(const struct img_lcr_version *v, unsigned a, unsigned b, unsigned c)
{
	char k[32];

	snprintf(k, sizeof(k), "%u.%u.%u", a, b, c);
	return v->kernel && !strcmp(v->kernel, k);
}

int img_lcr_detect(const uint8_t *p, size_t n, const char *name, const struct img_lcr_tables *t,
		   const struct img_lcr_opts *o, struct img_lcr_detect *det, struct img_err *err)
{
	struct score sc[32];
	uint32_t nsc = 0;
	const struct img_lcr_version *forced = NULL;
	int pr = img_lcr_probe(p, n);

	memset(det, 0, sizeof(*det));
	img_err_subject(err, name);
	if (pr == 2)
		return img_err_set(err, EINVAL,
				   "record 0 at offset 0x0: the magic at 0x8 is byte-swapped: a big-endian stream (s390, ppc) is not supported");
	if (!pr) {
		if (n < 24)
			return img_err_set(err, EINVAL, "not a linux-cr stream: %zu bytes, a header record needs 72", n);
		return img_err_set(err, EINVAL,
				   "not a linux-cr stream: record 0 at offset 0x0 is type %u len %u, magic 0x%016llx at 0x8 (a HEADER is type 1 with magic 0x%016llx)",
				   img_get_u32(p), img_get_u32(p + 4), (unsigned long long)img_get_u64(p + 8),
				   (unsigned long long)IMG_LCR_MAGIC_HEAD);
	}
	/* the header's fields sit at the same offsets in every version: read them with the first */
	const struct img_lcr_layout *l0 = &t->versions[0].layouts[0];
	const struct img_lcr_struct *hs = img_lcr_struct_find(l0, "ckpt_hdr_header");
	struct img_lcr_fref fa, fr, fmaj, fmin, fpat;
	uint32_t hlen = img_get_u32(p + 4);

	if (!hs || img_lcr_field_ref(hs, "arch_id", &fa) || img_lcr_field_ref(hs, "rev", &fr) ||
	    img_lcr_field_ref(hs, "major", &fmaj) || img_lcr_field_ref(hs, "minor", &fmin) ||
	    img_lcr_field_ref(hs, "patch", &fpat))
		return img_err_set(err, EINVAL, "the tables have no ckpt_hdr_header");
	if (hlen < hs->size || hlen > n)
		return img_err_set(err, EINVAL, "record 0 (HEADER) at offset 0x0: len %u, ckpt_hdr_header is %u bytes%s",
				   hlen, hs->size, hlen > n ? " and the file is shorter" : "");
	/* arch_id is the one field written little-endian on every machine */
	det->arch_id = (uint16_t)(p[fa.off] | p[fa.off + 1] << 8);
	det->rev = (uint16_t)img_lcr_get_u(p, fr.off, fr.f->type);
	det->major = (uint16_t)img_lcr_get_u(p, fmaj.off, fmaj.f->type);
	det->minor = (uint16_t)img_lcr_get_u(p, fmin.off, fmin.f->type);
	det->patch = (uint16_t)img_lcr_get_u(p, fpat.off, fpat.f->type);
	check(det, "HEADER at 0x0: len %u, magic at 0x8, arch id %u (le16 at 0x%x), kernel %u.%u.%u (0x%x..0x%x), rev %u (u16 at 0x%x)",
	      hlen, det->arch_id, fa.off, det->major, det->minor, det->patch, fmaj.off, fpat.off + 1, det->rev, fr.off);
	if (o && o->version) {
		forced = img_lcr_version_find(t, o->version);
		if (!forced)
			return img_err_set(err, EINVAL, "unknown linux-cr version '%s'", o->version);
		det->forced = 1;
	}
	for (uint32_t i = 0; i < t->nversions; i++) {
		const struct img_lcr_version *v = &t->versions[i];

		if (forced && v != forced)
			continue;
		for (uint32_t k = 0; k < v->nlayouts && nsc < 32; k++) {
			const struct img_lcr_layout *l = &v->layouts[k];

			if (o && o->arch && strcmp(o->arch, l->arch))
				continue;
			if (!forced && (v->rev != det->rev || l->arch_id != det->arch_id))
				continue;
			if (forced && !(o && o->arch) && l->arch_id != det->arch_id)
				continue;
			sc[nsc++] = (struct score){ l, 0, 0, 0, "", "" };
		}
	}
	if (!nsc) {
		if (forced)
			return img_err_set(err, EINVAL, "version %s has no arch with id %u (le16 at 0x%x)%s", forced->name,
					   det->arch_id, fa.off, o && o->arch ? " and the arch asked for" : "");
		return img_err_set(err, EINVAL,
				   "no known linux-cr version has rev %u (u16 at 0x%x) with arch id %u (le16 at 0x%x); force one with --linuxcr-version",
				   det->rev, fr.off, det->arch_id, fa.off);
	}
	{
		char names[200] = "";

		for (uint32_t i = 0; i < nsc; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s/%s", i ? ", " : "",
				 sc[i].l->ver->name, sc[i].l->arch);
		check(det, "%s: %s", forced ? "forced" : "rev and arch id fit", names);
	}
	for (uint32_t i = 0; i < nsc; i++) {
		score_layout(t, &sc[i], p, n);
		if (sc[i].bad)
			check(det, "%s: %u of %u records do not fit; first: %s", sc[i].l->ver->name, sc[i].bad,
			      sc[i].checked, sc[i].first);
		else if (sc[i].odd)
			check(det, "%s: every record has its size, but %u hold values they cannot; first: %s",
			      sc[i].l->ver->name, sc[i].odd, sc[i].firstodd);
		else
			check(det, "%s: every record fits (%u records checked)", sc[i].l->ver->name, sc[i].checked);
	}
	/* the best: fewest misfits, then the kernel version, then the latest */
	uint32_t best = 0;

	for (uint32_t i = 1; i < nsc; i++) {
		const struct score *a = &sc[i], *b = &sc[best];
		int ka = kernel_is(a->l->ver, det->major, det->minor, det->patch);
		int kb = kernel_is(b->l->ver, det->major, det->minor, det->patch);

		if (a->bad < b->bad || (a->bad == b->bad && (a->odd < b->odd || (a->odd == b->odd && ka >= kb))))
			best = i;
	}
	det->lay = sc[best].l;
	for (uint32_t i = 0; i < nsc; i++)
		if (i != best && sc[i].bad == sc[best].bad && sc[i].odd == sc[best].odd && sc[i].l->ver != sc[best].l->ver) {
			det->ambiguous = 1;
			snprintf(det->others + strlen(det->others), sizeof(det->others) - strlen(det->others), "%s%s",
				 det->others[0] ? ", " : "", sc[i].l->ver->name);
		}
	if (det->ambiguous)
		check(det, "chose %s (%s kernel %s); %s fit%s as well", det->lay->ver->name,
		      kernel_is(det->lay->ver, det->major, det->minor, det->patch) ? "it matches the" : "the latest; its",
		      det->lay->ver->kernel ? det->lay->ver->kernel : "?", det->others, strchr(det->others, ',') ? "" : "s");
	else
		check(det, "chose %s on %s", det->lay->ver->name, det->lay->arch);
	return 0;
}
