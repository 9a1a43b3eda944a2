/*
 * A CRIU image set written as a linux-cr stream: the checkpoint model gives
 * tasks, threads, mm, files and signals, img/mem.h the pages, and the
 * version's writer lays out the records in the kernel's order (header, tree,
 * then each task with the objects it is the first to use).  Field values go
 * through bridge.tab's map rows; every field of every image the set holds
 * must have a row, so that nothing is dropped unseen: what linux-cr cannot
 * hold is refused, or with IMG_LCR_BRIDGE_LOSSY left out and listed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "img/image.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/xform.h"
#include "lcr.h"

#define CHUNK_PAGES 512           /* pages per page array: 2 MiB of data held at a time */
#define O_ACCMODE_ 3

struct objmap {
	uint64_t key;                 /* CRIU id (kind in the top bits) */
	int32_t objref;
};

enum { K_FILE = 1, K_FTABLE, K_MM, K_FS, K_SIGHAND, K_PIPE, K_CRED, K_USER, K_GROUPS, K_NS, K_UTS, K_IPC, K_SIGNAL };

/* bytes written over a task's memory as its pages go out (emulations: glibc's rseq area) */
struct patch {
	uint64_t addr;
	uint8_t b[8];
	uint32_t n;
	int done;
	uint32_t tid;
};

struct fc {
	struct img_ckpt *ck;
	const struct img_lcr_layout *lay;
	const struct br_table *t;
	struct br_ctx ctx;
	struct br_losses loss;
	struct img_err *err;
	struct img_lcr_writer *w;
	const struct img_lcr_target *target;
	int fd;                       /* where the stream goes */
	int32_t next;                 /* the next objref */
	struct objmap *objs;
	size_t nobjs, capobjs;
	/* v23 pid objects: the numbers, in objref order from pid_base */
	uint32_t *pids;
	size_t npids;
	int32_t pid_base;
	int32_t userns;
	/* creds, deduplicated by their encoding */
	struct img_buf *creds;
	size_t ncreds;
	uint32_t xstate_size;         /* of the header: every CPU_FPU area is this long */
	uint64_t xcr0;                /* the XSAVE components of the header's areas (0: FXSAVE only) */
	uint64_t uflags;
	struct patch *patches;        /* of the mm being written */
	size_t npatches;
	char where[96];
};

static int werr(struct fc *c)
{
	int r = img_lcr_w_error(c->w, c->err);

	return r ? r : img_err_set(c->err, EINVAL, "the writer refused a record");
}

/* Set a field; one this version lacks is a loss when the value is not zero. */
static int S(struct fc *c, const char *path, uint64_t v)
{
	int r = img_lcr_w_set(c->w, path, v);

	if (r == -ENOENT) {
		char what[96];

		if (!v)
			return 0;
		snprintf(what, sizeof(what), "%s", path);
		return br_lose(&c->loss, BR_STATE, what, "the target version has no such field", "%s: 0x%llx", c->where,
			       (unsigned long long)v);
	}
	return r ? werr(c) : 0;
}

static int B(struct fc *c, const char *type)
{
	int r = img_lcr_w_begin(c->w, type);

	if (r == -ENOENT)
		return img_err_set(c->err, ENOTSUP, "%s has no %s records", c->lay->ver->name, type);
	return r ? werr(c) : 0;
}

static int RAW(struct fc *c, const char *type, const void *p, size_t n)
{
	return img_lcr_w_raw(c->w, type, p, n) ? werr(c) : 0;
}

static int64_t dflt(struct fc *c, const char *name)
{
	int64_t v = 0;

	img_lcr_w_default(c->w, name, &v);
	return v;
}

static int32_t obj_get(struct fc *c, int kind, uint64_t id)
{
	uint64_t key = (uint64_t)kind << 56 | id;

	for (size_t i = 0; i < c->nobjs; i++)
		if (c->objs[i].key == key)
			return c->objs[i].objref;
	return 0;
}

static int obj_used(struct fc *c, int32_t objref)
{
	for (size_t i = 0; i < c->nobjs; i++)
		if (c->objs[i].objref == objref)
			return 1;
	return 0;
}

/*
 * A new objref for (kind, id), with its OBJREF record unless the object is
 * implicit.  Objrefs are given in the order objects first appear, as the
 * kernel gives them (after the pid objects), so that an image read back and
 * written again numbers them the same; pipes keep their CRIU pipe ids (the
 * inode numbers) as the objrefs of their inodes when those are free.
 */
static int obj_new(struct fc *c, int kind, uint64_t id, const char *objtype, int32_t *out)
{
	int32_t want = 0;

	if (kind == K_PIPE && id > c->npids && id <= INT32_MAX && !obj_used(c, (int32_t)id))
		want = (int32_t)id;
	while (!want && obj_used(c, c->next))
		c->next++;
	if (c->nobjs == c->capobjs) {
		size_t cap = c->capobjs ? c->capobjs * 2 : 64;
		struct objmap *v = img_realloc(c->objs, cap * sizeof(*v));

		if (!v)
			return img_err_set(c->err, ENOMEM, "out of memory");
		c->objs = v;
		c->capobjs = cap;
	}
	*out = want ? want : c->next++;
	c->objs[c->nobjs++] = (struct objmap){ (uint64_t)kind << 56 | id, *out };
	if (objtype && img_lcr_w_objref(c->w, objtype, *out))
		return werr(c);
	return 0;
}

