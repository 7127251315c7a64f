/* SPDX-License-Identifier: MIT */
/*
 * test-arp.c - the neighbour cache (src/ip/arp.c) seen from the wire: the
 * gratuitous announcements at start (RFC 5227 §2.3), replies to requests
 * (RFC 826), resolution with a bounded queue of waiting datagrams
 * (RFC 1122 §2.3.2.2), retries and failure, conflict detection
 * (RFC 5227 §2.4), malformed packets, and ageing with refresh
 * (RFC 1122 §2.3.2.1). The stack is 10.77.0.2, the test the peer 10.77.0.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rig.h"

static const uint8_t zero_mac[USN_ETH_ALEN];

/* The bytes of an ARP packet for IPv4 over Ethernet (RFC 826). */
static void arp_golden(uint8_t *p, uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	static const uint8_t fixed[6] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04};
	memcpy(p, fixed, 6);
	usn_put_be16(p + 6, op);
	memcpy(p + 8, sha, 6);
	usn_put_be32(p + 14, spa);
	memcpy(p + 18, tha, 6);
	usn_put_be32(p + 24, tpa);
}

static void assert_arp_frame(const struct rig_frame *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *tha,
			     uint32_t tpa)
{
	uint8_t g[USN_ARP_LEN];
	assert_true(f->len >= USN_ETH_HLEN + USN_ARP_LEN);
	assert_memory_equal(f->data, eth_dst, 6);
	assert_memory_equal(f->data + 6, rig_stack_mac, 6);
	assert_int_equal(usn_get_be16(f->data + 12), USN_ETHERTYPE_ARP);
	arp_golden(g, op, rig_stack_mac, RIG_ADDR, tha, tpa);
	assert_memory_equal(f->data + USN_ETH_HLEN, g, USN_ARP_LEN);
}

static int send_to_peer(struct rig *r, int sd, uint32_t dst, const char *msg)
{
	struct usn_addr to = usn_addr_v4(dst, 9);
	return (int)usn_sendto(r->s, sd, msg, strlen(msg), 0, &to);
}

/* RFC 5227 §2.3: at start the host broadcasts ANNOUNCE_NUM (2) ARP
 * announcements ANNOUNCE_INTERVAL (2 s) apart: requests whose sender and
 * target IP are both ours, target hardware address zero. */
static void test_arp_announce_at_start(void **state)
{
	struct rig *r = *state;
	assert_int_equal(r->nframes, 1);
	assert_arp_frame(&r->frames[0], rig_bcast_mac, USN_ARP_OP_REQUEST, zero_mac, RIG_ADDR);
	assert_int_equal(r->frames[0].t, 0);
	assert_int_equal(CTR(r, ARP_TX_GRATUITOUS), 1);
	rig_clear(r);
	rig_advance(r, 10 * SEC);
	assert_int_equal(r->nframes, 1);
	assert_arp_frame(&r->frames[0], rig_bcast_mac, USN_ARP_OP_REQUEST, zero_mac, RIG_ADDR);
	assert_int_equal(r->frames[0].t, 2 * SEC);
	assert_int_equal(CTR(r, ARP_TX_GRATUITOUS), 2);
	uint64_t v;
	assert_int_equal(usn_stack_counter(r->s, "ARP_TX_GRATUITOUS", &v), 0);
	assert_int_equal(v, 2);
}

/* RFC 826 "Packet Reception": a request for our address is answered with
 * our hardware address, sent to the requester only; the requester is added
 * to the cache since we are the target. */
