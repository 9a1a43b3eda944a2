/*
 * Two decoded messages of one kind, compared field by field: scalars by value,
 * strings and bytes by content, nested messages recursively, repeated fields
 * element by element ([i] in the path), unknown fields by their raw bytes.
 * Messages whose encoded bytes are the same are equal without a walk.
 *
 * Some fields hold ids that only link entries of one image set (a file id, a
 * socket's inode): they are compared as what they link to (the file's path,
 * the peer socket), so that two sets that number their files differently
 * compare equal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* Values */

static void w_msg(struct img_jw *w, const struct dval *v, int pretty)
{
	img_msg_to_json(w, v->m, pretty, v->hex);
}

void val_msg(struct dval *v, const struct img_msg *m, int hex)
{
	memset(v, 0, sizeof(*v));
	v->fn = w_msg;
	v->m = m;
	v->hex = hex;
}

static void w_str(struct img_jw *w, const struct dval *v, int pretty)
{
	(void)pretty;
	img_jw_strn(w, v->p, v->n);
}

void val_str(struct dval *v, const char *s)
{
	memset(v, 0, sizeof(*v));
	v->fn = w_str;
	v->p = s;
	v->n = strlen(s);
}

static void w_u64(struct img_jw *w, const struct dval *v, int pretty)
{
	(void)pretty;
	img_jw_u64(w, v->u);
}

void val_u64(struct dval *v, uint64_t u)
{
	memset(v, 0, sizeof(*v));
	v->fn = w_u64;
	v->u = u;
}

void val_json(struct dval *v, void (*fn)(struct img_jw *w, const struct dval *v, int pretty), const void *arg)
{
	memset(v, 0, sizeof(*v));
	v->fn = fn;
	v->arg = arg;
}

#define BLOB_SHOWN 256

static void w_blob(struct img_jw *w, const struct dval *v, int pretty)
{
	(void)pretty;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "bytes", v->n);
	img_jw_key(w, "data");
	img_jw_strn(w, v->p, v->n < BLOB_SHOWN ? v->n : BLOB_SHOWN);
	if (v->n > BLOB_SHOWN)
		img_jw_kv_bool(w, "truncated", 1);
	img_jw_obj_end(w);
}

void val_blob(struct dval *v, const void *p, size_t n)
{
	memset(v, 0, sizeof(*v));
	v->fn = w_blob;
	v->p = p;
	v->n = n;
}

/* A field's value (all of it: an array for a repeated field). */
static void w_field(struct img_jw *w, const struct dval *v, int pretty)
{
	img_field_to_json(w, v->m, v->fd, pretty, v->hex);
}

static void w_scalar(struct img_jw *w, const struct dval *v, int pretty)
{
	img_scalar_to_json(w, v->fd, v->u, pretty, v->hex);
}

static void w_bytes(struct img_jw *w, const struct dval *v, int pretty)
{
	(void)pretty;
	img_bytes_to_json(w, v->fd, v->p, v->n);
}

static void w_unknown(struct img_jw *w, const struct dval *v, int pretty)
{
	const struct img_msg *m = v->m;
	struct img_buf raw, txt;
	struct img_out o;

	(void)pretty;
	img_buf_init(&raw);
	img_buf_init(&txt);
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].fi == IMG_FI_UNKNOWN)
			img_buf_add(&raw, m->f[i].v.b.p, m->f[i].v.b.len);
	img_out_mem(&o, &txt);
	img_b64_encode_lines(&o, raw.data, raw.len);
	img_out_flush(&o);
	img_jw_strn(w, (const char *)txt.data, txt.len);
	img_buf_free(&txt);
	img_buf_free(&raw);
}

/* Links */

enum { LINK_NONE, LINK_FILE, LINK_VMA_SHMID, LINK_PEER, LINK_SKIP };

static const struct link {
	const char *msg, *field;
	int kind;
} links[] = {
	{ "fs_entry", "cwd_id", LINK_FILE },
	{ "fs_entry", "root_id", LINK_FILE },
	{ "mm_entry", "exe_file_id", LINK_FILE },
	{ "fifo_entry", "regf_id", LINK_FILE },
	{ "tty_file_entry", "regf_id", LINK_FILE },
	{ "vma_entry", "shmid", LINK_VMA_SHMID },
	{ "unix_sk_entry", "peer", LINK_PEER },
	{ "memfd_file_entry", "inode_id", LINK_SKIP },
	{ "pagemap_head", "pages_id", LINK_SKIP },
};

