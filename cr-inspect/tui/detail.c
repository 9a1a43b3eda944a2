/* The detail of a tree node: what the model says about it, with links to follow. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static void kv(struct doc *d, const struct link *l, const char *key, const char *fmt, ...) IMG_PRINTF(4, 5);
static void kv(struct doc *d, const struct link *l, const char *key, const char *fmt, ...)
{
	char buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	doc_add(d, R_NORMAL, l, "  %-10s %s", key, buf);
}

static void head(struct doc *d, const char *fmt, ...) IMG_PRINTF(2, 3);
static void head(struct doc *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->n)
		doc_add(d, R_NORMAL, NULL, "%s", "");
	doc_add(d, R_HEAD, NULL, "%s", buf);
}

static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	double x = (double)v;

	while (x >= 1024 && i < 4) {
		x /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	else
		snprintf(buf, len, "%.*f %s", x < 10 && x != (uint64_t)x ? 1 : 0, x, u[i]);
	return buf;
}

const struct img_vma *tui_vma(const struct img_task *task, uint64_t addr)
{
	return task && task->mm ? img_mm_find(task->mm, addr) : NULL;
}

/* "libc.so.6 r-xp +0x1234" for an address inside a mapping, "" otherwise. */
static const char *where(const struct img_task *task, uint64_t a, char *buf, size_t len)
{
	const struct img_vma *v = tui_vma(task, a);
	const char *name;
	char perm[4];

	if (!v) {
		buf[0] = 0;
		return buf;
	}
	name = v->name[0] ? strrchr(v->name, '/') ? strrchr(v->name, '/') + 1 : v->name : img_vma_kind_name(v->kind);
	snprintf(buf, len, "%s %s +0x%llx", name, prot_str(v->prot, perm), (unsigned long long)(a - v->start));
	return buf;
}

static struct link addr_link(const struct img_task *task, uint64_t a)
{
	struct link l = { 0 };

	if (tui_vma(task, a)) {
		l.kind = LINK_ADDR;
		l.task = task;
		l.addr = a;
	}
	return l;
}

static struct link msg_link(const struct img_msg *m, const char *what, const struct img_task *task)
{
	struct link l = { 0 };

	if (m) {
		l.kind = LINK_MSG;
		l.msg = m;
		l.member = what;
		l.task = task;
	}
	return l;
}

static struct link file_link(const struct img_file *f)
{
	struct link l = { 0 };

	if (f) {
		l.kind = LINK_FILE;
		l.file = f;
	}
	return l;
}

static struct link node_link(struct node *n)
{
	struct link l = { 0 };

	if (n) {
		l.kind = LINK_NODE;
		l.node = n;
	}
	return l;
}

static void entry_line(struct doc *d, const struct img_msg *m, const char *what, const struct img_task *task)
{
	struct link l = msg_link(m, what, task);

	if (m)
		doc_add(d, R_NORMAL, &l, "  %s (%s)", what, m->desc->name);
}

static void file_desc(const struct img_file *f, struct img_buf *b)
{
	b->len = 0;
	describe_file(f, b);
}

/* Register lines: each value that points into a mapping leads to it. */
struct regs_doc {
	struct doc *d;
	const struct img_task *task;
};

static void reg_line(void *arg, const char *name, uint64_t v)
{
	struct regs_doc *rd = arg;
	struct link l = addr_link(rd->task, v);
	char w[160];

	doc_add(rd->d, R_NORMAL, &l, "  %-10s 0x%016llx  %s", name, (unsigned long long)v, where(rd->task, v, w, sizeof(w)));
}

