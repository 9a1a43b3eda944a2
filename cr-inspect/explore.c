/*
 * x CKPT ps|fds|mems|rss|sk: crit x's explorers, printing what crit prints,
 * byte for byte, crit's mistakes included (they are the compatibility view;
 * the other commands show the truth):
 *  - files are looked up as crit does, so a memfd mapping shows "unknown path";
 *  - unix socket names are quoted-printable, as crit's JSON has them ("=00");
 *  - ps shows only the tree of the last task whose ppid is 0.
 * One departure: rss takes compat_nr_pages when nr_pages is absent (images
 * of CRIU < 4.2), where crit 4.2 fails with a KeyError.
 * sk is go-criu's socket explorer, in crit's text style.
 */
#include <stdlib.h>
#include <string.h>

#include "cr-inspect.h"

enum { ST_FILE_PRIVATE = 1 << 6, ST_FILE_SHARED = 1 << 7, ST_ANON_SHARED = 1 << 8, ST_SYSVIPC = 1 << 10,
       ST_SOCKET = 1 << 11 };

/* crit's get_file_str for a REG lookup */
static const char *reg_str(const struct img_ckpt *ck, uint64_t id)
{
	const struct img_file *f = img_ckpt_file(ck, (uint32_t)id);

	return f && f->type == 1 && f->path && f->path[0] ? f->path : "unknown path";
}

static void file_str(const struct img_ckpt *ck, const struct img_fd *fd, struct img_buf *b)
{
	const struct img_file *f = fd->file;
	const char *tn = img_fd_type_name(fd->type);
	uint32_t id = (uint32_t)img_msg_u64(fd->msg, "id", 0);

	b->len = 0;
	switch (fd->type) {
	case 1:
		img_buf_adds(b, reg_str(ck, id));
		break;
	case 2:
		if (f && f->type == 2)
			img_buf_printf(b, "pipe[%u]", f->pipe ? f->pipe->pipe_id : 0);
		else
			img_buf_adds(b, "pipe[?]");
		break;
	case 5:
		if (f && f->type == 5 && f->sk) {
			img_buf_printf(b, "unix[%u (%u)", f->sk->ino, f->sk->peer_ino);
			if (f->sk->namelen) {
				img_buf_addc(b, ' ');
				img_qp_encode(b, f->sk->name, f->sk->namelen);
			}
			img_buf_addc(b, ']');
		} else {
			img_buf_adds(b, "unix[?]");
		}
		break;
	default:
		img_buf_printf(b, "%s.%u", tn ? tn : "UNKNOWN", id);
	}
	img_buf_addc(b, 0);
	b->len--;
}

static const struct img_task *ps_root(const struct img_ckpt *ck)
{
	const struct img_task *const *t, *root = NULL;
	size_t n;

	t = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n; i++)
		if (t[i]->ppid == 0)
			root = t[i];
	return root;
}

static void ps_task(struct out *o, const struct img_task *t, int depth)
{
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_u64(&o->w, "pid", t->pid);
		img_jw_kv_u64(&o->w, "pgid", t->pgid);
		img_jw_kv_u64(&o->w, "sid", t->sid);
		img_jw_kv_str(&o->w, "comm", t->comm);
		img_jw_key(&o->w, "children");
		img_jw_arr_begin(&o->w);
	} else {
		img_out_printf(&o->o, "%7u%7u%7u   %*s%s\n", t->pid, t->pgid, t->sid, 4 * depth, "", t->comm);
	}
	for (size_t i = 0; i < t->nchildren; i++)
		ps_task(o, t->children[i], depth + 1);
	if (o->json) {
		img_jw_arr_end(&o->w);
		img_jw_obj_end(&o->w);
	}
}

static void x_ps(struct img_ckpt *ck, struct out *o)
{
	const struct img_task *root = ps_root(ck);

	if (!o->json)
		img_out_printf(&o->o, "%7s%7s%7s   %s\n", "PID", "PGID", "SID", "COMM");
	if (root)
		ps_task(o, root, 0);
	else if (o->json)
		img_jw_null(&o->w);
}

static void x_fd_line(struct out *o, const char *fd, const char *s)
{
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_str(&o->w, "fd", fd);
		img_jw_kv_str(&o->w, "file", s);
		img_jw_obj_end(&o->w);
	} else {
		img_out_printf(&o->o, "\t%7s: %s\n", fd, s);
	}
}

