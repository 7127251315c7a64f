/* SPDX-License-Identifier: MIT */
/*
 * cc.c - the table of congestion-control algorithms (lookup by name, the
 * default) and the pieces the algorithms share: the RFC 6928 initial window
 * and slow start with appropriate byte counting (RFC 5681 §3.1, RFC 3465
 * §2.2).
 *
 * It is not an algorithm itself and keeps no state: each algorithm lives in
 * its own file (newreno.c, cubic.c) behind struct usn_cc_ops.
 */
#include <string.h>

#include "cc.h"
#include "util.h"

/* Names as a socket option or a command line gives them. "reno" is accepted
 * for "newreno" because the only Reno usnet has is RFC 6582 NewReno, as on
 * Linux where "reno" names the same thing. */
static const struct {
	const char *name;
	const struct usn_cc_ops *ops;
} cc_table[] = {
	{ "cubic", &usn_cc_cubic },
	{ "newreno", &usn_cc_newreno },
	{ "reno", &usn_cc_newreno },
};

const struct usn_cc_ops *usn_cc_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < USN_ARRAY_SIZE(cc_table); i++)
		if (strcmp(name, cc_table[i].name) == 0)
			return cc_table[i].ops;
	return NULL;
}

const struct usn_cc_ops *usn_cc_default(void)
{
	/* RFC 9438 §1: CUBIC is the default of the widely deployed stacks. */
	return &usn_cc_cubic;
}

uint32_t usn_cc_initial_window(uint32_t mss)
{
	/* RFC 6928 §2: "min (10*MSS, max (2*MSS, 14600))" */
	uint64_t lo = USN_MAX(2 * (uint64_t)mss, 14600);
	uint64_t iw = USN_MIN(10 * (uint64_t)mss, lo);

	return iw > UINT32_MAX ? UINT32_MAX : (uint32_t)iw;
}

uint32_t usn_cc_slow_start(struct usn_cc_view *v, uint32_t acked, uint32_t limit)
{
	uint32_t room, inc;

	if (v->cwnd >= v->ssthresh)
		return acked;
	/* RFC 3465 §2.2: "cwnd += min (N, L*SMSS)" where N counts the bytes
	 * this ACK newly acknowledges; the limit keeps a stretch ACK from
	 * growing cwnd by more than L segments at once. */
	inc = USN_MIN(acked, limit);
	room = v->ssthresh - v->cwnd;
	if (inc < room) {
		v->cwnd += inc;
		return 0;
	}
	/* RFC 5681 §3.1: slow start ends at ssthresh; the rest of this ACK
	 * counts toward congestion avoidance, as if two ACKs had come. */
	v->cwnd = v->ssthresh;
	return acked - room;
}
