/* SPDX-License-Identifier: MIT */
/*
 * tcp_rtxq.c - the sender's retransmission queue and SACK scoreboard: one
 * record per range of sequence space sent and not yet cumulatively
 * acknowledged, with its transmit times and SACKED/LOST/RETRANS flags, in a
 * ring allocated once. It answers the questions of RFC 6675 §4 (IsLost,
 * SetPipe, NextSeg rule 1) and does the loss marking of RFC 6675 §5 and
 * RFC 8985 §6.2 step 5 (RACK), takes SACK blocks validated per RFC 2018 §4
 * and RFC 2883 §4 (D-SACK), and gives RTT samples under Karn's rule
 * (RFC 6298 §3).
 *
 * It is not the send buffer (no bytes here), not the congestion controller
 * and not the RACK state (RACK.xmit_ts, RACK.rtt and reo_wnd are the
 * caller's, passed in); it never reads a clock, `now` comes from the caller.
 *
 * Accounting: every record contributes to at most one of sacked_bytes or
 * (lost_bytes, retrans_bytes) according to its flags; a flag change is
 * "remove the contribution, change the flags, add it back" (acct_sub /
 * acct_add), so the counters stay exact and pipe is O(1). Records are
 * split (one free slot each) where a SACK block, a partial retransmission
 * or nothing else demands it; a partial ACK only trims the first record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_rtxq.h"

#define RTX_FLAGS_ALL (USN_RTX_SACKED | USN_RTX_LOST | USN_RTX_RETRANS | USN_RTX_FIN | USN_RTX_SYN)
/* Outstanding sequence space must stay comparable with usn_seq_lt(). */
#define RTX_SPAN_MAX 0x7fffffffu
/* Records allocated at first (a response of a few segments fits). */
#define RTX_MIN_SIZE 8u

static struct usn_rtx_rec *rec_at(const struct usn_rtxq *q, uint32_t i)
{
	uint64_t k = (uint64_t)q->head + i;

	if (k >= q->size)
		k -= q->size;
	return &q->rec[k];
}

static uint32_t rec_len(const struct usn_rtx_rec *r)
{
	return r->end - r->start;
}

static usn_seq_t q_una(const struct usn_rtxq *q)
{
	return rec_at(q, 0)->start;
}

static usn_seq_t q_nxt(const struct usn_rtxq *q)
{
	return rec_at(q, q->count - 1)->end;
}

/* A record's share of the counters: SACKED bytes are only SACKED; the
 * others count as LOST and/or RETRANS. */
static void acct_add(struct usn_rtxq *q, const struct usn_rtx_rec *r)
{
	uint32_t len = rec_len(r);

	if (r->flags & USN_RTX_SACKED) {
		q->sacked_bytes += len;
		return;
	}
	if (r->flags & USN_RTX_LOST)
		q->lost_bytes += len;
	if (r->flags & USN_RTX_RETRANS)
		q->retrans_bytes += len;
}

static void acct_sub(struct usn_rtxq *q, const struct usn_rtx_rec *r)
{
	uint32_t len = rec_len(r);

	if (r->flags & USN_RTX_SACKED) {
		q->sacked_bytes -= len;
		return;
	}
	if (r->flags & USN_RTX_LOST)
		q->lost_bytes -= len;
	if (r->flags & USN_RTX_RETRANS)
		q->retrans_bytes -= len;
}

static void set_flags(struct usn_rtxq *q, struct usn_rtx_rec *r, uint32_t set, uint32_t clear)
{
	acct_sub(q, r);
	r->flags = (r->flags | set) & ~clear;
	acct_add(q, r);
}

/* Nothing SACKed: high_sacked rests at SND.UNA, so "below the highest
 * SACKed octet" (RFC 6675 §4 NextSeg (1.b)) holds for nothing. */
static void fix_high_sacked(struct usn_rtxq *q, usn_seq_t una)
{
	if (q->sacked_bytes == 0)
		q->high_sacked = una;
}

