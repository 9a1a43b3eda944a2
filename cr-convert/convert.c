/*
 * upgrade, downgrade, apply: run transform tables over an image set and
 * write the result as a new folder.  The input is only read; the output is
 * written beside its final name and renamed into place when it is complete
 * and `check` of it (its images, and with --for the target machine) finds no
 * error.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-convert.h"
#include "img/profile.h"

enum {
	OPT_TO = IMG_OPT_FIRST_OWN, OPT_FROM, OPT_POLICY, OPT_DRY_RUN, OPT_TABLES, OPT_TABLE, OPT_MAP_PATH,
	OPT_MAP_IP, OPT_REFRESH, OPT_ROOT, OPT_SYNC, OPT_FOR,
};

#define MAX_MAPS 64
#define MAX_TABLES 32

struct job {
	const char *cmd;
	const char *in, *out;
	const char *to, *from;
	const char *tables_dir;
	int dry_run, sync;
	struct img_xf_opts xo;
	struct img_xf_pathmap paths[MAX_MAPS];
	struct img_xf_ipmap ips[MAX_MAPS];
	const char *table_files[MAX_TABLES];
	size_t ntables;
	int refresh;
	const char *root;
	const char *for_profile;        /* --for */
	struct host host;
	int have_host;
	struct img_xf_report *rep;      /* for the validation's warnings under --policy hope */
	/* what was found and planned */
	struct img_xf_detect det;
	int have_det;
	struct img_xf_step steps[32];
	size_t nsteps;
	const char *from_used;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int parse_policy(const char *s, int *p)
{
	if (!strcmp(s, "bail"))
		*p = IMG_XF_BAIL;
	else if (!strcmp(s, "emulate"))
		*p = IMG_XF_EMULATE;
	else if (!strcmp(s, "hope"))
		*p = IMG_XF_HOPE;
	else
		return -1;
	return 0;
}

static const char *policy_name(int p)
{
	return p == IMG_XF_BAIL ? "bail" : p == IMG_XF_HOPE ? "hope" : "emulate";
}

