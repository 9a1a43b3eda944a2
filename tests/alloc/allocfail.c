/*
 * The allocation-failure test (jansson's way): each operation runs once to
 * count libimg's allocations, then again with allocation N failing, for
 * every N.  Each run must either fail cleanly (a tool exits 2 saying "out of
 * memory"; a library call returns -ENOMEM) or succeed with exactly the
 * output of the run without failure (a cache that could not be filled);
 * and leave no block of libimg's allocated and no temporary file behind.
 * Under ASan, LeakSanitizer checks the rest at exit.
 *
 * One binary per tool (the tools' main functions are linked in, renamed):
 *
 *   allocfail-inspect [-a] [-c] [-v] [OP...]    cr-inspect's commands and libimg calls
 *   allocfail-convert [-a] [-c] [-v] [OP...]    cr-convert's commands
 *
 * Without -a (make check) a sample of N is run: the first 64, the last 16
 * and about 150 spread between; -a runs every N.  -c makes every arena
 * allocation one of the allocator's (img_arena_chunk), so that the failure
 * of each is tried.  The bundled sample set testdata/sample/tiny is the
 * input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/archive.h"
#include "img/check.h"
#include "img/explain.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/image.h"
#include "img/profile.h"
#include "img/tab.h"
#include "../support/memcount.h"

#ifndef CR_TOP
#define CR_TOP "."
#endif
#define SET CR_TOP "/testdata/sample/tiny"

int tool_main(int argc, char **argv); /* the tool's main, renamed */

static char tmp[256], out[300], json[300], log_path[300], targz[300], profile[300];
static int verbose, chunk;
static uint64_t only; /* -n N: run allocation N only and show what it printed */
static char last_out[8192];

/* An operation: a tool command line (argv[0] is the command), or a library call. */
struct op {
	const char *name;
	const char *argv[10];
	int (*lib)(struct img_buf *out);  /* 0, -ENOMEM, or another -errno */
	int writes;                        /* leaves its output at 'out': removed after each run */
};

/* Library calls, for what the tools do not show byte for byte. */
#ifdef TOOL_INSPECT
static int lib_archive(struct img_buf *b)
{
	struct img_archive *a;
	struct img_err e = { 0 };
	uint8_t buf[512];
	int r = img_archive_open(targz, &a, &e);

	if (r)
		return r;
	for (size_t i = 0; i < img_archive_count(a) && !r; i++) {
		const struct img_tar_member *m = img_archive_member(a, i);
		size_t n = m->size < sizeof(buf) ? (size_t)m->size : sizeof(buf);

		img_buf_printf(b, "%s %llu\n", m->path, (unsigned long long)m->size);
		if (m->kind == IMG_TAR_REG && n) {
			r = img_archive_read(a, m, m->size - n, buf, n, &e);
			if (!r)
				img_buf_add(b, buf, n);
		}
	}
	img_archive_unref(a);
	return r ? r : b->failed ? -ENOMEM : 0;
}

/* The model, as an API user walks it: every structure printed. */
static int lib_model(struct img_buf *b, unsigned flags)
{
	const struct img_task *const *t;
	const struct img_file *const *f;
	const struct img_ns *ns;
	const struct img_msg *m;
	struct img_ckpt_sizes sz;
	struct img_err e = { 0 };
	struct img_ckpt *ck;
	size_t n, k;
	int r = img_ckpt_open(SET, flags, &ck, &e);

	if (r)
		return r;
	t = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n; i++) {
		img_buf_printf(b, "task %u %s %zu threads %zu fds\n", t[i]->pid, t[i]->comm, t[i]->nthreads, t[i]->nfds);
		for (size_t j = 0; t[i]->mm && j < t[i]->mm->nvmas; j++)
			img_buf_printf(b, " %llx-%llx %s\n", (unsigned long long)t[i]->mm->vmas[j].start,
				       (unsigned long long)t[i]->mm->vmas[j].end, t[i]->mm->vmas[j].name);
		for (size_t j = 0; j < t[i]->nthreads; j++)
			img_buf_printf(b, " thread %u %s pc %llx\n", t[i]->threads[j].tid, t[i]->threads[j].comm,
				       (unsigned long long)t[i]->threads[j].pc);
	}
	f = img_ckpt_files(ck, &n);
	for (size_t i = 0; i < n; i++)
		img_buf_printf(b, "file %u %s %s\n", f[i]->id, f[i]->type_name, f[i]->path ? f[i]->path : "-");
	ns = img_ckpt_namespaces(ck, &n);
	for (size_t i = 0; i < n; i++) {
		img_buf_printf(b, "ns %s %u\n", img_ns_kind_name(ns[i].kind), ns[i].id);
		if (ns[i].kind == IMG_NS_MNT) {
			errno = 0;
			if (!img_ckpt_mounts(ck, ns[i].id, &k) && errno == ENOMEM)
				r = -ENOMEM;
			img_buf_printf(b, " %zu mounts\n", k);
		}
	}
	errno = 0;
	m = img_ckpt_stats(ck, "dump");
	if (!m && errno == ENOMEM)
		r = -ENOMEM;
	img_buf_printf(b, "stats %s\n", m ? "yes" : "no");
	errno = 0;
	m = img_ckpt_cgroup(ck);
	if (!m && errno == ENOMEM)
		r = -ENOMEM;
	img_ckpt_problems(ck, &n);
	img_buf_printf(b, "cgroup %s problems %zu\n", m ? "yes" : "no", n);
	if (img_ckpt_sizes(ck, &sz))
		r = -ENOMEM;
	img_buf_printf(b, "sizes %llu %zu\n", (unsigned long long)sz.total, sz.nfiles);
	img_ckpt_close(ck);
	return r ? r : b->failed ? -ENOMEM : 0;
}

