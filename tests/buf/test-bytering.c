/* SPDX-License-Identifier: MIT */
/*
 * test-bytering.c - the byte ring: capacity rounding and refusal, in-order
 * writes and reads across the wrap of the storage and of the 32-bit head,
 * hand-worked out-of-order scenarios (RFC 2018 §4 range order, merging of
 * adjacent and bridged ranges, -ENOBUFS at USN_BYTERING_MAX_RANGES with
 * nothing written), clipping at the capacity, consume interleaved with
 * writes, the iovec variants, the send side (append, reserve, commit), and
 * a comparison against a reference model (flat array, bitmap, per-byte
 * write stamp) for every permutation of small segment sets and for seeded
 * random sequences of writes, retransmissions and consumes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytering.h"
#include "rand.h"

#define CAP 4096u

/* ---- helpers ---- */

static uint8_t pat(uint32_t pos, uint32_t tag)
{
	return (uint8_t)(pos * 131u + (pos >> 8) * 7u + tag * 29u + 1u);
}

static void fill(uint8_t *p, uint32_t pos, uint32_t n, uint32_t tag)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = pat(pos + i, tag);
}

/* The byte stored `pos` bytes after the start, in order or not. */
static uint8_t ring_at(const struct usn_bytering *r, uint32_t pos)
{
	return r->buf[(r->head + pos) & (r->size - 1)];
}

static void expect_ranges(const struct usn_bytering *r, const struct usn_byterange *want, unsigned n)
{
	uint32_t ooo = 0;

	assert_int_equal(r->nranges, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(r->ranges[i].start, want[i].start);
		assert_int_equal(r->ranges[i].end, want[i].end);
		ooo += want[i].end - want[i].start;
	}
	assert_int_equal(r->ooo_bytes, ooo);
}

#define EXPECT_RANGES(r, ...) do { \
	const struct usn_byterange want_[] = { __VA_ARGS__ }; \
	expect_ranges((r), want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)

#define EXPECT_NO_RANGES(r) do { \
	assert_int_equal((r)->nranges, 0); \
	assert_int_equal((r)->ooo_bytes, 0); \
} while (0)

/* Writes bytes pat(stream position, tag) at `off` past the in-order end.
 * `base` is the stream position of the ring's start. */
static int put(struct usn_bytering *r, uint32_t base, uint32_t off, uint32_t n, uint32_t tag)
{
	static const uint32_t max = 2 * CAP + 64;
	uint8_t src[2 * CAP + 64];

	assert_true(n <= max);
	fill(src, base + r->len + off, n, tag);
	return usn_bytering_write_at(r, off, src, n);
}

/* ---- the reference model ----
 * A flat array of the cap bytes after the start, a bitmap of which are held
 * and, per byte, the step that last wrote it. The in-order length is the
 * first byte not held; ranges are the runs held past it; a range's recency
 * is the newest stamp in it (a write lands in exactly one range afterwards,
 * so distinct ranges have distinct newest stamps). */
struct model {
	uint32_t cap;
	uint32_t len;
	uint32_t hw; /* nothing is held at or past hw */
	uint32_t now;
	uint8_t *data;
	uint8_t *have;
	uint32_t *stamp;
};

static void model_init(struct model *m, uint32_t cap)
{
	m->cap = cap;
	m->len = 0;
	m->hw = 0;
	m->now = 0;
	m->data = calloc(cap, 1);
	m->have = calloc(cap, 1);
	m->stamp = calloc(cap, sizeof(*m->stamp));
	assert_non_null(m->data);
	assert_non_null(m->have);
	assert_non_null(m->stamp);
}

static void model_fini(struct model *m)
{
	free(m->data);
	free(m->have);
	free(m->stamp);
}

/* Runs of held bytes past len, newest first. Returns how many. */
static unsigned model_ranges(const struct model *m, struct usn_byterange *out, uint32_t *newest, unsigned max)
{
	unsigned n = 0;
	uint32_t p = m->len;

	while (p < m->hw) {
		uint32_t s, top = 0;

		if (!m->have[p]) {
			p++;
			continue;
		}
		s = p;
		while (p < m->hw && m->have[p]) {
			if (m->stamp[p] > top)
				top = m->stamp[p];
			p++;
		}
		if (n < max) {
			out[n].start = s;
			out[n].end = p;
			newest[n] = top;
		}
		n++;
	}
	if (n > max)
		return n;
	/* Insertion sort by newest stamp, descending. */
	for (unsigned i = 1; i < n; i++) {
		for (unsigned j = i; j > 0 && newest[j] > newest[j - 1]; j--) {
			struct usn_byterange t = out[j];
			uint32_t ts = newest[j];

			out[j] = out[j - 1];
			newest[j] = newest[j - 1];
			out[j - 1] = t;
			newest[j - 1] = ts;
		}
	}
	return n;
}

static int model_write(struct model *m, uint32_t off, const uint8_t *src, uint32_t len)
{
	uint32_t space = m->cap - m->len;
	uint32_t n, s, old;

	if (len == 0 || off >= space)
		return 0;
	n = len < space - off ? len : space - off;
	s = m->len + off;
	if (off > 0) {
		/* Would the write make more than the limit of runs? Count
		 * the runs of (have | written) past len. */
		uint32_t hw = s + n > m->hw ? s + n : m->hw;
		unsigned runs = 0;
		bool in = false;

		for (uint32_t p = m->len; p < hw; p++) {
			bool h = m->have[p] || (p >= s && p < s + n);

			if (h && !in)
				runs++;
			in = h;
		}
		if (runs > USN_BYTERING_MAX_RANGES)
			return -ENOBUFS;
	}
	m->now++;
	memcpy(m->data + s, src, n);
	memset(m->have + s, 1, n);
	for (uint32_t p = s; p < s + n; p++)
		m->stamp[p] = m->now;
	if (s + n > m->hw)
		m->hw = s + n;
	if (off > 0)
		return 0;
	old = m->len;
	while (m->len < m->cap && m->have[m->len])
		m->len++;
	return (int)(m->len - old);
}

