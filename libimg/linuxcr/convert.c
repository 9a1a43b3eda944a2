/*
 * Converting a linux-cr stream to another version of the patchset.
 *
 * Record, object, file and vma type numbers are mapped by name through the
 * two versions' tables; struct fields are copied by name (convert.tab names
 * the renamed ones and the values that added fields get); the header takes
 * the target's CHECKPOINT_VERSION, kernel version and arch id; the parts
 * whose shape changed (the process tree and v23's pid objects, the saved
 * auxv, the container section) have their own code below.  Whatever the
 * target cannot hold is refused, or with IMG_LCR_CONV_LOSSY dropped and
 * reported line by line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

struct cv {
	const struct img_lcr_image *img;
	const struct img_lcr_tables *t;
	const struct img_lcr_layout *sl, *tl;
	const struct img_lcr_conv_opts *o;
	struct img_buf *out;
	struct img_err *err;
	int si, ti;
	uint8_t *drop;          /* source records left out */
	unsigned nlossy;
	char first[800];
	int failed;
};

IMG_PRINTF(3, 4) static void lossy(struct cv *cv, size_t i, const char *fmt, ...)
{
	char where[128], msg[600], line[760];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (i == (size_t)-1)
		snprintf(line, sizeof(line), "%s", msg);
	else
		snprintf(line, sizeof(line), "%s: %s", img_lcr_rec_where(cv->img, i, where, sizeof(where)), msg);
	if (!cv->nlossy++)
		snprintf(cv->first, sizeof(cv->first), "%s", line);
	if ((cv->o->flags & IMG_LCR_CONV_LOSSY) && cv->o->note)
		cv->o->note(cv->o->arg, line);
}

IMG_PRINTF(2, 3) static int cfail(struct cv *cv, const char *fmt, ...)
{
	va_list ap;

	if (cv->failed)
		return -EINVAL;
	va_start(ap, fmt);
	img_err_vset(cv->err, EINVAL, fmt, ap);
	va_end(ap);
	img_err_subject(cv->err, cv->img->src->name);
	cv->failed = 1;
	return -EINVAL;
}

static int vidx(const struct cv *cv, const char *name)
{
	const struct img_lcr_version *v = img_lcr_version_find(cv->t, name);

	return v ? img_lcr_version_index(cv->t, v) : -1;
}

/* The source field that holds a target field (renames), and how its value changes. */
static const char *source_name(const struct cv *cv, const char *strct, const char *tname, const char **how)
{
	*how = NULL;
	for (uint32_t i = 0; i < cv->t->nrenames; i++) {
		const struct img_lcr_rename *r = &cv->t->renames[i];
		int at = vidx(cv, r->since);

		if (strcmp(r->strct, strct) || at < 0)
			continue;
		if (cv->si < at && cv->ti >= at && !strcmp(r->to, tname)) {
			*how = r->how;
			return r->from;
		}
		if (cv->ti < at && cv->si >= at && !strcmp(r->from, tname)) {
			*how = r->how;
			return r->to;
		}
	}
	return tname;
}

static int field_default(const struct cv *cv, const char *strct, const char *field, int64_t *v)
{
	for (uint32_t i = 0; i < cv->t->nfdefaults; i++)
		if (!strcmp(cv->t->fdefaults[i].strct, strct) && !strcmp(cv->t->fdefaults[i].field, field)) {
			*v = cv->t->fdefaults[i].val;
			return 0;
		}
	return -ENOENT;
}

static const struct img_lcr_field *field_by_name(const struct img_lcr_struct *s, const char *name)
{
	for (uint32_t i = 0; i < s->nfields; i++)
		if (!strcmp(s->fields[i].name, name))
			return &s->fields[i];
	return NULL;
}

/* The enum a top-level field of a record holds (records.tab enums=), or NULL. */
static const char *enum_of(const struct img_lcr_recdesc *a, const struct img_lcr_recdesc *b, const char *field)
{
	const struct img_lcr_recdesc *d[2] = { a, b };

	for (int k = 0; k < 2; k++)
		for (uint32_t i = 0; d[k] && i < d[k]->nenums; i++)
			if (!strcmp(d[k]->enums[i].field, field))
				return d[k]->enums[i].en;
	return NULL;
}