/* Index of the record holding seq, or q->count when seq is outside
 * [SND.UNA, SND.NXT). Binary search on offsets from SND.UNA, which are
 * monotonic because the queue spans less than 2^31. */
static uint32_t find_rec(const struct usn_rtxq *q, usn_seq_t seq)
{
	usn_seq_t base;
	uint32_t off, lo = 0, hi = q->count;

	if (q->count == 0)
		return 0;
	base = q_una(q);
	off = seq - base;
	if (off >= q_nxt(q) - base)
		return q->count;
	/* rec[lo].start <= seq < rec[hi].start (rec[count].start = SND.NXT) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rec_at(q, mid)->start - base <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Makes record i occupy positions i and i + 1 (one free slot needed),
 * moving whichever side of the ring is shorter. */
static void dup_at(struct usn_rtxq *q, uint32_t i)
{
	uint32_t j;

	if (i + 1 <= q->count - i - 1) {
		/* Shift records 0..i one slot towards the front. */
		q->head = q->head == 0 ? q->size - 1 : q->head - 1;
		for (j = 0; j <= i; j++)
			*rec_at(q, j) = *rec_at(q, j + 1);
	} else {
		/* Shift records i+1..count-1 one slot towards the back. */
		for (j = q->count; j > i + 1; j--)
			*rec_at(q, j) = *rec_at(q, j - 1);
		*rec_at(q, i + 1) = *rec_at(q, i);
	}
	q->count++;
}

/* Room for one more record: the array grows by doubling (from
 * RTX_MIN_SIZE) up to cap, the records moved to its front. false when it
 * is at cap or memory runs out. */
static bool room(struct usn_rtxq *q)
{
	if (q->count < q->size)
		return true;
	if (q->size >= q->cap)
		return false;
	uint32_t n = q->size ? q->size * 2 : RTX_MIN_SIZE;
	if (n > q->cap)
		n = q->cap;
	struct usn_rtx_rec *a;
	if (n == RTX_MIN_SIZE && q->cache && q->cache->n > 0)
		a = q->cache->spare[--q->cache->n];
	else
		a = malloc((size_t)n * sizeof(*a));
	if (!a)
		return false;
	for (uint32_t i = 0; i < q->count; i++)
		a[i] = *rec_at(q, i);
	free(q->rec);
	q->rec = a;
	q->size = n;
	q->head = 0;
	return true;
}

/* The array of an empty queue: to the cache if it has the smallest size
 * and the cache has room, else freed. */
static void give_back(struct usn_rtxq *q)
{
	struct usn_rtx_cache *c = q->cache;
	if (q->rec && q->size == RTX_MIN_SIZE && c && c->n < c->max) {
		if (!c->spare) {
			c->spare = malloc((size_t)c->max * sizeof(*c->spare));
			if (!c->spare) {
				free(q->rec);
				return;
			}
		}
		c->spare[c->n++] = q->rec;
		return;
	}
	free(q->rec);
}

void usn_rtx_cache_fini(struct usn_rtx_cache *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		free(c->spare[i]);
	free(c->spare);
	c->spare = NULL;
	c->n = 0;
}

/* An empty queue gives its array back: an idle connection holds none. */
static void shrink_if_empty(struct usn_rtxq *q)
{
	if (q->count == 0 && q->rec) {
		give_back(q);
		q->rec = NULL;
		q->size = 0;
		q->head = 0;
	}
}

/* Splits record i at seq (start < seq < end). Both halves keep the flags
 * and times; the SYN stays with the first, the FIN with the last. The
 * counters do not change. false when the ring is full. */
static bool split(struct usn_rtxq *q, uint32_t i, usn_seq_t seq)
{
	struct usn_rtx_rec *a, *b;

	if (!room(q))
		return false;
	dup_at(q, i);
	a = rec_at(q, i);
	b = rec_at(q, i + 1);
	a->end = seq;
	a->flags &= ~USN_RTX_FIN;
	b->start = seq;
	b->flags &= ~USN_RTX_SYN;
	return true;
}

/* RFC 8985 §6.2 RACK_sent_after(t1, seq1, t2, seq2). */
static bool sent_after(uint64_t t1, usn_seq_t seq1, uint64_t t2, usn_seq_t seq2)
{
	return t1 > t2 || (t1 == t2 && usn_seq_gt(seq1, seq2));
}

int usn_rtxq_init(struct usn_rtxq *q, uint32_t cap)
{
	memset(q, 0, sizeof(*q));
	if (cap == 0)
		return -EINVAL;
	/* Storage comes with the first record (room()). */
	q->cap = cap;
	return 0;
}

void usn_rtxq_fini(struct usn_rtxq *q)
{
	give_back(q);
	memset(q, 0, sizeof(*q));
}

void usn_rtxq_reset(struct usn_rtxq *q)
{
	q->head = 0;
	q->count = 0;
	shrink_if_empty(q);
	q->sacked_bytes = 0;
	q->lost_bytes = 0;
	q->retrans_bytes = 0;
	q->high_sacked = 0;
}

struct usn_rtx_rec *usn_rtxq_at(struct usn_rtxq *q, uint32_t i)
{
	if (i >= q->count)
		return NULL;
	return rec_at(q, i);
}

int usn_rtxq_push(struct usn_rtxq *q, usn_seq_t start, usn_seq_t end, uint32_t flags, uint64_t now)
{
	struct usn_rtx_rec *r;

	if (flags & ~(USN_RTX_FIN | USN_RTX_SYN))
		return -EINVAL;
	if (start == end || end - start > RTX_SPAN_MAX)
		return -EINVAL; /* empty, backwards, or 2^31 and more */
	if (q->count > 0) {
		const struct usn_rtx_rec *last = rec_at(q, q->count - 1);

		if (start != last->end || (last->flags & USN_RTX_FIN) || (flags & USN_RTX_SYN))
			return -EINVAL;
		if (end - q_una(q) > RTX_SPAN_MAX)
			return -EINVAL;
	}
	if (!room(q))
		return -ENOSPC;
	r = rec_at(q, q->count);
	r->start = start;
	r->end = end;
	r->xmit_time = now;
	r->first_time = now;
	r->flags = flags;
	r->xmits = 1;
	q->count++;
	if (q->count == 1)
		fix_high_sacked(q, start);
	return 0;
}

void usn_rtxq_mark_retransmitted(struct usn_rtxq *q, usn_seq_t start, usn_seq_t end, uint64_t now)
{
	struct usn_rtx_rec *r;
	usn_seq_t s, e;
	uint32_t i;

	if (q->count == 0)
		return;
	s = usn_seq_max(start, q_una(q));
	e = usn_seq_min(end, q_nxt(q));
	if (!usn_seq_lt(s, e))
		return;
	i = find_rec(q, s);
	if (rec_at(q, i)->start != s && split(q, i, s))
		i++;
	/* If that split was refused, record i is marked whole: see the header. */
	for (; i < q->count; i++) {
		r = rec_at(q, i);
		if (!usn_seq_lt(r->start, e))
			break;
		if (usn_seq_gt(r->end, e))
			(void)split(q, i, e); /* refused: marked whole, as above */
		r = rec_at(q, i);
		acct_sub(q, r);
		r->flags |= USN_RTX_RETRANS;
		r->xmits++;
		r->xmit_time = now;
		acct_add(q, r);
	}
}

uint32_t usn_rtxq_ack(struct usn_rtxq *q, usn_seq_t ack, uint64_t *ret_rtt_time)
{
	uint64_t rtt_time = 0;
	uint32_t acked = 0;

	if (q->count == 0 || !usn_seq_gt(ack, q_una(q)))
		goto out;
	if (usn_seq_gt(ack, q_nxt(q)))
		ack = q_nxt(q);
	while (q->count > 0) {
		struct usn_rtx_rec *r = rec_at(q, 0);

		if (usn_seq_leq(r->end, ack)) {
			acked += rec_len(r);
			acct_sub(q, r);
			/* RFC 6298 §3 (Karn): "RTT samples MUST NOT be made
			 * using segments that were retransmitted". A SACKED
			 * record was delivered before this ACK was sent. */
			if (r->xmits == 1 && !(r->flags & USN_RTX_SACKED))
				rtt_time = r->xmit_time;
			q->head = q->head + 1 == q->size ? 0 : q->head + 1;
			q->count--;
			continue;
		}
		if (usn_seq_gt(ack, r->start)) {
			/* A partial ACK: trim, no split (and no slot) needed. */
			acct_sub(q, r);
			acked += ack - r->start;
			r->start = ack;
			r->flags &= ~USN_RTX_SYN;
			acct_add(q, r);
		}
		break;
	}
	if (q->count == 0)
		shrink_if_empty(q);
	fix_high_sacked(q, ack);
out:
	if (ret_rtt_time)
		*ret_rtt_time = rtt_time;
	return acked;
}

/* Marks [s, e) (inside the queue) SACKED, splitting at the edges. */
static uint32_t sack_range(struct usn_rtxq *q, usn_seq_t s, usn_seq_t e, uint64_t *newest_xmit, usn_seq_t *newest_end,
			   bool *found)
{
	struct usn_rtx_rec *r;
	uint32_t i, newly = 0;

	i = find_rec(q, s);
	r = rec_at(q, i);
	if (r->start != s) {
		/* Already SACKED: nothing to do for this record. Not SACKED
		 * and the ring full: leave it un-SACKed (conservative). */
		if (!(r->flags & USN_RTX_SACKED))
			(void)split(q, i, s);
		i++;
	}
	for (; i < q->count; i++) {
		r = rec_at(q, i);
		if (!usn_seq_lt(r->start, e))
			break;
		if (r->flags & USN_RTX_SACKED)
			continue;
		if (usn_seq_gt(r->end, e)) {
			if (!split(q, i, e))
				break; /* ring full: the straddling record stays un-SACKed */
			r = rec_at(q, i);
		}
		bool had_sacked = usn_rtxq_any_sacked(q);
		set_flags(q, r, USN_RTX_SACKED, 0);
		newly += rec_len(r);
		if (!*found || sent_after(r->xmit_time, r->end, *newest_xmit, *newest_end)) {
			*newest_xmit = r->xmit_time;
			*newest_end = r->end;
			*found = true;
		}
		if (!had_sacked || usn_seq_gt(r->end, q->high_sacked))
			q->high_sacked = r->end;
	}
	return newly;
}

uint32_t usn_rtxq_sack_ex(struct usn_rtxq *q, usn_seq_t snd_una, const struct usn_tcp_sack_block *blk, int n,
			  bool *ret_dsack, uint64_t *ret_newest_xmit, usn_seq_t *ret_newest_end)
{
	uint64_t newest_xmit = 0;
	usn_seq_t newest_end = 0;
	bool dsack = false, found = false;
	uint32_t newly = 0;
	int k;

	/* RFC 2883 §4: a first block below the cumulative ACK, or lying
	 * within the second block, reports duplicate data (a D-SACK): it
	 * is reported to the caller and is never a loss signal here. */
	if (n >= 1 && usn_seq_lt(blk[0].start, blk[0].end)) {
		if (usn_seq_lt(blk[0].start, snd_una))
			dsack = true;
		else if (n >= 2 && usn_seq_lt(blk[1].start, blk[1].end) && usn_seq_geq(blk[0].start, blk[1].start) &&
			 usn_seq_leq(blk[0].end, blk[1].end))
			dsack = true;
	}
	for (k = dsack ? 1 : 0; k < n && q->count > 0; k++) {
		usn_seq_t s = blk[k].start, e = blk[k].end;

		/* RFC 2018 §4: a block's left edge is below its right edge;
		 * anything else is not a block. */
		if (!usn_seq_lt(s, e))
			continue;
		/* Only (SND.UNA, SND.NXT] can be SACKed: clip to it. */
		s = usn_seq_max(s, usn_seq_max(snd_una, q_una(q)));
		e = usn_seq_min(e, q_nxt(q));
		if (!usn_seq_lt(s, e))
			continue;
		newly += sack_range(q, s, e, &newest_xmit, &newest_end, &found);
	}
	if (ret_dsack)
		*ret_dsack = dsack;
	if (ret_newest_xmit)
		*ret_newest_xmit = found ? newest_xmit : 0;
	if (ret_newest_end && found)
		*ret_newest_end = newest_end;
	return newly;
}

uint32_t usn_rtxq_sack(struct usn_rtxq *q, usn_seq_t snd_una, const struct usn_tcp_sack_block *blk, int n,
		       bool *ret_dsack, uint64_t *ret_newest_xmit)
{
	return usn_rtxq_sack_ex(q, snd_una, blk, n, ret_dsack, ret_newest_xmit, NULL);
}

/* RFC 6675 §4: "(DupThresh - 1) * SMSS bytes"; 64-bit so it cannot wrap. */
static uint64_t lost_byte_limit(uint32_t mss, uint32_t dupthresh)
{
	return (uint64_t)(dupthresh - 1) * mss;
}

bool usn_rtxq_is_lost(const struct usn_rtxq *q, usn_seq_t seq, uint32_t mss, uint32_t dupthresh)
{
	uint64_t bytes = 0, limit;
	uint32_t i, segs = 0;

	if (q->sacked_bytes == 0)
		return false; /* nothing SACKed above anything */
	if (dupthresh == 0)
		dupthresh = 1;
	limit = lost_byte_limit(mss, dupthresh);
	/* RFC 6675 §4 IsLost: "The routine returns true when either
	 * DupThresh discontiguous SACKed sequences have arrived above
	 * 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence
	 * numbers greater than 'SeqNum' have been SACKed." */
	for (i = q->count; i-- > 0;) {
		const struct usn_rtx_rec *r = rec_at(q, i);

		if (!usn_seq_gt(r->end, seq + 1))
			break; /* no octet of this record or below is > seq */
		if (!(r->flags & USN_RTX_SACKED))
			continue;
		if (usn_seq_gt(r->start, seq)) {
			segs++;
			bytes += rec_len(r);
		} else {
			bytes += r->end - (seq + 1);
		}
		if (segs >= dupthresh || bytes > limit)
			return true;
	}
	return false;
}

uint32_t usn_rtxq_mark_lost_6675(struct usn_rtxq *q, uint32_t mss, uint32_t dupthresh)
{
	uint64_t bytes = 0, limit;
	uint32_t i, segs = 0, newly = 0;

	if (q->sacked_bytes == 0)
		return 0; /* IsLost() is false for every record */
	if (dupthresh == 0)
		dupthresh = 1;
	limit = lost_byte_limit(mss, dupthresh);
	/* One pass from the top: the SACKED records above an un-SACKed one
	 * are exactly those IsLost() counts for any of its octets, so this
	 * is IsLost() applied to every record, in O(records). */
	for (i = q->count; i-- > 0;) {
		struct usn_rtx_rec *r = rec_at(q, i);

		if (r->flags & USN_RTX_SACKED) {
			segs++;
			bytes += rec_len(r);
			continue;
		}
		if (r->flags & USN_RTX_LOST)
			continue;
		if (segs >= dupthresh || bytes > limit) {
			/* A record already retransmitted keeps RETRANS: its
			 * retransmission is still in flight (pipe counts it
			 * once) and NextSeg will not send it again
			 * (RFC 6675 §4 NextSeg (1.a): S2 > HighRxt). */
			set_flags(q, r, USN_RTX_LOST, 0);
			newly += rec_len(r);
		}
	}
	return newly;
}

uint32_t usn_rtxq_mark_lost_rack(struct usn_rtxq *q, uint64_t rack_xmit_time, usn_seq_t rack_end,
				 uint64_t reo_wnd, uint64_t rtt, uint64_t now, uint64_t *ret_timeout)
{
	uint64_t timeout = 0;
	uint32_t i, newly = 0;

	/* Nothing SACKed, lost or sent again: every record was sent once, in
	 * queue order, so if the oldest was not sent before RACK.xmit_ts
	 * none was, and the scan below would find nothing. Without this
	 * every ACK of a bulk transfer walked the whole queue (thousands of
	 * records; with the two RFC 6675 scans, 6 % of a sender's core). */
	if (q->count > 0 && q->sacked_bytes == 0 && q->lost_bytes == 0 && q->retrans_bytes == 0) {
		const struct usn_rtx_rec *h = rec_at(q, 0);
		if (!sent_after(rack_xmit_time, rack_end, h->xmit_time, h->end)) {
			if (ret_timeout)
				*ret_timeout = 0;
			return 0;
		}
	}
	for (i = 0; i < q->count; i++) {
		struct usn_rtx_rec *r = rec_at(q, i);
		uint64_t deadline;

		if (r->flags & USN_RTX_SACKED)
			continue;
		/* Lost and not resent: RFC 8985 gives it xmit_ts =
		 * INFINITE_TS, i.e. it is never "sent before" anything. */
		if ((r->flags & (USN_RTX_LOST | USN_RTX_RETRANS)) == USN_RTX_LOST)
			continue;
		/* RFC 8985 §6.2 step 5: "If RACK_sent_after(RACK.xmit_ts,
		 * RACK.end_seq, Segment.xmit_ts, Segment.end_seq): remaining =
		 * Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now()" */
		if (!sent_after(rack_xmit_time, rack_end, r->xmit_time, r->end))
			continue;
		deadline = r->xmit_time + rtt;
		deadline = deadline < rtt ? UINT64_MAX : deadline;
		deadline = deadline + reo_wnd < deadline ? UINT64_MAX : deadline + reo_wnd;
		if (deadline <= now) {
			/* "If remaining <= 0: Segment.lost = TRUE". A lost
			 * retransmission makes the record due again. */
			set_flags(q, r, USN_RTX_LOST, USN_RTX_RETRANS);
			newly += rec_len(r);
		} else if (timeout == 0 || deadline - now < timeout) {
			/* DEVIATION(RFC 8985 §6.2): the smallest remaining
			 * time, not the RFC's max(), because the timer then
			 * marks each record at its own deadline (the handler
			 * runs this again and re-arms for the rest) instead of
			 * holding the earliest back until the latest expires. */
			timeout = deadline - now;
		}
	}
	if (ret_timeout)
		*ret_timeout = timeout;
	return newly;
}

uint32_t usn_rtxq_mark_lost_head(struct usn_rtxq *q, uint32_t mss)
{
	usn_seq_t e;
	uint32_t i, newly = 0;

	if (q->count == 0)
		return 0;
	e = mss ? q_una(q) + mss : rec_at(q, 0)->end;
	e = usn_seq_min(e, q_nxt(q));
	for (i = 0; i < q->count; i++) {
		struct usn_rtx_rec *r = rec_at(q, i);

		if (!usn_seq_lt(r->start, e))
			break;
		if (usn_seq_gt(r->end, e)) {
			(void)split(q, i, e); /* refused: the whole record */
			r = rec_at(q, i);
		}
		if (r->flags & USN_RTX_SACKED)
			continue;
		if ((r->flags & (USN_RTX_LOST | USN_RTX_RETRANS)) != USN_RTX_LOST)
			newly += rec_len(r);
		set_flags(q, r, USN_RTX_LOST, USN_RTX_RETRANS);
	}
	return newly;
}

void usn_rtxq_mark_all_lost(struct usn_rtxq *q)
{
	uint32_t i;

	/* RFC 6675 §5.1: after an RTO every un-SACKed segment is lost, and
	 * so is any retransmission still in flight (RFC 6298 §5.4). */
	for (i = 0; i < q->count; i++) {
		struct usn_rtx_rec *r = rec_at(q, i);

		if (!(r->flags & USN_RTX_SACKED))
			set_flags(q, r, USN_RTX_LOST, USN_RTX_RETRANS);
	}
}

void usn_rtxq_clear_sacks(struct usn_rtxq *q)
{
	uint32_t i;

	/* RFC 2018 §8: the receiver may discard data it has SACKed
	 * (renege), so after an RTO the sender forgets the SACKed bits. */
	for (i = 0; i < q->count; i++) {
		struct usn_rtx_rec *r = rec_at(q, i);

		if (r->flags & USN_RTX_SACKED)
			set_flags(q, r, 0, USN_RTX_SACKED);
	}
	fix_high_sacked(q, q->count ? q_una(q) : q->high_sacked);
}

uint32_t usn_rtxq_pipe(const struct usn_rtxq *q)
{
	if (q->count == 0)
		return 0;
	/* RFC 6675 §4 SetPipe, per octet S1 not SACKed: (a) one if
	 * IsLost(S1) is false, (b) one more if S1 <= HighRxt (it was
	 * retransmitted). Un-SACKed octets count 1, minus the LOST ones,
	 * plus the ones with a retransmission in flight. */
	return (q_nxt(q) - q_una(q)) - q->sacked_bytes - q->lost_bytes + q->retrans_bytes;
}

int usn_rtxq_next_lost(const struct usn_rtxq *q, uint32_t max_len, usn_seq_t *ret_start, usn_seq_t *ret_end)
{
	uint32_t i;

	if (q->lost_bytes == 0)
		return -ENOENT;
	/* RFC 6675 §4 NextSeg (1): the smallest un-SACKed sequence number
	 * that is lost and above HighRxt (not retransmitted since it was
	 * marked). (1.b), "less than the highest octet covered by any
	 * received SACK", is implied by IsLost for marks made by
	 * usn_rtxq_mark_lost_6675(); marks by RACK or the RTO stand on
	 * their own. */
	for (i = 0; i < q->count; i++) {
		const struct usn_rtx_rec *r = rec_at(q, i);

		if ((r->flags & (USN_RTX_SACKED | USN_RTX_LOST | USN_RTX_RETRANS)) != USN_RTX_LOST)
			continue;
		*ret_start = r->start;
		*ret_end = (max_len != 0 && rec_len(r) > max_len) ? r->start + max_len : r->end;
		return 0;
	}
	return -ENOENT;
}

int usn_rtxq_check(const struct usn_rtxq *q)
{
	uint32_t i, sacked = 0, lost = 0, retrans = 0;
	usn_seq_t high = 0;
	bool any = false;

	if (q->cap == 0 || q->size > q->cap || q->count > q->size || (!q->rec) != (q->size == 0))
		return -__LINE__;
	if (q->size > 0 && q->head >= q->size)
		return -__LINE__;
	for (i = 0; i < q->count; i++) {
		const struct usn_rtx_rec *r = rec_at(q, i);
		uint32_t len = rec_len(r);

		if (!usn_seq_lt(r->start, r->end))
			return -__LINE__;
		if (i > 0 && r->start != rec_at(q, i - 1)->end)
			return -__LINE__;
		if (r->flags & ~RTX_FLAGS_ALL)
			return -__LINE__;
		if ((r->flags & USN_RTX_FIN) && i != q->count - 1)
			return -__LINE__;
		if ((r->flags & USN_RTX_SYN) && i != 0)
			return -__LINE__;
		if (r->xmits == 0)
			return -__LINE__;
		if (r->flags & USN_RTX_SACKED) {
			sacked += len;
			high = r->end;
			any = true;
			continue;
		}
		if (r->flags & USN_RTX_LOST)
			lost += len;
		if (r->flags & USN_RTX_RETRANS)
			retrans += len;
	}
	if (q->count > 0 && q_nxt(q) - q_una(q) > RTX_SPAN_MAX)
		return -__LINE__;
	if (sacked != q->sacked_bytes)
		return -__LINE__;
	if (lost != q->lost_bytes)
		return -__LINE__;
	if (retrans != q->retrans_bytes)
		return -__LINE__;
	if (any != usn_rtxq_any_sacked(q))
		return -__LINE__;
	if (any && high != q->high_sacked)
		return -__LINE__;
	if (!any && q->count > 0 && q->high_sacked != q_una(q))
		return -__LINE__;
	return 0;
}
