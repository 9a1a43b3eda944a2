/* ps, tree, threads, env, cmdline, auxv: the tasks of a checkpoint. */
#include <stdlib.h>
#include <string.h>

#include "cr-inspect.h"

int read_strings(struct img_ckpt *ck, const struct img_task *t, int which, struct img_buf *b, int *live,
		 struct img_err *err)
{
	struct img_mem *m;
	int r;

	b->len = 0;
	if (live)
		*live = 0;
	r = img_mem_open(ck, t, 0, &m, err);
	if (r)
		return r;
	r = img_mem_strings(m, which, b, live, err);
	img_mem_close(m);
	return r;
}

/* Each NUL-terminated string of b, in turn. */
static const char *next_string(const struct img_buf *b, size_t *pos, size_t *len)
{
	const char *s;

	if (*pos >= b->len)
		return NULL;
	s = (const char *)b->data + *pos;
	*len = strnlen(s, b->len - *pos);
	*pos += *len + 1;
	return s;
}

/* Parse "CMD CKPT [--pid P]", open the checkpoint and pick the tasks. */
static int task_cmd(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, struct img_ckpt **ck,
		    struct pid_opts *to, const struct img_task *const **tasks, size_t *n, const struct img_task **one)
{
	char *pos[1];
	int npos, r;

	memset(to, 0, sizeof(*to));
	to->c = c;
	to->cmd = cmd;
	r = parse_explorer(c, cmd, argc, argv, "", pid_longopts, pid_opt, to, pos, 1, 1, &npos);
	if (r)
		return r < 0 ? -1 : r;
	r = open_ckpt(c, pos[0], ck);
	if (r)
		return r;
	r = pick_tasks(c, *ck, to->have_pid, to->pid, one, tasks, n);
	if (r)
		img_ckpt_close(*ck);
	return r;
}

static void cmdline_str(struct img_ckpt *ck, const struct img_task *t, struct img_buf *out)
{
	struct img_buf b;
	struct img_err e = { 0 };
	size_t pos = 0, len;
	const char *s;

	img_buf_init(&b);
	out->len = 0;
	if (t->mm && !read_strings(ck, t, IMG_STRINGS_ARGV, &b, NULL, &e))
		while ((s = next_string(&b, &pos, &len))) {
			if (out->len)
				img_buf_addc(out, ' ');
			img_buf_add(out, s, len);
		}
	img_buf_addc(out, 0);
	out->len--;
	img_buf_free(&b);
}

static void ps_json(struct img_ckpt *ck, struct out *o, const struct img_task *t, int tree)
{
	struct img_buf cl;

	img_buf_init(&cl);
	cmdline_str(ck, t, &cl);
	img_jw_obj_begin(&o->w);
	img_jw_kv_u64(&o->w, "pid", t->pid);
	img_jw_kv_u64(&o->w, "ppid", t->ppid);
	img_jw_kv_u64(&o->w, "pgid", t->pgid);
	img_jw_kv_u64(&o->w, "sid", t->sid);
	img_jw_kv_str(&o->w, "state", img_task_state_name(t->state) ? img_task_state_name(t->state) : "unknown");
	img_jw_kv_u64(&o->w, "threads", t->nthreads);
	img_jw_kv_str(&o->w, "comm", t->comm);
	img_jw_key(&o->w, "cmdline");
	img_jw_strn(&o->w, (const char *)cl.data, cl.len);
	if (tree) {
		img_jw_key(&o->w, "children");
		img_jw_arr_begin(&o->w);
		for (size_t i = 0; i < t->nchildren; i++)
			ps_json(ck, o, t->children[i], 1);
		img_jw_arr_end(&o->w);
	}
	img_jw_obj_end(&o->w);
	img_buf_free(&cl);
}

static void tree_text(struct img_ckpt *ck, struct out *o, const struct img_task *t, struct img_buf *prefix, int last,
		      int top)
{
	struct img_buf cl;
	size_t plen = prefix->len;

	img_buf_init(&cl);
	cmdline_str(ck, t, &cl);
	img_out_printf(&o->o, "%.*s%s%u %s", (int)prefix->len, (const char *)prefix->data,
		       top ? "" : last ? "`- " : "|- ", t->pid, t->comm);
	if (t->nthreads > 1)
		img_out_printf(&o->o, " [%zu threads]", t->nthreads);
	if (t->state != IMG_TASK_ALIVE && img_task_state_name(t->state))
		img_out_printf(&o->o, " (%s)", img_task_state_name(t->state));
	if (cl.len)
		img_out_printf(&o->o, "  %s", (const char *)cl.data);
	img_out_putc(&o->o, '\n');
	if (!top)
		img_buf_adds(prefix, last ? "   " : "|  ");
	for (size_t i = 0; i < t->nchildren; i++)
		tree_text(ck, o, t->children[i], prefix, i + 1 == t->nchildren, 0);
	prefix->len = plen;
	img_buf_free(&cl);
}