static int64_t getv(const uint8_t *p, uint32_t off, uint8_t type)
{
	return img_lcr_type_signed(type) ? img_lcr_get_s(p, off, type) : (int64_t)img_lcr_get_u(p, off, type);
}

static int all_zero(const uint8_t *p, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		if (p[k])
			return 0;
	return 1;
}

struct ctx {
	size_t rec;                          /* source record, for messages */
	const struct img_lcr_recdesc *sd, *td; /* for enum fields (top level only) */
};

static void conv_struct(struct cv *cv, const struct ctx *c, const struct img_lcr_struct *ss, const uint8_t *sp,
			uint32_t slen, const struct img_lcr_struct *ts, uint8_t *tp, int top);

/* One scalar value from the source into the target, through renames, enums and transforms. */
static void conv_value(struct cv *cv, const struct ctx *c, const struct img_lcr_struct *ts,
		       const struct img_lcr_field *tf, const struct img_lcr_field *sf, int64_t v, uint8_t *tp,
		       uint32_t toff, const char *how, int top)
{
	const char *en = top ? enum_of(c->sd, c->td, tf->name) : NULL;

	if (en) {
		const char *nm = img_lcr_enum_name(img_lcr_enum_find(cv->sl, en), v);
		int64_t nv;

		if (!nm || img_lcr_enum_val(img_lcr_enum_find(cv->tl, en), nm, &nv)) {
			lossy(cv, c->rec, "%s %lld (%s) has no number in %s", tf->name, (long long)v, nm ? nm : "unknown",
			      cv->tl->ver->name);
			return;
		}
		v = nv;
	} else if (how && !strcmp(how, "auxv_len")) {
		int64_t se = 8, te = 8;

		img_lcr_kv_get(cv->sl->props, cv->sl->nprops, "auxv_entry", &se);
		img_lcr_kv_get(cv->tl->props, cv->tl->nprops, "auxv_entry", &te);
		/* bytes of unsigned long became entries of __u64 */
		v = !strcmp(sf->name, "mm_saved_auxv_len") ? v / se : v * te;
	} else if (how && !strcmp(how, "target_default")) {
		int64_t sdef, tdef;

		if (!img_lcr_kv_get(cv->sl->defaults, cv->sl->ndefaults, sf->name, &sdef) && sdef != v)
			lossy(cv, c->rec, "%s %lld is not this kernel's usual %lld; %s gets %s's", sf->name, (long long)v,
			      (long long)sdef, tf->name, cv->tl->ver->name);
		if (!img_lcr_kv_get(cv->tl->defaults, cv->tl->ndefaults, tf->name, &tdef))
			v = tdef;
	}
	if (!img_lcr_fits(tf->type, (uint64_t)v, v < 0 && img_lcr_type_signed(sf->type))) {
		lossy(cv, c->rec, "%s.%s %lld does not fit %s's %u bytes", ts->name, tf->name, (long long)v,
		      cv->tl->ver->name, img_lcr_type_size(tf->type));
		return;
	}
	img_lcr_put(tp, toff, tf->type, (uint64_t)v);
}