static void model_consume(struct model *m, uint32_t n)
{
	uint32_t rest = m->cap - n;

	memmove(m->data, m->data + n, rest);
	memmove(m->have, m->have + n, rest);
	memmove(m->stamp, m->stamp + n, rest * sizeof(*m->stamp));
	memset(m->data + rest, 0, n);
	memset(m->have + rest, 0, n);
	memset(m->stamp + rest, 0, n * sizeof(*m->stamp));
	m->len -= n;
	m->hw = m->hw > n ? m->hw - n : 0;
}

/* The ring equals the model: len, ranges in recency order, ooo_bytes, and
 * every held byte. */
static void model_check(const struct usn_bytering *r, const struct model *m)
{
	struct usn_byterange want[USN_BYTERING_MAX_RANGES] = { { 0, 0 } };
	uint32_t newest[USN_BYTERING_MAX_RANGES];
	static uint8_t got[CAP];
	unsigned n;

	assert_int_equal(r->len, m->len);
	assert_int_equal(usn_bytering_space(r), m->cap - m->len);
	n = model_ranges(m, want, newest, USN_BYTERING_MAX_RANGES);
	assert_true(n <= USN_BYTERING_MAX_RANGES);
	expect_ranges(r, want, n);
	assert_int_equal(usn_bytering_peek(r, 0, got, CAP), m->len);
	assert_memory_equal(got, m->data, m->len);
	for (unsigned i = 0; i < n; i++)
		for (uint32_t p = want[i].start; p < want[i].end; p++)
			assert_int_equal(ring_at(r, p), m->data[p]);
}

/* ---- init, reset, fini ---- */

static void test_init_rounds_capacity(void **state)
{
	struct usn_bytering r;

	assert_int_equal(usn_bytering_init(&r, 0), 0);
	assert_int_equal(r.cap, 4096);
	assert_int_equal(r.len, 0);
	assert_int_equal(usn_bytering_space(&r), 4096);
	EXPECT_NO_RANGES(&r);
	usn_bytering_fini(&r);
	assert_null(r.buf);
	usn_bytering_fini(&r); /* a finished ring can be finished again */

	assert_int_equal(usn_bytering_init(&r, 4097), 0);
	assert_int_equal(r.cap, 8192);
	usn_bytering_fini(&r);
	assert_int_equal(usn_bytering_init(&r, 65536), 0);
	assert_int_equal(r.cap, 65536);
	usn_bytering_fini(&r);
	assert_int_equal(usn_bytering_init(&r, 65537), 0);
	assert_int_equal(r.cap, 131072);
	usn_bytering_fini(&r);
}

/* Storage follows what the ring holds: none at first, doubled as more is
 * held (content, out-of-order ranges and their order kept), given back when
 * it empties. */
static void test_storage_grows_and_goes(void **state)
{
	struct usn_bytering r;
	static uint8_t src[65536], got[65536];

	assert_int_equal(usn_bytering_init(&r, 65536), 0);
	assert_null(r.buf);
	assert_int_equal(r.size, 0);
	assert_int_equal(usn_bytering_space(&r), 65536);
	fill(src, 0, sizeof(src), 0);
	assert_int_equal(usn_bytering_write_at(&r, 0, src, 100), 100);
	assert_int_equal(r.size, 4096);
	/* Out of order past the storage: grows to hold it. */
	assert_int_equal(usn_bytering_write_at(&r, 9900, src + 10000, 500), 0);
	assert_int_equal(r.size, 16384);
	assert_int_equal(usn_bytering_write_at(&r, 5900, src + 6000, 100), 0);
	EXPECT_RANGES(&r, { 6000, 6100 }, { 10000, 10500 });
	/* The hole fills: in order up to 6100, the far range kept. */
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 100, 5900), 6000);
	EXPECT_RANGES(&r, { 10000, 10500 });
	assert_int_equal(usn_bytering_peek(&r, 0, got, sizeof(got)), 6100);
	assert_memory_equal(got, src, 6100);
	/* Consumed past a wrap of the head, then grown again. */
	usn_bytering_consume(&r, 6000);
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 6100, 3900), 4400);
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 10500, 40000), 40000);
	assert_int_equal(r.size, 65536);
	assert_int_equal(usn_bytering_peek(&r, 0, got, sizeof(got)), 44500 - 0);
	assert_memory_equal(got, src + 6000, 44500);
	usn_bytering_consume(&r, 44500);
	assert_null(r.buf);
	assert_int_equal(r.size, 0);
	/* The send side the same way. */
	assert_int_equal(usn_bytering_append(&r, src, 5000), 5000);
	assert_int_equal(r.size, 8192);
	usn_bytering_consume(&r, 5000);
	assert_null(r.buf);
	usn_bytering_fini(&r);
}

/* Pinned: pointers handed out stay valid while the ring grows (the old
 * storage is retired, not freed), and an emptied ring keeps its storage;
 * unpin gives both back. When the retired slots are taken, growth is
 * refused and nothing is written. */
