/*
 * The schema registry: lookups by name, magic and file name (patterns with
 * %u %lu %d %x %s, shared magics), schemas/criu loaded at run time equals the
 * tables compiled in, and malformed schema text is refused with its line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libimg.h"
#include "unit.h"

#define S img_schema_builtin()

static const char *kind_of(const char *fname)
{
	const struct img_kind *k = img_kind_by_file(S, fname);

	return k ? k->name : "-";
}

static void test_lookups_by_name(void)
{
	const struct img_msgdesc *d = img_schema_msg(S, "core_entry");
	const struct img_fielddesc *f;
	const struct img_enumdesc *e = img_schema_enum(S, "fd_types");
	const struct img_map *m = img_schema_map(S, "mmap.prot");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NULL(img_schema_msg(S, "core_entr"));
	CU_ASSERT_PTR_NULL(img_schema_msg(S, ""));
	f = img_msgdesc_field(d, 3);
	CU_ASSERT(f && !strcmp(f->name, "tc") && f->type == IMG_T_MESSAGE && f->msg == img_schema_msg(S, "task_core_entry"));
	CU_ASSERT_PTR_EQUAL(img_msgdesc_field_by_name(d, "tc"), f);
	CU_ASSERT_PTR_NULL(img_msgdesc_field(d, 7));
	CU_ASSERT_PTR_NULL(img_msgdesc_field_by_name(d, "nope"));
	/* fields are sorted by number whatever the order of the schema text */
	for (uint32_t i = 1; i < d->nfields; i++)
		CU_ASSERT(d->fields[i - 1].num < d->fields[i].num);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(img_enum_by_name(e, "PIDFD")->num, 20);
	CU_ASSERT_STRING_EQUAL(img_enum_by_num(e, 65535)->name, "AUTOFS_PIPE");
	CU_ASSERT_PTR_NULL(img_enum_by_num(e, 21));
	CU_ASSERT(m && m->is_flags && m->n == 3 && !strcmp(m->ents[2].name, "PROT_EXEC"));
	CU_ASSERT(img_schema_map(S, "sk.family") && !img_schema_map(S, "sk.family")->is_flags);
	/* hints as crit's --pretty uses them */
	f = img_msgdesc_field_by_name(img_schema_msg(S, "unix_sk_entry"), "name");
	CU_ASSERT(f && (f->hints & IMG_H_UNIX_NAME));
	f = img_msgdesc_field_by_name(img_schema_msg(S, "inet_sk_entry"), "src_addr");
	CU_ASSERT(f && (f->hints & IMG_H_IPADD) && f->label == IMG_L_REPEATED);
	f = img_msgdesc_field_by_name(img_schema_msg(S, "ghost_file_entry"), "rdev");
	CU_ASSERT(f && (f->hints & IMG_H_DEV) && (f->hints & IMG_H_ODEV));
	f = img_msgdesc_field_by_name(img_schema_msg(S, "vma_entry"), "prot");
	CU_ASSERT(f && f->flags == m);
	f = img_msgdesc_field_by_name(img_schema_msg(S, "reg_file_entry"), "mnt_id");
	CU_ASSERT(f && (f->hints & IMG_H_HAS_DEFAULT) && !strcmp(f->defval, "-1"));
	for (int t = 1; t < IMG_T__COUNT; t++)
		CU_ASSERT_EQUAL(img_type_from_name(img_type_name(t)), t);
	CU_ASSERT_EQUAL(img_type_from_name("int128"), 0);
}

