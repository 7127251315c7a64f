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

/* Sends n frames (pool buffer chains, lent EXT buffers included) on a
 * packet socket with PACKET_VNET_HDR, each as one message of a virtio-net
 * header and the chain's pieces (gathered by the kernel: no copy here),
 * batched with sendmmsg; frames longer than max_frame or of more than 64
 * pieces are dropped. Every chain is freed; counts go to d->stats.
 * Returns how many were sent. Also AF_XDP's path for frames it gives the
 * kernel to segment and sum (dev_afxdp.c). */
int usn_afpacket_send(int fd, struct usn_dev *d, const uint32_t *bufs, int n, size_t max_frame);
/* Opens a packet socket for sending only (protocol 0: it receives
 * nothing) on ifindex, with PACKET_VNET_HDR and PACKET_QDISC_BYPASS; the
 * descriptor or -errno (CAP_NET_RAW is needed). */
int usn_afpacket_tx_socket(int ifindex);
/* The largest frame usn_afpacket_send takes: a 64 KB TSO frame. */
#define USN_AFPACKET_MAX_FRAME (65535u + 14u + 4u)

#endif