static void conv_struct(struct cv *cv, const struct ctx *c, const struct img_lcr_struct *ss, const uint8_t *sp,
			uint32_t slen, const struct img_lcr_struct *ts, uint8_t *tp, int top)
{
	uint8_t used[256] = { 0 };

	for (uint32_t i = 0; i < ts->nfields; i++) {
		const struct img_lcr_field *tf = &ts->fields[i], *sf;
		const char *how, *sname;

		if (tf->flex || (top && i == 0 && tf->type == IMG_LCR_STRUCT && !strcmp(tf->sub->name, "ckpt_hdr")))
			continue; /* the record header is written by the caller */
		sname = source_name(cv, ts->name, tf->name, &how);
		sf = field_by_name(ss, sname);
		if (!sf || sf->flex) {
			int64_t d = 0;

			if (tf->type != IMG_LCR_STRUCT && !tf->count && !field_default(cv, ts->name, tf->name, &d))
				img_lcr_put(tp, tf->off, tf->type, (uint64_t)d);
			continue;
		}
		if ((size_t)(sf - ss->fields) < sizeof(used))
			used[sf - ss->fields] = 1;
		uint32_t scnt = sf->count ? sf->count : 1, tcnt = tf->count ? tf->count : 1;
		uint32_t ses = img_lcr_field_size(sf), tes = img_lcr_field_size(tf);

		for (uint32_t k = 0; k < scnt; k++) {
			uint32_t so = sf->off + k * ses;

			if (so + ses > slen)
				break;
			if (k >= tcnt) {
				if (!all_zero(sp + so, ses))
					lossy(cv, c->rec, "%s.%s[%u] has no place in %s (%s has %u)", ss->name, sf->name, k,
					      cv->tl->ver->name, tf->name, tcnt);
				continue;
			}
			if ((sf->type == IMG_LCR_STRUCT) != (tf->type == IMG_LCR_STRUCT)) {
				lossy(cv, c->rec, "%s.%s changed its type in %s", ss->name, sf->name, cv->tl->ver->name);
				break;
			}
			if (sf->type == IMG_LCR_STRUCT)
				conv_struct(cv, c, sf->sub, sp + so, ses, tf->sub, tp + tf->off + k * tes, 0);
			else
				conv_value(cv, c, ts, tf, sf, getv(sp, so, sf->type), tp, tf->off + k * tes, how, top);
		}
	}
	/* source fields the target has no place for: lost unless they hold what an upgrade would give back */
	for (uint32_t i = 0; i < ss->nfields && i < sizeof(used); i++) {
		const struct img_lcr_field *sf = &ss->fields[i];
		uint32_t n = sf->flex ? 0 : img_lcr_field_size(sf) * (sf->count ? sf->count : 1);
		int64_t d = 0;

		if (used[i] || !n || sf->off + n > slen || (top && i == 0 && sf->type == IMG_LCR_STRUCT))
			continue;
		if (sf->type != IMG_LCR_STRUCT && !sf->count) {
			int64_t v = getv(sp, sf->off, sf->type);

			field_default(cv, ss->name, sf->name, &d);
			if (v != d)
				lossy(cv, c->rec, "%s %lld has no place in %s", sf->name, (long long)v, cv->tl->ver->name);
		} else if (!all_zero(sp + sf->off, n)) {
			lossy(cv, c->rec, "%s has no place in %s", sf->name, cv->tl->ver->name);
		}
	}
}

/* ---------------------------------------------------------------- output */

static int emit(struct cv *cv, const char *type, const void *payload, size_t n)
{
	const struct img_lcr_rectype *rt = img_lcr_rectype_by_name(cv->tl, type);
	uint8_t h[IMG_LCR_HDR_LEN];

	if (!rt)
		return cfail(cv, "%s has no %s records", cv->tl->ver->name, type);
	img_put_u32(h, rt->type);
	img_put_u32(h + 4, (uint32_t)(n + IMG_LCR_HDR_LEN));
	if (img_buf_add(cv->out, h, sizeof(h)) || (n && img_buf_add(cv->out, payload, n)))
		return cfail(cv, "out of memory");
	return 0;
}

/* A struct record of the target: its bytes (header included) in buf. */
static int emit_struct(struct cv *cv, const char *type, uint8_t *buf, uint32_t len)
{
	const struct img_lcr_rectype *rt = img_lcr_rectype_by_name(cv->tl, type);

	if (!rt)
		return cfail(cv, "%s has no %s records", cv->tl->ver->name, type);
	img_put_u32(buf, rt->type);
	img_put_u32(buf + 4, len);
	if (img_buf_add(cv->out, buf, len))
		return cfail(cv, "out of memory");
	return 0;
}