static int lib_model_strict(struct img_buf *b)
{
	return lib_model(b, 0);
}

static int lib_model_tolerant(struct img_buf *b)
{
	return lib_model(b, IMG_CKPT_TOLERANT);
}

static int add_match(void *arg, const struct img_match *m)
{
	img_buf_printf(arg, "match %u %llx %zu\n", m->task->pid, (unsigned long long)m->addr, m->len);
	return 0;
}

/* Memory: strings, counts, reads of each mapping, a literal and a regex search. */
static int lib_mem(struct img_buf *b)
{
	struct img_search_opts lit = { .kind = IMG_SEARCH_LITERAL }, re = { .kind = IMG_SEARCH_REGEX };
	struct img_search *s1 = NULL, *s2 = NULL;
	const struct img_task *const *t;
	struct img_err e = { 0 };
	struct img_ckpt *ck;
	size_t n;
	int r = img_ckpt_open(SET, 0, &ck, &e);

	if (r)
		return r;
	r = img_search_new("TINY", &lit, &s1, &e);
	if (!r)
		r = img_search_new("MARKER:[0-9]+", &re, &s2, &e);
	t = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n && !r; i++) {
		uint64_t counts[IMG_PAGE__COUNT];
		struct img_mem *m;
		uint8_t buf[64];
		int live;

		r = img_mem_open(ck, t[i], 0, &m, &e);
		if (r)
			break;
		for (int w = IMG_STRINGS_ARGV; w <= IMG_STRINGS_ENV && !r; w++)
			r = img_mem_strings(m, w, b, &live, &e);
		for (size_t j = 0; t[i]->mm && j < t[i]->mm->nvmas && !r; j++) {
			const struct img_vma *v = &t[i]->mm->vmas[j];

			r = img_mem_count(m, v->start, v->end, counts, &e);
			if (!r)
				r = img_mem_read(m, v->start, buf, sizeof(buf), NULL, &e);
			if (!r)
				img_buf_add(b, buf, sizeof(buf));
		}
		if (!r)
			r = img_search_mem(s1, m, add_match, b, &e);
		if (!r)
			r = img_search_mem(s2, m, add_match, b, &e);
		img_mem_close(m);
	}
	img_search_free(s1);
	img_search_free(s2);
	img_ckpt_close(ck);
	return r ? r : b->failed ? -ENOMEM : 0;
}

static int lib_check(struct img_buf *b)
{
	struct img_check_opts o = { .what = IMG_CHECK_IMAGES | IMG_CHECK_FILES, .root = tmp };
	struct img_findings f;
	struct img_err e = { 0 };
	struct img_out jo;
	struct img_jw w;
	int r;

	img_findings_init(&f);
	r = img_check_path(SET, &o, &f, &e);
	if (!r) {
		img_out_mem(&jo, b);
		img_jw_init(&w, &jo, 0);
		img_findings_print_json(&f, &w);
		r = img_out_flush(&jo);
	}
	img_findings_free(&f);
	return r;
}

