/* SPDX-License-Identifier: MIT */
/*
 * cubic.c - CUBIC congestion control (RFC 9438) as a usn_cc_ops module, the
 * stack's default.
 *
 * Implements RFC 9438 §4.2 (the window increase function W_cubic(t) =
 * C*(t-K)^3 + W_max and its target one RTT ahead), §4.3 (the Reno-friendly
 * region with W_est and alpha_cubic), §4.4/§4.5 (concave and convex
 * regions), §4.6 (multiplicative decrease by beta_cubic = 0.7 of the flight
 * size, with the 2-segment floors), §4.7 (fast convergence), §4.8 (timeout:
 * loss window, then a first CA stage with K = 0), §4.9 (undo of a spurious
 * congestion event), §4.10 (slow start: plain RFC 5681 slow start with
 * appropriate byte counting, RFC 3465) and §5.8 (no growth while
 * application limited, and that time kept out of t).
 *
 * It is not: HyStart++ (RFC 9406, OPTIONAL per RFC 9438 §4.10, not done),
 * loss detection or recovery (TCP runs RFC 6675 / RFC 6582 and calls the
 * events of cc.h), nor a clock reader (time is view->now).
 *
 * Windows are bytes in the view and in the state; the RFC's formulas are in
 * segments, so every W in segments becomes W*SMSS here, and C*(t-K)^3
 * segments becomes C*(t-K)^3*SMSS bytes. The curve is computed in double
 * precision; the cube root is a Newton iteration of our own, so the module
 * needs no libm. Fractions of a byte of growth are carried between ACKs.
 */
#include <assert.h>
#include <string.h>

#include "cc.h"
#include "util.h"

/* RFC 9438 §4.1.1 constants. */
#define CUBIC_C 0.4          /* segments / s^3 */
#define CUBIC_BETA 0.7       /* beta_cubic */
/* RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic). */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))
#define CUBIC_ABC_L 2u       /* RFC 3465 §2.2 limit L in slow start */
#define NS_PER_S 1e9

#define CF_EPOCH 0x1u        /* a CA stage is running: t_epoch and K valid */
#define CF_AFTER_RTO 0x2u    /* the next CA stage is the first after an RTO */

/* The variables of RFC 9438 §4.1.2 that §4.9 saves for undo. */
struct cubic_curve {
	double w_max;        /* bytes; 0 while undefined (no event yet) */
	double k;            /* seconds */
	double w_est;        /* bytes */
	uint64_t t_epoch;    /* the stack's time the CA stage began */
	uint32_t cwnd_prior; /* bytes: cwnd before the last reduction */
	uint32_t cwnd_epoch; /* bytes: cwnd at t_epoch */
	uint32_t flags;      /* CF_* */
};

struct cubic {
	struct cubic_curve cur;
	struct cubic_curve undo;  /* cur before the last congestion event */
	double carry;             /* growth below one byte not yet in cwnd */
	uint64_t last_ack;        /* time of the previous on_ack */
	uint32_t undo_cwnd;
	uint32_t undo_ssthresh;
	uint8_t undo_valid;
	uint8_t rto_pending;      /* an RTO and no new data acked since */
	uint8_t ss_after_rto;     /* in the slow start that follows an RTO */
};

static_assert(sizeof(struct cubic) <= USN_CC_PRIV_MAX,
	"cubic state must fit in usn_cc priv");

/* priv comes from TCP with no promise of alignment: copy in and out. */
static void cubic_load(struct cubic *c, const void *priv)
{
	memcpy(c, priv, sizeof(*c));
}

static void cubic_store(void *priv, const struct cubic *c)
{
	memcpy(priv, c, sizeof(*c));
}

/* Cube root of x >= 0 by Newton's method from above: f(y) = y^3 - x is
 * convex for y > 0, so from y0 >= cbrt(x) the iterates fall monotonically to
 * the root; the loop stops when they no longer fall (full double precision). */
static double cubic_cbrt(double x)
{
	double y, next;
	int i;

	if (!(x > 0.0))
		return 0.0;
	y = x > 1.0 ? x : 1.0;
	/* A coarse start: halving y divides y^3 by 8. */
	while (y > 2.0 && (y / 2.0) * (y / 2.0) * (y / 2.0) >= x)
		y /= 2.0;
	for (i = 0; i < 100; i++) {
		next = (2.0 * y + x / (y * y)) / 3.0;
		if (next >= y)
			break;
		y = next;
	}
	return y;
}

