/*
 * Transform tables: JSON text (schemas/transforms/README.md) turned into
 * rules whose field paths, kinds and values are resolved against the schema
 * once, at load time, so that a typo in a table is an error naming its line
 * and column, not a rule that silently never matches.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "img/check.h"
#include "xform_int.h"

struct tp {
	struct img_xf_table *t;
	const struct img_schema *s;
	struct img_err *err;
};

static int tfail(struct tp *p, const struct img_jv *v, const char *fmt, ...) IMG_PRINTF(3, 4);

static int tfail(struct tp *p, const struct img_jv *v, const char *fmt, ...)
{
	char what[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	img_err_subject(p->err, p->t->file);
	if (v)
		return img_err_set(p->err, EINVAL, "line %u column %u: %s", v->line, v->col, what);
	return img_err_set(p->err, EINVAL, "%s", what);
}

static void *zalloc(struct tp *p, size_t n)
{
	void *x = img_arena_zalloc(&p->t->arena, n ? n : 1);

	if (!x)
		img_err_set(p->err, ENOMEM, "out of memory");
	return x;
}

static const char *str_of(const struct img_jv *o, const char *key)
{
	const struct img_jv *v = img_jv_get(o, key);

	return v && v->type == IMG_JV_STR ? v->s.s : NULL;
}

/* Every key of o must be one of keys (NULL terminated): a misspelt key is an error, not a no-op. */
static int known_keys(struct tp *p, const struct img_jv *o, const char *what, const char *const *keys)
{
	for (size_t i = 0; i < o->o.n; i++) {
		size_t k;

		for (k = 0; keys[k]; k++)
			if (!strcmp(keys[k], o->o.m[i].key))
				break;
		if (!keys[k])
			return tfail(p, o->o.m[i].v, "%s has no key '%s'", what, o->o.m[i].key);
	}
	return 0;
}

static int parse_path(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_path *out)
{
	char buf[256], *save = NULL, *tok;

	memset(out, 0, sizeof(*out));
	if (!v || v->type != IMG_JV_STR)
		return tfail(p, v, "a field path is a string (\"tc.timers.real\")");
	out->text = v->s.s;
	if (!v->s.s[0])
		return 0; /* the entry itself */
	if (!d)
		return tfail(p, v, "'%s': the rule matches entries of several messages; say which with \"entry\"",
			     v->s.s);
	if (v->s.len >= sizeof(buf))
		return tfail(p, v, "field path too long");
	memcpy(buf, v->s.s, v->s.len + 1);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		const struct img_fielddesc *fd;

		if (!d)
			return tfail(p, v, "'%s': %s is not a message", v->s.s, out->fd[out->n - 1]->name);
		if (out->n == XF_PATH_MAX)
			return tfail(p, v, "'%s': more than %d fields deep", v->s.s, XF_PATH_MAX);
		fd = img_msgdesc_field_by_name(d, tok);
		if (!fd)
			return tfail(p, v, "'%s': %s has no field '%s'", v->s.s, d->name, tok);
		out->fd[out->n++] = fd;
		d = fd->type == IMG_T_MESSAGE ? fd->msg : NULL;
	}
	if (!out->n)
		return tfail(p, v, "'%s' is not a field path", v->s.s);
	return 0;
}

static const struct img_fielddesc *path_last(const struct xf_path *p)
{
	return p->n ? p->fd[p->n - 1] : NULL;
}

/* A value in the type of field fd, read the way crit's JSON is read (names of enums and flags, hex, ...). */
static int parse_val(struct tp *p, const struct img_fielddesc *fd, const struct img_jv *v, struct xf_val *out)
{
	struct img_fielddesc one = *fd;
	struct img_msgdesc d1 = { "value", 1, &one };
	struct img_err e = { 0 };
	struct img_msg *m;

	memset(out, 0, sizeof(*out));
	if (fd->type == IMG_T_MESSAGE)
		return tfail(p, v, "%s is a message: compare or set one of its fields", fd->name);
	one.label = IMG_L_OPTIONAL;
	m = img_msg_new(&p->t->arena, &d1);
	if (!m)
		return img_err_set(p->err, ENOMEM, "out of memory");
	if (img_field_from_json(&p->t->arena, m, &one, v, fd->name, &e))
		return tfail(p, v, "%s", e.msg);
	if (m->n != 1)
		return tfail(p, v, "one value expected for %s", fd->name);
	if (fd->type == IMG_T_STRING || fd->type == IMG_T_BYTES) {
		out->is_bytes = 1;
		out->p = m->f[0].v.b.p;
		out->n = m->f[0].v.b.len;
	} else
		out->u = img_fval_u64(&one, &m->f[0]);
	return 0;
}

static int parse_kind(struct tp *p, const struct img_jv *v, const struct img_kind **out)
{
	if (!v || v->type != IMG_JV_STR)
		return tfail(p, v, "an image kind is a string (\"CORE\")");
	*out = img_kind_by_name(p->s, v->s.s);
	if (!*out)
		return tfail(p, v, "no image kind '%s'", v->s.s);
	return 0;
}

