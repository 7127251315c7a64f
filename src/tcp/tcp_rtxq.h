/* SPDX-License-Identifier: MIT */
/*
 * tcp_rtxq.h - the sender's record of segments sent and not yet
 * cumulatively acknowledged: the SACK scoreboard of RFC 6675 and the
 * per-segment transmit times RACK needs (RFC 8985), in one structure.
 *
 * Each record covers [start, end) of sequence space as it was last sent, with
 * the time of that transmission and flags. Records are kept in sequence
 * order, contiguous (the first starts at SND.UNA, the last ends at SND.NXT),
 * in a ring of at most `cap` entries. SACK blocks and partial ACKs split
 * records at their edges, so a record is always wholly SACKed or not.
 *
 * It holds no data (the bytes are in the send byte ring) and takes no
 * decisions about cwnd: TCP asks it questions (is this lost, what is pipe,
 * what to send next) and tells it what happened.
 */
#ifndef USN_TCP_RTXQ_H
#define USN_TCP_RTXQ_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_seq.h"
#include "wire_tcp.h"

/*
 * Flags. A record's LOST stays set when it is retransmitted (the original
 * transmission is still lost); RETRANS says a retransmission of it is in
 * flight. So an un-SACKed record counts in pipe (RFC 6675 §4 SetPipe) as:
 *   neither flag 1, LOST 0 (due for retransmission), LOST|RETRANS 1,
 *   RETRANS alone 2 (a probe or early retransmission: both copies in flight).
 * When RACK or an RTO deems the retransmission lost too, RETRANS is cleared
 * (LOST alone again: due once more); xmits keeps counting every send.
 * SACKED records keep their LOST/RETRANS bits but no counter includes them.
 */
#define USN_RTX_SACKED 0x01u  /* covered by a SACK block */
#define USN_RTX_LOST 0x02u    /* deemed lost (RFC 6675 IsLost, RACK or RTO) */
#define USN_RTX_RETRANS 0x04u /* a retransmission is in flight; xmit_time is its time */
#define USN_RTX_FIN 0x08u     /* the record ends with the FIN (end counts it) */
#define USN_RTX_SYN 0x10u     /* the record is the SYN */

struct usn_rtx_rec {
	usn_seq_t start, end;
	uint64_t xmit_time;  /* the stack's time of the last transmission */
	uint64_t first_time; /* time of the first transmission */
	uint32_t flags;
	uint32_t xmits;      /* transmissions so far */
};

/* Spare arrays of the smallest size (a queue's first), shared by the
 * queues of one stack: a connection that empties its queue after every
 * response and fills it again for the next would otherwise free and
 * allocate one each time. At most max are kept. */
struct usn_rtx_cache {
	struct usn_rtx_rec **spare;
	uint32_t n, max;
};

/* Frees the spare arrays (and the list). */
void usn_rtx_cache_fini(struct usn_rtx_cache *c);

struct usn_rtxq {
	struct usn_rtx_rec *rec; /* NULL while empty (an idle connection holds none) */
	struct usn_rtx_cache *cache; /* optional, set by the owner after init */
	uint32_t cap;            /* the most records held */
	uint32_t size;           /* records allocated: grows by doubling up to cap */
	uint32_t head, count;
	uint32_t sacked_bytes;   /* bytes in SACKED records */
	uint32_t lost_bytes;     /* bytes in LOST and not SACKED records */
	uint32_t retrans_bytes;  /* bytes in RETRANS records not SACKED (in flight again) */
	usn_seq_t high_sacked;   /* highest SACKed sequence + 1 (RFC 6675 HighACK-ish);
				  * SND.UNA (the first record's start) when nothing is SACKed */
};

/* Some record is SACKED now (records are never empty). */
static inline bool usn_rtxq_any_sacked(const struct usn_rtxq *q)
{
	return q->sacked_bytes > 0;
}

