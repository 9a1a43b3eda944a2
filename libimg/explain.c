/*
 * CRIU logs: the outcome of a run, its first error and the errors that
 * follow, matched against the known messages of schemas/criu/logmsgs.tab.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "img/check.h"
#include "img/explain.h"
#include "img/tab.h"

#define MAX_MSGS 256
#define MAX_GROUPS 12
#define MAX_ERRORS 4096
#define MAX_CHAIN 32
#define MAX_TEXT 1024
#define MAX_BENIGN 16

struct known {
	struct img_logmsg m;
	regex_t re;
	char lead[64];   /* a literal the message starts with, to skip regexec on most lines */
	size_t nlead;
};

static struct {
	struct img_arena arena;
	struct known k[MAX_MSGS];
	struct img_logmsg pub[MAX_MSGS];
	size_t n;
	int r;
	struct img_err err;
} tab;

static const char *keep(const char *s)
{
	return img_arena_strndup(&tab.arena, s, strlen(s));
}

static const struct { const char *name; int v; } roles[] = {
	{ "cause", IMG_ROLE_CAUSE }, { "context", IMG_ROLE_CONTEXT }, { "effect", IMG_ROLE_EFFECT },
	{ "benign", IMG_ROLE_BENIGN }, { "ok", IMG_ROLE_OK }, { "failed", IMG_ROLE_FAILED },
	{ "kind", IMG_ROLE_KIND },
};
static const struct { const char *name; int v; } kinds[] = {
	{ "restore", IMG_LOG_RESTORE }, { "dump", IMG_LOG_DUMP }, { "pre-dump", IMG_LOG_PREDUMP },
};
static const struct { const char *name; int v; } levels[] = {
	{ "error", IMG_LVL_ERROR }, { "warn", IMG_LVL_WARN }, { "info", IMG_LVL_INFO }, { "any", -1 },
};

#define LOOKUP(t, s, out)                                                  \
	({                                                                 \
		int _ok = 0;                                               \
		for (size_t _i = 0; _i < sizeof(t) / sizeof(t[0]); _i++)  \
			if (!strcmp(t[_i].name, s)) {                      \
				*(out) = t[_i].v;                          \
				_ok = 1;                                   \
			}                                                  \
		_ok;                                                       \
	})

/* The literal a regular expression anchored with ^ starts with. */
static void lead_literal(struct known *k)
{
	const char *p = k->m.match;
	size_t n = 0;

	if (*p++ != '^')
		return;
	while (*p && n < sizeof(k->lead) - 1) {
		char c = *p;

		if (c == '\\' && p[1] && strchr(".()[]{}*+?|^$\\", p[1])) {
			c = p[1];
			p++;
		} else if (strchr(".()[]{}*+?|^$\\", c)) {
			break;
		}
		if (p[1] == '*' || p[1] == '?' || p[1] == '{')
			break; /* this character may be absent */
		k->lead[n++] = c;
		p++;
	}
	k->nlead = n;
}