static int link_of_name(const struct img_msgdesc *d, const struct img_fielddesc *fd)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (!strcmp(links[i].field, fd->name) && !strcmp(links[i].msg, d->name))
			return links[i].kind;
	return LINK_NONE;
}

/*
 * What the walk needs to know of a kind of message, worked out once: the
 * link kind of each field, and whether a link is anywhere below.
 */
struct dinfo {
	const struct img_msgdesc *d;
	uint8_t *link;          /* per field index */
	int has_links;          /* -1: being worked out */
};

static struct dinfo *info(struct img_diff *dd, const struct img_msgdesc *d, int depth)
{
	size_t mask, i;
	struct dinfo *x;

	if (dd->ninfo * 2 >= dd->capinfo) {
		size_t cap = dd->capinfo ? dd->capinfo * 2 : 64;
		struct dinfo *v = img_calloc(cap, sizeof(*v)), *old = dd->info;

		if (!v)
			return NULL;
		dd->info = v;
		dd->capinfo = cap;
		for (i = 0; old && i < cap / 2; i++)
			if (old[i].d) {
				size_t k = ((uintptr_t)old[i].d >> 4) & (cap - 1);

				while (v[k].d)
					k = (k + 1) & (cap - 1);
				v[k] = old[i];
			}
		img_free(old);
	}
	mask = dd->capinfo - 1;
	for (i = ((uintptr_t)d >> 4) & mask; dd->info[i].d; i = (i + 1) & mask)
		if (dd->info[i].d == d)
			return &dd->info[i];
	x = &dd->info[i];
	x->d = d;
	x->link = img_arena_zalloc(&dd->arena, d->nfields + 1);
	if (!x->link)
		return NULL;
	dd->ninfo++;
	x->has_links = -1;
	{
		int has = 0;

		for (uint32_t k = 0; k < d->nfields; k++) {
			const struct img_fielddesc *fd = &d->fields[k];

			x->link[k] = (uint8_t)link_of_name(d, fd);
			has |= x->link[k] != LINK_NONE && x->link[k] != LINK_SKIP;
		}
		for (uint32_t k = 0; k < d->nfields && !has; k++) {
			const struct img_fielddesc *fd = &d->fields[k];
			struct dinfo *sub;

			if (fd->type != IMG_T_MESSAGE || !fd->msg || depth > 32)
				continue;
			sub = info(dd, fd->msg, depth + 1);
			has = !sub || sub->has_links != 0; /* unknown (a cycle) counts as yes */
			x = info(dd, d, depth); /* the table may have moved */
			if (!x)
				return NULL;
		}
		x->has_links = has;
	}
	return x;
}

void diff_info_free(struct img_diff *d)
{
	img_free(d->info);
}

static int link_of(struct dctx *c, const struct img_msgdesc *d, const struct img_fielddesc *fd)
{
	struct dinfo *x = info(c->d, d, 0);

	return x ? x->link[fd - d->fields] : link_of_name(d, fd);
}

static int has_links(struct dctx *c, const struct img_msgdesc *d)
{
	struct dinfo *x = info(c->d, d, 0);

	return !x || x->has_links;
}

const char *file_desc(const struct img_file *f, char *buf, size_t len)
{
	if (!f)
		snprintf(buf, len, "(no such file)");
	else if (f->path)
		snprintf(buf, len, "%s", f->path);
	else if (f->pipe)
		snprintf(buf, len, "%s:[%u]", f->type_name, f->pipe->pipe_id);
	else
		snprintf(buf, len, "%s", f->type_name);
	return buf;
}

/* The task and fd that hold a file on one side, in A's pid numbering. */
static int holder(const struct img_diff *d, int side, const struct img_file *f, uint32_t *pid, uint32_t *fdn)
{
	size_t n;
	const struct img_task *const *t = d->s[side].ck ? img_ckpt_tasks(d->s[side].ck, &n) : NULL;

	for (size_t i = 0; t && i < n; i++)
		for (size_t k = 0; k < t[i]->nfds; k++)
			if (t[i]->fds[k].file == f) {
				*pid = side ? pid_to_a(d, t[i]->pid) : t[i]->pid;
				*fdn = t[i]->fds[k].fd;
				return *pid != 0;
			}
	return 0;
}

