/*
 * The driver that replays inputs through a fuzz target without libFuzzer:
 * make check runs each target over tests/fuzz/regressions/TARGET/ with the
 * normal compiler (and make asan with the sanitizers).
 *
 *   TARGET FILE|DIR...     each file, or each file of a folder, once
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return 1;
	while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, got);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0, n = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]);
			n++;
			continue;
		}
		struct dirent **de;
		int k = scandir(argv[i], &de, NULL, alphasort);

		for (int j = 0; j < k; j++) {
			char p[4096];

			snprintf(p, sizeof(p), "%s/%s", argv[i], de[j]->d_name);
			if (de[j]->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				bad += run_file(p);
				n++;
			}
			free(de[j]);
		}
		free(de);
	}
	fprintf(stderr, "replay: %d inputs, %d unreadable\n", n, bad);
	return bad ? 1 : 0;
}
