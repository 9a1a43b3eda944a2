/*
 * Machine profiles: probing this machine (kernel features by the probes of
 * schemas/features/kernel.tab, CPU and XSAVE by cpuid, cgroup layout, page
 * size), and reading and writing profiles as JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "img/check.h"
#include "img/profile.h"
#include "img/source.h"
#include "img/tab.h"

#ifndef CR_TOOLS_VERSION
#define CR_TOOLS_VERSION "?"
#endif

#define PROFILE_VERSION 1
#define MAX_FEATURES 64
#define MAX_FLAGS 1024
#define MAX_CONTROLLERS 64
#define CGROUP2_MAGIC 0x63677270
#define PROFILE_MAX_BYTES (1u << 20)

extern char **environ;

struct feat {
	const char *name;
	int has;
	int how;
};

struct img_profile {
	struct img_arena a;
	const char *name;
	int host;
	const char *arch, *release;
	uint32_t kver;
	int have_kver;
	unsigned page_size;
	uint64_t pid_max;
	struct feat feat[MAX_FEATURES];
	size_t nfeat;
	const char *vendor, *model_name;
	long family, model, stepping;   /* -1: unknown */
	const char **flags;
	size_t nflags;
	int have_flags;
	int have_xsave;
	uint64_t xmask, xcpu;
	uint32_t xsize, xmax;
	const char *cgroup;
	const char **controllers;
	size_t ncontrollers;
	const char *criu;
};

static struct img_profile *profile_new(const char *name)
{
	struct img_profile *p = img_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	img_arena_init(&p->a);
	p->family = p->model = p->stepping = -1;
	p->name = img_arena_strndup(&p->a, name, strlen(name));
	if (!p->name) {
		img_profile_free(p);
		return NULL;
	}
	return p;
}

void img_profile_free(struct img_profile *p)
{
	if (!p)
		return;
	img_arena_free(&p->a);
	img_free(p);
}

static const char *keep(struct img_profile *p, const char *s, size_t n)
{
	return img_arena_strndup(&p->a, s, n);
}

static void set_release(struct img_profile *p, const char *rel)
{
	p->release = keep(p, rel, strlen(rel));
	p->have_kver = !img_kversion_parse(rel, &p->kver);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Probes: 1 the kernel has it, 0 it has not, -1 the probe cannot tell (a sandbox refused it). */

static int from_errno(long r, int e)
{
	if (r >= 0)
		return 1;
	return e == ENOSYS ? 0 : e == EPERM || e == EACCES ? -1 : 1;
}

static int probe_syscall(const char *name)
{
	long r = -1;
	int e = ENOSYS;

	errno = 0;
	if (!strcmp(name, "rseq")) {
#ifdef __NR_rseq
		r = syscall(__NR_rseq, NULL, 0, 0, 0); /* a zero length: EINVAL where rseq exists */
		e = errno;
#endif
	} else if (!strcmp(name, "pidfd_open")) {
#ifdef __NR_pidfd_open
		r = syscall(__NR_pidfd_open, getpid(), 0);
		e = errno;
		if (r >= 0)
			close((int)r);
#endif
	} else if (!strcmp(name, "memfd_create")) {
#ifdef __NR_memfd_create
		r = syscall(__NR_memfd_create, "cr-inspect-probe", 1u /* MFD_CLOEXEC */);
		e = errno;
		if (r >= 0)
			close((int)r);
#endif
	} else if (!strcmp(name, "userfaultfd")) {
#ifdef __NR_userfaultfd
		r = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		e = errno;
		if (r >= 0)
			close((int)r);
		else if (e == EPERM)
			return 1; /* there, but not for unprivileged users (vm.unprivileged_userfaultfd) */
#endif
	} else if (!strcmp(name, "clone3")) {
#ifdef __NR_clone3
		r = syscall(__NR_clone3, NULL, 0); /* a zero size: EINVAL where clone3 exists */
		e = errno;
#endif
	} else {
		return -1;
	}
	return from_errno(r, e);
}

static char *read_small(const char *path, size_t *len);

static int probe_fs(const char *name)
{
	char *text = read_small("/proc/filesystems", NULL), *line, *save = NULL;

	if (!text)
		return -1;
	/* "nodev\tproc" or "\text4": the name after the last tab */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strrchr(line, '\t');

		if (!strcmp(t ? t + 1 : line, name))
			return 1;
	}
	return 0;
}

