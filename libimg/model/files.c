/*
 * Files of every type, from files.img or from the per-type images CRIU wrote
 * before 3.4, and what hangs off them: socket queues, pipe data, memfd
 * inodes, ghost files.  Then the fd tables (fdinfo-FILES_ID.img) and fs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../criu/legacy.h"
#include "priv.h"

const char *img_fd_type_name(uint32_t type)
{
	const struct img_enumdesc *e = img_schema_enum(img_schema_default(), "fd_types");
	const struct img_enumval *v = e ? img_enum_by_num(e, (int32_t)type) : NULL;

	return v ? v->name : NULL;
}

static const char *map_name(const char *map, uint32_t v)
{
	const struct img_map *m = img_schema_map(img_schema_default(), map);

	for (uint32_t i = 0; m && i < m->n; i++)
		if (m->ents[i].val == v)
			return m->ents[i].name;
	return NULL;
}

const char *img_sock_family_name(uint32_t v) { return map_name("sk.family", v); }
const char *img_sock_type_name(uint32_t v) { return map_name("sk.type", v); }
const char *img_sock_state_name(uint32_t v) { return map_name("sk.state", v); }
const char *img_sock_proto_name(uint32_t v) { return map_name("sk.proto", v); }

static int cmp_file_id(const void *a, const void *b)
{
	uint32_t x = (*(struct img_file *const *)a)->id, y = (*(struct img_file *const *)b)->id;

	return x < y ? -1 : x > y;
}

const struct img_file *img_ckpt_file(const struct img_ckpt *ck, uint32_t id)
{
	size_t lo = 0, hi = ck->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t v = ck->files_by_id[mid]->id;

		if (v == id)
			return ck->files_by_id[mid];
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct img_file *const *img_ckpt_files(const struct img_ckpt *ck, size_t *n)
{
	*n = ck->nfiles;
	return (const struct img_file *const *)ck->files;
}

struct flist {
	struct img_file **v;
	size_t n, cap;
};

static struct img_file *new_file(struct img_ckpt *ck, struct flist *l, const struct img_legacy_file *ft, uint32_t type,
				 const struct img_msg *msg, const struct img_msg *fe, const char *image)
{
	struct img_file *f;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct img_file **v = img_realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	f = img_arena_zalloc(&ck->arena, sizeof(*f));
	if (!f)
		return NULL;
	f->type = type;
	f->type_name = ft ? ft->name : img_fd_type_name(type);
	if (!f->type_name)
		f->type_name = "UNKNOWN";
	f->msg = msg;
	f->file_entry = fe;
	f->image = image;
	f->id = (uint32_t)(fe ? ck_u64(fe, "id", 0) : ck_u64(msg, "id", 0));
	l->v[l->n++] = f;
	return f;
}

static void sk_addr(const struct img_msg *m, const char *field, uint32_t family, char *buf, size_t len)
{
	uint32_t w[4] = { 0 };
	struct img_iter it;
	uint64_t v;
	size_t n = 0;

	buf[0] = 0;
	if (img_iter_init(&it, m, field))
		return;
	while (n < 4 && img_iter_next_u64(&it, &v))
		w[n++] = (uint32_t)v; /* network order words, as the kernel keeps them */
	if (!n)
		return;
	if (family == AF_INET6 && n == 4)
		inet_ntop(AF_INET6, w, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, w, buf, (socklen_t)len);
}

