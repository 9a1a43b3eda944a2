/*
 * Fuzz target: an image folder of several files.  The input is a list of
 * members, each "NAME\0" then a 16-bit little-endian length then the bytes;
 * a name "parent/NAME" puts the file in a parent folder (an incremental
 * dump's).  The folder is written to a scratch directory (tmpfs), then the
 * checkpoint model is built (strict and tolerant), every task's memory is
 * walked and read (with file pages from a root folder), searched, checked,
 * and every explorer of cr-inspect runs on it in-process, as a user would
 * run them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "img/check.h"
#include "img/mem.h"
#include "img/model.h"

int inspect_main(int argc, char **argv); /* cr-inspect/main.c, renamed */

/* Split the input into files under dir; the number of files written. */
static int unpack(const uint8_t *p, size_t n, const char *dir)
{
	char sub[4200];
	int files = 0;

	snprintf(sub, sizeof(sub), "%s/parent", dir);
	while (n && files < 64) {
		const uint8_t *z = memchr(p, 0, n < 80 ? n : 80);
		char name[96];
		size_t len;

		if (!z || (size_t)(z - p) + 3 > n)
			break;
		memcpy(name, p, (size_t)(z - p) + 1);
		n -= (size_t)(z - p) + 1;
		p = z + 1;
		len = (size_t)(p[0] | p[1] << 8);
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		const char *base = name, *in = dir;

		if (!strncmp(name, "parent/", 7)) {
			base = name + 7;
			in = sub;
			mkdir(sub, 0755);
		}
		if (base[0] && base[0] != '.' && !strchr(base, '/') && strcmp(base, "parent"))
			files += !fuzz_write(in, base, p, len);
		p += len;
		n -= len;
	}
	return files;
}

static int count_match(void *arg, const struct img_match *match)
{
	(void)match;
	return ++*(int *)arg > 100;
}

static void walk_memory(struct img_ckpt *ck, const char *root)
{
	const struct img_task *const *t;
	size_t nt;

	t = img_ckpt_tasks(ck, &nt);
	for (size_t i = 0; i < nt && i < 8; i++) {
		struct img_err e = { 0 };
		struct img_search *s;
		struct img_mem *m;
		struct img_buf b;
		uint8_t buf[256];
		int live;

		if (img_mem_open(ck, t[i], IMG_MEM_FILES, &m, &e))
			continue;
		img_mem_set_root(m, root, &e);
		if (t[i]->mm) {
			for (size_t v = 0; v < t[i]->mm->nvmas && v < 64; v++) {
				const struct img_vma *vma = &t[i]->mm->vmas[v];
				uint64_t counts[IMG_PAGE__COUNT], a = vma->start;
				struct img_mem_run run;
				int n = 0;

				img_mem_read(m, vma->start, buf, sizeof(buf), NULL, &e);
				img_mem_read(m, vma->end - sizeof(buf), buf, sizeof(buf), NULL, &e);
				img_mem_read(m, vma->end - 7, buf, 20, NULL, &e);
				img_mem_count(m, vma->start, vma->end, counts, &e);
				while (a < vma->end && n++ < 64 && !img_mem_run(m, a, vma->end, &run, &e)) {
					if (run.data && run.end > run.start)
						buf[0] ^= run.data[run.end - run.start - 1];
					a = run.end;
				}
			}
		}
		for (int w = IMG_STRINGS_ARGV; w <= IMG_STRINGS_ENV; w++) {
			img_buf_init(&b);
			img_mem_strings(m, w, &b, &live, &e);
			img_buf_free(&b);
		}
		struct img_search_opts so = { .kind = IMG_SEARCH_REGEX, .max_len = 64 };

		if (!img_search_new("[A-Z]+=[a-z]", &so, &s, &e)) {
			int n = 0;

			img_search_mem(s, m, count_match, &n, &e);
			img_search_free(s);
		}
		img_mem_close(m);
	}
}