static void x_fds(struct img_ckpt *ck, struct out *o)
{
	const struct img_task *const *tasks;
	struct img_buf b;
	size_t n;

	img_buf_init(&b);
	tasks = img_ckpt_tasks(ck, &n);
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < n; i++) {
		const struct img_task *t = tasks[i];
		char fdn[16];

		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "pid", t->pid);
			img_jw_key(&o->w, "files");
			img_jw_arr_begin(&o->w);
		} else {
			img_out_printf(&o->o, "%u\n", t->pid);
		}
		for (size_t k = 0; k < t->nfds; k++) {
			file_str(ck, &t->fds[k], &b);
			snprintf(fdn, sizeof(fdn), "%u", t->fds[k].fd);
			x_fd_line(o, fdn, (const char *)b.data);
		}
		x_fd_line(o, "cwd", reg_str(ck, img_msg_u64(t->fs, "cwd_id", 0)));
		x_fd_line(o, "root", reg_str(ck, img_msg_u64(t->fs, "root_id", 0)));
		if (o->json) {
			img_jw_arr_end(&o->w);
			img_jw_obj_end(&o->w);
		}
	}
	if (o->json)
		img_jw_arr_end(&o->w);
	img_buf_free(&b);
}

/* crit numbers shared memory segments 1, 2, ... in the order it meets them */
struct vids {
	uint64_t *v;
	size_t n;
};

static size_t vid_get(struct vids *ids, uint64_t shmid)
{
	uint64_t *nv;

	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i] == shmid)
			return i + 1;
	nv = realloc(ids->v, (ids->n + 1) * sizeof(*nv));
	if (!nv)
		return 0;
	ids->v = nv;
	ids->v[ids->n++] = shmid;
	return ids->n;
}

static void x_mems(struct img_ckpt *ck, struct out *o)
{
	const struct img_task *const *tasks;
	struct vids ids = { 0 };
	struct img_buf fn;
	size_t n;

	img_buf_init(&fn);
	tasks = img_ckpt_tasks(ck, &n);
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < n; i++) {
		const struct img_task *t = tasks[i];
		const struct img_msg *mm = t->mm ? t->mm->msg : NULL, *v;
		const char *exe = reg_str(ck, img_msg_u64(mm, "exe_file_id", 0));
		struct img_iter it;

		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "pid", t->pid);
			img_jw_kv_str(&o->w, "exe", exe);
			img_jw_key(&o->w, "vmas");
			img_jw_arr_begin(&o->w);
		} else {
			img_out_printf(&o->o, "%u\n\t%-36s    %s\n", t->pid, "exe", exe);
		}
		img_iter_init(&it, mm, "vmas");
		while (mm && (v = img_iter_next_msg(&it))) {
			uint64_t st = img_msg_u64(v, "status", 0), pgoff = img_msg_u64(v, "pgoff", 0);
			uint64_t shmid = img_msg_u64(v, "shmid", 0);
			char prot[4], astr[48];

			fn.len = 0;
			if (st & ST_SYSVIPC)
				img_buf_printf(&fn, " ips[%zx]", vid_get(&ids, shmid));
			else if (st & ST_ANON_SHARED)
				img_buf_printf(&fn, " shmem[%zx]", vid_get(&ids, shmid));
			else if (st & ST_SOCKET)
				img_buf_printf(&fn, " packet[%zx]", vid_get(&ids, shmid));
			else if (st & (ST_FILE_PRIVATE | ST_FILE_SHARED)) {
				img_buf_printf(&fn, " %s", reg_str(ck, shmid));
				if (pgoff)
					img_buf_printf(&fn, " + %#llx", (unsigned long long)pgoff);
				if (st & ST_FILE_SHARED)
					img_buf_adds(&fn, " (s)");
			} else if (st & (1 << 1))
				img_buf_adds(&fn, " [stack]");
			else if (st & (1 << 2))
				img_buf_adds(&fn, " [vsyscall]");
			else if (st & (1 << 3))
				img_buf_adds(&fn, " [vdso]");
			else if (img_msg_u64(v, "flags", 0) & 0x0100)
				img_buf_adds(&fn, " [stack?]");
			if (!(st & 1))
				img_buf_adds(&fn, " *");
			img_buf_addc(&fn, 0);
			prot_str((uint32_t)img_msg_u64(v, "prot", 0), prot);
			snprintf(astr, sizeof(astr), "%08llx-%08llx", (unsigned long long)img_msg_u64(v, "start", 0),
				 (unsigned long long)img_msg_u64(v, "end", 0));
			if (o->json) {
				img_jw_obj_begin(&o->w);
				img_jw_kv_str(&o->w, "addr", astr);
				img_jw_kv_str(&o->w, "prot", prot);
				img_jw_kv_str(&o->w, "desc", (const char *)fn.data + (fn.data[0] == ' '));
				img_jw_obj_end(&o->w);
			} else {
				img_out_printf(&o->o, "\t%-36s%s%s\n", astr, prot, (const char *)fn.data);
			}
		}
		if (o->json) {
			img_jw_arr_end(&o->w);
			img_jw_obj_end(&o->w);
		}
	}
	if (o->json)
		img_jw_arr_end(&o->w);
	free(ids.v);
	img_buf_free(&fn);
}

