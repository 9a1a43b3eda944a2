/* fds and sockets: open files of each task, and sockets and pipes with the data queued in them. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cr-inspect.h"

enum { T_REG = 1, T_PIPE, T_FIFO, T_INETSK, T_UNIXSK, T_EVENTFD, T_EVENTPOLL, T_INOTIFY, T_SIGNALFD,
       T_PACKETSK, T_TTY, T_FANOTIFY, T_NETLINKSK, T_NS, T_TUNF, T_EXT, T_TIMERFD, T_MEMFD };

static void inet_endpoint(struct img_buf *b, uint32_t family, const char *addr, uint32_t port)
{
	if (family == AF_INET6)
		img_buf_printf(b, "[%s]:", addr[0] ? addr : "::");
	else
		img_buf_printf(b, "%s:", addr[0] ? addr : "0.0.0.0");
	if (port)
		img_buf_printf(b, "%u", port);
	else
		img_buf_addc(b, '*');
}

static void unix_name(struct img_buf *b, const struct img_sock *sk)
{
	size_t n = sk->namelen;
	const uint8_t *p = sk->name;

	if (!n)
		return;
	if (p[0] == 0) { /* abstract */
		img_buf_addc(b, '@');
		p++;
		n--;
	} else {
		while (n && p[n - 1] == 0)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f)
			img_buf_addc(b, p[i]);
		else
			img_buf_printf(b, "\\x%02x", p[i]);
}

static void queued(struct img_buf *b, const struct img_sock *sk)
{
	if (sk->rqueue_packets)
		img_buf_printf(b, ", %llu bytes queued (%u packet%s)", (unsigned long long)sk->rqueue_bytes,
			       sk->rqueue_packets, sk->rqueue_packets == 1 ? "" : "s");
	if (sk->tcp)
		img_buf_printf(b, ", %llu bytes to read, %llu bytes unsent", (unsigned long long)sk->tcp_inq,
			       (unsigned long long)sk->tcp_outq);
}

static void describe_sock(const struct img_file *f, struct img_buf *b)
{
	const struct img_sock *sk = f->sk;
	const char *type = img_sock_type_name(sk->type), *state = img_sock_state_name(sk->state);

	switch (f->type) {
	case T_INETSK: {
		const char *proto = img_sock_proto_name(sk->proto);

		img_buf_printf(b, "%s%s ", proto ? proto : type ? type : "?", sk->family == AF_INET6 ? "6" : "");
		/* UDP has no LISTEN; its CLOSE state is an unconnected socket */
		if (sk->type == SOCK_DGRAM && sk->state == 7)
			state = NULL;
		if (state)
			img_buf_printf(b, "%s ", state);
		inet_endpoint(b, sk->family, sk->src, sk->sport);
		if (sk->dport) {
			img_buf_adds(b, " -> ");
			inet_endpoint(b, sk->family, sk->dst, sk->dport);
		}
		break;
	}
	case T_UNIXSK:
		img_buf_printf(b, "unix %s %s", type ? type : "?", state ? state : "?");
		if (sk->namelen) {
			img_buf_addc(b, ' ');
			unix_name(b, sk);
		}
		img_buf_printf(b, " ino %u", sk->ino);
		if (sk->peer_ino) {
			img_buf_printf(b, " peer %u", sk->peer_ino);
			if (sk->peer && sk->peer->sk && sk->peer->sk->peer_ino == sk->ino && !sk->namelen &&
			    !sk->peer->sk->namelen)
				img_buf_adds(b, " (socketpair)");
		}
		break;
	case T_PACKETSK:
		img_buf_printf(b, "packet %s proto 0x%x", type ? type : "?", sk->proto);
		break;
	case T_NETLINKSK:
		img_buf_printf(b, "netlink proto %u portid %u", sk->proto, sk->sport);
		break;
	}
	queued(b, sk);
}