static void test_pinned_storage_survives_growth(void **state)
{
	struct usn_bytering r;
	static uint8_t src[65536];
	struct iovec iov[2];

	fill(src, 0, sizeof(src), 0);
	assert_int_equal(usn_bytering_init(&r, 65536), 0);
	assert_int_equal(usn_bytering_write_at(&r, 0, src, 1000), 1000);
	assert_int_equal(usn_bytering_peek_iov(&r, 0, 1000, iov), 1);
	usn_bytering_pin(&r);
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 1000, 5000), 5000); /* to 8 KB */
	assert_int_equal(r.nretired, 1);
	assert_memory_equal(iov[0].iov_base, src, 1000); /* still readable */
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 6000, 4000), 4000); /* to 16 KB */
	assert_int_equal(r.nretired, 2);
	/* A third growth would need a third retired slot: refused whole. */
	assert_int_equal(usn_bytering_write_at(&r, 0, src + 10000, 10000), -ENOBUFS);
	assert_int_equal(r.len, 10000);
	assert_memory_equal(iov[0].iov_base, src, 1000);
	usn_bytering_consume(&r, 10000);
	assert_non_null(r.buf); /* pinned: kept though empty */
	usn_bytering_unpin(&r);
	assert_int_equal(r.nretired, 0);
	assert_null(r.buf);
	usn_bytering_fini(&r);
}

static void test_init_refuses_huge(void **state)
{
	struct usn_bytering r;

	/* Above 2^30 the growth returned by write_at would not fit an int. */
	assert_int_equal(usn_bytering_init(&r, (1u << 30) + 1), -ENOMEM);
	assert_null(r.buf);
	assert_int_equal(usn_bytering_init(&r, UINT32_MAX), -ENOMEM);
	assert_null(r.buf);
	usn_bytering_fini(&r);
}

static void test_reset_empties(void **state)
{
	struct usn_bytering r;
	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_null(r.buf); /* no storage until bytes come */
	assert_int_equal(put(&r, 0, 0, 100, 0), 100);
	assert_int_equal(put(&r, 100, 50, 10, 0), 0);
	usn_bytering_consume(&r, 30);
	usn_bytering_reset(&r);
	assert_null(r.buf); /* an emptied ring gives its storage back */
	assert_int_equal(r.size, 0);
	assert_int_equal(r.cap, CAP);
	assert_int_equal(r.head, 0);
	assert_int_equal(r.len, 0);
	EXPECT_NO_RANGES(&r);
	usn_bytering_fini(&r);
}

/* ---- in order ---- */

static void test_in_order_across_wrap(void **state)
{
	struct usn_bytering r;
	uint8_t src[CAP], got[CAP];
	struct iovec iov[2];
	uint32_t base = 0;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	/* Pinned, the emptied ring keeps its storage and the head goes on. */
	usn_bytering_pin(&r);
	fill(src, 0, 4000, 0);
	assert_int_equal(usn_bytering_write_at(&r, 0, src, 4000), 4000);
	assert_int_equal(usn_bytering_space(&r), 96);
	usn_bytering_consume(&r, 4000);
	base += 4000;
	assert_int_equal(r.head, 4000);
	assert_int_equal(r.len, 0);

	/* 200 bytes from index 4000: 96 to the end of storage, 104 from 0. */
	fill(src, base, 200, 0);
	assert_int_equal(usn_bytering_write_at(&r, 0, src, 200), 200);
	assert_int_equal(usn_bytering_peek_iov(&r, 0, 1000, iov), 2);
	assert_ptr_equal(iov[0].iov_base, r.buf + 4000);
	assert_int_equal(iov[0].iov_len, 96);
	assert_ptr_equal(iov[1].iov_base, r.buf);
	assert_int_equal(iov[1].iov_len, 104);
	assert_memory_equal(iov[0].iov_base, src, 96);
	assert_memory_equal(iov[1].iov_base, src + 96, 104);

	/* peek at offsets before, across and after the wrap point. */
	assert_int_equal(usn_bytering_peek(&r, 0, got, 200), 200);
	assert_memory_equal(got, src, 200);
	assert_int_equal(usn_bytering_peek(&r, 90, got, 20), 20);
	assert_memory_equal(got, src + 90, 20);
	assert_int_equal(usn_bytering_peek(&r, 150, got, 1000), 50);
	assert_memory_equal(got, src + 150, 50);
	assert_int_equal(usn_bytering_peek(&r, 200, got, 10), 0);
	assert_int_equal(usn_bytering_peek(&r, 5000, got, 10), 0);
	assert_int_equal(usn_bytering_peek(&r, 0, got, 0), 0);

	/* An iov after the wrap point is a single piece. */
	assert_int_equal(usn_bytering_peek_iov(&r, 96, 50, iov), 1);
	assert_ptr_equal(iov[0].iov_base, r.buf);
	assert_int_equal(iov[0].iov_len, 50);
	assert_int_equal(usn_bytering_peek_iov(&r, 200, 50, iov), 0);
	assert_int_equal(usn_bytering_peek_iov(&r, 0, 0, iov), 0);

	/* Fill to capacity across the wrap, then read it all back. */
	fill(src, base + 200, CAP - 200, 0);
	assert_int_equal(usn_bytering_write_at(&r, 0, src, CAP), CAP - 200);
	assert_int_equal(usn_bytering_space(&r), 0);
	assert_int_equal(usn_bytering_peek(&r, 0, got, CAP), CAP);
	for (uint32_t i = 0; i < CAP; i++)
		assert_int_equal(got[i], pat(base + i, 0));
	EXPECT_NO_RANGES(&r);
	usn_bytering_fini(&r);
}

/* The head runs free over uint32_t: a stream that crosses 2^32 still maps
 * onto the storage correctly. */
static void test_head_wraps_u32(void **state)
{
	struct usn_bytering r;
	uint8_t got[CAP];
	uint32_t base = 0;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	r.head = UINT32_MAX - 50; /* index 4045 */
	for (int round = 0; round < 40; round++) {
		uint32_t n = 97 + (uint32_t)round * 13;

		assert_int_equal(put(&r, base, 0, n, 0), n);
		assert_int_equal(put(&r, base, 300, 40, 0), 0);
		assert_int_equal(r.ranges[0].start, r.len + 300);
		assert_int_equal(put(&r, base, 0, 300, 0), 340);
		assert_int_equal(usn_bytering_peek(&r, 0, got, CAP), r.len);
		for (uint32_t i = 0; i < r.len; i++)
			assert_int_equal(got[i], pat(base + i, 0));
		base += r.len;
		usn_bytering_consume(&r, r.len);
		EXPECT_NO_RANGES(&r);
	}
	assert_true(r.head < UINT32_MAX - 50); /* it did wrap */
	usn_bytering_fini(&r);
}

