/*
 * cr-diff: what changed between two checkpoints, from the image set and the
 * process tree down to memory pages.  The comparison is libimg's (img/diff.h);
 * this prints its records as a unified-diff-like text, or as JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/cmd.h"
#include "img/diff.h"
#include "img/mem.h"

static const struct img_cmd cmd = {
	"cr-diff", NULL,
	"A B [-j] [--pages] [--match pid|comm] [--ignore PATH]... [--only CATEGORIES] [--summary] [--color auto|always|never]",
	"Compare two checkpoints (image folders or checkpoint archives), from the image set and the process tree\n"
	"down to memory pages.  Exit status: 0 equal, 1 different, 2 trouble.",
	"      --pages          show a hex dump of the bytes that differ in each changed memory range\n"
	"      --match pid|comm pair tasks by pid (default), or by name and command line (pids that differ)\n"
	"      --ignore PATH    leave out the fields PATH names and what is below them; a path is written\n"
	"                       as the records show it (core.tc.comm, mm.vmas[3].prot, fd[*].reg.pos) with\n"
	"                       * and ? globs in a part and ** for any number of parts; may be repeated\n"
	"      --volatile       also compare the fields left out by default (below)\n"
	"      --only CATS      compare only these: images,tree,ns,tasks,mm,files,sockets,memory\n"
	"      --summary        print only the number of changes in each category\n"
	"      --color WHEN     colour the text: auto (on a terminal, unless NO_COLOR is set), always, never\n"
	"  -V, --version        print the version\n",
};

enum { OPT_PAGES = IMG_OPT_FIRST_OWN, OPT_MATCH, OPT_IGNORE, OPT_ONLY, OPT_SUMMARY, OPT_COLOR, OPT_VOLATILE };

static const struct option longopts[] = {
	{ "pages", no_argument, NULL, OPT_PAGES },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "ignore", required_argument, NULL, OPT_IGNORE },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "summary", no_argument, NULL, OPT_SUMMARY },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "colour", required_argument, NULL, OPT_COLOR },
	{ "volatile", no_argument, NULL, OPT_VOLATILE },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Text goes out grouped: "@@ task 1 (comm) @@" then its lines. */
struct sink {
	struct img_out *o;
	char group[160];                /* the header last printed */
};

struct out {
	struct img_cli *c;
	struct img_diff *d;
	struct img_out o;
	struct img_jw w;
	int json, color, pages, summary;
	const char *a, *b;
	int started;                    /* the header (text) or the opening (JSON) is out */
	const struct img_diff_pair *pair; /* of the last record */
	struct sink main;
	/* the threads' records of the current task, printed after the task's own */
	struct sink threads;
	struct img_buf tbuf;
	struct img_out *tout;
};

static const char *col(const struct out *o, const char *code)
{
	return o->color ? code : "";
}

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define CYAN "\033[36m"
#define BOLD "\033[1m"
#define OFF "\033[m"

static void start(struct out *o)
{
	if (o->started)
		return;
	o->started = 1;
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_str(&o->w, "a", o->a);
		img_jw_kv_str(&o->w, "b", o->b);
		if (!o->summary) {
			img_jw_key(&o->w, "changes");
			img_jw_arr_begin(&o->w);
		}
		return;
	}
	if (!o->summary)
		img_out_printf(&o->o, "%s--- %s\n+++ %s%s\n", col(o, BOLD), o->a, o->b, col(o, OFF));
}

static void hex_addr(struct img_jw *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
	img_jw_kv_str(w, key, b);
}

static const char *vma_name(const struct img_vma *v)
{
	return !v ? "" : v->name && v->name[0] ? v->name : img_vma_kind_name(v->kind);
}

static void json_record(struct out *o, const struct img_diff_change *ch)
{
	struct img_jw *w = &o->w;

	img_jw_obj_begin(w);
	img_jw_kv_str(w, "category", img_diff_cat_name(ch->cat));
	img_jw_key(w, "task");
	if (ch->task)
		img_jw_str(w, ch->task);
	else
		img_jw_null(w);
	img_jw_kv_str(w, "path", ch->path);
	img_jw_kv_str(w, "op", img_diff_op_name(ch->op));
	img_jw_key(w, "before");
	if (ch->before)
		img_jw_raw(w, ch->before, strlen(ch->before));
	else
		img_jw_null(w);
	img_jw_key(w, "after");
	if (ch->after)
		img_jw_raw(w, ch->after, strlen(ch->after));
	else
		img_jw_null(w);
	if (ch->range) {
		const struct img_diff_range *r = ch->range;

		hex_addr(w, "start", r->start);
		hex_addr(w, "end", r->end);
		if (r->b_start != r->start)
			hex_addr(w, "b_start", r->b_start);
		img_jw_kv_str(w, "vma", vma_name(r->vma_a ? r->vma_a : r->vma_b));
		img_jw_kv_u64(w, "pages", r->pages);
		img_jw_kv_u64(w, "bytes", r->bytes);
		hex_addr(w, "first", r->first);
	}
	img_jw_obj_end(w);
}

