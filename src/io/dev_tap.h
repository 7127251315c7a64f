/* SPDX-License-Identifier: MIT */
/*
 * dev_tap.h - Linux TAP backend (IFF_TAP | IFF_NO_PI). Attaches to the TAP
 * interface `name`, creating it when the process may (CAP_NET_ADMIN) and
 * bringing it up if it created it. The fd is non-blocking; rx_burst reads
 * until EAGAIN or max, tx_burst writes one frame per write(2).
 */
#ifndef USN_DEV_TAP_H
#define USN_DEV_TAP_H

#include <stddef.h>

#include "dev.h"

int usn_dev_tap_open(const char *name, struct usn_pool *pool, struct usn_dev **ret, char *err, size_t errlen);

#endif