static void search_literal(struct img_ckpt *ck)
{
	struct img_search_opts so = { .kind = IMG_SEARCH_LITERAL };
	const struct img_task *const *t;
	struct img_err e = { 0 };
	struct img_search *s;
	size_t nt;
	int n = 0;

	if (img_search_new("\x7f" "ELF", &so, &s, &e))
		return;
	t = img_ckpt_tasks(ck, &nt);
	for (size_t i = 0; i < nt && i < 8; i++) {
		struct img_mem *m;

		if (!img_mem_open(ck, t[i], 0, &m, &e)) {
			img_search_mem(s, m, count_match, &n, &e);
			img_mem_close(m);
		}
	}
	img_search_free(s);
}

static void run(char *a0, char *a1, char *a2, char *a3, char *a4, char *a5, char *a6)
{
	char *argv[] = { "cr-inspect", a0, a1, a2, a3, a4, a5, a6, NULL };
	int argc = 1;

	while (argv[argc])
		argc++;
	inspect_main(argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmp = fuzz_tmpdir();
	char dir[4096], root[4096], addr[32];
	struct img_findings f;
	struct img_err e = { 0 };
	struct img_ckpt *ck;

	snprintf(dir, sizeof(dir), "%s/set", tmp);
	snprintf(root, sizeof(root), "%s/root", tmp);
	mkdir(dir, 0755);
	mkdir(root, 0755);
	if (!unpack(data, size, dir))
		return 0;
	fuzz_begin(size);
	if (!img_ckpt_open(dir, 0, &ck, &e)) {
		walk_memory(ck, root);
		search_literal(ck);
		img_ckpt_close(ck);
	}
	if (!img_ckpt_open(dir, IMG_CKPT_TOLERANT, &ck, &e)) {
		walk_memory(ck, root);
		img_ckpt_close(ck);
	}
	img_findings_init(&f);
	struct img_check_opts co = { .what = IMG_CHECK_IMAGES | IMG_CHECK_FILES, .root = root };

	img_check_path(dir, &co, &f, &e);
	img_findings_free(&f);
	fuzz_budget();

	/* the explorers, as a user runs them */
	run("x", dir, "ps", NULL, NULL, NULL, NULL);
	run("x", dir, "fds", NULL, NULL, NULL, NULL);
	run("x", dir, "mems", NULL, NULL, NULL, NULL);
	run("x", dir, "rss", NULL, NULL, NULL, NULL);
	run("x", dir, "sk", NULL, NULL, NULL, NULL);
	run("summary", dir, "-j", NULL, NULL, NULL, NULL);
	run("summary", dir, NULL, NULL, NULL, NULL, NULL);
	run("tree", dir, NULL, NULL, NULL, NULL, NULL);
	run("ps", dir, "-j", NULL, NULL, NULL, NULL);
	run("threads", dir, NULL, NULL, NULL, NULL, NULL);
	run("threads", dir, "-p", NULL, NULL, NULL, NULL);
	run("maps", dir, "--root", root, NULL, NULL, NULL);
	run("maps", dir, "-j", NULL, NULL, NULL, NULL);
	run("fds", dir, NULL, NULL, NULL, NULL, NULL);
	run("fds", dir, "-j", NULL, NULL, NULL, NULL);
	run("sockets", dir, NULL, NULL, NULL, NULL, NULL);
	run("sockets", dir, "-j", NULL, NULL, NULL, NULL);
	run("env", dir, NULL, NULL, NULL, NULL, NULL);
	run("cmdline", dir, "-j", NULL, NULL, NULL, NULL);
	run("auxv", dir, NULL, NULL, NULL, NULL, NULL);
	run("search", dir, "SECRET", "-C", "8", NULL, NULL);
	run("search", dir, "--hex", "00 00 01", "--count", NULL, NULL);
	run("check", dir, "--only", "images,files", "--root", root, NULL);
	/* a read from the first mapping of the first task, wherever that is */
	if (!img_ckpt_open(dir, 0, &ck, &e)) {
		size_t nt;
		const struct img_task *const *t = img_ckpt_tasks(ck, &nt);

		if (nt && t[0]->mm && t[0]->mm->nvmas) {
			char pid[16];

			snprintf(pid, sizeof(pid), "%u", t[0]->pid);
			snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t[0]->mm->vmas[0].start + 8);
			run("mem", "read", dir, "--pid", pid, addr, "100");
		}
		img_ckpt_close(ck);
	}
	fuzz_rmtree(tmp);
	fuzz_end();
	return 0;
}
