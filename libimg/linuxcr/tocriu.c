/*
 * A linux-cr image as the CRIU image set it stands for: inventory, pstree,
 * core, ids, mm, pagemap, files, fdinfo, fs, pipes-data and utsns images,
 * encoded in memory from the decoded view, and pages-N.img made of the
 * stream's page arrays in place (img_src_gather: nothing is copied).
 *
 * Field values go through the map rows of bridge.tab; what the rows call
 * code is done here.  In strict mode every record and field the stream
 * holds must have a place (a row), else the conversion is refused; in lossy
 * mode (the checkpoint model, --lossy) it is left out and listed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "bridge.h"
#include "img/image.h"
#include "img/model.h"
#include "lcr.h"

/* CRIU numbers (its images/ protos, criu/include/image.h) */
enum { FD_REG = 1, FD_PIPE = 2 };
enum { MAP_SHARED_ = 0x1, MAP_PRIVATE_ = 0x2, MAP_ANON_ = 0x20 };
enum { PE_PRESENT = 4 };
#define SS_DISABLE 2
#define MADV_DONTDUMP_BIT (1ull << 16)

struct member {
	char name[64];
	struct img_src *src;
};

struct run {
	uint64_t addr, npages, off;    /* pages at addr..; their bytes at off in the stream (or in src) */
	int32_t rec;                   /* the BUFFER record, for messages */
	struct img_src *src;           /* NULL: the stream; the running kernel's vdso */
};

struct tc {
	const struct img_lcr_image *img;
	const struct img_lcr_layout *lay;
	const struct img_schema *s;
	const struct br_table *t;
	struct br_ctx ctx;
	struct br_losses loss;
	struct img_err *err;
	struct member *m;
	size_t nm, capm;
	int32_t next_id;               /* ids for what has no objref */
	int32_t fs_base;               /* the cwd and root files of fss[i]: fs_base + 2 * i (+ 1) */
	int32_t pidns_id, root_pidns_id, netns_id, mntns_id, userns_id, cgns_id, timens_id;
	int subtree;
	int nofs;                      /* live tasks without an FS record (before v19-rc3) */
	struct img_src *vdso;          /* IMG_LCR_BRIDGE_HOST_VDSO: the running kernel's vdso */
	char where[160];
};

static const char *rec_name(const struct img_lcr_rec *r)
{
	return r->desc ? r->desc->name : r->rt ? r->rt->name : "";
}

static const char *where(struct tc *c, int32_t i)
{
	if (i < 0)
		return "the process tree";
	return img_lcr_rec_where(c->img, (size_t)i, c->where, sizeof(c->where));
}

/* A task of the tree whose records the stream holds (a failed checkpoint ends early). */
static int task_there(struct tc *c, const struct img_lcr_task *t)
{
	char what[64];

	if (t->rec_task >= 0)
		return 1;
	snprintf(what, sizeof(what), "task %d", t->pid);
	/* lossy: left out; strict: the ERROR record is refused already */
	br_lose(&c->loss, BR_STATE, what, "the stream ends before its records (a failed checkpoint)", "%s",
		where(c, c->img->rec_tree));
	return 0;
}

static int64_t fld(const struct img_lcr_rec *r, const char *path, int64_t def)
{
	int64_t v;

	return lcr_field(r->st, r->p, r->len, path, &v) ? def : v;
}

static const struct img_lcr_rec *rec(struct tc *c, int32_t i)
{
	return i >= 0 ? &c->img->r[i] : NULL;
}

/* ---------------------------------------------------------------- images */

static struct img_image *image_new(struct tc *c, const char *kind)
{
	const struct img_kind *k = img_kind_by_name(c->s, kind);
	struct img_image *img = k ? img_image_new(c->s, k) : NULL;

	if (!img)
		img_err_set(c->err, k ? ENOMEM : ENOENT, k ? "out of memory" : "the schema has no %s image kind", kind);
	return img;
}

static struct img_msg *entry(struct tc *c, struct img_image *img, const char *msg)
{
	const struct img_msgdesc *d = img_schema_msg(c->s, msg);
	struct img_msg *m = d ? img_msg_new(&img->arena, d) : NULL;

	if (!m || !img_image_add(img, d, m)) {
		img_err_set(c->err, d ? ENOMEM : ENOENT, d ? "out of memory" : "the schema has no message %s", msg);
		return NULL;
	}
	return m;
}

/* Encode an image and keep it as a member; the image is freed. */
static int add_member(struct tc *c, const char *name, struct img_image *img)
{
	struct img_buf b;
	int r;

	img_buf_init(&b);
	r = img_image_write(img, &b, c->err);
	img_image_free(img);
	if (r) {
		img_err_subject(c->err, name);
		img_buf_free(&b);
		return r;
	}
	if (c->nm == c->capm) {
		size_t cap = c->capm ? c->capm * 2 : 32;
		struct member *m = img_realloc(c->m, cap * sizeof(*m));

		if (!m) {
			img_buf_free(&b);
			return img_err_set(c->err, ENOMEM, "out of memory");
		}
		c->m = m;
		c->capm = cap;
	}
	struct member *m = &c->m[c->nm];

	snprintf(m->name, sizeof(m->name), "%s", name);
	m->src = img_src_heap(b.data, b.len, name);
	if (!m->src)
		return img_err_set(c->err, ENOMEM, "out of memory");
	c->nm++;
	return 0;
}

#define SET(a, m, f, v) do { if (img_msg_set_u64((a), (m), (f), (v))) return img_err_set(c->err, ENOMEM, "cannot set %s", (f)); } while (0)

/* The map rows from record r into message m, which is (or sits where) the table's message root is. */
static int apply(struct tc *c, const struct img_lcr_rec *r, struct img_arena *a, struct img_msg *m, const char *root)
{
	const char *rn = r ? rec_name(r) : "";

	for (size_t i = 0; r && i < c->t->n; i++) {
		const struct br_row *row = &c->t->rows[i];
		int64_t v;
		uint64_t out;

		if (row->kind != BR_MAP || strcmp(row->cmsg, root) || strcmp(row->lrec, rn))
			continue;
		if (lcr_field(r->st, r->p, r->len, row->lfield, &v))
			continue; /* this version has no such field */
		if (br_to_criu(&c->ctx, row->how, (uint64_t)v, &out)) {
			int e = br_lose(&c->loss, BR_STATE, row->lfield, "a value with no CRIU counterpart", "%s: %s = 0x%llx",
					where(c, (int32_t)(r - c->img->r)), row->lfield, (unsigned long long)v);

			if (e)
				return e;
			continue;
		}
		if (br_msg_set(a, m, row->cpath, out))
			return img_err_set(c->err, EINVAL, "bridge.tab line %u: cannot set %s.%s", row->line, row->cmsg, row->cpath);
	}
	return 0;
}

/* ---------------------------------------------------------------- what has no place */

/* Every field of a struct: a row must give it a place (or say it carries nothing). */
static int walk_struct(struct tc *c, int32_t ri, const char *rn, const struct img_lcr_struct *st, uint32_t base,
		       const char *prefix)
{
	const struct img_lcr_rec *r = &c->img->r[ri];

	for (uint32_t k = 0; k < st->nfields; k++) {
		const struct img_lcr_field *f = &st->fields[k];
		char path[160];
		const struct br_row *row;

		if (!strcmp(f->name, "h") && !prefix[0])
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, f->name);
		row = br_find_lcr(c->t, rn, path);
		if (!row && f->type == IMG_LCR_STRUCT && !f->count) {
			char sub[170];
			int e;

			/* ckpt_hdr_file_pipe starts with its base struct: its fields are the record's own */
			snprintf(sub, sizeof(sub), "%s.", path);
			e = walk_struct(c, ri, rn, f->sub, base + f->off, k == 0 && f->off == 0 && !prefix[0] ? "" : sub);
			if (e)
				return e;
			continue;
		}
		if (!row)
			row = br_find_lcr(c->t, rn, NULL);
		if (row && (row->kind == BR_MAP || row->kind == BR_CODE))
			continue;
		if (row && row->kind == BR_LCR) {
			uint64_t v = 0;

			if (f->type != IMG_LCR_STRUCT && !f->count && base + f->off + img_lcr_type_size(f->type) <= r->len)
				v = img_lcr_get_u(r->p, base + f->off, f->type);
			char what[200];

			snprintf(what, sizeof(what), "%s.%s", rn, path);
			if (row->cls == BR_META || br_is_default(row, c->lay, r->desc && r->desc->nenums ? r->desc->enums[0].en : NULL, v)) {
				if (row->cls == BR_META && strcmp(row->def, "-") == 0 && row->lfield)
					br_lose(&c->loss, BR_META, what, row->why, "%s", where(c, ri));
				continue;
			}
			int e = br_lose(&c->loss, BR_STATE, what, row->why, "%s: %s = %llu", where(c, ri), path,
					(unsigned long long)v);

			if (e)
				return e;
			continue;
		}
		int e = br_lose(&c->loss, BR_STATE, path, "a field the bridge has no place for", "%s", where(c, ri));

		if (e)
			return e;
	}
	return 0;
}