static int parse_args(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, struct job *j)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "tables", required_argument, NULL, OPT_TABLES },
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "map-path", required_argument, NULL, OPT_MAP_PATH },
		{ "map-ip", required_argument, NULL, OPT_MAP_IP },
		{ "refresh-file-sizes", no_argument, NULL, OPT_REFRESH },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "sync", no_argument, NULL, OPT_SYNC },
		{ "for", required_argument, NULL, OPT_FOR },
		{ NULL, 0, NULL, 0 },
	};
	int versions = strcmp(cmd->name, "apply") != 0, opt;
	struct img_err e = { 0 };

	memset(j, 0, sizeof(*j));
	j->cmd = cmd->name;
	j->xo.policy = IMG_XF_EMULATE;
	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case 'o':
			j->out = optarg;
			break;
		case OPT_TO:
		case OPT_FROM:
		case OPT_TABLES:
			if (!versions)
				return img_cmd_usage(c, cmd, "--%s is for upgrade and downgrade", argv[optind - 1] + 2);
			if (opt != OPT_TABLES && !img_xf_version_ok(optarg))
				return img_cmd_usage(c, cmd, "'%s' is not a version (\"4.1\", \"3.3\")", optarg);
			if (opt == OPT_TO)
				j->to = optarg;
			else if (opt == OPT_FROM)
				j->from = optarg;
			else
				j->tables_dir = optarg;
			break;
		case OPT_POLICY:
			if (parse_policy(optarg, &j->xo.policy))
				return img_cmd_usage(c, cmd, "--policy is bail, emulate or hope");
			break;
		case OPT_DRY_RUN:
			j->dry_run = 1;
			break;
		case OPT_SYNC:
			j->sync = 1;
			break;
		case OPT_FOR:
			if (versions)
				return img_cmd_usage(c, cmd, "--for is for apply (cr-convert --for PROFILE CKPT -o OUT)");
			j->for_profile = optarg;
			break;
		case OPT_TABLE:
		case OPT_MAP_PATH:
		case OPT_MAP_IP:
		case OPT_REFRESH:
		case OPT_ROOT:
			if (versions)
				return img_cmd_usage(c, cmd, "%s is for apply", argv[optind - 1]);
			if (opt == OPT_TABLE) {
				if (j->ntables == MAX_TABLES)
					return img_cmd_usage(c, cmd, "at most %d tables", MAX_TABLES);
				j->table_files[j->ntables++] = optarg;
			} else if (opt == OPT_MAP_PATH) {
				char *eq = strchr(optarg, '=');

				if (j->xo.npaths == MAX_MAPS)
					return img_cmd_usage(c, cmd, "at most %d --map-path", MAX_MAPS);
				if (!eq || optarg[0] != '/' || eq[1] != '/')
					return img_cmd_usage(c, cmd, "--map-path takes OLD=NEW, two absolute paths");
				*eq = 0;
				j->paths[j->xo.npaths].old = optarg;
				j->paths[j->xo.npaths].new_ = eq + 1;
				j->xo.npaths++;
			} else if (opt == OPT_MAP_IP) {
				if (j->xo.nips == MAX_MAPS)
					return img_cmd_usage(c, cmd, "at most %d --map-ip", MAX_MAPS);
				if (img_xf_ipmap_parse(optarg, &j->ips[j->xo.nips], &e))
					return img_cmd_usage(c, cmd, "--map-ip %s", e.msg);
				j->xo.nips++;
			} else if (opt == OPT_REFRESH)
				j->refresh = 1;
			else
				j->root = optarg;
			break;
		case 'h':
			return -1;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return img_cmd_usage(c, cmd, "the checkpoint to read is missing");
	j->in = argv[optind++];
	if (optind < argc)
		return img_cmd_usage(c, cmd, "unexpected argument '%s'", argv[optind]);
	if (!j->out && !j->dry_run)
		return img_cmd_usage(c, cmd, "say where to write with -o OUT (or look with --dry-run)");
	if (versions && !j->to)
		return img_cmd_usage(c, cmd, "--to VERSION is missing");
	if (!versions && !j->ntables && !j->xo.npaths && !j->xo.nips && !j->refresh && !j->for_profile)
		return img_cmd_usage(c, cmd, "nothing to apply: give --for, --table, --map-path, --map-ip or --refresh-file-sizes");
	if (j->root && !j->refresh)
		return img_cmd_usage(c, cmd, "--root goes with --refresh-file-sizes");
	j->xo.paths = j->paths;
	j->xo.ips = j->ips;
	j->xo.root = j->root ? j->root : "/";
	return 0;
}

/*
 * The output is renamed into place only when `check` of it finds no error:
 * its images (every image reads; ids, files, pages and the layouts of older
 * CRIU versions hold together) and, with --for, the target machine.  Under
 * --policy hope the user asked to go on: the errors become warnings of the
 * report instead.
 */
static int validate_output(void *arg, const char *tmpdir, struct img_err *err)
{
	struct job *j = arg;
	struct img_check_opts o = { .what = IMG_CHECK_IMAGES };
	struct img_findings f;
	const struct img_finding *first = NULL;
	size_t nerr = 0;
	int r;

	if (j->have_host) {
		o.what |= IMG_CHECK_KERNEL | IMG_CHECK_CPU;
		o.target = j->host.prof;
	}
	struct img_err ce = { 0 };

	img_findings_init(&f);
	r = img_check_path(tmpdir, &o, &f, &ce);
	if (r)
		*err = ce;
	for (size_t i = 0; !r && i < f.n; i++) {
		const struct img_finding *fi = &f.v[i];

		if (fi->sev != IMG_SEV_ERROR)
			continue;
		if (!nerr++)
			first = fi;
		if (j->xo.policy == IMG_XF_HOPE && j->rep)
			img_xf_report_warn(j->rep, "the result does not pass check: %s%s%s [%s]; written as --policy hope asks",
					   fi->image ? fi->image : "", fi->image ? ": " : "", fi->msg, fi->code);
	}
	if (!r && nerr && j->xo.policy != IMG_XF_HOPE) {
		char more[48] = "";

		if (nerr > 1)
			snprintf(more, sizeof(more), " (%zu errors, the first)", nerr);
		r = img_err_set(err, EINVAL, "the result does not pass check%s: %s%s%s [%s]%s%s", more,
				first->image ? first->image : "", first->image ? ": " : "", first->msg, first->code,
				first->todo ? "; to do: " : "", first->todo ? first->todo : "");
		img_err_subject(err, j->out);
	}
	img_findings_free(&f);
	return r;
}

