/*
 * Fuzz target: one protobuf entry against a message of the schema.  The
 * first two bytes pick the message (little endian, modulo the number of
 * messages), the rest is the payload.  Oracles: an entry that decodes
 * re-encodes to the same bytes; once marked changed, it encodes to bytes
 * that decode again and encode the same; its JSON (raw and pretty) parses
 * and builds a message again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "img/image.h"
#include "img/json.h"
#include "img/pb.h"

static void json_trip(const struct img_msgdesc *d, const struct img_msg *m, int pretty)
{
	struct img_err e = { 0 };
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	struct img_arena a;
	struct img_jv *v;

	img_arena_init(&a);
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, pretty ? 4 : 0);
	img_msg_to_json(&w, m, pretty, 0);
	if (!img_out_flush(&o)) {
		v = img_json_parse(&a, (const char *)b.data, b.len, &e);
		if (!v)
			fuzz_fail("the JSON of a %s does not parse: %s", d->name, e.msg);
		img_msg_from_json(&a, d, v, d->name, &e);
	}
	img_buf_free(&b);
	img_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_schema *s = img_schema_default();
	const struct img_msgdesc *d;
	struct img_err e = { 0 };
	struct img_arena a;
	struct img_msg *m, *m2;
	struct img_buf b, b2;

	if (size < 2)
		return 0;
	d = &s->msgs[(data[0] | data[1] << 8) % s->nmsgs];
	data += 2;
	size -= 2;
	fuzz_begin(size);
	img_arena_init(&a);
	a.limit = img_budget(size);
	img_buf_init(&b);
	img_buf_init(&b2);
	m = img_pb_decode(&a, d, data, size, 0, &e);
	fuzz_budget();
	if (!m)
		goto out;
	if (img_pb_encode(m, &b) || !fuzz_same(b.data, b.len, data, size))
		fuzz_fail("a %s of %zu bytes re-encodes to %zu other bytes", d->name, size, b.len);
	json_trip(d, m, 0);
	json_trip(d, m, 1);
	/* encoded field by field, not copied */
	img_msg_touch(m);
	b.len = 0;
	img_pb_encode(m, &b);
	m2 = img_pb_decode(&a, d, b.data, b.len, 0, &e);
	if (!m2)
		fuzz_fail("a %s encoded field by field does not decode: %s", d->name, e.msg);
	img_msg_touch(m2);
	img_pb_encode(m2, &b2);
	if (!fuzz_same(b.data, b.len, b2.data, b2.len))
		fuzz_fail("a %s encodes differently the second time", d->name);
out:
	img_buf_free(&b);
	img_buf_free(&b2);
	img_arena_free(&a);
	fuzz_end();
	return 0;
}