int cmd_ps(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	const struct img_task *const *tasks, *one;
	int tree = !strcmp(cmd->name, "tree");
	struct pid_opts to;
	struct img_ckpt *ck;
	struct out o;
	size_t n;
	int r;

	r = task_cmd(c, cmd, argc, argv, &ck, &to, &tasks, &n, &one);
	if (r)
		return r < 0 ? 0 : r;
	if (tree && !one)
		tasks = img_ckpt_roots(ck, &n);
	out_begin(c, &o);
	if (o.json) {
		img_jw_arr_begin(&o.w);
		for (size_t i = 0; i < n; i++)
			ps_json(ck, &o, tasks[i], tree);
		img_jw_arr_end(&o.w);
	} else if (tree) {
		struct img_buf prefix;

		img_buf_init(&prefix);
		for (size_t i = 0; i < n; i++)
			tree_text(ck, &o, tasks[i], &prefix, 1, 1);
		img_buf_free(&prefix);
	} else {
		struct img_buf cl;

		img_buf_init(&cl);
		img_out_printf(&o.o, "%7s %7s %7s %7s %-8s %4s %-16s %s\n", "PID", "PPID", "PGID", "SID", "STATE", "THR",
			       "COMM", "CMDLINE");
		for (size_t i = 0; i < n; i++) {
			const struct img_task *t = tasks[i];
			const char *st = img_task_state_name(t->state);

			cmdline_str(ck, t, &cl);
			img_out_printf(&o.o, "%7u %7u %7u %7u %-8s %4zu %-16s %s\n", t->pid, t->ppid, t->pgid, t->sid,
				       st ? st : "?", t->nthreads, t->comm, (const char *)cl.data);
		}
		img_buf_free(&cl);
	}
	r = out_end(c, &o);
	img_ckpt_close(ck);
	return r;
}

/* Signals by number, for masks and handlers. */
static const char *const signames[] = {
	NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
	"SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
	"SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

void sig_name(int sig, char *buf, size_t len)
{
	if (sig > 0 && sig < (int)(sizeof(signames) / sizeof(signames[0])))
		snprintf(buf, len, "%s", signames[sig]);
	else
		snprintf(buf, len, "SIGRT%d", sig - 32);
}

const char *const rlimit_names[IMG_NRLIMITS] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
	"SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

static void limit_text(struct img_out *o, uint64_t v)
{
	if (v == UINT64_MAX)
		img_out_puts(o, "unlimited");
	else
		img_out_printf(o, "%llu", (unsigned long long)v);
}

/* Limits that are not unlimited, itimers that are armed, posix timers. */
static void limits_timers(struct out *o, const struct img_task *t)
{
	static const char *const itn[3] = { "real", "virtual", "prof" };

	if (o->json) {
		img_jw_key(&o->w, "rlimits");
		img_jw_obj_begin(&o->w);
	}
	for (size_t i = 0; i < t->nrlimits && i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++) {
		uint64_t cur = img_msg_u64(t->rlimits[i], "cur", 0), max = img_msg_u64(t->rlimits[i], "max", 0);

		if (o->json) {
			img_jw_key(&o->w, rlimit_names[i]);
			img_jw_arr_begin(&o->w);
			img_jw_u64(&o->w, cur);
			img_jw_u64(&o->w, max);
			img_jw_arr_end(&o->w);
			continue;
		}
		if (cur == UINT64_MAX && max == UINT64_MAX)
			continue;
		img_out_printf(&o->o, "  rlimit   %-9s ", rlimit_names[i]);
		limit_text(&o->o, cur);
		img_out_putc(&o->o, '/');
		limit_text(&o->o, max);
		img_out_putc(&o->o, '\n');
	}
	if (o->json) {
		img_jw_obj_end(&o->w);
		img_jw_key(&o->w, "itimers");
		img_jw_obj_begin(&o->w);
	}
	for (int i = 0; i < 3; i++) {
		const struct img_msg *it = t->itimers[i];
		uint64_t is = img_msg_u64(it, "isec", 0), iu = img_msg_u64(it, "iusec", 0);
		uint64_t vs = img_msg_u64(it, "vsec", 0), vu = img_msg_u64(it, "vusec", 0);

		if (!it || (!is && !iu && !vs && !vu))
			continue;
		if (o->json) {
			img_jw_key(&o->w, itn[i]);
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "interval_usec", is * 1000000 + iu);
			img_jw_kv_u64(&o->w, "value_usec", vs * 1000000 + vu);
			img_jw_obj_end(&o->w);
		} else {
			img_out_printf(&o->o, "  itimer   %-9s interval %llu.%06llus value %llu.%06llus\n", itn[i],
				       (unsigned long long)is, (unsigned long long)iu, (unsigned long long)vs,
				       (unsigned long long)vu);
		}
	}
	if (o->json) {
		img_jw_obj_end(&o->w);
		img_jw_kv_u64(&o->w, "posix_timers", t->nposix_timers);
	} else if (t->nposix_timers) {
		img_out_printf(&o->o, "  timers   %zu posix timer%s\n", t->nposix_timers, t->nposix_timers == 1 ? "" : "s");
	}
}