/* ---- out of order, worked by hand ---- */

/* RFC 2018 §4: the block holding the segment that triggered the ACK comes
 * first, the rest in the order they were last reported. */
static void test_ooo_recency_order(void **state)
{
	struct usn_bytering r;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_int_equal(put(&r, 0, 100, 10, 0), 0);
	EXPECT_RANGES(&r, { 100, 110 });
	assert_int_equal(put(&r, 0, 200, 10, 0), 0);
	EXPECT_RANGES(&r, { 200, 210 }, { 100, 110 });
	/* Adjacent after the first range: merged, moved to the front. */
	assert_int_equal(put(&r, 0, 110, 5, 0), 0);
	EXPECT_RANGES(&r, { 100, 115 }, { 200, 210 });
	assert_int_equal(put(&r, 0, 50, 10, 0), 0);
	EXPECT_RANGES(&r, { 50, 60 }, { 100, 115 }, { 200, 210 });
	/* A pure duplicate inside a range still moves that range first. */
	assert_int_equal(put(&r, 0, 205, 2, 0), 0);
	EXPECT_RANGES(&r, { 200, 210 }, { 50, 60 }, { 100, 115 });
	/* Adjacent before a range: merged. */
	assert_int_equal(put(&r, 0, 45, 5, 0), 0);
	EXPECT_RANGES(&r, { 45, 60 }, { 200, 210 }, { 100, 115 });
	assert_int_equal(r.len, 0);

	/* In-order data reaching a range absorbs it; the growth is returned
	 * and the others keep their order. */
	assert_int_equal(put(&r, 0, 0, 45, 0), 60);
	assert_int_equal(r.len, 60);
	EXPECT_RANGES(&r, { 200, 210 }, { 100, 115 });
	/* Off is from the in-order end: off 40 is position 100. */
	assert_int_equal(put(&r, 0, 40, 15, 0), 0);
	EXPECT_RANGES(&r, { 100, 115 }, { 200, 210 });
	/* In-order write ending just short of a range: no merge. */
	assert_int_equal(put(&r, 0, 0, 39, 0), 39);
	assert_int_equal(r.len, 99);
	EXPECT_RANGES(&r, { 100, 115 }, { 200, 210 });
	/* One byte fills the hole. */
	assert_int_equal(put(&r, 0, 0, 1, 0), 16);
	assert_int_equal(r.len, 115);
	EXPECT_RANGES(&r, { 200, 210 });

	/* Consume moves range offsets with the start. */
	usn_bytering_consume(&r, 100);
	assert_int_equal(r.len, 15);
	EXPECT_RANGES(&r, { 100, 110 });
	assert_int_equal(put(&r, 100, 0, 85, 0), 95);
	assert_int_equal(r.len, 110);
	EXPECT_NO_RANGES(&r);
	for (uint32_t i = 0; i < 110; i++)
		assert_int_equal(ring_at(&r, i), pat(100 + i, 0));
	usn_bytering_fini(&r);
}

/* One write bridging several ranges merges them all into one, and an
 * in-order write covering several ranges absorbs them all at once. */
static void test_ooo_bridge(void **state)
{
	struct usn_bytering r;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_int_equal(put(&r, 0, 100, 10, 0), 0);
	assert_int_equal(put(&r, 0, 120, 10, 0), 0);
	assert_int_equal(put(&r, 0, 140, 10, 0), 0);
	assert_int_equal(put(&r, 0, 300, 10, 0), 0);
	EXPECT_RANGES(&r, { 300, 310 }, { 140, 150 }, { 120, 130 }, { 100, 110 });
	assert_int_equal(put(&r, 0, 105, 40, 0), 0);
	EXPECT_RANGES(&r, { 100, 150 }, { 300, 310 });
	/* Touching on both sides exactly. */
	assert_int_equal(put(&r, 0, 150, 150, 0), 0);
	EXPECT_RANGES(&r, { 100, 310 });
	assert_int_equal(put(&r, 0, 400, 10, 0), 0);
	assert_int_equal(put(&r, 0, 500, 10, 0), 0);
	EXPECT_RANGES(&r, { 500, 510 }, { 400, 410 }, { 100, 310 });
	/* In order, running past two ranges and into the third. */
	assert_int_equal(put(&r, 0, 0, 450, 0), 450);
	EXPECT_RANGES(&r, { 500, 510 });
	assert_int_equal(put(&r, 0, 0, 600, 0), 600);
	EXPECT_NO_RANGES(&r);
	for (uint32_t i = 0; i < 1050; i++)
		assert_int_equal(ring_at(&r, i), pat(i, 0));
	usn_bytering_fini(&r);
}

/* A retransmission overlapping held bytes is written again: the ring keeps
 * the newer copy, and the byte count is not counted twice. */
static void test_overlap_keeps_newer(void **state)
{
	struct usn_bytering r;
	uint8_t got[400];

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_int_equal(put(&r, 0, 100, 100, 1), 0);
	assert_int_equal(put(&r, 0, 150, 100, 2), 0);
	EXPECT_RANGES(&r, { 100, 250 });
	assert_int_equal(put(&r, 0, 80, 30, 3), 0);
	EXPECT_RANGES(&r, { 80, 250 });
	for (uint32_t p = 80; p < 110; p++)
		assert_int_equal(ring_at(&r, p), pat(p, 3));
	for (uint32_t p = 110; p < 150; p++)
		assert_int_equal(ring_at(&r, p), pat(p, 1));
	for (uint32_t p = 150; p < 250; p++)
		assert_int_equal(ring_at(&r, p), pat(p, 2));
	/* In order, overlapping the range's first 20 bytes. */
	assert_int_equal(put(&r, 0, 0, 100, 4), 250);
	EXPECT_NO_RANGES(&r);
	assert_int_equal(usn_bytering_peek(&r, 0, got, sizeof(got)), 250);
	for (uint32_t p = 0; p < 100; p++)
		assert_int_equal(got[p], pat(p, 4));
	for (uint32_t p = 100; p < 110; p++)
		assert_int_equal(got[p], pat(p, 3));
	usn_bytering_fini(&r);
}