static int parse_kinds(struct tp *p, const struct img_jv *v, const struct img_kind ***kinds, size_t *n, int *any)
{
	*any = 0;
	*n = 0;
	if (v && v->type == IMG_JV_STR && !strcmp(v->s.s, "*")) {
		*any = 1;
		return 0;
	}
	if (v && v->type == IMG_JV_STR) {
		*kinds = zalloc(p, sizeof(**kinds));
		if (!*kinds)
			return -ENOMEM;
		*n = 1;
		return parse_kind(p, v, &(*kinds)[0]);
	}
	if (!v || v->type != IMG_JV_ARR || !v->a.n)
		return tfail(p, v, "\"image\" is a kind, a list of kinds, or \"*\"");
	*kinds = zalloc(p, v->a.n * sizeof(**kinds));
	if (!*kinds)
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++)
		if (parse_kind(p, v->a.v[i], &(*kinds)[i]))
			return -EINVAL;
	*n = v->a.n;
	return 0;
}

/* The message the entries of a rule have: "entry", or the one its kinds share. */
static int entry_desc(struct tp *p, const struct img_jv *o, const struct img_kind **kinds, size_t n,
		      const struct img_msgdesc **out)
{
	const char *name = str_of(o, "entry");

	*out = NULL;
	if (name) {
		*out = img_schema_msg(p->s, name);
		if (!*out)
			return tfail(p, img_jv_get(o, "entry"), "no message '%s'", name);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i && kinds[i]->msg != *out) {
			*out = NULL;
			return 0;
		}
		*out = kinds[i]->msg;
	}
	return 0;
}

static const char *const cmp_names[] = { [XO_EQ] = "eq", [XO_NE] = "ne", [XO_GT] = "gt", [XO_GE] = "ge",
					 [XO_LT] = "lt", [XO_LE] = "le", [XO_ALL] = "all", [XO_ANY] = "any",
					 [XO_NONE] = "none", [XO_PREFIX] = "prefix", [XO_IN] = "in" };

static int parse_conds(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_cond **out,
		       size_t *n);

static int parse_cond(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_cond *c)
{
	const struct img_jv *x;

	if (!v || v->type != IMG_JV_OBJ)
		return tfail(p, v, "a condition is an object ({\"has\": FIELD}, {\"field\": FIELD, \"eq\": VALUE}, ...)");
	if ((x = img_jv_get(v, "has")) || (x = img_jv_get(v, "missing"))) {
		c->kind = img_jv_get(v, "has") ? XC_HAS : XC_MISSING;
		if (v->o.n != 1)
			return tfail(p, v, "\"has\" and \"missing\" stand alone");
		return parse_path(p, d, x, &c->path);
	}
	if ((x = img_jv_get(v, "thread"))) {
		c->kind = XC_THREAD;
		if (x->type != IMG_JV_STR || (strcmp(x->s.s, "leader") && strcmp(x->s.s, "other")))
			return tfail(p, x, "\"thread\" is \"leader\" or \"other\"");
		c->leader = !strcmp(x->s.s, "leader");
		return 0;
	}
	if ((x = img_jv_get(v, "same-in-leader"))) {
		c->kind = XC_SAME_IN_LEADER;
		return parse_path(p, d, x, &c->path);
	}
	if ((x = img_jv_get(v, "same-in-image"))) {
		static const char *const keys[] = { "same-in-image", "image", "field", NULL };

		c->kind = XC_SAME_IN_IMAGE;
		if (known_keys(p, v, "same-in-image", keys) || parse_path(p, d, x, &c->path) ||
		    parse_kind(p, img_jv_get(v, "image"), &c->kind_img))
			return -EINVAL;
		if (!c->path.n)
			return tfail(p, x, "\"same-in-image\" needs a field");
		return parse_path(p, c->kind_img->msg, img_jv_get(v, "field"), &c->other);
	}
	if ((x = img_jv_get(v, "not"))) {
		c->kind = XC_NOT;
		c->sub = zalloc(p, sizeof(*c->sub));
		c->nsub = 1;
		return c->sub ? parse_cond(p, d, x, c->sub) : -ENOMEM;
	}
	if ((x = img_jv_get(v, "any-of"))) {
		c->kind = XC_ANY;
		return parse_conds(p, d, x, &c->sub, &c->nsub);
	}
	x = img_jv_get(v, "field");
	if (!x)
		return tfail(p, v, "unknown condition: use has, missing, field, thread, same-in-leader, same-in-image, not or any-of");
	c->kind = XC_CMP;
	if (parse_path(p, d, x, &c->path))
		return -EINVAL;
	if (v->o.n != 2)
		return tfail(p, v, "a field condition has \"field\" and one comparison");
	const struct img_jmember *mb = &v->o.m[!strcmp(v->o.m[0].key, "field")];

	for (int op = XO_EQ; op <= XO_IN; op++)
		if (!strcmp(cmp_names[op], mb->key))
			c->op = op;
	if (!c->op)
		return tfail(p, mb->v, "unknown comparison '%s' (eq ne gt ge lt le all any none prefix in)", mb->key);
	const struct img_fielddesc *fd = path_last(&c->path);

	if (c->op == XO_IN) {
		if (mb->v->type != IMG_JV_ARR)
			return tfail(p, mb->v, "\"in\" takes a list");
		c->set = zalloc(p, mb->v->a.n * sizeof(*c->set));
		if (!c->set)
			return -ENOMEM;
		c->nset = mb->v->a.n;
		for (size_t i = 0; i < c->nset; i++)
			if (parse_val(p, fd, mb->v->a.v[i], &c->set[i]))
				return -EINVAL;
		return 0;
	}
	if (parse_val(p, fd, mb->v, &c->v))
		return -EINVAL;
	if (c->op == XO_PREFIX && !c->v.is_bytes)
		return tfail(p, mb->v, "\"prefix\" compares strings");
	if (c->op >= XO_GT && c->op <= XO_NONE && c->v.is_bytes)
		return tfail(p, mb->v, "'%s' compares numbers", mb->key);
	return 0;
}

