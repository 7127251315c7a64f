/* SPDX-License-Identifier: MIT */
/*
 * test-rtxq.c - the retransmission queue / SACK scoreboard: push and
 * refusals, cumulative and partial ACKs across the 2^32 wrap, Karn's rule
 * for RTT samples, SYN and FIN sequence numbers, the RFC 6675 §4 worked
 * example (IsLost, SetPipe, NextSeg after each SACK), both IsLost criteria
 * separately, D-SACK detection (RFC 2883 §4), invalid and clipped blocks
 * (RFC 2018 §4), retransmission marking and pipe, RACK marking and its
 * timeout (RFC 8985 §6.2 step 5) with the end_seq tie-break, RTO marking
 * and SACK reneging, the non-SACK head retransmission, the ring-full behaviour, and seeded random runs
 * against a per-octet reference model (exact with a roomy ring, invariants
 * and "never more SACKed than the ideal" with a tiny one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "tcp_rtxq.h"

#define MSS 1000u

/* Sequence numbers chosen so every scenario wraps through 2^32. */
#define WRAP_BASE 0xfffff000u

static void check_ok(const struct usn_rtxq *q)
{
	assert_int_equal(usn_rtxq_check(q), 0);
}

/* Segment k (1-based) of 1000 bytes from base. */
static usn_seq_t seg(usn_seq_t base, uint32_t k)
{
	return base + (k - 1) * MSS;
}

static void push_segs(struct usn_rtxq *q, usn_seq_t base, uint32_t n, uint64_t t0)
{
	uint32_t k;

	for (k = 1; k <= n; k++)
		assert_int_equal(usn_rtxq_push(q, seg(base, k), seg(base, k + 1), 0, t0 + k), 0);
}

static uint32_t sack1(struct usn_rtxq *q, usn_seq_t una, usn_seq_t s, usn_seq_t e)
{
	struct usn_tcp_sack_block b = { s, e };
	bool dsack = true;
	uint64_t newest;
	uint32_t n = usn_rtxq_sack(q, una, &b, 1, &dsack, &newest);

	assert_false(dsack);
	return n;
}

static void test_init_and_push_refusals(void **state)
{
	struct usn_rtxq q;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 0), -EINVAL);
	assert_int_equal(usn_rtxq_init(&q, 4), 0);
	check_ok(&q);
	assert_true(usn_rtxq_empty(&q));
	assert_null(usn_rtxq_at(&q, 0));
	assert_int_equal(usn_rtxq_pipe(&q), 0);

	assert_int_equal(usn_rtxq_push(&q, 100, 100, 0, 1), -EINVAL);                /* empty */
	assert_int_equal(usn_rtxq_push(&q, 100, 99, 0, 1), -EINVAL);                 /* backwards */
	assert_int_equal(usn_rtxq_push(&q, 100, 200, USN_RTX_LOST, 1), -EINVAL);     /* only SYN/FIN */
	assert_int_equal(usn_rtxq_push(&q, 0, 0x80000000u, 0, 1), -EINVAL);          /* 2^31 */
	assert_int_equal(usn_rtxq_push(&q, 99, 100, USN_RTX_SYN, 1), 0);
	assert_int_equal(usn_rtxq_push(&q, 101, 200, 0, 2), -EINVAL);                /* gap */
	assert_int_equal(usn_rtxq_push(&q, 100, 200, USN_RTX_SYN, 2), -EINVAL);      /* SYN not first */
	assert_int_equal(usn_rtxq_push(&q, 100, 99 + 0x80000000u, 0, 2), -EINVAL); /* span 2^31 */
	assert_int_equal(usn_rtxq_push(&q, 100, 200, 0, 2), 0);
	assert_int_equal(usn_rtxq_push(&q, 200, 301, USN_RTX_FIN, 3), 0);
	assert_int_equal(usn_rtxq_push(&q, 301, 400, 0, 4), -EINVAL);                /* after FIN */
	check_ok(&q);
	assert_int_equal(q.count, 3);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_SYN);
	assert_int_equal(usn_rtxq_at(&q, 1)->xmits, 1);
	assert_int_equal(usn_rtxq_at(&q, 1)->first_time, 2);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, USN_RTX_FIN);
	assert_null(usn_rtxq_at(&q, 3));
	/* SYN (1) + 100 data + 100 data + FIN (1) */
	assert_int_equal(usn_rtxq_pipe(&q), 202);

	usn_rtxq_reset(&q);
	assert_true(usn_rtxq_empty(&q));
	check_ok(&q);
	assert_int_equal(usn_rtxq_push(&q, 5000, 6000, 0, 9), 0); /* anywhere after a reset */
	assert_int_equal(q.high_sacked, 5000);
	check_ok(&q);
	usn_rtxq_fini(&q);
	assert_null(q.rec);
	usn_rtxq_fini(&q); /* idempotent */
}

/* Queues sharing a cache: an emptied queue's first-size array goes to the
 * cache and the next queue to need one takes it; a bigger array, or one
 * beyond the cache's max, is freed (ASan checks nothing leaks). */
static void test_cache(void **state)
{
	struct usn_rtx_cache cache = {.max = 1};
	struct usn_rtxq a, b;
	uint64_t rtt;

	(void)state;
	assert_int_equal(usn_rtxq_init(&a, 64), 0);
	assert_int_equal(usn_rtxq_init(&b, 64), 0);
	a.cache = b.cache = &cache;
	assert_int_equal(usn_rtxq_push(&a, 1000, 2000, 0, 1), 0);
	struct usn_rtx_rec *first = a.rec;
	assert_non_null(first);
	assert_int_equal(usn_rtxq_ack(&a, 2000, &rtt), 1000);
	assert_null(a.rec);
	assert_int_equal(cache.n, 1);
	/* b takes it, with nothing of a's records left in its view. */
	assert_int_equal(usn_rtxq_push(&b, 7000, 7100, 0, 2), 0);
	assert_ptr_equal(b.rec, first);
	assert_int_equal(cache.n, 0);
	assert_int_equal(b.count, 1);
	assert_int_equal(usn_rtxq_at(&b, 0)->start, 7000);
	check_ok(&b);
	/* a grows past the first size: that array is not cached. */
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(usn_rtxq_push(&a, 2000 + i * 100, 2100 + i * 100, 0, 3), 0);
	assert_true(a.size > 8);
	usn_rtxq_fini(&a);
	assert_int_equal(cache.n, 0);
	/* b's goes back at fini; a second one finds the cache full. */
	usn_rtxq_fini(&b);
	assert_int_equal(cache.n, 1);
	assert_int_equal(usn_rtxq_init(&a, 64), 0);
	assert_int_equal(usn_rtxq_init(&b, 64), 0);
	a.cache = b.cache = &cache;
	assert_int_equal(usn_rtxq_push(&a, 1, 2, 0, 4), 0); /* from the cache */
	assert_int_equal(usn_rtxq_push(&b, 1, 2, 0, 4), 0); /* malloc */
	usn_rtxq_fini(&a);
	usn_rtxq_fini(&b); /* cache full: freed */
	assert_int_equal(cache.n, 1);
	usn_rtx_cache_fini(&cache);
	assert_int_equal(cache.n, 0);
	assert_null(cache.spare);
}

