/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the stack's time source. Protocol code never calls this: it reads
 * stack->now, which the stack loop sets from here (real time) or which a
 * simulator sets itself (virtual time). Times are monotonic nanoseconds.
 */
#ifndef USN_CLOCK_H
#define USN_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t usn_clock_mono_ns(void);
/* CLOCK_REALTIME in nanoseconds (pcap timestamps only). */
uint64_t usn_clock_real_ns(void);

#endif