/* The map rows for record rec from message m (the table's root message root). */
static int apply(struct fc *c, const char *rec, const struct img_msg *m, const char *root)
{
	for (size_t i = 0; m && i < c->t->n; i++) {
		const struct br_row *row = &c->t->rows[i];
		uint64_t v, out, lost;
		int r;

		if (row->kind != BR_MAP || strcmp(row->lrec, rec) || strcmp(row->cmsg, root))
			continue;
		if (br_msg_get(m, row->cpath, &v))
			continue;
		if (br_to_lcr(&c->ctx, row->how, v, &out, &lost)) {
			r = br_lose(&c->loss, BR_STATE, row->cpath, "a value with no linux-cr counterpart", "%s: %s = 0x%llx",
				    c->where, row->cpath, (unsigned long long)v);
			if (r)
				return r;
			continue;
		}
		if (lost && (r = br_lose(&c->loss, BR_META, row->cpath, "bits linux-cr does not keep", "%s: 0x%llx",
					 c->where, (unsigned long long)lost)))
			return r;
		if ((r = S(c, row->lfield, out)))
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- what has no place */

static int is_default(const struct br_row *row, const struct img_fielddesc *fd, const struct img_fval *fv)
{
	if (!strcmp(row->def, "-"))
		return 1;
	if (fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES)
		return fv->wt == IMG_WT_LEN && !fv->v.b.len && !strcmp(row->def, "0");
	return br_is_default(row, NULL, NULL, img_fval_u64(fd, fv));
}

/*
 * Every field of a message must have a row: looked up under the root the
 * walk started from ("core_entry.tc.loginuid"), then under the message's own
 * type ("creds_entry.uid").  def: a criu row over a whole sub-message.
 */
static int walk_msg(struct fc *c, const struct img_msg *m, const char *root, const char *path, const char *member,
		    const struct br_row *def)
{
	for (uint32_t i = 0; i < m->n; i++) {
		const struct img_fval *fv = &m->f[i];
		const struct img_fielddesc *fd = fv->fi == IMG_FI_UNKNOWN ? NULL : &m->desc->fields[fv->fi];
		char full[200], local[200];
		const struct br_row *row = def;
		int r;

		if (!fd) {
			snprintf(full, sizeof(full), "%s.%s%sfield %u", root, path, path[0] ? "." : "", fv->num);
			r = br_lose(&c->loss, BR_STATE, full, "a field this schema does not know", "%s", member);
			if (r)
				return r;
			continue;
		}
		snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "", fd->name);
		snprintf(local, sizeof(local), "%s", fd->name);
		if (!row) {
			row = br_find_criu(c->t, root, full);
			if (!row)
				row = br_find_criu(c->t, m->desc->name, local);
			if (!row && fd->label == IMG_L_REPEATED && fd->type != IMG_T_MESSAGE) {
				/* values mapped one by one: "cap_inh[0]", "cap_inh[1]" */
				size_t rows = 0, vals = img_msg_count(m, fd->name);
				char ix[220];

				for (;; rows++) {
					snprintf(ix, sizeof(ix), "%s[%zu]", local, rows);
					if (!br_find_criu(c->t, m->desc->name, ix) || br_find_criu(c->t, m->desc->name, ix)->kind != BR_MAP)
						break;
				}
				if (rows) {
					if (vals > rows && (r = br_lose(&c->loss, BR_STATE, full, "more values than linux-cr holds",
									"%s: %zu values, %zu fit", member, vals, rows)))
						return r;
					continue;
				}
			}
		}
		if (row && (row->kind == BR_MAP || row->kind == BR_CODE))
			continue;
		if (fd->type == IMG_T_MESSAGE && fv->v.m && !row && !br_rows_under(c->t, root, full) &&
		    !br_rows_under(c->t, fv->v.m->desc->name, NULL)) {
			/* a message no row knows (a socket in files.img): one loss for all of it */
			char what[220];

			snprintf(what, sizeof(what), "%s.%s", root, full);
			r = br_lose(&c->loss, BR_STATE, what, "a kind of state the bridge does not carry", "%s (%s)", member,
				    fv->v.m->desc->name);
			if (r)
				return r;
			continue;
		}
		if (fd->type == IMG_T_MESSAGE && fv->v.m) {
			/* a sub-message: its fields by their own rows, or under the row for all of it */
			char sub[200];

			snprintf(sub, sizeof(sub), "%s", full);
			r = walk_msg(c, fv->v.m, row ? root : root, sub, member, row && row->kind == BR_CRIU ? row : NULL);
			if (r)
				return r;
			continue;
		}
		char what[220];

		snprintf(what, sizeof(what), "%s.%s", root, full);
		if (row && row->kind == BR_CRIU) {
			if (is_default(row, fd, fv)) {
				if (row->cls == BR_META && (r = br_lose(&c->loss, BR_META, what, row->why, "%s", member)))
					return r;
				continue;
			}
			r = br_lose(&c->loss, row->cls, what, row->why, "%s: %s = %llu", member, full,
				    (unsigned long long)(fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES ? fv->v.b.len
												: img_fval_u64(fd, fv)));
		} else {
			r = br_lose(&c->loss, BR_STATE, what, "a field the bridge has no place for", "%s", member);
		}
		if (r)
			return r;
	}
	return 0;
}

static int walk_member(void *arg, const char *member, uint64_t size)
{
	struct fc *c = arg;
	const struct br_image *im = br_find_image(c->t, member);
	const struct img_image *img;
	int r;

	(void)size;
	if (!im)
		return br_lose(&c->loss, BR_STATE, member, "an image of a kind the bridge does not carry", "%s", member);
	if (im->how == BR_IMG_META)
		return br_lose(&c->loss, BR_META, member, im->why, "%s", member);
	if (!strncmp(member, "pages-", 6))
		return 0;
	r = img_ckpt_image(c->ck, member, &img, c->err);
	if (r)
		return r;
	for (size_t i = 0; i < img->n; i++) {
		const struct img_msg *m = img->e[i].msg;
		char where[96];

		if (!m)
			continue;
		snprintf(where, sizeof(where), "%s entry %zu", member, i);
		if ((r = walk_msg(c, m, m->desc->name, "", where, NULL)))
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- header and tree */

static int header(struct fc *c)
{
	const struct img_lcr_struct *cs = img_lcr_struct_find(c->lay, "ckpt_const");
	const struct img_lcr_target *tg = c->target;
	unsigned a = 0, b = 0, p = 0;
	char rel[80], buf[512];
	int r;

	sscanf(tg && tg->kernel[0] ? tg->kernel : c->lay->ver->kernel, "%u.%u.%u", &a, &b, &p);
	if ((r = B(c, "HEADER")) || (r = S(c, "magic", IMG_LCR_MAGIC_HEAD)) || (r = S(c, "arch_id", (uint64_t)c->lay->arch_id)) ||
	    (r = S(c, "major", a)) || (r = S(c, "minor", b)) || (r = S(c, "patch", p)) ||
	    (r = S(c, "rev", (uint64_t)c->lay->ver->rev)))
		return r;
	for (uint32_t i = 0; cs && i < cs->nfields; i++) {
		char path[80];

		snprintf(path, sizeof(path), "constants.%s", cs->fields[i].name);
		if ((r = S(c, path, (uint64_t)dflt(c, cs->fields[i].name))))
			return r;
	}
	if ((r = S(c, "time", 0)) || (r = S(c, "uflags", c->uflags)))
		return r;
	snprintf(rel, sizeof(rel), "%s", tg && tg->release[0] ? tg->release : c->lay->ver->kernel);
	const char *uts[3] = { rel, "#1 SMP", "x86_64" };
	const char *lens[3] = { "uts_release_len", "uts_version_len", "uts_machine_len" };

	for (int i = 0; i < 3; i++) {
		size_t n = (size_t)dflt(c, lens[i]);

		if (n > sizeof(buf))
			return img_err_set(c->err, EINVAL, "%s: %zu bytes", lens[i], n);
		memset(buf, 0, sizeof(buf));
		snprintf(buf, n, "%s", uts[i]);
		if ((r = RAW(c, "BUFFER", buf, n)))
			return r;
	}
	if ((r = B(c, "HEADER_ARCH")) || (r = S(c, "has_fxsr", 1)) || (r = S(c, "has_xsave", (c->xcr0 & ~3ull) != 0)) ||
	    (r = S(c, "xstate_size", c->xstate_size)))
		return r;
	if (img_lcr_rectype_by_name(c->lay, "CONTAINER")) {
		const struct img_lcr_recdesc *d = img_lcr_rectype_by_name(c->lay, "CONTAINER")->desc;

		if ((r = B(c, "CONTAINER")))
			return r;
		if (d && d->nfollow) {
			int64_t max = 10;

			img_lcr_kv_get(c->lay->consts, c->lay->nconsts, "CHECKPOINT_LSM_NAME_MAX", &max);
			memset(buf, 0, sizeof(buf));
			snprintf(buf, sizeof(buf), "none");
			if (max + 1 > (int64_t)sizeof(buf) || (r = RAW(c, "BUFFER", buf, (size_t)max + 1)) ||
			    (r = RAW(c, "LSM_INFO", "none", 5)))
				return r ? r : img_err_set(c->err, EINVAL, "CHECKPOINT_LSM_NAME_MAX %lld", (long long)max);
		}
	}
	return 0;
}

static int pid_tag(struct fc *c, uint32_t pid)
{
	if (!c->npids)
		return (int)pid;
	if (!pid)
		return 0;
	for (size_t i = 0; i < c->npids; i++)
		if (c->pids[i] == pid)
			return c->pid_base + (int)i;
	return -1;
}

static int add_pid(struct fc *c, uint32_t pid)
{
	uint32_t *v;

	if (!pid)
		return 0;
	for (size_t i = 0; i < c->npids; i++)
		if (c->pids[i] == pid)
			return 0;
	v = img_realloc(c->pids, (c->npids + 1) * sizeof(*v));
	if (!v)
		return img_err_set(c->err, ENOMEM, "out of memory");
	c->pids = v;
	c->pids[c->npids++] = pid;
	return 0;
}

static int tree(struct fc *c, const struct img_task *const *tasks, size_t n, size_t nthreads)
{
	const struct img_lcr_rectype *rt = img_lcr_rectype_by_name(c->lay, "TREE");
	const struct img_lcr_struct *es = rt && rt->desc && rt->desc->nfollow
						  ? img_lcr_struct_find(c->lay, rt->desc->follow[0].elem) : NULL;
	uint8_t *buf;
	size_t k = 0;
	int r;

	if (!es)
		return img_err_set(c->err, EINVAL, "%s: the tables have no tree entry", c->lay->ver->name);
	if (c->npids) {
		/* v23: pid objects first (objrefs 1.., as the kernel numbers them), then the tree of their tags */
		uint8_t *p = img_calloc(c->npids, 8);

		if (!p)
			return img_err_set(c->err, ENOMEM, "out of memory");
		for (size_t i = 0; i < c->npids; i++)
			img_put_u32(p + 8 * i + 4, c->pids[i]);
		r = B(c, "PIDS");
		if (!r && !(r = S(c, "nr_pids", c->npids)) && !(r = S(c, "nr_vpids", 0)) && !(r = S(c, "offset", (uint64_t)c->pid_base)))
			r = RAW(c, "BUFFER", p, c->npids * 8);
		img_free(p);
		if (r)
			return r;
	}
	if ((r = B(c, "TREE")) || (r = S(c, "nr_tasks", nthreads)))
		return r;
	buf = img_calloc(nthreads ? nthreads : 1, es->size);
	if (!buf)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct img_task *t = tasks[i];

		for (size_t j = 0; j < t->nthreads; j++, k++) {
			const struct {
				const char *f;
				int64_t v;
			} fv[] = { { "vpid", pid_tag(c, t->threads[j].tid) }, { "vppid", pid_tag(c, t->ppid) },
				   { "vtgid", pid_tag(c, t->pid) },	      { "vpgid", pid_tag(c, t->pgid) },
				   { "vsid", pid_tag(c, t->sid) },	      { "rsid", pid_tag(c, t->sid) },
				   { "depth", 0 } };

			for (size_t f = 0; f < sizeof(fv) / sizeof(fv[0]); f++) {
				struct img_lcr_fref fr;

				if (!img_lcr_field_ref(es, fv[f].f, &fr))
					img_lcr_put(buf + k * es->size, fr.off, fr.f->type, (uint64_t)fv[f].v);
			}
		}
	}
	r = RAW(c, "BUFFER", buf, nthreads * es->size);
	img_free(buf);
	return r;
}

/* ---------------------------------------------------------------- credentials, namespaces */

static int cred(struct fc *c, const struct img_msg *cr, int32_t *out)
{
	struct img_buf enc;
	int32_t o, user, groups;
	int r;

	*out = 0;
	if (!cr)
		return 0;
	img_buf_init(&enc);
	if (img_pb_encode((struct img_msg *)cr, &enc))
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < c->ncreds; i++)
		if (c->creds[i].len == enc.len && !memcmp(c->creds[i].data, enc.data, enc.len)) {
			img_buf_free(&enc);
			*out = obj_get(c, K_CRED, i);
			return 0;
		}
	struct img_buf *v = img_realloc(c->creds, (c->ncreds + 1) * sizeof(*v));

	if (!v) {
		img_buf_free(&enc);
		return img_err_set(c->err, ENOMEM, "out of memory");
	}
	c->creds = v;
	c->creds[c->ncreds++] = enc;
	if (!c->userns) {
		if ((r = obj_new(c, K_USER, 1ull << 40, "USER_NS", &c->userns)) || (r = B(c, "USER_NS")) ||
		    (r = S(c, "creator_ref", 0)))
			return r;
	}
	uint64_t uid = img_msg_u64(cr, "uid", 0);

	user = obj_get(c, K_USER, uid);
	if (!user && ((r = obj_new(c, K_USER, uid, "USER", &user)) || (r = B(c, "USER")) || (r = S(c, "uid", uid)) ||
		      (r = S(c, "userns_ref", (uint64_t)c->userns))))
		return r;
	/* groups: one object per credentials (the kernel shares them more, restart does not care) */
	size_t ng = img_msg_count(cr, "groups");
	uint32_t *g = img_calloc(ng ? ng : 1, 4);
	struct img_iter it;
	uint64_t x;
	size_t k = 0;

	if (!g)
		return img_err_set(c->err, ENOMEM, "out of memory");
	img_iter_init(&it, cr, "groups");
	while (k < ng && img_iter_next_u64(&it, &x))
		img_put_u32((uint8_t *)&g[k++], (uint32_t)x);
	r = obj_new(c, K_GROUPS, c->ncreds, "GROUPINFO", &groups);
	if (!r && !(r = B(c, "GROUPINFO")) && !(r = S(c, "ngroups", k)) && k && img_lcr_w_add(c->w, g, k * 4))
		r = werr(c);
	img_free(g);
	if (r || (r = obj_new(c, K_CRED, c->ncreds - 1, "CRED", &o)) || (r = B(c, "CRED")))
		return r;
	if ((r = apply(c, "CRED", cr, "creds_entry")) || (r = S(c, "user_ref", (uint64_t)user)) ||
	    (r = S(c, "groupinfo_ref", (uint64_t)groups)))
		return r;
	*out = o;
	return 0;
}

/* The IPC sysctls of a 2.6.3x kernel: what a new IPC namespace starts with (CRIU keeps the host's none). */
static const struct {
	const char *f;
	uint64_t v;
} ipc_defaults[] = {
	{ "shm_ctlmax", 33554432 }, { "shm_ctlall", 2097152 }, { "shm_ctlmni", 4096 }, { "msg_ctlmax", 8192 },
	{ "msg_ctlmnb", 16384 },    { "msg_ctlmni", 1738 },    { "sem_ctl_msl", 250 }, { "sem_ctl_mns", 32000 },
	{ "sem_ctl_opm", 32 },      { "sem_ctl_mni", 128 },
};

static int nsproxy(struct fc *c, const struct img_task *t, int32_t *out)
{
	uint32_t uts = t->ns_id[IMG_NS_UTS], ipc = t->ns_id[IMG_NS_IPC];
	uint64_t key = (uint64_t)uts << 32 | ipc;
	int32_t o, u, i;
	int r;

	if ((o = obj_get(c, K_NS, key))) {
		*out = o;
		return 0;
	}
	if ((r = obj_new(c, K_NS, key, "NS", &o)))
		return r;
	if (!(u = obj_get(c, K_UTS, uts))) {
		char name[64], node[65] = "", dom[65] = "";
		const struct img_image *img = NULL;
		const char *f[12];

		snprintf(name, sizeof(name), "utsns-%u.img", uts);
		if (img_dir_has(img_ckpt_dir(c->ck), name) && !img_ckpt_image(c->ck, name, &img, NULL) && img_image_msg(img)) {
			size_t n;
			const uint8_t *p = img_msg_bytes(img_image_msg(img), "nodename", &n);

			snprintf(node, sizeof(node), "%.*s", (int)(n < 64 ? n : 64), p ? (const char *)p : "");
			p = img_msg_bytes(img_image_msg(img), "domainname", &n);
			snprintf(dom, sizeof(dom), "%.*s", (int)(n < 64 ? n : 64), p ? (const char *)p : "");
		}
		f[0] = "sysname", f[1] = "Linux", f[2] = "nodename", f[3] = node, f[4] = "release";
		f[5] = c->target && c->target->release[0] ? c->target->release : c->lay->ver->kernel;
		f[6] = "version", f[7] = "#1 SMP", f[8] = "machine", f[9] = "x86_64", f[10] = "domainname", f[11] = dom;
		if ((r = obj_new(c, K_UTS, uts, "UTS_NS", &u)) || (r = B(c, "UTS_NS")))
			return r;
		for (int k = 0; k < 12; k += 2)
			if (img_lcr_w_set_bytes(c->w, f[k], f[k + 1], strlen(f[k + 1])) && img_lcr_w_error(c->w, NULL))
				return werr(c);
	}
	if (!(i = obj_get(c, K_IPC, ipc))) {
		if ((r = obj_new(c, K_IPC, ipc, "IPC_NS", &i)) || (r = B(c, "IPC_NS")))
			return r;
		for (size_t k = 0; k < sizeof(ipc_defaults) / sizeof(ipc_defaults[0]); k++)
			if ((r = S(c, ipc_defaults[k].f, ipc_defaults[k].v)))
				return r;
	}
	if ((r = B(c, "NS")) || (r = S(c, "uts_objref", (uint64_t)u)) || (r = S(c, "ipc_objref", (uint64_t)i)) ||
	    (r = S(c, "net_objref", 0)))
		return r;
	*out = o;
	return 0;
}

/* ---------------------------------------------------------------- files */

static uint64_t fmode(uint32_t flags)
{
	/* FMODE_READ 1, FMODE_WRITE 2, FMODE_LSEEK 4, FMODE_PREAD 8, FMODE_PWRITE 0x10 */
	switch (flags & O_ACCMODE_) {
	case 0:
		return 0x1d;
	case 1:
		return 0x1e;
	default:
		return 0x1f;
	}
}

static int file_obj(struct fc *c, const struct img_file *f, int32_t cred, int32_t *out)
{
	int32_t o;
	int r;

	*out = obj_get(c, K_FILE, f->id);
	if (*out)
		return 0;
	snprintf(c->where, sizeof(c->where), "%s: file %u", f->image ? f->image : "files.img", f->id);
	if (f->type != 1 && f->type != 2)
		return br_lose(&c->loss, BR_STATE, f->type_name ? f->type_name : "file",
			       "a kind of file the bridge does not carry to linux-cr images", "%s (%s)", c->where,
			       f->path ? f->path : f->type_name ? f->type_name : "?");
	if (f->type == 1 && f->remap != IMG_REMAP_NONE &&
	    (r = br_lose(&c->loss, BR_STATE, "remapped files", "a deleted or unlinked file kept by CRIU (ghost, link remap)",
			 "%s (%s)", c->where, f->path ? f->path : "?")))
		return r;
	if ((r = obj_new(c, K_FILE, f->id, "FILE", &o)))
		return r;
	if (f->type == 1) {
		if ((r = B(c, "FILE/GENERIC")) || (r = S(c, "f_mode", fmode(f->flags))) || (r = S(c, "f_credref", (uint64_t)cred)) ||
		    (r = apply(c, "FILE/GENERIC", f->msg, "reg_file_entry")))
			return r;
		if ((r = RAW(c, "FILE_NAME", f->path ? f->path : "", strlen(f->path ? f->path : "") + 1)))
			return r;
		*out = o;
		return 0;
	}
	/* a pipe: the first end seen writes the pipe's data after itself */
	int32_t ino = obj_get(c, K_PIPE, f->pipe ? f->pipe->pipe_id : 0);
	int first = !ino;

	if (first && (r = obj_new(c, K_PIPE, f->pipe ? f->pipe->pipe_id : 0, NULL, &ino)))
		return r;
	if ((r = B(c, "FILE/PIPE")) || (r = S(c, "f_mode", fmode(f->flags))) || (r = S(c, "f_credref", (uint64_t)cred)) ||
	    (r = apply(c, "FILE/PIPE", f->msg, "pipe_entry")) || (r = S(c, "pipe_objref", (uint64_t)ino)))
		return r;
	if (first) {
		const struct img_pipe *p = f->pipe;

		if (p && p->bytes && !p->data)
			return img_err_set(c->err, EINVAL, "pipe %u: its %llu bytes of data are not readable", p->pipe_id,
					   (unsigned long long)p->bytes);
		if ((r = RAW(c, "PIPE_BUF", p && p->bytes ? p->data : NULL, p ? (size_t)p->bytes : 0)))
			return r;
		if (p && p->size && p->size != 65536 &&
		    (r = br_lose(&c->loss, BR_STATE, "pipe_data_entry.size", "the pipe's buffer size (F_SETPIPE_SZ)",
				 "pipe %u: %llu bytes", p->pipe_id, (unsigned long long)p->size)))
			return r;
	}
	*out = o;
	return 0;
}

static int file_table(struct fc *c, const struct img_task *t, int32_t cred, int32_t *out)
{
	int32_t o, *refs;
	size_t n = 0;
	int r = 0;

	if ((o = obj_get(c, K_FTABLE, t->files_id))) {
		*out = o;
		return 0;
	}
	/* the files first (the kernel writes each before the descriptor that uses it, inside the table) */
	refs = img_calloc(t->nfds ? t->nfds : 1, sizeof(*refs));
	if (!refs)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; !r && i < t->nfds; i++) {
		if (!t->fds[i].file) {
			r = img_err_set(c->err, EINVAL, "pid %u: fd %u refers to a file the set does not hold", t->pid,
					t->fds[i].fd);
			break;
		}
		r = file_obj(c, t->fds[i].file, cred, &refs[i]);
		n += refs[i] != 0;
	}
	if (!r && !(r = obj_new(c, K_FTABLE, t->files_id, "FILE_TABLE", &o)) && !(r = B(c, "FILE_TABLE")))
		r = S(c, "fdt_nfds", n);
	for (size_t i = 0; !r && i < t->nfds; i++) {
		if (!refs[i])
			continue; /* lossy: left out with its file */
		if (!(r = B(c, "FILE_DESC")) && !(r = S(c, "fd_objref", (uint64_t)refs[i])) &&
		    !(r = S(c, "fd_descriptor", t->fds[i].fd)))
			r = S(c, "fd_close_on_exec", t->fds[i].flags & 1);
	}
	img_free(refs);
	*out = o;
	return r;
}

