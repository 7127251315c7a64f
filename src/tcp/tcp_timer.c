/* SPDX-License-Identifier: MIT */
/*
 * tcp_timer.c - the timers of a connection and the RTT estimator.
 *
 * Implements RFC 6298 (RTO computation §2, Karn's rule §3 via the
 * retransmission queue, timer management §5 with exponential backoff),
 * RFC 9293 §3.8.3 (R1/R2 retransmission limits), §3.8.6.1 (zero-window
 * probing), §3.6 (TIME-WAIT), RFC 1122 §4.2.3.2 (delayed ACKs) and
 * §4.2.3.6 (keep-alives). One timer (rtx_timer) serves the RTO, the persist
 * probe, TIME-WAIT and the orphan FIN-WAIT-2 limit, because a connection
 * needs at most one of them at a time; rtx_kind says which.
 */
#include <errno.h>

#include "tcp.h"
#include "util.h"

/* RFC 6298 §2.4 says RTO SHOULD be at least 1 s.
 * DEVIATION(RFC 6298 §2.4): the floor is 200 ms as in Linux, because a 1 s
 * floor makes every loss on a LAN cost a second; RFC 6298 allows it with
 * timely retransmission in mind, and the spurious timeouts it risks are
 * bounded by Karn's rule and backoff. */
#define USN_TCP_RTO_MIN (200 * USN_NSEC_PER_MSEC)
#define USN_TCP_RTO_MAX (120 * USN_NSEC_PER_SEC)   /* RFC 6298 §2.5: >= 60 s */
#define USN_TCP_RTO_INIT (1 * USN_NSEC_PER_SEC)    /* RFC 6298 §2.1 */
#define USN_TCP_CLOCK_G USN_NSEC_PER_MSEC          /* timestamp clock granularity */
#define USN_TCP_SYN_RETRIES 6                      /* Linux tcp_syn_retries */
#define USN_TCP_SYNACK_RETRIES 5                   /* Linux tcp_synack_retries */
/* RFC 9293 §3.8.3: R2 for data MUST be at least 100 s; Linux's 15
 * retransmissions with backoff are 924 s with a 200 ms floor. */
#define USN_TCP_RETRIES2 15
/* DEVIATION(RFC 9293 §3.4.2): TIME-WAIT lasts 60 s, not 2 x 2 min, as in
 * Linux; timestamps and the ISN clock (RFC 6191) guard reuse. */
#define USN_TCP_TIMEWAIT_NS (60 * USN_NSEC_PER_SEC)
#define USN_TCP_FINWAIT2_NS (60 * USN_NSEC_PER_SEC)   /* Linux tcp_fin_timeout */
#define USN_TCP_DELACK_NS (40 * USN_NSEC_PER_MSEC)    /* RFC 1122 §4.2.3.2: < 0.5 s */
#define USN_TCP_PERSIST_MIN (200 * USN_NSEC_PER_MSEC)
#define USN_TCP_PERSIST_MAX (60 * USN_NSEC_PER_SEC)

static uint64_t now_of(const struct usn_tcp_conn *c)
{
	return *c->tcp->ip->now;
}

static uint64_t backed_off_rto(const struct usn_tcp_conn *c)
{
	uint64_t rto = c->rto ? c->rto : USN_TCP_RTO_INIT;
	for (uint32_t i = 0; i < c->backoff && rto < USN_TCP_RTO_MAX; i++)
		rto *= 2;
	return USN_MIN(rto, USN_TCP_RTO_MAX);
}

void usn_tcp_rtt_sample(struct usn_tcp_conn *c, uint64_t r)
{
	if (r == 0)
		r = 1;
	if (c->min_rtt == 0 || r < c->min_rtt)
		c->min_rtt = r;
	if (c->srtt == 0) {
		/* RFC 6298 §2.2 */
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		/* RFC 6298 §2.3, alpha = 1/8, beta = 1/4 */
		uint64_t diff = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + diff) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	uint64_t rto = c->srtt + USN_MAX(USN_TCP_CLOCK_G, 4 * c->rttvar);
	c->rto = USN_MIN(USN_MAX(rto, USN_TCP_RTO_MIN), USN_TCP_RTO_MAX);
	/* RFC 6298 §5.7: a new sample after backoff resets it. */
	c->backoff = 0;
}

