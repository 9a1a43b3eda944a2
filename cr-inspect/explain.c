/* explain: why a CRIU restore (or dump) failed, from its log and, when given, the image set. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-inspect.h"
#include "img/explain.h"

enum { OPT_ROOT = IMG_OPT_FIRST_OWN, OPT_TARGET };

static const char *const kind_names[] = { "run", "restore", "dump", "pre-dump" };

struct ctx_print {
	struct img_out *o;
	struct img_jw *w;
	uint32_t mark;
};

static void ctx_text(void *arg, uint32_t line, const char *s, size_t len)
{
	struct ctx_print *p = arg;

	img_out_printf(p->o, "  %c %6u | %.*s\n", line == p->mark ? '>' : ' ', line, (int)(len > 400 ? 400 : len), s);
}

static void ctx_json(void *arg, uint32_t line, const char *s, size_t len)
{
	struct ctx_print *p = arg;

	img_jw_obj_begin(p->w);
	img_jw_kv_u64(p->w, "line", line);
	img_jw_key(p->w, "text");
	img_jw_strn(p->w, s, len > 4000 ? 4000 : len);
	img_jw_obj_end(p->w);
}

static void line_json(struct img_jw *w, const struct img_logline *l)
{
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "line", l->line);
	img_jw_key(w, "pid");
	if (l->pid >= 0)
		img_jw_i64(w, l->pid);
	else
		img_jw_null(w);
	img_jw_key(w, "source");
	if (l->src)
		img_jw_str(w, l->src);
	else
		img_jw_null(w);
	img_jw_kv_str(w, "text", l->text);
	img_jw_key(w, "code");
	if (l->msg)
		img_jw_str(w, l->msg->code);
	else
		img_jw_null(w);
	img_jw_obj_end(w);
}

static void line_text(struct img_out *o, const struct img_logline *l, const char *indent)
{
	img_out_printf(o, "%sline %u", indent, l->line);
	if (l->pid >= 0)
		img_out_printf(o, " (task %ld)", l->pid);
	img_out_printf(o, ": %s", l->text);
	if (l->src)
		img_out_printf(o, "  [%s]", l->src);
	img_out_putc(o, '\n');
}

static const char *headline(const struct img_explain *x)
{
	switch (x->outcome) {
	case IMG_LOG_OK:
		return "succeeded";
	case IMG_LOG_FAILED:
		return "failed";
	}
	return "did not finish (the log ends without an outcome)";
}

int cmd_explain(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "context", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = NULL, *target = NULL, *log, *ckpt = NULL;
	unsigned long context = 3;
	struct img_explain *x = NULL;
	struct img_profile *prof = NULL;
	struct img_findings f;
	struct img_logref *refs = NULL;
	size_t nrefs = 0;
	struct img_arena a;
	struct img_err e = { 0 };
	struct img_src *src;
	struct img_dir *d = NULL;
	unsigned checks = 0;
	struct img_out o;
	int opt, r, color = cli_color();

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "C:", opts)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			root = optarg;
			break;
		case OPT_TARGET:
			target = optarg;
			break;
		case 'C': {
			char *end;

			context = strtoul(optarg, &end, 10);
			if (*end || context > 1000)
				return img_cmd_usage(c, cmd, "--context: '%s' is not a number of lines up to 1000", optarg);
			break;
		}
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2)
		return img_cmd_usage(c, cmd, "give a log, and optionally the checkpoint it is about");
	log = argv[optind];
	if (argc - optind == 2)
		ckpt = argv[optind + 1];
	if (root && cli_check_root(c, root))
		return 2;
	if (img_src_open(log, &src, &e))
		return img_cli_fail(c, "read", &e);
	r = img_log_explain((const char *)src->data, src->size, &x, &e);
	if (r) {
		img_src_unref(src);
		img_err_subject(&e, log);
		return img_cli_fail(c, "read the log", &e);
	}
	img_arena_init(&a);
	img_findings_init(&f);
	if (ckpt) {
		if (img_dir_open(ckpt, &d, &e)) {
			r = img_cli_fail(c, "read", &e);
			goto out;
		}
		if (img_explain_locate(x, d, img_schema_default(), &refs, &nrefs, &a, &e)) {
			r = img_cli_fail(c, "read", &e);
			goto out;
		}
		checks = img_explain_checks(x);
		if (checks) {
			struct img_check_opts co = { .what = checks | IMG_CHECK_IMAGES, .root = root };

			if ((checks & (IMG_CHECK_KERNEL | IMG_CHECK_CPU | IMG_CHECK_PIDS)) && cli_load_target(c, target, &prof)) {
				r = 2;
				goto out;
			}
			co.target = prof;
			if (img_check_dir(d, &co, &f, &e)) {
				r = img_cli_fail(c, "check", &e);
				goto out;
			}
		}
	}
	img_out_fd(&o, STDOUT_FILENO);
	uint32_t mark = x->nchain ? x->chain[0].line : 0;

	if (c->json || c->pretty) {
		struct img_jw w;
		struct ctx_print cp = { .o = &o, .w = &w, .mark = mark };

		img_jw_init(&w, &o, c->pretty ? 4 : 0);
		img_jw_obj_begin(&w);
		img_jw_kv_str(&w, "log", log);
		img_jw_kv_str(&w, "kind", kind_names[x->kind]);
		img_jw_kv_str(&w, "outcome", x->outcome == IMG_LOG_OK ? "ok" : x->outcome == IMG_LOG_FAILED ? "failed" : "incomplete");
		img_jw_key(&w, "criu_version");
		if (x->criu_version)
			img_jw_str(&w, x->criu_version);
		else
			img_jw_null(&w);
		img_jw_kv_u64(&w, "lines", x->nlines);
		img_jw_kv_u64(&w, "run_line", x->run_line);
		img_jw_key(&w, "first_error");
		if (x->nchain)
			line_json(&w, &x->chain[0]);
		else
			img_jw_null(&w);
		img_jw_key(&w, "chain");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < x->nchain; i++)
			line_json(&w, &x->chain[i]);
		if (x->have_outcome_line && x->outcome == IMG_LOG_FAILED)
			line_json(&w, &x->outcome_line);
		img_jw_arr_end(&w);
		img_jw_key(&w, "code");
		if (x->diag)
			img_jw_str(&w, x->diag->code);
		else
			img_jw_null(&w);
		img_jw_key(&w, "diagnosis");
		if (x->diagnosis)
			img_jw_str(&w, x->diagnosis);
		else
			img_jw_null(&w);
		img_jw_key(&w, "todo");
		if (x->todo)
			img_jw_str(&w, x->todo);
		else
			img_jw_null(&w);
		img_jw_key(&w, "vars");
		img_jw_obj_begin(&w);
		for (size_t i = 0; i < x->nvars; i++)
			img_jw_kv_str(&w, x->vars[i].name, x->vars[i].value);
		img_jw_obj_end(&w);
		img_jw_key(&w, "context");
		img_jw_arr_begin(&w);
		if (x->nchain && !x->diag)
			img_log_lines((const char *)src->data, src->size, mark > context ? mark - (uint32_t)context : 1,
				      mark + (uint32_t)context, ctx_json, &cp);
		img_jw_arr_end(&w);
		img_jw_key(&w, "recovered");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < x->nrecovered; i++)
			line_json(&w, &x->recovered[i]);
		img_jw_arr_end(&w);
		img_jw_key(&w, "entries");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < nrefs; i++) {
			img_jw_obj_begin(&w);
			img_jw_kv_str(&w, "image", refs[i].image);
			img_jw_key(&w, "entry");
			if (refs[i].entry >= 0)
				img_jw_i64(&w, refs[i].entry);
			else
				img_jw_null(&w);
			img_jw_key(&w, "offset");
			if (refs[i].offset != IMG_NO_OFFSET)
				img_jw_u64(&w, refs[i].offset);
			else
				img_jw_null(&w);
			img_jw_kv_str(&w, "what", refs[i].what);
			img_jw_obj_end(&w);
		}
		img_jw_arr_end(&w);
		img_jw_key(&w, "findings");
		img_findings_print_json(&f, &w);
		img_jw_obj_end(&w);
		img_out_putc(&o, '\n');
	} else {
		struct ctx_print cp = { .o = &o, .mark = mark };

		img_out_printf(&o, "%s%s%s %s", color ? "\033[1m" : "", kind_names[x->kind], color ? "\033[m" : "",
			       headline(x));
		if (x->criu_version)
			img_out_printf(&o, " (CRIU %s, %u lines)", x->criu_version, x->nlines);
		img_out_putc(&o, '\n');
		if (x->run_line > 2)
			img_out_printf(&o, "the log holds several runs: this is the last, from line %u\n", x->run_line);
		if (x->outcome == IMG_LOG_OK) {
			if (x->diagnosis)
				img_out_printf(&o, "%s\n", x->diagnosis);
			if (x->nrecovered)
				img_out_printf(&o, "%zu error%s along the way did not stop it:\n", x->nrecovered,
					       x->nrecovered == 1 ? "" : "s");
			for (size_t i = 0; i < x->nrecovered; i++)
				line_text(&o, &x->recovered[i], "  ");
		} else if (!x->nchain) {
			img_out_puts(&o, "no error in the log");
			if (x->outcome == IMG_LOG_INCOMPLETE)
				img_out_puts(&o, ": CRIU stopped (was killed, or the log was cut) before it said how the run ended");
			img_out_putc(&o, '\n');
		} else {
			img_out_printf(&o, "\n%sfirst error%s: ", color ? "\033[1;31m" : "", color ? "\033[m" : "");
			line_text(&o, &x->chain[0], "");
			if (x->nchain > 1 || (x->have_outcome_line && x->outcome == IMG_LOG_FAILED)) {
				img_out_puts(&o, "then:\n");
				for (size_t i = 1; i < x->nchain; i++)
					line_text(&o, &x->chain[i], "  ");
				if (x->have_outcome_line && x->outcome == IMG_LOG_FAILED)
					line_text(&o, &x->outcome_line, "  ");
			}
			if (x->diagnosis) {
				img_out_printf(&o, "\n%scause%s: %s\n", color ? "\033[1m" : "", color ? "\033[m" : "",
					       x->diagnosis);
				if (x->nvars) {
					img_out_puts(&o, "involves:");
					for (size_t i = 0; i < x->nvars; i++) {
						const char *n = x->vars[i].name;

						const char *v = x->vars[i].value;

						/* CRIU logs paths relative to the mount namespace's root */
						img_out_printf(&o, "%s %s %s%s", i ? "," : "",
							       !strcmp(n, "pid") ? "task" : !strcmp(n, "id") ? "file id" : n,
							       !strcmp(n, "path") && v[0] != '/' ? "/" : "", v);
					}
					img_out_putc(&o, '\n');
				}
				if (x->todo)
					img_out_printf(&o, "to do: %s\n", x->todo);
			}
			if (!x->diag || x->diag != x->chain[0].msg) {
				img_out_printf(&o, "\n%s error; the log around it:\n",
					       x->chain[0].msg ? "a known" : "an unknown");
				img_log_lines((const char *)src->data, src->size, mark > context ? mark - (uint32_t)context : 1,
					      mark + (uint32_t)context, ctx_text, &cp);
			}
			if (x->nrecovered) {
				img_out_printf(&o, "\nCRIU went on after %zu other error%s:\n", x->nrecovered,
					       x->nrecovered == 1 ? "" : "s");
				for (size_t i = 0; i < x->nrecovered; i++)
					line_text(&o, &x->recovered[i], "  ");
			}
		}
		if (nrefs) {
			img_out_printf(&o, "\nin the images of %s:\n", ckpt);
			for (size_t i = 0; i < nrefs; i++) {
				img_out_printf(&o, "  %s", refs[i].image);
				if (refs[i].entry >= 0)
					img_out_printf(&o, " entry %ld", refs[i].entry);
				if (refs[i].offset != IMG_NO_OFFSET)
					img_out_printf(&o, " at offset 0x%llx", (unsigned long long)refs[i].offset);
				img_out_printf(&o, ": %s\n", refs[i].what);
			}
		}
		if (ckpt && checks) {
			img_out_printf(&o, "\nchecks (%s) of %s%s%s:\n", x->diag && x->diag->checks ? x->diag->checks : "",
				       ckpt, root ? " under " : "", root ? root : "");
			if (f.n)
				cli_print_findings(&o, &f, color);
			else
				img_out_puts(&o, "  no finding: the set and the target look ready now\n");
		}
	}
	r = img_out_flush(&o) ? img_cli_failf(c, "cannot write to standard output") : 0;
	if (!r && x->outcome != IMG_LOG_OK)
		r = 1; /* like check: 1 says there is a problem */
out:
	img_findings_free(&f);
	img_arena_free(&a);
	img_profile_free(prof);
	img_dir_close(d);
	img_explain_free(x);
	img_src_unref(src);
	return r;
}
