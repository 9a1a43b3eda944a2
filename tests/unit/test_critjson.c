/*
 * crit's JSON both ways, on single messages of the builtin schema: what crit
 * does not print (unknown fields, enum values the schema lacks) goes into
 * "_unknown" and comes back where it was.
 */
#include <string.h>

#include "libimg.h"
#include "unit.h"

/* decode bytes as MSG, print them as crit would, read that back, encode: the same bytes? */
static int json_round_trip(const char *msg, const uint8_t *p, size_t n, int pretty, char *json, size_t jlen)
{
	const struct img_msgdesc *d = img_schema_msg(img_schema_builtin(), msg);
	struct img_arena a;
	struct img_err e = { 0 };
	struct img_buf text, bin;
	struct img_out o;
	struct img_jw w;
	struct img_msg *m;
	struct img_jv *v;
	int ok = 0;

	img_arena_init(&a);
	img_buf_init(&text);
	img_buf_init(&bin);
	m = img_pb_decode(&a, d, p, n, 0, &e);
	if (!m)
		goto out;
	img_out_mem(&o, &text);
	img_jw_init(&w, &o, pretty ? 4 : 0);
	img_msg_to_json(&w, m, pretty, 0);
	img_out_flush(&o);
	snprintf(json, jlen, "%.*s", (int)text.len, (const char *)text.data);
	v = img_json_parse(&a, (const char *)text.data, text.len, &e);
	m = v ? img_msg_from_json(&a, d, v, "entry", &e) : NULL;
	if (!m || img_pb_encode(m, &bin))
		goto out;
	ok = unit_same(bin.data, bin.len, p, n);
out:
	img_buf_free(&text);
	img_buf_free(&bin);
	img_arena_free(&a);
	return ok;
}

static void test_unknown_enum_in_place(void)
{
	/* fdinfo_entry: id 2, flags 1, type 21 (not in fd_types), fd 3: the required type is kept unknown */
	static const uint8_t b[] = { 0x08, 0x02, 0x10, 0x01, 0x18, 0x15, 0x20, 0x03 };
	char json[512];

	CU_ASSERT(json_round_trip("fdinfo_entry", b, sizeof(b), 0, json, sizeof(json)));
	CU_ASSERT_STRING_EQUAL(json, "{\"id\": 2, \"flags\": 1, \"fd\": 3, \"_unknown\": \"GBU=\\n\"}");
	CU_ASSERT(json_round_trip("fdinfo_entry", b, sizeof(b), 1, json, sizeof(json)));
}

static void test_unknown_fields_in_place(void)
{
	/* pstree_entry: pid 1, unknown 7 (varint 9), ppid 0, pgid 1, sid 1, threads 1, unknown 9 (LEN) */
	static const uint8_t b[] = { 0x08, 0x01, 0x38, 0x09, 0x10, 0x00, 0x18, 0x01, 0x20, 0x01,
				     0x28, 0x01, 0x4a, 0x02, 'o', 'k' };
	static const uint8_t sorted[] = { 0x08, 0x01, 0x10, 0x00, 0x18, 0x01, 0x20, 0x01, 0x28, 0x01,
					  0x38, 0x09, 0x4a, 0x02, 'o', 'k' };
	char json[512];

	/* CRIU writes fields in number order: such a message comes back the same */
	CU_ASSERT(json_round_trip("pstree_entry", sorted, sizeof(sorted), 0, json, sizeof(json)));
	CU_ASSERT_STRING_EQUAL(json, "{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1, \"threads\": [1], "
				     "\"_unknown\": \"OAlKAm9r\\n\"}");
	/* out of order, the JSON (one "_unknown" per message) cannot say where field 7 was */
	CU_ASSERT(!json_round_trip("pstree_entry", b, sizeof(b), 0, json, sizeof(json)));
}

static void test_missing_required(void)
{
	const struct img_msgdesc *d = img_schema_msg(img_schema_builtin(), "fdinfo_entry");
	static const char text[] = "{\"id\": 2, \"flags\": 1, \"fd\": 3}";
	struct img_arena a;
	struct img_err e = { 0 };
	struct img_jv *v;

	img_arena_init(&a);
	v = img_json_parse(&a, text, sizeof(text) - 1, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NULL(img_msg_from_json(&a, d, v, "entries[0]", &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "required field 'type' of fdinfo_entry is missing"));
	img_arena_free(&a);
}

static CU_TestInfo tests[] = {
	{ "unknown enum value back in place", test_unknown_enum_in_place },
	{ "unknown fields back in number order", test_unknown_fields_in_place },
	{ "a missing required field", test_missing_required },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("crit json", NULL, NULL, tests)
