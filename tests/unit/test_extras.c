/*
 * The codecs of the raw payloads after entries (img_extra_ops): how long the
 * payload is, crit's JSON for it, the bytes back from that JSON, and the size
 * `crit show --nopl` reports.  The rules are CRIU's (criu/pipes.c,
 * sk-queue.c, sk-tcp.c, bpfmap.c, ipc_ns.c); the JSON is pycriu's.
 */
#include <string.h>

#include "libimg.h"
#include "unit.h"

#define S img_schema_builtin()

#define A unit_arena

static struct img_msg *msg(const char *name)
{
	return img_msg_new(&A, img_schema_msg(S, name));
}

static const char *to_json(int x, const struct img_msg *m, const void *p, uint64_t n)
{
	static struct img_buf b;
	struct img_out o;
	struct img_jw w;

	img_buf_free(&b);
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 0);
	img_extra_ops(x)->to_json(S, &w, m, p, n);
	img_out_flush(&o);
	img_buf_addc(&b, 0);
	return (const char *)b.data;
}

/* JSON text back to bytes; returns 0 and the bytes in out, or -1 with the error in err */
static int from_json(int x, const struct img_msg *m, const char *text, struct img_buf *out, struct img_err *err)
{
	struct img_jv *v = img_json_parse(&A, text, strlen(text), err);

	img_buf_init(out);
	return v && !img_extra_ops(x)->from_json(S, m, v, out, err) ? 0 : -1;
}

static uint64_t measure(int x, const struct img_msg *m, const void *p, uint64_t avail, struct img_err *err)
{
	uint64_t len = ~0ull;

	memset(err, 0, sizeof(*err));
	if (img_extra_ops(x)->measure(S, m, p, avail, &len, err))
		return ~0ull;
	return len;
}

/* the payload as JSON, and back to the same bytes */
static void round_trip(int x, const struct img_msg *m, const void *p, size_t n, const char *json)
{
	struct img_buf b;
	struct img_err e = { 0 };
	const char *got = to_json(x, m, p, n);

	if (strcmp(got, json))
		fprintf(stderr, "\n  %s: got %s, want %s\n", img_extra_name(x), got, json);
	CU_ASSERT_STRING_EQUAL(got, json);
	CU_ASSERT_EQUAL_FATAL(from_json(x, m, json, &b, &e), 0);
	CU_ASSERT(unit_same(b.data, b.len, p, n));
	img_buf_free(&b);
}

static void test_plain_runs(void)
{
	static const uint8_t data[] = "hi there";
	static const struct {
		int x;
		const char *msg, *f1, *f2;
	} k[] = {
		{ IMG_X_PIPE_DATA, "pipe_data_entry", "bytes", NULL },
		{ IMG_X_SK_QUEUE, "sk_packet_entry", "length", NULL },
		{ IMG_X_BPFMAP_DATA, "bpfmap_data_entry", "keys_bytes", "values_bytes" },
	};
	struct img_err e;

	for (size_t i = 0; i < 3; i++) {
		struct img_msg *m = msg(k[i].msg);
		const struct img_extra_ops *ops = img_extra_ops(k[i].x);

		CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
		img_msg_set_u64(&A, m, k[i].f1, k[i].f2 ? 3 : 8);
		if (k[i].f2)
			img_msg_set_u64(&A, m, k[i].f2, 5);
		CU_ASSERT(ops->present(m));
		CU_ASSERT_EQUAL(measure(k[i].x, m, data, 100, &e), 8);
		CU_ASSERT_EQUAL(measure(k[i].x, m, data, 7, &e), ~0ull);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "need 8 bytes, 7 left"));
		CU_ASSERT_EQUAL(ops->nopl_size(S, m, data, 8), 8);
		round_trip(k[i].x, m, data, 8, "\"aGkgdGhlcmU=\\n\"");
	}
	/* not base64 text */
	struct img_buf b;

	CU_ASSERT_EQUAL(from_json(IMG_X_PIPE_DATA, msg("pipe_data_entry"), "42", &b, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "must be a base64 string"));
	img_buf_free(&b);
}

