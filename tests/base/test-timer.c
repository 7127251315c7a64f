/* SPDX-License-Identifier: MIT */
/*
 * test-timer.c - the hierarchical timer wheel: order, cancel, re-arm, arming
 * in the past, exact firing within a tick, callbacks that arm and cancel
 * (themselves, and others due in the same advance), cascade boundaries, long
 * idle jumps (which must not walk tick by tick), and seeded random runs
 * checked against a naive model: every timer fires exactly once, at the
 * first advance whose time reaches its expiry, and next_expiry is never
 * later than the earliest armed expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "timer.h"
#include "util.h"

#define MS USN_NSEC_PER_MSEC

struct ctx;

struct tt {
	struct usn_timer t;
	struct ctx *ctx;
	int id;
	int fires;
	uint64_t fired_at;
	/* behaviour of the callback */
	uint64_t rearm_delta;     /* re-arm self at now + delta when non-zero */
	int rearm_left;
	struct tt *cancel_other;  /* cancel this timer when firing */
	struct tt *arm_other;     /* arm this timer at arm_other_at */
	uint64_t arm_other_at;
	bool rearm_at_now;        /* re-arm self at `now` (a past time) */
};

struct ctx {
	struct usn_wheel w;
	int order[64];
	int norder;
};

static void tt_fire(struct usn_timer *t, uint64_t now)
{
	struct tt *x = USN_CONTAINER_OF(t, struct tt, t);
	struct ctx *c = x->ctx;

	/* Never early. */
	assert_true(now >= t->expires);
	assert_false(usn_timer_pending(t));
	x->fires++;
	x->fired_at = now;
	if (c->norder < (int)USN_ARRAY_SIZE(c->order))
		c->order[c->norder++] = x->id;
	if (x->cancel_other)
		usn_timer_cancel(&c->w, &x->cancel_other->t);
	if (x->arm_other)
		usn_timer_arm(&c->w, &x->arm_other->t, x->arm_other_at);
	if (x->rearm_delta && x->rearm_left > 0) {
		x->rearm_left--;
		usn_timer_arm(&c->w, t, now + x->rearm_delta);
	}
	if (x->rearm_at_now)
		usn_timer_arm(&c->w, t, now);
}

static void tt_init(struct ctx *c, struct tt *x, int id)
{
	memset(x, 0, sizeof(*x));
	x->ctx = c;
	x->id = id;
	usn_timer_init(&x->t, tt_fire);
}

static void test_empty_wheel(void **state)
{
	struct ctx c = { 0 };

	usn_wheel_init(&c.w, 5 * MS, MS);
	assert_int_equal(usn_wheel_next_expiry(&c.w), UINT64_MAX);
	assert_int_equal(usn_wheel_advance(&c.w, 10 * MS), 0);
	assert_int_equal(usn_wheel_advance(&c.w, 3600 * USN_NSEC_PER_SEC), 0);
	assert_int_equal(usn_wheel_next_expiry(&c.w), UINT64_MAX);
	assert_int_equal(c.w.count, 0);
}

static void test_fires_in_order(void **state)
{
	/* Expiries in ms, deliberately out of order, crossing level 0/1/2
	 * boundaries (64 and 4096 ticks). */
	static const uint64_t exp_ms[] = { 70, 3, 4096, 65, 64, 1, 200, 4095, 5000, 63, 2, 4097 };
	enum { N = USN_ARRAY_SIZE(exp_ms) };
	struct ctx c = { 0 };
	struct tt x[N];

	usn_wheel_init(&c.w, 0, MS);
	for (int i = 0; i < N; i++) {
		tt_init(&c, &x[i], i);
		usn_timer_arm(&c.w, &x[i].t, exp_ms[i] * MS);
		assert_true(usn_timer_pending(&x[i].t));
	}
	assert_int_equal(c.w.count, N);
	for (uint64_t now = 0; now <= 6000; now++)
		usn_wheel_advance(&c.w, now * MS);
	assert_int_equal(c.norder, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(x[i].fires, 1);
		/* Advanced every ms: fired exactly at its expiry. */
		assert_int_equal(x[i].fired_at, exp_ms[i] * MS);
		if (i > 0)
			assert_true(exp_ms[c.order[i - 1]] < exp_ms[c.order[i]]);
	}
	assert_int_equal(c.w.count, 0);
	assert_int_equal(usn_wheel_next_expiry(&c.w), UINT64_MAX);
}

