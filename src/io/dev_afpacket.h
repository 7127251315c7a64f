/* SPDX-License-Identifier: MIT */
/*
 * dev_afpacket.h - the AF_PACKET backend (`--dev afpacket:IFNAME`), for
 * interfaces that the kernel owns and shares: usnet takes only the frames
 * addressed to its own IPv4 address (and ARP about it) through a kernel
 * socket filter, and the kernel's stack keeps everything else. Needs
 * CAP_NET_RAW for the socket (and CAP_NET_ADMIN only if the interface must
 * accept usnet's MAC address as a secondary unicast address).
 */
#ifndef USN_DEV_AFPACKET_H
#define USN_DEV_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>

#include "dev.h"

/* fanout: one member of the process's PACKET_FANOUT group on the
 * interface, which spreads frames over the members by flow hash. */
int usn_dev_afpacket_open(const char *ifname, struct usn_pool *pool, bool fanout, struct usn_dev **ret, char *err,
			  size_t errlen);

#endif
