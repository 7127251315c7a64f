/* SPDX-License-Identifier: MIT */
/*
 * test-cc.c - unit tests of the congestion-control modules (src/tcp/cc):
 * NewReno (RFC 5681 §3.1, §4.1, RFC 3465) and CUBIC (RFC 9438), driven
 * through their usn_cc_ops exactly as TCP drives them, in an ACK-clocked
 * model with a fixed RTT and virtual time. Golden numbers are worked out by
 * hand from the RFC formulas (shown next to each).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cc.h"
#include "rand.h"

#define MSS 1000u
#define MS 1000000ULL
#define SEC 1000000000ULL

struct sim {
	const struct usn_cc_ops *ops;
	/* priv deliberately misaligned: TCP promises no alignment, and the
	 * sanitizer build checks the modules do not assume any. */
	unsigned char raw[USN_CC_PRIV_MAX + 8];
	void *priv;
	struct usn_cc_view v;
	uint64_t rtt;
};

static void sim_init(struct sim *s, const struct usn_cc_ops *ops, uint32_t cwnd,
	uint32_t ssthresh)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->priv = s->raw + 1;
	memset(s->priv, 0, USN_CC_PRIV_MAX);
	s->v.now = 5 * SEC;
	s->v.mss = MSS;
	s->v.cwnd = usn_cc_initial_window(MSS);
	s->v.ssthresh = UINT32_MAX;
	s->rtt = 100 * MS;
	ops->init(s->priv, &s->v);
	s->v.cwnd = cwnd;
	s->v.ssthresh = ssthresh;
}

/* One round trip of an ACK-clocked sender: the whole cwnd is in flight and
 * comes back as ACKs of `per_ack` bytes spread evenly over the RTT. */
static void sim_rtt(struct sim *s, uint32_t per_ack)
{
	uint32_t sent = s->v.cwnd, done = 0, n, i;

	n = (sent + per_ack - 1) / per_ack;
	s->v.srtt = s->rtt;
	s->v.min_rtt = s->rtt;
	for (i = 0; i < n; i++) {
		uint32_t a = sent - done < per_ack ? sent - done : per_ack;

		s->v.now += s->rtt / n;
		s->v.flight = sent - done;
		s->ops->on_ack(s->priv, &s->v, a, s->rtt);
		done += a;
	}
}

static void sim_event(struct sim *s, enum usn_cc_event ev, uint32_t flight)
{
	s->v.flight = flight;
	s->ops->on_congestion(s->priv, &s->v, ev);
}

static struct usn_cc_cubic_info cubic_info(const struct sim *s)
{
	struct usn_cc_cubic_info info;

	usn_cc_cubic_get_info(s->priv, &info);
	return info;
}

/* ---- lookup ---- */

static void test_cc_find(void **state)
{
	(void)state;
	assert_ptr_equal(usn_cc_find("cubic"), &usn_cc_cubic);
	assert_ptr_equal(usn_cc_find("newreno"), &usn_cc_newreno);
	assert_ptr_equal(usn_cc_find("reno"), &usn_cc_newreno);
	assert_null(usn_cc_find("bbr"));
	assert_null(usn_cc_find(""));
	assert_null(usn_cc_find("cubic "));
	assert_null(usn_cc_find(NULL));
	assert_ptr_equal(usn_cc_default(), &usn_cc_cubic);
	assert_string_equal(usn_cc_cubic.name, "cubic");
	assert_string_equal(usn_cc_newreno.name, "newreno");
	assert_true(strlen(usn_cc_cubic.name) < USN_CC_NAME_MAX);
	assert_true(strlen(usn_cc_newreno.name) < USN_CC_NAME_MAX);
}

/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
static void test_cc_initial_window(void **state)
{
	(void)state;
	assert_int_equal(usn_cc_initial_window(1000), 10000);  /* 10*MSS */
	assert_int_equal(usn_cc_initial_window(1460), 14600);
	assert_int_equal(usn_cc_initial_window(536), 5360);
	assert_int_equal(usn_cc_initial_window(1500), 14600); /* 14600 < 15000 */
	assert_int_equal(usn_cc_initial_window(9000), 18000); /* 2*MSS */
}

/* ---- NewReno ---- */

/* RFC 5681 §3.1: slow start doubles cwnd each RTT when every segment is
 * ACKed; with RFC 3465 L = 2*SMSS, so does one ACK per two segments. */
