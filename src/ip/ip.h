/* SPDX-License-Identifier: MIT */
/*
 * ip.h - the network layer of one stack: Ethernet in and out, the ARP
 * neighbour cache, routes, IPv4 input and output with fragmentation and
 * reassembly, ICMP and UDP. It is a part of struct usn_stack (stack/), which
 * fills in the pointers below; nothing here is global. It reads time only
 * through *now (the stack's clock) and never parses bytes itself: every
 * header goes through wire/.
 *
 * Upcalls to the stack (socket readiness, TCP segments) are function
 * pointers set by the stack, because stack/ sits above this layer.
 */
#ifndef USN_IP_H
#define USN_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "counters.h"
#include "dev.h"
#include "log.h"
#include "pcap_writer.h"
#include "pool.h"
#include "rand.h"
#include "timer.h"
#include "wire.h"

#define USN_IP_TXQ 256           /* frames queued for the device before a flush */
#define USN_ARP_SLOTS 256         /* neighbour entries */
/* Frames waiting for resolution (RFC 1122 §2.3.2.2 asks for at least
 * one): enough for the first burst of a server's or a load generator's
 * connections to one neighbour (Linux keeps ~200 KB per neighbour). */
#define USN_ARP_QUEUE_PER_ENTRY 64 /* frames waiting for one resolution */
#define USN_ARP_QUEUE_TOTAL 256    /* frames waiting for all resolutions */
#define USN_REASS_SLOTS 64        /* datagrams being reassembled */
#define USN_UDP_HASH 256
#define USN_UDP_MAX_PAYLOAD 65507 /* 65535 - 20 - 8 */
#define USN_EPHEMERAL_LO 32768    /* as Linux's ip_local_port_range */
#define USN_EPHEMERAL_HI 60999
#define USN_SHARED_EPHEMERAL_LO 61000 /* mode (b): above the kernel's range */
#define USN_SHARED_EPHEMERAL_HI 65535

/* ---- neighbour cache (arp.c) ---- */
enum usn_arp_state {
	USN_ARP_FREE = 0,
	USN_ARP_INCOMPLETE, /* request sent, frames queued */
	USN_ARP_REACHABLE,  /* confirmed within the last USN_ARP_REACHABLE_NS */
	USN_ARP_STALE,      /* usable; a refresh request has been sent */
};

struct usn_arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;   /* enum usn_arp_state */
	uint8_t tries;   /* requests sent in this resolution */
	uint16_t qlen;   /* frames waiting */
	int16_t hnext;   /* next entry in the hash bucket, -1 */
	uint32_t qhead, qtail; /* waiting frames, linked by meta.qnext */
	uint64_t confirmed;    /* when the MAC was last confirmed */
	struct usn_timer timer;
	struct usn_ip *ip_ctx;
};

struct usn_arp_cache {
	struct usn_arp_entry e[USN_ARP_SLOTS];
	int16_t bucket[USN_ARP_SLOTS];
	uint32_t queued; /* frames waiting in all entries */
	uint32_t used;
	struct usn_timer announce_timer;
	uint8_t announces_left;
};

/* ---- reassembly (reass.c) ---- */
struct usn_reass_entry {
	bool used;
	bool dead;        /* overlap seen: drop every fragment until timeout */
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	uint8_t ttl, tos; /* of the first fragment, for the ICMP quote */
	bool df;
	uint32_t total;   /* payload length, known once the last fragment came; 0 */
	uint32_t have;    /* payload bytes held */
	uint32_t nbufs;   /* buffers held */
	uint32_t head;    /* fragments sorted by offset, linked by meta.next;
			   * meta.aux = fragment offset in bytes */
	uint64_t created;
	struct usn_timer timer;
	struct usn_ip *ip_ctx;
};

struct usn_reass {
	struct usn_reass_entry e[USN_REASS_SLOTS];
	uint32_t nbufs;     /* buffers held by all entries */
	uint32_t max_bufs;  /* bound on that */
};

/* ---- UDP (udp.c) ---- */
struct usn_udp_dgram {
	uint32_t chain;   /* payload buffers (data = payload only) */
	uint32_t src;
	uint16_t sport;
	uint16_t len;
};

#define USN_UDP_RXQ 256 /* datagrams queued per socket (power of 2) */