static void on_progress(void *arg, const char *member, uint64_t done, uint64_t total)
{
	(void)member;
	img_progress_set(arg, done, total);
}

static void print_text(struct img_cli *c, struct job *j, struct img_set *set, const struct img_xf_report *rep,
		       int written)
{
	struct img_out o;
	size_t changed = 0, added = 0, removed = 0, same = 0;

	if (c->quiet)
		return;
	img_out_fd(&o, STDOUT_FILENO);
	if (j->have_det && j->det.mixed)
		img_out_printf(&o, "%s: the set's features disagree (a set partly converted?): %s says CRIU >= %s, %s says CRIU <= %s\n",
			       j->in, j->det.lo_why, j->det.lo, j->det.hi_why, j->det.hi);
	else if (j->have_det)
		img_out_printf(&o, "%s: the set fits CRIU %s%s%s\n", j->in, j->det.lo, strcmp(j->det.lo, j->det.hi) ? " to " : "",
			       strcmp(j->det.lo, j->det.hi) ? j->det.hi : "");
	if (j->to) {
		img_out_printf(&o, "%s from CRIU %s to %s: %zu step%s", j->cmd, j->from_used, j->to, j->nsteps,
			       j->nsteps == 1 ? "" : "s");
		for (size_t i = 0; i < j->nsteps; i++)
			img_out_printf(&o, "%s %s", i ? "," : ":", img_xf_table_name(j->steps[i].table));
		img_out_printf(&o, " (policy %s)\n", policy_name(j->xo.policy));
	}
	if (j->have_host)
		host_plan_text(&j->host, rep, j->xo.policy, &o);
	img_xf_report_text(rep, &o);
	for (size_t i = 0; i < img_set_count(set); i++)
		switch (img_set_state(set, i)) {
		case IMG_SET_CHANGED: changed++; break;
		case IMG_SET_ADDED: added++; break;
		case IMG_SET_REMOVED: removed++; break;
		default: same++;
		}
	if (written)
		img_out_printf(&o, "wrote %s: %zu changed, %zu new, %zu removed, %zu copied as they were\n", j->out,
			       changed, added, removed, same);
	else
		img_out_printf(&o, "dry run: %zu would change, %zu would be new, %zu removed, %zu copied; nothing written\n",
			       changed, added, removed, same);
	img_out_flush(&o);
}

