/* The tools' subcommand tables and their common options. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "img/cmd.h"

const char img_common_options_help[] =
	"  -j, --json           print JSON\n"
	"  -p, --pretty         print indented JSON (implies --json where output is text)\n"
	"  -q, --quiet          no warnings or progress\n"
	"      --schema-dir DIR read image schemas from DIR instead of the built-in ones\n"
	"  -h, --help           show this help\n";

void img_cmd_help(const struct img_cli *c, const struct img_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: %s %s\n\n%s\n", c->prog, cmd->usage, cmd->summary);
	if (cmd->options && cmd->options[0])
		fprintf(f, "\noptions:\n%s", cmd->options);
	fprintf(f, "\ncommon options:\n%s", img_common_options_help);
}

void img_cmd_list(const struct img_cli *c, const struct img_cmd *cmds, const char *what, FILE *f)
{
	fprintf(f, "usage: %s COMMAND [ARGS] [OPTIONS]\n\n%s\n\ncommands:\n", c->prog, what);
	for (const struct img_cmd *k = cmds; k->name; k++)
		fprintf(f, "  %-10s %s\n", k->name, k->summary);
	fprintf(f, "\ncommon options:\n%s  -V, --version        print the version\n", img_common_options_help);
	fprintf(f, "\n'%s COMMAND --help' describes a command.\n", c->prog);
}

int img_cmd_usage(const struct img_cli *c, const struct img_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	img_cli_failf(c, "%s: %s", cmd->name, msg);
	fprintf(stderr, "usage: %s %s\n", c->prog, cmd->usage);
	return 2;
}

int img_cmd_getopt(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, const char *shortopts,
		   const struct option *longopts)
{
	/* long forms get their own values: a command may take -p for itself (ckptinfo's --pids) */
	static const struct option common[] = {
		{ "json", no_argument, NULL, IMG_OPT_JSON },
		{ "pretty", no_argument, NULL, IMG_OPT_PRETTY },
		{ "quiet", no_argument, NULL, IMG_OPT_QUIET },
		{ "schema-dir", required_argument, NULL, IMG_OPT_SCHEMA_DIR },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option all[64];
	char sopts[128];
	size_t n = 0;
	int opt;

	snprintf(sopts, sizeof(sopts), "%s%s", shortopts ? shortopts : "", IMG_CMD_COMMON_SHORT);
	for (; longopts && longopts[n].name && n < 48; n++)
		all[n] = longopts[n];
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		all[n++] = common[i];
	memset(&all[n], 0, sizeof(all[n]));
	for (;;) {
		opt = getopt_long(argc, argv, sopts, all, NULL);
		if ((opt == 'j' || opt == 'p' || opt == 'q') && shortopts && strchr(shortopts, opt))
			return opt; /* the command's own meaning of the letter */
		switch (opt) {
		case 'j':
		case IMG_OPT_JSON:
			c->json = 1;
			continue;
		case 'p':
		case IMG_OPT_PRETTY:
			c->pretty = 1;
			continue;
		case 'q':
		case IMG_OPT_QUIET:
			c->quiet = 1;
			continue;
		case IMG_OPT_SCHEMA_DIR:
			c->schema_dir = optarg;
			continue;
		case 'h':
			img_cmd_help(c, cmd, stdout);
			return 'h';
		case '?':
			fprintf(stderr, "usage: %s %s\n", c->prog, cmd->usage);
			return '?';
		case -1:
			if (img_cli_schema(c))
				return 'E';
			return -1;
		default:
			return opt;
		}
	}
}

int img_cmd_run(struct img_cli *c, const struct img_cmd *cmds, int argc, char **argv)
{
	for (const struct img_cmd *k = cmds; k->name; k++)
		if (!strcmp(k->name, argv[0])) {
			unsigned long failures = img_alloc_failures();
			int r;

			optind = 0; /* reset getopt for the command's own parse */
			r = k->fn(c, k, argc, argv);
			/* what a command printed after an allocation failed may be incomplete: never a success */
			if (r != 2 && img_alloc_failures() != failures)
				r = img_cli_failf(c, "cannot complete %s: out of memory", k->name);
			return r;
		}
	return img_cli_failf(c, "unknown command '%s' (see '%s --help')", argv[0], c->prog);
}
