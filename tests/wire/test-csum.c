// SPDX-License-Identifier: MIT
/*
 * test-csum.c - unit tests of the Internet checksum helpers (wire/csum.c):
 * the RFC 1071 §3 example, a known IPv4 header checksum, agreement with a
 * byte-at-a-time reference over every length and alignment, block
 * combination at even and odd offsets (RFC 1071 §2(B)), the pseudo-header,
 * RFC 1624 eqn. 3 updates against recomputation, and the block-sum cache
 * against direct sums (any range, bytes read once). Randomised cases use a
 * fixed seed so a failure replays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

struct rng {
	uint64_t s;
};

static uint32_t rng_next(struct rng *r)
{
	/* xorshift64*: enough for test data, fixed seed per test */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 2685821657736338717ULL) >> 32);
}

static void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

/* RFC 1071 §4.1 taken literally: 16-bit big-endian words, odd byte high. */
static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* RFC 1071 §3 "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7 sum to
 * 0x2ddf0, which folds to 0xddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	assert_int_equal(usn_csum_fold(usn_csum_partial(b, sizeof(b), 0)), 0xddf2);
	assert_int_equal(usn_csum_finish(usn_csum_partial(b, sizeof(b), 0)), 0x220d);
	assert_int_equal(usn_csum_fold(0x2ddf0), 0xddf2);
	/* the same sum split into words, as the RFC does by hand */
	uint32_t s = usn_csum_partial(b, 4, 0);
	s = usn_csum_partial(b + 4, 4, s);
	assert_int_equal(usn_csum_fold(s), 0xddf2);
}

static void test_odd_length_pads_low_byte(void **state)
{
	static const uint8_t one[] = { 0xab };
	static const uint8_t three[] = { 0x12, 0x34, 0x56 };

	assert_int_equal(usn_csum_fold(usn_csum_partial(one, 1, 0)), 0xab00);
	assert_int_equal(usn_csum_fold(usn_csum_partial(three, 3, 0)), 0x1234 + 0x5600);
	assert_int_equal(usn_csum_partial(one, 0, 0x1234), 0x1234);
}

/* The header of the classic example datagram 192.168.0.1 -> 192.168.0.199,
 * checksum 0xb861. */
static void test_ipv4_header_known(void **state)
{
	uint8_t h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	assert_int_equal(usn_csum_fold(usn_csum_partial(h, sizeof(h), 0)), 0xffff);
	h[10] = h[11] = 0;
	assert_int_equal(usn_csum_finish(usn_csum_partial(h, sizeof(h), 0)), 0xb861);
}

static void test_matches_reference(void **state)
{
	static uint8_t buf[2048 + 8];
	struct rng r = { 0x1234567887654321ULL };

	rng_fill(&r, buf, sizeof(buf));
	for (size_t align = 0; align < 8; align++)
		for (size_t len = 0; len <= 2048; len += (len < 300 ? 1 : 37))
			assert_int_equal(usn_csum_fold(usn_csum_partial(buf + align, len, 0)),
					 ref_sum(buf + align, len));
}

/* All ones for a long buffer: no carry is lost in the wide accumulator. */
static void test_long_all_ones(void **state)
{
	static uint8_t buf[1 << 20];

	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(usn_csum_fold(usn_csum_partial(buf, sizeof(buf), 0xffffffffu)), 0xffff);
	/* 0xffff words are -0; the odd last byte counts as 0xff00 */
	assert_int_equal(usn_csum_fold(usn_csum_partial(buf, sizeof(buf) - 1, 0)), 0xff00);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(usn_csum_partial(buf, sizeof(buf), 0), 0);
}

/* RFC 1071 §2(B): sums of blocks combined at their offsets equal the sum of
 * the whole, whether a block starts at an even or an odd offset. */
static void test_combine_split(void **state)
{
	static uint8_t buf[1500];
	struct rng r = { 42 };

	for (int iter = 0; iter < 4000; iter++) {
		size_t len = rng_next(&r) % sizeof(buf) + 1;
		rng_fill(&r, buf, len);
		size_t a = rng_next(&r) % (len + 1);
		size_t b = a + rng_next(&r) % (len - a + 1);
		uint16_t whole = usn_csum_fold(usn_csum_partial(buf, len, 0));

		/* two blocks */
		uint32_t s = usn_csum_partial(buf, a, 0);
		s = usn_csum_combine(s, usn_csum_partial(buf + a, len - a, 0), a);
		assert_int_equal(usn_csum_fold(s), whole);
		/* three blocks, in any order of combination */
		uint32_t s1 = usn_csum_partial(buf, a, 0);
		uint32_t s2 = usn_csum_partial(buf + a, b - a, 0);
		uint32_t s3 = usn_csum_partial(buf + b, len - b, 0);
		s = usn_csum_combine(usn_csum_combine(0, s3, b), s2, a);
		s = usn_csum_combine(s, s1, 0);
		assert_int_equal(usn_csum_fold(s), whole);
	}
}

