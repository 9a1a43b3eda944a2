/*
 * Namespaces: paired through the tasks that use them (a task's namespace of
 * a kind in A and its partner's in B), when both are the dumper's own or both
 * are not.  A namespace only one side uses is added or removed; paired ones
 * compare their images (utsns, ipcns-*, netns and the network images,
 * mountpoints by mount point, userns, pidns, timens).  cgroup.img too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* The images of a namespace, the main one first for each kind. */
static const struct nsimg {
	int kind;
	const char *stem, *pattern;
} nsimgs[] = {
	{ IMG_NS_PID, "pidns", "pidns-%u.img" },
	{ IMG_NS_NET, "netns", "netns-%u.img" },
	{ IMG_NS_NET, "netdev", "netdev-%u.img" },
	{ IMG_NS_NET, "ifaddr", "ifaddr-%u.img" },
	{ IMG_NS_NET, "route", "route-%u.img" },
	{ IMG_NS_NET, "route6", "route6-%u.img" },
	{ IMG_NS_NET, "rule", "rule-%u.img" },
	{ IMG_NS_NET, "iptables", "iptables-%u.img" },
	{ IMG_NS_NET, "ip6tables", "ip6tables-%u.img" },
	{ IMG_NS_NET, "nftables", "nftables-%u.img" },
	{ IMG_NS_NET, "netns-ct", "netns-ct-%u.img" },
	{ IMG_NS_NET, "netns-exp", "netns-exp-%u.img" },
	{ IMG_NS_IPC, "ipcns-var", "ipcns-var-%u.img" },
	{ IMG_NS_IPC, "ipcns-shm", "ipcns-shm-%u.img" },
	{ IMG_NS_IPC, "ipcns-msg", "ipcns-msg-%u.img" },
	{ IMG_NS_IPC, "ipcns-sem", "ipcns-sem-%u.img" },
	{ IMG_NS_UTS, "utsns", "utsns-%u.img" },
	{ IMG_NS_MNT, "mountpoints", "mountpoints-%u.img" },
	{ IMG_NS_USER, "userns", "userns-%u.img" },
	{ IMG_NS_TIME, "timens", "timens-%u.img" },
};
#define NNSIMGS (sizeof(nsimgs) / sizeof(nsimgs[0]))

/* The number the images of a namespace carry: the one in its main image's name (an id, a pid, or 0), else its id. */
static uint32_t image_number(const struct img_ns *ns)
{
	const char *p = ns->image;
	unsigned long v = 0;
	int digits = 0;

	if (!p)
		return ns->id;
	for (; *p && *p != '.'; p++) {
		if (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned long)(*p - '0');
			digits = 1;
		} else {
			v = 0;
			digits = 0;
		}
	}
	return digits ? (uint32_t)v : ns->id;
}

static const char *image_name(const struct img_ns *ns, const struct nsimg *t, char *buf, size_t len)
{
	if (t == &nsimgs[0] || t[-1].kind != t->kind) /* the main image: the model found it */
		return ns->image;
	snprintf(buf, len, t->pattern, image_number(ns));
	return buf;
}

size_t ns_image_names(const struct img_ns *ns, char (*names)[64], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NNSIMGS && n < max; i++) {
		char buf[64];
		const char *s;

		if (nsimgs[i].kind != ns->kind || !(s = image_name(ns, &nsimgs[i], buf, sizeof(buf))))
			continue;
		snprintf(names[n++], 64, "%s", s);
	}
	return n;
}

static const struct img_ns *find_ns(const struct img_ns *v, size_t n, int kind, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == kind && v[i].id == id)
			return &v[i];
	return NULL;
}

static int cmp_dns(const void *x, const void *y)
{
	const struct dns *a = x, *b = y;
	const struct img_ns *p = a->a ? a->a : a->b, *q = b->a ? b->a : b->b;

	if (p->kind != q->kind)
		return p->kind < q->kind ? -1 : 1;
	if (!a->a != !b->a)
		return a->a ? -1 : 1; /* those A has first */
	return p->id < q->id ? -1 : p->id > q->id;
}

