/* SPDX-License-Identifier: MIT */
/*
 * tcp_seq.h - TCP sequence numbers: a type of their own, compared only
 * through these helpers (modulo 2^32 arithmetic, RFC 9293 §3.4).
 */
#ifndef USN_TCP_SEQ_H
#define USN_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t usn_seq_t;

static inline bool usn_seq_lt(usn_seq_t a, usn_seq_t b) { return (int32_t)(a - b) < 0; }
static inline bool usn_seq_leq(usn_seq_t a, usn_seq_t b) { return (int32_t)(a - b) <= 0; }
static inline bool usn_seq_gt(usn_seq_t a, usn_seq_t b) { return (int32_t)(a - b) > 0; }
static inline bool usn_seq_geq(usn_seq_t a, usn_seq_t b) { return (int32_t)(a - b) >= 0; }
static inline usn_seq_t usn_seq_max(usn_seq_t a, usn_seq_t b) { return usn_seq_gt(a, b) ? a : b; }
static inline usn_seq_t usn_seq_min(usn_seq_t a, usn_seq_t b) { return usn_seq_lt(a, b) ? a : b; }
/* a <= x < b */
static inline bool usn_seq_in(usn_seq_t x, usn_seq_t a, usn_seq_t b)
{
	return usn_seq_leq(a, x) && usn_seq_lt(x, b);
}

#endif
