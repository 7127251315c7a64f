/* SPDX-License-Identifier: MIT */
/*
 * timer.c - hierarchical timer wheel: USN_WHEEL_LEVELS levels of 64 slots,
 * level k's slots each USN_WHEEL_SLOTS^k ticks wide, plus an overflow list
 * for what lies beyond the top level. Arm and cancel are O(1) (intrusive
 * doubly linked lists with a back pointer); a bitmap of occupied slots per
 * level lets an advance jump over idle stretches and lets next_expiry answer
 * without walking the wheel. It is not a clock: time is what the caller
 * passes in. No RFC applies; RFC 6298 and RFC 9293 timers are built on it.
 *
 * Placement. Let c be the current tick (w->now_tick) and e a timer's tick,
 * floor(expires / tick_ns). A timer with e <= c sits in level 0 at c's slot.
 * Otherwise it sits at the level k holding the highest bit in which e and c
 * differ, in slot (e >> 6k) & 63: it shares every digit above k with c, and
 * its digit k is greater than c's. So the slot at level k >= 1 whose digit
 * equals c's is always empty, and each occupied slot is a point in the
 * future: level 0 slot i is tick (c & ~63) | i; level k slot i is reached
 * when c's digit k becomes i with every lower digit zero, and at that tick
 * the slot is cascaded (its timers re-placed against the new c, landing
 * below k). Timers whose e differs from c above the top level wait in the
 * overflow list, re-placed whenever c crosses a multiple of 64^LEVELS.
 *
 * Firing is exact, not rounded: the slot of the tick now/tick_ns may hold
 * timers whose expiry lies later within that tick; they stay there and are
 * checked again at the next advance. A timer therefore fires at the first
 * advance whose `now` is at or after its `expires`. One armed by a callback
 * fires later in the same advance if its tick is still ahead of the tick
 * being processed, else at the next advance (never early, never lost, and a
 * callback that keeps re-arming itself in the past cannot livelock).
 */
#include <assert.h>
#include <string.h>

#include "timer.h"

#define WHEEL_MASK ((uint64_t)USN_WHEEL_SLOTS - 1)
#define WHEEL_TOP_BITS (USN_WHEEL_BITS * USN_WHEEL_LEVELS)

static unsigned int level_shift(unsigned int level)
{
	return level * USN_WHEEL_BITS;
}

static unsigned int digit(uint64_t tick, unsigned int level)
{
	return (unsigned int)((tick >> level_shift(level)) & WHEEL_MASK);
}

/* Whether a list head is one of the wheel's slots (rather than the overflow
 * list or a list local to an advance), and which. */
static bool slot_of(const struct usn_wheel *w, struct usn_timer *const *head,
		    unsigned int *ret_level, unsigned int *ret_slot)
{
	uintptr_t first = (uintptr_t)&w->slots[0][0];
	uintptr_t p = (uintptr_t)head;
	size_t i;

	if (p < first || p >= first + sizeof(w->slots))
		return false;
	i = (p - first) / sizeof(w->slots[0][0]);
	*ret_level = (unsigned int)(i / USN_WHEEL_SLOTS);
	*ret_slot = (unsigned int)(i % USN_WHEEL_SLOTS);
	return true;
}

