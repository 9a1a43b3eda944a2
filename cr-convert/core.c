/* core: ELF core files of the checkpoint's processes, written by libimg's img_core_write_dir. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cr-convert.h"
#include "img/elfcore.h"

enum { OPT_PID = IMG_OPT_FIRST_OWN, OPT_ROOT, OPT_NO_FILE_PAGES };

struct core_run {
	struct img_cli *c;
	struct img_progress bar;
};

static void on_warn(void *arg, const struct img_err *w)
{
	struct core_run *cr = arg;

	img_progress_end(&cr->bar);
	img_cli_warn(cr->c, "'%s': %s", w->subject, w->msg);
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct core_run *cr = arg;

	img_progress_set(&cr->bar, done, total);
}

static void report(struct img_cli *c, struct img_jw *w, struct img_out *o, const char *dir, const struct img_task *t,
		   const struct img_core_stats *st)
{
	if (c->json) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/core.%u", dir, t->pid);
		img_jw_obj_begin(w);
		img_jw_kv_u64(w, "pid", t->pid);
		img_jw_kv_str(w, "comm", t->comm ? t->comm : "");
		img_jw_kv_str(w, "core", path);
		img_jw_kv_u64(w, "threads", st->threads);
		img_jw_kv_u64(w, "segments", st->segments);
		img_jw_kv_u64(w, "files", st->files);
		img_jw_kv_u64(w, "mapped", st->mem);
		img_jw_kv_u64(w, "written", st->data);
		img_jw_kv_u64(w, "size", st->size);
		img_jw_kv_u64(w, "missing_pages", st->missing);
		img_jw_obj_end(w);
	} else if (!c->quiet) {
		img_out_printf(o, "%s/core.%u: pid %u %s, %zu thread%s, %zu segments, %llu KiB of memory in %llu KiB mapped\n",
			       dir, t->pid, t->pid, t->comm ? t->comm : "", st->threads, st->threads == 1 ? "" : "s",
			       st->segments, (unsigned long long)(st->data >> 10), (unsigned long long)(st->mem >> 10));
	}
}

int cmd_core(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "no-file-pages", no_argument, NULL, OPT_NO_FILE_PAGES },
		{ NULL, 0, NULL, 0 },
	};
	struct core_run cr = { .c = c };
	struct img_core_stats st;
	struct img_core_opts co = { .warn = on_warn, .progress = on_progress, .arg = &cr, .stats = &st };
	const struct img_task *const *tasks;
	struct img_err e = { 0 };
	struct img_ckpt *ck;
	const char *dir = NULL;
	uint64_t pid = 0;
	struct img_buf out;
	struct img_out o;
	struct img_jw w;
	size_t n, done = 0;
	int opt, r = 0;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case 'o':
			dir = optarg;
			break;
		case OPT_PID:
			if (img_parse_addr(optarg, &pid) || !pid || pid > UINT32_MAX)
				return img_cmd_usage(c, cmd, "'%s' is not a pid", optarg);
			break;
		case OPT_ROOT:
			co.root = optarg;
			break;
		case OPT_NO_FILE_PAGES:
			co.flags |= IMG_CORE_NO_FILE_PAGES;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one checkpoint");
	if (!dir)
		return img_cmd_usage(c, cmd, "-o DIR is required");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return img_cli_failf(c, "cannot make '%s': %s", dir, strerror(errno));
	if (img_ckpt_open(argv[optind], 0, &ck, &e))
		return img_cli_fail(c, "read", &e);
	tasks = img_ckpt_tasks(ck, &n);
	if (pid && !img_ckpt_task(ck, (uint32_t)pid)) {
		img_ckpt_close(ck);
		return img_cli_failf(c, "no task with pid %llu in the checkpoint", (unsigned long long)pid);
	}
	/* what is printed waits for the end: an error replaces it (in JSON mode, {"error": ...} alone) */
	img_buf_init(&out);
	img_out_mem(&o, &out);
	img_jw_init(&w, &o, c->pretty ? 4 : 0);
	if (c->json)
		img_jw_arr_begin(&w);
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_task *t = tasks[i];
		char what[64];

		if (pid && t->pid != pid)
			continue;
		memset(&e, 0, sizeof(e));
		if (!pid && img_core_supported(t, &e)) {
			/* a zombie or a task of another architecture among others: say so and go on */
			img_cli_warn(c, "'%s': %s", e.subject, e.msg);
			continue;
		}
		snprintf(what, sizeof(what), "core.%u", t->pid);
		img_progress_init(&cr.bar, c, what);
		r = img_core_write_dir(ck, t, dir, &co, &e);
		img_progress_end(&cr.bar);
		if (r) {
			r = img_cli_fail(c, "write the core of", &e);
			break;
		}
		report(c, &w, &o, dir, t, &st);
		done++;
	}
	if (!r && !done)
		r = img_cli_failf(c, "no process of the checkpoint has a core to write");
	if (c->json) {
		img_jw_arr_end(&w);
		img_out_putc(&o, '\n');
	}
	img_out_flush(&o);
	if (!r && out.len) {
		img_out_fd(&o, 1);
		img_out_write(&o, out.data, out.len);
		img_out_flush(&o);
	}
	img_buf_free(&out);
	img_ckpt_close(ck);
	return r;
}
