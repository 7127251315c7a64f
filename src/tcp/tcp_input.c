/* SPDX-License-Identifier: MIT */
/*
 * tcp_input.c - segment arrival: RFC 9293 §3.10.7, in the RFC's order, so a
 * reader can hold the code against the text.
 *
 * Implements RFC 9293 §3.10.7.1 (CLOSED), §3.10.7.2 (LISTEN), §3.10.7.3
 * (SYN-SENT, with the SYN sent again at once after resetting an old
 * connection's ACK, §3.5.1), §3.10.7.4 (other states: sequence check, RST,
 * SYN, ACK, URG, text, FIN); RFC 5961 §3 (RST), §4 (SYN) and §5 (ACK)
 * blind-attack checks with rate-limited challenge ACKs (§7); RFC 7323 §4
 * (timestamps: RTTM and TS.Recent) and §5 (PAWS); RFC 2018 and RFC 6675
 * (SACK and loss recovery), RFC 5681 §3.2 and RFC 6582 (fast retransmit,
 * NewReno without SACK);
 * RFC 1122 §4.2.3.2 (delayed ACKs, at least every second full segment) and
 * RFC 5681 §4.2 (immediate ACK for out-of-order data and hole fills);
 * RFC 9293 §3.6.1 and RFC 6191 (TIME-WAIT reuse by a new SYN).
 * The state machine reads parsed headers (wire/) and the stack's clock; the
 * payload is only handed to the receive ring.
 */
#include <errno.h>
#include <string.h>

#include "tcp.h"
#include "util.h"

#define USN_TCP_DUPTHRESH 3        /* RFC 5681 §3.2, RFC 6675 §2 */
#define USN_TCP_PAWS_IDLE_NS (24ULL * 24 * 3600 * USN_NSEC_PER_SEC) /* RFC 7323 §5.5 */
#define USN_TCP_CHALLENGE_PER_SEC 1000 /* RFC 5961 §7, as Linux */

struct seg {
	struct usn_tcp_repr h;
	const struct usn_ipv4_repr *ip;
	uint32_t chain;
	uint32_t data_off; /* payload offset in the chain */
	uint32_t data_len;
	uint32_t len;      /* SEG.LEN: data + SYN + FIN */
	bool tw_reuse;     /* a SYN that ended a TIME-WAIT connection... */
	usn_seq_t tw_snd_nxt; /* ...whose SND.NXT was this */
};

static uint64_t now_of(const struct usn_tcp *tcp)
{
	return *tcp->ip->now;
}

/* ---- helpers shared by the states ---- */

static bool challenge_ack_ok(struct usn_tcp *tcp)
{
	uint64_t now = now_of(tcp);
	if (now - tcp->challenge_last >= USN_NSEC_PER_SEC) {
		tcp->challenge_last = now;
		tcp->challenge_tokens = USN_TCP_CHALLENGE_PER_SEC;
	}
	if (tcp->challenge_tokens == 0)
		return false;
	tcp->challenge_tokens--;
	return true;
}

/* RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void challenge_ack(struct usn_tcp_conn *c)
{
	struct usn_counters *ctr = c->tcp->ip->ctr;
	if (!challenge_ack_ok(c->tcp)) {
		USN_CTR_INC(ctr, TCP_CHALLENGE_ACK_LIMITED);
		return;
	}
	USN_CTR_INC(ctr, TCP_CHALLENGE_ACKS);
	usn_tcp_send_ack(c);
}

/* The ACK of two segments waits for the user's turn: of the SYN-ACK
 * (the connection opened: the user's first data, a request, goes with it)
 * and of the peer's FIN (the user closes then: the FIN goes with it). It
 * goes at the start of the stack's next pass, which comes at once (the
 * stack's timeout is 0 while output waits). Connections no user holds send
 * now. Other ACKs do not wait: a receiver's ACKs held for a pass delayed
 * the sender's clock by one batch of the receiver's work (usnet-load
 * fetching 64 KB from usnet-httpd: 7.0k -> 3.6k req/s).
 * DEVIATION(RFC 9293 §3.10.7.3, §3.10.7.4 "send an acknowledgment";
 * RFC 1122 §4.2.3.2): these two ACKs wait one pass of the application,
 * microseconds, where the RFCs let an ACK wait up to 500 ms. */
static void output_after_input(struct usn_tcp_conn *c)
{
	if (c->sd >= 0)
		usn_tcp_output_deferred(c);
	else
		usn_tcp_output(c);
}

static uint8_t choose_wscale(uint32_t buf)
{
	uint8_t ws = 0;
	while (ws < USN_TCP_MAX_WSCALE && ((uint32_t)65535 << ws) < buf)
		ws++;
	return ws;
}

/* Buffers, MSS and the initial window once the peer's options are known. */
int usn_tcp_conn_setup(struct usn_tcp_conn *c)
{
	struct usn_ip *ip = c->tcp->ip;
	if (!c->rx.cap && usn_bytering_init(&c->rx, c->rcvbuf) < 0)
		return -ENOMEM;
	if (!usn_txq_ready(&c->tx) && usn_txq_init(&c->tx, c->sndbuf) < 0)
		return -ENOMEM;
	c->rx.cache = c->tx.ring.cache = &c->tcp->ring_cache;
	uint32_t mtu_mss = (uint32_t)ip->mtu - USN_IPV4_MIN_HLEN - USN_TCP_MIN_HLEN;
	c->adv_mss = (uint16_t)mtu_mss;
	if (!c->rtxq.cap && usn_rtxq_init(&c->rtxq, c->tx.cap / 256 + 64) < 0)
		return -ENOMEM;
	c->rtxq.cache = &c->tcp->rtx_cache;
	c->rcv_wscale = choose_wscale(c->rx.cap);
	c->ts_offset = usn_tcp_ts_offset(c->tcp->key, c->t.laddr, c->t.raddr);
	return 0;
}

static void init_mss_cc(struct usn_tcp_conn *c);

/* The peer's SYN options (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2,
 * RFC 2018 §2); `we_offered` says whether our SYN offered each. */
static void take_syn_options(struct usn_tcp_conn *c, const struct usn_tcp_repr *h, bool active)
{
	const struct usn_tcp_opts *o = &h->opts;
	/* RFC 9293 §3.7.1: without the option the peer takes 536. */
	c->peer_mss = o->has_mss && o->mss > 0 ? o->mss : 536;
	if (o->has_wscale) {
		c->flags |= USN_TCPF_WSCALE;
		/* RFC 7323 §2.3: a shift over 14 is used as 14 (and logged). */
		c->snd_wscale = USN_MIN(o->wscale, USN_TCP_MAX_WSCALE);
	} else {
		c->flags &= ~USN_TCPF_WSCALE;
		c->snd_wscale = 0;
		c->rcv_wscale = 0; /* RFC 7323 §2.2: both sides or neither */
	}
	if (o->sack_perm)
		c->flags |= USN_TCPF_SACK;
	if (o->has_ts) {
		c->flags |= USN_TCPF_TS;
		c->ts_recent = o->ts_val;
		c->ts_recent_age = now_of(c->tcp);
	}
	(void)active;
	init_mss_cc(c);
}