static int parse_conds(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_cond **out,
		       size_t *n)
{
	*n = 0;
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != IMG_JV_ARR)
		return tfail(p, v, "\"when\" is a list of conditions");
	*out = zalloc(p, v->a.n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++)
		if (parse_cond(p, d, v->a.v[i], &(*out)[i]))
			return -EINVAL;
	*n = v->a.n;
	return 0;
}

static int parse_u64(struct tp *p, const struct img_jv *o, const char *key, uint64_t *out, int need)
{
	const struct img_jv *v = img_jv_get(o, key);

	if (!v) {
		if (need)
			return tfail(p, o, "\"%s\" is missing", key);
		return 0;
	}
	if (img_jv_u64(v, out))
		return tfail(p, v, "\"%s\" is a number", key);
	return 0;
}

/* {"field": VALUE or "$field"}: field in msg d, "$field" in the entry (src). */
static int parse_kvs(struct tp *p, const struct img_jv *v, const struct img_msgdesc *d,
		     const struct img_msgdesc *src, struct xf_kv **out, size_t *n, int refs_only)
{
	*n = 0;
	if (!v)
		return 0;
	if (v->type != IMG_JV_OBJ)
		return tfail(p, v, "an object of field: value expected");
	*out = zalloc(p, v->o.n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < v->o.n; i++) {
		struct xf_kv *kv = &(*out)[i];
		struct img_jv key = *v->o.m[i].v;
		const struct img_jv *val = v->o.m[i].v;

		key.type = IMG_JV_STR;
		key.s.s = (char *)v->o.m[i].key;
		key.s.len = v->o.m[i].klen;
		if (parse_path(p, d, &key, &kv->path) || !kv->path.n)
			return kv->path.n ? -EINVAL : tfail(p, val, "a field name is needed");
		if (refs_only || (val->type == IMG_JV_STR && val->s.s[0] == '$' && val->s.s[1] != '$')) {
			struct img_jv ref = *val;

			if (val->type != IMG_JV_STR)
				return tfail(p, val, "a field name of the entry is expected");
			if (val->s.s[0] == '$') {
				ref.s.s = val->s.s + 1;
				ref.s.len = val->s.len - 1;
			}
			if (parse_path(p, src, &ref, &kv->from) || !kv->from.n)
				return kv->from.n ? -EINVAL : tfail(p, val, "a field name is needed");
		} else {
			struct xf_val check;

			if (path_last(&kv->path)->type != IMG_T_MESSAGE && parse_val(p, path_last(&kv->path), val, &check))
				return -EINVAL;
			kv->value = val;
		}
	}
	*n = v->o.n;
	return 0;
}

/* One path or a list of paths (move-out, move-in). */
static int parse_fields(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_action *a)
{
	if (v && v->type == IMG_JV_ARR) {
		if (!v->a.n || v->a.n > 4)
			return tfail(p, v, "one to four fields");
		for (size_t i = 0; i < v->a.n; i++)
			if (parse_path(p, d, v->a.v[i], &a->fields[i]))
				return -EINVAL;
		a->nfields = v->a.n;
		return 0;
	}
	a->nfields = 1;
	return parse_path(p, d, v, &a->fields[0]);
}

static int need_msg(struct tp *p, const struct img_jv *v, const struct xf_path *path, const struct img_msgdesc *want)
{
	const struct img_fielddesc *fd = path_last(path);

	if (!fd || fd->type != IMG_T_MESSAGE || fd->msg != want)
		return tfail(p, v, "'%s' must be a field of message %s", path->text, want ? want->name : "?");
	return 0;
}