static void test_ack_partial_across_wrap(void **state)
{
	struct usn_rtxq q;
	uint64_t rtt = 77;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 8), 0);
	/* Three segments: [fffff000, fffff3e8) [fffff3e8, fffff7d0) [fffff7d0, fffffbb8)
	 * and three more, the fifth one crossing 2^32. */
	push_segs(&q, WRAP_BASE, 6, 1000);
	assert_int_equal(usn_rtxq_pipe(&q), 6000);
	assert_int_equal(usn_rtxq_at(&q, 4)->start, 0xffffffa0u);
	assert_int_equal(usn_rtxq_at(&q, 4)->end, 0x00000388u);

	/* Old and duplicate ACKs change nothing. */
	assert_int_equal(usn_rtxq_ack(&q, WRAP_BASE, &rtt), 0);
	assert_int_equal(rtt, 0);
	assert_int_equal(usn_rtxq_ack(&q, WRAP_BASE - 5, &rtt), 0);
	assert_int_equal(q.count, 6);

	/* A partial ACK inside segment 1: trimmed, no RTT (not fully acked). */
	assert_int_equal(usn_rtxq_ack(&q, WRAP_BASE + 300, &rtt), 300);
	assert_int_equal(rtt, 0);
	assert_int_equal(q.count, 6);
	assert_int_equal(usn_rtxq_at(&q, 0)->start, WRAP_BASE + 300);
	assert_int_equal(usn_rtxq_pipe(&q), 5700);
	check_ok(&q);

	/* Up to the middle of segment 5, past 2^32: segments 1..4 go; the
	 * newest of them (segment 4, sent at 1004) gives the sample. */
	assert_int_equal(usn_rtxq_ack(&q, 0x00000010u, &rtt), 700 + 3000 + 0x70);
	assert_int_equal(rtt, 1004);
	assert_int_equal(q.count, 2);
	assert_int_equal(usn_rtxq_at(&q, 0)->start, 0x10);
	assert_int_equal(usn_rtxq_pipe(&q), 2000 - 0x70);
	assert_int_equal(q.high_sacked, 0x10);
	check_ok(&q);

	/* Beyond SND.NXT: taken as everything (clamped). */
	assert_int_equal(usn_rtxq_ack(&q, 0x00100000u, &rtt), 2000 - 0x70);
	assert_int_equal(rtt, 1006);
	assert_true(usn_rtxq_empty(&q));
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	check_ok(&q);
	/* NULL out-parameter allowed. */
	assert_int_equal(usn_rtxq_ack(&q, 0x00200000u, NULL), 0);
	usn_rtxq_fini(&q);
}

static void test_ack_rtt_karn(void **state)
{
	struct usn_rtxq q;
	uint64_t rtt = 0;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 8), 0);
	push_segs(&q, 0, 4, 100); /* sent at 101..104 */
	/* Segment 4 retransmitted: an ACK covering only it and older ones
	 * takes the sample from segment 3, the newest sent once. */
	usn_rtxq_mark_retransmitted(&q, seg(0, 4), seg(0, 5), 500);
	assert_int_equal(usn_rtxq_at(&q, 3)->xmits, 2);
	assert_int_equal(usn_rtxq_at(&q, 3)->xmit_time, 500);
	assert_int_equal(usn_rtxq_at(&q, 3)->first_time, 104);
	/* Segment 3 SACKed: delivered earlier, no sample from it either. */
	assert_int_equal(sack1(&q, 0, seg(0, 3), seg(0, 4)), 1000);
	assert_int_equal(usn_rtxq_ack(&q, seg(0, 5), &rtt), 4000);
	assert_int_equal(rtt, 102);
	check_ok(&q);

	/* Only a retransmitted record acked: Karn says no sample. */
	assert_int_equal(usn_rtxq_push(&q, 4000, 5000, 0, 600), 0);
	usn_rtxq_mark_retransmitted(&q, 4000, 5000, 700);
	assert_int_equal(usn_rtxq_ack(&q, 5000, &rtt), 1000);
	assert_int_equal(rtt, 0);
	usn_rtxq_fini(&q);
}

static void test_syn_fin_occupy_one(void **state)
{
	struct usn_rtxq q;
	uint64_t rtt;
	usn_seq_t s, e;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 8), 0);
	/* SYN with 10 bytes of data (TFO-like): [ffffffff, 0000000a). */
	assert_int_equal(usn_rtxq_push(&q, 0xffffffffu, 0x0000000bu, USN_RTX_SYN, 10), 0);
	assert_int_equal(usn_rtxq_pipe(&q), 12);
	/* The SYN alone acked: the SYN bit leaves the trimmed record. */
	assert_int_equal(usn_rtxq_ack(&q, 0, &rtt), 1);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, 0);
	check_ok(&q);
	/* Data then FIN: [b, 15) carries 9 bytes and the FIN. */
	assert_int_equal(usn_rtxq_push(&q, 0x0b, 0x15, USN_RTX_FIN, 11), 0);
	assert_int_equal(usn_rtxq_pipe(&q), 11 + 10);
	/* Split the FIN record at a retransmission edge: the FIN stays last. */
	usn_rtxq_mark_lost_rack(&q, 100, 0x15, 0, 0, 100, &rtt);
	assert_int_equal(usn_rtxq_next_lost(&q, 4, &s, &e), 0);
	assert_int_equal(s, 0);
	assert_int_equal(e, 4);
	usn_rtxq_mark_retransmitted(&q, 0x0b, 0x0f, 120);
	assert_int_equal(usn_rtxq_at(&q, 1)->flags, USN_RTX_LOST | USN_RTX_RETRANS);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, USN_RTX_LOST | USN_RTX_FIN);
	assert_int_equal(usn_rtxq_at(&q, 2)->start, 0x0f);
	check_ok(&q);
	/* The FIN's number acked: everything gone. */
	assert_int_equal(usn_rtxq_ack(&q, 0x15, &rtt), 0x15);
	assert_true(usn_rtxq_empty(&q));
	usn_rtxq_fini(&q);
}

/*
 * RFC 6675 §4 worked by hand: 10 segments of 1000 bytes, 2 and 3 lost,
 * the ACK of segment 1 then SACKs for 4, 5, ... 10 one at a time.
 * DupThresh 3, SMSS 1000. IsLost(2) needs 3 SACKed segments above, or more
 * than 2000 SACKed bytes: both first hold when segment 6 is SACKed.
 * Pipe (SetPipe): octets neither SACKed nor lost, plus retransmitted ones.
 */
static void test_rfc6675_worked_example(void **state)
{
	/* pipe after the SACK for segment k (before any retransmission) */
	static const uint32_t pipe_after[11] = { 0, 0, 0, 0, 8000, 7000, 4000, 3000, 2000, 1000, 0 };
	struct usn_rtxq q;
	usn_seq_t una = seg(WRAP_BASE, 2), s, e;
	uint64_t rtt;
	uint32_t k;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 32), 0);
	push_segs(&q, WRAP_BASE, 10, 0);
	assert_int_equal(usn_rtxq_ack(&q, una, &rtt), 1000);
	assert_int_equal(rtt, 1);
	assert_int_equal(usn_rtxq_pipe(&q), 9000);
	assert_false(usn_rtxq_is_lost(&q, seg(WRAP_BASE, 2), MSS, 3));

	for (k = 4; k <= 10; k++) {
		assert_int_equal(sack1(&q, una, seg(WRAP_BASE, 4), seg(WRAP_BASE, k + 1)), 1000);
		assert_int_equal(q.high_sacked, seg(WRAP_BASE, k + 1));
		check_ok(&q);
		/* IsLost(2) and IsLost(3) turn true exactly at segment 6. */
		assert_int_equal(usn_rtxq_is_lost(&q, seg(WRAP_BASE, 2), MSS, 3), k >= 6);
		assert_int_equal(usn_rtxq_is_lost(&q, seg(WRAP_BASE, 3) + 999, MSS, 3), k >= 6);
		/* Nothing above the highest SACK is ever lost. */
		assert_false(usn_rtxq_is_lost(&q, seg(WRAP_BASE, k + 1), MSS, 3));
		if (k < 6) {
			assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 0);
			assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), -ENOENT);
			assert_int_equal(usn_rtxq_pipe(&q), pipe_after[k]);
		} else if (k == 6) {
			assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 2000);
			assert_int_equal(q.lost_bytes, 2000);
			assert_int_equal(usn_rtxq_pipe(&q), 4000); /* segments 7..10 */
			/* NextSeg: segment 2, then 3, then nothing. */
			assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
			assert_int_equal(s, seg(WRAP_BASE, 2));
			assert_int_equal(e, seg(WRAP_BASE, 3));
			usn_rtxq_mark_retransmitted(&q, s, e, 100);
			assert_int_equal(usn_rtxq_pipe(&q), 5000);
			assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
			assert_int_equal(s, seg(WRAP_BASE, 3));
			assert_int_equal(e, seg(WRAP_BASE, 4));
			usn_rtxq_mark_retransmitted(&q, s, e, 101);
			assert_int_equal(usn_rtxq_pipe(&q), 6000);
			assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), -ENOENT);
			assert_int_equal(q.lost_bytes, 2000);
			assert_int_equal(q.retrans_bytes, 2000);
			/* Marking again: nothing new. */
			assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 0);
			check_ok(&q);
		} else {
			/* 7..10 leave the network, the two retransmissions stay. */
			assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 0);
			assert_int_equal(usn_rtxq_pipe(&q), pipe_after[k] + 2000);
		}
	}
	/* The retransmission of 2 arrives: the ACK covers 2 only (3 still
	 * missing). Karn: no sample from a retransmitted segment. */
	assert_int_equal(usn_rtxq_ack(&q, seg(WRAP_BASE, 3), &rtt), 1000);
	assert_int_equal(rtt, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 1000);
	/* Then 3: the cumulative ACK jumps over the SACKed 4..10. */
	assert_int_equal(usn_rtxq_ack(&q, seg(WRAP_BASE, 11), &rtt), 8000);
	assert_int_equal(rtt, 0);
	assert_true(usn_rtxq_empty(&q));
	assert_false(usn_rtxq_any_sacked(&q));
	assert_int_equal(q.sacked_bytes + q.lost_bytes + q.retrans_bytes, 0);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