static void thread_doc(struct tui *t, struct doc *d, const struct img_thread *th)
{
	const struct img_task *task = th->task;
	struct regs_doc rd = { d, task };
	struct img_buf b;
	struct link l;
	char w[160];

	(void)t;
	img_buf_init(&b);
	doc_add(d, R_HEAD, NULL, "thread %u %s of pid %u %s", th->tid, th->comm ? th->comm : task->comm, task->pid,
		task->comm);
	l = addr_link(task, th->pc);
	kv(d, &l, "pc", "0x%llx  %s", (unsigned long long)th->pc, where(task, th->pc, w, sizeof(w)));
	l = addr_link(task, th->sp);
	kv(d, &l, "sp", "0x%llx  %s", (unsigned long long)th->sp, where(task, th->sp, w, sizeof(w)));
	head(d, "registers (%s)", th->arch ? th->arch : "?");
	regs_each(th->regs, reg_line, &rd);
	if (!th->regs)
		doc_add(d, R_DIM, NULL, "%s", "  (no registers in the image)");
	head(d, "%s", "signals and credentials");
	sigset_str(&b, th->blocked);
	kv(d, NULL, "blocked", "%s", (const char *)b.data);
	kv(d, NULL, "pending", "%zu signals", img_msg_count(th->pending, "signals"));
	if (th->creds)
		kv(d, NULL, "creds", "uid %llu gid %llu euid %llu egid %llu",
		   (unsigned long long)img_msg_u64(th->creds, "uid", 0), (unsigned long long)img_msg_u64(th->creds, "gid", 0),
		   (unsigned long long)img_msg_u64(th->creds, "euid", 0),
		   (unsigned long long)img_msg_u64(th->creds, "egid", 0));
	kv(d, NULL, "seccomp", "%s", th->seccomp_mode == 2 ? "filter" : th->seccomp_mode == 1 ? "strict" : "disabled");
	if (th->sas) {
		uint64_t sp = img_msg_u64(th->sas, "ss_sp", 0);

		l = addr_link(task, sp);
		kv(d, &l, "altstack", "0x%llx size %llu", (unsigned long long)sp,
		   (unsigned long long)img_msg_u64(th->sas, "ss_size", 0));
	}
	head(d, "%s", "entries");
	entry_line(d, th->core, "core", task);
	entry_line(d, th->regs, "general registers", task);
	entry_line(d, th->fpregs, "floating point registers", task);
	entry_line(d, th->creds, "credentials", task);
	entry_line(d, th->pending, "pending signals", task);
	img_buf_free(&b);
}

/* The strings of IMG_STRINGS_*, one line each (argv joined by spaces when one). */
static void strings_doc(struct tui *t, struct doc *d, const struct img_task *task, int which, int join, int *live)
{
	struct img_mem *m;
	struct img_buf b, line;
	struct img_err e = { 0 };
	char msg[300];
	size_t pos = 0;

	if (!task->mm || !(m = tui_mem(t, task, msg, sizeof(msg))))
		return;
	img_buf_init(&b);
	img_buf_init(&line);
	if (img_mem_strings(m, which, &b, live, &e)) {
		char es[1100];

		doc_add(d, R_ERROR, NULL, "  cannot read them: %s", img_err_str(&e, es, sizeof(es)));
	}
	while (pos < b.len) {
		const char *s = (const char *)b.data + pos;
		size_t n = strnlen(s, b.len - pos);

		if (join) {
			if (line.len)
				img_buf_addc(&line, ' ');
			img_buf_add(&line, s, n);
		} else {
			doc_add(d, R_NORMAL, NULL, "  %.*s", (int)n, s);
		}
		pos += n + 1;
	}
	if (join)
		kv(d, NULL, "cmdline", "%.*s", (int)line.len, line.data ? (const char *)line.data : "");
	img_buf_free(&line);
	img_buf_free(&b);
}

static void count_pages(struct tui *t, const struct img_task *task, uint64_t start, uint64_t end, uint64_t *cnt)
{
	struct img_mem *m;
	char msg[300];

	memset(cnt, 0, IMG_PAGE__COUNT * sizeof(*cnt));
	m = tui_mem(t, task, msg, sizeof(msg));
	if (m && img_mem_count(m, start, end, cnt, NULL))
		memset(cnt, 0, IMG_PAGE__COUNT * sizeof(*cnt));
}

/* "2 present, 31 not in the image" */
static void pages_str(const uint64_t *cnt, struct img_buf *b)
{
	static const char *const what[IMG_PAGE__COUNT] = {
		[IMG_PAGE_PRESENT] = "present", [IMG_PAGE_PARENT] = "in a parent image",
		[IMG_PAGE_LAZY] = "lazy", [IMG_PAGE_FILE] = "file-backed",
		[IMG_PAGE_ZERO] = "not in the image", [IMG_PAGE_MISSING] = "MISSING",
	};
	int any = 0;

	for (int s = IMG_PAGE_PRESENT; s < IMG_PAGE__COUNT; s++)
		if (cnt[s]) {
			img_buf_printf(b, "%s%llu %s", any ? ", " : "", (unsigned long long)cnt[s], what[s]);
			any = 1;
		}
	if (!any)
		img_buf_adds(b, "none");
	img_buf_addc(b, 0);
	b->len--;
}


