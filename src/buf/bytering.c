/* SPDX-License-Identifier: MIT */
/*
 * bytering.c - the byte ring behind each direction of a TCP connection: a
 * power-of-two allocation addressed through a free-running head index that
 * is masked on every access, so any span of it is at most two pieces and
 * every copy is at most two memcpy calls. The allocation is made when bytes
 * come, doubled (the bytes moved to its front) when more must be held, and
 * freed when the ring empties: memory follows what a connection holds, not
 * its window, so thousands of idle connections cost no buffers. On the receive side it places
 * out-of-order bytes at their offset and keeps up to USN_BYTERING_MAX_RANGES
 * disjoint ranges of them, most recently touched first, in the order
 * RFC 2018 §4 asks SACK blocks to be reported in; the in-order end advances
 * over a range as soon as the hole before it fills. On the send side it is a
 * plain FIFO with zero-copy reserve/commit and peek.
 *
 * It is not a reassembly queue of segments (it keeps bytes, not packets),
 * it does not know sequence numbers (the TCP layer maps them to offsets),
 * and it does not decide what to SACK (it only keeps the ranges in the
 * order RFC 2018 §4 needs). It implements no RFC section by itself; the
 * range ordering serves RFC 2018 §4 and RFC 9293 §3.10.7.4 (queueing
 * segments that are in the window but not yet in order).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytering.h"
#include "util.h"

#define BYTERING_MIN_CAP USN_BYTERING_FIRST
/* Largest capacity: the growth returned by write_at must fit an int, and a
 * TCP window never exceeds 2^30 bytes (RFC 7323 §2.3: shift at most 14). */
#define BYTERING_MAX_CAP (1u << 30)

int usn_bytering_init(struct usn_bytering *r, uint32_t cap)
{
	uint32_t c = BYTERING_MIN_CAP;

	memset(r, 0, sizeof(*r));
	if (cap > BYTERING_MAX_CAP)
		return -ENOMEM;
	while (c < cap)
		c <<= 1;
	r->cap = c;
	return 0;
}

void usn_bytering_cache_fini(struct usn_bytering_cache *c)
{
	while (c->free) {
		void *b = c->free;
		memcpy(&c->free, b, sizeof(void *));
		free(b);
	}
	c->n = 0;
}

static uint8_t *storage_get(struct usn_bytering *r, uint32_t n)
{
	struct usn_bytering_cache *c = r->cache;
	if (n == BYTERING_MIN_CAP && c && c->free) {
		uint8_t *b = c->free;
		memcpy(&c->free, b, sizeof(void *));
		c->n--;
		return b;
	}
	/* Page-aligned so that a ring shared with another process or handed
	 * to a device starts on its own page. */
	return aligned_alloc(4096, n);
}

static void storage_put(struct usn_bytering *r, uint8_t *b, uint32_t n)
{
	struct usn_bytering_cache *c = r->cache;
	if (n == BYTERING_MIN_CAP && c && c->n < c->max) {
		memcpy(b, &c->free, sizeof(void *));
		c->free = b;
		c->n++;
		return;
	}
	free(b);
}

static void free_retired(struct usn_bytering *r)
{
	for (unsigned i = 0; i < r->nretired; i++)
		free(r->retired[i]);
	r->nretired = 0;
}

/* An empty, unpinned ring gives its storage back. */
static void release_if_empty(struct usn_bytering *r)
{
	if (r->len == 0 && r->nranges == 0 && !r->pinned && r->buf) {
		storage_put(r, r->buf, r->size);
		r->buf = NULL;
		r->size = 0;
		r->head = 0;
	}
}

void usn_bytering_fini(struct usn_bytering *r)
{
	if (r->buf)
		storage_put(r, r->buf, r->size);
	free_retired(r);
	free(r->ranges);
	memset(r, 0, sizeof(*r));
}

void usn_bytering_reset(struct usn_bytering *r)
{
	r->head = 0;
	r->len = 0;
	r->nranges = 0;
	r->ooo_bytes = 0;
	free(r->ranges);
	r->ranges = NULL;
	release_if_empty(r);
}

void usn_bytering_pin(struct usn_bytering *r)
{
	r->pinned = true;
}

void usn_bytering_unpin(struct usn_bytering *r)
{
	r->pinned = false;
	free_retired(r);
	release_if_empty(r);
}

/* The bytes `pos` past the start furthest out that the ring holds (in
 * order or in a range). */
static uint32_t extent(const struct usn_bytering *r)
{
	uint32_t e = r->len;

	for (unsigned i = 0; i < r->nranges; i++)
		e = USN_MAX(e, r->ranges[i].end);
	return e;
}

/* Storage for `need` bytes from the start (need <= cap): grows it to the
 * next power of two that holds them (at least BYTERING_MIN_CAP), moving
 * what it holds to the front of the new storage. false when memory runs
 * out, or when pinned with every retired slot taken. */