static int lib_explain(struct img_buf *b)
{
	struct img_explain *x;
	struct img_logref *refs;
	struct img_err e = { 0 };
	struct img_src *src;
	struct img_arena a;
	struct img_dir *d;
	size_t n;
	int r = img_src_open(log_path, &src, &e);

	if (r)
		return r;
	r = img_log_explain((const char *)src->data, src->size, &x, &e);
	img_src_unref(src);
	if (r)
		return r;
	img_buf_printf(b, "%s %s %zu\n", x->diagnosis ? x->diagnosis : "-", x->todo ? x->todo : "-", x->nchain);
	r = img_dir_open(SET, &d, &e);
	if (!r) {
		img_arena_init(&a);
		r = img_explain_locate(x, d, NULL, &refs, &n, &a, &e);
		for (size_t i = 0; !r && i < n; i++)
			img_buf_printf(b, "%s %ld %s\n", refs[i].image, refs[i].entry, refs[i].what);
		img_arena_free(&a);
		img_dir_close(d);
	}
	img_explain_free(x);
	return r ? r : b->failed ? -ENOMEM : 0;
}

static int lib_profile(struct img_buf *b)
{
	struct img_profile *p;
	struct img_err e = { 0 };
	struct img_src *src;
	struct img_out o;
	struct img_jw w;
	int r = img_src_open(profile, &src, &e);

	if (r)
		return r;
	r = img_profile_parse((const char *)src->data, src->size, "p.json", &p, &e);
	img_src_unref(src);
	if (r)
		return r;
	img_out_mem(&o, b);
	img_jw_init(&w, &o, 0);
	img_profile_write(p, &w);
	img_profile_free(p);
	return img_out_flush(&o);
}
#endif

static struct op ops[] = {
#ifdef TOOL_INSPECT
	{ "decode", { "decode", "-i", SET "/core-1.img" } },
	{ "decode-pretty", { "decode", "--pretty", "-i", SET "/mm-1.img" } },
	{ "decode-out", { "decode", "-i", SET "/pagemap-1.img", "-o", out }, NULL, 1 },
	{ "show", { "show", SET "/files.img" } },
	{ "info", { "info", SET "/core-1.img", "--entries" } },
	{ "x-ps", { "x", SET, "ps" } },
	{ "x-fds", { "x", SET, "fds" } },
	{ "x-mems", { "x", SET, "mems" } },
	{ "x-rss", { "x", SET, "rss" } },
	{ "summary", { "summary", SET, "-j" } },
	{ "tree", { "tree", SET } },
	{ "threads", { "threads", SET, "-j" } },
	{ "maps", { "maps", SET, "-j" } },
	{ "fds", { "fds", SET, "-j" } },
	{ "sockets", { "sockets", SET, "-j" } },
	{ "env", { "env", SET } },
	{ "cmdline", { "cmdline", SET, "-j" } },
	{ "auxv", { "auxv", SET } },
	{ "mem-read", { "mem", "read", SET, "--pid", "1", "0x401000", "256" } },
	{ "search", { "search", SET, "TINY-SUBJECT" } },
	{ "search-regex", { "search", SET, "--regex", "MARKER:[0-9]+" } },
	{ "check", { "check", SET, "--only", "images", "-j" } },
	{ "explain", { "explain", log_path, SET, "--target", profile, "-j" } },
	{ "archive-x", { "x", targz, "ps" } },
	{ "archive-summary", { "summary", targz, "-j" } },
	{ "archive-read", { NULL }, lib_archive },
	{ "lib-model", { NULL }, lib_model_strict },
	{ "lib-tolerant", { NULL }, lib_model_tolerant },
	{ "lib-mem", { NULL }, lib_mem },
	{ "lib-check", { NULL }, lib_check },
	{ "lib-explain", { NULL }, lib_explain },
	{ "profile", { NULL }, lib_profile },
#endif
#ifdef TOOL_CONVERT
	{ "encode", { "encode", "-i", json, "-o", out }, NULL, 1 },
	{ "pack", { "pack", SET, "-o", out, "-z" }, NULL, 1 },
	{ "unpack", { "unpack", targz, "-o", out }, NULL, 1 },
#endif
};

static uint64_t hash(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* What a path holds: the bytes of a file, or the names and bytes of a folder's files. */
static uint64_t hash_path(const char *path, uint64_t h)
{
	struct dirent **de;
	struct stat st;
	int k;

	if (lstat(path, &st) < 0)
		return h;
	if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY);
		char buf[65536];
		ssize_t r;

		while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
			h = hash(buf, (size_t)r, h);
		if (fd >= 0)
			close(fd);
		return h;
	}
	k = scandir(path, &de, NULL, alphasort);
	for (int i = 0; i < k; i++) {
		char sub[4096];

		if (strcmp(de[i]->d_name, ".") && strcmp(de[i]->d_name, "..")) {
			snprintf(sub, sizeof(sub), "%s/%s", path, de[i]->d_name);
			h = hash(de[i]->d_name, strlen(de[i]->d_name), h);
			h = hash_path(sub, h);
		}
		free(de[i]);
	}
	free(de);
	return h;
}