/* CRIU's own test (kerndat.c): clear the soft-dirty bits, write a page, read bit 55 of its pagemap entry. */
static int probe_soft_dirty(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	volatile char *page = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd, r = -1;
	uint64_t pme;

	if (page == MAP_FAILED)
		return -1;
	page[0] = 1;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "4", 1) == 1) {
			page[0] = 2;
			int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

			if (pm >= 0) {
				if (pread(pm, &pme, sizeof(pme), (off_t)((uintptr_t)page / (uintptr_t)psz * 8)) ==
				    sizeof(pme))
					r = (pme >> 55) & 1;
				close(pm);
			}
		}
		close(fd);
	}
	munmap((void *)page, (size_t)psz);
	return r;
}

static int probe_membarrier(void)
{
#ifdef __NR_membarrier
	long r = syscall(__NR_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0);

	if (r < 0)
		return errno == ENOSYS ? 0 : -1;
	return (r & 8 /* MEMBARRIER_CMD_PRIVATE_EXPEDITED */) != 0;
#else
	return -1;
#endif
}

static int probe(const char *how)
{
	if (!strncmp(how, "syscall:", 8))
		return probe_syscall(how + 8);
	if (!strncmp(how, "path:", 5))
		return access(how + 5, F_OK) == 0 ? 1 : errno == ENOENT ? 0 : -1;
	if (!strncmp(how, "fs:", 3))
		return probe_fs(how + 3);
	if (!strcmp(how, "soft-dirty"))
		return probe_soft_dirty();
	if (!strcmp(how, "membarrier"))
		return probe_membarrier();
	return -1; /* "version" */
}

static int add_feat(struct img_profile *p, const char *name, int has, int how)
{
	if (p->nfeat == MAX_FEATURES)
		return -E2BIG;
	p->feat[p->nfeat].name = keep(p, name, strlen(name));
	p->feat[p->nfeat].has = has;
	p->feat[p->nfeat].how = how;
	if (!p->feat[p->nfeat].name)
		return -ENOMEM;
	p->nfeat++;
	return 0;
}

static char *read_small(const char *path, size_t *len)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, at = 0;

	if (fd < 0)
		return NULL;
	while (at < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + at, sizeof(buf) - 1 - (size_t)at)) > 0)
		at += n;
	close(fd);
	buf[at] = 0;
	if (len)
		*len = (size_t)at;
	return buf;
}