static void test_combine_odd_by_hand(void **state)
{
	/* "12 34 56": block "34 56" at offset 1 counts as 0x0034 + 0x5600 */
	static const uint8_t b[] = { 0x34, 0x56 };

	assert_int_equal(usn_csum_fold(usn_csum_combine(0x1200, usn_csum_partial(b, 2, 0), 1)),
			 0x1200 + 0x0034 + 0x5600);
	assert_int_equal(usn_csum_combine(0xffffffffu, 1, 0), 1); /* end-around carry */
}

static void test_pseudo_v4(void **state)
{
	/* 192.0.2.1 -> 198.51.100.7, UDP, length 12: the words c000 0201 c633
	 * 6407 0011 000c. */
	uint32_t s = usn_csum_pseudo_v4(0xc0000201, 0xc6336407, 17, 12);

	assert_int_equal(usn_csum_fold(s), usn_csum_fold(0xc000 + 0x0201 + 0xc633 + 0x6407 + 0x11 + 0x0c));
	/* the same as summing the 12-byte pseudo-header bytes */
	static const uint8_t ph[] = { 0xc0, 0, 2, 1, 0xc6, 0x33, 0x64, 7, 0, 17, 0, 12 };
	assert_int_equal(usn_csum_fold(s), usn_csum_fold(usn_csum_partial(ph, sizeof(ph), 0)));
	assert_int_equal(usn_csum_fold(usn_csum_pseudo_v4(0xffffffffu, 0xffffffffu, 255, 0xffff)),
			 ref_sum((const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						   0, 255, 0xff, 0xff }, 12));
}

/* RFC 1624 §4: HC 0xdd2f, m 0x5555 -> 0x3285 gives HC' 0x0000 by eqn. 3
 * (eqn. 2 would give the wrong 0xffff). */
