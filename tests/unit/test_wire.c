/*
 * The protobuf wire codec: varints, zigzag, fixed and length-delimited fields,
 * packed repeated scalars, unknown fields and enum values kept in place,
 * groups, the nesting cap, and decode -> encode identity; and the writer API.
 */
#include <errno.h>
#include <string.h>

#include "img/pb.h"
#include "unit.h"

/*
 * A message that uses every wire type, and nests in itself:
 *   message t { 1 u uint64; 2 s sint64; 3 f32 fixed32; 4 f64 fixed64; 5 b bytes;
 *               6 r repeated uint32; 7 e enum color; 8 sub t; 9 i int32; 10 z sint32;
 *               11 str string; 12 kids repeated t; 13 sf sfixed64; 14 ok bool }
 */
static const struct img_enumval color_vals[] = { { "RED", 1 }, { "GREEN", 2 }, { "NEG", -1 } };
static const struct img_enumdesc color = { "color", 3, color_vals };
static const struct img_msgdesc t_desc;
static const struct img_fielddesc t_fields[] = {
	{ .name = "u", .num = 1, .label = IMG_L_OPTIONAL, .type = IMG_T_UINT64 },
	{ .name = "s", .num = 2, .label = IMG_L_OPTIONAL, .type = IMG_T_SINT64 },
	{ .name = "f32", .num = 3, .label = IMG_L_OPTIONAL, .type = IMG_T_FIXED32 },
	{ .name = "f64", .num = 4, .label = IMG_L_OPTIONAL, .type = IMG_T_FIXED64 },
	{ .name = "b", .num = 5, .label = IMG_L_OPTIONAL, .type = IMG_T_BYTES },
	{ .name = "r", .num = 6, .label = IMG_L_REPEATED, .type = IMG_T_UINT32 },
	{ .name = "e", .num = 7, .label = IMG_L_OPTIONAL, .type = IMG_T_ENUM, .en = &color },
	{ .name = "sub", .num = 8, .label = IMG_L_OPTIONAL, .type = IMG_T_MESSAGE, .msg = &t_desc },
	{ .name = "i", .num = 9, .label = IMG_L_OPTIONAL, .type = IMG_T_INT32 },
	{ .name = "z", .num = 10, .label = IMG_L_OPTIONAL, .type = IMG_T_SINT32 },
	{ .name = "str", .num = 11, .label = IMG_L_OPTIONAL, .type = IMG_T_STRING },
	{ .name = "kids", .num = 12, .label = IMG_L_REPEATED, .type = IMG_T_MESSAGE, .msg = &t_desc },
	{ .name = "sf", .num = 13, .label = IMG_L_OPTIONAL, .type = IMG_T_SFIXED64 },
	{ .name = "ok", .num = 14, .label = IMG_L_OPTIONAL, .type = IMG_T_BOOL },
};
static const struct img_msgdesc t_desc = { "t", sizeof(t_fields) / sizeof(t_fields[0]), t_fields };

#define A unit_arena
static struct img_err E;

static struct img_msg *dec(const void *p, size_t n)
{
	memset(&E, 0, sizeof(E));
	return img_pb_decode(&A, &t_desc, p, n, 0x100, &E);
}

/* decode, encode, and compare with the input */
static int same_after_recode(const void *p, size_t n)
{
	struct img_msg *m = dec(p, n);
	struct img_buf b;
	int same;

	if (!m)
		return 0;
	img_buf_init(&b);
	img_msg_touch(m); /* encode field by field, not by copying the raw bytes */
	same = !img_pb_encode(m, &b) && unit_same(b.data, b.len, p, n);
	img_buf_free(&b);
	return same;
}