static void test_arp_request_answered(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_PEER, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	assert_arp_frame(&r->frames[0], rig_peer_mac, USN_ARP_OP_REPLY, rig_peer_mac, RIG_PEER);
	assert_int_equal(CTR(r, ARP_RX_REQUESTS), 1);
	assert_int_equal(CTR(r, ARP_TX_REPLIES), 1);
	const struct usn_arp_entry *e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_non_null(e);
	assert_int_equal(e->state, USN_ARP_REACHABLE);
	assert_memory_equal(e->mac, rig_peer_mac, 6);
	/* a unicast request (a refresh by the peer) is answered too */
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_stack_mac, rig_peer_mac, RIG_PEER, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	assert_arp_frame(&r->frames[0], rig_peer_mac, USN_ARP_OP_REPLY, rig_peer_mac, RIG_PEER);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 826: a request whose target is another host is not answered, and
 * its sender is not added to the cache (only merged if already there). */
static void test_arp_request_other_target(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_PEER, zero_mac, 0x0a4d0063u);
	rig_run(r);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(CTR(r, ARP_DROP_NOT_FOR_US), 1);
	assert_int_equal(CTR(r, ARP_TX_REPLIES), 0);
	assert_null(usn_arp_lookup(&r->s->ip, RIG_PEER));
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §2.3.2.2: a datagram to an unresolved neighbour waits for the
 * reply (SHOULD save at least one); the reply sends it. */
static void test_arp_resolve_queue_flush(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_true(sd >= 0);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "hello"), 5);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	assert_arp_frame(&r->frames[0], rig_bcast_mac, USN_ARP_OP_REQUEST, zero_mac, RIG_PEER);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);
	const struct usn_arp_entry *e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_non_null(e);
	assert_int_equal(e->state, USN_ARP_INCOMPLETE);
	assert_int_equal(e->qlen, 1);
	rig_clear(r);
	rig_advance(r, 300 * MSEC);
	rig_send_arp(r, USN_ARP_OP_REPLY, rig_stack_mac, rig_peer_mac, RIG_PEER, rig_stack_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_RX_REPLIES), 1);
	assert_int_equal(r->nframes, 1);
	struct usn_eth_repr eth;
	struct usn_ipv4_repr ip;
	const uint8_t *p;
	assert_true(rig_frame_ipv4(&r->frames[0], &eth, &ip, &p));
	assert_memory_equal(eth.dst, rig_peer_mac, 6);
	assert_memory_equal(eth.src, rig_stack_mac, 6);
	assert_int_equal(ip.proto, USN_IPPROTO_UDP);
	assert_int_equal(ip.dst, RIG_PEER);
	assert_int_equal(ip.payload_len, 8 + 5);
	assert_memory_equal(p + 8, "hello", 5);
	e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_int_equal(e->state, USN_ARP_REACHABLE);
	assert_int_equal(e->qlen, 0);
	assert_int_equal(r->s->ip.arp.queued, 0);
	/* no more requests once resolved */
	rig_clear(r);
	rig_advance(r, 5 * SEC);
	assert_int_equal(rig_count_arp(r, USN_ARP_OP_REQUEST), 1); /* the 2nd announcement */
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);
	assert_int_equal(usn_close(r->s, sd), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 826 "Packet Reception": the merge rule applies to requests too; a
 * request from the neighbour being resolved completes the resolution and
 * sends what waited. */
static void test_arp_request_resolves_pending(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "wait"), 4);
	rig_run(r);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_INCOMPLETE);
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_PEER, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), 1);
	assert_int_equal(rig_count_arp(r, USN_ARP_OP_REPLY), 1);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_REACHABLE);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §2.3.2.1: requests for one neighbour at most once a second;
 * after USN_ARP_MAX_TRIES (3) unanswered requests the waiting datagrams are
 * dropped (counted) and the entry is freed. */