static int walk(struct tc *c)
{
	for (size_t i = 0; i < c->img->n; i++) {
		const struct img_lcr_rec *r = &c->img->r[i];
		const char *rn = rec_name(r);
		const struct br_row *row;
		char what[96];
		int e;

		if (!strcmp(rn, "OBJREF") || (r->parent >= 0 && !r->st))
			continue; /* objects are followed where they are used; payloads go with their record */
		row = br_find_lcr(c->t, rn, NULL);
		if (!row) {
			/* no row for the record: is any of its fields known? */
			for (size_t k = 0; !row && k < c->t->n; k++)
				if (c->t->rows[k].lrec && !strcmp(c->t->rows[k].lrec, rn))
					row = &c->t->rows[k];
		}
		if (!row) {
			snprintf(what, sizeof(what), "record %s", rn);
			e = br_lose(&c->loss, BR_STATE, what,
				    !strcmp(rn, "ERROR") ? "the checkpoint failed: the stream holds an error report"
							 : "a kind of state the bridge does not carry to CRIU images",
				    "%s", where(c, (int32_t)i));
			if (e)
				return e;
			continue;
		}
		if (row->kind == BR_LCR && !row->lfield) {
			/* a whole record with no place: meta (listed) or state */
			snprintf(what, sizeof(what), "record %s", rn);
			if ((e = br_lose(&c->loss, row->cls, what, row->why, "%s", where(c, (int32_t)i))))
				return e;
			continue;
		}
		if (!r->st || (row->kind != BR_MAP && !row->lfield))
			continue;
		e = walk_struct(c, (int32_t)i, rn, r->st, 0, "");
		if (e)
			return e;
	}
	return 0;
}

/* ---------------------------------------------------------------- ids */

static int32_t new_id(struct tc *c)
{
	return c->next_id++;
}

static const struct img_lcr_file *file_of(struct tc *c, int32_t objref)
{
	for (size_t i = 0; i < c->img->nfiles; i++)
		if (c->img->files[i].objref == objref)
			return &c->img->files[i];
	return NULL;
}

/* Whether a file is one the set carries (and so has a file entry of that id). */
static int file_carried(const struct img_lcr_file *f)
{
	return f && f->type && (!strcmp(f->type, "GENERIC") || !strcmp(f->type, "PIPE"));
}

/* ---------------------------------------------------------------- files */

static int fown(struct tc *c, struct img_arena *a, struct img_msg *m)
{
	struct img_msg *o = img_msg_set_msg(a, m, "fown");

	if (!o)
		return img_err_set(c->err, ENOMEM, "out of memory");
	SET(a, o, "uid", 0);
	SET(a, o, "euid", 0);
	SET(a, o, "signum", 0);
	SET(a, o, "pid_type", 0);
	SET(a, o, "pid", 0);
	return 0;
}

static int reg_entry(struct tc *c, struct img_image *img, uint32_t id, const char *path, const struct img_lcr_rec *r)
{
	struct img_msg *e = entry(c, img, "file_entry"), *reg;

	if (!e)
		return -ENOMEM;
	SET(&img->arena, e, "type", FD_REG);
	SET(&img->arena, e, "id", id);
	reg = img_msg_set_msg(&img->arena, e, "reg");
	if (!reg)
		return img_err_set(c->err, ENOMEM, "out of memory");
	SET(&img->arena, reg, "id", id);
	SET(&img->arena, reg, "flags", 0);
	SET(&img->arena, reg, "pos", 0);
	if (apply(c, r, &img->arena, reg, "reg_file_entry") || fown(c, &img->arena, reg))
		return -EINVAL;
	if (img_msg_set_str(&img->arena, reg, "name", path ? path : ""))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return 0;
}

static uint32_t fs_file_id(struct tc *c, size_t fs, int root)
{
	return (uint32_t)(c->fs_base + 2 * (int32_t)fs + root);
}

static int files_image(struct tc *c)
{
	struct img_image *img = image_new(c, "FILES");
	int r = 0;

	if (!img)
		return -ENOMEM;
	for (size_t i = 0; !r && i < c->img->nfiles; i++) {
		const struct img_lcr_file *f = &c->img->files[i];
		const struct img_lcr_rec *fr = rec(c, f->rec);

		if (!file_carried(f)) {
			char what[64];

			snprintf(what, sizeof(what), "FILE/%s", f->type ? f->type : "?");
			r = br_lose(&c->loss, BR_STATE, what, "a kind of file the bridge does not carry to CRIU images", "%s",
				    where(c, f->rec));
			continue;
		}
		if (!strcmp(f->type, "GENERIC")) {
			r = reg_entry(c, img, (uint32_t)f->objref, f->path, fr);
			continue;
		}
		struct img_msg *e = entry(c, img, "file_entry"), *p;

		if (!e) {
			r = -ENOMEM;
			break;
		}
		SET(&img->arena, e, "type", FD_PIPE);
		SET(&img->arena, e, "id", (uint32_t)f->objref);
		p = img_msg_set_msg(&img->arena, e, "pipe");
		if (!p) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		SET(&img->arena, p, "id", (uint32_t)f->objref);
		SET(&img->arena, p, "pipe_id", (uint32_t)f->pipe);
		SET(&img->arena, p, "flags", 0);
		r = apply(c, fr, &img->arena, p, "pipe_entry");
		if (!r)
			r = fown(c, &img->arena, p);
	}
	/* cwd and root: CRIU keeps them as files, linux-cr as the names in FS */
	for (size_t i = 0; !r && i < c->img->nfss; i++) {
		const struct img_lcr_fs *fs = &c->img->fss[i];

		r = reg_entry(c, img, fs_file_id(c, i, 0), fs->pwd, NULL);
		if (!r)
			r = reg_entry(c, img, fs_file_id(c, i, 1), fs->root, NULL);
	}
	if (!r && c->nofs)
		r = reg_entry(c, img, fs_file_id(c, c->img->nfss, 0), "/", NULL);
	if (!r && c->nofs)
		r = reg_entry(c, img, fs_file_id(c, c->img->nfss, 1), "/", NULL);
	if (r) {
		img_image_free(img);
		return r;
	}
	return add_member(c, "files.img", img);
}


static int fdinfo_images(struct tc *c)
{
	for (size_t i = 0; i < c->img->nftables; i++) {
		const struct img_lcr_ftable *ft = &c->img->ftables[i];
		struct img_image *img = image_new(c, "FDINFO");
		char name[64];
		int r = 0;

		if (!img)
			return -ENOMEM;
		for (uint32_t k = 0; !r && k < ft->nfds; k++) {
			const struct img_lcr_fd *fd = &ft->fds[k];
			const struct img_lcr_file *f = file_of(c, fd->file);
			struct img_msg *e;

			if (!file_carried(f))
				continue; /* refused (strict) or listed (lossy) with the files */
			if (!(e = entry(c, img, "fdinfo_entry"))) {
				r = -ENOMEM;
				break;
			}
			SET(&img->arena, e, "id", (uint32_t)fd->file);
			SET(&img->arena, e, "flags", fd->cloexec ? 1 : 0);
			SET(&img->arena, e, "type", !strcmp(f->type, "PIPE") ? FD_PIPE : FD_REG);
			SET(&img->arena, e, "fd", (uint32_t)fd->fd);
		}
		if (r) {
			img_image_free(img);
			return r;
		}
		snprintf(name, sizeof(name), "fdinfo-%d.img", ft->objref);
		if ((r = add_member(c, name, img)))
			return r;
	}
	return 0;
}

