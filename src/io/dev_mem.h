/* SPDX-License-Identifier: MIT */
/*
 * dev_mem.h - the in-memory link: two devices joined by a simulated wire, for
 * tests and the simulator. Each direction has its own impairments, drawn from
 * a seeded random source so a seed replays a run exactly. Frames are copied
 * from the sender's pool into a buffer of the receiver's pool at send time,
 * held in a queue ordered by delivery time, and handed out by rx_burst once
 * `now` (virtual or real) reaches it.
 *
 * Model of one direction, in this order for each frame sent:
 *   1. larger than mtu + 14   -> dropped (stats.drop_mtu), and answered with
 *                                ICMP frag needed if icmp_frag_needed
 *   2. queue over queue_bytes -> dropped (drop_queue)   [drop-tail bottleneck]
 *   3. loss_ppm               -> dropped (drop_loss)
 *   4. departure = max(now, link free) + len*8/rate (rate_bps 0 = infinite)
 *   5. arrival = departure + delay + uniform jitter in [0, jitter_ns]
 *   6. reorder_ppm: arrival += reorder_ns (overtaken by later frames)
 *   7. corrupt_ppm: one random bit of the frame is flipped
 *   8. dup_ppm: a second copy is queued with its own jitter
 * Frames arriving at the same time keep their sending order.
 *
 * Details (dev_mem.c has the exact queue model): step 1 also drops (drop_mtu,
 * and the receiver's rx_drop_oversize) a frame larger than a receiving
 * buffer; a frame that finds the receiving pool empty is dropped as
 * drop_nobuf (and the receiver's rx_drop_nobuf) after step 4; the copy of
 * step 8 is made after step 7. The sender's tx_frames counts every frame
 * that passed steps 1-2, lost or not; its tx_drop counts steps 1-2. At every
 * moment: sent + duplicated == delivered + in flight + drop_loss +
 * drop_queue + drop_mtu + drop_nobuf. The devices belong to the link:
 * usn_dev_destroy() on them does nothing; destroy the link (before the
 * pools it holds frames of) instead.
 */
#ifndef USN_DEV_MEM_H
#define USN_DEV_MEM_H

#include <stdint.h>

#include "dev.h"

struct usn_memlink_dir_cfg {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t corrupt_ppm;
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint64_t reorder_ns;  /* extra delay of a reordered frame (default 1 ms when 0) */
	uint64_t rate_bps;    /* 0: no rate limit */
	uint32_t mtu;         /* IP MTU; 0 = 1500 */
	/* A frame over the MTU that is IPv4 with DF set is answered, as a
	 * router on the path would, by ICMP "fragmentation needed" with this
	 * MTU (RFC 1191 §4), sent back from the packet's destination address
	 * after the reverse direction's delay. Otherwise it only drops. */
	bool icmp_frag_needed;
	uint32_t queue_bytes; /* 0: unlimited */
};

struct usn_memlink_dir_stats {
	uint64_t sent, delivered, drop_loss, drop_queue, drop_mtu, drop_nobuf, duplicated, corrupted,
		reordered;
};

struct usn_memlink;

/* Creates a link whose end A allocates from pool_a and end B from pool_b (the
 * same pool is allowed). *ret_a and *ret_b are devices; destroying the link
 * destroys both and frees every frame in flight. */
int usn_memlink_create(struct usn_pool *pool_a, struct usn_pool *pool_b, uint64_t seed,
		       struct usn_memlink **ret_link, struct usn_dev **ret_a, struct usn_dev **ret_b);
void usn_memlink_destroy(struct usn_memlink *l);
/* dir 0: A to B, dir 1: B to A. Takes effect for frames sent afterwards. */
void usn_memlink_set_cfg(struct usn_memlink *l, int dir, const struct usn_memlink_dir_cfg *cfg);
const struct usn_memlink_dir_stats *usn_memlink_stats(const struct usn_memlink *l, int dir);
/* Sets the send offloads both ends offer as a NIC would (USN_DEV_OFF_TX_CSUM,
 * USN_DEV_OFF_TSO, USN_DEV_OFF_SG; a new link has SG only): the link
 * finishes checksums and cuts TSO frames into segments before the wire
 * model, and takes chains of lent memory (SG), so the stack's offload and
 * zero-copy paths run in the simulator. 0: every frame is built by copying.
 * Call before attaching the devices. */
void usn_memlink_set_offloads(struct usn_memlink *l, uint32_t offloads);
/* Frames in flight in direction dir. */
uint32_t usn_memlink_in_flight(const struct usn_memlink *l, int dir);
/* Earliest arrival of a frame in flight in either direction, or UINT64_MAX. */
uint64_t usn_memlink_next_arrival(const struct usn_memlink *l);

#endif
