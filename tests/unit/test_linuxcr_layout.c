/*
 * The linux-cr tables: every struct of every version and arch against C's
 * layout rules, the v23-rc2 sizes worked out in the research notes (§2.11),
 * facts from the user-cr header history, and the run-time loader against the
 * tables built in.
 *
 * Where the offsets come from: tools/lcrtabc's input (schemas/linuxcr) holds
 * what clang's record-layout dump gave for the user-cr header snapshots
 * (x86_64 and -m32), checked once against the headers outside the
 * repository.  This test recomputes every offset, size and alignment from
 * the field types alone, so a typing slip in the tables shows here.
 */
#include <string.h>

#include "img/linuxcr.h"
#include "unit.h"

static const struct img_lcr_tables *T;

static int init(void)
{
	T = img_lcr_tables_builtin();
	return T ? 0 : 1;
}

static void test_c_layout_rules(void)
{
	struct img_err e = { 0 };
	unsigned n = 0;

	for (uint32_t v = 0; v < T->nversions; v++)
		for (uint32_t a = 0; a < T->versions[v].nlayouts; a++) {
			const struct img_lcr_layout *l = &T->versions[v].layouts[a];

			for (uint32_t s = 0; s < l->nstructs; s++, n++) {
				int r = img_lcr_struct_check(l->structs[s], l->long_size, &e);

				if (r)
					fprintf(stderr, "%s/%s: %s\n", T->versions[v].name, l->arch, e.msg);
				CU_ASSERT_EQUAL(r, 0);
			}
		}
	/* 14 layouts of 65 to 85 structs */
	CU_ASSERT(n > 1000);
}

/* The checker must catch a moved field, a wrong size and a missed i386 alignment. */
static void test_checker_catches(void)
{
	static const struct img_lcr_field hf[] = { { "type", 0, 0, IMG_LCR_U32, 0, 0, 0, NULL },
						   { "len", 4, 0, IMG_LCR_U32, 0, 0, 0, NULL } };
	static const struct img_lcr_struct hdr = { "ckpt_hdr", 8, 8, 8, 2, hf };
	struct img_lcr_field f[3] = {
		{ "h", 0, 0, IMG_LCR_STRUCT, 0, 0, 0, &hdr },
		{ "a", 8, 0, IMG_LCR_U32, 0, 0, 0, NULL },
		{ "b", 16, 0, IMG_LCR_U64, 0, 0, 0, NULL },
	};
	struct img_lcr_struct s = { "t", 24, 8, 8, 3, f };
	struct img_err e = { 0 };

	CU_ASSERT_EQUAL(img_lcr_struct_check(&s, 8, &e), 0);
	/* on i386 the u64 goes at 12 */
	CU_ASSERT_NOT_EQUAL(img_lcr_struct_check(&s, 4, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "field b at offset 16, but C puts it at 12"));
	f[2].off = 12;
	s.size = 24; /* aligned(8) rounds 20 up to 24 on both */
	CU_ASSERT_EQUAL(img_lcr_struct_check(&s, 4, &e), 0);
	s.size = 20;
	CU_ASSERT_NOT_EQUAL(img_lcr_struct_check(&s, 4, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "size 20, but C gives 24"));
}

static const struct img_lcr_struct *S(const char *ver, const char *arch, const char *name)
{
	const struct img_lcr_version *v = img_lcr_version_find(T, ver);
	const struct img_lcr_layout *l = v ? img_lcr_layout_find(v, arch) : NULL;

	return l ? img_lcr_struct_find(l, name) : NULL;
}

/*
 * §2.11 of research/linux-cr-format.md: sizes worked out by hand for
 * x86_64 v23-rc2.  Every one agrees with the tables; the notes' "thread 24
 * (+24 TLS)" and "fpu record 8+xstate_size" are record lengths with a
 * payload, checked here as the struct part.
 */