static void test_varint_limits(void)
{
	uint8_t b[16];
	uint64_t v;

	CU_ASSERT_EQUAL(img_varint_put(b, 0), 1);
	CU_ASSERT_EQUAL(img_varint_get(b, b + 1, &v), 1);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(img_varint_put(b, UINT64_MAX), 10);
	CU_ASSERT_EQUAL(img_varint_get(b, b + 10, &v), 10);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(img_varint_len(127), 1);
	CU_ASSERT_EQUAL(img_varint_len(128), 2);
	CU_ASSERT_EQUAL(img_varint_len(UINT64_MAX >> 1), 9);
	CU_ASSERT_EQUAL(img_varint_len(UINT64_MAX), 10);
	/* truncated: the last byte still has its continuation bit */
	CU_ASSERT_EQUAL(img_varint_get(b, b + 9, &v), 0);
	CU_ASSERT_EQUAL(img_varint_get(b, b, &v), 0);
	/* overlong: an 11th byte */
	memset(b, 0x80, 11);
	b[11] = 0;
	CU_ASSERT_EQUAL(img_varint_get(b, b + 12, &v), 0);
	/* 10 bytes whose last carries more than the 64th bit */
	memset(b, 0xff, 9);
	b[9] = 0x02;
	CU_ASSERT_EQUAL(img_varint_get(b, b + 10, &v), 0);
	/* zero padding (0x80 0x00) is a valid, if wasteful, encoding of 0 */
	b[0] = 0x80;
	b[1] = 0x00;
	CU_ASSERT_EQUAL(img_varint_get(b, b + 2, &v), 2);
	CU_ASSERT_EQUAL(v, 0);
}

static void test_overlong_in_message(void)
{
	/* field 1 with an 11-byte varint; field 1 cut inside its varint; a tag cut short */
	static const uint8_t overlong[] = { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t cut[] = { 0x08, 0x96 };
	static const uint8_t tag[] = { 0x80 };

	CU_ASSERT_PTR_NULL(dec(overlong, sizeof(overlong)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "field u (1) at offset 0x100"));
	CU_ASSERT_PTR_NULL(dec(cut, sizeof(cut)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "truncated or overlong varint"));
	CU_ASSERT_PTR_NULL(dec(tag, sizeof(tag)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "tag"));
}

static void test_zigzag(void)
{
	static const uint8_t neg[] = { 0x10, 0x03, 0x50, 0x01 }; /* s = -2 (sint64), z = -1 (sint32) */
	struct img_msg *m;

	CU_ASSERT_EQUAL(img_zigzag64(0), 0);
	CU_ASSERT_EQUAL(img_zigzag64(-1), 1);
	CU_ASSERT_EQUAL(img_zigzag64(1), 2);
	CU_ASSERT_EQUAL(img_zigzag64(INT64_MIN), UINT64_MAX);
	CU_ASSERT_EQUAL(img_zigzag64(INT64_MAX), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(img_unzigzag64(UINT64_MAX), INT64_MIN);
	CU_ASSERT_EQUAL(img_unzigzag64(3), -2);
	m = dec(neg, sizeof(neg));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_i64(m, "s", 0), -2);
	CU_ASSERT_EQUAL(img_msg_i64(m, "z", 0), -1);
	CU_ASSERT(same_after_recode(neg, sizeof(neg)));
}

static void test_int32_negative(void)
{
	/* a negative int32 travels as a 10-byte varint, sign-extended to 64 bits */
	static const uint8_t b[] = { 0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	struct img_msg *m = dec(b, sizeof(b));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_i64(m, "i", 0), -1);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
}

static void test_fixed(void)
{
	static const uint8_t b[] = { 0x1d, 0x78, 0x56, 0x34, 0x12,                            /* f32 */
				     0x21, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* f64 */
				     0x69, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }; /* sf = -2 */
	struct img_msg *m = dec(b, sizeof(b));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_u64(m, "f32", 0), 0x12345678);
	CU_ASSERT_EQUAL(img_msg_u64(m, "f64", 0), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(img_msg_i64(m, "sf", 0), -2);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	/* cut inside each */
	for (size_t n = 1; n < 5; n++) {
		CU_ASSERT_PTR_NULL(dec(b, n));
		CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "need 4 bytes"));
	}
	CU_ASSERT_PTR_NULL(dec(b + 5, 5));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "need 8 bytes"));
}

