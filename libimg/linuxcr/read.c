/*
 * Reading a linux-cr stream: framing the records, checking each against its
 * version's layout, following what each record says comes after it
 * (records.tab), tracking objrefs, and building the decoded view (tasks, mm
 * and vmas with their page arrays, files, pipes, fs).  Nothing is copied:
 * records point into the mapped source.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

#define MAX_DEPTH 64       /* THEN frames nested (record, its followers, theirs) */
#define MAX_OBJ_NEST 32    /* objects being defined inside one another */

struct frame {
	int32_t parent;
	const struct img_lcr_recdesc *d;
	uint32_t pos;
};

struct rd {
	struct img_lcr_image *img;
	struct img_err *err;
	const char *name;
	struct frame st[MAX_DEPTH];
	int depth;
	int32_t defining[MAX_OBJ_NEST]; /* objects whose main record is still to come */
	int ndefining;
	/* the view in the making */
	int32_t task;        /* current task (index), -1 */
	int32_t mm, vma;     /* current mm and vma (indexes), -1 */
	int32_t ftable;      /* current file table, -1 */
	size_t captasks, capmms, capfiles, capft, capfs, cappipes;
	uint32_t ntask_recs;
	/* v23 pid objects */
	const uint8_t *pids;
	uint32_t pids_len, nr_pids, pids_offset;
	uint32_t *pid_at;    /* where each pid object starts in the pids array */
};

const char *img_lcr_rec_where(const struct img_lcr_image *img, size_t i, char *buf, size_t len)
{
	const struct img_lcr_rec *r = &img->r[i];

	if (r->rt)
		snprintf(buf, len, "record %zu (%s%s%s) at offset 0x%llx", i, r->rt->name,
			 r->desc && strchr(r->desc->name, '/') ? "/" : "",
			 r->desc && strchr(r->desc->name, '/') ? strchr(r->desc->name, '/') + 1 : "",
			 (unsigned long long)r->off);
	else
		snprintf(buf, len, "record %zu (type %u) at offset 0x%llx", i, r->type, (unsigned long long)r->off);
	return buf;
}

IMG_PRINTF(3, 4) static int fail(struct rd *R, size_t i, const char *fmt, ...)
{
	char where[128], msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	img_err_set(R->err, EINVAL, "%s: %s", img_lcr_rec_where(R->img, i, where, sizeof(where)), msg);
	img_err_subject(R->err, R->name);
	return -EINVAL;
}

int lcr_field(const struct img_lcr_struct *st, const uint8_t *rec, uint32_t len, const char *path, int64_t *v)
{
	struct img_lcr_fref fr;

	if (!st || img_lcr_field_ref(st, path, &fr) || fr.f->type == IMG_LCR_STRUCT || (fr.f->count && fr.index < 0))
		return -ENOENT;
	if (fr.off + fr.size > len)
		return -EINVAL;
	*v = img_lcr_get_s(rec, fr.off, fr.f->type);
	if (!img_lcr_type_signed(fr.f->type))
		*v = (int64_t)img_lcr_get_u(rec, fr.off, fr.f->type);
	return 0;
}

int img_lcr_rec_u64(const struct img_lcr_rec *r, const char *path, uint64_t *v)
{
	int64_t x;
	int ret = lcr_field(r->st, r->p, r->len, path, &x);

	if (!ret)
		*v = (uint64_t)x;
	return ret;
}

int img_lcr_rec_i64(const struct img_lcr_rec *r, const char *path, int64_t *v)
{
	return lcr_field(r->st, r->p, r->len, path, v);
}

uint32_t lcr_elem_size(const struct img_lcr_layout *l, const char *elem, uint8_t *type, const struct img_lcr_struct **st)
{
	static const struct {
		const char *n;
		uint8_t t;
	} base[] = { { "u8", IMG_LCR_U8 }, { "u16", IMG_LCR_U16 }, { "u32", IMG_LCR_U32 }, { "u64", IMG_LCR_U64 },
		     { "s32", IMG_LCR_S32 }, { "char", IMG_LCR_CHAR } };

	*st = NULL;
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (!strcmp(base[i].n, elem)) {
			*type = base[i].t;
			return img_lcr_type_size(base[i].t);
		}
	*type = IMG_LCR_STRUCT;
	*st = img_lcr_struct_find(l, elem);
	return *st ? (*st)->size : 0;
}

int lcr_count(const struct img_lcr_image *img, const struct img_lcr_struct *st, const uint8_t *rec, uint32_t len,
	      const char *count, int64_t *v)
{
	if (!strncmp(count, "const:", 6)) {
		const struct img_lcr_rec *h = img->rec_header >= 0 ? &img->r[img->rec_header] : NULL;
		char path[80];

		snprintf(path, sizeof(path), "constants.%s", count + 6);
		return h ? lcr_field(h->st, h->p, h->len, path, v) : -ENOENT;
	}
	return lcr_field(st, rec, len, count, v);
}

static size_t obj_slot(const struct img_lcr_image *img, int32_t objref)
{
	size_t mask = img->objhash_size - 1, h = ((uint32_t)objref * 2654435761u) & mask;

	while (img->objhash[h] && img->objs[img->objhash[h] - 1].objref != objref)
		h = (h + 1) & mask;
	return h;
}

static const struct img_lcr_obj *obj_find(const struct img_lcr_image *img, int32_t objref)
{
	if (!img->objhash_size)
		return NULL;
	size_t h = obj_slot(img, objref);

	return img->objhash[h] ? &img->objs[img->objhash[h] - 1] : NULL;
}