/* The send MSS and the initial window once the options are settled. */
static void init_mss_cc(struct usn_tcp_conn *c)
{
	uint32_t mss = USN_MIN((uint32_t)c->peer_mss, (uint32_t)c->adv_mss);
	/* RFC 6691: the MSS counts no TCP options; timestamps take 12. */
	if (c->flags & USN_TCPF_TS)
		mss -= 12;
	if (mss < 64)
		mss = 64;
	c->mss = (uint16_t)mss;
	/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)). */
	c->cwnd = USN_MIN(10 * mss, USN_MAX(2 * mss, 14600u));
	c->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: arbitrarily high */
	struct usn_cc_view v = {.now = now_of(c->tcp), .mss = c->mss, .cwnd = c->cwnd, .ssthresh = c->ssthresh};
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	c->cc->init(c->cc_priv, &v);
	c->cwnd = v.cwnd;
	c->ssthresh = v.ssthresh;
}

static void update_ts_recent(struct usn_tcp_conn *c, const struct seg *s)
{
	/* RFC 7323 §4.3 (2): TS.Recent = SEG.TSval when
	 * SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent. */
	if (!(c->flags & USN_TCPF_TS) || !s->h.opts.has_ts)
		return;
	if ((int32_t)(s->h.opts.ts_val - c->ts_recent) >= 0 && usn_seq_leq(s->h.seq, c->last_ack_sent)) {
		c->ts_recent = s->h.opts.ts_val;
		c->ts_recent_age = now_of(c->tcp);
	}
}

/* Puts the payload into the receive ring at its place. Returns the bytes
 * the in-order data grew by, or -1 when it could not be kept. */
static int take_text(struct usn_tcp_conn *c, const struct seg *s, uint32_t skip, uint32_t off)
{
	struct usn_pool *pool = c->tcp->ip->pool;
	struct iovec iov[48];
	int n = 0;
	uint32_t pos = s->data_off + skip;
	uint32_t left = s->data_len - skip;
	for (uint32_t b = s->chain; b != USN_BUF_NONE && left > 0 && n < (int)USN_ARRAY_SIZE(iov);
	     b = usn_buf_meta(pool, b)->next) {
		uint32_t blen = usn_buf_len(pool, b);
		if (pos >= blen) {
			pos -= blen;
			continue;
		}
		uint32_t k = USN_MIN(blen - pos, left);
		iov[n].iov_base = usn_buf_data(pool, b) + pos;
		iov[n].iov_len = k;
		n++;
		left -= k;
		pos = 0;
	}
	int grew = usn_bytering_writev_at(&c->rx, off, iov, n);
	if (grew < 0) {
		USN_DROP(c->tcp->ip->ctr, TCP_DROP_OFO_LIMIT);
		return -1;
	}
	return grew;
}

/* ---- RFC 4987 §3.6: SYN cookies ---- */

#define USN_TCP_COOKIE_WINDOW_NS (2 * USN_SYNCOOKIE_PERIOD_NS)

/* Answers a SYN with a SYN-ACK whose ISN is a cookie, keeping no state. */
static void send_cookie_synack(struct usn_tcp *tcp, struct usn_tcp_conn *l, const struct seg *s)
{
	struct usn_counters *ctr = tcp->ip->ctr;
	uint64_t now = now_of(tcp);
	const struct usn_tcp_opts *po = &s->h.opts;
	uint16_t adv = (uint16_t)(tcp->ip->mtu - USN_IPV4_MIN_HLEN - USN_TCP_MIN_HLEN);
	uint16_t peer = po->has_mss && po->mss > 0 ? po->mss : 536;
	struct usn_syncookie_opts o = {0};
	o.mss = usn_syncookie_mss(USN_MIN(peer, adv));
	if (o.mss == 0) {
		USN_DROP(ctr, TCP_LISTEN_OVERFLOWS); /* no table entry fits */
		return;
	}
	o.ts_ok = po->has_ts;
	o.wscale_ok = po->has_wscale;
	o.snd_wscale = po->wscale;
	o.rcv_wscale = choose_wscale(l->rcvbuf);
	o.sack_ok = po->sack_perm;
	struct usn_tcp_4tuple t = {.laddr = s->ip->dst, .raddr = s->ip->src, .lport = s->h.dst_port,
				   .rport = s->h.src_port};
	uint32_t tsbase = (uint32_t)(now / USN_NSEC_PER_MSEC) + usn_tcp_ts_offset(tcp->key, t.laddr, t.raddr);
	uint32_t tsval = tsbase;
	uint32_t cookie = usn_syncookie_make(tcp->key, &t, s->h.seq, now, &o, tsbase, &tsval);
	struct usn_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = t.lport;
	r.dst_port = t.rport;
	r.seq = cookie;
	r.ack = s->h.seq + 1;
	r.flags = USN_TCP_SYN | USN_TCP_ACK;
	r.window = (uint16_t)USN_MIN(l->rcvbuf, 65535u);
	r.opts.has_mss = true;
	r.opts.mss = adv;
	/* Without timestamps the cookie cannot carry window scaling or SACK:
	 * the connection goes without (RFC 4987 §3.6). */
	if (o.ts_ok) {
		r.opts.has_ts = true;
		r.opts.ts_val = tsval;
		r.opts.ts_ecr = po->ts_val;
		if (o.wscale_ok) {
			r.opts.has_wscale = true;
			r.opts.wscale = o.rcv_wscale;
		}
		r.opts.sack_perm = o.sack_ok;
	}
	uint8_t hdr[USN_TCP_MAX_HLEN];
	int hlen = usn_tcp_emit(&r, t.laddr, t.raddr, 0, 0, hdr, sizeof(hdr));
	if (hlen < 0)
		return;
	struct usn_ip_payload pl = {.hdr = hdr, .hdr_len = (uint32_t)hlen, .chain = USN_BUF_NONE};
	if (usn_ip_output(tcp->ip, t.laddr, t.raddr, USN_IPPROTO_TCP, 0, true, &pl) == 0) {
		USN_CTR_INC(ctr, TCP_OUT_SEGS);
		USN_CTR_INC(ctr, TCP_SYNCOOKIES_SENT);
		tcp->last_cookie_time = now ? now : 1;
	}
}

/* An ACK to a listener that may complete a cookie handshake: the new
 * connection, in ESTABLISHED and queued for accept(), or NULL. */