static void peer_desc(const struct img_diff *d, int side, uint64_t ino, char *buf, size_t len)
{
	size_t n;
	const struct img_file *const *f = d->s[side].ck ? img_ckpt_files(d->s[side].ck, &n) : NULL;

	if (!ino) {
		snprintf(buf, len, "none");
		return;
	}
	for (size_t i = 0; f && i < n; i++) {
		const struct img_sock *sk = f[i]->sk;
		uint32_t pid, fdn;

		if (!sk || sk->family != 1 /* AF_UNIX */ || sk->ino != ino)
			continue;
		if (sk->namelen && sk->name[0])
			snprintf(buf, len, "unix:%.*s", (int)sk->namelen, (const char *)sk->name);
		else if (holder(d, side, f[i], &pid, &fdn))
			snprintf(buf, len, "pid %u fd %u", pid, fdn);
		else
			break;
		return;
	}
	snprintf(buf, len, "socket not in the set");
}

/* What a link field of msg points to, on one side. */
static void link_text(const struct dctx *c, int side, int kind, const struct img_msg *m, uint64_t v, char *buf,
		      size_t len)
{
	struct img_ckpt *ck = c->d->s[side].ck;

	switch (kind) {
	case LINK_FILE:
		if (!v)
			snprintf(buf, len, "none");
		else
			file_desc(ck ? img_ckpt_file(ck, (uint32_t)v) : NULL, buf, len);
		return;
	case LINK_VMA_SHMID:
		if (img_msg_u64(m, "status", 0) & (IMG_VMA_FILE_PRIVATE | IMG_VMA_FILE_SHARED))
			file_desc(ck ? img_ckpt_file(ck, (uint32_t)v) : NULL, buf, len);
		else
			buf[0] = 0; /* shared memory is known by its pages, not its inode */
		return;
	case LINK_PEER:
		peer_desc(c->d, side, v, buf, len);
		return;
	}
	buf[0] = 0;
}

/* Field views: the occurrences of each field, by number then wire order */

struct fview {
	uint32_t stack[128];
	uint32_t *idx;
	uint32_t n;
	int unknown;
};

static int cmp_idx(const void *x, const void *y, void *arg)
{
	const struct img_fval *f = ((const struct img_msg *)arg)->f;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	if (f[a].num != f[b].num)
		return f[a].num < f[b].num ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int view_init(struct fview *v, const struct img_msg *m)
{
	v->idx = v->stack;
	v->n = 0;
	v->unknown = 0;
	if (!m)
		return 0;
	if (m->n > 128 && !(v->idx = img_malloc(m->n * sizeof(*v->idx))))
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->f[i].fi == IMG_FI_UNKNOWN)
			v->unknown = 1;
		else
			v->idx[v->n++] = i;
	}
	if (!(m->flags & IMG_MSG_SORTED))
		qsort_r(v->idx, v->n, sizeof(*v->idx), cmp_idx, (void *)m);
	return 0;
}

static void view_free(struct fview *v)
{
	if (v->idx != v->stack)
		img_free(v->idx);
}

/* Values of a repeated scalar field, packed runs expanded, as img_fval_u64 gives them. */
static int scalars(const struct img_msg *m, const struct img_fielddesc *fd, struct img_buf *out)
{
	struct img_iter it = { .m = m, .fd = fd };
	uint64_t v;

	out->len = 0;
	while (m && img_iter_next_u64(&it, &v))
		if (img_buf_add(out, &v, sizeof(v)))
			return -ENOMEM;
	return 0;
}

static int same_bytes(const struct img_fval *a, const struct img_fval *b)
{
	return a->v.b.len == b->v.b.len && !memcmp(a->v.b.p, b->v.b.p, a->v.b.len);
}

/* Is every message below m as decoded (so that its raw bytes say what it holds)? */
static int clean(const struct img_msg *m, int depth)
{
	if ((m->flags & IMG_MSG_DIRTY) || !m->raw || depth > IMG_PB_MAX_DEPTH)
		return 0;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct img_fval *f = &m->f[i];

		if (f->fi != IMG_FI_UNKNOWN && m->desc->fields[f->fi].type == IMG_T_MESSAGE && f->wt == IMG_WT_LEN &&
		    !clean(f->v.m, depth + 1))
			return 0;
	}
	return 1;
}