static void task_doc(struct tui *t, struct doc *d, struct node *n)
{
	const struct img_task *task = n->task;
	const char *st = img_task_state_name(task->state);
	struct img_buf b;
	struct link l;
	char w[160], h[32];

	img_buf_init(&b);
	doc_add(d, R_HEAD, NULL, "pid %u %s (%s)", task->pid, task->comm, st ? st : "unknown state");
	l = task->parent ? (struct link){ .kind = LINK_TASK, .task = task->parent } : (struct link){ 0 };
	kv(d, &l, "parent", "%u%s%s", task->ppid, task->parent ? " " : "", task->parent ? task->parent->comm : "");
	kv(d, NULL, "pgid sid", "%u %u", task->pgid, task->sid);
	strings_doc(t, d, task, IMG_STRINGS_ARGV, 1, NULL);
	l = node_link(tree_kid(t, n, N_THREADS));
	kv(d, &l, "threads", "%zu", task->nthreads);
	if (task->mm && task->mm->exe) {
		l = file_link(task->mm->exe);
		kv(d, &l, "exe", "%s", task->mm->exe->path ? task->mm->exe->path : "?");
	}
	if (task->cwd) {
		l = file_link(task->cwd);
		kv(d, &l, "cwd", "%s", task->cwd->path ? task->cwd->path : "?");
	}
	if (task->root) {
		l = file_link(task->root);
		kv(d, &l, "root", "%s", task->root->path ? task->root->path : "?");
	}
	if (task->state == IMG_TASK_ZOMBIE || task->state == IMG_TASK_DEAD)
		kv(d, NULL, "exit code", "%u", task->exit_code);
	if (task->mm) {
		uint64_t cnt[IMG_PAGE__COUNT], total = 0;

		for (size_t i = 0; i < task->mm->nvmas; i++)
			total += task->mm->vmas[i].end - task->mm->vmas[i].start;
		count_pages(t, task, 0, UINT64_MAX, cnt);
		l = node_link(tree_kid(t, n, N_MAPS));
		kv(d, &l, "maps", "%zu mappings, %s", task->mm->nvmas, human(total, h, sizeof(h)));
		b.len = 0;
		pages_str(cnt, &b);
		l = node_link(tree_kid(t, n, N_MEMORY));
		kv(d, &l, "pages", "%s", (const char *)b.data);
	}
	l = node_link(tree_kid(t, n, N_FDS));
	kv(d, &l, "fds", "%zu", task->nfds);
	if (task->mm) {
		/* finding the live environment searches the memory: it has a node of its own */
		l = node_link(tree_kid(t, n, N_ENV));
		kv(d, &l, "environ", "%s", "read from memory: Enter");
	}
	for (size_t i = 0; i < task->nchildren; i++) {
		l = (struct link){ .kind = LINK_TASK, .task = task->children[i] };
		kv(d, &l, i ? "" : "children", "%u %s", task->children[i]->pid, task->children[i]->comm);
	}
	b.len = 0;
	for (int k = 0; k < IMG_NS__COUNT; k++)
		if (task->ns_id[k])
			img_buf_printf(&b, "%s%s %u", b.len ? ", " : "", img_ns_kind_name(k), task->ns_id[k]);
	img_buf_addc(&b, 0);
	kv(d, NULL, "namespaces", "%s", (const char *)b.data);
	head(d, "%s", "signal handlers");
	for (size_t i = 0; i < task->nsigactions; i++) {
		uint64_t hd = img_msg_u64(task->sigactions[i], "sigaction", 0);
		char name[32];

		if (hd <= 1)
			continue;
		sig_name(img_sigaction_signo(i), name, sizeof(name));
		l = addr_link(task, hd);
		kv(d, &l, name, "0x%llx  %s", (unsigned long long)hd, where(task, hd, w, sizeof(w)));
	}
	head(d, "%s", "limits (not unlimited)");
	for (size_t i = 0; i < task->nrlimits && i < IMG_NRLIMITS; i++) {
		uint64_t cur = img_msg_u64(task->rlimits[i], "cur", 0), max = img_msg_u64(task->rlimits[i], "max", 0);
		char c[24], m[24];

		if (cur == UINT64_MAX && max == UINT64_MAX)
			continue;
		snprintf(c, sizeof(c), cur == UINT64_MAX ? "unlimited" : "%llu", (unsigned long long)cur);
		snprintf(m, sizeof(m), max == UINT64_MAX ? "unlimited" : "%llu", (unsigned long long)max);
		kv(d, NULL, rlimit_names[i], "%s / %s", c, m);
	}
	head(d, "%s", "entries");
	entry_line(d, task->core, "core", task);
	entry_line(d, task->pstree, "pstree", task);
	entry_line(d, task->ids, "ids", task);
	entry_line(d, task->mm ? task->mm->msg : NULL, "mm", task);
	entry_line(d, task->fs, "fs", task);
	img_buf_free(&b);
}