static int parse_action(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_action *a)
{
	const struct img_jv *x;
	static const char *const set_keys[] = { "set", "value", "from", "image", NULL };
	static const char *const clear_keys[] = { "clear-bits", "mask", NULL };
	static const char *const to_keys[] = { "copy", "rename", "to", NULL };
	static const char *const split_keys[] = { "split", "merge", "max", "advance", "unit", "previous", NULL };
	static const char *const out_keys[] = { "move-out", "to", "set", "order", NULL };
	static const char *const in_keys[] = { "move-in", "field", "match", "set", NULL };
	static const char *const wrap_keys[] = { "wrap-into", "field", "set", "order", NULL };
	static const char *const path_keys[] = { "map-path", "as", "old", "new", NULL };
	static const char *const ip_keys[] = { "map-ip", "family", NULL };
	static const char *const lazy_keys[] = { "lazy-flags", "vma", "sp", "lazy", "present", NULL };
	static const char *const patch_keys[] = { "patch-memory", "offset", "u32", "u64", NULL };
	static const char *const add_keys[] = { "add-entry", "image", NULL };

	if (!v || v->type != IMG_JV_OBJ || !v->o.n)
		return tfail(p, v, "an action is an object ({\"set\": FIELD, \"value\": VALUE}, {\"drop\": FIELD}, ...)");
	const char *verb = v->o.m[0].key;

	x = v->o.m[0].v;
	if (!strcmp(verb, "set")) {
		a->kind = XA_SET;
		if (known_keys(p, v, "set", set_keys) || parse_path(p, d, x, &a->path))
			return -EINVAL;
		if (img_jv_get(v, "from")) {
			const struct img_msgdesc *src = d;

			a->kind = XA_COPY;
			a->to = a->path;
			if (img_jv_get(v, "image")) {
				/* the value of a field of another (single-entry) image: inventory.img's root_ids... */
				if (parse_kind(p, img_jv_get(v, "image"), &a->kind_to))
					return -EINVAL;
				src = a->kind_to->msg;
			}
			return parse_path(p, src, img_jv_get(v, "from"), &a->path);
		}
		if (img_jv_get(v, "image"))
			return tfail(p, v, "\"image\" goes with \"from\"");
		a->value = img_jv_get(v, "value");
		if (!a->value)
			return tfail(p, v, "\"set\" needs \"value\" or \"from\"");
		if (!a->path.n)
			return tfail(p, x, "\"set\" needs a field");
		if (path_last(&a->path)->type != IMG_T_MESSAGE) {
			struct xf_val check;

			return parse_val(p, path_last(&a->path), a->value, &check);
		}
		return 0;
	}
	if (!strcmp(verb, "copy") || !strcmp(verb, "rename")) {
		a->kind = verb[0] == 'c' ? XA_COPY : XA_RENAME;
		if (known_keys(p, v, verb, to_keys) || parse_path(p, d, x, &a->path) ||
		    parse_path(p, d, img_jv_get(v, "to"), &a->to))
			return -EINVAL;
		if (!a->path.n || !a->to.n)
			return tfail(p, v, "\"%s\" needs two fields", verb);
		return 0;
	}
	if (!strcmp(verb, "drop")) {
		a->kind = XA_DROP;
		if (v->o.n != 1 || parse_path(p, d, x, &a->path))
			return v->o.n != 1 ? tfail(p, v, "\"drop\" stands alone") : -EINVAL;
		return a->path.n ? 0 : tfail(p, x, "\"drop\" needs a field (use drop-entry for the entry)");
	}
	if (!strcmp(verb, "drop-entry")) {
		a->kind = XA_DROP_ENTRY;
		return v->o.n == 1 ? 0 : tfail(p, v, "\"drop-entry\" stands alone");
	}
	if (!strcmp(verb, "add-entry")) {
		a->kind = XA_ADD_ENTRY;
		if (known_keys(p, v, verb, add_keys))
			return -EINVAL;
		if (x->type != IMG_JV_OBJ)
			return tfail(p, x, "\"add-entry\" takes the entry in crit's JSON");
		a->value = x;
		if (img_jv_get(v, "image"))
			return parse_kind(p, img_jv_get(v, "image"), &a->kind_to);
		return 0;
	}
	if (!strcmp(verb, "split") || !strcmp(verb, "merge")) {
		a->kind = verb[0] == 's' ? XA_SPLIT : XA_MERGE;
		if (known_keys(p, v, verb, split_keys) || parse_path(p, d, x, &a->path) ||
		    parse_path(p, d, img_jv_get(v, "advance"), &a->advance) || parse_u64(p, v, "unit", &a->unit, 1) ||
		    parse_u64(p, v, "max", &a->max, a->kind == XA_SPLIT))
			return -EINVAL;
		if (!a->path.n || !a->advance.n || a->path.n != 1 || a->advance.n != 1)
			return tfail(p, v, "\"%s\" and \"advance\" are fields of the entry", verb);
		if (a->kind == XA_SPLIT && !a->max)
			return tfail(p, v, "\"max\" must be above 0");
		a->has_previous = img_jv_get(v, "previous") != NULL;
		return parse_u64(p, v, "previous", &a->previous, 0);
	}
	if (!strcmp(verb, "move-out")) {
		a->kind = XA_MOVE_OUT;
		if (known_keys(p, v, verb, out_keys) || parse_fields(p, d, x, a) ||
		    parse_kind(p, img_jv_get(v, "to"), &a->kind_to))
			return -EINVAL;
		for (size_t i = 0; i < a->nfields; i++)
			if (need_msg(p, x, &a->fields[i], a->kind_to->msg))
				return -EINVAL;
		if (parse_kvs(p, img_jv_get(v, "set"), a->kind_to->msg, d, &a->set, &a->nset, 0))
			return -EINVAL;
		return img_jv_get(v, "order") ? parse_path(p, d, img_jv_get(v, "order"), &a->order) : 0;
	}
	if (!strcmp(verb, "move-in")) {
		a->kind = XA_MOVE_IN;
		if (known_keys(p, v, verb, in_keys) || parse_kind(p, x, &a->kind_to) ||
		    parse_fields(p, d, img_jv_get(v, "field"), a))
			return -EINVAL;
		for (size_t i = 0; i < a->nfields; i++)
			if (need_msg(p, img_jv_get(v, "field"), &a->fields[i], a->kind_to->msg))
				return -EINVAL;
		if (parse_kvs(p, img_jv_get(v, "set"), a->kind_to->msg, d, &a->set, &a->nset, 0))
			return -EINVAL;
		return parse_kvs(p, img_jv_get(v, "match"), a->kind_to->msg, d, &a->match, &a->nmatch, 1);
	}
	if (!strcmp(verb, "wrap-into")) {
		a->kind = XA_WRAP_INTO;
		if (known_keys(p, v, verb, wrap_keys) || parse_kind(p, x, &a->kind_to) ||
		    parse_path(p, a->kind_to->msg, img_jv_get(v, "field"), &a->path) ||
		    need_msg(p, img_jv_get(v, "field"), &a->path, d))
			return -EINVAL;
		if (a->path.n != 1)
			return tfail(p, img_jv_get(v, "field"), "\"field\" is a field of %s", a->kind_to->msg->name);
		if (parse_kvs(p, img_jv_get(v, "set"), a->kind_to->msg, d, &a->set, &a->nset, 0))
			return -EINVAL;
		return img_jv_get(v, "order") ? parse_path(p, a->kind_to->msg, img_jv_get(v, "order"), &a->order) : 0;
	}
	if (!strcmp(verb, "map-path")) {
		const char *as = str_of(v, "as");

		a->kind = XA_MAP_PATH;
		if (known_keys(p, v, verb, path_keys) || parse_path(p, d, x, &a->path))
			return -EINVAL;
		const struct img_fielddesc *fd = path_last(&a->path);

		if (!fd || (fd->type != IMG_T_STRING && fd->type != IMG_T_BYTES))
			return tfail(p, x, "\"map-path\" works on a string or bytes field");
		if (as && strcmp(as, "path") && strcmp(as, "unix-name"))
			return tfail(p, img_jv_get(v, "as"), "\"as\" is \"path\" or \"unix-name\"");
		a->unix_name = as && !strcmp(as, "unix-name");
		a->old = str_of(v, "old");
		a->new_ = str_of(v, "new");
		if (!a->old != !a->new_)
			return tfail(p, v, "\"old\" and \"new\" go together");
		return 0;
	}
	if (!strcmp(verb, "map-ip")) {
		a->kind = XA_MAP_IP;
		if (known_keys(p, v, verb, ip_keys) || parse_path(p, d, x, &a->path) ||
		    parse_path(p, d, img_jv_get(v, "family"), &a->family))
			return -EINVAL;
		if (path_last(&a->path)->label != IMG_L_REPEATED || path_last(&a->path)->type != IMG_T_UINT32)
			return tfail(p, x, "\"map-ip\" works on the address words (repeated uint32)");
		return 0;
	}
	if (!strcmp(verb, "refresh-file")) {
		a->kind = XA_REFRESH_FILE;
		if (v->o.n != 1 || parse_path(p, d, x, &a->path))
			return -EINVAL;
		const struct img_msgdesc *rd = a->path.n ? path_last(&a->path)->msg : d;

		if (!rd || !img_msgdesc_field_by_name(rd, "name") || !img_msgdesc_field_by_name(rd, "size") ||
		    !img_msgdesc_field_by_name(rd, "mode"))
			return tfail(p, x, "\"refresh-file\" works on a regular file entry (name, size, mode)");
		return 0;
	}
	if (!strcmp(verb, "copy-from-leader")) {
		a->kind = XA_COPY_FROM_LEADER;
		if (v->o.n != 1 || parse_path(p, d, x, &a->path))
			return -EINVAL;
		return a->path.n ? 0 : tfail(p, x, "a field is needed");
	}
	if (!strcmp(verb, "lazy-flags")) {
		const struct img_msgdesc *vd = img_schema_msg(p->s, "vma_entry"), *cd = img_schema_msg(p->s, "core_entry");
		const struct img_jv *sp = img_jv_get(v, "sp");
		struct xf_val val;

		a->kind = XA_LAZY_FLAGS;
		if (known_keys(p, v, verb, lazy_keys) || parse_path(p, d, x, &a->path))
			return -EINVAL;
		if (!vd || !cd)
			return tfail(p, v, "the schema lacks vma_entry or core_entry");
		if (parse_conds(p, vd, img_jv_get(v, "vma"), &a->vma_when, &a->nvma_when))
			return -EINVAL;
		if (!sp || sp->type != IMG_JV_ARR || !sp->a.n)
			return tfail(p, v, "\"sp\" lists where a core keeps the stack pointer");
		a->sp = zalloc(p, sp->a.n * sizeof(*a->sp));
		if (!a->sp)
			return -ENOMEM;
		for (size_t i = 0; i < sp->a.n; i++)
			if (parse_path(p, cd, sp->a.v[i], &a->sp[i]))
				return -EINVAL;
		a->nsp = sp->a.n;
		if (!img_jv_get(v, "lazy") || !img_jv_get(v, "present"))
			return tfail(p, v, "\"lazy\" and \"present\" give the flag values");
		if (parse_val(p, path_last(&a->path), img_jv_get(v, "lazy"), &val))
			return -EINVAL;
		a->lazy_bits = val.u;
		if (parse_val(p, path_last(&a->path), img_jv_get(v, "present"), &val))
			return -EINVAL;
		a->present_bits = val.u;
		return 0;
	}
	if (!strcmp(verb, "patch-memory")) {
		const struct img_jv *u32 = img_jv_get(v, "u32"), *u64 = img_jv_get(v, "u64");
		uint64_t val;

		a->kind = XA_PATCH_MEMORY;
		if (known_keys(p, v, verb, patch_keys) || parse_path(p, d, x, &a->path) ||
		    parse_u64(p, v, "offset", &a->offset, 0))
			return -EINVAL;
		if (!a->path.n || path_last(&a->path)->type == IMG_T_MESSAGE)
			return tfail(p, x, "\"patch-memory\" takes the field that holds the address");
		if (!u32 == !u64)
			return tfail(p, v, "say what to write: \"u32\" or \"u64\"");
		if (img_jv_u64(u32 ? u32 : u64, &val) || (u32 && val > UINT32_MAX))
			return tfail(p, u32 ? u32 : u64, "a number that fits");
		uint8_t *b = zalloc(p, 8);

		if (!b)
			return -ENOMEM;
		if (u32)
			img_put_u32(b, (uint32_t)val);
		else
			img_put_u64(b, val);
		a->bytes.is_bytes = 1;
		a->bytes.p = b;
		a->bytes.n = u32 ? 4 : 8;
		return 0;
	}
	if (!strcmp(verb, "clear-bits")) {
		const struct img_jv *mask = img_jv_get(v, "mask");
		struct xf_val val;

		a->kind = XA_CLEAR_BITS;
		if (known_keys(p, v, verb, clear_keys) || parse_path(p, d, x, &a->path))
			return -EINVAL;
		if (!a->path.n || path_last(&a->path)->type == IMG_T_MESSAGE || path_last(&a->path)->type == IMG_T_STRING ||
		    path_last(&a->path)->type == IMG_T_BYTES)
			return tfail(p, x, "\"clear-bits\" takes a number field");
		if (!mask)
			return tfail(p, v, "\"clear-bits\" needs the \"mask\" of bits to clear");
		if (parse_val(p, path_last(&a->path), mask, &val))
			return -EINVAL;
		a->mask = val.u;
		return 0;
	}
	return tfail(p, v, "unknown action '%s'", verb);
}