static int diff_field(struct dctx *c, const struct img_msg *a, const struct img_msg *b,
		      const struct img_fielddesc *fd, const uint32_t *ia, uint32_t na, const uint32_t *ib, uint32_t nb,
		      int hex);

/* Report x (A's value, if has_a) against y (B's, if has_b), both written by fn. */
static int emit_pair(struct dctx *c, struct dval *x, int has_a, struct dval *y, int has_b)
{
	return emit(c, has_a && has_b ? IMG_DIFF_CHANGED : has_a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED,
		    has_a ? x : NULL, has_b ? y : NULL);
}

/* Two values of field fd written by fn: A's from a (m, u), B's from b. */
static void vals(struct dval *va, struct dval *vb, void (*fn)(struct img_jw *, const struct dval *, int),
		 const struct img_fielddesc *fd, int hex, const struct img_msg *a, const struct img_msg *b)
{
	memset(va, 0, sizeof(*va));
	va->fn = fn;
	va->fd = fd;
	va->hex = hex;
	*vb = *va;
	va->m = a;
	vb->m = b;
}

static int diff_repeated(struct dctx *c, const struct img_msg *a, const struct img_msg *b,
			 const struct img_fielddesc *fd, const uint32_t *ia, uint32_t na, const uint32_t *ib,
			 uint32_t nb, int hex)
{
	struct dval va, vb;
	int r = 0;

	if (fd->type == IMG_T_MESSAGE) {
		uint32_t n = na > nb ? na : nb;

		for (uint32_t k = 0; k < n && !r; k++) {
			size_t mark = path_push(c, "[%u]", k);

			r = diff_msg(c, k < na ? a->f[ia[k]].v.m : NULL, k < nb ? b->f[ib[k]].v.m : NULL, hex);
			path_pop(c, mark);
		}
		return r;
	}
	if (fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES) {
		uint32_t n = na > nb ? na : nb;

		for (uint32_t k = 0; k < n && !r; k++) {
			const struct img_fval *x = k < na ? &a->f[ia[k]] : NULL, *y = k < nb ? &b->f[ib[k]] : NULL;
			size_t mark;

			if (x && y && same_bytes(x, y))
				continue;
			mark = path_push(c, "[%u]", k);
			vals(&va, &vb, w_bytes, fd, hex, a, b);
			if (x) {
				va.p = x->v.b.p;
				va.n = x->v.b.len;
			}
			if (y) {
				vb.p = y->v.b.p;
				vb.n = y->v.b.len;
			}
			r = emit_pair(c, &va, x != NULL, &vb, y != NULL);
			path_pop(c, mark);
		}
		return r;
	}
	/* scalars: packed or not, compared as values */
	struct img_buf xa, xb;
	size_t n, ca, cb;

	img_buf_init(&xa);
	img_buf_init(&xb);
	if (scalars(na ? a : NULL, fd, &xa) || scalars(nb ? b : NULL, fd, &xb)) {
		r = img_err_set(c->err, ENOMEM, "out of memory");
		goto out;
	}
	ca = xa.len / 8;
	cb = xb.len / 8;
	if (ca == cb && !memcmp(xa.data, xb.data, xa.len))
		goto out;
	if (fd->hints & IMG_H_IPADD) {
		/* an address is one value, not four words */
		vals(&va, &vb, w_field, fd, hex, a, b);
		r = emit_pair(c, &va, ca != 0, &vb, cb != 0);
		goto out;
	}
	n = ca > cb ? ca : cb;
	for (size_t k = 0; k < n && !r; k++) {
		uint64_t x = 0, y = 0;
		size_t mark;

		if (k < ca)
			memcpy(&x, xa.data + k * 8, 8);
		if (k < cb)
			memcpy(&y, xb.data + k * 8, 8);
		if (k < ca && k < cb && x == y)
			continue;
		mark = path_push(c, "[%zu]", k);
		vals(&va, &vb, w_scalar, fd, hex, a, b);
		va.u = x;
		vb.u = y;
		r = emit_pair(c, &va, k < ca, &vb, k < cb);
		path_pop(c, mark);
	}
out:
	img_buf_free(&xa);
	img_buf_free(&xb);
	return r;
}

