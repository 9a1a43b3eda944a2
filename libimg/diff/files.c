/*
 * Files: each task's fds paired by number (fd[N]), the files behind them
 * (the per-type entry, pipe data, ghost contents, memfd inodes), the sockets
 * among them (their entries, queued packets, TCP streams), and the files no
 * fd holds (cwd, root, executables and mapped files), paired by path.
 *
 * An open file shared by several fds or tasks is compared once, under the
 * first (task, fd) that holds it; each fd still says when its flags change or
 * when it is added or removed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* What a (pair, fd) holds: a pair of open files, or a pair of pipes (both ends share one). */
struct fown {
	const void *a, *b;
	size_t pair;
	uint32_t fd;
};

static int is_sock(const struct img_file *f)
{
	return f && f->sk;
}

static int cmp_fd(const void *x, const void *y)
{
	uint32_t a = (*(const struct img_fd *const *)x)->fd, b = (*(const struct img_fd *const *)y)->fd;

	return a < b ? -1 : a > b;
}

static const struct img_fd **sorted_fds(const struct img_task *t)
{
	const struct img_fd **v = img_malloc((t->nfds + 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->nfds; i++)
		v[i] = &t->fds[i];
	img_sort(v, t->nfds, sizeof(*v), cmp_fd);
	return v;
}

static int cmp_fown(const void *x, const void *y)
{
	const struct fown *a = x, *b = y;

	if (a->a != b->a)
		return (uintptr_t)a->a < (uintptr_t)b->a ? -1 : 1;
	if (a->b != b->b)
		return (uintptr_t)a->b < (uintptr_t)b->b ? -1 : 1;
	if (a->pair != b->pair)
		return a->pair < b->pair ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

/* Sorted, and the first holder of each key kept. */
static size_t first_holders(struct fown *v, size_t n)
{
	size_t k = 0;

	img_sort(v, n, sizeof(*v), cmp_fown);
	for (size_t i = 0; i < n; i++)
		if (!k || v[k - 1].a != v[i].a || v[k - 1].b != v[i].b)
			v[k++] = v[i];
	return k;
}

/* Which (pair, fd) reports each pair of open files, and each pair of pipes. */
int files_owners(struct img_diff *d, struct img_err *err)
{
	size_t cap = 0, n = 0, np = 0;

	if (d->fown_done)
		return 0;
	for (size_t i = 0; i < d->npairs; i++)
		if (d->pairs[i].pub.a && d->pairs[i].pub.b && d->pairs[i].owns_fds)
			cap += d->pairs[i].pub.a->nfds;
	d->fown = img_calloc(cap + 1, sizeof(*d->fown));
	d->pown = img_calloc(cap + 1, sizeof(*d->pown));
	if (!d->fown || !d->pown)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < d->npairs; i++) {
		const struct img_task *a = d->pairs[i].pub.a, *b = d->pairs[i].pub.b;
		const struct img_fd **fa, **fb;
		size_t x = 0, y = 0;

		if (!a || !b || !d->pairs[i].owns_fds)
			continue;
		fa = sorted_fds(a);
		fb = sorted_fds(b);
		if (!fa || !fb) {
			img_free(fa);
			img_free(fb);
			return img_err_set(err, ENOMEM, "out of memory");
		}
		while (x < a->nfds && y < b->nfds) {
			if (fa[x]->fd == fb[y]->fd) {
				const struct img_file *p = fa[x]->file, *q = fb[y]->file;

				if (p && q && n < cap)
					d->fown[n++] = (struct fown){ p, q, i, fa[x]->fd };
				if (p && q && p->pipe && q->pipe && np < cap)
					d->pown[np++] = (struct fown){ p->pipe, q->pipe, i, fa[x]->fd };
				x++;
				y++;
			} else if (fa[x]->fd < fb[y]->fd) {
				x++;
			} else {
				y++;
			}
		}
		img_free(fa);
		img_free(fb);
	}
	d->nfown = first_holders(d->fown, n);
	d->npown = first_holders(d->pown, np);
	d->fown_done = 1;
	return 0;
}

static int owns(const struct fown *v, size_t n, size_t pair, uint32_t fd, const void *a, const void *b)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fown *f = &v[mid];
		int c = f->a != a ? ((uintptr_t)f->a < (uintptr_t)a ? -1 : 1)
			: f->b != b ? ((uintptr_t)f->b < (uintptr_t)b ? -1 : 1) : 0;

		if (!c)
			return f->pair == pair && f->fd == fd;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 1; /* held by nothing paired (a file no fd holds): its own */
}