static int fill_sock(struct img_ckpt *ck, struct img_file *f)
{
	const struct img_msg *m = f->msg;
	struct img_sock *sk = img_arena_zalloc(&ck->arena, sizeof(*sk));

	if (!sk)
		return -ENOMEM;
	f->sk = sk;
	sk->ino = (uint32_t)ck_u64(m, "ino", 0);
	sk->ns_id = (uint32_t)ck_u64(m, "ns_id", 0);
	sk->state = (uint32_t)ck_u64(m, "state", 0);
	switch (f->type) {
	case 4: /* INETSK */
		sk->family = (uint32_t)ck_u64(m, "family", AF_INET);
		sk->type = (uint32_t)ck_u64(m, "type", 0);
		sk->proto = (uint32_t)ck_u64(m, "proto", 0);
		sk->sport = (uint32_t)ck_u64(m, "src_port", 0);
		sk->dport = (uint32_t)ck_u64(m, "dst_port", 0);
		sk_addr(m, "src_addr", sk->family, sk->src, sizeof(sk->src));
		sk_addr(m, "dst_addr", sk->family, sk->dst, sizeof(sk->dst));
		break;
	case 5: /* UNIXSK */
		sk->family = AF_UNIX;
		sk->type = (uint32_t)ck_u64(m, "type", 0);
		sk->peer_ino = (uint32_t)ck_u64(m, "peer", 0);
		sk->name = img_msg_bytes(m, "name", &sk->namelen);
		break;
	case 10: /* PACKETSK */
		sk->family = AF_PACKET;
		sk->type = (uint32_t)ck_u64(m, "type", 0);
		sk->proto = (uint32_t)ck_u64(m, "protocol", 0);
		break;
	case 13: /* NETLINKSK */
		sk->family = AF_NETLINK;
		sk->proto = (uint32_t)ck_u64(m, "protocol", 0);
		sk->sport = (uint32_t)ck_u64(m, "portid", 0);
		sk->dport = (uint32_t)ck_u64(m, "dst_portid", 0);
		break;
	}
	return 0;
}

static int fill_file(struct img_ckpt *ck, struct img_file *f)
{
	const struct img_msg *m = f->msg;

	f->pos = ck_u64(m, "pos", 0);
	f->flags = (uint32_t)ck_u64(m, "flags", 0);
	switch (f->type) {
	case 1: /* REG */
	case 16: /* EXT */
		f->path = img_msg_str(&ck->arena, m, "name", NULL);
		f->size = ck_u64(m, "size", 0);
		break;
	case 4: case 5: case 10: case 13:
		return fill_sock(ck, f);
	}
	return 0;
}

