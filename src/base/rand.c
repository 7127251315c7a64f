/* SPDX-License-Identifier: MIT */
/*
 * rand.c - the stack's seeded pseudo-random source: xoshiro256** (Blackman
 * and Vigna) with its state expanded from one 64-bit seed by splitmix64, so
 * a single number replays a whole run. It is fast and statistically good, and
 * it is not cryptographic: nothing secret (ISN or cookie keys) may come from
 * here. No RFC applies; RFC 6528 keys come from libsodium in stack/.
 */

#include "rand.h"

static uint64_t rotl64(uint64_t x, unsigned int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64_next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void usn_rand_seed(struct usn_rand *r, uint64_t seed)
{
	uint64_t x = seed;

	/* splitmix64 never yields four zero words in a row, so the xoshiro
	 * state is never the all-zero fixed point. */
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64_next(&x);
}

uint64_t usn_rand_u64(struct usn_rand *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

uint32_t usn_rand_u32(struct usn_rand *r)
{
	/* The high bits of xoshiro256** are its best ones. */
	return (uint32_t)(usn_rand_u64(r) >> 32);
}

uint64_t usn_rand_below(struct usn_rand *r, uint64_t n)
{
	uint64_t threshold, x;

	if (n == 0)
		return 0;
	/* 2^64 mod n values at the bottom would make the low residues more
	 * likely; draws below that threshold are rejected so that the ones
	 * kept span a whole multiple of n. At most half of all draws are
	 * rejected, whatever n is. */
	threshold = (0 - n) % n;
	do {
		x = usn_rand_u64(r);
	} while (x < threshold);
	return x % n;
}

int usn_rand_chance_ppm(struct usn_rand *r, uint32_t ppm)
{
	if (ppm == 0)
		return 0;
	if (ppm >= 1000000)
		return 1;
	return usn_rand_below(r, 1000000) < ppm;
}

void usn_rand_bytes(struct usn_rand *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	/* Bytes are taken low byte first whatever the host's byte order, so a
	 * seed gives the same bytes on every machine. */
	while (len > 0) {
		uint64_t x = usn_rand_u64(r);
		size_t n = len < 8 ? len : 8;

		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(x >> (8 * i));
		p += n;
		len -= n;
	}
}
