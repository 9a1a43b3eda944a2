/* The fuzz targets' harness: budget and leak checks, scratch folders. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "img/tab.h"
#include "img/explain.h"
#include "img/profile.h"
#include "img/schema.h"
#include "../support/memcount.h"

static uint64_t live_before;
static size_t input_size, bytes_before;
static FILE *report; /* stderr as it was: libFuzzer's -close_fd_mask=2 closes fd 2 */

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", report ? report : stderr);
	vfprintf(report ? report : stderr, fmt, ap);
	fputc('\n', report ? report : stderr);
	fflush(report ? report : stderr);
	va_end(ap);
	abort();
}

void fuzz_setup(void)
{
	static int done;
	int fd;

	if (done)
		return;
	done = 1;
	fd = dup(STDERR_FILENO);
	if (fd >= 0)
		report = fdopen(fd, "w");
	memcount_install(1);
	/* tables the library parses at first use and keeps: not leaks of an input */
	img_tables_load();
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

void fuzz_begin(size_t size)
{
	input_size = size;
	live_before = memcount.live;
	bytes_before = memcount.bytes;
	memcount_reset();
}

void fuzz_budget(void)
{
	size_t budget = img_budget(input_size);

	if (memcount.peak - bytes_before > budget)
		fuzz_fail("libimg held %zu bytes at once for an input of %zu bytes: the budget is %zu",
			  memcount.peak - bytes_before, input_size, budget);
}

void fuzz_end(void)
{
	if (memcount.live != live_before)
		fuzz_fail("%lld blocks of libimg leaked", (long long)(memcount.live - live_before));
}

const char *fuzz_tmpdir(void)
{
	static char path[256];

	if (!path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

		snprintf(path, sizeof(path), "%s/crfuzz.%d", base, (int)getpid());
	}
	fuzz_rmtree(path);
	if (mkdir(path, 0700) < 0)
		fuzz_fail("cannot make %s", path);
	return path;
}

void fuzz_rmtree(const char *path)
{
	struct stat st;
	DIR *d;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path))) {
		struct dirent *de;
		char sub[4096];

		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			fuzz_rmtree(sub);
		}
		closedir(d);
		chmod(path, 0700);
		rmdir(path);
	} else {
		unlink(path);
	}
}

int fuzz_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (n && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Every target starts the same way. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}
