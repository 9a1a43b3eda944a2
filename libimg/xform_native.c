/*
 * Actions that know what CRIU's fields mean: paths (map-path), socket
 * addresses (map-ip), files that changed since the dump (refresh-file), a
 * thread's share of its task (copy-from-leader), the PE_LAZY flag as CRIU's
 * dumper sets it (lazy-flags), and task memory (patch-memory).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "xform_int.h"

/* Paths: old, or under old/, get new in its place. */
static int map_one(const char *p, size_t n, const char *old, const char *new_, struct img_buf *out)
{
	size_t ol = strlen(old);

	while (ol > 1 && old[ol - 1] == '/')
		ol--;
	if (n < ol || memcmp(p, old, ol) || (n > ol && p[ol] != '/' && !(ol == 1 && old[0] == '/')))
		return 0;
	size_t nl = strlen(new_);

	while (nl > 1 && new_[nl - 1] == '/')
		nl--;
	out->len = 0;
	if (ol == 1 && old[0] == '/' && n > 1) {
		/* "/" maps every absolute path: "/a" under "/srv" is "/srv/a" */
		img_buf_add(out, new_, nl);
		if (nl == 1 && new_[0] == '/')
			out->len = 0;
		img_buf_add(out, p, n);
	} else {
		img_buf_add(out, new_, nl);
		img_buf_add(out, p + ol, n - ol);
	}
	return out->failed ? -ENOMEM : 1;
}

int xf_map_path_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	const struct xf_action *a = arg;
	struct img_buf out;
	int r = 0;

	img_buf_init(&out);
	for (uint32_t i = 0; i < m->n && !r; i++) {
		struct img_fval *f = &m->f[i];
		const char *p;
		size_t n;
		int nul = 0, hit = 0;

		if (f->num != fd->num || f->fi == IMG_FI_UNKNOWN || f->wt != IMG_WT_LEN)
			continue;
		p = (const char *)f->v.b.p;
		n = f->v.b.len;
		if (a->unix_name) {
			/* abstract names start with a NUL byte: not paths; a path name may end with its NUL */
			if (!n || !p[0])
				continue;
			if (p[n - 1] == 0) {
				nul = 1;
				n--;
			}
		}
		if (!n || p[0] != '/')
			continue; /* relative names (unix sockets: name_dir holds the folder) are left */
		if (a->old)
			hit = map_one(p, n, a->old, a->new_, &out);
		for (size_t k = 0; !a->old && !hit && k < c->o->npaths; k++)
			hit = map_one(p, n, c->o->paths[k].old, c->o->paths[k].new_, &out);
		if (hit < 0)
			r = img_err_set(c->err, ENOMEM, "out of memory");
		if (hit <= 0)
			continue;
		if (nul)
			img_buf_addc(&out, 0);
		if (a->unix_name && out.len > 108) {
			r = xf_efail(c, "%s would be %zu bytes long: a unix socket name holds at most 108 (sun_path)",
				  a->path.text, out.len);
			break;
		}
		if (out.failed || out.len > UINT32_MAX) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		char *before = xf_render(c, m, fd);
		uint8_t *np = img_arena_alloc(xf_arena_of(c), out.len ? out.len : 1);

		if (!np) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		memcpy(np, out.data, out.len);
		f->v.b.p = np;
		f->v.b.len = (uint32_t)out.len;
		img_msg_touch(m);
		r = xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, xf_render(c, m, fd), NULL, -1);
	}
	img_buf_free(&out);
	return r;
}

/* Address words as CRIU keeps them: network-order bytes read as host u32s. */
static void words_to_bytes(const uint32_t *w, size_t n, uint8_t *b)
{
	for (size_t i = 0; i < n; i++)
		img_put_u32(b + 4 * i, w[i]);
}