/* The two IsLost criteria, each on its own. */
static void test_islost_criteria_apart(void **state)
{
	struct usn_rtxq q;
	uint32_t k;

	(void)state;
	/* Count: 500-byte segments with SMSS 1000: 3 SACKed segments (1500
	 * bytes, not more than 2000) make seg 1 lost by count alone. */
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	for (k = 0; k < 6; k++)
		assert_int_equal(usn_rtxq_push(&q, k * 500, k * 500 + 500, 0, k), 0);
	assert_int_equal(sack1(&q, 0, 500, 1000), 500);
	assert_int_equal(sack1(&q, 0, 1500, 2000), 500);
	assert_false(usn_rtxq_is_lost(&q, 0, MSS, 3));
	assert_int_equal(sack1(&q, 0, 2500, 3000), 500);
	assert_true(usn_rtxq_is_lost(&q, 0, MSS, 3));    /* 3 discontiguous SACKed segments */
	assert_false(usn_rtxq_is_lost(&q, 1000, MSS, 3)); /* only 2 above */
	assert_true(usn_rtxq_is_lost(&q, 1000, MSS, 2));
	assert_false(usn_rtxq_is_lost(&q, 1000, 1000000, 3));
	/* Adjacent SACKed segments count one each (records as segments). */
	assert_int_equal(sack1(&q, 0, 2000, 2500), 500);
	assert_true(usn_rtxq_is_lost(&q, 1000, MSS, 3));
	/* 6675 marking: both holes, [0, 500) and [1000, 1500), have three
	 * SACKed segments above them. */
	assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 1000);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 1)->flags, USN_RTX_SACKED);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 5)->flags, USN_RTX_SACKED);
	check_ok(&q);
	usn_rtxq_fini(&q);

	/* Bytes: one 3000-byte TSO record SACKed is one segment, but 3000 >
	 * (3 - 1) * 1000 bytes. Exactly 2000 bytes is not "more than". */
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	assert_int_equal(usn_rtxq_push(&q, 0, 1000, 0, 1), 0);
	assert_int_equal(usn_rtxq_push(&q, 1000, 3000, 0, 2), 0);
	assert_int_equal(sack1(&q, 0, 1000, 3000), 2000);
	assert_false(usn_rtxq_is_lost(&q, 0, MSS, 3));
	assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 0);
	assert_int_equal(usn_rtxq_push(&q, 3000, 6000, 0, 3), 0);
	assert_int_equal(sack1(&q, 0, 3000, 6000), 3000);
	assert_true(usn_rtxq_is_lost(&q, 0, MSS, 3));
	/* Octet granularity: from octet 1000 upwards 4999 octets are above
	 * 1000; from 3999, 2000 octets (not more than 2000) + 0 segments. */
	assert_true(usn_rtxq_is_lost(&q, 1000, MSS, 3));
	assert_true(usn_rtxq_is_lost(&q, 3998, MSS, 3));  /* 2001 octets above */
	assert_false(usn_rtxq_is_lost(&q, 3999, MSS, 3)); /* 2000 octets above */
	/* dupthresh 0 is taken as 1: any SACKed octet above. */
	assert_true(usn_rtxq_is_lost(&q, 5998, MSS, 0));
	assert_false(usn_rtxq_is_lost(&q, 5999, MSS, 0));
	assert_int_equal(usn_rtxq_mark_lost_6675(&q, MSS, 3), 1000);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

static void test_dsack_detected_not_marked(void **state)
{
	struct usn_rtxq q;
	struct usn_tcp_sack_block b[3];
	bool dsack = false;
	uint64_t newest = 1;
	usn_seq_t newest_end = 0;
	usn_seq_t una = seg(WRAP_BASE, 3);

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	push_segs(&q, WRAP_BASE, 8, 10);
	assert_int_equal(usn_rtxq_ack(&q, una, NULL), 2000);

	/* Below SND.UNA: a D-SACK; the second block is an ordinary one. */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 1), seg(WRAP_BASE, 2) };
	b[1] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 5), seg(WRAP_BASE, 6) };
	assert_int_equal(usn_rtxq_sack_ex(&q, una, b, 2, &dsack, &newest, &newest_end), 1000);
	assert_true(dsack);
	assert_int_equal(newest, 15);
	assert_int_equal(newest_end, seg(WRAP_BASE, 6));
	assert_int_equal(q.sacked_bytes, 1000);
	check_ok(&q);

	/* Within the second block: a D-SACK of data above SND.UNA; marks
	 * nothing by itself (the second block is already SACKed). */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 5) + 100, seg(WRAP_BASE, 5) + 600 };
	b[1] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 5), seg(WRAP_BASE, 6) };
	assert_int_equal(usn_rtxq_sack(&q, una, b, 2, &dsack, &newest), 0);
	assert_true(dsack);
	assert_int_equal(newest, 0);
	assert_int_equal(q.count, 6); /* no split at the D-SACK's edges */
	/* Equal to the second block: contained, so a D-SACK too. */
	b[0] = b[1];
	assert_int_equal(usn_rtxq_sack(&q, una, b, 2, &dsack, &newest), 0);
	assert_true(dsack);

	/* The same first block without a containing second block: an
	 * ordinary SACK, splitting segment 4 at its edges. */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 4) + 100, seg(WRAP_BASE, 4) + 600 };
	b[1] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 5), seg(WRAP_BASE, 6) };
	assert_int_equal(usn_rtxq_sack(&q, una, b, 2, &dsack, &newest), 500);
	assert_false(dsack);
	assert_int_equal(newest, 14);
	assert_int_equal(q.count, 8);
	assert_int_equal(usn_rtxq_at(&q, 1)->end, seg(WRAP_BASE, 4) + 100);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, USN_RTX_SACKED);
	check_ok(&q);

	/* A D-SACK straddling SND.UNA (starts below): reported, not used. */
	b[0] = (struct usn_tcp_sack_block){ una - 10, una + 10 };
	assert_int_equal(usn_rtxq_sack(&q, una, b, 1, &dsack, NULL), 0);
	assert_true(dsack);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, 0);
	/* NULL out-parameters allowed. */
	assert_int_equal(usn_rtxq_sack(&q, una, b, 1, NULL, NULL), 0);
	usn_rtxq_fini(&q);
}