static void vma_doc(struct tui *t, struct doc *d, const struct img_task *task, const struct img_vma *v)
{
	uint64_t cnt[IMG_PAGE__COUNT];
	struct img_buf b;
	struct link l;
	char perm[4], h[32];

	img_buf_init(&b);
	doc_add(d, R_HEAD, NULL, "mapping %llx-%llx of pid %u %s", (unsigned long long)v->start,
		(unsigned long long)v->end, task->pid, task->comm);
	kv(d, NULL, "size", "%s (%llu pages)", human(v->end - v->start, h, sizeof(h)),
	   (unsigned long long)((v->end - v->start) / IMG_PAGE_SIZE));
	kv(d, NULL, "perm", "%s%c", prot_str(v->prot, perm), v->flags & 1 ? 's' : 'p');
	kv(d, NULL, "kind", "%s", img_vma_kind_name(v->kind));
	kv(d, NULL, "name", "%s", v->name);
	kv(d, NULL, "offset", "0x%llx", (unsigned long long)v->pgoff);
	if (v->file) {
		l = file_link(v->file);
		kv(d, &l, "file", "%u %s", v->file->id, v->file->path ? v->file->path : "");
	}
	kv(d, NULL, "status", "0x%x  flags 0x%x", v->status, v->flags);
	count_pages(t, task, v->start, v->end, cnt);
	pages_str(cnt, &b);
	l = addr_link(task, v->start);
	kv(d, &l, "pages", "%s", (const char *)b.data);
	head(d, "%s", "entries");
	entry_line(d, v->msg, "vma", task);
	img_buf_free(&b);
}

static struct node *fd_node(struct tui *t, const struct img_task *task, uint32_t fd)
{
	struct node *tn = tree_find_task(t, task), *fds;

	if (!tn || !(fds = tree_kid(t, tn, N_FDS)))
		return NULL;
	tree_load(t, fds);
	for (size_t i = 0; i < fds->nkids; i++)
		if (((const struct img_fd *)fds->kids[i]->obj)->fd == fd)
			return fds->kids[i];
	return NULL;
}

static void hexlines(struct doc *d, const uint8_t *p, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i += 16) {
		char hex[64] = "", asc[20] = "";
		size_t k = n - i < 16 ? n - i : 16;

		for (size_t j = 0; j < k; j++) {
			snprintf(hex + 3 * j, sizeof(hex) - 3 * j, "%02x ", p[i + j]);
			asc[j] = p[i + j] >= 0x20 && p[i + j] < 0x7f ? (char)p[i + j] : '.';
		}
		asc[k] = 0;
		doc_add(d, R_NORMAL, NULL, "  %04zx  %-48s %s", i, hex, asc);
	}
	if (n > max)
		doc_add(d, R_DIM, NULL, "  ... %zu bytes more", n - max);
}