static void test_newreno_slow_start_doubles_per_rtt(void **state)
{
	static const uint32_t per_ack[] = { MSS, 2 * MSS };
	struct sim s;
	unsigned i, r;

	(void)state;
	for (i = 0; i < 2; i++) {
		sim_init(&s, &usn_cc_newreno, 10 * MSS, UINT32_MAX);
		for (r = 1; r <= 6; r++) {
			sim_rtt(&s, per_ack[i]);
			assert_int_equal(s.v.cwnd, (10u * MSS) << r);
		}
	}
}

/* RFC 3465 §2.2: one ACK of 4 segments grows cwnd by at most L = 2 SMSS. */
static void test_newreno_slow_start_abc_limit(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 10 * MSS, UINT32_MAX);
	usn_cc_newreno.on_ack(s.priv, &s.v, 4 * MSS, 0);
	assert_int_equal(s.v.cwnd, 12 * MSS);
	usn_cc_newreno.on_ack(s.priv, &s.v, 700, 0); /* a short segment */
	assert_int_equal(s.v.cwnd, 12 * MSS + 700);
	usn_cc_newreno.on_ack(s.priv, &s.v, 0, 0);   /* nothing new */
	assert_int_equal(s.v.cwnd, 12 * MSS + 700);
}

/* Slow start stops at ssthresh and the rest of that ACK counts toward
 * congestion avoidance (RFC 5681 §3.1, RFC 3465 §2.1). */
static void test_newreno_slow_start_to_ssthresh(void **state)
{
	struct sim s;
	unsigned i;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 14 * MSS + 500, 15 * MSS);
	usn_cc_newreno.on_ack(s.priv, &s.v, 2 * MSS, 0);
	assert_int_equal(s.v.cwnd, 15 * MSS);    /* +500, then CA: 1500 counted */
	for (i = 0; i < 13; i++)
		usn_cc_newreno.on_ack(s.priv, &s.v, MSS, 0);
	assert_int_equal(s.v.cwnd, 15 * MSS);    /* 14500 bytes counted < cwnd */
	usn_cc_newreno.on_ack(s.priv, &s.v, MSS, 0);
	assert_int_equal(s.v.cwnd, 16 * MSS);    /* 15500 >= 15000: +1 SMSS */
}

/* RFC 5681 §3.1 congestion avoidance: +1 SMSS per RTT, exactly, whatever
 * the ACK spacing, thanks to byte counting. */
static void test_newreno_ca_one_mss_per_rtt(void **state)
{
	static const uint32_t per_ack[] = { MSS, 2 * MSS, 1448, 64000 };
	struct sim s;
	unsigned i, r;

	(void)state;
	for (i = 0; i < 4; i++) {
		sim_init(&s, &usn_cc_newreno, 20 * MSS, 20 * MSS);
		for (r = 1; r <= 30; r++) {
			sim_rtt(&s, per_ack[i]);
			assert_int_equal(s.v.cwnd, (20 + r) * MSS);
		}
	}
}

/* RFC 5681 §3.1 eq. (4) and fast retransmit: ssthresh = max(FlightSize/2,
 * 2*SMSS), cwnd = ssthresh; at the end of recovery cwnd = ssthresh. */
static void test_newreno_fast_retransmit(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 40 * MSS);
	assert_int_equal(s.v.ssthresh, 20 * MSS);
	assert_int_equal(s.v.cwnd, 20 * MSS);
	s.v.cwnd = 25 * MSS; /* TCP inflated during recovery */
	usn_cc_newreno.on_recovery_end(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 20 * MSS);
	/* Then congestion avoidance, +1 SMSS per RTT. */
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 21 * MSS);

	/* Flight, not cwnd, is halved. */
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 30001);
	assert_int_equal(s.v.ssthresh, 15000);
	assert_int_equal(s.v.cwnd, 15000);

	/* The 2*SMSS floor. */
	sim_init(&s, &usn_cc_newreno, 3 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 3 * MSS);
	assert_int_equal(s.v.ssthresh, 2 * MSS);
	assert_int_equal(s.v.cwnd, 2 * MSS);

	/* RFC 3168 §6.1.2: ECN-Echo reduces the same way. */
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_ECN, 36 * MSS);
	assert_int_equal(s.v.ssthresh, 18 * MSS);
	assert_int_equal(s.v.cwnd, 18 * MSS);
}