void describe_file(const struct img_file *f, struct img_buf *b)
{
	const struct img_msg *m = f->msg;

	switch (f->type) {
	case T_REG:
	case T_EXT:
		img_buf_adds(b, f->path ? f->path : "?");
		if (f->remap == IMG_REMAP_GHOST)
			img_buf_printf(b, " (deleted; %llu bytes kept in %s)", (unsigned long long)f->size,
				       f->remap_image ? f->remap_image : "a ghost image");
		else if (f->remap == IMG_REMAP_LINKED)
			img_buf_adds(b, " (deleted; linked remap)");
		break;
	case T_MEMFD:
		img_buf_printf(b, "memfd:%s (%llu bytes)", f->path ? f->path : "?", (unsigned long long)f->size);
		break;
	case T_PIPE:
	case T_FIFO:
		if (f->type == T_FIFO)
			img_buf_printf(b, "fifo %s ", f->path ? f->path : "?");
		img_buf_printf(b, "pipe[%u] %s end", f->pipe ? f->pipe->pipe_id : 0, (f->flags & 3) ? "write" : "read");
		if (f->pipe && f->pipe->bytes)
			img_buf_printf(b, ", %llu bytes unread", (unsigned long long)f->pipe->bytes);
		break;
	case T_INETSK: case T_UNIXSK: case T_PACKETSK: case T_NETLINKSK:
		if (f->sk)
			describe_sock(f, b);
		break;
	case T_EVENTFD:
		img_buf_printf(b, "eventfd count %llu", (unsigned long long)img_msg_u64(m, "counter", 0));
		break;
	case T_TIMERFD:
		img_buf_printf(b, "timerfd clock %llu interval %llu.%09llus value %llu.%09llus",
			       (unsigned long long)img_msg_u64(m, "clockid", 0), (unsigned long long)img_msg_u64(m, "isec", 0),
			       (unsigned long long)img_msg_u64(m, "insec", 0), (unsigned long long)img_msg_u64(m, "vsec", 0),
			       (unsigned long long)img_msg_u64(m, "vnsec", 0));
		break;
	case T_SIGNALFD: {
		uint64_t mask = img_msg_u64(m, "sigmask", 0);

		img_buf_printf(b, "signalfd mask 0x%llx", (unsigned long long)mask);
		break;
	}
	case T_EVENTPOLL: {
		struct img_iter it;
		const struct img_msg *tfd;
		int any = 0;

		img_buf_adds(b, "epoll");
		img_iter_init(&it, m, "tfd");
		while ((tfd = img_iter_next_msg(&it))) {
			img_buf_printf(b, "%s%llu", any ? "," : " on fd ", (unsigned long long)img_msg_u64(tfd, "tfd", 0));
			any = 1;
		}
		break;
	}
	case T_INOTIFY: {
		struct img_iter it;
		const struct img_msg *wd;

		img_buf_adds(b, "inotify");
		img_iter_init(&it, m, "wd");
		while ((wd = img_iter_next_msg(&it))) {
			size_t n;
			const uint8_t *p = img_msg_bytes(img_msg_sub(wd, "f_handle"), "path", &n);

			if (p)
				img_buf_printf(b, " %.*s", (int)n, (const char *)p);
			else
				img_buf_printf(b, " ino %llu", (unsigned long long)img_msg_u64(wd, "i_ino", 0));
		}
		break;
	}
	case T_TTY:
		img_buf_printf(b, "tty %s", f->path ? f->path : "?");
		break;
	default:
		img_buf_printf(b, "%s.%u", f->type_name, f->id);
	}
	img_buf_addc(b, 0);
	b->len--;
}

static const char *fd_desc(const struct img_fd *fd, struct img_buf *b)
{
	b->len = 0;
	if (fd->file)
		describe_file(fd->file, b);
	else
		img_buf_printf(b, "file %llu is not in the checkpoint",
			       (unsigned long long)img_msg_u64(fd->msg, "id", 0));
	img_buf_addc(b, 0);
	return (const char *)b->data;
}

static int cmp_fdp(const void *a, const void *b)
{
	uint32_t x = (*(const struct img_fd *const *)a)->fd, y = (*(const struct img_fd *const *)b)->fd;

	return x < y ? -1 : x > y;
}

