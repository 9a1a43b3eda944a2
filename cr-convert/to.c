/*
 * to: the bridge between the two forms of a checkpoint.  --to criu turns a
 * linux-cr stream into a CRIU image set; --to linuxcr-VERSION turns a CRIU
 * set (a folder or a checkpoint archive) into a linux-cr stream, and a
 * linux-cr stream into another version of one.  cr-convert --to FORMAT ...
 * is the same command.  What one form holds and the other cannot is refused
 * unless --lossy, which leaves it out and lists it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-convert.h"
#include "img/check.h"
#include "img/linuxcr.h"
#include "img/model.h"
#include "img/profile.h"
#include "img/xform.h"

enum { OPT_TO = IMG_OPT_FIRST_OWN, OPT_LOSSY, OPT_FOR, OPT_POLICY, OPT_LCRV, OPT_SYNC };

struct to_job {
	struct img_cli *c;
	const char *to, *in, *out, *profile, *lcr_version;
	unsigned flags;
	int policy, sync;
	size_t ndropped;
};

static void dropped(void *arg, const char *line)
{
	struct to_job *j = arg;

	j->ndropped++;
	img_cli_warn(j->c, "left out: %s", line);
}

static void decided(void *arg, const char *line)
{
	struct to_job *j = arg;

	if (!j->c->quiet)
		img_cli_warn(j->c, "%s%s%s", j->profile ? j->profile : "", j->profile ? ": " : "", line);
}

/* The output file: a temporary name beside it, renamed when complete and read back. */
static int tmp_open(const char *out, char *tmp, size_t len, struct img_err *err)
{
	struct stat st;
	int fd;

	if (lstat(out, &st) == 0) {
		img_err_subject(err, out);
		return img_err_set(err, EEXIST, "already exists; choose a new name or remove it");
	}
	if (snprintf(tmp, len, "%s.tmp-XXXXXX", out) >= (int)len) {
		img_err_subject(err, out);
		return img_err_set(err, ENAMETOOLONG, "name too long");
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		img_err_subject(err, out);
		return img_err_set(err, errno, "cannot create a file beside it: %s", strerror(errno));
	}
	return fd;
}