/* RFC 5681 §3.1 timeout: ssthresh by eq. (4), cwnd = LW = 1 SMSS; a backed-
 * off RTO of the same segment keeps ssthresh; slow start after the RTO uses
 * L = 1 SMSS (RFC 3465 §2.3). */
static void test_newreno_rto(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_RTO, 30 * MSS);
	assert_int_equal(s.v.ssthresh, 15 * MSS);
	assert_int_equal(s.v.cwnd, MSS);

	/* The retransmission times out again: flight is now 1 segment, but
	 * ssthresh must not drop to 2 SMSS. */
	sim_event(&s, USN_CC_EV_RTO, MSS);
	assert_int_equal(s.v.ssthresh, 15 * MSS);
	assert_int_equal(s.v.cwnd, MSS);

	/* An ACK of 2 segments after the RTO: +1 SMSS only. */
	usn_cc_newreno.on_ack(s.priv, &s.v, 2 * MSS, 0);
	assert_int_equal(s.v.cwnd, 2 * MSS);
	/* Slow start doubles per RTT up to ssthresh, then +1 per RTT. */
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 4 * MSS);
	sim_rtt(&s, MSS);
	sim_rtt(&s, MSS);
	/* 8 -> 15 (capped at ssthresh; the last ACK counted in CA) */
	assert_int_equal(s.v.cwnd, 15 * MSS);
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 16 * MSS);
	/* New data was acked: a later RTO is a new event and sets ssthresh. */
	sim_event(&s, USN_CC_EV_RTO, 16 * MSS);
	assert_int_equal(s.v.ssthresh, 8 * MSS);
	assert_int_equal(s.v.cwnd, MSS);
}

/* RFC 5681 §4.1: after idle, cwnd = RW = min(IW, cwnd); ssthresh kept. */
static void test_newreno_restart_after_idle(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 40 * MSS, 20 * MSS);
	usn_cc_newreno.on_idle(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 10 * MSS);
	assert_int_equal(s.v.ssthresh, 20 * MSS);
	sim_rtt(&s, MSS);                         /* slow start again */
	assert_int_equal(s.v.cwnd, 20 * MSS);

	sim_init(&s, &usn_cc_newreno, 4 * MSS, 20 * MSS);
	usn_cc_newreno.on_idle(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 4 * MSS);      /* already below IW */

	sim_init(&s, &usn_cc_newreno, 40 * 1460, 20 * 1460);
	s.v.mss = 1460;
	usn_cc_newreno.on_idle(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 14600);
}

/* Undo restores cwnd and ssthresh from before the last reduction. */
static void test_newreno_undo(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	usn_cc_newreno.on_undo(s.priv, &s.v);     /* nothing to undo */
	assert_int_equal(s.v.cwnd, 40 * MSS);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 40 * MSS);
	assert_int_equal(s.v.cwnd, 20 * MSS);
	usn_cc_newreno.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 40 * MSS);
	assert_int_equal(s.v.ssthresh, UINT32_MAX);
	/* Only once. */
	s.v.cwnd = 30 * MSS;
	usn_cc_newreno.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 30 * MSS);

	/* An RTO undone (F-RTO / Eifel). */
	sim_init(&s, &usn_cc_newreno, 40 * MSS, 50 * MSS);
	sim_event(&s, USN_CC_EV_RTO, 40 * MSS);
	assert_int_equal(s.v.cwnd, MSS);
	usn_cc_newreno.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 40 * MSS);
	assert_int_equal(s.v.ssthresh, 50 * MSS);

	/* cwnd already regrown past the old value: not reduced by undo. */
	sim_init(&s, &usn_cc_newreno, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 40 * MSS);
	s.v.cwnd = 45 * MSS;
	usn_cc_newreno.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 45 * MSS);
	assert_int_equal(s.v.ssthresh, UINT32_MAX);
}

static void test_newreno_app_limited(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_newreno, 10 * MSS, UINT32_MAX);
	s.v.app_limited = true;
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 10 * MSS);
	sim_init(&s, &usn_cc_newreno, 20 * MSS, 20 * MSS);
	s.v.app_limited = true;
	sim_rtt(&s, MSS);
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 20 * MSS);
	s.v.app_limited = false;
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 21 * MSS);
}

/* ---- CUBIC ---- */