static void test_cancel(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b, d;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	tt_init(&c, &d, 3);
	usn_timer_cancel(&c.w, &a.t); /* not armed: no-op */
	usn_timer_arm(&c.w, &a.t, 10 * MS);
	usn_timer_arm(&c.w, &b.t, 10 * MS);
	usn_timer_arm(&c.w, &d.t, 100000 * MS);
	assert_int_equal(c.w.count, 3);
	usn_timer_cancel(&c.w, &a.t);
	usn_timer_cancel(&c.w, &a.t); /* twice: no-op */
	usn_timer_cancel(&c.w, &d.t);
	assert_false(usn_timer_pending(&a.t));
	assert_false(usn_timer_pending(&d.t));
	assert_int_equal(c.w.count, 1);
	assert_int_equal(usn_wheel_advance(&c.w, 200000 * MS), 1);
	assert_int_equal(a.fires, 0);
	assert_int_equal(b.fires, 1);
	assert_int_equal(d.fires, 0);
	/* The last timer of a slot cancelled: the wheel is truly empty. */
	usn_timer_arm(&c.w, &a.t, 300000 * MS);
	usn_timer_cancel(&c.w, &a.t);
	assert_int_equal(usn_wheel_next_expiry(&c.w), UINT64_MAX);
	for (int i = 0; i < 8; i++)
		assert_int_equal(c.w.occupied[i % USN_WHEEL_LEVELS], 0);
}

static void test_rearm(void **state)
{
	struct ctx c = { 0 };
	struct tt a;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	usn_timer_arm(&c.w, &a.t, 10 * MS);
	usn_timer_arm(&c.w, &a.t, 50 * MS); /* later */
	assert_int_equal(c.w.count, 1);
	for (uint64_t now = 0; now < 50; now++)
		usn_wheel_advance(&c.w, now * MS);
	assert_int_equal(a.fires, 0);
	usn_wheel_advance(&c.w, 50 * MS);
	assert_int_equal(a.fires, 1);

	usn_timer_arm(&c.w, &a.t, 10000 * MS);
	usn_timer_arm(&c.w, &a.t, 60 * MS); /* earlier */
	assert_int_equal(usn_wheel_next_expiry(&c.w), 60 * MS);
	usn_wheel_advance(&c.w, 61 * MS);
	assert_int_equal(a.fires, 2);
	assert_int_equal(a.fired_at, 61 * MS);
	usn_wheel_advance(&c.w, 20000 * MS);
	assert_int_equal(a.fires, 2);
}