static void test_invalid_blocks_ignored_or_clipped(void **state)
{
	struct usn_rtxq q;
	struct usn_tcp_sack_block b[4];
	bool dsack;
	uint64_t newest;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	push_segs(&q, WRAP_BASE, 4, 10); /* [base, base + 4000) */
	/* start == end, start > end, entirely above SND.NXT, entirely below
	 * SND.UNA (not first, so not a D-SACK): all ignored. */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 2), seg(WRAP_BASE, 2) };
	b[1] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 3), seg(WRAP_BASE, 2) };
	b[2] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 6), seg(WRAP_BASE, 7) };
	b[3] = (struct usn_tcp_sack_block){ WRAP_BASE - 3000, WRAP_BASE - 2000 };
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, 4, &dsack, &newest), 0);
	assert_false(dsack);
	assert_int_equal(newest, 0);
	assert_int_equal(q.count, 4);
	assert_false(usn_rtxq_any_sacked(&q));
	/* n of 0 or less: nothing. */
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, 0, &dsack, &newest), 0);
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, -1, &dsack, &newest), 0);
	check_ok(&q);

	/* Partly above SND.NXT: clipped to it. */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 4), seg(WRAP_BASE, 6) };
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, 1, &dsack, &newest), 1000);
	assert_int_equal(q.high_sacked, seg(WRAP_BASE, 5));
	/* Second block partly below SND.UNA: clipped (only a first block
	 * can be a D-SACK). */
	b[0] = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 3), seg(WRAP_BASE, 3) + 10 };
	b[1] = (struct usn_tcp_sack_block){ WRAP_BASE - 500, WRAP_BASE + 500 };
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, 2, &dsack, &newest), 10 + 500);
	assert_false(dsack);
	assert_int_equal(usn_rtxq_at(&q, 0)->end, WRAP_BASE + 500);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_SACKED);
	/* Re-SACKing SACKed data: nothing new, no split. */
	b[0] = (struct usn_tcp_sack_block){ WRAP_BASE + 100, WRAP_BASE + 200 };
	assert_int_equal(usn_rtxq_sack(&q, WRAP_BASE, b, 1, &dsack, &newest), 0);
	assert_int_equal(newest, 0);
	assert_int_equal(q.count, 6);
	assert_int_equal(q.sacked_bytes, 1510);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

static void test_retransmit_marking_and_pipe(void **state)
{
	struct usn_rtxq q;
	usn_seq_t s, e;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	/* One 4000-byte record (as TSO sends it). */
	assert_int_equal(usn_rtxq_push(&q, WRAP_BASE, WRAP_BASE + 4000, 0, 5), 0);
	usn_rtxq_mark_all_lost(&q);
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	/* NextSeg hands out one SMSS at a time, splitting as it is resent. */
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, WRAP_BASE);
	assert_int_equal(e, WRAP_BASE + 1000);
	usn_rtxq_mark_retransmitted(&q, s, e, 50);
	assert_int_equal(q.count, 2);
	assert_int_equal(usn_rtxq_pipe(&q), 1000);
	assert_int_equal(usn_rtxq_next_lost(&q, 0, &s, &e), 0); /* 0: whole record */
	assert_int_equal(s, WRAP_BASE + 1000);
	assert_int_equal(e, WRAP_BASE + 4000);
	/* A range in the middle: split at both edges. */
	usn_rtxq_mark_retransmitted(&q, WRAP_BASE + 2000, WRAP_BASE + 2500, 60);
	assert_int_equal(q.count, 4);
	assert_int_equal(usn_rtxq_at(&q, 2)->start, WRAP_BASE + 2000);
	assert_int_equal(usn_rtxq_at(&q, 2)->end, WRAP_BASE + 2500);
	assert_int_equal(usn_rtxq_at(&q, 2)->xmits, 2);
	assert_int_equal(usn_rtxq_at(&q, 2)->xmit_time, 60);
	assert_int_equal(usn_rtxq_at(&q, 1)->xmits, 1);
	assert_int_equal(usn_rtxq_pipe(&q), 1500);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, WRAP_BASE + 1000);
	assert_int_equal(e, WRAP_BASE + 2000);
	/* A range spanning records, clipped at both ends of the queue. */
	usn_rtxq_mark_retransmitted(&q, WRAP_BASE - 100, WRAP_BASE + 9000, 70);
	assert_int_equal(q.count, 4);
	assert_int_equal(usn_rtxq_pipe(&q), 4000); /* lost + resent: once each */
	assert_int_equal(usn_rtxq_at(&q, 0)->xmits, 3);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), -ENOENT);
	check_ok(&q);
	/* Outside the queue: nothing. */
	usn_rtxq_mark_retransmitted(&q, WRAP_BASE + 5000, WRAP_BASE + 6000, 80);
	assert_int_equal(usn_rtxq_at(&q, 3)->xmit_time, 70);
	usn_rtxq_fini(&q);

	/* A record not deemed lost, retransmitted (a probe): both copies
	 * count, RFC 6675 §4 SetPipe (a) and (b). */
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	push_segs(&q, 0, 3, 0);
	usn_rtxq_mark_retransmitted(&q, seg(0, 3), seg(0, 4), 9);
	assert_int_equal(usn_rtxq_pipe(&q), 4000);
	assert_int_equal(q.retrans_bytes, 1000);
	assert_int_equal(q.lost_bytes, 0);
	/* An empty block changes nothing; an RTO then deems the probe lost
	 * with everything else. */
	assert_int_equal(sack1(&q, 0, seg(0, 4), seg(0, 4)), 0);
	assert_int_equal(usn_rtxq_pipe(&q), 4000);
	usn_rtxq_mark_all_lost(&q);
	assert_int_equal(q.retrans_bytes, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

/*
 * RFC 8985 §6.2 step 5 by hand: A..E sent at 100, 200, 300, 320, 400;
 * E SACKed at now = 1400, so RACK.xmit_ts = 400 and RACK.rtt = 1000;
 * reo_wnd = 150. Deadlines xmit + 1150: A 1250, B 1350 (lost), C 1450,
 * D 1470 (remaining 50 and 70: the timeout is 50).
 */
static void test_rack_marking_and_timeout(void **state)
{
	static const uint64_t t[5] = { 100, 200, 300, 320, 400 };
	struct usn_rtxq q;
	uint64_t newest, timeout = 1;
	usn_seq_t newest_end = 0, s, e;
	struct usn_tcp_sack_block b;
	uint32_t k;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	for (k = 0; k < 5; k++)
		assert_int_equal(usn_rtxq_push(&q, seg(WRAP_BASE, k + 1), seg(WRAP_BASE, k + 2), 0, t[k]), 0);
	b = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 5), seg(WRAP_BASE, 6) };
	assert_int_equal(usn_rtxq_sack_ex(&q, WRAP_BASE, &b, 1, NULL, &newest, &newest_end), 1000);
	assert_int_equal(newest, 400);
	assert_int_equal(newest_end, seg(WRAP_BASE, 6));

	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 150, 1000, 1400, &timeout), 2000);
	assert_int_equal(timeout, 50);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 1)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 2000);
	check_ok(&q);
	/* One tick early: nothing more. */
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 150, 1000, 1449, &timeout), 0);
	assert_int_equal(timeout, 1);
	/* The timer fires at 1450: C is lost (remaining 0), D has 20 left. */
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 150, 1000, 1450, &timeout), 1000);
	assert_int_equal(timeout, 20);
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 150, 1000, 1470, &timeout), 1000);
	assert_int_equal(timeout, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 0);

	/* A retransmitted at 1500; F sent at 1600 and SACKed at 1700
	 * (RACK.rtt 100, reo_wnd 0): A's retransmission, sent before F,
	 * with 1500 + 100 <= 1700, is lost again and due once more. B (lost,
	 * not resent) is never "sent before" anything. */
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, WRAP_BASE);
	usn_rtxq_mark_retransmitted(&q, s, e, 1500);
	assert_int_equal(usn_rtxq_pipe(&q), 1000);
	assert_int_equal(usn_rtxq_push(&q, seg(WRAP_BASE, 6), seg(WRAP_BASE, 7), 0, 1600), 0);
	b = (struct usn_tcp_sack_block){ seg(WRAP_BASE, 6), seg(WRAP_BASE, 7) };
	assert_int_equal(usn_rtxq_sack_ex(&q, WRAP_BASE, &b, 1, NULL, &newest, &newest_end), 1000);
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 0, 100, 1700, &timeout), 1000);
	assert_int_equal(timeout, 0);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 0)->xmits, 2);
	assert_int_equal(q.retrans_bytes, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, WRAP_BASE);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