static void file_doc(struct tui *t, struct doc *d, const struct img_file *f)
{
	const struct img_task *const *tasks;
	struct img_buf b;
	size_t nt;

	img_buf_init(&b);
	file_desc(f, &b);
	doc_add(d, R_HEAD, NULL, "file %u %s", f->id, f->type_name);
	kv(d, NULL, "what", "%s", (const char *)b.data);
	if (f->path)
		kv(d, NULL, "path", "%s", f->path);
	kv(d, NULL, "flags", "0x%x", f->flags);
	if (f->type == 1 || f->type == 18) { /* REG, MEMFD */
		kv(d, NULL, "position", "%llu", (unsigned long long)f->pos);
		kv(d, NULL, "size", "%llu", (unsigned long long)f->size);
	}
	if (f->remap_image) {
		struct link l = { .kind = LINK_IMAGE, .member = f->remap_image };

		kv(d, &l, "kept in", "%s", f->remap_image);
	}
	kv(d, NULL, "read from", "%s", f->image ? f->image : "?");
	if (f->sk) {
		const struct img_sock *sk = f->sk;
		const char *s;

		head(d, "%s", "socket");
		kv(d, NULL, "family", "%s", (s = img_sock_family_name(sk->family)) ? s : "?");
		kv(d, NULL, "type", "%s", (s = img_sock_type_name(sk->type)) ? s : "?");
		if (f->type == 4)
			kv(d, NULL, "protocol", "%s", (s = img_sock_proto_name(sk->proto)) ? s : "?");
		kv(d, NULL, "state", "%s", (s = img_sock_state_name(sk->state)) ? s : "?");
		kv(d, NULL, "inode", "%u", sk->ino);
		if (sk->src[0] || sk->sport)
			kv(d, NULL, "local", "%s port %u", sk->src, sk->sport);
		if (sk->dport)
			kv(d, NULL, "remote", "%s port %u", sk->dst, sk->dport);
		if (sk->peer_ino) {
			struct link l = file_link(sk->peer);

			kv(d, &l, "peer", "inode %u%s", sk->peer_ino, sk->peer ? "" : " (not in the set)");
		}
		if (sk->rqueue_packets)
			kv(d, NULL, "queued", "%llu bytes in %u packets", (unsigned long long)sk->rqueue_bytes,
			   sk->rqueue_packets);
		if (sk->tcp)
			kv(d, NULL, "tcp queues", "%llu bytes to read, %llu unsent", (unsigned long long)sk->tcp_inq,
			   (unsigned long long)sk->tcp_outq);
	}
	if (f->pipe) {
		head(d, "pipe %u: %llu unread bytes", f->pipe->pipe_id, (unsigned long long)f->pipe->bytes);
		if (f->pipe->data)
			hexlines(d, f->pipe->data, (size_t)f->pipe->bytes, 256);
	}
	head(d, "%s", "held by");
	tasks = img_ckpt_tasks(t->ck, &nt);
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < tasks[i]->nfds; k++)
			if (tasks[i]->fds[k].file == f) {
				struct link l = node_link(fd_node(t, tasks[i], tasks[i]->fds[k].fd));

				doc_add(d, R_NORMAL, &l, "  pid %u %s fd %u", tasks[i]->pid, tasks[i]->comm,
					tasks[i]->fds[k].fd);
			}
	head(d, "%s", "entries");
	entry_line(d, f->msg, "entry", NULL);
	entry_line(d, f->file_entry, "file entry", NULL);
	entry_line(d, f->extra, "extra", NULL);
	head(d, "%s (%s)", f->image ? f->image : "entry", f->msg ? f->msg->desc->name : "?");
	doc_add_json(d, "  ", f->msg);
	img_buf_free(&b);
}

static void fd_doc(struct tui *t, struct doc *d, const struct img_task *task, const struct img_fd *fd)
{
	struct img_buf b;
	const char *tn = fd->file ? fd->file->type_name : img_fd_type_name(fd->type);

	(void)t;
	img_buf_init(&b);
	doc_add(d, R_HEAD, NULL, "fd %u of pid %u %s", fd->fd, task->pid, task->comm);
	if (fd->file) {
		struct link l = file_link(fd->file);

		file_desc(fd->file, &b);
		kv(d, &l, "file", "%u: %s", fd->file->id, (const char *)b.data);
	} else {
		kv(d, NULL, "file", "%llu is not in the checkpoint", (unsigned long long)img_msg_u64(fd->msg, "id", 0));
	}
	kv(d, NULL, "type", "%s", tn ? tn : "?");
	kv(d, NULL, "flags", "0x%x%s", fd->flags, fd->flags & 1 ? " (close on exec)" : "");
	head(d, "%s", "fdinfo entry");
	doc_add_json(d, "  ", fd->msg);
	img_buf_free(&b);
}

static void ns_doc(struct tui *t, struct doc *d, const struct img_ns *ns)
{
	const struct img_task *const *tasks;
	size_t nt;

	doc_add(d, R_HEAD, NULL, "%s namespace %u%s", img_ns_kind_name(ns->kind), ns->id,
		ns->is_root ? " (the dumper's own)" : "");
	kv(d, NULL, "tasks", "%zu", ns->ntasks);
	if (ns->image) {
		struct link l = { .kind = LINK_IMAGE, .member = ns->image };

		kv(d, &l, "image", "%s", ns->image);
	}
	tasks = img_ckpt_tasks(t->ck, &nt);
	for (size_t i = 0; i < nt; i++)
		if (tasks[i]->ns_id[ns->kind] == ns->id) {
			struct link l = { .kind = LINK_TASK, .task = tasks[i] };

			doc_add(d, R_NORMAL, &l, "  pid %u %s", tasks[i]->pid, tasks[i]->comm);
		}
	if (ns->msg) {
		head(d, "entry (%s)", ns->msg->desc->name);
		doc_add_json(d, "  ", ns->msg);
	}
}