struct usn_udp_pcb {
	int sd;                /* the stack's socket descriptor */
	bool bound, connected;
	uint32_t laddr;        /* 0 = any */
	uint16_t lport;
	uint32_t raddr;
	uint16_t rport;
	int so_error;          /* pending error (ICMP), reported once */
	uint32_t rcvbuf;       /* bytes */
	uint32_t rx_bytes;
	uint32_t rx_head, rx_count;
	struct usn_udp_dgram rxq[USN_UDP_RXQ];
	struct usn_udp_pcb *hnext;
};

struct usn_udp_table {
	struct usn_udp_pcb *bucket[USN_UDP_HASH];
};

/* ---- the layer context ---- */
struct usn_ip {
	/* provided by the stack */
	struct usn_pool *pool;
	struct usn_counters *ctr;
	struct usn_rand *rand;
	struct usn_wheel *wheel;
	struct usn_log *log;
	const uint64_t *now;
	struct usn_dev *dev;
	struct usn_pcap_writer *pcap;
	int64_t pcap_time_offset; /* added to *now for pcap timestamps */
	uint8_t *pcap_scratch;    /* flattens chained frames for the capture */
	void *upper;              /* passed back to the upcalls */
	void (*notify)(void *upper, int sd, uint32_t events);
	/* TCP input: takes ownership of the chain (data = TCP header + payload). */
	void (*tcp_input)(void *upper, const struct usn_ipv4_repr *ip, uint32_t chain);
	/* An ICMP error quoting a TCP segment we sent (orig: the quoted IP
	 * header and what follows it). */
	void (*tcp_icmp_error)(void *upper, const struct usn_icmp_repr *icmp, const uint8_t *orig, size_t len);

	/* link and addressing */
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t addr, mask, gw; /* host order; gw 0: no default route */

	uint32_t txq[USN_IP_TXQ];
	uint32_t txq_len;
	uint16_t next_id;

	/* ICMP error rate limit: token bucket (RFC 1812 §4.3.2.8) */
	uint32_t icmp_tokens_milli;
	uint64_t icmp_last;

	struct usn_arp_cache arp;
	/* One of several stack instances on one interface (--cores): ARP
	 * frames reach only one of them, so each learns a neighbour's MAC
	 * from its datagrams too (usn_arp_glean). */
	bool arp_glean;
	/* Mode (b): the address is the kernel's too; ARP is the kernel's and
	 * neighbours' MACs come from its table (dev->ops->neigh_lookup). */
	bool arp_kernel;
	/* Ports for automatic binding (RFC 6056): Linux's range by default,
	 * the range reserved from the kernel in mode (b). */
	uint16_t eph_lo, eph_hi;
	struct usn_reass reass;
	struct usn_udp_table udp;
};

/* A payload to send: `hdr` (a small protocol header, e.g. 8 bytes of UDP or
 * ICMP) followed by `data` (contiguous) or by `chain_len` bytes of a buffer
 * chain starting `chain_off` bytes in. Output copies it into frames,
 * fragmenting as the MTU requires. */
struct usn_ip_payload {
	const uint8_t *hdr;
	uint32_t hdr_len;
	const uint8_t *data;
	uint32_t data_len;
	const struct iovec *iov; /* instead of data: a gather list (iovcnt > 0) */
	uint32_t iovcnt;
	/* Per iovec, the reference holding its memory when the frame may point
	 * at it instead of copying it (segmentation offload frames only);
	 * NULL, or a NULL entry, means copy. */
	struct usn_memref *const *iov_ref;
	uint32_t chain;      /* USN_BUF_NONE when data is used */
	uint32_t chain_off;
	uint32_t chain_len;
	/* Checksum offload: the transport header's checksum field holds the
	 * pseudo-header sum only and the device finishes it (csum_offset:
	 * the field's offset in the transport header). Only when the device
	 * has USN_DEV_OFF_TX_CSUM. */
	bool csum_partial;
	uint8_t csum_offset;
	/* Segmentation offload: with USN_DEV_OFF_TSO a datagram larger than
	 * the MTU goes as one frame that the device cuts into segments of
	 * gso_size payload bytes (TCP only, with csum_partial). */
	uint16_t gso_size;
};