static int diff_field(struct dctx *c, const struct img_msg *a, const struct img_msg *b,
		      const struct img_fielddesc *fd, const uint32_t *ia, uint32_t na, const uint32_t *ib, uint32_t nb,
		      int hex)
{
	const struct img_fval *x, *y;
	struct dval va, vb;
	int link = link_of(c, a ? a->desc : b->desc, fd);

	if (link == LINK_SKIP)
		return 0;
	if (fd->label == IMG_L_REPEATED)
		return diff_repeated(c, a, b, fd, ia, na, ib, nb, hex || (fd->hints & IMG_H_HEX));
	x = na ? &a->f[ia[na - 1]] : NULL; /* the last one wins */
	y = nb ? &b->f[ib[nb - 1]] : NULL;
	if (fd->type == IMG_T_MESSAGE && (!x || x->wt == IMG_WT_LEN) && (!y || y->wt == IMG_WT_LEN))
		return diff_msg(c, x ? x->v.m : NULL, y ? y->v.m : NULL, hex || (fd->hints & IMG_H_HEX));
	if (link != LINK_NONE) {
		char ta[512], tb[512];

		link_text(c, 0, link, a, x ? img_fval_u64(fd, x) : 0, ta, sizeof(ta));
		link_text(c, 1, link, b, y ? img_fval_u64(fd, y) : 0, tb, sizeof(tb));
		if ((!x) == (!y) && !strcmp(ta, tb))
			return 0;
		val_str(&va, ta);
		val_str(&vb, tb);
		return emit_pair(c, &va, x != NULL, &vb, y != NULL);
	}
	if (x && y) {
		if (x->wt == IMG_WT_LEN || y->wt == IMG_WT_LEN) {
			if (x->wt == y->wt && same_bytes(x, y))
				return 0;
		} else if (img_fval_u64(fd, x) == img_fval_u64(fd, y)) {
			return 0;
		}
	}
	vals(&va, &vb, w_field, fd, hex, a, b);
	return emit_pair(c, &va, x != NULL, &vb, y != NULL);
}

/* The unknown fields of both, compared as their raw bytes in wire order. */
static int diff_unknown(struct dctx *c, const struct img_msg *a, const struct img_msg *b)
{
	uint32_t i = 0, j = 0;
	struct dval va, vb;
	int differ = 0, ha = 0, hb = 0;
	size_t mark;
	int r;

	for (;;) {
		while (i < a->n && a->f[i].fi != IMG_FI_UNKNOWN)
			i++;
		while (j < b->n && b->f[j].fi != IMG_FI_UNKNOWN)
			j++;
		ha |= i < a->n;
		hb |= j < b->n;
		if (i == a->n || j == b->n) {
			differ |= (i < a->n) != (j < b->n);
			break;
		}
		if (!same_bytes(&a->f[i], &b->f[j]))
			differ = 1;
		i++;
		j++;
	}
	if (!differ)
		return 0;
	vals(&va, &vb, w_unknown, NULL, 0, a, b);
	mark = path_push(c, "._unknown");
	r = emit_pair(c, &va, ha, &vb, hb);
	path_pop(c, mark);
	return r;
}

