/*
 * libimg: reading CRIU's logs — the outcome of a run, the first error and
 * the errors that follow from it, and what CRIU's known messages mean
 * (schemas/criu/logmsgs.tab).
 */
#ifndef IMG_EXPLAIN_H
#define IMG_EXPLAIN_H

#include "base.h"
#include "schema.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { IMG_LOG_UNKNOWN = 0, IMG_LOG_RESTORE, IMG_LOG_DUMP, IMG_LOG_PREDUMP };
enum { IMG_LOG_INCOMPLETE = 0, IMG_LOG_OK, IMG_LOG_FAILED };
enum { IMG_ROLE_NONE = 0, IMG_ROLE_CAUSE, IMG_ROLE_CONTEXT, IMG_ROLE_EFFECT, IMG_ROLE_BENIGN,
       IMG_ROLE_OK, IMG_ROLE_FAILED, IMG_ROLE_KIND };
enum { IMG_LVL_INFO = 0, IMG_LVL_WARN, IMG_LVL_ERROR };

/* A known message (one record of logmsgs.tab). */
struct img_logmsg {
	const char *code;
	int role;
	int kind;            /* IMG_LOG_* for ok, failed and kind lines */
	int level;           /* IMG_LVL_*, or -1 for any */
	const char *match;   /* the regular expression, as written */
	const char *vars[12];
	int nvars;
	const char *says, *todo;
	const char *images;  /* space-separated, or NULL */
	const char *checks;  /* "files,images", or NULL */
};
int img_logmsgs(const struct img_logmsg **t, size_t *n, struct img_err *err);

/* A line of the log that matters. */
struct img_logline {
	uint32_t line;       /* 1-based */
	long pid;            /* the task prefix ("     1: "), -1 when none */
	int level;
	const char *src;     /* "criu/files-reg.c:2175", or NULL */
	const char *text;    /* the message */
	const struct img_logmsg *msg;   /* the known message it is, or NULL */
};

struct img_logvar {
	const char *name, *value;
	uint32_t line;
};

struct img_explain {
	int kind;            /* IMG_LOG_* */
	int outcome;         /* IMG_LOG_OK, _FAILED, or _INCOMPLETE when the log stops before either */
	const char *criu_version;
	uint32_t nlines;
	uint32_t run_line;           /* where the run read starts: the last "Version:" line (logs can be appended) */
	struct img_logline *chain;   /* the first error, then the errors after it up to the outcome */
	size_t nchain;
	struct img_logline *recovered; /* errors CRIU went on after (benign ones, or before a success) */
	size_t nrecovered;
	struct img_logline outcome_line;
	int have_outcome_line;
	const struct img_logmsg *diag;  /* the known message the diagnosis comes from, or NULL */
	const char *diagnosis, *todo;   /* its texts with the variables filled in */
	struct img_logvar *vars;
	size_t nvars;
	struct img_arena arena;
};

/* Read a log (all of it in memory, as mapped by img_src_open). */
int img_log_explain(const char *text, size_t n, struct img_explain **out, struct img_err *err);
void img_explain_free(struct img_explain *x);
const char *img_explain_var(const struct img_explain *x, const char *name);
/* IMG_CHECK_* areas the diagnosis says bear on the failure (0: none known). */
unsigned img_explain_checks(const struct img_explain *x);
/* Calls fn for the lines first..last (1-based, clamped) of text. */
void img_log_lines(const char *text, size_t n, uint32_t first, uint32_t last,
		   void (*fn)(void *arg, uint32_t line, const char *s, size_t len), void *arg);

/* An image entry a failure involves. */
struct img_logref {
	const char *image;
	long entry;          /* IMG_NO_ENTRY (-1) for the image as a whole */
	uint64_t offset;     /* UINT64_MAX when unknown */
	const char *what;
};
/* The entries of the set in d the variables of x point at (file ids, fds, paths, tasks, addresses). */
int img_explain_locate(const struct img_explain *x, struct img_dir *d, const struct img_schema *s,
		       struct img_logref **refs, size_t *n, struct img_arena *a, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
