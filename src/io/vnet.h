/* SPDX-License-Identifier: MIT */
/*
 * vnet.h - the virtio-net header (virtio 1.x §5.1.6) that the TAP and
 * AF_PACKET backends put before each frame, both ways, for checksum and
 * segmentation offload: what a frame's offload request (USN_BUF_F_TX_CSUM,
 * USN_BUF_F_TSO, aux) becomes, and what a received header tells the stack.
 */
#ifndef USN_IO_VNET_H
#define USN_IO_VNET_H

#include <linux/virtio_net.h>
#include <string.h>

#include "pool.h"

/* The header for a frame to send, from its head buffer's metadata. */
static inline void usn_vnet_tx_hdr(const struct usn_buf_meta *hm, struct virtio_net_hdr *vh)
{
	memset(vh, 0, sizeof(*vh));
	if (!(hm->flags & USN_BUF_F_TX_CSUM))
		return;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)(hm->aux & 0xffff);
	vh->csum_offset = (uint16_t)((hm->aux >> 16) & 0xffff);
	if (hm->flags & USN_BUF_F_TSO) {
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = (uint16_t)((hm->aux >> 32) & 0xffff);
		/* hdr_len: headers up to the payload, a hint. */
		vh->hdr_len = (uint16_t)(vh->csum_start + 60);
	}
}

/* §5.1.6.4: NEEDS_CSUM means the checksum was left for an offload (the
 * kernel sent the frame to us, no wire was crossed), DATA_VALID that it was
 * verified. Either way the stack need not check it. */
static inline bool usn_vnet_rx_csum_ok(const struct virtio_net_hdr *vh)
{
	return (vh->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
}

#endif
