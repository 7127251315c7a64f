/* SPDX-License-Identifier: MIT */
/*
 * clock.c - the operating system's clocks in nanoseconds. This is the only
 * place in usnet that reads a clock: the stack loop calls it to set
 * stack->now, and pcap writing stamps frames with real time. It is not a
 * time source for protocol code, which only ever sees the time it is handed,
 * so that a simulator can run whole stacks in virtual time. No RFC applies.
 */
#include <time.h>

#include "clock.h"
#include "util.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these clock ids on Linux; a zeroed timespec is the
	 * least surprising answer if it ever did. */
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * USN_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t usn_clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t usn_clock_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