/* The field of file_entry that holds a file's per-type entry ("reg", "isk", ...). */
static const char *payload_name(const struct img_diff *d, const struct img_file *f)
{
	const struct img_msgdesc *fe = img_schema_msg(d->s[0].schema, "file_entry");

	for (uint32_t i = 0; fe && f->msg && i < fe->nfields; i++)
		if (fe->fields[i].msg && !strcmp(fe->fields[i].msg->name, f->msg->desc->name))
			return fe->fields[i].name;
	return f->msg ? f->msg->desc->name : "file";
}

/* A whole file: its file_entry, or for sets without files.img the same shape made from its entry. */
static void w_file(struct img_jw *w, const struct dval *v, int pretty)
{
	const struct img_file *f = v->arg;

	if (f->file_entry) {
		img_msg_to_json(w, f->file_entry, pretty, 0);
		return;
	}
	img_jw_obj_begin(w);
	img_jw_kv_str(w, "type", f->type_name);
	if (f->msg) {
		img_jw_key(w, v->p);
		img_msg_to_json(w, f->msg, pretty, 0);
	}
	img_jw_obj_end(w);
}

static void val_file(struct dval *v, const struct img_diff *d, const struct img_file *f)
{
	val_json(v, w_file, f);
	v->p = payload_name(d, f);
}

/* The file ids in the entries link entries of one set: the file is compared, not its number. */
static int keep_file(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd)
{
	const struct img_msgdesc *payload = c->keep_arg;

	if (parent == payload && !strcmp(fd->name, "id"))
		return 0;
	if (!strcmp(parent->name, "fdinfo_entry"))
		return strcmp(fd->name, "id") && strcmp(fd->name, "fd") && strcmp(fd->name, "type");
	if (!strcmp(parent->name, "sk_packet_entry"))
		return strcmp(fd->name, "id_for");
	return 1;
}

static int at(struct dctx *c, const char *fmt, const char *name, const struct img_msg *a, const struct img_msg *b)
{
	size_t mark = path_push(c, fmt, name);
	int r = diff_msg(c, a, b, 0);

	path_pop(c, mark);
	return r;
}

static const char *const remap_names[] = { "none", "linked", "ghost", "procfs", "other" };

/* sk-queues entries of a side, sorted by the file id they belong to. */
static int cmp_skq(const void *x, const void *y)
{
	uint64_t a = img_msg_u64((*(const struct img_entry *const *)x)->msg, "id_for", 0);
	uint64_t b = img_msg_u64((*(const struct img_entry *const *)y)->msg, "id_for", 0);

	return a < b ? -1 : a > b;
}

static int queue_of(struct img_diff *d, int side, uint32_t id, const struct img_entry *const **out, size_t *n,
		    struct img_err *err)
{
	struct dside *s = &d->s[side];
	size_t lo = 0, hi;