void sigset_str(struct img_buf *b, uint64_t set)
{
	char name[32];
	int any = 0;

	img_buf_printf(b, "0x%llx", (unsigned long long)set);
	for (int s = 1; s <= 64; s++) {
		if (!(set >> (s - 1) & 1))
			continue;
		sig_name(s, name, sizeof(name));
		img_buf_printf(b, "%s%s", any ? "," : " (", name);
		any = 1;
	}
	if (any)
		img_buf_addc(b, ')');
	img_buf_addc(b, 0);
	b->len--;
}

static void sigset_text(struct img_out *o, uint64_t set)
{
	struct img_buf b;

	img_buf_init(&b);
	sigset_str(&b, set);
	img_out_write(o, b.data, b.len);
	img_buf_free(&b);
}

static void sigset_json(struct img_jw *w, const char *key, uint64_t set)
{
	char name[32];

	img_jw_key(w, key);
	img_jw_arr_begin(w);
	for (int s = 1; s <= 64; s++)
		if (set >> (s - 1) & 1) {
			sig_name(s, name, sizeof(name));
			img_jw_str(w, name);
		}
	img_jw_arr_end(w);
}

void regs_each(const struct img_msg *regs, void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	for (uint32_t i = 0; regs && i < regs->desc->nfields; i++) {
		const struct img_fielddesc *fd = &regs->desc->fields[i];
		struct img_iter it;
		uint64_t v;
		char name[64];
		int k = 0;

		if (fd->type == IMG_T_MESSAGE || fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES)
			continue;
		img_iter_init(&it, regs, fd->name);
		while (img_iter_next_u64(&it, &v)) {
			if (fd->label == IMG_L_REPEATED)
				snprintf(name, sizeof(name), "%s[%d]", fd->name, k++);
			else
				snprintf(name, sizeof(name), "%s", fd->name);
			fn(arg, name, v);
		}
	}
}

struct regs_text {
	struct img_out *o;
	int col;
};

static void reg_text(void *arg, const char *name, uint64_t v)
{
	struct regs_text *rt = arg;

	img_out_printf(rt->o, "%s%-8s 0x%016llx", rt->col ? "  " : "      ", name, (unsigned long long)v);
	if (++rt->col == 3) {
		img_out_putc(rt->o, '\n');
		rt->col = 0;
	}
}

static void reg_json(void *arg, const char *name, uint64_t v)
{
	jw_hex(arg, name, v);
}

