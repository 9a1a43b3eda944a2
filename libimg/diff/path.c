/*
 * Paths of change records and the patterns that leave them out.
 *
 * A path is a name, then ".NAME" and "[KEY]" parts: "core.tc.comm",
 * "mm.vmas[3].prot", "fd[3].reg.pos", "ns.uts[11].utsns.nodename".  A
 * pattern is written the same way; each part is matched as a shell glob
 * (fnmatch: "*", "?", "[a-z]"), a name part only against a name part and a
 * [KEY] part only against a key part, and "**" stands for any number of parts.
 * A pattern leaves out the paths it matches and everything below them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define MAX_TOKENS 64

/* What changes on every dump of a process that did not change. */
static const char *const volatile_fields[] = {
	"inventory.dump_criu_run_id", "a new id for every run of criu",
	"inventory.dump_uptime", "the host's uptime when the dump was made",
	"stats-*", "dump and restore statistics (times, page counts)",
	"ns.time[*].timens", "the clocks of the time namespace, read at dump time",
	"core.tc.timers.**.vsec", "the time left before an itimer or POSIX timer fires",
	"core.tc.timers.**.vusec", "(the same, microseconds)",
	"core.tc.timers.**.vnsec", "(the same, nanoseconds)",
	"core.tc.timers.**.overrun", "POSIX timer overruns counted so far",
	"fd[*].tfd.vsec", "the time left before a timerfd fires",
	"fd[*].tfd.vnsec", "(the same, nanoseconds)",
	"fd[*].*.ino", "inode numbers of sockets: new ones for every socket a restore makes",
	"fd[*].pipe.pipe_id", "inode numbers of pipes (the same)",
	"fd[*].fifo.pipe_id", "(the same, for FIFOs)",
	"fd[*].epfd.tfd[*].inode", "inode numbers of the files an epoll watches",
	"fd[*].memfd_inode.shmid", "inode numbers of memfds",
	"file[*].memfd_inode.shmid", "(the same, for memfds no fd holds: shared anonymous memory)",
	NULL, NULL,
};

const char *const *img_diff_volatile(void)
{
	return volatile_fields;
}

size_t path_push(struct dctx *c, const char *fmt, ...)
{
	size_t old = c->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->path) - c->plen) {
		c->overflow++;
		c->path[c->plen] = 0;
		return old | ((size_t)1 << 62); /* remembered: the pop ends the overflow */
	}
	c->plen += (size_t)n;
	return old;
}

void path_pop(struct dctx *c, size_t len)
{
	if (len & ((size_t)1 << 62)) {
		c->overflow--;
		len &= ~((size_t)1 << 62);
	}
	c->plen = len;
	c->path[len] = 0;
}

/* Split a path or a pattern into parts (start and length of each); -1 when it is not a path. */
static int tokens(const char *s, const char **tok, size_t *len, uint8_t *key, int max)
{
	int n = 0;
	const char *p = s;

	if (!*p || *p == '.' || *p == '[')
		return -1;
	while (*p) {
		if (n == max)
			return -1;
		if (*p == '[') {
			const char *e = strchr(p + 1, ']');

			if (!e || e == p + 1)
				return -1;
			tok[n] = p + 1;
			len[n] = (size_t)(e - p - 1);
			key[n++] = 1;
			p = e + 1;
			continue;
		}
		if (n) {
			if (*p != '.')
				return -1;
			p++;
		}
		tok[n] = p;
		while (*p && *p != '.' && *p != '[')
			p++;
		len[n] = (size_t)(p - tok[n]);
		if (!len[n])
			return -1;
		key[n++] = 0;
	}
	return n;
}

int pat_compile(struct img_arena *a, const char *text, struct dpat *p, struct img_err *err)
{
	const char *tok[MAX_TOKENS];
	size_t len[MAX_TOKENS];
	uint8_t key[MAX_TOKENS];
	int n;

	memset(p, 0, sizeof(*p));
	n = tokens(text, tok, len, key, MAX_TOKENS);
	if (n < 0) {
		img_err_subject(err, text);
		return img_err_set(err, EINVAL, "not a path: write NAME, then .NAME and [KEY] parts (see cr-diff(1))");
	}
	p->text = img_arena_strndup(a, text, strlen(text));
	p->tok = img_arena_alloc(a, (size_t)n * sizeof(*p->tok));
	p->key = img_arena_alloc(a, (size_t)n);
	if (!p->text || !p->tok || !p->key)
		return img_err_set(err, ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		p->tok[i] = img_arena_strndup(a, tok[i], len[i]);
		if (!p->tok[i])
			return img_err_set(err, ENOMEM, "out of memory");
		p->key[i] = key[i];
	}
	p->n = (size_t)n;
	return 0;
}

struct split_path {
	char buf[PATH_MAX_LEN];
	char *tok[MAX_TOKENS];
	uint8_t key[MAX_TOKENS];
	int n;
};

static int split_path(const char *path, struct split_path *sp)
{
	const char *tok[MAX_TOKENS];
	size_t len[MAX_TOKENS];
	size_t plen = strlen(path);

	if (plen >= sizeof(sp->buf))
		return -1;
	memcpy(sp->buf, path, plen + 1);
	sp->n = tokens(sp->buf, tok, len, sp->key, MAX_TOKENS);
	if (sp->n < 0)
		return -1;
	/* each part NUL terminated in place: the separator after it is no longer needed */
	for (int i = 0; i < sp->n; i++) {
		sp->tok[i] = sp->buf + (tok[i] - sp->buf);
		sp->tok[i][len[i]] = 0;
	}
	return 0;
}

static int match_at(const struct dpat *p, size_t i, const struct split_path *q, int j)
{
	if (i == p->n)
		return 1; /* the pattern names this path or one of its parents */
	if (!p->key[i] && !strcmp(p->tok[i], "**"))
		return match_at(p, i + 1, q, j) || (j < q->n && match_at(p, i, q, j + 1));
	if (j == q->n || p->key[i] != q->key[j])
		return 0;
	if (fnmatch(p->tok[i], q->tok[j], 0))
		return 0;
	return match_at(p, i + 1, q, j + 1);
}

/* Could the pattern match a path whose first part is root?  (Most paths are ruled out here.) */
static int may_match(const struct dpat *p, const char *root)
{
	return !strcmp(p->tok[0], "**") || !fnmatch(p->tok[0], root, 0);
}

int path_ignored(const struct img_diff *d, const char *path)
{
	struct split_path q;
	char root[256];
	size_t n = strcspn(path, ".[");
	int maybe = n >= sizeof(root);

	if (!d->npats)
		return 0;
	if (!maybe) {
		memcpy(root, path, n);
		root[n] = 0;
	}
	for (size_t i = 0; i < d->npats && !maybe; i++)
		maybe = may_match(&d->pats[i], root);
	if (!maybe || split_path(path, &q))
		return 0;
	for (size_t i = 0; i < d->npats; i++)
		if (match_at(&d->pats[i], 0, &q, 0))
			return 1;
	return 0;
}

int img_diff_pattern_check(const char *pattern, struct img_err *err)
{
	struct img_arena a;
	struct dpat p;
	int r;

	img_arena_init(&a);
	r = pat_compile(&a, pattern, &p, err);
	img_arena_free(&a);
	return r;
}

int img_diff_pattern_match(const char *pattern, const char *path)
{
	struct img_arena a;
	struct split_path q;
	struct dpat p;
	int r = 0;

	img_arena_init(&a);
	if (!pat_compile(&a, pattern, &p, NULL) && !split_path(path, &q))
		r = match_at(&p, 0, &q, 0);
	img_arena_free(&a);
	return r;
}