static void rmtree(const char *path)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path))) {
		while ((de = readdir(d))) {
			char sub[4096];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Names in tmp other than the fixed inputs: what a run left behind. */
static int leftovers(char *what, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(tmp);
	int n = 0;

	what[0] = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "in.json") || !strcmp(de->d_name, "restore.log") ||
		    !strcmp(de->d_name, "set.tar.gz") || !strcmp(de->d_name, "profile.json"))
			continue;
		if (!strcmp(de->d_name, "out"))
			continue;
		snprintf(what + strlen(what), len - strlen(what), " %s", de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

struct result {
	int rc;           /* exit status, or the library call's return */
	uint64_t digest;  /* stdout, and the output file or folder */
	int nomem;        /* stderr says "out of memory" */
	char err[512];
};

static int mfd_out = -1, mfd_err = -1;

static void run_op(const struct op *op, struct result *res)
{
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
	struct img_buf b;
	ssize_t n;

	ftruncate(mfd_out, 0);
	ftruncate(mfd_err, 0);
	lseek(mfd_out, 0, SEEK_SET);
	lseek(mfd_err, 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	dup2(mfd_out, STDOUT_FILENO);
	dup2(mfd_err, STDERR_FILENO);
	img_buf_init(&b);
	if (op->lib) {
		res->rc = op->lib(&b);
	} else {
		char *argv[12] = { "tool" };
		int argc = 1;

		for (int i = 0; op->argv[i]; i++)
			argv[argc++] = (char *)op->argv[i];
		res->rc = tool_main(argc, argv);
	}
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	res->digest = hash(b.data, b.len, 0xcbf29ce484222325ull);
	if (only)
		snprintf(last_out, sizeof(last_out), "%.*s", (int)b.len, (const char *)b.data);
	img_buf_free(&b);
	{
		char buf[65536];

		lseek(mfd_out, 0, SEEK_SET);
		while ((n = read(mfd_out, buf, sizeof(buf))) > 0)
			res->digest = hash(buf, (size_t)n, res->digest);
		lseek(mfd_err, 0, SEEK_SET);
		n = read(mfd_err, res->err, sizeof(res->err) - 1);
		res->err[n > 0 ? n : 0] = 0;
	}
	res->digest = hash_path(out, res->digest);
	res->nomem = strstr(res->err, "out of memory") || strstr(res->err, strerror(ENOMEM));
}

static int sampled(uint64_t n, uint64_t total, int all)
{
	uint64_t step = total > 300 ? (total - 80) / 150 : 1;

	return all || n <= 64 || n + 16 > total || (n - 64) % step == 0;
}

static int test_op(const struct op *op, int all)
{
	struct result clean, r;
	uint64_t total, live0 = memcount.live, runs = 0, swallowed = 0, net = 0;
	int bad = 0;
	char what[1024];

	memcount_reset();
	memcount.fail_at = 0;
	img_arena_chunk(chunk);
	run_op(op, &clean);
	total = memcount.calls;
	if (op->writes)
		rmtree(out);
	if (op->lib ? clean.rc != 0 : clean.rc != 0 && clean.rc != 1) { /* check and explain exit 1 on findings */
		printf("FAIL %s: fails without a failing allocation (%d): %s\n", op->name, clean.rc, clean.err);
		return 1;
	}
	if (memcount.live != live0) {
		printf("FAIL %s: %lld blocks leaked without a failing allocation\n", op->name,
		       (long long)(memcount.live - live0));
		return 1;
	}
	for (uint64_t n = 1; n <= total && bad < 5; n++) {
		if (only ? n != only : !sampled(n, total, all))
			continue;
		runs++;
		memcount_reset();
		memcount.fail_at = n;
		run_op(op, &r);
		memcount.fail_at = 0;
		const char *why = NULL;

		if (only && op->lib)
			printf("run %llu: %d, failed %llu; output:\n%s\n", (unsigned long long)n, r.rc,
			       (unsigned long long)memcount.failed, last_out);
		if (memcount.failed && r.rc != clean.rc) {
			if (op->lib ? r.rc != -ENOMEM : r.rc != 2 || !r.nomem)
				why = "fails without saying out of memory";
			else if (!op->lib && strstr(r.err, ": cannot complete "))
				net++; /* the command went on; img_cmd_run saw the failure */
		} else if (r.rc != clean.rc) {
			why = "fails though no allocation failed";
		} else if (r.digest != clean.digest) {
			why = "succeeds with other output";
		} else if (memcount.failed) {
			swallowed++;
			if (verbose)
				printf("     %s: allocation %llu absorbed\n", op->name, (unsigned long long)n);
		}
		if (!why && memcount.live != live0)
			why = "leaks";
		if (!why && leftovers(what, sizeof(what)))
			why = "leaves files behind:";
		if (why) {
			printf("FAIL %s: allocation %llu of %llu failing: %s%s (exit %d) %s\n", op->name,
			       (unsigned long long)n, (unsigned long long)total, why,
			       why[strlen(why) - 1] == ':' ? what : "", r.rc, r.err);
			bad++;
			live0 = memcount.live;
		}
		if (op->writes)
			rmtree(out);
		rmtree(out);
	}
	img_arena_chunk(0);
	printf("%s %-16s %6llu allocations, %6llu runs%s%s", bad ? "FAIL" : "ok  ", op->name,
	       (unsigned long long)total, (unsigned long long)runs, all ? " (every N)" : "",
	       chunk ? " (an allocation per arena block)" : "");
	if (swallowed)
		printf(", %llu absorbed with the same output", (unsigned long long)swallowed);
	if (net)
		printf(", %llu caught by the command runner", (unsigned long long)net);
	printf("\n");
	return bad;
}

static void setup(void)
{
	struct img_err e = { 0 };
	struct img_image *img;
	struct img_buf b;
	struct img_out o;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/allocfail.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(json, sizeof(json), "%s/in.json", tmp);
	snprintf(log_path, sizeof(log_path), "%s/restore.log", tmp);
	snprintf(targz, sizeof(targz), "%s/set.tar.gz", tmp);
	snprintf(profile, sizeof(profile), "%s/profile.json", tmp);
	/* crit JSON of the set's core image, for encode */
	if (img_image_open(SET "/core-1.img", img_schema_default(), 0, &img, &e)) {
		fprintf(stderr, "allocfail: %s: %s\n", e.subject, e.msg);
		exit(2);
	}
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_image_to_json(img, &o, IMG_JSON_PRETTY);
	img_out_flush(&o);
	img_write_file_atomic(json, b.data, b.len, 0644, &e);
	img_buf_free(&b);
	img_image_free(img);
	/* the set as a container archive */
	struct img_pack_opts po = { .layout = IMG_PACK_PODMAN, .gzip = 1 };

	if (img_archive_pack(SET, targz, &po, &e)) {
		fprintf(stderr, "allocfail: cannot pack: %s\n", e.msg);
		exit(2);
	}
	/* a failed restore whose first error names a file of the set */
	f = fopen(log_path, "w");
	fputs("(00.000000) CRIU run id = 0\n(00.000080) Version: 4.2 (gitid v4.2)\n"
	      "(00.021930) Reading image tree\n(00.023000)      1: Restoring resources\n"
	      "(00.023272)      1: Error (criu/files-reg.c:2175): File tmp/crsubj/tiny.txt has bad size 56 (expect 0)\n"
	      "(00.023582) Error (criu/cr-restore.c:2324): Restoring FAILED.\n", f);
	fclose(f);
	f = fopen(profile, "w");
	fputs("{\"arch\": \"x86_64\", \"kernel\": {\"release\": \"5.10.0\"}, \"page_size\": 4096}\n", f);
	fclose(f);
	mfd_out = memfd_create("stdout", 0);
	mfd_err = memfd_create("stderr", 0);
}

int main(int argc, char **argv)
{
	int all = 0, bad = 0, ran = 0;

	memcount_install(1); /* before anything of libimg's is allocated */
	img_tables_load(); /* tables the library parses at first use and keeps for the program's life */
	setup();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a"))
			all = 1;
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-c"))
			chunk = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			only = strtoull(argv[++i], NULL, 0);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int want = 1;

		for (int j = 1; j < argc; j++)
			if (argv[j][0] != '-')
				want = 0;
		for (int j = 1; j < argc; j++)
			if (!strcmp(argv[j], ops[i].name))
				want = 1;
		if (!want)
			continue;
		ran++;
		bad += test_op(&ops[i], all) != 0;
	}
	rmtree(tmp);
	printf("allocfail: %d operations, %d failed\n", ran, bad);
	return bad ? 1 : 0;
}