static void test_tcp_stream(void)
{
	static const uint8_t q[] = "GET /HTTP/1.1 200 OK";
	struct img_msg *m = msg("tcp_stream_entry");
	struct img_err e;
	struct img_buf b;

	img_msg_set_u64(&A, m, "inq_len", 5);
	img_msg_set_u64(&A, m, "outq_len", 15);
	CU_ASSERT_EQUAL(measure(IMG_X_TCP_STREAM, m, q, 20, &e), 20);
	CU_ASSERT_EQUAL(measure(IMG_X_TCP_STREAM, m, q, 19, &e), ~0ull);
	CU_ASSERT_EQUAL(img_extra_ops(IMG_X_TCP_STREAM)->nopl_size(S, m, q, 20), 20);
	round_trip(IMG_X_TCP_STREAM, m, q, 20, "{\"inq\": \"R0VUIC8=\\n\", \"outq\": \"SFRUUC8xLjEgMjAwIE9L\\n\"}");
	/* empty queues */
	img_msg_set_u64(&A, m, "inq_len", 0);
	img_msg_set_u64(&A, m, "outq_len", 0);
	round_trip(IMG_X_TCP_STREAM, m, q, 0, "{\"inq\": \"\", \"outq\": \"\"}");
	CU_ASSERT_EQUAL(from_json(IMG_X_TCP_STREAM, m, "{\"inq\": \"\"}", &b, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "{\"inq\": ..., \"outq\": ...}"));
	img_buf_free(&b);
	CU_ASSERT_EQUAL(from_json(IMG_X_TCP_STREAM, m, "\"aGk=\"", &b, &e), -1);
	img_buf_free(&b);
}

static void test_ipc_sem(void)
{
	/* nsems u16 values, padded with zeros to 8 bytes */
	static const uint8_t three[8] = { 1, 0, 0, 0, 7, 0, 0, 0 }, four[8] = { 0, 0, 1, 0, 2, 0, 0xff, 0xff };
	struct img_msg *m = msg("ipc_sem_entry");
	struct img_err e;
	struct img_buf b;

	img_msg_set_u64(&A, m, "nsems", 3);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SEM, m, three, 8, &e), 8);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SEM, m, three, 6, &e), ~0ull); /* the padding is needed too */
	CU_ASSERT_EQUAL(img_extra_ops(IMG_X_IPC_SEM)->nopl_size(S, m, three, 8), 6);
	round_trip(IMG_X_IPC_SEM, m, three, 8, "[1, 0, 7]");
	img_msg_set_u64(&A, m, "nsems", 4);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SEM, m, four, 8, &e), 8);
	round_trip(IMG_X_IPC_SEM, m, four, 8, "[0, 1, 2, 65535]");
	img_msg_set_u64(&A, m, "nsems", 0);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SEM, m, four, 0, &e), 0);
	round_trip(IMG_X_IPC_SEM, m, four, 0, "[]");
	img_msg_set_u64(&A, m, "nsems", 2);
	CU_ASSERT_EQUAL(from_json(IMG_X_IPC_SEM, m, "[1, 2, 3]", &b, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "number of semaphores mismatch"));
	img_buf_free(&b);
	CU_ASSERT_EQUAL(from_json(IMG_X_IPC_SEM, m, "[1, 65536]", &b, &e), -1);
	img_buf_free(&b);
	CU_ASSERT_EQUAL(from_json(IMG_X_IPC_SEM, m, "[1, -1]", &b, &e), -1);
	img_buf_free(&b);
}

/* one queued message: u32 size, ipc_msg, the text padded to 8 */
static size_t put_msg(uint8_t *p, uint64_t mtype, const char *text)
{
	struct img_msg *h = msg("ipc_msg");
	struct img_buf b;
	size_t len = strlen(text), n;

	img_msg_set_u64(&A, h, "mtype", mtype);
	img_msg_set_u64(&A, h, "msize", len);
	img_buf_init(&b);
	img_pb_encode(h, &b);
	img_put_u32(p, (uint32_t)b.len);
	memcpy(p + 4, b.data, b.len);
	n = 4 + b.len;
	memset(p + n, 0, (len + 7) / 8 * 8);
	memcpy(p + n, text, len);
	n += (len + 7) / 8 * 8;
	img_buf_free(&b);
	return n;
}