static const struct img_lcr_struct *tstruct(struct cv *cv, const char *name)
{
	const struct img_lcr_struct *s = img_lcr_struct_find(cv->tl, name);

	if (!s)
		cfail(cv, "%s has no struct %s", cv->tl->ver->name, name);
	return s;
}

static uint32_t elem_size(const struct img_lcr_layout *l, const char *elem, const struct img_lcr_struct **st)
{
	uint8_t t;

	return lcr_elem_size(l, elem, &t, st);
}

/* A generic struct record: fields by name, then its tail array element by element. */
static int conv_record(struct cv *cv, size_t i, const char *type)
{
	const struct img_lcr_rec *r = &cv->img->r[i];
	const struct img_lcr_recdesc *sd = r->desc, *td;
	const struct img_lcr_struct *ts;
	uint32_t tail = 0, tes = 0, ses = 0, cnt = 0;
	const struct img_lcr_struct *tel = NULL, *sel = NULL;
	uint8_t *buf;
	int ret;

	td = strchr(sd->name, '/') ? img_lcr_recdesc_find(cv->t, cv->tl, sd->name) : img_lcr_rectype_by_name(cv->tl, type)->desc;
	if (!td || !td->strct || !(ts = tstruct(cv, td->strct))) {
		lossy(cv, i, "a %s has no place in %s", sd->name, cv->tl->ver->name);
		return 0;
	}
	if (sd->len == IMG_LCR_LEN_TAIL && td->len == IMG_LCR_LEN_TAIL && r->len > r->st->size) {
		ses = elem_size(cv->sl, sd->tail_elem, &sel);
		tes = elem_size(cv->tl, td->tail_elem, &tel);
		if (!ses || !tes)
			return cfail(cv, "no element size for %s's tail", sd->name);
		cnt = (r->len - r->st->size) / ses;
		tail = cnt * tes;
	}
	if ((uint64_t)ts->size + tail > UINT32_MAX)
		return cfail(cv, "a record too long");
	buf = img_calloc(1, ts->size + tail + 1);
	if (!buf)
		return cfail(cv, "out of memory");
	struct ctx c = { i, r->rt->desc, img_lcr_rectype_by_name(cv->tl, type)->desc };

	conv_struct(cv, &c, r->st, r->p, r->len < r->st->size ? r->len : r->st->size, ts, buf, 1);
	for (uint32_t k = 0; k < cnt; k++) {
		const uint8_t *se = r->p + r->st->size + k * ses;
		uint8_t *te = buf + ts->size + k * tes;
		struct ctx ce = { i, NULL, NULL };

		if (sel && tel)
			conv_struct(cv, &ce, sel, se, ses, tel, te, 0);
		else
			memcpy(te, se, ses < tes ? ses : tes);
	}
	ret = emit_struct(cv, type, buf, ts->size + tail);
	img_free(buf);
	return ret;
}

/* ---------------------------------------------------------------- the parts with their own shape */

static int conv_auxv(struct cv *cv, size_t i)
{
	const struct img_lcr_rec *r = &cv->img->r[i];
	int64_t se = 8, te = 8;
	uint32_t n, len;
	uint8_t *buf;
	int ret;

	img_lcr_kv_get(cv->sl->props, cv->sl->nprops, "auxv_entry", &se);
	img_lcr_kv_get(cv->tl->props, cv->tl->nprops, "auxv_entry", &te);
	if (se == te)
		return emit(cv, "BUFFER", img_lcr_payload(r), img_lcr_payload_len(r));
	n = img_lcr_payload_len(r) / (uint32_t)se;
	len = n * (uint32_t)te;
	buf = img_calloc(1, len + 1);
	if (!buf)
		return cfail(cv, "out of memory");
	for (uint32_t k = 0; k < n; k++) {
		uint64_t v = img_lcr_get_u(img_lcr_payload(r), k * (uint32_t)se, se == 8 ? IMG_LCR_U64 : IMG_LCR_U32);

		if (te == 4 && v > UINT32_MAX)
			lossy(cv, i, "auxv entry %u (0x%llx) does not fit an unsigned long of %s", k, (unsigned long long)v,
			      cv->tl->arch);
		img_lcr_put(buf, k * (uint32_t)te, te == 8 ? IMG_LCR_U64 : IMG_LCR_U32, v);
	}
	ret = emit(cv, "BUFFER", buf, len);
	img_free(buf);
	return ret;
}