/* A new disjoint range past the limit is refused and nothing is written;
 * writes that merge, fill or bridge still succeed. */
static void test_range_limit(void **state)
{
	struct usn_bytering r;
	struct usn_byterange before[USN_BYTERING_MAX_RANGES];
	uint8_t src[16];
	struct iovec iov[2];

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	/* Storage filled with a marker: taken whole, then emptied while
	 * pinned (so it stays). */
	usn_bytering_pin(&r);
	memset(src, 0xee, sizeof(src));
	for (uint32_t k = 0; k < CAP; k += sizeof(src))
		assert_int_equal(usn_bytering_append(&r, src, sizeof(src)), sizeof(src));
	usn_bytering_consume(&r, CAP);
	assert_int_equal(r.size, CAP);
	for (uint32_t i = 0; i < USN_BYTERING_MAX_RANGES; i++)
		assert_int_equal(put(&r, 0, 10 + 20 * i, 10, 0), 0);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES);
	assert_int_equal(r.ooo_bytes, 10 * USN_BYTERING_MAX_RANGES);
	assert_int_equal(r.ranges[0].start, 10 + 20 * (USN_BYTERING_MAX_RANGES - 1));
	memcpy(before, r.ranges, sizeof(before));

	/* Past the last range, and in a hole touching neither neighbour. */
	assert_int_equal(put(&r, 0, 1000, 10, 0), -ENOBUFS);
	assert_int_equal(put(&r, 0, 22, 6, 0), -ENOBUFS);
	fill(src, 1000, 8, 0);
	iov[0] = (struct iovec){ src, 4 };
	iov[1] = (struct iovec){ src + 4, 4 };
	assert_int_equal(usn_bytering_writev_at(&r, 1000, iov, 2), -ENOBUFS);
	assert_memory_equal(r.ranges, before, sizeof(before));
	assert_int_equal(r.ooo_bytes, 10 * USN_BYTERING_MAX_RANGES);
	for (uint32_t p = 1000; p < 1010; p++)
		assert_int_equal(ring_at(&r, p), 0xee);
	for (uint32_t p = 22; p < 28; p++)
		assert_int_equal(ring_at(&r, p), 0xee);

	/* Adjacent to a range: merges, the count stays, the merged range
	 * first and the others in their order. */
	assert_int_equal(put(&r, 0, 20, 3, 0), 0);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES);
	assert_int_equal(r.ranges[0].start, 10);
	assert_int_equal(r.ranges[0].end, 23);
	for (uint32_t i = 1; i < USN_BYTERING_MAX_RANGES; i++) {
		assert_int_equal(r.ranges[i].start, 10 + 20 * (USN_BYTERING_MAX_RANGES - i));
		assert_int_equal(r.ranges[i].end, 20 + 20 * (USN_BYTERING_MAX_RANGES - i));
	}
	/* Bridging two ranges frees a slot... */
	assert_int_equal(put(&r, 0, 23, 7, 0), 0);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES - 1);
	assert_int_equal(r.ranges[0].start, 10);
	assert_int_equal(r.ranges[0].end, 40);
	for (uint32_t i = 1; i < USN_BYTERING_MAX_RANGES - 1; i++)
		assert_int_equal(r.ranges[i].start, 10 + 20 * (USN_BYTERING_MAX_RANGES - i));
	/* ...which a new disjoint range can then take. */
	assert_int_equal(put(&r, 0, 1000, 10, 0), 0);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES);
	assert_int_equal(r.ranges[0].start, 1000);
	assert_int_equal(put(&r, 0, 2000, 10, 0), -ENOBUFS);
	/* In order always fits, even at the limit. */
	assert_int_equal(put(&r, 0, 0, 5, 0), 5);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES);
	assert_int_equal(put(&r, 0, 0, 5, 0), 35);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES - 1);
	assert_int_equal(put(&r, 0, 2000 - 40, 10, 0), 0);
	assert_int_equal(r.nranges, USN_BYTERING_MAX_RANGES);
	assert_int_equal(r.ranges[0].start, 2000);
	usn_bytering_fini(&r);
}

/* Bytes past the capacity are not written; a write wholly past it is a
 * no-op; huge offsets and lengths do not overflow. */
