// SPDX-License-Identifier: MIT
/*
 * test-hist.c - unit tests of usnet-load's latency histogram
 * (apps/load/hist.h): the bucket layout (every value inside its bucket,
 * buckets contiguous, width within 1/128 of the values), percentiles of
 * known distributions (uniform, constant, two-valued, exponential) within
 * the histogram's precision and never below the exact value, the
 * extremes (empty, 0, above 68 s), and merge equal to recording into one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "hist.h"

static struct hist h, h2, h3; /* 30 KB each: off the test's stack */

/* v is within the histogram's precision above exact (never below). */
static void assert_close(uint64_t v, uint64_t exact)
{
	assert_true(v >= exact);
	assert_true((double)(v - exact) <= (double)exact / 128.0 + 1.0);
}

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(hist_index(0), 0);
	assert_int_equal(hist_index(255), 255);
	assert_int_equal(hist_index(256), 256);
	assert_int_equal(hist_index(HIST_MAX_VALUE), HIST_BUCKETS - 1);
	/* Buckets tile the range: each starts right after the previous. */
	for (uint32_t i = 1; i < HIST_BUCKETS; i++)
		assert_int_equal(hist_bucket_low(i), hist_bucket_high(i - 1) + 1);
	assert_int_equal(hist_bucket_high(HIST_BUCKETS - 1), HIST_MAX_VALUE);
	/* Values land in their bucket, which is at most 1/128 of them wide. */
	for (uint64_t v = 1; v < HIST_MAX_VALUE; v = v * 3 / 2 + 1) {
		uint32_t i = hist_index(v);
		assert_true(hist_bucket_low(i) <= v && v <= hist_bucket_high(i));
		uint64_t width = hist_bucket_high(i) - hist_bucket_low(i) + 1;
		assert_true(width == 1 || (double)width <= (double)hist_bucket_low(i) / 128.0);
	}
}

static void test_empty(void **state)
{
	(void)state;
	hist_init(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	assert_int_equal(hist_percentile(&h, 100), 0);
	assert_int_equal(hist_mean(&h), 0);
}

/* 1..100000 µs, each once: percentile p is p% of 100000 µs. */
static void test_uniform(void **state)
{
	(void)state;
	hist_init(&h);
	for (uint64_t us = 1; us <= 100000; us++)
		hist_record(&h, us * 1000);
	assert_int_equal(h.total, 100000);
	assert_close(hist_percentile(&h, 50), 50000 * 1000ull);
	assert_close(hist_percentile(&h, 90), 90000 * 1000ull);
	assert_close(hist_percentile(&h, 99), 99000 * 1000ull);
	assert_close(hist_percentile(&h, 99.9), 99900 * 1000ull);
	assert_int_equal(hist_percentile(&h, 100), 100000 * 1000ull);
	assert_int_equal(hist_percentile(&h, 0), 1000);
	assert_int_equal(h.min, 1000);
	assert_int_equal(h.max, 100000 * 1000ull);
	assert_int_equal(hist_mean(&h), 50000500ull); /* (1 + 100000) / 2 µs */
}

/* One value: every percentile is that value exactly (capped at max). */
static void test_constant(void **state)
{
	(void)state;
	hist_init(&h);
	for (int i = 0; i < 1000; i++)
		hist_record(&h, 123457);
	assert_int_equal(hist_percentile(&h, 50), 123457);
	assert_int_equal(hist_percentile(&h, 99.9), 123457);
	assert_int_equal(hist_percentile(&h, 100), 123457);
}

/* 990 fast and 10 slow: p99 is fast, p99.9 is slow (ranks 990, 999). */
static void test_two_values(void **state)
{
	(void)state;
	hist_init(&h);
	for (int i = 0; i < 990; i++)
		hist_record(&h, 50000);
	for (int i = 0; i < 10; i++)
		hist_record(&h, 20000000);
	assert_close(hist_percentile(&h, 50), 50000);
	assert_close(hist_percentile(&h, 99), 50000);
	assert_close(hist_percentile(&h, 99.1), 20000000);
	assert_close(hist_percentile(&h, 99.9), 20000000);
	assert_int_equal(hist_percentile(&h, 100), 20000000);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Exponential latencies (mean 200 µs) from a fixed seed, against the
 * exact percentiles of the sorted samples. */
static void test_exponential(void **state)
{
	(void)state;
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	assert_non_null(v);
	hist_init(&h);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = ((double)(x >> 11) + 0.5) / 9007199254740992.0;
		v[i] = (uint64_t)(-log(u) * 200000.0) + 1000;
		hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	const double ps[] = {50, 90, 99, 99.9};
	for (size_t k = 0; k < 4; k++) {
		size_t rank = (size_t)ceil(ps[k] / 100.0 * N - 1e-9);
		assert_close(hist_percentile(&h, ps[k]), v[rank - 1]);
	}
	assert_int_equal(hist_percentile(&h, 100), v[N - 1]);
	free(v);
}

/* Above the range: counted in the top bucket, the maximum exact. */
static void test_overflow(void **state)
{
	(void)state;
	hist_init(&h);
	hist_record(&h, 0);
	hist_record(&h, 120ull * 1000000000ull);
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist_percentile(&h, 50), 0);
	assert_int_equal(hist_percentile(&h, 100), 120ull * 1000000000ull);
	assert_int_equal(hist_percentile(&h, 99), 120ull * 1000000000ull);
}

/* Two halves merged equal the whole recorded in one. */
static void test_merge(void **state)
{
	(void)state;
	hist_init(&h);
	hist_init(&h2);
	hist_init(&h3);
	for (uint64_t i = 1; i <= 50000; i++) {
		uint64_t a = i * 977 % 3000000, b = i * 7919 % 90000000 + 500;
		hist_record(i % 2 ? &h : &h2, a);
		hist_record(i % 3 ? &h2 : &h, b);
		hist_record(&h3, a);
		hist_record(&h3, b);
	}
	hist_merge(&h, &h2);
	assert_int_equal(h.total, h3.total);
	assert_int_equal(h.min, h3.min);
	assert_int_equal(h.max, h3.max);
	assert_int_equal(h.sum, h3.sum);
	assert_memory_equal(h.counts, h3.counts, sizeof(h.counts));
	for (double p = 1; p < 100; p += 7.3)
		assert_int_equal(hist_percentile(&h, p), hist_percentile(&h3, p));
	/* Merging an empty one changes nothing, min included. */
	hist_init(&h2);
	hist_merge(&h, &h2);
	assert_int_equal(h.min, h3.min);
	assert_int_equal(h.total, h3.total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),      cmocka_unit_test(test_empty),
		cmocka_unit_test(test_uniform),     cmocka_unit_test(test_constant),
		cmocka_unit_test(test_two_values),  cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_overflow),    cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