static int has_type(const struct img_lcr_layout *l, const char *name)
{
	return img_lcr_rectype_by_name(l, name) != NULL;
}

/* v23 pid tags: the pid objects take objrefs 1.. unless other objects hold them already. */
struct pidtab {
	int32_t v[4096];
	uint32_t n;
	int32_t offset;
};

static int32_t pidtab_tag(struct pidtab *pt, int32_t v, int32_t null)
{
	if (v == 0)
		return 0;
	if (v < 0)
		return null;
	for (uint32_t k = 0; k < pt->n; k++)
		if (pt->v[k] == v)
			return pt->offset + (int32_t)k;
	return null;
}

static void pidtab_add(struct pidtab *pt, int32_t v)
{
	if (v <= 0 || pt->n == sizeof(pt->v) / sizeof(pt->v[0]))
		return;
	for (uint32_t k = 0; k < pt->n; k++)
		if (pt->v[k] == v)
			return;
	pt->v[pt->n++] = v;
}

static int conv_tree(struct cv *cv, size_t itree, struct pidtab *pt, int src_tags)
{
	const struct img_lcr_image *img = cv->img;
	const struct img_lcr_rec *tr = &img->r[itree];
	const struct img_lcr_rectype *trt = img_lcr_rectype_by_name(cv->tl, "TREE");
	const struct img_lcr_struct *tes, *ts;
	int tags = has_type(cv->tl, "PIDS");
	int64_t snull = -1, tnull = -1;
	uint8_t *buf;
	uint32_t esz;
	int ret;

	if (!trt || !trt->desc || !trt->desc->nfollow || !(ts = trt->st))
		return cfail(cv, "%s has no process tree record", cv->tl->ver->name);
	esz = elem_size(cv->tl, trt->desc->follow[0].elem, &tes);
	if (!tes)
		return cfail(cv, "%s has no %s", cv->tl->ver->name, trt->desc->follow[0].elem);
	img_lcr_kv_get(cv->sl->consts, cv->sl->nconsts, "CKPT_PID_NULL", &snull);
	img_lcr_kv_get(cv->tl->consts, cv->tl->nconsts, "CKPT_PID_NULL", &tnull);
	if (img->ntasks > 1u << 20)
		return cfail(cv, "too many tasks");
	/* the TREE record itself */
	buf = img_calloc(1, ts->size + img->ntasks * esz + 1);
	if (!buf)
		return cfail(cv, "out of memory");
	struct ctx c = { itree, NULL, NULL };

	conv_struct(cv, &c, tr->st, tr->p, tr->len, ts, buf, 1);
	if ((ret = emit_struct(cv, "TREE", buf, ts->size)))
		goto out;
	memset(buf, 0, img->ntasks * esz);
	for (size_t k = 0; k < img->ntasks; k++) {
		const struct img_lcr_task *t = &img->tasks[k];
		const int32_t vals[5] = { t->pid, t->ppid, t->tgid, t->pgid, t->sid };
		const int32_t raw[5] = { t->vpid, t->vppid, t->vtgid, t->vpgid, t->vsid };
		const char *names[5] = { "vpid", "vppid", "vtgid", "vpgid", "vsid" };
		struct img_lcr_fref fr;

		for (int f = 0; f < 5; f++) {
			int64_t v = vals[f];

			/* pid numbers (with the source's null) or, for v23, tags of the pid objects */
			if (src_tags && tags)
				v = raw[f] == snull ? tnull : raw[f];
			else if (v < 0 || (v == snull && snull))
				v = tnull;
			else if (tags)
				v = pidtab_tag(pt, vals[f], (int32_t)tnull);
			if (!img_lcr_field_ref(tes, names[f], &fr))
				img_lcr_put(buf + k * esz, fr.off, fr.f->type, (uint64_t)v);
		}
		if (!img_lcr_field_ref(tes, "depth", &fr))
			img_lcr_put(buf + k * esz, fr.off, fr.f->type, (uint64_t)(int64_t)t->depth);
		else if (t->depth)
			lossy(cv, itree, "task %zu lives in a pid namespace %d deep; %s keeps no depth", k, t->depth,
			      cv->tl->ver->name);
		if (!img_lcr_field_ref(tes, "rsid", &fr))
			img_lcr_put(buf + k * esz, fr.off, fr.f->type, (uint64_t)(int64_t)t->sid);
	}
	ret = emit(cv, "BUFFER", buf, img->ntasks * esz);
out:
	img_free(buf);
	return ret;
}