int ns_pair_all(struct img_diff *d, struct img_err *err)
{
	size_t na = 0, nb = 0, n = 0;
	const struct img_ns *va = d->s[0].ck ? img_ckpt_namespaces(d->s[0].ck, &na) : NULL;
	const struct img_ns *vb = d->s[1].ck ? img_ckpt_namespaces(d->s[1].ck, &nb) : NULL;
	uint8_t *ta = img_calloc(na + 1, 1), *tb = img_calloc(nb + 1, 1);

	d->ns = img_calloc(na + nb + 1, sizeof(*d->ns));
	if (!ta || !tb || !d->ns) {
		img_free(ta);
		img_free(tb);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < d->npairs; i++) {
		const struct img_task *a = d->pairs[i].pub.a, *b = d->pairs[i].pub.b;

		for (int k = 0; a && b && k < IMG_NS__COUNT; k++) {
			const struct img_ns *x = find_ns(va, na, k, a->ns_id[k]), *y = find_ns(vb, nb, k, b->ns_id[k]);

			if (!x || !y || ta[x - va] || tb[y - vb] || x->is_root != y->is_root)
				continue;
			ta[x - va] = tb[y - vb] = 1;
			d->ns[n].a = x;
			d->ns[n++].b = y;
		}
	}
	/* left over (their tasks are not paired): the same kind and id, both the dumper's or not */
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb && !ta[i]; j++)
			if (!tb[j] && va[i].kind == vb[j].kind && va[i].id == vb[j].id && va[i].is_root == vb[j].is_root) {
				ta[i] = tb[j] = 1;
				d->ns[n].a = &va[i];
				d->ns[n++].b = &vb[j];
			}
	for (size_t i = 0; i < na; i++)
		if (!ta[i])
			d->ns[n++].a = &va[i];
	for (size_t i = 0; i < nb; i++)
		if (!tb[i])
			d->ns[n++].b = &vb[i];
	img_sort(d->ns, n, sizeof(*d->ns), cmp_dns);
	d->nns = n;
	img_free(ta);
	img_free(tb);
	return 0;
}

static void w_ns(struct img_jw *w, const struct dval *v, int pretty)
{
	const struct img_ns *ns = v->arg;

	(void)pretty;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "id", ns->id);
	img_jw_kv_bool(w, "root", ns->is_root);
	img_jw_key(w, "image");
	if (ns->image)
		img_jw_str(w, ns->image);
	else
		img_jw_null(w);
	img_jw_kv_u64(w, "tasks", ns->ntasks);
	img_jw_obj_end(w);
}

/* Mounts, paired by mount point (then in order for one mounted twice). */
static int diff_mounts(struct dctx *c, const struct img_image *a, const struct img_image *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;
	uint8_t *tb = img_calloc(nb + 1, 1);
	int r = 0;

	if (!tb)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (int side = 0; side < 2 && !r; side++) {
		const struct img_image *img = side ? b : a;

		for (size_t i = 0; i < (side ? nb : na) && !r; i++) {
			const struct img_msg *x = img->e[i].msg, *y = NULL;
			const char *mp = img_msg_str(&c->d->arena, x, "mountpoint", "");
			char key[512];
			size_t mark, k = 0;

			if (side && tb[i])
				continue;
			for (size_t j = 0; !side && j < nb && !y; j++)
				if (!tb[j] && !strcmp(mp, img_msg_str(&c->d->arena, b->e[j].msg, "mountpoint", ""))) {
					tb[j] = 1;
					y = b->e[j].msg;
				}
			for (; mp[k] && k + 1 < sizeof(key); k++)
				key[k] = mp[k] == ']' ? '?' : mp[k];
			key[k] = 0;
			mark = path_push(c, ".mountpoints[%s]", key[0] ? key : "?");
			r = side ? diff_msg(c, NULL, x, 0) : diff_msg(c, x, y, 0);
			path_pop(c, mark);
		}
	}
	img_free(tb);
	return r;
}

static int diff_ns_images(struct dctx *c, const struct img_ns *a, const struct img_ns *b)
{
	int r = 0;

	for (size_t i = 0; i < NNSIMGS && !r; i++) {
		const struct img_image *ia = NULL, *ib = NULL;
		char ba[64], bb[64];
		const char *na, *nb;
		size_t mark;

		if (nsimgs[i].kind != a->kind)
			continue;
		na = image_name(a, &nsimgs[i], ba, sizeof(ba));
		nb = image_name(b, &nsimgs[i], bb, sizeof(bb));
		if (na)
			r = side_image(c->d, 0, na, &ia, c->err);
		if (!r && nb)
			r = side_image(c->d, 1, nb, &ib, c->err);
		if (r || (!ia && !ib))
			continue;
		if (a->kind == IMG_NS_MNT)
			r = diff_mounts(c, ia, ib);
		else {
			mark = path_push(c, ".%s", nsimgs[i].stem);
			r = diff_image(c, ia, ib);
			path_pop(c, mark);
		}
	}
	return r;
}

int diff_ns_set(struct dctx *c)
{
	struct img_diff *d = c->d;
	const struct img_image *ca = NULL, *cb = NULL;
	int r = 0;

	for (size_t i = 0; i < d->nns && !r; i++) {
		const struct img_ns *a = d->ns[i].a, *b = d->ns[i].b, *any = a ? a : b;
		size_t mark = path_push(c, "ns.%s[%u]", img_ns_kind_name(any->kind), any->id);

		if (a && b) {
			r = diff_ns_images(c, a, b);
		} else {
			struct dval v;

			val_json(&v, w_ns, any);
			r = emit(c, a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, a ? &v : NULL, b ? &v : NULL);
		}
		path_pop(c, mark);
	}
	if (!r)
		r = side_image(d, 0, "cgroup.img", &ca, c->err);
	if (!r)
		r = side_image(d, 1, "cgroup.img", &cb, c->err);
	if (!r && (ca || cb)) {
		size_t mark = path_push(c, "cgroup");

		r = diff_image(c, ca, cb);
		path_pop(c, mark);
	}
	return r;
}