static void print_json(struct img_cli *c, struct job *j, struct img_set *set, const struct img_xf_report *rep,
		       int written)
{
	struct img_out o;
	struct img_jw w;
	size_t same = 0;
	static const char *const states[] = { "changed", "added", "removed" };

	img_out_fd(&o, STDOUT_FILENO);
	img_jw_init(&w, &o, c->pretty ? 4 : 0);
	img_jw_obj_begin(&w);
	img_jw_kv_str(&w, "command", j->cmd);
	img_jw_kv_str(&w, "input", j->in);
	if (j->out)
		img_jw_kv_str(&w, "output", j->out);
	img_jw_kv_bool(&w, "dry_run", j->dry_run);
	img_jw_kv_bool(&w, "written", written);
	img_jw_kv_str(&w, "policy", policy_name(j->xo.policy));
	if (j->have_det) {
		img_jw_key(&w, "detected");
		img_jw_obj_begin(&w);
		img_jw_kv_str(&w, "lo", j->det.lo);
		img_jw_kv_str(&w, "hi", j->det.hi);
		img_jw_kv_str(&w, "lo_why", j->det.lo_why);
		img_jw_kv_str(&w, "hi_why", j->det.hi_why);
		img_jw_kv_bool(&w, "mixed", j->det.mixed);
		img_jw_obj_end(&w);
	}
	if (j->to) {
		img_jw_kv_str(&w, "from", j->from_used);
		img_jw_kv_str(&w, "to", j->to);
		img_jw_key(&w, "steps");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < j->nsteps; i++) {
			img_jw_obj_begin(&w);
			img_jw_kv_str(&w, "table", img_xf_table_name(j->steps[i].table));
			img_jw_kv_str(&w, "version", img_xf_table_version(j->steps[i].table));
			img_jw_kv_str(&w, "before", img_xf_table_before(j->steps[i].table));
			img_jw_kv_str(&w, "way", j->steps[i].way == IMG_XF_DOWN ? "down" : "up");
			img_jw_obj_end(&w);
		}
		img_jw_arr_end(&w);
	}
	if (j->have_host)
		host_plan_json(&j->host, rep, &w);
	img_xf_report_json(rep, &w);
	img_jw_key(&w, "images");
	img_jw_obj_begin(&w);
	for (int st = IMG_SET_CHANGED; st <= IMG_SET_REMOVED; st++) {
		img_jw_key(&w, states[st - 1]);
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < img_set_count(set); i++)
			if (img_set_state(set, i) == st)
				img_jw_str(&w, img_set_member(set, i));
		img_jw_arr_end(&w);
	}
	for (size_t i = 0; i < img_set_count(set); i++)
		same += img_set_state(set, i) == IMG_SET_SAME;
	img_jw_kv_u64(&w, "copied", same);
	const char *const *left;
	size_t nleft = img_set_left_out(set, &left);

	img_jw_key(&w, "left_out");
	img_jw_arr_begin(&w);
	for (size_t i = 0; i < nleft; i++)
		img_jw_str(&w, left[i]);
	img_jw_arr_end(&w);
	img_jw_obj_end(&w);
	img_jw_obj_end(&w);
	img_out_putc(&o, '\n');
	img_out_flush(&o);
}

/* Which version the conversion starts from: --from, or what the set's features say. */
static int plan_versions(struct img_cli *c, struct job *j, struct img_set *set, struct img_xf_versions **vs)
{
	struct img_err e = { 0 };
	int up = !strcmp(j->cmd, "upgrade");

	if (j->tables_dir ? img_xf_versions_load(j->tables_dir, img_schema_default(), vs, &e)
			  : img_xf_versions_builtin(img_schema_default(), vs, &e))
		return img_cli_fail(c, "load the version tables", &e);
	if (img_xf_detect(*vs, set, &j->det, &e))
		return img_cli_fail(c, "read", &e);
	j->have_det = 1;
	if (j->from)
		j->from_used = j->from;
	else if (j->det.mixed)
		/* conditional rules make extra steps harmless: start where every needed one runs */
		j->from_used = up ? j->det.hi : j->det.lo;
	else
		j->from_used = up ? j->det.lo : j->det.hi;
	int dir = img_xf_version_cmp(j->to, j->from_used);

	if (up && dir < 0)
		return img_cli_failf(c, "upgrade: %s is older than the set (CRIU %s): use downgrade", j->to, j->from_used);
	if (!up && dir > 0)
		return img_cli_failf(c, "downgrade: %s is newer than the set (CRIU %s): use upgrade", j->to, j->from_used);
	if (img_xf_plan(*vs, j->from_used, j->to, j->steps, sizeof(j->steps) / sizeof(j->steps[0]), &j->nsteps, &e))
		return img_cli_fail(c, j->cmd, &e);
	return 0;
}