static void test_arm_in_past_fires_at_next_advance(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b;

	usn_wheel_init(&c.w, 1000 * MS, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	usn_timer_arm(&c.w, &a.t, 5 * MS);
	usn_timer_arm(&c.w, &b.t, 0);
	assert_true(usn_wheel_next_expiry(&c.w) <= 0);
	/* Same time as the wheel's: still fires. */
	assert_int_equal(usn_wheel_advance(&c.w, 1000 * MS), 2);
	assert_int_equal(a.fires, 1);
	assert_int_equal(b.fires, 1);
	assert_int_equal(a.fired_at, 1000 * MS);
}

/* Firing is exact within a tick, and next_expiry is exact for the tick at
 * hand, so a loop that sleeps until next_expiry never spins. */
static void test_exact_within_tick(void **state)
{
	struct ctx c = { 0 };
	struct tt a;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	usn_timer_arm(&c.w, &a.t, 10 * MS + 500000);
	assert_true(usn_wheel_next_expiry(&c.w) <= 10 * MS + 500000);
	assert_int_equal(usn_wheel_advance(&c.w, 10 * MS), 0);
	assert_int_equal(usn_wheel_next_expiry(&c.w), 10 * MS + 500000);
	assert_int_equal(usn_wheel_advance(&c.w, 10 * MS + 499999), 0);
	assert_int_equal(usn_wheel_next_expiry(&c.w), 10 * MS + 500000);
	assert_int_equal(usn_wheel_advance(&c.w, 10 * MS + 500000), 1);
	assert_int_equal(a.fired_at, 10 * MS + 500000);
}

static void test_callback_rearms_itself(void **state)
{
	struct ctx c = { 0 };
	struct tt a;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	a.rearm_delta = 10 * MS;
	a.rearm_left = 1000;
	usn_timer_arm(&c.w, &a.t, 10 * MS);
	for (uint64_t now = 1; now <= 1000; now++)
		usn_wheel_advance(&c.w, now * MS);
	assert_int_equal(a.fires, 100);
	assert_int_equal(a.fired_at, 1000 * MS);
	assert_true(usn_timer_pending(&a.t));
	assert_int_equal(a.t.expires, 1010 * MS);
	/* One big advance: the periodic timer re-armed relative to the
	 * advance's time fires once, not once per missed period. */
	assert_int_equal(usn_wheel_advance(&c.w, 5000 * MS), 1);
	assert_int_equal(a.t.expires, 5010 * MS);
}

/* A callback re-arming itself at `now` (already reached) must not loop.
 * Within one tick it runs again at the next advance; over a multi-tick
 * advance the tick of `now` is still ahead, so it runs once more at the
 * end of that advance: at most twice per advance, however long the jump. */
static void test_callback_rearm_at_now_is_bounded(void **state)
{
	struct ctx c = { 0 };
	struct tt a;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	a.rearm_at_now = true;
	usn_timer_arm(&c.w, &a.t, 5 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 5 * MS), 1);
	assert_true(usn_timer_pending(&a.t));
	assert_int_equal(usn_wheel_next_expiry(&c.w), 5 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 5 * MS), 1);
	assert_int_equal(usn_wheel_advance(&c.w, 15 * MS), 2);
	assert_int_equal(a.fired_at, 15 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 3600 * USN_NSEC_PER_SEC), 2);
	assert_int_equal(usn_wheel_advance(&c.w, 3600 * USN_NSEC_PER_SEC + 1), 1);
	assert_int_equal(a.fires, 7);
	usn_timer_cancel(&c.w, &a.t);
	assert_int_equal(c.w.count, 0);
}

/* A callback arming another timer in the past: it fires at the next
 * advance, and it can still be cancelled before that. */
static void test_callback_arms_other_in_past(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b, d, e;
	int n;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	tt_init(&c, &d, 3);
	tt_init(&c, &e, 4);
	a.arm_other = &b;
	a.arm_other_at = 1 * MS;
	usn_timer_arm(&c.w, &a.t, 10 * MS);
	/* d, due later in the same advance, arms e in the past; e will
	 * cancel b, but only when it runs, at the next advance. */
	d.arm_other = &e;
	d.arm_other_at = 0;
	e.cancel_other = &b;
	usn_timer_arm(&c.w, &d.t, 500 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 1000 * MS), 2);
	assert_true(usn_timer_pending(&b.t));
	assert_true(usn_timer_pending(&e.t));
	assert_true(usn_wheel_next_expiry(&c.w) <= 1 * MS);
	/* e and b both due at this advance; e cancels b if it runs first. */
	n = usn_wheel_advance(&c.w, 1001 * MS);
	assert_int_equal(n, 1 + b.fires);
	assert_int_equal(e.fires, 1);
	assert_int_equal(c.w.count, 0);
	/* and a plain arm in the past from a callback, not cancelled */
	tt_init(&c, &b, 2);
	a.arm_other = &b;
	a.arm_other_at = 0;
	a.fires = 0;
	usn_timer_arm(&c.w, &a.t, 2000 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 9000 * MS), 1);
	assert_int_equal(b.fires, 0);
	assert_int_equal(usn_wheel_advance(&c.w, 9000 * MS), 1);
	assert_int_equal(b.fires, 1);
	assert_int_equal(b.fired_at, 9000 * MS);
}

/* Two timers due in the same tick, each cancelling the other: whichever
 * runs first wins, the other never fires. */
