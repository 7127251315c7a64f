/* SPDX-License-Identifier: MIT */
/*
 * newreno.c - the standard TCP congestion control of RFC 5681 as a usn_cc_ops
 * module: slow start and congestion avoidance (RFC 5681 §3.1) with
 * appropriate byte counting (RFC 3465 §2.1, §2.2, §2.3), the ssthresh of
 * RFC 5681 §3.1 eq. (4) at each congestion event, the loss window after a
 * timeout, the restart window after idle (RFC 5681 §4.1) and undo of a
 * reduction found spurious (RFC 4015 §3.2 spirit).
 *
 * It is not loss recovery: TCP itself runs RFC 6582 NewReno / RFC 6675 SACK
 * recovery and only asks this module for cwnd and ssthresh at the events of
 * cc.h. Windows are in bytes; the only state is in `priv`.
 */
#include <assert.h>
#include <string.h>

#include "cc.h"
#include "util.h"

/* RFC 3465 §2.2: the limit L on slow-start growth per ACK, in segments. */
#define NEWRENO_ABC_L 2u

struct newreno {
	uint32_t ca_acked;      /* RFC 3465 §2.1 bytes_acked, in CA */
	uint32_t undo_cwnd;     /* cwnd and ssthresh before the last event */
	uint32_t undo_ssthresh;
	uint8_t undo_valid;     /* undo_* hold a reduction that can be undone */
	uint8_t rto_pending;    /* an RTO happened and no new data was acked since */
	uint8_t ss_after_rto;   /* in the slow start that follows an RTO */
};

static_assert(sizeof(struct newreno) <= USN_CC_PRIV_MAX,
	"newreno state must fit in usn_cc priv");

/* priv comes from TCP with no promise of alignment: copy in and out. */
static void nr_load(struct newreno *nr, const void *priv)
{
	memcpy(nr, priv, sizeof(*nr));
}

