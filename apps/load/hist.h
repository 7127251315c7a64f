/* SPDX-License-Identifier: MIT */
/*
 * hist.h - a log-linear latency histogram in the manner of HdrHistogram
 * (Debian 12 packages no C HdrHistogram): values are nanoseconds; below
 * 256 ns every value has its own bucket, above that each power of two is
 * split into 128 equal buckets, so a bucket is at most 1/128 (0.78 %) of
 * the values it holds wide. Values from 1 ns to 2^36 ns (68.7 s, above the
 * 60 s a load test waits at most) fit; larger ones are counted in the top
 * bucket and still reported exactly as the maximum. Recording is an index
 * computation and an increment: no allocation, no floating point.
 * Percentiles report the upper end of the bucket they fall in (never
 * above the exact maximum), as HdrHistogram's "highest equivalent value"
 * does, so a reported percentile is never below the true one and at most
 * 0.78 % above it. Histograms merge by adding counts (--cores, warm-up).
 * Pure: no I/O, no clock, no usnet.
 */
#ifndef USNET_LOAD_HIST_H
#define USNET_LOAD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7                       /* 128 buckets per power of two */
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 36                      /* 2^36 ns = 68.7 s */
#define HIST_LINEAR (2u * HIST_SUB)           /* values below 256 ns: exact */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_BITS - HIST_SUB_BITS - 1) * HIST_SUB)
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)

struct hist {
	uint64_t total;
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	uint64_t sum;      /* for the mean (saturates, 584 years of ns) */
	uint64_t counts[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
/* Adds src's counts to dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at percentile p (0 < p <= 100; p <= 0 gives the minimum), in
 * ns: the smallest bucket upper bound with at least ceil(p% of total)
 * values at or below it, capped at the exact maximum. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
uint64_t hist_mean(const struct hist *h);

/* The bucket a value falls in and the bucket's range, for the tests. */
uint32_t hist_index(uint64_t ns);
uint64_t hist_bucket_low(uint32_t index);
uint64_t hist_bucket_high(uint32_t index);

#endif