static int pipes_data_image(struct tc *c)
{
	struct img_image *img;

	if (!c->img->npipes)
		return 0;
	img = image_new(c, "PIPES_DATA");
	if (!img)
		return -ENOMEM;
	for (size_t i = 0; i < c->img->npipes; i++) {
		const struct img_lcr_pipe *p = &c->img->pipes[i];
		struct img_msg *e = entry(c, img, "pipe_data_entry");

		if (!e || img_entry_set_extra(img, &img->e[img->n - 1], c->img->src->data + p->data_off, p->len)) {
			img_image_free(img);
			return img_err_set(c->err, ENOMEM, "out of memory");
		}
		SET(&img->arena, e, "pipe_id", (uint32_t)p->objref);
		SET(&img->arena, e, "bytes", p->len);
		SET(&img->arena, e, "size", 65536); /* the default: linux-cr kept no pipe size */
	}
	return add_member(c, "pipes-data.img", img);
}

/* ---------------------------------------------------------------- memory */

static const struct br_area *area_of(struct tc *c, const struct img_lcr_vma *v)
{
	for (size_t i = 0; i < c->t->nareas; i++) {
		const struct br_area *a = &c->t->areas[i];

		if (!v->type || strcmp(a->vma_type, v->type))
			continue;
		if (a->addr ? a->addr == v->start : 1) {
			/* of several areas of one type, the one at its fixed address first */
			if (!a->addr)
				for (size_t k = 0; k < c->t->nareas; k++)
					if (c->t->areas[k].addr == v->start && !strcmp(c->t->areas[k].vma_type, v->type))
						return &c->t->areas[k];
			return a;
		}
	}
	return NULL;
}

static int vma_entry(struct tc *c, struct img_image *img, struct img_msg *mm, const struct img_lcr_mm *m,
		     const struct img_lcr_vma *v)
{
	const struct br_area *area = area_of(c, v);
	const struct img_lcr_file *f = v->file > 0 ? file_of(c, v->file) : NULL;
	const struct img_lcr_rec *mr = rec(c, m->rec);
	struct img_msg *e = img_msg_set_msg(&img->arena, mm, "vmas");
	uint64_t prot = 0, flags = 0, madv = 0, status = IMG_VMA_AREA_REGULAR, bits = v->flags, shmid = 0, pgoff = 0;
	int shared = (v->flags & 0x8) != 0, e2;

	if (!e)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (area) {
		bits &= ~area->extra;
		status |= !strcmp(area->status, "VDSO") ? IMG_VMA_AREA_VDSO | IMG_VMA_ANON_PRIVATE
			: !strcmp(area->status, "VVAR") ? IMG_VMA_AREA_VVAR | IMG_VMA_ANON_PRIVATE : IMG_VMA_AREA_VSYSCALL;
		if (!strcmp(area->status, "VVAR"))
			madv |= MADV_DONTDUMP_BIT;
		if (!strcmp(area->status, "VSYSCALL"))
			status = IMG_VMA_AREA_VSYSCALL | IMG_VMA_ANON_PRIVATE; /* not a regular area: CRIU leaves it to the kernel */
		flags |= MAP_PRIVATE_ | MAP_ANON_;
	} else if (v->type && !strcmp(v->type, "ANON")) {
		status |= IMG_VMA_ANON_PRIVATE;
		flags |= MAP_PRIVATE_ | MAP_ANON_;
		/* the brk area, as CRIU finds it: a private anonymous vma that reaches the heap's range */
		if (mr && v->start <= (uint64_t)fld(mr, "brk", 0) && v->end >= (uint64_t)fld(mr, "start_brk", 0) &&
		    fld(mr, "brk", 0) > fld(mr, "start_brk", 0))
			status |= IMG_VMA_AREA_HEAP;
	} else if (v->type && (!strcmp(v->type, "FILE") || !strcmp(v->type, "SHM_FILE")) && f && file_carried(f)) {
		status |= shared ? IMG_VMA_FILE_SHARED : IMG_VMA_FILE_PRIVATE;
		flags |= shared ? MAP_SHARED_ : MAP_PRIVATE_;
		shmid = (uint64_t)v->file;
		pgoff = v->pgoff * c->lay->page_size;
	} else {
		char what[64];

		snprintf(what, sizeof(what), "VMA/%s", v->type ? v->type : "?");
		e2 = br_lose(&c->loss, BR_STATE, what, "a kind of mapping the bridge does not carry to CRIU images",
			     "%s", where(c, v->rec));
		if (e2)
			return e2;
		/* lossy: shown as what it is closest to, without its pages */
		status |= shared ? IMG_VMA_ANON_SHARED : IMG_VMA_ANON_PRIVATE;
		flags |= (shared ? MAP_SHARED_ : MAP_PRIVATE_) | MAP_ANON_;
	}
	for (size_t i = 0; i < c->t->nvms; i++) {
		const struct br_vm *b = &c->t->vms[i];

		if (!(bits & b->bit))
			continue;
		bits &= ~b->bit;
		switch (b->side) {
		case BR_VM_PROT:
			prot |= b->val;
			break;
		case BR_VM_FLAGS:
			if (b->val != MAP_SHARED_) /* from the vma type */
				flags |= b->val;
			break;
		case BR_VM_MADV:
			madv |= b->val;
			break;
		case BR_VM_KERNEL:
			break;
		default:
			if ((e2 = br_lose(&c->loss, BR_STATE, b->name, "a vma flag no CRIU image holds", "%s: vm_flags 0x%llx",
					  where(c, v->rec), (unsigned long long)v->flags)))
				return e2;
		}
	}
	if (bits && (e2 = br_lose(&c->loss, BR_STATE, "vm_flags", "vma flags the bridge does not know",
				  "%s: 0x%llx", where(c, v->rec), (unsigned long long)bits)))
		return e2;
	SET(&img->arena, e, "start", v->start);
	SET(&img->arena, e, "end", v->end);
	SET(&img->arena, e, "pgoff", pgoff);
	SET(&img->arena, e, "shmid", shmid);
	SET(&img->arena, e, "prot", prot);
	SET(&img->arena, e, "flags", flags);
	SET(&img->arena, e, "status", status);
	if (img_msg_set_i64(&img->arena, e, "fd", -1))
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (madv)
		SET(&img->arena, e, "madv", madv);
	if (shmid)
		SET(&img->arena, e, "fdflags", f->flags);
	return 0;
}

static int cmp_run(const void *a, const void *b)
{
	uint64_t x = ((const struct run *)a)->addr, y = ((const struct run *)b)->addr;

	return x < y ? -1 : x > y;
}