static void arm(struct usn_tcp_conn *c, enum usn_tcp_rtx_kind kind, uint64_t when)
{
	c->rtx_kind = (uint8_t)kind;
	usn_timer_arm(c->tcp->ip->wheel, &c->rtx_timer, when);
}

void usn_tcp_arm_rto(struct usn_tcp_conn *c)
{
	/* RFC 6298 §5.1 and §5.3: (re)start with the current RTO. */
	arm(c, USN_TCP_TK_RTO, now_of(c) + backed_off_rto(c));
}

void usn_tcp_arm_rto_or_tlp(struct usn_tcp_conn *c)
{
	/* RFC 8985 §7.2: schedule a probe when SACK is on, we are not in
	 * recovery, no probe is out and the connection is open for data. */
	bool ok = (c->flags & USN_TCPF_SACK) && c->srtt > 0 && !c->tlp_out &&
		  !(c->flags & (USN_TCPF_IN_RECOVERY | USN_TCPF_RTO_RECOVERY)) &&
		  (c->state == USN_TCP_ESTABLISHED || c->state == USN_TCP_CLOSE_WAIT ||
		   c->state == USN_TCP_FIN_WAIT_1 || c->state == USN_TCP_LAST_ACK || c->state == USN_TCP_CLOSING);
	if (!ok) {
		usn_tcp_arm_rto(c);
		return;
	}
	uint64_t pto = 2 * c->srtt;
	/* One segment in flight: allow for the peer's delayed ACK
	 * (WCDelAckT, 200 ms). */
	if (c->snd_nxt - c->snd_una <= c->mss)
		pto += 200 * USN_NSEC_PER_MSEC;
	uint64_t rto = backed_off_rto(c);
	if (pto > rto)
		pto = rto;
	if (pto < USN_NSEC_PER_MSEC)
		pto = USN_NSEC_PER_MSEC;
	arm(c, USN_TCP_TK_TLP, now_of(c) + pto);
}

void usn_tcp_arm_reo(struct usn_tcp_conn *c, uint64_t after)
{
	arm(c, USN_TCP_TK_REO, now_of(c) + after);
}

void usn_tcp_arm_persist(struct usn_tcp_conn *c)
{
	if (c->rtx_kind == USN_TCP_TK_PERSIST && usn_timer_pending(&c->rtx_timer))
		return;
	uint64_t t = USN_MIN(USN_MAX(backed_off_rto(c), USN_TCP_PERSIST_MIN), USN_TCP_PERSIST_MAX);
	arm(c, USN_TCP_TK_PERSIST, now_of(c) + t);
}

/* RFC 9293 §3.6.1: 2 MSL.
 * DEVIATION(TIME-WAIT overflow): with more than max_timewait connections
 * in TIME-WAIT (USN_TCP_MAX_TIMEWAIT), a connection entering it leaves at
 * the next tick instead, after the ACK of the peer's FIN is sent, as Linux
 * does past tcp_max_tw_buckets (TCP_TIMEWAIT_OVERFLOW). A server that
 * closes first at 100k connections a second would otherwise hold six
 * million of them; an old duplicate reaching a reopened 4-tuple is then
 * kept out by timestamps (PAWS) and the RFC 6528 ISN clock only. */
void usn_tcp_arm_timewait(struct usn_tcp_conn *c)
{
	uint64_t d = USN_TCP_TIMEWAIT_NS;
	bool restart = c->rtx_kind == USN_TCP_TK_TIMEWAIT && usn_timer_pending(&c->rtx_timer);
	if (c->tcp->ntimewait > c->tcp->max_timewait) {
		d = 0;
		if (!restart)
			USN_CTR_INC(c->tcp->ip->ctr, TCP_TIMEWAIT_OVERFLOW);
	}
	arm(c, USN_TCP_TK_TIMEWAIT, now_of(c) + d);
}

void usn_tcp_arm_delack(struct usn_tcp_conn *c)
{
	if (!usn_timer_pending(&c->delack_timer))
		usn_timer_arm(c->tcp->ip->wheel, &c->delack_timer, now_of(c) + USN_TCP_DELACK_NS);
}