static int fs_obj(struct fc *c, const struct img_task *t, int32_t *out)
{
	int32_t o;
	int r;

	*out = 0;
	if (!img_lcr_rectype_by_name(c->lay, "FS")) {
		if (t->cwd && t->cwd->path && strcmp(t->cwd->path, "/"))
			return br_lose(&c->loss, BR_STATE, "fs_entry", "the working directory: this version saved no fs_struct",
				       "pid %u: cwd %s", t->pid, t->cwd->path);
		return 0;
	}
	if ((o = obj_get(c, K_FS, t->fs_id))) {
		*out = o;
		return 0;
	}
	const char *root = t->root && t->root->path ? t->root->path : "/", *cwd = t->cwd && t->cwd->path ? t->cwd->path : "/";

	snprintf(c->where, sizeof(c->where), "fs-%u.img", t->pid);
	if ((r = obj_new(c, K_FS, t->fs_id, "FS", &o)) || (r = B(c, "FS")))
		return r;
	/* before v23 FS has no umask: restart keeps the restarting process's, which is 022 as a rule */
	r = img_lcr_w_set(c->w, "umask", t->umask);
	if (r == -ENOENT && t->umask != 022)
		r = br_lose(&c->loss, BR_STATE, "fs_entry.umask", "the file mode mask: this version keeps none",
			    "%s: umask 0%o", c->where, t->umask);
	else if (r && r != -ENOENT)
		return werr(c);
	else
		r = 0;
	if (r ||
	    (r = RAW(c, "FILE_NAME", root, strlen(root) + 1)) || (r = RAW(c, "FILE_NAME", cwd, strlen(cwd) + 1)))
		return r;
	*out = o;
	return 0;
}