static void test_ipc_msg(void)
{
	uint8_t q[128];
	size_t n = 0, first;
	struct img_msg *m = msg("ipc_msg_entry");
	struct img_err e;
	struct img_buf b;

	first = n += put_msg(q + n, 1, "hello");
	n += put_msg(q + n, 42, "8 bytes!");
	img_msg_set_u64(&A, m, "qnum", 2);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_MSG, m, q, sizeof(q), &e), n);
	/* cut anywhere inside: an error that says which message */
	for (size_t cut = 0; cut < n; cut++) {
		CU_ASSERT_EQUAL(measure(IMG_X_IPC_MSG, m, q, cut, &e), ~0ull);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, cut < first ? "message 0" : "message 1"));
	}
	/* crit's nopl: the pb sizes and the texts, without the size words and padding */
	CU_ASSERT_EQUAL(img_extra_ops(IMG_X_IPC_MSG)->nopl_size(S, m, q, n), 4 + 5 + 4 + 8);
	round_trip(IMG_X_IPC_MSG, m, q, n,
		   "[{\"mtype\": 1, \"msize\": 5}, \"aGVsbG8=\\n\", {\"mtype\": 42, \"msize\": 8}, \"OCBieXRlcyE=\\n\"]");
	CU_ASSERT_EQUAL(from_json(IMG_X_IPC_MSG, m, "[{\"mtype\": 1, \"msize\": 5}]", &b, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pairs"));
	img_buf_free(&b);
	/* a header that is not an ipc_msg */
	q[4] = 0xff;
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_MSG, m, q, n, &e), ~0ull);
	/* an empty queue */
	img_msg_set_u64(&A, m, "qnum", 0);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_MSG, m, q, 0, &e), 0);
	round_trip(IMG_X_IPC_MSG, m, q, 0, "[]");
}

static void test_ipc_shm(void)
{
	static const uint8_t seg[8] = { 's', 'e', 'g', 'm', 'e', 0, 0, 0 };
	struct img_msg *m = msg("ipc_shm_entry");
	const struct img_extra_ops *ops = img_extra_ops(IMG_X_IPC_SHM);
	struct img_err e;

	/* CRIU 3.0 and later: the bytes are in the pagemaps, nothing follows the entry */
	img_msg_set_u64(&A, m, "size", 5);
	CU_ASSERT(ops->present(m));
	img_msg_set_u64(&A, m, "in_pagemaps", 1);
	CU_ASSERT(!ops->present(m));
	img_msg_set_u64(&A, m, "in_pagemaps", 0);
	CU_ASSERT(ops->present(m));
	/* before: the bytes, padded to 4 */
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SHM, m, seg, 8, &e), 8);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SHM, m, seg, 7, &e), ~0ull);
	CU_ASSERT_EQUAL(ops->nopl_size(S, m, seg, 8), 5);
	round_trip(IMG_X_IPC_SHM, m, seg, 8, "\"c2VnbWU=\\n\"");
	img_msg_set_u64(&A, m, "size", 8);
	CU_ASSERT_EQUAL(measure(IMG_X_IPC_SHM, m, seg, 8, &e), 8);
}

static void test_no_codec(void)
{
	CU_ASSERT_PTR_NULL(img_extra_ops(IMG_X_NONE));
	CU_ASSERT_PTR_NULL(img_extra_ops(IMG_X_IPC_SHM + 1));
	CU_ASSERT_PTR_NULL(img_extra_ops(-1));
	for (int x = IMG_X_PIPE_DATA; x <= IMG_X_IPC_SHM; x++)
		CU_ASSERT_PTR_NOT_NULL(img_extra_ops(x));
}

static CU_TestInfo tests[] = {
	{ "pipe data, queued packets, bpf maps", test_plain_runs },
	{ "tcp stream queues", test_tcp_stream },
	{ "ipc semaphores", test_ipc_sem },
	{ "ipc message queues", test_ipc_msg },
	{ "ipc shared memory", test_ipc_shm },
	{ "kinds without a codec", test_no_codec },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("extra payloads", unit_arena_setup, unit_arena_teardown, tests)
