/* Findings: a list of problems found in an image set, and its one printer for text and JSON. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "img/check.h"

static struct img_finding spare; /* handed out when memory runs out: the list says it failed */

void img_findings_init(struct img_findings *f)
{
	memset(f, 0, sizeof(*f));
	img_arena_init(&f->arena);
}

void img_findings_free(struct img_findings *f)
{
	img_free(f->v);
	img_arena_free(&f->arena);
	memset(f, 0, sizeof(*f));
}

struct img_finding *img_finding_add(struct img_findings *f, int sev, const char *area, const char *code)
{
	struct img_finding *fi;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct img_finding *v = img_realloc(f->v, cap * sizeof(*v));

		if (!v) {
			f->failed = 1;
			memset(&spare, 0, sizeof(spare));
			return &spare;
		}
		f->v = v;
		f->cap = cap;
	}
	if (sev < IMG_SEV_INFO || sev > IMG_SEV_ERROR)
		sev = IMG_SEV_ERROR;
	fi = &f->v[f->n++];
	memset(fi, 0, sizeof(*fi));
	fi->sev = sev;
	fi->area = area;
	fi->code = code;
	fi->entry = IMG_NO_ENTRY;
	fi->ref_entry = IMG_NO_ENTRY;
	fi->offset = IMG_NO_OFFSET;
	f->count[sev]++;
	return fi;
}

const char *img_finding_fmt(struct img_findings *f, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	const char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = img_arena_strndup(&f->arena, buf, strlen(buf));
	if (!s)
		f->failed = 1;
	return s;
}

int img_findings_worst(const struct img_findings *f)
{
	for (int s = IMG_SEV_ERROR; s >= IMG_SEV_INFO; s--)
		if (f->count[s])
			return s;
	return -1;
}

const char *img_sev_name(int sev)
{
	static const char *const names[] = { "info", "warning", "error" };

	return sev >= 0 && sev <= IMG_SEV_ERROR ? names[sev] : "?";
}

/* SGR colours of the severities, as git and gcc use them. */
static const char *const sev_color[] = { "\033[1;36m", "\033[1;33m", "\033[1;31m" };
#define COLOR_OFF "\033[m"

static void location(const struct img_finding *fi, struct img_out *o)
{
	img_out_puts(o, fi->image);
	if (fi->entry != IMG_NO_ENTRY)
		img_out_printf(o, " entry %ld", fi->entry);
	if (fi->offset != IMG_NO_OFFSET)
		img_out_printf(o, " at offset 0x%llx", (unsigned long long)fi->offset);
	img_out_puts(o, ": ");
}

void img_findings_print_text(const struct img_findings *f, struct img_out *o, unsigned flags)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct img_finding *fi = &f->v[i];
		int color = (flags & IMG_PRINT_COLOR) != 0;

		img_out_printf(o, "%s%s%s: ", color ? sev_color[fi->sev] : "", img_sev_name(fi->sev),
			       color ? COLOR_OFF : "");
		if (fi->image)
			location(fi, o);
		img_out_printf(o, "%s [%s]\n", fi->msg ? fi->msg : "(no message)", fi->code ? fi->code : "?");
		if (fi->expected || fi->found) {
			img_out_puts(o, "  ");
			if (fi->field)
				img_out_printf(o, "%s: ", fi->field);
			if (fi->expected)
				img_out_printf(o, "expected %s", fi->expected);
			if (fi->expected && fi->found)
				img_out_puts(o, ", ");
			if (fi->found)
				img_out_printf(o, "found %s", fi->found);
			img_out_putc(o, '\n');
		}
		if (fi->ref_image) {
			img_out_printf(o, "  see %s", fi->ref_image);
			if (fi->ref_entry != IMG_NO_ENTRY)
				img_out_printf(o, " entry %ld", fi->ref_entry);
			img_out_putc(o, '\n');
		}
		if (fi->todo)
			img_out_printf(o, "  to do: %s\n", fi->todo);
	}
}

static void kv_str(struct img_jw *w, const char *k, const char *v)
{
	img_jw_key(w, k);
	if (v)
		img_jw_str(w, v);
	else
		img_jw_null(w);
}

void img_finding_json(const struct img_finding *fi, struct img_jw *w)
{
	img_jw_obj_begin(w);
	kv_str(w, "severity", img_sev_name(fi->sev));
	kv_str(w, "code", fi->code);
	kv_str(w, "area", fi->area);
	kv_str(w, "image", fi->image);
	img_jw_key(w, "entry");
	if (fi->entry != IMG_NO_ENTRY)
		img_jw_i64(w, fi->entry);
	else
		img_jw_null(w);
	img_jw_key(w, "offset");
	if (fi->offset != IMG_NO_OFFSET)
		img_jw_u64(w, fi->offset);
	else
		img_jw_null(w);
	kv_str(w, "field", fi->field);
	kv_str(w, "subject", fi->subject);
	kv_str(w, "expected", fi->expected);
	kv_str(w, "found", fi->found);
	kv_str(w, "message", fi->msg);
	kv_str(w, "todo", fi->todo);
	kv_str(w, "ref_image", fi->ref_image);
	img_jw_key(w, "ref_entry");
	if (fi->ref_entry != IMG_NO_ENTRY)
		img_jw_i64(w, fi->ref_entry);
	else
		img_jw_null(w);
	img_jw_obj_end(w);
}

void img_findings_print_json(const struct img_findings *f, struct img_jw *w)
{
	img_jw_arr_begin(w);
	for (size_t i = 0; i < f->n; i++)
		img_finding_json(&f->v[i], w);
	img_jw_arr_end(w);
}

int img_check_parse_areas(const char *s, unsigned *what)
{
	static const struct { const char *name; unsigned bit; } areas[] = {
		{ "images", IMG_CHECK_IMAGES }, { "files", IMG_CHECK_FILES }, { "pids", IMG_CHECK_PIDS },
		{ "kernel", IMG_CHECK_KERNEL }, { "cpu", IMG_CHECK_CPU }, { "host", IMG_CHECK_HOST },
		{ "all", IMG_CHECK_ALL },
	};
	unsigned w = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		size_t i;

		for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
			if (strlen(areas[i].name) == len && !strncmp(areas[i].name, s, len))
				break;
		if (i == sizeof(areas) / sizeof(areas[0]))
			return -EINVAL;
		w |= areas[i].bit;
		s += len;
		if (*s == ',')
			s++;
	}
	if (!w)
		return -EINVAL;
	*what = w;
	return 0;
}