static int add_words(struct img_profile *p, const char *s, const char ***out, size_t *n, size_t max)
{
	size_t cnt = 0, k = 0;
	const char *q;

	for (q = s; *q;) {
		q += strspn(q, " \t\n");
		if (!*q)
			break;
		cnt++;
		q += strcspn(q, " \t\n");
	}
	if (cnt > max)
		cnt = max;
	*out = img_arena_alloc(&p->a, (cnt ? cnt : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (q = s; *q && k < cnt;) {
		size_t l;

		q += strspn(q, " \t\n");
		l = strcspn(q, " \t\n");
		if (!l)
			break;
		if (!((*out)[k++] = keep(p, q, l)))
			return -ENOMEM;
		q += l;
	}
	*n = k;
	img_sort(*out, k, sizeof(**out), cmp_str);
	return 0;
}

static void probe_cpu(struct img_profile *p)
{
	char *info = read_small("/proc/cpuinfo", NULL);

	if (info) {
		char *line = info;

		while (line && *line) {
			char *nl = strchr(line, '\n'), *colon;

			if (nl)
				*nl = 0;
			colon = strchr(line, ':');
			if (colon) {
				size_t klen = (size_t)(colon - line);
				const char *val = colon + 1 + strspn(colon + 1, " \t");

				while (klen && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
					klen--;
				if (!p->have_flags && ((klen == 5 && !strncmp(line, "flags", 5)) ||
						       (klen == 8 && !strncmp(line, "Features", 8)))) {
					if (!add_words(p, val, &p->flags, &p->nflags, MAX_FLAGS))
						p->have_flags = 1;
				} else if (!p->model_name && klen == 10 && !strncmp(line, "model name", 10)) {
					p->model_name = keep(p, val, strlen(val));
				} else if (!p->vendor && klen == 9 && !strncmp(line, "vendor_id", 9)) {
					p->vendor = keep(p, val, strlen(val));
				}
			}
			line = nl ? nl + 1 : NULL;
		}
	}
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (__get_cpuid(0, &a, &b, &c, &d)) {
		char v[13];

		memcpy(v, &b, 4);
		memcpy(v + 4, &d, 4);
		memcpy(v + 8, &c, 4);
		v[12] = 0;
		p->vendor = keep(p, v, strlen(v));
	}
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		unsigned fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;

		if (fam == 0xf)
			fam += (a >> 20) & 0xff;
		if (fam == 6 || fam >= 0xf)
			mod |= ((a >> 16) & 0xf) << 4;
		p->family = fam;
		p->model = mod;
		p->stepping = a & 0xf;
		if (c & (1u << 27)) { /* OSXSAVE: the OS enabled XSAVE, XCR0 says which components */
			unsigned lo, hi;

			__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
			p->xmask = (uint64_t)hi << 32 | lo;
			if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d)) {
				p->xcpu = (uint64_t)d << 32 | a;
				p->xsize = b;
				p->xmax = c;
			}
			p->have_xsave = 1;
		}
	}
#endif
}

static void probe_cgroup(struct img_profile *p)
{
	struct statfs sf;
	const char *file = NULL;
	char *txt;

	if (statfs("/sys/fs/cgroup", &sf) < 0) {
		p->cgroup = "none";
		return;
	}
	if ((unsigned long)sf.f_type == CGROUP2_MAGIC) {
		p->cgroup = "v2";
		file = "/sys/fs/cgroup/cgroup.controllers";
	} else if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_MAGIC) {
		p->cgroup = "hybrid";
	} else {
		p->cgroup = "v1";
	}
	if (file) {
		txt = read_small(file, NULL);
		if (txt)
			add_words(p, txt, &p->controllers, &p->ncontrollers, MAX_CONTROLLERS);
		return;
	}
	/* v1: the controllers /proc/cgroups lists as enabled and mounted */
	txt = read_small("/proc/cgroups", NULL);
	if (!txt)
		return;
	char names[4096];
	size_t at = 0;

	for (char *line = txt; line && *line;) {
		char *nl = strchr(line, '\n');
		char name[64];
		unsigned hier, num, en;

		if (nl)
			*nl = 0;
		if (line[0] != '#' && sscanf(line, "%63s %u %u %u", name, &hier, &num, &en) == 4 && hier && en &&
		    at + strlen(name) + 2 < sizeof(names))
			at += (size_t)snprintf(names + at, sizeof(names) - at, "%s ", name);
		line = nl ? nl + 1 : NULL;
	}
	names[at] = 0;
	add_words(p, names, &p->controllers, &p->ncontrollers, MAX_CONTROLLERS);
}

/* `criu --version`: "Version: 4.2" on its first line; NULL when CRIU is not installed. */
static void probe_criu(struct img_profile *p)
{
	char *argv[] = { "criu", "--version", NULL };
	posix_spawn_file_actions_t fa;
	char out[4096];
	int pipefd[2], status;
	ssize_t n, at = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawnp(&pid, "criu", &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[0]);
		close(pipefd[1]);
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while (at < (ssize_t)sizeof(out) - 1 && (n = read(pipefd[0], out + at, sizeof(out) - 1 - (size_t)at)) > 0)
		at += n;
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[at] = 0;
	char *v = strstr(out, "Version:");

	if (v && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		v += 8;
		v += strspn(v, " \t");
		p->criu = keep(p, v, strcspn(v, " \t\n"));
	}
}

