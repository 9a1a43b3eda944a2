/* cr-convert's commands. */
#ifndef CR_CONVERT_H
#define CR_CONVERT_H

#include "img/cmd.h"
#include "img/image.h"

int cmd_encode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_pack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_core(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_unpack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
/* upgrade, downgrade, apply */
int cmd_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
/* upgrade, downgrade: linux-cr streams to upgrade.c, image sets to cmd_convert */
int cmd_versions(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_lcr_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

#endif
