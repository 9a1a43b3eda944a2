/* upgrade, downgrade --to linuxcr-VERSION: a linux-cr stream to another version of the patchset. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-convert.h"
#include "img/linuxcr.h"
#include "img/profile.h"
#include "img/xform.h"

static void note(void *arg, const char *line)
{
	const struct img_cli *c = arg;

	img_cli_warn(c, "dropped: %s", line);
}

static void decided(void *arg, const char *line)
{
	const struct img_cli *c = arg;

	if (!c->quiet)
		img_cli_warn(c, "%s", line);
}

/* --for PROFILE: the converted stream made for the profile's machine (b is replaced). */
static int fit(struct img_cli *c, const char *profile, int policy, struct img_buf *b, struct img_err *e)
{
	struct img_profile *p = NULL;
	struct img_lcr_target t;
	struct img_lcr_image *img = NULL;
	struct img_src *src;
	struct img_buf out;
	int r;

	if (img_profile_load(profile, &p, e) || img_lcr_target_from_profile(p, policy, &t, e)) {
		img_profile_free(p);
		img_buf_free(b);
		return img_cli_fail(c, "read the profile", e);
	}
	t.note = decided;
	t.arg = c;
	src = img_src_mem(b->data, b->len, "the converted stream", 0);
	r = src ? img_lcr_read(src, NULL, NULL, &img, e) : img_err_set(e, ENOMEM, "out of memory");
	if (!r)
		r = img_lcr_fit(img, &t, &out, e);
	img_lcr_free(img);
	img_src_unref(src);
	img_profile_free(p);
	img_buf_free(b);
	if (r)
		return img_cli_fail(c, "convert", e);
	*b = out;
	return 0;
}

/* upgrade and downgrade: a linux-cr target here, image sets in convert.c */
int cmd_versions(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if ((!strcmp(argv[i], "--to") && i + 1 < argc && !strncmp(argv[i + 1], "linuxcr-", 8)) ||
		    !strncmp(argv[i], "--to=linuxcr-", 13))
			return cmd_lcr_convert(c, cmd, argc, argv);
	return cmd_convert(c, cmd, argc, argv);
}

int cmd_lcr_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "lossy", no_argument, NULL, 'L' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "linuxcr-version", required_argument, NULL, 'V' },
		{ "for", required_argument, NULL, 'F' },
		{ "policy", required_argument, NULL, 'P' },
		{ "sync", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile = NULL;
	int policy = IMG_XF_EMULATE, sync = 0;
	struct img_lcr_conv_opts co = { 0 };
	struct img_lcr_opts ro = { 0 };
	const char *to = NULL, *out = NULL;
	struct img_lcr_image *img;
	struct img_err e = { 0 };
	struct img_buf b;
	int opt, r, up = !strcmp(cmd->name, "upgrade");

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case 't':
			to = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'L':
			co.flags |= IMG_LCR_CONV_LOSSY;
			break;
		case 'K':
			co.kernel = optarg;
			break;
		case 'V':
			ro.version = optarg;
			break;
		case 'F':
			profile = optarg;
			break;
		case 'P':
			if (parse_policy(optarg, &policy))
				return img_cmd_usage(c, cmd, "--policy is bail, emulate or hope");
			break;
		case 'S':
			sync = 1;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one image");
	if (!to)
		return img_cmd_usage(c, cmd, "--to VERSION is needed");
	if (!out)
		return img_cmd_usage(c, cmd, "-o OUT is needed");
	if (strncmp(to, "linuxcr-", 8))
		return img_cmd_usage(c, cmd, "'%s': this build converts linux-cr streams only (--to linuxcr-VERSION)", to);
	const struct img_lcr_tables *t = img_lcr_tables_default();
	const struct img_lcr_version *tv = img_lcr_version_find(t, to);

	if (!tv) {
		char names[512] = "";

		for (uint32_t i = 0; i < t->nversions; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s linuxcr-%s", i ? "," : "",
				 t->versions[i].name);
		return img_cmd_usage(c, cmd, "unknown version '%s' (known:%s)", to, names);
	}
	if (img_lcr_open(argv[optind], &ro, &img, &e))
		return img_cli_fail(c, "read", &e);
	int si = img_lcr_version_index(t, img->lay->ver), ti = img_lcr_version_index(t, tv);

	if (strcmp(cmd->name, "to") && ((up && ti < si) || (!up && ti > si))) {
		r = img_cmd_usage(c, cmd, "%s is %s than the image's %s: use '%s'", tv->name, up ? "older" : "newer",
				  img->lay->ver->name, up ? "downgrade" : "upgrade");
		img_lcr_free(img);
		return r;
	}
	co.to = tv->name;
	co.note = note;
	co.arg = c;
	r = img_lcr_convert(img, &co, &b, &e);
	img_lcr_free(img);
	if (r)
		return img_cli_fail(c, "convert", &e);
	if (profile && (r = fit(c, profile, policy, &b, &e)))
		return r;
	r = img_write_file_atomic(out, b.data, b.len, 0644, &e);
	img_buf_free(&b);
	if (!r && sync) {
		int fd = open(out, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0)
			r = img_err_set(&e, errno, "%s: cannot flush to disk: %s", out, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return r ? img_cli_fail(c, "write", &e) : 0;
}