/* ---------------------------------------------------------------- memory */

static const struct br_area *area_of(struct fc *c, const struct img_vma *v)
{
	for (size_t i = 0; i < c->t->nareas; i++) {
		const struct br_area *a = &c->t->areas[i];
		uint32_t bit = !strcmp(a->status, "VDSO") ? IMG_VMA_AREA_VDSO : !strcmp(a->status, "VVAR") ? IMG_VMA_AREA_VVAR
			     : !strcmp(a->status, "VSYSCALL") ? IMG_VMA_AREA_VSYSCALL : 0;

		if (v->status & bit)
			return a;
	}
	return NULL;
}

/* prot, MAP_* flags and madvise bits as the kernel's vm_flags; bits with no VM_ flag come back in *rest */
static uint64_t vm_flags(struct fc *c, const struct img_vma *v, uint64_t madv, uint64_t *rest)
{
	uint64_t f = 0, flags = v->flags & ~(uint64_t)(0x1 | 0x2 | 0x20), m = madv;

	for (size_t i = 0; i < c->t->nvms; i++) {
		const struct br_vm *b = &c->t->vms[i];

		if ((b->side == BR_VM_PROT && (v->prot & b->val)) || (b->side == BR_VM_MADV && (m & b->val)) ||
		    (b->side == BR_VM_FLAGS && b->val != 0x1 && (flags & b->val))) {
			f |= b->bit;
			if (b->side == BR_VM_MADV)
				m &= ~b->val;
			if (b->side == BR_VM_FLAGS)
				flags &= ~b->val;
		}
	}
	if (v->flags & 0x1)
		f |= 0x8 | 0x80; /* VM_SHARED | VM_MAYSHARE */
	f |= 0x10 | 0x40 | ((v->flags & 0x1) && !(v->prot & 2) ? 0 : 0x20); /* VM_MAYREAD, MAYEXEC, MAYWRITE */
	*rest = flags | (m << 32);
	return f;
}