static int parse_actions(struct tp *p, const struct img_msgdesc *d, const struct img_jv *v, struct xf_action **out,
			 size_t *n)
{
	*n = 0;
	if (!v)
		return 0;
	if (v->type != IMG_JV_ARR)
		return tfail(p, v, "a list of actions expected");
	*out = zalloc(p, v->a.n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++)
		if (parse_action(p, d, v->a.v[i], &(*out)[i]))
			return -EINVAL;
	*n = v->a.n;
	return 0;
}

static int parse_iacts(struct tp *p, const struct img_jv *v, struct xf_rule *r)
{
	if (!v)
		return 0;
	if (v->type != IMG_JV_ARR)
		return tfail(p, v, "\"image-do\" is a list");
	r->iact = zalloc(p, v->a.n * sizeof(*r->iact));
	if (!r->iact)
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++) {
		const struct img_jv *x = v->a.v[i], *h;
		struct xf_iact *ia = &r->iact[i];

		if (x->type != IMG_JV_OBJ || x->o.n != 1)
			return tfail(p, x, "an image action is {\"drop-if-empty\": true}, {\"drop\": true} or {\"head\": ...}");
		if (img_jv_get(x, "drop-if-empty"))
			ia->kind = XI_DROP_IF_EMPTY;
		else if (img_jv_get(x, "drop"))
			ia->kind = XI_DROP;
		else if ((h = img_jv_get(x, "head"))) {
			ia->kind = XI_HEAD;
			if (h->type != IMG_JV_STR || (strcmp(h->s.s, "none") && strcmp(h->s.s, "kind")))
				return tfail(p, h, "\"head\" is \"none\" or \"kind\" (the head magic the kind has)");
			ia->head = !strcmp(h->s.s, "kind");
		} else
			return tfail(p, x, "unknown image action '%s'", x->o.m[0].key);
	}
	r->niact = v->a.n;
	return 0;
}