static void test_kinds_by_name_and_json(void)
{
	const struct img_kind *pm = img_kind_by_name(S, "PAGEMAP"), *shm = img_kind_by_name(S, "SHMEM_PAGEMAP");

	CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shm);
	CU_ASSERT_EQUAL(pm->magic, 0x56084025);
	/* an alias takes the magic of the kind it names */
	CU_ASSERT_EQUAL(shm->magic, pm->magic);
	CU_ASSERT_STRING_EQUAL(shm->alias_of, "PAGEMAP");
	CU_ASSERT_EQUAL(img_kind_by_name(S, "PSIGNAL")->magic, img_kind_by_name(S, "SIGNAL")->magic);
	CU_ASSERT_EQUAL(img_kind_by_name(S, "BINFMT_MISC_OLD")->magic, 0x67343323);
	/* crit's JSON says PAGEMAP for both; encode writes the first */
	CU_ASSERT_PTR_EQUAL(img_kind_by_json(S, "PAGEMAP"), pm);
	CU_ASSERT_PTR_NULL(img_kind_by_json(S, "PAGES"));
	CU_ASSERT_EQUAL(img_kind_by_name(S, "STATS")->head, IMG_HEAD_SERVICE);
	CU_ASSERT_EQUAL(img_kind_by_name(S, "INVENTORY")->head, IMG_HEAD_NONE);
	CU_ASSERT_EQUAL(img_kind_by_name(S, "IPCNS_SHM")->extra, IMG_X_IPC_SHM);
	CU_ASSERT_EQUAL(img_kind_by_name(S, "GHOST_FILE")->layout, IMG_LAY_GHOST);
	CU_ASSERT(img_kind_by_name(S, "VMAS")->legacy);
	CU_ASSERT_PTR_NULL(img_kind_by_name(S, "VMA"));
}

static void test_kinds_by_file(void)
{
	static const struct {
		const char *file, *kind;
	} t[] = {
		{ "core-7.img", "CORE" }, { "/some/dir/core-7.img", "CORE" }, { "pagemap-1.img", "PAGEMAP" },
		{ "pagemap-shmem-62.img", "SHMEM_PAGEMAP" }, { "pages-1.img", "PAGES" },
		{ "pages-shmem-4653.img", "SHM_PAGES_OLD" }, { "ghost-file-1a.img", "GHOST_FILE" },
		{ "tcp-stream-ab5f.img", "TCP_STREAM" }, { "stats-dump", "STATS" }, { "stats-restore", "STATS" },
		{ "irmap-cache", "IRMAP_CACHE" }, { "tmpfs-1062.tar.gz.img", "TMPFS_IMG" },
		{ "tmpfs-dev-52.tar.gz.img", "TMPFS_DEV" }, { "signal-s-1.img", "SIGNAL" },
		{ "signal-p-2.img", "PSIGNAL" }, { "binfmt-misc.img", "BINFMT_MISC" },
		{ "binfmt-misc-27.img", "BINFMT_MISC_OLD" }, { "route-3.img", "ROUTE" }, { "route6-3.img", "ROUTE6" },
		{ "netns-3.img", "NETNS" }, { "netns-ct-3.img", "NETNF_CT" }, { "criu.kdat", "KDAT" },
		{ "inventory.img", "INVENTORY" }, { "sigacts-1.img", "SIGACT" },
		/* not names CRIU gives */
		{ "core-.img", "-" }, { "core-1x.img", "-" }, { "core-7.img.bak", "-" }, { "core-0x7.img", "-" },
		{ "ghost-file-1A.img", "-" }, { "ghost-file-1g.img", "-" }, { "core-18446744073709551616.img", "-" },
		{ "inventory", "-" }, { "", "-" }, { "stats-", "-" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(kind_of(t[i].file), t[i].kind))
			fprintf(stderr, "\n  %s: %s, want %s\n", t[i].file, kind_of(t[i].file), t[i].kind);
		CU_ASSERT_STRING_EQUAL(kind_of(t[i].file), t[i].kind);
	}
}

