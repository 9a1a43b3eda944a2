/*
 * Extra payloads: the raw bytes CRIU writes after some entries, with CRIU's
 * own rules for their length (criu/pipes.c, sk-queue.c, sk-tcp.c, ipc_ns.c,
 * bpfmap.c) and crit's JSON for them.  Where crit reads differently from CRIU
 * (SysV shm segments that live in the pagemaps), CRIU's rule wins.
 */
#include <errno.h>
#include <string.h>

#include "img/image.h"

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

static int need(uint64_t len, uint64_t avail, struct img_err *err)
{
	if (len > avail)
		return img_err_set(err, EINVAL, "extra payload truncated: need %llu bytes, %llu left",
				   (unsigned long long)len, (unsigned long long)avail);
	return 0;
}

static void b64_string(struct img_jw *w, const uint8_t *p, uint64_t n)
{
	/* the string is written by hand: base64 needs no escaping but its newlines */
	struct img_buf b;
	struct img_out o;

	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_b64_encode_lines(&o, p, (size_t)n);
	img_out_flush(&o);
	img_jw_strn(w, (const char *)b.data, b.len);
	img_buf_free(&b);
}

static int b64_bytes(const struct img_jv *v, struct img_buf *out, const char *what, struct img_err *err)
{
	long n;

	if (v->type != IMG_JV_STR)
		return img_err_set(err, EINVAL, "line %u: %s must be a base64 string", v->line, what);
	if (img_buf_reserve(out, v->s.len / 4 * 3 + 3))
		return img_err_set(err, ENOMEM, "out of memory");
	n = img_b64_decode(v->s.s, v->s.len, out->data + out->len);
	if (n < 0)
		return img_err_set(err, EINVAL, "line %u: %s is not valid base64", v->line, what);
	out->len += (size_t)n;
	return 0;
}

static int always(const struct img_msg *m)
{
	(void)m;
	return 1;
}

/* A plain run of bytes whose length is the sum of some fields of the entry. */
#define PLAIN_EXTRA(NAME, LEN_EXPR)                                                                 \
	static uint64_t NAME##_len(const struct img_msg *m) { return (LEN_EXPR); }                  \
	static int NAME##_measure(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, \
				  uint64_t avail, uint64_t *len, struct img_err *err)               \
	{                                                                                           \
		(void)s; (void)p;                                                                   \
		*len = NAME##_len(m);                                                               \
		return need(*len, avail, err);                                                      \
	}                                                                                           \
	static uint64_t NAME##_nopl(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t len) \
	{                                                                                           \
		(void)s; (void)p; (void)len;                                                               \
		return NAME##_len(m);                                                               \
	}

PLAIN_EXTRA(pipe, img_msg_u64(m, "bytes", 0))
PLAIN_EXTRA(skq, img_msg_u64(m, "length", 0))
PLAIN_EXTRA(bpf, img_msg_u64(m, "keys_bytes", 0) + img_msg_u64(m, "values_bytes", 0))
PLAIN_EXTRA(tcp, img_msg_u64(m, "inq_len", 0) + img_msg_u64(m, "outq_len", 0))

static void plain_to_json(const struct img_schema *s, struct img_jw *w, const struct img_msg *m,
			  const uint8_t *p, uint64_t len)
{
	(void)s;
	(void)m;
	b64_string(w, p, len);
}

static int plain_from_json(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			   struct img_buf *out, struct img_err *err)
{
	(void)s;
	(void)m;
	return b64_bytes(v, out, "extra", err);
}

/* tcp-stream: the input queue, then the output queue */
static void tcp_to_json(const struct img_schema *s, struct img_jw *w, const struct img_msg *m,
			const uint8_t *p, uint64_t len)
{
	uint64_t inq = img_msg_u64(m, "inq_len", 0);

	(void)s;
	if (inq > len)
		inq = len;
	img_jw_obj_begin(w);
	img_jw_key(w, "inq");
	b64_string(w, p, inq);
	img_jw_key(w, "outq");
	b64_string(w, p + inq, len - inq);
	img_jw_obj_end(w);
}

static int tcp_from_json(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			 struct img_buf *out, struct img_err *err)
{
	struct img_jv *in = img_jv_get(v, "inq"), *outq = img_jv_get(v, "outq");

	(void)s;
	(void)m;
	if (v->type != IMG_JV_OBJ || !in || !outq)
		return img_err_set(err, EINVAL, "line %u: a tcp-stream extra is {\"inq\": ..., \"outq\": ...}",
				   v->line);
	if (b64_bytes(in, out, "inq", err))
		return -EINVAL;
	return b64_bytes(outq, out, "outq", err);
}

/* ipcns-sem: nsems u16 values, padded to 8 bytes */
static int sem_measure(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t avail,
		       uint64_t *len, struct img_err *err)
{
	(void)s;
	(void)p;
	*len = round_up(2 * img_msg_u64(m, "nsems", 0), 8);
	return need(*len, avail, err);
}