/* Keep the objref index at most half full. */
static int obj_index(struct img_lcr_image *img)
{
	if (img->nobjs * 2 < img->objhash_size)
		return 0;
	size_t n = img->objhash_size ? img->objhash_size * 2 : 64;
	uint32_t *h = img_arena_zalloc(&img->arena, n * sizeof(*h));

	if (!h)
		return -ENOMEM;
	img->objhash = h;
	img->objhash_size = n;
	for (size_t i = 0; i < img->nobjs; i++)
		h[obj_slot(img, img->objs[i].objref)] = (uint32_t)(i + 1);
	return 0;
}

const struct img_lcr_obj *img_lcr_obj_find(const struct img_lcr_image *img, int32_t objref)
{
	return obj_find(img, objref);
}

#define GROW(R, arr, n, cap) img_arena_grow(&(R)->img->arena, (void **)&(arr), &(cap), (n), sizeof(*(arr)))

static int add_obj(struct rd *R, size_t i, int32_t objref, const char *type, int32_t objref_rec)
{
	struct img_lcr_image *img = R->img;
	const struct img_lcr_obj *o = obj_find(img, objref);

	if (objref <= 0)
		return fail(R, i, "objref %d: objrefs start at 1", objref);
	if (o) {
		char w[128];

		return fail(R, i, "objref %d is defined again (it is the %s of %s)", objref, o->type,
			    img_lcr_rec_where(img, o->objref_rec >= 0 ? (size_t)o->objref_rec : (size_t)o->main, w,
					      sizeof(w)));
	}
	if (img->nobjs == img->capobjs) {
		size_t cap = img->capobjs;

		if (img_arena_grow(&img->arena, (void **)&img->objs, &cap, img->nobjs, sizeof(*img->objs)))
			return -ENOMEM;
		img->capobjs = cap;
	}
	img->objs[img->nobjs++] = (struct img_lcr_obj){ objref, type, objref_rec, -1 };
	if (obj_index(img))
		return -ENOMEM;
	img->objhash[obj_slot(img, objref)] = (uint32_t)img->nobjs;
	return (int)(img->nobjs - 1);
}

/* An objref field of a record: the object must be there (and complete), unless the table says otherwise. */
static int check_ref(struct rd *R, size_t i, const struct img_lcr_ref *ref, int64_t v)
{
	struct img_lcr_image *img = R->img;
	const struct img_lcr_obj *o;
	char w[128];

	if (v <= 0)
		return 0; /* none */
	o = obj_find(img, (int32_t)v);
	if (!o) {
		if (ref->mode != IMG_LCR_REF_BEFORE)
			return 0;
		return fail(R, i, "%s refers to objref %lld (a %s), which is not defined before it", ref->field,
			    (long long)v, ref->objtype);
	}
	if (strcmp(o->type, ref->objtype))
		return fail(R, i, "%s refers to objref %lld, which is a %s (%s), not a %s", ref->field, (long long)v,
			    o->type, img_lcr_rec_where(img, o->objref_rec >= 0 ? (size_t)o->objref_rec : (size_t)o->main, w,
						       sizeof(w)),
			    ref->objtype);
	if (ref->mode == IMG_LCR_REF_BEFORE && o->main < 0 && o->objref_rec >= 0)
		return fail(R, i, "objref loop: %s refers to objref %lld (%s), which is still being defined around it (its OBJREF is %s)",
			    ref->field, (long long)v, o->type, img_lcr_rec_where(img, (size_t)o->objref_rec, w, sizeof(w)));
	return 0;
}

/* Is the THEN item's condition met by the parent record? */
static int follow_wanted(struct rd *R, const struct img_lcr_rec *parent, const struct img_lcr_follow *f)
{
	int64_t v;

	if (!f->cond)
		return 1;
	if (lcr_field(parent->st, parent->p, parent->len, f->cond, &v))
		return 0;
	if (f->cond_new)
		return v > 0 && !obj_find(R->img, (int32_t)v);
	return v != 0;
}

/*
 * Type numbers moved between versions without a version bump: when a record
 * does not fit, say which other version gives its number a record that fits
 * (want: that name; or NULL: any record whose struct has exactly len bytes).
 */
static void hint(struct rd *R, const struct img_lcr_rec *r, const char *want, char *buf, size_t n)
{
	const struct img_lcr_image *img = R->img;

	int at = img_lcr_version_index(img->tables, img->lay->ver), nv = (int)img->tables->nversions;

	buf[0] = 0;
	/* the nearest versions first */
	for (int d = 1; d < nv; d++)
		for (int side = -1; side <= 1; side += 2) {
		int k = at + side * d;

		if (k < 0 || k >= nv)
			continue;
		const struct img_lcr_version *v = &img->tables->versions[k];
		const struct img_lcr_layout *l = img_lcr_layout_find(v, img->lay->arch);
		const struct img_lcr_rectype *rt = l ? img_lcr_rectype(l, r->type) : NULL;

		if (v == img->lay->ver || !rt || (r->rt && !strcmp(rt->name, r->rt->name)))
			continue;
		if (want ? !strcmp(rt->name, want) : rt->st && rt->desc && rt->desc->len == IMG_LCR_LEN_EXACT && rt->st->size == r->len) {
			snprintf(buf, n, "; %u is %s in %s%s%s%s: was the stream written with another version's numbers?",
				 r->type, rt->name, v->name, rt->st ? " (" : "", rt->st ? rt->st->name : "", rt->st ? ")" : "");
			return;
		}
		}
}