static void image_doc(struct tui *t, struct doc *d, const struct node *n)
{
	const struct img_kind *k = img_kind_by_file(img_ckpt_schema(t->ck), n->member);
	struct link l = { .kind = LINK_IMAGE, .member = n->member, .side = n->side };
	char h[32];

	doc_add(d, R_HEAD, NULL, "image %s", n->member);
	kv(d, NULL, "size", "%s", human(n->size, h, sizeof(h)));
	if (!k) {
		kv(d, NULL, "kind", "%s", "not an image kind the schema knows");
		return;
	}
	kv(d, NULL, "kind", "%s (%s)", k->name, k->msg ? k->msg->name : "raw data");
	if (k->layout == IMG_LAY_RAW) {
		doc_add(d, R_NORMAL, NULL, "%s", "  raw page data: read it through a task's memory (x or g)");
		return;
	}
	doc_add(d, R_NORMAL, &l, "%s", "  Enter: the image as a JSON tree");
}

static void set_doc(struct tui *t, struct doc *d)
{
	const struct img_msg *inv = img_ckpt_inventory(t->ck);
	struct img_ckpt_sizes sz;
	size_t nt, nf, nns, np, nth = 0;
	const struct img_task *const *tasks = img_ckpt_tasks(t->ck, &nt);
	char h1[32], h2[32];

	img_ckpt_files(t->ck, &nf);
	img_ckpt_namespaces(t->ck, &nns);
	img_ckpt_problems(t->ck, &np);
	for (size_t i = 0; i < nt; i++)
		nth += tasks[i]->nthreads;
	doc_add(d, R_HEAD, NULL, "image set %s", t->name);
	kv(d, NULL, "path", "%s", t->path);
	kv(d, NULL, "tasks", "%zu (%zu threads)", nt, nth);
	kv(d, NULL, "files", "%zu", nf);
	kv(d, NULL, "namespaces", "%zu", nns);
	if (!img_ckpt_sizes(t->ck, &sz))
		kv(d, NULL, "size", "%s in %zu files, %s of it pages", human(sz.total, h1, sizeof(h1)), sz.nfiles,
		   human(sz.pages, h2, sizeof(h2)));
	kv(d, NULL, "problems", "%zu", np);
	if (inv) {
		head(d, "%s", "inventory");
		doc_add_json(d, "  ", inv);
	}
	head(d, "%s", "keys");
	doc_add(d, R_NORMAL, NULL, "%s", "  arrows or hjkl move, Enter opens or follows, Backspace goes back,");
	doc_add(d, R_NORMAL, NULL, "%s", "  Tab switches pane, / searches, ? lists every key, q quits");
}

/*
 * A list node (processes, maps, fds, files...): one line per child, each
 * leading to it, made when drawn (a set may have thousands of mappings).
 */
struct kidsv {
	struct listv l;
	struct tui *t;
	struct node *n;
	size_t hdr;          /* lines before the children */
};

static size_t kids_count(struct listv *l)
{
	struct kidsv *k = (struct kidsv *)l;

	return k->hdr + k->n->nkids;
}

