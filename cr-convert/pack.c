/* pack, unpack: image folders to container checkpoint archives and back. */
#include <errno.h>
#include <string.h>

#include "cr-convert.h"
#include "img/archive.h"

#define PACK_FILES 64

enum { OPT_LAYOUT = IMG_OPT_FIRST_OWN, OPT_CONFIG, OPT_SPEC, OPT_ADD };

int cmd_pack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "layout", required_argument, NULL, OPT_LAYOUT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "add", required_argument, NULL, OPT_ADD },
		{ NULL, 0, NULL, 0 },
	};
	struct img_pack_file files[PACK_FILES];
	struct img_pack_opts o = { .layout = IMG_PACK_PODMAN, .gzip = -1, .files = files };
	struct img_err e = { 0 };
	const char *out = NULL;
	char *eq;
	int opt;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:z", opts)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'z':
			o.gzip = 1;
			break;
		case OPT_LAYOUT:
			if (!strcmp(optarg, "podman"))
				o.layout = IMG_PACK_PODMAN;
			else if (!strcmp(optarg, "plain"))
				o.layout = IMG_PACK_PLAIN;
			else
				return img_cmd_usage(c, cmd, "unknown layout '%s' (podman or plain)", optarg);
			break;
		case OPT_CONFIG:
		case OPT_SPEC:
		case OPT_ADD:
			if (o.nfiles == PACK_FILES)
				return img_cmd_usage(c, cmd, "more than %d metadata files", PACK_FILES);
			if (opt == OPT_ADD) {
				eq = strchr(optarg, '=');
				if (!eq || eq == optarg || !eq[1])
					return img_cmd_usage(c, cmd, "--add takes NAME=FILE, not '%s'", optarg);
				*eq = 0;
				files[o.nfiles++] = (struct img_pack_file){ optarg, eq + 1 };
			} else
				files[o.nfiles++] = (struct img_pack_file){ opt == OPT_CONFIG ? "config.dump" : "spec.dump",
									    optarg };
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one image folder");
	if (!out)
		return img_cmd_usage(c, cmd, "-o OUT is required");
	if (img_archive_pack(argv[optind], out, &o, &e))
		return img_cli_fail(c, "pack", &e);
	return 0;
}

int cmd_unpack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct img_err e = { 0 };
	const char *out = NULL;
	int opt;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "o:", opts)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one archive");
	if (!out)
		return img_cmd_usage(c, cmd, "-o DIR is required");
	if (img_archive_unpack(argv[optind], out, &e))
		return img_cli_fail(c, "unpack", &e);
	return 0;
}