static void test_callback_cancels_other_due_same_tick(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	a.cancel_other = &b;
	b.cancel_other = &a;
	usn_timer_arm(&c.w, &a.t, 7 * MS);
	usn_timer_arm(&c.w, &b.t, 7 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 100 * MS), 1);
	assert_int_equal(a.fires + b.fires, 1);
	assert_int_equal(c.w.count, 0);
}

/* Due in the same advance but at different ticks. */
static void test_callback_cancels_other_due_same_advance(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	a.cancel_other = &b;
	usn_timer_arm(&c.w, &a.t, 7 * MS);
	usn_timer_arm(&c.w, &b.t, 9000 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 20000 * MS), 1);
	assert_int_equal(a.fires, 1);
	assert_int_equal(b.fires, 0);
}

static void test_callback_arms_other_due_same_advance(void **state)
{
	struct ctx c = { 0 };
	struct tt a, b, d;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	tt_init(&c, &d, 3);
	/* a at 10 ms arms b at 20 ms; b is already armed far away (moved),
	 * d is armed by b for 5000 ms: all inside one advance to 9000 ms. */
	a.arm_other = &b;
	a.arm_other_at = 20 * MS;
	b.arm_other = &d;
	b.arm_other_at = 5000 * MS;
	usn_timer_arm(&c.w, &a.t, 10 * MS);
	usn_timer_arm(&c.w, &b.t, 1000000 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 9000 * MS), 3);
	assert_int_equal(c.norder, 3);
	assert_int_equal(c.order[0], 1);
	assert_int_equal(c.order[1], 2);
	assert_int_equal(c.order[2], 3);
	assert_int_equal(c.w.count, 0);
}

/* Timers exactly on, just before and just after the slot boundaries of
 * every level, fired by single-tick advances near each boundary. */
static void test_cascade_boundaries(void **state)
{
	enum { N = USN_WHEEL_LEVELS * 3 };
	struct ctx c = { 0 };
	struct tt x[N];
	uint64_t tick = 1000; /* 1 us ticks */
	uint64_t now;
	int n = 0;

	usn_wheel_init(&c.w, 0, tick);
	for (int k = 1; k <= USN_WHEEL_LEVELS; k++) {
		uint64_t b = 1ULL << (USN_WHEEL_BITS * k);

		for (int d = -1; d <= 1; d++) {
			tt_init(&c, &x[n], n);
			usn_timer_arm(&c.w, &x[n].t, (b + (uint64_t)(int64_t)d) * tick);
			n++;
		}
	}
	for (int i = 0; i < N; i++) {
		now = x[i].t.expires;
		/* just before: not yet; at: fires */
		usn_wheel_advance(&c.w, now - 1);
		assert_int_equal(x[i].fires, 0);
		usn_wheel_advance(&c.w, now);
		assert_int_equal(x[i].fires, 1);
		assert_int_equal(x[i].fired_at, now);
	}
	assert_int_equal(c.w.count, 0);
}

/* An hour of idle virtual time in 1 ms ticks in one call, then years in
 * hour steps, including a timer beyond the top level (2^36 ms is about 795
 * days). Walking ticks one by one would take minutes; this must not. */
static void test_long_jumps(void **state)
{
	const uint64_t hour = 3600 * USN_NSEC_PER_SEC;
	struct ctx c = { 0 };
	struct tt a, b, d, e;
	uint64_t now;

	usn_wheel_init(&c.w, 0, MS);
	tt_init(&c, &a, 1);
	tt_init(&c, &b, 2);
	tt_init(&c, &d, 3);
	tt_init(&c, &e, 4);
	usn_timer_arm(&c.w, &a.t, hour - MS);
	usn_timer_arm(&c.w, &b.t, 24 * hour + 123);
	usn_timer_arm(&c.w, &d.t, 1000 * 24 * hour + 7); /* overflow list */
	usn_timer_arm(&c.w, &e.t, 3 * hour);
	assert_int_equal(usn_wheel_advance(&c.w, hour), 1);
	assert_int_equal(a.fires, 1);
	assert_true(usn_wheel_next_expiry(&c.w) <= 3 * hour);
	assert_true(usn_wheel_next_expiry(&c.w) > hour);
	for (now = 2 * hour; now <= 1001 * 24 * hour; now += hour) {
		usn_wheel_advance(&c.w, now);
		assert_int_equal(e.fires, now >= 3 * hour);
		assert_int_equal(b.fires, now >= 24 * hour + 123);
		assert_int_equal(d.fires, now >= 1000 * 24 * hour + 7);
		assert_true(usn_wheel_next_expiry(&c.w) > now);
	}
	assert_int_equal(d.fired_at, 1000 * 24 * hour + hour);
	assert_int_equal(c.w.count, 0);
	/* And a jump of decades with nothing armed. */
	assert_int_equal(usn_wheel_advance(&c.w, 40ULL * 365 * 24 * hour), 0);
}