	*out = NULL;
	*n = 0;
	if (!s->skq_done) {
		const struct img_image *q;
		int r = side_image(d, side, "sk-queues.img", &q, err);

		if (r)
			return r;
		s->skq_done = 1;
		if (q && q->n) {
			s->skq = img_malloc(q->n * sizeof(*s->skq));
			if (!s->skq)
				return img_err_set(err, ENOMEM, "out of memory");
			for (size_t i = 0; i < q->n; i++)
				s->skq[i] = &q->e[i];
			s->nskq = q->n;
			/* stable for one socket: packets keep their order (mergesort-like by index) */
			img_sort(s->skq, s->nskq, sizeof(*s->skq), cmp_skq);
		}
	}
	hi = s->nskq;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img_msg_u64(s->skq[mid]->msg, "id_for", 0) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = s->skq + lo;
	while (lo + *n < s->nskq && img_msg_u64(s->skq[lo + *n]->msg, "id_for", 0) == id)
		(*n)++;
	return 0;
}

static int diff_queue(struct dctx *c, const struct img_file *fa, const struct img_file *fb)
{
	const struct img_entry *const *qa, *const *qb;
	size_t na = 0, nb = 0, n;
	int r = queue_of(c->d, 0, fa->id, &qa, &na, c->err);

	if (!r)
		r = queue_of(c->d, 1, fb->id, &qb, &nb, c->err);
	n = na > nb ? na : nb;
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_entry *x = i < na ? qa[i] : NULL, *y = i < nb ? qb[i] : NULL;
		size_t mark = path_push(c, ".queue[%zu]", i);

		r = diff_msg(c, x ? x->msg : NULL, y ? y->msg : NULL, 0);
		if (!r && x && y) {
			size_t m2 = path_push(c, "._extra");

			r = diff_blob(c, x->extra, x->extra_len, 1, y->extra, y->extra_len, 1);
			path_pop(c, m2);
		}
		path_pop(c, mark);
	}
	return r;
}

static int side_image_of(struct dctx *c, int side, const char *name, const struct img_image **img)
{
	return side_image(c->d, side, name, img, c->err);
}

/* Everything about one pair of files, at c->path (fd: the one that holds them, or -1). */
static int diff_file(struct dctx *c, const struct img_file *fa, const struct img_file *fb, uint32_t fd)
{
	const struct img_diff *d = c->d;
	const char *fname;
	struct dval va, vb;
	size_t mark;
	int r;

	if (fa->type != fb->type) {
		val_file(&va, d, fa);
		val_file(&vb, d, fb);
		return emit(c, IMG_DIFF_CHANGED, &va, &vb);
	}
	fname = payload_name(d, fa);
	c->keep = keep_file;
	c->keep_arg = fa->msg ? fa->msg->desc : NULL;
	r = at(c, ".%s", fname, fa->msg, fb->msg);
	if (!r && (fa->extra || fb->extra) && fa->type == 18)
		r = at(c, ".%s", "memfd_inode", fa->extra, fb->extra);
	if (!r && fa->type == 18 && fa->shmid && fb->shmid) {
		mark = path_push(c, ".memfd_data");
		r = diff_shm_pages(c, fa, fb);
		path_pop(c, mark);
	}
	/* the unread bytes of a pipe: once, with the first end that holds it */
	if (!r && (fa->pipe || fb->pipe) &&
	    (!c->pair || !fa->pipe || !fb->pipe || owns(d->pown, d->npown, c->pair->index, fd, fa->pipe, fb->pipe))) {
		mark = path_push(c, ".pipe_data");
		r = diff_blob(c, fa->pipe ? fa->pipe->data : NULL, fa->pipe ? fa->pipe->bytes : 0, fa->pipe != NULL,
			      fb->pipe ? fb->pipe->data : NULL, fb->pipe ? fb->pipe->bytes : 0, fb->pipe != NULL);
		path_pop(c, mark);
	}
	if (!r && fa->remap != fb->remap) {
		val_str(&va, remap_names[fa->remap]);
		val_str(&vb, remap_names[fb->remap]);
		mark = path_push(c, ".remap");
		r = emit(c, IMG_DIFF_CHANGED, &va, &vb);
		path_pop(c, mark);
	}
	if (!r && (fa->remap_image || fb->remap_image)) {
		const struct img_image *ga = NULL, *gb = NULL;

		if (fa->remap_image)
			r = side_image_of(c, 0, fa->remap_image, &ga);
		if (!r && fb->remap_image)
			r = side_image_of(c, 1, fb->remap_image, &gb);
		if (!r && (ga || gb)) {
			mark = path_push(c, ".ghost");
			r = diff_image(c, ga, gb);
			path_pop(c, mark);
		}
	}
	if (!r && is_sock(fa) && is_sock(fb)) {
		r = diff_queue(c, fa, fb);
		if (!r && (fa->sk->tcp || fb->sk->tcp)) {
			const struct img_image *ta = NULL, *tb = NULL;
			char name[64];

			snprintf(name, sizeof(name), "tcp-stream-%x.img", fa->sk->ino);
			r = fa->sk->tcp ? side_image_of(c, 0, name, &ta) : 0;
			snprintf(name, sizeof(name), "tcp-stream-%x.img", fb->sk->ino);
			if (!r && fb->sk->tcp)
				r = side_image_of(c, 1, name, &tb);
			if (!r) {
				mark = path_push(c, ".tcp_stream");
				r = diff_image(c, ta, tb);
				path_pop(c, mark);
			}
		}
	}
	c->keep = NULL;
	c->keep_arg = NULL;
	return r;
}