static void test_arp_unresolved_drops_queue(void **state)
{
	struct rig *r = *state;
	const uint32_t dst = 0x0a4d0032u; /* 10.77.0.50: nobody */
	rig_clear(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_int_equal(send_to_peer(r, sd, dst, "one"), 3);
	assert_int_equal(send_to_peer(r, sd, dst, "two"), 3);
	rig_run(r);
	assert_int_equal(rig_in_use(r), r->base_in_use + 2); /* the two waiting */
	rig_advance(r, 2999 * MSEC);
	uint64_t want_t[3] = {0, 1 * SEC, 2 * SEC};
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->nframes; i++) {
		struct usn_arp_repr a;
		if (!rig_frame_arp(&r->frames[i], NULL, &a) || a.tpa != dst)
			continue;
		assert_true(n < 3);
		assert_int_equal(a.op, USN_ARP_OP_REQUEST);
		assert_int_equal(r->frames[i].t, want_t[n]);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(CTR(r, ARP_DROP_UNRESOLVED), 0);
	assert_non_null(usn_arp_lookup(&r->s->ip, dst));
	assert_int_equal(rig_count_ipv4(r, 0), 0);
	rig_advance(r, 2 * SEC);
	assert_int_equal(CTR(r, ARP_DROP_UNRESOLVED), 2);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 3);
	assert_null(usn_arp_lookup(&r->s->ip, dst));
	assert_int_equal(r->s->ip.arp.queued, 0);
	assert_int_equal(rig_count_ipv4(r, 0), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	usn_close(r->s, sd);
}

/* RFC 1122 §2.3.2.2: the queue is bounded per neighbour (8) and in total
 * (64); the latest datagram is kept (the oldest goes), and the drops are
 * counted. */
static void test_arp_queue_bounded(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	char msg[16];
	const int per = USN_ARP_QUEUE_PER_ENTRY;
	for (int i = 0; i < per + 2; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		assert_int_equal(send_to_peer(r, sd, RIG_PEER, msg), (int)strlen(msg));
	}
	assert_int_equal(CTR(r, ARP_DROP_QUEUE_FULL), 2);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->qlen, per);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);
	rig_run(r);
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REPLY, rig_stack_mac, rig_peer_mac, RIG_PEER, rig_stack_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), per);
	int k = 2; /* m0 and m1 were dropped: the newest survive, in order */
	for (int i = rig_find_ipv4(r, USN_IPPROTO_UDP, 0); i >= 0; i = rig_find_ipv4(r, USN_IPPROTO_UDP, i + 1)) {
		const uint8_t *p;
		struct usn_ipv4_repr ip;
		rig_frame_ipv4(&r->frames[i], NULL, &ip, &p);
		snprintf(msg, sizeof(msg), "m%d", k++);
		assert_memory_equal(p + 8, msg, strlen(msg));
	}
	assert_int_equal(k, per + 2);
	assert_int_equal(rig_in_use(r), r->base_in_use);

	/* The total bound: one neighbour more than it takes, each with a
	 * full queue. */
	const int nh = USN_ARP_QUEUE_TOTAL / per + 1;
	for (int h = 0; h < nh; h++)
		for (int i = 0; i < per; i++)
			assert_int_equal(send_to_peer(r, sd, 0x0a4d0010u + (uint32_t)h, "xx"), 2);
	assert_int_equal(r->s->ip.arp.queued, USN_ARP_QUEUE_TOTAL);
	assert_int_equal(CTR(r, ARP_DROP_QUEUE_FULL), 2 + nh * per - USN_ARP_QUEUE_TOTAL);
	rig_run(r); /* sends the requests */
	assert_int_equal(rig_in_use(r), r->base_in_use + USN_ARP_QUEUE_TOTAL);
	rig_advance(r, 5 * SEC);
	assert_int_equal(CTR(r, ARP_DROP_UNRESOLVED), USN_ARP_QUEUE_TOTAL);
	assert_int_equal(r->s->ip.arp.queued, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	usn_close(r->s, sd);
}

/* RFC 5227 §2.4: an ARP packet (request or reply) whose sender IP is ours
 * but whose sender hardware address is not is a conflict; it is counted,
 * never answered, and the other host's MAC is not learnt for our address. */