static void test_length_delimited(void)
{
	static const uint8_t b[] = { 0x2a, 0x03, 'a', 0x00, 'c', 0x5a, 0x02, 'h', 'i', 0x2a, 0x00 };
	static const uint8_t past[] = { 0x2a, 0x05, 'a', 'b' };
	static const uint8_t huge[] = { 0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
	struct img_msg *m = dec(b, sizeof(b));
	size_t n;
	const uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	/* the last occurrence of a singular field wins, as in protobuf */
	p = img_msg_bytes(m, "b", &n);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_STRING_EQUAL(img_msg_str(&A, m, "str", ""), "hi");
	CU_ASSERT_EQUAL(m->n, 3);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	CU_ASSERT_PTR_NULL(dec(past, sizeof(past)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "need 5 bytes, 2 left"));
	CU_ASSERT_PTR_NULL(dec(huge, sizeof(huge)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "need 4294967295 bytes, 1 left"));
}

static void test_packed(void)
{
	/* r = [1, 300, 2] packed, then one more unpacked: 7 */
	static const uint8_t b[] = { 0x32, 0x04, 0x01, 0xac, 0x02, 0x02, 0x30, 0x07 };
	static const uint8_t bad[] = { 0x32, 0x02, 0x01, 0x80 };
	struct img_msg *m = dec(b, sizeof(b));
	struct img_iter it;
	uint64_t v, want[] = { 1, 300, 2, 7 };
	size_t k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_count(m, "r"), 4);
	CU_ASSERT_EQUAL(img_iter_init(&it, m, "r"), 0);
	while (img_iter_next_u64(&it, &v) && k < 4)
		CU_ASSERT_EQUAL(v, want[k++]);
	CU_ASSERT_EQUAL(k, 4);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	/* a packed run that ends inside a varint */
	CU_ASSERT_PTR_NULL(dec(bad, sizeof(bad)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "bad packed values"));
}

static void test_unknown_fields(void)
{
	/* known u, unknown 100 (varint), known str, unknown 101 (fixed32), unknown 3000 (LEN), known ok */
	static const uint8_t b[] = { 0x08, 0x05, 0xa0, 0x06, 0x2a, 0x5a, 0x01, 'x', 0xad, 0x06, 1, 2, 3, 4,
				     0xc2, 0xbb, 0x01, 0x02, 'h', 'i', 0x70, 0x01 };
	struct img_msg *m = dec(b, sizeof(b));
	struct img_buf out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->n, 6);
	CU_ASSERT_EQUAL(m->f[1].fi, IMG_FI_UNKNOWN);
	CU_ASSERT_EQUAL(m->f[1].num, 100);
	CU_ASSERT_EQUAL(m->f[3].fi, IMG_FI_UNKNOWN);
	CU_ASSERT_EQUAL(m->f[4].num, 3000);
	CU_ASSERT_EQUAL(img_msg_u64(m, "u", 0), 5);
	CU_ASSERT(img_msg_u64(m, "ok", 0));
	/* unknown fields stay where they were, after a change too */
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "u", 6), 0);
	img_buf_init(&out);
	CU_ASSERT_EQUAL(img_pb_encode(m, &out), 0);
	CU_ASSERT_EQUAL(out.len, sizeof(b));
	CU_ASSERT_EQUAL(out.data[1], 6);
	CU_ASSERT(!memcmp(out.data + 2, b + 2, sizeof(b) - 2));
	img_buf_free(&out);
	/* a known number with the wrong wire type is kept as unknown too */
	static const uint8_t wrongwt[] = { 0x0d, 1, 2, 3, 4 }; /* u as fixed32 */
	m = dec(wrongwt, sizeof(wrongwt));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->f[0].fi, IMG_FI_UNKNOWN);
	CU_ASSERT(!img_msg_has(m, "u"));
	CU_ASSERT(same_after_recode(wrongwt, sizeof(wrongwt)));
}

static void test_unknown_enum(void)
{
	/* e = 2 (GREEN), e = 9 (no such value), e = -1 (NEG: a 10-byte varint) */
	static const uint8_t b[] = { 0x38, 0x02, 0x38, 0x09, 0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	struct img_msg *m = dec(b, 4);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->f[0].fi, 6);
	CU_ASSERT_EQUAL(m->f[1].fi, IMG_FI_UNKNOWN);
	/* the value the schema knows is the one readers see */
	CU_ASSERT_EQUAL(img_msg_u64(m, "e", 0), 2);
	CU_ASSERT(same_after_recode(b, 4));
	m = dec(b, sizeof(b));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_i64(m, "e", 0), -1);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
}