/* Check a record's length against its layout (libbpf's way: every offset compared is named). */
static int check_layout(struct rd *R, size_t i)
{
	struct img_lcr_image *img = R->img;
	struct img_lcr_rec *r = &img->r[i];
	const struct img_lcr_struct *st = r->st;
	const struct img_lcr_recdesc *d = r->desc;
	const char *v = img->lay->ver->name;

	if (!d)
		return 0;
	if (d->len == IMG_LCR_LEN_STRING && r->len == IMG_LCR_HDR_LEN)
		return fail(R, i, "an empty string record (a string holds at least its NUL)");
	if (!st)
		return 0;
	char h[200];

	hint(R, r, NULL, h, sizeof(h));
	if (r->len < st->size)
		return fail(R, i, "len %u ends at 0x%llx, before the end of %s at 0x%llx (%u bytes in %s on %s)%s", r->len,
			    (unsigned long long)(r->off + r->len), st->name, (unsigned long long)(r->off + st->size),
			    st->size, v, img->lay->arch, h);
	if (d->len == IMG_LCR_LEN_TAIL) {
		int64_t cnt;
		uint8_t et;
		const struct img_lcr_struct *es;
		uint32_t esz = lcr_elem_size(img->lay, d->tail_elem, &et, &es);
		uint64_t have = r->len - st->size;

		if (!strcmp(d->tail_count, "rest") || !esz)
			return 0;
		if (lcr_count(img, st, r->p, r->len, d->tail_count, &cnt))
			return fail(R, i, "no count '%s' for its %s array", d->tail_count, d->tail_elem);
		if (cnt < 0 || (uint64_t)cnt * esz != have)
			return fail(R, i, "%lld x %s (%u bytes) from 0x%llx need %lld bytes, the record has %llu after %s",
				    (long long)cnt, d->tail_elem, esz, (unsigned long long)(r->off + st->size),
				    (long long)cnt * esz, (unsigned long long)have, st->name);
		return 0;
	}
	if (r->len > st->size) {
		/* longer than the struct: accepted only when the extra bytes are zero */
		for (uint32_t k = st->size; k < r->len; k++)
			if (r->p[k])
				return fail(R, i, "%u bytes at 0x%llx..0x%llx after %s (%u bytes in %s) are not zero (0x%llx holds 0x%02x)%s",
					    r->len - st->size, (unsigned long long)(r->off + st->size),
					    (unsigned long long)(r->off + r->len), st->name, st->size, v,
					    (unsigned long long)(r->off + k), r->p[k], h);
	}
	return 0;
}

/* ---------------------------------------------------------------- the view */

static int64_t fld(const struct img_lcr_rec *r, const char *path)
{
	int64_t v = 0;

	if (lcr_field(r->st, r->p, r->len, path, &v))
		return 0;
	return v;
}

static const char *str_of(struct rd *R, const struct img_lcr_rec *r)
{
	uint32_t n = img_lcr_payload_len(r);
	const char *p = (const char *)img_lcr_payload(r);

	return img_arena_strndup(&R->img->arena, p, strnlen(p, n));
}

static struct img_lcr_task *cur_task(struct rd *R, size_t i)
{
	if (R->task < 0) {
		fail(R, i, "belongs to a task, but no TASK record came before it");
		return NULL;
	}
	return &R->img->tasks[R->task];
}

static int32_t pid_of(struct rd *R, int32_t tag)
{
	/* v23: a pid tag is the objref of a pid object; pids[tag - offset] holds its numbers, root namespace first */
	if (!R->pids || tag <= 0 || (uint32_t)tag < R->pids_offset || (uint32_t)tag - R->pids_offset >= R->nr_pids)
		return tag == 0 ? 0 : -1;
	return (int32_t)img_get_u32(R->pids + R->pid_at[(uint32_t)tag - R->pids_offset] + 4);
}

static int view_tree(struct rd *R, size_t ib)
{
	struct img_lcr_image *img = R->img;
	const struct img_lcr_rec *b = &img->r[ib], *t = &img->r[b->parent];
	int64_t ntasks = fld(t, "nr_tasks");
	uint8_t et;
	const struct img_lcr_struct *es;
	uint32_t esz = lcr_elem_size(img->lay, b->fol->elem, &et, &es);
	uint32_t have = img_lcr_payload_len(b);

	if (!es)
		return fail(R, ib, "the tables have no %s", b->fol->elem);
	if (ntasks <= 0 || (uint64_t)ntasks * esz != have)
		return fail(R, ib, "the tree at 0x%llx says %lld tasks of %s (%u bytes): %lld bytes, this BUFFER holds %u",
			    (unsigned long long)t->off, (long long)ntasks, es->name, esz, (long long)ntasks * esz, have);
	img->tasks = img_arena_zalloc(&img->arena, (size_t)ntasks * sizeof(*img->tasks));
	if (!img->tasks)
		return -ENOMEM;
	img->ntasks = (size_t)ntasks;
	for (int64_t k = 0; k < ntasks; k++) {
		struct img_lcr_task *tk = &img->tasks[k];
		const uint8_t *e = img_lcr_payload(b) + k * esz;
		int64_t v;
		const char *names[] = { "vpid", "vppid", "vtgid", "vpgid", "vsid", "depth" };
		int32_t *dst[] = { &tk->vpid, &tk->vppid, &tk->vtgid, &tk->vpgid, &tk->vsid, &tk->depth };

		for (int f = 0; f < 6; f++)
			*dst[f] = lcr_field(es, e, esz, names[f], &v) ? 0 : (int32_t)v;
		tk->rec_task = tk->rec_comm = tk->rec_creds = tk->rec_ns = tk->rec_objs = tk->rec_thread = -1;
		tk->rec_restart = tk->rec_cpu = tk->rec_fpu = tk->rec_sigtask = tk->rec_pending = -1;
		if (R->pids) {
			tk->pid = pid_of(R, tk->vpid);
			tk->ppid = pid_of(R, tk->vppid);
			tk->tgid = pid_of(R, tk->vtgid);
			tk->pgid = pid_of(R, tk->vpgid);
			tk->sid = pid_of(R, tk->vsid);
		} else {
			tk->pid = tk->vpid;
			tk->ppid = tk->vppid;
			tk->tgid = tk->vtgid;
			tk->pgid = tk->vpgid;
			tk->sid = tk->vsid;
		}
	}
	return 0;
}