static void test_pattern_ids(void)
{
	const struct img_kind *g = img_kind_by_name(S, "GHOST_FILE"), *st = img_kind_by_name(S, "STATS"),
			      *core = img_kind_by_name(S, "CORE");
	uint64_t id = 0;
	char word[16], name[64];

	CU_ASSERT(img_kind_match(g, "ghost-file-1a.img", &id, NULL, 0) && id == 0x1a);
	CU_ASSERT(img_kind_match(g, "ghost-file-ffffffffffffffff.img", &id, NULL, 0) && id == UINT64_MAX);
	CU_ASSERT(!img_kind_match(g, "ghost-file-10000000000000000.img", &id, NULL, 0));
	CU_ASSERT(img_kind_match(core, "core-18446744073709551615.img", &id, NULL, 0) && id == UINT64_MAX);
	CU_ASSERT(img_kind_match(st, "stats-dump", NULL, word, sizeof(word)) && !strcmp(word, "dump"));
	CU_ASSERT(!img_kind_match(st, "stats-a/b", NULL, word, sizeof(word)));
	/* and back */
	CU_ASSERT_EQUAL(img_kind_filename(g, 0x1a, NULL, name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "ghost-file-1a.img");
	CU_ASSERT_EQUAL(img_kind_filename(core, 7, NULL, name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "core-7.img");
	CU_ASSERT_EQUAL(img_kind_filename(st, 0, "restore", name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "stats-restore");
	CU_ASSERT_EQUAL(img_kind_filename(core, 7, NULL, name, 5), -ENAMETOOLONG);
}

static void test_kinds_by_magic(void)
{
	const uint32_t pm = 0x56084025, sig = 0x59255647;

	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, NULL)->name, "PAGEMAP");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, "x.img")->name, "PAGEMAP");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, "pagemap-shmem-5.img")->name, "SHMEM_PAGEMAP");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, "dir/pagemap-shmem-5.img")->name, "SHMEM_PAGEMAP");
	/* the pre-0.5 pages share the pagemap magic: only their name says so */
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, "pages-3.img")->name, "PAGES_OLD");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, pm, "pages-shmem-3.img")->name, "SHM_PAGES_OLD");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, sig, "signal-p-1.img")->name, "PSIGNAL");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, sig, "signal-s-1.img")->name, "SIGNAL");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, 0x67343323, "binfmt-misc-27.img")->name, "BINFMT_MISC_OLD");
	CU_ASSERT_STRING_EQUAL(img_kind_by_magic(S, 0x57023458, NULL)->name, "KDAT");
	CU_ASSERT_PTR_NULL(img_kind_by_magic(S, 0, "pages-1.img"));
	CU_ASSERT_PTR_NULL(img_kind_by_magic(S, 0x12345678, "core-1.img"));
	CU_ASSERT_PTR_NULL(img_kind_by_magic(S, IMG_MAGIC_COMMON, NULL));
	/* every magic of images.tab leads back to a kind with that magic */
	for (uint32_t i = 0; i < S->nkinds; i++) {
		const struct img_kind *k = &S->kinds[i];

		if (k->magic)
			CU_ASSERT_EQUAL(img_kind_by_magic(S, k->magic, NULL)->magic, k->magic);
	}
}

