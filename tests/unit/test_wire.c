/* The protobuf wire codec: varints, zigzag, fixed and length-delimited fields, unknown fields. */
#include <string.h>

#include "img/pb.h"
#include "unit.h"

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
	/* truncated: the last byte still has its continuation bit */
	CU_ASSERT_EQUAL(img_varint_get(b, b + 9, &v), 0);
	/* overlong: an 11th byte */
	memset(b, 0x80, 11);
	b[11] = 0;
	CU_ASSERT_EQUAL(img_varint_get(b, b + 12, &v), 0);
	/* 10 bytes whose last carries more than the 64th bit */
	memset(b, 0xff, 9);
	b[9] = 0x02;
	CU_ASSERT_EQUAL(img_varint_get(b, b + 10, &v), 0);
}

static void test_zigzag(void)
{
	CU_ASSERT_EQUAL(img_zigzag64(0), 0);
	CU_ASSERT_EQUAL(img_zigzag64(-1), 1);
	CU_ASSERT_EQUAL(img_zigzag64(1), 2);
	CU_ASSERT_EQUAL(img_zigzag64(INT64_MIN), UINT64_MAX);
	CU_ASSERT_EQUAL(img_unzigzag64(UINT64_MAX), INT64_MIN);
	CU_ASSERT_EQUAL(img_unzigzag64(3), -2);
}

static CU_TestInfo tests[] = {
	{ "varint limits", test_varint_limits },
	{ "zigzag", test_zigzag },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("wire codec", NULL, NULL, tests)
