/* cr-convert: write checkpoint images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr-convert.h"

/* The options upgrade and downgrade share, after --to */
#define VERSION_STEP_OPTS \
	"      --from VERSION   the version the set is in (default: what its features say)\n" \
	"      --policy P       where the target cannot express something: bail, emulate (default), hope\n" \
	"      --dry-run        print what would change, write nothing\n" \
	"      --sync           flush the output to disk before it takes its name\n" \
	"      --tables DIR     version tables from DIR instead of the built-in ones\n" \
	"      --to linuxcr-V   a linux-cr stream: the patchset version to write (v18 ... v23-rc2)\n" \
	"      --lossy          linux-cr: leave out what the target cannot hold, each thing listed\n" \
	"      --kernel X.Y.Z   linux-cr: the kernel version for the header (default: the version's own)\n" \
	"      --for PROFILE    linux-cr: the result made for a profile's machine (as 'to' does)\n" \
	"      --linuxcr-version V  linux-cr: read the stream as version V\n"

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
	{ "upgrade", cmd_versions, "upgrade CKPT --to VERSION -o OUT [--from VERSION] [--policy P] [--dry-run] [--sync] [--tables DIR] [--lossy] [--kernel X.Y.Z]",
	  "rewrite an image set in the format a newer CRIU writes, step by step through the version tables",
	  "  -o, --out DIR        write the result as the folder DIR (it must not exist)\n"
	  "      --to VERSION     the CRIU version to write for (4.2, 4.1, 3.4, ...)\n"
	  VERSION_STEP_OPTS },
	{ "downgrade", cmd_versions, "downgrade CKPT --to VERSION -o OUT [--from VERSION] [--policy P] [--dry-run] [--sync] [--tables DIR] [--lossy] [--kernel X.Y.Z]",
	  "rewrite an image set in the format an older CRIU reads, step by step through the version tables",
	  "  -o, --out DIR        write the result as the folder DIR (it must not exist)\n"
	  "      --to VERSION     the CRIU version to write for (4.1, 3.3, 1.5, ...)\n"
	  VERSION_STEP_OPTS },
	{ "to", cmd_to, "to CKPT --to criu|linuxcr-V -o OUT [--lossy] [--for PROFILE] [--policy P] [--linuxcr-version V] [--sync]",
	  "between the two forms of a checkpoint: a linux-cr stream to a CRIU image set, a CRIU set to a linux-cr stream "
	  "(also written cr-convert --to FORMAT CKPT -o OUT)",
	  "      --to criu        a linux-cr stream (CKPT) to a CRIU image set, the folder OUT\n"
	  "      --to linuxcr-V   a CRIU set (a folder or an archive) to a linux-cr stream of version V\n"
	  "                       (v18 ... v23-rc2), the file OUT; a linux-cr stream to version V\n"
	  "  -o, --out OUT        the folder or file to write (it must not exist)\n"
	  "      --lossy          leave out what the other form cannot hold, each thing listed\n"
	  "      --for PROFILE    linux-cr: the header's kernel and the FPU state for the machine of a\n"
	  "                       profile (cr-inspect host-profile); what cannot fit is decided by --policy\n"
	  "      --policy P       where the target cannot take the image: bail, emulate (default), hope\n"
	  "      --linuxcr-version V  read the linux-cr stream as version V\n"
	  "      --sync           flush the output to disk before it takes its name\n" },
	{ "apply", cmd_convert,
	  "apply CKPT -o OUT [--for PROFILE] [--table FILE]... [--map-path OLD=NEW]... [--map-ip OLD=NEW]... [--refresh-file-sizes [--root DIR]] [--policy P] [--dry-run] [--sync]",
	  "run transform tables over an image set: for a target machine, your own, or the built-in path, address and file-size ones",
	  "  -o, --out DIR        write the result as the folder DIR (it must not exist)\n"
	  "      --for PROFILE    adapt the set to the machine a profile describes (cr-inspect host-profile):\n"
	  "                       for each mismatch check --target finds, the host table bails, emulates or hopes\n"
	  "      --table FILE     a transform table (schemas/transforms/README.md); may be repeated\n"
	  "      --map-path OLD=NEW  every path at or under OLD moves under NEW; may be repeated\n"
	  "      --map-ip OLD=NEW    inet socket addresses (IPv4, IPv6, or prefixes a.b.0.0/16=c.d.0.0/16)\n"
	  "      --refresh-file-sizes  take the size and mode files have now, where they changed since the dump\n"
	  "      --root DIR       where the dumped paths are for --refresh-file-sizes (default /)\n"
	  "      --policy P       where a table cannot express something: bail, emulate (default), hope\n"
	  "      --dry-run        print what would change, write nothing\n"
	  "      --sync           flush the output to disk before it takes its name\n" },
	{ "core", cmd_core, "core CKPT -o DIR [--pid PID] [--root DIR] [--no-file-pages]",
	  "write an ELF core file of each process (core.PID, all threads) for gdb and other debuggers",
	  "  -o, --out DIR        the folder to write core.PID into (made if missing)\n"
	  "      --pid PID        only the process PID (default: every process)\n"
	  "      --root DIR       where the files of file mappings are (default: /): pages the\n"
	  "                       image lacks are read from them when they are the same files\n"
	  "      --no-file-pages  leave those pages to the files (NT_FILE names them) instead\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct img_cli c = { .prog = "cr-convert" };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		img_cmd_list(&c, commands, "Write checkpoint images: encode JSON, convert between versions, adapt sets to another machine\n(cr-convert --for PROFILE CKPT -o OUT is apply --for), pack archives.",
			     argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cr-convert %s\n", CR_TOOLS_VERSION);
		return 0;
	}
	/* cr-convert [OPTIONS] --to FORMAT CKPT -o OUT (no command named): the to command, with --for too */
	int top = 0, named = 0;

	for (int i = 1; argv[1][0] == '-' && i < argc; i++) {
		top |= !strcmp(argv[i], "--to") || !strncmp(argv[i], "--to=", 5);
		for (const struct img_cmd *k = commands; k->name; k++)
			named |= !strcmp(argv[i], k->name) && strcmp(argv[i - 1], "-o") && strcmp(argv[i - 1], "--to");
	}
	if (top && !named) {
		argv[0] = "to";
		return img_cmd_run(&c, commands, argc, argv);
	}
	if (!strcmp(argv[1], "--for") || !strncmp(argv[1], "--for=", 6)) {
		/* cr-convert --for PROFILE CKPT -o OUT: apply with the host table */
		argv[0] = "apply";
		return img_cmd_run(&c, commands, argc, argv);
	}
	return img_cmd_run(&c, commands, argc - 1, argv + 1);
}
