/*
 * The report of a transform run: what each rule did, every change with the
 * value before and after, and the warnings; as text lines or as JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xform_int.h"

static const char *const op_names[] = {
	[IMG_XF_OP_SET] = "set", [IMG_XF_OP_DROP] = "drop", [IMG_XF_OP_ADD_ENTRY] = "add-entry",
	[IMG_XF_OP_DROP_ENTRY] = "drop-entry", [IMG_XF_OP_SPLIT] = "split", [IMG_XF_OP_MERGE] = "merge",
	[IMG_XF_OP_MOVE] = "move", [IMG_XF_OP_ADD_IMAGE] = "add-image", [IMG_XF_OP_DROP_IMAGE] = "drop-image",
	[IMG_XF_OP_HEAD] = "head", [IMG_XF_OP_PATCH] = "patch", [IMG_XF_OP_KEEP] = "keep",
	[IMG_XF_OP_ORDER] = "order",
};

const char *img_xf_op_name(int op)
{
	return op > 0 && op <= IMG_XF_OP_ORDER ? op_names[op] : "?";
}

void img_xf_report_init(struct img_xf_report *r)
{
	memset(r, 0, sizeof(*r));
	img_arena_init(&r->arena);
}

void img_xf_report_free(struct img_xf_report *r)
{
	img_free(r->c);
	img_free(r->rules);
	img_free(r->warn);
	img_arena_free(&r->arena);
	memset(r, 0, sizeof(*r));
}

const char *xf_rstr(struct img_xf_report *r, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = img_arena_strndup(&r->arena, s, strlen(s));
	if (!d)
		r->failed = 1;
	return d;
}

void img_xf_report_warn(struct img_xf_report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->nwarn == r->wcap) {
		size_t cap = r->wcap ? r->wcap * 2 : 8;
		char **w = img_realloc(r->warn, cap * sizeof(*w));

		if (!w) {
			r->failed = 1;
			return;
		}
		r->warn = w;
		r->wcap = cap;
	}
	r->warn[r->nwarn] = (char *)xf_rstr(r, buf);
	if (r->warn[r->nwarn])
		r->nwarn++;
}


static void text_change(struct img_out *o, const struct img_xf_change *c)
{
	const char *b = c->before ? c->before : "(none)", *a = c->after ? c->after : "(none)";

	img_out_printf(o, "  %s", c->image ? c->image : "?");
	if (c->entry >= 0)
		img_out_printf(o, c->op == IMG_XF_OP_PATCH ? " at offset 0x%llx" : " entry %lld",
			       c->op == IMG_XF_OP_PATCH ? (unsigned long long)c->entry : (unsigned long long)c->entry);
	switch (c->op) {
	case IMG_XF_OP_SET:
		img_out_printf(o, ": %s: %s -> %s\n", c->field, b, a);
		break;
	case IMG_XF_OP_DROP:
		img_out_printf(o, ": %s: %s -> (dropped)\n", c->field, b);
		break;
	case IMG_XF_OP_ADD_ENTRY:
		img_out_printf(o, ": added %s\n", a);
		break;
	case IMG_XF_OP_DROP_ENTRY:
		img_out_printf(o, ": dropped %s\n", b);
		break;
	case IMG_XF_OP_SPLIT:
		img_out_printf(o, ": split: %s %s in %s entries\n", c->field, b, a);
		break;
	case IMG_XF_OP_MERGE:
		img_out_printf(o, ": merged into entry %lld (%s + %s)\n", (long long)c->to_entry, c->field, b);
		break;
	case IMG_XF_OP_MOVE:
		img_out_printf(o, "%s%s: moved to %s entry %lld\n", c->field ? " " : "", c->field ? c->field : "",
			       c->to_image, (long long)c->to_entry);
		break;
	case IMG_XF_OP_ADD_IMAGE:
		img_out_puts(o, ": new image\n");
		break;
	case IMG_XF_OP_DROP_IMAGE:
		img_out_puts(o, ": removed\n");
		break;
	case IMG_XF_OP_HEAD:
		img_out_printf(o, ": head magic %s -> %s\n", b, a);
		break;
	case IMG_XF_OP_PATCH:
		img_out_printf(o, ": memory at %s: %s -> %s\n", c->field, b, a);
		break;
	case IMG_XF_OP_KEEP:
		img_out_puts(o, ": kept as it is (the target cannot express it)\n");
		break;
	default:
		img_out_printf(o, ": %s\n", img_xf_op_name(c->op));
	}
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

void img_xf_report_text(const struct img_xf_report *r, struct img_out *o)
{
	for (size_t i = 0; i < r->nrules; i++) {
		const struct img_xf_rulestat *s = &r->rules[i];

		/* a rule that ran more than once (one table applied twice) is told once, with all its changes */
		size_t k;

		for (k = 0; k < i; k++)
			if (same(r->rules[k].table, s->table) && same(r->rules[k].rule, s->rule))
				break;
		if (k < i)
			continue;
		size_t applied = 0;

		for (k = i; k < r->nrules; k++)
			if (same(r->rules[k].table, s->table) && same(r->rules[k].rule, s->rule))
				applied += r->rules[k].applied;
		if (s->mismatch && s->skipped) {
			/* the rules of a table for mismatches that are not there: one line */
			size_t n = 0;

			for (k = 0; k < i; k++)
				if (r->rules[k].mismatch && r->rules[k].skipped && same(r->rules[k].table, s->table))
					break;
			if (k < i)
				continue;
			img_out_printf(o, "%s: not run, for mismatches the target does not have:", s->table);
			for (k = i; k < r->nrules; k++)
				if (r->rules[k].mismatch && r->rules[k].skipped && same(r->rules[k].table, s->table))
					img_out_printf(o, "%s %s", n++ ? "," : "", r->rules[k].rule);
			img_out_putc(o, '\n');
			continue;
		}
		img_out_printf(o, "%s: %s (%s, %s): %zu applied", s->table, s->rule, s->lossless ? "lossless" : "lossy",
			       s->reversible ? "reversible" : "one-way", applied);
		if (s->mismatch)
			img_out_printf(o, " for %s", s->mismatch);
		if (s->emulated || s->hoped)
			img_out_printf(o, " (%zu emulated, %zu left to hope)", s->emulated, s->hoped);
		img_out_putc(o, '\n');
		for (size_t c = 0; c < r->n; c++)
			if (same(r->c[c].table, s->table) && same(r->c[c].rule, s->rule))
				text_change(o, &r->c[c]);
	}
	for (size_t i = 0; i < r->nwarn; i++)
		img_out_printf(o, "warning: %s\n", r->warn[i]);
}