/* The page arrays of an mm as runs of consecutive addresses, sorted. */
static int page_runs(struct tc *c, const struct img_lcr_mm *m, struct run **out, size_t *nout)
{
	uint32_t ls = c->lay->long_size, ps = c->lay->page_size;
	size_t n = 0, cap = 0;
	struct run *v = NULL;

	for (uint32_t i = 0; i < m->nvmas; i++) {
		const struct img_lcr_vma *vm = &m->vmas[i];

		if (!vm->type || strcmp(vm->type, "ANON") ? !(vm->type && !strcmp(vm->type, "FILE")) : 0)
			continue; /* shared memory and the rest: refused or listed with their vma */
		for (uint32_t k = 0; k < vm->nchunks; k++) {
			const struct img_lcr_pages *ch = &vm->chunks[k];
			const uint8_t *addrs = c->img->src->data + ch->addrs_off;

			for (uint64_t p = 0; p < ch->npages; p++) {
				uint64_t a = img_lcr_get_u(addrs, (uint32_t)(p * ls), ls == 8 ? IMG_LCR_U64 : IMG_LCR_U32);

				if (n && v[n - 1].rec == ch->rec_buf && v[n - 1].addr + v[n - 1].npages * ps == a) {
					v[n - 1].npages++;
					continue;
				}
				if (n == cap) {
					size_t nc = cap ? cap * 2 : 64;
					struct run *nv = img_realloc(v, nc * sizeof(*nv));

					if (!nv) {
						img_free(v);
						return img_err_set(c->err, ENOMEM, "out of memory");
					}
					v = nv;
					cap = nc;
				}
				v[n++] = (struct run){ a, 1, ch->data_off + p * ps, ch->rec_buf, NULL };
			}
		}
	}
	/* the vdso's pages, which linux-cr never saved: the running kernel's, where it is the mapping's size */
	for (uint32_t i = 0; c->vdso && i < m->nvmas; i++) {
		const struct img_lcr_vma *vm = &m->vmas[i];
		const struct br_area *area = area_of(c, vm);

		if (!area || strcmp(area->status, "VDSO") || vm->end - vm->start != c->vdso->size || vm->nchunks)
			continue;
		if (n == cap) {
			struct run *nv = img_realloc(v, (cap + 1) * sizeof(*nv));

			if (!nv) {
				img_free(v);
				return img_err_set(c->err, ENOMEM, "out of memory");
			}
			v = nv;
			cap++;
		}
		v[n++] = (struct run){ vm->start, c->vdso->size / ps, 0, -1, c->vdso };
	}
	if (n) /* an mm without pages has no array to sort */
		img_sort(v, n, sizeof(*v), cmp_run);
	for (size_t i = 1; i < n; i++)
		if (v[i].addr < v[i - 1].addr + v[i - 1].npages * ps) {
			char w[160];

			img_lcr_rec_where(c->img, (size_t)v[i].rec, w, sizeof(w));
			img_err_set(c->err, EINVAL, "%s: the page at 0x%llx is saved twice (also in %s)", w,
				    (unsigned long long)v[i].addr, where(c, v[i - 1].rec));
			img_free(v);
			img_err_subject(c->err, c->img->src->name);
			return -EINVAL;
		}
	*out = v;
	*nout = n;
	return 0;
}

static int pages_images(struct tc *c, const struct img_lcr_mm *m, uint32_t pid, uint32_t pages_id)
{
	struct img_image *img = image_new(c, "PAGEMAP");
	struct img_src_piece *pc = NULL;
	size_t nruns = 0, npc = 0;
	struct run *runs = NULL;
	struct img_msg *e;
	char name[64];
	int r;

	if (!img)
		return -ENOMEM;
	r = page_runs(c, m, &runs, &nruns);
	if (r) {
		img_image_free(img);
		return r;
	}
	e = img_msg_new(&img->arena, img_schema_msg(c->s, "pagemap_head"));
	if (!e || !img_image_add(img, e->desc, e) || img_msg_set_u64(&img->arena, e, "pages_id", pages_id))
		r = img_err_set(c->err, ENOMEM, "out of memory");
	if (!r && nruns && !(pc = img_malloc(nruns * sizeof(*pc))))
		r = img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; !r && i < nruns; i++) {
		uint64_t len = runs[i].npages * c->lay->page_size;

		/* one pagemap entry per stretch of addresses, one piece per stretch of the stream */
		if (i && runs[i].addr == runs[i - 1].addr + runs[i - 1].npages * c->lay->page_size) {
			struct img_msg *last = img->e[img->n - 1].msg;

			r = img_msg_set_u64(&img->arena, last, "nr_pages", img_msg_u64(last, "nr_pages", 0) + runs[i].npages);
		} else {
			e = img_msg_new(&img->arena, img_schema_msg(c->s, "pagemap_entry"));
			if (!e || !img_image_add(img, e->desc, e) || img_msg_set_u64(&img->arena, e, "vaddr", runs[i].addr) ||
			    img_msg_set_u64(&img->arena, e, "compat_nr_pages", 0) ||
			    img_msg_set_u64(&img->arena, e, "flags", PE_PRESENT) ||
			    img_msg_set_u64(&img->arena, e, "nr_pages", runs[i].npages))
				r = -ENOMEM;
		}
		if (npc && pc[npc - 1].src == runs[i].src && pc[npc - 1].off + pc[npc - 1].len == runs[i].off)
			pc[npc - 1].len += len;
		else
			pc[npc++] = (struct img_src_piece){ runs[i].off, len, runs[i].src };
		if (r)
			r = img_err_set(c->err, ENOMEM, "out of memory");
	}
	img_free(runs);
	if (r) {
		img_free(pc);
		img_image_free(img);
		return r;
	}
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	r = add_member(c, name, img);
	if (!r) {
		snprintf(name, sizeof(name), "pages-%u.img", pages_id);
		if (c->nm == c->capm) {
			struct member *nm = img_realloc(c->m, (c->capm * 2 + 1) * sizeof(*nm));

			if (!nm)
				r = img_err_set(c->err, ENOMEM, "out of memory");
			else {
				c->m = nm;
				c->capm = c->capm * 2 + 1;
			}
		}
		if (!r) {
			struct member *mb = &c->m[c->nm];

			snprintf(mb->name, sizeof(mb->name), "%s", name);
			mb->src = img_src_gather(c->img->src, pc, npc, name);
			if (!mb->src)
				r = img_err_set(c->err, ENOMEM, "out of memory");
			else
				c->nm++;
		}
	}
	img_free(pc);
	return r;
}

