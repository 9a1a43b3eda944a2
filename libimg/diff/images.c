/*
 * The image set: which images exist, and the contents of those no other
 * category compares (the inventory, seccomp, ttys, statistics...).
 *
 * Images that belong to something the other categories pair (a task's core,
 * mm, pagemap, fd table; a namespace's images; the pages of shared memory; a
 * ghost file; a TCP stream) are theirs: a task added is reported once, as a
 * task, not as its dozen images.  What is left is compared by file name:
 * first the bytes, then, when they differ, entry by entry.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* Images of CRIU before 3.4 that the model reads files from when there is no files.img. */
static const char *const legacy_files[] = {
	"reg-files.img", "pipes.img", "fifo.img", "inetsk.img", "unixsk.img", "eventfd.img", "eventpoll.img",
	"inotify.img", "signalfd.img", "packetsk.img", "tty.img", "fanotify.img", "netlinksk.img", "ns-files.img",
	"tunfile.img", "ext-files.img", "timerfd.img", "bpfmap-file.img", "pidfd.img",
};

/* Images the model reads for the whole set and the categories compare. */
static const char *const set_images[] = {
	"pstree.img", "pipes-data.img", "fifo-data.img", "sk-queues.img", "remap-fpath.img", "memfd.img",
	"cgroup.img",
};

/* Images of each task, named by its pid. */
static const char *const task_images[] = {
	"ids-%u.img", "mm-%u.img", "pagemap-%u.img", "fs-%u.img", "creds-%u.img", "sigacts-%u.img",
	"itimers-%u.img", "posix-timers-%u.img", "rlimit-%u.img", "vmas-%u.img",
};

struct names {
	char **v;
	size_t n, cap;
	int failed;
};

static void add(struct names *l, const char *fmt, ...) IMG_PRINTF(2, 3);
static void add(struct names *l, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = img_realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = img_strdup(buf)))
		l->failed = 1;
	else
		l->n++;
}

/* The pages file a pagemap names. */
static int add_pages(struct img_diff *d, int side, struct names *l, const char *pagemap, struct img_err *err)
{
	const struct img_image *pm;
	int r = side_image(d, side, pagemap, &pm, err);

	if (r)
		return r;
	if (pm && pm->n && pm->e[0].msg)
		add(l, "pages-%llu.img", (unsigned long long)img_msg_u64(pm->e[0].msg, "pages_id", 0));
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int owned_names(struct img_diff *d, int side, char ***out, size_t *n)
{
	struct img_ckpt *ck = d->s[side].ck;
	struct names l = { 0 };
	struct img_err e = { 0 };
	size_t nt = 0, nf = 0, nns = 0;
	const struct img_task *const *t;
	const struct img_file *const *f;
	const struct img_ns *ns;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!ck)
		return 0;
	t = img_ckpt_tasks(ck, &nt);
	f = img_ckpt_files(ck, &nf);
	ns = img_ckpt_namespaces(ck, &nns);
	for (size_t i = 0; i < sizeof(set_images) / sizeof(set_images[0]); i++)
		add(&l, "%s", set_images[i]);
	if (img_dir_has(d->s[side].dir, "files.img"))
		add(&l, "files.img");
	else
		for (size_t i = 0; i < sizeof(legacy_files) / sizeof(legacy_files[0]); i++)
			add(&l, "%s", legacy_files[i]);
	for (size_t i = 0; i < nt && !r; i++) {
		char pm[64];

		for (size_t k = 0; k < t[i]->nthreads; k++)
			add(&l, "core-%u.img", t[i]->threads[k].tid);
		for (size_t k = 0; k < sizeof(task_images) / sizeof(task_images[0]); k++)
			add(&l, task_images[k], t[i]->pid);
		add(&l, "fdinfo-%u.img", t[i]->files_id);
		if (!img_msg_u64(img_ckpt_inventory(ck), "fdinfo_per_id", 0))
			add(&l, "fdinfo-%u.img", t[i]->pid);
		snprintf(pm, sizeof(pm), "pagemap-%u.img", t[i]->pid);
		if (t[i]->mm)
			r = add_pages(d, side, &l, pm, &e);
		for (size_t k = 0; t[i]->mm && k < t[i]->mm->nvmas && !r; k++) {
			const struct img_vma *v = &t[i]->mm->vmas[k];

			if (v->kind != IMG_VMA_SHARED && !(v->file && v->file->type == 18))
				continue;
			snprintf(pm, sizeof(pm), "pagemap-shmem-%llu.img", (unsigned long long)vma_shmid(v));
			add(&l, "%s", pm);
			r = add_pages(d, side, &l, pm, &e);
		}
	}
	for (size_t i = 0; i < nf && !r; i++) {
		char pm[64];

		if (f[i]->remap_image)
			add(&l, "%s", f[i]->remap_image);
		if (f[i]->sk && f[i]->type == 4)
			add(&l, "tcp-stream-%x.img", f[i]->sk->ino);
		if (f[i]->type == 18 && f[i]->shmid) {
			snprintf(pm, sizeof(pm), "pagemap-shmem-%llu.img", (unsigned long long)f[i]->shmid);
			add(&l, "%s", pm);
			r = add_pages(d, side, &l, pm, &e);
		}
	}
	for (size_t i = 0; i < nns; i++) {
		char nm[24][64];
		size_t k = ns_image_names(&ns[i], nm, 24);

		for (size_t j = 0; j < k; j++)
			add(&l, "%s", nm[j]);
	}
	if (l.failed || r) {
		for (size_t i = 0; i < l.n; i++)
			img_free(l.v[i]);
		img_free(l.v);
		return r ? r : -ENOMEM;
	}
	img_sort(l.v, l.n, sizeof(*l.v), cmp_name);
	*out = l.v;
	*n = l.n;
	return 0;
}