static int parse_bool(struct tp *p, const struct img_jv *o, const char *key, int *out)
{
	const struct img_jv *v = img_jv_get(o, key);

	if (!v || v->type != IMG_JV_BOOL)
		return tfail(p, v ? v : o, "\"%s\": true or false is required", key);
	*out = v->b;
	return 0;
}

/*
 * "mismatch": "CODE:SUBJECT" or a list of them: the rule is for those
 * findings of check --target (img_check_target_code says which codes there
 * are and what their subjects are).
 */
static int parse_mismatch(struct tp *p, const struct img_jv *v, struct xf_rule *r)
{
	struct img_buf text;
	size_t n;

	if (!v)
		return 0;
	if (v->type != IMG_JV_STR && (v->type != IMG_JV_ARR || !v->a.n))
		return tfail(p, v, "\"mismatch\" is \"CODE:SUBJECT\" (\"kernel-feature:rseq\") or a list of them");
	n = v->type == IMG_JV_STR ? 1 : v->a.n;
	r->mismatch = zalloc(p, n * sizeof(*r->mismatch));
	if (!r->mismatch)
		return -ENOMEM;
	img_buf_init(&text);
	for (size_t i = 0; i < n; i++) {
		const struct img_jv *x = v->type == IMG_JV_STR ? v : v->a.v[i];
		struct img_err e = { 0 };

		if (x->type != IMG_JV_STR || img_check_mismatch_ok(x->s.s, &e)) {
			img_buf_free(&text);
			return tfail(p, x, "\"mismatch\": %s", x->type == IMG_JV_STR ? e.msg : "a string expected");
		}
		r->mismatch[i] = x->s.s;
		if (i)
			img_buf_add(&text, ", ", 2);
		img_buf_add(&text, x->s.s, strlen(x->s.s));
	}
	r->nmismatch = n;
	img_buf_addc(&text, 0);
	r->mismatch_text = text.failed ? NULL : img_arena_strndup(&p->t->arena, (const char *)text.data, text.len);
	img_buf_free(&text);
	return r->mismatch_text ? 0 : -ENOMEM;
}