void usn_tcp_arm_keepalive(struct usn_tcp_conn *c)
{
	if (!(c->flags & USN_TCPF_KEEPALIVE)) {
		usn_timer_cancel(c->tcp->ip->wheel, &c->keep_timer);
		return;
	}
	uint64_t when = c->last_rcv + (uint64_t)c->keep_idle_s * USN_NSEC_PER_SEC;
	if (c->keep_probes > 0)
		when = now_of(c) + (uint64_t)c->keep_intvl_s * USN_NSEC_PER_SEC;
	usn_timer_arm(c->tcp->ip->wheel, &c->keep_timer, when);
}

static void on_rto(struct usn_tcp_conn *c)
{
	struct usn_counters *ctr = c->tcp->ip->ctr;
	USN_CTR_INC(ctr, TCP_RTO_EXPIRED);
	if (usn_rtxq_empty(&c->rtxq))
		return;
	c->retries++;
	uint32_t limit = c->state == USN_TCP_SYN_SENT       ? USN_TCP_SYN_RETRIES
			 : c->state == USN_TCP_SYN_RECEIVED ? USN_TCP_SYNACK_RETRIES
							    : USN_TCP_RETRIES2;
	if (c->retries > limit) {
		/* RFC 9293 §3.8.3: at R2, close the connection. */
		if (c->state == USN_TCP_SYN_SENT)
			USN_CTR_INC(ctr, TCP_ATTEMPT_FAILS);
		else
			USN_CTR_INC(ctr, TCP_TIMEOUTS);
		/* RFC 1122 §4.2.3.9: a soft ICMP error is reported now. */
		usn_tcp_conn_done(c, c->soft_error ? c->soft_error : ETIMEDOUT);
		return;
	}
	if (c->state == USN_TCP_SYN_SENT || c->state == USN_TCP_SYN_RECEIVED) {
		/* RFC 6298 §5.7: after a SYN is lost the RTO is kept at 3 s
		 * once data flows; here only the backoff matters. */
		c->backoff++;
		usn_rtxq_mark_retransmitted(&c->rtxq, c->snd_una, c->snd_nxt, now_of(c));
		c->total_retrans++;
		USN_CTR_INC(ctr, TCP_RETRANS_SEGS);
		usn_tcp_send_syn(c);
		usn_tcp_arm_rto(c);
		return;
	}
	/* RFC 5681 §3.1 eq. 4 and the loss window: only on the first timeout
	 * of a series is ssthresh recomputed. */
	if (c->backoff == 0) {
		struct usn_cc_view v = {
			.now = now_of(c), .mss = c->mss, .flight = usn_rtxq_pipe(&c->rtxq),
			.srtt = c->srtt, .min_rtt = c->min_rtt, .cwnd = c->cwnd, .ssthresh = c->ssthresh,
		};
		c->cc->on_congestion(c->cc_priv, &v, USN_CC_EV_RTO);
		c->ssthresh = v.ssthresh;
		c->cwnd = v.cwnd;
	} else {
		c->cwnd = c->mss; /* RFC 5681 §3.1: loss window of one segment */
	}
	c->backoff++;
	/* RFC 6675 §5.1 and RFC 2018 §8: after a timeout every outstanding
	 * segment is presumed lost and SACK information is not trusted. */
	usn_rtxq_clear_sacks(&c->rtxq);
	usn_rtxq_mark_all_lost(&c->rtxq);
	c->flags &= ~USN_TCPF_IN_RECOVERY;
	c->flags |= USN_TCPF_RTO_RECOVERY;
	c->recover = c->snd_nxt; /* RFC 6582 §3.2 step 4 */
	c->dupacks = 0;
	c->rtt_seq = c->snd_una - 1; /* Karn: no sample from what was timed */
	c->rtt_time = 0;
	usn_tcp_output(c);
	if (!usn_timer_pending(&c->rtx_timer))
		usn_tcp_arm_rto(c);
}

static void on_persist(struct usn_tcp_conn *c)
{
	/* RFC 9293 §3.8.6.1: probe a zero window, with backoff, forever (the
	 * window may open at any time; MUST-35 and RFC 1122 §4.2.2.17). */
	if (c->snd_wnd > 0) {
		/* A window too small for the SWS rules: send what fits. */
		c->flags |= USN_TCPF_FORCE;
		usn_tcp_output(c);
		c->flags &= ~USN_TCPF_FORCE;
		return;
	}
	USN_CTR_INC(c->tcp->ip->ctr, TCP_WINDOW_PROBES);
	c->backoff++;
	usn_tcp_send_ack_seq(c, c->snd_una - 1);
	usn_tcp_arm_persist(c);
}