int cmd_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct img_xf_table *tables[MAX_TABLES + 3];
	struct img_xf_versions *vs = NULL;
	struct img_xf_report rep;
	struct img_set *set = NULL;
	struct img_dir *d = NULL;
	struct img_err e = { 0 };
	struct img_xf_mem_ops mem = { 0 };
	struct job j;
	size_t nt = 0;
	int r, written = 0;

	r = parse_args(c, cmd, argc, argv, &j);
	if (r)
		return r < 0 ? 0 : r;
	catch_signals();
	img_xf_report_init(&rep);
	j.rep = &rep;
	if (img_dir_open(j.in, &d, &e) || img_set_open(d, img_schema_default(), &set, &e)) {
		r = img_cli_fail(c, "read", &e);
		goto out;
	}
	const char *const *left;
	size_t nleft = img_set_left_out(set, &left);

	for (size_t i = 0; i < nleft; i++)
		img_cli_warn(c, "%s/%s is not a file: it is left out of the output", j.in, left[i]);
	/* rules that patch task memory find it through the model of the input */
	if (img_xf_mem_open(set, &mem, &e)) {
		r = img_cli_fail(c, "read", &e);
		goto out;
	}
	j.xo.mem = &mem;
	if (j.for_profile) {
		r = host_open(c, &j.host, j.for_profile, d, j.xo.policy);
		j.have_host = 1;
		if (r)
			goto out;
		host_opts(&j.host, &j.xo);
	}
	if (j.to) {
		r = plan_versions(c, &j, set, &vs);
		if (r)
			goto out;
		for (size_t i = 0; i < j.nsteps && !r; i++)
			if (img_xf_apply(set, j.steps[i].table, j.steps[i].way, &j.xo, &rep, &e))
				r = img_cli_fail(c, "convert", &e);
	} else {
		static const char *const builtin[] = { "map-path", "map-ip", "refresh-files" };
		int want[3] = { j.xo.npaths > 0, j.xo.nips > 0, j.refresh };

		for (size_t i = 0; i < j.ntables && !r; i++)
			if (img_xf_table_load(j.table_files[i], img_schema_default(), &tables[nt], &e))
				r = img_cli_fail(c, "load the table", &e);
			else
				nt++;
		for (int i = 0; i < 3 && !r; i++)
			if (want[i]) {
				if (img_xf_table_builtin(builtin[i], img_schema_default(), &tables[nt], &e))
					r = img_cli_fail(c, "load the table", &e);
				else
					nt++;
			}
		if (!r && j.have_host)
			tables[nt++] = j.host.table; /* the host table goes last, and belongs to j.host */
		for (size_t i = 0; i < nt && !r; i++) {
			int way = img_xf_table_version(tables[i]) ? -1 : IMG_XF_RULES;

			if (way < 0)
				r = img_cli_failf(c, "%s is a version step: use upgrade or downgrade", img_xf_table_name(tables[i]));
			else if (img_xf_apply(set, tables[i], way, &j.xo, &rep, &e))
				r = img_cli_fail(c, "convert", &e);
		}
	}
	if (r)
		goto out;
	if (j.have_host)
		host_unhandled(&j.host, &rep);
	if (rep.failed) {
		r = img_cli_failf(c, "out of memory while reporting");
		goto out;
	}
	if (!j.dry_run) {
		struct img_set_write_opts wo = { validate_output, &j, &stop, j.sync, on_progress, NULL };
		struct img_progress pr;

		img_progress_init(&pr, c, "writing");
		wo.progress_arg = &pr;
		r = img_set_write(set, j.out, &wo, &e);
		img_progress_end(&pr);
		if (r) {
			r = img_cli_fail(c, "write", &e);
			goto out;
		}
		written = 1;
	}
	if (c->json)
		print_json(c, &j, set, &rep, written);
	else
		print_text(c, &j, set, &rep, written);
	for (size_t i = 0; i < rep.nwarn && c->json; i++)
		img_cli_warn(c, "%s", rep.warn[i]);
out:
	for (size_t i = 0; i < nt; i++)
		if (!j.have_host || tables[i] != j.host.table)
			img_xf_table_free(tables[i]);
	if (j.have_host)
		host_close(&j.host);
	img_xf_mem_close(&mem);
	img_xf_versions_free(vs);
	img_xf_report_free(&rep);
	img_set_free(set);
	if (d)
		img_dir_close(d);
	return r;
}