static int parse_rule(struct tp *p, const struct img_jv *v, struct xf_rule *r)
{
	static const char *const keys[] = { "name", "doc", "lossless", "reversible", "image", "entry", "when",
					    "do", "emulate", "hope", "bail", "image-do", "mismatch", "note", NULL };
	static const char *const acts[XR__N] = { "do", "emulate", "hope" };

	if (!v || v->type != IMG_JV_OBJ)
		return tfail(p, v, "a rule is an object");
	if (known_keys(p, v, "a rule", keys))
		return -EINVAL;
	r->name = str_of(v, "name");
	if (!r->name)
		return tfail(p, v, "a rule needs a \"name\"");
	r->doc = str_of(v, "doc");
	r->bail = str_of(v, "bail");
	if (parse_bool(p, v, "lossless", &r->lossless) || parse_bool(p, v, "reversible", &r->reversible) ||
	    parse_kinds(p, img_jv_get(v, "image"), &r->kinds, &r->nkinds, &r->any_kind) ||
	    entry_desc(p, v, r->kinds, r->nkinds, &r->entry) ||
	    parse_conds(p, r->entry, img_jv_get(v, "when"), &r->when, &r->nwhen))
		return -EINVAL;
	for (int i = 0; i < XR__N; i++) {
		r->has[i] = img_jv_get(v, acts[i]) != NULL;
		if (parse_actions(p, r->entry, img_jv_get(v, acts[i]), &r->act[i], &r->nact[i]))
			return -EINVAL;
	}
	if (parse_iacts(p, img_jv_get(v, "image-do"), r) || parse_mismatch(p, img_jv_get(v, "mismatch"), r))
		return -EINVAL;
	r->note = str_of(v, "note");
	if (img_jv_get(v, "note") && !r->note)
		return tfail(p, img_jv_get(v, "note"), "\"note\" is a string");
	if (!r->has[XR_DO] && !r->bail && !r->niact)
		return tfail(p, v, "rule '%s' does nothing: give \"do\", \"bail\" or \"image-do\"", r->name);
	if (r->any_kind && (r->has[XR_DO] || r->nwhen || r->bail))
		return tfail(p, v, "rule '%s': \"image\": \"*\" takes image actions only", r->name);
	return 0;
}

static int parse_rules(struct tp *p, const struct img_jv *v, int way)
{
	struct img_xf_table *t = p->t;

	if (!v)
		return 0;
	if (v->type != IMG_JV_ARR)
		return tfail(p, v, "a list of rules expected");
	t->rules[way] = zalloc(p, v->a.n * sizeof(*t->rules[way]));
	if (!t->rules[way])
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++)
		if (parse_rule(p, v->a.v[i], &t->rules[way][i]))
			return -EINVAL;
	t->nrules[way] = v->a.n;
	return 0;
}