/* x86 page protection bits of a mapping (protection_map: private writable pages are copy-on-write) */
static uint64_t page_prot(const struct img_vma *v)
{
	uint64_t p = 0x1 | 0x4 | 0x20; /* _PAGE_PRESENT, _PAGE_USER, _PAGE_ACCESSED */

	if ((v->flags & 0x1) && (v->prot & 2))
		p |= 0x2; /* _PAGE_RW */
	if (!(v->prot & 4))
		p |= 1ull << 63; /* _PAGE_NX */
	return p;
}

static int pages(struct fc *c, struct img_mem *m, const struct img_vma *v)
{
	uint32_t ls = c->lay->long_size, ps = c->lay->page_size;
	uint64_t addrs[CHUNK_PAGES];
	const uint8_t *data[CHUNK_PAGES];
	size_t n = 0;
	int r;

	if (v->start % ps || v->end % ps || v->end <= v->start)
		return img_err_set(c->err, EINVAL, "%s: a mapping that does not start and end on pages of %u bytes", c->where, ps);
	for (uint64_t a = v->start; a < v->end || n;) {
		struct img_mem_run run;

		if (a < v->end) {
			r = img_mem_run(m, a, v->end, &run, c->err);
			if (r)
				return r;
		}
		if (a < v->end && (run.state == IMG_PAGE_PRESENT || run.state == IMG_PAGE_PARENT) && run.data) {
			/* the run's bytes stay valid until the next img_mem_run: take what the chunk holds */
			uint64_t k = (run.end - a) / ps;

			if (!k) /* a run that ends inside a page: the pagemap does not lie on pages */
				return img_err_set(c->err, EINVAL, "%s: pages at 0x%llx end inside a page (0x%llx)", c->where,
						   (unsigned long long)a, (unsigned long long)run.end);
			if (k > CHUNK_PAGES - n)
				k = CHUNK_PAGES - n;
			for (uint64_t i = 0; i < k; i++) {
				addrs[n] = a + i * ps;
				data[n++] = run.data + i * ps;
			}
			a += k * ps;
			if (n < CHUNK_PAGES && a < v->end && a < run.end)
				continue;
		} else if (a < v->end) {
			if (run.state == IMG_PAGE_LAZY || run.state == IMG_PAGE_MISSING) {
				r = run.state == IMG_PAGE_MISSING
					    ? img_err_set(c->err, EINVAL, "pid %u: pages at 0x%llx..0x%llx are missing from the set",
							  0, (unsigned long long)a, (unsigned long long)run.end)
					    : br_lose(&c->loss, BR_STATE, "lazy pages", "pages left to a page server (lazy migration)",
						      "0x%llx..0x%llx", (unsigned long long)a, (unsigned long long)run.end);
				if (r)
					return r;
			}
			a = run.end;
			if (!n)
				continue;
		}
		if (!n)
			continue;
		/* a full chunk, or the end of what lies together: write it while the bytes are valid */
		uint8_t ab[CHUNK_PAGES * 8];

		for (size_t i = 0; i < n; i++)
			img_lcr_put(ab, (uint32_t)(i * ls), ls == 8 ? IMG_LCR_U64 : IMG_LCR_U32, addrs[i]);
		if ((r = B(c, "PGARR")) || (r = S(c, "nr_pages", n)) || (r = RAW(c, "BUFFER", NULL, 0)) ||
		    img_lcr_w_add(c->w, ab, n * ls))
			return r ? r : werr(c);
		for (size_t i = 0; i < n; i++) {
			const uint8_t *d = data[i];
			uint8_t page[8192];

			for (size_t k = 0; k < c->npatches && ps <= sizeof(page); k++) {
				struct patch *pt = &c->patches[k];

				if (pt->addr < addrs[i] || pt->addr + pt->n > addrs[i] + ps)
					continue;
				if (d != page) {
					memcpy(page, d, ps);
					d = page;
				}
				memcpy(page + (pt->addr - addrs[i]), pt->b, pt->n);
				pt->done = 1;
			}
			if (img_lcr_w_add(c->w, d, ps))
				return werr(c);
		}
		if ((r = img_lcr_w_drain(c->w, c->fd, c->err)))
			return r;
		n = 0;
	}
	return 0;
}

/*
 * rseq: linux-cr kernels have none (Linux 4.18).  emulate: the thread is
 * written as one whose registration failed (glibc's area: cpu_id_start 0,
 * cpu_id RSEQ_CPU_ID_REGISTRATION_FAILED), so glibc asks the kernel for the
 * CPU number; hope: the area stays as it is; bail: refused.
 */
static int rseq(struct fc *c, const struct img_task *t)
{
	static const uint8_t failed[8] = { 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff };
	int r;

	c->npatches = 0;
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct img_thread *th = &t->threads[i];
		uint64_t ptr = img_msg_u64(th->rseq, "rseq_abi_pointer", 0), cs = img_msg_u64(th->rseq, "rseq_cs_pointer", 0);
		struct patch *v;

		if (!ptr)
			continue;
		if (cs || c->target->policy != IMG_XF_EMULATE) {
			r = lcr_fit_decide(c->target, &c->loss, "rseq",
					   cs ? "the thread stopped inside an rseq critical section, which only a kernel with rseq aborts"
					      : "the thread registered an rseq area, and linux-cr kernels have no rseq (Linux 4.18)",
					   "thread %u: area 0x%llx%s", th->tid, (unsigned long long)ptr, cs ? ", in a critical section" : "");
			if (r)
				return r;
			continue;
		}
		v = img_realloc(c->patches, (c->npatches + 1) * sizeof(*v));
		if (!v)
			return img_err_set(c->err, ENOMEM, "out of memory");
		c->patches = v;
		c->patches[c->npatches++] = (struct patch){ ptr, { 0 }, 8, 0, th->tid };
		memcpy(c->patches[c->npatches - 1].b, failed, 8);
		lcr_fit_note(c->target, "emulate: rseq: thread %u's registration dropped and glibc's area at 0x%llx marked as "
			     "a failed one (cpu_id -2): glibc asks the kernel for the CPU number", th->tid, (unsigned long long)ptr);
	}
	return 0;
}