static int tmp_commit(int fd, const char *tmp, const char *out, int sync, struct img_err *err)
{
	struct img_lcr_image *back = NULL;
	int r = 0;

	if (fchmod(fd, 0644) < 0 || (sync && fsync(fd) < 0) || close(fd) < 0)
		r = img_err_set(err, errno, "%s: write error: %s", tmp, strerror(errno));
	/* the stream must read back whole before it takes its name */
	if (!r) {
		r = img_lcr_open(tmp, NULL, &back, err);
		if (r)
			img_err_prefix(err, "the result does not read back");
		img_lcr_free(back);
	}
	if (!r && rename(tmp, out) < 0)
		r = img_err_set(err, errno, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
	if (r)
		unlink(tmp);
	return r;
}

static int to_linuxcr(struct to_job *j)
{
	const char *ver = j->to + 8;
	struct img_lcr_target tg, *tgp = NULL;
	struct img_profile *prof = NULL;
	struct img_ckpt *ck = NULL;
	struct img_err e = { 0 };
	char tmp[PATH_MAX];
	int fd, r;

	if (!img_lcr_version_find(img_lcr_tables_default(), ver))
		return img_cli_failf(j->c, "unknown linux-cr version '%s'", ver);
	if (j->profile) {
		if (img_profile_load(j->profile, &prof, &e) || img_lcr_target_from_profile(prof, j->policy, &tg, &e)) {
			img_profile_free(prof);
			return img_cli_fail(j->c, "read the profile", &e);
		}
		tg.note = decided;
		tg.arg = j;
		tgp = &tg;
	}
	r = img_ckpt_open(j->in, 0, &ck, &e);
	if (r) {
		img_profile_free(prof);
		return img_cli_fail(j->c, "read", &e);
	}
	fd = tmp_open(j->out, tmp, sizeof(tmp), &e);
	if (fd < 0) {
		img_ckpt_close(ck);
		img_profile_free(prof);
		return img_cli_fail(j->c, "write", &e);
	}
	struct img_lcr_from_opts o = { ver, j->flags, tgp, j->policy, dropped, decided, j };

	r = img_lcr_from_ckpt(ck, &o, fd, &e);
	img_ckpt_close(ck);
	if (r) {
		close(fd);
		unlink(tmp);
		img_profile_free(prof);
		if (!e.subject[0])
			img_err_subject(&e, j->in);
		return img_cli_fail(j->c, "convert", &e);
	}
	r = tmp_commit(fd, tmp, j->out, j->sync, &e);
	img_profile_free(prof);
	if (r)
		return img_cli_fail(j->c, "write", &e);
	return 0;
}

/* The CRIU set takes its name only when check of its images finds no error. */
static int validate_set(void *arg, const char *tmpdir, struct img_err *err)
{
	struct to_job *j = arg;
	struct img_check_opts o = { .what = IMG_CHECK_IMAGES };
	struct img_findings f;
	int r;

	img_findings_init(&f);
	r = img_check_path(tmpdir, &o, &f, err);
	for (size_t i = 0; !r && i < f.n; i++)
		if (f.v[i].sev == IMG_SEV_ERROR) {
			img_err_subject(err, j->out);
			r = img_err_set(err, EINVAL, "the result does not pass check: %s%s%s [%s]", f.v[i].image ? f.v[i].image : "",
					f.v[i].image ? ": " : "", f.v[i].msg, f.v[i].code);
		}
	img_findings_free(&f);
	return r;
}

static int to_criu(struct to_job *j)
{
	struct img_lcr_opts ro = { j->lcr_version, NULL, 0 };
	/* emulate: the running kernel's vdso where linux-cr saved none, as restart mapped it */
	struct img_lcr_bridge_opts bo = { j->flags | (j->policy == IMG_XF_EMULATE ? IMG_LCR_BRIDGE_HOST_VDSO : 0), dropped, j };
	struct img_lcr_image *img;
	struct img_err e = { 0 };
	struct img_dir *d;
	struct img_set *set;
	int r;

	if (j->profile)
		return img_cli_failf(j->c, "--for applies to linux-cr outputs; for a CRIU set, convert it with 'cr-convert "
					   "apply --for %s' after", j->profile);
	if (img_lcr_open(j->in, &ro, &img, &e))
		return img_cli_fail(j->c, "read", &e);
	r = img_lcr_criu_dir(img, &bo, &d, &e);
	img_lcr_free(img);
	if (r)
		return img_cli_fail(j->c, "convert", &e);
	r = img_set_open(d, img_schema_default(), &set, &e);
	if (!r) {
		struct img_set_write_opts wo = { validate_set, j, NULL, j->sync, NULL, NULL };

		r = img_set_write(set, j->out, &wo, &e);
		img_set_free(set);
	}
	img_dir_close(d);
	return r ? img_cli_fail(j->c, "write", &e) : 0;
}

static int is_lcr(const char *path)
{
	uint8_t h[64];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, h, sizeof(h));
		close(fd);
	}
	return n > 0 && img_lcr_probe(h, (size_t)n);
}

int cmd_to(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "out", required_argument, NULL, 'o' },
		{ "lossy", no_argument, NULL, OPT_LOSSY },
		{ "for", required_argument, NULL, OPT_FOR },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "linuxcr-version", required_argument, NULL, OPT_LCRV },
		{ "sync", no_argument, NULL, OPT_SYNC },
		{ NULL, 0, NULL, 0 },
	};
	struct to_job j = { .c = c, .policy = IMG_XF_EMULATE };
	int opt;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case OPT_TO:
			j.to = optarg;
			break;
		case 'o':
			j.out = optarg;
			break;
		case OPT_LOSSY:
			j.flags |= IMG_LCR_BRIDGE_LOSSY;
			break;
		case OPT_FOR:
			j.profile = optarg;
			break;
		case OPT_POLICY:
			if (parse_policy(optarg, &j.policy))
				return img_cmd_usage(c, cmd, "--policy is bail, emulate or hope");
			break;
		case OPT_LCRV:
			j.lcr_version = optarg;
			break;
		case OPT_SYNC:
			j.sync = 1;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one checkpoint");
	j.in = argv[optind];
	if (!j.to)
		return img_cmd_usage(c, cmd, "--to criu or --to linuxcr-VERSION is needed");
	if (!j.out)
		return img_cmd_usage(c, cmd, "-o OUT is needed");
	if (!strcmp(j.to, "criu")) {
		if (!is_lcr(j.in))
			return img_cli_failf(c, "'%s' is not a linux-cr stream: --to criu reads linux-cr images", j.in);
		return to_criu(&j);
	}
	if (strncmp(j.to, "linuxcr-", 8))
		return img_cmd_usage(c, cmd, "'%s': --to is criu or linuxcr-VERSION", j.to);
	if (is_lcr(j.in)) {
		/* a linux-cr stream to another version: upgrade or downgrade, whichever it is */
		optind = 0;
		return cmd_lcr_convert(c, cmd, argc, argv);
	}
	return to_linuxcr(&j);
}
