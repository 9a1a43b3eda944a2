/* cr-inspect: look into checkpoint images. */
#include <stdio.h>
#include <string.h>

#include "cr-inspect.h"

static const struct img_cmd commands[] = {
	{ "decode", cmd_decode, "decode [-i IN] [-o OUT] [--pretty]",
	  "print an image as JSON, as crit decode does",
	  "  -i, --in FILE        the image (default: stdin)\n"
	  "  -o, --out FILE       write the JSON to FILE (default: stdout)\n"
	  "      --pretty         indent, and show numbers as crit --pretty does\n" },
	{ "show", cmd_show, "show IMG [--nopl]",
	  "print an image as indented JSON, as crit show does",
	  "      --nopl           leave out extra payloads (pipe data, queued packets...)\n" },
	{ "info", cmd_info, "info IMG [--entries]",
	  "print an image's kind and number of entries, as crit info does",
	  "      --entries        also list each entry's offset, size and extra payload size\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct img_cli c = { .prog = "cr-inspect" };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		img_cmd_list(&c, commands, "Look into checkpoint images: decode them, explore them, check them.",
			     argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cr-inspect %s\n", CR_TOOLS_VERSION);
		return 0;
	}
	return img_cmd_run(&c, commands, argc - 1, argv + 1);
}