static void test_research_sizes(void)
{
	static const struct {
		const char *name;
		uint32_t size;
	} want[] = {
		{ "ckpt_hdr", 8 },	     { "ckpt_hdr_header", 72 },	{ "ckpt_hdr_header_arch", 16 },
		{ "ckpt_hdr_container", 8 }, { "ckpt_hdr_tail", 16 },	{ "ckpt_hdr_objref", 16 },
		{ "ckpt_hdr_pids", 24 },     { "ckpt_hdr_tree", 16 },	{ "ckpt_task_pids", 24 },
		{ "ckpt_hdr_task", 80 },     { "ckpt_hdr_task_objs", 32 }, { "ckpt_hdr_task_creds", 16 },
		{ "ckpt_hdr_cred", 96 },     { "ckpt_hdr_utsns", 400 },	{ "ckpt_hdr_thread", 24 },
		{ "ckpt_hdr_cpu", 192 },     { "ckpt_hdr_mm", 120 },	{ "ckpt_hdr_vma", 80 },
		{ "ckpt_hdr_pgarr", 16 },    { "ckpt_hdr_mm_context", 24 }, { "ckpt_hdr_file_table", 16 },
		{ "ckpt_hdr_file_desc", 24 }, { "ckpt_hdr_file", 48 },	{ "ckpt_hdr_file_pipe", 56 },
		{ "ckpt_hdr_signal", 328 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct img_lcr_struct *s = S("v23-rc2", "x86_64", want[i].name);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (s->size != want[i].size)
			fprintf(stderr, "%s: %u, the notes say %u\n", want[i].name, s->size, want[i].size);
		CU_ASSERT_EQUAL(s->size, want[i].size);
	}
	/* the header is 72 bytes in every version: detection reads it before it knows the version */
	for (uint32_t v = 0; v < T->nversions; v++)
		for (uint32_t a = 0; a < T->versions[v].nlayouts; a++)
			CU_ASSERT_EQUAL(img_lcr_struct_find(&T->versions[v].layouts[a], "ckpt_hdr_header")->size, 72);
}

static int64_t num(const char *ver, const char *en, const char *name)
{
	const struct img_lcr_version *v = img_lcr_version_find(T, ver);
	int64_t x = -1;

	if (v)
		img_lcr_enum_val(img_lcr_enum_find(&v->layouts[0], en), name, &x);
	return x;
}

/* Renumberings and layout changes that the header history shows (research notes §3.2, §3.3). */
static void test_history_facts(void)
{
	static const struct {
		const char *v;
		int rev;
	} revs[] = { { "v18", 3 }, { "v19-rc1", 3 }, { "v19-rc2", 4 }, { "v19-rc3", 5 },
		     { "v19", 5 },  { "v21", 6 },     { "v23-rc1", 6 }, { "v23-rc2", 6 } };

	for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
		const struct img_lcr_version *v = img_lcr_version_find(T, revs[i].v);

		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_EQUAL(v->rev, revs[i].rev);
	}
	CU_ASSERT_PTR_NOT_NULL(img_lcr_version_find(T, "linuxcr-v20")); /* the alias */
	/* CONTAINER inserted at 3 after v18 */
	CU_ASSERT_EQUAL(num("v18", "hdr", "BUFFER"), 3);
	CU_ASSERT_EQUAL(num("v18", "hdr", "CONTAINER"), -1);
	CU_ASSERT_EQUAL(num("v19-rc1", "hdr", "BUFFER"), 4);
	/* SOCKET_FRAG in v19-rc2, rev 4 unchanged */
	CU_ASSERT_EQUAL(num("v19-rc1", "hdr", "SOCKET_UNIX"), 704);
	CU_ASSERT_EQUAL(num("v19-rc2", "hdr", "SOCKET_UNIX"), 705);
	/* MNT_NS and OBJ_FS in v19-rc3 */
	CU_ASSERT_EQUAL(num("v19-rc2", "hdr", "CRED"), 113);
	CU_ASSERT_EQUAL(num("v19-rc3", "hdr", "CRED"), 114);
	CU_ASSERT_EQUAL(num("v19-rc2", "obj", "FS"), -1);
	CU_ASSERT_EQUAL(num("v19-rc3", "obj", "FS"), 5);
	/* x86_64 first appended as 5, then moved to 2 */
	CU_ASSERT_EQUAL(num("v19-rc2", "arch", "X86_64"), 5);
	CU_ASSERT_EQUAL(num("v19-rc3", "arch", "X86_64"), 2);
	CU_ASSERT_EQUAL(num("v19-rc3", "arch", "S390X"), 3);
	/* PIDS at 101 and OBJ_PID at 1 in v23-rc2, rev 6 unchanged; HPAGE moved MM_CONTEXT */
	CU_ASSERT_EQUAL(num("v23-rc1", "hdr", "TREE"), 101);
	CU_ASSERT_EQUAL(num("v23-rc2", "hdr", "TREE"), 102);
	CU_ASSERT_EQUAL(num("v23-rc1", "obj", "FILE"), 3);
	CU_ASSERT_EQUAL(num("v23-rc2", "obj", "FILE"), 4);
	CU_ASSERT_EQUAL(num("v23-rc1", "hdr", "MM_CONTEXT"), 404);
	CU_ASSERT_EQUAL(num("v23-rc2", "hdr", "MM_CONTEXT"), 405);
	CU_ASSERT_EQUAL(num("v23-rc2", "hdr", "HPAGE"), 404);
	/* the task struct: same version, other size on each arch until v19 */
	CU_ASSERT_EQUAL(S("v19-rc2", "x86_64", "ckpt_hdr_task")->size, 72);
	CU_ASSERT_EQUAL(S("v19-rc2", "i386", "ckpt_hdr_task")->size, 64);
	CU_ASSERT_EQUAL(S("v19", "i386", "ckpt_hdr_task")->size, 64);
	CU_ASSERT_EQUAL(S("v19", "x86_64", "ckpt_hdr_task")->size, 64);
	/* debug registers dropped from the cpu record in v19-rc3 */
	CU_ASSERT_EQUAL(S("v19-rc2", "x86_64", "ckpt_hdr_cpu")->size, 240);
	CU_ASSERT_EQUAL(S("v19-rc3", "x86_64", "ckpt_hdr_cpu")->size, 192);
	/* termios widened in v23-rc1 */
	CU_ASSERT_EQUAL(S("v21", "x86_64", "ckpt_hdr_tty.termios")->size, 24);
	CU_ASSERT_EQUAL(S("v23-rc1", "x86_64", "ckpt_hdr_tty.termios")->size, 48);
}