static int read_files(struct img_ckpt *ck, struct flist *l, struct img_err *err)
{
	const struct img_image *img;
	int r = ck_load(ck, "files.img", 1, &img, err);

	if (r)
		return ck_fail(ck, r, err);
	if (img) {
		for (size_t i = 0; i < img->n; i++) {
			const struct img_msg *fe = img->e[i].msg;
			uint32_t type = (uint32_t)ck_u64(fe, "type", 0);
			const struct img_legacy_file *ft = img_legacy_file(type);
			const struct img_msg *m = ft ? img_msg_sub(fe, ft->field) : NULL;
			struct img_file *f = new_file(ck, l, ft, type, m, fe, "files.img");

			if (!f)
				return img_err_set(err, ENOMEM, "out of memory");
			if (!m)
				ck_problem(ck, "files.img", EINVAL, "entry %zu at offset 0x%llx: file %u of type %s has no %s",
					   i, (unsigned long long)img->e[i].off, f->id, f->type_name,
					   ft ? ft->field : "known payload");
			if (fill_file(ck, f))
				return img_err_set(err, ENOMEM, "out of memory");
		}
	}
	/*
	 * Before CRIU 3.4: one image per type.  A set converted down with
	 * files CRIU 3.3 cannot hold has both; show them all.
	 */
	const struct img_legacy_file *ftypes;
	size_t nft;

	r = img_legacy_files(&ftypes, &nft, err);
	if (r)
		return r;
	for (size_t k = 0; k < nft; k++) {
		const struct img_legacy_file *ft = &ftypes[k];

		if (!ft->image)
			continue;
		r = ck_load(ck, ft->image, 1, &img, err);
		if (r && (r = ck_fail(ck, r, err)))
			return r;
		for (size_t i = 0; img && i < img->n; i++) {
			struct img_file *f = new_file(ck, l, ft, ft->type, img->e[i].msg, NULL, ft->image);

			if (!f || fill_file(ck, f))
				return img_err_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* Pipe and FIFO data: one img_pipe per pipe_id, shared by both ends. */
static uint64_t pipe_key(const struct img_file *f)
{
	return ck_u64(f->msg, "pipe_id", 0);
}

static int cmp_pipe_file(const void *a, const void *b)
{
	uint64_t x = pipe_key(*(struct img_file *const *)a), y = pipe_key(*(struct img_file *const *)b);

	return x < y ? -1 : x > y;
}

static int cmp_pipe_data(const void *a, const void *b)
{
	uint64_t x = ck_u64((*(const struct img_entry *const *)a)->msg, "pipe_id", 0);
	uint64_t y = ck_u64((*(const struct img_entry *const *)b)->msg, "pipe_id", 0);

	return x < y ? -1 : x > y;
}

static int attach_pipes(struct img_ckpt *ck, const char *image, uint32_t type, struct img_err *err)
{
	const struct img_image *img;
	struct img_file **v;
	const struct img_entry **data = NULL;
	size_t n = 0, nd = 0, d = 0;
	int r = ck_load(ck, image, 1, &img, err);

	if (r)
		return ck_fail(ck, r, err);
	v = img_malloc((ck->nfiles + 1) * sizeof(*v));
	if (img && img->n)
		data = img_malloc(img->n * sizeof(*data));
	if (!v || (img && img->n && !data)) {
		img_free(v);
		img_free(data);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ck->nfiles; i++)
		if (ck->files[i]->type == type)
			v[n++] = ck->files[i];
	for (size_t e = 0; img && e < img->n; e++)
		data[nd++] = &img->e[e];
	img_sort(v, n, sizeof(*v), cmp_pipe_file);
	if (nd)
		img_sort(data, nd, sizeof(*data), cmp_pipe_data);
	for (size_t i = 0; i < n && !r; i++) {
		uint64_t id = pipe_key(v[i]);
		struct img_pipe *p;

		if (i && pipe_key(v[i - 1]) == id) {
			v[i]->pipe = v[i - 1]->pipe;
			continue;
		}
		p = img_arena_zalloc(&ck->arena, sizeof(*p));
		if (!p) {
			r = img_err_set(err, ENOMEM, "out of memory");
			break;
		}
		p->pipe_id = (uint32_t)id;
		while (d < nd && ck_u64(data[d]->msg, "pipe_id", 0) < id)
			d++;
		if (d < nd && ck_u64(data[d]->msg, "pipe_id", 0) == id) {
			p->bytes = ck_u64(data[d]->msg, "bytes", 0);
			p->size = ck_u64(data[d]->msg, "size", 0);
			p->data = data[d]->extra;
			if (p->bytes > data[d]->extra_len)
				p->bytes = data[d]->extra_len;
		}
		v[i]->pipe = p;
	}
	img_free(v);
	img_free(data);
	return r;
}

static int cmp_sock(const void *a, const void *b)
{
	const struct img_file *x = *(struct img_file *const *)a, *y = *(struct img_file *const *)b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->sk->ino < y->sk->ino ? -1 : x->sk->ino > y->sk->ino;
}

/* Unix peers by inode: sockets sorted by (type, ino), then a binary search per peer. */
static int link_peers(struct img_ckpt *ck, struct img_err *err)
{
	struct img_file **v = img_malloc((ck->nfiles + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ck->nfiles; i++)
		if (ck->files[i]->sk)
			v[n++] = ck->files[i];
	img_sort(v, n, sizeof(*v), cmp_sock);
	for (size_t i = 0; i < n; i++) {
		struct img_sock *sk = (struct img_sock *)v[i]->sk;
		size_t lo = 0, hi = n;

		if (!sk->peer_ino)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			struct img_sock key = { .ino = sk->peer_ino };
			struct img_file kf = { .type = v[i]->type, .sk = &key };
			const struct img_file *kp = &kf;
			int c = cmp_sock(&v[mid], &kp);

			if (!c) {
				sk->peer = v[mid];
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	img_free(v);
	return 0;
}

static int attach_sockets(struct img_ckpt *ck, struct img_err *err)
{
	const struct img_image *q;
	int r = ck_load(ck, "sk-queues.img", 1, &q, err);

	if (r && (r = ck_fail(ck, r, err)))
		return r;
	for (size_t i = 0; q && i < q->n; i++) {
		uint32_t id = (uint32_t)ck_u64(q->e[i].msg, "id_for", 0);
		struct img_file *f = (struct img_file *)img_ckpt_file(ck, id);

		if (!f || !f->sk) {
			ck_problem(ck, "sk-queues.img", EINVAL, "entry %zu at offset 0x%llx: socket %u is not in the files",
				   i, (unsigned long long)q->e[i].off, id);
			continue;
		}
		struct img_sock *sk = (struct img_sock *)f->sk;

		sk->rqueue_packets++;
		sk->rqueue_bytes += ck_u64(q->e[i].msg, "length", 0);
	}
	r = link_peers(ck, err);
	if (r)
		return r;
	for (size_t i = 0; i < ck->nfiles; i++) {
		struct img_file *f = ck->files[i];
		struct img_sock *sk = (struct img_sock *)f->sk;
		const struct img_image *ts;
		char name[64];

		if (!sk || f->type != 4 || sk->proto != 6)
			continue;
		snprintf(name, sizeof(name), "tcp-stream-%x.img", sk->ino);
		r = ck_load(ck, name, 1, &ts, err);
		if (r && (r = ck_fail(ck, r, err)))
			return r;
		if (ts && ts->n) {
			sk->tcp = ts->e[0].msg;
			sk->tcp_inq = ck_u64(sk->tcp, "inq_len", 0);
			sk->tcp_outq = ck_u64(sk->tcp, "outq_len", 0);
		}
	}
	return 0;
}

/* memfd inodes, FIFO and TTY paths, deleted files kept as ghosts. */
static int attach_misc(struct img_ckpt *ck, struct img_err *err)
{
	const struct img_image *memfd, *remap;
	int r = ck_load(ck, "memfd.img", 1, &memfd, err);

	if (r && (r = ck_fail(ck, r, err)))
		return r;
	r = ck_load(ck, "remap-fpath.img", 1, &remap, err);
	if (r && (r = ck_fail(ck, r, err)))
		return r;
	for (size_t i = 0; i < ck->nfiles; i++) {
		struct img_file *f = ck->files[i];

		if (f->type == 18) { /* MEMFD */
			uint64_t ino = ck_u64(f->msg, "inode_id", 0);

			for (size_t e = 0; memfd && e < memfd->n; e++)
				if (ck_u64(memfd->e[e].msg, "inode_id", 0) == ino) {
					f->extra = memfd->e[e].msg;
					f->path = img_msg_str(&ck->arena, f->extra, "name", NULL);
					f->size = ck_u64(f->extra, "size", 0);
					f->shmid = ck_u64(f->extra, "shmid", 0);
				}
			if (!f->extra)
				ck_problem(ck, "memfd.img", ENOENT, "no inode %llu for memfd file %u",
					   (unsigned long long)ino, f->id);
		} else if (f->type == 3 || f->type == 11) { /* FIFO, TTY: the path is in a reg file */
			const struct img_file *rf = img_ckpt_file(ck, (uint32_t)ck_u64(f->msg, "regf_id", 0));

			if (rf && rf->type == 1) {
				f->extra = rf->msg;
				f->path = rf->path;
			}
		}
	}
	for (size_t e = 0; remap && e < remap->n; e++) {
		const struct img_msg *m = remap->e[e].msg;
		uint32_t rid = (uint32_t)ck_u64(m, "remap_id", 0);
		struct img_file *f = (struct img_file *)img_ckpt_file(ck, (uint32_t)ck_u64(m, "orig_id", 0));
		uint64_t type;

		if (!f)
			continue;
		/* before remap_type, the top bit of remap_id said "ghost" */
		type = img_msg_has(m, "remap_type") ? ck_u64(m, "remap_type", 0) : (uint64_t)(rid >> 31);
		rid &= 0x7fffffffu;
		f->remap = type == 0 ? IMG_REMAP_LINKED : type == 1 ? IMG_REMAP_GHOST : type == 2 ? IMG_REMAP_PROCFS
										   : IMG_REMAP_OTHER;
		if (f->remap == IMG_REMAP_GHOST) {
			const struct img_image *g;
			char name[64];

			snprintf(name, sizeof(name), "ghost-file-%x.img", rid);
			r = ck_load(ck, name, 1, &g, err);
			if (r && (r = ck_fail(ck, r, err)))
				return r;
			f->remap_image = img_arena_strndup(&ck->arena, name, strlen(name));
			if (g && g->n) {
				uint64_t sz = 0;

				for (size_t k = 0; k < g->n; k++)
					sz += g->e[k].extra_len;
				f->size = img_msg_has(g->e[0].msg, "size") ? ck_u64(g->e[0].msg, "size", 0) : sz;
			} else {
				ck_problem(ck, name, ENOENT, "the ghost of file %u is missing", f->id);
			}
		}
	}
	return 0;
}

int ck_load_files(struct img_ckpt *ck, struct img_err *err)
{
	struct flist l = { 0 };
	int r = read_files(ck, &l, err);

	if (r) {
		img_free(l.v);
		return r;
	}
	ck->files = img_arena_alloc(&ck->arena, (l.n + 1) * sizeof(*ck->files));
	ck->files_by_id = img_arena_alloc(&ck->arena, (l.n + 1) * sizeof(*ck->files));
	if (!ck->files || !ck->files_by_id) {
		img_free(l.v);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	if (l.n) {
		memcpy(ck->files, l.v, l.n * sizeof(*l.v));
		memcpy(ck->files_by_id, l.v, l.n * sizeof(*l.v));
	}
	ck->nfiles = l.n;
	img_free(l.v);
	img_sort(ck->files_by_id, ck->nfiles, sizeof(*ck->files_by_id), cmp_file_id);
	r = attach_pipes(ck, "pipes-data.img", 2, err);
	if (!r)
		r = attach_pipes(ck, "fifo-data.img", 3, err);
	if (!r)
		r = attach_misc(ck, err);
	if (!r)
		r = attach_sockets(ck, err);
	return r;
}

/* fd tables are per files_id and shared by the tasks that share one. */

int ck_load_task_files(struct img_ckpt *ck, struct img_task *t, struct img_err *err)
{
	const struct img_image *img = NULL;
	char name[64];
	int r;

	if (t->state == IMG_TASK_ZOMBIE || t->state == IMG_TASK_DEAD)
		return 0;
	for (size_t i = 0; i < ck->ntasks && ck->tasks[i] != t; i++)
		if (ck->tasks[i]->files_id == t->files_id && ck->tasks[i]->fds) {
			t->fds = ck->tasks[i]->fds;
			t->nfds = ck->tasks[i]->nfds;
			goto fs;
		}
	snprintf(name, sizeof(name), "fdinfo-%u.img", t->files_id);
	r = ck_load(ck, name, ck->inventory && !ck_u64(ck->inventory, "fdinfo_per_id", 0), &img, err);
	if (r && (r = ck_fail(ck, r, err)))
		return r;
	if (!img && !r && ck->inventory && !ck_u64(ck->inventory, "fdinfo_per_id", 0)) {
		/* sets older than fdinfo_per_id: one table per pid */
		snprintf(name, sizeof(name), "fdinfo-%u.img", t->pid);
		r = ck_load(ck, name, 0, &img, err);
		if (r && (r = ck_fail(ck, r, err)))
			return r;
	}
	if (img && img->n) {
		struct img_fd *fds = img_arena_zalloc(&ck->arena, img->n * sizeof(*fds));

		if (!fds)
			return img_err_set(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < img->n; i++) {
			const struct img_msg *m = img->e[i].msg;
			struct img_fd *fd = &fds[i];
			uint32_t id = (uint32_t)ck_u64(m, "id", 0);

			fd->msg = m;
			fd->fd = (uint32_t)ck_u64(m, "fd", 0);
			fd->flags = (uint32_t)ck_u64(m, "flags", 0);
			fd->type = (uint32_t)ck_u64(m, "type", 0);
			fd->file = img_ckpt_file(ck, id);
			if (!fd->file)
				ck_problem(ck, name, ENOENT, "entry %zu at offset 0x%llx: fd %u refers to file %u, which is not in the set",
					   i, (unsigned long long)img->e[i].off, fd->fd, id);
		}
		t->fds = fds;
		t->nfds = img->n;
	}
fs:
	snprintf(name, sizeof(name), "fs-%u.img", t->pid);
	r = ck_load(ck, name, 0, &img, err);
	if (r)
		return ck_fail(ck, r, err);
	t->fs = img_image_msg(img);
	t->umask = (uint32_t)ck_u64(t->fs, "umask", 0);
	t->cwd = img_ckpt_file(ck, (uint32_t)ck_u64(t->fs, "cwd_id", 0));
	t->root = img_ckpt_file(ck, (uint32_t)ck_u64(t->fs, "root_id", 0));
	return 0;
}