static int ip_match(const struct img_xf_ipmap *mp, const uint8_t *b, size_t blen, size_t at)
{
	unsigned bits = mp->plen;

	for (size_t i = 0; bits && i < 16; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));

		if (at + i >= blen || (b[at + i] & mask) != (mp->old[i] & mask))
			return 0;
		bits -= take;
	}
	return 1;
}

static void ip_apply(const struct img_xf_ipmap *mp, uint8_t *b, size_t at)
{
	unsigned bits = mp->plen;

	for (size_t i = 0; bits && i < 16; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));

		b[at + i] = (uint8_t)((b[at + i] & ~mask) | (mp->new_[i] & mask));
		bits -= take;
	}
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int xf_map_ip_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	struct ip_arg *ia = arg;
	uint32_t w[4];
	uint8_t b[16];
	size_t n = 0;
	struct img_iter it;
	uint64_t v;
	int hit = 0;

	img_iter_init(&it, m, fd->name);
	while (img_iter_next_u64(&it, &v))
		if (n++ < 4)
			w[n - 1] = (uint32_t)v;
	if (n != 1 && n != 4)
		return 0;
	words_to_bytes(w, n, b);
	for (size_t k = 0; k < c->o->nips && !hit; k++) {
		const struct img_xf_ipmap *mp = &c->o->ips[k];

		if (n == 1 && mp->family == AF_INET && ia->family == AF_INET && ip_match(mp, b, 4, 0)) {
			ip_apply(mp, b, 0);
			hit = 1;
		} else if (n == 4 && mp->family == AF_INET6 && ip_match(mp, b, 16, 0)) {
			ip_apply(mp, b, 0);
			hit = 1;
		} else if (n == 4 && mp->family == AF_INET && !memcmp(b, v4mapped, 12) && ip_match(mp, b, 16, 12)) {
			ip_apply(mp, b, 12);
			hit = 1;
		}
	}
	if (!hit)
		return 0;
	char *before = xf_render(c, m, fd);

	img_msg_del(m, fd->name);
	for (size_t i = 0; i < n; i++) {
		struct img_fval *f = img_msg_insert(xf_arena_of(c), m, fd);

		if (!f)
			return img_err_set(c->err, ENOMEM, "out of memory");
		f->v.u = img_get_u32(b + 4 * i);
	}
	return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, ia->a->path.text, before, xf_render(c, m, fd), NULL, -1);
}

static int load_remaps(struct xf_ctx *c)
{
	struct img_image *img;

	if (c->remap_loaded)
		return 0;
	c->remap_loaded = 1;
	if (!img_set_has(c->set, "remap-fpath.img"))
		return 0;
	if (img_set_image(c->set, "remap-fpath.img", &img, c->err))
		return -EINVAL;
	c->remapped = img_calloc(img->n ? img->n : 1, sizeof(*c->remapped));
	if (!c->remapped)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n; i++)
		c->remapped[c->nremapped++] = img_msg_u64(img->e[i].msg, "orig_id", 0);
	return 0;
}

