// SPDX-License-Identifier: MIT
/*
 * fuzz-csum.c - libFuzzer target for the Internet checksum helpers
 * (src/wire/csum.c, RFC 1071, RFC 1624). Each input is an arbitrary byte
 * string. Its sum (usn_csum_partial and usn_csum_partial64, from several
 * starts) is compared with a byte-at-a-time reference, with the sum
 * of two and three blocks split at points the input chooses and combined
 * at their offsets (RFC 1071 §2(B)), with the sum chained through the
 * running-sum argument, and a 16- or 32-bit word changed at an
 * input-chosen even offset must update the checksum as a recomputation
 * would (RFC 1624 eqn. 3), and the block-sum cache over the input must
 * give the direct sum of an input-chosen range. Any mismatch aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Two checksums are the same ones'-complement value: equal, or the two
 * zeros. */
static int same_value(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

static size_t pick(const uint8_t *data, size_t size, size_t i, size_t bound)
{
	if (size == 0 || bound == 0)
		return 0;
	size_t v = (size_t)data[i % size] << 8 | data[(i + 1) % size];
	return v % (bound + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t whole = usn_csum_fold(usn_csum_partial(data, size, 0));

	CHECK(whole == ref_sum(data, size));
	/* the 64-bit-word sum is the same, from any start and running sum */
	CHECK(usn_csum_fold(usn_csum_partial64(data, size, 0)) == whole);
	for (size_t o = 1; o < 8 && o < size; o++)
		CHECK(usn_csum_fold(usn_csum_partial64(data + o, size - o, 0x12345)) ==
		      usn_csum_fold(usn_csum_partial(data + o, size - o, 0x12345)));
	uint16_t fin = usn_csum_finish(usn_csum_partial(data, size, 0));
	CHECK((uint16_t)(fin + whole) == 0xffff);

	size_t a = pick(data, size, 0, size);
	size_t b = a + pick(data, size, 2, size - a);
	uint32_t s1 = usn_csum_partial(data, a, 0);
	uint32_t s2 = usn_csum_partial(data + a, b - a, 0);
	uint32_t s3 = usn_csum_partial(data + b, size - b, 0);
	CHECK(usn_csum_fold(usn_csum_combine(s1, usn_csum_partial(data + a, size - a, 0), a)) == whole);
	CHECK(usn_csum_fold(usn_csum_combine(usn_csum_combine(s1, s2, a), s3, b)) == whole);
	/* blocks combine in any order: the offset alone decides the swap */
	CHECK(usn_csum_fold(usn_csum_combine(usn_csum_combine(usn_csum_combine(0, s3, b), s1, 0), s2, a)) ==
	      whole);
	/* chaining through the running sum is the same as combining at an
	 * even offset */
	if (!(a & 1))
		CHECK(usn_csum_fold(usn_csum_partial(data + a, size - a, s1)) == whole);

	/* The block-sum cache over the input gives the direct sum of any
	 * range, twice (the second time from stored sums). */
	struct usn_csum_cache *cc = usn_csum_cache_new(data, size);
	if (cc) {
		size_t o = pick(data, size, 6, size);
		size_t n = pick(data, size, 8, size - o);
		for (int k = 0; k < 2; k++) {
			size_t rd, cached;
			uint16_t v = usn_csum_fold(usn_csum_cache_sum(cc, data + o, n, &rd, &cached));
			CHECK(v == ref_sum(data + o, n));
			CHECK(cached <= n);
			if (k == 1)
				CHECK(rd + cached == n);
		}
		CHECK(usn_csum_fold(usn_csum_cache_sum(cc, data, size, NULL, NULL)) == whole);
		usn_csum_cache_free(cc);
	}

	/* RFC 1624 eqn. 3 against recomputation */
	if (size >= 6) {
		uint8_t buf[4096];
		size_t n = size < sizeof(buf) ? size : sizeof(buf);
		memcpy(buf, data, n);
		uint16_t csum = usn_csum_finish(usn_csum_partial(buf, n, 0));
		size_t off = pick(data, size, 4, (n - 4) / 2) * 2;
		uint32_t old = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
			       (uint32_t)buf[off + 2] << 8 | buf[off + 3];
		uint32_t new = ~old ^ ((uint32_t)data[size - 1] << 9);
		for (int i = 0; i < 4; i++)
			buf[off + (size_t)i] = (uint8_t)(new >> (24 - 8 * i));
		uint16_t re = usn_csum_finish(usn_csum_partial(buf, n, 0));
		CHECK(same_value(usn_csum_update32(csum, old, new), re));
		uint16_t c16 = usn_csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new >> 16));
		CHECK(same_value(usn_csum_update16(c16, (uint16_t)old, (uint16_t)new), re));
	}
	return 0;
}