static void fd_row(struct out *o, const char *fd, const char *type, const char *desc, const struct img_file *f)
{
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_str(&o->w, "fd", fd);
		img_jw_kv_str(&o->w, "type", type);
		if (f)
			img_jw_kv_u64(&o->w, "id", f->id);
		if (f && f->path)
			img_jw_kv_str(&o->w, "path", f->path);
		if (f && f->pipe)
			img_jw_kv_u64(&o->w, "unread", f->pipe->bytes);
		if (f && f->sk && f->sk->rqueue_packets)
			img_jw_kv_u64(&o->w, "queued", f->sk->rqueue_bytes);
		img_jw_kv_str(&o->w, "desc", desc);
		img_jw_obj_end(&o->w);
	} else {
		img_out_printf(&o->o, "    %5s %-10s %s\n", fd, type, desc);
	}
}

int cmd_fds(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct pid_opts po = { c, cmd, 0, 0 };
	const struct img_task *const *tasks, *one = NULL;
	struct img_ckpt *ck;
	struct img_buf b;
	struct out o;
	char *pos[1];
	int npos, r;
	size_t n;

	r = parse_explorer(c, cmd, argc, argv, "", pid_longopts, pid_opt, &po, pos, 1, 1, &npos);
	if (r)
		return r < 0 ? 0 : r;
	r = open_ckpt(c, pos[0], &ck);
	if (r)
		return r;
	if ((r = pick_tasks(c, ck, po.have_pid, po.pid, &one, &tasks, &n))) {
		img_ckpt_close(ck);
		return r;
	}
	img_buf_init(&b);
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < n; i++) {
		const struct img_task *t = tasks[i];
		const struct img_fd **fds = calloc(t->nfds + 1, sizeof(*fds));
		char num[16];

		if (!fds)
			break;
		for (size_t k = 0; k < t->nfds; k++)
			fds[k] = &t->fds[k];
		qsort(fds, t->nfds, sizeof(*fds), cmp_fdp);
		if (o.json) {
			img_jw_obj_begin(&o.w);
			img_jw_kv_u64(&o.w, "pid", t->pid);
			img_jw_kv_str(&o.w, "comm", t->comm);
			img_jw_key(&o.w, "fds");
			img_jw_arr_begin(&o.w);
		} else {
			img_out_printf(&o.o, "pid %u %s\n", t->pid, t->comm);
		}
		for (size_t k = 0; k < t->nfds; k++) {
			const char *tn = fds[k]->file ? fds[k]->file->type_name : img_fd_type_name(fds[k]->type);

			snprintf(num, sizeof(num), "%u", fds[k]->fd);
			fd_row(&o, num, tn ? tn : "?", fd_desc(fds[k], &b), fds[k]->file);
		}
		if (t->cwd)
			fd_row(&o, "cwd", "DIR", t->cwd->path ? t->cwd->path : "?", t->cwd);
		if (t->root)
			fd_row(&o, "root", "DIR", t->root->path ? t->root->path : "?", t->root);
		if (o.json) {
			img_jw_arr_end(&o.w);
			img_jw_obj_end(&o.w);
		}
		free(fds);
	}
	if (o.json)
		img_jw_arr_end(&o.w);
	r = out_end(c, &o);
	img_buf_free(&b);
	img_ckpt_close(ck);
	return r;
}

/* sockets: every socket and pipe once, with the tasks and fds that hold it */
struct user {
	uint32_t id;
	size_t order; /* task order, then fd order */
	uint32_t pid, fd;
};