/* RACK_sent_after's tie-break: X, Y, Z sent at the same time (one burst);
 * Y SACKed. X ends below RACK.end_seq, so it was "sent before"; Z ends
 * above, so it was not, and arms no timer. */
static void test_rack_same_time_tie_break(void **state)
{
	struct usn_rtxq q;
	uint64_t newest, timeout = 9;
	usn_seq_t newest_end;
	struct usn_tcp_sack_block b = { 1000, 2000 };

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 8), 0);
	assert_int_equal(usn_rtxq_push(&q, 0, 1000, 0, 500), 0);
	assert_int_equal(usn_rtxq_push(&q, 1000, 2000, 0, 500), 0);
	assert_int_equal(usn_rtxq_push(&q, 2000, 3000, 0, 500), 0);
	assert_int_equal(usn_rtxq_sack_ex(&q, 0, &b, 1, NULL, &newest, &newest_end), 1000);
	assert_int_equal(newest, 500);
	assert_int_equal(newest_end, 2000);
	/* Not yet: remaining = 500 + 100 + 50 - 600 = 50. */
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 50, 100, 600, &timeout), 0);
	assert_int_equal(timeout, 50);
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, newest, newest_end, 50, 100, 650, &timeout), 1000);
	assert_int_equal(timeout, 0);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, 0);
	/* With RACK.end_seq at Z's end, Z is not sent before itself. */
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, 500, 3000, 0, 0, 10000, &timeout), 0);
	assert_int_equal(usn_rtxq_at(&q, 2)->flags, 0);
	/* Later segment as RACK.segment: Z goes. */
	assert_int_equal(usn_rtxq_mark_lost_rack(&q, 501, 3000, 0, 0, 10000, &timeout), 1000);
	check_ok(&q);
	usn_rtxq_fini(&q);
}

static void test_mark_all_lost_and_clear_sacks(void **state)
{
	struct usn_rtxq q;
	usn_seq_t s, e;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 16), 0);
	push_segs(&q, WRAP_BASE, 5, 0);
	assert_int_equal(sack1(&q, WRAP_BASE, seg(WRAP_BASE, 2), seg(WRAP_BASE, 3)), 1000);
	assert_int_equal(sack1(&q, WRAP_BASE, seg(WRAP_BASE, 4), seg(WRAP_BASE, 5)), 1000);
	usn_rtxq_mark_retransmitted(&q, seg(WRAP_BASE, 5), seg(WRAP_BASE, 6), 50);
	assert_int_equal(usn_rtxq_pipe(&q), 3000 + 1000);
	/* RTO: all un-SACKed lost, no retransmission in flight: pipe 0. */
	usn_rtxq_mark_all_lost(&q);
	assert_int_equal(q.lost_bytes, 3000);
	assert_int_equal(q.retrans_bytes, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	assert_int_equal(usn_rtxq_at(&q, 1)->flags, USN_RTX_SACKED);
	check_ok(&q);
	/* NextSeg skips the SACKed ones. */
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, seg(WRAP_BASE, 1));
	usn_rtxq_mark_retransmitted(&q, s, e, 60);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, seg(WRAP_BASE, 3));

	/* Reneging (RFC 2018 §8): SACKs forgotten; the formerly SACKed
	 * records count as in flight again, high_sacked back to SND.UNA. */
	usn_rtxq_clear_sacks(&q);
	assert_false(usn_rtxq_any_sacked(&q));
	assert_int_equal(q.sacked_bytes, 0);
	assert_int_equal(q.high_sacked, WRAP_BASE);
	assert_int_equal(usn_rtxq_pipe(&q), 1000 + 2000);
	check_ok(&q);
	/* The RFC 6675 §5.1 order: forget, then everything is lost. */
	usn_rtxq_mark_all_lost(&q);
	assert_int_equal(usn_rtxq_pipe(&q), 0);
	assert_int_equal(q.lost_bytes, 5000);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, seg(WRAP_BASE, 1));
	check_ok(&q);
	usn_rtxq_fini(&q);
}

/* Without SACK: the first unacknowledged segment is made due (RFC 5681
 * §3.2 step 2, RFC 6582 §3.2 step 3), also after it was resent once. */
static void test_mark_lost_head(void **state)
{
	struct usn_rtxq q;
	usn_seq_t s, e;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 8), 0);
	push_segs(&q, WRAP_BASE, 3, 0);
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 500), 500);
	assert_int_equal(q.count, 4);
	assert_int_equal(usn_rtxq_pipe(&q), 2500);
	assert_int_equal(usn_rtxq_next_lost(&q, MSS, &s, &e), 0);
	assert_int_equal(s, WRAP_BASE);
	assert_int_equal(e, WRAP_BASE + 500);
	usn_rtxq_mark_retransmitted(&q, s, e, 10);
	assert_int_equal(usn_rtxq_pipe(&q), 3000);
	/* A partial ACK later: resent segment due again. */
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 500), 500);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST);
	assert_int_equal(usn_rtxq_pipe(&q), 2500);
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 0), 0); /* already due */
	/* Spanning records: [500, 1000) whole, [1000, 2000) split at 1500. */
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 1500), 1000);
	assert_int_equal(q.count, 5);
	assert_int_equal(usn_rtxq_at(&q, 2)->end, WRAP_BASE + 1500);
	assert_int_equal(usn_rtxq_at(&q, 3)->flags, 0);
	assert_int_equal(usn_rtxq_pipe(&q), 1500);
	check_ok(&q);
	usn_rtxq_fini(&q);

	/* Ring full: the whole first record. */
	assert_int_equal(usn_rtxq_init(&q, 2), 0);
	push_segs(&q, 0, 2, 0);
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 100), 1000);
	assert_int_equal(q.count, 2);
	check_ok(&q);
	usn_rtxq_reset(&q);
	assert_int_equal(usn_rtxq_mark_lost_head(&q, 100), 0); /* empty */
	usn_rtxq_fini(&q);
}

/* Ring of 4: pushes refused past it, splits refused with the documented
 * conservative outcomes, and everything works again once ACKs free slots. */