/* 0, -EINVAL (cap 0) or -ENOMEM. cap: the most records held (e.g. send
 * buffer / MSS * 2). Splitting a record (at a SACK edge or the end of a
 * retransmitted range) takes a free slot; when the ring is full a split is
 * refused and the record treated conservatively, see usn_rtxq_sack() and
 * usn_rtxq_mark_retransmitted(). */
int usn_rtxq_init(struct usn_rtxq *q, uint32_t cap);
void usn_rtxq_fini(struct usn_rtxq *q);
void usn_rtxq_reset(struct usn_rtxq *q);

static inline bool usn_rtxq_empty(const struct usn_rtxq *q) { return q->count == 0; }
/* The i-th record from the oldest; NULL past the end. */
struct usn_rtx_rec *usn_rtxq_at(struct usn_rtxq *q, uint32_t i);

/* New data [start, end) was sent for the first time at `now` (start must
 * equal the end of the last record, or the queue be empty). flags may
 * carry USN_RTX_FIN/SYN. -ENOSPC when the ring is full (the caller sends
 * less); -EINVAL for an empty or non-contiguous range, a SYN not first,
 * anything after a FIN, or more than 2^31 - 1 bytes outstanding. */
int usn_rtxq_push(struct usn_rtxq *q, usn_seq_t start, usn_seq_t end, uint32_t flags, uint64_t now);
/* [start, end) (within one or more records, splitting at the edges) was
 * sent again at `now`: RETRANS set, LOST kept (see the flags above),
 * xmit_time updated, xmits incremented. Clipped to the queue. Ring full:
 * a record that cannot be split at an edge is marked retransmitted whole
 * (pipe over-counts, never under-counts, and NextSeg moves on; RACK or
 * the RTO recovers the part not actually resent). */
void usn_rtxq_mark_retransmitted(struct usn_rtxq *q, usn_seq_t start, usn_seq_t end, uint64_t now);

/* A cumulative ACK: drops everything before `ack` (trimming a record it
 * falls inside). Returns the bytes newly acknowledged. The RTT sample
 * (RFC 6298 §3, Karn's rule: only from a record sent once) for the newest
 * record fully acknowledged is stored in *ret_rtt_time as its xmit_time, or
 * 0 when none qualifies; records already SACKED do not qualify (they were
 * delivered earlier, the ACK was triggered by something else). An ack
 * beyond the last record is taken as acking everything (the caller should
 * have refused it, RFC 9293 §3.10.7.4). ret_rtt_time may be NULL. */
uint32_t usn_rtxq_ack(struct usn_rtxq *q, usn_seq_t ack, uint64_t *ret_rtt_time);

/* SACK blocks from an ACK (RFC 2018). Blocks outside (snd_una, snd_nxt] or
 * with start >= end are ignored, blocks partly outside are clipped. The
 * first block is a D-SACK (RFC 2883 §4) when it starts below snd_una or
 * lies within the second block: it is reported in *ret_dsack and marks
 * nothing. Pass snd_una after this ACK's cumulative ACK (call
 * usn_rtxq_ack() first). Returns bytes newly SACKed. *ret_newest_xmit is
 * the latest xmit_time of the records newly SACKed (for RACK), 0 if none.
 * Ring full: a record that would need splitting at a block edge is left
 * un-SACKed (conservative: it may be retransmitted needlessly, never
 * forgotten). ret_dsack and ret_newest_xmit may be NULL. */
uint32_t usn_rtxq_sack(struct usn_rtxq *q, usn_seq_t snd_una, const struct usn_tcp_sack_block *blk, int n,
		       bool *ret_dsack, uint64_t *ret_newest_xmit);
/* The same, also giving the end of that newest record (RACK.end_seq for
 * RFC 8985 §6.2 step 2's RACK_sent_after tie-break), unchanged if none. */
uint32_t usn_rtxq_sack_ex(struct usn_rtxq *q, usn_seq_t snd_una, const struct usn_tcp_sack_block *blk, int n,
			  bool *ret_dsack, uint64_t *ret_newest_xmit, usn_seq_t *ret_newest_end);