/* Time that goes backwards does nothing wrong. */
static void test_time_backwards(void **state)
{
	struct ctx c = { 0 };
	struct tt a;

	usn_wheel_init(&c.w, 100 * MS, MS);
	tt_init(&c, &a, 1);
	usn_timer_arm(&c.w, &a.t, 150 * MS);
	assert_int_equal(usn_wheel_advance(&c.w, 50 * MS), 0);
	assert_int_equal(usn_wheel_advance(&c.w, 149 * MS), 0);
	assert_int_equal(usn_wheel_advance(&c.w, 150 * MS), 1);
}

/* ---- seeded random runs against a naive model ---- */

struct model_timer {
	struct usn_timer t;
	struct model *m;
	bool armed;           /* model's view */
	uint64_t expires;     /* model's view */
	int fires_this_advance;
	bool rearm_on_fire;
	uint64_t rearm_delta;
};

struct model {
	struct usn_wheel w;
	struct usn_rand r;
	uint64_t now;
	uint64_t tick;
	struct model_timer *tm;
	int n;
	long total_fired;
};

static void model_fire(struct usn_timer *t, uint64_t now)
{
	struct model_timer *x = USN_CONTAINER_OF(t, struct model_timer, t);
	struct model *m = x->m;

	assert_true(x->armed);
	assert_true(now == m->now);
	assert_true(x->expires <= now);
	x->fires_this_advance++;
	x->armed = false;
	m->total_fired++;
	if (x->rearm_on_fire) {
		/* A later time: stays pending past this advance. */
		x->expires = now + x->rearm_delta;
		x->armed = true;
		usn_timer_arm(&m->w, t, x->expires);
	}
}

static uint64_t random_delta(struct usn_rand *r, uint64_t tick)
{
	switch (usn_rand_below(r, 6)) {
	case 0:
		return usn_rand_below(r, 4 * tick); /* within a few ticks */
	case 1:
		return usn_rand_below(r, 64 * tick);
	case 2:
		return usn_rand_below(r, 4096 * tick);
	case 3:
		return usn_rand_below(r, 300000 * tick);
	case 4:
		return usn_rand_below(r, 1ULL << 30) * tick;
	default:
		return usn_rand_below(r, 1ULL << 37) * tick; /* beyond the top */
	}
}

static void model_check_next_expiry(struct model *m)
{
	uint64_t min = UINT64_MAX, ne = usn_wheel_next_expiry(&m->w);
	int armed = 0;

	for (int i = 0; i < m->n; i++) {
		assert_int_equal(usn_timer_pending(&m->tm[i].t), m->tm[i].armed);
		if (m->tm[i].armed) {
			armed++;
			min = USN_MIN(min, m->tm[i].expires);
		}
	}
	assert_int_equal(m->w.count, armed);
	/* never later than the true earliest expiry */
	assert_true(ne <= min);
	if (armed == 0)
		assert_int_equal(ne, UINT64_MAX);
	/* and never in the past unless something is due: no busy loop */
	if (min > m->now)
		assert_true(ne > m->now);
}