/* Python's list indexing, negative indices included (crit's rss walks back to -1). */
static const struct img_msg *py_index(const struct img_msg **v, size_t n, long i)
{
	if (i < 0)
		i += (long)n;
	return i >= 0 && (size_t)i < n ? v[i] : NULL;
}

static int x_rss(struct img_ckpt *ck, struct out *o, struct img_cli *c)
{
	const struct img_task *const *tasks;
	struct img_buf vstr;
	size_t n;
	int r = 0;

	img_buf_init(&vstr);
	tasks = img_ckpt_tasks(ck, &n);
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_task *t = tasks[i];
		const struct img_msg *mm = t->mm ? t->mm->msg : NULL, **vmas;
		const struct img_image *pm;
		struct img_err e = { 0 };
		struct img_iter it;
		size_t nv = img_msg_count(mm, "vmas"), k = 0;
		long vmi = 0, pvmi = -1;
		char name[64];

		snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
		if (img_ckpt_image(ck, name, &pm, &e)) {
			r = img_cli_fail(c, "read", &e);
			break;
		}
		vmas = calloc(nv + 1, sizeof(*vmas));
		if (!vmas) {
			r = img_cli_failf(c, "out of memory");
			break;
		}
		img_iter_init(&it, mm, "vmas");
		while (k < nv && (vmas[k] = img_iter_next_msg(&it)))
			k++;
		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "pid", t->pid);
			img_jw_key(&o->w, "pages");
			img_jw_arr_begin(&o->w);
		} else {
			img_out_printf(&o->o, "%u\n", t->pid);
		}
		for (size_t p = 1; p < pm->n; p++) {
			const struct img_msg *e1 = pm->e[p].msg, *v;
			uint64_t vaddr = img_msg_u64(e1, "vaddr", 0);
			uint64_t nr = img_msg_has(e1, "nr_pages") ? img_msg_u64(e1, "nr_pages", 0)
							       : img_msg_u64(e1, "compat_nr_pages", 0);
			uint64_t pme = vaddr + (nr << 12);
			char pstr[64];

			snprintf(pstr, sizeof(pstr), "\t%llx / %-8llu", (unsigned long long)vaddr, (unsigned long long)nr);
			while ((v = py_index(vmas, k, vmi)) && vmi < (long)k && img_msg_u64(v, "end", 0) <= vaddr)
				vmi++;
			vstr.len = 0;
			if (o->json) {
				img_jw_obj_begin(&o->w);
				jw_hex(&o->w, "vaddr", vaddr);
				img_jw_kv_u64(&o->w, "nr_pages", nr);
				img_jw_key(&o->w, "vmas");
				img_jw_arr_begin(&o->w);
			}
			while ((v = py_index(vmas, k, vmi)) && vmi < (long)k && img_msg_u64(v, "start", 0) < pme) {
				uint64_t vs = img_msg_u64(v, "start", 0), ve = img_msg_u64(v, "end", 0);
				uint64_t st = img_msg_u64(v, "status", 0);

				if (vmi == pvmi) {
					img_buf_adds(&vstr, " ~");
				} else {
					img_buf_printf(&vstr, " %08llx / %-8llu", (unsigned long long)vs,
						       (unsigned long long)((ve - vs) >> 12));
					if (st & (ST_FILE_PRIVATE | ST_FILE_SHARED))
						img_buf_printf(&vstr, " %s", reg_str(ck, img_msg_u64(v, "shmid", 0)));
					pvmi = vmi;
					if (o->json) {
						img_jw_obj_begin(&o->w);
						jw_hex(&o->w, "start", vs);
						img_jw_kv_u64(&o->w, "nr_pages", (ve - vs) >> 12);
						if (st & (ST_FILE_PRIVATE | ST_FILE_SHARED))
							img_jw_kv_str(&o->w, "file", reg_str(ck, img_msg_u64(v, "shmid", 0)));
						img_jw_obj_end(&o->w);
					}
				}
				img_buf_printf(&vstr, "\n\t%23s", "");
				vmi++;
			}
			vmi--;
			img_buf_addc(&vstr, 0);
			if (o->json) {
				img_jw_arr_end(&o->w);
				img_jw_obj_end(&o->w);
			} else {
				img_out_printf(&o->o, "%-24s%s\n", pstr, (const char *)vstr.data);
			}
		}
		if (o->json) {
			img_jw_arr_end(&o->w);
			img_jw_obj_end(&o->w);
		}
		free(vmas);
	}
	if (o->json && !r)
		img_jw_arr_end(&o->w);
	img_buf_free(&vstr);
	return r;
}