int xf_act_refresh(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_msg *r = a->path.n ? img_msg_sub(xf_holder(NULL, m, &a->path, 0), a->path.fd[a->path.n - 1]->name) : m;
	char path[4096], before[64], after[64], field[300];
	struct stat st;
	size_t n;
	const uint8_t *name;
	uint64_t id;

	if (!r || !(name = img_msg_bytes(r, "name", &n)) || !n || name[0] != '/' || memchr(name, 0, n))
		return 0;
	if (load_remaps(c))
		return -EINVAL;
	id = img_msg_u64(r, "id", 0);
	for (size_t i = 0; i < c->nremapped; i++)
		if (c->remapped[i] == id)
			return 0; /* a ghost or linked remap: the dumped file is not at its name */
	const char *root = c->o->root && c->o->root[0] ? c->o->root : "/";
	size_t rl = strlen(root);

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (snprintf(path, sizeof(path), "%.*s%.*s", rl == 1 && root[0] == '/' ? 0 : (int)rl, root, (int)n,
		     (const char *)name) >= (int)sizeof(path))
		return 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	const struct img_fielddesc *sfd = img_msgdesc_field_by_name(r->desc, "size");
	const struct img_fielddesc *mfd = img_msgdesc_field_by_name(r->desc, "mode");
	char *b, *af;

	if (img_msg_has(r, "size") && img_msg_u64(r, "size", 0) != (uint64_t)st.st_size) {
		/* as crit --pretty prints them */
		b = xf_render(c, r, sfd);
		if (img_msg_set_u64(xf_arena_of(c), r, "size", (uint64_t)st.st_size))
			return img_err_set(c->err, ENOMEM, "out of memory");
		af = xf_render(c, r, sfd);
		snprintf(before, sizeof(before), "%s", b ? b : "null");
		snprintf(after, sizeof(after), "%s", af ? af : "null");
		snprintf(field, sizeof(field), "%s%ssize", a->path.text, a->path.n ? "." : "");
		if (xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, field, before, after, NULL, -1))
			return -EINVAL;
		if (img_msg_has(r, "build_id") && c->rep)
			img_xf_report_warn(c->rep, "%s entry %zu: %.*s changed size and has a build-id, which is kept: "
					   "CRIU refuses a file whose contents changed", c->member, c->idx, (int)n, name);
	}
	if (img_msg_has(r, "mode") && img_msg_u64(r, "mode", 0) != (uint64_t)st.st_mode) {
		b = xf_render(c, r, mfd);
		if (img_msg_set_u64(xf_arena_of(c), r, "mode", (uint64_t)st.st_mode))
			return img_err_set(c->err, ENOMEM, "out of memory");
		af = xf_render(c, r, mfd);
		snprintf(before, sizeof(before), "%s", b ? b : "null");
		snprintf(after, sizeof(after), "%s", af ? af : "null");
		snprintf(field, sizeof(field), "%s%smode", a->path.text, a->path.n ? "." : "");
		if (xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, field, before, after, NULL, -1))
			return -EINVAL;
	}
	return 0;
}

int xf_act_copy_from_leader(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	int leader;
	struct img_msg *lc = xf_leader_core(c, &leader), *lh, *h;
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];
	const struct img_fval *lf;

	if (!lc || leader)
		return 0;
	lh = xf_holder(NULL, lc, &a->path, 0);
	lf = lh ? img_msg_get_num(lh, fd->num) : NULL;
	h = xf_holder(NULL, m, &a->path, 0);
	if (!lf || (h && img_msg_get_num(h, fd->num)))
		return 0;
	h = xf_holder(xf_arena_of(c), m, &a->path, 1);
	if (!h)
		return img_err_set(c->err, ENOMEM, "out of memory");
	struct img_fval *f = img_msg_insert(xf_arena_of(c), h, fd);

	if (!f)
		return img_err_set(c->err, ENOMEM, "out of memory");
	f->wt = lf->wt;
	f->packed = lf->packed;
	f->v = lf->v;
	if (fd->type == IMG_T_MESSAGE && !(f->v.m = img_msg_dup(xf_arena_of(c), lf->v.m)))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, NULL, xf_render(c, h, fd), NULL, -1);
}

/*
 * PE_LAZY as CRIU's dumper sets it (criu/mem.c generate_iovs): pages of VMAs
 * that may be lazy (the table's "vma" conditions), unless is_stack() says the
 * page holds a thread's stack pointer.  is_stack() compares the offsets within
 * the page, not the pages ((sp ^ vaddr) & ~PAGE_MASK): it is true for every
 * page when some thread's stack pointer is page aligned, and for none
 * otherwise.  What CRIU does is what the images hold, so that is what this does.
 */
struct lazy_vma {
	uint64_t start, end;
	int lazy;
};

struct lazy_cache {
	const struct xf_action *a;
	uint64_t id;
	struct lazy_vma *v;
	size_t n;
	int sp_aligned;
};

void xf_lazy_free(struct lazy_cache *lc)
{
	if (lc)
		img_free(lc->v);
	img_free(lc);
}