static int mm_obj(struct fc *c, const struct img_task *t, int32_t cred, int32_t *out)
{
	const struct img_mm *mm = t->mm;
	struct img_mem *mem = NULL;
	int32_t o, exe = 0;
	uint64_t vdso = 0;
	int r;

	if ((o = obj_get(c, K_MM, t->vm_id))) {
		*out = o;
		return 0;
	}
	/* the files it maps come before it */
	if (mm->exe && (r = file_obj(c, mm->exe, cred, &exe)))
		return r;
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].file && !area_of(c, &mm->vmas[i])) {
			int32_t fo;

			if ((r = file_obj(c, mm->vmas[i].file, cred, &fo)))
				return r;
		}
	snprintf(c->where, sizeof(c->where), "mm-%u.img", t->pid);
	if ((r = obj_new(c, K_MM, t->vm_id, "MM", &o)) || (r = B(c, "MM")) || (r = S(c, "map_count", mm->nvmas)) ||
	    (r = S(c, "exe_objref", (uint64_t)exe)) || (r = apply(c, "MM", mm->msg, "mm_entry")))
		return r;
	/* mm->flags: dumpable in the low bits, and the default core dump filter */
	if ((r = S(c, "flags", (uint64_t)(img_msg_has(mm->msg, "dumpable") ? img_msg_i64(mm->msg, "dumpable", 1) : 1) | 0x8c)))
		return r;
	/* the auxiliary vector: AT_VECTOR_SIZE values of the target kernel */
	int64_t nv = dflt(c, "at_vector_size"), esz = 8;

	img_lcr_kv_get(c->lay->props, c->lay->nprops, "auxv_entry", &esz);
	if (!nv)
		nv = dflt(c, "mm_saved_auxv_len") / esz;
	if (nv <= 0 || nv > 1024)
		return img_err_set(c->err, EINVAL, "%s: an auxv of %lld values", c->lay->ver->name, (long long)nv);
	uint8_t *aux = img_calloc((size_t)nv, (size_t)esz);

	if (!aux)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (mm->nauxv > (size_t)nv) {
		r = br_lose(&c->loss, BR_STATE, "mm_entry.mm_saved_auxv", "auxv entries past the target kernel's AT_VECTOR_SIZE",
			    "%s: %zu values, %lld fit", c->where, mm->nauxv, (long long)nv);
		if (r) {
			img_free(aux);
			return r;
		}
	}
	for (size_t k = 0; k < mm->nauxv && k < (size_t)nv; k++)
		img_lcr_put(aux, (uint32_t)(k * (size_t)esz), esz == 8 ? IMG_LCR_U64 : IMG_LCR_U32, mm->auxv[k]);
	r = RAW(c, "BUFFER", aux, (size_t)(nv * esz));
	img_free(aux);
	if (r || (r = rseq(c, t)) || (r = img_mem_open(c->ck, t, 0, &mem, c->err)))
		return r;
	for (size_t i = 0; !r && i < mm->nvmas; i++) {
		const struct img_vma *v = &mm->vmas[i];
		const struct br_area *area = area_of(c, v);
		const char *type = NULL;
		uint64_t madv = img_msg_u64(v->msg, "madv", 0), rest = 0, flags;
		int with_pages = 1;

		snprintf(c->where, sizeof(c->where), "mm-%u.img: vma 0x%llx-0x%llx", t->pid, (unsigned long long)v->start,
			 (unsigned long long)v->end);
		if (area) {
			type = area->vma_type;
			with_pages = 0;
			if (!strcmp(area->status, "VVAR"))
				madv &= ~(1ull << 16); /* MADV_DONTDUMP: the kernel's own */
			if (!strcmp(area->status, "VDSO")) {
				vdso = v->start;
				if ((r = lcr_fit_vdso(c->target, &c->loss, vdso, "the kernel CRIU dumped on")))
					break;
			}
		} else if (v->status & IMG_VMA_ANON_PRIVATE) {
			type = "ANON";
		} else if (v->status & IMG_VMA_FILE_PRIVATE) {
			type = "FILE";
		} else if (v->status & IMG_VMA_FILE_SHARED) { /* the file holds the pages */
			type = "SHM_FILE";
			with_pages = 0;
		}
		if (type && (v->status & ~(uint32_t)(IMG_VMA_AREA_REGULAR | IMG_VMA_AREA_STACK | IMG_VMA_AREA_VSYSCALL |
						      IMG_VMA_AREA_VDSO | IMG_VMA_AREA_HEAP | IMG_VMA_FILE_PRIVATE |
						      IMG_VMA_FILE_SHARED | IMG_VMA_ANON_PRIVATE | IMG_VMA_AREA_VVAR)))
			type = NULL;
		if (!type) {
			/* lossy: kept as anonymous memory without its pages, so that the mm keeps its VMAs */
			r = br_lose(&c->loss, BR_STATE, "vma_entry.status",
				    v->status & IMG_VMA_ANON_SHARED ? "shared anonymous memory" : "a kind of mapping the bridge does not carry",
				    "%s: status 0x%x", c->where, v->status);
			type = "ANON";
			with_pages = 0;
			if (r)
				break;
		}
		flags = vm_flags(c, v, madv, &rest);
		if (area)
			flags |= area->extra;
		if ((rest & 0xffffffff) && (r = br_lose(&c->loss, BR_STATE, "vma_entry.flags", "mapping flags with no VM_ flag",
							 "%s: 0x%llx", c->where, (unsigned long long)(rest & 0xffffffff))))
			break;
		if ((rest >> 32) && (r = br_lose(&c->loss, BR_STATE, "vma_entry.madv", "madvise() advice with no VM_ flag",
						 "%s: 0x%llx", c->where, (unsigned long long)(rest >> 32))))
			break;
		int64_t vt;

		if (img_lcr_enum_val(img_lcr_enum_find(c->lay, "vma"), type, &vt)) {
			r = img_err_set(c->err, EINVAL, "%s has no vma type %s", c->lay->ver->name, type);
			break;
		}
		int32_t fo = v->file && !area ? obj_get(c, K_FILE, v->file->id) : 0;

		if ((r = B(c, "VMA")) || (r = S(c, "vma_type", (uint64_t)vt)) || (r = S(c, "vma_objref", (uint64_t)fo)) ||
		    (r = S(c, "ino_objref", 0)) || (r = S(c, "vm_start", v->start)) || (r = S(c, "vm_end", v->end)) ||
		    (r = S(c, "vm_page_prot", page_prot(v))) || (r = S(c, "vm_flags", flags)) ||
		    (r = S(c, "vm_pgoff", fo ? v->pgoff / c->lay->page_size : v->start / c->lay->page_size)))
			break;
		if (fo && v->file->flags != img_msg_u64(v->msg, "fdflags", v->file->flags) &&
		    (r = br_lose(&c->loss, BR_META, "vma_entry.fdflags", "the open flags of a mapping's file (the file's are kept)",
				 "%s: 0x%llx", c->where, (unsigned long long)img_msg_u64(v->msg, "fdflags", 0))))
			break;
		if (!with_pages)
			continue;
		if ((r = img_lcr_w_drain(c->w, c->fd, c->err)) || (r = pages(c, mem, v)))
			break;
		if (!(r = B(c, "PGARR")))
			r = S(c, "nr_pages", 0);
	}
	img_mem_close(mem);
	for (size_t k = 0; !r && k < c->npatches; k++)
		if (!c->patches[k].done)
			r = img_err_set(c->err, EINVAL, "thread %u: its rseq area at 0x%llx is in no page the set holds: "
					"nothing to mark (--policy hope leaves it)", c->patches[k].tid,
					(unsigned long long)c->patches[k].addr);
	c->npatches = 0;
	if (r || (r = B(c, "MM_CONTEXT")) || (r = S(c, "vdso", vdso)) || (r = S(c, "ldt_entry_size", 8)) ||
	    (r = S(c, "nldt", 0)))
		return r;
	*out = o;
	return 0;
}

/* ---------------------------------------------------------------- signals */

static int sighand(struct fc *c, const struct img_task *t, int32_t *out)
{
	const struct img_lcr_struct *sa = img_lcr_struct_find(c->lay, "ckpt_sigaction");
	int64_t nsig = dflt(c, "signal_nsig");
	struct img_lcr_fref fh, ff, fr, fm;
	uint8_t *buf;
	int32_t o;
	int r;

	if ((o = obj_get(c, K_SIGHAND, t->sighand_id))) {
		*out = o;
		return 0;
	}
	if (!sa || nsig <= 0 || nsig > 64 || img_lcr_field_ref(sa, "_sa_handler", &fh) || img_lcr_field_ref(sa, "sa_flags", &ff) ||
	    img_lcr_field_ref(sa, "sa_restorer", &fr) || img_lcr_field_ref(sa, "sa_mask", &fm))
		return img_err_set(c->err, EINVAL, "%s: no ckpt_sigaction for %lld signals", c->lay->ver->name, (long long)nsig);
	buf = img_calloc((size_t)nsig, sa->size);
	if (!buf)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < t->nsigactions; i++) {
		const struct img_msg *m = t->sigactions[i];
		int sig = img_sigaction_signo(i);
		uint8_t *p;

		if (sig > nsig)
			break;
		p = buf + (size_t)(sig - 1) * sa->size;
		img_lcr_put(p, fh.off, IMG_LCR_U64, img_msg_u64(m, "sigaction", 0));
		img_lcr_put(p, ff.off, IMG_LCR_U64, img_msg_u64(m, "flags", 0));
		img_lcr_put(p, fr.off, IMG_LCR_U64, img_msg_u64(m, "restorer", 0));
		img_lcr_put(p, fm.off, IMG_LCR_U64, img_msg_u64(m, "mask", 0));
		if (img_msg_u64(m, "mask_extended", 0) &&
		    (r = br_lose(&c->loss, BR_STATE, "sa_entry.mask_extended", "blocked signals above 64", "pid %u", t->pid))) {
			img_free(buf);
			return r;
		}
	}
	r = obj_new(c, K_SIGHAND, t->sighand_id, "SIGHAND", &o);
	if (!r && !(r = B(c, "SIGHAND")) && img_lcr_w_add(c->w, buf, (size_t)nsig * sa->size))
		r = werr(c);
	img_free(buf);
	*out = o;
	return r;
}