static void kids_line(struct listv *l, size_t i, struct img_buf *b, int *role, struct link *link)
{
	struct kidsv *k = (struct kidsv *)l;
	const struct img_task *task = k->n->task;
	struct node *kid;

	if (i == 0) {
		tree_label(k->t, k->n, b);
		if (task && k->n->kind != N_PROCS)
			img_buf_printf(b, " of pid %u %s", task->pid, task->comm);
		*role = R_HEAD;
		return;
	}
	if (i < k->hdr) {
		img_buf_printf(b, "  %-25s %4s %-8s %6s %6s  %s", "ADDRESS", "PERM", "KIND", "PAGES", "IMAGE", "NAME");
		*role = R_DIM;
		return;
	}
	kid = k->n->kids[i - k->hdr];
	*link = node_link(kid);
	if (kid->kind == N_VMA) {
		const struct img_vma *v = kid->obj;
		uint64_t cnt[IMG_PAGE__COUNT];
		char perm[4];

		count_pages(k->t, kid->task, v->start, v->end, cnt);
		img_buf_printf(b, "%c %012llx-%012llx %s%c %-8s %6llu %6llu  %s", k->t->ck2 ? kid->change : ' ',
			       (unsigned long long)v->start,
			       (unsigned long long)v->end, prot_str(v->prot, perm), v->flags & 1 ? 's' : 'p',
			       img_vma_kind_name(v->kind), (unsigned long long)((v->end - v->start) / IMG_PAGE_SIZE),
			       (unsigned long long)(cnt[IMG_PAGE_PRESENT] + cnt[IMG_PAGE_PARENT]), v->name);
		return;
	}
	/* diff mode: the child's mark, as the tree shows it */
	if (k->t->ck2)
		img_buf_printf(b, "%c ", kid->change);
	else
		img_buf_adds(b, "  ");
	tree_label(k->t, kid, b);
}

static struct view *kids_view(struct tui *t, struct node *n)
{
	struct kidsv *k = img_calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	listv_init(&k->l, &listv_ops);
	k->l.count = kids_count;
	k->l.line = kids_line;
	k->t = t;
	k->n = n;
	tree_load(t, n);
	k->hdr = n->kind == N_MAPS ? 2 : 1;
	return &k->l.v;
}

static void env_doc(struct tui *t, struct doc *d, const struct img_task *task)
{
	int live = 0;
	size_t at;

	doc_add(d, R_HEAD, NULL, "environment of pid %u %s", task->pid, task->comm);
	at = d->n;
	doc_add(d, R_DIM, NULL, "%s", "");
	strings_doc(t, d, task, IMG_STRINGS_ENV, 0, &live);
	{
		const char *how = live ? "  (the live array: the process changed it after exec)" : "  (as exec set it up)";

		d->l[at].text = img_arena_strndup(&d->a, how, strlen(how));
	}
}

static void memory_doc(struct tui *t, struct doc *d, const struct img_task *task)
{
	uint64_t cnt[IMG_PAGE__COUNT];
	struct img_buf b;
	struct link l = addr_link(task, task->mm->nvmas ? task->mm->vmas[0].start : 0);

	if (tdiff_memory_link(t, task, &l))
		doc_add(d, R_NORMAL, &l, "%s", "  Enter: the changed pages, A and B side by side");
	img_buf_init(&b);
	doc_add(d, R_HEAD, NULL, "memory of pid %u %s", task->pid, task->comm);
	count_pages(t, task, 0, UINT64_MAX, cnt);
	pages_str(cnt, &b);
	kv(d, NULL, "pages", "%s", (const char *)b.data);
	doc_add(d, R_NORMAL, &l, "%s", "  Enter: the hex view, from the first mapping (g: from an address)");
	img_buf_free(&b);
}

static void detail_export_json(void *arg, struct img_jw *w);
static int detail_export(struct tui *t, struct view *v);

static const struct view_ops detail_ops = {
	.name = "detail",
	.min_w = 40,
	.draw = listv_draw,
	.key = listv_key,
	.search = listv_search,
	.follow = listv_follow,
	.addr = listv_addr,
	.export = detail_export,
	.status = listv_status,
	.click = listv_click,
	.free = listv_free,
};

struct view *detail_view(struct tui *t, struct node *n)
{
	struct doc d;
	struct view *v;
	struct img_buf b;

	doc_init(&d);
	if (t->diff)
		tdiff_detail(t, n, &d);
	switch (n->kind) {
	case N_CHANGES: tdiff_changes_doc(t, &d); break;
	case N_SET: set_doc(t, &d); break;
	case N_TASK: task_doc(t, &d, n); break;
	case N_THREAD: thread_doc(t, &d, n->obj); break;
	case N_VMA: vma_doc(t, &d, n->task, n->obj); break;
	case N_MEMORY: memory_doc(t, &d, n->task); break;
	case N_ENV: env_doc(t, &d, n->task); break;
	case N_FD: fd_doc(t, &d, n->task, n->obj); break;
	case N_FILE: file_doc(t, &d, n->obj); break;
	case N_NS: ns_doc(t, &d, n->obj); break;
	case N_IMAGE: image_doc(t, &d, n); break;
	case N_PROBLEM: {
		char m[1100];

		doc_add(&d, R_HEAD, NULL, "%s", "problem met while reading the set");
		doc_add(&d, R_ERROR, NULL, "  %s", img_err_str(n->obj, m, sizeof(m)));
		break;
	}
	default:
		if (d.n) /* diff mode: the node's changes, then its children */
			break;
		doc_free(&d);
		v = kids_view(t, n);
		goto made;
	}
	v = doc_view_new("", &d);
made:
	if (!v)
		return NULL;
	img_buf_init(&b);
	tree_label(t, n, &b);
	snprintf(v->title, sizeof(v->title), "%s", (const char *)b.data);
	img_buf_free(&b);
	v->ops = &detail_ops;
	v->node = n;
	v->task = n->task;
	return v;
}