/* RFC 9438 §4.2 Figure 2: W_max = 100 MSS, cwnd_epoch = 70 MSS (after a
 * reduction by beta 0.7): K = cbrt((100 - 70) / 0.4) = cbrt(75) =
 * 4.2171633 s. Figure 1: W_cubic(t) = 0.4 * (t - K)^3 + 100 segments:
 *   t = 0: 70;  t = 1: 100 - 0.4*3.2171633^3 = 86.6808;
 *   t = 2: 100 - 0.4*2.2171633^3 = 95.6403;  t = K: 100;
 *   t = K+1: 100.4;  t = 6: 100 + 0.4*1.7828367^3 = 102.2667. */
static void test_cubic_k_and_w_golden(void **state)
{
	uint64_t k = usn_cc_cubic_k(100 * MSS, 70 * MSS, MSS);

	(void)state;
	assert_in_range(k, 4217163327ULL - 1000, 4217163327ULL + 1000);
	/* Independent of the segment size. */
	assert_in_range(usn_cc_cubic_k(100 * 1460, 70 * 1460, 1460),
		4217163327ULL - 1000, 4217163327ULL + 1000);
	/* W_max = 50, cwnd_epoch = 10: K = cbrt(100) = 4.6415888 s. */
	assert_in_range(usn_cc_cubic_k(50 * MSS, 10 * MSS, MSS),
		4641588834ULL - 1000, 4641588834ULL + 1000);
	/* W_max = 1000000 segments of 1, cwnd_epoch 0: K = cbrt(2.5e6). */
	assert_in_range(usn_cc_cubic_k(1000000, 0, 1),
		135720880830ULL - 100000, 135720880830ULL + 100000);
	assert_int_equal(usn_cc_cubic_k(100 * MSS, 100 * MSS, MSS), 0);
	assert_int_equal(usn_cc_cubic_k(100 * MSS, 120 * MSS, MSS), 0);

	assert_in_range(usn_cc_cubic_w(0, k, 100 * MSS, MSS), 69999, 70000);
	assert_int_equal(usn_cc_cubic_w(1 * SEC, k, 100 * MSS, MSS), 86680);
	assert_int_equal(usn_cc_cubic_w(2 * SEC, k, 100 * MSS, MSS), 95640);
	assert_in_range(usn_cc_cubic_w(k, k, 100 * MSS, MSS), 99999, 100000);
	assert_in_range(usn_cc_cubic_w(k + SEC, k, 100 * MSS, MSS), 100399, 100400);
	assert_int_equal(usn_cc_cubic_w(6 * SEC, k, 100 * MSS, MSS), 102266);
	/* Far in the convex region: saturates instead of wrapping. */
	assert_int_equal(usn_cc_cubic_w(100000 * SEC, k, 100 * MSS, MSS), UINT32_MAX);
}

/* RFC 9438 §4.6: ssthresh = flight * 0.7, cwnd = max(ssthresh, 2 SMSS) on
 * loss, max(ssthresh, 1 SMSS) on ECE, ssthresh >= 2 SMSS; cwnd_prior = cwnd
 * and W_max = cwnd (first event, §4.7). */
static void test_cubic_multiplicative_decrease(void **state)
{
	struct usn_cc_cubic_info info;
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	assert_int_equal(s.v.ssthresh, 70 * MSS);
	assert_int_equal(s.v.cwnd, 70 * MSS);
	info = cubic_info(&s);
	assert_int_equal(info.w_max, 100 * MSS);
	assert_int_equal(info.cwnd_prior, 100 * MSS);
	assert_false(info.in_epoch);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 70 * MSS);

	/* flight, not cwnd, is what beta multiplies. */
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 80 * MSS);
	assert_int_equal(s.v.ssthresh, 56 * MSS);
	assert_int_equal(s.v.cwnd, 56 * MSS);
	assert_int_equal(cubic_info(&s).w_max, 100 * MSS);

	/* Floors: 0.7 * 2 = 1.4 segments -> 2. */
	sim_init(&s, &usn_cc_cubic, 2 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 2 * MSS);
	assert_int_equal(s.v.ssthresh, 2 * MSS);
	assert_int_equal(s.v.cwnd, 2 * MSS);
	/* ECE with one segment in flight: cwnd 1 SMSS, ssthresh 2 SMSS. */
	sim_init(&s, &usn_cc_cubic, 2 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_ECN, MSS);
	assert_int_equal(s.v.cwnd, MSS);
	assert_int_equal(s.v.ssthresh, 2 * MSS);
	sim_init(&s, &usn_cc_cubic, 50 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_ECN, 50 * MSS);
	assert_int_equal(s.v.cwnd, 35 * MSS);
	assert_int_equal(s.v.ssthresh, 35 * MSS);
}