static void test_arp_conflict(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_ADDR, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_CONFLICT), 1);
	rig_send_arp(r, USN_ARP_OP_REPLY, rig_bcast_mac, rig_peer_mac, RIG_ADDR, zero_mac, RIG_PEER);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_CONFLICT), 2);
	assert_int_equal(CTR(r, ARP_TX_REPLIES), 0);
	assert_null(usn_arp_lookup(&r->s->ip, RIG_ADDR));
	assert_int_equal(rig_count_arp(r, USN_ARP_OP_REPLY), 0);
	/* Our own announcement looped back is not a conflict. */
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_stack_mac, RIG_ADDR, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_CONFLICT), 2);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 826: only hardware type Ethernet (1), protocol IPv4, lengths 6 and 4
 * and opcodes 1 and 2 are ours; anything else, or a short packet, is
 * dropped and counted. */
static void test_arp_malformed(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	uint8_t f[USN_ETH_MIN_FRAME];
	uint8_t good[USN_ETH_MIN_FRAME] = {0};
	size_t n = rig_eth(good, rig_bcast_mac, rig_peer_mac, USN_ETHERTYPE_ARP);
	arp_golden(good + n, USN_ARP_OP_REQUEST, rig_peer_mac, RIG_PEER, zero_mac, RIG_ADDR);

	memcpy(f, good, sizeof(f));
	f[n + 1] = 6; /* htype IEEE 802 */
	rig_send(r, f, sizeof(f));
	memcpy(f, good, sizeof(f));
	f[n + 2] = 0x86; /* ptype IPv6 */
	f[n + 3] = 0xdd;
	rig_send(r, f, sizeof(f));
	memcpy(f, good, sizeof(f));
	f[n + 5] = 16; /* plen */
	rig_send(r, f, sizeof(f));
	memcpy(f, good, sizeof(f));
	f[n + 7] = 3; /* op: RARP request */
	rig_send(r, f, sizeof(f));
	rig_send(r, good, n + 20); /* truncated */
	rig_run(r);
	assert_int_equal(CTR(r, ARP_DROP_MALFORMED), 5);
	assert_int_equal(CTR(r, ARP_RX_REQUESTS), 0);
	assert_int_equal(r->nframes, 0);
	assert_null(usn_arp_lookup(&r->s->ip, RIG_PEER));

	/* A sender that is no host: multicast MAC, zero MAC, martian IP. */
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, mcast, RIG_PEER, zero_mac, RIG_ADDR);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, zero_mac, RIG_PEER, zero_mac, RIG_ADDR);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, 0x7f000001u, zero_mac, RIG_ADDR);
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_BCAST, zero_mac, RIG_ADDR);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_DROP_BAD_SENDER), 4);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(CTR(r, ARP_TX_REPLIES), 0);
	/* The unknown ethertype next to ARP is dropped too. */
	memcpy(f, good, sizeof(f));
	usn_put_be16(f + 12, 0x88b5);
	rig_send(r, f, sizeof(f));
	rig_run(r);
	assert_int_equal(CTR(r, ETH_DROP_ETHERTYPE), 1);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §2.3.2.1: an entry unconfirmed for 30 s is revalidated: the
 * next use still goes out at once with the known MAC, and a refresh request
 * is sent; the answer makes it reachable again. */