static void threads_task(struct img_ckpt *ck, struct out *o, const struct img_task *t)
{
	const char *st = img_task_state_name(t->state);
	char name[32];

	(void)ck;
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_u64(&o->w, "pid", t->pid);
		img_jw_kv_str(&o->w, "comm", t->comm);
		img_jw_kv_str(&o->w, "state", st ? st : "unknown");
		img_jw_key(&o->w, "handlers");
		img_jw_obj_begin(&o->w);
	} else {
		img_out_printf(&o->o, "pid %u %s (%s)\n", t->pid, t->comm, st ? st : "unknown");
	}
	for (size_t i = 0; i < t->nsigactions; i++) {
		uint64_t h = img_msg_u64(t->sigactions[i], "sigaction", 0);

		if (h <= 1)
			continue; /* SIG_DFL, SIG_IGN */
		sig_name(img_sigaction_signo(i), name, sizeof(name));
		if (o->json)
			jw_hex(&o->w, name, h);
		else
			img_out_printf(&o->o, "  handler  %-9s 0x%llx\n", name, (unsigned long long)h);
	}
	if (o->json)
		img_jw_obj_end(&o->w);
	limits_timers(o, t);
	if (o->json) {
		img_jw_key(&o->w, "threads");
		img_jw_arr_begin(&o->w);
	}
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct img_thread *th = &t->threads[i];
		size_t npend = img_msg_count(th->pending, "signals");

		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "tid", th->tid);
			img_jw_kv_str(&o->w, "comm", th->comm ? th->comm : t->comm);
			img_jw_kv_str(&o->w, "arch", th->arch);
			jw_hex(&o->w, "pc", th->pc);
			jw_hex(&o->w, "sp", th->sp);
			jw_hex(&o->w, "blocked", th->blocked);
			sigset_json(&o->w, "blocked_signals", th->blocked);
			img_jw_kv_u64(&o->w, "pending", npend);
			img_jw_kv_u64(&o->w, "seccomp_mode", th->seccomp_mode);
			if (th->creds) {
				img_jw_kv_u64(&o->w, "uid", img_msg_u64(th->creds, "uid", 0));
				img_jw_kv_u64(&o->w, "gid", img_msg_u64(th->creds, "gid", 0));
			}
			img_jw_key(&o->w, "regs");
			img_jw_obj_begin(&o->w);
			regs_each(th->regs, reg_json, &o->w);
			img_jw_obj_end(&o->w);
			img_jw_obj_end(&o->w);
			continue;
		}
		struct regs_text rt = { &o->o, 0 };

		img_out_printf(&o->o, "  tid %u %s (%s)\n    pc 0x%llx  sp 0x%llx\n    blocked ", th->tid,
			       th->comm ? th->comm : t->comm, th->arch, (unsigned long long)th->pc,
			       (unsigned long long)th->sp);
		sigset_text(&o->o, th->blocked);
		img_out_printf(&o->o, "\n    pending %zu", npend);
		if (th->creds)
			img_out_printf(&o->o, "  uid %llu gid %llu", (unsigned long long)img_msg_u64(th->creds, "uid", 0),
				       (unsigned long long)img_msg_u64(th->creds, "gid", 0));
		img_out_printf(&o->o, "  seccomp %s\n", th->seccomp_mode == 2 ? "filter" : th->seccomp_mode == 1 ? "strict"
						       : "disabled");
		regs_each(th->regs, reg_text, &rt);
		if (rt.col)
			img_out_putc(&o->o, '\n');
	}
	if (o->json) {
		img_jw_arr_end(&o->w);
		img_jw_obj_end(&o->w);
	}
}

/* Commands that print each task (all, or --pid) into one JSON array. */
static int each_task(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv,
		     void (*fn)(struct img_ckpt *ck, struct out *o, const struct img_task *t))
{
	const struct img_task *const *tasks, *one;
	struct pid_opts to;
	struct img_ckpt *ck;
	struct out o;
	size_t n;
	int r;

	r = task_cmd(c, cmd, argc, argv, &ck, &to, &tasks, &n, &one);
	if (r)
		return r < 0 ? 0 : r;
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < n; i++)
		fn(ck, &o, tasks[i]);
	if (o.json)
		img_jw_arr_end(&o.w);
	r = out_end(c, &o);
	img_ckpt_close(ck);
	return r;
}

int cmd_threads(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	return each_task(c, cmd, argc, argv, threads_task);
}

/* env and cmdline: strings from a range of the task's memory */
static int strings_cmd(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, int env)
{
	const struct img_task *const *tasks, *one;
	struct pid_opts to;
	struct img_ckpt *ck;
	struct img_buf b;
	struct out o;
	size_t n;
	int r;

	r = task_cmd(c, cmd, argc, argv, &ck, &to, &tasks, &n, &one);
	if (r)
		return r < 0 ? 0 : r;
	img_buf_init(&b);
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_task *t = tasks[i];
		struct img_err e = { 0 };
		size_t pos = 0, len;
		const char *s;

		if (!t->mm)
			continue;
		r = read_strings(ck, t, env ? IMG_STRINGS_ENV : IMG_STRINGS_ARGV, &b, NULL, &e);
		if (r) {
			r = img_cli_fail(c, "read the memory of", &e);
			break;
		}
		if (o.json) {
			img_jw_obj_begin(&o.w);
			img_jw_kv_u64(&o.w, "pid", t->pid);
			img_jw_kv_str(&o.w, "comm", t->comm);
			img_jw_key(&o.w, env ? "environ" : "argv");
			img_jw_arr_begin(&o.w);
		} else if (!one) {
			img_out_printf(&o.o, "%u %s\n", t->pid, t->comm);
		}
		while ((s = next_string(&b, &pos, &len))) {
			if (o.json) {
				img_jw_strn(&o.w, s, len);
			} else if (env || !one) {
				img_out_printf(&o.o, "%s%.*s\n", one ? "" : "    ", (int)len, s);
			} else {
				img_out_printf(&o.o, "%s%.*s", pos > len + 1 ? " " : "", (int)len, s);
			}
		}
		if (o.json) {
			img_jw_arr_end(&o.w);
			img_jw_obj_end(&o.w);
		} else if (!env && one) {
			img_out_putc(&o.o, '\n');
		}
	}
	if (o.json && !r)
		img_jw_arr_end(&o.w);
	if (!r)
		r = out_end(c, &o);
	img_buf_free(&b);
	img_ckpt_close(ck);
	return r;
}