/* RFC 6675 §4 IsLost(SeqNum): true when DupThresh discontiguous SACKed
 * records, or more than (DupThresh - 1) * mss SACKed bytes, lie above seq.
 * The "discontiguous SACKed sequences" are counted as SACKED records
 * wholly above seq: segments as sent (or the pieces SACK edges cut them
 * into), each one the receiver's duplicate ACK would have reported; two
 * adjacent SACKed segments count two. Bytes count per octet > seq.
 * dupthresh 0 is taken as 1. O(records above seq). */
bool usn_rtxq_is_lost(const struct usn_rtxq *q, usn_seq_t seq, uint32_t mss, uint32_t dupthresh);
/* Marks LOST every un-SACKed record that IsLost says is; returns the bytes
 * newly marked. (RFC 6675 §5 step 4 and the loss marking of §5.1.) */
uint32_t usn_rtxq_mark_lost_6675(struct usn_rtxq *q, uint32_t mss, uint32_t dupthresh);
/* RFC 8985 §6.2 step 5: for every un-SACKed record not already LOST and
 * awaiting retransmission, if RACK_sent_after(rack_xmit_time, rack_end,
 * xmit_time, end) (sent earlier, or at the same time with a lower end) and
 * xmit_time + rtt + reo_wnd <= now, the record (its last transmission) is
 * lost: LOST set, RETRANS cleared. Returns the bytes newly marked and
 * stores in *ret_timeout the smallest `remaining` = xmit_time + rtt +
 * reo_wnd - now (a duration, > 0) of the records sent before RACK.segment
 * that are not lost yet (RACK reorder timer), 0 if none. */
uint32_t usn_rtxq_mark_lost_rack(struct usn_rtxq *q, uint64_t rack_xmit_time, usn_seq_t rack_end,
				 uint64_t reo_wnd, uint64_t rtt, uint64_t now, uint64_t *ret_timeout);
/* Without SACK (RFC 5681 §3.2 step 2, RFC 6582 §3.2 step 3 partial ACK)
 * or after a PMTU drop: the first unacknowledged segment, the un-SACKed
 * octets of [SND.UNA, SND.UNA + mss) (mss 0: the first record), is LOST
 * and due for (re)transmission (RETRANS cleared), split at SND.UNA + mss
 * when there is room (else the whole first record). Returns the bytes that
 * were not already due. */
uint32_t usn_rtxq_mark_lost_head(struct usn_rtxq *q, uint32_t mss);
/* RTO (RFC 6298 §5.4, RFC 6675 §5.1): every un-SACKed record is LOST and
 * no retransmission is in flight (RETRANS cleared): pipe becomes 0. To
 * forget SACKs too (RFC 2018 §8), call usn_rtxq_clear_sacks() first. */
void usn_rtxq_mark_all_lost(struct usn_rtxq *q);
/* Forgets all SACK information (RFC 2018 §8: after an RTO the receiver may
 * have reneged). */
void usn_rtxq_clear_sacks(struct usn_rtxq *q);

/* RFC 6675 §4 SetPipe: bytes in flight = un-SACKed, un-LOST bytes plus
 * bytes retransmitted (LOST records sent again count once). O(1):
 * (SND.NXT - SND.UNA) - sacked_bytes - lost_bytes + retrans_bytes. */
uint32_t usn_rtxq_pipe(const struct usn_rtxq *q);
/* RFC 6675 §4 NextSeg rule 1: the first LOST, not SACKed record not
 * retransmitted since it was marked (RETRANS clear), up to max_len bytes
 * of it (0: no limit): 0 and the range in ret_start/ret_end, or -ENOENT. */
int usn_rtxq_next_lost(const struct usn_rtxq *q, uint32_t max_len, usn_seq_t *ret_start, usn_seq_t *ret_end);

/* Checks the invariants (contiguity, order, byte counters); for tests and
 * assertions. Returns 0 or a negative line-ish code naming the broken one. */
int usn_rtxq_check(const struct usn_rtxq *q);

#endif