/* RFC 9438 §4.7: a loss below the remembered W_max lowers W_max to
 * cwnd * (1 + 0.7) / 2 = 0.85 cwnd. */
static void test_cubic_fast_convergence(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	assert_int_equal(cubic_info(&s).w_max, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	s.v.cwnd = 80 * MSS;
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 80 * MSS);
	assert_int_equal(cubic_info(&s).w_max, 68 * MSS);
	assert_int_equal(cubic_info(&s).cwnd_prior, 80 * MSS);
	assert_int_equal(s.v.cwnd, 56 * MSS);
	/* The next CA stage aims at the lowered W_max: K = cbrt((68 - 56)
	 * / 0.4) = cbrt(30) = 3.1072325 s. */
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	sim_rtt(&s, MSS);
	assert_true(cubic_info(&s).in_epoch);
	assert_in_range(cubic_info(&s).k, 3107232506ULL - 1000, 3107232506ULL + 1000);
	/* A loss above W_max remembers cwnd itself. */
	s.v.cwnd = 120 * MSS;
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 120 * MSS);
	assert_int_equal(cubic_info(&s).w_max, 120 * MSS);
}

/* RFC 9438 §4.2, §4.4, §4.5: after a loss at W_max = 100 MSS, with RTT
 * 100 ms and an ACK per segment, cwnd climbs from 70 MSS in a concave curve
 * to W_max near t = K = 4.217 s, stays there, then grows convexly; once W_est
 * passes cwnd_prior (RFC 9438 §4.3, alpha = 1 from then on, at t ~ 5.8 s)
 * the Reno-friendly region takes over at 1 MSS per RTT. */
static void test_cubic_trajectory_concave_convex(void **state)
{
	struct usn_cc_cubic_info info;
	uint32_t prev, inc, prev_inc, at_k = 0;
	uint64_t t_epoch, t;
	struct sim s;
	unsigned r;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 70 * MSS);

	prev = s.v.cwnd;
	sim_rtt(&s, MSS);
	info = cubic_info(&s);
	assert_true(info.in_epoch);
	assert_int_equal(info.cwnd_epoch, 70 * MSS);
	assert_in_range(info.k, 4217163327ULL - 1000, 4217163327ULL + 1000);
	t_epoch = info.t_epoch;
	prev_inc = s.v.cwnd - prev;
	prev = s.v.cwnd;

	for (r = 2; r <= 55; r++) {
		sim_rtt(&s, MSS);
		t = s.v.now - t_epoch;
		inc = s.v.cwnd - prev;
		/* The +RTT lookahead makes the ACK-clocked cwnd track
		 * W_cubic(t) closely. */
		assert_in_range(s.v.cwnd,
			usn_cc_cubic_w(t, info.k, 100 * MSS, MSS) - 200,
			usn_cc_cubic_w(t, info.k, 100 * MSS, MSS) + 200);
		if (t + s.rtt < info.k - 300 * MS) {
			/* concave: below W_max, growth slowing down */
			assert_true(s.v.cwnd < 100 * MSS);
			assert_true(inc < prev_inc);
		} else if (t > info.k + 300 * MS) {
			/* convex: above W_max, growth speeding up */
			assert_true(s.v.cwnd > 100 * MSS);
			assert_true(inc > prev_inc);
		}
		if (!at_k && t >= info.k)
			at_k = s.v.cwnd;
		prev_inc = inc;
		prev = s.v.cwnd;
	}
	/* Reaches W_max near t = K. */
	assert_in_range(at_k, 99 * MSS, 101 * MSS);
	/* At t = 5.5 s: W = 100 + 0.4*(5.5-4.2172)^3 = 100.8443 segments. */
	assert_in_range(s.v.cwnd, 100700, 101000);

	/* W_est = 70 + 0.53/RTT reaches cwnd_prior = 100 near t = 5.7 s;
	 * from then on alpha = 1 and, as the cubic curve is flatter than
	 * 1 MSS per RTT there, cwnd = W_est grows by 1 MSS per RTT. */
	for (r = 0; r < 5; r++)
		sim_rtt(&s, MSS);
	prev = s.v.cwnd;
	for (r = 0; r < 10; r++)
		sim_rtt(&s, MSS);
	assert_in_range(s.v.cwnd - prev, 9900, 10100);
	info = cubic_info(&s);
	assert_in_range(info.w_est, s.v.cwnd, s.v.cwnd + 1);
	assert_true(usn_cc_cubic_w(s.v.now - t_epoch, info.k, 100 * MSS, MSS)
		< s.v.cwnd);
}