static void test_clip_at_capacity(void **state)
{
	struct usn_bytering r;
	uint8_t src[2 * CAP];

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_int_equal(put(&r, 0, 4000, 200, 0), 0);
	EXPECT_RANGES(&r, { 4000, 4096 });
	assert_int_equal(put(&r, 0, 4096, 10, 0), 0);
	assert_int_equal(put(&r, 0, 5000, 10, 0), 0);
	EXPECT_RANGES(&r, { 4000, 4096 });
	assert_int_equal(usn_bytering_write_at(&r, UINT32_MAX, src, 10), 0);
	assert_int_equal(usn_bytering_write_at(&r, 100, src, 0), 0);
	EXPECT_RANGES(&r, { 4000, 4096 });

	/* An enormous length is clipped to the space after the offset. */
	fill(src, 10, CAP, 1);
	assert_int_equal(usn_bytering_write_at(&r, 10, src, UINT32_MAX), 0);
	EXPECT_RANGES(&r, { 10, 4096 });
	for (uint32_t p = 10; p < CAP; p++)
		assert_int_equal(ring_at(&r, p), pat(p, 1));

	/* In order: fills the hole and reaches the end. */
	assert_int_equal(put(&r, 0, 0, 2 * CAP, 2), CAP);
	assert_int_equal(usn_bytering_space(&r), 0);
	EXPECT_NO_RANGES(&r);
	assert_int_equal(put(&r, 0, 0, 1, 0), 0);
	assert_int_equal(put(&r, 0, 1, 1, 0), 0);
	assert_int_equal(usn_bytering_append(&r, src, 1), 0);

	/* Consuming makes room again, after the wrap. */
	usn_bytering_consume(&r, 10);
	assert_int_equal(usn_bytering_space(&r), 10);
	assert_int_equal(put(&r, 10, 5, 100, 3), 0);
	EXPECT_RANGES(&r, { CAP - 5, CAP });
	assert_int_equal(put(&r, 10, 0, 100, 3), 10);
	assert_int_equal(usn_bytering_space(&r), 0);
	EXPECT_NO_RANGES(&r);
	for (uint32_t p = CAP - 10; p < CAP; p++)
		assert_int_equal(ring_at(&r, p), pat(p + 10, 3));
	usn_bytering_fini(&r);
}

static void test_writev_at(void **state)
{
	struct usn_bytering r;
	uint8_t src[1000], got[1000];
	struct iovec iov[5];

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	assert_int_equal(usn_bytering_writev_at(&r, 0, NULL, 0), 0);
	assert_int_equal(usn_bytering_writev_at(&r, 0, iov, -1), -EINVAL);
	assert_int_equal(usn_bytering_writev_at(&r, 0, NULL, 1), -EINVAL);

	/* Put the start near the end of storage so the gather crosses it
	 * (position 600, inside the third piece). */
	r.head = CAP - 600;
	fill(src, 0, sizeof(src), 0);
	iov[0] = (struct iovec){ src + 400, 100 };
	iov[1] = (struct iovec){ src + 500, 0 };
	iov[2] = (struct iovec){ src + 500, 250 };
	iov[3] = (struct iovec){ src + 750, 50 };
	assert_int_equal(usn_bytering_writev_at(&r, 400, iov, 4), 0);
	EXPECT_RANGES(&r, { 400, 800 });
	for (uint32_t p = 400; p < 800; p++)
		assert_int_equal(ring_at(&r, p), src[p]);

	iov[0] = (struct iovec){ src, 150 };
	iov[1] = (struct iovec){ src + 150, 200 };
	iov[2] = (struct iovec){ src + 350, 50 };
	assert_int_equal(usn_bytering_writev_at(&r, 0, iov, 3), 800);
	EXPECT_NO_RANGES(&r);
	assert_int_equal(usn_bytering_peek(&r, 0, got, sizeof(got)), 800);
	assert_memory_equal(got, src, 800);

	/* Clipped at capacity in the middle of an iovec. */
	usn_bytering_reset(&r);
	{
		static uint8_t big[3 * CAP];
		struct iovec v[3] = {
			{ big, CAP },
			{ big + CAP, CAP },
			{ big + 2 * CAP, CAP },
		};

		fill(big, 0, sizeof(big), 5);
		assert_int_equal(usn_bytering_writev_at(&r, 100, v, 3), 0);
		EXPECT_RANGES(&r, { 100, CAP });
		for (uint32_t p = 100; p < CAP; p++)
			assert_int_equal(ring_at(&r, p), big[p - 100]);
		/* An iovec longer than the ring on its own. */
		v[0].iov_len = SIZE_MAX;
		assert_int_equal(usn_bytering_writev_at(&r, 0, v, 1), CAP);
		assert_int_equal(usn_bytering_space(&r), 0);
		for (uint32_t p = 0; p < CAP; p++)
			assert_int_equal(ring_at(&r, p), big[p]);
	}
	usn_bytering_fini(&r);
}

/* ---- send side ---- */

static void test_append_consume(void **state)
{
	struct usn_bytering r;
	uint8_t src[2 * CAP], got[CAP];
	uint32_t w = 0, rd = 0;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	fill(src, 0, sizeof(src), 0);
	assert_int_equal(usn_bytering_append(&r, src, 3000), 3000);
	w += 3000;
	assert_int_equal(usn_bytering_append(&r, src + w, 3000), 1096);
	w += 1096;
	assert_int_equal(usn_bytering_append(&r, src + w, 1), 0);
	assert_int_equal(usn_bytering_append(&r, src, 0), 0);
	/* Read for a retransmission at an offset, then acknowledge. */
	assert_int_equal(usn_bytering_peek(&r, 1000, got, 500), 500);
	assert_memory_equal(got, src + 1000, 500);
	usn_bytering_consume(&r, 2500);
	rd += 2500;
	assert_int_equal(usn_bytering_space(&r), 2500);
	assert_int_equal(usn_bytering_append(&r, src + w, 2000), 2000);
	w += 2000;
	assert_int_equal(r.len, w - rd);
	assert_int_equal(usn_bytering_peek(&r, 0, got, CAP), w - rd);
	assert_memory_equal(got, src + rd, w - rd);
	usn_bytering_consume(&r, 0);
	assert_int_equal(r.len, w - rd);
	usn_bytering_consume(&r, r.len);
	assert_int_equal(r.len, 0);
	assert_int_equal(usn_bytering_space(&r), CAP);
	EXPECT_NO_RANGES(&r);
	usn_bytering_fini(&r);
}