static void group(struct out *o, struct sink *k, const struct img_diff_change *ch)
{
	char g[160];

	if (ch->tid_a)
		snprintf(g, sizeof(g), "thread %s", ch->task);
	else if (ch->pair)
		snprintf(g, sizeof(g), "task %s", ch->pair->label);
	else
		snprintf(g, sizeof(g), "%s", img_diff_cat_name(ch->cat));
	if (!strcmp(k->group, g))
		return;
	snprintf(k->group, sizeof(k->group), "%s", g);
	img_out_printf(k->o, "%s@@ %s", col(o, CYAN), g);
	if (ch->comm && ch->comm[0])
		img_out_printf(k->o, " (%s)", ch->comm);
	img_out_printf(k->o, " @@%s\n", col(o, OFF));
}

/* The threads' lines of the task just done. */
static void flush_threads(struct out *o)
{
	img_out_flush(o->tout);
	if (o->tbuf.len)
		img_out_write(&o->o, o->tbuf.data, o->tbuf.len);
	o->tbuf.len = 0;
	o->threads.group[0] = 0;
	o->main.group[0] = 0;
}

static void line(struct out *o, struct sink *k, char sign, const char *color, const char *path, const char *val)
{
	img_out_printf(k->o, "%s%c%s: %s%s\n", col(o, color), sign, path, val, col(o, OFF));
}

/* The lines of 16 bytes that differ in a changed range, A's then B's. */
static void hexdump(struct out *o, struct sink *k, const struct img_diff_change *ch)
{
	const struct img_diff_range *r = ch->range;
	struct img_err e = { 0 };
	struct img_mem *ma = img_diff_mem(o->d, ch->pair, 0, &e), *mb = ma ? img_diff_mem(o->d, ch->pair, 1, &e) : NULL;
	uint8_t a[4096], b[4096];

	if (!ma || !mb)
		return;
	for (uint64_t p = r->start; p < r->end; p += sizeof(a)) {
		size_t n = r->end - p < sizeof(a) ? (size_t)(r->end - p) : sizeof(a);

		if (img_mem_read(ma, p, a, n, NULL, &e) || img_mem_read(mb, p - r->start + r->b_start, b, n, NULL, &e))
			return;
		for (size_t l = 0; l < n; l += 16) {
			size_t n16 = n - l < 16 ? n - l : 16;

			if (!memcmp(a + l, b + l, n16))
				continue;
			for (int side = 0; side < 2; side++) {
				const uint8_t *q = (side ? b : a) + l;

				img_out_printf(k->o, "%s %c%016llx ", col(o, side ? GREEN : RED), side ? '+' : '-',
					       (unsigned long long)(side ? p - r->start + r->b_start + l : p + l));
				for (size_t i = 0; i < 16; i++)
					if (i < n16)
						img_out_printf(k->o, "%s%02x", i == 8 ? "  " : " ", q[i]);
					else
						img_out_printf(k->o, "%s  ", i == 8 ? "   " : " ");
				img_out_puts(k->o, "  |");
				for (size_t i = 0; i < n16; i++)
					img_out_putc(k->o, isprint(q[i]) ? q[i] : '.');
				img_out_printf(k->o, "|%s\n", col(o, OFF));
			}
		}
	}
}