/* RFC 9438 §4.3: with a small RTT the cubic curve grows too slowly and
 * cwnd follows W_est, which adds alpha = 3*0.3/1.7 = 0.5294 segments per
 * RTT until W_est reaches cwnd_prior, then 1 segment per RTT. */
static void test_cubic_reno_friendly(void **state)
{
	struct usn_cc_cubic_info info;
	uint32_t start;
	struct sim s;
	unsigned r;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	s.rtt = 1 * MS;
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	for (r = 0; r < 20; r++)
		sim_rtt(&s, MSS);
	/* 70 + 20 * 0.5294 = 80.59 segments (a little less, as cwnd grows
	 * within each RTT); the cubic curve is at only ~70.4. */
	assert_in_range(s.v.cwnd, 80200, 80700);
	info = cubic_info(&s);
	assert_in_range(info.w_est, s.v.cwnd, s.v.cwnd + 1);
	assert_true(usn_cc_cubic_w(s.v.now - info.t_epoch, info.k, info.w_max, MSS)
		< 71 * MSS);

	/* Run until W_est passes cwnd_prior = 100 MSS (~57 RTTs), then alpha is
	 * 1: one segment per RTT, like Reno. */
	while (s.v.cwnd < 101 * MSS)
		sim_rtt(&s, MSS);
	start = s.v.cwnd;
	for (r = 0; r < 10; r++)
		sim_rtt(&s, MSS);
	assert_in_range(s.v.cwnd - start, 9800, 10200);
}

/* RFC 9438 §5.8: no growth while application limited, and that time is not
 * counted in t: the curve resumes where it paused. */
static void test_cubic_app_limited(void **state)
{
	struct sim s, ref;
	uint32_t before;
	unsigned r;

	(void)state;
	/* Slow start does not grow either. */
	sim_init(&s, &usn_cc_cubic, 10 * MSS, UINT32_MAX);
	s.v.app_limited = true;
	sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, 10 * MSS);

	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	for (r = 0; r < 10; r++)
		sim_rtt(&s, MSS);
	ref = s;
	ref.priv = ref.raw + 1;
	before = s.v.cwnd;
	s.v.app_limited = true;
	for (r = 0; r < 30; r++)                  /* 3 s of app-limited ACKs */
		sim_rtt(&s, MSS);
	assert_int_equal(s.v.cwnd, before);
	s.v.app_limited = false;
	sim_rtt(&s, MSS);
	sim_rtt(&ref, MSS);
	/* Without the exclusion, t would jump from ~1 s to ~4.1 s and cwnd to
	 * ~W_cubic(4.2) = 100 MSS; instead it matches the run with no pause. */
	assert_in_range(s.v.cwnd, ref.v.cwnd - 100, ref.v.cwnd + 100);
	assert_true(s.v.cwnd < 90 * MSS);
}

/* RFC 9438 §4.8: on RTO cwnd = 1 SMSS, ssthresh = 0.7 * flight; slow start
 * back to ssthresh, then the first CA stage has K = 0 and W_max = cwnd at
 * its start. */
static void test_cubic_rto(void **state)
{
	struct usn_cc_cubic_info info;
	struct sim s;
	uint32_t prev;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_RTO, 100 * MSS);
	assert_int_equal(s.v.cwnd, MSS);
	assert_int_equal(s.v.ssthresh, 70 * MSS);
	assert_int_equal(cubic_info(&s).cwnd_prior, 100 * MSS);
	/* A backed-off RTO for the same data keeps ssthresh. */
	sim_event(&s, USN_CC_EV_RTO, MSS);
	assert_int_equal(s.v.ssthresh, 70 * MSS);
	assert_int_equal(s.v.cwnd, MSS);
	/* RFC 3465 §2.3: L = 1 SMSS in this slow start. */
	usn_cc_cubic.on_ack(s.priv, &s.v, 3 * MSS, 0);
	assert_int_equal(s.v.cwnd, 2 * MSS);
	while (s.v.cwnd < s.v.ssthresh)
		usn_cc_cubic.on_ack(s.priv, &s.v, MSS, 0);
	assert_int_equal(s.v.cwnd, 70 * MSS);
	assert_false(cubic_info(&s).in_epoch);
	prev = s.v.cwnd;
	sim_rtt(&s, MSS);
	info = cubic_info(&s);
	assert_true(info.in_epoch);
	assert_int_equal(info.k, 0);
	assert_int_equal(info.w_max, 70 * MSS);
	assert_int_equal(info.cwnd_epoch, 70 * MSS);
	/* Convex from the start: slow growth at first (Reno-friendly W_est,
	 * alpha = 0.53 below cwnd_prior = 100, gives about half a segment). */
	assert_in_range(s.v.cwnd - prev, 1, 1000);
}