static int is_owned(char *const *v, size_t n, const char *name)
{
	return bsearch(&name, v, n, sizeof(*v), cmp_name) != NULL;
}

/* The images of a side that no category owns. */
struct unowned {
	const struct img_schema *schema;
	char **owned;
	size_t nowned;
};

static int keep_unowned(const struct members *l, const char *name)
{
	const struct unowned *u = l->arg;

	return img_kind_by_file(u->schema, name) && !is_owned(u->owned, u->nowned, name);
}

/* Are two members the same bytes? */
static int same_bytes(struct img_diff *d, const char *name, struct img_err *err)
{
	struct img_src *sa = NULL, *sb = NULL;
	int same = !img_dir_get(d->s[0].dir, name, &sa, err) && !img_dir_get(d->s[1].dir, name, &sb, err) &&
		   src_same(sa, sb);

	img_src_unref(sa);
	img_src_unref(sb);
	return same;
}

static void w_member(struct img_jw *w, const struct dval *v, int pretty)
{
	(void)pretty;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "size", v->u);
	img_jw_obj_end(w);
}

static int diff_member(struct dctx *c, const struct member *a, const struct member *b)
{
	const char *name = a ? a->name : b->name;
	size_t len = strlen(name), mark;
	int r = 0;

	if (!a || !b) {
		struct dval v;

		val_json(&v, w_member, NULL);
		v.u = a ? a->size : b->size;
		mark = path_push(c, "image[%s]", name);
		r = emit(c, a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, a ? &v : NULL, b ? &v : NULL);
		path_pop(c, mark);
		return r;
	}
	if (len > 4 && !strcmp(name + len - 4, ".img"))
		len -= 4;
	mark = path_push(c, "%.*s", (int)len, name);
	if (!c->overflow && !path_ignored(c->d, c->path) && !same_bytes(c->d, name, c->err)) {
		const struct img_image *ia, *ib;

		r = side_image(c->d, 0, name, &ia, c->err);
		if (!r)
			r = side_image(c->d, 1, name, &ib, c->err);
		if (!r)
			r = diff_image(c, ia, ib);
	}
	path_pop(c, mark);
	return r;
}

int diff_images(struct dctx *c)
{
	struct img_diff *d = c->d;
	struct members m[2] = { { 0 }, { 0 } };
	struct unowned u[2] = { { 0 }, { 0 } };
	size_t i = 0, j = 0;
	int r = 0;

	for (int s = 0; s < 2 && !r; s++) {
		u[s].schema = d->s[s].schema;
		r = owned_names(d, s, &u[s].owned, &u[s].nowned);
		if (r) {
			r = img_err_set(c->err, -r, "cannot list the images the tasks own");
			break;
		}
		m[s].keep = keep_unowned;
		m[s].arg = &u[s];
		r = members_list(d->s[s].dir, &m[s], c->err);
	}
	while (!r && (i < m[0].n || j < m[1].n)) {
		int cmp = i == m[0].n ? 1 : j == m[1].n ? -1 : strcmp(m[0].v[i].name, m[1].v[j].name);

		r = diff_member(c, cmp <= 0 ? &m[0].v[i] : NULL, cmp >= 0 ? &m[1].v[j] : NULL);
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
	}
	for (int s = 0; s < 2; s++) {
		members_free(&m[s]);
		for (size_t k = 0; k < u[s].nowned; k++)
			img_free(u[s].owned[k]);
		img_free(u[s].owned);
	}
	return r;
}