static void sem_to_json(const struct img_schema *s, struct img_jw *w, const struct img_msg *m,
			const uint8_t *p, uint64_t len)
{
	uint64_t n = img_msg_u64(m, "nsems", 0);

	(void)s;
	if (2 * n > len)
		n = len / 2;
	img_jw_arr_begin(w);
	for (uint64_t i = 0; i < n; i++)
		img_jw_u64(w, img_get_u16(p + 2 * i));
	img_jw_arr_end(w);
}

static int sem_from_json(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			 struct img_buf *out, struct img_err *err)
{
	uint64_t n = img_msg_u64(m, "nsems", 0);

	(void)s;
	if (v->type != IMG_JV_ARR)
		return img_err_set(err, EINVAL, "line %u: a semaphore set's extra is a list of numbers", v->line);
	if (v->a.n != n)
		return img_err_set(err, EINVAL, "line %u: number of semaphores mismatch: %zu values, nsems %llu",
				   v->line, v->a.n, (unsigned long long)n);
	for (size_t i = 0; i < v->a.n; i++) {
		uint64_t x;
		uint8_t b[2];

		if (img_jv_u64(v->a.v[i], &x) || x > 0xffff)
			return img_err_set(err, EINVAL, "line %u: a semaphore value is a number 0..65535",
					   v->a.v[i]->line);
		img_put_u16(b, (uint16_t)x);
		img_buf_add(out, b, 2);
	}
	while (out->len % 8)
		img_buf_addc(out, 0);
	return out->failed ? img_err_set(err, ENOMEM, "out of memory") : 0;
}

static uint64_t sem_nopl(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t len)
{
	(void)s;
	(void)p;
	(void)len;
	return 2 * img_msg_u64(m, "nsems", 0);
}

/* ipcns-msg: qnum messages, each u32 size + ipc_msg + msize bytes padded to 8 */
struct qmsg {
	uint32_t size;
	const uint8_t *pb;
	uint64_t msize;
	const uint8_t *data;
	uint64_t total; /* bytes of this message in the payload */
};

/* Walk the queue; returns the messages seen through fn. */
static int msg_walk(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t avail,
		    uint64_t *len, struct img_err *err,
		    void (*fn)(void *arg, const struct qmsg *q), void *arg)
{
	const struct img_msgdesc *d = img_schema_msg(s, "ipc_msg");
	uint64_t qnum = img_msg_u64(m, "qnum", 0), off = 0;
	struct img_arena a;

	if (!d)
		return img_err_set(err, EINVAL, "the schema has no ipc_msg message");
	img_arena_init(&a);
	for (uint64_t i = 0; i < qnum; i++) {
		struct qmsg q;
		struct img_msg *pm;

		if (avail - off < 4) {
			img_arena_free(&a);
			return img_err_set(err, EINVAL, "extra payload: message %llu of %llu truncated at its size",
					   (unsigned long long)i, (unsigned long long)qnum);
		}
		q.size = img_get_u32(p + off);
		q.pb = p + off + 4;
		if (q.size > avail - off - 4) {
			img_arena_free(&a);
			return img_err_set(err, EINVAL, "extra payload: message %llu: size %u past the end",
					   (unsigned long long)i, q.size);
		}
		pm = img_pb_decode(&a, d, q.pb, q.size, 0, err);
		if (!pm) {
			img_arena_free(&a);
			img_err_prefix(err, "extra payload: message %llu", (unsigned long long)i);
			return -EINVAL;
		}
		q.msize = img_msg_u64(pm, "msize", 0);
		q.data = q.pb + q.size;
		uint64_t rest = avail - off - 4 - q.size;

		if (round_up(q.msize, 8) > rest) {
			img_arena_free(&a);
			return img_err_set(err, EINVAL, "extra payload: message %llu: %llu bytes of text, %llu left",
					   (unsigned long long)i, (unsigned long long)q.msize,
					   (unsigned long long)rest);
		}
		q.total = 4 + q.size + round_up(q.msize, 8);
		if (fn)
			fn(arg, &q);
		off += q.total;
	}
	img_arena_free(&a);
	*len = off;
	return 0;
}

static int msg_measure(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t avail,
		       uint64_t *len, struct img_err *err)
{
	return msg_walk(s, m, p, avail, len, err, NULL, NULL);
}

struct msg_json_arg {
	struct img_jw *w;
	const struct img_msgdesc *d;
};

static void msg_json_one(void *arg, const struct qmsg *q)
{
	struct msg_json_arg *a = arg;
	struct img_arena ar;
	struct img_msg *pm;

	img_arena_init(&ar);
	pm = img_pb_decode(&ar, a->d, q->pb, q->size, 0, NULL);
	if (pm)
		img_msg_to_json(a->w, pm, 0, 0); /* crit prints these without --pretty renderings */
	img_arena_free(&ar);
	b64_string(a->w, q->data, q->msize);
}