static void test_reserve_commit(void **state)
{
	struct usn_bytering r;
	uint8_t src[CAP], got[CAP];
	struct iovec iov[2];
	int n;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	fill(src, 0, CAP, 0);
	assert_int_equal(usn_bytering_append(&r, src, 4000), 4000);
	usn_bytering_consume(&r, 3900);
	/* len 100 from index 3900: free space starts at index 4000. */
	n = usn_bytering_reserve_iov(&r, 500, iov);
	assert_int_equal(n, 2);
	assert_ptr_equal(iov[0].iov_base, r.buf + 4000);
	assert_int_equal(iov[0].iov_len, 96);
	assert_ptr_equal(iov[1].iov_base, r.buf);
	assert_int_equal(iov[1].iov_len, 404);
	memcpy(iov[0].iov_base, src + 100, 96);
	memcpy(iov[1].iov_base, src + 196, 404);
	/* Reserving does not change the ring; commit may take fewer. */
	assert_int_equal(r.len, 100);
	usn_bytering_commit(&r, 300);
	assert_int_equal(r.len, 400);
	assert_int_equal(usn_bytering_peek(&r, 0, got, CAP), 400);
	assert_memory_equal(got, src + 3900, 100);
	assert_memory_equal(got + 100, src + 100, 300);
	usn_bytering_commit(&r, 0);
	assert_int_equal(r.len, 400);

	/* Reserve is limited by the space; all of it can be committed. */
	n = usn_bytering_reserve_iov(&r, UINT32_MAX, iov);
	assert_int_equal(n, 1);
	assert_ptr_equal(iov[0].iov_base, r.buf + 204); /* (3900 + 400) % 4096 */
	assert_int_equal(iov[0].iov_len, CAP - 400);
	memset(iov[0].iov_base, 0x5a, iov[0].iov_len);
	usn_bytering_commit(&r, CAP - 400);
	assert_int_equal(usn_bytering_space(&r), 0);
	assert_int_equal(usn_bytering_reserve_iov(&r, 10, iov), 0);
	assert_int_equal(usn_bytering_peek(&r, 400, got, 10), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 0x5a);
	assert_int_equal(usn_bytering_reserve_iov(&r, 0, iov), 0);
	usn_bytering_fini(&r);
}

/* ---- against the model ---- */

struct seg {
	uint32_t pos; /* stream position */
	uint32_t len;
};

/* Delivers segment `sg` to both the ring and the model as TCP would: the
 * part already in order is trimmed. `base` is the stream position of the
 * ring's start. */
static int deliver(struct usn_bytering *r, struct model *m, uint32_t base, const struct seg *sg,
		   uint32_t tag, bool gather)
{
	uint8_t src[2 * CAP];
	uint32_t end_in_order = base + r->len;
	uint32_t pos = sg->pos, len = sg->len, off;
	int got, want;

	if (pos + len <= end_in_order)
		return 0;
	if (pos < end_in_order) {
		len -= end_in_order - pos;
		pos = end_in_order;
	}
	off = pos - end_in_order;
	assert_true(len <= sizeof(src));
	fill(src, pos, len, tag);
	want = model_write(m, off, src, len);
	if (gather) {
		/* Split into up to three pieces. */
		struct iovec iov[3];
		uint32_t a = len / 3, b = len / 2;

		iov[0] = (struct iovec){ src, a };
		iov[1] = (struct iovec){ src + a, b - a };
		iov[2] = (struct iovec){ src + b, len - b };
		got = usn_bytering_writev_at(r, off, iov, 3);
	} else {
		got = usn_bytering_write_at(r, off, src, len);
	}
	assert_int_equal(got, want);
	model_check(r, m);
	return got;
}