int img_profile_probe(unsigned flags, struct img_profile **out, struct img_err *err)
{
	const struct img_kfeature *kf;
	struct img_profile *p;
	struct utsname u;
	size_t nk;
	char *s;

	if (img_kfeatures(&kf, &nk, err))
		return -EINVAL;
	p = profile_new("this host");
	if (!p)
		return img_err_set(err, ENOMEM, "out of memory");
	p->host = 1;
	if (!uname(&u)) {
		p->arch = keep(p, u.machine, strlen(u.machine));
		set_release(p, u.release);
	}
	p->page_size = (unsigned)sysconf(_SC_PAGESIZE);
	if ((s = read_small("/proc/sys/kernel/pid_max", NULL)))
		p->pid_max = strtoull(s, NULL, 10);
	for (size_t i = 0; i < nk; i++) {
		int has = probe(kf[i].probe);

		if (has >= 0)
			add_feat(p, kf[i].name, has, IMG_HOW_PROBE);
	}
	probe_cpu(p);
	probe_cgroup(p);
	if (flags & IMG_PROBE_CRIU)
		probe_criu(p);
	if (p->a.failed) {
		img_profile_free(p);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

const char *img_profile_name(const struct img_profile *p)
{
	return p->name;
}

int img_profile_is_host(const struct img_profile *p)
{
	return p->host;
}

const char *img_profile_arch(const struct img_profile *p)
{
	return p->arch;
}

const char *img_profile_release(const struct img_profile *p)
{
	return p->release;
}

unsigned img_profile_page_size(const struct img_profile *p)
{
	return p->page_size;
}

uint64_t img_profile_pid_max(const struct img_profile *p)
{
	return p->pid_max;
}

const char *img_profile_cgroup(const struct img_profile *p)
{
	return p->cgroup;
}

const char *img_profile_criu(const struct img_profile *p)
{
	return p->criu;
}

int img_profile_feature(const struct img_profile *p, const char *name, int *how)
{
	const struct img_kfeature *kf;
	int dummy;

	if (!how)
		how = &dummy;
	for (size_t i = 0; i < p->nfeat; i++)
		if (!strcmp(p->feat[i].name, name)) {
			*how = p->feat[i].how;
			return p->feat[i].has;
		}
	kf = img_kfeature_find(name);
	if (kf && p->have_kver) {
		*how = IMG_HOW_VERSION;
		return p->kver >= kf->since;
	}
	*how = IMG_HOW_UNKNOWN;
	return -1;
}

int img_profile_cpu_flag(const struct img_profile *p, const char *flag)
{
	if (!p->have_flags)
		return -1;
	return bsearch(&flag, p->flags, p->nflags, sizeof(*p->flags), cmp_str) != NULL;
}

int img_profile_xsave(const struct img_profile *p, uint64_t *mask, uint32_t *size, uint32_t *max_size)
{
	if (!p->have_xsave)
		return -ENOENT;
	if (mask)
		*mask = p->xmask;
	if (size)
		*size = p->xsize;
	if (max_size)
		*max_size = p->xmax;
	return 0;
}

/* JSON */

static void kv_opt_str(struct img_jw *w, const char *k, const char *v)
{
	img_jw_key(w, k);
	if (v)
		img_jw_str(w, v);
	else
		img_jw_null(w);
}

static void kv_opt_i(struct img_jw *w, const char *k, long v)
{
	img_jw_key(w, k);
	if (v >= 0)
		img_jw_i64(w, v);
	else
		img_jw_null(w);
}

static void str_array(struct img_jw *w, const char *k, const char *const *v, size_t n)
{
	img_jw_key(w, k);
	img_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		img_jw_str(w, v[i]);
	img_jw_arr_end(w);
}

void img_profile_write(const struct img_profile *p, struct img_jw *w)
{
	const struct img_kfeature *kf;
	size_t nk = 0;

	img_kfeatures(&kf, &nk, NULL);
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "profile_version", PROFILE_VERSION);
	img_jw_kv_str(w, "made_by", "cr-inspect host-profile " CR_TOOLS_VERSION);
	kv_opt_str(w, "arch", p->arch);
	img_jw_key(w, "page_size");
	if (p->page_size)
		img_jw_u64(w, p->page_size);
	else
		img_jw_null(w);
	img_jw_key(w, "pid_max");
	if (p->pid_max)
		img_jw_u64(w, p->pid_max);
	else
		img_jw_null(w);
	img_jw_key(w, "kernel");
	img_jw_obj_begin(w);
	kv_opt_str(w, "release", p->release);
	img_jw_key(w, "features");
	img_jw_obj_begin(w);
	for (size_t i = 0; i < nk; i++) {
		int how, has = img_profile_feature(p, kf[i].name, &how);

		img_jw_key(w, kf[i].name);
		if (has < 0)
			img_jw_null(w);
		else
			img_jw_bool(w, has);
	}
	img_jw_obj_end(w);
	img_jw_key(w, "feature_source");
	img_jw_obj_begin(w);
	for (size_t i = 0; i < nk; i++) {
		static const char *const src[] = { "unknown", "probe", "version", "profile" };
		int how;

		img_profile_feature(p, kf[i].name, &how);
		img_jw_kv_str(w, kf[i].name, src[how]);
	}
	img_jw_obj_end(w);
	img_jw_obj_end(w);
	img_jw_key(w, "cpu");
	img_jw_obj_begin(w);
	kv_opt_str(w, "vendor", p->vendor);
	kv_opt_str(w, "model_name", p->model_name);
	kv_opt_i(w, "family", p->family);
	kv_opt_i(w, "model", p->model);
	kv_opt_i(w, "stepping", p->stepping);
	if (p->have_flags)
		str_array(w, "flags", p->flags, p->nflags);
	else
		kv_opt_str(w, "flags", NULL);
	img_jw_key(w, "xsave");
	if (p->have_xsave) {
		const struct img_xfeature *xt;
		size_t nx = 0;

		img_xfeatures(&xt, &nx, NULL);
		img_jw_obj_begin(w);
		img_jw_kv_u64(w, "mask", p->xmask);
		img_jw_key(w, "components");
		img_jw_arr_begin(w);
		for (unsigned b = 0; b < 64; b++)
			if (p->xmask & (1ull << b)) {
				const struct img_xfeature *xf = img_xfeature_by_bit(b);
				char n[16];

				snprintf(n, sizeof(n), "bit%u", b);
				img_jw_str(w, xf ? xf->name : n);
			}
		img_jw_arr_end(w);
		img_jw_kv_u64(w, "cpu_mask", p->xcpu);
		img_jw_kv_u64(w, "size", p->xsize);
		img_jw_kv_u64(w, "max_size", p->xmax);
		img_jw_obj_end(w);
	} else {
		img_jw_null(w);
	}
	img_jw_obj_end(w);
	img_jw_key(w, "cgroup");
	img_jw_obj_begin(w);
	kv_opt_str(w, "layout", p->cgroup);
	str_array(w, "controllers", p->controllers, p->ncontrollers);
	img_jw_obj_end(w);
	img_jw_key(w, "criu");
	if (p->criu) {
		img_jw_obj_begin(w);
		img_jw_kv_str(w, "version", p->criu);
		img_jw_obj_end(w);
	} else {
		img_jw_null(w);
	}
	img_jw_obj_end(w);
}

/* Reading a profile: every member is optional but must have the right type. */

struct rd {
	struct img_profile *p;
	struct img_err *err;
};

static int bad(struct rd *r, const char *key, const char *want)
{
	return img_err_set(r->err, EINVAL, "'%s' is not %s", key, want);
}

static int get_str(struct rd *r, const struct img_jv *o, const char *key, const char **out)
{
	const struct img_jv *v = img_jv_get(o, key);

	if (!v || v->type == IMG_JV_NULL)
		return 0;
	if (v->type != IMG_JV_STR)
		return bad(r, key, "a string");
	*out = keep(r->p, v->s.s, v->s.len);
	return *out ? 0 : img_err_set(r->err, ENOMEM, "out of memory");
}

static int get_u64(struct rd *r, const struct img_jv *o, const char *key, uint64_t *out)
{
	const struct img_jv *v = img_jv_get(o, key);

	if (!v || v->type == IMG_JV_NULL)
		return 0;
	if (v->type == IMG_JV_STR) { /* hex strings are accepted for masks */
		char *end;

		errno = 0;
		*out = strtoull(v->s.s, &end, 0);
		return errno || *end || !v->s.len ? bad(r, key, "an integer") : 0;
	}
	if (img_jv_u64(v, out))
		return bad(r, key, "an unsigned integer");
	return 0;
}

static int get_words(struct rd *r, const struct img_jv *o, const char *key, const char ***out, size_t *n,
		     size_t max, int *have)
{
	const struct img_jv *v = img_jv_get(o, key);

	if (!v || v->type == IMG_JV_NULL)
		return 0;
	if (v->type != IMG_JV_ARR)
		return bad(r, key, "an array of strings");
	if (v->a.n > max)
		return img_err_set(r->err, EINVAL, "'%s' has more than %zu items", key, max);
	*out = img_arena_alloc(&r->p->a, (v->a.n ? v->a.n : 1) * sizeof(**out));
	if (!*out)
		return img_err_set(r->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->a.n; i++) {
		if (v->a.v[i]->type != IMG_JV_STR)
			return bad(r, key, "an array of strings");
		(*out)[i] = keep(r->p, v->a.v[i]->s.s, v->a.v[i]->s.len);
	}
	*n = v->a.n;
	img_sort(*out, *n, sizeof(**out), cmp_str);
	if (have)
		*have = 1;
	return 0;
}

static int read_profile(struct rd *r, const struct img_jv *root)
{
	struct img_profile *p = r->p;
	const struct img_jv *k, *cpu, *cg, *x, *feats, *criu;
	const char *rel = NULL;
	uint64_t v;
	int e;

	if (root->type != IMG_JV_OBJ)
		return img_err_set(r->err, EINVAL, "not a JSON object");
	v = PROFILE_VERSION;
	if ((e = get_u64(r, root, "profile_version", &v)))
		return e;
	if (v != PROFILE_VERSION)
		return img_err_set(r->err, EINVAL, "profile_version %llu: this program reads version %d",
				   (unsigned long long)v, PROFILE_VERSION);
	if ((e = get_str(r, root, "arch", &p->arch)))
		return e;
	v = 0;
	if ((e = get_u64(r, root, "page_size", &v)))
		return e;
	p->page_size = v > UINT32_MAX ? 0 : (unsigned)v;
	if ((e = get_u64(r, root, "pid_max", &p->pid_max)))
		return e;
	k = img_jv_get(root, "kernel");
	if (k && k->type == IMG_JV_OBJ) {
		if ((e = get_str(r, k, "release", &rel)))
			return e;
		if (rel)
			set_release(p, rel);
		feats = img_jv_get(k, "features");
		if (feats && feats->type == IMG_JV_OBJ) {
			for (size_t i = 0; i < feats->o.n; i++) {
				const struct img_jmember *m = &feats->o.m[i];

				if (m->v->type == IMG_JV_NULL)
					continue;
				if (m->v->type != IMG_JV_BOOL)
					return img_err_set(r->err, EINVAL, "kernel.features.%s is not true, false or null",
							   m->key);
				if ((e = add_feat(p, m->key, m->v->b, IMG_HOW_PROFILE)))
					return img_err_set(r->err, -e, "kernel.features: too many");
			}
		} else if (feats && feats->type != IMG_JV_NULL) {
			return bad(r, "kernel.features", "an object");
		}
	} else if (k && k->type != IMG_JV_NULL) {
		return bad(r, "kernel", "an object");
	}
	cpu = img_jv_get(root, "cpu");
	if (cpu && cpu->type == IMG_JV_OBJ) {
		if ((e = get_str(r, cpu, "vendor", &p->vendor)) || (e = get_str(r, cpu, "model_name", &p->model_name)) ||
		    (e = get_words(r, cpu, "flags", &p->flags, &p->nflags, MAX_FLAGS, &p->have_flags)))
			return e;
		x = img_jv_get(cpu, "xsave");
		if (x && x->type == IMG_JV_OBJ) {
			const struct img_jv *comps = img_jv_get(x, "components");
			uint64_t sz = 0, mx = 0;

			if (img_jv_get(x, "mask")) {
				if ((e = get_u64(r, x, "mask", &p->xmask)))
					return e;
			} else if (comps && comps->type == IMG_JV_ARR) {
				/* a hand-written profile may name the components instead */
				for (size_t i = 0; i < comps->a.n; i++) {
					const struct img_xfeature *xf;

					if (comps->a.v[i]->type != IMG_JV_STR)
						return bad(r, "cpu.xsave.components", "an array of strings");
					xf = img_xfeature_by_name(comps->a.v[i]->s.s);
					if (!xf)
						return img_err_set(r->err, EINVAL,
								   "cpu.xsave.components: unknown component '%s'",
								   comps->a.v[i]->s.s);
					p->xmask |= 1ull << xf->bit;
				}
			} else {
				return img_err_set(r->err, EINVAL, "cpu.xsave has neither mask nor components");
			}
			if ((e = get_u64(r, x, "cpu_mask", &p->xcpu)) || (e = get_u64(r, x, "size", &sz)) ||
			    (e = get_u64(r, x, "max_size", &mx)))
				return e;
			p->xsize = (uint32_t)sz;
			p->xmax = (uint32_t)mx;
			p->have_xsave = 1;
		} else if (x && x->type != IMG_JV_NULL) {
			return bad(r, "cpu.xsave", "an object");
		}
	}
	cg = img_jv_get(root, "cgroup");
	if (cg && cg->type == IMG_JV_OBJ) {
		if ((e = get_str(r, cg, "layout", &p->cgroup)) ||
		    (e = get_words(r, cg, "controllers", &p->controllers, &p->ncontrollers, MAX_CONTROLLERS, NULL)))
			return e;
		if (p->cgroup && strcmp(p->cgroup, "v1") && strcmp(p->cgroup, "v2") && strcmp(p->cgroup, "hybrid") &&
		    strcmp(p->cgroup, "none"))
			return img_err_set(r->err, EINVAL, "cgroup.layout '%s' is not v1, v2, hybrid or none", p->cgroup);
	}
	criu = img_jv_get(root, "criu");
	if (criu && criu->type == IMG_JV_OBJ && (e = get_str(r, criu, "version", &p->criu)))
		return e;
	return 0;
}

int img_profile_parse(const char *text, size_t n, const char *name, struct img_profile **out, struct img_err *err)
{
	struct img_err local;
	struct img_arena a;
	struct img_jv *v;
	struct rd r;
	int e;

	if (!err)
		err = &local;
	img_arena_init(&a);
	img_err_subject(err, name);
	v = img_json_parse(&a, text, n, err);
	if (!v) {
		img_arena_free(&a);
		return -err->code;
	}
	r.p = profile_new(name);
	r.err = err;
	if (!r.p) {
		img_arena_free(&a);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	e = read_profile(&r, v);
	img_arena_free(&a);
	if (!e && r.p->a.failed) /* a string it could not keep */
		e = img_err_set(err, ENOMEM, "out of memory");
	if (e) {
		img_profile_free(r.p);
		return e;
	}
	*out = r.p;
	return 0;
}

int img_profile_load(const char *path, struct img_profile **out, struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	if (src->size > PROFILE_MAX_BYTES) {
		img_src_unref(src);
		img_err_subject(err, path);
		return img_err_set(err, EFBIG, "%zu bytes: a profile is at most %u", src->size, PROFILE_MAX_BYTES);
	}
	r = img_profile_parse((const char *)src->data, src->size, path, out, err);
	img_src_unref(src);
	return r;
}