static void test_ring_full(void **state)
{
	struct usn_rtxq q;
	usn_seq_t s, e;

	(void)state;
	assert_int_equal(usn_rtxq_init(&q, 4), 0);
	push_segs(&q, WRAP_BASE, 4, 0);
	assert_int_equal(usn_rtxq_push(&q, seg(WRAP_BASE, 5), seg(WRAP_BASE, 6), 0, 9), -ENOSPC);
	assert_int_equal(q.count, 4);
	/* A SACK block ending inside segment 2: no split, not SACKed. */
	assert_int_equal(sack1(&q, WRAP_BASE, seg(WRAP_BASE, 2) + 500, seg(WRAP_BASE, 3)), 0);
	assert_int_equal(sack1(&q, WRAP_BASE, seg(WRAP_BASE, 2), seg(WRAP_BASE, 2) + 500), 0);
	assert_int_equal(q.count, 4);
	assert_false(usn_rtxq_any_sacked(&q));
	check_ok(&q);
	/* A block on record edges needs no slot; a block covering segment 3
	 * whole and half of 4 SACKs 3 only. */
	assert_int_equal(sack1(&q, WRAP_BASE, seg(WRAP_BASE, 3), seg(WRAP_BASE, 4) + 500), 1000);
	assert_int_equal(q.high_sacked, seg(WRAP_BASE, 4));
	check_ok(&q);
	/* A retransmission of half of segment 1: the record is marked whole
	 * (xmits once), pipe counts all of it twice. */
	usn_rtxq_mark_all_lost(&q);
	assert_int_equal(usn_rtxq_next_lost(&q, 500, &s, &e), 0);
	assert_int_equal(e - s, 500);
	usn_rtxq_mark_retransmitted(&q, s, e, 100);
	assert_int_equal(q.count, 4);
	assert_int_equal(usn_rtxq_at(&q, 0)->xmits, 2);
	assert_int_equal(usn_rtxq_at(&q, 0)->flags, USN_RTX_LOST | USN_RTX_RETRANS);
	assert_int_equal(usn_rtxq_pipe(&q), 1000);
	/* Middle of segment 2: both edge splits refused, marked whole once. */
	usn_rtxq_mark_retransmitted(&q, seg(WRAP_BASE, 2) + 200, seg(WRAP_BASE, 2) + 700, 110);
	assert_int_equal(usn_rtxq_at(&q, 1)->xmits, 2);
	assert_int_equal(usn_rtxq_pipe(&q), 2000);
	/* NextSeg moves on rather than handing out segment 1 again. */
	assert_int_equal(usn_rtxq_next_lost(&q, 500, &s, &e), 0);
	assert_int_equal(s, seg(WRAP_BASE, 4));
	check_ok(&q);
	/* A partial ACK needs no slot either. */
	assert_int_equal(usn_rtxq_ack(&q, WRAP_BASE + 300, NULL), 300);
	assert_int_equal(q.count, 4);
	check_ok(&q);
	/* A full ACK of segment 1 frees one slot: splits work again. */
	assert_int_equal(usn_rtxq_ack(&q, seg(WRAP_BASE, 2), NULL), 700);
	assert_int_equal(sack1(&q, seg(WRAP_BASE, 2), seg(WRAP_BASE, 4) + 500, seg(WRAP_BASE, 5)), 500);
	assert_int_equal(q.count, 4);
	assert_int_equal(usn_rtxq_at(&q, 3)->start, seg(WRAP_BASE, 4) + 500);
	assert_int_equal(q.high_sacked, seg(WRAP_BASE, 5));
	check_ok(&q);
	usn_rtxq_fini(&q);
}

/* ---- randomised runs against a per-octet reference model ---- */

#define MODEL_W 8192u   /* octets the model can hold (power of two) */
#define MAX_WIN 3000u   /* most octets outstanding */
#define MB_SACKED 1u
#define MB_LOST 2u
#define MB_RETRANS 4u

struct model {
	usn_seq_t una, nxt;
	uint8_t flags[MODEL_W];
	bool bound[MODEL_W];      /* a record starts at this octet */
	bool ideal_sacked[MODEL_W]; /* SACKed per the blocks alone (for the tiny ring) */
	uint64_t xmit[MODEL_W];
	uint32_t xmits[MODEL_W];
};

struct run {
	struct usn_rtxq q;
	struct model *m;
	struct usn_rand rnd;
	uint64_t now;
	bool exact;
	uint32_t step;
};

static uint32_t mi(usn_seq_t seq)
{
	return seq & (MODEL_W - 1);
}

static uint32_t m_win(const struct model *m)
{
	return m->nxt - m->una;
}

/* End of the record holding octet seq: the next record start, or SND.NXT. */
static usn_seq_t m_rec_end(const struct model *m, usn_seq_t seq)
{
	usn_seq_t p;

	for (p = seq + 1; p != m->nxt; p++)
		if (m->bound[mi(p)])
			return p;
	return m->nxt;
}

static void m_bound(struct model *m, usn_seq_t seq)
{
	if (usn_seq_lt(m->una, seq) && usn_seq_lt(seq, m->nxt))
		m->bound[mi(seq)] = true;
}

static void run_compare(struct run *r)
{
	struct model *m = r->m;
	uint32_t i = 0, sacked = 0, lost = 0, retrans = 0, pipe = 0, nrec = 0;
	usn_seq_t p, high = m->una;
	bool any = false;
	int rc = usn_rtxq_check(&r->q);

	if (rc != 0)
		fail_msg("step %u: usn_rtxq_check() = %d", r->step, rc);
	if (!r->exact) {
		/* Tiny ring: never more SACKed than the blocks say. */
		for (i = 0; i < r->q.count; i++) {
			const struct usn_rtx_rec *rec = usn_rtxq_at(&r->q, i);

			if (!(rec->flags & USN_RTX_SACKED))
				continue;
			for (p = rec->start; p != rec->end; p++)
				if (!m->ideal_sacked[mi(p)])
					fail_msg("step %u: octet %u SACKed without a block", r->step, p);
		}
		return;
	}
	for (p = m->una; p != m->nxt; p++) {
		uint8_t f = m->flags[mi(p)];

		if (f & MB_SACKED) {
			sacked++;
			high = p + 1;
			any = true;
		} else {
			lost += !!(f & MB_LOST);
			retrans += !!(f & MB_RETRANS);
			pipe += !(f & MB_LOST) + !!(f & MB_RETRANS);
		}
		if (m->bound[mi(p)] || p == m->una) {
			const struct usn_rtx_rec *rec = usn_rtxq_at(&r->q, nrec++);
			uint32_t want = (f & MB_SACKED ? USN_RTX_SACKED : 0) | (f & MB_LOST ? USN_RTX_LOST : 0) |
					(f & MB_RETRANS ? USN_RTX_RETRANS : 0);

			if (!rec || rec->start != p || rec->end != m_rec_end(m, p))
				fail_msg("step %u: record %u does not start at %u", r->step, nrec - 1, p);
			if (rec->flags != want || rec->xmit_time != m->xmit[mi(p)] || rec->xmits != m->xmits[mi(p)])
				fail_msg("step %u: record %u at %u: flags %x/%x xmit %lu/%lu xmits %u/%u", r->step,
					 nrec - 1, p, rec->flags, want, (unsigned long)rec->xmit_time,
					 (unsigned long)m->xmit[mi(p)], rec->xmits, m->xmits[mi(p)]);
		}
	}
	assert_int_equal(r->q.count, nrec);
	assert_int_equal(r->q.sacked_bytes, sacked);
	assert_int_equal(r->q.lost_bytes, lost);
	assert_int_equal(r->q.retrans_bytes, retrans);
	assert_int_equal(usn_rtxq_pipe(&r->q), pipe);
	assert_int_equal(usn_rtxq_any_sacked(&r->q), any);
	if (m->una != m->nxt)
		assert_int_equal(r->q.high_sacked, high);
}

static void op_push(struct run *r)
{
	struct model *m = r->m;
	uint32_t len = 1 + (uint32_t)usn_rand_below(&r->rnd, 300);
	usn_seq_t p;
	int rc;

	if (m_win(m) + len > MAX_WIN)
		return;
	rc = usn_rtxq_push(&r->q, m->nxt, m->nxt + len, 0, r->now);
	if (rc == -ENOSPC && !r->exact) {
		assert_int_equal(r->q.count, r->q.cap);
		return;
	}
	assert_int_equal(rc, 0);
	for (p = m->nxt; p != m->nxt + len; p++) {
		m->flags[mi(p)] = 0;
		m->bound[mi(p)] = p == m->nxt;
		m->ideal_sacked[mi(p)] = false;
		m->xmit[mi(p)] = r->now;
		m->xmits[mi(p)] = 1;
	}
	m->nxt += len;
}