/* ip.c */
void usn_ip_init(struct usn_ip *ip);
void usn_ip_fini(struct usn_ip *ip);
/* Takes one received frame (a buffer) and processes it. */
void usn_ip_eth_input(struct usn_ip *ip, uint32_t buf);
/* Sends the frames queued for the device. */
void usn_ip_flush(struct usn_ip *ip);
/* Queues a complete Ethernet frame for the device (flushes when full). */
void usn_ip_txq_push(struct usn_ip *ip, uint32_t buf);
/* Sends an IPv4 datagram; src 0 means our address. Returns 0, -ENETUNREACH
 * (no route), -ENOBUFS (pool empty), -EMSGSIZE (DF and too big). */
int usn_ip_output(struct usn_ip *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t tos, bool df,
		  const struct usn_ip_payload *pl);
/* The next hop for dst: 0 and the hop in *ret_hop, or -ENETUNREACH. */
int usn_ip_route(const struct usn_ip *ip, uint32_t dst, uint32_t *ret_hop);
bool usn_ip_is_local(const struct usn_ip *ip, uint32_t a);
bool usn_ip_is_bcast(const struct usn_ip *ip, uint32_t a);
/* Partial checksum of len bytes of a chain starting off bytes in. */
uint32_t usn_ip_chain_csum(struct usn_pool *pool, uint32_t chain, uint32_t off, uint32_t len);

/* arp.c */
void usn_arp_init(struct usn_ip *ip);
void usn_arp_fini(struct usn_ip *ip);
void usn_arp_input(struct usn_ip *ip, uint32_t buf, const struct usn_eth_repr *eth);
/* Sends the IPv4 packet in buf (data = IP header onward, Ethernet header
 * not yet pushed) to next hop `hop`: now if the MAC is known, else after
 * resolution. Takes ownership of buf. */
void usn_arp_resolve_send(struct usn_ip *ip, uint32_t hop, uint32_t buf);
void usn_arp_announce(struct usn_ip *ip);
/* An IPv4 datagram from src came in a frame from mac: an on-link src with
 * no resolved entry gets one (only with ip->arp_glean). */
void usn_arp_glean(struct usn_ip *ip, uint32_t src, const uint8_t *mac);
/* The entry for a neighbour or NULL (tests, usnet-stat). */
const struct usn_arp_entry *usn_arp_lookup(const struct usn_ip *ip, uint32_t addr);

/* reass.c: takes a fragment (data = IP payload); returns the chain of the
 * whole datagram (data = payload) with ret_len its length, or USN_BUF_NONE
 * while incomplete or when dropped. */
void usn_reass_init(struct usn_ip *ip, uint32_t max_bufs);
void usn_reass_fini(struct usn_ip *ip);
uint32_t usn_reass_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t buf, uint32_t *ret_len);

/* icmp.c */
void usn_icmp_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t chain, uint32_t len);
/* Sends an ICMP error about a received datagram whose header is `orig` and
 * whose payload starts the chain (RFC 1122 §3.2.2 rules: never about ICMP
 * errors, broadcasts, non-first fragments, martian sources; rate-limited). */
void usn_icmp_send_error(struct usn_ip *ip, uint8_t type, uint8_t code, uint16_t mtu,
			 const struct usn_ipv4_repr *orig, uint32_t chain, uint32_t len);

/* udp.c */
void usn_udp_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t chain, uint32_t len);
/* An ICMP error about a datagram we sent (embedded header and 8 bytes). */
void usn_udp_icmp_error(struct usn_ip *ip, const struct usn_icmp_repr *icmp, const uint8_t *orig,
			size_t orig_len);
struct usn_udp_pcb *usn_udp_pcb_new(struct usn_ip *ip, int sd);
void usn_udp_pcb_free(struct usn_ip *ip, struct usn_udp_pcb *pcb);
int usn_udp_bind(struct usn_ip *ip, struct usn_udp_pcb *pcb, uint32_t addr, uint16_t port);
int usn_udp_connect(struct usn_ip *ip, struct usn_udp_pcb *pcb, uint32_t addr, uint16_t port);
int usn_udp_sendto(struct usn_ip *ip, struct usn_udp_pcb *pcb, const void *buf, size_t len, uint32_t dst,
		   uint16_t dport);
/* Copies the oldest datagram out; returns its full length or -EAGAIN. */
int usn_udp_recvfrom(struct usn_ip *ip, struct usn_udp_pcb *pcb, void *buf, size_t len, bool peek,
		     uint32_t *ret_src, uint16_t *ret_sport);
uint32_t usn_udp_poll(const struct usn_udp_pcb *pcb);

#endif
