/* SPDX-License-Identifier: MIT */
/*
 * tcp_output.c - building and sending segments: data (new and
 * retransmitted), ACKs, SYNs and resets; the receive window we advertise;
 * the decision of what may be sent now.
 *
 * Implements RFC 9293 §3.8.6.2.1 (sender silly window avoidance) and §3.7.4
 * (Nagle, RFC 896), §3.8.6.2.2 (receiver SWS avoidance: the window offered
 * grows only by a full segment or half the buffer and never shrinks,
 * RFC 7323 §2.4 for the rounding of scaled windows), §3.10.7.1 (resets for
 * segments without a connection), RFC 7323 §3 (timestamps on every segment
 * once negotiated; the window of a SYN is never scaled, §2.2), RFC 2018 §4
 * (SACK blocks, most recent first), RFC 6675 §5 (NextSeg: lost segments
 * first, then new data, while pipe < cwnd), RFC 5681 §4.1 (restart window
 * after idle), RFC 6928 (initial window), RFC 6691 (MSS excludes options).
 * The payload is summed from the send ring and copied into frames by
 * ip_output; no segment is kept after it is sent.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"
#include "util.h"

#define USN_TCP_TS_LEN 12 /* NOP NOP TS(10) */

static uint64_t now_of(const struct usn_tcp_conn *c)
{
	return *c->tcp->ip->now;
}

uint32_t usn_tcp_ts_now(const struct usn_tcp_conn *c)
{
	/* RFC 7323 §5.4: a millisecond clock with a random per-connection
	 * offset. */
	return (uint32_t)(now_of(c) / USN_NSEC_PER_MSEC) + c->ts_offset;
}

uint32_t usn_tcp_rcv_window(struct usn_tcp_conn *c)
{
	uint32_t space = usn_bytering_space(&c->rx);
	if (c->flags & USN_TCPF_FIN_RCVD)
		space = 0; /* nothing more will come */
	uint32_t cur = usn_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* RFC 9293 §3.8.6.2.2: offer more only when the increase is at least
	 * min(buffer / 2, MSS); never move the right edge left (§3.8.6.2.2,
	 * "MUST NOT shrink"). */
	uint32_t step = USN_MIN(c->rx.cap / 2, (uint32_t)c->adv_mss);
	uint32_t win = space;
	if (win < cur + step)
		win = cur;
	uint32_t max = (uint32_t)65535 << c->rcv_wscale;
	return USN_MIN(win, max);
}

/* The payload a segment may carry now: the MSS less the SACK blocks this
 * segment will carry (RFC 6691: the MSS counts no options, so the sender
 * makes room for the ones beyond timestamps, as Linux's tcp_current_mss). */
static uint32_t eff_mss(const struct usn_tcp_conn *c)
{
	uint32_t mss = c->mss;
	if ((c->flags & USN_TCPF_SACK) && c->rx.nranges > 0) {
		uint32_t max_blocks = (c->flags & USN_TCPF_TS) ? 3 : 4;
		uint32_t n = USN_MIN((uint32_t)c->rx.nranges, max_blocks);
		mss -= 4 + 8 * n; /* NOP NOP kind len + blocks */
	}
	return mss;
}