static void op_ack(struct run *r)
{
	struct model *m = r->m;
	usn_seq_t ack, p, rec_start;
	uint64_t rtt = 1, want_rtt = 0;
	uint32_t got;

	/* Mostly a little of the window, else anywhere in it, sometimes
	 * old, sometimes beyond SND.NXT. */
	if (usn_rand_below(&r->rnd, 10) < 7)
		ack = m->una + (uint32_t)usn_rand_below(&r->rnd, m_win(m) / 5 + 2);
	else
		ack = m->una - 20 + (uint32_t)usn_rand_below(&r->rnd, m_win(m) + 60);
	if (usn_seq_lt(ack, m->una))
		ack = m->una - (uint32_t)usn_rand_below(&r->rnd, 20);
	got = usn_rtxq_ack(&r->q, ack, &rtt);
	if (usn_seq_lt(ack, m->una))
		ack = m->una;
	if (usn_seq_gt(ack, m->nxt))
		ack = m->nxt;
	assert_int_equal(got, ack - m->una);
	if (!r->exact) {
		m->una = ack;
		return;
	}
	/* Karn: the newest record fully acked, sent once, not SACKed. */
	for (rec_start = m->una; rec_start != ack; rec_start = p) {
		p = m_rec_end(m, rec_start);
		if (usn_seq_gt(p, ack))
			break;
		if (m->xmits[mi(rec_start)] == 1 && !(m->flags[mi(rec_start)] & MB_SACKED))
			want_rtt = m->xmit[mi(rec_start)];
	}
	assert_int_equal(rtt, want_rtt);
	m->una = ack;
	if (ack != m->nxt)
		m->bound[mi(ack)] = true;
}

static void random_block(struct run *r, struct usn_tcp_sack_block *b)
{
	struct model *m = r->m;
	uint32_t span = m_win(m) + 400;

	b->start = m->una - 200 + (uint32_t)usn_rand_below(&r->rnd, span);
	if (usn_rand_below(&r->rnd, 10) == 0)
		b->end = b->start - (uint32_t)usn_rand_below(&r->rnd, 50); /* invalid */
	else
		b->end = b->start + 1 + (uint32_t)usn_rand_below(&r->rnd, 600);
}

static void op_sack(struct run *r)
{
	struct model *m = r->m;
	struct usn_tcp_sack_block b[4];
	int n = 1 + (int)usn_rand_below(&r->rnd, 4), k;
	bool dsack, want_dsack = false, found = false;
	uint64_t newest = 7, want_newest = 0;
	usn_seq_t newest_end = 0, want_end = 0, p;
	uint32_t got, want = 0;
	uint8_t *newly;

	for (k = 0; k < n; k++)
		random_block(r, &b[k]);
	/* Sometimes a D-SACK inside the second block. */
	if (n >= 2 && usn_rand_below(&r->rnd, 4) == 0 && usn_seq_lt(b[1].start, b[1].end)) {
		b[0].start = b[1].start;
		b[0].end = b[1].start + 1 + (uint32_t)usn_rand_below(&r->rnd, b[1].end - b[1].start);
	}
	got = usn_rtxq_sack_ex(&r->q, m->una, b, n, &dsack, &newest, &newest_end);

	/* RFC 2883 §4 by the book. */
	if (usn_seq_lt(b[0].start, b[0].end) &&
	    (usn_seq_lt(b[0].start, m->una) || (n >= 2 && usn_seq_lt(b[1].start, b[1].end) &&
						usn_seq_geq(b[0].start, b[1].start) && usn_seq_leq(b[0].end, b[1].end))))
		want_dsack = true;
	assert_int_equal(dsack, want_dsack);

	newly = calloc(MODEL_W, 1);
	assert_non_null(newly);
	for (k = want_dsack ? 1 : 0; k < n; k++) {
		usn_seq_t s = b[k].start, e = b[k].end;

		if (!usn_seq_lt(s, e))
			continue;
		s = usn_seq_max(s, m->una);
		e = usn_seq_min(e, m->nxt);
		if (!usn_seq_lt(s, e))
			continue;
		for (p = s; p != e; p++)
			m->ideal_sacked[mi(p)] = true;
		/* Splits happen at edges inside records not SACKED. */
		if (!(m->flags[mi(s)] & MB_SACKED))
			m_bound(m, s);
		if (e != m->nxt && !(m->flags[mi(e)] & MB_SACKED))
			m_bound(m, e);
		for (p = s; p != e; p++) {
			if (m->flags[mi(p)] & MB_SACKED)
				continue;
			m->flags[mi(p)] |= MB_SACKED;
			newly[mi(p)] = 1;
			want++;
		}
	}
	if (r->exact) {
		assert_int_equal(got, want);
		usn_seq_t end = m->una;

		for (p = m->una; p != m->nxt; p++) {
			if (p == m->una || m->bound[mi(p)])
				end = m_rec_end(m, p);
			if (!newly[mi(p)])
				continue;
			if (!found || m->xmit[mi(p)] > want_newest ||
			    (m->xmit[mi(p)] == want_newest && usn_seq_gt(end, want_end))) {
				want_newest = m->xmit[mi(p)];
				want_end = end;
				found = true;
			}
		}
		assert_int_equal(newest, want_newest);
		if (found)
			assert_int_equal(newest_end, want_end);
	}
	free(newly);
}

static void op_retransmit(struct run *r)
{
	struct model *m = r->m;
	usn_seq_t s, e, p;
	uint32_t max_len = (uint32_t)usn_rand_below(&r->rnd, 400);
	int rc = usn_rtxq_next_lost(&r->q, max_len, &s, &e);

	if (r->exact) {
		/* The model's NextSeg. */
		for (p = m->una; p != m->nxt; p++)
			if ((m->flags[mi(p)] & (MB_SACKED | MB_LOST | MB_RETRANS)) == MB_LOST)
				break;
		if (p == m->nxt) {
			assert_int_equal(rc, -ENOENT);
		} else {
			usn_seq_t end = m_rec_end(m, p);

			assert_int_equal(rc, 0);
			assert_int_equal(s, p);
			if (max_len && end - p > max_len)
				end = p + max_len;
			assert_int_equal(e, end);
		}
	}
	if (rc != 0 || usn_rand_below(&r->rnd, 3) == 0) {
		/* Or any range at all, partly outside the queue. */
		s = m->una - 50 + (uint32_t)usn_rand_below(&r->rnd, m_win(m) + 100);
		e = s + 1 + (uint32_t)usn_rand_below(&r->rnd, 500);
	}
	usn_rtxq_mark_retransmitted(&r->q, s, e, r->now);
	s = usn_seq_max(s, m->una);
	e = usn_seq_min(e, m->nxt);
	if (!usn_seq_lt(s, e))
		return;
	m_bound(m, s);
	m_bound(m, e);
	for (p = s; p != e; p++) {
		m->flags[mi(p)] |= MB_RETRANS;
		m->xmits[mi(p)]++;
		m->xmit[mi(p)] = r->now;
	}
}

