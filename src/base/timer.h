/* SPDX-License-Identifier: MIT */
/*
 * timer.h - hierarchical timer wheel with O(1) arm and cancel.
 *
 * Timers are intrusive: an object embeds a struct usn_timer and gets back to
 * itself with USN_CONTAINER_OF in the callback. The wheel never reads a clock;
 * it is advanced with the stack's time. Resolution is the tick given at init
 * (the stack uses 1 ms); a timer fires at the first advance at or after its
 * expiry rounded up to a tick, never before its expiry.
 */
#ifndef USN_TIMER_H
#define USN_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct usn_timer;
typedef void (*usn_timer_fn)(struct usn_timer *t, uint64_t now);

struct usn_timer {
	struct usn_timer *next;
	struct usn_timer **pprev; /* NULL when not armed */
	uint64_t expires;         /* absolute ns */
	usn_timer_fn fn;
};

#define USN_WHEEL_LEVELS 6
#define USN_WHEEL_BITS 6
#define USN_WHEEL_SLOTS (1u << USN_WHEEL_BITS)

struct usn_wheel {
	uint64_t tick_ns;
	uint64_t now_tick;   /* ticks processed so far */
	uint32_t count;      /* armed timers */
	uint64_t occupied[USN_WHEEL_LEVELS]; /* bit per non-empty slot */
	struct usn_timer *slots[USN_WHEEL_LEVELS][USN_WHEEL_SLOTS];
	struct usn_timer *overflow; /* beyond the top level's range */
};

void usn_wheel_init(struct usn_wheel *w, uint64_t now, uint64_t tick_ns);
void usn_timer_init(struct usn_timer *t, usn_timer_fn fn);
/* Arms (or re-arms) t to fire at absolute time `expires`. */
void usn_timer_arm(struct usn_wheel *w, struct usn_timer *t, uint64_t expires);
void usn_timer_cancel(struct usn_wheel *w, struct usn_timer *t);
static inline bool usn_timer_pending(const struct usn_timer *t)
{
	return t->pprev != 0;
}
/* Runs every timer due at or before `now`; returns how many fired. A callback
 * may arm or cancel any timer, itself included. */
int usn_wheel_advance(struct usn_wheel *w, uint64_t now);
/* Earliest time at which a timer may be due (never later than the true
 * earliest expiry, possibly earlier); UINT64_MAX when none is armed. */
uint64_t usn_wheel_next_expiry(const struct usn_wheel *w);

#endif