static void test_groups(void)
{
	/* u, an unknown group 20 holding a varint, a nested group 21 and a LEN, then ok */
	static const uint8_t b[] = { 0x08, 0x01, 0xa3, 0x01, 0x08, 0x7f, 0xab, 0x01, 0x10, 0x01, 0xac, 0x01,
				     0x1a, 0x01, 'g', 0xa4, 0x01, 0x70, 0x01 };
	static const uint8_t open[] = { 0xa3, 0x01, 0x08, 0x7f };
	static const uint8_t wrong_end[] = { 0xa3, 0x01, 0x08, 0x7f, 0xac, 0x01 };
	static const uint8_t stray_end[] = { 0xa4, 0x01 };
	struct img_msg *m = dec(b, sizeof(b));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->n, 3);
	CU_ASSERT_EQUAL(m->f[1].fi, IMG_FI_UNKNOWN);
	CU_ASSERT_EQUAL(m->f[1].v.b.len, sizeof(b) - 4);
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	CU_ASSERT_PTR_NULL(dec(open, sizeof(open)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "unterminated group"));
	CU_ASSERT_PTR_NULL(dec(wrong_end, sizeof(wrong_end)));
	CU_ASSERT_PTR_NULL(dec(stray_end, sizeof(stray_end)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "bad wire type 4"));
}

static void test_bad_framing(void)
{
	static const uint8_t wt6[] = { 0x0e, 0x00 }, wt7[] = { 0x0f }, num0[] = { 0x00, 0x01 };
	static const uint8_t bignum[] = { 0xf8, 0xff, 0xff, 0xff, 0x7f, 0x00 }; /* field 2^32-1 */

	CU_ASSERT_PTR_NULL(dec(wt6, sizeof(wt6)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "bad wire type 6"));
	CU_ASSERT_PTR_NULL(dec(wt7, sizeof(wt7)));
	CU_ASSERT_PTR_NULL(dec(num0, sizeof(num0)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "bad field number 0"));
	CU_ASSERT_PTR_NULL(dec(bignum, sizeof(bignum)));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "bad field number"));
	/* an empty message is fine */
	CU_ASSERT_PTR_NOT_NULL(dec("", 0));
}

/* sub inside sub inside ... n deep, innermost u = 1 */
static size_t nest(uint8_t *b, size_t cap, int n)
{
	size_t len = 2;

	b[cap - 2] = 0x08;
	b[cap - 1] = 0x01;
	for (int i = 0; i < n; i++) {
		uint8_t l[10];
		size_t k = img_varint_put(l, len);

		memcpy(b + cap - len - k, l, k);
		b[cap - len - k - 1] = 0x42; /* field 8, LEN */
		len += k + 1;
	}
	memmove(b, b + cap - len, len);
	return len;
}

static void test_depth_cap(void)
{
	static uint8_t b[1024];
	size_t n = nest(b, sizeof(b), IMG_PB_MAX_DEPTH);
	struct img_msg *m = dec(b, n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (int i = 0; i < IMG_PB_MAX_DEPTH; i++)
		m = img_msg_sub(m, "sub");
	CU_ASSERT_EQUAL(img_msg_u64(m, "u", 0), 1);
	CU_ASSERT(same_after_recode(b, n));
	n = nest(b, sizeof(b), IMG_PB_MAX_DEPTH + 1);
	CU_ASSERT_PTR_NULL(dec(b, n));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "nested deeper than"));
	/* the error names the path down to where it stopped */
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "sub.sub.sub"));
}

static void test_recode_identity(void)
{
	/* a message with every kind of field, nested and repeated, out of number order */
	static const uint8_t b[] = { 0x70, 0x01, 0x08, 0x96, 0x01, 0x62, 0x04, 0x08, 0x01, 0x38, 0x01,
				     0x62, 0x00, 0x5a, 0x03, 'a', 'b', 'c', 0x30, 0x05, 0x30, 0x06,
				     0x42, 0x07, 0x1d, 1, 0, 0, 0, 0x10, 0x04, 0x10, 0x63 };
	struct img_msg *m = dec(b, sizeof(b));
	struct img_buf out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT(!(m->flags & IMG_MSG_SORTED));
	/* untouched: copied as it came */
	img_buf_init(&out);
	CU_ASSERT_EQUAL(img_pb_encode(m, &out), 0);
	CU_ASSERT(out.len == sizeof(b) && !memcmp(out.data, b, sizeof(b)));
	img_buf_free(&out);
	/* rebuilt field by field: the same */
	CU_ASSERT(same_after_recode(b, sizeof(b)));
	CU_ASSERT_EQUAL(img_pb_size(m), sizeof(b));
}

