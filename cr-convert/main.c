/* cr-convert: write checkpoint images. */
#include <stdio.h>
#include <string.h>

#include "cr-convert.h"

static const struct img_cmd commands[] = {
	{ "encode", cmd_encode, "encode [-i IN] [-o OUT]",
	  "turn crit's JSON (raw or pretty) back into an image, as crit encode does",
	  "  -i, --in FILE        the JSON (default: stdin)\n"
	  "  -o, --out FILE       write the image to FILE (default: stdout)\n" },
	{ "pack", cmd_pack, "pack DIR -o OUT [--layout podman|plain] [-z] [--config FILE] [--spec FILE] [--add NAME=FILE]...",
	  "pack an image folder into a container checkpoint archive (tar, tar.gz)",
	  "  -o, --out FILE       the archive to write: .tar, or .tar.gz and .tgz for gzip\n"
	  "      --layout L       podman: checkpoint/ and the metadata files (the default);\n"
	  "                       plain: the images at the top\n"
	  "  -z, --gzip           compress with gzip whatever the name\n"
	  "      --config FILE    put FILE in the archive as config.dump\n"
	  "      --spec FILE      put FILE in the archive as spec.dump\n"
	  "      --add NAME=FILE  put FILE in the archive as NAME (network.status, rootfs-diff.tar...)\n" },
	{ "unpack", cmd_unpack, "unpack ARCHIVE -o DIR",
	  "unpack a checkpoint archive into a new folder, refusing hostile members",
	  "  -o, --out DIR        the folder to make (it must not exist, or be empty)\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct img_cli c = { .prog = "cr-convert" };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		img_cmd_list(&c, commands, "Write checkpoint images: encode JSON, convert between versions, export cores.",
			     argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cr-convert %s\n", CR_TOOLS_VERSION);
		return 0;
	}
	return img_cmd_run(&c, commands, argc - 1, argv + 1);
}