static void rtx_timer_fired(struct usn_timer *t, uint64_t now)
{
	struct usn_tcp_conn *c = USN_CONTAINER_OF(t, struct usn_tcp_conn, rtx_timer);
	(void)now;
	enum usn_tcp_rtx_kind kind = (enum usn_tcp_rtx_kind)c->rtx_kind;
	c->rtx_kind = USN_TCP_TK_NONE;
	switch (kind) {
	case USN_TCP_TK_RTO:
		on_rto(c);
		break;
	case USN_TCP_TK_PERSIST:
		on_persist(c);
		break;
	case USN_TCP_TK_TIMEWAIT:
		/* RFC 9293 §3.10.8: TIME-WAIT timeout: delete the TCB. */
		usn_tcp_conn_done(c, 0);
		break;
	case USN_TCP_TK_FINWAIT2:
		usn_tcp_conn_done(c, 0);
		break;
	case USN_TCP_TK_TLP:
		/* RFC 8985 §7.3: send a probe, then wait for the RTO. */
		if (c->snd_una == c->snd_nxt)
			break;
		USN_CTR_INC(c->tcp->ip->ctr, TCP_TLP_PROBES);
		usn_tcp_send_tlp(c);
		usn_tcp_arm_rto(c);
		break;
	case USN_TCP_TK_REO:
		/* RFC 8985 §6.3: the reordering window of a segment passed. */
		if (usn_tcp_rack_detect(c) > 0) {
			usn_tcp_enter_recovery(c);
			usn_tcp_output(c);
		}
		if (!usn_timer_pending(&c->rtx_timer) && c->snd_una != c->snd_nxt)
			usn_tcp_arm_rto(c);
		break;
	default:
		break;
	}
}

static void delack_fired(struct usn_timer *t, uint64_t now)
{
	struct usn_tcp_conn *c = USN_CONTAINER_OF(t, struct usn_tcp_conn, delack_timer);
	(void)now;
	if (c->state == USN_TCP_CLOSED || c->state == USN_TCP_LISTEN)
		return;
	USN_CTR_INC(c->tcp->ip->ctr, TCP_DELAYED_ACKS);
	usn_tcp_send_ack(c);
}

static void keep_fired(struct usn_timer *t, uint64_t now)
{
	struct usn_tcp_conn *c = USN_CONTAINER_OF(t, struct usn_tcp_conn, keep_timer);
	if (!(c->flags & USN_TCPF_KEEPALIVE) || c->state < USN_TCP_ESTABLISHED || c->state == USN_TCP_TIME_WAIT)
		return;
	uint64_t idle = now - c->last_rcv;
	if (c->keep_probes == 0 && idle < (uint64_t)c->keep_idle_s * USN_NSEC_PER_SEC) {
		usn_tcp_arm_keepalive(c);
		return;
	}
	if (c->keep_probes >= c->keep_cnt) {
		USN_CTR_INC(c->tcp->ip->ctr, TCP_TIMEOUTS);
		usn_tcp_send_rst(c);
		usn_tcp_conn_done(c, ETIMEDOUT);
		return;
	}
	/* RFC 1122 §4.2.3.6: a probe is an ACK with SEG.SEQ = SND.NXT - 1. */
	c->keep_probes++;
	USN_CTR_INC(c->tcp->ip->ctr, TCP_KEEPALIVE_PROBES);
	usn_tcp_send_ack_seq(c, c->snd_una - 1);
	usn_tcp_arm_keepalive(c);
}

void usn_tcp_timers_init(struct usn_tcp_conn *c)
{
	usn_timer_init(&c->rtx_timer, rtx_timer_fired);
	usn_timer_init(&c->delack_timer, delack_fired);
	usn_timer_init(&c->keep_timer, keep_fired);
}

void usn_tcp_timers_stop(struct usn_tcp_conn *c)
{
	struct usn_wheel *w = c->tcp->ip->wheel;
	usn_timer_cancel(w, &c->rtx_timer);
	usn_timer_cancel(w, &c->delack_timer);
	usn_timer_cancel(w, &c->keep_timer);
	c->rtx_kind = USN_TCP_TK_NONE;
}

void usn_tcp_arm_finwait2(struct usn_tcp_conn *c)
{
	arm(c, USN_TCP_TK_FINWAIT2, now_of(c) + USN_TCP_FINWAIT2_NS);
}