/* go-criu's x sk: the sockets of each task */
static void x_sk(struct img_ckpt *ck, struct out *o)
{
	const struct img_task *const *tasks;
	size_t n;

	tasks = img_ckpt_tasks(ck, &n);
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < n; i++) {
		const struct img_task *t = tasks[i];

		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "pid", t->pid);
			img_jw_key(&o->w, "sockets");
			img_jw_arr_begin(&o->w);
		} else {
			img_out_printf(&o->o, "%u\n", t->pid);
		}
		for (size_t k = 0; k < t->nfds; k++) {
			const struct img_file *f = t->fds[k].file;
			const struct img_sock *sk = f ? f->sk : NULL;
			const char *fam, *type, *state, *proto;
			char src[80] = "", dst[80] = "";

			if (!sk)
				continue;
			fam = img_sock_family_name(sk->family);
			type = img_sock_type_name(sk->type);
			state = img_sock_state_name(sk->state);
			proto = f->type == 4 ? img_sock_proto_name(sk->proto) : NULL;
			if (f->type == 4) {
				snprintf(src, sizeof(src), "%s:%u", sk->src, sk->sport);
				snprintf(dst, sizeof(dst), "%s:%u", sk->dst, sk->dport);
			} else if (f->type == 5 && sk->namelen) {
				size_t l = sk->namelen < sizeof(src) - 1 ? sk->namelen : sizeof(src) - 1;

				for (size_t j = 0; j < l; j++)
					src[j] = sk->name[j] >= 0x20 && sk->name[j] < 0x7f ? (char)sk->name[j] : '@';
				src[l] = 0;
				while (l && src[l - 1] == '@' && sk->name[l - 1] == 0)
					src[--l] = 0; /* trailing NULs of a bound path */
			}
			if (o->json) {
				img_jw_obj_begin(&o->w);
				img_jw_kv_u64(&o->w, "fd", t->fds[k].fd);
				img_jw_kv_str(&o->w, "fd_type", f->type_name);
				img_jw_kv_u64(&o->w, "ino", sk->ino);
				img_jw_kv_str(&o->w, "family", fam ? fam : "");
				img_jw_kv_str(&o->w, "type", type ? type : "");
				img_jw_kv_str(&o->w, "protocol", proto ? proto : "");
				img_jw_kv_str(&o->w, "state", state ? state : "");
				img_jw_kv_str(&o->w, "src", src);
				img_jw_kv_str(&o->w, "dst", dst);
				img_jw_obj_end(&o->w);
			} else {
				img_out_printf(&o->o, "\t%7u: %s %s%s%s %s ino %u%s%s%s%s\n", t->fds[k].fd, fam ? fam : "?",
					       type ? type : "?", proto ? " " : "", proto ? proto : "",
					       state ? state : "?", sk->ino, src[0] ? " " : "", src,
					       dst[0] ? " -> " : "", dst);
			}
		}
		if (o->json) {
			img_jw_arr_end(&o->w);
			img_jw_obj_end(&o->w);
		}
	}
	if (o->json)
		img_jw_arr_end(&o->w);
}

int cmd_x(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const char *const whats[] = { "ps", "fds", "mems", "rss", "sk" };
	struct img_ckpt *ck;
	char *pos[2];
	int npos, r, w = -1;
	struct out o;

	r = parse_explorer(c, cmd, argc, argv, "", NULL, NULL, NULL, pos, 2, 2, &npos);
	if (r)
		return r < 0 ? 0 : r;
	/* crit's short forms: fd and mem */
	if (!strcmp(pos[1], "fd"))
		pos[1] = "fds";
	else if (!strcmp(pos[1], "mem"))
		pos[1] = "mems";
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (!strcmp(pos[1], whats[i]))
			w = (int)i;
	if (w < 0)
		return img_cmd_usage(c, cmd, "'%s' is not one of ps, fds, mems, rss, sk", pos[1]);
	r = open_ckpt(c, pos[0], &ck);
	if (r)
		return r;
	out_begin(c, &o);
	switch (w) {
	case 0: x_ps(ck, &o); break;
	case 1: x_fds(ck, &o); break;
	case 2: x_mems(ck, &o); break;
	case 3: r = x_rss(ck, &o, c); break;
	case 4: x_sk(ck, &o); break;
	}
	if (!r)
		r = out_end(c, &o);
	img_ckpt_close(ck);
	return r;
}