static int msg_line(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	struct known *k;

	(void)arg;
	if (!l->indented) {
		if (l->nf != 2 || strcmp(l->f[0], "msg"))
			return img_err_set(err, EINVAL, "expected 'msg CODE'");
		if (tab.n == MAX_MSGS)
			return img_err_set(err, EINVAL, "more than %d messages", MAX_MSGS);
		k = &tab.k[tab.n++];
		k->m.code = keep(l->f[1]);
		k->m.level = IMG_LVL_ERROR;
		return 0;
	}
	if (!tab.n)
		return img_err_set(err, EINVAL, "a member line before the first 'msg'");
	k = &tab.k[tab.n - 1];
	if (l->nf < 2)
		return img_err_set(err, EINVAL, "'%s' has no value", l->f[0]);
	if (!strcmp(l->f[0], "role")) {
		if (!LOOKUP(roles, l->f[1], &k->m.role))
			return img_err_set(err, EINVAL, "unknown role '%s'", l->f[1]);
	} else if (!strcmp(l->f[0], "kind")) {
		if (!LOOKUP(kinds, l->f[1], &k->m.kind))
			return img_err_set(err, EINVAL, "unknown kind '%s'", l->f[1]);
	} else if (!strcmp(l->f[0], "level")) {
		if (!LOOKUP(levels, l->f[1], &k->m.level))
			return img_err_set(err, EINVAL, "unknown level '%s'", l->f[1]);
	} else if (!strcmp(l->f[0], "match")) {
		k->m.match = keep(l->rest[1]);
		if (regcomp(&k->re, k->m.match, REG_EXTENDED)) {
			k->m.match = NULL;
			return img_err_set(err, EINVAL, "%s: not a valid regular expression", k->m.code);
		}
		lead_literal(k);
	} else if (!strcmp(l->f[0], "vars")) {
		for (unsigned i = 1; i < l->nf && k->m.nvars < MAX_GROUPS; i++)
			k->m.vars[k->m.nvars++] = keep(l->f[i]);
	} else if (!strcmp(l->f[0], "says")) {
		k->m.says = keep(l->rest[1]);
	} else if (!strcmp(l->f[0], "todo")) {
		k->m.todo = keep(l->rest[1]);
	} else if (!strcmp(l->f[0], "image")) {
		k->m.images = keep(l->rest[1]);
	} else if (!strcmp(l->f[0], "check")) {
		unsigned w;

		if (img_check_parse_areas(l->f[1], &w))
			return img_err_set(err, EINVAL, "check: '%s' is not a list of check areas", l->f[1]);
		k->m.checks = keep(l->f[1]);
	} else {
		return img_err_set(err, EINVAL, "unknown member '%s'", l->f[0]);
	}
	return 0;
}

static void load(void)
{
	const struct img_tabsrc *t = img_tab_builtin("criu/logmsgs.tab");

	img_arena_init(&tab.arena);
	if (!t)
		tab.r = img_err_set(&tab.err, ENOENT, "no built-in table criu/logmsgs.tab");
	else
		tab.r = img_tab_parse(t->text, t->len, "criu/logmsgs.tab", msg_line, NULL, &tab.err);
	for (size_t i = 0; !tab.r && i < tab.n; i++) {
		struct known *k = &tab.k[i];

		if (!k->m.match || !k->m.role)
			tab.r = img_err_set(&tab.err, EINVAL, "criu/logmsgs.tab: %s lacks match or role", k->m.code);
		else if (k->re.re_nsub >= MAX_GROUPS || (size_t)k->m.nvars > k->re.re_nsub)
			tab.r = img_err_set(&tab.err, EINVAL, "criu/logmsgs.tab: %s names %d vars for %zu groups",
					    k->m.code, k->m.nvars, k->re.re_nsub);
		else if (k->m.role == IMG_ROLE_CAUSE && !k->m.says)
			tab.r = img_err_set(&tab.err, EINVAL, "criu/logmsgs.tab: cause %s has no 'says'", k->m.code);
		tab.pub[i] = k->m;
	}
	if (tab.r) {
		img_err_subject(&tab.err, "built-in tables");
		tab.n = 0;
	}
}

static int loaded(struct img_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load);
	if (tab.r && err)
		*err = tab.err;
	return tab.r;
}

int img_logmsgs(const struct img_logmsg **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tab.pub;
	*n = tab.n;
	return r;
}

/* "(00.023272)      1: Error (criu/files-reg.c:2175): File ..." -> its parts */
struct parsed {
	long pid;
	int stamped;     /* it starts with a time stamp, "(00.023272)" */
	int level;
	const char *src;
	size_t srclen;
	const char *text;
	size_t len;
};