static int put_sigset(struct fc *c, const char *path, uint64_t v)
{
	char p[64];
	int r;

	for (int i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "%s.sigset[%d]", path, i);
		if ((r = S(c, p, (v >> (8 * i)) & 0xff)))
			return r;
	}
	return 0;
}

/* A SIGPENDING record from a signal_queue_entry: the kernel's siginfo_t back into ckpt_siginfo. */
static int pending(struct fc *c, const struct img_msg *q)
{
	const struct img_lcr_struct *si = img_lcr_struct_find(c->lay, "ckpt_siginfo");
	size_t n = q ? img_msg_count(q, "signals") : 0;
	uint64_t set = 0;
	struct img_iter it;
	struct img_msg *e;
	int r;

	if ((r = B(c, "SIGPENDING")) || (r = S(c, "nr_pending", n)))
		return r;
	if (q && !img_iter_init(&it, q, "signals"))
		while ((e = img_iter_next_msg(&it))) {
			size_t len;
			const uint8_t *b = img_msg_bytes(e, "siginfo", &len);

			if (b && len >= 4 && img_get_u32(b) >= 1 && img_get_u32(b) <= 64)
				set |= 1ull << (img_get_u32(b) - 1);
		}
	if ((r = put_sigset(c, "signal", set)))
		return r;
	if (!n)
		return 0;
	if (!si)
		return img_err_set(c->err, EINVAL, "%s has no ckpt_siginfo", c->lay->ver->name);
	uint8_t *buf = img_calloc(n, si->size);

	if (!buf)
		return img_err_set(c->err, ENOMEM, "out of memory");
	img_iter_init(&it, q, "signals");
	for (size_t k = 0; k < n && (e = img_iter_next_msg(&it)); k++) {
		size_t len;
		const uint8_t *b = img_msg_bytes(e, "siginfo", &len);
		uint8_t in[128] = { 0 }, back[128];

		if (b)
			memcpy(in, b, len < sizeof(in) ? len : sizeof(in));
		br_siginfo_to_lcr(c->t, si, in, buf + k * si->size);
		/* what the ckpt_siginfo fields do not hold (a fault address, a child's status) is a loss */
		br_siginfo_to_criu(c->t, si, buf + k * si->size, back);
		if (memcmp(in, back, sizeof(in)) &&
		    (r = br_lose(&c->loss, BR_STATE, "siginfo_entry.siginfo", "members of a pending signal's siginfo that "
				 "linux-cr's ckpt_siginfo does not hold", "%s: signal %u", c->where, img_get_u32(in))))
			break;
	}
	if (r) {
		img_free(buf);
		return r;
	}
	if (img_lcr_w_add(c->w, buf, n * si->size))
		r = werr(c);
	img_free(buf);
	return r;
}

static int signal_struct(struct fc *c, const struct img_task *t)
{
	static const char *const it[3] = { "real", "virt", "prof" };
	char path[64];
	int r;

	snprintf(c->where, sizeof(c->where), "core-%u.img: tc", t->pid);
	if ((r = B(c, "SIGNAL")))
		return r;
	for (size_t k = 0; k < t->nrlimits; k++) {
		snprintf(path, sizeof(path), "rlim[%zu].rlim_cur", k);
		if ((r = S(c, path, img_msg_u64(t->rlimits[k], "cur", 0))))
			return r;
		snprintf(path, sizeof(path), "rlim[%zu].rlim_max", k);
		if ((r = S(c, path, img_msg_u64(t->rlimits[k], "max", 0))))
			return r;
	}
	for (int k = 0; k < 3; k++) {
		const struct img_msg *e = t->itimers[k];

		snprintf(path, sizeof(path), "it_%s_value", it[k]);
		if ((r = S(c, path, img_msg_u64(e, "vsec", 0) * 1000000000 + img_msg_u64(e, "vusec", 0) * 1000)))
			return r;
		snprintf(path, sizeof(path), "it_%s_incr", it[k]);
		if ((r = S(c, path, img_msg_u64(e, "isec", 0) * 1000000000 + img_msg_u64(e, "iusec", 0) * 1000)))
			return r;
	}
	if (t->nposix_timers && (r = br_lose(&c->loss, BR_STATE, "posix timers", "POSIX timers (timer_create)",
					      "pid %u: %zu timers", t->pid, t->nposix_timers)))
		return r;
	if ((r = S(c, "tty_objref", 0)))
		return r;
	return pending(c, t->pending);
}

/* ---------------------------------------------------------------- tasks */

static int cpu(struct fc *c, const struct img_thread *th)
{
	const struct img_msg *ti = img_msg_sub(th->core, "thread_info");
	uint8_t area[LCR_XSAVE_MAX];
	uint32_t len;
	uint64_t xcr0;
	int r;

	/* THREAD: the TLS descriptors inline */
	uint8_t tls[24] = { 0 };
	struct img_iter it;
	struct img_msg *u;
	size_t k = 0;

	if ((r = B(c, "THREAD")) || (r = S(c, "thread_info_flags", c->ctx.compat ? 1u << 17 : 0)) ||
	    (r = S(c, "gdt_entry_tls_entries", 3)) || (r = S(c, "sizeof_tls_array", sizeof(tls))))
		return r;
	img_iter_init(&it, ti, "tls");
	while ((u = img_iter_next_msg(&it)) && k < 3) {
		uint32_t lo, hi;

		lcr_desc_from_msg(u, &lo, &hi);
		img_put_u32(tls + 8 * k, lo);
		img_put_u32(tls + 8 * k + 4, hi);
		k++;
	}
	if (img_lcr_w_add(c->w, tls, sizeof(tls)))
		return werr(c);
	int64_t none = 1;

	img_lcr_enum_val(img_lcr_enum_find(c->lay, "restart_block"), "NONE", &none);
	if ((r = B(c, "RESTART_BLOCK")) || (r = S(c, "function_type", (uint64_t)none)))
		return r;
	if ((r = B(c, "CPU")) || (r = apply(c, "CPU", th->core, "core_entry")) || (r = S(c, "used_math", 1)))
		return r;
	if ((r = lcr_fpu_from_msg(img_msg_sub(ti, "fpregs"), area, sizeof(area), &len, &xcr0, c->err)))
		return r;
	/* into the header's layout: components it lacks go (a decision when they hold state) */
	uint64_t dirty = lcr_fpu_fit(area, xcr0, c->xcr0);

	if (dirty && (r = lcr_fit_decide(c->target, &c->loss, "FPU state",
					 "XSAVE components the target does not have, in use",
					 "thread %u: components 0x%llx", th->tid, (unsigned long long)dirty)))
		return r;
	return RAW(c, "CPU_FPU", area, c->xstate_size);
}