/* RFC 9438 §4.2 Figure 2, with windows in bytes: K in seconds. */
static double cubic_k_s(double w_max, double cwnd_epoch, double mss)
{
	if (w_max <= cwnd_epoch)
		return 0.0;
	return cubic_cbrt((w_max - cwnd_epoch) / mss / CUBIC_C);
}

/* RFC 9438 §4.2 Figure 1, in bytes: W_cubic(t) = C*(t-K)^3 + W_max. */
static double cubic_w_bytes(double w_max, double k, double t, double mss)
{
	double d = t - k;

	return CUBIC_C * d * d * d * mss + w_max;
}

uint64_t usn_cc_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	double k;

	if (mss == 0)
		return 0;
	k = cubic_k_s(w_max, cwnd_epoch, mss);
	return (uint64_t)(k * NS_PER_S + 0.5);
}

uint32_t usn_cc_cubic_w(uint64_t t, uint64_t k, uint32_t w_max, uint32_t mss)
{
	double w = cubic_w_bytes(w_max, (double)k / NS_PER_S,
		(double)t / NS_PER_S, mss);

	if (w <= 0.0)
		return 0;
	if (w >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)w;
}

void usn_cc_cubic_get_info(const void *priv, struct usn_cc_cubic_info *ret_info)
{
	struct cubic c;

	cubic_load(&c, priv);
	memset(ret_info, 0, sizeof(*ret_info));
	ret_info->w_max = (uint32_t)c.cur.w_max;
	ret_info->cwnd_prior = c.cur.cwnd_prior;
	ret_info->cwnd_epoch = c.cur.cwnd_epoch;
	ret_info->w_est = c.cur.w_est >= (double)UINT32_MAX
		? UINT32_MAX : (uint32_t)c.cur.w_est;
	ret_info->k = (uint64_t)(c.cur.k * NS_PER_S + 0.5);
	ret_info->t_epoch = c.cur.t_epoch;
	ret_info->in_epoch = (c.cur.flags & CF_EPOCH) != 0;
}

/* Sets cwnd to a byte count held as a double, keeping the fraction. */
static void cubic_set_cwnd(struct cubic *c, struct usn_cc_view *v, double next)
{
	uint32_t whole;

	if (next >= (double)UINT32_MAX) {
		v->cwnd = UINT32_MAX;
		c->carry = 0.0;
		return;
	}
	whole = (uint32_t)next;
	/* cwnd never shrinks on an ACK. */
	if (whole < v->cwnd) {
		c->carry = 0.0;
		return;
	}
	v->cwnd = whole;
	c->carry = next - (double)whole;
}

/* The start of a congestion avoidance stage (RFC 9438 §4.2). */
static void cubic_epoch_start(struct cubic *c, const struct usn_cc_view *v)
{
	struct cubic_curve *cv = &c->cur;

	cv->t_epoch = v->now;
	cv->cwnd_epoch = v->cwnd;
	/* RFC 9438 §4.3: "W_est is set equal to cwnd_epoch at the start of
	 * the congestion avoidance stage." */
	cv->w_est = v->cwnd;
	c->carry = 0.0;
	/* RFC 9438 §4.10: leaving the first slow start with no loss, W_max is
	 * undefined: "CUBIC sets cwnd_prior = cwnd". */
	if (cv->w_max == 0.0)
		cv->cwnd_prior = v->cwnd;
	if ((cv->flags & CF_AFTER_RTO) || cv->w_max <= (double)v->cwnd) {
		/* RFC 9438 §4.8 (first CA stage after a timeout) and §4.10
		 * (no W_max yet): "K is set to 0, and W_max is set to the
		 * congestion window size at the beginning of the current
		 * congestion avoidance stage." A W_max below cwnd_epoch (for
		 * example after an undo) would give no real K either. */
		cv->w_max = v->cwnd;
		cv->k = 0.0;
	} else {
		cv->k = cubic_k_s(cv->w_max, v->cwnd, v->mss);
	}
	cv->flags = (cv->flags & ~CF_AFTER_RTO) | CF_EPOCH;
}