static void parse_line(const char *s, size_t len, struct parsed *p)
{
	const char *e = s + len, *q;

	p->pid = -1;
	p->stamped = 0;
	p->level = IMG_LVL_INFO;
	p->src = NULL;
	p->srclen = 0;
	if (s < e && *s == '(') {
		for (q = s + 1; q < e && q - s < 24 && ((*q >= '0' && *q <= '9') || *q == '.'); q++)
			;
		if (q < e && *q == ')' && q > s + 1) {
			s = q + 1 + (q + 1 < e && q[1] == ' ');
			p->stamped = 1;
		}
	}
	if (e - s >= 5 && !memcmp(s, "pie: ", 5))
		s += 5;
	q = s;
	while (q < e && *q == ' ')
		q++;
	if (q < e && *q >= '0' && *q <= '9') {
		long v = 0;
		const char *d = q;

		while (d < e && *d >= '0' && *d <= '9' && d - q < 10)
			v = v * 10 + (*d++ - '0');
		if (e - d >= 2 && d[0] == ':' && d[1] == ' ') {
			p->pid = v;
			s = d + 2;
		}
	}
	if (e - s >= 7 && !memcmp(s, "Error (", 7)) {
		p->level = IMG_LVL_ERROR;
		s += 7;
	} else if (e - s >= 5 && !memcmp(s, "Warn ", 5)) {
		q = s + 4;
		while (q < e && *q == ' ')
			q++;
		if (q < e && *q == '(') {
			p->level = IMG_LVL_WARN;
			s = q + 1;
		}
	}
	if (p->level != IMG_LVL_INFO) {
		q = memchr(s, ')', (size_t)(e - s));
		if (q && e - q >= 2 && q[1] == ':') {
			p->src = s;
			p->srclen = (size_t)(q - s);
			s = q + 2 + (e - q > 2 && q[2] == ' ');
		}
	}
	p->text = s;
	p->len = (size_t)(e - s);
}

static const struct known *match(const char *text, size_t len, int level, regmatch_t *g)
{
	for (size_t i = 0; i < tab.n; i++) {
		const struct known *k = &tab.k[i];

		if (k->m.level >= 0 && k->m.level != level)
			continue;
		if (k->nlead && (len < k->nlead || memcmp(text, k->lead, k->nlead)))
			continue;
		if (!regexec(&k->re, text, MAX_GROUPS, g, 0))
			return k;
	}
	return NULL;
}

struct errline {
	struct img_logline l;
	regmatch_t g[MAX_GROUPS];
};

static int add_var(struct img_explain *x, size_t *cap, const char *name, const char *v, size_t n, uint32_t line)
{
	for (size_t i = 0; i < x->nvars; i++)
		if (!strcmp(x->vars[i].name, name))
			return 0; /* the first value wins: the diagnosis' own line comes first */
	if (img_arena_grow(&x->arena, (void **)&x->vars, cap, x->nvars, sizeof(*x->vars)))
		return -ENOMEM;
	x->vars[x->nvars].name = name;
	x->vars[x->nvars].value = img_arena_strndup(&x->arena, v, n);
	x->vars[x->nvars].line = line;
	if (!x->vars[x->nvars].value)
		return -ENOMEM;
	x->nvars++;
	return 0;
}

static int line_vars(struct img_explain *x, size_t *cap, const struct errline *el)
{
	const struct img_logmsg *m = el->l.msg;
	char pid[24];

	for (int i = 0; m && i < m->nvars; i++) {
		const regmatch_t *g = &el->g[i + 1];

		if (!strcmp(m->vars[i], "-") || g->rm_so < 0)
			continue;
		if (add_var(x, cap, m->vars[i], el->l.text + g->rm_so, (size_t)(g->rm_eo - g->rm_so), el->l.line))
			return -ENOMEM;
	}
	if (el->l.pid >= 0) {
		snprintf(pid, sizeof(pid), "%ld", el->l.pid);
		if (add_var(x, cap, "pid", pid, strlen(pid), el->l.line))
			return -ENOMEM;
	}
	return 0;
}

static const char *fill(struct img_explain *x, const char *tpl)
{
	struct img_buf b;
	const char *r;

	if (!tpl)
		return NULL;
	img_buf_init(&b);
	for (const char *p = tpl; *p;) {
		const char *end;

		if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}'))) {
			char name[64];
			const char *v;

			snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
			v = img_explain_var(x, name);
			img_buf_adds(&b, v ? v : "?");
			p = end + 1;
		} else {
			img_buf_addc(&b, *p++);
		}
	}
	r = b.failed ? NULL : img_arena_strndup(&x->arena, (const char *)b.data, b.len);
	img_buf_free(&b);
	return r;
}