static bool reserve(struct usn_bytering *r, uint32_t need)
{
	if (need <= r->size)
		return true;
	if (r->buf && r->pinned && r->nretired == USN_BYTERING_RETIRED)
		return false;
	uint32_t n = r->size ? r->size : BYTERING_MIN_CAP;
	while (n < need)
		n <<= 1;
	uint8_t *nb = storage_get(r, n);
	if (!nb)
		return false;
	if (r->buf) {
		uint32_t held = extent(r); /* <= size */
		uint32_t i = r->head & (r->size - 1);
		uint32_t first = USN_MIN(held, r->size - i);
		memcpy(nb, r->buf + i, first);
		memcpy(nb + first, r->buf, held - first);
		if (r->pinned)
			r->retired[r->nretired++] = r->buf;
		else
			storage_put(r, r->buf, r->size);
	}
	r->buf = nb;
	r->size = n;
	r->head = 0;
	return true;
}

/* Index in buf of the byte `pos` bytes after the start. The head runs free
 * over all of uint32_t; cap divides 2^32, so the mask stays right across the
 * wrap of the index itself. */
static inline uint32_t ring_idx(const struct usn_bytering *r, uint32_t pos)
{
	return (r->head + pos) & (r->size - 1);
}

/* Copies n bytes into the ring at `pos` from the start: at most two pieces. */
static void copy_in(struct usn_bytering *r, uint32_t pos, const uint8_t *src, uint32_t n)
{
	uint32_t i = ring_idx(r, pos);
	uint32_t first = USN_MIN(n, r->size - i);

	memcpy(r->buf + i, src, first);
	if (first < n)
		memcpy(r->buf, src + first, n - first);
}

/* Describes n bytes of storage from `pos` as one or two iovecs (n > 0). */
static int span_iov(const struct usn_bytering *r, uint32_t pos, uint32_t n, struct iovec iov[2])
{
	uint32_t i = ring_idx(r, pos);
	uint32_t first = USN_MIN(n, r->size - i);

	iov[0].iov_base = r->buf + i;
	iov[0].iov_len = first;
	if (first == n)
		return 1;
	iov[1].iov_base = r->buf;
	iov[1].iov_len = n - first;
	return 2;
}

/* True when [s, e) overlaps or touches range g: such a range is merged
 * with the write, since ranges never touch each other. */
static inline bool range_touches(const struct usn_byterange *g, uint32_t s, uint32_t e)
{
	return g->start <= e && g->end >= s;
}

/* Whether an out-of-order write of [s, e) can be recorded: it can when it
 * merges with a range (the count does not grow) or a slot is free. */
static bool ooo_fits(struct usn_bytering *r, uint32_t s, uint32_t e)
{
	if (!r->ranges) {
		r->ranges = malloc(USN_BYTERING_MAX_RANGES * sizeof(*r->ranges));
		if (!r->ranges)
			return false;
	}
	if (r->nranges < USN_BYTERING_MAX_RANGES)
		return true;
	for (unsigned i = 0; i < r->nranges; i++)
		if (range_touches(&r->ranges[i], s, e))
			return true;
	return false;
}

/* The in-order data now ends at e (>= len): absorbs every range that the
 * new in-order end reaches or touches and returns the growth. A range can
 * only be reached from the in-order side, since ranges never touch each
 * other, so one pass finds them all. The others keep their recency order. */
static uint32_t grow_in_order(struct usn_bytering *r, uint32_t e)
{
	uint32_t old = r->len;
	unsigned j = 0;

	for (unsigned i = 0; i < r->nranges; i++) {
		struct usn_byterange g = r->ranges[i];

		if (g.start <= e) {
			e = USN_MAX(e, g.end);
			r->ooo_bytes -= g.end - g.start;
		} else {
			r->ranges[j++] = g;
		}
	}
	r->nranges = (uint8_t)j;
	if (j == 0 && r->ranges) {
		free(r->ranges);
		r->ranges = NULL;
	}
	r->len = e;
	return e - old;
}

/* Records the out-of-order write [s, e) (s > len), merging every range it
 * overlaps or touches, and puts the result first.
 * RFC 2018 §4: "The first SACK block (i.e., the one immediately following
 * the kind and length fields in the option) MUST specify the contiguous
 * block of data containing the segment which triggered this ACK": so the
 * range a write lands in moves to the front even when the write only
 * repeats bytes already held; the others keep their order, as §4's
 * "repeating the most recently reported SACK blocks" wants.
 * The caller has checked ooo_fits(). */
static void add_ooo(struct usn_bytering *r, uint32_t s, uint32_t e)
{
	uint32_t absorbed = 0;
	unsigned j = 0;

	for (unsigned i = 0; i < r->nranges; i++) {
		struct usn_byterange g = r->ranges[i];

		if (range_touches(&g, s, e)) {
			s = USN_MIN(s, g.start);
			e = USN_MAX(e, g.end);
			absorbed += g.end - g.start;
		} else {
			r->ranges[j++] = g;
		}
	}
	assert(j < USN_BYTERING_MAX_RANGES);
	memmove(&r->ranges[1], &r->ranges[0], j * sizeof(r->ranges[0]));
	r->ranges[0].start = s;
	r->ranges[0].end = e;
	r->nranges = (uint8_t)(j + 1);
	r->ooo_bytes += (e - s) - absorbed;
}