static void nr_store(void *priv, const struct newreno *nr)
{
	memcpy(priv, nr, sizeof(*nr));
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static void newreno_init(void *priv, struct usn_cc_view *v)
{
	struct newreno nr;

	memset(&nr, 0, sizeof(nr));
	nr_store(priv, &nr);
}

static void newreno_on_ack(void *priv, struct usn_cc_view *v, uint32_t acked,
	uint64_t rtt)
{
	struct newreno nr;
	uint32_t limit;

	assert(v->mss > 0);
	nr_load(&nr, priv);
	/* An ACK of new data after an RTO ends its "same segment" span:
	 * the next timeout is a new congestion event (RFC 5681 §3.1). */
	if (acked)
		nr.rto_pending = 0;
	/* In the spirit of RFC 7661 §4.3: a sender that did not fill cwnd
	 * has not shown the path can take a larger one, so cwnd does not
	 * grow while the sender is application limited. */
	if (v->app_limited || acked == 0)
		goto out;

	/* RFC 3465 §2.2: L = 2*SMSS, but RFC 3465 §2.3: L = 1*SMSS in the
	 * slow start that follows an RTO, whose ACKs may each cover several
	 * retransmitted segments. */
	limit = nr.ss_after_rto ? v->mss : NEWRENO_ABC_L * v->mss;
	acked = usn_cc_slow_start(v, acked, limit);
	if (v->cwnd >= v->ssthresh)
		nr.ss_after_rto = 0;
	if (acked == 0)
		goto out;

	/* RFC 5681 §3.1 congestion avoidance by byte counting (RFC 3465
	 * §2.1): "When bytes_acked becomes greater than or equal to the value
	 * of the congestion window, bytes_acked is reduced by the value of
	 * cwnd. Next, cwnd is incremented by a full-sized segment (SMSS)."
	 * This is exactly one SMSS per RTT, however ACKs are spaced. */
	nr.ca_acked = sat_add(nr.ca_acked, acked);
	if (nr.ca_acked >= v->cwnd) {
		nr.ca_acked -= v->cwnd;
		v->cwnd = sat_add(v->cwnd, v->mss);
	}
out:
	nr_store(priv, &nr);
}

static void newreno_on_congestion(void *priv, struct usn_cc_view *v,
	enum usn_cc_event ev)
{
	struct newreno nr;
	uint32_t ssthresh;

	assert(v->mss > 0);
	nr_load(&nr, priv);
	if (ev == USN_CC_EV_RTO && nr.rto_pending) {
		/* RFC 5681 §3.1: ssthresh is set on a timeout only when "the
		 * given segment has not yet been resent by way of the
		 * retransmission timer": a backed-off RTO for the same data
		 * keeps ssthresh and only re-applies the loss window. */
		v->cwnd = v->mss;
		goto out;
	}

	nr.undo_cwnd = v->cwnd;
	nr.undo_ssthresh = v->ssthresh;
	nr.undo_valid = 1;
	nr.ca_acked = 0;

	/* RFC 5681 §3.1 eq. (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" */
	ssthresh = USN_MAX(v->flight / 2, 2 * v->mss);
	v->ssthresh = ssthresh;
	switch (ev) {
	case USN_CC_EV_RTO:
		/* RFC 5681 §3.1: "cwnd MUST be set to no more than the loss
		 * window, LW, which equals 1 full-sized segment". */
		v->cwnd = v->mss;
		nr.rto_pending = 1;
		nr.ss_after_rto = 1;
		break;
	case USN_CC_EV_FAST_RETRANSMIT:
	case USN_CC_EV_ECN:
	default:
		/* RFC 6675 §5 step 4.2 / RFC 6582 §3.2 step 2 as TCP runs it:
		 * recovery starts from cwnd = ssthresh (TCP inflates as its
		 * recovery algorithm says). RFC 3168 §6.1.2: an ECN-Echo
		 * halves the same way, with no retransmission. */
		v->cwnd = ssthresh;
		nr.rto_pending = 0;
		nr.ss_after_rto = 0;
		break;
	}
out:
	nr_store(priv, &nr);
}

static void newreno_on_recovery_end(void *priv, struct usn_cc_view *v)
{
	/* RFC 6582 §3.2 step 3 option (2): "Set cwnd to ssthresh", which
	 * deflates the window inflated during recovery. */
	v->cwnd = v->ssthresh;
}

static void newreno_on_idle(void *priv, struct usn_cc_view *v)
{
	struct newreno nr;
	uint32_t rw;

	nr_load(&nr, priv);
	/* RFC 5681 §4.1: "RW = min(IW,cwnd)" after an idle period longer
	 * than an RTO; ssthresh is kept, so slow start regrows toward it. */
	rw = USN_MIN(usn_cc_initial_window(v->mss), v->cwnd);
	v->cwnd = rw;
	nr.ca_acked = 0;
	nr_store(priv, &nr);
}

static void newreno_on_undo(void *priv, struct usn_cc_view *v)
{
	struct newreno nr;

	nr_load(&nr, priv);
	if (!nr.undo_valid)
		return;
	/* RFC 4015 §3.2 spirit: a retransmission found spurious means the
	 * reduction was not needed; go back to the window before it. If cwnd
	 * has since grown past it, keep the larger (never reduce here). */
	if (v->cwnd < nr.undo_cwnd)
		v->cwnd = nr.undo_cwnd;
	v->ssthresh = USN_MAX(v->ssthresh, nr.undo_ssthresh);
	nr.undo_valid = 0;
	nr.rto_pending = 0;
	nr.ss_after_rto = 0;
	nr.ca_acked = 0;
	nr_store(priv, &nr);
}

const struct usn_cc_ops usn_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_congestion = newreno_on_congestion,
	.on_recovery_end = newreno_on_recovery_end,
	.on_idle = newreno_on_idle,
	.on_undo = newreno_on_undo,
};