static int keep_line(struct img_explain *x, struct errline *dst, const struct parsed *p, uint32_t line,
		     const struct known *k, const regmatch_t *g)
{
	size_t len = p->len < MAX_TEXT ? p->len : MAX_TEXT;

	dst->l.line = line;
	dst->l.pid = p->pid;
	dst->l.level = p->level;
	dst->l.src = p->src ? img_arena_strndup(&x->arena, p->src, p->srclen) : NULL;
	dst->l.text = img_arena_strndup(&x->arena, p->text, len);
	dst->l.msg = k ? &tab.pub[k - tab.k] : NULL;
	if (g)
		memcpy(dst->g, g, sizeof(dst->g));
	return dst->l.text ? 0 : -ENOMEM;
}

int img_log_explain(const char *text, size_t n, struct img_explain **out, struct img_err *err)
{
	struct img_explain *x;
	struct errline *errs = NULL, outcome = { 0 };
	size_t nerrs = 0, nbenign = 0, at = 0, vcap = 0, outcome_idx = 0;
	char buf[MAX_TEXT + 1];
	regmatch_t g[MAX_GROUPS];
	int r = 0, have_outcome = 0;
	uint32_t criu_lines = 0;

	if (loaded(err))
		return -EINVAL;
	x = img_calloc(1, sizeof(*x));
	errs = img_malloc(MAX_ERRORS * sizeof(*errs));
	if (!x || !errs) {
		img_free(x);
		img_free(errs);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	img_arena_init(&x->arena);
	while (at < n && !r) {
		const char *s = text + at, *nl = memchr(s, '\n', n - at);
		size_t len = nl ? (size_t)(nl - s) : n - at;
		const struct known *k;
		struct parsed p;

		at += len + (nl != NULL);
		x->nlines++;
		parse_line(s, len, &p);
		criu_lines += p.stamped || p.level != IMG_LVL_INFO;
		if (p.len > 9 && !memcmp(p.text, "Version: ", 9)) {
			/* a new run of CRIU: logs appended to one file are read for their last run */
			const char *v = p.text + 9;
			size_t vl = 0;

			while (vl < p.len - 9 && v[vl] != ' ') /* the text is not NUL terminated */
				vl++;
			x->criu_version = img_arena_strndup(&x->arena, v, vl);
			if (!x->criu_version) {
				r = -ENOMEM;
				break;
			}
			x->run_line = x->nlines;
			x->kind = 0;
			x->outcome = IMG_LOG_INCOMPLETE;
			have_outcome = 0;
			nerrs = nbenign = 0;
		}
		if (p.level == IMG_LVL_WARN)
			continue;
		/* regexec wants a C string */
		size_t cl = p.len < MAX_TEXT ? p.len : MAX_TEXT;

		memcpy(buf, p.text, cl);
		buf[cl] = 0;
		k = match(buf, cl, p.level, g);
		if (k && k->m.role == IMG_ROLE_KIND) {
			if (!x->kind)
				x->kind = k->m.kind;
			continue;
		}
		if (k && (k->m.role == IMG_ROLE_OK || k->m.role == IMG_ROLE_FAILED)) {
			r = keep_line(x, &outcome, &p, x->nlines, k, g);
			x->outcome = k->m.role == IMG_ROLE_OK ? IMG_LOG_OK : IMG_LOG_FAILED;
			x->kind = k->m.kind;
			have_outcome = 1;
			outcome_idx = nerrs;
			continue;
		}
		if (p.level != IMG_LVL_ERROR || nerrs == MAX_ERRORS)
			continue;
		/* errors CRIU goes on after can come by the thousand: keep a few */
		if (k && k->m.role == IMG_ROLE_BENIGN && nbenign++ >= MAX_BENIGN)
			continue;
		r = keep_line(x, &errs[nerrs], &p, x->nlines, k, g);
		nerrs++;
	}
	if (r == -ENOMEM)
		goto nomem;
	if (r)
		goto fail;
	/* nothing CRIU writes: a time stamp, "Error (", "Warn  (" (a log cut by a crash is still one) */
	if (!criu_lines && x->nlines) {
		r = img_err_set(err, EINVAL, "none of its %u lines is CRIU's (a time stamp like '(00.000000)', "
				"'Error (' or 'Warn  ('): not a CRIU log", x->nlines);
		goto fail;
	}
	if (have_outcome) {
		x->outcome_line = outcome.l;
		x->have_outcome_line = 1;
	}
	/* errors before a success, and benign ones, did not stop the run */
	size_t last = have_outcome ? outcome_idx : nerrs, first = SIZE_MAX, nrec = 0;

	for (size_t i = 0; i < last; i++)
		if (x->outcome == IMG_LOG_OK || (errs[i].l.msg && errs[i].l.msg->role == IMG_ROLE_BENIGN))
			nrec++;
		else if (first == SIZE_MAX)
			first = i;
	x->recovered = img_arena_alloc(&x->arena, (nrec ? nrec : 1) * sizeof(*x->recovered));
	x->chain = img_arena_alloc(&x->arena, MAX_CHAIN * sizeof(*x->chain));
	if (!x->recovered || !x->chain)
		goto nomem;
	for (size_t i = 0; i < last; i++) {
		if (x->outcome == IMG_LOG_OK || (errs[i].l.msg && errs[i].l.msg->role == IMG_ROLE_BENIGN))
			x->recovered[x->nrecovered++] = errs[i].l;
		else if (x->nchain < MAX_CHAIN)
			x->chain[x->nchain++] = errs[i].l;
	}
	if (x->outcome == IMG_LOG_OK) {
		x->diag = outcome.l.msg;
		x->diagnosis = outcome.l.msg ? outcome.l.msg->says : NULL;
		if (x->arena.failed)
			goto nomem;
		*out = x;
		img_free(errs);
		return 0;
	}
	/* the diagnosis: the first known cause of the chain, else the first known effect */
	struct errline *dl = NULL;

	for (size_t i = first; first != SIZE_MAX && i < last && !dl; i++)
		if (errs[i].l.msg && errs[i].l.msg->role == IMG_ROLE_CAUSE)
			dl = &errs[i];
	for (size_t i = first; first != SIZE_MAX && i < last && !dl; i++)
		if (errs[i].l.msg && errs[i].l.msg->role == IMG_ROLE_EFFECT)
			dl = &errs[i];
	if (dl && line_vars(x, &vcap, dl))
		goto nomem;
	for (size_t i = first; first != SIZE_MAX && i < last; i++)
		if (&errs[i] != dl && errs[i].l.msg && errs[i].l.msg->role != IMG_ROLE_BENIGN && line_vars(x, &vcap, &errs[i]))
			goto nomem;
	if (dl) {
		x->diag = dl->l.msg;
		x->diagnosis = fill(x, dl->l.msg->says);
		x->todo = fill(x, dl->l.msg->todo);
		if ((dl->l.msg->says && !x->diagnosis) || (dl->l.msg->todo && !x->todo))
			goto nomem;
	}
	if (x->arena.failed)
		goto nomem;
	*out = x;
	img_free(errs);
	return 0;
nomem:
	r = img_err_set(err, ENOMEM, "out of memory");
fail:
	img_free(errs);
	img_explain_free(x);
	return r;
}

void img_explain_free(struct img_explain *x)
{
	if (!x)
		return;
	img_arena_free(&x->arena);
	img_free(x);
}

const char *img_explain_var(const struct img_explain *x, const char *name)
{
	for (size_t i = 0; i < x->nvars; i++)
		if (!strcmp(x->vars[i].name, name))
			return x->vars[i].value;
	return NULL;
}

unsigned img_explain_checks(const struct img_explain *x)
{
	unsigned w = 0;

	if (x->diag && x->diag->checks)
		img_check_parse_areas(x->diag->checks, &w);
	return w;
}

void img_log_lines(const char *text, size_t n, uint32_t first, uint32_t last,
		   void (*fn)(void *arg, uint32_t line, const char *s, size_t len), void *arg)
{
	uint32_t line = 1;
	size_t at = 0;

	while (at < n && line <= last) {
		const char *s = text + at, *nl = memchr(s, '\n', n - at);
		size_t len = nl ? (size_t)(nl - s) : n - at;

		if (line >= first)
			fn(arg, line, s, len);
		at += len + (nl != NULL);
		line++;
	}
}