static int cmp_user(const void *a, const void *b)
{
	const struct user *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int cmd_sockets(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct pid_opts po = { c, cmd, 0, 0 };
	const struct img_task *const *tasks, *one;
	const struct img_file *const *files;
	struct img_ckpt *ck;
	struct img_buf b;
	struct user *users;
	struct out o;
	char *pos[1];
	size_t n, nf, nu = 0;
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "", pid_longopts, pid_opt, &po, pos, 1, 1, &npos);
	if (r)
		return r < 0 ? 0 : r;
	r = open_ckpt(c, pos[0], &ck);
	if (r)
		return r;
	if ((r = pick_tasks(c, ck, po.have_pid, po.pid, &one, &tasks, &n))) {
		img_ckpt_close(ck);
		return r;
	}
	files = img_ckpt_files(ck, &nf);
	img_buf_init(&b);
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t k = 0; k < n; k++)
		nu += tasks[k]->nfds;
	users = calloc(nu + 1, sizeof(*users));
	if (!users) {
		img_ckpt_close(ck);
		return img_cli_failf(c, "out of memory");
	}
	nu = 0;
	for (size_t k = 0; k < n; k++)
		for (size_t j = 0; j < tasks[k]->nfds; j++) {
			const struct img_file *f = tasks[k]->fds[j].file;

			if (!f || (!f->sk && !f->pipe))
				continue;
			users[nu].id = f->id;
			users[nu].order = nu;
			users[nu].pid = tasks[k]->pid;
			users[nu++].fd = tasks[k]->fds[j].fd;
		}
	qsort(users, nu, sizeof(*users), cmp_user);
	for (size_t i = 0; i < nf; i++) {
		const struct img_file *f = files[i];
		size_t lo = 0, hi = nu;

		if (!f->sk && !f->pipe)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (users[mid].id < f->id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == nu || users[lo].id != f->id)
			continue;
		b.len = 0;
		describe_file(f, &b);
		if (o.json) {
			img_jw_obj_begin(&o.w);
			img_jw_kv_u64(&o.w, "id", f->id);
			img_jw_kv_str(&o.w, "type", f->type_name);
			if (f->sk) {
				const char *s;

				img_jw_kv_u64(&o.w, "ino", f->sk->ino);
				if ((s = img_sock_family_name(f->sk->family)))
					img_jw_kv_str(&o.w, "family", s);
				if ((s = img_sock_type_name(f->sk->type)))
					img_jw_kv_str(&o.w, "sock_type", s);
				if (f->type == T_INETSK && (s = img_sock_proto_name(f->sk->proto)))
					img_jw_kv_str(&o.w, "proto", s);
				if ((s = img_sock_state_name(f->sk->state)))
					img_jw_kv_str(&o.w, "state", s);
				if (f->type == T_INETSK) {
					img_jw_kv_str(&o.w, "src", f->sk->src);
					img_jw_kv_u64(&o.w, "src_port", f->sk->sport);
					img_jw_kv_str(&o.w, "dst", f->sk->dst);
					img_jw_kv_u64(&o.w, "dst_port", f->sk->dport);
				}
				if (f->sk->namelen) {
					struct img_buf nb;

					img_buf_init(&nb);
					unix_name(&nb, f->sk);
					img_jw_key(&o.w, "name");
					img_jw_strn(&o.w, (const char *)nb.data, nb.len);
					img_buf_free(&nb);
				}
				if (f->sk->peer_ino)
					img_jw_kv_u64(&o.w, "peer", f->sk->peer_ino);
				img_jw_kv_u64(&o.w, "queued_bytes", f->sk->rqueue_bytes);
				img_jw_kv_u64(&o.w, "queued_packets", f->sk->rqueue_packets);
				if (f->sk->tcp) {
					img_jw_kv_u64(&o.w, "tcp_inq", f->sk->tcp_inq);
					img_jw_kv_u64(&o.w, "tcp_outq", f->sk->tcp_outq);
				}
			} else {
				img_jw_kv_u64(&o.w, "pipe_id", f->pipe->pipe_id);
				img_jw_kv_u64(&o.w, "unread_bytes", f->pipe->bytes);
			}
			img_jw_kv_str(&o.w, "desc", (const char *)b.data);
			img_jw_key(&o.w, "users");
			img_jw_arr_begin(&o.w);
		} else {
			img_out_printf(&o.o, "%s\n   ", (const char *)b.data);
		}
		for (size_t k = lo; k < nu && users[k].id == f->id; k++) {
			if (o.json) {
				img_jw_obj_begin(&o.w);
				img_jw_kv_u64(&o.w, "pid", users[k].pid);
				img_jw_kv_u64(&o.w, "fd", users[k].fd);
				img_jw_obj_end(&o.w);
			} else {
				img_out_printf(&o.o, " pid %u fd %u", users[k].pid, users[k].fd);
			}
		}
		if (o.json) {
			img_jw_arr_end(&o.w);
			img_jw_obj_end(&o.w);
		} else {
			img_out_putc(&o.o, '\n');
		}
	}
	if (o.json)
		img_jw_arr_end(&o.w);
	r = out_end(c, &o);
	free(users);
	img_buf_free(&b);
	img_ckpt_close(ck);
	return r;
}