static void op_mark_6675(struct run *r)
{
	struct model *m = r->m;
	uint32_t mss = 1 + (uint32_t)usn_rand_below(&r->rnd, 200);
	uint32_t dt = 1 + (uint32_t)usn_rand_below(&r->rnd, 5);
	uint32_t want = 0, got, segs = 0, bytes = 0;
	usn_seq_t p, probe;

	/* IsLost at a random octet, in or near the window. */
	probe = m->una - 5 + (uint32_t)usn_rand_below(&r->rnd, m_win(m) + 10);
	if (r->exact) {
		/* SACKed octets above probe; SACKed records starting above it. */
		for (p = m->una; p != m->nxt; p++) {
			if (!usn_seq_gt(p, probe) || !(m->flags[mi(p)] & MB_SACKED))
				continue;
			bytes++;
			if (m->bound[mi(p)] || p == m->una)
				segs++;
		}
		assert_int_equal(usn_rtxq_is_lost(&r->q, probe, mss, dt),
				 segs >= dt || (uint64_t)bytes > (uint64_t)(dt - 1) * mss);
	}
	got = usn_rtxq_mark_lost_6675(&r->q, mss, dt);
	/* From the top down: SACKed octets and SACKed record starts above. */
	segs = 0;
	bytes = 0;
	for (p = m->nxt; p != m->una;) {
		uint8_t *f;

		p--;
		f = &m->flags[mi(p)];
		if (*f & MB_SACKED) {
			bytes++;
			if (m->bound[mi(p)] || p == m->una)
				segs++;
			continue;
		}
		if (*f & MB_LOST)
			continue;
		if (segs >= dt || (uint64_t)bytes > (uint64_t)(dt - 1) * mss) {
			*f |= MB_LOST;
			want++;
		}
	}
	if (r->exact)
		assert_int_equal(got, want);
}

static void op_rack(struct run *r)
{
	struct model *m = r->m;
	uint64_t rack_xmit = r->now - usn_rand_below(&r->rnd, 60);
	usn_seq_t rack_end = m->una + (uint32_t)usn_rand_below(&r->rnd, m_win(m) + 2);
	uint64_t reo = usn_rand_below(&r->rnd, 20), rtt = usn_rand_below(&r->rnd, 30);
	uint64_t timeout = 1, want_timeout = 0;
	uint32_t got, want = 0;
	usn_seq_t p, end = m->una;

	got = usn_rtxq_mark_lost_rack(&r->q, rack_xmit, rack_end, reo, rtt, r->now, &timeout);
	for (p = m->una; p != m->nxt; p++) {
		uint8_t *f = &m->flags[mi(p)];
		uint64_t t = m->xmit[mi(p)], deadline = t + rtt + reo;

		if (p == m->una || m->bound[mi(p)])
			end = m_rec_end(m, p);

		if (*f & MB_SACKED)
			continue;
		if ((*f & (MB_LOST | MB_RETRANS)) == MB_LOST)
			continue;
		if (!(rack_xmit > t || (rack_xmit == t && usn_seq_gt(rack_end, end))))
			continue;
		if (deadline <= r->now) {
			*f = (uint8_t)((*f | MB_LOST) & ~MB_RETRANS);
			want++;
		} else if (want_timeout == 0 || deadline - r->now < want_timeout) {
			want_timeout = deadline - r->now;
		}
	}
	if (r->exact) {
		assert_int_equal(got, want);
		assert_int_equal(timeout, want_timeout);
	}
}

static void op_lost_head(struct run *r)
{
	struct model *m = r->m;
	uint32_t mss = (uint32_t)usn_rand_below(&r->rnd, 500), got, want = 0;
	usn_seq_t e, p;

	got = usn_rtxq_mark_lost_head(&r->q, mss);
	if (m->una == m->nxt) {
		assert_int_equal(got, 0);
		return;
	}
	e = mss ? usn_seq_min(m->una + mss, m->nxt) : m_rec_end(m, m->una);
	m_bound(m, e);
	for (p = m->una; p != e; p++) {
		uint8_t *f = &m->flags[mi(p)];

		if (*f & MB_SACKED)
			continue;
		if ((*f & (MB_LOST | MB_RETRANS)) != MB_LOST)
			want++;
		*f = (uint8_t)((*f | MB_LOST) & ~MB_RETRANS);
	}
	if (r->exact)
		assert_int_equal(got, want);
}

static void op_all_lost(struct run *r)
{
	struct model *m = r->m;
	usn_seq_t p;

	usn_rtxq_mark_all_lost(&r->q);
	for (p = m->una; p != m->nxt; p++)
		if (!(m->flags[mi(p)] & MB_SACKED))
			m->flags[mi(p)] = (uint8_t)((m->flags[mi(p)] | MB_LOST) & ~MB_RETRANS);
}

static void op_clear_sacks(struct run *r)
{
	struct model *m = r->m;
	usn_seq_t p;

	usn_rtxq_clear_sacks(&r->q);
	for (p = m->una; p != m->nxt; p++) {
		m->flags[mi(p)] &= (uint8_t)~MB_SACKED;
		m->ideal_sacked[mi(p)] = false;
	}
}

static void random_run(uint64_t seed, uint32_t cap, uint32_t steps, bool exact)
{
	struct run r;
	usn_seq_t p;

	memset(&r, 0, sizeof(r));
	r.m = calloc(1, sizeof(*r.m));
	assert_non_null(r.m);
	usn_rand_seed(&r.rnd, seed);
	assert_int_equal(usn_rtxq_init(&r.q, cap), 0);
	r.exact = exact;
	r.now = 1000;
	/* Start a little below 2^32 so the run wraps early. */
	r.m->una = r.m->nxt = 0u - 20000u + (uint32_t)usn_rand_below(&r.rnd, 1000);
	for (r.step = 0; r.step < steps; r.step++) {
		uint64_t dice = usn_rand_below(&r.rnd, 100);

		r.now += 1 + usn_rand_below(&r.rnd, 5);
		if (dice < 30)
			op_push(&r);
		else if (dice < 41)
			op_ack(&r);
		else if (dice < 65)
			op_sack(&r);
		else if (dice < 78)
			op_retransmit(&r);
		else if (dice < 86)
			op_mark_6675(&r);
		else if (dice < 94)
			op_rack(&r);
		else if (dice < 97)
			op_lost_head(&r);
		else if (dice < 99)
			op_all_lost(&r);
		else
			op_clear_sacks(&r);
		run_compare(&r);
	}
	/* Drain: everything acked, the queue empty and consistent. */
	p = r.m->nxt;
	usn_rtxq_ack(&r.q, p, NULL);
	assert_true(usn_rtxq_empty(&r.q));
	assert_int_equal(usn_rtxq_pipe(&r.q), 0);
	assert_int_equal(usn_rtxq_check(&r.q), 0);
	usn_rtxq_fini(&r.q);
	free(r.m);
}

static void test_random_vs_model_exact(void **state)
{
	uint64_t seed;

	(void)state;
	/* The ring never fills (records >= 1 octet, at most MAX_WIN octets
	 * outstanding), so the model must match exactly. */
	for (seed = 1; seed <= 6; seed++)
		random_run(seed * 0x9e3779b97f4a7c15ull, MAX_WIN + 8, 2500, true);
}

static void test_random_tiny_ring(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 6; seed++)
		random_run(seed * 0x2545f4914f6cdd1dull, 1 + (uint32_t)(seed % 5) * 3, 3000, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_push_refusals),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_ack_partial_across_wrap),
		cmocka_unit_test(test_ack_rtt_karn),
		cmocka_unit_test(test_syn_fin_occupy_one),
		cmocka_unit_test(test_rfc6675_worked_example),
		cmocka_unit_test(test_islost_criteria_apart),
		cmocka_unit_test(test_dsack_detected_not_marked),
		cmocka_unit_test(test_invalid_blocks_ignored_or_clipped),
		cmocka_unit_test(test_retransmit_marking_and_pipe),
		cmocka_unit_test(test_rack_marking_and_timeout),
		cmocka_unit_test(test_rack_same_time_tie_break),
		cmocka_unit_test(test_mark_all_lost_and_clear_sacks),
		cmocka_unit_test(test_mark_lost_head),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_random_vs_model_exact),
		cmocka_unit_test(test_random_tiny_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
