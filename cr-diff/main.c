/* cr-diff: compare two checkpoints. */
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: cr-diff A B\n"
	"\n"
	"Compare two checkpoints, from the process tree down to memory pages.\n"
	"(not written yet: this build only prints its usage)\n"
	"\n"
	"options:\n"
	"  -h, --help           show this help\n"
	"  -V, --version        print the version\n";

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("cr-diff %s\n", CR_TOOLS_VERSION);
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}