/* One segment. data_off/len: payload from the send ring. */
static void xmit(struct usn_tcp_conn *c, usn_seq_t seq, uint8_t flags, uint32_t data_off, uint32_t len)
{
	struct usn_ip *ip = c->tcp->ip;
	struct usn_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = c->t.lport;
	r.dst_port = c->t.rport;
	r.seq = seq;
	r.flags = flags;
	bool syn = (flags & USN_TCP_SYN) != 0;
	if (flags & USN_TCP_ACK)
		r.ack = c->rcv_nxt;
	uint32_t win = 0;
	if (!(flags & USN_TCP_RST)) {
		win = usn_tcp_rcv_window(c);
		/* RFC 7323 §2.2: the window in a SYN is not scaled. */
		uint32_t field = syn ? USN_MIN(win, 65535u) : win >> c->rcv_wscale;
		if (!syn && (usn_seq_lt(c->rcv_nxt + (field << c->rcv_wscale), c->rcv_adv)))
			field = (c->rcv_adv - c->rcv_nxt + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
		r.window = (uint16_t)USN_MIN(field, 65535u);
		win = syn ? r.window : (uint32_t)r.window << c->rcv_wscale;
	}
	if (syn) {
		/* RFC 9293 §3.7.1: MSS on SYNs; RFC 7323 §1.3, RFC 2018 §2:
		 * window scale, timestamps and SACK-permitted are offered in
		 * the SYN and answered in the SYN-ACK only if offered. */
		bool synack = (flags & USN_TCP_ACK) != 0;
		r.opts.has_mss = true;
		r.opts.mss = c->adv_mss;
		if (!synack || (c->flags & USN_TCPF_WSCALE)) {
			r.opts.has_wscale = true;
			r.opts.wscale = c->rcv_wscale;
		}
		if (!synack || (c->flags & USN_TCPF_SACK))
			r.opts.sack_perm = true;
		if (!synack || (c->flags & USN_TCPF_TS)) {
			r.opts.has_ts = true;
			r.opts.ts_val = usn_tcp_ts_now(c);
			r.opts.ts_ecr = synack ? c->ts_recent : 0;
		}
	} else if ((c->flags & USN_TCPF_TS) && !(flags & USN_TCP_RST)) {
		r.opts.has_ts = true;
		r.opts.ts_val = usn_tcp_ts_now(c);
		r.opts.ts_ecr = c->ts_recent;
	}
	if (!syn && (c->flags & USN_TCPF_SACK) && (flags & USN_TCP_ACK) && c->rx.nranges > 0) {
		/* RFC 2018 §4: the block holding the latest segment first, then
		 * the others most recent first. */
		uint32_t n = USN_MIN((uint32_t)c->rx.nranges, (uint32_t)USN_TCP_MAX_SACK);
		for (uint32_t i = 0; i < n; i++) {
			r.opts.sack[i].start = c->rcv_nxt + (c->rx.ranges[i].start - c->rx.len);
			r.opts.sack[i].end = c->rcv_nxt + (c->rx.ranges[i].end - c->rx.len);
		}
		r.opts.nsack = (uint8_t)n;
	}
	struct iovec iov[USN_TXQ_MAX_IOV + 32];
	struct usn_memref *refs[USN_ARRAY_SIZE(iov)];
	int niov = len ? usn_txq_peek_iov_ref(&c->tx, data_off, len, iov, refs, (int)USN_ARRAY_SIZE(iov)) : 0;
	/* With checksum offload the payload is not summed here: the device
	 * does it while copying (virtio-net NEEDS_CSUM). */
	const struct usn_dev *dev = ip->dev;
	bool csum_off = dev && (dev->offloads & USN_DEV_OFF_TX_CSUM);
	uint32_t sum = 0;
	size_t pos = 0;
	for (int i = 0; i < niov; i++) {
		if (!csum_off) {
			/* Lent memory with kept block sums (a cached file) is
			 * not read again: see usn_memref_sums(). */
			size_t rd = iov[i].iov_len, cached = 0;
			uint32_t s = refs[i] && refs[i]->sums
					     ? usn_csum_cache_sum(refs[i]->sums, iov[i].iov_base, iov[i].iov_len, &rd,
								  &cached)
					     : usn_csum_partial(iov[i].iov_base, iov[i].iov_len, 0);
			sum = usn_csum_combine(sum, s, pos);
			USN_CTR_ADD(ip->ctr, TCP_CSUM_READ_BYTES, rd);
			USN_CTR_ADD(ip->ctr, TCP_CSUM_CACHED_BYTES, cached);
		}
		pos += iov[i].iov_len;
	}
	if (pos < len)
		len = (uint32_t)pos; /* cannot happen: the queue holds the range */
	uint8_t hdr[USN_TCP_MAX_HLEN];
	int hlen = usn_tcp_emit(&r, c->t.laddr, c->t.raddr, (uint16_t)USN_MIN(len, 65535u), sum, hdr, sizeof(hdr));
	if (hlen < 0)
		return;
	struct usn_ip_payload pl = {
		.hdr = hdr, .hdr_len = (uint32_t)hlen, .iov = iov, .iovcnt = (uint32_t)niov, .chain = USN_BUF_NONE,
	};
	if (csum_off) {
		usn_tcp_set_csum_partial(hdr, c->t.laddr, c->t.raddr, (uint16_t)(hlen + len));
		pl.csum_partial = true;
		pl.csum_offset = 16; /* RFC 9293 §3.1: the checksum field */
		uint32_t seg = eff_mss(c);
		if (len > seg)
			pl.gso_size = (uint16_t)seg;
	}
	pl.iov_ref = refs; /* lent memory may go by reference (usn_ip_output) */
	/* RFC 1191: DF on every segment (path MTU discovery). */
	if (usn_ip_output(ip, c->t.laddr, c->t.raddr, USN_IPPROTO_TCP, 0, true, &pl) < 0)
		return;
	USN_CTR_INC(ip->ctr, TCP_OUT_SEGS);
	c->segs_out++;
	c->last_send = now_of(c);
	if (flags & USN_TCP_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		if (!syn && usn_seq_gt(c->rcv_nxt + win, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + win;
		else if (syn)
			c->rcv_adv = c->rcv_nxt + win;
		c->unacked_segs = 0;
		c->flags &= ~(USN_TCPF_ACK_NOW | USN_TCPF_WND_UPDATE);
		usn_timer_cancel(ip->wheel, &c->delack_timer);
	}
}

void usn_tcp_send_ack_seq(struct usn_tcp_conn *c, usn_seq_t seq)
{
	xmit(c, seq, USN_TCP_ACK, 0, 0);
}

void usn_tcp_send_ack(struct usn_tcp_conn *c)
{
	xmit(c, c->snd_nxt, USN_TCP_ACK, 0, 0);
}

void usn_tcp_send_syn(struct usn_tcp_conn *c)
{
	uint8_t fl = USN_TCP_SYN;
	if (c->state == USN_TCP_SYN_RECEIVED)
		fl |= USN_TCP_ACK;
	xmit(c, c->iss, fl, 0, 0);
}

void usn_tcp_send_rst(struct usn_tcp_conn *c)
{
	/* RFC 9293 §3.10.4 (ABORT): <SEQ=SND.NXT><CTL=RST>; the ACK bit as
	 * Linux sets it lets the peer match it to the connection in any
	 * state. */
	xmit(c, c->snd_nxt, USN_TCP_RST | USN_TCP_ACK, 0, 0);
	USN_CTR_INC(c->tcp->ip->ctr, TCP_OUT_RSTS);
}

void usn_tcp_send_reset_for(struct usn_tcp *tcp, const struct usn_ipv4_repr *ip, const struct usn_tcp_repr *seg,
			    uint32_t seg_len)
{
	/* RFC 9293 §3.10.7.1: never answer a reset; if the ACK bit is off,
	 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, else <SEQ=SEG.ACK><CTL=RST>. */
	if (seg->flags & USN_TCP_RST)
		return;
	struct usn_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	if (seg->flags & USN_TCP_ACK) {
		r.seq = seg->ack;
		r.flags = USN_TCP_RST;
	} else {
		r.seq = 0;
		r.ack = seg->seq + seg_len;
		r.flags = USN_TCP_RST | USN_TCP_ACK;
	}
	uint8_t hdr[USN_TCP_MIN_HLEN];
	int hlen = usn_tcp_emit(&r, ip->dst, ip->src, 0, 0, hdr, sizeof(hdr));
	if (hlen < 0)
		return;
	struct usn_ip_payload pl = {.hdr = hdr, .hdr_len = (uint32_t)hlen, .chain = USN_BUF_NONE};
	if (usn_ip_output(tcp->ip, ip->dst, ip->src, USN_IPPROTO_TCP, 0, true, &pl) == 0) {
		USN_CTR_INC(tcp->ip->ctr, TCP_OUT_SEGS);
		USN_CTR_INC(tcp->ip->ctr, TCP_OUT_RSTS);
	}
}

/* Sends again [start, end) of a record (data, possibly with the FIN). */
static void retransmit(struct usn_tcp_conn *c, usn_seq_t start, usn_seq_t end)
{
	usn_seq_t data_end = c->tx_seq + c->tx.len;
	uint8_t fl = USN_TCP_ACK;
	uint32_t len = end - start;
	if ((c->flags & USN_TCPF_FIN_SENT) && usn_seq_gt(end, data_end)) {
		fl |= USN_TCP_FIN;
		len--;
	}
	if (len > 0)
		fl |= USN_TCP_PSH;
	xmit(c, start, fl, start - c->tx_seq, len);
	usn_rtxq_mark_retransmitted(&c->rtxq, start, end, now_of(c));
	c->total_retrans++;
	USN_CTR_INC(c->tcp->ip->ctr, TCP_RETRANS_SEGS);
	/* Karn: a retransmitted timed segment gives no sample. */
	if (c->rtt_time && usn_seq_in(c->rtt_seq, start, end))
		c->rtt_time = 0;
}

static uint32_t pipe_of(const struct usn_tcp_conn *c)
{
	uint32_t pipe = usn_rtxq_pipe(&c->rtxq);
	/* Without SACK, each duplicate ACK in recovery says a segment left
	 * the network (the effect of RFC 6582's window inflation). */
	if (!(c->flags & USN_TCPF_SACK) && (c->flags & USN_TCPF_IN_RECOVERY)) {
		uint32_t out = c->dupacks * (uint32_t)c->mss;
		pipe = pipe > out ? pipe - out : 0;
	}
	return pipe;
}

void usn_tcp_output(struct usn_tcp_conn *c)
{
	switch (c->state) {
	case USN_TCP_ESTABLISHED:
	case USN_TCP_CLOSE_WAIT:
	case USN_TCP_FIN_WAIT_1:
	case USN_TCP_CLOSING:
	case USN_TCP_LAST_ACK:
		break;
	default:
		if (c->flags & USN_TCPF_ACK_NOW)
			usn_tcp_send_ack(c);
		return;
	}
	uint64_t now = now_of(c);
	/* RFC 5681 §4.1: after an idle period longer than the RTO, restart
	 * from the restart window. */
	if (usn_rtxq_empty(&c->rtxq) && c->last_send && now - c->last_send > (c->rto ? c->rto : USN_NSEC_PER_SEC) &&
	    c->cc->on_idle) {
		struct usn_cc_view v = {.now = now, .mss = c->mss, .srtt = c->srtt, .min_rtt = c->min_rtt,
					.cwnd = c->cwnd, .ssthresh = c->ssthresh};
		c->cc->on_idle(c->cc_priv, &v);
		c->cwnd = v.cwnd;
		c->ssthresh = v.ssthresh;
	}
	bool sent_any = false;
	uint32_t mss = eff_mss(c);
	for (int guard = 0; guard < 4096; guard++) {
		uint32_t pipe = pipe_of(c);
		uint32_t lt = (!(c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY)) && c->dupacks > 0)
				      ? USN_MIN(c->dupacks, 2u) * mss
				      : 0;
		if (pipe >= c->cwnd + lt && !(c->flags & USN_TCPF_FORCE))
			break;
		/* RFC 6675 §4 NextSeg (1): a lost segment first. */
		usn_seq_t s, e;
		if (usn_rtxq_next_lost(&c->rtxq, mss, &s, &e) == 0) {
			retransmit(c, s, e);
			sent_any = true;
			c->flags &= ~USN_TCPF_FORCE;
			if (!usn_timer_pending(&c->rtx_timer))
				usn_tcp_arm_rto(c);
			continue;
		}
		/* NextSeg (2): new data, within the peer's window. */
		usn_seq_t data_end = c->tx_seq + c->tx.len;
		uint32_t avail = usn_seq_gt(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
		usn_seq_t wnd_end = c->snd_una + c->snd_wnd;
		uint32_t wnd_avail = usn_seq_gt(wnd_end, c->snd_nxt) ? wnd_end - c->snd_nxt : 0;
		/* RFC 3042: the first two duplicate ACKs each let one new
		 * segment out beyond cwnd. */
		uint32_t cwnd = c->cwnd;
		if (!(c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY)) && c->dupacks > 0)
			cwnd += USN_MIN(c->dupacks, 2u) * mss;
		uint32_t cwnd_avail = cwnd > pipe ? cwnd - pipe : 0;
		/* With segmentation offload one frame carries up to 64 KB, a
		 * whole number of segments unless it is the last data. */
		uint32_t seg_max = mss;
		const struct usn_dev *dev = c->tcp->ip->dev;
		if (dev && (dev->offloads & USN_DEV_OFF_TSO) && (dev->offloads & USN_DEV_OFF_TX_CSUM))
			seg_max = (65535u - USN_IPV4_MIN_HLEN - USN_TCP_MAX_HLEN) / mss * mss;
		uint32_t len = USN_MIN(USN_MIN(avail, seg_max), USN_MIN(wnd_avail, cwnd_avail));
		if (len > mss && len < avail)
			len = len / mss * mss;
		bool fin = (c->flags & USN_TCPF_FIN_QUEUED) && !(c->flags & USN_TCPF_FIN_SENT) && len == avail;
		if (c->flags & USN_TCPF_FORCE) {
			/* The persist timer overrides SWS avoidance: send what
			 * the window takes, at least one byte. */
			if (len == 0 && avail > 0 && wnd_avail > 0)
				len = USN_MIN(USN_MIN(avail, wnd_avail), mss);
			c->flags &= ~USN_TCPF_FORCE;
		} else if (len == 0 && !fin) {
			break;
		} else if (len < mss && len < avail) {
			/* RFC 9293 §3.8.6.2.1: a partial segment only if it
			 * holds at least half the largest window seen. */
			if (len < c->max_snd_wnd / 2 || len == 0)
				break;
		} else if (len < mss && len == avail && !fin) {
			/* RFC 9293 §3.7.4 (Nagle): with data in flight, hold
			 * a small segment until it is acknowledged. */
			bool in_flight = c->snd_una != c->snd_nxt;
			if ((in_flight && !(c->flags & USN_TCPF_NODELAY)) || (c->flags & USN_TCPF_MORE))
				break;
		}
		if (len == 0 && !fin)
			break;
		uint8_t fl = USN_TCP_ACK;
		if (len > 0 && len == avail)
			fl |= USN_TCP_PSH;
		if (fin)
			fl |= USN_TCP_FIN;
		usn_seq_t start = c->snd_nxt;
		usn_seq_t end = start + len + (fin ? 1 : 0);
		if (usn_rtxq_push(&c->rtxq, start, end, fin ? USN_RTX_FIN : 0, now) < 0)
			break;
		xmit(c, start, fl, start - c->tx_seq, len);
		c->snd_nxt = end;
		if (fin)
			c->flags |= USN_TCPF_FIN_SENT;
		sent_any = true;
		/* RFC 6298 §3 without timestamps: time one segment at a time. */
		if (!(c->flags & USN_TCPF_TS) && c->rtt_time == 0) {
			c->rtt_seq = start;
			c->rtt_time = now;
		}
		if (!usn_timer_pending(&c->rtx_timer) || c->rtx_kind == USN_TCP_TK_PERSIST)
			usn_tcp_arm_rto_or_tlp(c); /* RFC 6298 §5.1, RFC 8985 §7.2 */
		if (fin)
			break;
	}
	/* RFC 9293 §3.8.6.1: a zero (or too small) window with data waiting
	 * and nothing in flight needs the persist timer. */
	usn_seq_t data_end = c->tx_seq + c->tx.len;
	bool waiting = usn_seq_gt(data_end, c->snd_nxt) ||
		       ((c->flags & USN_TCPF_FIN_QUEUED) && !(c->flags & USN_TCPF_FIN_SENT));
	if (waiting && usn_rtxq_empty(&c->rtxq))
		usn_tcp_arm_persist(c);
	if (!sent_any && (c->flags & USN_TCPF_ACK_NOW))
		usn_tcp_send_ack(c);
}

void usn_tcp_output_later(struct usn_tcp_conn *c)
{
	struct usn_tcp *tcp = c->tcp;
	if (c->flags & USN_TCPF_PENDING)
		return;
	if (tcp->npending == tcp->pending_cap) {
		uint32_t n = tcp->pending_cap ? tcp->pending_cap * 2 : 64;
		struct usn_tcp_conn **p = realloc(tcp->pending, (size_t)n * sizeof(*p));
		if (!p) {
			usn_tcp_output(c);
			return;
		}
		tcp->pending = p;
		tcp->pending_cap = n;
	}
	tcp->pending[tcp->npending++] = c;
	c->flags |= USN_TCPF_PENDING;
}

void usn_tcp_output_deferred(struct usn_tcp_conn *c)
{
	usn_tcp_output_later(c);
	if (c->flags & USN_TCPF_PENDING)
		c->flags |= USN_TCPF_DEFER;
}

static void flush(struct usn_tcp *tcp, bool keep_deferred)
{
	/* Output can free a connection (an orphan's last segment) or add
	 * another to the list (it does not now, but the loop allows it). */
	uint32_t kept = 0;
	for (uint32_t i = 0; i < tcp->npending; i++) {
		struct usn_tcp_conn *c = tcp->pending[i];
		if (!c)
			continue;
		tcp->pending[i] = NULL;
		if (keep_deferred && (c->flags & USN_TCPF_DEFER)) {
			tcp->pending[kept++] = c; /* kept < i + 1: already visited */
			continue;
		}
		c->flags &= ~(USN_TCPF_PENDING | USN_TCPF_DEFER);
		usn_tcp_output(c);
		/* A window the user's reads opened, if no segment said it
		 * (RFC 9293 §3.8.6.2.2: by min(buffer / 2, MSS) at least). */
		if ((c->flags & USN_TCPF_WND_UPDATE) &&
		    (c->state == USN_TCP_ESTABLISHED || c->state == USN_TCP_FIN_WAIT_1 ||
		     c->state == USN_TCP_FIN_WAIT_2)) {
			uint32_t cur = usn_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
			if (usn_tcp_rcv_window(c) >= cur + USN_MIN(c->rx.cap / 2, (uint32_t)c->adv_mss))
				usn_tcp_send_ack(c);
		}
		c->flags &= ~USN_TCPF_WND_UPDATE;
	}
	tcp->npending = kept;
}

void usn_tcp_flush(struct usn_tcp *tcp)
{
	flush(tcp, false);
}

void usn_tcp_flush_undeferred(struct usn_tcp *tcp)
{
	flush(tcp, true);
}

void usn_tcp_send_tlp(struct usn_tcp_conn *c)
{
	/* RFC 8985 §7.3: new data if the window allows, else the last
	 * segment sent again. */
	c->tlp_out = true;
	usn_seq_t data_end = c->tx_seq + c->tx.len;
	usn_seq_t wnd_end = c->snd_una + c->snd_wnd;
	if (usn_seq_gt(data_end, c->snd_nxt) && usn_seq_gt(wnd_end, c->snd_nxt)) {
		c->flags |= USN_TCPF_FORCE;
		usn_seq_t before = c->snd_nxt;
		usn_tcp_output(c);
		c->flags &= ~USN_TCPF_FORCE;
		if (c->snd_nxt != before) {
			c->tlp_end = c->snd_nxt;
			return;
		}
	}
	if (usn_rtxq_empty(&c->rtxq))
		return;
	struct usn_rtx_rec *last = usn_rtxq_at(&c->rtxq, c->rtxq.count - 1);
	if (last->flags & USN_RTX_SACKED)
		return;
	usn_seq_t start = last->start;
	if (last->end - start > eff_mss(c))
		start = last->end - eff_mss(c);
	retransmit(c, start, last->end);
	c->tlp_end = c->snd_nxt;
}