static int lazy_vmas(struct xf_ctx *c, const struct xf_action *a, struct lazy_vma **out, size_t *n, int *sp_aligned)
{
	char name[64];
	struct img_image *mm = NULL;
	struct img_msg *src = NULL;
	struct img_iter it;
	struct img_msg *v;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	*sp_aligned = 0;
	snprintf(name, sizeof(name), "mm-%llu.img", (unsigned long long)c->id);
	if (img_set_has(c->set, name)) {
		if (img_set_image(c->set, name, &mm, c->err))
			return -EINVAL;
		src = img_image_msg(mm);
	}
	snprintf(name, sizeof(name), "vmas-%llu.img", (unsigned long long)c->id);
	struct img_image *vi = NULL;

	if ((!src || !img_msg_count(src, "vmas")) && img_set_has(c->set, name) && img_set_image(c->set, name, &vi, c->err))
		return -EINVAL;
	size_t total = vi ? vi->n : src ? img_msg_count(src, "vmas") : 0;

	*out = img_calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (!vi)
		img_iter_init(&it, src, "vmas");
	for (size_t i = 0; i < total; i++) {
		int ok;

		v = vi ? vi->e[i].msg : img_iter_next_msg(&it);
		if (!v)
			break;
		if (xf_cond_all(c, a->vma_when, a->nvma_when, v, name, &ok))
			return -EINVAL;
		(*out)[cnt].start = img_msg_u64(v, "start", 0);
		(*out)[cnt].end = img_msg_u64(v, "end", 0);
		(*out)[cnt].lazy = ok;
		cnt++;
	}
	*n = cnt;
	if (xf_load_tasks(c))
		return -EINVAL;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct img_image *core;
		uint64_t sp;

		if (c->tasks[i].pid != c->id)
			continue;
		snprintf(name, sizeof(name), "core-%u.img", c->tasks[i].tid);
		if (!img_set_has(c->set, name) || img_set_image(c->set, name, &core, c->err))
			continue;
		for (size_t k = 0; k < a->nsp; k++)
			if (xf_get_u64(img_image_msg(core), &a->sp[k], &sp)) {
				if (!(sp & (IMG_PAGE_SIZE - 1)))
					*sp_aligned = 1;
				break;
			}
	}
	return 0;
}

static int page_lazy(const struct lazy_vma *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < v[mid].start)
			hi = mid;
		else if (addr >= v[mid].end)
			lo = mid + 1;
		else
			return v[mid].lazy;
	}
	return 0;
}

