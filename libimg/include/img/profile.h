/*
 * libimg: machine profiles — what a kernel and a CPU offer to a restore —
 * and the feature tables they are read with (schemas/features).
 *
 * A profile comes from probing this machine (img_profile_probe) or from a
 * JSON file written by `cr-inspect host-profile` on another machine
 * (img_profile_load).  Checks compare the needs of an image set with one.
 */
#ifndef IMG_PROFILE_H
#define IMG_PROFILE_H

#include "base.h"
#include "json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A kernel feature (schemas/features/kernel.tab). */
struct img_kfeature {
	const char *name;       /* "rseq" */
	const char *since_str;  /* "4.18" */
	uint32_t since;         /* img_kversion_parse() form */
	const char *probe;      /* "syscall:rseq", "path:/proc/self/ns/time", "version", ... */
	int missing;            /* IMG_SEV_ERROR or IMG_SEV_WARNING (img/check.h) */
	const char *what;
	const char *todo;
};

/* An x86 XSAVE state component (schemas/features/xsave.tab). */
struct img_xfeature {
	unsigned bit;
	const char *name;       /* "hi16_zmm" */
	const char *flag;       /* "avx512f", or NULL */
	const char *field;      /* "hi16_zmm" in user_x86_xsave_entry, or NULL */
	int user;               /* a user state component (saved in signal frames) */
	const char *what;
};

/* The built-in tables, parsed at first use; 0 or -errno with err filled. */
int img_kfeatures(const struct img_kfeature **t, size_t *n, struct img_err *err);
int img_xfeatures(const struct img_xfeature **t, size_t *n, struct img_err *err);
const struct img_kfeature *img_kfeature_find(const char *name);
const struct img_xfeature *img_xfeature_by_bit(unsigned bit);
const struct img_xfeature *img_xfeature_by_name(const char *name);

struct img_profile;

enum {
	IMG_PROBE_CRIU = 1,  /* also run `criu --version` */
};

/* Probe this machine. */
int img_profile_probe(unsigned flags, struct img_profile **out, struct img_err *err);
/* Read a profile file (JSON, as img_profile_write makes). */
int img_profile_load(const char *path, struct img_profile **out, struct img_err *err);
int img_profile_parse(const char *text, size_t n, const char *name, struct img_profile **out,
		      struct img_err *err);
void img_profile_free(struct img_profile *p);
/* The profile as JSON. */
void img_profile_write(const struct img_profile *p, struct img_jw *w);

/* Where it comes from: "this host" or the file's path. */
const char *img_profile_name(const struct img_profile *p);
/* It describes the machine this program runs on (probed, not loaded). */
int img_profile_is_host(const struct img_profile *p);
const char *img_profile_arch(const struct img_profile *p);        /* "x86_64", or NULL */
const char *img_profile_release(const struct img_profile *p);     /* "6.1.0-18-amd64", or NULL */
unsigned img_profile_page_size(const struct img_profile *p);      /* 0: unknown */
uint64_t img_profile_pid_max(const struct img_profile *p);        /* 0: unknown */
const char *img_profile_cgroup(const struct img_profile *p);      /* "v1", "v2", "hybrid", "none", or NULL */
const char *img_profile_criu(const struct img_profile *p);        /* "4.2", or NULL */

enum { IMG_HOW_UNKNOWN = 0, IMG_HOW_PROBE, IMG_HOW_VERSION, IMG_HOW_PROFILE };
/*
 * Whether the kernel has a feature of kernel.tab: 1 yes, 0 no, -1 unknown.
 * how (if not NULL) says what told: a probe on this machine, the kernel
 * release against the table, or the profile file's own statement.
 */
int img_profile_feature(const struct img_profile *p, const char *name, int *how);
/* A /proc/cpuinfo flag: 1, 0, or -1 when the profile lists no flags. */
int img_profile_cpu_flag(const struct img_profile *p, const char *flag);
/* The XSAVE components the OS enabled (XCR0) and the sizes; -ENOENT when not known (not x86). */
int img_profile_xsave(const struct img_profile *p, uint64_t *mask, uint32_t *size, uint32_t *max_size);

#ifdef __cplusplus
}
#endif
#endif