static void test_update_rfc1624_example(void **state)
{
	assert_int_equal(usn_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

static void test_update_equals_recompute(void **state)
{
	uint8_t buf[64];
	struct rng r = { 7 };

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 8 + rng_next(&r) % (sizeof(buf) - 8);
		rng_fill(&r, buf, len);
		buf[0] |= 1; /* non-zero data: a recomputed checksum is never 0xffff */
		uint16_t csum = usn_csum_finish(usn_csum_partial(buf, len, 0));
		size_t off = 2 + 2 * (rng_next(&r) % ((len - 4) / 2)); /* even, word fits */
		if (iter & 1) {
			uint16_t old = (uint16_t)(buf[off] << 8 | buf[off + 1]);
			uint16_t new = (uint16_t)rng_next(&r);
			if (iter % 7 == 0)
				new = (uint16_t)~old;
			buf[off] = (uint8_t)(new >> 8);
			buf[off + 1] = (uint8_t)new;
			assert_int_equal(usn_csum_update16(csum, old, new),
					 usn_csum_finish(usn_csum_partial(buf, len, 0)));
		} else {
			if (off + 4 > len)
				off -= 2;
			uint32_t old = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
				       (uint32_t)buf[off + 2] << 8 | buf[off + 3];
			uint32_t new = rng_next(&r);
			for (int i = 0; i < 4; i++)
				buf[off + (size_t)i] = (uint8_t)(new >> (24 - 8 * i));
			assert_int_equal(usn_csum_update32(csum, old, new),
					 usn_csum_finish(usn_csum_partial(buf, len, 0)));
		}
	}
}

/* Changing the TTL of the known header, as a router would. */
static void test_update_ipv4_ttl(void **state)
{
	uint8_t h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c = usn_csum_update16(0xb861, 0x4011, 0x3f11);

	h[8] = 0x3f;
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	assert_int_equal(c, 0xb961);
	assert_int_equal(usn_csum_fold(usn_csum_partial(h, sizeof(h), 0)), 0xffff);
}

/* The block-sum cache gives, for any range of the cached memory, the sum a
 * direct pass gives: odd and even starts, ranges inside one block, across
 * chunks, ending in the short last block, the whole memory. */
static void test_cache_matches_direct(void **state)
{
	(void)state;
	static uint8_t mem[3 * USN_CSUM_CACHE_CHUNK + 77];
	struct rng r = {0x5eed5eedULL};
	rng_fill(&r, mem, sizeof(mem));
	struct usn_csum_cache *c = usn_csum_cache_new(mem, sizeof(mem));
	assert_non_null(c);
	for (int i = 0; i < 20000; i++) {
		size_t off = rng_next(&r) % (sizeof(mem) + 1);
		size_t len = rng_next(&r) % (sizeof(mem) - off + 1);
		if (i % 4 == 0)
			len = len % 2000; /* segment-sized */
		size_t rd = 99, cached = 99;
		uint32_t s = usn_csum_cache_sum(c, mem + off, len, &rd, &cached);
		assert_int_equal(usn_csum_fold(s), ref_sum(mem + off, len));
		assert_true(cached <= len);
	}
	size_t rd, cached;
	assert_int_equal(usn_csum_fold(usn_csum_cache_sum(c, mem, sizeof(mem), &rd, &cached)),
			 ref_sum(mem, sizeof(mem)));
	assert_int_equal(cached, sizeof(mem)); /* whole blocks, the short last one included */
	assert_int_equal(rd, 0);               /* every chunk was filled above */
	usn_csum_cache_free(c);
}

/* Chunks are summed once, on first use; later ranges read only their
 * ragged ends (less than a block at each). */
static void test_cache_reads_once(void **state)
{
	(void)state;
	static uint8_t mem[4 * USN_CSUM_CACHE_CHUNK];
	struct rng r = {77};
	rng_fill(&r, mem, sizeof(mem));
	struct usn_csum_cache *c = usn_csum_cache_new(mem, sizeof(mem));
	assert_non_null(c);
	size_t rd, cached;
	/* 1448 bytes at offset 1001: head 23 bytes, tail 1001 + 1448 = 2449,
	 * 2449 - 2432 = 17 bytes; the first chunk is summed now. */
	uint32_t s = usn_csum_cache_sum(c, mem + 1001, 1448, &rd, &cached);
	assert_int_equal(usn_csum_fold(s), ref_sum(mem + 1001, 1448));
	assert_int_equal(cached, 1448 - 23 - 17);
	assert_int_equal(rd, 23 + 17 + USN_CSUM_CACHE_CHUNK);
	s = usn_csum_cache_sum(c, mem + 1001, 1448, &rd, &cached);
	assert_int_equal(usn_csum_fold(s), ref_sum(mem + 1001, 1448));
	assert_int_equal(rd, 23 + 17);
	/* too short to hold a whole block: read directly */
	s = usn_csum_cache_sum(c, mem + 3, 60, &rd, &cached);
	assert_int_equal(usn_csum_fold(s), ref_sum(mem + 3, 60));
	assert_int_equal(rd, 60);
	assert_int_equal(cached, 0);
	/* a range outside the cached memory is summed directly */
	static uint8_t other[100];
	rng_fill(&r, other, sizeof(other));
	s = usn_csum_cache_sum(c, other, sizeof(other), &rd, &cached);
	assert_int_equal(usn_csum_fold(s), ref_sum(other, sizeof(other)));
	assert_int_equal(cached, 0);
	assert_int_equal(usn_csum_fold(usn_csum_cache_sum(NULL, mem, 64, NULL, NULL)), ref_sum(mem, 64));
	usn_csum_cache_free(c);
	/* a range running past the end of the cached memory: summed directly */
	c = usn_csum_cache_new(mem, sizeof(mem) - 200);
	assert_non_null(c);
	s = usn_csum_cache_sum(c, mem + sizeof(mem) - 300, 200, &rd, &cached);
	assert_int_equal(usn_csum_fold(s), ref_sum(mem + sizeof(mem) - 300, 200));
	assert_int_equal(cached, 0);
	assert_int_equal(rd, 200);
	usn_csum_cache_free(c);
	usn_csum_cache_free(NULL);
	/* empty memory */
	c = usn_csum_cache_new(mem, 0);
	assert_non_null(c);
	assert_int_equal(usn_csum_fold(usn_csum_cache_sum(c, mem, 0, &rd, &cached)), 0);
	usn_csum_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_odd_length_pads_low_byte),
		cmocka_unit_test(test_ipv4_header_known),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_long_all_ones),
		cmocka_unit_test(test_combine_split),
		cmocka_unit_test(test_combine_odd_by_hand),
		cmocka_unit_test(test_pseudo_v4),
		cmocka_unit_test(test_update_rfc1624_example),
		cmocka_unit_test(test_update_equals_recompute),
		cmocka_unit_test(test_update_ipv4_ttl),
		cmocka_unit_test(test_cache_matches_direct),
		cmocka_unit_test(test_cache_reads_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