static int view_pids(struct rd *R, size_t ib)
{
	struct img_lcr_image *img = R->img;
	const struct img_lcr_rec *b = &img->r[ib], *h = &img->r[b->parent];
	uint32_t have = img_lcr_payload_len(b), pos = 0, k;
	int64_t np = fld(h, "nr_pids"), nv = fld(h, "nr_vpids");

	if (np <= 0 || nv < 0 || (uint64_t)np * 8 + (uint64_t)nv * 4 != have)
		return fail(R, ib, "PIDS at 0x%llx says %lld pids and %lld more numbers: %lld bytes, this BUFFER holds %u",
			    (unsigned long long)h->off, (long long)np, (long long)nv, (long long)(np * 8 + nv * 4), have);
	R->pid_at = img_arena_alloc(&img->arena, (size_t)np * sizeof(*R->pid_at));
	if (!R->pid_at)
		return -ENOMEM;
	for (k = 0; k < np && pos + 8 <= have; k++) {
		uint32_t depth = img_get_u32(img_lcr_payload(b) + pos);

		if (depth > (have - pos - 8) / 4)
			break;
		R->pid_at[k] = pos;
		pos += 8 + 4 * depth;
	}
	if (k != np || pos != have)
		return fail(R, ib, "pid %u at 0x%llx: its depth runs past the %u bytes of the pids array", k,
			    (unsigned long long)(b->off + 8 + pos), have);
	R->pids = img_lcr_payload(b);
	R->pids_len = have;
	R->nr_pids = (uint32_t)np;
	R->pids_offset = (uint32_t)fld(h, "offset");
	return 0;
}

