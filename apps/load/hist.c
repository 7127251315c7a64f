// SPDX-License-Identifier: MIT
/*
 * hist.c - the log-linear latency histogram of hist.h. Bucket layout:
 * indexes 0..255 hold the values 0..255 ns one each; above, a value whose
 * highest set bit is b (8 <= b <= 35) is shifted right by e = b - 7 so
 * that 128 <= v >> e < 256, and lands in group e of 128 buckets, each
 * 2^e ns wide: the width over the smallest value in it is 2^e / (128 * 2^e).
 */
#include "hist.h"

#include <math.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint32_t hist_index(uint64_t ns)
{
	if (ns < HIST_LINEAR)
		return (uint32_t)ns;
	if (ns > HIST_MAX_VALUE)
		ns = HIST_MAX_VALUE;
	unsigned b = 63u - (unsigned)__builtin_clzll(ns);
	unsigned e = b - HIST_SUB_BITS;
	return HIST_LINEAR + (e - 1) * HIST_SUB + (uint32_t)((ns >> e) - HIST_SUB);
}

uint64_t hist_bucket_low(uint32_t index)
{
	if (index < HIST_LINEAR)
		return index;
	uint32_t g = (index - HIST_LINEAR) / HIST_SUB, sub = (index - HIST_LINEAR) % HIST_SUB + HIST_SUB;
	return (uint64_t)sub << (g + 1);
}

uint64_t hist_bucket_high(uint32_t index)
{
	if (index < HIST_LINEAR)
		return index;
	uint32_t g = (index - HIST_LINEAR) / HIST_SUB;
	return hist_bucket_low(index) + (UINT64_C(1) << (g + 1)) - 1;
}

void hist_record(struct hist *h, uint64_t ns)
{
	h->counts[hist_index(ns)]++;
	h->total++;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->sum = h->sum + ns < h->sum ? UINT64_MAX : h->sum + ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (uint32_t i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->total == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* The rank of the value asked for, 1-based: ceil(p% of total), so
	 * p50 of 1..100 is the 50th value (as HdrHistogram). The small
	 * subtraction keeps 99.9 % of 1000 at 999, not 1000 from rounding. */
	double want = ceil((double)h->total * p / 100.0 - 1e-9);
	uint64_t rank = want < 1 ? 1 : (uint64_t)want;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			/* The top bucket also holds what was clamped into it. */
			uint64_t v = i == HIST_BUCKETS - 1 ? h->max : hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

uint64_t hist_mean(const struct hist *h)
{
	return h->total ? h->sum / h->total : 0;
}
