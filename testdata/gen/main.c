/*
 * imggen OUT [SET...]: write the test image sets into OUT (testdata/images
 * when called by testdata/regen).  The data the generator reads (the schema of
 * a "newer CRIU", for images with unknown fields) is found in testdata/ next
 * to this program's sources; IMGGEN_DATA names another place.
 * imggen --diff-pair SRC OUT and --renumber SRC OUT DELTA make sets for
 * cr-diff's tests from another set (diffpair.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"

static const struct {
	const char *name;
	void (*fn)(void);
	const char *what;
} sets[] = {
	{ "extras", gen_extras, "every kind of raw payload after entries (CRIU 4.2)" },
	{ "current", gen_current, "the other kinds CRIU 4.2 writes that the corpus lacks" },
	{ "network", gen_network, "a network namespace: netns, netdev, raw netlink and tables images" },
	{ "legacy", gen_legacy, "per-type images CRIU wrote before files.img (v3.3, img_version 2)" },
	{ "v1", gen_v1, "an img_version 1 set: no head magics, the oldest layouts" },
	{ "memory", gen_memory, "parent chains (PE_PARENT), lazy pages, pre-0.5 vaddr:page images" },
	{ "odd", gen_odd, "fields and enum values the schema does not know, the kerndat cache" },
	{ "linuxcr", gen_linuxcr, "linux-cr streams: one process in every patchset version and arch" },
	{ "arch", gen_arch, "tasks of other architectures (aarch64, arm) and x86 XSAVE layouts, for core files" },
};

int main(int argc, char **argv)
{
	const char *only[16];
	int nonly = 0;

	if (argc == 4 && !strcmp(argv[1], "--diff-pair"))
		return gen_diff_pair(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "--renumber"))
		return gen_renumber(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 0));
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: imggen OUT [SET...]\n       imggen --diff-pair SRC OUT\n       imggen --renumber SRC OUT DELTA\nsets:\n");
		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
			fprintf(stderr, "  %-8s %s\n", sets[i].name, sets[i].what);
		return 2;
	}
	gen_out = argv[1];
	gen_data = getenv("IMGGEN_DATA");
	if (!gen_data)
		gen_data = "testdata";
	for (int i = 2; i < argc && nonly < 16; i++)
		only[nonly++] = argv[i];
	if (mkdir(gen_out, 0755) && errno != EEXIST) {
		fprintf(stderr, "imggen: cannot make %s: %s\n", gen_out, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		int want = !nonly;

		for (int j = 0; j < nonly; j++)
			want |= !strcmp(only[j], sets[i].name);
		if (!want)
			continue;
		gen_set(sets[i].name);
		sets[i].fn();
	}
	return 0;
}