static void list_push(struct usn_timer **head, struct usn_timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* Unlinks t from whatever list holds it and keeps the occupied bitmap true. */
static void list_unlink(struct usn_wheel *w, struct usn_timer *t)
{
	struct usn_timer **pprev = t->pprev;
	unsigned int level, slot;

	*pprev = t->next;
	if (t->next)
		t->next->pprev = pprev;
	t->next = NULL;
	t->pprev = NULL;
	if (*pprev == NULL && slot_of(w, pprev, &level, &slot))
		w->occupied[level] &= ~(1ULL << slot);
}

/* Moves a whole list to a local head, leaving the source empty. */
static void list_take(struct usn_timer **src, struct usn_timer **dst)
{
	*dst = *src;
	*src = NULL;
	if (*dst)
		(*dst)->pprev = dst;
}

static void place(struct usn_wheel *w, struct usn_timer *t)
{
	uint64_t e = t->expires / w->tick_ns;
	uint64_t c = w->now_tick;
	unsigned int level, slot;

	if (e <= c) {
		level = 0;
		slot = digit(c, 0);
	} else {
		unsigned int high = 63u - (unsigned int)__builtin_clzll(e ^ c);

		level = high / USN_WHEEL_BITS;
		if (level >= USN_WHEEL_LEVELS) {
			list_push(&w->overflow, t);
			return;
		}
		slot = digit(e, level);
	}
	list_push(&w->slots[level][slot], t);
	w->occupied[level] |= 1ULL << slot;
}

/* Re-places every timer of a detached list against the current tick. */
static void replace_all(struct usn_wheel *w, struct usn_timer **list)
{
	while (*list) {
		struct usn_timer *t = *list;

		list_unlink(w, t);
		place(w, t);
	}
}

void usn_wheel_init(struct usn_wheel *w, uint64_t now, uint64_t tick_ns)
{
	memset(w, 0, sizeof(*w));
	assert(tick_ns > 0);
	w->tick_ns = tick_ns ? tick_ns : 1;
	w->now_tick = now / w->tick_ns;
}

void usn_timer_init(struct usn_timer *t, usn_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}

void usn_timer_arm(struct usn_wheel *w, struct usn_timer *t, uint64_t expires)
{
	if (t->pprev)
		list_unlink(w, t);
	else
		w->count++;
	t->expires = expires;
	place(w, t);
}

void usn_timer_cancel(struct usn_wheel *w, struct usn_timer *t)
{
	if (!t->pprev)
		return;
	list_unlink(w, t);
	assert(w->count > 0);
	w->count--;
}

/* Lowest set bit of a mask at or above `from`; -1 when none. */
static int lowest_from(uint64_t mask, unsigned int from)
{
	mask &= ~0ULL << from;
	return mask ? __builtin_ctzll(mask) : -1;
}

/* The first tick after c at which something is due or must be cascaded;
 * UINT64_MAX when nothing is armed beyond c's own slot. */
static uint64_t next_event_tick(const struct usn_wheel *w, uint64_t c)
{
	for (unsigned int k = 0; k < USN_WHEEL_LEVELS; k++) {
		unsigned int from = digit(c, k) + 1;
		unsigned int above = level_shift(k + 1);
		int i;

		if (from >= USN_WHEEL_SLOTS)
			continue;
		i = lowest_from(w->occupied[k], from);
		if (i < 0)
			continue;
		/* Lower levels hold only ticks before the next slot boundary of
		 * every higher level, so the first level with a hit wins. */
		return ((c >> above) << above) | ((uint64_t)i << level_shift(k));
	}
	if (w->overflow) {
		uint64_t block = c >> WHEEL_TOP_BITS;

		if (block < (UINT64_MAX >> WHEEL_TOP_BITS))
			return (block + 1) << WHEEL_TOP_BITS;
	}
	return UINT64_MAX;
}

/* Entering tick n: bring down every slot whose time has come. A re-placed
 * timer lands at the level of its highest digit that differs from n's, in a
 * slot whose digit is not n's, so it never lands in a slot that is itself
 * due for cascading at n: the order of the levels does not matter. */
static void cascade(struct usn_wheel *w, uint64_t n)
{
	struct usn_timer *list;

	if ((n & ((1ULL << WHEEL_TOP_BITS) - 1)) == 0 && w->overflow) {
		list_take(&w->overflow, &list);
		replace_all(w, &list);
	}
	for (unsigned int k = USN_WHEEL_LEVELS - 1; k >= 1; k--) {
		unsigned int slot;

		if ((n & ((1ULL << level_shift(k)) - 1)) != 0)
			continue;
		slot = digit(n, k);
		if (!w->slots[k][slot])
			continue;
		list_take(&w->slots[k][slot], &list);
		w->occupied[k] &= ~(1ULL << slot);
		replace_all(w, &list);
	}
}

/* Fires the timers of the current tick's slot that are due at `now`.
 * The slot is detached first and worked through as a local list whose
 * members stay properly linked, so a callback may cancel or re-arm any of
 * them (or itself). Timers a callback arms for the current tick or the past
 * land in the (now fresh) slot: they run at the next advance. */
static int run_slot(struct usn_wheel *w, uint64_t now)
{
	unsigned int slot = digit(w->now_tick, 0);
	struct usn_timer *pending, *later = NULL;
	int fired = 0;

	if (!w->slots[0][slot])
		return 0;
	list_take(&w->slots[0][slot], &pending);
	w->occupied[0] &= ~(1ULL << slot);
	while (pending) {
		struct usn_timer *t = pending;

		list_unlink(w, t);
		if (t->expires > now) {
			/* Later within this tick: only in the slot of the
			 * last tick of an advance. */
			list_push(&later, t);
			continue;
		}
		w->count--;
		fired++;
		t->fn(t, now);
	}
	replace_all(w, &later);
	return fired;
}

int usn_wheel_advance(struct usn_wheel *w, uint64_t now)
{
	uint64_t target = now / w->tick_ns;
	struct usn_timer *deferred = NULL;
	int fired;

	/* The current tick's cascade is done; only its slot may hold timers
	 * (due now, or later within the tick). */
	fired = run_slot(w, now);
	while (w->now_tick < target) {
		unsigned int cur = digit(w->now_tick, 0);
		uint64_t n;

		if (w->slots[0][cur]) {
			/* Armed by a callback for a tick already processed:
			 * set aside, still pending (a callback may cancel or
			 * re-arm them), and run at the next advance. Running
			 * them now could let a callback that re-arms itself
			 * at `now` fire once per tick of a long jump. */
			struct usn_timer *list;

			list_take(&w->slots[0][cur], &list);
			w->occupied[0] &= ~(1ULL << cur);
			while (list) {
				struct usn_timer *t = list;

				list_unlink(w, t);
				list_push(&deferred, t);
			}
		}
		n = next_event_tick(w, w->now_tick);
		if (n > target)
			n = target;
		/* Every tick skipped here had nothing to fire or cascade. */
		w->now_tick = n;
		cascade(w, n);
		fired += run_slot(w, now);
	}
	/* Into the slot of the current tick: due at the next advance. */
	replace_all(w, &deferred);
	return fired;
}

static uint64_t list_min_expires(const struct usn_timer *t)
{
	uint64_t m = UINT64_MAX;

	for (; t; t = t->next)
		if (t->expires < m)
			m = t->expires;
	return m;
}

uint64_t usn_wheel_next_expiry(const struct usn_wheel *w)
{
	uint64_t c = w->now_tick;
	int i;

	if (w->count == 0)
		return UINT64_MAX;
	/* Level 0 slots are single ticks: walking the first occupied one gives
	 * the exact answer, and its times precede everything above. */
	i = lowest_from(w->occupied[0], digit(c, 0));
	if (i >= 0)
		return list_min_expires(w->slots[0][i]);
	for (unsigned int k = 1; k < USN_WHEEL_LEVELS; k++) {
		unsigned int above = level_shift(k + 1);

		i = lowest_from(w->occupied[k], 0);
		if (i < 0)
			continue;
		/* The slot's first tick: at or before every timer in it. */
		return (((c >> above) << above) | ((uint64_t)i << level_shift(k))) * w->tick_ns;
	}
	return list_min_expires(w->overflow);
}