int diff_msg(struct dctx *c, const struct img_msg *a, const struct img_msg *b, int hex)
{
	struct fview xa, xb;
	struct dval v;
	uint32_t i = 0, j = 0;
	int r = 0, links_only = 0;

	if (c->stop || (!a && !b))
		return c->stop;
	if (!a || !b) {
		val_msg(&v, a ? a : b, hex);
		return emit(c, a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, a ? &v : NULL, b ? &v : NULL);
	}
	if (a->desc != b->desc)
		return img_err_set(c->err, EINVAL, "%s: messages of two kinds compared", c->path);
	if (c->overflow || path_ignored(c->d, c->path))
		return 0;
	if (a->rawlen == b->rawlen && clean(a, 0) && clean(b, 0) && !memcmp(a->raw, b->raw, a->rawlen)) {
		if (!has_links(c, a->desc))
			return 0;
		links_only = 1; /* the same bytes: only what the links lead to can differ */
	}
	if (view_init(&xa, a) || view_init(&xb, b)) {
		view_free(&xa);
		return img_err_set(c->err, ENOMEM, "out of memory");
	}
	while ((i < xa.n || j < xb.n) && !r) {
		uint32_t num = i < xa.n ? a->f[xa.idx[i]].num : UINT32_MAX, i2 = i, j2 = j;
		const struct img_fielddesc *fd;
		size_t mark;

		if (j < xb.n && b->f[xb.idx[j]].num < num)
			num = b->f[xb.idx[j]].num;
		while (i2 < xa.n && a->f[xa.idx[i2]].num == num)
			i2++;
		while (j2 < xb.n && b->f[xb.idx[j2]].num == num)
			j2++;
		fd = img_msgdesc_field(a->desc, num);
		if (fd && links_only && link_of(c, a->desc, fd) == LINK_NONE &&
		    (fd->type != IMG_T_MESSAGE || !has_links(c, fd->msg)))
			fd = NULL;
		if (fd && (!c->keep || c->keep(c, a->desc, fd))) {
			mark = path_push(c, ".%s", fd->name);
			r = diff_field(c, a, b, fd, xa.idx + i, i2 - i, xb.idx + j, j2 - j, hex);
			path_pop(c, mark);
		}
		i = i2;
		j = j2;
	}
	if (!r && !links_only && (xa.unknown || xb.unknown))
		r = diff_unknown(c, a, b);
	view_free(&xa);
	view_free(&xb);
	return r ? r : c->stop;
}

int diff_blob(struct dctx *c, const void *a, size_t na, int has_a, const void *b, size_t nb, int has_b)
{
	struct dval va, vb;

	if (!has_a && !has_b)
		return 0;
	if (has_a && has_b && na == nb && (!na || !memcmp(a, b, na)))
		return 0;
	val_blob(&va, a, na);
	val_blob(&vb, b, nb);
	return emit_pair(c, &va, has_a, &vb, has_b);
}

int diff_image(struct dctx *c, const struct img_image *a, const struct img_image *b)
{
	const struct img_kind *k = a ? a->kind : b->kind;
	size_t n, na = a ? a->n : 0, nb = b ? b->n : 0;
	int single = k->layout == IMG_LAY_SINGLE;
	int r = 0;

	if (k->layout == IMG_LAY_RAW || k->layout == IMG_LAY_OPAQUE) {
		/* windowed raw images have no bytes in memory: their sizes say as much as is cheap to say */
		const void *pa = a && a->raw ? a->raw : NULL, *pb = b && b->raw ? b->raw : NULL;

		if (a && b && (!pa || !pb)) {
			struct dval va, vb;

			if (a->raw_size == b->raw_size)
				return 0;
			val_u64(&va, a->raw_size);
			val_u64(&vb, b->raw_size);
			return emit(c, IMG_DIFF_CHANGED, &va, &vb);
		}
		return diff_blob(c, pa, a ? (size_t)a->raw_size : 0, a != NULL, pb, b ? (size_t)b->raw_size : 0,
				 b != NULL);
	}
	n = na > nb ? na : nb;
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_entry *x = i < na ? &a->e[i] : NULL, *y = i < nb ? &b->e[i] : NULL;
		size_t mark = single && n == 1 ? c->plen : path_push(c, "[%zu]", i);

		if (x && y && x->desc != y->desc) {
			struct dval va, vb;

			val_msg(&va, x->msg, 0);
			val_msg(&vb, y->msg, 0);
			r = emit(c, IMG_DIFF_CHANGED, &va, &vb);
		} else if (x && !x->msg && y && !y->msg) {
			/* vaddr:page entries */
			size_t m2 = path_push(c, ".page");

			r = diff_blob(c, x->extra, x->extra_len, 1, y->extra, y->extra_len, 1);
			path_pop(c, m2);
		} else {
			r = diff_msg(c, x ? x->msg : NULL, y ? y->msg : NULL, 0);
			if (!r && x && y && (x->has_extra || y->has_extra)) {
				size_t m2 = path_push(c, "._extra");

				r = diff_blob(c, x->extra, x->extra_len, x->has_extra, y->extra, y->extra_len,
					      y->has_extra);
				path_pop(c, m2);
			}
		}
		path_pop(c, mark);
	}
	return r;
}