int cmd_env(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	return strings_cmd(c, cmd, argc, argv, 1);
}

int cmd_cmdline(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	return strings_cmd(c, cmd, argc, argv, 0);
}

/* auxv entry types (linux/auxvec.h); str: the value points to a string in memory */
static const struct auxt {
	uint64_t type;
	const char *name;
	int str;
} auxtypes[] = {
	{ 0, "AT_NULL", 0 }, { 1, "AT_IGNORE", 0 }, { 2, "AT_EXECFD", 0 }, { 3, "AT_PHDR", 0 },
	{ 4, "AT_PHENT", 0 }, { 5, "AT_PHNUM", 0 }, { 6, "AT_PAGESZ", 0 }, { 7, "AT_BASE", 0 },
	{ 8, "AT_FLAGS", 0 }, { 9, "AT_ENTRY", 0 }, { 10, "AT_NOTELF", 0 }, { 11, "AT_UID", 0 },
	{ 12, "AT_EUID", 0 }, { 13, "AT_GID", 0 }, { 14, "AT_EGID", 0 }, { 15, "AT_PLATFORM", 1 },
	{ 16, "AT_HWCAP", 0 }, { 17, "AT_CLKTCK", 0 }, { 23, "AT_SECURE", 0 }, { 24, "AT_BASE_PLATFORM", 1 },
	{ 25, "AT_RANDOM", 0 }, { 26, "AT_HWCAP2", 0 }, { 27, "AT_RSEQ_FEATURE_SIZE", 0 },
	{ 28, "AT_RSEQ_ALIGN", 0 }, { 29, "AT_HWCAP3", 0 }, { 30, "AT_HWCAP4", 0 }, { 31, "AT_EXECFN", 1 },
	{ 32, "AT_SYSINFO", 0 }, { 33, "AT_SYSINFO_EHDR", 0 }, { 51, "AT_MINSIGSTKSZ", 0 },
};

static void auxv_task(struct img_ckpt *ck, struct out *o, const struct img_task *t)
{
	struct img_mem *m = NULL;
	struct img_err e = { 0 };

	if (!t->mm)
		return;
	img_mem_open(ck, t, 0, &m, &e);
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_u64(&o->w, "pid", t->pid);
		img_jw_key(&o->w, "auxv");
		img_jw_arr_begin(&o->w);
	} else {
		img_out_printf(&o->o, "%u %s\n", t->pid, t->comm);
	}
	for (size_t k = 0; k + 1 < t->mm->nauxv; k += 2) {
		uint64_t type = t->mm->auxv[k], v = t->mm->auxv[k + 1];
		const struct auxt *at = NULL;
		char str[256] = "", tn[32];
		size_t have = 0;

		if (type == 0 && v == 0)
			break; /* the rest of mm_saved_auxv is padding */
		for (size_t j = 0; j < sizeof(auxtypes) / sizeof(auxtypes[0]); j++)
			if (auxtypes[j].type == type)
				at = &auxtypes[j];
		if (at)
			snprintf(tn, sizeof(tn), "%s", at->name);
		else
			snprintf(tn, sizeof(tn), "AT_%llu", (unsigned long long)type);
		if (at && at->str && m && !img_mem_read(m, v, str, sizeof(str) - 1, &have, NULL) && have)
			str[sizeof(str) - 1] = 0;
		else
			str[0] = 0;
		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_str(&o->w, "type", tn);
			jw_hex(&o->w, "value", v);
			if (str[0])
				img_jw_kv_str(&o->w, "string", str);
			img_jw_obj_end(&o->w);
		} else {
			img_out_printf(&o->o, "    %-20s 0x%llx%s%s%s\n", tn, (unsigned long long)v, str[0] ? " \"" : "",
				       str, str[0] ? "\"" : "");
		}
	}
	if (o->json) {
		img_jw_arr_end(&o->w);
		img_jw_obj_end(&o->w);
	}
	img_mem_close(m);
}

int cmd_auxv(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	return each_task(c, cmd, argc, argv, auxv_task);
}
