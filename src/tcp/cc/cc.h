/* SPDX-License-Identifier: MIT */
/*
 * cc.h - congestion control as a vtable with per-connection private data.
 *
 * TCP keeps the state machine, loss detection and recovery (RFC 6675,
 * RFC 8985); an algorithm only decides cwnd and ssthresh at the events
 * below, through a narrow view of the connection that TCP fills in before
 * each call and reads back after it. Algorithms never see segments, never
 * read a clock (view->now is the stack's time) and keep their own state in
 * `priv` (at most USN_CC_PRIV_MAX bytes, zeroed before init).
 *
 * Units: bytes for windows, nanoseconds for times.
 */
#ifndef USN_CC_H
#define USN_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_CC_PRIV_MAX 128
#define USN_CC_NAME_MAX 16

struct usn_cc_view {
	/* read-only for the algorithm */
	uint64_t now;            /* the stack's clock */
	uint32_t mss;            /* sender MSS (SMSS) */
	uint32_t flight;         /* bytes in flight (RFC 6675 pipe) */
	uint64_t srtt;           /* smoothed RTT, 0 before the first sample */
	uint64_t min_rtt;        /* lowest RTT seen, 0 before the first sample */
	bool app_limited;        /* the sender had less to send than cwnd */
	/* read and written by the algorithm */
	uint32_t cwnd;
	uint32_t ssthresh;
};

enum usn_cc_event {
	USN_CC_EV_FAST_RETRANSMIT, /* loss detected by dupacks/SACK/RACK: enter recovery */
	USN_CC_EV_RTO,             /* retransmission timeout */
	USN_CC_EV_ECN,             /* ECN-Echo (later) */
};

struct usn_cc_ops {
	const char *name;
	/* At connection start, after the initial window is set in view->cwnd
	 * (RFC 6928) and ssthresh is "arbitrarily high" (RFC 5681 §3.1). */
	void (*init)(void *priv, struct usn_cc_view *v);
	/* New data was cumulatively acknowledged outside recovery: acked bytes,
	 * and an RTT sample for it (0 when none, Karn's rule). Slow start and
	 * congestion avoidance happen here. */
	void (*on_ack)(void *priv, struct usn_cc_view *v, uint32_t acked, uint64_t rtt);
	/* A congestion event: the algorithm sets ssthresh and cwnd. For
	 * FAST_RETRANSMIT, TCP then runs recovery with cwnd as set here
	 * (RFC 6675 §5: cwnd = ssthresh). For RTO, RFC 5681 §3.1 (cwnd = 1 MSS
	 * after setting ssthresh). */
	void (*on_congestion)(void *priv, struct usn_cc_view *v, enum usn_cc_event ev);
	/* Recovery ended (RFC 6582 §3.2 step 3 / RFC 6675: full ACK); the
	 * algorithm may set cwnd (usually to ssthresh). */
	void (*on_recovery_end)(void *priv, struct usn_cc_view *v);
	/* The connection was idle for more than an RTO before sending again
	 * (RFC 5681 §4.1: restart window). May be NULL. */
	void (*on_idle)(void *priv, struct usn_cc_view *v);
	/* A retransmission was found spurious (RFC 5682 / RACK); may undo the
	 * last on_congestion. May be NULL. */
	void (*on_undo)(void *priv, struct usn_cc_view *v);
};

extern const struct usn_cc_ops usn_cc_newreno; /* RFC 5681, RFC 6582 */
extern const struct usn_cc_ops usn_cc_cubic;   /* RFC 9438 */

/* The algorithm named `name` ("cubic", "newreno" or "reno"), or NULL. */
const struct usn_cc_ops *usn_cc_find(const char *name);
/* The default: CUBIC. */
const struct usn_cc_ops *usn_cc_default(void);

/*
 * Added by the cc modules: helpers shared by newreno.c and cubic.c (in
 * cc.c), and a read-only look at CUBIC's state for tests and diagnostics.
 */

/* RFC 6928 §2 initial window: min(10*MSS, max(2*MSS, 14600)) bytes. */
uint32_t usn_cc_initial_window(uint32_t mss);
/* Slow start (RFC 5681 §3.1) with appropriate byte counting (RFC 3465 §2.2):
 * while cwnd < ssthresh, cwnd grows by min(acked, limit), never past
 * ssthresh. Returns the part of `acked` left for congestion avoidance (0
 * while still in slow start). */
uint32_t usn_cc_slow_start(struct usn_cc_view *v, uint32_t acked, uint32_t limit);

struct usn_cc_cubic_info {
	uint32_t w_max;      /* bytes; 0 before the first congestion event */
	uint32_t cwnd_prior; /* bytes: cwnd just before the last reduction */
	uint32_t cwnd_epoch; /* bytes: cwnd at the start of this CA stage */
	uint32_t w_est;      /* bytes: the Reno-friendly estimate (RFC 9438 §4.3) */
	uint64_t k;          /* ns: RFC 9438 §4.2 K */
	uint64_t t_epoch;    /* the stack's time the CA stage began */
	bool in_epoch;       /* a CA stage is running (t_epoch, K valid) */
};

/* Copies CUBIC's state out of `priv` (which must belong to usn_cc_cubic). */
void usn_cc_cubic_get_info(const void *priv, struct usn_cc_cubic_info *ret_info);
/* RFC 9438 §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch) / C) in ns, for
 * windows in bytes (0 when cwnd_epoch >= w_max). */
uint64_t usn_cc_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
/* RFC 9438 §4.2 Figure 1: W_cubic(t) = C*(t-K)^3 + W_max in bytes for t and
 * K in ns, clamped to [0, UINT32_MAX]. */
uint32_t usn_cc_cubic_w(uint64_t t, uint64_t k, uint32_t w_max, uint32_t mss);

#endif
