/* Support for the command-line front ends: error reports, number syntax, schema loading. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "img/cli.h"
#include "img/schema.h"

static void json_error(const char *msg)
{
	struct img_out o;
	struct img_jw w;

	img_out_fd(&o, STDOUT_FILENO);
	img_jw_init(&w, &o, 0);
	img_jw_obj_begin(&w);
	img_jw_kv_str(&w, "error", msg);
	img_jw_obj_end(&w);
	img_out_putc(&o, '\n');
	img_out_flush(&o);
}

int img_cli_fail(const struct img_cli *c, const char *verb, const struct img_err *e)
{
	char msg[1280];

	if (e->subject[0])
		snprintf(msg, sizeof(msg), "cannot %s '%s': %s", verb, e->subject, e->msg);
	else
		snprintf(msg, sizeof(msg), "cannot %s: %s", verb, e->msg);
	fprintf(stderr, "%s: %s\n", c->prog, msg);
	if (c->json)
		json_error(msg);
	return 2;
}

int img_cli_failf(const struct img_cli *c, const char *fmt, ...)
{
	char msg[1280];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", c->prog, msg);
	if (c->json)
		json_error(msg);
	return 2;
}

void img_cli_warn(const struct img_cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fprintf(stderr, "%s: warning: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void img_progress_begin(struct img_progress *p, const struct img_cli *c, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	snprintf(p->what, sizeof(p->what), "%s", what);
	p->tty = !c->quiet && isatty(STDERR_FILENO);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void img_progress_update(struct img_progress *p, uint64_t done, uint64_t total)
{
	enum { WIDTH = 30 };
	char bar[WIDTH + 1];
	uint64_t t;
	unsigned fill;

	if (!p->tty || total < IMG_PROGRESS_MIN)
		return;
	t = now_ns();
	if (p->drawn && done < total && t - p->last_ns < 100000000u)
		return;
	p->last_ns = t;
	p->drawn = 1;
	fill = done >= total ? WIDTH : (unsigned)(done * WIDTH / total);
	memset(bar, '#', fill);
	memset(bar + fill, '.', WIDTH - fill);
	bar[WIDTH] = 0;
	fprintf(stderr, "\r%s [%s] %3u%% %llu/%llu MiB", p->what, bar,
		(unsigned)(done >= total ? 100 : done * 100 / total), (unsigned long long)(done >> 20),
		(unsigned long long)(total >> 20));
	fflush(stderr);
}

void img_progress_end(struct img_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}

int img_cli_schema(struct img_cli *c)
{
	struct img_schema *s;
	struct img_err e = { 0 };

	if (!c->schema_dir || c->schema_loaded)
		return 0;
	c->schema_loaded = 1;
	if (img_schema_load_dir(c->schema_dir, &s, &e))
		return img_cli_fail(c, "load the schema", &e);
	img_schema_use(s); /* lives as long as the program */
	return 0;
}

int img_cli_color(const char *mode)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!mode || !strcmp(mode, "auto"))
		return isatty(STDOUT_FILENO) && !(nc && nc[0]) && !(term && !strcmp(term, "dumb"));
	if (!strcmp(mode, "always"))
		return 1;
	if (!strcmp(mode, "never"))
		return 0;
	return -1;
}

int img_parse_addr(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int img_parse_size(const char *s, uint64_t *v)
{
	char *end;
	uint64_t mult = 1;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0:
		return 0;
	case 'k': case 'K': mult = 1ull << 10; break;
	case 'm': case 'M': mult = 1ull << 20; break;
	case 'g': case 'G': mult = 1ull << 30; break;
	case 't': case 'T': mult = 1ull << 40; break;
	default:
		return -EINVAL;
	}
	end++;
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || *v > UINT64_MAX / mult)
		return -EINVAL;
	*v *= mult;
	return 0;
}
