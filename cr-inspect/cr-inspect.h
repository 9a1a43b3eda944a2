/* cr-inspect's commands. */
#ifndef CR_INSPECT_H
#define CR_INSPECT_H

#include "img/cmd.h"
#include "img/check.h"
#include "img/image.h"
#include "img/profile.h"

int cmd_decode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_show(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_info(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_check(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_host_profile(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_explain(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

/* check.c: what check and explain share */
int cli_color(void);
int cli_load_target(struct img_cli *c, const char *target, struct img_profile **p);
int cli_check_root(struct img_cli *c, const char *root);
void cli_print_findings(struct img_out *o, const struct img_findings *f, int color);

#endif