/* RFC 9438 §4.10: a CA stage with no congestion event yet: W_max = cwnd,
 * K = 0, cwnd_prior = cwnd. */
static void test_cubic_first_ca_without_loss(void **state)
{
	struct usn_cc_cubic_info info;
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 50 * MSS, 50 * MSS);
	sim_rtt(&s, MSS);
	info = cubic_info(&s);
	assert_true(info.in_epoch);
	assert_int_equal(info.k, 0);
	assert_int_equal(info.w_max, 50 * MSS);
	assert_int_equal(info.cwnd_prior, 50 * MSS);
	/* alpha is 1 at once (W_est >= cwnd_prior): ~1 segment per RTT. */
	assert_in_range(s.v.cwnd, 50 * MSS + 900, 50 * MSS + 1100);
}

/* RFC 9438 §4.9.2: undo restores cwnd, ssthresh, W_max, K, t_epoch and
 * W_est if cwnd is still below the saved cwnd. */
static void test_cubic_undo(void **state)
{
	struct usn_cc_cubic_info before, after;
	uint32_t cwnd, ssthresh;
	struct sim s;
	unsigned r;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	for (r = 0; r < 10; r++)
		sim_rtt(&s, MSS);
	before = cubic_info(&s);
	cwnd = s.v.cwnd;
	ssthresh = s.v.ssthresh;

	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, cwnd);
	assert_int_equal(cubic_info(&s).w_max, (uint32_t)(cwnd * 0.85));
	assert_false(cubic_info(&s).in_epoch);
	usn_cc_cubic.on_undo(s.priv, &s.v);
	after = cubic_info(&s);
	assert_int_equal(s.v.cwnd, cwnd);
	assert_int_equal(s.v.ssthresh, ssthresh);
	assert_int_equal(after.w_max, before.w_max);
	assert_int_equal(after.k, before.k);
	assert_int_equal(after.t_epoch, before.t_epoch);
	assert_int_equal(after.w_est, before.w_est);
	assert_int_equal(after.cwnd_prior, before.cwnd_prior);
	assert_true(after.in_epoch);

	/* An RTO undone restores slow-start state too. */
	sim_init(&s, &usn_cc_cubic, 40 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_RTO, 40 * MSS);
	usn_cc_cubic.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 40 * MSS);
	assert_int_equal(s.v.ssthresh, UINT32_MAX);
	assert_int_equal(cubic_info(&s).w_max, 0);
	sim_rtt(&s, MSS);                          /* slow start, L = 2 again */
	assert_int_equal(s.v.cwnd, 80 * MSS);

	/* cwnd already above the saved value: keep the current state. */
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	s.v.cwnd = 110 * MSS;
	usn_cc_cubic.on_undo(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 110 * MSS);
	assert_int_equal(s.v.ssthresh, 70 * MSS);
	assert_int_equal(cubic_info(&s).w_max, 100 * MSS);
}

/* RFC 5681 §4.1 restart window for CUBIC; the CA stage restarts so idle
 * time does not count in t (RFC 9438 §5.8). */
static void test_cubic_restart_after_idle(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &usn_cc_cubic, 100 * MSS, UINT32_MAX);
	sim_event(&s, USN_CC_EV_FAST_RETRANSMIT, 100 * MSS);
	usn_cc_cubic.on_recovery_end(s.priv, &s.v);
	sim_rtt(&s, MSS);
	assert_true(cubic_info(&s).in_epoch);
	s.v.now += 60 * SEC;
	usn_cc_cubic.on_idle(s.priv, &s.v);
	assert_int_equal(s.v.cwnd, 10 * MSS);
	assert_int_equal(s.v.ssthresh, 70 * MSS);
	assert_false(cubic_info(&s).in_epoch);
	assert_int_equal(cubic_info(&s).w_max, 100 * MSS);
	sim_rtt(&s, MSS);                          /* slow start */
	assert_int_equal(s.v.cwnd, 20 * MSS);
}

