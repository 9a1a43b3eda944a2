/* cr-convert's commands. */
#ifndef CR_CONVERT_H
#define CR_CONVERT_H

#include "img/cmd.h"
#include "img/check.h"
#include "img/image.h"
#include "img/xform.h"

int cmd_encode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_pack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_core(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_unpack(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
/* upgrade, downgrade, apply */
int cmd_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
/* upgrade, downgrade: linux-cr streams to upgrade.c, image sets to cmd_convert */
int cmd_versions(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_lcr_convert(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
/* to (and the top-level form cr-convert --to FORMAT): between CRIU image sets and linux-cr streams */
int cmd_to(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

/* convert.c: --policy's words (IMG_XF_*) */
int parse_policy(const char *s, int *p);

/* --for PROFILE (host.c) */
struct host {
	const char *profile;
	struct img_profile *prof;
	struct img_findings found;      /* check --target of the input: kernel and cpu */
	char (*keys)[64];               /* the mismatches ("kernel-feature:rseq") */
	const char **keyv;
	size_t *which;                  /* the finding of each */
	size_t nkeys;
	struct img_xf_table *table;     /* schemas/transforms/host.json */
};
/* Load the profile, check the input against it, load the host table; 2 after reporting an error. */
int host_open(struct img_cli *c, struct host *h, const char *profile, struct img_dir *in, int policy);
void host_opts(struct host *h, struct img_xf_opts *xo);
/* Warnings for the mismatches no rule is for. */
void host_unhandled(struct host *h, struct img_xf_report *rep);
void host_plan_text(const struct host *h, const struct img_xf_report *rep, int policy, struct img_out *o);
void host_plan_json(const struct host *h, const struct img_xf_report *rep, struct img_jw *w);
void host_close(struct host *h);

#endif