static int parse_matches(struct tp *p, const struct img_jv *v, int which)
{
	struct img_xf_table *t = p->t;
	static const char *const keys[] = { "image", "entry", "when", "doc", NULL };
	int any;

	if (!v)
		return 0;
	if (v->type != IMG_JV_ARR)
		return tfail(p, v, "a list of features expected");
	t->det[which] = zalloc(p, v->a.n * sizeof(*t->det[which]));
	if (!t->det[which])
		return -ENOMEM;
	for (size_t i = 0; i < v->a.n; i++) {
		struct xf_match *m = &t->det[which][i];
		const struct img_jv *x = v->a.v[i];

		if (x->type != IMG_JV_OBJ || known_keys(p, x, "a feature", keys))
			return x->type != IMG_JV_OBJ ? tfail(p, x, "a feature is an object") : -EINVAL;
		if (parse_kinds(p, img_jv_get(x, "image"), &m->kinds, &m->nkinds, &any) ||
		    entry_desc(p, x, m->kinds, m->nkinds, &m->entry) ||
		    parse_conds(p, m->entry, img_jv_get(x, "when"), &m->when, &m->nwhen))
			return -EINVAL;
		if (any)
			return tfail(p, x, "a feature names image kinds");
		m->doc = str_of(x, "doc");
	}
	t->ndet[which] = v->a.n;
	return 0;
}

int img_xf_table_parse(const char *text, size_t n, const char *name, const struct img_schema *s,
		       struct img_xf_table **out, struct img_err *err)
{
	static const char *const keys[] = { "table", "doc", "version", "before", "detect", "rules", "down", "up", NULL };
	struct img_xf_table *t = img_calloc(1, sizeof(*t));
	struct tp p = { t, s, err };
	const struct img_jv *v, *det;

	if (!t)
		return img_err_set(err, ENOMEM, "out of memory");
	img_arena_init(&t->arena);
	t->s = s;
	t->file = t->name = img_arena_strndup(&t->arena, name, strlen(name));
	if (!t->name)
		goto nomem;
	img_err_subject(err, name);
	v = img_json_parse(&t->arena, text, n, err);
	if (!v)
		goto fail;
	if (v->type != IMG_JV_OBJ) {
		tfail(&p, v, "a table is a JSON object");
		goto fail;
	}
	if (known_keys(&p, v, "a table", keys))
		goto fail;
	if (str_of(v, "table"))
		t->name = str_of(v, "table");
	t->doc = str_of(v, "doc");
	t->version = str_of(v, "version");
	t->before = str_of(v, "before");
	if (!t->version != !t->before || (t->version && (!img_xf_version_ok(t->version) ||
							 !img_xf_version_ok(t->before) ||
							 img_xf_version_cmp(t->before, t->version) >= 0))) {
		tfail(&p, v, "a version step has \"version\" and an older \"before\" (\"4.2\", \"4.1\")");
		goto fail;
	}
	if (t->version && (img_jv_get(v, "rules") || !img_jv_get(v, "down") || !img_jv_get(v, "up"))) {
		tfail(&p, v, "a version step has \"down\" and \"up\" rules");
		goto fail;
	}
	if (!t->version && (!img_jv_get(v, "rules") || img_jv_get(v, "down") || img_jv_get(v, "up"))) {
		tfail(&p, v, "a table has \"rules\" (or is a version step with \"version\", \"before\", \"down\", \"up\")");
		goto fail;
	}
	if (parse_rules(&p, img_jv_get(v, "rules"), IMG_XF_RULES) || parse_rules(&p, img_jv_get(v, "down"), IMG_XF_DOWN) ||
	    parse_rules(&p, img_jv_get(v, "up"), IMG_XF_UP))
		goto fail;
	det = img_jv_get(v, "detect");
	if (det && (det->type != IMG_JV_OBJ || parse_matches(&p, img_jv_get(det, "old"), 0) ||
		    parse_matches(&p, img_jv_get(det, "new"), 1))) {
		if (det->type != IMG_JV_OBJ)
			tfail(&p, det, "\"detect\" is {\"old\": [...], \"new\": [...]}");
		goto fail;
	}
	*out = t;
	return 0;
nomem:
	img_err_set(err, ENOMEM, "out of memory");
fail:
	img_xf_table_free(t);
	return err && err->code ? -err->code : -EINVAL;
}

int img_xf_table_load(const char *path, const struct img_schema *s, struct img_xf_table **out, struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	r = img_xf_table_parse((const char *)src->data, src->size, path, s, out, err);
	img_src_unref(src);
	return r;
}

void img_xf_table_free(struct img_xf_table *t)
{
	if (!t)
		return;
	img_arena_free(&t->arena);
	img_free(t);
}

const char *img_xf_table_name(const struct img_xf_table *t)
{
	return t->name;
}

const char *img_xf_table_doc(const struct img_xf_table *t)
{
	return t->doc;
}

const char *img_xf_table_version(const struct img_xf_table *t)
{
	return t->version;
}

const char *img_xf_table_before(const struct img_xf_table *t)
{
	return t->before;
}

int img_xf_table_handles(const struct img_xf_table *t, const char *mismatch)
{
	for (int w = 0; w < 3; w++)
		for (size_t i = 0; i < t->nrules[w]; i++)
			for (size_t k = 0; k < t->rules[w][i].nmismatch; k++)
				if (!strcmp(t->rules[w][i].mismatch[k], mismatch))
					return 1;
	return 0;
}