static bool next_perm(unsigned *a, unsigned n)
{
	unsigned i, j;

	if (n < 2)
		return false;
	i = n - 1;
	while (i > 0 && a[i - 1] >= a[i])
		i--;
	if (i == 0)
		return false;
	j = n - 1;
	while (a[j] <= a[i - 1])
		j--;
	unsigned t = a[i - 1];
	a[i - 1] = a[j];
	a[j] = t;
	for (j = n - 1; i < j; i++, j--) {
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
	return true;
}

/* Every order of the segments, from a start at `head`; the stream [0, total)
 * must end up in order. Tags per segment make overlaps check "newer copy". */
static unsigned run_perms(const struct seg *segs, unsigned n, uint32_t total, uint32_t head, bool tagged)
{
	struct usn_bytering r;
	struct model m;
	unsigned perm[8], count = 0;

	assert_true(n <= 8);
	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	model_init(&m, CAP);
	for (unsigned i = 0; i < n; i++)
		perm[i] = i;
	do {
		usn_bytering_reset(&r);
		r.head = head;
		memset(m.have, 0, CAP);
		memset(m.data, 0, CAP);
		m.len = 0;
		m.hw = 0;
		for (unsigned i = 0; i < n; i++)
			deliver(&r, &m, 0, &segs[perm[i]], tagged ? perm[i] : 0, (count + i) & 1);
		assert_int_equal(r.len, total);
		EXPECT_NO_RANGES(&r);
		count++;
	} while (next_perm(perm, n));
	model_fini(&m);
	usn_bytering_fini(&r);
	return count;
}

static void test_perms_disjoint(void **state)
{
	/* Seven abutting segments of uneven sizes; one crosses the end of
	 * storage from the chosen head. */
	static const struct seg segs[] = {
		{ 0, 100 }, { 100, 1 }, { 101, 37 }, { 138, 200 },
		{ 338, 3 }, { 341, 500 }, { 841, 59 },
	};

	assert_int_equal(run_perms(segs, 7, 900, 0, false), 5040);
	assert_int_equal(run_perms(segs, 7, 900, CAP - 400, false), 5040);
	assert_int_equal(run_perms(segs, 7, 900, UINT32_MAX - 120, false), 5040);
}

static void test_perms_overlapping(void **state)
{
	/* Retransmissions with different boundaries: overlaps, a segment
	 * inside another, one covering several, exact duplicates. */
	static const struct seg segs[] = {
		{ 0, 80 }, { 50, 80 }, { 100, 20 }, { 200, 100 },
		{ 150, 60 }, { 90, 250 }, { 200, 100 }, { 330, 70 },
	};

	assert_int_equal(run_perms(segs, 6, 340, 0, true), 720);
	assert_int_equal(run_perms(segs, 8, 400, CAP - 210, true), 40320);
}

/* Disjoint segments with gaps between all of them: with more segments than
 * ranges, some arrivals are refused, and those are then resent. */
static void test_perms_range_limit(void **state)
{
	struct usn_bytering r;
	struct model m;
	unsigned perm[8], count = 0, refused = 0;
	/* Far ranges first (all the ranges but seven), then eight segments
	 * every 10 bytes that never touch each other: one range more wanted
	 * than held, the last arrival refused. */
	const uint32_t gaps = 8, far = USN_BYTERING_MAX_RANGES - 7;

	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	model_init(&m, CAP);
	for (unsigned i = 0; i < gaps; i++)
		perm[i] = i;
	do {
		struct seg sg;

		usn_bytering_reset(&r);
		memset(m.have, 0, CAP);
		memset(m.data, 0, CAP);
		m.len = 0;
		m.hw = 0;
		for (uint32_t f = 0; f < far; f++) {
			sg = (struct seg){ 1000 + 10 * f, 5 };
			deliver(&r, &m, 0, &sg, 9, false);
		}
		for (unsigned i = 0; i < gaps; i++) {
			/* Segment k covers [10k + 5, 10k + 10): never
			 * touching its neighbours. */
			sg = (struct seg){ 10 * perm[i] + 5, 5 };
			deliver(&r, &m, 0, &sg, perm[i], (i & 1) != 0);
		}
		if (r.nranges == USN_BYTERING_MAX_RANGES)
			refused++;
		/* Fill everything in order. */
		sg = (struct seg){ 0, 1005 + 10 * (far - 1) };
		deliver(&r, &m, 0, &sg, 20, false);
		assert_int_equal(r.len, 1005 + 10 * (far - 1));
		EXPECT_NO_RANGES(&r);
		assert_null(r.ranges); /* given back with the last range */
		count++;
	} while (next_perm(perm, gaps));
	assert_int_equal(count, 40320);
	assert_int_equal(refused, 40320); /* one more wanted than held, every time */
	model_fini(&m);
	usn_bytering_fini(&r);
}

/* Seeded random: writes near the in-order end and far out, retransmissions
 * (overlapping or not), writes past the capacity, gathers, and consumes
 * of random sizes, compared to the model after every step. */
static unsigned run_random(uint64_t seed, uint32_t head, unsigned steps)
{
	struct usn_bytering r;
	struct model m;
	struct usn_rand rnd;
	uint32_t base = 0;
	unsigned enobufs = 0, grew = 0;

	usn_rand_seed(&rnd, seed);
	assert_int_equal(usn_bytering_init(&r, CAP), 0);
	model_init(&m, CAP);
	r.head = head;
	for (unsigned s = 0; s < steps; s++) {
		uint32_t what = (uint32_t)usn_rand_below(&rnd, 100);
		struct seg sg;

		if (what < 15) {
			uint32_t n = (uint32_t)usn_rand_below(&rnd, r.len + 1);

			usn_bytering_consume(&r, n);
			model_consume(&m, n);
			base += n;
			model_check(&r, &m);
			continue;
		}
		if (what < 30) {
			/* In order (possibly overlapping what is held). */
			sg.pos = base + r.len - (uint32_t)usn_rand_below(&rnd, (r.len < 50 ? r.len : 50) + 1);
			sg.len = 1 + (uint32_t)usn_rand_below(&rnd, 300);
		} else if (what < 90) {
			/* Small segment somewhere in the window. */
			sg.pos = base + r.len + 1 + (uint32_t)usn_rand_below(&rnd, usn_bytering_space(&r) + 10);
			sg.len = 1 + (uint32_t)usn_rand_below(&rnd, 40);
		} else {
			/* Large, possibly past the capacity. */
			sg.pos = base + r.len + (uint32_t)usn_rand_below(&rnd, CAP);
			sg.len = 1 + (uint32_t)usn_rand_below(&rnd, 2 * CAP);
		}
		uint32_t before = r.len;
		int ret = deliver(&r, &m, base, &sg, s, (s & 1) != 0);

		if (ret == -ENOBUFS)
			enobufs++;
		if (r.len > before)
			grew++;
	}
	/* The sequence exercised the interesting paths (the range limit is
	 * reached in some of the runs: see the caller). */
	assert_true(grew > 0);
	model_fini(&m);
	usn_bytering_fini(&r);
	return enobufs;
}

static void test_random_vs_model(void **state)
{
	unsigned enobufs = 0;
	for (uint64_t seed = 1; seed <= 24; seed++) {
		uint32_t head = (uint32_t)(seed * 2654435761u);

		if (seed % 4 == 0)
			head = UINT32_MAX - (uint32_t)seed * 100;
		enobufs += run_random(seed, head, 3000);
	}
	assert_true(enobufs > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rounds_capacity),
		cmocka_unit_test(test_init_refuses_huge),
		cmocka_unit_test(test_reset_empties),
		cmocka_unit_test(test_in_order_across_wrap),
		cmocka_unit_test(test_head_wraps_u32),
		cmocka_unit_test(test_ooo_recency_order),
		cmocka_unit_test(test_ooo_bridge),
		cmocka_unit_test(test_overlap_keeps_newer),
		cmocka_unit_test(test_range_limit),
		cmocka_unit_test(test_clip_at_capacity),
		cmocka_unit_test(test_writev_at),
		cmocka_unit_test(test_append_consume),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_perms_disjoint),
		cmocka_unit_test(test_perms_overlapping),
		cmocka_unit_test(test_perms_range_limit),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_storage_grows_and_goes),
		cmocka_unit_test(test_pinned_storage_survives_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