static void text_range(struct out *o, struct sink *k, const struct img_diff_change *ch)
{
	const struct img_diff_range *r = ch->range;
	const struct img_vma *v = r->vma_a ? r->vma_a : r->vma_b;
	char where[64] = "", prot[4] = "---";

	if (v) {
		prot[0] = v->prot & 1 ? 'r' : '-';
		prot[1] = v->prot & 2 ? 'w' : '-';
		prot[2] = v->prot & 4 ? 'x' : '-';
	}
	if (r->b_start != r->start)
		snprintf(where, sizeof(where), ", at 0x%llx in B", (unsigned long long)r->b_start);
	if (ch->op == IMG_DIFF_CHANGED && r->bytes)
		img_out_printf(k->o, "%s!%s: %llu %s changed, %llu %s differ, the first at 0x%llx%s (%s %s)%s\n",
			       col(o, YELLOW), ch->path, (unsigned long long)r->pages, r->pages == 1 ? "page" : "pages",
			       (unsigned long long)r->bytes, r->bytes == 1 ? "byte" : "bytes",
			       (unsigned long long)r->first, where, prot, vma_name(v), col(o, OFF));
	else
		img_out_printf(k->o, "%s%c%s: %llu %s %s (%s -> %s)%s (%s %s)%s\n",
			       col(o, ch->op == IMG_DIFF_ADDED ? GREEN : ch->op == IMG_DIFF_REMOVED ? RED : YELLOW),
			       ch->op == IMG_DIFF_ADDED ? '+' : ch->op == IMG_DIFF_REMOVED ? '-' : '!', ch->path,
			       (unsigned long long)r->pages, r->pages == 1 ? "page" : "pages", img_diff_op_name(ch->op),
			       img_page_state_name(r->state_a), img_page_state_name(r->state_b), where, prot, vma_name(v),
			       col(o, OFF));
	if (o->pages && ch->op == IMG_DIFF_CHANGED && r->bytes && ch->cat == IMG_DIFF_MEMORY)
		hexdump(o, k, ch);
}

static int on_change(void *arg, const struct img_diff_change *ch)
{
	struct out *o = arg;
	struct sink *k = ch->tid_a ? &o->threads : &o->main;

	start(o);
	if (o->summary)
		return 0;
	if (o->json) {
		json_record(o, ch);
		return o->o.err ? -o->o.err : 0;
	}
	if (ch->pair != o->pair)
		flush_threads(o);
	o->pair = ch->pair;
	group(o, k, ch);
	if (ch->range)
		text_range(o, k, ch);
	else {
		if (ch->before_text)
			line(o, k, '-', RED, ch->path, ch->before_text);
		if (ch->after_text)
			line(o, k, '+', GREEN, ch->path, ch->after_text);
	}
	return o->o.err ? -o->o.err : 0;
}

static void summary(struct out *o)
{
	static const struct img_diff_stats none;
	const struct img_diff_stats *st = o->d ? img_diff_stats(o->d) : &none;
	struct img_jw *w = &o->w;

	if (o->json) {
		if (!o->summary)
			img_jw_arr_end(w);
		img_jw_kv_bool(w, "equal", st->changes == 0);
		img_jw_key(w, "summary");
		img_jw_obj_begin(w);
		img_jw_kv_u64(w, "changes", st->changes);
		for (int i = 0; i < IMG_DIFF__NCAT; i++)
			img_jw_kv_u64(w, img_diff_cat_name(i), st->by_cat[i]);
		img_jw_kv_u64(w, "pages_changed", st->pages_changed);
		img_jw_kv_u64(w, "pages_added", st->pages_added);
		img_jw_kv_u64(w, "pages_removed", st->pages_removed);
		img_jw_kv_u64(w, "bytes_changed", st->bytes_changed);
		img_jw_obj_end(w);
		img_jw_obj_end(w);
		img_out_putc(&o->o, '\n');
		return;
	}
	if (!o->summary || !st->changes)
		return;
	img_out_printf(&o->o, "%s: %llu %s\n", "changes", (unsigned long long)st->changes,
		       st->changes == 1 ? "record" : "records");
	for (int i = 0; i < IMG_DIFF__NCAT; i++)
		if (st->by_cat[i])
			img_out_printf(&o->o, "  %-8s %llu\n", img_diff_cat_name(i), (unsigned long long)st->by_cat[i]);
	if (st->by_cat[IMG_DIFF_MEMORY])
		img_out_printf(&o->o, "pages: %llu changed (%llu bytes differ), %llu added, %llu removed\n",
			       (unsigned long long)st->pages_changed, (unsigned long long)st->bytes_changed,
			       (unsigned long long)st->pages_added, (unsigned long long)st->pages_removed);
}

static int parse_only(struct img_cli *c, const char *s, unsigned *cats)
{
	char buf[256], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = img_diff_cat_parse(tok);

		if (k < 0)
			return img_cmd_usage(c, &cmd, "--only: no category '%s' (images, tree, ns, tasks, mm, files, sockets, memory)",
					     tok);
		*cats |= 1u << k;
	}
	return 0;
}

static void help_volatile(void)
{
	const char *const *v = img_diff_volatile();

	printf("\nleft out by default (they change on every dump; --volatile compares them):\n");
	for (; v[0]; v += 2)
		printf("  %-26s %s\n", v[0], v[1]);
}