static void test_field_paths(void)
{
	const struct img_lcr_struct *sig = S("v23-rc2", "x86_64", "ckpt_hdr_signal");
	const struct img_lcr_struct *pipe = S("v23-rc2", "x86_64", "ckpt_hdr_file_pipe");
	const struct img_lcr_struct *sock = S("v23-rc2", "x86_64", "ckpt_hdr_socket");
	struct img_lcr_fref fr;

	CU_ASSERT_EQUAL(img_lcr_field_ref(sig, "rlim[7].rlim_max", &fr), 0);
	CU_ASSERT_EQUAL(fr.off, 8 + 7 * 16 + 8);
	CU_ASSERT_NOT_EQUAL(img_lcr_field_ref(sig, "rlim[16].rlim_max", &fr), 0);
	/* a file subtype starts with its base: its fields are found through it */
	CU_ASSERT_EQUAL(img_lcr_field_ref(pipe, "f_pos", &fr), 0);
	CU_ASSERT_EQUAL(fr.off, 24);
	CU_ASSERT_EQUAL(img_lcr_field_ref(pipe, "pipe_objref", &fr), 0);
	CU_ASSERT_EQUAL(fr.off, 48);
	CU_ASSERT_EQUAL(img_lcr_field_ref(sock, "sock.linger.l_linger", &fr), 0);
	CU_ASSERT_EQUAL(fr.off, 48 + 64 + 4);
	CU_ASSERT_NOT_EQUAL(img_lcr_field_ref(sock, "sock.nosuch", &fr), 0);
}

static int same_struct(const struct img_lcr_struct *a, const struct img_lcr_struct *b)
{
	if (strcmp(a->name, b->name) || a->size != b->size || a->align != b->align || a->attr_align != b->attr_align ||
	    a->nfields != b->nfields)
		return 0;
	for (uint32_t i = 0; i < a->nfields; i++) {
		const struct img_lcr_field *x = &a->fields[i], *y = &b->fields[i];

		if (strcmp(x->name, y->name) || x->off != y->off || x->count != y->count || x->type != y->type ||
		    x->align != y->align || x->un != y->un || x->flex != y->flex || !x->sub != !y->sub ||
		    (x->sub && !same_struct(x->sub, y->sub)))
			return 0;
	}
	return 1;
}

/* The tables read at run time from schemas/linuxcr are the ones built in. */
static void test_loader_matches_builtin(void)
{
	struct img_lcr_tables *t;
	struct img_err e = { 0 };

	if (img_lcr_tables_load_dir("schemas/linuxcr", &t, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		CU_FAIL("schemas/linuxcr does not load");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(t->nversions, T->nversions);
	CU_ASSERT_EQUAL(t->nrecdescs, T->nrecdescs);
	CU_ASSERT_EQUAL(t->nrenames, T->nrenames);
	for (uint32_t v = 0; v < T->nversions; v++) {
		const struct img_lcr_version *a = &T->versions[v], *b = &t->versions[v];

		CU_ASSERT_STRING_EQUAL(a->name, b->name);
		CU_ASSERT_EQUAL(a->rev, b->rev);
		CU_ASSERT_EQUAL_FATAL(a->nlayouts, b->nlayouts);
		for (uint32_t k = 0; k < a->nlayouts; k++) {
			const struct img_lcr_layout *x = &a->layouts[k], *y = &b->layouts[k];

			CU_ASSERT_EQUAL(x->arch_id, y->arch_id);
			CU_ASSERT_EQUAL_FATAL(x->nstructs, y->nstructs);
			CU_ASSERT_EQUAL_FATAL(x->nrecs, y->nrecs);
			CU_ASSERT_EQUAL(x->nenums, y->nenums);
			for (uint32_t s = 0; s < x->nstructs; s++)
				CU_ASSERT(same_struct(x->structs[s], y->structs[s]));
			for (uint32_t r = 0; r < x->nrecs; r++) {
				CU_ASSERT_EQUAL(x->recs[r].type, y->recs[r].type);
				CU_ASSERT_STRING_EQUAL(x->recs[r].name, y->recs[r].name);
				CU_ASSERT_EQUAL(!x->recs[r].desc, !y->recs[r].desc);
			}
		}
	}
	img_lcr_tables_free(t);
}

static CU_TestInfo tests[] = {
	{ "every struct of every version follows C's layout rules", test_c_layout_rules },
	{ "the layout checker catches misplaced fields", test_checker_catches },
	{ "v23-rc2 sizes agree with the research notes", test_research_sizes },
	{ "renumberings and layout changes of the header history", test_history_facts },
	{ "dotted field paths", test_field_paths },
	{ "schemas/linuxcr loaded at run time equals the built-in tables", test_loader_matches_builtin },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("linuxcr layouts", init, NULL, tests)