static void msg_to_json(const struct img_schema *s, struct img_jw *w, const struct img_msg *m,
			const uint8_t *p, uint64_t len)
{
	struct msg_json_arg a = { w, img_schema_msg(s, "ipc_msg") };
	uint64_t l;

	img_jw_arr_begin(w);
	msg_walk(s, m, p, len, &l, NULL, msg_json_one, &a);
	img_jw_arr_end(w);
}

static int msg_from_json(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			 struct img_buf *out, struct img_err *err)
{
	const struct img_msgdesc *d = img_schema_msg(s, "ipc_msg");
	struct img_arena a;
	int r = 0;

	(void)m;
	if (v->type != IMG_JV_ARR || v->a.n % 2)
		return img_err_set(err, EINVAL, "line %u: a message queue's extra is a list of message, text pairs",
				   v->line);
	img_arena_init(&a);
	for (size_t i = 0; i + 1 < v->a.n && !r; i += 2) {
		struct img_msg *pm = img_msg_from_json(&a, d, v->a.v[i], "extra", err);
		struct img_buf text;
		uint8_t sz[4];
		size_t at;

		if (!pm) {
			r = -EINVAL;
			break;
		}
		at = out->len;
		img_buf_add(out, sz, 4);
		if (img_pb_encode(pm, out)) {
			r = img_err_set(err, ENOMEM, "out of memory");
			break;
		}
		img_put_u32(out->data + at, (uint32_t)(out->len - at - 4));
		img_buf_init(&text);
		r = b64_bytes(v->a.v[i + 1], &text, "message text", err);
		if (!r) {
			uint64_t msize = img_msg_u64(pm, "msize", 0);

			/* crit writes msize bytes of the text, zero-padded to 8 */
			for (uint64_t k = 0; k < round_up(msize, 8); k++)
				img_buf_addc(out, k < msize && k < text.len ? text.data[k] : 0);
		}
		img_buf_free(&text);
	}
	img_arena_free(&a);
	if (!r && out->failed)
		r = img_err_set(err, ENOMEM, "out of memory");
	return r;
}

struct nopl_arg {
	uint64_t n;
};

static void msg_nopl_one(void *arg, const struct qmsg *q)
{
	((struct nopl_arg *)arg)->n += q->size + q->msize;
}

static uint64_t msg_nopl(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t len)
{
	struct nopl_arg a = { 0 };
	uint64_t l;

	msg_walk(s, m, p, len, &l, NULL, msg_nopl_one, &a);
	return a.n;
}

/* ipcns-shm: the segment's bytes padded to 4, unless CRIU put them in the pagemaps (since 3.0) */
static int shm_present(const struct img_msg *m)
{
	return !img_msg_u64(m, "in_pagemaps", 0);
}

static int shm_measure(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t avail,
		       uint64_t *len, struct img_err *err)
{
	(void)s;
	(void)p;
	*len = round_up(img_msg_u64(m, "size", 0), 4);
	return need(*len, avail, err);
}

static void shm_to_json(const struct img_schema *s, struct img_jw *w, const struct img_msg *m,
			const uint8_t *p, uint64_t len)
{
	uint64_t size = img_msg_u64(m, "size", 0);

	(void)s;
	b64_string(w, p, size < len ? size : len);
}

static int shm_from_json(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			 struct img_buf *out, struct img_err *err)
{
	uint64_t size = img_msg_u64(m, "size", 0);
	size_t at = out->len;

	(void)s;
	if (b64_bytes(v, out, "extra", err))
		return -EINVAL;
	if (out->len - at > size)
		out->len = at + size;
	while (out->len - at < round_up(size, 4))
		img_buf_addc(out, 0);
	return out->failed ? img_err_set(err, ENOMEM, "out of memory") : 0;
}

static uint64_t shm_nopl(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t len)
{
	(void)s;
	(void)p;
	(void)len;
	return img_msg_u64(m, "size", 0);
}

static const struct img_extra_ops ops[] = {
	[IMG_X_PIPE_DATA] = { pipe_measure, plain_to_json, plain_from_json, pipe_nopl, always },
	[IMG_X_SK_QUEUE] = { skq_measure, plain_to_json, plain_from_json, skq_nopl, always },
	[IMG_X_TCP_STREAM] = { tcp_measure, tcp_to_json, tcp_from_json, tcp_nopl, always },
	[IMG_X_BPFMAP_DATA] = { bpf_measure, plain_to_json, plain_from_json, bpf_nopl, always },
	[IMG_X_IPC_SEM] = { sem_measure, sem_to_json, sem_from_json, sem_nopl, always },
	[IMG_X_IPC_MSG] = { msg_measure, msg_to_json, msg_from_json, msg_nopl, always },
	[IMG_X_IPC_SHM] = { shm_measure, shm_to_json, shm_from_json, shm_nopl, shm_present },
};

const struct img_extra_ops *img_extra_ops(int extra)
{
	if (extra <= IMG_X_NONE || extra > IMG_X_IPC_SHM)
		return NULL;
	return &ops[extra];
}