static struct usn_tcp_conn *cookie_ack(struct usn_tcp *tcp, struct usn_tcp_conn *l, const struct seg *s)
{
	struct usn_counters *ctr = tcp->ip->ctr;
	uint64_t now = now_of(tcp);
	struct usn_tcp_4tuple t = {.laddr = s->ip->dst, .raddr = s->ip->src, .lport = s->h.dst_port,
				   .rport = s->h.src_port};
	struct usn_syncookie_opts o;
	if (usn_syncookie_check(tcp->key, &t, s->h.seq - 1, s->h.ack - 1, now, s->h.opts.has_ts, s->h.opts.ts_ecr,
				&o) < 0) {
		USN_DROP(ctr, TCP_SYNCOOKIES_FAILED);
		return NULL;
	}
	if (l->accept_len >= l->backlog) {
		USN_DROP(ctr, TCP_LISTEN_OVERFLOWS);
		return NULL;
	}
	struct usn_tcp_conn *c = usn_tcp_conn_new(tcp, -1);
	if (!c)
		return NULL;
	c->t = t;
	c->rcvbuf = l->rcvbuf;
	c->sndbuf = l->sndbuf;
	c->cc = l->cc;
	c->flags |= (l->flags & (USN_TCPF_NODELAY | USN_TCPF_KEEPALIVE)) | USN_TCPF_COOKIE;
	c->keep_idle_s = l->keep_idle_s;
	c->keep_intvl_s = l->keep_intvl_s;
	c->keep_cnt = l->keep_cnt;
	if (usn_tcp_conn_setup(c) < 0) {
		usn_tcp_conn_free(c);
		return NULL;
	}
	c->irs = s->h.seq - 1;
	c->rcv_nxt = s->h.seq;
	c->rcv_adv = c->rcv_nxt + USN_MIN(l->rcvbuf, 65535u);
	c->last_ack_sent = c->rcv_nxt;
	c->iss = s->h.ack - 1;
	c->snd_una = c->snd_nxt = c->tx_seq = s->h.ack;
	c->recover = c->iss;
	c->peer_mss = o.mss;
	if (o.ts_ok) {
		c->flags |= USN_TCPF_TS;
		c->ts_recent = s->h.opts.ts_val;
		c->ts_recent_age = now;
	}
	if (o.sack_ok)
		c->flags |= USN_TCPF_SACK;
	if (o.wscale_ok) {
		c->flags |= USN_TCPF_WSCALE;
		c->snd_wscale = o.snd_wscale;
		c->rcv_wscale = o.rcv_wscale;
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
	}
	init_mss_cc(c);
	c->snd_wnd = (uint32_t)s->h.window << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->h.seq;
	c->snd_wl2 = s->h.ack;
	c->last_rcv = now;
	usn_tcp_set_state(c, USN_TCP_ESTABLISHED);
	usn_tcp_hash_insert(c);
	c->listener = l;
	if (l->accept_tail)
		l->accept_tail->qnext = c;
	else
		l->accept_head = c;
	l->accept_tail = c;
	l->accept_len++;
	USN_CTR_INC(ctr, TCP_SYNCOOKIES_RECV);
	USN_CTR_INC(ctr, TCP_PASSIVE_OPENS);
	usn_tcp_arm_keepalive(c);
	usn_tcp_notify(l);
	return c;
}

static void established_input(struct usn_tcp_conn *c, struct seg *s);

/* ---- RFC 9293 §3.10.7.2: LISTEN ---- */

static void listen_input(struct usn_tcp *tcp, struct usn_tcp_conn *l, struct seg *s)
{
	struct usn_counters *ctr = tcp->ip->ctr;
	/* First, check for a RST: ignore it. */
	if (s->h.flags & USN_TCP_RST)
		return;
	/* Second, an ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST> - unless it
	 * completes a SYN cookie handshake (RFC 4987 §3.6). */
	if (s->h.flags & USN_TCP_ACK) {
		if (!(s->h.flags & USN_TCP_SYN) && tcp->last_cookie_time && now_of(tcp) >= tcp->last_cookie_time &&
		    now_of(tcp) - tcp->last_cookie_time < USN_TCP_COOKIE_WINDOW_NS) {
			struct usn_tcp_conn *c = cookie_ack(tcp, l, s);
			if (c) {
				established_input(c, s); /* its data and FIN */
				return;
			}
			/* DEVIATION(RFC 9293 §3.10.7.2): while cookies are in
			 * use an ACK that fails the check is dropped, not
			 * reset: it may be data that overtook the ACK that
			 * completes the handshake, and the peer will send
			 * that again. */
			return;
		}
		USN_CTR_INC(ctr, TCP_DROP_BAD_ACK);
		usn_tcp_send_reset_for(tcp, s->ip, &s->h, s->len);
		return;
	}
	/* Third, a SYN. */
	if (!(s->h.flags & USN_TCP_SYN)) {
		USN_DROP(ctr, TCP_DROP_NO_FLAGS);
		return;
	}
	if (l->accept_len >= l->backlog) {
		USN_DROP(ctr, TCP_LISTEN_OVERFLOWS);
		return;
	}
	if (l->syn_len >= tcp->syn_backlog) {
		/* RFC 4987 §3.6: the SYN queue is full: answer statelessly. */
		send_cookie_synack(tcp, l, s);
		return;
	}
	struct usn_tcp_conn *c = usn_tcp_conn_new(tcp, -1);
	if (!c)
		return;
	c->t = (struct usn_tcp_4tuple){.laddr = s->ip->dst, .raddr = s->ip->src, .lport = s->h.dst_port,
				       .rport = s->h.src_port};
	c->rcvbuf = l->rcvbuf;
	c->sndbuf = l->sndbuf;
	c->cc = l->cc;
	c->flags |= l->flags & (USN_TCPF_NODELAY | USN_TCPF_KEEPALIVE);
	c->keep_idle_s = l->keep_idle_s;
	c->keep_intvl_s = l->keep_intvl_s;
	c->keep_cnt = l->keep_cnt;
	if (usn_tcp_conn_setup(c) < 0) {
		usn_tcp_conn_free(c);
		USN_CTR_INC(ctr, TCP_CONN_ALLOC_FAIL);
		return;
	}
	c->irs = s->h.seq;
	c->rcv_nxt = s->h.seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	take_syn_options(c, &s->h, false);
	/* RFC 6528 */
	c->iss = usn_tcp_isn(tcp->key, &c->t, now_of(tcp));
	/* RFC 9293 §3.6.1 (MAY-2): reopened from TIME-WAIT, the connection
	 * "assigns its initial sequence number for the new connection to be
	 * larger than the largest sequence number it used on the previous
	 * connection incarnation"; the RFC 6528 clock (4 µs) alone does not
	 * when the old one sent faster than it ticks. */
	if (s->tw_reuse && usn_seq_lt(c->iss, s->tw_snd_nxt))
		c->iss = s->tw_snd_nxt;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->tx_seq = c->iss + 1;
	c->snd_wnd = s->h.window; /* RFC 7323 §2.2: not scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->h.seq;
	c->snd_wl2 = c->iss;
	c->recover = c->iss;
	c->last_rcv = now_of(tcp);
	usn_tcp_set_state(c, USN_TCP_SYN_RECEIVED);
	c->listener = l;
	c->qnext = l->syn_head;
	l->syn_head = c;
	l->syn_len++;
	usn_tcp_hash_insert(c);
	usn_rtxq_push(&c->rtxq, c->iss, c->iss + 1, USN_RTX_SYN, now_of(tcp));
	USN_CTR_INC(ctr, TCP_PASSIVE_OPENS);
	/* Data on the SYN is not kept; the peer sends it again (no TFO). */
	usn_tcp_send_syn(c);
	usn_tcp_arm_rto(c);
}

/* ---- RFC 9293 §3.10.7.3: SYN-SENT ---- */

