/* cr-convert: write checkpoint images. */
#include <stdio.h>
#include <string.h>

#include "cr-convert.h"

static const struct img_cmd commands[] = {
	{ "encode", cmd_encode, "encode [-i IN] [-o OUT]",
	  "turn crit's JSON (raw or pretty) back into an image, as crit encode does",
	  "  -i, --in FILE        the JSON (default: stdin)\n"
	  "  -o, --out FILE       write the image to FILE (default: stdout)\n" },
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
