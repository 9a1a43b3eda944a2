/*
 * JSON parser and writer (Python's json.dump style, exact integers), base64
 * with crit's line layout, and quoted-printable with binascii.b2a_qp's rules.
 *
 * The expected strings were computed once with python3 (3.11) and pasted
 * here: json.dumps(d) and json.dumps(d, indent=4) for the writer,
 * base64.encodebytes(bytes((i * 37 + 11) & 0xff for i in range(n))) for the
 * base64 lines, quopri.encodestring(x) for quoted-printable.
 */
#include <math.h>
#include <string.h>

#include "libimg.h"
#include "unit.h"

#define A unit_arena
static struct img_err E;

static struct img_jv *parse(const char *s)
{
	memset(&E, 0, sizeof(E));
	return img_json_parse(&A, s, strlen(s), &E);
}

static void test_exact_integers(void)
{
	struct img_jv *v = parse("[18446744073709551615, -9223372036854775808, 0, -0, 9223372036854775807]");
	uint64_t u;
	int64_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->a.n, 5);
	CU_ASSERT_EQUAL(img_jv_u64(v->a.v[0], &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_NOT_EQUAL(img_jv_i64(v->a.v[0], &i), 0); /* does not fit */
	CU_ASSERT_EQUAL(img_jv_i64(v->a.v[1], &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MIN);
	CU_ASSERT_NOT_EQUAL(img_jv_u64(v->a.v[1], &u), 0); /* negative */
	CU_ASSERT_EQUAL(v->a.v[3]->neg, 0);                  /* -0 is 0 */
	CU_ASSERT_EQUAL(img_jv_i64(v->a.v[4], &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MAX);
	/* one past 2^64 is not silently wrapped */
	CU_ASSERT_PTR_NULL(parse("18446744073709551616"));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "out of range"));
	v = parse("1.5e3");
	CU_ASSERT(v && v->type == IMG_JV_REAL && v->d == 1500.0);
}

static void test_strings(void)
{
	struct img_jv *v = parse("\"a\\u00e9\\ud83d\\ude00\\n\\/\\\"\"");

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->s.len, 10);
	CU_ASSERT(!memcmp(v->s.s, "a\xc3\xa9\xf0\x9f\x98\x80\n/\"", 10));
	/* surrogateescape: \udcXX stands for the byte XX that was not UTF-8 */
	v = parse("\"ab\\udcffc\\udc80\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->s.len, 5);
	CU_ASSERT(!memcmp(v->s.s, "ab\xff" "c\x80", 5));
	/* a NUL inside is kept, with the length */
	v = parse("\"x\\u0000y\"");
	CU_ASSERT(v && v->s.len == 3 && v->s.s[1] == 0);
	/* lone surrogates */
	CU_ASSERT_PTR_NULL(parse("\"\\ud83d\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "lone surrogate"));
	CU_ASSERT_PTR_NULL(parse("\"\\ude00\""));
	CU_ASSERT_PTR_NULL(parse("\"\\ud83dx\\ude00\""));
	CU_ASSERT_PTR_NULL(parse("\"\\u12\""));
	CU_ASSERT_PTR_NULL(parse("\"\\q\""));
	CU_ASSERT_PTR_NULL(parse("\"tab\there\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "control character"));
	CU_ASSERT_PTR_NULL(parse("\"open"));
	CU_ASSERT_PTR_NULL(parse("\"ends in a backslash\\"));
}

static void test_errors_have_positions(void)
{
	CU_ASSERT_PTR_NULL(parse("{\n  \"a\": 1,\n  \"b\": tru\n}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "line 3 column 8"));
	CU_ASSERT_PTR_NULL(parse("[1, 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "line 1"));
	CU_ASSERT_PTR_NULL(parse("{\"a\" 1}"));
	CU_ASSERT_PTR_NULL(parse("{\"a\": 1,}"));
	CU_ASSERT_PTR_NULL(parse("[1,]"));
	CU_ASSERT_PTR_NULL(parse("01"));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "leading zero"));
	CU_ASSERT_PTR_NULL(parse("1 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "extra data"));
	CU_ASSERT_PTR_NULL(parse(""));
	CU_ASSERT_PTR_NULL(parse("-"));
	CU_ASSERT_PTR_NULL(parse("1."));
	CU_ASSERT_PTR_NULL(parse("1e"));
	/* nesting is capped, not followed down the stack */
	{
		char deep[2 * IMG_JSON_MAX_DEPTH + 8];
		size_t n = IMG_JSON_MAX_DEPTH + 2;

		memset(deep, '[', n);
		memset(deep + n, ']', n);
		deep[2 * n] = 0;
		CU_ASSERT_PTR_NULL(parse(deep));
		CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "nested too deeply"));
	}
	/* the position of values is kept for later messages */
	struct img_jv *v = parse("{\n\n    \"k\": [true]}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(img_jv_get(v, "k")->line, 3);
	CU_ASSERT_EQUAL(img_jv_get(v, "k")->col, 10);
	/* Python's extensions and a BOM are read */
	CU_ASSERT_PTR_NOT_NULL(parse("\xef\xbb\xbf[NaN, Infinity, -Infinity]"));
}

static void test_duplicate_keys(void)
{
	/* the last one wins, as in Python */
	struct img_jv *v = parse("{\"a\": 1, \"a\": 2}");
	uint64_t u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(img_jv_u64(img_jv_get(v, "a"), &u), 0);
	CU_ASSERT_EQUAL(u, 2);
}

/* Write a value with the writer into a string. */
static const char *written(const struct img_jv *v, int indent)
{
	static struct img_buf b;
	struct img_out o;
	struct img_jw w;

	img_buf_free(&b);
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, indent);
	img_jw_value(&w, v);
	img_out_flush(&o);
	img_buf_addc(&b, 0);
	return (const char *)b.data;
}

static void test_writer_like_python(void)
{
	static const char in[] =
		"{\"a\": [1, -2, 18446744073709551615, -9223372036854775808], \"s\": \"\\u00e9\\ud83d\\ude00\\u0001"
		"\\u007f\\\"\\\\/\\n\\t\", \"e\": {}, \"l\": [], \"f\": 1.5, \"g\": 1e100, \"h\": 0.1, \"t\": true, "
		"\"n\": null, \"o\": {\"x\": [{}]}}";
	static const char compact[] =
		"{\"a\": [1, -2, 18446744073709551615, -9223372036854775808], \"s\": \"\\u00e9\\ud83d\\ude00\\u0001"
		"\\u007f\\\"\\\\/\\n\\t\", \"e\": {}, \"l\": [], \"f\": 1.5, \"g\": 1e+100, \"h\": 0.1, \"t\": true, "
		"\"n\": null, \"o\": {\"x\": [{}]}}";
	static const char indented[] =
		"{\n    \"a\": [\n        1,\n        -2,\n        18446744073709551615,\n"
		"        -9223372036854775808\n    ],\n"
		"    \"s\": \"\\u00e9\\ud83d\\ude00\\u0001\\u007f\\\"\\\\/\\n\\t\",\n"
		"    \"e\": {},\n    \"l\": [],\n    \"f\": 1.5,\n    \"g\": 1e+100,\n    \"h\": 0.1,\n"
		"    \"t\": true,\n    \"n\": null,\n    \"o\": {\n        \"x\": [\n            {}\n        ]\n    }\n}";
	struct img_jv *v = parse(in);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(written(v, 0), compact);
	CU_ASSERT_STRING_EQUAL(written(v, 4), indented);
}

static void test_surrogateescape_out(void)
{
	/* json.dumps(b'ab\xffc\xed\xa0\x80'.decode('utf-8', 'surrogateescape')) */
	struct img_buf b;
	struct img_out o;

	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_json_quote(&o, "ab\xff" "c\xed\xa0\x80", 7);
	img_out_flush(&o);
	img_buf_addc(&b, 0);
	CU_ASSERT_STRING_EQUAL((char *)b.data, "\"ab\\udcffc\\udced\\udca0\\udc80\"");
	img_buf_free(&b);
}

static void test_floats_like_python(void)
{
	/* repr(v), as json.dumps prints floats */
	static const struct {
		double v;
		const char *s;
	} f[] = {
		{ 0.1, "0.1" }, { 1e16, "1e+16" }, { 1e15, "1000000000000000.0" }, { 1e-7, "1e-07" },
		{ 123456789.0, "123456789.0" }, { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 3.0, "3.0" }, { -0.0, "-0.0" }, { 2.5e-5, "2.5e-05" }, { 1e22, "1e+22" }, { 100.0, "100.0" },
		{ 0.0001, "0.0001" }, { 0.75, "0.75" }, { -1234.5, "-1234.5" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct img_jv v = { .type = IMG_JV_REAL, .d = f[i].v };
		const char *got = written(&v, 0);

		if (strcmp(got, f[i].s))
			fprintf(stderr, "\n  float %.17g: got %s, Python prints %s\n", f[i].v, got, f[i].s);
		CU_ASSERT_STRING_EQUAL(got, f[i].s);
	}
}

static const struct {
	size_t n;
	const char *b64;
} b64_cases[] = {
	{ 0, "" },
	{ 1, "Cw==\012" },
	{ 2, "CzA=\012" },
	{ 3, "CzBV\012" },
	{ 56, "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW+yBFao+02f4=\012" },
	{ 57, "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW+yBFao+02f4j\012" },
	{ 58, "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW+yBFao+02f4j\012SA==\012" },
	{ 114, "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW+yBFao+02f4j\012SG2St9wBJktwlbrfBClOc5i94gcsUXabwOUKL1R5nsPoDTJXfKHG6xA1Wn+kye4TOF2Cp8zxFjtg\012" },
	{ 115, "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW+yBFao+02f4j\012SG2St9wBJktwlbrfBClOc5i94gcsUXabwOUKL1R5nsPoDTJXfKHG6xA1Wn+kye4TOF2Cp8zxFjtg\012hQ==\012" },
};

static void test_base64_lines(void)
{
	for (size_t c = 0; c < sizeof(b64_cases) / sizeof(b64_cases[0]); c++) {
		uint8_t data[128], back[128];
		struct img_buf b;
		struct img_out o;
		size_t n = b64_cases[c].n;

		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)((i * 37 + 11) & 0xff);
		img_buf_init(&b);
		img_out_mem(&o, &b);
		img_b64_encode_lines(&o, data, n);
		img_out_flush(&o);
		CU_ASSERT_EQUAL(b.len, strlen(b64_cases[c].b64));
		CU_ASSERT_EQUAL(b.len, img_b64_encode_lines_len(n));
		CU_ASSERT(unit_same(b.data, b.len, b64_cases[c].b64, strlen(b64_cases[c].b64)));
		CU_ASSERT_EQUAL(img_b64_decode((const char *)b.data, b.len, back), (long)n);
		CU_ASSERT(!memcmp(back, data, n));
		img_buf_free(&b);
	}
}

static void test_base64_decode(void)
{
	uint8_t out[16];

	/* what Python's decodebytes skips or stops at */
	CU_ASSERT_EQUAL(img_b64_decode("aGk=\n", 5, out), 2);
	CU_ASSERT(!memcmp(out, "hi", 2));
	CU_ASSERT_EQUAL(img_b64_decode("a G\tk", 5, out), 2);
	CU_ASSERT_EQUAL(img_b64_decode("aGk=aGk=", 8, out), 2); /* stops at the padding */
	CU_ASSERT_EQUAL(img_b64_decode("", 0, out), 0);
	CU_ASSERT_EQUAL(img_b64_decode("a", 1, out), -1);       /* one char of a quantum */
	CU_ASSERT_EQUAL(img_b64_decode("aGVsbG8", 7, out), 5);  /* missing padding is fine */
	CU_ASSERT(!memcmp(out, "hello", 5));
}

static const struct {
	const char *in;
	size_t n;
	const char *qp;
	int reversible; /* quopri.decodestring(qp) == in */
} qp_cases[] = {
	{ "\000abc", 4, "=00abc", 1 },
	{ "a=b", 3, "a=3Db", 1 },
	{ "trailing space ", 15, "trailing space=20", 1 },
	{ "tab\011", 4, "tab=09", 1 },
	{ "line1 \012line2", 12, "line1=20\012line2", 1 },
	{ ".", 1, "=2E", 1 },
	{ ".\012", 2, "=2E\012", 1 },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 100, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\012xxxxxxxxxxxxxxxxxxxxxxxxx", 1 },
	{ "a\015\012b", 4, "a\015\012b", 1 },
	{ "\377\376", 2, "=FF=FE", 1 },
	{ "\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000", 30, "=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=00=\012=00=00=00=00=00", 1 },
	{ "caf\303\251", 5, "caf=C3=A9", 1 },
	{ "/tmp/crsubj/sock\000", 17, "/tmp/crsubj/sock=00", 1 },
	{ "\177", 1, "=7F", 1 },
	{ "a\011b", 3, "a\011b", 1 },
	{ "a \015\012b", 5, "a=20\015\012b", 1 },
	{ "\012", 1, "\012", 1 },
	{ ".x", 2, ".x", 1 },
	{ "abc\015def", 7, "abc\015def", 1 },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=", 76, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\012=3D", 1 },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==", 76, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\012=3D=3D", 1 },
	{ "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 76, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 1 },
	{ "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\012z", 77, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\012z", 1 },
	{ "", 0, "", 1 },
	{ " ", 1, "=20", 1 },
	{ "a.\012.\015\012.", 7, "a.\012=2E\012=2E", 0 },
	{ "\000crsubj-abstract=\177", 18, "=00crsubj-abstract=3D=7F", 1 },
	{ "end \011", 5, "end =09", 1 },
};

static void test_quoted_printable(void)
{
	for (size_t c = 0; c < sizeof(qp_cases) / sizeof(qp_cases[0]); c++) {
		struct img_buf b, back;

		img_buf_init(&b);
		img_buf_init(&back);
		CU_ASSERT_EQUAL(img_qp_encode(&b, (const uint8_t *)qp_cases[c].in, qp_cases[c].n), 0);
		if (!unit_same(b.data, b.len, qp_cases[c].qp, strlen(qp_cases[c].qp)))
			fprintf(stderr, "\n  quoted-printable case %zu: got '%.*s', Python gives '%s'\n", c, (int)b.len,
				(char *)b.data, qp_cases[c].qp);
		CU_ASSERT(unit_same(b.data, b.len, qp_cases[c].qp, strlen(qp_cases[c].qp)));
		CU_ASSERT_EQUAL(img_qp_decode(&back, (const char *)b.data, b.len), 0);
		if (qp_cases[c].reversible)
			CU_ASSERT(unit_same(back.data, back.len, qp_cases[c].in, qp_cases[c].n));
		img_buf_free(&b);
		img_buf_free(&back);
	}
}

static CU_TestInfo tests[] = {
	{ "exact integers", test_exact_integers },
	{ "strings, surrogates, surrogateescape", test_strings },
	{ "errors with line and column", test_errors_have_positions },
	{ "duplicate keys", test_duplicate_keys },
	{ "writer prints as Python's json.dumps", test_writer_like_python },
	{ "writer: bytes that are not UTF-8", test_surrogateescape_out },
	{ "floats as Python's repr", test_floats_like_python },
	{ "base64 line layout", test_base64_lines },
	{ "base64 decoding", test_base64_decode },
	{ "quoted-printable as binascii.b2a_qp", test_quoted_printable },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("json and text codecs", unit_arena_setup, unit_arena_teardown, tests)
