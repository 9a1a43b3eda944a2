/*
 * cr-convert --for PROFILE: the mismatches between an image set and a target
 * machine (what `cr-inspect check --target` finds), the host table's rule for
 * each (schemas/transforms/host.json), and the plan: per mismatch, whether it
 * bails, is emulated exactly or is left to hope.
 */
#include <errno.h>
#include <string.h>

#include "cr-convert.h"
#include "img/check.h"
#include "img/profile.h"

#define KEY_LEN 64

int host_open(struct img_cli *c, struct host *h, const char *profile, struct img_dir *in, int policy)
{
	struct img_check_opts o = { .what = IMG_CHECK_KERNEL | IMG_CHECK_CPU };
	struct img_err e = { 0 };

	memset(h, 0, sizeof(*h));
	img_findings_init(&h->found);
	h->profile = profile;
	if (img_profile_load(profile, &h->prof, &e))
		return img_cli_fail(c, "read the profile", &e);
	o.target = h->prof;
	if (img_check_dir(in, &o, &h->found, &e))
		return img_cli_fail(c, "check against the profile", &e);
	if (img_xf_table_builtin("host", img_schema_default(), &h->table, &e))
		return img_cli_fail(c, "load the table", &e);
	h->keys = img_calloc(h->found.n ? h->found.n : 1, sizeof(*h->keys));
	h->keyv = img_calloc(h->found.n ? h->found.n : 1, sizeof(*h->keyv));
	h->which = img_calloc(h->found.n ? h->found.n : 1, sizeof(*h->which));
	if (!h->keys || !h->keyv || !h->which)
		return img_cli_failf(c, "out of memory");
	for (size_t i = 0; i < h->found.n; i++) {
		const struct img_finding *fi = &h->found.v[i];
		char *k = h->keys[h->nkeys];

		img_check_mismatch_key(fi, k, KEY_LEN);
		if (!k[0])
			continue;
		h->keyv[h->nkeys] = k;
		h->which[h->nkeys++] = i;
	}
	/* a mismatch that stops the restore and no rule is for: only hope goes on */
	for (size_t i = 0; i < h->nkeys; i++) {
		const struct img_finding *fi = &h->found.v[h->which[i]];

		if (fi->sev != IMG_SEV_ERROR || img_xf_table_handles(h->table, h->keyv[i]))
			continue;
		if (policy != IMG_XF_HOPE)
			return img_cli_failf(c, "%s: %s: %s%s%s; no rule of the host table changes the images for it (--policy hope "
					     "writes the set anyway)", h->profile, h->keyv[i], fi->msg, fi->todo ? "; to do: " : "",
					     fi->todo ? fi->todo : "");
	}
	return 0;
}

void host_opts(struct host *h, struct img_xf_opts *xo)
{
	xo->mismatches = h->keyv;
	xo->nmismatches = h->nkeys;
}

void host_unhandled(struct host *h, struct img_xf_report *rep)
{
	for (size_t i = 0; i < h->nkeys; i++) {
		const struct img_finding *fi = &h->found.v[h->which[i]];

		if (img_xf_table_handles(h->table, h->keyv[i]))
			continue;
		img_xf_report_warn(rep, "%s on %s: %s (no rule changes the images for it; %s)", h->keyv[i], h->profile,
				   fi->msg, fi->sev == IMG_SEV_ERROR ? "the restore will fail" : "a warning of check");
	}
}

void host_close(struct host *h)
{
	img_findings_free(&h->found);
	img_profile_free(h->prof);
	img_xf_table_free(h->table);
	img_free(h->keys);
	img_free(h->keyv);
	img_free(h->which);
	memset(h, 0, sizeof(*h));
}

/* What became of one mismatch: the rules for it and what they did. */
struct fate {
	size_t rules, emulated, hoped, applied;
};

static struct fate fate_of(const char *key, const struct img_xf_report *rep)
{
	struct fate f = { 0 };

	for (size_t i = 0; i < rep->nrules; i++) {
		const struct img_xf_rulestat *s = &rep->rules[i];
		const char *p = s->mismatch;
		size_t kl = strlen(key);

		/* the rule's mismatches are joined with ", " */
		while (p && (p = strstr(p, key)) && !((p == s->mismatch || p[-1] == ' ') && (p[kl] == 0 || p[kl] == ',')))
			p += kl;
		if (!p || s->skipped)
			continue;
		f.rules++;
		f.emulated += s->emulated;
		f.hoped += s->hoped;
		f.applied += s->applied;
	}
	return f;
}

static const char *fate_text(const struct fate *f, char *buf, size_t len)
{
	if (!f->rules)
		snprintf(buf, len, "no rule: left as it is");
	else if (f->emulated && f->hoped)
		snprintf(buf, len, "emulated on %zu entries, left to hope on %zu", f->emulated, f->hoped);
	else if (f->emulated)
		snprintf(buf, len, "emulated on %zu entr%s", f->emulated, f->emulated == 1 ? "y" : "ies");
	else if (f->hoped)
		snprintf(buf, len, "left to hope on %zu entr%s", f->hoped, f->hoped == 1 ? "y" : "ies");
	else
		snprintf(buf, len, "nothing to change");
	return buf;
}

void host_plan_text(const struct host *h, const struct img_xf_report *rep, int policy, struct img_out *o)
{
	const char *rel = img_profile_release(h->prof), *arch = img_profile_arch(h->prof);
	char buf[128];

	img_out_printf(o, "for %s (%s%s%s): %zu mismatch%s, policy %s\n", h->profile, arch ? arch : "unknown architecture",
		       rel ? ", Linux " : "", rel ? rel : "", h->nkeys, h->nkeys == 1 ? "" : "es",
		       policy == IMG_XF_BAIL ? "bail" : policy == IMG_XF_HOPE ? "hope" : "emulate");
	for (size_t i = 0; i < h->nkeys; i++) {
		const struct img_finding *fi = &h->found.v[h->which[i]];
		struct fate f = fate_of(h->keyv[i], rep);

		img_out_printf(o, "  %s %s: %s\n", img_sev_name(fi->sev), h->keyv[i], fate_text(&f, buf, sizeof(buf)));
	}
}

void host_plan_json(const struct host *h, const struct img_xf_report *rep, struct img_jw *w)
{
	char buf[128];

	img_jw_key(w, "target");
	img_jw_obj_begin(w);
	img_jw_kv_str(w, "profile", h->profile);
	if (img_profile_arch(h->prof))
		img_jw_kv_str(w, "arch", img_profile_arch(h->prof));
	if (img_profile_release(h->prof))
		img_jw_kv_str(w, "release", img_profile_release(h->prof));
	img_jw_key(w, "mismatches");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < h->nkeys; i++) {
		const struct img_finding *fi = &h->found.v[h->which[i]];
		struct fate f = fate_of(h->keyv[i], rep);

		img_jw_obj_begin(w);
		img_jw_kv_str(w, "mismatch", h->keyv[i]);
		img_jw_kv_str(w, "severity", img_sev_name(fi->sev));
		img_jw_kv_str(w, "message", fi->msg ? fi->msg : "");
		img_jw_kv_u64(w, "rules", f.rules);
		img_jw_kv_u64(w, "emulated", f.emulated);
		img_jw_kv_u64(w, "hoped", f.hoped);
		img_jw_kv_str(w, "plan", fate_text(&f, buf, sizeof(buf)));
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_obj_end(w);
}
