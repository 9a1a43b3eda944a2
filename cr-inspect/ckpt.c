/* What the explorer commands share: opening a checkpoint, --pid, output setup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-inspect.h"

int open_ckpt(struct img_cli *c, const char *path, struct img_ckpt **ck)
{
	struct img_err e = { 0 };

	if (img_ckpt_open(path, 0, ck, &e))
		return img_cli_fail(c, "read", &e);
	return 0;
}

int parse_pid(struct img_cli *c, const struct img_cmd *cmd, const char *s, uint32_t *pid)
{
	uint64_t v;

	if (img_parse_addr(s, &v) || v == 0 || v > UINT32_MAX)
		return img_cmd_usage(c, cmd, "'%s' is not a pid", s);
	*pid = (uint32_t)v;
	return 0;
}

int find_task(struct img_cli *c, struct img_ckpt *ck, uint32_t pid, const struct img_task **t)
{
	*t = img_ckpt_task(ck, pid);
	if (!*t)
		return img_cli_failf(c, "no task with pid %u in the checkpoint", pid);
	return 0;
}

int pid_opt(void *arg, int opt, const char *val)
{
	struct pid_opts *po = arg;

	if (opt != 'P')
		return 2;
	po->have_pid = 1;
	return parse_pid(po->c, po->cmd, val, &po->pid);
}

const struct option pid_longopts[] = {
	{ "pid", required_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 },
};

int pick_tasks(struct img_cli *c, struct img_ckpt *ck, int have_pid, uint32_t pid, const struct img_task **one,
	       const struct img_task *const **tasks, size_t *n)
{
	int r;

	*one = NULL;
	*tasks = img_ckpt_tasks(ck, n);
	if (!have_pid)
		return 0;
	r = find_task(c, ck, pid, one);
	if (r)
		return r;
	*tasks = one;
	*n = 1;
	return 0;
}

void out_begin(struct img_cli *c, struct out *o)
{
	img_out_fd(&o->o, STDOUT_FILENO);
	o->json = c->json || c->pretty;
	img_jw_init(&o->w, &o->o, c->pretty ? 4 : 0);
}

int out_end(struct img_cli *c, struct out *o)
{
	struct img_err e = { 0 };
	int r;

	if (o->json)
		img_out_putc(&o->o, '\n');
	r = img_out_flush(&o->o);
	if (r) {
		img_err_set(&e, -r, "%s", strerror(-r));
		img_err_subject(&e, "<stdout>");
		return img_cli_fail(c, "write", &e);
	}
	return 0;
}

void jw_hex(struct img_jw *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
	img_jw_kv_str(w, key, b);
}

const char *prot_str(uint32_t prot, char buf[4])
{
	buf[0] = prot & 1 ? 'r' : '-';
	buf[1] = prot & 2 ? 'w' : '-';
	buf[2] = prot & 4 ? 'x' : '-';
	buf[3] = 0;
	return buf;
}

/*
 * Parse the command line of an explorer: the checkpoint first, then up to
 * maxpos more positional arguments.  Options are handled by opt_fn.
 */
int parse_explorer(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, const char *shortopts,
		   const struct option *longopts, int (*opt_fn)(void *arg, int opt, const char *val), void *arg,
		   char **pos, int minpos, int maxpos, int *npos)
{
	int opt, n = 0;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, shortopts, longopts)) != -1) {
		int r;

		if (opt == 'h')
			return -1;
		if (opt == '?' || opt == 'E')
			return 2;
		r = opt_fn ? opt_fn(arg, opt, optarg) : 2;
		if (r)
			return r;
	}
	for (int i = optind; i < argc; i++) {
		if (n == maxpos)
			return img_cmd_usage(c, cmd, "unexpected argument '%s'", argv[i]);
		pos[n++] = argv[i];
	}
	if (n < minpos)
		return img_cmd_usage(c, cmd, n ? "missing arguments" : "expected a checkpoint");
	*npos = n;
	return 0;
}