/* The comparison and its output; 0, 1 (different) or 2. */
static int run(struct out *o, const struct img_diff_opts *opts)
{
	struct img_cli *c = o->c;
	struct img_err e = { 0 };
	int r, same;

	/* the same bytes (a copy, or the same folder twice): nothing can differ, no model is needed */
	r = img_diff_identical(o->a, o->b, &same, &e);
	if (r)
		return img_cli_fail(c, "read", &e);
	if (!same && img_diff_open(o->a, o->b, opts, &o->d, &e))
		return img_cli_fail(c, "read", &e);
	img_out_fd(&o->o, STDOUT_FILENO);
	img_jw_init(&o->w, &o->o, c->pretty ? 4 : 0);
	img_out_mem(o->tout, &o->tbuf);
	o->main.o = &o->o;
	o->threads.o = o->tout;
	r = o->d ? img_diff_all(o->d, on_change, o, &e) : 0;
	if (r) {
		img_out_flush(&o->o);
		if (!e.msg[0])
			img_err_set(&e, r < 0 ? -r : EIO, "%s", strerror(r < 0 ? -r : EIO));
		return img_cli_fail(c, "compare", &e);
	}
	if (o->json)
		start(o);
	else
		flush_threads(o);
	summary(o);
	r = img_out_flush(&o->o);
	if (r) {
		img_err_set(&e, -r, "%s", strerror(-r));
		img_err_subject(&e, "<stdout>");
		return img_cli_fail(c, "write", &e);
	}
	return o->d && img_diff_stats(o->d)->changes ? 1 : 0;
}

/* Options; 0 to go on, -1 after --help or --version, else an exit status. */
static int parse(struct img_cli *c, struct out *o, struct img_diff_opts *opts, const char **ign, const char **color,
		 int argc, char **argv)
{
	struct img_err e = { 0 };
	int opt;

	while ((opt = img_cmd_getopt(c, &cmd, argc, argv, "V", longopts)) != -1) {
		switch (opt) {
		case 'h':
			help_volatile();
			return -1;
		case 'V':
			printf("cr-diff %s\n", CR_TOOLS_VERSION);
			return -1;
		case OPT_PAGES:
			o->pages = 1;
			break;
		case OPT_MATCH:
			if (!strcmp(optarg, "pid"))
				opts->match = IMG_DIFF_MATCH_PID;
			else if (!strcmp(optarg, "comm"))
				opts->match = IMG_DIFF_MATCH_COMM;
			else
				return img_cmd_usage(c, &cmd, "--match: '%s' is neither pid nor comm", optarg);
			break;
		case OPT_IGNORE:
			if (img_diff_pattern_check(optarg, &e))
				return img_cli_fail(c, "use the path", &e);
			ign[opts->nignore++] = optarg;
			break;
		case OPT_ONLY:
			if (parse_only(c, optarg, &opts->cats))
				return 2;
			break;
		case OPT_SUMMARY:
			o->summary = 1;
			break;
		case OPT_COLOR:
			*color = optarg;
			if (img_cli_color(optarg) < 0)
				return img_cmd_usage(c, &cmd, "--color: '%s' is not auto, always or never", optarg);
			break;
		case OPT_VOLATILE:
			opts->keep_volatile = 1;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2)
		return img_cmd_usage(c, &cmd, argc - optind < 2 ? "expected two checkpoints" : "unexpected argument '%s'",
				     argv[optind + 2 < argc ? optind + 2 : argc - 1]);
	o->a = argv[optind];
	o->b = argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct img_cli c = { .prog = "cr-diff" };
	struct img_diff_opts opts = { 0 };
	const char **ign = img_calloc((size_t)argc + 1, sizeof(*ign));
	const char *color = "auto";
	struct out o = { 0 };
	int r;

	o.tout = img_calloc(1, sizeof(*o.tout));
	if (!ign || !o.tout) {
		img_free(ign);
		img_free(o.tout);
		return img_cli_failf(&c, "out of memory");
	}
	img_buf_init(&o.tbuf);
	o.c = &c;
	r = parse(&c, &o, &opts, ign, &color, argc, argv);
	if (!r) {
		opts.ignore = ign;
		o.json = c.json || c.pretty;
		o.color = !o.json && img_cli_color(color) > 0;
		r = run(&o, &opts);
	}
	img_diff_free(o.d);
	img_free(ign);
	img_free(o.tout);
	img_buf_free(&o.tbuf);
	return r < 0 ? 0 : r;
}