/* After the RST that answers an unacceptable ACK in SYN-SENT, the SYN goes
 * out again at once. RFC 9293 §3.5.1 (Figure 9, half-open connection
 * discovery) shows the sequence: the peer ACKs our SYN from an old
 * connection, our RST <SEQ=SEG.ACK> ends that connection, and we go on
 * trying to open ours, now a plain three-way handshake. The common case is a
 * peer that holds the same 4-tuple in TIME-WAIT from an earlier
 * incarnation (another process, with another secret, so another ISN and
 * timestamp offset) and refuses our SYN under RFC 6191: Linux ACKs it,
 * takes the RST to end its TIME-WAIT (tcp_rfc1337 = 0), and would
 * otherwise see our SYN again only when the RTO (1 s) fires.
 * Not a DEVIATION: RFC 9293 does not say when the SYN is tried again, and
 * RFC 6298 governs only retransmission on a timeout; this one is not
 * (the timer keeps running as it was, with no backoff, and it does not
 * count toward the SYN retry limit). Once per connection, so that forged
 * ACKs cannot make us send SYNs without bound. */
static void syn_retry_after_rst(struct usn_tcp_conn *c)
{
	struct usn_counters *ctr = c->tcp->ip->ctr;
	if (c->flags & USN_TCPF_SYN_RETRIED)
		return;
	c->flags |= USN_TCPF_SYN_RETRIED;
	/* RFC 6298 §3 (Karn): the SYN-ACK may answer either SYN, so it gives
	 * no RTT sample. */
	usn_rtxq_mark_retransmitted(&c->rtxq, c->snd_una, c->snd_nxt, now_of(c->tcp));
	c->total_retrans++;
	USN_CTR_INC(ctr, TCP_RETRANS_SEGS);
	USN_CTR_INC(ctr, TCP_SYN_RETRY_AFTER_RST);
	usn_tcp_send_syn(c);
}

