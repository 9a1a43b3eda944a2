/*
 * libimg: what the command-line front ends share — reporting errors in text
 * and JSON, reading sizes and addresses, writing outputs safely.
 */
#ifndef IMG_CLI_H
#define IMG_CLI_H

#include "base.h"
#include "json.h"

#ifdef __cplusplus
extern "C" {
#endif

struct img_cli {
	const char *prog;  /* "cr-inspect" */
	int json;          /* -j: JSON output; errors go to stdout as {"error": ...} too */
	int pretty;        /* -p */
	int quiet;
	const char *schema_dir;
	int schema_loaded;
};

/* Report an error: "PROG: cannot VERB 'SUBJECT': MSG" on stderr (and {"error"} in JSON mode). Returns 2. */
int img_cli_fail(const struct img_cli *c, const char *verb, const struct img_err *e);
/* Report a usage or other error given as text. Returns 2. */
int img_cli_failf(const struct img_cli *c, const char *fmt, ...) IMG_PRINTF(2, 3);
/* Print a warning line on stderr (not in quiet mode). */
void img_cli_warn(const struct img_cli *c, const char *fmt, ...) IMG_PRINTF(2, 3);
/*
 * A progress bar on stderr for long work: drawn only when stderr is a
 * terminal, not with --quiet, and only once the work has taken a moment
 * (CR_PROGRESS_DELAY_MS, 300 by default); at most ten times a second.
 * img_progress_end erases it.
 */
struct img_progress {
	int on;
	const char *what;
	uint64_t start_ms, last_ms, delay_ms;
	int drawn;
};
void img_progress_init(struct img_progress *p, const struct img_cli *c, const char *what);
void img_progress_set(struct img_progress *p, uint64_t done, uint64_t total);
void img_progress_end(struct img_progress *p);

/* Load --schema-dir if given; returns 0 or 2 after reporting. */
int img_cli_schema(struct img_cli *c);

/*
 * Colours for stdout: mode "always", "never", or "auto" (NULL): on a terminal
 * unless NO_COLOR is set (https://no-color.org) or TERM is dumb.  1 or 0, or
 * -1 for a mode that is none of these.
 */
int img_cli_color(const char *mode);

/* A size for people: "512 B", "1.5 KiB", "16.0 MiB". */
void img_fmt_size(char *buf, size_t len, uint64_t v);

/* "4096", "4k", "16M", "1G", "0x1000" */
int img_parse_size(const char *s, uint64_t *v);
/* C integer syntax: "0x7f...", "123", "0777" */
int img_parse_addr(const char *s, uint64_t *v);

#ifdef __cplusplus
}
#endif
#endif
