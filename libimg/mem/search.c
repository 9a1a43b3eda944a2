/*
 * Memory search: literal and hex patterns with memmem over the mapped pages,
 * POSIX regular expressions over windows that overlap by the longest match.
 * Data comes in pieces (runs); a match may span adjacent pieces, so the tail
 * of each piece is carried over and searched together with the next one.
 *
 * A regular expression can cost far more than the bytes it reads: glibc's
 * matcher is linear with a large factor for some expressions and
 * exponential with back-references.  So back-references are refused, each
 * regexec() sees a bounded window (RE_WINDOW bytes of start positions plus
 * max_len), and the time spent is checked between windows: past the
 * timeout the search stops with ETIMEDOUT, saying where it was.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "img/mem.h"

/* How much of a piece is searched before it is released from memory. */
#define WINDOW ((size_t)4 << 20)
/* Start positions a regexec() call covers: bounds the time between two looks at the clock. */
#define RE_WINDOW ((size_t)4 << 10)
#define MAX_PATTERN 65536
#define MAX_MATCH ((size_t)64 << 10)

struct img_search {
	struct img_search_opts o;
	uint8_t *bytes;          /* literal and hex */
	size_t len;
	regex_t re;
	int have_re;
	size_t overlap;          /* bytes a match may reach past a piece's end */
	uint8_t *win;            /* regex: a window copied and NUL terminated (regexec reads a C string) */
	uint64_t spent_ns;       /* regex: time spent searching, over every img_search_mem */
	uint64_t limit_ns;       /* regex: when to stop (0: never) */
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A back-reference (\1 to \9) outside a bracket expression: glibc's extension, with exponential cost. */
static int has_backref(const char *p)
{
	for (; *p; p++) {
		if (*p == '[') {
			/* a bracket expression: "]" first is a member, classes [:x:] may hold ']' */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					const char *e = strstr(p + 2, p[1] == ':' ? ":]" : p[1] == '.' ? ".]" : "=]");

					p = e ? e + 1 : p + 1;
				}
				p++;
			}
			if (!*p)
				return 0;
		} else if (*p == '\\' && p[1]) {
			if (p[1] >= '1' && p[1] <= '9')
				return 1;
			p++;
		}
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_hex(const char *p, uint8_t *out, size_t *n, struct img_err *err)
{
	size_t k = 0;
	int hi = -1;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		int v;

		if (isspace((unsigned char)*p) || *p == ':')
			continue;
		v = hexval((unsigned char)*p);
		if (v < 0)
			return img_err_set(err, EINVAL, "'%c' is not a hex digit", *p);
		if (hi < 0) {
			hi = v;
		} else {
			out[k++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return img_err_set(err, EINVAL, "odd number of hex digits");
	*n = k;
	return 0;
}

int img_search_new(const char *pattern, const struct img_search_opts *o, struct img_search **out,
		   struct img_err *err)
{
	struct img_search *s = img_calloc(1, sizeof(*s));
	size_t plen = strlen(pattern);
	int r = 0;

	*out = NULL;
	if (!s)
		return img_err_set(err, ENOMEM, "out of memory");
	s->o = *o;
	if (!s->o.max_len)
		s->o.max_len = 4096;
	if (!plen)
		r = img_err_set(err, EINVAL, "empty pattern");
	else if (plen > MAX_PATTERN)
		r = img_err_set(err, EINVAL, "pattern longer than %d bytes", MAX_PATTERN);
	else if (o->kind == IMG_SEARCH_REGEX && s->o.max_len > MAX_MATCH)
		r = img_err_set(err, EINVAL, "a match of up to %zu bytes: the longest looked for is %zu", s->o.max_len,
				MAX_MATCH);
	else if (o->kind == IMG_SEARCH_REGEX && has_backref(pattern))
		r = img_err_set(err, EINVAL, "back-references (\\1...\\9) are not supported: their cost grows exponentially");
	else if (o->kind == IMG_SEARCH_REGEX) {
		int rc = regcomp(&s->re, pattern, REG_EXTENDED | (o->icase ? REG_ICASE : 0));

		if (rc == REG_ESPACE) {
			r = img_err_set(err, ENOMEM, "out of memory");
		} else if (rc) {
			char msg[256];

			regerror(rc, &s->re, msg, sizeof(msg));
			r = img_err_set(err, EINVAL, "bad regular expression: %s", msg);
		} else {
			s->have_re = 1;
			s->overlap = s->o.max_len;
			s->limit_ns = s->o.timeout_ms == IMG_SEARCH_NO_TIMEOUT ? 0
				      : (uint64_t)(s->o.timeout_ms ? s->o.timeout_ms : IMG_SEARCH_TIMEOUT_MS) * 1000000u;
			s->win = img_malloc(RE_WINDOW + s->overlap + 1);
			if (!s->win)
				r = img_err_set(err, ENOMEM, "out of memory");
		}
	} else {
		s->bytes = img_malloc(plen);
		if (!s->bytes)
			r = img_err_set(err, ENOMEM, "out of memory");
		else if (o->kind == IMG_SEARCH_HEX)
			r = parse_hex(pattern, s->bytes, &s->len, err);
		else {
			memcpy(s->bytes, pattern, plen);
			s->len = plen;
		}
		if (!r && !s->len)
			r = img_err_set(err, EINVAL, "empty pattern");
		s->overlap = s->len - 1;
	}
	if (r) {
		img_search_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void img_search_free(struct img_search *s)
{
	if (!s)
		return;
	if (s->have_re)
		regfree(&s->re);
	img_free(s->win);
	img_free(s->bytes);
	img_free(s);
}

const uint8_t *img_search_bytes(const struct img_search *s, size_t *len)
{
	*len = s->len;
	return s->bytes;
}

struct scan {
	struct img_search *s;
	struct img_mem *m;
	int (*fn)(void *, const struct img_match *);
	void *arg;
	int stop;
	/* the tail of the data before the current piece, when it ends where the piece starts */
	uint8_t *carry;
	size_t ncarry;
	uint64_t carry_end;
	int carry_state;
	/* the junction: carry + the head of the next piece */
	uint8_t *junc;
	/* regex: the clock, and where the search was when it ran out of time */
	uint64_t t0;
	uint64_t at;
	int timeout;
};

static int report(struct scan *sc, uint64_t addr, size_t len, int state)
{
	struct img_match mt = {
		.task = img_mem_task(sc->m),
		.vma = img_mm_find(img_mem_task(sc->m)->mm, addr),
		.addr = addr,
		.len = len,
		.state = state,
	};

	sc->stop = sc->fn(sc->arg, &mt);
	return sc->stop;
}

/*
 * Find matches in p[0, n) that start before `until` and end after `after`;
 * addresses are base + offset.
 */
static int find(struct scan *sc, const uint8_t *p, size_t n, size_t until, size_t after, uint64_t base, int state)
{
	struct img_search *s = sc->s;

	if (!s->have_re) {
		const uint8_t *q = p, *end = p + n;

		while ((size_t)(end - q) >= s->len) {
			const uint8_t *h = memmem(q, (size_t)(end - q), s->bytes, s->len);
			size_t off;

			if (!h)
				break;
			off = (size_t)(h - p);
			if (off >= until)
				break;
			if (off + s->len > after && report(sc, base + off, s->len, state))
				return 1;
			q = h + 1;
		}
		return 0;
	}
	/*
	 * Windows of RE_WINDOW start positions and max_len bytes after them,
	 * copied so that regexec() gets a C string, the clock read between two.
	 */
	size_t next = 0; /* where the next match may start: after the last one, which may reach into this window */

	for (size_t w = 0; w < n && w < until; w += RE_WINDOW) {
		size_t wl = n - w > RE_WINDOW + s->overlap ? RE_WINDOW + s->overlap : n - w;
		size_t wu = until - w < RE_WINDOW ? until - w : RE_WINDOW, pos = next > w ? next - w : 0;
		regmatch_t rm;

		if (s->limit_ns && s->spent_ns + (now_ns() - sc->t0) > s->limit_ns) {
			sc->timeout = 1;
			sc->at = base + w;
			return 1;
		}
		memcpy(s->win, p + w, wl);
		s->win[wl] = 0;
		while (pos < wl && pos < wu) {
			rm.rm_so = (regoff_t)pos;
			rm.rm_eo = (regoff_t)wl;
			if (regexec(&s->re, (const char *)s->win, 1, &rm, REG_STARTEND | (pos || w ? REG_NOTBOL : 0)))
				break;
			if ((size_t)rm.rm_so >= wu)
				break;
			if (w + (size_t)rm.rm_eo > after && rm.rm_eo > rm.rm_so &&
			    report(sc, base + w + (uint64_t)rm.rm_so, (size_t)(rm.rm_eo - rm.rm_so), state))
				return 1;
			pos = rm.rm_eo > rm.rm_so ? (size_t)rm.rm_eo : (size_t)rm.rm_so + 1;
			next = w + pos;
		}
	}
	return 0;
}

/* One piece of contiguous data at addr. */
static int piece(struct scan *sc, const struct img_mem_run *run)
{
	size_t n = (size_t)(run->end - run->start), ov = sc->s->overlap;
	const uint8_t *p = run->data;

	/* matches that start in the carried tail and run into this piece */
	if (sc->ncarry && sc->carry_end == run->start) {
		size_t head = n < ov ? n : ov;

		memcpy(sc->junc, sc->carry, sc->ncarry);
		memcpy(sc->junc + sc->ncarry, p, head);
		if (find(sc, sc->junc, sc->ncarry + head, sc->ncarry, sc->ncarry, sc->carry_end - sc->ncarry,
			 sc->carry_state))
			return 1;
	}
	for (size_t w = 0; w < n; w += WINDOW) {
		size_t wl = n - w > WINDOW + ov ? WINDOW + ov : n - w;
		struct img_mem_run part = *run;

		if (find(sc, p + w, wl, n - w > WINDOW ? WINDOW : n - w, 0, run->start + w, run->state))
			return 1;
		part.start = run->start + w;
		part.end = part.start + (n - w > WINDOW ? WINDOW : n - w);
		part.data = p + w;
		img_mem_release(sc->m, &part);
	}
	/* keep the last ov bytes of the data so far */
	if (ov) {
		if (sc->carry_end != run->start)
			sc->ncarry = 0;
		if (n >= ov) {
			memcpy(sc->carry, p + n - ov, ov);
			sc->ncarry = ov;
		} else {
			size_t keep = sc->ncarry + n > ov ? ov - n : sc->ncarry;

			memmove(sc->carry, sc->carry + sc->ncarry - keep, keep);
			memcpy(sc->carry + keep, p, n);
			sc->ncarry = keep + n;
		}
		sc->carry_end = run->end;
		sc->carry_state = run->state;
	}
	return 0;
}

static int vma_wanted(const struct img_search_opts *o, const struct img_vma *v)
{
	if (o->vma_kinds && !(o->vma_kinds & (1u << v->kind)))
		return 0;
	if ((v->prot & o->prot_need) != o->prot_need)
		return 0;
	if (v->end <= o->start || (o->end && v->start >= o->end))
		return 0;
	return 1;
}

int img_search_mem(struct img_search *s, struct img_mem *m, int (*fn)(void *arg, const struct img_match *match),
		   void *arg, struct img_err *err)
{
	const struct img_mm *mm = img_mem_task(m)->mm;
	struct scan sc = { .s = s, .m = m, .fn = fn, .arg = arg, .t0 = now_ns() };
	int r = 0;

	if (!mm)
		return 0;
	if (s->overlap) {
		sc.carry = img_malloc(s->overlap);
		sc.junc = img_malloc(2 * s->overlap);
		if (!sc.carry || !sc.junc) {
			r = img_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < mm->nvmas && !r && !sc.stop; i++) {
		const struct img_vma *v = &mm->vmas[i];
		uint64_t a = v->start > s->o.start ? v->start : s->o.start;
		uint64_t end = s->o.end && s->o.end < v->end ? s->o.end : v->end;

		if (!vma_wanted(&s->o, v))
			continue;
		while (a < end && !sc.stop) {
			struct img_mem_run run;

			r = img_mem_run(m, a, end, &run, err);
			if (r)
				break;
			if (run.data) {
				if (piece(&sc, &run))
					break;
			} else {
				sc.ncarry = 0;
			}
			a = run.end;
		}
	}
out:
	img_free(sc.carry);
	img_free(sc.junc);
	s->spent_ns += now_ns() - sc.t0;
	if (!r && sc.timeout) {
		img_err_subject(err, "");
		r = img_err_set(err, ETIMEDOUT,
				"the regular expression search stopped after %llu s, at address 0x%llx of pid %u: "
				"the expression costs too much on this memory",
				(unsigned long long)(s->spent_ns / 1000000000u), (unsigned long long)sc.at,
				img_mem_task(m)->pid);
	}
	return r ? r : sc.stop;
}
