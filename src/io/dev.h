/* SPDX-License-Identifier: MIT */
/*
 * dev.h - the packet I/O backend vtable. A device moves whole Ethernet frames
 * (without FCS) between a stack's buffer pool and the world, in batches.
 * Devices never look inside a frame and never read a clock: the stack passes
 * its time in. Backends: tap (dev_tap.c), in-memory link (dev_mem.c),
 * AF_PACKET (dev_afpacket.c), AF_XDP (dev_afxdp.c), DPDK (dev_dpdk.c).
 */
#ifndef USN_DEV_H
#define USN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

struct usn_dev;

/* Offloads a device has (later: checksum, TSO through virtio-net headers). */
#define USN_DEV_OFF_RX_CSUM 0x1u /* frames may come marked USN_BUF_F_CSUM_OK */
#define USN_DEV_OFF_TX_CSUM 0x2u /* takes USN_BUF_F_TX_CSUM frames */
#define USN_DEV_OFF_TSO 0x4u     /* takes USN_BUF_F_TSO frames of up to 64 KB */
#define USN_DEV_OFF_SG 0x8u      /* takes frames as chains with EXT (lent) buffers */

struct usn_dev_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_errors, tx_errors; /* system call or link failures */
	uint64_t rx_drop_nobuf;        /* frames lost: pool empty */
	uint64_t rx_drop_oversize;     /* frames lost: larger than a buffer */
	uint64_t rx_copied;            /* frames usnet copied from the device's memory into the pool */
	uint64_t tx_drop;              /* frames not sent: queue full, too big */
	uint64_t tx_retries;           /* sends tried again: the driver's queue was full */
	uint64_t tx_offload_off;       /* offloads given up: the kernel's queue would not take them */
	/* Frames the kernel dropped before usnet saw them, as the kernel
	 * counts them (read by read_stats): its receive ring was full
	 * (AF_XDP rx ring, AF_PACKET ring) or it had no buffer (AF_XDP fill
	 * ring empty, or a frame it could not place). */
	uint64_t rx_drop_ring, rx_drop_kernel;
};

struct usn_dev_ops {
	const char *kind; /* "tap", "mem", "afpacket" */
	/* Receives up to max frames into buffers it allocates from dev->pool;
	 * stores their indices in ret_bufs and returns how many (0 when none),
	 * or a negative errno when the device is gone. */
	int (*rx_burst)(struct usn_dev *dev, uint32_t *ret_bufs, int max, uint64_t now);
	/* Takes ownership of n frames and sends them; every buffer is freed (or
	 * moved) by the device whether it was sent or dropped (tx_drop). Returns
	 * the number sent. */
	int (*tx_burst)(struct usn_dev *dev, const uint32_t *bufs, int n, uint64_t now);
	/* A descriptor that becomes readable when rx_burst has work, or -1
	 * (in-memory link: the simulator drives it). A poll-mode device
	 * (DPDK) gives a timerfd it arms itself in rx_burst: readable when
	 * it is time to poll again. */
	int (*wait_fd)(struct usn_dev *dev);
	/* Earliest time a frame can next arrive without outside input, or
	 * UINT64_MAX (frames in flight on an in-memory link). */
	uint64_t (*next_rx_time)(struct usn_dev *dev);
	/* Optional: the stack's IPv4 address (host order) and MAC, for a
	 * device that shares its interface with the kernel and must pick
	 * usnet's frames out (afpacket). 0 or -errno. */
	int (*set_addr)(struct usn_dev *dev, uint32_t addr, const uint8_t mac[6]);
	/* Optional, mode (b) of shared/DESIGN.md: usnet shares the kernel's
	 * own address `addr` on the interface and owns only some ports: the
	 * ones given to own_port() and eph_lo..eph_hi, the range its own
	 * outgoing connections take ports from (reserved from the kernel's
	 * ephemeral ports). ARP stays with the kernel. 0 or -errno with a
	 * message in err. Called instead of set_addr. */
	int (*share)(struct usn_dev *dev, uint32_t addr, uint16_t eph_lo, uint16_t eph_hi, char *err,
		     size_t errlen);
	/* Mode (b): usnet takes port `port` of protocol `proto` (6 TCP, 17
	 * UDP) on the shared address; -EADDRINUSE when a kernel socket holds
	 * it. From then on the kernel's own programs cannot bind it. */
	int (*own_port)(struct usn_dev *dev, uint8_t proto, uint16_t port);
	/* Mode (b): the MAC of on-link neighbour `addr` from the kernel's
	 * neighbour table: 0, -EAGAIN while the kernel resolves it (asked
	 * now), -EHOSTUNREACH when the kernel failed to. */
	int (*neigh_lookup)(struct usn_dev *dev, uint32_t addr, uint8_t ret_mac[6]);
	/* Optional: refreshes the counts only the kernel keeps (rx_drop_ring,
	 * rx_drop_kernel). Not on the fast path: when counters are read. */
	void (*read_stats)(struct usn_dev *dev);
	void (*destroy)(struct usn_dev *dev);
};

struct usn_dev {
	const struct usn_dev_ops *ops;
	struct usn_pool *pool;
	char name[32];       /* interface or link name */
	uint32_t mtu;        /* IP MTU of the link (1500 by default) */
	uint32_t offloads;   /* USN_DEV_OFF_* */
	bool has_hwaddr;     /* hwaddr is the interface's own MAC (shared with the kernel) */
	uint8_t hwaddr[6];
	/* The stack takes hwaddr as its MAC unless the configuration gives
	 * one (mac_set): a DPDK port's filter takes only its own MAC. Else
	 * the stack picks a random MAC (outside mode b). */
	bool use_hwaddr;
	struct usn_dev_stats stats;
};

static inline int usn_dev_rx_burst(struct usn_dev *d, uint32_t *bufs, int max, uint64_t now)
{
	return d->ops->rx_burst(d, bufs, max, now);
}
static inline int usn_dev_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	return d->ops->tx_burst(d, bufs, n, now);
}
static inline int usn_dev_wait_fd(struct usn_dev *d)
{
	return d->ops->wait_fd ? d->ops->wait_fd(d) : -1;
}
static inline uint64_t usn_dev_next_rx_time(struct usn_dev *d)
{
	return d->ops->next_rx_time ? d->ops->next_rx_time(d) : UINT64_MAX;
}
void usn_dev_destroy(struct usn_dev *d);

/* Opens a device from a spec such as "tap:usnt0". Returns 0 or -errno
 * (-EINVAL for an unknown kind, with a message in err[errlen]). */
int usn_dev_open(const char *spec, struct usn_pool *pool, struct usn_dev **ret, char *err, size_t errlen);
/* The same for instance `queue` of `queues` sharing the interface
 * (--cores): a queue of a multi-queue TAP, a member of an AF_PACKET fanout
 * group spread by flow hash. */
int usn_dev_open_queue(const char *spec, struct usn_pool *pool, unsigned queue, unsigned queues,
		       struct usn_dev **ret, char *err, size_t errlen);

#endif