static void syn_sent_input(struct usn_tcp_conn *c, struct seg *s)
{
	struct usn_tcp *tcp = c->tcp;
	struct usn_counters *ctr = tcp->ip->ctr;
	bool ack_ok = false;
	/* First, the ACK bit. RFC 9293 §3.10.7.3: "If SEG.ACK =< ISS or
	 * SEG.ACK > SND.NXT, send a reset (unless the RST bit is set, if so
	 * drop the segment and return) <SEQ=SEG.ACK><CTL=RST>". */
	if (s->h.flags & USN_TCP_ACK) {
		if (usn_seq_leq(s->h.ack, c->iss) || usn_seq_gt(s->h.ack, c->snd_nxt)) {
			USN_CTR_INC(ctr, TCP_DROP_BAD_ACK);
			if (!(s->h.flags & USN_TCP_RST)) {
				usn_tcp_send_reset_for(tcp, s->ip, &s->h, s->len);
				syn_retry_after_rst(c);
			}
			return;
		}
		ack_ok = true; /* SND.UNA < SEG.ACK =< SND.NXT */
	}
	/* Second, the RST bit: with an acceptable ACK the connection is
	 * refused; without one the RST is dropped (RFC 5961 §3 keeps the
	 * acceptable-ACK rule in SYN-SENT). */
	if (s->h.flags & USN_TCP_RST) {
		if (ack_ok) {
			USN_CTR_INC(ctr, TCP_IN_RSTS);
			USN_CTR_INC(ctr, TCP_ATTEMPT_FAILS);
			usn_tcp_conn_done(c, ECONNREFUSED);
		}
		return;
	}
	/* Fourth, the SYN bit. */
	if (!(s->h.flags & USN_TCP_SYN))
		return;
	c->irs = s->h.seq;
	c->rcv_nxt = s->h.seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	uint8_t our_ws = c->rcv_wscale;
	take_syn_options(c, &s->h, true);
	if (c->flags & USN_TCPF_WSCALE)
		c->rcv_wscale = our_ws;
	c->last_rcv = now_of(tcp);
	if (ack_ok) {
		uint64_t t;
		usn_rtxq_ack(&c->rtxq, s->h.ack, &t);
		/* DEVIATION(RFC 6298 §2.2): a SYN sent at time 0 (virtual time
		 * only) gives no sample, because 0 means "none" here. */
		if (t)
			usn_tcp_rtt_sample(c, now_of(tcp) - t);
		c->snd_una = s->h.ack;
		c->retries = 0;
		c->snd_wnd = s->h.window; /* not scaled in a SYN (RFC 7323 §2.2) */
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->h.seq;
		c->snd_wl2 = s->h.ack;
		usn_tcp_set_state(c, USN_TCP_ESTABLISHED);
		usn_timer_cancel(tcp->ip->wheel, &c->rtx_timer);
		c->rtx_kind = USN_TCP_TK_NONE;
		usn_tcp_arm_keepalive(c);
		/* Data carried by the SYN-ACK, in order. */
		if (s->data_len > 0) {
			int grew = take_text(c, s, 0, 0);
			if (grew > 0) {
				c->rcv_nxt += (uint32_t)grew;
				c->bytes_received += (uint32_t)grew;
			}
		}
		c->flags |= USN_TCPF_ACK_NOW;
		usn_tcp_notify(c); /* connect() completed: writable */
		/* The third segment of the handshake waits for the user's
		 * first data, which it carries (RFC 9293 §3.5 allows data on
		 * it), until the next pass at most. */
		output_after_input(c);
		return;
	}
	/* Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	c->snd_wnd = s->h.window;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->h.seq;
	usn_tcp_set_state(c, USN_TCP_SYN_RECEIVED);
	usn_tcp_send_syn(c);
}

/* ---- RFC 9293 §3.10.7.4: the synchronized states ---- */

static bool seq_acceptable(const struct usn_tcp_conn *c, const struct seg *s, uint32_t wnd)
{
	usn_seq_t seq = s->h.seq;
	if (s->len == 0) {
		if (wnd == 0)
			return seq == c->rcv_nxt;
		return usn_seq_in(seq, c->rcv_nxt, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return usn_seq_in(seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
	       usn_seq_in(seq + s->len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* Moves a child that completed its handshake to the accept queue. */
static bool child_established(struct usn_tcp_conn *c)
{
	struct usn_tcp_conn *l = c->listener;
	if (!l)
		return true; /* simultaneous open: no listener */
	if (l->accept_len >= l->backlog) {
		USN_DROP(c->tcp->ip->ctr, TCP_LISTEN_OVERFLOWS);
		return false;
	}
	for (struct usn_tcp_conn **pp = &l->syn_head; *pp; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			l->syn_len--;
			break;
		}
	c->qnext = NULL;
	if (l->accept_tail)
		l->accept_tail->qnext = c;
	else
		l->accept_head = c;
	l->accept_tail = c;
	l->accept_len++;
	usn_tcp_notify(l);
	return true;
}

void usn_tcp_enter_recovery(struct usn_tcp_conn *c)
{
	if (c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY))
		return;
	/* RFC 6582 §3.2 step 1 / RFC 6675 §5: one reduction per window; a
	 * loss of data sent before the last reduction is repaired without a
	 * new one. */
	if (!usn_seq_gt(c->snd_una, c->recover))
		return;
	USN_CTR_INC(c->tcp->ip->ctr, TCP_FAST_RETRANS);
	c->recover = c->snd_nxt;
	struct usn_cc_view v = {
		.now = now_of(c->tcp), .mss = c->mss, .flight = usn_rtxq_pipe(&c->rtxq), .srtt = c->srtt,
		.min_rtt = c->min_rtt, .cwnd = c->cwnd, .ssthresh = c->ssthresh,
	};
	c->cc->on_congestion(c->cc_priv, &v, USN_CC_EV_FAST_RETRANSMIT);
	c->cwnd = v.cwnd;
	c->ssthresh = v.ssthresh;
	c->flags |= USN_TCPF_IN_RECOVERY;
}

uint32_t usn_tcp_rack_detect(struct usn_tcp_conn *c)
{
	if (!(c->flags & USN_TCPF_SACK) || c->rack_xmit_ts == 0 || usn_rtxq_empty(&c->rtxq))
		return 0;
	/* RFC 8985 §6.2 step 4: reo_wnd = min_RTT / 4, at most SRTT.
	 * DEVIATION(RFC 8985 §6.2 step 4): the window does not adapt to
	 * D-SACKs and is not zeroed in recovery, because reordering is not
	 * tracked yet; the cost is slower detection, never a false one. */
	uint64_t reo = USN_MIN(c->min_rtt / 4, c->srtt);
	uint64_t timeout = 0;
	uint32_t lost = usn_rtxq_mark_lost_rack(&c->rtxq, c->rack_xmit_ts, c->rack_end, reo, c->rack_rtt,
						now_of(c->tcp), &timeout);
	if (timeout > 0)
		usn_tcp_arm_reo(c, timeout);
	return lost;
}

/* RFC 8985 §6.2 step 2: the most recently sent segment delivered. */
static void rack_update(struct usn_tcp_conn *c, uint64_t xmit, usn_seq_t end)
{
	if (xmit == 0)
		return;
	if (xmit > c->rack_xmit_ts || (xmit == c->rack_xmit_ts && usn_seq_gt(end, c->rack_end))) {
		c->rack_xmit_ts = xmit;
		c->rack_end = end;
		c->rack_rtt = now_of(c->tcp) - xmit;
	}
}

/* Loss detection after an ACK: DupThresh (RFC 5681 §3.2), RFC 6675 §5
 * IsLost and RACK (RFC 8985 §6); entering recovery when loss is found. */
static void loss_detection(struct usn_tcp_conn *c, bool dupack)
{
	bool sack = (c->flags & USN_TCPF_SACK) != 0;
	if (c->snd_una == c->snd_nxt)
		return;
	bool lost = false;
	if (sack) {
		if (usn_tcp_rack_detect(c) > 0)
			lost = true;
		/* RFC 6675 §5 (step 4 of the dupack rules): IsLost(HighACK+1). */
		if (usn_rtxq_is_lost(&c->rtxq, c->snd_una, c->mss, USN_TCP_DUPTHRESH))
			lost = true;
		if (usn_rtxq_mark_lost_6675(&c->rtxq, c->mss, USN_TCP_DUPTHRESH) > 0)
			lost = true;
	} else if (dupack && c->dupacks == USN_TCP_DUPTHRESH &&
		   !(c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY))) {
		/* RFC 5681 §3.2 step 2: retransmit the first unacked segment. */
		if (usn_seq_gt(c->snd_una, c->recover)) {
			usn_rtxq_mark_lost_head(&c->rtxq, c->mss);
			lost = true;
		}
	}
	if (lost)
		usn_tcp_enter_recovery(c);
}

/* The fifth check of §3.10.7.4 for the established-like states: a new
 * cumulative ACK. */
static void new_ack(struct usn_tcp_conn *c, const struct seg *s)
{
	struct usn_tcp *tcp = c->tcp;
	uint64_t now = now_of(tcp);
	usn_seq_t ack = s->h.ack;
	uint32_t acked = ack - c->snd_una;
	uint64_t rec_time = 0;
	usn_rtxq_ack(&c->rtxq, ack, &rec_time);
	rack_update(c, rec_time, ack);
	c->tlp_out = false;
	/* RTT: RFC 7323 §4 (RTTM) with timestamps, else Karn's sample. */
	if ((c->flags & USN_TCPF_TS) && s->h.opts.has_ts && s->h.opts.ts_ecr != 0) {
		uint32_t d = usn_tcp_ts_now(c) - s->h.opts.ts_ecr;
		if (d < 60000)
			usn_tcp_rtt_sample(c, (uint64_t)d * USN_NSEC_PER_MSEC + USN_NSEC_PER_MSEC / 2);
	} else if (!(c->flags & USN_TCPF_TS) && c->rtt_time && usn_seq_gt(ack, c->rtt_seq)) {
		usn_tcp_rtt_sample(c, now - c->rtt_time);
		c->rtt_time = 0;
	}
	/* Acked data leaves the send ring (the SYN and FIN hold no bytes). */
	usn_seq_t data_end = c->tx_seq + c->tx.len;
	usn_seq_t upto = usn_seq_min(ack, data_end);
	if (usn_seq_gt(upto, c->tx_seq)) {
		uint32_t n = upto - c->tx_seq;
		usn_txq_consume(&c->tx, n);
		c->tx_seq = upto;
	}
	c->snd_una = ack;
	c->bytes_acked += acked;
	c->retries = 0;
	c->dupacks = 0;
	/* Congestion control. */
	struct usn_cc_view v = {
		.now = now, .mss = c->mss, .flight = usn_rtxq_pipe(&c->rtxq), .srtt = c->srtt,
		.min_rtt = c->min_rtt, .cwnd = c->cwnd, .ssthresh = c->ssthresh,
	};
	if (c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY)) {
		if (usn_seq_geq(ack, c->recover)) {
			/* RFC 6582 §3.2 step 3 / RFC 6675 §5: full ACK ends it. */
			if (c->flags & USN_TCPF_IN_RECOVERY)
				c->cc->on_recovery_end(c->cc_priv, &v);
			c->flags &= ~(USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY);
		} else if ((c->flags & USN_TCPF_IN_RECOVERY) && !(c->flags & USN_TCPF_SACK)) {
			/* RFC 6582 §3.2 step 3, partial ACK: retransmit the
			 * first unacknowledged segment. */
			usn_rtxq_mark_lost_head(&c->rtxq, c->mss);
		} else if (c->flags & USN_TCPF_RTO_RECOVERY) {
			/* Slow start continues through the retransmissions. */
			c->cc->on_ack(c->cc_priv, &v, acked, 0);
		}
	} else {
		v.app_limited = usn_rtxq_pipe(&c->rtxq) + c->mss < c->cwnd &&
				c->tx_seq + c->tx.len == c->snd_nxt;
		c->cc->on_ack(c->cc_priv, &v, acked, c->srtt);
	}
	c->cwnd = v.cwnd;
	c->ssthresh = v.ssthresh;
	/* RFC 6298 §5.2 and §5.3. */
	if (c->snd_una == c->snd_nxt) {
		if (c->rtx_kind == USN_TCP_TK_RTO || c->rtx_kind == USN_TCP_TK_TLP || c->rtx_kind == USN_TCP_TK_REO) {
			usn_timer_cancel(tcp->ip->wheel, &c->rtx_timer);
			c->rtx_kind = USN_TCP_TK_NONE;
		}
	} else {
		usn_tcp_arm_rto_or_tlp(c);
	}
	if (c->sd >= 0 && usn_txq_ready(&c->tx))
		usn_tcp_notify(c);
}

static void established_input(struct usn_tcp_conn *c, struct seg *s)
{
	struct usn_tcp *tcp = c->tcp;
	struct usn_counters *ctr = tcp->ip->ctr;
	uint64_t now = now_of(tcp);
	uint32_t wnd = usn_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	/* RFC 7323 §5.3: PAWS, before the sequence check. */
	if ((c->flags & USN_TCPF_TS) && s->h.opts.has_ts && !(s->h.flags & USN_TCP_RST) &&
	    (int32_t)(s->h.opts.ts_val - c->ts_recent) < 0 && now - c->ts_recent_age < USN_TCP_PAWS_IDLE_NS) {
		USN_DROP(ctr, TCP_DROP_PAWS);
		usn_tcp_send_ack(c);
		return;
	}
	/* A retransmitted SYN in SYN-RECEIVED: answer with the SYN-ACK again. */
	if (c->state == USN_TCP_SYN_RECEIVED && (s->h.flags & USN_TCP_SYN) && !(s->h.flags & USN_TCP_ACK) &&
	    s->h.seq == c->irs) {
		usn_tcp_send_syn(c);
		return;
	}
	/* First, the sequence number. */
	if (!seq_acceptable(c, s, wnd)) {
		if (!(s->h.flags & USN_TCP_RST)) {
			USN_DROP(ctr, TCP_DROP_OUT_OF_WINDOW);
			/* RFC 9293 §3.10.7.4: a retransmitted FIN in TIME-WAIT
			 * restarts the 2 MSL timer. */
			if (c->state == USN_TCP_TIME_WAIT && (s->h.flags & USN_TCP_FIN))
				usn_tcp_arm_timewait(c);
			usn_tcp_send_ack(c);
		} else {
			USN_DROP(ctr, TCP_DROP_RST_BAD_SEQ);
		}
		return;
	}
	/* Trim to the window: bytes before RCV.NXT and past its right edge. */
	uint32_t skip = 0;
	bool syn = (s->h.flags & USN_TCP_SYN) != 0;
	bool fin = (s->h.flags & USN_TCP_FIN) != 0;
	if (usn_seq_lt(s->h.seq, c->rcv_nxt)) {
		uint32_t before = c->rcv_nxt - s->h.seq;
		if (syn) {
			before--;
			syn = false;
		}
		skip = USN_MIN(before, s->data_len);
	}

	/* Second, the RST bit (RFC 5961 §3.2). */
	if (s->h.flags & USN_TCP_RST) {
		if (s->h.seq != c->rcv_nxt) {
			challenge_ack(c);
			return;
		}
		USN_CTR_INC(ctr, TCP_IN_RSTS);
		switch (c->state) {
		case USN_TCP_SYN_RECEIVED:
			/* Passive open: back to LISTEN, i.e. the child goes. */
			usn_tcp_conn_done(c, c->listener ? 0 : ECONNREFUSED);
			return;
		case USN_TCP_ESTABLISHED:
		case USN_TCP_CLOSE_WAIT:
			USN_CTR_INC(ctr, TCP_ESTAB_RESETS);
			/* fallthrough */
		case USN_TCP_FIN_WAIT_1:
		case USN_TCP_FIN_WAIT_2:
			usn_tcp_conn_done(c, ECONNRESET);
			return;
		default:
			usn_tcp_conn_done(c, 0);
			return;
		}
	}
	/* Fourth, the SYN bit (RFC 5961 §4.2): a challenge ACK, whatever the
	 * sequence number. */
	if (syn) {
		challenge_ack(c);
		return;
	}
	/* Fifth, the ACK field. */
	if (!(s->h.flags & USN_TCP_ACK)) {
		USN_DROP(ctr, TCP_DROP_NO_FLAGS);
		return;
	}
	/* RFC 5961 §5.2: acceptable ACKs are in
	 * [SND.UNA - MAX.SND.WND, SND.NXT]. */
	if (usn_seq_gt(s->h.ack, c->snd_nxt)) {
		USN_DROP(ctr, TCP_DROP_ACK_UNSENT);
		challenge_ack(c);
		return;
	}
	if (usn_seq_lt(s->h.ack, c->snd_una - c->max_snd_wnd)) {
		USN_DROP(ctr, TCP_DROP_BAD_ACK);
		challenge_ack(c);
		return;
	}
	if (c->state == USN_TCP_SYN_RECEIVED) {
		if (!usn_seq_gt(s->h.ack, c->snd_una)) {
			USN_CTR_INC(ctr, TCP_DROP_BAD_ACK);
			usn_tcp_send_reset_for(tcp, s->ip, &s->h, s->len);
			return;
		}
		if (!child_established(c))
			return; /* the ACK is dropped; the SYN-ACK will be resent */
		/* A close requested in SYN-RECEIVED goes ahead now
		 * (RFC 9293 §3.10.4). */
		usn_tcp_set_state(c, (c->flags & USN_TCPF_FIN_QUEUED) ? USN_TCP_FIN_WAIT_1 : USN_TCP_ESTABLISHED);
		c->snd_wnd = (uint32_t)s->h.window << c->snd_wscale;
		c->max_snd_wnd = USN_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = s->h.seq;
		c->snd_wl2 = s->h.ack;
		usn_tcp_arm_keepalive(c);
		usn_tcp_notify(c);
	}
	update_ts_recent(c, s);
	c->last_rcv = now;
	c->keep_probes = 0;
	bool dupack = false;
	if (usn_seq_gt(s->h.ack, c->snd_una)) {
		new_ack(c, s);
	} else if (s->h.ack == c->snd_una && s->data_len == 0 && !fin && c->snd_una != c->snd_nxt &&
		   ((uint32_t)s->h.window << c->snd_wscale) == c->snd_wnd) {
		/* RFC 5681 §2: a duplicate acknowledgment. */
		c->dupacks++;
		dupack = true;
	}
	if ((c->flags & USN_TCPF_SACK) && s->h.opts.nsack > 0) {
		bool dsack = false;
		uint64_t newest = 0;
		usn_seq_t newest_end = c->snd_una;
		usn_rtxq_sack_ex(&c->rtxq, c->snd_una, s->h.opts.sack, s->h.opts.nsack, &dsack, &newest, &newest_end);
		rack_update(c, newest, newest_end);
	}
	loss_detection(c, dupack);
	/* Window update: RFC 9293 §3.10.7.4, SND.WL1/SND.WL2 rule. */
	if (usn_seq_lt(c->snd_wl1, s->h.seq) ||
	    (c->snd_wl1 == s->h.seq && usn_seq_leq(c->snd_wl2, s->h.ack))) {
		uint32_t old = c->snd_wnd;
		c->snd_wnd = (uint32_t)s->h.window << c->snd_wscale;
		c->snd_wl1 = s->h.seq;
		c->snd_wl2 = s->h.ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		if (old == 0 && c->snd_wnd > 0 && c->rtx_kind == USN_TCP_TK_PERSIST) {
			usn_timer_cancel(tcp->ip->wheel, &c->rtx_timer);
			c->rtx_kind = USN_TCP_TK_NONE;
			c->backoff = 0;
		}
	}
	/* Our FIN acknowledged? */
	bool fin_acked = (c->flags & USN_TCPF_FIN_SENT) && c->snd_una == c->snd_nxt;
	switch (c->state) {
	case USN_TCP_FIN_WAIT_1:
		if (fin_acked) {
			usn_tcp_set_state(c, USN_TCP_FIN_WAIT_2);
			/* An orphan may wait forever for the peer's FIN:
			 * bound it (Linux's tcp_fin_timeout). */
			if (c->flags & USN_TCPF_ORPHAN)
				usn_tcp_arm_finwait2(c);
		}
		break;
	case USN_TCP_CLOSING:
		if (fin_acked) {
			usn_tcp_set_state(c, USN_TCP_TIME_WAIT);
			usn_tcp_arm_timewait(c);
		}
		break;
	case USN_TCP_LAST_ACK:
		if (fin_acked) {
			usn_tcp_conn_done(c, 0);
			return;
		}
		break;
	case USN_TCP_TIME_WAIT:
		/* Only a retransmitted FIN can arrive: ACK it, restart. */
		break;
	default:
		break;
	}

	/* Sixth, the URG bit: taken in line, the pointer is not used
	 * (RFC 6093 §5: new applications SHOULD NOT use urgent data). */
	if (s->h.flags & USN_TCP_URG)
		USN_CTR_INC(ctr, TCP_RX_URGENT);

	/* Seventh, the segment text. */
	uint32_t text = s->data_len - skip;
	if (text > 0) {
		switch (c->state) {
		case USN_TCP_ESTABLISHED:
		case USN_TCP_FIN_WAIT_1:
		case USN_TCP_FIN_WAIT_2:
			break;
		default:
			text = 0; /* the peer's FIN came before: RFC 9293 ignores it */
			break;
		}
	}
	if (text > 0 && (c->flags & (USN_TCPF_ORPHAN | USN_TCPF_RD_SHUT))) {
		/* RFC 9293 §3.10.7.4 / RFC 2525 §2.17: nobody will read it:
		 * reset, as Linux does. */
		USN_DROP(ctr, TCP_DROP_AFTER_CLOSE);
		usn_tcp_send_rst(c);
		usn_tcp_conn_done(c, 0);
		return;
	}
	bool fin_in_order = false;
	if (text > 0) {
		uint32_t off = (s->h.seq + skip) - c->rcv_nxt;
		uint32_t before_ooo = c->rx.nranges;
		uint32_t space = usn_bytering_space(&c->rx);
		if (off + text > space)
			USN_CTR_ADD(ctr, TCP_DROP_RCVBUF_FULL, off + text - USN_MIN(space, off + text));
		int grew = take_text(c, s, skip, off);
		if (grew > 0) {
			c->rcv_nxt += (uint32_t)grew;
			c->bytes_received += (uint32_t)grew;
			usn_tcp_notify(c);
		}
		if (off > 0) {
			/* RFC 5681 §4.2: an out-of-order segment is ACKed at once. */
			USN_CTR_INC(ctr, TCP_OFO_QUEUED);
			c->flags |= USN_TCPF_ACK_NOW;
		} else if (before_ooo > 0) {
			c->flags |= USN_TCPF_ACK_NOW; /* a hole was filled */
		} else {
			/* RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: ACK at least
			 * every second full-sized segment, else within 500 ms. */
			if (++c->unacked_segs >= 2 || text < c->mss)
				c->flags |= c->unacked_segs >= 2 ? USN_TCPF_ACK_NOW : 0;
			if (!(c->flags & USN_TCPF_ACK_NOW))
				usn_tcp_arm_delack(c);
		}
		fin_in_order = fin && s->h.seq + s->data_len == c->rcv_nxt;
	} else if (fin) {
		fin_in_order = s->h.seq + s->data_len == c->rcv_nxt;
		if (s->data_len > 0 && skip == s->data_len)
			fin_in_order = s->h.seq + s->data_len == c->rcv_nxt;
	}

	/* Eighth, the FIN bit. */
	bool fin_now = false;
	if (fin && fin_in_order && !(c->flags & USN_TCPF_FIN_RCVD) &&
	    c->state != USN_TCP_SYN_RECEIVED) {
		fin_now = true;
		c->rcv_nxt++;
		c->flags |= USN_TCPF_FIN_RCVD | USN_TCPF_ACK_NOW;
		switch (c->state) {
		case USN_TCP_ESTABLISHED:
			usn_tcp_set_state(c, USN_TCP_CLOSE_WAIT);
			break;
		case USN_TCP_FIN_WAIT_1:
			if (fin_acked) {
				usn_tcp_set_state(c, USN_TCP_TIME_WAIT);
				usn_tcp_arm_timewait(c);
			} else {
				usn_tcp_set_state(c, USN_TCP_CLOSING);
			}
			break;
		case USN_TCP_FIN_WAIT_2:
			usn_tcp_set_state(c, USN_TCP_TIME_WAIT);
			usn_tcp_arm_timewait(c);
			break;
		default:
			break;
		}
		usn_tcp_notify(c);
	} else if (fin && c->state == USN_TCP_TIME_WAIT) {
		c->flags |= USN_TCPF_ACK_NOW;
		usn_tcp_arm_timewait(c);
	} else if (fin && !fin_in_order) {
		c->flags |= USN_TCPF_ACK_NOW; /* out of order: ask again */
	}
	if (fin_now)
		output_after_input(c); /* the ACK of the FIN carries the user's close */
	else
		usn_tcp_output(c);
}

/* ---- entry ---- */

void usn_tcp_input(struct usn_tcp *tcp, const struct usn_ipv4_repr *ip, uint32_t chain)
{
	struct usn_ip *ipc = tcp->ip;
	struct usn_pool *pool = ipc->pool;
	struct usn_counters *ctr = ipc->ctr;
	uint32_t len = ip->payload_len;
	USN_CTR_INC(ctr, TCP_IN_SEGS);
	/* RFC 9293 §3.9.1 / RFC 1122 §4.2.3.10: not to a broadcast or
	 * multicast address. */
	if (usn_ip_is_bcast(ipc, ip->dst) || usn_ipv4_is_multicast(ip->dst)) {
		USN_DROP(ctr, TCP_DROP_BAD_ADDR);
		goto out;
	}
	if (len < USN_TCP_MIN_HLEN) {
		USN_DROP(ctr, TCP_DROP_TRUNCATED);
		goto out;
	}
	/* RFC 9293 §3.1: the checksum is verified unless the device did (or
	 * the sender left it to an offload on a path that never leaves the
	 * host, virtio-net NEEDS_CSUM). */
	if (!(usn_buf_meta(pool, chain)->flags & USN_BUF_F_CSUM_OK) &&
	    !usn_tcp_csum_ok(ip->src, ip->dst, (uint16_t)len, usn_ip_chain_csum(pool, chain, 0, len))) {
		USN_DROP(ctr, TCP_DROP_BAD_CSUM);
		goto out;
	}
	struct seg s;
	memset(&s, 0, sizeof(s));
	uint8_t hdr[USN_TCP_MAX_HLEN];
	size_t hl = usn_buf_chain_copy(pool, chain, 0, hdr, USN_MIN(len, (uint32_t)sizeof(hdr)));
	int rc = usn_tcp_parse(hdr, hl, &s.h);
	if (rc != USN_WIRE_OK || s.h.hdr_len > len) {
		USN_DROP(ctr, TCP_DROP_BAD_HDR);
		goto out;
	}
	s.ip = ip;
	s.chain = chain;
	s.data_off = s.h.hdr_len;
	s.data_len = len - s.h.hdr_len;
	s.len = s.data_len + ((s.h.flags & USN_TCP_SYN) ? 1 : 0) + ((s.h.flags & USN_TCP_FIN) ? 1 : 0);

	struct usn_tcp_conn *c = usn_tcp_lookup(tcp, ip->dst, s.h.dst_port, ip->src, s.h.src_port);
	/* RFC 9293 §3.6.1 (MAY-2, SHLD-4) and RFC 6191 §2: a new SYN to a
	 * TIME-WAIT connection may start a new incarnation if it is newer:
	 * with timestamps on both, a greater TSval than the last seen, or an
	 * equal one and a sequence number beyond the old RCV.NXT; otherwise
	 * that sequence number test alone. One that is not newer stays with
	 * the TIME-WAIT connection, which answers it with an ACK (PAWS, or
	 * §3.10.7.4 for a SYN); a peer that reopens the 4-tuple resets that
	 * ACK and tries again (syn_retry_after_rst()). */
	if (c && c->state == USN_TCP_TIME_WAIT && (s.h.flags & USN_TCP_SYN) && !(s.h.flags & (USN_TCP_ACK | USN_TCP_RST))) {
		bool newer;
		if ((c->flags & USN_TCPF_TS) && s.h.opts.has_ts) {
			int32_t d = (int32_t)(s.h.opts.ts_val - c->ts_recent);
			newer = d > 0 || (d == 0 && usn_seq_gt(s.h.seq, c->rcv_nxt));
		} else {
			newer = usn_seq_gt(s.h.seq, c->rcv_nxt);
		}
		if (newer && usn_tcp_lookup_listener(tcp, ip->dst, s.h.dst_port)) {
			USN_CTR_INC(ctr, TCP_TIMEWAIT_REUSED);
			s.tw_reuse = true;
			s.tw_snd_nxt = c->snd_nxt;
			usn_tcp_conn_done(c, 0);
			c = NULL;
		}
	}
	if (c) {
		c->segs_in++;
		if (c->state == USN_TCP_SYN_SENT)
			syn_sent_input(c, &s);
		else
			established_input(c, &s);
		goto out;
	}
	struct usn_tcp_conn *l = usn_tcp_lookup_listener(tcp, ip->dst, s.h.dst_port);
	if (l && ip->dst == ipc->addr) {
		listen_input(tcp, l, &s);
		goto out;
	}
	/* RFC 9293 §3.10.7.1: CLOSED. */
	USN_DROP(ctr, TCP_DROP_NO_SOCKET);
	usn_tcp_send_reset_for(tcp, ip, &s.h, s.len);
out:
	usn_buf_free_chain(pool, chain);
}

/* ---- ICMP errors (RFC 5927, RFC 1122 §4.2.3.9, RFC 1191) ---- */

void usn_tcp_icmp_error(struct usn_tcp *tcp, const struct usn_icmp_repr *icmp, const uint8_t *orig, size_t len)
{
	struct usn_counters *ctr = tcp->ip->ctr;
	struct usn_ipv4_repr q;
	/* The quoted IP header and the first 8 bytes of the TCP header:
	 * ports and sequence number (RFC 792 guarantees no more). */
	uint16_t sport, dport;
	usn_seq_t seq;
	if (usn_ipv4_parse(orig, len, &q, USN_IPV4_PARSE_QUOTED) != USN_WIRE_OK ||
	    usn_tcp_parse_quoted(orig + q.hdr_len, len - q.hdr_len, &sport, &dport, &seq) != USN_WIRE_OK)
		return;
	struct usn_tcp_conn *c = usn_tcp_lookup(tcp, q.src, sport, q.dst, dport);
	if (!c || c->state == USN_TCP_LISTEN)
		return;
	/* RFC 5927 §4.1: the quoted sequence number must be in flight
	 * (SND.UNA <= seq < SND.NXT), or the error is a blind attack. */
	if (!usn_seq_in(seq, c->snd_una, c->snd_nxt)) {
		USN_DROP(ctr, TCP_ICMP_BAD_SEQ);
		return;
	}
	USN_CTR_INC(ctr, TCP_ICMP_ERRORS);
	if (icmp->type != USN_ICMP_DEST_UNREACH) {
		if (icmp->type == USN_ICMP_TIME_EXCEEDED)
			c->soft_error = EHOSTUNREACH;
		return;
	}
	switch (icmp->code) {
	case USN_ICMP_FRAG_NEEDED: {
		/* RFC 1191 §6.1: lower the path MTU; RFC 5927 §7.2 suggests
		 * not going below the minimum; an old-style message (MTU 0)
		 * is taken as 576 (RFC 1191 §5 plateau). */
		uint32_t mtu = icmp->mtu ? icmp->mtu : 576;
		uint32_t cur = c->pmtu ? c->pmtu : tcp->ip->mtu;
		if (mtu < 576 || mtu >= cur)
			return;
		c->pmtu = (uint16_t)mtu;
		uint32_t mss = mtu - USN_IPV4_MIN_HLEN - USN_TCP_MIN_HLEN - ((c->flags & USN_TCPF_TS) ? 12 : 0);
		if (mss < c->mss) {
			c->mss = (uint16_t)mss;
			USN_CTR_INC(ctr, TCP_PMTU_UPDATES);
			/* Resend what was too big, now in smaller segments. */
			usn_rtxq_mark_lost_head(&c->rtxq, c->mss);
			usn_tcp_output(c);
		}
		return;
	}
	case USN_ICMP_PROTO_UNREACH:
	case USN_ICMP_PORT_UNREACH:
		/* RFC 1122 §4.2.3.9: hard errors; abort a connection that is
		 * still opening (as Linux does), report later otherwise. */
		if (c->state == USN_TCP_SYN_SENT) {
			USN_CTR_INC(ctr, TCP_ATTEMPT_FAILS);
			usn_tcp_conn_done(c, ECONNREFUSED);
			return;
		}
		c->soft_error = ECONNREFUSED;
		return;
	case USN_ICMP_NET_UNREACH:
		c->soft_error = ENETUNREACH;
		return;
	default:
		c->soft_error = EHOSTUNREACH;
		return;
	}
}