static int diff_fd(struct dctx *c, const struct img_fd *x, const struct img_fd *y, int sockets)
{
	const struct img_file *fa = x ? x->file : NULL, *fb = y ? y->file : NULL;
	int want = sockets ? IMG_DIFF_SOCKETS : IMG_DIFF_FILES;
	int cat = is_sock(fa ? fa : fb) ? IMG_DIFF_SOCKETS : IMG_DIFF_FILES;
	size_t mark;
	int r = 0;

	if (cat != want)
		return 0;
	mark = path_push(c, "fd[%u]", x ? x->fd : y->fd);
	if (!x || !y) {
		struct dval v;

		val_file(&v, c->d, fa ? fa : fb);
		if (fa || fb)
			r = emit(c, x ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, x ? &v : NULL, y ? &v : NULL);
		path_pop(c, mark);
		return r;
	}
	c->keep = keep_file;
	r = diff_msg(c, x->msg, y->msg, 0);
	c->keep = NULL;
	if (!r && (!fa || !fb) && fa != fb) {
		char da[512], db[512];
		struct dval va, vb;

		val_str(&va, file_desc(fa, da, sizeof(da)));
		val_str(&vb, file_desc(fb, db, sizeof(db)));
		r = emit(c, IMG_DIFF_CHANGED, &va, &vb);
	} else if (!r && fa && fb && owns(c->d->fown, c->d->nfown, c->pair->index, x->fd, fa, fb)) {
		r = diff_file(c, fa, fb, x->fd);
	}
	path_pop(c, mark);
	return r;
}

int diff_files(struct dctx *c, int sockets)
{
	const struct img_task *a = c->pair->pub.a, *b = c->pair->pub.b;
	const struct img_fd **fa, **fb;
	size_t i = 0, j = 0;
	int r;

	if (!a || !b || !c->pair->owns_fds)
		return 0;
	r = files_owners(c->d, c->err);
	if (r)
		return r;
	fa = sorted_fds(a);
	fb = sorted_fds(b);
	if (!fa || !fb) {
		img_free(fa);
		img_free(fb);
		return img_err_set(c->err, ENOMEM, "out of memory");
	}
	while ((i < a->nfds || j < b->nfds) && !r) {
		if (i < a->nfds && j < b->nfds && fa[i]->fd == fb[j]->fd)
			r = diff_fd(c, fa[i++], fb[j++], sockets);
		else if (j == b->nfds || (i < a->nfds && fa[i]->fd < fb[j]->fd))
			r = diff_fd(c, fa[i++], NULL, sockets);
		else
			r = diff_fd(c, NULL, fb[j++], sockets);
	}
	img_free(fa);
	img_free(fb);
	return r;
}