static int view_pages(struct rd *R, size_t ib)
{
	struct img_lcr_image *img = R->img;
	const struct img_lcr_rec *b = &img->r[ib], *pg = &img->r[b->parent];
	uint64_t n = (uint64_t)fld(pg, "nr_pages");
	uint32_t per = img->lay->long_size + img->lay->page_size, have = img_lcr_payload_len(b);
	struct img_lcr_vma *v;

	if (n > have / per || n * per != have)
		return fail(R, ib, "truncated page array: PGARR at 0x%llx says %llu pages (%u bytes each with its address): %llu bytes, this BUFFER holds %u",
			    (unsigned long long)pg->off, (unsigned long long)n, per, (unsigned long long)(n * per), have);
	if (R->mm < 0 || R->vma < 0)
		return fail(R, ib, "a page array outside any vma");
	v = &img->mms[R->mm].vmas[R->vma];
	struct img_lcr_pages *c = img_arena_alloc(&img->arena, (v->nchunks + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (v->nchunks)
		memcpy(c, v->chunks, v->nchunks * sizeof(*c));
	c[v->nchunks++] = (struct img_lcr_pages){ b->parent, (int32_t)ib, n, b->off + IMG_LCR_HDR_LEN,
						  b->off + IMG_LCR_HDR_LEN + n * img->lay->long_size };
	v->chunks = c;
	v->npages += n;
	/* every address page-aligned and inside the vma */
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a = img_lcr_get_u(img_lcr_payload(b), (uint32_t)(k * img->lay->long_size),
					   img->lay->long_size == 8 ? IMG_LCR_U64 : IMG_LCR_U32);

		if (a % img->lay->page_size || a < v->start || a >= v->end)
			return fail(R, ib, "page %llu: address 0x%llx (at 0x%llx) is not a page of the vma 0x%llx-0x%llx",
				    (unsigned long long)k, (unsigned long long)a,
				    (unsigned long long)(b->off + 8 + k * img->lay->long_size),
				    (unsigned long long)v->start, (unsigned long long)v->end);
	}
	return 0;
}

/* An mm whose MM_CONTEXT never came: perhaps it came under another version's number. */
static int mm_unclosed(struct rd *R, size_t i, const char *what)
{
	const struct img_lcr_image *img = R->img;
	size_t from = (size_t)img->mms[R->mm].rec;
	char h[200] = "", w[128] = "";

	for (size_t k = from + 1; k < img->n && k <= i && !h[0]; k++) {
		hint(R, &img->r[k], "MM_CONTEXT", h, sizeof(h));
		if (h[0])
			img_lcr_rec_where(img, k, w, sizeof(w));
	}
	return fail(R, i, "%s before the MM_CONTEXT of the mm at 0x%llx%s%s", what, (unsigned long long)img->r[from].off,
		    w[0] ? "; " : "", h[0] ? h + 2 : "");
}

static int close_mm(struct rd *R, size_t i)
{
	struct img_lcr_mm *m;

	if (R->mm < 0)
		return 0;
	m = &R->img->mms[R->mm];
	if (m->nvmas != m->map_count)
		return fail(R, i, "the mm at 0x%llx has map_count %u, but %u VMA records came before this",
			    (unsigned long long)R->img->r[m->rec].off, m->map_count, m->nvmas);
	R->mm = R->vma = -1;
	return 0;
}

#define TASK_AT(m) offsetof(struct img_lcr_task, m)

/* A task's own records: where the view keeps the record, and the objrefs it holds. */
static const struct {
	const char *rec;
	size_t at;
	const char *field[6];
	size_t to[6];
} task_recs[] = {
	{ "TASK_CREDS", TASK_AT(rec_creds), { "cred_ref", "ecred_ref" }, { TASK_AT(cred), TASK_AT(ecred) } },
	{ "TASK_NS", TASK_AT(rec_ns), { "ns_objref" }, { TASK_AT(ns) } },
	{ "TASK_OBJS", TASK_AT(rec_objs),
	  { "files_objref", "mm_objref", "fs_objref", "sem_undo_objref", "sighand_objref", "signal_objref" },
	  { TASK_AT(files), TASK_AT(mm), TASK_AT(fs), TASK_AT(sem_undo), TASK_AT(sighand), TASK_AT(signal) } },
	{ "THREAD", TASK_AT(rec_thread), { NULL }, { 0 } },
	{ "RESTART_BLOCK", TASK_AT(rec_restart), { NULL }, { 0 } },
	{ "CPU", TASK_AT(rec_cpu), { NULL }, { 0 } },
	{ "SIGNAL_TASK", TASK_AT(rec_sigtask), { NULL }, { 0 } },
};

static int task_rec(const char *n)
{
	for (size_t k = 0; k < sizeof(task_recs) / sizeof(task_recs[0]); k++)
		if (!strcmp(n, task_recs[k].rec))
			return (int)k;
	return -1;
}

/* The view's part of a record, by its type name. */
static int view(struct rd *R, size_t i)
{
	struct img_lcr_image *img = R->img;
	struct img_lcr_rec *r = &img->r[i];
	const char *n = r->rt ? r->rt->name : "";
	const char *role = r->role;
	struct img_lcr_task *t;

	if (role) {
		const struct img_lcr_rec *p = &img->r[r->parent];

		if (!strcmp(role, "uts_release"))
			img->uts_release = str_of(R, r);
		else if (!strcmp(role, "uts_version"))
			img->uts_version = str_of(R, r);
		else if (!strcmp(role, "uts_machine"))
			img->uts_machine = str_of(R, r);
		else if (!strcmp(role, "pids"))
			return view_pids(R, i);
		else if (!strcmp(role, "tree"))
			return view_tree(R, i);
		else if (!strcmp(role, "comm") && R->task >= 0)
			img->tasks[R->task].comm = str_of(R, r), img->tasks[R->task].rec_comm = (int32_t)i;
		else if (!strcmp(role, "auxv") && R->mm >= 0)
			img->mms[R->mm].rec_auxv = (int32_t)i;
		else if (!strcmp(role, "pages"))
			return view_pages(R, i);
		else if (!strcmp(role, "fpu") || !strcmp(role, "pending")) {
			if (!(t = cur_task(R, i)))
				return -EINVAL;
			*(!strcmp(role, "fpu") ? &t->rec_fpu : &t->rec_pending) = (int32_t)i;
		}
		else if (!strcmp(role, "ldt") && img->nmms)
			img->mms[img->nmms - 1].rec_ldt = (int32_t)i;
		else if (!strcmp(role, "path") && img->nfiles && img->files[img->nfiles - 1].rec == r->parent)
			img->files[img->nfiles - 1].path = str_of(R, r), img->files[img->nfiles - 1].rec_name = (int32_t)i;
		else if ((!strcmp(role, "root") || !strcmp(role, "pwd")) && img->nfss && img->fss[img->nfss - 1].rec == r->parent)
			*(!strcmp(role, "root") ? &img->fss[img->nfss - 1].root : &img->fss[img->nfss - 1].pwd) = str_of(R, r);
		else if (!strcmp(role, "pipe_data")) {
			if (GROW(R, img->pipes, img->npipes, R->cappipes))
				return -ENOMEM;
			img->pipes[img->npipes++] = (struct img_lcr_pipe){ (int32_t)fld(p, "pipe_objref"), (int32_t)i,
									   r->off + IMG_LCR_HDR_LEN, img_lcr_payload_len(r) };
			if (img->nfiles && img->files[img->nfiles - 1].rec == r->parent)
				img->files[img->nfiles - 1].rec_pipebuf = (int32_t)i;
		}
		/* a follower may also be a record the view knows by its type (SIGNAL after TASK_OBJS) */
		if (strcmp(n, "SIGNAL") && strcmp(n, "SIGPENDING"))
			return 0;
	}
	int k = task_rec(n);

	if (k >= 0) {
		/* a record of the current task */
		if (!(t = cur_task(R, i)))
			return -EINVAL;
		*(int32_t *)((char *)t + task_recs[k].at) = (int32_t)i;
		for (int f = 0; f < 6 && task_recs[k].field[f]; f++)
			*(int32_t *)((char *)t + task_recs[k].to[f]) = (int32_t)fld(r, task_recs[k].field[f]);
		return 0;
	}
	if (!strcmp(n, "HEADER")) {
		img->major = (uint16_t)fld(r, "major");
		img->minor = (uint16_t)fld(r, "minor");
		img->patch = (uint16_t)fld(r, "patch");
		img->rev = (uint16_t)fld(r, "rev");
		img->arch_id = (uint16_t)(r->p[16] | r->p[17] << 8);
		img->time = (uint64_t)fld(r, "time");
		img->uflags = (uint64_t)fld(r, "uflags");
		if ((uint64_t)fld(r, "magic") != IMG_LCR_MAGIC_HEAD)
			return fail(R, i, "bad magic");
	} else if (!strcmp(n, "TAIL")) {
		if ((uint64_t)fld(r, "magic") != IMG_LCR_MAGIC_TAIL)
			return fail(R, i, "magic 0x%016llx at 0x%llx, a TAIL holds 0x%016llx", (unsigned long long)fld(r, "magic"),
				    (unsigned long long)(r->off + 8), (unsigned long long)IMG_LCR_MAGIC_TAIL);
	} else if (!strcmp(n, "TASK")) {
		if (!img->tasks)
			return fail(R, i, "a TASK before the process tree");
		if (R->ntask_recs >= img->ntasks)
			return fail(R, i, "task %u, but the tree has %zu tasks", R->ntask_recs, img->ntasks);
		R->task = (int32_t)R->ntask_recs++;
		t = &img->tasks[R->task];
		t->rec_task = (int32_t)i;
		t->zombie = fld(r, "exit_state") != 0;
	} else if (!strcmp(n, "FILE_TABLE")) {
		if (GROW(R, img->ftables, img->nftables, R->capft))
			return -ENOMEM;
		int64_t nfds = fld(r, "fdt_nfds");

		if (nfds < 0 || (uint64_t)nfds > img->n)
			return fail(R, i, "fdt_nfds %lld: more than the records of the stream", (long long)nfds);
		R->ftable = (int32_t)img->nftables;
		img->ftables[img->nftables++] = (struct img_lcr_ftable){ r->obj >= 0 ? img->objs[r->obj].objref : 0,
									 (int32_t)i, 0, NULL };
		img->ftables[R->ftable].fds = img_arena_zalloc(&img->arena, (nfds ? (size_t)nfds : 1) * sizeof(struct img_lcr_fd));
		if (!img->ftables[R->ftable].fds)
			return -ENOMEM;
		/* the wanted count is kept in the record; descs are checked against it */
	} else if (!strcmp(n, "FILE_DESC")) {
		struct img_lcr_ftable *ft;

		if (R->ftable < 0)
			return fail(R, i, "a file descriptor outside any file table");
		ft = &img->ftables[R->ftable];
		if ((int64_t)ft->nfds >= fld(&img->r[ft->rec], "fdt_nfds"))
			return fail(R, i, "more descriptors than the file table at 0x%llx has (fdt_nfds %lld)",
				    (unsigned long long)img->r[ft->rec].off, (long long)fld(&img->r[ft->rec], "fdt_nfds"));
		ft->fds[ft->nfds++] = (struct img_lcr_fd){ (int32_t)fld(r, "fd_descriptor"), (int32_t)fld(r, "fd_objref"),
							   (int32_t)i, (uint32_t)fld(r, "fd_close_on_exec") };
	} else if (!strcmp(n, "FILE")) {
		if (GROW(R, img->files, img->nfiles, R->capfiles))
			return -ENOMEM;
		struct img_lcr_file *f = &img->files[img->nfiles++];

		memset(f, 0, sizeof(*f));
		f->objref = r->obj >= 0 ? img->objs[r->obj].objref : 0;
		f->rec = (int32_t)i;
		f->rec_name = f->rec_pipebuf = -1;
		f->f_type = (uint32_t)fld(r, "f_type");
		f->type = img_lcr_enum_name(img_lcr_enum_find(img->lay, "file"), f->f_type);
		f->pipe = (int32_t)fld(r, "pipe_objref");
		f->pos = (uint64_t)fld(r, "f_pos");
		f->flags = (uint32_t)fld(r, "f_flags");
		f->mode = (uint32_t)fld(r, "f_mode");
	} else if (!strcmp(n, "FS")) {
		if (GROW(R, img->fss, img->nfss, R->capfs))
			return -ENOMEM;
		img->fss[img->nfss++] = (struct img_lcr_fs){ r->obj >= 0 ? img->objs[r->obj].objref : 0, (int32_t)i, NULL,
							     NULL };
	} else if (!strcmp(n, "MM")) {
		int64_t mc = fld(r, "map_count");

		if (R->mm >= 0)
			return mm_unclosed(R, i, "a new mm comes");
		if (mc < 0 || (uint64_t)mc > img->n)
			return fail(R, i, "map_count %lld: more than the records of the stream", (long long)mc);
		if (GROW(R, img->mms, img->nmms, R->capmms))
			return -ENOMEM;
		R->mm = (int32_t)img->nmms;
		img->mms[img->nmms++] = (struct img_lcr_mm){ r->obj >= 0 ? img->objs[r->obj].objref : 0, (int32_t)i, -1, -1,
							     -1, (int32_t)fld(r, "exe_objref"), (uint32_t)mc, 0, NULL };
		img->mms[R->mm].vmas = img_arena_zalloc(&img->arena, (mc ? (size_t)mc : 1) * sizeof(struct img_lcr_vma));
		if (!img->mms[R->mm].vmas)
			return -ENOMEM;
	} else if (!strcmp(n, "VMA")) {
		struct img_lcr_mm *m;
		struct img_lcr_vma *v;

		if (R->mm < 0)
			return fail(R, i, "a vma outside any mm");
		m = &img->mms[R->mm];
		if (m->nvmas >= m->map_count)
			return fail(R, i, "one vma more than the map_count %u of the mm at 0x%llx", m->map_count,
				    (unsigned long long)img->r[m->rec].off);
		R->vma = (int32_t)m->nvmas;
		v = &m->vmas[m->nvmas++];
		v->rec = (int32_t)i;
		v->vma_type = (uint32_t)fld(r, "vma_type");
		v->type = img_lcr_enum_name(img_lcr_enum_find(img->lay, "vma"), v->vma_type);
		v->start = (uint64_t)fld(r, "vm_start");
		v->end = (uint64_t)fld(r, "vm_end");
		v->flags = (uint64_t)fld(r, "vm_flags");
		v->prot = (uint64_t)fld(r, "vm_page_prot");
		v->pgoff = (uint64_t)fld(r, "vm_pgoff");
		v->file = (int32_t)fld(r, "vma_objref");
		v->inode = (int32_t)fld(r, "ino_objref");
		if (v->end < v->start)
			return fail(R, i, "vm_end 0x%llx is below vm_start 0x%llx", (unsigned long long)v->end,
				    (unsigned long long)v->start);
	} else if (!strcmp(n, "MM_CONTEXT")) {
		if (R->mm >= 0)
			img->mms[R->mm].rec_ctx = (int32_t)i;
		return close_mm(R, i);
	} else if (!strcmp(n, "ERROR")) {
		img->nerrors++;
	}
	return 0;
}

/* ---------------------------------------------------------------- the walk */

static int push(struct rd *R, size_t i)
{
	const struct img_lcr_rec *r = &R->img->r[i];

	if (!r->desc || !r->desc->nfollow)
		return 0;
	if (R->depth == MAX_DEPTH)
		return fail(R, i, "records nest deeper than %d", MAX_DEPTH);
	R->st[R->depth++] = (struct frame){ (int32_t)i, r->desc, 0 };
	return 0;
}

/* Match record i against what the records before it said must come. */
static int expect(struct rd *R, size_t i)
{
	struct img_lcr_image *img = R->img;
	struct img_lcr_rec *r = &img->r[i];
	const char *n = r->rt ? r->rt->name : NULL;

	if (n && !strcmp(n, "ERROR"))
		return 0; /* an error report may come anywhere */
	while (R->depth) {
		struct frame *f = &R->st[R->depth - 1];

		if (f->pos >= f->d->nfollow) {
			R->depth--;
			continue;
		}
		const struct img_lcr_follow *fo = &f->d->follow[f->pos];
		const struct img_lcr_rec *p = &img->r[f->parent];

		if (!follow_wanted(R, p, fo)) {
			f->pos++;
			continue;
		}
		if (n && !strcmp(n, fo->type)) {
			r->role = fo->role;
			r->parent = f->parent;
			r->fol = fo;
			if (!fo->repeat)
				f->pos++;
			else if (!strcmp(n, "PGARR") && fld(r, "nr_pages") == 0)
				f->pos++; /* the empty page array ends the vma's */
			if (fo->cond_new && fo->cond) {
				/* the first use of an objref defines it with this record */
				int o = add_obj(R, i, (int32_t)fld(p, fo->cond), r->desc && r->desc->obj ? r->desc->obj : fo->role, -1);

				if (o < 0)
					return o;
				img->objs[o].main = (int32_t)i;
				r->obj = o;
			}
			return 0;
		}
		if (fo->optional || fo->repeat) {
			f->pos++;
			continue;
		}
		char w[128], alt[200];

		/* a number that means the expected type in another version: say so */
		hint(R, r, fo->type, alt, sizeof(alt));
		return fail(R, i, "found %s where %s (%s of %s) must come%s", n ? n : "an unknown type", fo->type, fo->role,
			    img_lcr_rec_where(img, (size_t)f->parent, w, sizeof(w)), alt);
	}
	return 0;
}

static int objects(struct rd *R, size_t i)
{
	struct img_lcr_image *img = R->img;
	struct img_lcr_rec *r = &img->r[i];
	const char *n = r->rt ? r->rt->name : "";

	if (!strcmp(n, "OBJREF")) {
		int64_t ot = fld(r, "objtype"), ref = fld(r, "objref");
		const char *tn = img_lcr_enum_name(img_lcr_enum_find(img->lay, "obj"), ot);
		int o;

		if (!tn)
			return fail(R, i, "objtype %lld (at 0x%llx) is not a %s object type", (long long)ot,
				    (unsigned long long)(r->off + 8), img->lay->ver->name);
		if (R->ndefining == MAX_OBJ_NEST)
			return fail(R, i, "objects nest deeper than %d", MAX_OBJ_NEST);
		o = add_obj(R, i, (int32_t)ref, tn, (int32_t)i);
		if (o < 0)
			return o;
		r->obj = o;
		R->defining[R->ndefining++] = o;
		return 0;
	}
	const char *objtype = r->desc && r->desc->obj ? r->desc->obj : r->rt && r->rt->desc ? r->rt->desc->obj : NULL;

	if (objtype && r->obj < 0 && R->ndefining) {
		int o = R->defining[R->ndefining - 1];

		if (!strcmp(img->objs[o].type, objtype)) {
			img->objs[o].main = (int32_t)i;
			r->obj = o;
			R->ndefining--;
		}
	}
	/* the objref fields of the record (a FILE's: those of the FILE row and of its FILE/SUBTYPE row) */
	for (int pass = 0; pass < 2 && r->st; pass++) {
		const struct img_lcr_recdesc *d = pass ? r->desc : r->rt->desc;

		if (!d || (pass && d == r->rt->desc))
			continue;
		for (uint32_t k = 0; k < d->nrefs; k++) {
			int64_t v;

			if (lcr_field(r->st, r->p, r->len, d->refs[k].field, &v))
				continue;
			int ret = check_ref(R, i, &d->refs[k], v);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int frame_records(struct img_lcr_image *img, struct rd *R)
{
	const uint8_t *p = img->src->data;
	size_t size = img->src->size;
	uint64_t off = 0;

	while (off < size) {
		size_t i = img->n;

		if (size - off < IMG_LCR_HDR_LEN) {
			img_err_set(R->err, EINVAL, "record %zu at offset 0x%llx: %zu bytes left, a record header needs 8", i,
				    (unsigned long long)off, (size_t)(size - off));
			img_err_subject(R->err, R->name);
			return -EINVAL;
		}
		uint32_t type = img_get_u32(p + off), len = img_get_u32(p + off + 4);

		if (len < IMG_LCR_HDR_LEN || len > size - off) {
			img_err_set(R->err, EINVAL, "record %zu (type %u) at offset 0x%llx: len %u %s", i, type,
				    (unsigned long long)off, len,
				    len < IMG_LCR_HDR_LEN ? "is less than its own 8-byte header" : "runs past the end of the file");
			if (len >= IMG_LCR_HDR_LEN)
				snprintf(R->err->msg + strlen(R->err->msg), sizeof(R->err->msg) - strlen(R->err->msg),
					 " (%llu bytes left)", (unsigned long long)(size - off));
			img_err_subject(R->err, R->name);
			return -EINVAL;
		}
		if (img->n == img->cap) {
			size_t cap = img->cap;

			if (img_arena_grow(&img->arena, (void **)&img->r, &cap, img->n, sizeof(*img->r)))
				return -ENOMEM;
			img->cap = cap;
		}
		struct img_lcr_rec *r = &img->r[img->n++];

		memset(r, 0, sizeof(*r));
		r->off = off;
		r->type = type;
		r->len = len;
		r->p = p + off;
		r->parent = -1;
		r->obj = -1;
		r->rt = img_lcr_rectype(img->lay, type);
		if (r->rt)
			r->st = lcr_rec_struct(img->tables, img->lay, r->rt, r->p, len, &r->desc);
		off += len;
	}
	return 0;
}

int img_lcr_read(struct img_src *src, const struct img_lcr_tables *t, const struct img_lcr_opts *o,
		 struct img_lcr_image **out, struct img_err *err)
{
	struct img_lcr_image *img;
	struct rd R = { 0 };
	int ret;

	if (!t)
		t = img_lcr_tables_default();
	/* records are read in place: a windowed source (a compressed archive's member) is read in first */
	if (!src->data && (ret = img_src_load(src, (size_t)1 << 32, err)))
		return ret;
	img = img_calloc(1, sizeof(*img));
	if (!img)
		return img_err_set(err, ENOMEM, "out of memory");
	img_arena_init(&img->arena);
	img->src = img_src_ref(src);
	img->tables = t;
	img->rec_header = img->rec_arch = img->rec_tail = img->rec_tree = img->rec_pids = -1;
	R.img = img;
	R.err = err;
	R.name = src->name;
	R.task = R.mm = R.vma = R.ftable = -1;
	ret = img_lcr_detect(src->data, src->size, src->name, t, o, &img->det, err);
	if (ret)
		goto fail;
	img->lay = img->det.lay;
	ret = frame_records(img, &R);
	if (ret)
		goto fail;
	for (size_t i = 0; i < img->n; i++) {
		const char *n = img->r[i].rt ? img->r[i].rt->name : "";

		if (!strcmp(n, "HEADER") && img->rec_header < 0)
			img->rec_header = (int32_t)i;
		else if (!strcmp(n, "HEADER_ARCH") && img->rec_arch < 0)
			img->rec_arch = (int32_t)i;
		else if (!strcmp(n, "TAIL") && img->rec_tail < 0)
			img->rec_tail = (int32_t)i;
		else if (!strcmp(n, "TREE") && img->rec_tree < 0)
			img->rec_tree = (int32_t)i;
		else if (!strcmp(n, "PIDS") && img->rec_pids < 0)
			img->rec_pids = (int32_t)i;
	}
	if (o && (o->flags & IMG_LCR_FRAMES)) {
		*out = img;
		return 0;
	}
	for (size_t i = 0; i < img->n; i++) {
		struct img_lcr_rec *r = &img->r[i];

		if (!r->rt) {
			ret = fail(&R, i, "type %u is not a %s record type (len %u)", r->type, img->lay->ver->name, r->len);
			goto fail;
		}
		if (img->rec_tail >= 0 && i > (size_t)img->rec_tail) {
			ret = fail(&R, i, "a record after the TAIL at 0x%llx", (unsigned long long)img->r[img->rec_tail].off);
			goto fail;
		}
		if ((ret = check_layout(&R, i)) || (ret = expect(&R, i)) || (ret = objects(&R, i)) ||
		    (ret = view(&R, i)) || (ret = push(&R, i)))
			goto fail;
	}
	/* what the last records promised */
	while (R.depth) {
		struct frame *f = &R.st[R.depth - 1];

		for (; f->pos < f->d->nfollow; f->pos++) {
			const struct img_lcr_follow *fo = &f->d->follow[f->pos];

			if (!fo->optional && !fo->repeat && follow_wanted(&R, &img->r[f->parent], fo)) {
				ret = fail(&R, (size_t)f->parent, "the stream ends before its %s (%s)", fo->type, fo->role);
				goto fail;
			}
		}
		R.depth--;
	}
	if (R.mm >= 0) {
		ret = mm_unclosed(&R, (size_t)img->mms[R.mm].rec, "the stream ends");
		goto fail;
	}
	if (img->rec_tail < 0 && !img->nerrors) {
		img_err_set(err, EINVAL, "the stream ends at 0x%llx without a TAIL record", (unsigned long long)img->src->size);
		img_err_subject(err, R.name);
		ret = -EINVAL;
		goto fail;
	}
	/* forward references must have been defined by the end */
	for (size_t i = 0; i < img->n; i++) {
		const struct img_lcr_rec *r = &img->r[i];

		for (uint32_t k = 0; r->desc && r->st && k < r->desc->nrefs; k++) {
			int64_t v;

			if (r->desc->refs[k].mode == IMG_LCR_REF_BEFORE || lcr_field(r->st, r->p, r->len, r->desc->refs[k].field, &v) ||
			    v <= 0)
				continue;
			if (!obj_find(img, (int32_t)v)) {
				ret = fail(&R, i, "%s refers to objref %lld (a %s), which the stream never defines",
					   r->desc->refs[k].field, (long long)v, r->desc->refs[k].objtype);
				goto fail;
			}
		}
	}
	*out = img;
	return 0;
fail:
	if (ret == -ENOMEM && !err->msg[0])
		img_err_set(err, ENOMEM, "out of memory");
	img_lcr_free(img);
	return ret ? ret : -EINVAL;
}

int img_lcr_open(const char *path, const struct img_lcr_opts *o, struct img_lcr_image **out, struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	r = img_lcr_read(src, NULL, o, out, err);
	img_src_unref(src);
	return r;
}

void img_lcr_free(struct img_lcr_image *img)
{
	if (!img)
		return;
	img_src_unref(img->src);
	img_arena_free(&img->arena);
	img_free(img);
}
