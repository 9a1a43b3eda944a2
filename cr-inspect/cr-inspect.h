/* cr-inspect's commands. */
#ifndef CR_INSPECT_H
#define CR_INSPECT_H

#include "img/cmd.h"
#include "img/image.h"

int cmd_decode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_show(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_info(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

#endif
