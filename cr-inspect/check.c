/* check and host-profile: will this image set restore, here or on another machine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-inspect.h"

enum { OPT_ROOT = IMG_OPT_FIRST_OWN, OPT_TARGET, OPT_ONLY, OPT_STRICT, OPT_NO_CRIU, OPT_SKIP_RWX };

int cli_color(void)
{
	return img_cli_color(NULL) > 0;
}

int cli_load_target(struct img_cli *c, const char *target, struct img_profile **p)
{
	struct img_err e = { 0 };

	if (target) {
		if (img_profile_load(target, p, &e))
			return img_cli_fail(c, "read the profile", &e);
	} else if (img_profile_probe(0, p, &e)) {
		return img_cli_fail(c, "probe this machine", &e);
	}
	return 0;
}

int cli_check_root(struct img_cli *c, const char *root)
{
	struct stat st;

	if (stat(root, &st) < 0)
		return img_cli_failf(c, "cannot use the root '%s': %s", root, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return img_cli_failf(c, "cannot use the root '%s': not a directory", root);
	return 0;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void cli_print_findings(struct img_out *o, const struct img_findings *f, int color)
{
	img_findings_print_text(f, o, color ? IMG_PRINT_COLOR : 0);
}

int cmd_check(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "skip-file-rwx-check", no_argument, NULL, OPT_SKIP_RWX },
		{ NULL, 0, NULL, 0 },
	};
	struct img_check_opts o = { .what = IMG_CHECK_ALL };
	const char *target = NULL, *path;
	struct img_profile *prof = NULL;
	struct img_findings f;
	struct img_err e = { 0 };
	struct img_out out;
	int opt, strict = 0, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "", opts)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			o.root = optarg;
			break;
		case OPT_TARGET:
			target = optarg;
			break;
		case OPT_ONLY:
			if (img_check_parse_areas(optarg, &o.what))
				return img_cmd_usage(c, cmd, "--only: '%s' is not a list of images, files, pids, kernel, cpu",
						     optarg);
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		case OPT_SKIP_RWX:
			o.flags |= IMG_CHECK_SKIP_RWX;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "give one checkpoint");
	path = argv[optind];
	if (o.root && cli_check_root(c, o.root))
		return 2;
	if ((o.what & (IMG_CHECK_KERNEL | IMG_CHECK_CPU | IMG_CHECK_PIDS)) && cli_load_target(c, target, &prof))
		return 2;
	o.target = prof;
	o.schema = img_schema_default();
	img_findings_init(&f);
	r = img_check_path(path, &o, &f, &e);
	if (r) {
		img_findings_free(&f);
		img_profile_free(prof);
		return img_cli_fail(c, "check", &e);
	}
	img_out_fd(&out, STDOUT_FILENO);
	int ready = !f.count[IMG_SEV_ERROR] && !(strict && f.count[IMG_SEV_WARNING]);

	if (c->json || c->pretty) {
		struct img_jw w;

		img_jw_init(&w, &out, c->pretty ? 4 : 0);
		img_jw_obj_begin(&w);
		img_jw_kv_str(&w, "checkpoint", path);
		img_jw_kv_str(&w, "root", o.root ? o.root : "/");
		img_jw_key(&w, "target");
		if (prof)
			img_jw_str(&w, img_profile_name(prof));
		else
			img_jw_null(&w);
		img_jw_kv_bool(&w, "ready", ready);
		img_jw_kv_u64(&w, "errors", f.count[IMG_SEV_ERROR]);
		img_jw_kv_u64(&w, "warnings", f.count[IMG_SEV_WARNING]);
		img_jw_kv_u64(&w, "infos", f.count[IMG_SEV_INFO]);
		img_jw_key(&w, "findings");
		img_findings_print_json(&f, &w);
		img_jw_obj_end(&w);
		img_out_putc(&out, '\n');
	} else {
		cli_print_findings(&out, &f, cli_color());
		img_out_printf(&out, "%s: %zu %s, %zu %s, %zu %s: %s%s%s\n", path, f.count[IMG_SEV_ERROR],
			       plural(f.count[IMG_SEV_ERROR], "error", "errors"), f.count[IMG_SEV_WARNING],
			       plural(f.count[IMG_SEV_WARNING], "warning", "warnings"), f.count[IMG_SEV_INFO],
			       plural(f.count[IMG_SEV_INFO], "note", "notes"),
			       ready ? "ready to restore" : "will not restore",
			       o.what & IMG_CHECK_HOST ? " on " : " (images only)",
			       o.what & IMG_CHECK_HOST ? (prof ? img_profile_name(prof) : "this host") : "");
	}
	r = img_out_flush(&out);
	img_findings_free(&f);
	img_profile_free(prof);
	if (r) {
		img_err_set(&e, -r, "%s", strerror(-r));
		img_err_subject(&e, "<stdout>");
		return img_cli_fail(c, "write", &e);
	}
	return ready ? 0 : 1;
}

int cmd_host_profile(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "no-criu", no_argument, NULL, OPT_NO_CRIU },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	unsigned flags = IMG_PROBE_CRIU;
	struct img_profile *p;
	struct img_err e = { 0 };
	struct img_out o;
	struct img_buf b;
	struct img_jw w;
	int opt, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case OPT_NO_CRIU:
			flags &= ~(unsigned)IMG_PROBE_CRIU;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return img_cmd_usage(c, cmd, "no arguments expected");
	if (img_profile_probe(flags, &p, &e))
		return img_cli_fail(c, "probe this machine", &e);
	img_buf_init(&b);
	img_out_mem(&o, &b);
	/* a profile is read by people too: indented unless -j asks for one line */
	img_jw_init(&w, &o, c->json && !c->pretty ? 0 : 4);
	img_profile_write(p, &w);
	img_out_putc(&o, '\n');
	r = img_out_flush(&o);
	img_profile_free(p);
	if (r) {
		img_buf_free(&b);
		img_err_set(&e, -r, "%s", strerror(-r));
		return img_cli_fail(c, "write the profile", &e);
	}
	if (out && strcmp(out, "-")) {
		r = img_write_file_atomic(out, b.data, b.len, 0644, &e);
		img_buf_free(&b);
		return r ? img_cli_fail(c, "write", &e) : 0;
	}
	img_out_fd(&o, STDOUT_FILENO);
	img_out_write(&o, b.data, b.len);
	r = img_out_flush(&o);
	img_buf_free(&b);
	if (r) {
		img_err_set(&e, -r, "%s", strerror(-r));
		img_err_subject(&e, "<stdout>");
		return img_cli_fail(c, "write", &e);
	}
	return 0;
}