static void test_arp_stale_refresh(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	rig_advance(r, 29 * SEC);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_REACHABLE);
	rig_clear(r);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "fresh"), 5);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), 1);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 0);

	rig_advance(r, 1 * SEC + 1 * MSEC);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_STALE);
	rig_clear(r);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "stale"), 5);
	rig_run(r);
	int i = rig_find_ipv4(r, USN_IPPROTO_UDP, 0);
	assert_true(i >= 0);
	struct usn_eth_repr eth;
	assert_true(rig_frame_ipv4(&r->frames[i], &eth, NULL, NULL));
	assert_memory_equal(eth.dst, rig_peer_mac, 6);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);
	uint32_t req = 0;
	for (uint32_t k = 0; k < r->nframes; k++) {
		struct usn_arp_repr a;
		if (rig_frame_arp(&r->frames[k], NULL, &a) && a.op == USN_ARP_OP_REQUEST && a.tpa == RIG_PEER)
			req++;
	}
	assert_int_equal(req, 1);
	/* a second use does not send a second request at once */
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "again"), 5);
	rig_run(r);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);
	rig_send_arp(r, USN_ARP_OP_REPLY, rig_stack_mac, rig_peer_mac, RIG_PEER, rig_stack_mac, RIG_ADDR);
	rig_run(r);
	const struct usn_arp_entry *e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_int_equal(e->state, USN_ARP_REACHABLE);
	assert_int_equal(e->confirmed, r->now);
	rig_advance(r, 5 * SEC);
	assert_int_equal(CTR(r, ARP_TX_REQUESTS), 1);

	/* Unanswered refreshes: the entry goes, and the next use resolves
	 * afresh (the datagram waits). */
	rig_advance(r, 31 * SEC);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_STALE);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "last"), 4);
	rig_advance(r, 4 * SEC);
	assert_null(usn_arp_lookup(&r->s->ip, RIG_PEER));
	rig_clear(r);
	assert_int_equal(send_to_peer(r, sd, RIG_PEER, "new"), 3);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), 0);
	assert_int_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->state, USN_ARP_INCOMPLETE);
	usn_close(r->s, sd);
	rig_advance(r, 5 * SEC);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* Several instances (--cores): the MAC of an on-link sender is learned from
 * its datagrams when ARP went elsewhere (usn_arp_glean); not with gleaning
 * off (one instance), not for an off-link source, and a resolved entry is
 * not changed by a datagram from another MAC. */
static void test_arp_glean(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	/* off (the default): a datagram teaches nothing (the port
	 * unreachable it gets starts a resolution, by ARP) */
	rig_send_udp(r, 1000, 9, "x", 1);
	rig_run(r);
	const struct usn_arp_entry *e0 = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_true(!e0 || e0->state != USN_ARP_REACHABLE);
	assert_int_equal(CTR(r, ARP_GLEANED), 0);
	r->s->ip.arp_glean = true;
	rig_send_udp(r, 1000, 9, "x", 1);
	rig_run(r);
	const struct usn_arp_entry *e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_non_null(e);
	assert_int_equal(e->state, USN_ARP_REACHABLE);
	assert_memory_equal(e->mac, rig_peer_mac, 6);
	assert_int_equal(CTR(r, ARP_GLEANED), 1);
	/* a resolved entry only changes through ARP */
	static const uint8_t other_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	uint8_t f[RIG_FRAME_MAX];
	uint8_t u[64];
	size_t ul = rig_udp_build(u, RIG_PEER, RIG_ADDR, 1001, 9, "y", 1);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, ul);
	size_t n = rig_ipv4_frame(f, rig_stack_mac, &ip, u, ul);
	memcpy(f + 6, other_mac, 6); /* the frame's source MAC */
	rig_send(r, f, n);
	rig_run(r);
	assert_memory_equal(usn_arp_lookup(&r->s->ip, RIG_PEER)->mac, rig_peer_mac, 6);
	assert_int_equal(CTR(r, ARP_GLEANED), 1);
	/* an off-link source (through a router) is not a neighbour */
	const uint32_t far = 0xc6336401u; /* 198.51.100.1 */
	ul = rig_udp_build(u, far, RIG_ADDR, 1002, 9, "z", 1);
	ip = rig_iphdr(r, USN_IPPROTO_UDP, ul);
	ip.src = far;
	n = rig_ipv4_frame(f, rig_stack_mac, &ip, u, ul);
	rig_send(r, f, n);
	rig_run(r);
	assert_null(usn_arp_lookup(&r->s->ip, far));
	assert_int_equal(CTR(r, ARP_GLEANED), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_announce_at_start, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_request_answered, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_request_other_target, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_resolve_queue_flush, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_request_resolves_pending, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_unresolved_drops_queue, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_queue_bounded, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_conflict, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_malformed, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_stale_refresh, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_arp_glean, rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