/* The decoded entry behind a node (what r shows and e writes), as a link. */
int node_entry(struct tui *t, struct node *n, struct link *l)
{
	memset(l, 0, sizeof(*l));
	l->task = n->task;
	switch (n->kind) {
	case N_SET:
		*l = msg_link(img_ckpt_inventory(t->ck), "inventory", NULL);
		break;
	case N_TASK:
		*l = msg_link(n->task->core, "core", n->task);
		break;
	case N_THREAD:
		*l = msg_link(((const struct img_thread *)n->obj)->core, "core", n->task);
		break;
	case N_VMA:
		*l = msg_link(((const struct img_vma *)n->obj)->msg, "vma", n->task);
		break;
	case N_FD:
		*l = msg_link(((const struct img_fd *)n->obj)->msg, "fdinfo", n->task);
		break;
	case N_FILE:
		*l = msg_link(((const struct img_file *)n->obj)->msg, "file", NULL);
		break;
	case N_NS:
		if (((const struct img_ns *)n->obj)->image) {
			l->kind = LINK_IMAGE;
			l->member = ((const struct img_ns *)n->obj)->image;
		}
		break;
	case N_MAPS:
	case N_MEMORY:
		*l = msg_link(n->task->mm ? n->task->mm->msg : NULL, "mm", n->task);
		break;
	case N_IMAGE:
		l->kind = LINK_IMAGE;
		l->member = n->member;
		l->side = n->side;
		break;
	}
	return l->kind != LINK_NONE;
}

struct node_json {
	struct tui *t;
	struct node *n;
};

/* The entry as JSON; a list node: its children's entries. */
static void node_json(struct tui *t, struct node *n, struct img_jw *w)
{
	struct link l;

	if (node_entry(t, n, &l) && l.kind == LINK_MSG) {
		img_msg_to_json(w, l.msg, 1, 0);
		return;
	}
	if (l.kind == LINK_IMAGE) {
		const struct img_image *img;

		if (!img_ckpt_image(l.side ? t->ck2 : t->ck, l.member, &img, NULL) && img->kind && img->kind->layout != IMG_LAY_RAW) {
			struct img_buf b;
			struct img_out o;

			img_buf_init(&b);
			img_out_mem(&o, &b);
			img_image_to_json(img, &o, IMG_JSON_PRETTY);
			img_out_flush(&o);
			while (b.len && b.data[b.len - 1] == '\n')
				b.len--;
			img_jw_raw(w, (const char *)b.data, b.len);
			img_buf_free(&b);
		} else {
			img_jw_null(w);
		}
		return;
	}
	tree_load(t, n);
	img_jw_arr_begin(w);
	for (size_t i = 0; i < n->nkids; i++)
		node_json(t, n->kids[i], w);
	img_jw_arr_end(w);
}

static void detail_export_json(void *arg, struct img_jw *w)
{
	struct node_json *nj = arg;

	node_json(nj->t, nj->n, w);
}

void node_export(struct tui *t, struct node *n)
{
	struct node_json nj = { t, n };
	struct img_buf b;
	char name[128];

	img_buf_init(&b);
	tree_label(t, n, &b);
	snprintf(name, sizeof(name), "%s.json", (const char *)b.data);
	for (char *p = name; *p; p++)
		if (*p == ' ' || *p == '/' || *p == '(' || *p == ')' || *p == ':')
			*p = '_';
	img_buf_free(&b);
	export_json_ask(t, name, detail_export_json, &nj);
}

static int detail_export(struct tui *t, struct view *v)
{
	if (v->node)
		node_export(t, v->node);
	return 1;
}