static void cubic_congestion_avoidance(struct cubic *c, struct usn_cc_view *v,
	uint32_t acked, uint64_t rtt_sample)
{
	struct cubic_curve *cv = &c->cur;
	double mss = v->mss, cwnd = v->cwnd, t, rtt, alpha, w_t, target;
	uint64_t rtt_ns;

	if (!(cv->flags & CF_EPOCH))
		cubic_epoch_start(c, v);
	t = (double)(v->now - cv->t_epoch) / NS_PER_S;
	/* RFC 9438 §4.1.2: RTT is the smoothed RTT of RFC 6298; before the
	 * first SRTT, the sample of this ACK or the minimum seen. */
	rtt_ns = v->srtt ? v->srtt : (rtt_sample ? rtt_sample : v->min_rtt);
	rtt = (double)rtt_ns / NS_PER_S;

	/* RFC 9438 §4.3 Figure 4: W_est += alpha_cubic * segments_acked /
	 * cwnd, and "Once W_est has grown to reach the cwnd at the time of
	 * most recently setting ssthresh -- that is, W_est >= cwnd_prior --
	 * the sender SHOULD set alpha_cubic to 1". */
	alpha = cv->w_est >= (double)cv->cwnd_prior ? 1.0 : CUBIC_ALPHA;
	cv->w_est += alpha * mss * (double)acked / cwnd;

	w_t = cubic_w_bytes(cv->w_max, cv->k, t, mss);
	if (w_t < cv->w_est) {
		/* RFC 9438 §4.3: "If W_cubic(t) is less than W_est, then
		 * CUBIC is in the Reno-friendly region and cwnd SHOULD be set
		 * to W_est at each reception of a new ACK." */
		c->carry = 0.0;
		cubic_set_cwnd(c, v, cv->w_est);
		return;
	}
	/* RFC 9438 §4.2: target = W_cubic(t + RTT), bounded to
	 * [cwnd, 1.5*cwnd] so growth is never negative nor faster than slow
	 * start. */
	target = cubic_w_bytes(cv->w_max, cv->k, t + rtt, mss);
	if (target < cwnd)
		target = cwnd;
	else if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* RFC 9438 §4.4 (concave, cwnd < W_max) and §4.5 (convex): "cwnd
	 * MUST be incremented by (target - cwnd)/cwnd" for each SMSS acked;
	 * counted in bytes, that is (target - cwnd) * acked / cwnd bytes. */
	cubic_set_cwnd(c, v, cwnd + (target - cwnd) * (double)acked / cwnd + c->carry);
}

static void cubic_init(void *priv, struct usn_cc_view *v)
{
	struct cubic c;

	memset(&c, 0, sizeof(c));
	c.last_ack = v->now;
	cubic_store(priv, &c);
}

static void cubic_on_ack(void *priv, struct usn_cc_view *v, uint32_t acked,
	uint64_t rtt)
{
	struct cubic c;
	uint32_t limit;

	assert(v->mss > 0);
	cubic_load(&c, priv);
	/* New data acked ends the span of one RTO (see on_congestion). */
	if (acked)
		c.rto_pending = 0;
	if (v->app_limited) {
		/* RFC 9438 §5.8: "CUBIC does not increase its congestion
		 * window if a flow is application limited", and the time is
		 * kept out of t, so the curve resumes where it stopped instead
		 * of jumping ahead when the sender fills cwnd again. */
		if ((c.cur.flags & CF_EPOCH) && v->now > c.last_ack)
			c.cur.t_epoch += v->now - c.last_ack;
		goto out;
	}
	if (acked == 0)
		goto out;

	/* RFC 9438 §4.10: slow start while cwnd < ssthresh; here RFC 5681
	 * §3.1 with byte counting, RFC 3465 §2.2 L = 2*SMSS, and RFC 3465
	 * §2.3 L = 1*SMSS in the slow start that follows an RTO. HyStart++
	 * (RFC 9406) is not implemented. */
	limit = c.ss_after_rto ? v->mss : CUBIC_ABC_L * v->mss;
	acked = usn_cc_slow_start(v, acked, limit);
	if (v->cwnd >= v->ssthresh)
		c.ss_after_rto = 0;
	if (acked == 0)
		goto out;
	cubic_congestion_avoidance(&c, v, acked, rtt);
out:
	c.last_ack = v->now;
	cubic_store(priv, &c);
}

static void cubic_on_congestion(void *priv, struct usn_cc_view *v,
	enum usn_cc_event ev)
{
	struct cubic c;
	double cwnd = v->cwnd, ssthresh;

	assert(v->mss > 0);
	cubic_load(&c, priv);
	if (ev == USN_CC_EV_RTO && c.rto_pending) {
		/* RFC 5681 §3.1 (which RFC 9438 §4.8 follows for timeouts):
		 * ssthresh is only set when "the given segment has not yet
		 * been resent by way of the retransmission timer"; a
		 * backed-off RTO for the same data re-applies the loss window
		 * and touches nothing else. */
		v->cwnd = v->mss;
		goto out;
	}

	/* RFC 9438 §4.9.2: "save the current value of the following
	 * variables before the congestion window is reduced". */
	c.undo = c.cur;
	c.undo_cwnd = v->cwnd;
	c.undo_ssthresh = v->ssthresh;
	c.undo_valid = 1;