static int mm_image(struct tc *c, const struct img_lcr_mm *m, uint32_t pid)
{
	struct img_image *img = image_new(c, "MM");
	const struct img_lcr_rec *mr = rec(c, m->rec), *aux = rec(c, m->rec_auxv), *ctx = rec(c, m->rec_ctx);
	struct img_msg *e;
	char name[64];
	int r = 0;

	if (!img)
		return -ENOMEM;
	if (!(e = entry(c, img, "mm_entry"))) {
		img_image_free(img);
		return -ENOMEM;
	}
	r = apply(c, mr, &img->arena, e, "mm_entry");
	if (!r && img_msg_set_u64(&img->arena, e, "exe_file_id", m->exe > 0 ? (uint64_t)m->exe : 0))
		r = img_err_set(c->err, ENOMEM, "out of memory");
	if (!r && aux) {
		int64_t entry_size = 8;
		uint32_t n;

		img_lcr_kv_get(c->lay->props, c->lay->nprops, "auxv_entry", &entry_size);
		n = img_lcr_payload_len(aux) / (uint32_t)entry_size;
		/* type, value pairs up to AT_NULL */
		for (uint32_t k = 0; !r && k + 1 < n; k += 2) {
			uint8_t t = entry_size == 8 ? IMG_LCR_U64 : IMG_LCR_U32;
			uint64_t type = img_lcr_get_u(img_lcr_payload(aux), k * (uint32_t)entry_size, t);
			uint64_t val = img_lcr_get_u(img_lcr_payload(aux), (k + 1) * (uint32_t)entry_size, t);

			if (!type)
				break;
			if (img_msg_add_u64(&img->arena, e, "mm_saved_auxv", type) ||
			    img_msg_add_u64(&img->arena, e, "mm_saved_auxv", val))
				r = img_err_set(c->err, ENOMEM, "out of memory");
		}
	}
	/* CRIU keeps them in address order (the kernel writes them so, a hand-made stream may not) */
	uint32_t *order = img_malloc((m->nvmas ? m->nvmas : 1) * sizeof(*order));

	if (!order)
		r = img_err_set(c->err, ENOMEM, "out of memory");
	for (uint32_t i = 0; !r && i < m->nvmas; i++) {
		uint32_t k = i;

		for (; k > 0 && m->vmas[order[k - 1]].start > m->vmas[i].start; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	for (uint32_t i = 0; !r && i < m->nvmas; i++)
		r = vma_entry(c, img, e, m, &m->vmas[order[i]]);
	img_free(order);
	if (!r && br_fill(c->t, &img->arena, e, "mm_entry"))
		r = img_err_set(c->err, ENOMEM, "out of memory");
	if (!r && mr) {
		/* mm->flags: the low two bits are the dumpable state */
		r = img_msg_set_i64(&img->arena, e, "dumpable", fld(mr, "flags", 0) & 3) ? -ENOMEM : 0;
	}
	if (!r && ctx && fld(ctx, "nldt", 0))
		r = br_lose(&c->loss, BR_STATE, "MM_CONTEXT.nldt", "a local descriptor table (modify_ldt): CRIU keeps none",
			    "%s: %lld entries", where(c, m->rec_ctx), (long long)fld(ctx, "nldt", 0));
	if (r) {
		img_image_free(img);
		return r;
	}
	snprintf(name, sizeof(name), "mm-%u.img", pid);
	return add_member(c, name, img);
}

/* ---------------------------------------------------------------- tasks */

static uint64_t sigset_of(const struct img_lcr_rec *r, const char *path)
{
	struct img_lcr_fref fr;
	uint64_t v = 0;

	if (!r || img_lcr_field_ref(r->st, path, &fr) || fr.off + 8 > r->len)
		return 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[fr.off + i] << (8 * i);
	return v;
}

/* linux-cr's ckpt_siginfo -> the kernel's siginfo_t (x86_64, 128 bytes) */
static int siginfo(struct tc *c, struct img_arena *a, struct img_msg *q, const struct img_lcr_rec *pend)
{
	const struct img_lcr_struct *si = img_lcr_struct_find(c->lay, "ckpt_siginfo");
	int64_t n = fld(pend, "nr_pending", 0);

	for (int64_t k = 0; si && k < n; k++) {
		const uint8_t *p = pend->p + pend->st->size + (size_t)k * si->size;
		uint32_t base = (uint32_t)(p - pend->p);
		uint8_t out[128];
		struct img_msg *e;

		if (base + si->size > pend->len)
			break;
		br_siginfo_to_criu(c->t, si, p, out);
		e = img_msg_set_msg(a, q, "signals");
		if (!e || img_msg_set_bytes(a, e, "siginfo", out, sizeof(out)))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	return 0;
}

static int creds(struct tc *c, struct img_arena *a, struct img_msg *thc, const struct img_lcr_task *t)
{
	const struct img_lcr_obj *o = t->cred > 0 ? img_lcr_obj_find(c->img, t->cred) : NULL;
	const struct img_lcr_rec *cr = o && o->main >= 0 ? rec(c, o->main) : NULL;
	struct img_msg *m;

	if (!cr)
		return 0;
	if (t->ecred != t->cred && t->ecred > 0) {
		int e = br_lose(&c->loss, BR_STATE, "TASK_CREDS.ecred_ref", "effective credentials apart from the real ones",
				"%s", where(c, t->rec_creds));

		if (e)
			return e;
	}
	m = img_msg_set_msg(a, thc, "creds");
	if (!m || apply(c, cr, a, m, "creds_entry"))
		return m ? -EINVAL : img_err_set(c->err, ENOMEM, "out of memory");
	if (br_fill(c->t, a, m, "creds_entry"))
		return img_err_set(c->err, ENOMEM, "out of memory");
	/* groups: the GROUPINFO object */
	const struct img_lcr_obj *g = img_lcr_obj_find(c->img, (int32_t)fld(cr, "groupinfo_ref", 0));
	const struct img_lcr_rec *gr = g && g->main >= 0 ? rec(c, g->main) : NULL;

	if (gr) {
		int64_t n = fld(gr, "ngroups", 0);

		for (int64_t k = 0; k < n && gr->st->size + (uint64_t)(k + 1) * 4 <= gr->len; k++)
			if (img_msg_add_u64(a, m, "groups", img_get_u32(gr->p + gr->st->size + k * 4)))
				return img_err_set(c->err, ENOMEM, "out of memory");
	}
	return 0;
}

/* The x86 FPU area (FXSAVE, or XSAVE in the standard format) as CRIU's fpregs. */
static int fpregs(struct tc *c, struct img_arena *a, struct img_msg *ti, const struct img_lcr_rec *fpu)
{
	struct img_msg *fp = img_msg_set_msg(a, ti, "fpregs");
	const uint8_t *p = fpu ? img_lcr_payload(fpu) : NULL;
	uint32_t n = fpu ? img_lcr_payload_len(fpu) : 0;
	static const uint8_t init[32] = { 0x7f, 0x03, [24] = 0x80, 0x1f, 0, 0, 0xff, 0xff };
	uint8_t area[512];

	if (!fp)
		return img_err_set(c->err, ENOMEM, "out of memory");
	memset(area, 0, sizeof(area));
	if (n >= 512)
		memcpy(area, p, 512);
	else
		memcpy(area, init, sizeof(init)); /* no FPU state saved: the state a new task starts with */
	if (lcr_fpu_to_msg(a, fp, area, p && n > 512 ? p : NULL, n))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return 0;
}

/* The TLS descriptors (struct desc_struct) as user_desc_t, as the kernel's get_thread_area gives them. */
static int tls(struct tc *c, struct img_arena *a, struct img_msg *ti, const struct img_lcr_rec *th)
{
	uint32_t n = th ? (uint32_t)fld(th, "sizeof_tls_array", 0) / 8 : 0;

	for (uint32_t k = 0; k < n && th->st->size + (k + 1) * 8 <= th->len; k++) {
		const uint8_t *d = th->p + th->st->size + k * 8;
		struct img_msg *u = img_msg_set_msg(a, ti, "tls");

		if (!u || lcr_desc_to_msg(a, u, 12 + k, img_get_u32(d), img_get_u32(d + 4)))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	return 0;
}

static int thread_core(struct tc *c, struct img_image *img, struct img_msg *core, const struct img_lcr_task *t,
		       int leader)
{
	struct img_arena *a = &img->arena;
	const struct img_lcr_rec *task = rec(c, t->rec_task), *st = rec(c, t->rec_sigtask);
	struct img_msg *thc = img_msg_set_msg(a, core, "thread_core");
	int r;

	if (!thc)
		return img_err_set(c->err, ENOMEM, "out of memory");
	SET(a, thc, "futex_rla", 0);
	SET(a, thc, "futex_rla_len", 0);
	r = apply(c, task, a, core, "core_entry");
	if (r)
		return r;
	if (img_msg_sub(thc, "sas") || task) {
		struct img_msg *sas = img_msg_sub(thc, "sas") ? img_msg_sub(thc, "sas") : img_msg_set_msg(a, thc, "sas");

		if (!sas)
			return img_err_set(c->err, ENOMEM, "out of memory");
		SET(a, sas, "ss_sp", img_msg_u64(sas, "ss_sp", 0));
		SET(a, sas, "ss_size", img_msg_u64(sas, "ss_size", 0));
		SET(a, sas, "ss_flags", img_msg_u64(sas, "ss_size", 0) ? 0 : SS_DISABLE);
	}
	/* the main thread's blocked signals are the task's (tc), as CRIU keeps them */
	if (!leader)
		SET(a, thc, "blk_sigset", sigset_of(st, "blocked"));
	if (!img_msg_u64(thc, "pdeath_sig", 0))
		img_msg_del(thc, "pdeath_sig");
	if (t->rec_pending >= 0) {
		struct img_msg *q = img_msg_set_msg(a, thc, "signals_p");

		if (!q || siginfo(c, a, q, rec(c, t->rec_pending)))
			return q ? -EINVAL : img_err_set(c->err, ENOMEM, "out of memory");
	}
	if ((r = creds(c, a, thc, t)))
		return r;
	if (t->comm && img_msg_set_str(a, thc, "comm", t->comm))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return 0;
}

/* The process's own part of the main thread's core: state, limits, timers, handlers, shared pending signals. */
static int task_core(struct tc *c, struct img_image *img, struct img_msg *core, const struct img_lcr_task *t)
{
	struct img_arena *a = &img->arena;
	struct img_msg *tc = img_msg_set_msg(a, core, "tc");
	const struct img_lcr_obj *so = t->signal > 0 ? img_lcr_obj_find(c->img, t->signal) : NULL;
	const struct img_lcr_rec *sig = so && so->main >= 0 ? rec(c, so->main) : NULL;
	const struct img_lcr_obj *ho = t->sighand > 0 ? img_lcr_obj_find(c->img, t->sighand) : NULL;
	const struct img_lcr_rec *sh = ho && ho->main >= 0 ? rec(c, ho->main) : NULL;
	char path[64];

	if (!tc)
		return img_err_set(c->err, ENOMEM, "out of memory");
	SET(a, tc, "task_state", t->zombie ? IMG_TASK_ZOMBIE : IMG_TASK_ALIVE);
	SET(a, tc, "exit_code", 0);
	SET(a, tc, "personality", 0);
	SET(a, tc, "flags", 0);
	SET(a, tc, "blk_sigset", sigset_of(rec(c, t->rec_sigtask), "blocked"));
	if (img_msg_set_str(a, tc, "comm", t->comm ? t->comm : ""))
		return img_err_set(c->err, ENOMEM, "out of memory");
	int r = apply(c, rec(c, t->rec_task), a, core, "core_entry");

	if (r || t->zombie)
		return r;
	if (sig) {
		/* itimers: nanoseconds in linux-cr, seconds and microseconds in CRIU */
		struct img_msg *tm = img_msg_set_msg(a, tc, "timers");
		static const char *const it[3] = { "real", "virt", "prof" };

		for (int k = 0; tm && k < 3; k++) {
			struct img_msg *e = img_msg_set_msg(a, tm, it[k]);
			uint64_t val, incr;

			snprintf(path, sizeof(path), "it_%s_value", it[k]);
			val = (uint64_t)fld(sig, path, 0);
			snprintf(path, sizeof(path), "it_%s_incr", it[k]);
			incr = (uint64_t)fld(sig, path, 0);
			if (!e)
				return img_err_set(c->err, ENOMEM, "out of memory");
			SET(a, e, "isec", incr / 1000000000);
			SET(a, e, "iusec", incr % 1000000000 / 1000);
			SET(a, e, "vsec", val / 1000000000);
			SET(a, e, "vusec", val % 1000000000 / 1000);
		}
		struct img_msg *rl = img_msg_set_msg(a, tc, "rlimits");

		for (int k = 0; rl && k < 64; k++) {
			int64_t cur, max;

			snprintf(path, sizeof(path), "rlim[%d].rlim_cur", k);
			if (lcr_field(sig->st, sig->p, sig->len, path, &cur))
				break;
			snprintf(path, sizeof(path), "rlim[%d].rlim_max", k);
			max = fld(sig, path, 0);
			struct img_msg *e = img_msg_set_msg(a, rl, "rlimits");

			if (!e)
				return img_err_set(c->err, ENOMEM, "out of memory");
			SET(a, e, "cur", (uint64_t)cur);
			SET(a, e, "max", (uint64_t)max);
		}
		if (!tm || !rl)
			return img_err_set(c->err, ENOMEM, "out of memory");
		if (fld(sig, "tty_objref", 0) > 0 &&
		    (r = br_lose(&c->loss, BR_STATE, "SIGNAL.tty_objref", "a controlling terminal", "%s", where(c, so->main))))
			return r;
		/* the shared pending signals follow the SIGNAL record */
		for (size_t i = (size_t)so->main + 1; i < c->img->n && c->img->r[i].parent == so->main; i++)
			if (c->img->r[i].role && !strcmp(c->img->r[i].role, "shared_pending")) {
				struct img_msg *q = img_msg_set_msg(a, tc, "signals_s");

				if (!q || siginfo(c, a, q, &c->img->r[i]))
					return q ? -EINVAL : img_err_set(c->err, ENOMEM, "out of memory");
			}
	}
	if (sh) {
		const struct img_lcr_struct *sa = img_lcr_struct_find(c->lay, "ckpt_sigaction");
		int64_t nsig = 64;

		if (c->img->rec_header >= 0)
			lcr_field(c->img->r[c->img->rec_header].st, c->img->r[c->img->rec_header].p,
				  c->img->r[c->img->rec_header].len, "constants.signal_nsig", &nsig);
		for (int sg = 1; sa && sg <= nsig && sg <= 64; sg++) {
			const uint8_t *p = sh->p + sh->st->size + (size_t)(sg - 1) * sa->size;
			struct img_lcr_fref fm;
			uint64_t mask = 0;

			if (sg == 9 || sg == 19)
				continue; /* SIGKILL and SIGSTOP: CRIU keeps no handler for them */
			if (sh->st->size + (uint64_t)sg * sa->size > sh->len)
				break;
			struct img_msg *e = img_msg_set_msg(a, tc, "sigactions");
			int64_t h = 0, fl = 0, rs = 0;

			lcr_field(sa, p, sa->size, "_sa_handler", &h);
			lcr_field(sa, p, sa->size, "sa_flags", &fl);
			lcr_field(sa, p, sa->size, "sa_restorer", &rs);
			if (!img_lcr_field_ref(sa, "sa_mask", &fm))
				for (int b = 0; b < 8 && fm.off + b < sa->size; b++)
					mask |= (uint64_t)p[fm.off + b] << (8 * b);
			if (!e)
				return img_err_set(c->err, ENOMEM, "out of memory");
			SET(a, e, "sigaction", (uint64_t)h);
			SET(a, e, "flags", (uint64_t)fl);
			SET(a, e, "restorer", (uint64_t)rs);
			SET(a, e, "mask", mask);
			SET(a, e, "compat_sigaction", c->ctx.compat ? 1 : 0);
		}
	}
	return 0;
}

static int core_image(struct tc *c, const struct img_lcr_task *t, int leader)
{
	struct img_image *img = image_new(c, "CORE");
	struct img_arena *a;
	struct img_msg *core, *ti;
	const struct img_lcr_rec *th = rec(c, t->rec_thread), *cpu = rec(c, t->rec_cpu);
	char name[64];
	int r = 0;

	if (!img)
		return -ENOMEM;
	a = &img->arena;
	core = entry(c, img, "core_entry");
	if (!core) {
		img_image_free(img);
		return -ENOMEM;
	}
	c->ctx.compat = !strcmp(c->lay->arch, "i386") || (th && (fld(th, "thread_info_flags", 0) & (1 << 17)));
	if (img_msg_set_u64(a, core, "mtype", 1)) /* X86_64: 32-bit tasks are compat tasks of it */
		r = img_err_set(c->err, ENOMEM, "out of memory");
	if (!r && leader)
		r = task_core(c, img, core, t);
	if (!r && !t->zombie) {
		ti = img_msg_set_msg(a, core, "thread_info");
		if (!ti || img_msg_set_u64(a, ti, "clear_tid_addr", 0))
			r = img_err_set(c->err, ENOMEM, "out of memory");
		if (!r && !cpu)
			r = img_err_set(c->err, EINVAL, "%s: a live task without a CPU record", where(c, t->rec_task));
		if (!r) {
			struct img_msg *g = img_msg_set_msg(a, ti, "gpregs");

			r = g ? apply(c, cpu, a, core, "core_entry") : img_err_set(c->err, ENOMEM, "out of memory");
			if (!r && img_msg_set_u64(a, img_msg_sub(ti, "gpregs"), "mode", c->ctx.compat ? 2 : 1))
				r = img_err_set(c->err, ENOMEM, "out of memory");
		}
		if (!r)
			r = fpregs(c, a, ti, fld(cpu, "used_math", 0) ? rec(c, t->rec_fpu) : NULL);
		if (!r)
			r = tls(c, a, ti, th);
		if (!r && th && (fld(th, "thread_info_flags", 0) & ~(int64_t)(1 << 17)))
			r = br_lose(&c->loss, BR_STATE, "THREAD.thread_info_flags", "thread flags besides TIF_IA32",
				    "%s: 0x%llx", where(c, t->rec_thread), (unsigned long long)fld(th, "thread_info_flags", 0));
		if (!r)
			r = thread_core(c, img, core, t, leader);
		if (!r && br_fill(c->t, a, core, "core_entry"))
			r = img_err_set(c->err, ENOMEM, "out of memory");
	}
	if (r) {
		img_image_free(img);
		return r;
	}
	snprintf(name, sizeof(name), "core-%d.img", t->pid);
	return add_member(c, name, img);
}

/* The namespaces of a task: linux-cr keeps uts and ipc (NS); the rest are one each. */
static int ids_msg(struct tc *c, struct img_arena *a, struct img_msg *m, const struct img_lcr_task *t, int root)
{
	const struct img_lcr_obj *no = t->ns > 0 ? img_lcr_obj_find(c->img, t->ns) : NULL;
	const struct img_lcr_rec *ns = no && no->main >= 0 ? rec(c, no->main) : NULL;
	int64_t uts = ns ? fld(ns, "uts_objref", 0) : 0, ipc = ns ? fld(ns, "ipc_objref", 0) : 0;

	SET(a, m, "vm_id", (uint64_t)(t->mm > 0 ? t->mm : 0));
	SET(a, m, "files_id", (uint64_t)(t->files > 0 ? t->files : 0));
	SET(a, m, "fs_id", (uint64_t)(t->fs > 0 ? t->fs : 0));
	SET(a, m, "sighand_id", (uint64_t)(t->sighand > 0 ? t->sighand : 0));
	SET(a, m, "pid_ns_id", (uint64_t)(root ? c->root_pidns_id : c->pidns_id));
	SET(a, m, "net_ns_id", (uint64_t)c->netns_id);
	SET(a, m, "ipc_ns_id", (uint64_t)(ipc > 0 ? ipc : c->netns_id + 1));
	SET(a, m, "uts_ns_id", (uint64_t)(uts > 0 ? uts : c->netns_id + 2));
	SET(a, m, "mnt_ns_id", (uint64_t)c->mntns_id);
	SET(a, m, "user_ns_id", (uint64_t)c->userns_id);
	SET(a, m, "cgroup_ns_id", (uint64_t)c->cgns_id);
	SET(a, m, "time_ns_id", (uint64_t)c->timens_id);
	return 0;
}

/* A version whose FS keeps no umask: the value the version converter gives it (convert.tab), 022 */
static int64_t fs_umask(struct tc *c)
{
	for (uint32_t i = 0; i < c->img->tables->nfdefaults; i++)
		if (!strcmp(c->img->tables->fdefaults[i].strct, "ckpt_hdr_fs") && !strcmp(c->img->tables->fdefaults[i].field, "umask"))
			return c->img->tables->fdefaults[i].val;
	return 022;
}

static int process_images(struct tc *c, const struct img_lcr_task *t)
{
	struct img_image *img;
	struct img_msg *m;
	char name[64];
	int r;

	if (t->zombie)
		return 0; /* CRIU keeps nothing but the core of a zombie */
	if (!(img = image_new(c, "IDS")))
		return -ENOMEM;
	m = entry(c, img, "task_kobj_ids_entry");
	r = m ? ids_msg(c, &img->arena, m, t, 0) : -ENOMEM;
	snprintf(name, sizeof(name), "ids-%d.img", t->pid);
	if (r || (r = add_member(c, name, img))) {
		if (r != -ENOMEM || !m)
			img_image_free(img);
		return r;
	}
	/* fs: before v19-rc3 linux-cr saved none, and cwd and root are taken as / */
	size_t fi = c->img->nfss;

	for (size_t i = 0; i < c->img->nfss; i++)
		if (c->img->fss[i].objref == t->fs)
			fi = i;
	c->nofs |= fi == c->img->nfss;
	if (fi == c->img->nfss && (r = br_lose(&c->loss, BR_META, "record FS", "this version saved no working "
					       "directory: cwd and root are taken as /", "pid %d", t->pid)))
		return r;
	if (!(img = image_new(c, "FS")))
		return -ENOMEM;
	if (!(m = entry(c, img, "fs_entry"))) {
		img_image_free(img);
		return -ENOMEM;
	}
	SET(&img->arena, m, "cwd_id", fs_file_id(c, fi, 0));
	SET(&img->arena, m, "root_id", fs_file_id(c, fi, 1));
	SET(&img->arena, m, "umask", (uint64_t)(fi < c->img->nfss ? fld(rec(c, c->img->fss[fi].rec), "umask", fs_umask(c)) : fs_umask(c)));
	snprintf(name, sizeof(name), "fs-%d.img", t->pid);
	if ((r = add_member(c, name, img)))
		return r;
	/* mm, pagemap, pages */
	for (size_t i = 0; i < c->img->nmms; i++)
		if (c->img->mms[i].objref == t->mm) {
			if ((r = mm_image(c, &c->img->mms[i], (uint32_t)t->pid)) ||
			    (r = pages_images(c, &c->img->mms[i], (uint32_t)t->pid, (uint32_t)t->pid)))
				return r;
		}
	return 0;
}

static int tree_images(struct tc *c)
{
	const struct img_lcr_image *im = c->img;
	struct img_image *ps = image_new(c, "PSTREE");
	int r = 0;

	if (!ps)
		return -ENOMEM;
	for (size_t i = 0; !r && i < im->ntasks; i++) {
		const struct img_lcr_task *t = &im->tasks[i];
		struct img_msg *e;

		if (t->pid != t->tgid || !task_there(c, t))
			continue; /* threads go with their leader */
		if (t->pid <= 0) {
			r = img_err_set(c->err, EINVAL, "task %zu of the tree has no pid number", i);
			break;
		}
		if (!(e = entry(c, ps, "pstree_entry"))) {
			r = -ENOMEM;
			break;
		}
		SET(&ps->arena, e, "pid", (uint32_t)t->pid);
		SET(&ps->arena, e, "ppid", (uint32_t)(t->ppid > 0 ? t->ppid : 0));
		SET(&ps->arena, e, "pgid", (uint32_t)(t->pgid > 0 ? t->pgid : 0));
		SET(&ps->arena, e, "sid", (uint32_t)(t->sid > 0 ? t->sid : 0));
		if (img_msg_add_u64(&ps->arena, e, "threads", (uint32_t)t->pid))
			r = img_err_set(c->err, ENOMEM, "out of memory");
		for (size_t k = 0; !r && k < im->ntasks; k++)
			if (k != i && im->tasks[k].tgid == t->pid && im->tasks[k].rec_task >= 0 &&
			    img_msg_add_u64(&ps->arena, e, "threads", (uint32_t)im->tasks[k].pid))
				r = img_err_set(c->err, ENOMEM, "out of memory");
		if (!r)
			r = core_image(c, t, 1);
		for (size_t k = 0; !r && k < im->ntasks; k++)
			if (k != i && im->tasks[k].tgid == t->pid && task_there(c, &im->tasks[k]))
				r = core_image(c, &im->tasks[k], 0);
		if (!r)
			r = process_images(c, t);
	}
	/* a thread whose leader is not in the tree */
	for (size_t i = 0; !r && i < im->ntasks; i++) {
		int found = 0;

		for (size_t k = 0; k < im->ntasks && !found; k++)
			found = im->tasks[k].pid == im->tasks[i].tgid;
		if (!found)
			r = img_err_set(c->err, EINVAL, "%s: thread %d of thread group %d, whose leader is not in the tree",
					where(c, im->tasks[i].rec_task >= 0 ? im->tasks[i].rec_task : im->rec_tree), im->tasks[i].pid,
					im->tasks[i].tgid);
	}
	if (r) {
		img_image_free(ps);
		return r;
	}
	return add_member(c, "pstree.img", ps);
}

static int ns_images(struct tc *c)
{
	if (c->subtree)
		return 0; /* the host's namespaces: CRIU dumps none of them */
	for (size_t i = 0; i < c->img->nobjs; i++) {
		const struct img_lcr_obj *o = &c->img->objs[i];
		const struct img_lcr_rec *u = rec(c, o->main);
		struct img_image *img;
		struct img_msg *m;
		char name[64], node[66] = "", dom[66] = "";
		struct img_lcr_fref fr;

		if (strcmp(o->type, "UTS_NS") || !u)
			continue;
		if (!img_lcr_field_ref(u->st, "nodename", &fr) && fr.off + 65 <= u->len)
			snprintf(node, sizeof(node), "%.*s", 65, (const char *)u->p + fr.off);
		if (!img_lcr_field_ref(u->st, "domainname", &fr) && fr.off + 65 <= u->len)
			snprintf(dom, sizeof(dom), "%.*s", 65, (const char *)u->p + fr.off);
		if (!(img = image_new(c, "UTSNS")))
			return -ENOMEM;
		m = entry(c, img, "utsns_entry");
		if (!m || img_msg_set_str(&img->arena, m, "nodename", node) ||
		    img_msg_set_str(&img->arena, m, "domainname", dom)) {
			img_image_free(img);
			return img_err_set(c->err, ENOMEM, "out of memory");
		}
		snprintf(name, sizeof(name), "utsns-%d.img", o->objref);
		int r = add_member(c, name, img);

		if (r)
			return r;
	}
	return 0;
}

static int inventory(struct tc *c)
{
	struct img_image *img = image_new(c, "INVENTORY");
	struct img_msg *m, *ids;
	const struct img_lcr_task *root = NULL;

	if (!img)
		return -ENOMEM;
	for (size_t i = 0; i < c->img->ntasks && !root; i++)
		if (c->img->tasks[i].pid == c->img->tasks[i].tgid)
			root = &c->img->tasks[i];
	m = entry(c, img, "inventory_entry");
	if (!m) {
		img_image_free(img);
		return -ENOMEM;
	}
	SET(&img->arena, m, "img_version", 2);
	SET(&img->arena, m, "fdinfo_per_id", 1);
	ids = img_msg_set_msg(&img->arena, m, "root_ids");
	if (!ids || (root && ids_msg(c, &img->arena, ids, root, 1))) {
		img_image_free(img);
		return img_err_set(c->err, ENOMEM, "out of memory");
	}
	/*
	 * root_ids are the dumper's own: CRIU shares no mm, fd table, fs or
	 * signal handlers with what it dumps (a root task whose files_id were
	 * the dumper's would read as a task sharing its fd table with no parent)
	 */
	SET(&img->arena, ids, "vm_id", (uint64_t)new_id(c));
	SET(&img->arena, ids, "files_id", (uint64_t)new_id(c));
	SET(&img->arena, ids, "fs_id", (uint64_t)new_id(c));
	SET(&img->arena, ids, "sighand_id", (uint64_t)new_id(c));
	if (!c->subtree) {
		/* a container: its namespaces are its own, the dumper's others */
		SET(&img->arena, ids, "uts_ns_id", (uint64_t)new_id(c));
		SET(&img->arena, ids, "ipc_ns_id", (uint64_t)new_id(c));
	}
	SET(&img->arena, m, "ns_per_id", 1);
	SET(&img->arena, m, "lsmtype", 0);
	if (br_fill(c->t, &img->arena, m, "inventory_entry"))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return add_member(c, "inventory.img", img);
}

/* ---------------------------------------------------------------- the folder */

struct lcr_dir {
	struct member *m;                /* sorted by name */
	size_t n;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static int dir_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	struct lcr_dir *ld = d->priv;
	struct member key;
	const struct member *m;

	snprintf(key.name, sizeof(key.name), "%s", member);
	m = strlen(member) < sizeof(key.name) ? bsearch(&key, ld->m, ld->n, sizeof(*ld->m), cmp_member) : NULL;
	if (!m) {
		img_err_subject(err, member);
		return img_err_set(err, ENOENT, "no such image in the CRIU view of '%s'", d->path);
	}
	*out = img_src_ref(m->src);
	return 0;
}

static int dir_each(struct img_dir *d, int (*fn)(void *arg, const char *member, uint64_t size), void *arg)
{
	struct lcr_dir *ld = d->priv;

	for (size_t i = 0; i < ld->n; i++) {
		int r = fn(arg, ld->m[i].name, ld->m[i].src->size);

		if (r)
			return r;
	}
	return 0;
}

static void dir_close(struct img_dir *d)
{
	struct lcr_dir *ld = d->priv;

	for (size_t i = 0; ld && i < ld->n; i++)
		img_src_unref(ld->m[i].src);
	if (ld)
		img_free(ld->m);
	img_free(ld);
}

static const struct img_dir_ops lcr_dir_ops = {
	.name = "linux-cr",
	.get = dir_get,
	.each = dir_each,
	.close = dir_close,
};

#if defined(__x86_64__)
#define IMG_HOST_ARCH "x86_64"
#elif defined(__i386__)
#define IMG_HOST_ARCH "i386"
#else
#define IMG_HOST_ARCH "" /* the bridge knows x86 only */
#endif

/*
 * The running kernel's vdso, copied: where getauxval(AT_SYSINFO_EHDR) says,
 * as long as /proc/self/maps gives it.  NULL when there is none.
 */
static struct img_src *host_vdso(void)
{
	uintptr_t at = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	unsigned long long b, e;
	struct img_src *s = NULL;
	char line[512];
	FILE *f;

	if (!at || !(f = fopen("/proc/self/maps", "re")))
		return NULL;
	while (!s && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &b, &e) == 2 && b == at && e > b && strstr(line, "[vdso]"))
			s = img_src_mem((const void *)at, (size_t)(e - b), "[vdso]", 1);
	fclose(f);
	return s;
}

int img_lcr_criu_dir(const struct img_lcr_image *img, const struct img_lcr_bridge_opts *o, struct img_dir **out,
		     struct img_err *err)
{
	struct tc c = { 0 };
	struct img_dir *d = NULL;
	struct lcr_dir *ld = NULL;
	int r;

	*out = NULL;
	c.img = img;
	c.lay = img->lay;
	c.s = img_schema_default();
	c.err = err;
	c.loss.err = err;
	c.loss.flags = o ? o->flags : 0;
	c.loss.other = "CRIU images";
	c.loss.subject = img->src->name;
	r = br_table(&c.t, err);
	if (r)
		return r;
	c.ctx.t = c.t;
	c.ctx.lay = img->lay;
	if (strcmp(img->lay->arch, "x86_64") && strcmp(img->lay->arch, "i386"))
		return img_err_set(err, ENOTSUP, "'%s': a linux-cr image of %s: the bridge knows x86 only", img->src->name,
				   img->lay->arch);
	/* ids past every objref for what linux-cr does not name: the cwd and root files, namespaces */
	for (size_t i = 0; i < img->nobjs; i++)
		if (img->objs[i].objref >= c.next_id)
			c.next_id = img->objs[i].objref + 1;
	if (c.next_id < 1)
		c.next_id = 1;
	c.fs_base = c.next_id;
	c.next_id += (int32_t)(2 * img->nfss + 2); /* and / as cwd and root where no FS was saved */
	c.subtree = (img->uflags & 1) || !img->uflags;
	c.pidns_id = new_id(&c);
	c.root_pidns_id = new_id(&c);
	c.netns_id = new_id(&c);
	new_id(&c); /* ipc and uts, when the image names none */
	new_id(&c);
	c.mntns_id = new_id(&c);
	c.userns_id = new_id(&c);
	c.cgns_id = new_id(&c);
	c.timens_id = new_id(&c);
	if (o && (o->flags & IMG_LCR_BRIDGE_HOST_VDSO) && !strcmp(img->lay->arch, IMG_HOST_ARCH))
		c.vdso = host_vdso();
	r = walk(&c);
	if (!r)
		r = tree_images(&c);
	if (!r)
		r = files_image(&c);
	if (!r)
		r = fdinfo_images(&c);
	if (!r)
		r = pipes_data_image(&c);
	if (!r)
		r = ns_images(&c);
	if (!r)
		r = inventory(&c);
	if (!r) {
		d = img_calloc(1, sizeof(*d));
		ld = img_calloc(1, sizeof(*ld));
		if (!d || !ld || !(d->path = img_strdup(img->src->name)))
			r = img_err_set(err, ENOMEM, "out of memory");
	}
	img_src_unref(c.vdso); /* the pages files hold their own references */
	if (r) {
		if (!err->subject[0])
			img_err_subject(err, img->src->name);
		for (size_t i = 0; i < c.nm; i++)
			img_src_unref(c.m[i].src);
		img_free(c.m);
		img_free(ld);
		if (d)
			img_free(d->path);
		img_free(d);
		br_losses_free(&c.loss);
		return r;
	}
	if (o && o->note)
		br_losses_report(&c.loss, o->note, o->arg);
	br_losses_free(&c.loss);
	img_sort(c.m, c.nm, sizeof(*c.m), cmp_member);
	ld->m = c.m;
	ld->n = c.nm;
	d->ops = &lcr_dir_ops;
	d->priv = ld;
	*out = d;
	return 0;
}