static void test_writer(void)
{
	struct img_msg *m = img_msg_new(&A, &t_desc), *k;
	struct img_buf out;
	static const uint8_t want[] = { 0x08, 0x05, 0x10, 0x03, 0x30, 0x01, 0x30, 0x02, 0x38, 0x02,
					0x5a, 0x02, 'h', 'i', 0x62, 0x02, 0x08, 0x07, 0x62, 0x00 };

	/* set in any order: fields are kept in number order */
	CU_ASSERT_EQUAL(img_msg_set_str(&A, m, "str", "hi"), 0);
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "u", 4), 0);
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "u", 5), 0); /* replaces */
	CU_ASSERT_EQUAL(img_msg_set_i64(&A, m, "s", -2), 0);
	CU_ASSERT_EQUAL(img_msg_add_u64(&A, m, "r", 1), 0);
	CU_ASSERT_EQUAL(img_msg_add_u64(&A, m, "r", 2), 0); /* appends */
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "e", 2), 0);
	k = img_msg_set_msg(&A, m, "kids");
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, k, "u", 7), 0);
	CU_ASSERT_PTR_NOT_NULL(img_msg_set_msg(&A, m, "kids")); /* a second, empty */
	img_buf_init(&out);
	CU_ASSERT_EQUAL(img_pb_encode(m, &out), 0);
	CU_ASSERT_EQUAL(out.len, sizeof(want));
	CU_ASSERT(out.len == sizeof(want) && !memcmp(out.data, want, sizeof(want)));
	img_buf_free(&out);
	/* what does not fit is refused */
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "nope", 1), -ENOENT);
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, m, "str", 1), -EINVAL);
	CU_ASSERT_EQUAL(img_msg_set_bytes(&A, m, "u", "x", 1), -EINVAL);
	CU_ASSERT_EQUAL(img_msg_add_u64(&A, m, "u", 1), -EINVAL);      /* not repeated */
	CU_ASSERT_EQUAL(img_msg_add_str(&A, m, "r", "x"), -EINVAL);    /* not a string field */
	CU_ASSERT_EQUAL(img_msg_add_u64(&A, m, "kids", 1), -EINVAL);   /* a message field */
	CU_ASSERT_PTR_NULL(img_msg_set_msg(&A, m, "u"));
	/* a singular message field is set once and then found again */
	k = img_msg_set_msg(&A, m, "sub");
	CU_ASSERT_PTR_EQUAL(img_msg_set_msg(&A, m, "sub"), k);
	CU_ASSERT_EQUAL(img_msg_del(m, "sub"), 0);
	CU_ASSERT(!img_msg_has(m, "sub"));
}

static void test_change_after_decode(void)
{
	/* changing a nested field re-encodes the outer message with the new sizes */
	static const uint8_t b[] = { 0x42, 0x02, 0x08, 0x01, 0x70, 0x01 };
	static const uint8_t want[] = { 0x42, 0x03, 0x08, 0x80, 0x01, 0x70, 0x01 };
	struct img_msg *m = dec(b, sizeof(b));
	struct img_buf out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(img_msg_set_u64(&A, img_msg_sub(m, "sub"), "u", 128), 0);
	img_buf_init(&out);
	CU_ASSERT_EQUAL(img_pb_encode(m, &out), 0);
	CU_ASSERT(out.len == sizeof(want) && !memcmp(out.data, want, sizeof(want)));
	img_buf_free(&out);
}

static CU_TestInfo tests[] = {
	{ "varint limits", test_varint_limits },
	{ "overlong and truncated varints in a message", test_overlong_in_message },
	{ "zigzag", test_zigzag },
	{ "negative int32", test_int32_negative },
	{ "fixed32 and fixed64", test_fixed },
	{ "length-delimited", test_length_delimited },
	{ "packed repeated", test_packed },
	{ "unknown fields kept in order", test_unknown_fields },
	{ "unknown enum values", test_unknown_enum },
	{ "groups", test_groups },
	{ "bad framing", test_bad_framing },
	{ "nesting depth cap", test_depth_cap },
	{ "decode -> encode identity", test_recode_identity },
	{ "writer", test_writer },
	{ "change after decode", test_change_after_decode },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("wire codec", unit_arena_setup, unit_arena_teardown, tests)