	/* RFC 9438 §4.7 fast convergence, before the reduction:
	 * W_max = cwnd * (1 + beta_cubic) / 2 if cwnd < W_max, else cwnd.
	 * DEVIATION(RFC 9438 §4.7): always enabled, though it "SHOULD be
	 * disabled" for a lone flow, because a sender cannot know it is
	 * alone on the path. */
	if (cwnd < c.cur.w_max)
		c.cur.w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
	else
		c.cur.w_max = cwnd;

	/* RFC 9438 §4.6: "ssthresh = flight_size * beta_cubic" and
	 * "cwnd_prior = cwnd". */
	ssthresh = (double)v->flight * CUBIC_BETA;
	c.cur.cwnd_prior = v->cwnd;
	switch (ev) {
	case USN_CC_EV_RTO:
		/* RFC 9438 §4.8: "CUBIC follows Reno to reduce cwnd
		 * [RFC5681]" (the loss window, 1 SMSS) "but sets ssthresh
		 * using beta_cubic"; the next CA stage starts with K = 0. */
		v->cwnd = v->mss;
		c.cur.flags |= CF_AFTER_RTO;
		c.rto_pending = 1;
		c.ss_after_rto = 1;
		break;
	case USN_CC_EV_ECN:
		/* RFC 9438 §4.6: "cwnd = max(ssthresh, 1)" on ECE. */
		v->cwnd = (uint32_t)USN_MAX(ssthresh, (double)v->mss);
		c.cur.flags &= ~CF_AFTER_RTO;
		c.rto_pending = 0;
		c.ss_after_rto = 0;
		break;
	case USN_CC_EV_FAST_RETRANSMIT:
	default:
		/* RFC 9438 §4.6: "cwnd = max(ssthresh, 2)" on loss. */
		v->cwnd = (uint32_t)USN_MAX(ssthresh, 2.0 * v->mss);
		c.cur.flags &= ~CF_AFTER_RTO;
		c.rto_pending = 0;
		c.ss_after_rto = 0;
		break;
	}
	/* RFC 9438 §4.6: "ssthresh = max(ssthresh, 2)", at least 2 SMSS. */
	v->ssthresh = (uint32_t)USN_MAX(ssthresh, 2.0 * v->mss);
	/* The CA stage ends; the next begins at the first ACK after
	 * recovery, from the reduced window (RFC 9438 §4.2: "right after a
	 * congestion event, cwnd_epoch is equal to the new cwnd"). */
	c.cur.flags &= ~CF_EPOCH;
	c.carry = 0.0;
out:
	cubic_store(priv, &c);
}

static void cubic_on_recovery_end(void *priv, struct usn_cc_view *v)
{
	/* RFC 6582 §3.2 step 3 / RFC 6675: recovery leaves cwnd at ssthresh
	 * (beta_cubic times the flight size at the event). */
	v->cwnd = v->ssthresh;
}

static void cubic_on_idle(void *priv, struct usn_cc_view *v)
{
	struct cubic c;

	cubic_load(&c, priv);
	/* RFC 5681 §4.1: restart window RW = min(IW, cwnd). The idle time
	 * must not count in t (RFC 9438 §5.8), so the CA stage ends and the
	 * next begins from the cwnd the connection resumes with, against
	 * the W_max it remembers. */
	v->cwnd = USN_MIN(usn_cc_initial_window(v->mss), v->cwnd);
	c.cur.flags &= ~CF_EPOCH;
	c.carry = 0.0;
	c.last_ack = v->now;
	cubic_store(priv, &c);
}

static void cubic_on_undo(void *priv, struct usn_cc_view *v)
{
	struct cubic c;

	cubic_load(&c, priv);
	if (!c.undo_valid)
		return;
	/* RFC 9438 §4.9.2: restore cwnd, ssthresh, W_max, K, t_epoch and
	 * W_est "if the current cwnd is lower than prior_cwnd"; otherwise
	 * "CUBIC SHOULD continue to use the current and the most recent
	 * values of these variables". */
	if (v->cwnd < c.undo_cwnd) {
		v->cwnd = c.undo_cwnd;
		v->ssthresh = c.undo_ssthresh;
		c.cur = c.undo;
		c.carry = 0.0;
	}
	c.undo_valid = 0;
	c.rto_pending = 0;
	c.ss_after_rto = 0;
	cubic_store(priv, &c);
}

const struct usn_cc_ops usn_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_recovery_end = cubic_on_recovery_end,
	.on_idle = cubic_on_idle,
	.on_undo = cubic_on_undo,
};