/* The schema folder of the source tree: tests run from the top of it. */
static const char *schema_dir(void)
{
	static const char *const dirs[] = { "schemas/criu", "../schemas/criu", "../../schemas/criu" };
	struct stat st;

	for (size_t i = 0; i < 3; i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	unit_skip("schema tests that read schemas/criu: run from the top of the source tree");
	return NULL;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void test_loaded_equals_builtin(void)
{
	const char *dir = schema_dir();
	const struct img_schema *b = S;
	struct img_schema *l;
	struct img_err e = { 0 };

	if (!dir)
		return;
	CU_ASSERT_EQUAL_FATAL(img_schema_load_dir(dir, &l, &e), 0);
	CU_ASSERT_EQUAL(l->nmsgs, b->nmsgs);
	CU_ASSERT_EQUAL(l->nenums, b->nenums);
	CU_ASSERT_EQUAL(l->nmaps, b->nmaps);
	CU_ASSERT_EQUAL(l->nkinds, b->nkinds);
	for (uint32_t i = 0; i < b->nmsgs && i < l->nmsgs; i++) {
		const struct img_msgdesc *x = &b->msgs[i], *y = &l->msgs[i];

		CU_ASSERT_STRING_EQUAL(x->name, y->name);
		CU_ASSERT_EQUAL_FATAL(x->nfields, y->nfields);
		for (uint32_t j = 0; j < x->nfields; j++) {
			const struct img_fielddesc *f = &x->fields[j], *g = &y->fields[j];
			int same = !strcmp(f->name, g->name) && f->num == g->num && f->label == g->label &&
				   f->type == g->type && f->hints == g->hints && same_str(f->flags_name, g->flags_name) &&
				   same_str(f->dict, g->dict) && same_str(f->defval, g->defval) &&
				   !f->flags == !g->flags && (!f->msg || !strcmp(f->msg->name, g->msg->name)) &&
				   (!f->en || !strcmp(f->en->name, g->en->name));

			if (!same)
				fprintf(stderr, "\n  %s.%s differs\n", x->name, f->name);
			CU_ASSERT(same);
		}
	}
	for (uint32_t i = 0; i < b->nenums && i < l->nenums; i++) {
		CU_ASSERT_STRING_EQUAL(b->enums[i].name, l->enums[i].name);
		CU_ASSERT_EQUAL_FATAL(b->enums[i].nvals, l->enums[i].nvals);
		for (uint32_t j = 0; j < b->enums[i].nvals; j++)
			CU_ASSERT(!strcmp(b->enums[i].vals[j].name, l->enums[i].vals[j].name) &&
				  b->enums[i].vals[j].num == l->enums[i].vals[j].num);
	}
	for (uint32_t i = 0; i < b->nmaps && i < l->nmaps; i++) {
		CU_ASSERT_STRING_EQUAL(b->maps[i].name, l->maps[i].name);
		CU_ASSERT_EQUAL_FATAL(b->maps[i].n, l->maps[i].n);
		CU_ASSERT_EQUAL(b->maps[i].is_flags, l->maps[i].is_flags);
		for (uint32_t j = 0; j < b->maps[i].n; j++)
			CU_ASSERT(!strcmp(b->maps[i].ents[j].name, l->maps[i].ents[j].name) &&
				  b->maps[i].ents[j].val == l->maps[i].ents[j].val);
	}
	for (uint32_t i = 0; i < b->nkinds && i < l->nkinds; i++) {
		const struct img_kind *x = &b->kinds[i], *y = &l->kinds[i];

		CU_ASSERT(!strcmp(x->name, y->name) && x->magic == y->magic && same_str(x->alias_of, y->alias_of) &&
			  same_str(x->json, y->json) && !strcmp(x->pattern, y->pattern) &&
			  x->layout == y->layout && x->extra == y->extra && x->head == y->head &&
			  x->legacy == y->legacy && (!x->msg || !strcmp(x->msg->name, y->msg->name)));
	}
	img_schema_free(l);
}

/* A schema folder in /tmp with the files given; returns the error of loading it (or "" when it loads). */
static const char *load_text(const char *tab, const char *schema)
{
	static char msg[1024];
	char dir[] = "/tmp/crt-schema-XXXXXX", path[256];
	struct img_schema *s;
	struct img_err e = { 0 };
	FILE *f;

	if (!mkdtemp(dir))
		return "mkdtemp failed";
	if (tab) {
		snprintf(path, sizeof(path), "%s/images.tab", dir);
		f = fopen(path, "w");
		fputs(tab, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/a.schema", dir);
	f = fopen(path, "w");
	fputs(schema, f);
	fclose(f);
	if (img_schema_load_dir(dir, &s, &e) == 0) {
		img_schema_free(s);
		msg[0] = 0;
	} else
		snprintf(msg, sizeof(msg), "%.200s: %.760s", e.subject, e.msg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/images.tab", dir);
	unlink(path);
	rmdir(dir);
	return msg;
}

#define TAB "# kinds\nFOO 0x12345678 FOO foo-%u.img foo single common current\n"
#define GOOD "message foo\n\t1\tid\trequired\tuint32\n\t2\tbar\toptional\tmsg:bar\n\nmessage bar\n\t1\tx\trepeated\tsint64\n"

static void expect_error(const char *tab, const char *schema, const char *want)
{
	const char *got = load_text(tab, schema);

	if (!strstr(got, want))
		fprintf(stderr, "\n  got '%s', want '%s'\n", got, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, want));
}

static void test_malformed_schemas(void)
{
	CU_ASSERT_STRING_EQUAL(load_text(TAB, GOOD), "");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tuint32\n\n\t2\tx\tmandatory\tuint32\n",
		     "a.schema: line 4: bad label 'mandatory'");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tint128\n", "line 2: bad type 'int128'");
	expect_error(TAB, "message foo\n\t0\tid\trequired\tuint32\n", "line 2: bad field number '0'");
	expect_error(TAB, "message foo\n\t536870912\tid\trequired\tuint32\n", "line 2: bad field number");
	expect_error(TAB, "message foo\n\t1\tid\trequired\n", "line 2: a field needs NUMBER NAME LABEL TYPE");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tuint32\tshiny\n", "line 2: unknown hint 'shiny'");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tbytes\tconv=rot13\n", "line 2: unknown conversion 'rot13'");
	expect_error(TAB, "\t1\tid\trequired\tuint32\n", "line 1: a member line outside a message or enum");
	expect_error(TAB, "mesage foo\n", "line 1: expected 'message NAME' or 'enum NAME'");
	expect_error(TAB, "enum e\n\tA\tone\n", "line 2: an enum value needs NAME NUMBER");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tmsg:nope\n", "foo.id: unknown type 'nope'");
	expect_error(TAB, "message foo\n\t1\tid\trequired\tuint32\n\t1\tid2\toptional\tuint32\n",
		     "foo: field number 1 is used twice");
	expect_error(TAB, GOOD "message foo\n\t1\tid\trequired\tuint32\n", "message foo is defined twice");
	expect_error("FOO 0xzz FOO foo-%u.img foo single common current\n", GOOD, "images.tab: line 1: bad magic '0xzz'");
	expect_error("\n\nFOO 1 FOO foo-%u.img foo single common\n", GOOD, "images.tab: line 3: a kind needs 8 columns, not 7");
	expect_error("FOO 1 FOO foo-%u.img foo array+tar common current\n", GOOD, "unknown extra payload 'tar'");
	expect_error("FOO 1 FOO foo-%u.img foo heap common current\n", GOOD, "unknown layout 'heap'");
	expect_error("FOO 1 FOO foo-%u.img nope single common current\n", GOOD, "kind FOO: unknown message 'nope'");
	expect_error("FOO =BAR FOO foo-%u.img foo single common current\n", GOOD, "alias of unknown kind 'BAR'");
	expect_error("@head COMMON 0x1\n" TAB, GOOD, "the head magics differ from CRIU's");
	expect_error(NULL, GOOD, "no images.tab in the schema folder");
}

static CU_TestInfo tests[] = {
	{ "messages, fields, enums, maps by name", test_lookups_by_name },
	{ "kinds by name and JSON name; aliases", test_kinds_by_name_and_json },
	{ "kinds by file name", test_kinds_by_file },
	{ "pattern numbers (%u %x %s) both ways", test_pattern_ids },
	{ "kinds by magic", test_kinds_by_magic },
	{ "schemas/criu at run time equals the builtin tables", test_loaded_equals_builtin },
	{ "malformed schemas name the line", test_malformed_schemas },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("schema registry", NULL, NULL, tests)