/* Clips a write of `len` bytes at `off` past the in-order end to the space
 * and checks it can be recorded. Returns the number of bytes to copy (0:
 * nothing to do) or -ENOBUFS. Overflow-safe for any off and len. */
static int64_t plan_write(struct usn_bytering *r, uint32_t off, uint64_t len)
{
	uint32_t space = usn_bytering_space(r);
	uint32_t n, s;

	if (len == 0 || off >= space)
		return 0;
	n = (uint32_t)USN_MIN(len, (uint64_t)(space - off));
	s = r->len + off;
	if (off > 0 && !ooo_fits(r, s, s + n))
		return -ENOBUFS;
	if (!reserve(r, s + n)) {
		if (r->nranges == 0) { /* allocated by ooo_fits for nothing */
			free(r->ranges);
			r->ranges = NULL;
		}
		return -ENOBUFS;
	}
	return n;
}

/* Bookkeeping after n bytes were copied at `off` past the in-order end. */
static int finish_write(struct usn_bytering *r, uint32_t off, uint32_t n)
{
	uint32_t s = r->len + off;

	if (off == 0)
		return (int)grow_in_order(r, s + n);
	add_ooo(r, s, s + n);
	return 0;
}

int usn_bytering_write_at(struct usn_bytering *r, uint32_t off, const void *data, uint32_t len)
{
	int64_t n = plan_write(r, off, len);

	if (n <= 0)
		return (int)n;
	copy_in(r, r->len + off, data, (uint32_t)n);
	return finish_write(r, off, (uint32_t)n);
}

int usn_bytering_writev_at(struct usn_bytering *r, uint32_t off, const struct iovec *iov, int iovcnt)
{
	uint64_t total = 0;
	uint32_t pos, left;
	int64_t n;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return -EINVAL;
	/* Only up to cap bytes can ever be taken, so stop summing there
	 * (also keeps the sum from overflowing). */
	for (int i = 0; i < iovcnt && total < r->cap; i++)
		total += USN_MIN(iov[i].iov_len, (size_t)r->cap);
	n = plan_write(r, off, total);
	if (n <= 0)
		return (int)n;
	pos = r->len + off;
	left = (uint32_t)n;
	for (int i = 0; left > 0; i++) {
		uint32_t k = (uint32_t)USN_MIN(iov[i].iov_len, (size_t)left);

		if (k == 0)
			continue;
		copy_in(r, pos, iov[i].iov_base, k);
		pos += k;
		left -= k;
	}
	return finish_write(r, off, (uint32_t)n);
}

uint32_t usn_bytering_peek(const struct usn_bytering *r, uint32_t off, void *dst, uint32_t n)
{
	uint32_t i, first;

	if (off >= r->len || n == 0)
		return 0;
	n = USN_MIN(n, r->len - off);
	i = ring_idx(r, off);
	first = USN_MIN(n, r->size - i);
	memcpy(dst, r->buf + i, first);
	if (first < n)
		memcpy((uint8_t *)dst + first, r->buf, n - first);
	return n;
}

int usn_bytering_peek_iov(const struct usn_bytering *r, uint32_t off, uint32_t n, struct iovec iov[2])
{
	if (off >= r->len || n == 0)
		return 0;
	return span_iov(r, off, USN_MIN(n, r->len - off), iov);
}

void usn_bytering_consume(struct usn_bytering *r, uint32_t n)
{
	assert(n <= r->len);
	n = USN_MIN(n, r->len);
	r->head += n;
	r->len -= n;
	/* Ranges are offsets from the start, which just moved. */
	for (unsigned i = 0; i < r->nranges; i++) {
		r->ranges[i].start -= n;
		r->ranges[i].end -= n;
	}
	release_if_empty(r);
}

uint32_t usn_bytering_append(struct usn_bytering *r, const void *src, uint32_t n)
{
	n = USN_MIN(n, usn_bytering_space(r));
	if (n == 0 || !reserve(r, r->len + n))
		return 0;
	copy_in(r, r->len, src, n);
	/* Absorbs ranges too, so that a caller mixing the two sides (which
	 * it must not) still leaves the ring consistent. */
	grow_in_order(r, r->len + n);
	return n;
}

int usn_bytering_reserve_iov(struct usn_bytering *r, uint32_t n, struct iovec iov[2])
{
	n = USN_MIN(n, usn_bytering_space(r));
	if (n == 0 || !reserve(r, r->len + n))
		return 0;
	return span_iov(r, r->len, n, iov);
}

void usn_bytering_commit(struct usn_bytering *r, uint32_t n)
{
	assert(n <= usn_bytering_space(r));
	n = USN_MIN(n, usn_bytering_space(r));
	grow_in_order(r, r->len + n);
}