int xf_act_lazy_flags(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct lazy_vma *v;
	size_t nv;
	int aligned, r;
	uint64_t addr, cnt, first, want;
	const char *cntf = img_msg_has(m, "nr_pages") ? "nr_pages" : "compat_nr_pages";
	char *before, *after;

	if (!c->has_id)
		return xf_efail(c, "lazy-flags works on pagemap-PID.img");
	addr = img_msg_u64(m, "vaddr", 0);
	cnt = img_msg_u64(m, cntf, 0);
	if (!c->lazy || c->lazy->a != a || c->lazy->id != c->id) {
		if (!c->lazy && !(c->lazy = img_calloc(1, sizeof(*c->lazy))))
			return img_err_set(c->err, ENOMEM, "out of memory");
		img_free(c->lazy->v);
		c->lazy->v = NULL;
		c->lazy->a = NULL;
		r = lazy_vmas(c, a, &c->lazy->v, &c->lazy->n, &c->lazy->sp_aligned);
		if (r)
			return r;
		c->lazy->a = a;
		c->lazy->id = c->id;
	}
	v = c->lazy->v;
	nv = c->lazy->n;
	aligned = c->lazy->sp_aligned;
	first = !aligned && page_lazy(v, nv, addr);
	/* an entry whose pages differ is cut where they change: CRIU's dumper makes one entry per kind of page */
	for (uint64_t k = 1; k < cnt && k < (UINT64_MAX - addr) / IMG_PAGE_SIZE; k++) {
		int lz = !aligned && page_lazy(v, nv, addr + k * IMG_PAGE_SIZE);

		if ((uint64_t)lz == first)
			continue;
		struct img_msg *d = img_msg_dup(xf_arena_of(c), m);

		if (!d || img_msg_set_u64(xf_arena_of(c), d, cntf, cnt - k) ||
		    img_msg_set_u64(xf_arena_of(c), d, "vaddr", addr + k * IMG_PAGE_SIZE) ||
		    img_msg_set_u64(xf_arena_of(c), m, cntf, k) ||
		    xf_insert_entry(c->img, c->idx + 1, c->img->e[c->idx].desc, d))
			return img_err_set(c->err, ENOMEM, "out of memory");
		char b1[32], b2[32];

		snprintf(b1, sizeof(b1), "%llu", (unsigned long long)cnt);
		snprintf(b2, sizeof(b2), "2");
		if (xf_record(c, IMG_XF_OP_SPLIT, c->member, (int64_t)c->idx, cntf, b1, b2, NULL, -1))
			return -EINVAL;
		/* the rest is looked at as the next entry */
		break;
	}
	want = a->present_bits | (first ? a->lazy_bits : 0);
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];

	before = xf_render(c, m, fd);
	if (img_msg_set_u64(xf_arena_of(c), m, fd->name, want))
		return img_err_set(c->err, ENOMEM, "out of memory");
	after = xf_render(c, m, fd);
	if (xf_same_str(before, after))
		return 0;
	return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

int xf_act_patch(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char member[256], field[64], before[40], after[40];
	uint64_t addr, off;
	uint32_t pid;
	struct img_src *src;

	if (!xf_get_u64(m, &a->path, &addr) || !addr)
		return 0;
	if (addr > UINT64_MAX - a->offset)
		return xf_efail(c, "%s + %llu is past the address space", a->path.text, (unsigned long long)a->offset);
	addr += a->offset;
	if (!c->o->mem || !c->o->mem->locate)
		return xf_efail(c, "patching task memory needs the memory API, and none was given");
	pid = c->has_id ? xf_task_of(c, (uint32_t)c->id) : 0;
	if (!pid)
		return xf_efail(c, "no task in pstree.img has thread %llu", (unsigned long long)c->id);
	if (c->o->mem->locate(c->o->mem->arg, c->set, pid, addr, a->bytes.n, member, sizeof(member), &off, c->err))
		return -EINVAL;
	if (img_dir_get(img_set_dir(c->set), member, &src, c->err))
		return -EINVAL;
	uint8_t old[8];

	if (off > src->size || src->size - off < a->bytes.n || a->bytes.n > sizeof(old) ||
	    img_src_pread(src, old, a->bytes.n, off, c->err)) {
		img_src_unref(src);
		return xf_efail(c, "%s has no bytes at 0x%llx", member, (unsigned long long)off);
	}
	img_src_unref(src);
	size_t o = 0;

	for (size_t i = 0; i < a->bytes.n; i++)
		o += (size_t)snprintf(before + o, sizeof(before) - o, "%02x", old[i]);
	o = 0;
	for (size_t i = 0; i < a->bytes.n; i++)
		o += (size_t)snprintf(after + o, sizeof(after) - o, "%02x", a->bytes.p[i]);
	if (!strcmp(before, after))
		return 0;
	if (img_set_patch(c->set, member, off, a->bytes.p, a->bytes.n, c->err))
		return -EINVAL;
	snprintf(field, sizeof(field), "0x%llx", (unsigned long long)addr);
	char bq[48], aq[48];

	snprintf(bq, sizeof(bq), "\"%s\"", before);
	snprintf(aq, sizeof(aq), "\"%s\"", after);
	return xf_record(c, IMG_XF_OP_PATCH, member, (int64_t)off, field, bq, aq, NULL, -1);
}

