/* SPDX-License-Identifier: MIT */
/*
 * dev_tap.h - Linux TAP backend (IFF_TAP | IFF_NO_PI). Attaches to the TAP
 * interface `name`, creating it when the process may (CAP_NET_ADMIN) and
 * bringing it up if it created it. The fd is non-blocking; rx_burst reads
 * until EAGAIN or max, tx_burst writes one frame per write(2).
 */
#ifndef USN_DEV_TAP_H
#define USN_DEV_TAP_H

#include <stdbool.h>
#include <stddef.h>

#include "dev.h"

/* multi: one queue of a multi-queue TAP (IFF_MULTI_QUEUE; the kernel
 * spreads flows over the queues by hash). */
int usn_dev_tap_open(const char *name, struct usn_pool *pool, bool multi, struct usn_dev **ret, char *err,
		     size_t errlen);

#endif