/* Files no fd holds */

struct ufile {
	const struct img_file *f;
	char key[512];
};

static int cmp_ufile(const void *x, const void *y)
{
	const struct ufile *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	if (c)
		return c;
	return a->f->id < b->f->id ? -1 : a->f->id > b->f->id;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

static int unheld(const struct img_ckpt *ck, struct ufile **out, size_t *n)
{
	size_t nf, nt, k = 0;
	const struct img_file *const *f = ck ? img_ckpt_files(ck, &nf) : NULL;
	const struct img_task *const *t = ck ? img_ckpt_tasks(ck, &nt) : NULL;
	const struct img_file **held;
	size_t nheld = 0;
	struct ufile *v;

	*out = NULL;
	*n = 0;
	if (!ck)
		return 0;
	held = img_malloc((nf + 1) * sizeof(*held));
	v = img_calloc(nf + 1, sizeof(*v));
	if (!held || !v) {
		img_free(held);
		img_free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < t[i]->nfds; j++)
			if (t[i]->fds[j].file && nheld < nf)
				held[nheld++] = t[i]->fds[j].file;
	img_sort(held, nheld, sizeof(*held), cmp_ptr);
	for (size_t i = 0; i < nf; i++) {
		if (!f[i]->path || bsearch(&f[i], held, nheld, sizeof(*held), cmp_ptr))
			continue;
		v[k].f = f[i];
		snprintf(v[k].key, sizeof(v[k].key), "%s", f[i]->path);
		k++;
	}
	img_free(held);
	img_sort(v, k, sizeof(*v), cmp_ufile);
	/* the same path twice: the second is PATH#2, in the order of the file ids */
	for (size_t i = 0, run = 0; i < k; i++) {
		if (i && strcmp(v[i].key, v[run].key))
			run = i;
		if (i > run) {
			char base[sizeof(v[i].key)];

			snprintf(base, sizeof(base), "%s", v[i].key);
			snprintf(v[i].key, sizeof(v[i].key), "%.490s#%zu", base, i - run + 1);
		}
	}
	img_sort(v, k, sizeof(*v), cmp_ufile);
	*out = v;
	*n = k;
	return 0;
}

static void key_in_path(char *dst, size_t len, const char *key)
{
	size_t i = 0;

	for (; *key && i + 1 < len; key++)
		dst[i++] = *key == ']' ? '?' : *key;
	dst[i] = 0;
}

int diff_files_unheld(struct dctx *c)
{
	struct ufile *ua, *ub;
	size_t na, nb, i = 0, j = 0;
	int r = 0;

	if (unheld(c->d->s[0].ck, &ua, &na) || unheld(c->d->s[1].ck, &ub, &nb)) {
		img_free(ua);
		return img_err_set(c->err, ENOMEM, "out of memory");
	}
	while ((i < na || j < nb) && !r) {
		int cmp = i == na ? 1 : j == nb ? -1 : strcmp(ua[i].key, ub[j].key);
		const struct img_file *fa = cmp <= 0 ? ua[i].f : NULL, *fb = cmp >= 0 ? ub[j].f : NULL;
		char key[520];
		size_t mark;

		key_in_path(key, sizeof(key), cmp <= 0 ? ua[i].key : ub[j].key);
		mark = path_push(c, "file[%s]", key);
		if (fa && fb) {
			r = diff_file(c, fa, fb, (uint32_t)-1);
		} else {
			struct dval v;

			val_file(&v, c->d, fa ? fa : fb);
			r = emit(c, fa ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, fa ? &v : NULL, fb ? &v : NULL);
		}
		path_pop(c, mark);
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
	}
	img_free(ua);
	img_free(ub);
	return r;
}