static void model_advance(struct model *m, uint64_t now)
{
	bool *was_due = calloc((size_t)m->n, sizeof(bool));
	int expect = 0, fired;

	assert_non_null(was_due);
	m->now = now;
	/* Those due now must fire exactly once in this advance, the others
	 * not at all. */
	for (int i = 0; i < m->n; i++) {
		m->tm[i].fires_this_advance = 0;
		was_due[i] = m->tm[i].armed && m->tm[i].expires <= now;
		expect += was_due[i];
	}
	fired = usn_wheel_advance(&m->w, now);
	for (int i = 0; i < m->n; i++)
		assert_int_equal(m->tm[i].fires_this_advance, was_due[i] ? 1 : 0);
	free(was_due);
	assert_int_equal(fired, expect);
	model_check_next_expiry(m);
}

static void run_model(uint64_t seed, uint64_t tick, int ntimers, int steps)
{
	struct model m;

	memset(&m, 0, sizeof(m));
	usn_rand_seed(&m.r, seed);
	m.tick = tick;
	m.n = ntimers;
	m.now = usn_rand_below(&m.r, 1ULL << 40);
	m.tm = calloc((size_t)ntimers, sizeof(*m.tm));
	assert_non_null(m.tm);
	usn_wheel_init(&m.w, m.now, tick);
	for (int i = 0; i < ntimers; i++) {
		m.tm[i].m = &m;
		usn_timer_init(&m.tm[i].t, model_fire);
		m.tm[i].rearm_on_fire = usn_rand_chance_ppm(&m.r, 100000);
		m.tm[i].rearm_delta = 1 + random_delta(&m.r, tick);
	}
	for (int s = 0; s < steps; s++) {
		uint32_t op = (uint32_t)usn_rand_below(&m.r, 100);
		struct model_timer *x = &m.tm[usn_rand_below(&m.r, (uint64_t)ntimers)];

		if (op < 55) {
			/* arm or re-arm, sometimes in the past */
			uint64_t d = random_delta(&m.r, tick);

			if (usn_rand_chance_ppm(&m.r, 50000))
				x->expires = m.now - USN_MIN(d, m.now);
			else
				x->expires = m.now + d;
			x->armed = true;
			usn_timer_arm(&m.w, &x->t, x->expires);
		} else if (op < 70) {
			x->armed = false;
			usn_timer_cancel(&m.w, &x->t);
		} else if (op < 98) {
			/* small steps, not aligned to ticks */
			model_advance(&m, m.now + usn_rand_below(&m.r, 3 * tick));
		} else {
			/* a long jump, up to 2^30 ticks */
			uint64_t d = random_delta(&m.r, tick);

			model_advance(&m, m.now + d % ((1ULL << 30) * tick));
		}
		if (s % 64 == 0)
			model_check_next_expiry(&m);
	}
	/* Drain: jump to each next expiry until empty. */
	while (m.w.count > 0) {
		uint64_t ne = usn_wheel_next_expiry(&m.w);

		assert_true(ne != UINT64_MAX);
		for (int i = 0; i < ntimers; i++)
			m.tm[i].rearm_on_fire = false;
		/* below now only for timers armed in the past, due now */
		model_advance(&m, USN_MAX(ne, m.now));
	}
	assert_true(m.total_fired > ntimers / 2);
	free(m.tm);
}

static void test_random_vs_model_1ms(void **state)
{
	run_model(1, MS, 4000, 60000);
	run_model(2, MS, 200, 20000);
}

static void test_random_vs_model_odd_tick(void **state)
{
	run_model(3, 7, 3000, 40000);
	run_model(4, 1, 500, 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_wheel),
		cmocka_unit_test(test_fires_in_order),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rearm),
		cmocka_unit_test(test_arm_in_past_fires_at_next_advance),
		cmocka_unit_test(test_exact_within_tick),
		cmocka_unit_test(test_callback_rearms_itself),
		cmocka_unit_test(test_callback_rearm_at_now_is_bounded),
		cmocka_unit_test(test_callback_arms_other_in_past),
		cmocka_unit_test(test_callback_cancels_other_due_same_tick),
		cmocka_unit_test(test_callback_cancels_other_due_same_advance),
		cmocka_unit_test(test_callback_arms_other_due_same_advance),
		cmocka_unit_test(test_cascade_boundaries),
		cmocka_unit_test(test_long_jumps),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_random_vs_model_1ms),
		cmocka_unit_test(test_random_vs_model_odd_tick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