/* Randomised: any sequence of events keeps the invariants TCP relies on:
 * cwnd >= 1 SMSS, ssthresh >= 2 SMSS after an event, no growth when
 * app-limited, cwnd never falls on an ACK, ssthresh untouched by ACKs. */
static void test_cc_random_invariants(void **state)
{
	const struct usn_cc_ops *algs[] = { &usn_cc_newreno, &usn_cc_cubic };
	struct usn_rand rnd;
	struct sim s;
	unsigned a, seed, i;

	(void)state;
	for (a = 0; a < 2; a++) {
		for (seed = 1; seed <= 20; seed++) {
			usn_rand_seed(&rnd, seed * 7919 + a);
			sim_init(&s, algs[a], 10 * MSS, UINT32_MAX);
			for (i = 0; i < 3000; i++) {
				uint32_t c0 = s.v.cwnd, ss0 = s.v.ssthresh;
				uint32_t op = (uint32_t)usn_rand_below(&rnd, 100);

				s.v.now += usn_rand_below(&rnd, 50 * MS) + 1;
				s.v.srtt = usn_rand_below(&rnd, 300 * MS);
				s.v.flight = (uint32_t)usn_rand_below(&rnd,
					(uint64_t)s.v.cwnd * 2 + 1);
				s.v.app_limited = usn_rand_below(&rnd, 5) == 0;
				if (op < 80) {
					uint32_t acked = (uint32_t)usn_rand_below(&rnd, 8 * MSS);

					s.ops->on_ack(s.priv, &s.v, acked, s.v.srtt);
					assert_true(s.v.cwnd >= c0);
					assert_int_equal(s.v.ssthresh, ss0);
					if (s.v.app_limited || acked == 0)
						assert_int_equal(s.v.cwnd, c0);
					if (c0 < ss0 && ss0 - c0 > 2 * MSS)
						assert_true(s.v.cwnd - c0 <= 2 * MSS);
				} else if (op < 90) {
					enum usn_cc_event ev = (enum usn_cc_event)
						usn_rand_below(&rnd, 3);

					sim_event(&s, ev, s.v.flight);
					assert_true(s.v.ssthresh >= 2 * MSS);
					assert_true(s.v.cwnd >= MSS);
					assert_true(s.v.cwnd <= s.v.ssthresh);
				} else if (op < 95) {
					s.ops->on_recovery_end(s.priv, &s.v);
					assert_int_equal(s.v.cwnd, s.v.ssthresh);
				} else if (op < 98) {
					s.ops->on_idle(s.priv, &s.v);
					assert_true(s.v.cwnd <= c0);
					assert_true(s.v.cwnd >= (c0 < 10 * MSS ? c0 : 10 * MSS));
				} else {
					s.ops->on_undo(s.priv, &s.v);
					assert_true(s.v.cwnd >= c0);
				}
				assert_true(s.v.cwnd >= MSS);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cc_find),
		cmocka_unit_test(test_cc_initial_window),
		cmocka_unit_test(test_newreno_slow_start_doubles_per_rtt),
		cmocka_unit_test(test_newreno_slow_start_abc_limit),
		cmocka_unit_test(test_newreno_slow_start_to_ssthresh),
		cmocka_unit_test(test_newreno_ca_one_mss_per_rtt),
		cmocka_unit_test(test_newreno_fast_retransmit),
		cmocka_unit_test(test_newreno_rto),
		cmocka_unit_test(test_newreno_restart_after_idle),
		cmocka_unit_test(test_newreno_undo),
		cmocka_unit_test(test_newreno_app_limited),
		cmocka_unit_test(test_cubic_k_and_w_golden),
		cmocka_unit_test(test_cubic_multiplicative_decrease),
		cmocka_unit_test(test_cubic_fast_convergence),
		cmocka_unit_test(test_cubic_trajectory_concave_convex),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_app_limited),
		cmocka_unit_test(test_cubic_rto),
		cmocka_unit_test(test_cubic_first_ca_without_loss),
		cmocka_unit_test(test_cubic_undo),
		cmocka_unit_test(test_cubic_restart_after_idle),
		cmocka_unit_test(test_cc_random_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