static int objref_used(const struct img_lcr_image *img, int32_t lo, int32_t hi)
{
	for (size_t k = 0; k < img->nobjs; k++)
		if (img->objs[k].objref >= lo && img->objs[k].objref <= hi)
			return 1;
	return 0;
}

static int emit_pids(struct cv *cv, struct pidtab *pt)
{
	const struct img_lcr_image *img = cv->img;
	const struct img_lcr_struct *hs = tstruct(cv, "ckpt_hdr_pids");
	uint8_t h[64] = { 0 }, *buf;
	int32_t maxref = 0;
	int ret;

	if (!hs || hs->size > sizeof(h))
		return -EINVAL;
	/* every pid of the tree, tasks first, in tree order */
	for (size_t k = 0; k < img->ntasks; k++)
		pidtab_add(pt, img->tasks[k].pid);
	for (size_t k = 0; k < img->ntasks; k++) {
		pidtab_add(pt, img->tasks[k].ppid);
		pidtab_add(pt, img->tasks[k].tgid);
		pidtab_add(pt, img->tasks[k].pgid);
		pidtab_add(pt, img->tasks[k].sid);
	}
	for (size_t k = 0; k < img->nobjs; k++)
		if (img->objs[k].objref > maxref)
			maxref = img->objs[k].objref;
	pt->offset = objref_used(img, 1, (int32_t)pt->n) ? maxref + 1 : 1;
	struct img_lcr_fref fr;
	const char *f[3] = { "nr_pids", "nr_vpids", "offset" };
	const int64_t v[3] = { pt->n, 0, pt->offset };

	for (int k = 0; k < 3; k++)
		if (!img_lcr_field_ref(hs, f[k], &fr))
			img_lcr_put(h, fr.off, fr.f->type, (uint64_t)v[k]);
	if ((ret = emit_struct(cv, "PIDS", h, hs->size)))
		return ret;
	buf = img_calloc(1, pt->n * 8 + 1);
	if (!buf)
		return cfail(cv, "out of memory");
	for (uint32_t k = 0; k < pt->n; k++)
		img_put_u32(buf + 8 * k + 4, (uint32_t)pt->v[k]); /* depth 0, the number in the root namespace */
	ret = emit(cv, "BUFFER", buf, pt->n * 8);
	img_free(buf);
	return ret;
}

static int emit_container(struct cv *cv, int with_lsm)
{
	const struct img_lcr_struct *cs = tstruct(cv, "ckpt_hdr_container");
	uint8_t h[16] = { 0 };
	int64_t max = 10;
	char name[64] = "dummy";
	int ret;

	if (!cs || cs->size > sizeof(h))
		return -EINVAL;
	if ((ret = emit_struct(cv, "CONTAINER", h, cs->size)) || !with_lsm)
		return ret;
	/* no LSM: what the kernel wrote then */
	img_lcr_kv_get(cv->tl->consts, cv->tl->nconsts, "CHECKPOINT_LSM_NAME_MAX", &max);
	if (max < 5 || max >= (int64_t)sizeof(name))
		max = 10;
	if ((ret = emit(cv, "BUFFER", name, (size_t)max + 1)))
		return ret;
	return emit(cv, "LSM_INFO", "dummy", 6);
}

