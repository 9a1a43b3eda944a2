/*
 * libimg: a subcommand table for the tools (bpftool's shape): each command
 * has a name, a function, a usage line and option help; -j/--json,
 * -p/--pretty, -q/--quiet, --schema-dir and -h/--help work everywhere.
 */
#ifndef IMG_CMD_H
#define IMG_CMD_H

#include <getopt.h>

#include "cli.h"

#ifdef __cplusplus
extern "C" {
#endif

struct img_cmd {
	const char *name;
	int (*fn)(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
	const char *usage;   /* "decode [-i IN] [-o OUT] [--pretty]" */
	const char *summary; /* one line */
	const char *options; /* option help, one "  -x, --long  text" per line, or NULL */
};

/*
 * Options every command takes (appended to the command's own).  A command
 * whose own short options include j, p or q gets that letter back (the long
 * forms keep their common meaning).
 */
#define IMG_CMD_COMMON_SHORT "jpqh"
enum { IMG_OPT_SCHEMA_DIR = 0x1000, IMG_OPT_HELP, IMG_OPT_JSON, IMG_OPT_PRETTY, IMG_OPT_QUIET, IMG_OPT_FIRST_OWN = 0x1100 };

/*
 * getopt_long with the common options handled here.  Returns the next option
 * of the command's own, -1 at the end, or '?' after printing an error.
 * On -h it prints the command's help and returns 'h'.
 */
int img_cmd_getopt(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, const char *shortopts,
		   const struct option *longopts);
/* Run the command named in argv[0] from a table ending with a NULL name. */
int img_cmd_run(struct img_cli *c, const struct img_cmd *cmds, int argc, char **argv);
void img_cmd_help(const struct img_cli *c, const struct img_cmd *cmd, FILE *f);
void img_cmd_list(const struct img_cli *c, const struct img_cmd *cmds, const char *what, FILE *f);
/* Usage error for a command: prints the usage line, returns 2. */
int img_cmd_usage(const struct img_cli *c, const struct img_cmd *cmd, const char *fmt, ...) IMG_PRINTF(3, 4);

extern const char img_common_options_help[];

#ifdef __cplusplus
}
#endif
#endif