static int task(struct fc *c, const struct img_task *t, const struct img_thread *th, int32_t *signal)
{
	const struct img_msg *core = th->core;
	int zombie = t->state == IMG_TASK_ZOMBIE;
	int32_t cr = 0, ns = 0, ft = 0, mm = 0, fs = 0, sh = 0;
	char comm[64] = { 0 };
	int r;

	c->ctx.compat = img_msg_u64(img_msg_sub(img_msg_sub(core, "thread_info"), "gpregs"), "mode", 1) == 2;
	snprintf(c->where, sizeof(c->where), "core-%u.img", th->tid);
	if ((r = B(c, "TASK")) || (r = S(c, "state", 1)) || (r = S(c, "exit_state", zombie ? 16 : 0)) ||
	    (r = S(c, "exit_signal", 17)) || (r = apply(c, "TASK", core, "core_entry")))
		return r;
	if (c->lay->long_size == 8 && (r = S(c, "robust_futex_head_len", img_msg_u64(img_msg_sub(core, "thread_core"), "futex_rla_len", 24))))
		return r;
	snprintf(comm, sizeof(comm), "%s", th->comm ? th->comm : t->comm ? t->comm : "");
	if ((r = RAW(c, "STRING", comm, (size_t)dflt(c, "task_comm_len") > sizeof(comm) ? sizeof(comm)
										    : (size_t)dflt(c, "task_comm_len"))))
		return r;
	if (zombie)
		return 0;
	if ((r = cred(c, th->creds, &cr)) || (r = B(c, "TASK_CREDS")) || (r = S(c, "cred_ref", (uint64_t)cr)) ||
	    (r = S(c, "ecred_ref", (uint64_t)cr)))
		return r;
	if ((r = nsproxy(c, t, &ns)) || (r = B(c, "TASK_NS")) || (r = S(c, "ns_objref", (uint64_t)ns)))
		return r;
	if ((r = file_table(c, t, cr, &ft)) || (t->mm && (r = mm_obj(c, t, cr, &mm))) || (r = fs_obj(c, t, &fs)) ||
	    (r = sighand(c, t, &sh)))
		return r;
	int first = !*signal;

	if (first && (r = obj_new(c, K_SIGNAL, t->pid, NULL, signal)))
		return r;
	if ((r = B(c, "TASK_OBJS")) || (r = S(c, "files_objref", (uint64_t)ft)) || (r = S(c, "mm_objref", (uint64_t)mm)) ||
	    (r = S(c, "fs_objref", (uint64_t)fs)) || (r = S(c, "sem_undo_objref", 0)) ||
	    (r = S(c, "sighand_objref", (uint64_t)sh)) || (r = S(c, "signal_objref", (uint64_t)*signal)))
		return r;
	if (first && (r = signal_struct(c, t)))
		return r;
	snprintf(c->where, sizeof(c->where), "core-%u.img", th->tid);
	if ((r = cpu(c, th)) || (r = B(c, "SIGNAL_TASK")) || (r = put_sigset(c, "blocked", th->blocked)))
		return r;
	if ((r = pending(c, th->pending)))
		return r;
	return img_lcr_w_drain(c->w, c->fd, c->err);
}

int img_lcr_from_ckpt(struct img_ckpt *ck, const struct img_lcr_from_opts *o, int fd, struct img_err *err)
{
	const struct img_lcr_tables *tabs = img_lcr_tables_default();
	const struct img_lcr_version *v = img_lcr_version_find(tabs, o->to);
	const struct img_task *const *tasks;
	struct fc c = { 0 };
	size_t n, nthreads = 0;
	int r;

	if (!v)
		return img_err_set(err, EINVAL, "unknown linux-cr version '%s'", o->to);
	c.ck = ck;
	c.err = err;
	c.fd = fd;
	c.next = 1;
	/* decisions go through a target: the one given, or the version's own kernel */
	struct img_lcr_target own = { .policy = o->policy, .name = "a linux-cr kernel", .note = o->decided, .arg = o->arg };

	c.target = o->target ? o->target : &own;
	c.loss.err = err;
	c.loss.flags = o->flags;
	c.loss.other = "a linux-cr image";
	c.loss.subject = img_ckpt_dir(ck)->path;
	c.lay = img_lcr_layout_find(v, "x86_64");
	if (!c.lay) {
		img_err_subject(err, img_ckpt_dir(ck)->path);
		return img_err_set(err, ENOTSUP, "%s has no x86_64 layout in the tables (the sources give i386 only)", v->name);
	}
	if ((r = br_table(&c.t, err)))
		return r;
	c.ctx.t = c.t;
	c.ctx.lay = c.lay;
	tasks = img_ckpt_tasks(ck, &n);
	if (!n) {
		r = img_err_set(err, EINVAL, "the set holds no task");
		goto out;
	}
	/*
	 * v23 pid objects: every pid of the tree, the tasks' own first, then
	 * parents, groups and sessions (the order the version converter uses, so
	 * that a downgrade and upgrade come back byte for byte)
	 */
	if (img_lcr_rectype_by_name(c.lay, "PIDS")) {
		for (size_t i = 0; !r && i < n; i++)
			for (size_t j = 0; !r && j < tasks[i]->nthreads; j++)
				r = add_pid(&c, tasks[i]->threads[j].tid);
		for (size_t i = 0; !r && i < n; i++)
			for (size_t j = 0; !r && j < tasks[i]->nthreads; j++)
				if ((r = add_pid(&c, tasks[i]->ppid)) || (r = add_pid(&c, tasks[i]->pid)) ||
				    (r = add_pid(&c, tasks[i]->pgid)))
					break;
				else
					r = add_pid(&c, tasks[i]->sid);
		if (r)
			goto out;
		c.pid_base = 1;
	}
	c.next = (int32_t)c.npids + 1;
	/* nothing is dropped unseen: every member and field must have a place */
	if ((r = img_dir_each(img_ckpt_dir(ck), walk_member, &c)))
		goto out;
	/* the FPU areas: the header says one layout for all */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < tasks[i]->nthreads; j++) {
			const struct img_thread *th = &tasks[i]->threads[j];
			const struct img_msg *fp = img_msg_sub(img_msg_sub(th->core, "thread_info"), "fpregs");
			uint8_t area[LCR_XSAVE_MAX];
			uint32_t len;
			uint64_t xcr0;

			nthreads++;
			if (strcmp(th->arch, "x86_64")) {
				r = img_err_set(err, ENOTSUP, "core-%u.img: an %s thread: linux-cr images hold x86 tasks here",
						th->tid, th->arch);
				goto out;
			}
			if (tasks[i]->state == IMG_TASK_ZOMBIE)
				continue;
			if (!fp) {
				r = img_err_set(err, EINVAL, "core-%u.img: thread_info has no fpregs", th->tid);
				goto out;
			}
			if ((r = lcr_fpu_from_msg(fp, area, sizeof(area), &len, &xcr0, err))) {
				img_err_prefix(err, "core-%u.img", th->tid);
				goto out;
			}
			c.xcr0 |= xcr0;
		}
	}
	if (c.target->xsave_known) {
		if (c.xcr0 != c.target->xcr0)
			lcr_fit_note(c.target, "emulate: FPU: XSAVE areas of %u bytes, as %s keeps them (components 0x%llx; the "
				     "set's hold 0x%llx): components it lacks are dropped where they hold their initial state",
				     lcr_xsave_size(c.target->xcr0), c.target->name, (unsigned long long)c.target->xcr0,
				     (unsigned long long)c.xcr0);
		c.xcr0 = c.target->xcr0;
	}
	if ((r = lcr_fit_arch(c.target, &c.loss, "x86_64", 4096)))
		goto out;
	c.xstate_size = lcr_xsave_size(c.xcr0);
	c.w = img_lcr_writer_new(tabs, c.lay);
	if (!c.w) {
		r = img_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* uflags: CHECKPOINT_SUBTREE unless the root task has namespaces of its own (a container) */
	{
		const struct img_msg *root = img_msg_sub(img_ckpt_inventory(ck), "root_ids");
		const struct img_task *t0 = tasks[0];

		c.uflags = !root || (img_msg_u64(root, "uts_ns_id", 0) == t0->ns_id[IMG_NS_UTS] &&
				     img_msg_u64(root, "ipc_ns_id", 0) == t0->ns_id[IMG_NS_IPC]);
	}
	if ((r = header(&c)) || (r = tree(&c, tasks, n, nthreads)))
		goto out;
	for (size_t i = 0; i < n && !r; i++) {
		int32_t signal = 0;

		for (size_t j = 0; j < tasks[i]->nthreads && !r; j++)
			r = task(&c, tasks[i], &tasks[i]->threads[j], &signal);
	}
	if (!r && !(r = B(&c, "TAIL")) && !(r = S(&c, "magic", IMG_LCR_MAGIC_TAIL)))
		r = img_lcr_w_drain(c.w, fd, err);
	if (!r) {
		struct img_buf rest;

		if (!(r = img_lcr_w_finish(c.w, &rest, err))) {
			/* the TAIL is the record begun last: it goes too */
			ssize_t w = rest.len ? write(fd, rest.data, rest.len) : 0;

			if (w != (ssize_t)rest.len)
				r = img_err_set(err, errno ? errno : EIO, "write error: %s", strerror(errno ? errno : EIO));
			img_buf_free(&rest);
		}
	}
	if (!r && o->note)
		br_losses_report(&c.loss, o->note, o->arg);
out:
	img_lcr_writer_free(c.w);
	br_losses_free(&c.loss);
	img_free(c.objs);
	img_free(c.pids);
	img_free(c.patches);
	for (size_t i = 0; i < c.ncreds; i++)
		img_buf_free(&c.creds[i]);
	img_free(c.creds);
	return r;
}