/* The container's lsm name and info: "dummy" is what a kernel without an LSM wrote. */
static int lsm_is_dummy(const struct img_lcr_image *img, size_t icont)
{
	for (size_t k = icont + 1; k < img->n && img->r[k].parent == (int32_t)icont; k++) {
		const char *p = (const char *)img_lcr_payload(&img->r[k]);

		if (strncmp(p, "dummy", img_lcr_payload_len(&img->r[k])) && strcmp(p, "dummy"))
			return 0;
	}
	return 1;
}

/* Drop a record and everything that follows it as its part. */
static void drop_tree(struct cv *cv, size_t i)
{
	cv->drop[i] = 1;
	for (size_t k = i + 1; k < cv->img->n; k++)
		if (cv->img->r[k].parent >= 0 && cv->drop[cv->img->r[k].parent])
			cv->drop[k] = 1;
}

int img_lcr_convert(const struct img_lcr_image *img, const struct img_lcr_conv_opts *o, struct img_buf *out,
		    struct img_err *err)
{
	struct cv cv = { 0 };
	const struct img_lcr_version *tv = img_lcr_version_find(img->tables, o->to);
	struct pidtab *pt = NULL;
	int ret = 0, src_tags;

	img_buf_init(out);
	if (!tv)
		return img_err_set(err, EINVAL, "unknown linux-cr version '%s'", o->to);
	cv.img = img;
	cv.t = img->tables;
	cv.sl = img->lay;
	cv.tl = img_lcr_layout_find(tv, img->lay->arch);
	cv.o = o;
	cv.out = out;
	cv.err = err;
	if (!cv.tl)
		return img_err_set(err, EINVAL, "%s has no %s port (its arches: %s%s%s)", tv->name, img->lay->arch,
				   tv->layouts[0].arch, tv->nlayouts > 1 ? ", " : "", tv->nlayouts > 1 ? tv->layouts[1].arch : "");
	if (!img->ntasks && img->rec_tree >= 0)
		return img_err_set(err, EINVAL, "the image was read without its view (IMG_LCR_FRAMES)");
	cv.si = img_lcr_version_index(cv.t, cv.sl->ver);
	cv.ti = img_lcr_version_index(cv.t, tv);
	cv.drop = img_calloc(1, img->n + 1);
	pt = img_calloc(1, sizeof(*pt));
	if (!cv.drop || !pt) {
		ret = img_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	src_tags = has_type(cv.sl, "PIDS");
	/* what the target has no place for */
	for (size_t i = 0; i < img->n; i++) {
		const struct img_lcr_rec *r = &img->r[i];
		const char *n = r->rt->name;

		if (cv.drop[i] || (r->parent >= 0 && !strcmp(img->r[r->parent].rt->name, "CONTAINER")))
			continue; /* the container's followers are handled with it */
		if (!strcmp(n, "OBJREF")) {
			int64_t ot = 0;
			const char *on;

			img_lcr_rec_i64(r, "objtype", &ot);
			on = img_lcr_enum_name(img_lcr_enum_find(cv.sl, "obj"), ot);
			if (on && !img_lcr_enum_val(img_lcr_enum_find(cv.tl, "obj"), on, &ot))
				continue;
			/* an object the target cannot hold: its OBJREF, its main record and what follows that */
			lossy(&cv, i, "%s objects have no place in %s", on ? on : "these", tv->name);
			cv.drop[i] = 1;
			if (r->obj >= 0 && img->objs[r->obj].main >= 0)
				drop_tree(&cv, (size_t)img->objs[r->obj].main);
		} else if (!has_type(cv.tl, n)) {
			if (!strcmp(n, "PIDS") || !strcmp(n, "CONTAINER")) {
				if (!strcmp(n, "CONTAINER") && !lsm_is_dummy(img, i))
					lossy(&cv, i, "the container's LSM data has no place in %s", tv->name);
				drop_tree(&cv, i);
				continue;
			}
			lossy(&cv, i, "%s records have no place in %s", n, tv->name);
			drop_tree(&cv, i);
		}
	}
	for (size_t i = 0; i < img->n && !cv.failed; i++) {
		const struct img_lcr_rec *r = &img->r[i];
		const char *n = r->rt->name;

		if (cv.drop[i])
			continue;
		if (!strcmp(n, "TREE")) {
			if (!src_tags && has_type(cv.tl, "PIDS") && (ret = emit_pids(&cv, pt)))
				break;
			if ((ret = conv_tree(&cv, i, pt, src_tags)))
				break;
			i++; /* its BUFFER */
			continue;
		}
		if (!strcmp(n, "PIDS")) {
			/* v23 to v23: the pid objects pass as they are */
			if ((ret = conv_record(&cv, i, n)) ||
			    (i + 1 < img->n && (ret = emit(&cv, "BUFFER", img_lcr_payload(&img->r[i + 1]),
							      img_lcr_payload_len(&img->r[i + 1])))))
				break;
			i++;
			continue;
		}
		if (!strcmp(n, "CONTAINER")) {
			const struct img_lcr_rectype *trt = img_lcr_rectype_by_name(cv.tl, "CONTAINER");
			int src_lsm = r->rt->desc && r->rt->desc->nfollow;

			if (src_lsm && !lsm_is_dummy(img, i) && !(trt->desc && trt->desc->nfollow))
				lossy(&cv, i, "the container's LSM data has no place in %s", tv->name);
			if (src_lsm && trt->desc && trt->desc->nfollow) {
				/* same shape: copied with the generic code below */
			} else {
				size_t ic = i;

				if ((ret = emit_container(&cv, trt->desc && trt->desc->nfollow)))
					break;
				while (i + 1 < img->n && img->r[i + 1].parent == (int32_t)ic)
					i++;
				continue;
			}
		}
		if (r->role && !strcmp(r->role, "auxv")) {
			if ((ret = conv_auxv(&cv, i)))
				break;
			continue;
		}
		if (r->st) {
			if ((ret = conv_record(&cv, i, n)))
				break;
			if (!strcmp(n, "HEADER")) {
				/* the target kernel's version, and its rev */
				unsigned a = 0, b = 0, c = 0;
				const char *k = o->kernel ? o->kernel : tv->kernel;
				const struct img_lcr_struct *hs = img_lcr_struct_find(cv.tl, "ckpt_hdr_header");
				uint8_t *h = out->data + out->len - hs->size;
				struct img_lcr_fref fr;

				if (!k || sscanf(k, "%u.%u.%u", &a, &b, &c) != 3 || a > 255 || b > 255 || c > 255) {
					ret = cfail(&cv, "bad kernel version '%s' (expected X.Y.Z)", k ? k : "");
					break;
				}
				const char *f[4] = { "major", "minor", "patch", "rev" };
				const unsigned v[4] = { a, b, c, (unsigned)tv->rev };

				for (int j = 0; j < 4; j++)
					if (!img_lcr_field_ref(hs, f[j], &fr))
						img_lcr_put(h, fr.off, fr.f->type, v[j]);
			}
			if (!strcmp(n, "HEADER_ARCH") && has_type(cv.tl, "CONTAINER") && !has_type(cv.sl, "CONTAINER")) {
				const struct img_lcr_rectype *trt = img_lcr_rectype_by_name(cv.tl, "CONTAINER");

				if ((ret = emit_container(&cv, trt->desc && trt->desc->nfollow)))
					break;
			}
			continue;
		}
		if ((ret = emit(&cv, n, img_lcr_payload(r), img_lcr_payload_len(r))))
			break;
	}
	if (!ret && cv.failed)
		ret = -EINVAL;
	if (!ret && cv.nlossy && !(o->flags & IMG_LCR_CONV_LOSSY))
		ret = img_err_set(err, EINVAL, "%s cannot hold all of this image (%u thing%s; --lossy drops them): %s",
				  tv->name, cv.nlossy, cv.nlossy == 1 ? "" : "s", cv.first);
out:
	if (ret) {
		if (!err->subject[0])
			img_err_subject(err, img->src->name);
		img_buf_free(out);
	}
	img_free(cv.drop);
	img_free(pt);
	return ret;
}
