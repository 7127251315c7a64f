/* SPDX-License-Identifier: MIT */
/*
 * test-rand.c - the seeded generator: published test vectors of splitmix64
 * and xoshiro256**, golden sequences per seed (so a replay seed means the
 * same thing forever), range and rough uniformity of below(), the edges of
 * chance_ppm(), and bytes() matching u64() low byte first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "rand.h"

/* xoshiro256** from the state {1, 2, 3, 4}, as in the reference code. */
static void test_xoshiro_reference_vector(void **state)
{
	static const uint64_t want[] = {
		11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL,
		1216172134540287360ULL, 607988272756665600ULL,
	};
	struct usn_rand r = { .s = { 1, 2, 3, 4 } };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(usn_rand_u64(&r), want[i]);
}

/* Golden values: the first outputs after seeding through splitmix64. These
 * are the contract that makes a recorded seed replay the same run. */
static void test_seed_golden(void **state)
{
	static const struct {
		uint64_t seed;
		uint64_t out[4];
	} golden[] = {
		{ 0, { 0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
		       0x6aa594f1262d2d2cULL } },
		{ 1, { 0xb3f2af6d0fc710c5ULL, 0x853b559647364ceaULL, 0x92f89756082a4514ULL,
		       0x642e1c7bc266a3a7ULL } },
		{ 42, { 0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
			0xecb8ad4703b360a1ULL } },
	};
	struct usn_rand r;

	for (size_t g = 0; g < sizeof(golden) / sizeof(golden[0]); g++) {
		usn_rand_seed(&r, golden[g].seed);
		for (int i = 0; i < 4; i++)
			assert_int_equal(usn_rand_u64(&r), golden[g].out[i]);
	}
}

/* The first splitmix64 output of seed 1234567 is the published
 * 6457827717110365317; it is s[0] after seeding. */
static void test_seed_uses_splitmix64(void **state)
{
	struct usn_rand r;

	usn_rand_seed(&r, 1234567);
	assert_int_equal(r.s[0], 6457827717110365317ULL);
	assert_int_equal(r.s[1], 3203168211198807973ULL);
	assert_int_equal(r.s[2], 9817491932198370423ULL);
	assert_int_equal(r.s[3], 4593380528125082431ULL);
}

static void test_same_seed_same_sequence(void **state)
{
	struct usn_rand a, b, c;
	int differ = 0;

	usn_rand_seed(&a, 7);
	usn_rand_seed(&b, 7);
	usn_rand_seed(&c, 8);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = usn_rand_u64(&a);

		assert_int_equal(x, usn_rand_u64(&b));
		differ += x != usn_rand_u64(&c);
	}
	assert_true(differ >= 999);
}

static void test_u32_is_high_half(void **state)
{
	struct usn_rand a, b;

	usn_rand_seed(&a, 99);
	usn_rand_seed(&b, 99);
	for (int i = 0; i < 100; i++)
		assert_int_equal(usn_rand_u32(&a), usn_rand_u64(&b) >> 32);
}

static void test_below_range(void **state)
{
	static const uint64_t ns[] = { 1, 2, 3, 7, 10, 1000, 65535, 1ULL << 32,
				       (1ULL << 63) + 1, UINT64_MAX };
	struct usn_rand r;

	usn_rand_seed(&r, 3);
	assert_int_equal(usn_rand_below(&r, 0), 0);
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++)
		for (int i = 0; i < 2000; i++)
			assert_true(usn_rand_below(&r, ns[k]) < ns[k]);
	for (int i = 0; i < 100; i++)
		assert_int_equal(usn_rand_below(&r, 1), 0);
}

static void test_below_uniform(void **state)
{
	enum { N = 10, DRAWS = 200000 };
	unsigned int hist[N] = { 0 };
	struct usn_rand r;

	usn_rand_seed(&r, 12345);
	for (int i = 0; i < DRAWS; i++)
		hist[usn_rand_below(&r, N)]++;
	/* Expected 20000 each, sd about 134: 1000 is over 7 sd. */
	for (int i = 0; i < N; i++) {
		assert_true(hist[i] > DRAWS / N - 1000);
		assert_true(hist[i] < DRAWS / N + 1000);
	}
}

/* For n = 3 * 2^62, a quarter of the raw draws fall in the rejected zone;
 * a plain x % n would put 62.5% of results in the lower half of [0, n)
 * instead of 50%. */
static void test_below_unbiased_large_n(void **state)
{
	const uint64_t n = (1ULL << 63) + (1ULL << 62);
	unsigned int low = 0;
	struct usn_rand r;

	usn_rand_seed(&r, 5);
	for (int i = 0; i < 30000; i++)
		low += usn_rand_below(&r, n) < n / 2;
	/* Unbiased: 15000 (sd 87); x % n would give about 18750. */
	assert_true(low > 14000 && low < 16000);
}

static void test_chance_ppm_edges(void **state)
{
	struct usn_rand r;
	unsigned int hits = 0;

	usn_rand_seed(&r, 77);
	for (int i = 0; i < 10000; i++) {
		assert_false(usn_rand_chance_ppm(&r, 0));
		assert_true(usn_rand_chance_ppm(&r, 1000000));
		assert_true(usn_rand_chance_ppm(&r, 2000000));
	}
	for (int i = 0; i < 100000; i++)
		hits += usn_rand_chance_ppm(&r, 250000);
	/* 25000 expected, sd about 137. */
	assert_true(hits > 24000 && hits < 26000);
}

static void test_bytes_low_byte_first(void **state)
{
	struct usn_rand a, b;
	uint8_t buf[21], want[24];

	usn_rand_seed(&a, 2024);
	usn_rand_seed(&b, 2024);
	memset(buf, 0xee, sizeof(buf));
	usn_rand_bytes(&a, buf, sizeof(buf));
	for (int w = 0; w < 3; w++) {
		uint64_t x = usn_rand_u64(&b);

		for (int i = 0; i < 8; i++)
			want[w * 8 + i] = (uint8_t)(x >> (8 * i));
	}
	assert_memory_equal(buf, want, sizeof(buf));
	/* Exactly three words were drawn for 21 bytes. */
	assert_int_equal(usn_rand_u64(&a), usn_rand_u64(&b));
	usn_rand_bytes(&a, buf, 0);
	assert_int_equal(usn_rand_u64(&a), usn_rand_u64(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xoshiro_reference_vector),
		cmocka_unit_test(test_seed_golden),
		cmocka_unit_test(test_seed_uses_splitmix64),
		cmocka_unit_test(test_same_seed_same_sequence),
		cmocka_unit_test(test_u32_is_high_half),
		cmocka_unit_test(test_below_range),
		cmocka_unit_test(test_below_uniform),
		cmocka_unit_test(test_below_unbiased_large_n),
		cmocka_unit_test(test_chance_ppm_edges),
		cmocka_unit_test(test_bytes_low_byte_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
