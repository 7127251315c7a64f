/* SPDX-License-Identifier: MIT */
/*
 * rand.h - the stack's seeded pseudo-random source (xoshiro256**). Every use
 * of randomness in protocol code (ephemeral ports, IP IDs, jitter, simulator
 * impairments) draws from an instance of this, so a seed replays a run
 * exactly. It is not a cryptographic generator: secrets (ISN keys) come from
 * libsodium in the stack layer.
 */
#ifndef USN_RAND_H
#define USN_RAND_H

#include <stddef.h>
#include <stdint.h>

struct usn_rand {
	uint64_t s[4];
};

/* Seeds the state from one 64-bit value (expanded with splitmix64). */
void usn_rand_seed(struct usn_rand *r, uint64_t seed);
uint64_t usn_rand_u64(struct usn_rand *r);
uint32_t usn_rand_u32(struct usn_rand *r);
/* Uniform in [0, n); n == 0 returns 0. Unbiased (rejection sampling). */
uint64_t usn_rand_below(struct usn_rand *r, uint64_t n);
/* True with probability ppm / 1 000 000. */
int usn_rand_chance_ppm(struct usn_rand *r, uint32_t ppm);
void usn_rand_bytes(struct usn_rand *r, void *buf, size_t len);

#endif