static void kv_json(struct img_jw *w, const char *key, const char *json)
{
	img_jw_key(w, key);
	if (json)
		img_jw_raw(w, json, strlen(json));
	else
		img_jw_null(w);
}

void img_xf_report_json(const struct img_xf_report *r, struct img_jw *w)
{
	img_jw_key(w, "rules");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < r->nrules; i++) {
		const struct img_xf_rulestat *s = &r->rules[i];

		img_jw_obj_begin(w);
		img_jw_kv_str(w, "table", s->table);
		img_jw_kv_str(w, "rule", s->rule);
		img_jw_kv_bool(w, "lossless", s->lossless);
		img_jw_kv_bool(w, "reversible", s->reversible);
		img_jw_kv_u64(w, "applied", s->applied);
		if (s->mismatch) {
			img_jw_kv_str(w, "mismatch", s->mismatch);
			img_jw_kv_bool(w, "run", !s->skipped);
			img_jw_kv_u64(w, "emulated", s->emulated);
			img_jw_kv_u64(w, "hoped", s->hoped);
		}
		if (s->doc)
			img_jw_kv_str(w, "doc", s->doc);
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_key(w, "changes");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < r->n; i++) {
		const struct img_xf_change *c = &r->c[i];

		img_jw_obj_begin(w);
		if (c->table)
			img_jw_kv_str(w, "table", c->table);
		if (c->rule)
			img_jw_kv_str(w, "rule", c->rule);
		img_jw_kv_str(w, "op", img_xf_op_name(c->op));
		img_jw_kv_str(w, "image", c->image ? c->image : "");
		if (c->entry >= 0)
			img_jw_kv_i64(w, c->op == IMG_XF_OP_PATCH ? "offset" : "entry", c->entry);
		if (c->field)
			img_jw_kv_str(w, c->op == IMG_XF_OP_PATCH ? "address" : "field", c->field);
		if (c->op == IMG_XF_OP_SET || c->op == IMG_XF_OP_DROP || c->op == IMG_XF_OP_HEAD ||
		    c->op == IMG_XF_OP_PATCH || c->op == IMG_XF_OP_SPLIT || c->op == IMG_XF_OP_DROP_ENTRY ||
		    c->op == IMG_XF_OP_MERGE) {
			kv_json(w, "before", c->before);
			kv_json(w, "after", c->after);
		} else if (c->op == IMG_XF_OP_ADD_ENTRY)
			kv_json(w, "after", c->after);
		if (c->to_image) {
			img_jw_kv_str(w, "to_image", c->to_image);
			img_jw_kv_i64(w, "to_entry", c->to_entry);
		}
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_key(w, "warnings");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < r->nwarn; i++)
		img_jw_str(w, r->warn[i]);
	img_jw_arr_end(w);
}
