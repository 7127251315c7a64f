/* SPDX-License-Identifier: MIT */
/*
 * rig.h - the test rig of the network-layer tests: one stack (10.77.0.2/24,
 * virtual time, a fixed seed) on end A of an in-memory link, and the test
 * itself as the peer (10.77.0.1) on end B. The test builds raw frames with
 * the wire/ emitters in a pool of its own and sends them on B; everything
 * the stack sends is captured (copied, with the virtual time it arrived) in
 * r->frames, where the tests parse it with the wire/ parsers.
 *
 * It is not a simulator of a second stack (tests/sim/ is) and it implements
 * no RFC: the peer's frames are exactly what each test asks for, including
 * malformed ones. rig_reassemble() is the tests' own reassembly of what the
 * stack fragmented, written from RFC 791 §3.2 independently of src/ip/.
 */
#ifndef USN_TEST_IP_RIG_H
#define USN_TEST_IP_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev_mem.h"
#include "stack.h"
#include "usnet/usnet.h"
#include "util.h"
#include "wire.h"

#define RIG_ADDR 0x0a4d0002u  /* 10.77.0.2: the stack */
#define RIG_PEER 0x0a4d0001u  /* 10.77.0.1: the test */
#define RIG_BCAST 0x0a4d00ffu /* 10.77.0.255: the subnet broadcast */
#define RIG_NBUFS 1024        /* the stack's pool */
#define RIG_PEER_NBUFS 2048   /* the test's pool */
#define RIG_MAX_FRAMES 4096
#define RIG_FRAME_MAX 1600
#define SEC USN_NSEC_PER_SEC
#define MSEC USN_NSEC_PER_MSEC

/* A counter of the stack, checked at compile time by name. */
#define CTR(r, name) USN_CTR_GET(&(r)->s->ctr, name)

struct rig_frame {
	uint64_t t;   /* virtual time it reached the peer */
	uint32_t len;
	uint8_t data[RIG_FRAME_MAX];
};

struct rig {
	struct usn_stack *s;
	struct usn_pool pool; /* the peer's buffers */
	struct usn_memlink *link;
	struct usn_dev *da, *db;
	uint64_t now;
	uint32_t base_in_use; /* the stack's pool use once started */
	uint32_t max_in_use;  /* highest use seen since rig_reset_max() */
	uint16_t next_id;     /* IPv4 identification of the peer's datagrams */
	uint32_t nframes;     /* captured frames */
	uint32_t lost_frames; /* frames past RIG_MAX_FRAMES (not kept) */
	struct rig_frame *frames;
};

extern const uint8_t rig_stack_mac[USN_ETH_ALEN];
extern const uint8_t rig_peer_mac[USN_ETH_ALEN];
extern const uint8_t rig_bcast_mac[USN_ETH_ALEN];

/* cmocka setup and teardown: *state is a struct rig. The stack has sent its
 * first gratuitous ARP, still in r->frames. */
int rig_setup(void **state);
int rig_teardown(void **state);

/* Processes everything that arrived by r->now; captures what the stack sent. */
void rig_run(struct rig *r);
/* One usn_stack_run() and the frames it sent; what the stack leaves for
 * the next pass (output after the user's turn) stays. */
void rig_pass(struct rig *r);
/* Moves virtual time to t (or by ns), stopping at every timer and arrival. */
void rig_advance_to(struct rig *r, uint64_t t);
void rig_advance(struct rig *r, uint64_t ns);
/* Forgets the captured frames. */
void rig_clear(struct rig *r);
uint32_t rig_in_use(const struct rig *r);
void rig_reset_max(struct rig *r);

/* Sends a raw frame from the peer (not processed until rig_run). */
void rig_send(struct rig *r, const uint8_t *frame, size_t len);
/* Writes an Ethernet header; returns 14. */
size_t rig_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* An IPv4 header from the peer to us: the given protocol, TTL 64, a fresh id. */
struct usn_ipv4_repr rig_iphdr(struct rig *r, uint8_t proto, size_t payload_len);
/* Builds Ethernet (peer to the stack's MAC) + IPv4 + payload into f;
 * ip->payload_len is set from plen. Returns the frame length. */
size_t rig_ipv4_frame(uint8_t *f, const uint8_t *eth_dst, struct usn_ipv4_repr *ip, const uint8_t *pl,
		      size_t plen);
void rig_send_ipv4(struct rig *r, struct usn_ipv4_repr *ip, const uint8_t *pl, size_t plen);
/* A whole UDP datagram (header + data, checksum over the pseudo-header)
 * into out; returns 8 + len. */
size_t rig_udp_build(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *data,
		     size_t len);
/* A UDP datagram from the peer (one frame), sent and not yet processed. */
void rig_send_udp(struct rig *r, uint16_t sport, uint16_t dport, const void *data, size_t len);
/* One fragment [off, off+len) of payload `pl` with the header template ip. */
void rig_send_frag(struct rig *r, const struct usn_ipv4_repr *ip, const uint8_t *pl, uint32_t off, uint32_t len,
		   bool mf);
/* An ARP packet from the peer's MAC. */
void rig_send_arp(struct rig *r, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha, uint32_t spa,
		  const uint8_t *tha, uint32_t tpa);
/* Makes the stack learn the peer's MAC (an ARP request for our address),
 * then forgets the captured frames. */
void rig_learn_peer(struct rig *r);

/* A captured frame as IPv4: false if it is not a valid IPv4 frame. */
bool rig_frame_ipv4(const struct rig_frame *f, struct usn_eth_repr *ret_eth, struct usn_ipv4_repr *ret_ip,
		    const uint8_t **ret_payload);
bool rig_frame_arp(const struct rig_frame *f, struct usn_eth_repr *ret_eth, struct usn_arp_repr *ret_arp);
/* Index of the next captured IPv4 frame of proto (0: any) from `from`, -1. */
int rig_find_ipv4(const struct rig *r, uint8_t proto, int from);
/* Index of the next captured ICMP message of type from `from` (unfragmented), -1. */
int rig_find_icmp(const struct rig *r, uint8_t type, int from);
uint32_t rig_count_ipv4(const struct rig *r, uint8_t proto);
uint32_t rig_count_icmp(const struct rig *r, uint8_t type);
uint32_t rig_count_arp(const struct rig *r, uint16_t op);

/* The tests' own reassembly (RFC 791 §3.2) of the datagram with this id
 * among the captured frames: checks (with cmocka asserts) that every
 * fragment fits the MTU, offsets are multiples of 8, every fragment but the
 * last has MF and a multiple of 8 bytes, headers agree, and the fragments
 * tile [0, total) exactly. Returns the payload length, copied to out;
 * *ret_nfrags gets the number of fragments. */
size_t rig_reassemble(const struct rig *r, uint16_t id, uint8_t *out, size_t cap, uint32_t *ret_nfrags);

/* A UDP socket of the stack bound to 0.0.0.0:port. */
int rig_udp_socket(struct rig *r, uint16_t port);

#endif
